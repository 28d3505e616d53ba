//! How a DSC field's value is written, in `baggage` and in the envelope
//! `trace` header alike.

use std::fmt;

use crate::ids::TraceId;

/// A DSC field value ready to be written (numbers in shortest round-trip form).
pub(super) enum FieldValue<'a> {
    Text(&'a str),
    Trace(TraceId),
    Float(f64),
    /// `sample_rand`: six decimals, as the SDKs write it.
    Rand(f64),
    Bool(bool),
}

impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Text(s) => f.write_str(s),
            FieldValue::Trace(t) => write!(f, "{t}"),
            // Shortest form that parses back to the same f64, so a
            // sample_rand < sample_rate decision never flips downstream.
            FieldValue::Float(x) => write!(f, "{x}"),
            // Six decimals when that is the exact value (every SDK creates it
            // so); a longer incoming value is kept whole rather than rounded,
            // which could flip a `sample_rand < sample_rate` decision.
            FieldValue::Rand(x) => {
                let micros = (x * 1e6).round();
                if micros / 1e6 == *x {
                    write!(f, "{x:.6}")
                } else {
                    write!(f, "{x}")
                }
            }
            FieldValue::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::DynamicSamplingContext;

    #[test]
    fn sample_rand_is_written_with_six_decimals() {
        let mut dsc = DynamicSamplingContext::new();
        dsc.sample_rand = Some(0.25);
        assert_eq!(dsc.to_baggage(), "sentry-sample_rand=0.250000");
        dsc.sample_rand = Some(0.000001);
        assert_eq!(dsc.to_baggage(), "sentry-sample_rand=0.000001");
    }

    #[test]
    fn a_longer_incoming_sample_rand_is_kept_whole() {
        let mut dsc = DynamicSamplingContext::new();
        dsc.sample_rand = Some(0.499_999_7);
        assert_eq!(dsc.to_baggage(), "sentry-sample_rand=0.4999997");
    }
}
