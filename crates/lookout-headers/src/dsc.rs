//! The Dynamic Sampling Context (DSC): the `sentry-` members of `baggage`.
//!
//! [`DscView`] reads them without allocating; [`DynamicSamplingContext`] is the
//! owned form a request freezes, writes back into `baggage` and serializes
//! into the envelope `trace` header. Deciding when to freeze, and what to
//! sample, belongs to the caller.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::percent_decode_str;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::baggage::{
    BaggageMember, Budget, decode, encode, find_either, find_plain_end, is_token,
};
use crate::ids::TraceId;

/// The DSC keys, in the order lookout writes them.
const KEYS: [&str; 10] = [
    "trace_id",
    "public_key",
    "sample_rate",
    "sample_rand",
    "sampled",
    "release",
    "environment",
    "transaction",
    "org_id",
    "replay_id",
];

/// A borrowed, allocation-free view of the Sentry members of incoming baggage.
///
/// Values stay percent-encoded until read. Of repeated keys the last
/// non-empty one wins (as in the Python and JavaScript SDKs). Typed accessors
/// return `None` for a missing value and for one that is not valid (`sample_rate` outside
/// [0, 1], `sample_rand` outside [0, 1), `sampled` other than `true`/`false`,
/// a malformed trace id), so nothing invalid is ever forwarded.
///
/// ```
/// use lookout_headers::DscView;
///
/// let dsc = DscView::from_baggage([
///     "other=1,sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.25",
///     "sentry-sampled=true,sentry-transaction=GET%20%2Fusers%2F%7Bid%7D",
/// ]);
/// assert!(dsc.has_sentry_members());
/// assert_eq!(dsc.sample_rate(), Some(0.25));
/// assert_eq!(dsc.sampled(), Some(true));
/// assert_eq!(dsc.transaction().as_deref(), Some("GET /users/{id}"));
/// assert_eq!(dsc.release(), None);
/// let owned = dsc.to_owned();
/// assert_eq!(owned.sample_rate, Some(0.25));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DscView<'a> {
    raw: [Option<&'a str>; 10],
    has_sentry_members: bool,
}

