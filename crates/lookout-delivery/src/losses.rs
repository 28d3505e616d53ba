//! What a lost batch of logs or trace metrics counts in client reports, read
//! straight from its bytes.
//!
//! A batch lookout wrote ([`crate::batch`]) is one `log` or `trace_metric`
//! item container. Reporting it lost means one `log_item` (`trace_metric`)
//! per record and its Relay size in `log_byte` (`trace_metric_byte`).
//! sentry-types computes both from a parsed [`Envelope`], which builds every
//! record with its attribute map and drops it again: a millisecond or more
//! for a full 1 MiB batch, each time the queue drops one. This pass reads
//! the same quantities with serde, without building the records: strings
//! are measured where they lie, fields it does not count are skipped.
//!
//! The sizes follow sentry-types' `relay_size` (Relay's own): a log is its
//! body's bytes plus, per attribute, its key's bytes and its value's size; a
//! metric is its name's bytes plus 8 plus its attributes. A value is its
//! UTF-8 bytes when a string, 8 when a number, 1 when a boolean, 0 when
//! null, its elements' sizes when an array, its keys' and values' when an
//! object. Every record counts at least 1. A test holds the two computations
//! equal on varied batches.
//!
//! [`Envelope`]: sentry_core::Envelope

use std::fmt;

use sentry_core::protocol::client_report::{Category, Item, Reason, Report};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The kind of records a batch holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Log,
    Metric,
}

impl Kind {
    /// The item type and content type of its container's item header.
    fn of(item_type: &str, content_type: &str) -> Option<Kind> {
        match (item_type, content_type) {
            ("log", "application/vnd.sentry.items.log+json") => Some(Kind::Log),
            ("trace_metric", "application/vnd.sentry.items.trace-metric+json") => {
                Some(Kind::Metric)
            }
            _ => None,
        }
    }

    fn categories(self) -> (Category, Category) {
        match self {
            Kind::Log => (Category::LogItem, Category::LogByte),
            Kind::Metric => (Category::TraceMetric, Category::TraceMetricByte),
        }
    }
}

/// The client report of `envelope` lost for `reason`, when it is one item
/// container of logs or trace metrics (what lookout's batches are); `None`
/// for anything else (parse it as an envelope) or bytes that do not read
/// as one.
pub(crate) fn batch_report(envelope: &[u8], reason: Reason) -> Option<Report> {
    let (kind, payload) = container(envelope)?;
    let (records, bytes) = measure(kind, payload)?;
    let (count_category, byte_category) = kind.categories();
    Some(Report::new([
        Item::new(count_category, reason, records),
        Item::new(byte_category, reason, bytes),
    ]))
}

/// The item header's kind and the rest of the envelope, when `envelope` is
/// an envelope header line, then an item header naming an item container.
/// Whether the rest is that one payload and nothing else is [`measure`]'s
/// to find: a second item after it fails the read.
fn container(envelope: &[u8]) -> Option<(Kind, &[u8])> {
    #[derive(serde::Deserialize)]
    struct ItemHeader<'a> {
        #[serde(rename = "type", borrow)]
        item_type: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        content_type: Option<std::borrow::Cow<'a, str>>,
    }
    let mut lines = envelope.splitn(3, |&b| b == b'\n');
    let _envelope_header = lines.next()?;
    let header: ItemHeader<'_> = serde_json::from_slice(lines.next()?).ok()?;
    let kind = Kind::of(&header.item_type, header.content_type.as_deref()?)?;
    Some((kind, lines.next()?))
}

/// The records of `payload` (`{"items":[...]}`, then whitespace at most)
/// and their Relay size.
fn measure(kind: Kind, payload: &[u8]) -> Option<(u64, u64)> {
    let mut deserializer = serde_json::Deserializer::from_slice(payload);
    let totals = Payload(kind).deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(totals)
}

