//! The W3C `tracestate` header: validated as a whole, read without allocating.
//!
//! This module owns the member grammar, the "any invalid member drops the
//! whole tracestate" rule and the "one entry per key, the first one kept"
//! rule. It does not interpret vendor values.
//!
//! The rules are those of W3C Trace Context Level 2
//! (<https://www.w3.org/TR/trace-context-2/>), section "Tracestate Header":
//! "tracestate Header Field Values" (repeated headers combined in order,
//! empty members allowed, at most 32 list-members), "Key"
//! (`( lcalpha / DIGIT ) 0*255 ( keychar )`, `@` being a `keychar`),
//! "Value", and "Combined Header Value" (only one entry per key). A repeated
//! key is not a parse failure there, so it does not drop the header: the
//! left-most entry is kept, since "Mutating the tracestate Field" moves a
//! vendor's updated entry to the left, and later ones are dropped.

use std::fmt;

use crate::error::{TraceStateError, TraceStateErrorKind as Kind};
use crate::sentry_trace::trim_ows;

/// At most this many members across all `tracestate` headers, counted as
/// received (a repeated key counts each time).
pub const MAX_TRACESTATE_MEMBERS: usize = 32;

/// A valid `tracestate`, borrowed from its header values (repeated headers
/// are combined in order).
///
/// `I` is the (cloneable) iterator over the header values; the members are
/// re-read from it on demand, so nothing is copied. Of a repeated key only
/// the first member is kept: [`members`](Self::members), [`get`](Self::get),
/// [`len`](Self::len) and the written value (`Display`) never see the later
/// ones.
///
/// ```
/// use lookout_headers::TraceState;
///
/// let ts = TraceState::parse(["congo=t61rcWkgMzE", "acme@vendor=x,  rojo=00f067aa0ba902b7"])?;
/// assert_eq!(ts.len(), 3);
/// assert_eq!(ts.get("rojo"), Some("00f067aa0ba902b7"));
/// assert_eq!(ts.to_string(), "congo=t61rcWkgMzE,acme@vendor=x,rojo=00f067aa0ba902b7");
///
/// // A repeated key keeps its first value, also across headers.
/// let ts = TraceState::parse(["foo=1,bar=2", "foo=3"])?;
/// assert_eq!(ts.get("foo"), Some("1"));
/// assert_eq!(ts.to_string(), "foo=1,bar=2");
///
/// // One bad member drops the whole tracestate.
/// assert!(TraceState::parse(["congo=ok,Bad=upper"]).is_err());
/// # Ok::<(), lookout_headers::TraceStateError>(())
/// ```
#[derive(Clone, Debug)]
pub struct TraceState<I> {
    values: I,
    /// Kept members (repeated keys not counted).
    len: usize,
    /// Bit `n` set: the `n`-th received member repeats an earlier key. At most
    /// 32 members are accepted, so the bits cover every one.
    repeated: u32,
}