impl<'a> DscView<'a> {
    /// Reads the Sentry members of one or more `baggage` values (within the
    /// baggage limits).
    ///
    /// Gives exactly what [`from_members`](Self::from_members) gives on
    /// [`parse_baggage`](crate::parse_baggage)`(values)`, faster: a member
    /// written the way SDKs write it (`key=value`, no whitespace, no
    /// properties) is read in place, a known DSC key by comparing whole
    /// words (such a key is a valid token by construction); only members
    /// with whitespace or properties go through the general scanner.
    pub fn from_baggage<I>(values: I) -> Self
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut view = Self::default();
        let mut budget = Budget::default();
        for value in values {
            budget = view.read_value(value, budget);
            if budget.is_full() {
                break;
            }
        }
        view
    }

    /// The members of one `baggage` value, for [`from_baggage`](Self::from_baggage),
    /// within what is left of `budget`; returns the budget left.
    ///
    /// Not generic on purpose: compiled once, in this crate, its code does
    /// not depend on the caller's iterator or crate.
    fn read_value(&mut self, value: &'a str, mut budget: Budget) -> Budget {
        let b = value.as_bytes();
        let mut at = 0;
        let mut sentry = false;
        // One member per turn: `end` is where it stops (its comma, or the
        // end of the value).
        while at <= b.len() && !budget.is_full() {
            // A known key, then a plain value: nothing to trim, no properties.
            if let Some((index, key_len)) = known_member(&window(b, at)) {
                let v_start = at + key_len;
                let end = find_plain_end(b, v_start);
                if matches!(b.get(end), None | Some(b',')) {
                    if budget.admit(end - at) {
                        sentry = true;
                        if end > v_start {
                            self.raw[index] = value.get(v_start..end);
                        }
                    }
                    at = end + 1;
                    continue;
                }
            }
            // Any other key, when the key is a token and the value plain.
            let eq = find_either::<b'=', b','>(b, at);
            if b.get(eq) == Some(&b'=') {
                let key = value.get(at..eq).unwrap_or_default();
                if is_token(key.as_bytes()) {
                    let end = find_plain_end(b, eq + 1);
                    if matches!(b.get(end), None | Some(b',')) {
                        if budget.admit(end - at)
                            && let Some(name) = key.strip_prefix("sentry-")
                        {
                            sentry = true;
                            let slot = key_index(name).and_then(|i| self.raw.get_mut(i));
                            if let (Some(slot), true) = (slot, end > eq + 1) {
                                *slot = value.get(eq + 1..end);
                            }
                        }
                        at = end + 1;
                        continue;
                    }
                }
            }
            // Whitespace to trim, properties, or an invalid member.
            let Some(rest) = value.get(at..) else {
                break;
            };
            let (member, rest) = BaggageMember::scan(rest);
            if let Some(member) = member.filter(|m| budget.admit(m.as_str().len())) {
                sentry |= member.key().starts_with("sentry-");
                self.add(member);
            }
            match rest {
                Some(rest) => at = value.len() - rest.len(),
                None => break,
            }
        }
        self.has_sentry_members |= sentry;
        budget
    }

    /// Reads the Sentry members among already parsed baggage members.
    pub fn from_members<M>(members: M) -> Self
    where
        M: IntoIterator<Item = BaggageMember<'a>>,
    {
        let mut view = Self::default();
        for member in members {
            view.add(member);
        }
        view
    }

    /// Takes in one member that counts within the baggage limits.
    #[inline]
    fn add(&mut self, member: BaggageMember<'a>) {
        let Some(name) = member.key().strip_prefix("sentry-") else {
            return;
        };
        self.has_sentry_members = true;
        let value = member.raw_value();
        if value.is_empty() {
            return;
        }
        // A repeated key: the last value wins, as in the Python and
        // JavaScript SDKs (both read baggage into a map), so every service
        // reading the same headers sees the same DSC.
        if let Some(slot) = key_index(name).and_then(|i| self.raw.get_mut(i)) {
            *slot = Some(value);
        }
    }

    /// Whether the baggage had any `sentry-` member (known or not): such a
    /// DSC comes from the head of the trace and must be frozen as received.
    #[must_use]
    pub fn has_sentry_members(&self) -> bool {
        self.has_sentry_members
    }

    /// The raw (still percent-encoded) value of a DSC key such as `"release"`.
    #[must_use]
    #[inline]
    pub fn raw(&self, key: &str) -> Option<&'a str> {
        key_index(key).and_then(|i| self.raw[i])
    }

    #[inline]
    fn text(&self, i: usize) -> Option<Cow<'a, str>> {
        self.raw[i].map(decode)
    }

    /// Parses a typed value. Every accepted typed value is plain ASCII
    /// without `%`, so the value is parsed as received first and decoded only
    /// when that fails and there is something to decode.
    #[inline]
    fn typed<T>(&self, i: usize, parse: impl Fn(&str) -> Option<T> + Copy) -> Option<T> {
        let raw = self.raw[i]?;
        match parse(raw) {
            Some(v) => Some(v),
            None => parse_decoded(raw, parse),
        }
    }

    /// `sentry-trace_id`, if it is 32 lowercase hex digits.
    #[must_use]
    #[inline]
    pub fn trace_id(&self) -> Option<TraceId> {
        self.typed(0, |s| TraceId::from_hex(s.as_bytes()))
    }

    /// `sentry-public_key`, decoded.
    #[must_use]
    #[inline]
    pub fn public_key(&self) -> Option<Cow<'a, str>> {
        self.text(1)
    }

    /// `sentry-sample_rate`, if it is a number in [0, 1].
    #[must_use]
    #[inline]
    pub fn sample_rate(&self) -> Option<f64> {
        self.typed(2, parse_rate)
    }

    /// `sentry-sample_rand`, if it is a number in [0, 1).
    #[must_use]
    #[inline]
    pub fn sample_rand(&self) -> Option<f64> {
        self.typed(3, parse_rand)
    }

    /// `sentry-sampled`, if it is `true` or `false`.
    #[must_use]
    #[inline]
    pub fn sampled(&self) -> Option<bool> {
        self.typed(4, parse_bool)
    }

    /// `sentry-release`, decoded.
    #[must_use]
    #[inline]
    pub fn release(&self) -> Option<Cow<'a, str>> {
        self.text(5)
    }

    /// `sentry-environment`, decoded.
    #[must_use]
    #[inline]
    pub fn environment(&self) -> Option<Cow<'a, str>> {
        self.text(6)
    }

    /// `sentry-transaction`, decoded.
    #[must_use]
    #[inline]
    pub fn transaction(&self) -> Option<Cow<'a, str>> {
        self.text(7)
    }

    /// `sentry-org_id`, decoded (compared as a string, like the SDKs do).
    #[must_use]
    #[inline]
    pub fn org_id(&self) -> Option<Cow<'a, str>> {
        self.text(8)
    }

    /// `sentry-replay_id`, decoded.
    #[must_use]
    #[inline]
    pub fn replay_id(&self) -> Option<Cow<'a, str>> {
        self.text(9)
    }

    /// An owned copy, for freezing. Invalid typed values are left out.
    #[must_use]
    pub fn to_owned(&self) -> DynamicSamplingContext {
        let own = |c: Option<Cow<'a, str>>| c.map(Cow::into_owned);
        DynamicSamplingContext {
            trace_id: self.trace_id(),
            public_key: own(self.public_key()),
            sample_rate: self.sample_rate(),
            sample_rand: self.sample_rand(),
            sampled: self.sampled(),
            release: own(self.release()),
            environment: own(self.environment()),
            transaction: own(self.transaction()),
            org_id: own(self.org_id()),
            replay_id: own(self.replay_id()),
        }
    }
}

