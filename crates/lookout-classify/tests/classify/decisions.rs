//! Outcomes to decisions: each default rule, precedence, user overrides.

use http::{Method, StatusCode};
use lookout_classify::{
    Action, Classifiers, Level, LogLevel, Outcome, StatusCodes, Verdict, by_type,
};

use crate::support::{DEEP, DbTimeout, Invalid, ServiceError, UPSTREAM_503, UpstreamError};

static GET: Method = Method::GET;
static POST: Method = Method::POST;

fn get(status: u16) -> Outcome<'static> {
    Outcome::new(&GET, "/users/7", StatusCode::from_u16(status).unwrap()).with_route("/users/{id}")
}

const CAPTURE_ERROR: Action = Action::Capture {
    level: Level::Error,
};
const CAPTURE_WARNING: Action = Action::Capture {
    level: Level::Warning,
};
const LOG_WARN: Action = Action::Log {
    level: LogLevel::Warn,
};
const LOG_ERROR: Action = Action::Log {
    level: LogLevel::Error,
};

struct Case {
    name: &'static str,
    classifiers: fn() -> Classifiers,
    outcome: fn() -> Outcome<'static>,
    action: Action,
    error_type: Option<&'static str>,
    handled: bool,
    tags: &'static [(&'static str, &'static str)],
    fingerprint: Option<&'static [&'static str]>,
}

const fn case(name: &'static str, outcome: fn() -> Outcome<'static>) -> Case {
    Case {
        name,
        classifiers: Classifiers::default,
        outcome,
        action: Action::Ignore,
        error_type: None,
        handled: true,
        tags: &[],
        fingerprint: None,
    }
}

fn check(cases: &[Case]) {
    for case in cases {
        let outcome = (case.outcome)();
        let decision = (case.classifiers)().decide(&outcome);
        let name = case.name;
        assert_eq!(decision.action(), case.action, "{name}: action");
        assert_eq!(decision.error_type(), case.error_type, "{name}: error_type");
        assert_eq!(decision.handled(), case.handled, "{name}: handled");
        let tags: Vec<(&str, &str)> = decision
            .tags()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(tags, case.tags, "{name}: tags");
        let fingerprint: Option<Vec<&str>> = decision
            .fingerprint()
            .map(|parts| parts.iter().map(|p| p.as_ref()).collect());
        assert_eq!(
            fingerprint.as_deref(),
            case.fingerprint,
            "{name}: fingerprint"
        );
    }
}

#[test]
fn default_rules() {
    check(&[
        case("200 is ignored", || get(200)),
        case("204 is ignored", || get(204)),
        case("302 is ignored", || get(302)),
        case("101 is ignored", || get(101)),
        Case {
            action: LOG_WARN,
            error_type: Some("http_status"),
            ..case("404 is a warn log", || get(404))
        },
        Case {
            action: LOG_WARN,
            error_type: Some("http_status"),
            ..case("429 is a warn log", || get(429))
        },
        Case {
            action: LOG_WARN,
            // Not `unhandled`: the handler answered it; only a classifier
            // names a log's error type.
            error_type: None,
            handled: true,
            tags: &[("error.rust_type", "classify::support::Invalid")],
            ..case("400 with an error is a warn log", || {
                get(400).with_error(&Invalid)
            })
        },
        Case {
            action: CAPTURE_ERROR,
            error_type: Some("http_status"),
            ..case("500 without error is captured", || get(500))
        },
        Case {
            action: CAPTURE_ERROR,
            error_type: Some("http_status"),
            ..case("599 is captured", || get(599))
        },
        Case {
            action: CAPTURE_ERROR,
            error_type: Some("unhandled"),
            handled: false,
            tags: &[("error.rust_type", "classify::support::UpstreamError")],
            ..case("fallback names an unknown error by its Rust type", || {
                get(502).with_error(&UPSTREAM_503)
            })
        },
        Case {
            action: CAPTURE_ERROR,
            error_type: Some("unhandled"),
            handled: false,
            tags: &[("error.rust_type", "UpstreamError")],
            ..case("fallback reads the type from Debug for a dyn error", || {
                get(502).with_error_dyn(&UPSTREAM_503)
            })
        },
        Case {
            action: CAPTURE_ERROR,
            error_type: Some("panic"),
            handled: false,
            ..case("panic is captured", || {
                get(500).with_panic("index out of bounds")
            })
        },
        Case {
            action: CAPTURE_ERROR,
            error_type: Some("panic"),
            handled: false,
            ..case("panic is captured whatever the status", || {
                get(200).with_panic("late panic")
            })
        },
    ]);
}