/// Each seed below deserializes through itself as the visitor, with the
/// deserializer's method named here.
macro_rules! seeds {
    ($($seed:ident => $method:ident),* $(,)?) => {$(
        impl<'de> DeserializeSeed<'de> for $seed {
            type Value = <Self as Visitor<'de>>::Value;

            fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
                deserializer.$method(self)
            }
        }
    )*};
}

seeds!(
    Payload => deserialize_map,
    Records => deserialize_seq,
    Record => deserialize_map,
    Attributes => deserialize_map,
    Attribute => deserialize_map,
    ValueSize => deserialize_any,
    StrLen => deserialize_str,
    Key => deserialize_str,
);

/// `{"items":[...]}`: (records, bytes).
struct Payload(Kind);

impl<'de> Visitor<'de> for Payload {
    type Value = (u64, u64);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an item container")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut totals = None;
        while let Some(key) = map.next_key_seed(Key)? {
            if key.name_is("items") {
                totals = Some(map.next_value_seed(Records(self.0))?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        totals.ok_or_else(|| serde::de::Error::missing_field("items"))
    }
}

/// `[record, ...]`: (records, bytes).
struct Records(Kind);

impl<'de> Visitor<'de> for Records {
    type Value = (u64, u64);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (mut records, mut bytes) = (0u64, 0u64);
        while let Some(size) = seq.next_element_seed(Record(self.0))? {
            records += 1;
            bytes = bytes.saturating_add(size.max(1));
        }
        Ok((records, bytes))
    }
}

/// One log or metric: its Relay size.
struct Record(Kind);

impl<'de> Visitor<'de> for Record {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a log or a metric")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        // What is counted besides the attributes: a log's body, a
        // metric's name and its value's 8 bytes.
        let (counted_field, fixed) = match self.0 {
            Kind::Log => ("body", 0),
            Kind::Metric => ("name", 8),
        };
        let mut size: u64 = fixed;
        while let Some(key) = map.next_key_seed(Key)? {
            if key.name_is(counted_field) {
                size = size.saturating_add(map.next_value_seed(StrLen)?);
            } else if key.name_is("attributes") {
                size = size.saturating_add(map.next_value_seed(Attributes)?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(size)
    }
}

/// `{"key": {"value": V, "type": T}, ...}`: keys' bytes plus values' sizes.
struct Attributes;

impl<'de> Visitor<'de> for Attributes {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("attributes")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<u64, A::Error> {
        keys_and_values(map, Attribute)
    }
}

/// An object's keys' bytes plus what `seed` makes of each value.
fn keys_and_values<'de, A, S>(mut map: A, seed: S) -> Result<u64, A::Error>
where
    A: MapAccess<'de>,
    S: DeserializeSeed<'de, Value = u64> + Copy,
{
    let mut size = 0u64;
    while let Some(key) = map.next_key_seed(Key)? {
        size = size
            .saturating_add(key.len)
            .saturating_add(map.next_value_seed(seed)?);
    }
    Ok(size)
}

/// `{"value": V, "type": T}`: V's size (Relay ignores the wrapper).
#[derive(Clone, Copy)]
struct Attribute;

impl<'de> Visitor<'de> for Attribute {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let mut size = 0;
        while let Some(key) = map.next_key_seed(Key)? {
            if key.name_is("value") {
                size = map.next_value_seed(ValueSize)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(size)
    }
}

/// A JSON value's Relay size.
#[derive(Clone, Copy)]
struct ValueSize;

impl<'de> Visitor<'de> for ValueSize {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<u64, E> {
        Ok(1)
    }

    fn visit_i64<E>(self, _: i64) -> Result<u64, E> {
        Ok(8)
    }

    fn visit_u64<E>(self, _: u64) -> Result<u64, E> {
        Ok(8)
    }

    fn visit_f64<E>(self, _: f64) -> Result<u64, E> {
        Ok(8)
    }

    fn visit_str<E>(self, text: &str) -> Result<u64, E> {
        Ok(text.len() as u64)
    }

    fn visit_unit<E>(self) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_none<E>(self) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut size = 0u64;
        while let Some(element) = seq.next_element_seed(ValueSize)? {
            size = size.saturating_add(element);
        }
        Ok(size)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<u64, A::Error> {
        keys_and_values(map, ValueSize)
    }
}

/// A string's UTF-8 bytes (unescaped), where it lies.
struct StrLen;

impl<'de> Visitor<'de> for StrLen {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E>(self, text: &str) -> Result<u64, E> {
        Ok(text.len() as u64)
    }
}

/// An object key: its UTF-8 bytes, and whether it is one the pass looks
/// for (compared where it lies, never copied).
struct KeyName {
    len: u64,
    matched: Option<&'static str>,
}

impl KeyName {
    fn name_is(&self, name: &str) -> bool {
        self.matched == Some(name)
    }
}

/// Reads a key as a [`KeyName`].
struct Key;

/// The keys any visitor above looks for.
const LOOKED_FOR: [&str; 5] = ["items", "body", "name", "attributes", "value"];

impl<'de> Visitor<'de> for Key {
    type Value = KeyName;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<KeyName, E> {
        Ok(KeyName {
            len: key.len() as u64,
            matched: LOOKED_FOR.into_iter().find(|name| *name == key),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sentry_core::Envelope;
    use sentry_core::protocol::client_report::LossSource as _;
    use sentry_core::protocol::{EnvelopeItem, ItemContainer};

    /// What sentry-types reports for `envelope` lost as a queue overflow.
    fn parsed_report(envelope: &[u8]) -> Vec<(Category, u64)> {
        let envelope = Envelope::from_slice(envelope).expect("an envelope sentry-types reads");
        let mut totals = Vec::new();
        for item in envelope.items() {
            if let EnvelopeItem::ItemContainer(container) = item {
                let (count, bytes) = match container {
                    ItemContainer::Logs(logs) => {
                        ((Category::LogItem, logs.len() as u64), Category::LogByte)
                    }
                    ItemContainer::Metrics(metrics) => (
                        (Category::TraceMetric, metrics.len() as u64),
                        Category::TraceMetricByte,
                    ),
                    _ => unreachable!("lookout batches logs and metrics only"),
                };
                totals.push(count);
                totals.push((bytes, byte_losses(container)));
            }
        }
        totals
    }

    /// sentry-types' own size of a container, through its `LossSource`.
    fn byte_losses(container: &ItemContainer) -> u64 {
        container
            .losses()
            .filter(|loss| matches!(loss.category, Category::LogByte | Category::TraceMetricByte))
            .map(|loss| loss.quantity)
            .sum()
    }

    fn scanned_report(envelope: &[u8]) -> Vec<(Category, u64)> {
        let report = batch_report(envelope, Reason::QueueOverflow).expect("read as a batch");
        report
            .losses()
            .map(|loss| {
                assert_eq!(loss.reason, Some(Reason::QueueOverflow));
                (loss.category, loss.quantity)
            })
            .collect()
    }

    fn log_batch(items: &[String]) -> Vec<u8> {
        format!(
            "{{}}\n{{\"type\":\"log\",\"item_count\":{:7},\"content_type\":\"application/vnd.sentry.items.log+json\"}}\n{{\"items\":[{}]}}\n",
            items.len(),
            items.join(",")
        )
        .into_bytes()
    }

    fn log(body: &str, attributes: &str) -> String {
        format!(
            r#"{{"timestamp":1796608291.5890985,"trace_id":"771a43a4192642f0b136d5159a501700","level":"info","body":{},"severity_number":9,"attributes":{{{attributes}}}}}"#,
            serde_json::to_string(body).unwrap()
        )
    }

    #[test]
    fn a_batch_of_logs_counts_as_sentry_types_counts_it() {
        let items = [
            log(
                "loading user",
                r#""sentry.origin":{"value":"auto.tracing","type":"string"},"user_id":{"value":"7","type":"string"},"code.line.number":{"value":38,"type":"integer"},"ratio":{"value":0.5,"type":"double"},"ok":{"value":true,"type":"boolean"}"#,
            ),
            // Escapes, non-ASCII text and an escaped key.
            log(
                "caf\u{e9} \"quoted\"\n\ttab \u{1F600}",
                r#""k\u00e9y\n":{"value":"a\"b\\c\u0001","type":"string"}"#,
            ),
            // Empty: counts at least 1.
            log("", ""),
        ];
        let envelope = log_batch(&items);
        assert_eq!(scanned_report(&envelope), parsed_report(&envelope));
        assert_eq!(scanned_report(&envelope)[0], (Category::LogItem, 3));
    }

    #[test]
    fn a_batch_of_metrics_counts_as_sentry_types_counts_it() {
        let envelope = br#"{}
{"type":"trace_metric","item_count":      2,"content_type":"application/vnd.sentry.items.trace-metric+json"}
{"items":[{"timestamp":1796608291.5,"trace_id":"771a43a4192642f0b136d5159a501700","name":"http.requests","type":"counter","value":1,"attributes":{"route":{"value":"/users/{id}","type":"string"}}},{"timestamp":1796608291.6,"trace_id":"771a43a4192642f0b136d5159a501700","name":"latency","type":"distribution","value":12.5,"unit":"millisecond","attributes":{}}]}
"#;
        assert_eq!(scanned_report(envelope), parsed_report(envelope));
        assert_eq!(scanned_report(envelope)[0], (Category::TraceMetric, 2));
    }

    #[test]
    fn anything_but_one_batch_is_left_to_the_envelope_parser() {
        let one = log_batch(&[log("x", "")]);
        let reason = Reason::QueueOverflow;
        assert!(batch_report(&one, reason).is_some());
        // Two items, an event, broken JSON.
        let two = [one.clone(), one[3..].to_vec()].concat();
        assert!(batch_report(&two, reason).is_none());
        let event = b"{}\n{\"type\":\"event\",\"length\":2}\n{}\n";
        assert!(batch_report(event, reason).is_none());
        assert!(batch_report(&one[..one.len() - 5], reason).is_none());
        // One container with a `length` is one batch all the same.
        let payload = one.split(|&b| b == b'\n').nth(2).unwrap();
        let with_length = [
            format!(
                "{{}}\n{{\"type\":\"log\",\"length\":{},\"item_count\":1,\"content_type\":\"application/vnd.sentry.items.log+json\"}}\n",
                payload.len()
            )
            .as_bytes(),
            payload,
        ]
        .concat();
        assert_eq!(scanned_report(&with_length), parsed_report(&with_length));
    }

    /// A JSON string of up to a few characters of any kind, and a JSON
    /// value of each kind the writer may send.
    fn attribute_value() -> impl Strategy<Value = serde_json::Value> {
        prop_oneof![
            ".{0,12}".prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
        ]
    }

    proptest! {
        #[test]
        fn any_log_batch_counts_as_sentry_types_counts_it(
            logs in prop::collection::vec(
                (".{0,24}", prop::collection::btree_map(".{1,10}", attribute_value(), 0..6)),
                1..6,
            )
        ) {
            let items: Vec<String> = logs
                .iter()
                .map(|(body, attributes)| {
                    let attributes: Vec<String> = attributes
                        .iter()
                        .map(|(key, value)| {
                            let kind = match value {
                                serde_json::Value::String(_) => "string",
                                serde_json::Value::Bool(_) => "boolean",
                                v if v.is_i64() => "integer",
                                _ => "double",
                            };
                            format!(
                                "{}:{{\"value\":{value},\"type\":\"{kind}\"}}",
                                serde_json::to_string(key).unwrap()
                            )
                        })
                        .collect();
                    log(body, &attributes.join(","))
                })
                .collect();
            let envelope = log_batch(&items);
            prop_assert_eq!(scanned_report(&envelope), parsed_report(&envelope));
        }
    }
}
