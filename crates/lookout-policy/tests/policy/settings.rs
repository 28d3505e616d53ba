//! Every variable's valid and invalid forms, defaults and provenance.

use std::time::Duration;

use lookout_policy::{
    Compression, Environment, LogFormat, LogLevel, Overrides, PropagationTargets, SETTINGS,
    SPOTLIGHT_DEFAULT_URL, Source,
};

use crate::{DSN, SECRET_DSN, resolve, server};

const BOOL_VARS: &[&str] = &[
    "SENTRY_DEBUG",
    "SENTRY_ATTACH_STACKTRACE",
    "SENTRY_SEND_DEFAULT_PII",
    "SENTRY_STRICT_TRACE_CONTINUATION",
    "LOOKOUT_SEND_IN_DEVELOPMENT",
    "LOOKOUT_SERVER_TIMING",
    "LOOKOUT_PROPAGATE_TRACEPARENT",
    "SENTRY_AUTO_SESSION_TRACKING",
    "SENTRY_ENABLE_LOGS",
];

fn bool_of(settings: &lookout_policy::Settings, var: &str) -> (bool, Source) {
    let r = match var {
        "SENTRY_DEBUG" => &settings.debug,
        "SENTRY_ATTACH_STACKTRACE" => &settings.attach_stacktrace,
        "SENTRY_SEND_DEFAULT_PII" => &settings.send_default_pii,
        "SENTRY_STRICT_TRACE_CONTINUATION" => &settings.strict_trace_continuation,
        "LOOKOUT_SEND_IN_DEVELOPMENT" => &settings.send_in_development,
        "LOOKOUT_SERVER_TIMING" => &settings.server_timing,
        "LOOKOUT_PROPAGATE_TRACEPARENT" => &settings.propagate_traceparent,
        "SENTRY_AUTO_SESSION_TRACKING" => &settings.auto_session_tracking,
        "SENTRY_ENABLE_LOGS" => &settings.enable_logs,
        other => panic!("not a bool var: {other}"),
    };
    (r.value, r.source.clone())
}

#[test]
fn every_bool_variable_accepts_the_documented_words() {
    let forms = [
        ("true", true),
        ("false", false),
        ("1", true),
        ("0", false),
        ("yes", true),
        ("no", false),
        ("on", true),
        ("off", false),
        ("TRUE", true),
        ("Off", false),
        (" yes ", true),
    ];
    for var in BOOL_VARS {
        for (raw, expected) in forms {
            let settings = resolve(&[(var, raw)]).unwrap();
            let (value, source) = bool_of(&settings, var);
            assert_eq!(value, expected, "{var}={raw}");
            assert_eq!(source, Source::Variable(var), "{var}={raw}");
        }
    }
}

#[test]
fn every_bool_variable_refuses_other_words() {
    for var in BOOL_VARS {
        for raw in ["2", "enabled", "y", "t", "nope", "-1", "truee"] {
            let err = resolve(&[(var, raw)]).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("{var}=\"{raw}\": expected true/false, 1/0, yes/no or on/off"),
            );
            assert_eq!(err.variable(), *var);
            assert_eq!(err.value(), raw);
        }
    }
}

#[test]
fn rates_accept_zero_to_one() {
    for var in ["SENTRY_TRACES_SAMPLE_RATE", "SENTRY_SAMPLE_RATE"] {
        for (raw, expected) in [
            ("0", 0.0),
            ("1", 1.0),
            ("1.0", 1.0),
            ("0.5", 0.5),
            (" 0.25 ", 0.25),
            ("1e-2", 0.01),
        ] {
            let s = resolve(&[(var, raw)]).unwrap();
            let r = if var == "SENTRY_SAMPLE_RATE" {
                &s.sample_rate
            } else {
                &s.traces_sample_rate
            };
            assert_eq!(r.value, expected, "{var}={raw}");
            assert_eq!(r.source, Source::Variable(var));
        }
    }
}