/// A typed value that did not parse as received: parsed again once
/// percent-decoded, if it has anything to decode. Out of line: SDKs do not
/// encode these values.
#[cold]
#[inline(never)]
fn parse_decoded<T>(raw: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    if !raw.contains('%') {
        return None;
    }
    // Decode into a stack buffer: typed values are short.
    let mut buf = [0u8; 64];
    let mut len = 0;
    for b in percent_decode_str(raw) {
        *buf.get_mut(len)? = b;
        len += 1;
    }
    parse(std::str::from_utf8(&buf[..len]).ok()?)
}

/// Up to 24 bytes from `at` (the longest known member start,
/// `sentry-environment=`, is 19), zero-padded past the end of the value.
#[inline(always)]
fn window(b: &[u8], at: usize) -> [u8; 24] {
    if let Some(w) = b.get(at..).and_then(<[u8]>::first_chunk::<24>) {
        return *w;
    }
    let mut w = [0u8; 24];
    let rest = b.get(at..).unwrap_or_default();
    let n = rest.len().min(24);
    w[..n].copy_from_slice(&rest[..n]);
    w
}

/// A member starting with a known DSC key and its `=` (`sentry-release=`),
/// given the [`window`] at its start: the key's index in [`KEYS`] and the
/// length of `sentry-key=`. Such a key has no whitespace and is a valid
/// token, so the general scanner's trimming and token check are known to
/// pass. Padding cannot match: keys hold no zero byte.
#[inline(always)]
fn known_member(window: &[u8; 24]) -> Option<(usize, usize)> {
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&window[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w)
    };
    let words = [word(0), word(1), word(2)];
    let is = |i: usize| {
        let (key, mask) = (&KEY_WORDS[i], &KEY_MASKS[i]);
        (words[0] ^ key[0]) | ((words[1] ^ key[1]) & mask[1]) | ((words[2] ^ key[2]) & mask[2]) == 0
    };
    // Dispatch on the letter after `sentry-`; then at most three candidates.
    let len = |i: usize| "sentry-".len() + KEYS[i].len() + 1;
    Some(match (words[0] >> 56) as u8 {
        b't' if is(0) => (0, len(0)),
        b't' if is(7) => (7, len(7)),
        b'p' if is(1) => (1, len(1)),
        b's' if is(2) => (2, len(2)),
        b's' if is(3) => (3, len(3)),
        b's' if is(4) => (4, len(4)),
        b'r' if is(5) => (5, len(5)),
        b'r' if is(9) => (9, len(9)),
        b'e' if is(6) => (6, len(6)),
        b'o' if is(8) => (8, len(8)),
        _ => return None,
    })
}

