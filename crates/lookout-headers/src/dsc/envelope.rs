//! The envelope `trace` header shape of a [`DynamicSamplingContext`]
//! (serde): bare keys, `sample_rate`, `sample_rand` and `sampled` as strings,
//! absent fields left out.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::field_value::FieldValue;
use super::keys::KEYS;
use super::owned::DynamicSamplingContext;
use super::typed_value::{parse_bool, parse_rand, parse_rate};
use crate::ids::TraceId;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DscView;
    use crate::dsc::fixtures::NINE;

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
