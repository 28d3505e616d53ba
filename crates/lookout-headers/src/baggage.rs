//! The W3C `baggage` header: borrowed members, on-demand decoding, limits, and
//! writing an outgoing value with the Sentry members.
//!
//! This module owns the member grammar and the 64-member / 8192-byte limits.
//! It does not interpret members: the Sentry ones are read by
//! [`DscView`](crate::DscView), everything else is the application's business.

use std::borrow::Cow;
use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::dsc::DynamicSamplingContext;
use crate::sentry_trace::trim_ows;

/// At most this many members are read or written, across all `baggage` headers.
pub const MAX_MEMBERS: usize = 64;

/// At most this many bytes of members (joined by `,`) are read or written,
/// across all `baggage` headers.
pub const MAX_BYTES: usize = 8192;

/// Characters JavaScript's `encodeURIComponent` leaves alone; everything else
/// (including `/`, `,`, `;`, `=`, `%`, spaces) is percent-encoded.
pub(crate) const ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Percent-decodes a baggage value; borrows unless it contains `%`.
/// Invalid UTF-8 after decoding is replaced (U+FFFD), never an error.
#[must_use]
pub fn decode(raw: &str) -> Cow<'_, str> {
    if !raw.contains('%') {
        return Cow::Borrowed(raw);
    }
    // One exact-size allocation (percent-encoding's own helper grows a Vec).
    let mut bytes = Vec::with_capacity(raw.len());
    bytes.extend(percent_decode_str(raw));
    match String::from_utf8(bytes) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// One `key=value;properties` member, borrowed from the header value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaggageMember<'a> {
    member: &'a str,
    key: &'a str,
    value: &'a str,
    properties: &'a str,
}

impl<'a> BaggageMember<'a> {
    /// The key, surrounding whitespace removed.
    #[must_use]
    pub fn key(&self) -> &'a str {
        self.key
    }

    /// The value as received (still percent-encoded), whitespace removed.
    /// It may contain `=`: `k=v=x` has the value `v=x`.
    #[must_use]
    pub fn raw_value(&self) -> &'a str {
        self.value
    }

    /// The percent-decoded value; allocates only when the value contains `%`.
    #[must_use]
    pub fn value(&self) -> Cow<'a, str> {
        decode(self.value)
    }

    /// The `;`-separated properties after the value.
    #[must_use]
    pub fn properties(&self) -> BaggageProperties<'a> {
        BaggageProperties {
            rest: self.properties,
        }
    }

    /// The whole member as received, whitespace around it removed.
    #[must_use]
    pub fn as_str(&self) -> &'a str {
        self.member
    }

    /// Scans one member at the start of `s`.
    ///
    /// Returns the member (`None` when it is empty, has no `=`, or its key is
    /// not an HTTP token) and what follows its terminating comma, if any.
    #[inline]
    pub(crate) fn scan(s: &'a str) -> (Option<Self>, Option<&'a str>) {
        let b = s.as_bytes();
        let is_ows = |c: u8| c == b' ' || c == b'\t';
        let eq = find_either::<b'=', b','>(b, 0);
        if b.get(eq) != Some(&b'=') {
            return (None, s.get(eq + 1..));
        }
        // Key: trimmed, then every byte a token character (branch-free).
        let (mut start, mut key_end) = (0, eq);
        while start < key_end && is_ows(b[start]) {
            start += 1;
        }
        while key_end > start && is_ows(b[key_end - 1]) {
            key_end -= 1;
        }
        let key_is_token = is_token(&b[start..key_end]);
        // Value and properties: up to the next comma.
        let (end_at, semi) = find_comma_and_semicolon(b, eq + 1);
        let rest = s.get(end_at + 1..);
        if !key_is_token {
            return (None, rest);
        }
        let mut end = end_at;
        while end > eq + 1 && is_ows(b[end - 1]) {
            end -= 1;
        }
        let value_end = semi.unwrap_or(end);
        let (mut v_start, mut v_end) = (eq + 1, value_end);
        while v_start < v_end && is_ows(b[v_start]) {
            v_start += 1;
        }
        while v_end > v_start && is_ows(b[v_end - 1]) {
            v_end -= 1;
        }
        // Every index above sits next to an ASCII byte, hence on a char boundary.
        let member = (|| {
            Some(Self {
                member: s.get(start..end)?,
                key: s.get(start..key_end)?,
                value: s.get(v_start..v_end)?,
                properties: match semi {
                    Some(p) => s.get(p + 1..end)?,
                    None => "",
                },
            })
        })();
        (member, rest)
    }
}

