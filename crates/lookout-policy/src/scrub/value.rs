//! Scrubbing maps and JSON values, recursively: denylisted keys filtered,
//! query values and URLs with credentials cleaned.

use std::borrow::Cow;

use sentry_core::protocol::{Map, Value};

use super::denylist::FILTERED;
use super::query::is_query_key;
use super::scrubber::Scrubber;

impl Scrubber {
    /// Filters the values of denylisted keys in a header-like map.
    pub fn scrub_string_map(&self, map: &mut Map<String, String>) {
        for (key, value) in map.iter_mut() {
            if self.is_denylisted(key) {
                FILTERED.clone_into(value);
            } else if let Cow::Owned(clean) = self.scrub_url(value) {
                *value = clean;
            }
        }
    }

    /// Filters denylisted keys in a JSON map, recursively.
    pub fn scrub_map(&self, map: &mut Map<String, Value>) {
        for (key, value) in map.iter_mut() {
            self.scrub_entry(key, value);
        }
    }

    fn scrub_entry(&self, key: &str, value: &mut Value) {
        if self.is_denylisted(key) {
            *value = Value::String(FILTERED.into());
        } else if let (true, Value::String(query)) = (is_query_key(key), &mut *value) {
            // Sentry's HTTP breadcrumbs and spans keep the query apart from the URL.
            *query = self.scrub_query(query);
        } else {
            self.scrub_value(value);
        }
    }

    /// Filters denylisted keys inside a JSON value, recursively, and
    /// credentials in URL strings.
    pub fn scrub_value(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    self.scrub_entry(key, value);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_value(v)),
            Value::String(text) => {
                if let Cow::Owned(clean) = self.scrub_url(text) {
                    *text = clean;
                }
            }
            _ => {}
        }
    }
}
