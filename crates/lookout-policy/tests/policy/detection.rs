//! Environment detection rules and delivery modes.

use lookout_policy::{DeliveryMode, Detected, Detection, Environment, Overrides, Source};

fn detect(
    host: Option<&str>,
    debug_build: bool,
    vars: &[(&str, &str)],
) -> lookout_policy::Settings {
    Overrides::new()
        .detection(Detection {
            host_name: host.map(str::to_owned),
            debug_build,
        })
        .resolve(vars.iter().copied())
        .unwrap()
}

#[test]
fn detection_rules_in_order() {
    use Detected::*;
    let dev = Environment::DEVELOPMENT;
    let staging = Environment::STAGING;
    let prod = Environment::PRODUCTION;
    // (host, debug build, environment, detected from)
    let cases = [
        (Some("localhost"), false, &dev, HostName),
        (Some("LOCALHOST"), false, &dev, HostName),
        (Some("ada.local"), false, &dev, HostName),
        (Some("my-localbox"), false, &dev, HostName),
        (Some("ci-test-runner-3"), false, &dev, HostName),
        (Some("Testbed"), false, &dev, HostName),
        (Some("api-staging-1"), false, &staging, HostName),
        (Some("stage2.example.com"), false, &staging, HostName),
        (Some("STAGING"), true, &staging, HostName),
        // Host rules win over the build.
        (Some("localhost"), false, &dev, HostName),
        (Some("api-7f9c"), true, &dev, DebugBuild),
        (Some("api-7f9c"), false, &prod, ReleaseBuild),
        (None, true, &dev, DebugBuild),
        (None, false, &prod, ReleaseBuild),
        (Some(""), false, &prod, ReleaseBuild),
        (Some("  "), true, &dev, DebugBuild),
    ];
    for (host, debug, env, from) in cases {
        let s = detect(host, debug, &[]);
        assert_eq!(&s.environment.value, env, "{host:?} debug={debug}");
        assert_eq!(
            s.environment.source,
            Source::Detection(from),
            "{host:?} debug={debug}"
        );
    }
}

#[test]
fn sentry_environment_wins_over_detection() {
    let s = detect(
        Some("localhost"),
        true,
        &[("SENTRY_ENVIRONMENT", "production")],
    );
    assert_eq!(s.environment.value, Environment::PRODUCTION);
    assert_eq!(s.environment.source, Source::Variable("SENTRY_ENVIRONMENT"));
    // Empty counts as unset.
    let s = detect(Some("localhost"), false, &[("SENTRY_ENVIRONMENT", " ")]);
    assert_eq!(s.environment.value, Environment::DEVELOPMENT);
}

#[test]
fn the_current_machine_is_detected_without_panicking() {
    let d = Detection::current();
    assert_eq!(d.debug_build, cfg!(debug_assertions));
    let _ = d.environment();
}

const DSN: &str = crate::DSN;

#[test]
fn delivery_modes() {
    // (env, vars, delivery)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], DeliveryMode);
    let cases: &[Case<'_>] = &[
        ("production", &[("SENTRY_DSN", DSN)], DeliveryMode::Send),
        ("staging", &[("SENTRY_DSN", DSN)], DeliveryMode::Send),
        ("production", &[], DeliveryMode::Off),
        (
            "production",
            &[("SENTRY_DEBUG", "true")],
            DeliveryMode::Console,
        ),
        ("development", &[], DeliveryMode::Console),
        ("development", &[("SENTRY_DSN", DSN)], DeliveryMode::Console),
        (
            "development",
            &[("SENTRY_DSN", DSN), ("LOOKOUT_SEND_IN_DEVELOPMENT", "true")],
            DeliveryMode::Send,
        ),
        (
            "development",
            &[("LOOKOUT_SEND_IN_DEVELOPMENT", "true")],
            DeliveryMode::Console,
        ),
        ("custom", &[("SENTRY_DSN", DSN)], DeliveryMode::Send),
    ];
    for (env, vars, expected) in cases {
        let mut all = vars.to_vec();
        all.push(("SENTRY_ENVIRONMENT", env));
        let s = detect(Some("api-1"), false, &all);
        assert_eq!(s.delivery, *expected, "{env} {vars:?}");
    }
}

#[test]
fn spotlight_is_an_extra_copy_beside_any_mode() {
    let s = detect(Some("api-1"), false, &[("SENTRY_SPOTLIGHT", "1")]);
    assert_eq!(s.delivery, DeliveryMode::Off);
    assert_eq!(
        s.spotlight.value.as_deref(),
        Some("http://localhost:8969/stream")
    );
    let s = detect(
        Some("api-1"),
        false,
        &[("SENTRY_SPOTLIGHT", "1"), ("SENTRY_DSN", DSN)],
    );
    assert_eq!(s.delivery, DeliveryMode::Send);
    assert!(s.spotlight.value.is_some());
}
