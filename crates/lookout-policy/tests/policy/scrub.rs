//! A secret planted in every denylisted place is filtered with PII off.

use std::sync::Arc;

use lookout_policy::{FILTERED, PiiPolicy, Scrubber};
use sentry_core::protocol::{
    Breadcrumb, Context, Event, Exception, Frame, Log, LogLevel, Map, OsContext, Request,
    Stacktrace, Url, User, Value,
};
use serde_json::json;

const SECRET: &str = "s3cr3t-planted";

fn map(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[allow(clippy::field_reassign_with_default)] // reads as a list of planted places
fn planted_event() -> Event<'static> {
    let mut event = Event::default();
    event.request = Some(Request {
        url: Some(
            Url::parse(&format!(
                "https://ada:{SECRET}@api.example/users?page=2&token={SECRET}"
            ))
            .unwrap(),
        ),
        method: Some("POST".into()),
        query_string: Some(format!("page=2&api_key={SECRET}&Password={SECRET}")),
        cookies: Some(format!("theme=dark; sessionid={SECRET}")),
        headers: [
            ("Authorization", format!("Bearer {SECRET}")),
            ("Proxy-Authorization", format!("Basic {SECRET}")),
            ("Cookie", format!("sessionid={SECRET}")),
            ("Set-Cookie", format!("sessionid={SECRET}")),
            ("X-Api-Key", SECRET.to_owned()),
            ("X-Forwarded-For", "203.0.113.9".to_owned()),
            ("X-Real-IP", "203.0.113.9".to_owned()),
            ("X-CSRFToken", SECRET.to_owned()),
            ("Accept", "application/json".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect(),
        env: [("REMOTE_ADDR".to_owned(), "203.0.113.9".to_owned())]
            .into_iter()
            .collect(),
        data: Some(json!({"user": "ada", "password": SECRET}).to_string()),
    });
    event.user = Some(User {
        id: Some("42".into()),
        email: Some("ada@example.com".into()),
        username: Some("ada".into()),
        ip_address: Some("203.0.113.9".parse().unwrap()),
        other: map(&[("role", json!("admin")), ("session", json!(SECRET))]),
    });
    event.extra = map(&[
        ("password", json!(SECRET)),
        (
            "nested",
            json!({"deep": {"api-key": SECRET, "ok": 1}, "list": [{"secret": SECRET}]}),
        ),
        (
            "database_url",
            json!(format!("postgres://app:{SECRET}@db/app")),
        ),
        ("harmless", json!("visible")),
    ]);
    event.tags = [
        ("auth".to_owned(), SECRET.to_owned()),
        ("route".to_owned(), "/users".to_owned()),
    ]
    .into_iter()
    .collect();
    event.contexts.insert(
        "vendor".into(),
        Context::Other(map(&[
            ("private_key", json!(SECRET)),
            ("region", json!("eu")),
        ])),
    );
    let mut os = OsContext::default();
    os.other.insert("credentials".into(), json!(SECRET));
    event
        .contexts
        .insert("os".into(), Context::Os(Box::new(os)));
    event.breadcrumbs.values.push(planted_breadcrumb());
    let mut frame = Frame::default();
    frame.vars.insert("passwd".into(), json!(SECRET));
    event.exception.values.push(Exception {
        ty: "Error".into(),
        value: Some(format!(
            "connect to https://svc:{SECRET}@db.internal failed"
        )),
        stacktrace: Some(Stacktrace {
            frames: vec![frame],
            ..Default::default()
        }),
        ..Default::default()
    });
    event
}

fn planted_breadcrumb() -> Breadcrumb {
    Breadcrumb {
        ty: "http".into(),
        data: map(&[
            (
                "url",
                json!(format!(
                    "https://u:{SECRET}@api.example/v1?token={SECRET}&q=1"
                )),
            ),
            ("Authorization", json!(SECRET)),
            ("headers", json!({"X-Api-Key": SECRET})),
            ("status_code", json!(200)),
            (
                "http.query",
                json!(format!("q=1&access_token=x&token={SECRET}")),
            ),
        ]),
        message: Some(format!("GET https://u:{SECRET}@api.example")),
        ..Default::default()
    }
}

#[test]
fn every_planted_secret_is_filtered_with_pii_off() {
    let mut event = planted_event();
    Scrubber::new(PiiPolicy::Off).scrub_event(&mut event);
    let text = serde_json::to_string(&event).unwrap();
    assert!(!text.contains(SECRET), "a secret survived: {text}");
    assert!(!text.contains("203.0.113.9"), "an IP survived: {text}");
    assert!(!text.contains("ada@example.com"), "an email survived");

    let request = event.request.as_ref().unwrap();
    let url = request.url.as_ref().unwrap();
    assert_eq!(url.username(), "");
    assert_eq!(url.password(), None);
    assert_eq!(url.query(), Some("page=2&token=[Filtered]"));
    assert_eq!(
        request.query_string.as_deref(),
        Some("page=2&api_key=[Filtered]&Password=[Filtered]")
    );
    assert_eq!(request.cookies, None, "no cookies with PII off");
    for header in [
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "Set-Cookie",
        "X-Api-Key",
        "X-Forwarded-For",
        "X-Real-IP",
        "X-CSRFToken",
    ] {
        assert_eq!(request.headers[header], FILTERED, "{header}");
    }
    assert_eq!(request.headers["Accept"], "application/json");
    assert_eq!(request.env["REMOTE_ADDR"], FILTERED);

    let user = event.user.as_ref().unwrap();
    assert_eq!(user.id.as_deref(), Some("42"));
    assert_eq!(
        (
            user.email.as_ref(),
            user.username.as_ref(),
            user.ip_address.as_ref()
        ),
        (None, None, None)
    );
    assert_eq!(user.other["role"], json!("admin"));
    assert_eq!(user.other["session"], json!(FILTERED));

    assert_eq!(event.extra["password"], json!(FILTERED));
    assert_eq!(event.extra["nested"]["deep"]["api-key"], json!(FILTERED));
    assert_eq!(event.extra["nested"]["deep"]["ok"], json!(1));
    assert_eq!(event.extra["nested"]["list"][0]["secret"], json!(FILTERED));
    assert_eq!(
        event.extra["database_url"],
        json!("postgres://[Filtered]:[Filtered]@db/app")
    );
    assert_eq!(event.extra["harmless"], json!("visible"));
    assert_eq!(event.tags["auth"], FILTERED);
    assert_eq!(event.tags["route"], "/users");

    match &event.contexts["vendor"] {
        Context::Other(m) => {
            assert_eq!(m["private_key"], json!(FILTERED));
            assert_eq!(m["region"], json!("eu"));
        }
        other => panic!("{other:?}"),
    }

    let crumb = &event.breadcrumbs.values[0];
    assert_eq!(crumb.data["Authorization"], json!(FILTERED));
    assert_eq!(crumb.data["headers"]["X-Api-Key"], json!(FILTERED));
    assert_eq!(
        crumb.data["url"],
        json!("https://[Filtered]:[Filtered]@api.example/v1?token=[Filtered]&q=1")
    );
    assert_eq!(crumb.data["status_code"], json!(200));
    assert_eq!(
        crumb.data["http.query"],
        json!("q=1&access_token=x&token=[Filtered]")
    );
}

#[test]
fn pii_on_keeps_personal_data_but_still_filters_secrets() {
    let mut event = planted_event();
    Scrubber::new(PiiPolicy::On).scrub_event(&mut event);
    let request = event.request.as_ref().unwrap();
    assert_eq!(
        request.cookies.as_deref(),
        Some("theme=dark; sessionid=[Filtered]")
    );
    assert_eq!(request.headers["X-Real-IP"], "203.0.113.9");
    assert_eq!(request.headers["Authorization"], FILTERED);
    assert_eq!(request.env["REMOTE_ADDR"], "203.0.113.9");
    let user = event.user.as_ref().unwrap();
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    assert!(user.ip_address.is_some());
    assert!(!serde_json::to_string(&event).unwrap().contains(SECRET));
}

/// The secrets go and the breadcrumb stays: a scrubber that dropped the
/// breadcrumb's data or message would also leave no secret.
#[test]
fn breadcrumbs_are_scrubbed_alone() {
    let mut crumb = planted_breadcrumb();
    Scrubber::new(PiiPolicy::Off).scrub_breadcrumb(&mut crumb);
    assert!(!serde_json::to_string(&crumb).unwrap().contains(SECRET));
    assert_eq!(crumb.ty, "http");
    assert_eq!(
        crumb.message.as_deref(),
        Some("GET https://[Filtered]:[Filtered]@api.example")
    );
    assert_eq!(crumb.data["Authorization"], json!(FILTERED));
    assert_eq!(crumb.data["headers"]["X-Api-Key"], json!(FILTERED));
    assert_eq!(
        crumb.data["url"],
        json!("https://[Filtered]:[Filtered]@api.example/v1?token=[Filtered]&q=1")
    );
    assert_eq!(
        crumb.data["status_code"],
        json!(200),
        "harmless data is kept"
    );
    assert_eq!(
        crumb.data["http.query"],
        json!("q=1&access_token=x&token=[Filtered]")
    );
}

#[test]
fn callbacks_compose_with_the_users_own() {
    let scrubber = Scrubber::new(PiiPolicy::Off);
    let user_cb: lookout_policy::BeforeCallback<Event<'static>> =
        Arc::new(|mut event: Event<'static>| {
            if event.message.as_deref() == Some("drop me") {
                return None;
            }
            // Whatever the user's callback adds is still scrubbed.
            event.extra.insert("token".into(), json!(SECRET));
            event.tags.insert("seen_by_user".into(), "yes".into());
            Some(event)
        });
    let before_send = scrubber.before_send(Some(user_cb));
    let event = before_send(planted_event()).unwrap();
    assert_eq!(event.tags["seen_by_user"], "yes");
    assert_eq!(event.extra["token"], json!(FILTERED));
    assert!(!serde_json::to_string(&event).unwrap().contains(SECRET));
    let dropped = before_send(Event {
        message: Some("drop me".into()),
        ..Default::default()
    });
    assert!(dropped.is_none());

    let user_crumb: lookout_policy::BeforeCallback<Breadcrumb> = Arc::new(|mut c: Breadcrumb| {
        c.category = Some("seen".into());
        Some(c)
    });
    let before_breadcrumb = scrubber.before_breadcrumb(Some(user_crumb));
    let crumb = before_breadcrumb(planted_breadcrumb()).unwrap();
    assert_eq!(crumb.category.as_deref(), Some("seen"));
    assert!(!serde_json::to_string(&crumb).unwrap().contains(SECRET));
    // Without a user callback the scrubber runs alone.
    assert!(scrubber.before_breadcrumb(None)(planted_breadcrumb()).is_some());
}

#[test]
fn every_denylisted_key_is_filtered_in_extra() {
    let keys = [
        "password",
        "passwd",
        "secret",
        "api_key",
        "apikey",
        "auth",
        "credentials",
        "mysql_pwd",
        "privatekey",
        "private_key",
        "token",
        "session",
        "csrftoken",
        "sessionid",
        "x_csrftoken",
        "x_forwarded_for",
        "set_cookie",
        "cookie",
        "authorization",
        "proxy-authorization",
        "x_api_key",
        "connect.sid",
        "csrf_token",
        "csrf",
        "_csrf",
        "_csrf_token",
        "phpsessid",
        "_session",
        "user_session",
        "_xsrf",
        "xsrf-token",
        "x_real_ip",
        "ip_address",
        "remote_addr",
    ];
    let scrubber = Scrubber::new(PiiPolicy::Off);
    for key in keys {
        for variant in [
            key.to_owned(),
            key.to_uppercase(),
            key.replace('_', "-"),
            key.replace('-', "_"),
        ] {
            let mut extra = map(&[(variant.as_str(), json!(SECRET))]);
            scrubber.scrub_map(&mut extra);
            assert_eq!(extra[&variant], json!(FILTERED), "{variant}");
        }
    }
}

#[test]
fn transactions_are_scrubbed_too() {
    use sentry_core::protocol::{Span, Transaction};
    let planted = planted_event();
    let mut span = Span::default();
    span.data
        .insert("http.query".into(), json!(format!("token={SECRET}")));
    span.data
        .insert("db.password".into(), json!("kept: not a denylisted key"));
    let mut tx = Transaction {
        request: planted.request.clone(),
        user: planted.user.clone(),
        extra: planted.extra.clone(),
        tags: planted.tags.clone(),
        contexts: planted.contexts.clone(),
        spans: vec![span],
        ..Default::default()
    };
    Scrubber::new(PiiPolicy::Off).scrub_transaction(&mut tx);
    let text = serde_json::to_string(&tx).unwrap();
    assert!(!text.contains(SECRET), "{text}");
    assert!(!text.contains("203.0.113.9"), "{text}");
    assert_eq!(tx.spans[0].data["http.query"], json!("token=[Filtered]"));
}

fn planted_log() -> Log {
    let mut log = Log {
        level: LogLevel::Info,
        body: format!("calling postgres://app:{SECRET}@db/orders"),
        trace_id: None,
        timestamp: std::time::SystemTime::now(),
        severity_number: None,
        attributes: Default::default(),
    };
    for key in [
        "password",
        "token",
        "authorization",
        "Set-Cookie",
        "api_key",
    ] {
        log.attributes.insert(key.into(), SECRET.into());
    }
    // A typed value under a denylisted key is filtered too, not only strings.
    log.attributes.insert("session".into(), 1234.into());
    log.attributes.insert(
        "url".into(),
        format!("https://u:{SECRET}@api.example/v1?token={SECRET}&q=1").into(),
    );
    log.attributes.insert("user.id".into(), "42".into());
    log.attributes
        .insert("user.email".into(), "ada@example.com".into());
    log.attributes.insert("user.name".into(), "ada".into());
    log.attributes.insert("attempt".into(), 3.into());
    log
}

#[test]
fn logs_are_scrubbed_like_events() {
    let mut log = planted_log();
    Scrubber::new(PiiPolicy::Off).scrub_log(&mut log);
    for key in [
        "password",
        "token",
        "authorization",
        "Set-Cookie",
        "api_key",
        "session",
    ] {
        assert_eq!(log.attributes[key].0, json!(FILTERED), "{key}");
    }
    assert_eq!(
        log.attributes["url"].0,
        json!("https://[Filtered]:[Filtered]@api.example/v1?token=[Filtered]&q=1")
    );
    assert!(!log.attributes.contains_key("user.email"));
    assert!(!log.attributes.contains_key("user.name"));
    assert_eq!(log.attributes["user.id"].0, json!("42"));
    assert_eq!(log.attributes["attempt"].0, json!(3), "typed values stay");
    assert!(!serde_json::to_string(&log).unwrap().contains(SECRET));

    let mut with_pii = planted_log();
    Scrubber::new(PiiPolicy::On).scrub_log(&mut with_pii);
    assert_eq!(
        with_pii.attributes["user.email"].0,
        json!("ada@example.com")
    );
    assert_eq!(with_pii.attributes["user.name"].0, json!("ada"));
    assert_eq!(with_pii.attributes["password"].0, json!(FILTERED));
    assert!(!serde_json::to_string(&with_pii).unwrap().contains(SECRET));
}

#[test]
fn before_send_log_runs_the_users_callback_then_scrubs() {
    let user_cb: lookout_policy::BeforeCallback<Log> = Arc::new(|mut log: Log| {
        if log.body == "drop me" {
            return None;
        }
        log.attributes.insert("token".into(), SECRET.into());
        Some(log)
    });
    let before_send_log = Scrubber::new(PiiPolicy::Off).before_send_log(Some(user_cb));
    let log = before_send_log(planted_log()).unwrap();
    assert_eq!(log.attributes["token"].0, json!(FILTERED));
    let mut dropped = planted_log();
    dropped.body = "drop me".into();
    assert!(before_send_log(dropped).is_none());
}