#[test]
fn rates_refuse_outside_zero_to_one_and_nan() {
    for var in ["SENTRY_TRACES_SAMPLE_RATE", "SENTRY_SAMPLE_RATE"] {
        for raw in ["1.5", "-0.1", "NaN", "nan", "inf", "abc", "50%", "1,0"] {
            let err = resolve(&[(var, raw)]).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("{var}=\"{raw}\": expected a number from 0 to 1")
            );
        }
    }
    // The example from the issue, verbatim.
    assert_eq!(
        resolve(&[("SENTRY_TRACES_SAMPLE_RATE", "1.5")])
            .unwrap_err()
            .to_string(),
        r#"SENTRY_TRACES_SAMPLE_RATE="1.5": expected a number from 0 to 1"#
    );
}

#[test]
fn code_rates_are_validated_too() {
    for rate in [1.5, -1.0, f64::NAN] {
        let err = Overrides::new()
            .detection(server())
            .traces_sample_rate(rate)
            .resolve([("", ""); 0])
            .unwrap_err();
        assert_eq!(err.variable(), "Overrides::traces_sample_rate");
        assert!(
            err.to_string().ends_with("expected a number from 0 to 1"),
            "{err}"
        );
    }
}

#[test]
fn dsn_valid_forms() {
    let s = resolve(&[("SENTRY_DSN", DSN)]).unwrap();
    let dsn = s.dsn.value.as_ref().unwrap();
    assert_eq!(dsn.host(), "o123.ingest.sentry.io");
    assert_eq!(dsn.public_key(), "public0123");
    assert_eq!(s.dsn.source, Source::Variable("SENTRY_DSN"));
    assert_eq!(s.org_id.value, Some(123));
    assert_eq!(s.org_id.source, Source::Variable("SENTRY_DSN"));

    let s = resolve(&[("SENTRY_DSN", "http://key@localhost:9000/7")]).unwrap();
    assert_eq!(s.dsn.value.as_ref().unwrap().port(), 9000);
    assert_eq!(s.org_id.value, None, "a self-hosted DSN has no org id");

    let s = resolve(&[("SENTRY_DSN", SECRET_DSN)]).unwrap();
    assert!(s.dsn.value.is_some());

    // Empty counts as unset.
    let s = resolve(&[("SENTRY_DSN", "")]).unwrap();
    assert!(s.dsn.value.is_none());
    assert_eq!(s.dsn.source, Source::Default);
}

#[test]
fn dsn_invalid_forms_are_refused_without_leaking_the_secret() {
    for raw in [
        "not-a-dsn",
        "https://o123.ingest.sentry.io/456",
        "ftp://key@host/1",
        "https://key@host/",
        "https://key:topsecretkey@host",
    ] {
        let err = resolve(&[("SENTRY_DSN", raw)]).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("SENTRY_DSN=\""), "{text}");
        assert!(text.contains("expected a Sentry DSN"), "{text}");
        assert!(!text.contains("topsecretkey"), "{text}");
    }
}

#[test]
fn environment_variable_and_custom_names() {
    for (raw, name, profile_traces) in [
        ("production", "production", 0.01),
        ("staging", "staging", 0.1),
        ("test", "test", 0.5),
        ("development", "development", 1.0),
        ("production-eu", "production-eu", 0.01),
        (" qa ", "qa", 0.01),
    ] {
        let s = resolve(&[("SENTRY_ENVIRONMENT", raw)]).unwrap();
        assert_eq!(s.environment.value.as_str(), name);
        assert_eq!(s.environment.source, Source::Variable("SENTRY_ENVIRONMENT"));
        assert_eq!(s.traces_sample_rate.value, profile_traces, "{raw}");
    }
}