/// From `from`, the index of the first `A` or `B` (or the length).
///
/// Sixteen bytes at a time, written so that the compiler emits vector
/// compares and a single `pmovmskb` test per chunk (safe code, no
/// intrinsics; about a dozen instructions per chunk on plain SSE2): values
/// are the long part of a member, and each member is searched once.
#[inline(always)]
pub(crate) fn find_either<const A: u8, const B: u8>(s: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(chunk) = s.get(i..i + 16).and_then(|c| <&[u8; 16]>::try_from(c).ok()) {
        if any_flag(&either_flags::<A, B>(chunk)) {
            return i + first_in_words(chunk, |w| bytes_equal(w, A) | bytes_equal(w, B));
        }
        i += 16;
    }
    if let Some((last, chunk)) = last_chunk(s, i) {
        return first_flag_after(&either_flags::<A, B>(chunk), last, i, s.len());
    }
    while let Some(&c) = s.get(i) {
        if c == A || c == B {
            break;
        }
        i += 1;
    }
    i
}

/// From `from`, the index of the first byte that ends a plain value: `,`,
/// `;`, or a space, tab or other control byte (or the length). A value that
/// ends at a `,` (or at the end) is then known to have no whitespace to trim
/// and no properties. Sixteen bytes at a time, like [`find_either`].
#[inline(always)]
pub(crate) fn find_plain_end(s: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(chunk) = s.get(i..i + 16).and_then(|c| <&[u8; 16]>::try_from(c).ok()) {
        if any_flag(&plain_end_flags(chunk)) {
            return i + first_in_words(chunk, |w| {
                bytes_equal(w, b',') | bytes_equal(w, b';') | bytes_below(w, b' ' + 1)
            });
        }
        i += 16;
    }
    if let Some((last, chunk)) = last_chunk(s, i) {
        return first_flag_after(&plain_end_flags(chunk), last, i, s.len());
    }
    while let Some(&c) = s.get(i) {
        if c <= b' ' || c == b',' || c == b';' {
            break;
        }
        i += 1;
    }
    i
}

/// The bytes of `chunk` equal to `A` or `B` as `0xff`, the others `0`
/// (vector compares).
#[inline(always)]
fn either_flags<const A: u8, const B: u8>(chunk: &[u8; 16]) -> [u8; 16] {
    let mut flags = [0u8; 16];
    for (f, &c) in flags.iter_mut().zip(chunk) {
        *f = 0u8.wrapping_sub(u8::from(c == A) | u8::from(c == B));
    }
    flags
}

/// The bytes of `chunk` that end a plain value (see [`find_plain_end`]) as
/// `0xff`, the others `0` (vector compares).
#[inline(always)]
fn plain_end_flags(chunk: &[u8; 16]) -> [u8; 16] {
    let mut flags = [0u8; 16];
    for (f, &c) in flags.iter_mut().zip(chunk) {
        *f = 0u8.wrapping_sub(u8::from(c <= b' ') | u8::from(c == b',') | u8::from(c == b';'));
    }
    flags
}

/// Whether any byte of `flags` (each `0` or `0xff`) is set.
///
/// An OR over the bytes (not `u128 != 0`), which compiles to one
/// `pmovmskb` test.
#[inline(always)]
fn any_flag(flags: &[u8; 16]) -> bool {
    let mut any = 0u8;
    for &f in flags {
        any |= f;
    }
    any != 0
}