#[test]
fn user_classifiers_come_first() {
    check(&[
        Case {
            classifiers: || {
                Classifiers::default()
                    .with(|_: &Outcome<'_>| Some(Verdict::capture(Level::Info).error_type("first")))
                    .with(|_: &Outcome<'_>| Some(Verdict::ignore().error_type("second")))
            },
            action: Action::Capture { level: Level::Info },
            error_type: Some("first"),
            ..case("the first matching rule wins", || get(200))
        },
        Case {
            classifiers: || {
                Classifiers::default()
                    .with(|_: &Outcome<'_>| None)
                    .with(|_: &Outcome<'_>| Some(Verdict::ignore().error_type("second")))
            },
            error_type: Some("second"),
            ..case("a rule without opinion passes on", || get(500))
        },
        Case {
            classifiers: || {
                Classifiers::default()
                    .with(by_type::<UpstreamError>("upstream"))
                    .with(by_type::<DbTimeout>("db_timeout"))
            },
            action: CAPTURE_ERROR,
            error_type: Some("db_timeout"),
            ..case("an error three levels down the chain is found", || {
                get(500).with_error(&DEEP)
            })
        },
        Case {
            classifiers: || {
                Classifiers::default()
                    .with(by_type::<ServiceError>("service"))
                    .with(by_type::<DbTimeout>("db_timeout"))
            },
            action: CAPTURE_ERROR,
            error_type: Some("service"),
            ..case("rule order beats chain depth", || {
                get(500).with_error(&DEEP)
            })
        },
        Case {
            classifiers: || Classifiers::default().with(|_: &Outcome<'_>| Some(Verdict::ignore())),
            action: CAPTURE_ERROR,
            error_type: Some("panic"),
            handled: false,
            ..case("no user rule silences a panic", || {
                get(500).with_panic("boom")
            })
        },
    ]);
}

#[test]
fn user_rules_override_status_defaults() {
    check(&[
        Case {
            classifiers: || {
                Classifiers::default().with(|o: &Outcome<'_>| {
                    (o.status() == StatusCode::CONFLICT && o.method() == Method::POST).then(|| {
                        Verdict::capture(Level::Warning)
                            .error_type("double_submit")
                            .tag("team", "orders")
                    })
                })
            },
            action: CAPTURE_WARNING,
            error_type: Some("double_submit"),
            tags: &[("team", "orders")],
            ..case("a user rule promotes a 4xx to capture", || {
                Outcome::new(&POST, "/orders", StatusCode::CONFLICT)
            })
        },
        Case {
            classifiers: || Classifiers::default().with(by_type::<Invalid>("validation").capture()),
            action: CAPTURE_ERROR,
            error_type: Some("validation"),
            ..case("by_type(..).capture() promotes a 4xx", || {
                get(400).with_error(&Invalid)
            })
        },
        Case {
            classifiers: || {
                Classifiers::default().with(|o: &Outcome<'_>| {
                    (o.status() == StatusCode::SERVICE_UNAVAILABLE).then(Verdict::ignore)
                })
            },
            ..case("a user rule suppresses a 5xx", || get(503))
        },
        Case {
            classifiers: || {
                Classifiers::default().with(by_type::<UpstreamError>("upstream").skip_capture())
            },
            action: LOG_ERROR,
            error_type: Some("upstream"),
            ..case(
                "by_type(..).skip_capture() turns a 5xx into an error log",
                || get(502).with_error(&UPSTREAM_503),
            )
        },
        Case {
            classifiers: || {
                Classifiers::default().with(
                    by_type::<UpstreamError>("upstream")
                        .level(Level::Warning)
                        .fingerprint(["upstream", "{{ default }}"]),
                )
            },
            action: CAPTURE_WARNING,
            error_type: Some("upstream"),
            fingerprint: Some(&["upstream", "{{ default }}"]),
            ..case(
                "by_type sets level and fingerprint, status decides capture",
                || get(502).with_error(&UPSTREAM_503),
            )
        },
        Case {
            classifiers: || {
                Classifiers::default()
                    .with(by_type::<UpstreamError>("upstream").level(Level::Warning))
            },
            action: LOG_WARN,
            error_type: Some("upstream"),
            ..case("by_type level alone does not capture a 4xx", || {
                get(424).with_error(&UPSTREAM_503)
            })
        },
        Case {
            classifiers: || {
                Classifiers::default()
                    .with(|_: &Outcome<'_>| Some(Verdict::annotate().tag("tenant", "acme")))
            },
            action: CAPTURE_ERROR,
            error_type: Some("unhandled"),
            handled: false,
            tags: &[
                ("error.rust_type", "classify::support::HandlerError"),
                ("tenant", "acme"),
            ],
            ..case("an open verdict is completed by the defaults", || {
                get(500).with_error(&DEEP)
            })
        },
    ]);
}

#[test]
fn user_rules_choose_capture_log_at_a_level_or_ignore() {
    check(&[
        Case {
            classifiers: || {
                Classifiers::default().with(|o: &Outcome<'_>| {
                    (o.status() == StatusCode::UNAUTHORIZED)
                        .then(|| Verdict::log(LogLevel::Info).error_type("login_failed"))
                })
            },
            action: Action::Log {
                level: LogLevel::Info,
            },
            error_type: Some("login_failed"),
            ..case("a user rule logs a 401 at info", || get(401))
        },
        Case {
            classifiers: || {
                Classifiers::default().with(|o: &Outcome<'_>| {
                    (o.status() == StatusCode::NOT_FOUND).then(Verdict::ignore)
                })
            },
            ..case("a user rule ignores a 404: no log", || get(404))
        },
        Case {
            classifiers: || {
                Classifiers::default().with(|o: &Outcome<'_>| {
                    (o.status() == StatusCode::SERVICE_UNAVAILABLE)
                        .then(|| Verdict::log(LogLevel::Warn))
                })
            },
            action: LOG_WARN,
            error_type: Some("http_status"),
            ..case("a user rule turns a 5xx into a warn log", || get(503))
        },
        Case {
            classifiers: || {
                Classifiers::default().with(by_type::<Invalid>("validation").log(LogLevel::Debug))
            },
            action: Action::Log {
                level: LogLevel::Debug,
            },
            error_type: Some("validation"),
            ..case("by_type(..).log(level) logs at that level", || {
                get(422).with_error(&Invalid)
            })
        },
        Case {
            classifiers: || {
                Classifiers::default().with(by_type::<UpstreamError>("upstream").ignore())
            },
            error_type: Some("upstream"),
            ..case("by_type(..).ignore() ignores even a 5xx", || {
                get(502).with_error(&UPSTREAM_503)
            })
        },
        Case {
            classifiers: || {
                Classifiers::default()
                    .with(|_: &Outcome<'_>| Some(Verdict::annotate().error_type("labelled")))
            },
            action: LOG_WARN,
            error_type: Some("labelled"),
            ..case("an annotation keeps the 4xx log and names it", || get(409))
        },
    ]);
}

#[test]
fn actions_compare_and_hash_by_kind_and_level() {
    use std::collections::HashSet;
    let actions: HashSet<Action> = [LOG_WARN, LOG_WARN, LOG_ERROR, CAPTURE_ERROR, Action::Ignore]
        .into_iter()
        .collect();
    assert_eq!(actions.len(), 4);
    assert_ne!(LOG_WARN, LOG_ERROR);
}

#[test]
fn configured_status_codes() {
    fn rule() -> Classifiers {
        Classifiers::default().status_codes(
            StatusCodes::default()
                .capture(429..=429)
                .exclude(503..=503)
                .level(Level::Warning),
        )
    }
    check(&[
        Case {
            classifiers: rule,
            action: CAPTURE_WARNING,
            error_type: Some("http_status"),
            ..case("429 added to the capture set", || get(429))
        },
        Case {
            classifiers: rule,
            action: LOG_ERROR,
            error_type: Some("http_status"),
            ..case("503 excluded from the capture set is an error log", || {
                get(503)
            })
        },
        Case {
            classifiers: rule,
            action: CAPTURE_WARNING,
            error_type: Some("http_status"),
            ..case("500 still captured at the configured level", || get(500))
        },
        Case {
            classifiers: || Classifiers::default().status_codes(StatusCodes::none()),
            action: LOG_ERROR,
            error_type: Some("http_status"),
            ..case("an empty capture set captures nothing", || get(500))
        },
    ]);
}

#[test]
fn classifiers_are_cheap_to_share() {
    let base = Classifiers::default().with(by_type::<DbTimeout>("db_timeout"));
    let extended = base.clone().with(by_type::<UpstreamError>("upstream"));
    // Adding to a clone leaves the original alone.
    assert_eq!((base.len(), extended.len()), (1, 2));

    fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}
    assert_send_sync(&base);
    let shared = std::sync::Arc::new(base);
    let thread = {
        let shared = shared.clone();
        std::thread::spawn(move || {
            shared
                .decide(&get(500).with_error(&DEEP))
                .error_type()
                .map(str::to_owned)
        })
    };
    assert_eq!(thread.join().unwrap().as_deref(), Some("db_timeout"));
}