impl<'a, I> TraceState<I>
where
    I: Iterator<Item = &'a str> + Clone,
{
    /// Validates the combined `tracestate` values. Empty members are allowed
    /// and ignored; a repeated key keeps its first member and drops the later
    /// ones; more than 32 members (as received) or any invalid member makes
    /// the whole tracestate invalid.
    pub fn parse<V>(values: V) -> Result<Self, TraceStateError>
    where
        V: IntoIterator<IntoIter = I>,
    {
        let values = values.into_iter();
        // A 64-bit filter over (length, first and last byte) of the keys seen
        // so far: only a hit pays for an exact re-scan of earlier members.
        let mut seen = 0u64;
        let mut received = 0;
        let mut repeated = 0u32;
        let mut check = |raw: &'a str| -> Result<(), TraceStateError> {
            let (key, _) = split_member(raw)?;
            if received == MAX_TRACESTATE_MEMBERS {
                return Err(TraceStateError::new(Kind::TooManyMembers, raw));
            }
            let b = key.as_bytes();
            let (first, last) = (b.first().copied(), b.last().copied());
            let hash =
                b.len() + 7 * usize::from(first.unwrap_or(0)) + 13 * usize::from(last.unwrap_or(0));
            let bit = 1u64 << (hash % 64);
            if seen & bit != 0
                && raw_members(values.clone())
                    .take(received)
                    .any(|m| m.split_once('=').is_some_and(|(k, _)| k == key))
            {
                repeated |= 1 << received;
            }
            seen |= bit;
            received += 1;
            Ok(())
        };
        // Plain loops rather than the `raw_members` adapter chain: this is the
        // hot path of every traced request.
        for value in values.clone() {
            let mut rest = value;
            loop {
                let (raw, next) = match rest.bytes().position(|c| c == b',') {
                    Some(i) => (rest.get(..i).unwrap_or_default(), rest.get(i + 1..)),
                    None => (rest, None),
                };
                let member = trim_ows(raw);
                if !member.is_empty() {
                    check(member)?;
                }
                match next {
                    Some(next) => rest = next,
                    None => break,
                }
            }
        }
        let len = received - repeated.count_ones() as usize;
        Ok(Self {
            values,
            len,
            repeated,
        })
    }

    /// The members, `(key, value)`, in order; of a repeated key only the
    /// first.
    pub fn members(&self) -> impl Iterator<Item = (&'a str, &'a str)> + Clone + use<'a, I> {
        let repeated = self.repeated;
        // `take`: a parsed value has at most 32 members, so `n` stays within
        // the bits even if the iterator were to yield more on a re-read.
        raw_members(self.values.clone())
            .take(MAX_TRACESTATE_MEMBERS)
            .enumerate()
            .filter(move |&(n, _)| repeated & (1 << n) == 0)
            .filter_map(|(_, m)| m.split_once('='))
    }

    /// The value of `key`, if present (its first value, if repeated).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.members().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The number of members, a repeated key counted once.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no members (an empty `tracestate` is valid).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<'a, I> fmt::Display for TraceState<I>
where
    I: Iterator<Item = &'a str> + Clone,
{
    /// The combined value to forward: the kept members joined by `,` (later
    /// members of a repeated key are not written).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.members().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

fn raw_members<'a, I>(values: I) -> impl Iterator<Item = &'a str> + Clone
where
    I: Iterator<Item = &'a str> + Clone,
{
    values
        .flat_map(|v| v.split(','))
        .map(trim_ows)
        .filter(|m| !m.is_empty())
}

/// Byte classes: key characters after the first (`keychar`), and value
/// characters (printable ASCII without `,` and `=`).
const KEY_CHAR: u8 = 1;
const VALUE_CHAR: u8 = 2;
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0x20;
    while c <= 0x7e {
        let b = c as u8;
        if b != b',' && b != b'=' {
            table[c] = VALUE_CHAR;
        }
        if matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/' | b'@') {
            table[c] |= KEY_CHAR;
        }
        c += 1;
    }
    table
};

fn is_key_char(c: u8) -> bool {
    CLASS[usize::from(c)] & KEY_CHAR != 0
}