/// The index of the first byte of `chunk` (which has one) that `hits`
/// flags, a word at a time (SWAR). The position is computed from the bytes,
/// not from the vector flags: moving those to a general register goes
/// through memory, which costs more time than these few instructions.
#[inline(always)]
fn first_in_words(chunk: &[u8; 16], hits: impl Fn(u64) -> u64) -> usize {
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&chunk[at..at + 8]);
        hits(u64::from_le_bytes(w))
    };
    let lo = word(0);
    if lo != 0 {
        (lo.trailing_zeros() / 8) as usize
    } else {
        8 + (word(8).trailing_zeros() / 8) as usize
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Flags the bytes of `w` equal to `c` (SWAR). The lowest flag is always
/// exact (borrows only run upwards), which is all the callers use.
#[inline(always)]
fn bytes_equal(w: u64, c: u8) -> u64 {
    let x = w ^ (ONES * u64::from(c));
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Flags the bytes of `w` below `n` (at most 0x80) (SWAR); as for
/// [`bytes_equal`], the lowest flag is exact.
#[inline(always)]
fn bytes_below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS
}

/// When fewer than 16 bytes are left from `i` (but some are) and `s` has at
/// least 16: the last 16 bytes of `s` and where they start, so that the
/// search ends with one more chunk instead of byte by byte.
#[inline(always)]
fn last_chunk(s: &[u8], i: usize) -> Option<(usize, &[u8; 16])> {
    let last = s.len().checked_sub(16)?;
    if i >= s.len() || i < last {
        return None;
    }
    Some((last, s.get(last..)?.first_chunk::<16>()?))
}

/// The index of the first set byte of `flags`, the flags of the chunk at
/// `last` given by [`last_chunk`], ignoring the bytes before `i` (already
/// searched); the length when none is set. Once per search, so the move of
/// the flags through memory does not matter here.
#[inline(always)]
fn first_flag_after(flags: &[u8; 16], last: usize, i: usize, len: usize) -> usize {
    let flags = u128::from_le_bytes(*flags) >> (8 * (i - last));
    match flags {
        0 => len,
        _ => i + (flags.trailing_zeros() / 8) as usize,
    }
}

/// From `from`, the index of the next `,` (or the length) and of the first
/// `;` before it.
#[inline]
fn find_comma_and_semicolon(b: &[u8], from: usize) -> (usize, Option<usize>) {
    let first = find_either::<b',', b';'>(b, from);
    if b.get(first) == Some(&b';') {
        (find_either::<b',', b','>(b, first + 1), Some(first))
    } else {
        (first, None)
    }
}

/// Whether `key` is an HTTP token (RFC 9110 `1*tchar`): not empty, and every
/// byte a token character (a table lookup per byte, no branch).
#[inline]
pub(crate) fn is_token(key: &[u8]) -> bool {
    let mut class = TCHAR;
    for &c in key {
        class &= CLASS[usize::from(c)];
    }
    class & TCHAR != 0 && !key.is_empty()
}

const TCHAR: u8 = 1;

/// RFC 9110 `tchar` (the characters of a baggage key) as a byte table, so a
/// key is validated without a branch per byte.
static CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            )
        {
            table[c] = TCHAR;
        }
        c += 1;
    }
    table
};

/// A property of a baggage member: `key` or `key=value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaggageProperty<'a> {
    /// The property key, whitespace removed.
    pub key: &'a str,
    /// The raw (percent-encoded) value, if the property has one.
    pub raw_value: Option<&'a str>,
}

impl<'a> BaggageProperty<'a> {
    /// The percent-decoded value, if any.
    #[must_use]
    pub fn value(&self) -> Option<Cow<'a, str>> {
        self.raw_value.map(decode)
    }
}

/// Iterator over the properties of one member; empty properties are skipped.
#[derive(Clone, Debug)]
pub struct BaggageProperties<'a> {
    rest: &'a str,
}

impl<'a> Iterator for BaggageProperties<'a> {
    type Item = BaggageProperty<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.rest.is_empty() {
            let (part, rest) = self.rest.split_once(';').unwrap_or((self.rest, ""));
            self.rest = rest;
            let part = trim_ows(part);
            if part.is_empty() {
                continue;
            }
            return Some(match part.split_once('=') {
                Some((k, v)) => BaggageProperty {
                    key: trim_ows(k),
                    raw_value: Some(trim_ows(v)),
                },
                None => BaggageProperty {
                    key: part,
                    raw_value: None,
                },
            });
        }
        None
    }
}

