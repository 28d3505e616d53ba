//! Property tests: write-then-parse round trips for every header type, and no
//! panic on arbitrary input. `sentry-trace` is also checked against the SDKs'
//! regular expression itself.

use std::sync::LazyLock;

use lookout_headers::{
    DscView, DynamicSamplingContext, MAX_BYTES, MAX_MEMBERS, RequestId, SentryTrace, SpanId,
    TraceContext, TraceId, TraceParent, TraceState, parse_baggage, write_baggage,
};
use proptest::prelude::*;

static SDK_REGEX: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^[ \t]*([0-9a-f]{32})?-?([0-9a-f]{16})?-?([01])?[ \t]*$")
        .expect("the SDK regex compiles")
});

static TRACESTATE_MEMBER: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"^[a-z0-9][_0-9a-z\-*/@]{0,255}=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$",
    )
    .expect("the W3C member grammar compiles")
});

fn trace_id() -> impl Strategy<Value = TraceId> {
    any::<[u8; 16]>().prop_map(TraceId::from_bytes)
}

fn span_id() -> impl Strategy<Value = SpanId> {
    any::<[u8; 8]>().prop_map(SpanId::from_bytes)
}

/// Strings built from the pieces the sentry-trace grammar is made of, so the
/// regex comparison explores its corners rather than random noise.
fn sentry_trace_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[0-9a-f]{32}",
        "[0-9a-f]{16}",
        "[0-9a-fA-F]{1,33}",
        Just("-".to_owned()),
        Just("0".to_owned()),
        Just("1".to_owned()),
        Just(" ".to_owned()),
        Just("\t".to_owned()),
        Just("\n".to_owned()),
        Just(",".to_owned()),
        "[^,]{0,3}",
    ];
    prop::collection::vec(piece, 0..7).prop_map(|v| v.concat())
}

fn dsc_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(".{1,40}")
}

fn dsc() -> impl Strategy<Value = DynamicSamplingContext> {
    (
        prop::option::of(trace_id()),
        dsc_text(),
        prop::option::of(0.0f64..=1.0),
        prop::option::of(0.0f64..1.0),
        prop::option::of(any::<bool>()),
        (dsc_text(), dsc_text(), dsc_text(), dsc_text(), dsc_text()),
    )
        .prop_map(
            |(trace_id, public_key, sample_rate, sample_rand, sampled, texts)| {
                let mut d = DynamicSamplingContext::new();
                d.trace_id = trace_id;
                d.public_key = public_key;
                d.sample_rate = sample_rate;
                d.sample_rand = sample_rand;
                d.sampled = sampled;
                (
                    d.release,
                    d.environment,
                    d.transaction,
                    d.org_id,
                    d.replay_id,
                ) = texts;
                d
            },
        )
}

/// Level 2 keys: `@` anywhere after the first character, up to 256 in all.
fn tracestate_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9][_0-9a-z*/@-]{0,20}",
        1 => "[a-z0-9][_0-9a-z*/@-]{250,255}",
    ]
}

fn tracestate_value() -> impl Strategy<Value = String> {
    // Printable ASCII without ',' and '=', not ending in a space; no leading
    // space either, since spaces around members are optional whitespace.
    "[!-+\\--<>-~]([ -+\\--<>-~]{0,30}[!-+\\--<>-~])?"
}

/// The baggage member grammar written the obvious way, to check the
/// single-pass scanner against.
fn baggage_model(value: &str) -> Vec<(String, String, String, String)> {
    let ows = |s: &str| s.trim_matches([' ', '\t']).to_owned();
    let token = |k: &str| {
        !k.is_empty()
            && k.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
    };
    value
        .split(',')
        .filter_map(|raw| {
            let member = ows(raw);
            let (key, rest) = member.split_once('=')?;
            let key = ows(key);
            if !token(&key) {
                return None;
            }
            let (v, props) = rest.split_once(';').unwrap_or((rest, ""));
            Some((key, ows(v), props.to_owned(), member.clone()))
        })
        .collect()
}

/// Baggage members the way SDKs and proxies write them, and the ways they go
/// wrong: every DSC key, unknown `sentry-` keys, other vendors, whitespace,
/// properties, empty and `=`-holding values, commas in odd places.
fn baggage_member() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        prop::sample::select(vec![
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
        ])
        .prop_map(|k| format!("sentry-{k}")),
        "sentry-[a-z_]{0,12}",
        "[a-zA-Z-]{1,14}",
        Just("Sentry-release".to_owned()),
        "[a-z( /@]{1,6}",
    ];
    let value = prop_oneof![
        "[a-zA-Z0-9%._=-]{0,40}",
        "[0-9a-f]{32}",
        "0\\.[0-9]{1,8}",
        "[ \t]{0,2}[a-z0-9]{0,6}[ \t]{0,2}",
        ".{0,12}",
    ];
    let ows = "[ \t]{0,2}";
    let props = prop_oneof![Just(String::new()), ";[a-z=]{0,6}", " ; p"];
    (ows, key, ows, value, props, ows).prop_map(|(a, k, b, v, p, c)| format!("{a}{k}{b}={v}{p}{c}"))
}