/// `sentry-key=` of each of [`KEYS`] as three little-endian words (zero
/// past the `=`), and the masks of its bytes, for [`known_member`].
static KEY_WORDS: [[u64; 3]; 10] = key_words(false);
static KEY_MASKS: [[u64; 3]; 10] = key_words(true);

const fn key_words(masks: bool) -> [[u64; 3]; 10] {
    let mut out = [[0u64; 3]; 10];
    let mut k = 0;
    while k < KEYS.len() {
        let mut bytes = [0u8; 24];
        let mut i = 0;
        let prefix = b"sentry-";
        while i < prefix.len() {
            bytes[i] = if masks { 0xff } else { prefix[i] };
            i += 1;
        }
        let name = KEYS[k].as_bytes();
        let mut j = 0;
        while j < name.len() {
            bytes[i] = if masks { 0xff } else { name[j] };
            i += 1;
            j += 1;
        }
        bytes[i] = if masks { 0xff } else { b'=' };
        let mut w = 0;
        while w < 3 {
            let mut v = 0u64;
            let mut byte = 0;
            while byte < 8 {
                v |= (bytes[w * 8 + byte] as u64) << (8 * byte);
                byte += 1;
            }
            out[k][w] = v;
            w += 1;
        }
        k += 1;
    }
    out
}

/// The index of a DSC key in [`KEYS`] (a `match` compiles to a length switch).
#[inline]
fn key_index(name: &str) -> Option<usize> {
    Some(match name {
        "trace_id" => 0,
        "public_key" => 1,
        "sample_rate" => 2,
        "sample_rand" => 3,
        "sampled" => 4,
        "release" => 5,
        "environment" => 6,
        "transaction" => 7,
        "org_id" => 8,
        "replay_id" => 9,
        _ => return None,
    })
}

/// Parses a float exactly as `str::parse::<f64>` does, with a fast path for
/// plain decimals such as `0.123456`: at most 15 digits make an integer below
/// 2^53, which divided by an exact power of ten is correctly rounded
/// (Clinger's fast path). Anything else goes to `str::parse`.
pub(crate) fn parse_f64(s: &str) -> Option<f64> {
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

#[inline]
fn parse_rate(s: &str) -> Option<f64> {
    parse_f64(s).filter(|r| (0.0..=1.0).contains(r))
}

#[inline]
fn parse_rand(s: &str) -> Option<f64> {
    parse_f64(s).filter(|r| (0.0..1.0).contains(r))
}

#[inline]
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The owned Dynamic Sampling Context of a trace.
///
/// Fields are public; build one with `Default` and assignments. It writes
/// itself as `baggage` members ([`to_baggage`](Self::to_baggage),
/// [`write_baggage`](crate::write_baggage)) and serializes (serde) to the
/// envelope `trace` header shape: bare keys, `sample_rate`, `sample_rand` and
/// `sampled` as strings, absent fields left out.
///
/// ```
/// use lookout_headers::{DynamicSamplingContext, TraceId};
///
/// let mut dsc = DynamicSamplingContext::default();
/// dsc.trace_id = Some("771a43a4192642f0b136d5159a501700".parse()?);
/// dsc.sample_rate = Some(0.5);
/// dsc.sample_rand = Some(0.123456);
/// dsc.transaction = Some("GET /users/{id}".into());
/// assert_eq!(
///     dsc.to_baggage(),
///     "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.5,\
///      sentry-sample_rand=0.123456,sentry-transaction=GET%20%2Fusers%2F%7Bid%7D"
/// );
/// # Ok::<(), lookout_headers::IdError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct DynamicSamplingContext {
    /// `trace_id`.
    pub trace_id: Option<TraceId>,
    /// `public_key`: the DSN public key of the head of the trace.
    pub public_key: Option<String>,
    /// `sample_rate`, in [0, 1].
    pub sample_rate: Option<f64>,
    /// `sample_rand`, in [0, 1).
    pub sample_rand: Option<f64>,
    /// `sampled`.
    pub sampled: Option<bool>,
    /// `release`.
    pub release: Option<String>,
    /// `environment`.
    pub environment: Option<String>,
    /// `transaction`: only a route-derived name, never a raw URL.
    pub transaction: Option<String>,
    /// `org_id`.
    pub org_id: Option<String>,
    /// `replay_id`.
    pub replay_id: Option<String>,
}