/// Iterator over the valid members of several `baggage` values, in order,
/// within [`MAX_MEMBERS`] and [`MAX_BYTES`]. Never allocates.
///
/// Members without `=` (or with an empty or non-token key) are dropped. A
/// member that would take the total past [`MAX_BYTES`] is dropped whole and
/// reading goes on (a later, shorter member may still fit); once
/// [`MAX_MEMBERS`] members have been read the rest is dropped.
#[derive(Clone, Debug)]
pub struct BaggageMembers<'a, I> {
    values: I,
    current: Option<&'a str>,
    budget: Budget,
}

/// The [`MAX_MEMBERS`] / [`MAX_BYTES`] accounting of members read so far,
/// shared by [`BaggageMembers`] and the DSC fast path so both apply the
/// limits alike.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Budget {
    count: usize,
    bytes: usize,
}

impl Budget {
    /// Whether [`MAX_MEMBERS`] members have been read: nothing more is.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.count >= MAX_MEMBERS
    }

    /// Counts a valid member of `len` bytes (whitespace around it removed)
    /// if it fits within [`MAX_BYTES`]; a member that does not is dropped
    /// whole, and a later, shorter one may still fit.
    #[inline]
    pub(crate) fn admit(&mut self, len: usize) -> bool {
        let added = len + usize::from(self.count > 0);
        if self.bytes + added > MAX_BYTES {
            return false;
        }
        self.bytes += added;
        self.count += 1;
        true
    }
}

/// Reads the members of one or more `baggage` header values.
///
/// ```
/// use lookout_headers::parse_baggage;
///
/// let values = ["other=a%20b;prop, novalue", "sentry-release=1.0=beta"];
/// let members: Vec<_> = parse_baggage(values).collect();
/// assert_eq!(members.len(), 2);
/// assert_eq!(members[0].value(), "a b");
/// assert_eq!(members[0].properties().next().map(|p| p.key), Some("prop"));
/// assert_eq!(members[1].raw_value(), "1.0=beta");
/// ```
pub fn parse_baggage<'a, I>(values: I) -> BaggageMembers<'a, I::IntoIter>
where
    I: IntoIterator<Item = &'a str>,
{
    BaggageMembers {
        values: values.into_iter(),
        current: None,
        budget: Budget::default(),
    }
}

impl<'a, I> BaggageMembers<'a, I>
where
    I: Iterator<Item = &'a str>,
{
    /// The next comma-separated part, parsed (`None` inside when invalid).
    fn next_part(&mut self) -> Option<Option<BaggageMember<'a>>> {
        loop {
            if let Some(rest) = self.current {
                let (member, rest) = BaggageMember::scan(rest);
                self.current = rest;
                return Some(member);
            }
            self.current = Some(self.values.next()?);
        }
    }
}

impl<'a, I> Iterator for BaggageMembers<'a, I>
where
    I: Iterator<Item = &'a str>,
{
    type Item = BaggageMember<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.budget.is_full() {
            let Some(member) = self.next_part()? else {
                continue;
            };
            if self.budget.admit(member.member.len()) {
                return Some(member);
            }
        }
        None
    }
}

