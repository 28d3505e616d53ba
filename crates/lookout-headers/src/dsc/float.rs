//! The float parser behind the DSC's rates: the same result as
//! `str::parse::<f64>`, faster on the plain decimals SDKs write.

/// Parses a float exactly as `str::parse::<f64>` does, with a fast path for
/// plain decimals such as `0.123456`: at most 15 digits make an integer below
/// 2^53, which divided by an exact power of ten is correctly rounded
/// (Clinger's fast path). Anything else goes to `str::parse`.
pub(super) fn parse_f64(s: &str) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let b = s.as_bytes();
    // Up to 15 bytes: at most 15 digits, and never an empty string.
    if b.is_empty() || b.len() > 15 {
        return s.parse().ok();
    }
    let (mut mantissa, mut dot) = (0u64, None);
    for (i, &c) in b.iter().enumerate() {
        let digit = c.wrapping_sub(b'0');
        if digit < 10 {
            mantissa = mantissa * 10 + u64::from(digit);
        } else if c == b'.' && dot.is_none() {
            dot = Some(i);
        } else {
            return s.parse().ok();
        }
    }
    let frac_digits = match dot {
        // `.` alone has no digit: let `str::parse` reject it.
        Some(_) if b.len() == 1 => return s.parse().ok(),
        Some(at) => b.len() - at - 1,
        None => 0,
    };
    Some(mantissa as f64 / POW10[frac_digits])
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn fast_float_parse_equals_std(
            s in "[0-9]{0,18}(\\.[0-9]{0,18})?|[-+]?[0-9.eE]{0,8}|[0-9.]{0,9}|[0-9.]{0,6}[^0-9.][0-9.]{0,3}|.{0,6}",
            x in 0.0f64..1.0,
        ) {
            let std = s.parse::<f64>().ok();
            proptest::prop_assert_eq!(parse_f64(&s).map(f64::to_bits), std.map(f64::to_bits), "{:?}", s);
            let shortest = x.to_string();
            proptest::prop_assert_eq!(parse_f64(&shortest), Some(x));
            let six = format!("{x:.6}");
            proptest::prop_assert_eq!(parse_f64(&six), six.parse().ok());
        }
    }
}
