//! The precedence of one setting: code, then its variable, then the
//! profile default, then the plain default, each parsed with the setting's
//! own parser.

use std::borrow::Cow;

use super::vars::Vars;
use crate::environment::Environment;
use crate::error::ConfigError;
use crate::provenance::{Resolved, Source};
use crate::table::{SettingSpec, setting};

pub(super) type Name = Cow<'static, str>;

fn spec(env_var: &'static str) -> &'static SettingSpec {
    // Every name passed here was first read through `Vars::get`; the unit
    // test of `resolve` checks that each name read is a row of the table.
    setting(env_var).unwrap_or_else(|| panic!("{env_var} is missing from SETTINGS"))
}

pub(super) struct Resolver<'a> {
    pub(super) vars: &'a Vars,
    pub(super) environment: Environment,
}

impl Resolver<'_> {
    /// Code, then variable, then profile default, then plain default.
    fn resolve<T>(
        &self,
        env_var: &'static str,
        setter: &'static str,
        code: Option<T>,
        check: impl Fn(&Name, T) -> Result<T, ConfigError>,
        parse: impl Fn(&Name, &str) -> Result<T, ConfigError>,
    ) -> Result<Option<Resolved<T>>, ConfigError> {
        // The variable is validated even when code overrides it: an operator
        // who set it wrongly hears about it.
        let from_var = match self.vars.get(env_var) {
            Some(raw) => Some(parse(&Cow::Borrowed(env_var), raw)?),
            None => None,
        };
        if let Some(value) = code {
            let name = Cow::Owned(format!("Overrides::{setter}"));
            return Ok(Some(Resolved::new(check(&name, value)?, Source::Code)));
        }
        if let Some(value) = from_var {
            return Ok(Some(Resolved::new(value, Source::Variable(env_var))));
        }
        let row = spec(env_var);
        let profile = self.environment.profile();
        let (text, source) = match (row.profile_default(profile), row.default) {
            (Some(text), _) => (text, Source::Profile(profile)),
            (None, Some(text)) => (text, Source::Default),
            (None, None) => return Ok(None),
        };
        let value = parse(&Cow::Borrowed(env_var), text)?;
        Ok(Some(Resolved::new(value, source)))
    }

    /// Like [`Self::resolve`] for a setting that always has a default.
    pub(super) fn required<T>(
        &self,
        env_var: &'static str,
        setter: &'static str,
        code: Option<T>,
        check: impl Fn(&Name, T) -> Result<T, ConfigError>,
        parse: impl Fn(&Name, &str) -> Result<T, ConfigError>,
    ) -> Result<Resolved<T>, ConfigError> {
        self.resolve(env_var, setter, code, check, parse)?
            .ok_or_else(|| ConfigError::invalid(env_var, "", "a default in SETTINGS (lookout bug)"))
    }

    pub(super) fn optional<T>(
        &self,
        env_var: &'static str,
        setter: &'static str,
        code: Option<T>,
        check: impl Fn(&Name, T) -> Result<T, ConfigError>,
        parse: impl Fn(&Name, &str) -> Result<T, ConfigError>,
    ) -> Result<Resolved<Option<T>>, ConfigError> {
        Ok(self
            .resolve(env_var, setter, code, check, parse)?
            .map_or_else(
                || Resolved::new(None, Source::Default),
                |r| Resolved::new(Some(r.value), r.source),
            ))
    }
}