#[test]
fn release_order_and_invalid_names() {
    let with_app = |vars: &[(&str, &str)]| {
        Overrides::new()
            .detection(server())
            .app_release("api@0.9.0")
            .resolve(vars.iter().copied())
            .unwrap()
    };
    let s = with_app(&[("SENTRY_RELEASE", "api@1.4.2"), ("APP_VERSION", "2.0.0")]);
    assert_eq!(
        (s.release.value.as_deref(), s.release.source),
        (Some("api@1.4.2"), Source::Variable("SENTRY_RELEASE"))
    );
    let s = with_app(&[("APP_VERSION", "2.0.0")]);
    assert_eq!(
        (s.release.value.as_deref(), s.release.source),
        (Some("2.0.0"), Source::Variable("APP_VERSION"))
    );
    let s = with_app(&[]);
    assert_eq!(
        (s.release.value.as_deref(), s.release.source),
        (Some("api@0.9.0"), Source::Code)
    );
    let s = resolve(&[]).unwrap();
    assert_eq!(s.release.value, None);

    for var in ["SENTRY_RELEASE", "APP_VERSION"] {
        for raw in ["a/b", "latest", "..", ".", "tab\there"] {
            let err = resolve(&[(var, raw)]).unwrap_err();
            assert_eq!(err.variable(), var, "{raw}");
        }
    }
}

#[test]
fn spotlight_grammar() {
    for raw in ["true", "t", "y", "yes", "on", "1", "TRUE", "Y"] {
        let s = resolve(&[("SENTRY_SPOTLIGHT", raw)]).unwrap();
        assert_eq!(
            s.spotlight.value.as_deref(),
            Some(SPOTLIGHT_DEFAULT_URL),
            "{raw}"
        );
    }
    for raw in ["false", "f", "n", "no", "off", "0", "F"] {
        let s = resolve(&[("SENTRY_SPOTLIGHT", raw)]).unwrap();
        assert_eq!(s.spotlight.value, None, "{raw}");
        assert_eq!(s.spotlight.source, Source::Variable("SENTRY_SPOTLIGHT"));
    }
    for raw in [
        "http://localhost:9000/stream",
        "https://spotlight.internal/stream",
    ] {
        let s = resolve(&[("SENTRY_SPOTLIGHT", raw)]).unwrap();
        assert_eq!(s.spotlight.value.as_deref(), Some(raw));
    }
    for raw in [
        "ftp://localhost/stream",
        "localhost:8969",
        "maybe",
        "http://",
        "http:// x",
    ] {
        let err = resolve(&[("SENTRY_SPOTLIGHT", raw)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "SENTRY_SPOTLIGHT=\"{raw}\": expected true/t/y/yes/on/1, false/f/n/no/off/0, or an http(s) URL"
            )
        );
    }
    assert_eq!(resolve(&[]).unwrap().spotlight.value, None);
}

#[test]
fn org_id_variable_wins_over_the_dsn_and_must_be_a_number() {
    let s = resolve(&[("SENTRY_DSN", DSN), ("SENTRY_ORG_ID", "42")]).unwrap();
    assert_eq!(
        (s.org_id.value, s.org_id.source),
        (Some(42), Source::Variable("SENTRY_ORG_ID"))
    );
    for raw in ["o42", "-1", "4.2", "forty-two", "99999999999999999999999"] {
        let err = resolve(&[("SENTRY_ORG_ID", raw)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("SENTRY_ORG_ID=\"{raw}\": expected a whole number (the organization id)")
        );
    }
}

#[test]
fn integers_valid_and_invalid() {
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "SENTRY_MAX_BREADCRUMBS",
            &["0", "100", "1000"],
            &["-1", "1001", "ten", "1.5"],
        ),
        (
            "LOOKOUT_QUEUE_MAX_ENVELOPES",
            &["1", "10000", "1000000"],
            &["0", "x", "1000001"],
        ),
        (
            "LOOKOUT_QUEUE_MAX_BYTES",
            &["1024", "1048576"],
            &["10", "1MB", "-5"],
        ),
        (
            "LOOKOUT_SHUTDOWN_TIMEOUT_MS",
            &["0", "2000", "600000"],
            &["2s", "-5", "600001"],
        ),
    ];
    for (var, good, bad) in cases {
        let accepted = lookout_policy::setting(var).unwrap().accepted;
        for raw in *good {
            let s = resolve(&[(var, raw)]).unwrap();
            let n: u64 = raw.parse().unwrap();
            let got = match *var {
                "SENTRY_MAX_BREADCRUMBS" => s.max_breadcrumbs.value as u64,
                "LOOKOUT_QUEUE_MAX_ENVELOPES" => s.queue_max_envelopes.value as u64,
                "LOOKOUT_QUEUE_MAX_BYTES" => s.queue_max_bytes.value,
                _ => s.shutdown_timeout.value.as_millis() as u64,
            };
            assert_eq!(got, n, "{var}={raw}");
        }
        for raw in *bad {
            let err = resolve(&[(var, raw)]).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("{var}=\"{raw}\": expected {accepted}")
            );
        }
    }
}

