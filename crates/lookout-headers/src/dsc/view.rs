//! [`DscView`]: the Sentry members of incoming baggage, read in place.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use super::keys::{KEYS, key_index};
use super::known_member::{known_member, window};
use super::owned::DynamicSamplingContext;
use super::typed_value::{parse_bool, parse_rand, parse_rate};
use crate::baggage::{BaggageMember, Budget, decode, find_either, find_plain_end, is_token};
use crate::ids::TraceId;

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

    /// The Sentry members this view read, as one `baggage` value with the
    /// values as received (still percent-encoded), in the order of
    /// [`DynamicSamplingContext`]'s fields: read again with
    /// [`from_baggage`](Self::from_baggage), it gives this view's values.
    /// One allocation and nothing decoded, so a context can keep the
    /// caller's DSC this way and make it owned only when something is sent.
    ///
    /// ```
    /// use lookout_headers::DscView;
    ///
    /// let view = DscView::from_baggage(["a=1,sentry-release=web%401.0,sentry-sampled=true,b=2"]);
    /// let members = view.members();
    /// assert_eq!(members, "sentry-sampled=true,sentry-release=web%401.0");
    /// assert_eq!(DscView::from_baggage([members.as_str()]).to_owned(), view.to_owned());
    /// ```
    #[must_use]
    pub fn members(&self) -> String {
        let len: usize = self
            .raw
            .iter()
            .zip(KEYS)
            .filter_map(|(raw, key)| raw.map(|raw| ",sentry-=".len() + key.len() + raw.len()))
            .sum::<usize>()
            // No comma before the first member: exactly the length, so
            // that a boxed copy needs no reallocation.
            .saturating_sub(1);
        let mut members = String::with_capacity(len);
        for (raw, key) in self.raw.iter().zip(KEYS) {
            if let Some(raw) = raw {
                if !members.is_empty() {
                    members.push(',');
                }
                members.push_str("sentry-");
                members.push_str(key);
                members.push('=');
                members.push_str(raw);
            }
        }
        members
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

#[cfg(test)]
#[allow(clippy::type_complexity)] // table tests read best as tuples
mod tests {
    use super::*;
    use crate::dsc::fixtures::NINE;

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
}