/// Writes an outgoing `baggage` value: the members the application already
/// put on its outgoing request, then the Sentry members of `dsc`.
///
/// Pass only the outgoing request's own baggage here, never the incoming
/// request's: a caller's third-party members are not forwarded. Sentry
/// members already present in `existing` are replaced by those of `dsc`.
/// Values are percent-encoded like `encodeURIComponent` (so `/` becomes
/// `%2F`). The result stays within [`MAX_MEMBERS`] and [`MAX_BYTES`]: room is
/// kept for the Sentry members first, and application members that do not fit
/// are dropped whole.
///
/// ```
/// use lookout_headers::{DynamicSamplingContext, write_baggage};
///
/// let mut dsc = DynamicSamplingContext::default();
/// dsc.release = Some("web@1.0/rc".into());
/// dsc.sampled = Some(true);
/// let value = write_baggage(["app=1, sentry-release=old"], &dsc);
/// assert_eq!(value, "app=1,sentry-sampled=true,sentry-release=web%401.0%2Frc");
/// ```
#[must_use]
pub fn write_baggage<'a, I>(existing: I, dsc: &DynamicSamplingContext) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    // First pass: measure the Sentry members (no allocation) and pick those
    // that fit, so room for them is reserved once.
    let mut included = 0u32;
    let (mut sentry_count, mut sentry_bytes, mut index) = (0usize, 0usize, 0u32);
    dsc.for_each_member(|key, value| {
        let mut len = Counter(0);
        let _ = write!(len, "sentry-{key}={value}");
        let added = len.0 + usize::from(sentry_count > 0);
        if sentry_count < MAX_MEMBERS && sentry_bytes + added <= MAX_BYTES {
            included |= 1 << index;
            sentry_count += 1;
            sentry_bytes += added;
        }
        index += 1;
    });

    let reserve = sentry_bytes + usize::from(sentry_count > 0);
    let mut out = String::new();
    let mut count = 0usize;
    for member in parse_baggage(existing) {
        if member.key().starts_with("sentry-") {
            continue;
        }
        let added = member.as_str().len() + usize::from(count > 0);
        if count + 1 + sentry_count > MAX_MEMBERS || out.len() + added + reserve > MAX_BYTES {
            continue;
        }
        if count > 0 {
            out.push(',');
        }
        out.push_str(member.as_str());
        count += 1;
    }
    // Without application members this is the only allocation.
    out.reserve_exact(reserve);
    let mut index = 0u32;
    dsc.for_each_member(|key, value| {
        if included & (1 << index) != 0 {
            if !out.is_empty() {
                out.push(',');
            }
            let _ = write!(out, "sentry-{key}={value}");
        }
        index += 1;
    });
    out
}

/// A `fmt::Write` that only counts bytes.
struct Counter(usize);

impl std::fmt::Write for Counter {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Writes `value` percent-encoded as `encodeURIComponent` would.
pub(crate) fn encode(value: &str) -> impl std::fmt::Display + '_ {
    utf8_percent_encode(value, ENCODE_SET)
}

#[cfg(test)]
#[allow(clippy::type_complexity)] // table tests read best as tuples
mod tests {
    use super::*;