#[test]
fn propagation_targets() {
    let s = resolve(&[]).unwrap();
    assert_eq!(s.trace_propagation_targets.value, PropagationTargets::All);
    let s = resolve(&[(
        "LOOKOUT_TRACE_PROPAGATION_TARGETS",
        r"^https://api\.internal/, localhost",
    )])
    .unwrap();
    let targets = &s.trace_propagation_targets.value;
    assert!(targets.matches("https://api.internal/users"));
    assert!(targets.matches("http://localhost:3000/"));
    assert!(!targets.matches("https://thirdparty.example/"));
    for raw in ["[", "(a", "a{2,1}"] {
        let err = resolve(&[("LOOKOUT_TRACE_PROPAGATION_TARGETS", raw)]).unwrap_err();
        assert_eq!(err.variable(), "LOOKOUT_TRACE_PROPAGATION_TARGETS");
        assert!(
            err.expected()
                .starts_with("comma-separated regular expressions"),
            "{err}"
        );
    }
    let err = Overrides::new()
        .detection(server())
        .trace_propagation_targets(vec!["(".into()])
        .resolve([("", ""); 0])
        .unwrap_err();
    assert_eq!(err.variable(), "Overrides::trace_propagation_targets");
}

#[test]
fn ignored_routes() {
    let s = resolve(&[]).unwrap();
    assert_eq!(
        s.ignored_routes.value,
        [
            "/health", "/healthz", "/ready", "/readyz", "/livez", "/metrics"
        ]
    );
    assert_eq!(s.ignored_routes.source, Source::Default);
    let s = resolve(&[("LOOKOUT_IGNORED_ROUTES", "/ping, /status")]).unwrap();
    assert_eq!(s.ignored_routes.value, ["/ping", "/status"]);
    for raw in ["health", "/a,b", "/a b"] {
        let err = resolve(&[("LOOKOUT_IGNORED_ROUTES", raw)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "LOOKOUT_IGNORED_ROUTES=\"{raw}\": expected comma-separated paths starting with /"
            )
        );
    }
}