/// One to three header values of such members, joined by commas (sometimes
/// doubled or trailing).
fn baggage_values() -> impl Strategy<Value = Vec<String>> {
    let value = prop::collection::vec(
        (
            baggage_member(),
            prop::sample::select(vec![",", ",", ", ", ",,", " ,"]),
        ),
        0..14,
    )
    .prop_map(|members| {
        let mut s = String::new();
        for (m, sep) in members {
            s.push_str(&m);
            s.push_str(sep);
        }
        s.pop();
        s
    });
    prop::collection::vec(value, 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn dsc_view_fast_path_matches_the_member_scanner_on_realistic_baggage(values in baggage_values()) {
        let fast = DscView::from_baggage(values.iter().map(String::as_str));
        let general = DscView::from_members(parse_baggage(values.iter().map(String::as_str)));
        prop_assert_eq!(fast, general, "{:?}", values);
    }

    #[test]
    fn dsc_view_members_read_again_give_the_same_dsc(
        values in prop::collection::vec(
            prop_oneof![
                baggage_values().prop_map(|v| v.join(",")),
                ".{0,120}|[a-z_=,; \t-]{0,80}|(sentry-[a-z_]{0,12}=[^,]{0,20},){0,5}",
            ],
            0..4,
        ),
    ) {
        let view = DscView::from_baggage(values.iter().map(String::as_str));
        let members = view.members();
        prop_assert_eq!(members.len(), members.capacity(), "sized exactly");
        let again = DscView::from_baggage([members.as_str()]);
        prop_assert_eq!(again.to_owned(), view.to_owned(), "{:?} -> {:?}", values, members);
    }

    #[test]
    fn dsc_view_fast_path_matches_the_member_scanner_on_arbitrary_input(
        values in prop::collection::vec(".{0,120}|[a-z_=,; \t-]{0,80}|(sentry-[a-z_]{0,12}=[^,]{0,20},){0,5}", 0..5),
    ) {
        let fast = DscView::from_baggage(values.iter().map(String::as_str));
        let general = DscView::from_members(parse_baggage(values.iter().map(String::as_str)));
        prop_assert_eq!(fast, general, "{:?}", values);
    }

    #[test]
    fn dsc_view_fast_path_applies_the_limits_like_the_member_scanner(
        members in prop::collection::vec(
            prop_oneof![
                "[a-z]{1,6}=[a-z]{0,300}",
                "sentry-(release|environment|trace_id|org_id)=[a-z]{0,400}",
                "sentry-sampled=(true|false)",
            ],
            5..90,
        ),
        split in 0usize..90,
    ) {
        // Long and many members (most of them DSC ones, read by the fast
        // path), so that both limits bite at varying places.
        let split = split.min(members.len());
        let first = members[..split].join(",");
        let second = members[split..].join(",");
        let values = [first.as_str(), second.as_str()];
        let fast = DscView::from_baggage(values);
        let general = DscView::from_members(parse_baggage(values));
        prop_assert_eq!(fast, general);
    }

    #[test]
    fn baggage_scanner_matches_the_grammar_model(
        value in "[a-c =;,\t%é]{0,80}|.{0,40}|([ a-z-]{5,14}=[ a-z;%=é]{0,20},?){0,6}",
    ) {
        let got: Vec<(String, String, String, String)> = parse_baggage([value.as_str()])
            .map(|m| {
                let props = m.as_str().split_once(';').map(|(_, p)| p.to_owned()).unwrap_or_default();
                (m.key().to_owned(), m.raw_value().to_owned(), props, m.as_str().to_owned())
            })
            .collect();
        prop_assert_eq!(got, baggage_model(&value), "{:?}", value);
    }

    #[test]
    fn sentry_trace_round_trips(t in prop::option::of(trace_id()), s in prop::option::of(span_id()), f in prop::option::of(any::<bool>())) {
        let st = SentryTrace { trace_id: t, parent_span_id: s, sampled: f };
        prop_assert_eq!(SentryTrace::parse(&st.to_string()), Ok(st));
        prop_assert_eq!(SentryTrace::from_values([st.to_string().as_str()]).ok().flatten().unwrap_or_default(), st);
    }

    #[test]
    fn sentry_trace_matches_the_sdk_regex(input in sentry_trace_like()) {
        let ours = SentryTrace::parse(&input).ok().map(|st| (
            st.trace_id.map(|t| t.to_string()),
            st.parent_span_id.map(|s| s.to_string()),
            st.sampled,
        ));
        let theirs = SDK_REGEX.captures(&input).map(|c| (
            c.get(1).map(|m| m.as_str().to_owned()),
            c.get(2).map(|m| m.as_str().to_owned()),
            c.get(3).map(|m| m.as_str() == "1"),
        ));
        prop_assert_eq!(ours, theirs, "input {:?}", input);
    }

    #[test]
    fn sentry_trace_first_non_empty_model(values in prop::collection::vec(sentry_trace_like(), 0..4)) {
        let first = values
            .iter()
            .flat_map(|v| v.split(','))
            .find(|p| !p.trim_matches([' ', '\t']).is_empty());
        let want = first.map(SentryTrace::parse).transpose();
        prop_assert_eq!(SentryTrace::from_values(values.iter().map(String::as_str)), want);
    }

    #[test]
    fn sentry_trace_never_panics(input in ".*") {
        let _ = SentryTrace::parse(&input);
        let _ = SentryTrace::from_values([input.as_str(), input.as_str()]);
    }

    #[test]
    fn traceparent_round_trips(t in trace_id(), s in span_id(), sampled: bool, random: bool) {
        prop_assume!(!t.is_zero() && !s.is_zero());
        let tp = TraceParent::new(t, s, sampled).with_random_trace_id(random);
        let parsed = TraceParent::parse(&tp.to_string());
        prop_assert_eq!(parsed, Ok(tp));
        prop_assert_eq!(parsed.map(|p| (p.sampled(), p.random_trace_id())), Ok((sampled, random)));
    }

    #[test]
    fn traceparent_never_panics(input in ".*", hexish in "[0-9a-f -]{50,60}") {
        let _ = TraceParent::parse(&input);
        let _ = TraceParent::parse(&hexish);
        let _ = TraceContext::from_values([input.as_str()], [input.as_str()]);
    }

    #[test]
    fn tracestate_round_trips(members in prop::collection::btree_map(tracestate_key(), tracestate_value(), 0..=32), split in 0usize..33) {
        let list: Vec<String> = members.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let at = split.min(list.len());
        let (a, b) = (list[..at].join(","), list[at..].join(" , "));
        let ts = TraceState::parse([a.as_str(), b.as_str()]);
        prop_assert!(ts.is_ok(), "{:?}", ts.err());
        if let Ok(ts) = ts {
            prop_assert_eq!(ts.len(), list.len());
            let got: Vec<(String, String)> = ts.members().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
            let want: Vec<(String, String)> = members.into_iter().collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(ts.to_string(), list.join(","));
        }
    }

    #[test]
    fn tracestate_repeated_key_keeps_the_first(
        members in prop::collection::btree_map(tracestate_key(), tracestate_value(), 1..=31),
        pick in any::<prop::sample::Index>(),
        value in tracestate_value(),
        own_header in any::<bool>(),
    ) {
        let list: Vec<String> = members.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let keys: Vec<&String> = members.keys().collect();
        let key = pick.get(&keys).as_str();
        let repeat = format!("{key}={value}");
        let (a, b) = if own_header {
            (list.join(","), repeat)
        } else {
            (format!("{},{repeat}", list.join(",")), String::new())
        };
        let ts = TraceState::parse([a.as_str(), b.as_str()]);
        prop_assert!(ts.is_ok(), "{:?}", ts.err());
        if let Ok(ts) = ts {
            prop_assert_eq!(ts.len(), members.len());
            prop_assert_eq!(ts.get(key), members.get(key).map(String::as_str));
            prop_assert_eq!(ts.to_string(), list.join(","));
        }
    }

    /// Any mix of repeated keys, over several headers, against the obvious
    /// model: keep each key's first member, in order.
    #[test]
    fn tracestate_dedup_matches_first_occurrence_model(
        list in prop::collection::vec(("[a-c]{1,2}(@[a-c]?)?", tracestate_value()), 0..=32),
        splits in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        let raw: Vec<String> = list.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut cuts: Vec<usize> = splits.iter().map(|i| i.index(raw.len() + 1)).collect();
        cuts.sort_unstable();
        let mut headers = Vec::new();
        let mut from = 0;
        for cut in cuts.into_iter().chain([raw.len()]) {
            headers.push(raw[from..cut].join(","));
            from = cut;
        }
        let mut want: Vec<(&str, &str)> = Vec::new();
        for (k, v) in &list {
            if !want.iter().any(|(seen, _)| seen == k) {
                want.push((k.as_str(), v.as_str()));
            }
        }
        let ts = TraceState::parse(headers.iter().map(String::as_str));
        prop_assert!(ts.is_ok(), "{:?}", ts.err());
        if let Ok(ts) = ts {
            prop_assert_eq!(ts.members().collect::<Vec<_>>(), want.clone());
            prop_assert_eq!(ts.len(), want.len());
            let written: Vec<String> = want.iter().map(|(k, v)| format!("{k}={v}")).collect();
            prop_assert_eq!(ts.to_string(), written.join(","));
        }
    }

    #[test]
    fn tracestate_member_matches_the_w3c_grammar(
        member in "[a-z0-9@=_*/ -]{0,12}|@?[a-z][a-z0-9@]{0,3}@?[a-zA-Z0-9@]{0,3}=[ -~]{0,6}|.{0,8}",
        long in "@?[a-z][a-z@]{250,258}=v{250,260}",
    ) {
        for m in [member.as_str(), long.as_str()] {
            let trimmed = m.trim_matches([' ', '\t']);
            prop_assume!(!trimmed.is_empty() && !trimmed.contains(','));
            let ours = TraceState::parse([m]).is_ok();
            prop_assert_eq!(ours, TRACESTATE_MEMBER.is_match(trimmed), "{:?}", m);
        }
    }

    #[test]
    fn tracestate_never_panics(input in ".*") {
        if let Ok(ts) = TraceState::parse([input.as_str()]) {
            let _ = ts.to_string();
        }
    }

    #[test]
    fn dsc_round_trips_through_baggage(d in dsc(), other in "[a-z]{1,8}=[a-z]{0,8}") {
        let value = write_baggage([other.as_str()], &d);
        let view = DscView::from_baggage([value.as_str()]);
        prop_assert_eq!(view.to_owned(), d.clone());
        prop_assert_eq!(view.has_sentry_members(), !d.is_empty());
        // The application's own member is kept, first.
        prop_assert!(value.starts_with(other.as_str()));
    }

    #[test]
    fn dsc_round_trips_through_json(d in dsc()) {
        let json = serde_json::to_string(&d).unwrap_or_default();
        let back: Result<DynamicSamplingContext, _> = serde_json::from_str(&json);
        prop_assert_eq!(back.ok(), Some(d));
    }

    #[test]
    fn baggage_values_round_trip(members in prop::collection::vec(("[A-Za-z0-9_.-]{1,12}", ".{0,20}"), 0..20)) {
        let encoded: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
            .collect();
        let header = encoded.join(" , ");
        let got: Vec<(String, String)> = parse_baggage([header.as_str()])
            .map(|m| (m.key().to_owned(), m.value().into_owned()))
            .collect();
        prop_assert_eq!(got, members);
    }

    #[test]
    fn baggage_never_panics_and_respects_limits(values in prop::collection::vec(".{0,300}", 0..40)) {
        let mut count = 0;
        let mut bytes = 0;
        for m in parse_baggage(values.iter().map(String::as_str)) {
            bytes += m.as_str().len() + usize::from(count > 0);
            count += 1;
            let _ = m.value();
            for p in m.properties() {
                let _ = p.value();
            }
        }
        prop_assert!(count <= MAX_MEMBERS && bytes <= MAX_BYTES);
        let view = DscView::from_baggage(values.iter().map(String::as_str));
        let owned = view.to_owned();
        let written = write_baggage(values.iter().map(String::as_str), &owned);
        prop_assert!(written.len() <= MAX_BYTES);
        prop_assert!(parse_baggage([written.as_str()]).count() <= MAX_MEMBERS);
    }

    #[test]
    fn request_id_round_trips(id in "[A-Za-z0-9._:-]{1,128}") {
        prop_assert_eq!(RequestId::parse(&id).map(|r| r.to_string()), Ok(id));
    }

    #[test]
    fn request_id_validation_matches_the_rule(input in ".{0,140}") {
        let ok = (1..=128).contains(&input.len())
            && input.bytes().all(|c| c.is_ascii_alphanumeric() || b"._:-".contains(&c));
        prop_assert_eq!(RequestId::validate(&input).is_ok(), ok);
        let id = RequestId::from_header_or_generate(Some(&input));
        prop_assert!(RequestId::validate(&id).is_ok());
    }
}