/// A DSC field value ready to be written (numbers in shortest round-trip form).
enum FieldValue<'a> {
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

impl DynamicSamplingContext {
    /// An empty DSC.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no field is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn for_each_field(&self, mut f: impl FnMut(&'static str, FieldValue<'_>)) {
        if let Some(v) = self.trace_id {
            f(KEYS[0], FieldValue::Trace(v));
        }
        if let Some(v) = &self.public_key {
            f(KEYS[1], FieldValue::Text(v));
        }
        if let Some(v) = self.sample_rate {
            f(KEYS[2], FieldValue::Float(v));
        }
        if let Some(v) = self.sample_rand {
            f(KEYS[3], FieldValue::Rand(v));
        }
        if let Some(v) = self.sampled {
            f(KEYS[4], FieldValue::Bool(v));
        }
        let texts = [
            (5, &self.release),
            (6, &self.environment),
            (7, &self.transaction),
            (8, &self.org_id),
            (9, &self.replay_id),
        ];
        for (i, v) in texts {
            if let Some(v) = v {
                f(KEYS[i], FieldValue::Text(v));
            }
        }
    }

    /// Calls `f(key, percent-encoded value)` for each set field, in order.
    pub(crate) fn for_each_member(&self, mut f: impl FnMut(&'static str, &dyn fmt::Display)) {
        self.for_each_field(|key, value| match value {
            FieldValue::Text(s) => f(key, &encode(s)),
            other => f(key, &other),
        });
    }

    /// The Sentry `baggage` members alone (`sentry-key=value,...`).
    /// To add them to an outgoing request that has baggage of its own, use
    /// [`write_baggage`](crate::write_baggage).
    #[must_use]
    pub fn to_baggage(&self) -> String {
        crate::baggage::write_baggage(std::iter::empty(), self)
    }
}

impl Serialize for DynamicSamplingContext {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let mut result = Ok(());
        self.for_each_field(|key, value| {
            if result.is_ok() {
                result = match value {
                    FieldValue::Text(s) => map.serialize_entry(key, s),
                    other => map.serialize_entry(key, &other.to_string()),
                };
            }
        });
        result?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for DynamicSamplingContext {
    /// Reads the envelope `trace` header shape. Numbers and booleans are
    /// accepted as strings or as JSON scalars; invalid values are left out,
    /// unknown keys ignored.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(DscVisitor)
    }
}

struct DscVisitor;

/// A JSON scalar as a string (the envelope may carry numbers either way).
struct Scalar(Option<String>);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_owned())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Visitor<'de> for DscVisitor {
    type Value = DynamicSamplingContext;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a dynamic sampling context object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut dsc = DynamicSamplingContext::default();
        while let Some(key) = map.next_key::<String>()? {
            let Some(i) = KEYS.iter().position(|k| *k == key) else {
                map.next_value::<de::IgnoredAny>()?;
                continue;
            };
            let Scalar(Some(v)) = map.next_value::<Scalar>()? else {
                continue;
            };
            match i {
                0 => dsc.trace_id = TraceId::parse_hex(&v).ok(),
                1 => dsc.public_key = Some(v),
                2 => dsc.sample_rate = parse_rate(&v),
                3 => dsc.sample_rand = parse_rand(&v),
                4 => dsc.sampled = parse_bool(&v),
                5 => dsc.release = Some(v),
                6 => dsc.environment = Some(v),
                7 => dsc.transaction = Some(v),
                8 => dsc.org_id = Some(v),
                _ => dsc.replay_id = Some(v),
            }
        }
        Ok(dsc)
    }
}