#[test]
fn log_format() {
    for (raw, f) in [
        ("human", LogFormat::Human),
        ("json", LogFormat::Json),
        ("JSON", LogFormat::Json),
    ] {
        assert_eq!(
            resolve(&[("LOOKOUT_LOG_FORMAT", raw)])
                .unwrap()
                .log_format
                .value,
            f
        );
    }
    let err = resolve(&[("LOOKOUT_LOG_FORMAT", "xml")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"LOOKOUT_LOG_FORMAT="xml": expected human or json"#
    );
}

#[test]
fn compression_is_zstd_by_default_and_takes_the_documented_words() {
    let settings = resolve(&[]).unwrap();
    assert_eq!(settings.compression.value, Compression::Zstd);
    assert_eq!(settings.compression.source, Source::Default);
    for (raw, expected) in [
        ("zstd", Compression::Zstd),
        ("gzip", Compression::Gzip),
        ("off", Compression::Off),
        (" GZIP ", Compression::Gzip),
    ] {
        let settings = resolve(&[("LOOKOUT_COMPRESSION", raw)]).unwrap();
        assert_eq!(settings.compression.value, expected, "{raw}");
        assert_eq!(
            settings.compression.source,
            Source::Variable("LOOKOUT_COMPRESSION")
        );
    }
    let settings = Overrides::new()
        .detection(server())
        .compression(Compression::Off)
        .resolve([("LOOKOUT_COMPRESSION", "gzip")])
        .unwrap();
    assert_eq!(
        (settings.compression.value, settings.compression.source),
        (Compression::Off, Source::Code)
    );
}

#[test]
fn an_unknown_compression_is_refused_with_the_accepted_words() {
    // Relay accepts br and deflate too, but lookout does not send them; and
    // `false`/`none` are not `off`: an operator typo never silently changes
    // what goes on the wire.
    for raw in ["br", "deflate", "lz4", "none", "false", "zstd:3"] {
        let err = resolve(&[("LOOKOUT_COMPRESSION", raw)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("LOOKOUT_COMPRESSION=\"{raw}\": expected zstd, gzip or off"),
        );
        assert_eq!(err.variable(), "LOOKOUT_COMPRESSION");
        assert_eq!(err.value(), raw);
        assert_eq!(err.expected(), "zstd, gzip or off");
    }
    // Refused even when code overrides it.
    let err = Overrides::new()
        .detection(server())
        .compression(Compression::Zstd)
        .resolve([("LOOKOUT_COMPRESSION", "brotli")])
        .unwrap_err();
    assert_eq!(err.variable(), "LOOKOUT_COMPRESSION");
}

#[test]
fn logs_level() {
    for (raw, level) in [
        ("trace", LogLevel::Trace),
        ("debug", LogLevel::Debug),
        ("info", LogLevel::Info),
        ("WARN", LogLevel::Warn),
        (" error ", LogLevel::Error),
    ] {
        let s = resolve(&[("LOOKOUT_LOGS_LEVEL", raw)]).unwrap();
        assert_eq!(s.logs_level.value, level, "{raw}");
        assert_eq!(s.logs_level.source, Source::Variable("LOOKOUT_LOGS_LEVEL"));
    }
    for raw in ["fatal", "warning", "verbose", "2"] {
        let err = resolve(&[("LOOKOUT_LOGS_LEVEL", raw)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(r#"LOOKOUT_LOGS_LEVEL="{raw}": expected trace, debug, info, warn or error"#)
        );
        assert_eq!(err.variable(), "LOOKOUT_LOGS_LEVEL");
    }
    let code = Overrides::new()
        .detection(server())
        .logs_level(LogLevel::Error)
        .resolve([("LOOKOUT_LOGS_LEVEL", "debug")])
        .unwrap();
    assert_eq!(code.logs_level.value, LogLevel::Error);
    assert_eq!(code.logs_level.source, Source::Code);
    // No `tracing` event is fatal: a level nothing reaches is refused.
    let err = Overrides::new()
        .detection(server())
        .logs_level(LogLevel::Fatal)
        .resolve(std::iter::empty::<(&str, &str)>())
        .unwrap_err();
    assert_eq!(err.variable(), "Overrides::logs_level");
    // Logs switched off: no level applies.
    let off = resolve(&[
        ("SENTRY_ENABLE_LOGS", "off"),
        ("LOOKOUT_LOGS_LEVEL", "warn"),
    ])
    .unwrap();
    assert_eq!(off.logs(), None);
    let code_off = Overrides::new()
        .detection(server())
        .enable_logs(false)
        .resolve([("SENTRY_ENABLE_LOGS", "true")])
        .unwrap();
    assert_eq!(
        (code_off.enable_logs.value, code_off.enable_logs.source),
        (false, Source::Code)
    );
}

#[test]
fn profile_defaults_per_environment() {
    // (environment, traces, debug, log format)
    for (env, traces, debug, log) in [
        ("development", 1.0, true, LogFormat::Human),
        ("test", 0.5, false, LogFormat::Json),
        ("staging", 0.1, false, LogFormat::Json),
        ("production", 0.01, false, LogFormat::Json),
    ] {
        let s = resolve(&[("SENTRY_ENVIRONMENT", env)]).unwrap();
        assert_eq!(s.traces_sample_rate.value, traces, "{env}");
        assert_eq!(
            s.traces_sample_rate.source.to_string(),
            format!("profile {env}")
        );
        assert_eq!(s.sample_rate.value, 1.0, "{env}");
        assert_eq!(s.sample_rate.source, Source::Default);
        assert_eq!(s.debug.value, debug, "{env}");
        assert_eq!(s.log_format.value, log, "{env}");
        assert_eq!(s.max_breadcrumbs.value, 100);
        assert_eq!(s.queue_max_envelopes.value, 10_000);
        assert_eq!(s.queue_max_bytes.value, 64 << 20);
        assert!(!s.server_timing.value);
        assert!(s.propagate_traceparent.value);
        assert!(s.auto_session_tracking.value);
        assert!(!s.send_default_pii.value);
        assert!(!s.strict_trace_continuation.value);
        assert_eq!(s.shutdown_timeout.value, Duration::from_millis(2000));
        assert!(s.enable_logs.value, "{env}: logs are on in every profile");
        assert_eq!(s.logs_level.value, LogLevel::Info, "{env}");
        assert_eq!(s.logs(), Some(LogLevel::Info), "{env}");
    }
}

#[test]
fn explicit_values_override_profiles_and_code_overrides_variables() {
    let s = resolve(&[
        ("SENTRY_ENVIRONMENT", "development"),
        ("SENTRY_TRACES_SAMPLE_RATE", "0.2"),
    ])
    .unwrap();
    assert_eq!(
        (s.traces_sample_rate.value, s.traces_sample_rate.source),
        (0.2, Source::Variable("SENTRY_TRACES_SAMPLE_RATE"))
    );
    let s = Overrides::new()
        .detection(server())
        .traces_sample_rate(0.3)
        .environment("staging")
        .resolve([
            ("SENTRY_TRACES_SAMPLE_RATE", "0.2"),
            ("SENTRY_ENVIRONMENT", "production"),
        ])
        .unwrap();
    assert_eq!(
        (s.traces_sample_rate.value, s.traces_sample_rate.source),
        (0.3, Source::Code)
    );
    assert_eq!(
        (s.environment.value, s.environment.source),
        (Environment::STAGING, Source::Code)
    );
}

#[test]
fn invalid_variable_is_refused_even_when_code_overrides_it() {
    let err = Overrides::new()
        .detection(server())
        .traces_sample_rate(0.3)
        .resolve([("SENTRY_TRACES_SAMPLE_RATE", "bogus")])
        .unwrap_err();
    assert_eq!(err.variable(), "SENTRY_TRACES_SAMPLE_RATE");
    let err = Overrides::new()
        .detection(server())
        .release("api@1")
        .resolve([("APP_VERSION", "latest")])
        .unwrap_err();
    assert_eq!(err.variable(), "APP_VERSION");
}

#[test]
fn unrelated_variables_are_ignored() {
    assert!(
        resolve(&[
            ("PATH", "/bin"),
            ("HOME", "/root"),
            ("SENTRY_UNKNOWN_THING", "x")
        ])
        .is_ok()
    );
}

#[test]
fn every_table_default_parses_in_every_profile() {
    for env in ["development", "test", "staging", "production", "custom"] {
        assert!(resolve(&[("SENTRY_ENVIRONMENT", env)]).is_ok(), "{env}");
    }
}

#[test]
fn the_table_lists_every_variable_once() {
    let expected = [
        "SENTRY_DSN",
        "SENTRY_ENVIRONMENT",
        "SENTRY_RELEASE",
        "APP_VERSION",
        "SENTRY_TRACES_SAMPLE_RATE",
        "SENTRY_SAMPLE_RATE",
        "SENTRY_DEBUG",
        "SENTRY_ATTACH_STACKTRACE",
        "SENTRY_SEND_DEFAULT_PII",
        "SENTRY_SPOTLIGHT",
        "SENTRY_ORG_ID",
        "SENTRY_STRICT_TRACE_CONTINUATION",
        "SENTRY_MAX_BREADCRUMBS",
        "LOOKOUT_SEND_IN_DEVELOPMENT",
        "LOOKOUT_TRACE_PROPAGATION_TARGETS",
        "LOOKOUT_IGNORED_ROUTES",
        "LOOKOUT_TRACE_IGNORE_STATUS_CODES",
        "LOOKOUT_MAX_REQUEST_BODY_SIZE",
        "LOOKOUT_QUEUE_MAX_ENVELOPES",
        "LOOKOUT_QUEUE_MAX_BYTES",
        "LOOKOUT_COMPRESSION",
        "LOOKOUT_SERVER_TIMING",
        "LOOKOUT_PROPAGATE_TRACEPARENT",
        "LOOKOUT_LOG_FORMAT",
        "SENTRY_ENABLE_LOGS",
        "LOOKOUT_LOGS_LEVEL",
        "SENTRY_AUTO_SESSION_TRACKING",
        "LOOKOUT_SHUTDOWN_TIMEOUT_MS",
    ];
    let vars: Vec<_> = SETTINGS.iter().map(|s| s.env_var).collect();
    assert_eq!(vars, expected);
    for row in SETTINGS {
        assert!(
            !row.description.is_empty() && !row.accepted.is_empty(),
            "{}",
            row.env_var
        );
        assert!(
            row.default.is_some()
                || !row.default_note.is_empty()
                || !row.profile_defaults.is_empty(),
            "{}",
            row.env_var
        );
    }
}

#[test]
fn environment_names_sentry_refuses_are_refused() {
    for raw in ["prod/eu", "my env", "None", "none", &"x".repeat(65)] {
        let err = resolve(&[("SENTRY_ENVIRONMENT", raw)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "SENTRY_ENVIRONMENT=\"{raw}\": expected an environment name of 1 to 64 characters without spaces or /, not `None`"
            )
        );
    }
    let err = Overrides::new()
        .detection(server())
        .environment("a/b")
        .resolve([("", ""); 0])
        .unwrap_err();
    assert_eq!(err.variable(), "Overrides::environment");
    // Checked even when code sets the environment.
    let err = Overrides::new()
        .detection(server())
        .environment("staging")
        .resolve([("SENTRY_ENVIRONMENT", "a b")])
        .unwrap_err();
    assert_eq!(err.variable(), "SENTRY_ENVIRONMENT");
}

mod never_panics {
    use proptest::prelude::*;

    proptest! {
        /// Any value of any variable resolves or is refused; nothing panics,
        /// and a refusal always names that variable.
        #[test]
        fn any_value_of_any_variable(index in 0..lookout_policy::SETTINGS.len(), raw in ".{0,40}") {
            let var = lookout_policy::SETTINGS[index].env_var;
            if let Err(err) = crate::resolve(&[(var, raw.as_str())]) {
                prop_assert_eq!(err.variable(), var);
                let prefix = format!("{var}=\"");
                prop_assert!(err.to_string().starts_with(&prefix));
            }
        }
    }
}

#[test]
fn custom_environments_take_production_defaults_and_say_so() {
    let s = resolve(&[("SENTRY_ENVIRONMENT", "qa")]).unwrap();
    assert_eq!(s.profile(), lookout_policy::Profile::Production);
    assert_eq!(
        s.traces_sample_rate.source,
        Source::Profile(lookout_policy::Profile::Production)
    );
}

#[test]
fn code_sampler_is_mentioned_in_the_summary() {
    let s = Overrides::new()
        .detection(server())
        .traces_sampler(|_| None)
        .resolve([("", ""); 0])
        .unwrap();
    assert!(s.summary().contains(" sampler=code "), "{}", s.summary());
}

#[test]
fn trace_ignore_status_codes_default_to_javascripts_and_empty_keeps_all() {
    let s = resolve(&[]).unwrap();
    let codes = &s.trace_ignore_status_codes;
    assert_eq!(codes.source, Source::Default);
    assert_eq!(codes.value.to_string(), "401-404, 301-303, 305-399");
    for ignored in [401, 403, 404, 301, 303, 305, 399] {
        assert!(codes.value.contains(ignored), "{ignored}");
    }
    for kept in [200, 304, 400, 405, 500] {
        assert!(!codes.value.contains(kept), "{kept}");
    }

    let empty = resolve(&[("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "")]).unwrap();
    assert!(empty.trace_ignore_status_codes.value.is_empty());
    assert_eq!(
        empty.trace_ignore_status_codes.source,
        Source::Variable("LOOKOUT_TRACE_IGNORE_STATUS_CODES")
    );

    let custom = resolve(&[("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "404,500-502")]).unwrap();
    assert!(custom.trace_ignore_status_codes.value.contains(501));
    assert!(!custom.trace_ignore_status_codes.value.contains(401));

    let code = lookout_policy::Overrides::new()
        .trace_ignore_status_codes(vec![418..=418])
        .resolve([("LOOKOUT_TRACE_IGNORE_STATUS_CODES", "")])
        .unwrap();
    assert_eq!(code.trace_ignore_status_codes.source, Source::Code);
    assert!(code.trace_ignore_status_codes.value.contains(418));
}

#[test]
fn trace_ignore_status_codes_refuse_what_is_not_a_code() {
    let accepted = lookout_policy::setting("LOOKOUT_TRACE_IGNORE_STATUS_CODES")
        .unwrap()
        .accepted;
    for raw in ["404-", "abc", "700", "404-401", "4o4"] {
        let err = resolve(&[("LOOKOUT_TRACE_IGNORE_STATUS_CODES", raw)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("LOOKOUT_TRACE_IGNORE_STATUS_CODES=\"{raw}\": expected {accepted}")
        );
    }
    let err = lookout_policy::Overrides::new()
        .trace_ignore_status_codes(vec![600..=700])
        .resolve(Vec::<(String, String)>::new())
        .unwrap_err();
    assert_eq!(err.variable(), "Overrides::trace_ignore_status_codes");
}

#[test]
fn max_request_body_size_words_limits_and_refusal() {
    use lookout_policy::RequestBodySize;
    let s = resolve(&[]).unwrap();
    assert_eq!(s.max_request_body_size.value, RequestBodySize::Medium);
    assert_eq!(s.max_request_body_size.source, Source::Default);
    for (raw, size, limit) in [
        ("never", RequestBodySize::Never, None),
        ("small", RequestBodySize::Small, Some(1_000)),
        ("Medium", RequestBodySize::Medium, Some(10_000)),
        ("always", RequestBodySize::Always, Some(1 << 20)),
    ] {
        let s = resolve(&[("LOOKOUT_MAX_REQUEST_BODY_SIZE", raw)]).unwrap();
        assert_eq!(s.max_request_body_size.value, size, "{raw}");
        assert_eq!(
            s.max_request_body_size.source,
            Source::Variable("LOOKOUT_MAX_REQUEST_BODY_SIZE")
        );
        assert_eq!(size.limit(), limit, "{raw}");
    }
    let err = resolve(&[("LOOKOUT_MAX_REQUEST_BODY_SIZE", "huge")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "LOOKOUT_MAX_REQUEST_BODY_SIZE=\"huge\": expected never, small (1,000 bytes), medium (10,000 bytes) or always (up to 1 MB)"
    );
}

/// `main() -> Result<(), Box<dyn Error>>` with `?` prints the error with
/// `Debug`: it must read as the message, not as the enum's fields.
#[test]
fn config_error_debug_reads_as_its_message() {
    let err =
        lookout_policy::Settings::from_vars([("SENTRY_TRACES_SAMPLE_RATE", "2")]).unwrap_err();
    let boxed: Box<dyn std::error::Error> = Box::new(err.clone());
    let printed = format!("Error: {boxed:?}");
    assert_eq!(
        printed,
        r#"Error: SENTRY_TRACES_SAMPLE_RATE="2": expected a number from 0 to 1"#
    );
    assert!(!printed.contains("Invalid {"), "{printed}");
}
