//! What the typed DSC values accept: `sample_rate` in [0, 1],
//! `sample_rand` in [0, 1), `sampled` exactly `true` or `false`. Anything
//! else reads as absent, so nothing invalid is ever forwarded.

use super::float::parse_f64;

#[inline]
pub(super) fn parse_rate(s: &str) -> Option<f64> {
    parse_f64(s).filter(|r| (0.0..=1.0).contains(r))
}

#[inline]
pub(super) fn parse_rand(s: &str) -> Option<f64> {
    parse_f64(s).filter(|r| (0.0..1.0).contains(r))
}

#[inline]
pub(super) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}
