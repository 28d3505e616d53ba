//! The release's own precedence: code, `SENTRY_RELEASE`, `APP_VERSION`,
//! then the application's `name@version`.

use std::borrow::Cow;

use super::vars::Vars;
use crate::error::ConfigError;
use crate::provenance::{Resolved, Source};
use crate::value;

pub(super) fn resolve_release(
    vars: &Vars,
    code: Option<String>,
    app_release: Option<String>,
) -> Result<Resolved<Option<String>>, ConfigError> {
    let mut from_vars = None;
    for var in ["SENTRY_RELEASE", "APP_VERSION"] {
        if let Some(raw) = vars.get(var) {
            let value = value::parse_release(&Cow::Borrowed(var), raw)?;
            from_vars = from_vars.or(Some((value, var)));
        }
    }
    if let Some(release) = code {
        let value = value::parse_release(&Cow::Borrowed("Overrides::release"), &release)?;
        return Ok(Resolved::new(Some(value), Source::Code));
    }
    if let Some((value, var)) = from_vars {
        return Ok(Resolved::new(Some(value), Source::Variable(var)));
    }
    if let Some(release) = app_release {
        let value = value::parse_release(&Cow::Borrowed("Overrides::app_release"), &release)?;
        return Ok(Resolved::new(Some(value), Source::Code));
    }
    Ok(Resolved::new(None, Source::Default))
}
