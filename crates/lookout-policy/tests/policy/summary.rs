//! The one-line summary.

use lookout_policy::Overrides;

use crate::{SECRET_DSN, resolve, server};

#[test]
fn summary_matches_the_issue_example() {
    let s = resolve(&[
        ("SENTRY_ENVIRONMENT", "production"),
        ("SENTRY_RELEASE", "api@1.4.2"),
        ("SENTRY_DSN", SECRET_DSN),
    ])
    .unwrap();
    assert_eq!(
        s.summary(),
        "lookout: environment=production (SENTRY_ENVIRONMENT) release=api@1.4.2 (SENTRY_RELEASE) \
         traces=1% (profile production) errors=100% delivery=send dsn=o123.ingest.sentry.io/456 pii=off"
    );
}

#[test]
fn no_secret_in_summary_debug_or_errors() {
    let s = resolve(&[("SENTRY_DSN", SECRET_DSN), ("SENTRY_RELEASE", "api@1")]).unwrap();
    for text in [s.summary(), format!("{s:?}")] {
        assert!(!text.contains("topsecretkey"), "{text}");
        assert!(!text.contains("public0123"), "{text}");
    }
    let opts = Overrides::new().dsn(SECRET_DSN);
    assert!(!format!("{opts:?}").contains("topsecretkey"));
}

#[test]
fn summary_shows_explicit_choices_and_modes() {
    let s = resolve(&[
        ("SENTRY_SAMPLE_RATE", "0.5"),
        ("SENTRY_SEND_DEFAULT_PII", "on"),
        ("SENTRY_SPOTLIGHT", "true"),
        ("SENTRY_TRACES_SAMPLE_RATE", "0.125"),
    ])
    .unwrap();
    assert_eq!(
        s.summary(),
        "lookout: environment=production (release build) release=none traces=12.5% (SENTRY_TRACES_SAMPLE_RATE) \
         errors=50% (SENTRY_SAMPLE_RATE) delivery=off (no DSN) spotlight=http://localhost:8969/stream \
         pii=on (SENTRY_SEND_DEFAULT_PII) sessions=off (no release)"
    );
    let s = Overrides::new()
        .detection(server())
        .environment("development")
        .app_release("api@0.1.0")
        .resolve([("SENTRY_AUTO_SESSION_TRACKING", "off")])
        .unwrap();
    assert_eq!(
        s.summary(),
        "lookout: environment=development (code) release=api@0.1.0 (code) traces=100% (profile development) \
         errors=100% delivery=console (development) pii=off sessions=off (SENTRY_AUTO_SESSION_TRACKING)"
    );
}

#[test]
fn summary_names_a_chosen_compression_when_sending() {
    let dsn = ("SENTRY_DSN", crate::DSN);
    let s = resolve(&[dsn, ("LOOKOUT_COMPRESSION", "off")]).unwrap();
    assert!(
        s.summary()
            .contains(" compression=off (LOOKOUT_COMPRESSION) "),
        "{}",
        s.summary()
    );
    // The default says nothing (the line lists what was chosen), and without
    // sending there is nothing to compress.
    let s = resolve(&[dsn]).unwrap();
    assert!(!s.summary().contains("compression"), "{}", s.summary());
    let s = resolve(&[("LOOKOUT_COMPRESSION", "gzip")]).unwrap();
    assert!(!s.summary().contains("compression"), "{}", s.summary());
}

/// A DSN in development is not sent to: the summary says so and names how
/// to send; a DSN's non-default port is shown (issue 29).
#[test]
fn summary_says_a_dsn_in_development_is_unused_and_keeps_the_port() {
    let s = Overrides::new()
        .detection(server())
        .environment("development")
        .resolve([("SENTRY_DSN", "http://public@127.0.0.1:9000/1")])
        .unwrap();
    let summary = s.summary();
    assert!(
        summary.contains(
            "delivery=console (development: the DSN 127.0.0.1:9000/1 is set but unused; \
             LOOKOUT_SEND_IN_DEVELOPMENT=true or another SENTRY_ENVIRONMENT sends to it)"
        ),
        "{summary}"
    );
    let s = resolve(&[
        ("SENTRY_ENVIRONMENT", "production"),
        ("SENTRY_DSN", "http://public@127.0.0.1:9000/1"),
    ])
    .unwrap();
    assert!(
        s.summary().contains(" dsn=127.0.0.1:9000/1 "),
        "{}",
        s.summary()
    );
}