/// Splits and validates one trimmed, non-empty member in a single pass.
#[inline]
fn split_member(raw: &str) -> Result<(&str, &str), TraceStateError> {
    let b = raw.as_bytes();
    if b.first() == Some(&b'=') {
        return Err(TraceStateError::new(Kind::Key, raw));
    }
    // Key: [a-z0-9], then up to 255 of [a-z0-9_\-*/@].
    let mut key_ok = b
        .first()
        .is_some_and(|&c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let mut i = 1;
    let eq = loop {
        let Some(&c) = b.get(i) else {
            return Err(TraceStateError::new(Kind::MissingEquals, raw));
        };
        if c == b'=' {
            break i;
        }
        key_ok &= is_key_char(c);
        i += 1;
    };
    key_ok &= eq <= 256;
    let (Some(key), Some(value)) = (raw.get(..eq), raw.get(eq + 1..)) else {
        return Err(TraceStateError::new(Kind::Key, raw));
    };
    if !key_ok {
        return Err(TraceStateError::new(Kind::Key, raw));
    }
    if !valid_value(value) {
        return Err(TraceStateError::new(Kind::Value, raw));
    }
    Ok((key, value))
}

fn valid_value(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b.last() != Some(&b' ')
        && b.iter().all(|&c| CLASS[usize::from(c)] & VALUE_CHAR != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &[&str]) -> Result<usize, Kind> {
        TraceState::parse(values.iter().copied())
            .map(|t| t.len())
            .map_err(|e| e.kind())
    }

    /// One named case per rule of W3C Trace Context Level 2, "Tracestate
    /// Header": "tracestate Header Field Values" (combining, 32 members,
    /// empty members), "Key", "Value" and "Combined Header Value" (one entry
    /// per key).
    #[test]
    fn spec_table() {
        let k256 = format!("a{}", "b".repeat(255));
        let k257 = format!("a{}", "b".repeat(256));
        let k256_at = format!("a{}@", "b".repeat(254));
        let k257_at = format!("a{}@", "b".repeat(255));
        let v256 = "v".repeat(256);
        let v257 = "v".repeat(257);
        let m32: String = (0..32).map(|i| format!("k{i}=v,")).collect();
        let m33: String = (0..33).map(|i| format!("k{i}=v,")).collect();
        let m33_repeated = format!("{}k0=w", m32);
        let h1: String = (0..16).map(|i| format!("k{i}=v,")).collect();
        let h2: String = (16..33).map(|i| format!("k{i}=v,")).collect();
        let cases: Vec<(&str, Vec<String>, Result<usize, Kind>)> = vec![
            ("single member", vec!["rojo=00f067aa0ba902b7".into()], Ok(1)),
            (
                "repeated headers combined in order",
                vec!["a=1".into(), "b=2,c=3".into()],
                Ok(3),
            ),
            ("empty header is valid", vec![String::new()], Ok(0)),
            ("empty members ignored", vec![" , a=1 ,, ".into()], Ok(1)),
            ("32 members allowed", vec![m32], Ok(32)),
            (
                "33 members drop all",
                vec![m33.clone()],
                Err(Kind::TooManyMembers),
            ),
            (
                "33 members across headers drop all",
                vec![h1, h2],
                Err(Kind::TooManyMembers),
            ),
            (
                "33 members, one a repeated key, drop all",
                vec![m33_repeated],
                Err(Kind::TooManyMembers),
            ),
            ("key may start with a digit", vec!["1abc=v".into()], Ok(1)),
            ("key special characters", vec!["a_b-c*d/e=v".into()], Ok(1)),
            ("key of 256 characters", vec![format!("{k256}=v")], Ok(1)),
            (
                "key of 257 characters",
                vec![format!("{k257}=v")],
                Err(Kind::Key),
            ),
            (
                "key of 256 characters ending in @",
                vec![format!("{k256_at}=v")],
                Ok(1),
            ),
            (
                "key of 257 characters ending in @",
                vec![format!("{k257_at}=v")],
                Err(Kind::Key),
            ),
            ("uppercase key", vec!["Rojo=v".into()], Err(Kind::Key)),
            ("key starting with _", vec!["_a=v".into()], Err(Kind::Key)),
            ("foo@=1: trailing @", vec!["foo@=1".into()], Ok(1)),
            (
                "foo@@bar=1: two @ in a row",
                vec!["foo@@bar=1".into()],
                Ok(1),
            ),
            ("foo@bar@baz=1: two @", vec!["foo@bar@baz=1".into()], Ok(1)),
            ("@foo=1: leading @", vec!["@foo=1".into()], Err(Kind::Key)),
            ("tenant@system key", vec!["fw529a3039@dt=v".into()], Ok(1)),
            (
                "part after @ may start with a digit",
                vec!["t@1sys=v".into()],
                Ok(1),
            ),
            (
                "part after @ of 20 characters",
                vec!["t@abcdefghijklmnopqrst=v".into()],
                Ok(1),
            ),
            (
                "part before @ of 250 characters",
                vec![format!("t{}@sys=v", "x".repeat(249))],
                Ok(1),
            ),
            ("@ then uppercase", vec!["t@Sys=v".into()], Err(Kind::Key)),
            ("empty key", vec!["=v".into()], Err(Kind::Key)),
            ("space before =", vec!["a =v".into()], Err(Kind::Key)),
            ("value of 256 characters", vec![format!("a={v256}")], Ok(1)),
            (
                "value of 257 characters",
                vec![format!("a={v257}")],
                Err(Kind::Value),
            ),
            ("value with inner space", vec!["a=b c".into()], Ok(1)),
            ("value with =", vec!["a=b=c".into()], Err(Kind::Value)),
            ("empty value", vec!["a=".into()], Err(Kind::Value)),
            (
                "value with control char",
                vec!["a=b\u{1}".into()],
                Err(Kind::Value),
            ),
            ("value non-ascii", vec!["a=é".into()], Err(Kind::Value)),
            (
                "member without =",
                vec!["a=1,b".into()],
                Err(Kind::MissingEquals),
            ),
            (
                "one invalid member drops all",
                vec!["a=1".into(), "B=2".into()],
                Err(Kind::Key),
            ),
            (
                "foo=1,foo=2: a repeated key is not an error",
                vec!["foo=1,foo=2".into()],
                Ok(1),
            ),
            (
                "repeated headers with the same key",
                vec!["foo=1,bar=2".into(), "foo=3".into()],
                Ok(2),
            ),
            (
                "an invalid member after a repeated key still drops all",
                vec!["foo=1,foo=2,Bad=3".into()],
                Err(Kind::Key),
            ),
        ];
        let failed: Vec<String> = cases
            .into_iter()
            .filter_map(|(name, values, want)| {
                let refs: Vec<&str> = values.iter().map(String::as_str).collect();
                let got = check(&refs);
                (got != want).then(|| format!("{name:?}: got {got:?}, want {want:?}"))
            })
            .collect();
        assert!(failed.is_empty(), "failed cases:\n{}", failed.join("\n"));
    }

    fn ts_len(written: &str) -> usize {
        written.split(',').count()
    }

    /// "Combined Header Value" allows one entry per key: the first one is kept
    /// (read and written back), later ones are dropped.
    #[test]
    fn repeated_keys_keep_the_first() {
        let cases: [(&str, &[&str], &str, &str); 4] = [
            ("foo=1,foo=2", &["foo=1,foo=2"], "foo=1", "1"),
            (
                "repeated headers with the same key",
                &["foo=1,bar=2", "foo=3"],
                "foo=1,bar=2",
                "1",
            ),
            (
                "repeated three times, across headers",
                &["a=0,foo=1", "foo=2,b=3", " foo=4 "],
                "a=0,foo=1,b=3",
                "1",
            ),
            (
                "same length, first and last byte, different key",
                &["fab=1,fzb=2,fab=3"],
                "fab=1,fzb=2",
                "1",
            ),
        ];
        let failed: Vec<String> = cases
            .into_iter()
            .filter_map(|(name, values, written, first)| {
                let key = if name.starts_with("same length") {
                    "fab"
                } else {
                    "foo"
                };
                let got = TraceState::parse(values.iter().copied())
                    .map(|ts| (ts.to_string(), ts.len(), ts.members().count(), ts.get(key)));
                let want = Ok((
                    written.to_owned(),
                    ts_len(written),
                    ts_len(written),
                    Some(first),
                ));
                (got != want).then(|| format!("{name:?}: got {got:?}, want {want:?}"))
            })
            .collect();
        assert!(failed.is_empty(), "failed cases:\n{}", failed.join("\n"));
    }

    #[test]
    fn display_joins_in_order() {
        let ts = TraceState::parse(["b=2 ", " a=1,c=3"]).map(|t| t.to_string());
        assert_eq!(ts.as_deref(), Ok("b=2,a=1,c=3"));
    }
}
