//! The variables lookout reads: only its own (`SENTRY_*`, `LOOKOUT_*`,
//! `APP_VERSION`), an empty value counting as unset.

#[cfg(test)]
use std::cell::RefCell;
use std::collections::HashMap;

/// The variables lookout reads, keyed by name; an empty value counts as unset.
///
/// Every read of a variable goes through [`Vars::get`], so that a unit test
/// can compare the names the resolution asks for with
/// [`SETTINGS`](crate::SETTINGS).
pub(super) struct Vars {
    values: HashMap<String, String>,
    /// Every name asked for, in order (unit tests only).
    #[cfg(test)]
    asked: RefCell<Vec<&'static str>>,
}

impl Vars {
    pub(super) fn new<I, K, V>(vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self {
            values: vars
                .into_iter()
                .filter(|(k, _)| is_ours(k.as_ref()))
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
                .collect(),
            #[cfg(test)]
            asked: RefCell::default(),
        }
    }

    /// The value of `name`, unless unset or blank.
    pub(super) fn get(&self, name: &'static str) -> Option<&str> {
        #[cfg(test)]
        self.asked.borrow_mut().push(name);
        self.values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Whether `name` is set, to an empty value included (for the settings
    /// where empty means "none", not "unset").
    pub(super) fn is_set(&self, name: &'static str) -> bool {
        #[cfg(test)]
        self.asked.borrow_mut().push(name);
        self.values.contains_key(name)
    }

    /// The names asked for so far, in order.
    #[cfg(test)]
    pub(super) fn asked(&self) -> Vec<&'static str> {
        self.asked.borrow().clone()
    }
}

/// Whether a variable is lookout's to read (any other is never kept).
pub(super) fn is_ours(name: &str) -> bool {
    name.starts_with("SENTRY_") || name.starts_with("LOOKOUT_") || name == "APP_VERSION"
}