    fn keys<'a>(values: &[&'a str]) -> Vec<(&'a str, &'a str)> {
        parse_baggage(values.iter().copied())
            .map(|m| (m.key(), m.raw_value()))
            .collect()
    }

    /// One named case per rule of the W3C Baggage specification
    /// (<https://www.w3.org/TR/baggage/>, "Header Content").
    #[test]
    fn spec_table() {
        let cases: Vec<(&str, Vec<&str>, Vec<(&str, &str)>)> = vec![
            ("single member", vec!["k=v"], vec![("k", "v")]),
            (
                "comma separated",
                vec!["a=1,b=2"],
                vec![("a", "1"), ("b", "2")],
            ),
            (
                "optional whitespace around separators",
                vec![" a = 1 ,\tb=2 ; p "],
                vec![("a", "1"), ("b", "2")],
            ),
            (
                "member without = dropped",
                vec!["a=1,novalue,b=2"],
                vec![("a", "1"), ("b", "2")],
            ),
            ("value may contain =", vec!["k=v=x"], vec![("k", "v=x")]),
            (
                "properties are not part of the value",
                vec!["k=v;p1;p2=x"],
                vec![("k", "v")],
            ),
            ("empty members skipped", vec![",,a=1,, ,"], vec![("a", "1")]),
            ("empty value kept", vec!["a="], vec![("a", "")]),
            ("empty key dropped", vec!["=v,a=1"], vec![("a", "1")]),
            (
                "key with space dropped",
                vec!["a b=1,c=2"],
                vec![("c", "2")],
            ),
            (
                "several header values in order",
                vec!["a=1", "b=2,c=3"],
                vec![("a", "1"), ("b", "2"), ("c", "3")],
            ),
            ("empty header values", vec!["", "a=1", ""], vec![("a", "1")]),
        ];
        for (name, values, want) in cases {
            assert_eq!(keys(&values), want, "case {name:?}");
        }
    }

    #[test]
    fn properties_and_decoding() {
        let m = parse_baggage(["k=a%2Fb%20c;flag; x = y%21 ;;"]).next();
        let m = m.expect("one member");
        assert_eq!(m.value(), "a/b c");
        assert!(matches!(
            parse_baggage(["k=plain"]).next().map(|m| m.value()),
            Some(Cow::Borrowed("plain"))
        ));
        let props: Vec<_> = m.properties().collect();
        assert_eq!(props.len(), 2);
        assert_eq!(
            props[0],
            BaggageProperty {
                key: "flag",
                raw_value: None
            }
        );
        assert_eq!(props[1].key, "x");
        assert_eq!(props[1].value().as_deref(), Some("y!"));
        assert_eq!(decode("%ff"), "\u{fffd}");
    }

    #[test]
    fn limit_64_members_across_values() {
        let a: String = (0..40).map(|i| format!("a{i}=1,")).collect();
        let b: String = (0..40).map(|i| format!("b{i}=1,")).collect();
        let got: Vec<_> = parse_baggage([a.as_str(), b.as_str()])
            .map(|m| m.key())
            .collect();
        assert_eq!(got.len(), MAX_MEMBERS);
        assert_eq!(got[39], "a39");
        assert_eq!(got[63], "b23");
    }

    #[test]
    fn limit_8192_bytes_whole_members() {
        let big = format!("big={}", "x".repeat(5000));
        let big2 = format!("big2={}", "y".repeat(5000));
        let got: Vec<_> = parse_baggage([big.as_str(), big2.as_str(), "small=1"])
            .map(|m| m.key())
            .collect();
        // big2 would cross the limit: dropped whole, never cut; small still fits.
        assert_eq!(got, ["big", "small"]);
        let exact = format!("k={}", "v".repeat(MAX_BYTES - 2));
        assert_eq!(parse_baggage([exact.as_str()]).count(), 1);
        let over = format!("k={}", "v".repeat(MAX_BYTES - 1));
        assert_eq!(parse_baggage([over.as_str()]).count(), 0);
        let total: usize = {
            let v: Vec<_> = parse_baggage([big.as_str(), big2.as_str(), "small=1"]).collect();
            v.iter().map(|m| m.as_str().len()).sum::<usize>() + v.len() - 1
        };
        assert!(total <= MAX_BYTES);
    }

    #[test]
    fn encode_set_matches_encode_uri_component() {
        let s = "AZaz09-_.!~*'() /,;=%@:?#&+$é";
        assert_eq!(
            encode(s).to_string(),
            "AZaz09-_.!~*'()%20%2F%2C%3B%3D%25%40%3A%3F%23%26%2B%24%C3%A9"
        );
    }

    #[test]
    fn writing_drops_callers_sentry_members_and_keeps_limits() {
        let dsc = DynamicSamplingContext {
            environment: Some("prod".into()),
            ..Default::default()
        };
        let existing: String = (0..70).map(|i| format!("m{i}=1,")).collect();
        let out = write_baggage([existing.as_str(), "sentry-environment=dev"], &dsc);
        let members: Vec<_> = parse_baggage([out.as_str()]).collect();
        assert_eq!(members.len(), MAX_MEMBERS);
        assert_eq!(
            members.last().map(|m| m.as_str()),
            Some("sentry-environment=prod")
        );
        assert_eq!(
            members
                .iter()
                .filter(|m| m.key().starts_with("sentry-"))
                .count(),
            1
        );

        let huge = format!("h={}", "x".repeat(MAX_BYTES));
        let out = write_baggage([huge.as_str(), "ok=1"], &dsc);
        assert_eq!(out, "ok=1,sentry-environment=prod");
        assert_eq!(write_baggage([], &DynamicSamplingContext::default()), "");
        assert_eq!(
            write_baggage(["a=1"], &DynamicSamplingContext::default()),
            "a=1"
        );
    }
}