#[cfg(feature = "sentry")]
impl From<&DynamicSamplingContext> for sentry_types::protocol::v7::DynamicSamplingContext {
    /// Converts for `sentry-types` envelopes. `replay_id` has no field there
    /// and is dropped; an `org_id` that is not a number is dropped.
    fn from(dsc: &DynamicSamplingContext) -> Self {
        let mut out = Self::new();
        if let Some(v) = dsc.trace_id {
            out = out.with_trace_id(v.into());
        }
        if let Some(v) = &dsc.public_key {
            out = out.with_public_key(v.clone());
        }
        if let Some(v) = dsc.sample_rate {
            out = out.with_sample_rate(v as f32);
        }
        if let Some(v) = dsc.sample_rand.and_then(|v| v.try_into().ok()) {
            out = out.with_sample_rand(v);
        }
        if let Some(v) = dsc.sampled {
            out = out.with_sampled(v);
        }
        if let Some(v) = &dsc.release {
            out = out.with_release(v.clone());
        }
        if let Some(v) = &dsc.environment {
            out = out.with_environment(v.clone());
        }
        if let Some(v) = &dsc.transaction {
            out = out.with_transaction(v.clone());
        }
        if let Some(v) = dsc.org_id.as_deref().and_then(|v| v.parse().ok()) {
            out = out.with_org_id(v);
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // table tests read best as tuples
mod tests {
    use super::*;

    const NINE: &str = "sentry-trace_id=771a43a4192642f0b136d5159a501700,\
        sentry-public_key=49d0f7386ad645858ae85020e393bef3,sentry-sample_rate=0.25,\
        sentry-sample_rand=0.123456,sentry-sampled=true,sentry-release=web%401.2.3,\
        sentry-environment=production,sentry-transaction=GET%20%2Fusers%2F%7Bid%7D,\
        sentry-org_id=123";

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

    #[cfg(feature = "sentry")]
    #[test]
    fn converts_to_sentry_types() {
        let owned = DscView::from_baggage([NINE, "sentry-replay_id=r1"]).to_owned();
        let theirs = sentry_types::protocol::v7::DynamicSamplingContext::from(&owned);
        let json = serde_json::to_value(&theirs).ok();
        let want = serde_json::json!({
            "trace_id": "771a43a4192642f0b136d5159a501700",
            "public_key": "49d0f7386ad645858ae85020e393bef3",
            "sample_rate": "0.25",
            "sample_rand": "0.123456",
            "sampled": "true",
            "release": "web@1.2.3",
            "environment": "production",
            "transaction": "GET /users/{id}",
            "org_id": "123",
        });
        assert_eq!(json, Some(want));
    }

    #[test]
    fn reads_every_key() {
        let v = DscView::from_baggage([NINE, "sentry-replay_id=abc"]);
        assert_eq!(
            v.trace_id().map(|t| t.to_string()).as_deref(),
            Some("771a43a4192642f0b136d5159a501700")
        );
        assert_eq!(
            v.public_key().as_deref(),
            Some("49d0f7386ad645858ae85020e393bef3")
        );
        assert_eq!(v.sample_rate(), Some(0.25));
        assert_eq!(v.sample_rand(), Some(0.123456));
        assert_eq!(v.sampled(), Some(true));
        assert_eq!(v.release().as_deref(), Some("web@1.2.3"));
        assert_eq!(v.environment().as_deref(), Some("production"));
        assert_eq!(v.transaction().as_deref(), Some("GET /users/{id}"));
        assert_eq!(v.org_id().as_deref(), Some("123"));
        assert_eq!(v.replay_id().as_deref(), Some("abc"));
        assert_eq!(v.raw("release"), Some("web%401.2.3"));
    }

    #[test]
    fn typed_values_table() {
        let cases: Vec<(&str, &str, Option<f64>, Option<f64>, Option<bool>)> = vec![
            (
                "rate 1 allowed",
                "sentry-sample_rate=1",
                Some(1.0),
                None,
                None,
            ),
            (
                "rate 0 allowed",
                "sentry-sample_rate=0",
                Some(0.0),
                None,
                None,
            ),
            (
                "rate above 1 rejected",
                "sentry-sample_rate=1.5",
                None,
                None,
                None,
            ),
            (
                "rate negative rejected",
                "sentry-sample_rate=-0.1",
                None,
                None,
                None,
            ),
            (
                "rate NaN rejected",
                "sentry-sample_rate=NaN",
                None,
                None,
                None,
            ),
            (
                "rate text rejected",
                "sentry-sample_rate=abc",
                None,
                None,
                None,
            ),
            (
                "rate percent-encoded",
                "sentry-sample_rate=0%2E5",
                Some(0.5),
                None,
                None,
            ),
            (
                "rand 1 rejected",
                "sentry-sample_rand=1.0",
                None,
                None,
                None,
            ),
            (
                "rand 0 allowed",
                "sentry-sample_rand=0.000000",
                None,
                Some(0.0),
                None,
            ),
            (
                "sampled true",
                "sentry-sampled=true",
                None,
                None,
                Some(true),
            ),
            (
                "sampled false",
                "sentry-sampled=false",
                None,
                None,
                Some(false),
            ),
            ("sampled 1 rejected", "sentry-sampled=1", None, None, None),
            (
                "sampled True rejected",
                "sentry-sampled=True",
                None,
                None,
                None,
            ),
        ];
        for (name, value, rate, rand, sampled) in cases {
            let v = DscView::from_baggage([value]);
            assert_eq!(
                (v.sample_rate(), v.sample_rand(), v.sampled()),
                (rate, rand, sampled),
                "case {name:?}"
            );
        }
    }

    #[test]
    fn last_non_empty_wins_as_in_the_sdks_and_presence_is_tracked() {
        let v = DscView::from_baggage(["sentry-release=a", "sentry-release=b,sentry-release="]);
        assert_eq!(v.release().as_deref(), Some("b"));
        assert!(!DscView::from_baggage(["other=1"]).has_sentry_members());
        let unknown = DscView::from_baggage(["sentry-unknown=1"]);
        assert!(unknown.has_sentry_members());
        assert!(unknown.to_owned().is_empty());
        assert!(
            DscView::from_baggage(["sentry-trace_id=XYZ"])
                .trace_id()
                .is_none()
        );
    }

    #[test]
    fn owned_round_trips_through_baggage() {
        let v = DscView::from_baggage([NINE, "sentry-replay_id=r%2F1"]);
        let owned = v.to_owned();
        let text = owned.to_baggage();
        assert_eq!(DscView::from_baggage([text.as_str()]).to_owned(), owned);
        assert!(text.contains("sentry-release=web%401.2.3"));
    }

    #[test]
    fn serializes_to_envelope_trace_header_shape() {
        let owned = DscView::from_baggage([NINE]).to_owned();
        let json = serde_json::to_value(&owned).ok();
        let want = serde_json::json!({
            "trace_id": "771a43a4192642f0b136d5159a501700",
            "public_key": "49d0f7386ad645858ae85020e393bef3",
            "sample_rate": "0.25",
            "sample_rand": "0.123456",
            "sampled": "true",
            "release": "web@1.2.3",
            "environment": "production",
            "transaction": "GET /users/{id}",
            "org_id": "123",
        });
        assert_eq!(json, Some(want.clone()));
        let back: Option<DynamicSamplingContext> = serde_json::from_value(want).ok();
        assert_eq!(back, Some(owned));
        let scalars: Option<DynamicSamplingContext> =
            serde_json::from_str(r#"{"sample_rate":0.5,"sampled":false,"org_id":7,"x":[1]}"#).ok();
        let want = DynamicSamplingContext {
            sample_rate: Some(0.5),
            sampled: Some(false),
            org_id: Some("7".into()),
            ..Default::default()
        };
        assert_eq!(scalars, Some(want));
    }
}

#[cfg(test)]
mod sample_rand_format {
    use super::*;

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
