//! The scripted tour: `lookout-demo` with no arguments.
//!
//! For every available framework, two instances of the demo service start on
//! loopback ports; the tour sends the requests a real service meets and then
//! prints, per request, what lookout made of it (from the service's journal
//! and the console lines delivery printed: events and Sentry Logs), followed
//! by those lines, with the `db` spans of the order lookup's transaction and
//! its `orders.lookup` metric.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lookout::headers::{SpanId, TraceId};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::cli::Framework;
use crate::errors;
use crate::frameworks::{self, App};
use crate::journal::{Entry, Journal};

/// One request of the tour.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub(crate) label: &'static str,
    pub(crate) method: &'static str,
    pub(crate) path: String,
    /// The route template, as the table shows it.
    pub(crate) route: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Option<String>,
    pub(crate) expect_status: u16,
    /// The trace id this request brings, if it brings one.
    pub(crate) sent_trace: Option<String>,
}

/// The tour's requests against the service at `base`; `/hop` calls the
/// second instance at `second`.
pub(crate) fn script(base: &str, second: &str) -> Vec<Step> {
    let front_trace = TraceId::random().to_string();
    let step = |label, method, path: &str, route, expect_status| Step {
        label,
        method,
        path: format!("{base}{path}"),
        route,
        headers: Vec::new(),
        body: None,
        expect_status,
        sent_trace: None,
    };
    let mut front = step("front-end call", "GET", "/users/7", "/users/{id}", 200);
    // What a browser SDK sends: its trace, its sampling decision, its DSC.
    front.headers = vec![
        (
            "sentry-trace",
            format!("{front_trace}-{}-1", SpanId::random()),
        ),
        (
            "baggage",
            format!(
                "sentry-trace_id={front_trace},sentry-public_key=49d0f7386ad645858ae85020e393bef3,\
                 sentry-sample_rate=1.0,sentry-sample_rand=0.424242,sentry-sampled=true,\
                 sentry-environment=development,sentry-release=web%401.4.0,\
                 sentry-transaction=%2Fcheckout,vendor=keep-me-out"
            ),
        ),
    ];
    front.sent_trace = Some(front_trace);
    let mut signed_in = step("signed-in user", "GET", "/users/7", "/users/{id}", 200);
    signed_in.headers = vec![("authorization", "Bearer demo-admin-ada".into())];
    let missing = step("missing item", "GET", "/items/404", "/items/{id}", 404);
    let mut typed = step("typed 5xx", "GET", "/fail?order=17", "/fail", 500);
    typed.headers = vec![("authorization", "Bearer demo-bob".into())];
    // The handler reads the order, then fails: the event carries the body,
    // its secret filtered.
    let mut posted = step("failing POST, body", "POST", "/fail", "/fail", 500);
    posted.headers = vec![("content-type", "application/json".into())];
    posted.body = Some(r#"{"order":17,"item":"book","password":"hunter2"}"#.into());
    let upstream = step("upstream failure", "GET", "/upstream", "/upstream", 502);
    let panic = step("panic", "GET", "/panic", "/panic", 500);
    let mut hop = step("calls another service", "POST", "/hop", "/hop", 200);
    hop.headers = vec![("content-type", "application/json".into())];
    hop.body = Some(format!(r#"[{{"url": "{second}/hop", "arguments": []}}]"#));
    // A background job on the request's trace that fails on purpose.
    let job = step(
        "background job",
        "POST",
        "/jobs/welcome?fail=1",
        "/jobs/welcome",
        202,
    );
    // Two sqlx queries (`db` spans of its transaction) and a metric.
    let order = step("order lookup", "GET", "/orders/17", "/orders/{id}", 200);
    vec![
        front, signed_in, missing, typed, posted, upstream, panic, hop, job, order,
    ]
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) step: String,
    pub(crate) route: String,
    pub(crate) status: String,
    pub(crate) trace: String,
    pub(crate) user: String,
    pub(crate) verdict: String,
    /// How many Sentry Logs the request produced.
    pub(crate) logs: String,
    pub(crate) event_id: String,
    /// The request body the event carried (`request.data`), if any.
    pub(crate) body: String,
}

/// An event as its console line tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConsoleEvent {
    pub(crate) level: String,
    pub(crate) error_type: Option<String>,
    pub(crate) request_id: String,
    pub(crate) event_id: String,
    /// The request body the event carried, as the line shows it.
    pub(crate) body: Option<String>,
}

/// A Sentry Log as its console line tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConsoleLog {
    pub(crate) level: String,
    pub(crate) body: String,
    pub(crate) request_id: String,
}

/// Reads a log's console line (`lookout log LEVEL "BODY" request_id=R
/// trace_id=T`).
pub(crate) fn parse_console_log_line(line: &str) -> Option<ConsoleLog> {
    let rest = line.strip_prefix("lookout log ")?;
    let (level, rest) = rest.split_once(' ')?;
    // The body is quoted free text: read the fixed fields from the end.
    let at = rest.rfind(" request_id=")?;
    let quoted = &rest[..at];
    let body = quoted
        .strip_prefix('"')
        .and_then(|b| b.strip_suffix('"'))
        .unwrap_or(quoted)
        .replace("\\\"", "\"");
    let request_id = rest[at + " request_id=".len()..].split(' ').next()?;
    Some(ConsoleLog {
        level: level.to_owned(),
        body,
        request_id: request_id.to_owned(),
    })
}

/// Reads a console line (`lookout event LEVEL [error_type=T] "TITLE"
/// request_id=R trace_id=T event_id=E [body="DATA"]`).
pub(crate) fn parse_console_line(line: &str) -> Option<ConsoleEvent> {
    // The quoted body comes last; an unescaped `"` cannot be inside it.
    let (line, body) = match line.rfind(" body=\"") {
        Some(at) if line.ends_with('"') => {
            let quoted = &line[at + " body=".len()..];
            let body = quoted[1..quoted.len() - 1]
                .replace("\\\"", "\"")
                .replace("\\\\", "\\");
            (&line[..at], Some(body))
        }
        _ => (line, None),
    };
    let rest = line.strip_prefix("lookout event ")?;
    let (level, rest) = rest.split_once(' ')?;
    let error_type = rest
        .strip_prefix("error_type=")
        .and_then(|r| r.split(' ').next())
        .map(str::to_owned);
    // The title is free text: read the fixed fields from the end.
    let field = |name: &str| {
        let at = line.rfind(&format!(" {name}="))? + name.len() + 2;
        line[at..].split(' ').next().map(str::to_owned)
    };
    Some(ConsoleEvent {
        level: level.to_owned(),
        error_type,
        request_id: field("request_id")?,
        event_id: field("event_id")?,
        body,
    })
}

/// The value of ` name=` in a console line, if it has one.
fn console_field(line: &str, name: &str) -> Option<String> {
    let at = line.rfind(&format!(" {name}="))? + name.len() + 2;
    line[at..].split(' ').next().map(str::to_owned)
}

/// The table rows: each step, and the request the `/hop` step caused on the
/// second instance.
pub(crate) fn rows(
    steps: &[Step],
    statuses: &[u16],
    entries: &[Entry],
    delivered: &Delivered,
    request_ids: &[String],
) -> Vec<Row> {
    let mut rows = Vec::new();
    for ((step, status), request_id) in steps.iter().zip(statuses).zip(request_ids) {
        let entry = entries.iter().find(|e| &e.request_id == request_id);
        let continued = match (entry, &step.sent_trace) {
            (Some(entry), Some(sent)) => entry.trace_id == *sent,
            _ => false,
        };
        rows.push(row(
            step.label,
            step.method,
            step.route,
            *status,
            continued,
            entry,
            delivered,
            request_id,
        ));
        if step.route == "/hop"
            && let Some(parent) = entry
        {
            for downstream in entries.iter().filter(|e| {
                e.path == "/hop"
                    && e.request_id != parent.request_id
                    && e.trace_id == parent.trace_id
            }) {
                let status = downstream.status.unwrap_or(0);
                rows.push(row(
                    "  -> second instance",
                    "POST",
                    "/hop",
                    status,
                    true,
                    Some(downstream),
                    delivered,
                    &downstream.request_id,
                ));
            }
        }
    }
    rows
}

/// What delivery printed: the events' and the logs' console lines.
#[derive(Clone, Debug, Default)]
pub(crate) struct Delivered {
    pub(crate) events: Vec<ConsoleEvent>,
    pub(crate) logs: Vec<ConsoleLog>,
}

impl Delivered {
    /// Reads every line delivery printed (other lines are skipped).
    pub(crate) fn parse(lines: &[String]) -> Self {
        Self {
            events: lines.iter().filter_map(|l| parse_console_line(l)).collect(),
            logs: lines
                .iter()
                .filter_map(|l| parse_console_log_line(l))
                .collect(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn row(
    label: &str,
    method: &str,
    route: &str,
    status: u16,
    continued: bool,
    entry: Option<&Entry>,
    delivered: &Delivered,
    request_id: &str,
) -> Row {
    let event = delivered.events.iter().find(|e| e.request_id == request_id);
    let logs: Vec<&ConsoleLog> = delivered
        .logs
        .iter()
        .filter(|l| l.request_id == request_id)
        .collect();
    // The log lookout records for a failure it does not capture names the status.
    let outcome_log = logs
        .iter()
        .find(|l| l.body.ends_with(&format!(" -> {status}")));
    let verdict = match (event, outcome_log) {
        (Some(e), _) => match &e.error_type {
            Some(t) => format!("event {} {t}", e.level),
            None => format!("event {}", e.level),
        },
        // Not captured: lookout's default rule records other 4xx/5xx
        // responses as one log on the request's trace.
        (None, Some(log)) => format!("log {}", log.level),
        (None, None) => "-".to_owned(),
    };
    Row {
        step: label.to_owned(),
        route: format!("{method} {route}"),
        status: if status == 0 {
            "-".to_owned()
        } else {
            status.to_string()
        },
        trace: if continued { "continued" } else { "new" }.to_owned(),
        user: entry
            .and_then(|e| e.user.clone())
            .unwrap_or_else(|| "-".to_owned()),
        verdict,
        logs: logs.len().to_string(),
        event_id: event.map_or_else(|| "-".to_owned(), |e| e.event_id.clone()),
        body: event
            .and_then(|e| e.body.as_deref())
            .map_or_else(|| "-".to_owned(), |body| shortened(body, BODY_COLUMN)),
    }
}

/// The most characters of a body the table shows.
const BODY_COLUMN: usize = 60;

/// `text` cut to `max` characters, with `…` when cut.
fn shortened(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The rows as an aligned text table.
pub(crate) fn render(rows: &[Row]) -> String {
    let header = [
        "step", "route", "status", "trace", "user", "verdict", "body", "logs", "event id",
    ];
    let cells: Vec<[&str; 9]> = rows
        .iter()
        .map(|r| {
            [
                &*r.step,
                &*r.route,
                &*r.status,
                &*r.trace,
                &*r.user,
                &*r.verdict,
                &*r.body,
                &*r.logs,
                &*r.event_id,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: &[&str; 9]| {
        let mut text = String::from("  ");
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<w$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut out, &header);
    let rule = widths.map(|w| "-".repeat(w));
    line(&mut out, &rule.each_ref().map(String::as_str));
    for row in &cells {
        line(&mut out, row);
    }
    out
}

/// Runs the tour on every available framework; fails if a request did not
/// get the status the script expects.
pub(crate) async fn run() -> Result<(), String> {
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = Arc::clone(&lines);
    // With SENTRY_DSN set the tour also sends, even in development; the SDK's
    // debug output stays off unless SENTRY_DEBUG asks for it.
    let mut policy = lookout::policy::Overrides::new().send_in_development(true);
    if std::env::var_os("SENTRY_DEBUG").is_none() {
        policy = policy.debug(false);
    }
    let guard = lookout::init!(
        lookout::Options::new()
            .classifiers(errors::classifiers())
            .policy(policy)
            .print_summary(false)
            // Every event and log becomes a console line we print after the table.
            .console(move |line| sink
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(line.to_owned()))
            // The table is the output; only warnings and errors are logged.
            .tracing(lookout::TracingOptions::new().filter("warn"))
    )
    .map_err(|e| e.to_string())?;
    println!("lookout demo: {}", guard.summary());
    // `/panic` panics on purpose: one line instead of the default report.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("lookout-demo: a handler panicked (on purpose): {info}");
    }));
    println!(
        "the same service on every available framework, and what lookout made of each request\n"
    );

    let journal = Journal::default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let mut failures = Vec::new();
    for framework in Framework::available() {
        // This framework's requests are the journal entries added from here on.
        let earlier = journal.entries().len();
        let first = Instance::start(framework, &journal).await?;
        let second = Instance::start(framework, &journal).await?;
        let steps = script(&first.base, &second.base);
        let mut statuses = Vec::new();
        let mut request_ids = Vec::new();
        for (n, step) in steps.iter().enumerate() {
            let request_id = format!("tour-{framework}-{}", n + 1);
            let status = send(&client, step, &request_id).await?;
            if status != step.expect_status {
                failures.push(format!(
                    "{framework}: {} {} answered {status}, expected {}",
                    step.method, step.route, step.expect_status
                ));
            }
            statuses.push(status);
            request_ids.push(request_id);
        }
        // The job runs on its own task for a few ms after its 202.
        tokio::time::sleep(Duration::from_millis(200)).await;
        // One run of a cron monitor: an in_progress / ok check-in pair.
        let heartbeat = format!("tour-heartbeat-{framework}");
        let _ = lookout::monitor(heartbeat.clone())
            .run(async { Ok::<_, std::io::Error>(()) })
            .await;
        guard.flush(Some(Duration::from_secs(5)));
        let entries: Vec<Entry> = journal.entries().split_off(earlier);
        let console: Vec<String> = lines.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let delivered = Delivered::parse(&console);
        let table = rows(&steps, &statuses, &entries, &delivered, &request_ids);
        println!(
            "{framework}  (service {}, second instance {})\n",
            first.base, second.base
        );
        print!("{}", render(&table));
        let ours: BTreeSet<&str> = entries.iter().map(|e| e.request_id.as_str()).collect();
        println!("\n  delivered (console):");
        for line in &console {
            let request_id = parse_console_line(line)
                .map(|e| e.request_id)
                .or_else(|| parse_console_log_line(line).map(|l| l.request_id))
                .or_else(|| console_field(line, "request_id"));
            let ours = request_id.is_some_and(|id| ours.contains(id.as_str()));
            // The job's transaction (on the request's trace) and the
            // monitor's check-ins are shown too.
            let job = ours && line.starts_with("lookout transaction \"send-welcome-email\"");
            let check_in = line.starts_with(&format!("lookout check-in {heartbeat} "));
            let listed = !line.starts_with("lookout transaction ") && ours;
            if listed || job || check_in {
                println!("    {line}");
            }
        }
        println!();
        first.stop().await;
        second.stop().await;
    }
    if guard.settings().delivery == lookout::policy::DeliveryMode::Send {
        println!("the events were also sent to the Sentry project of SENTRY_DSN");
    }
    if let Some(url) = &guard.settings().spotlight.value {
        println!(
            "a copy of every envelope went to Spotlight at {url} (start it with `npx @spotlightjs/spotlight`)"
        );
    }
    println!("serve the demo yourself: cargo run -p lookout-demo -- serve --framework axum");
    drop(guard);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the tour did not go as scripted:\n  {}",
            failures.join("\n  ")
        ))
    }
}

async fn send(client: &reqwest::Client, step: &Step, request_id: &str) -> Result<u16, String> {
    let mut request = match step.method {
        "POST" => client.post(&step.path),
        _ => client.get(&step.path),
    }
    .header("x-request-id", request_id);
    for (name, value) in &step.headers {
        request = request.header(*name, value);
    }
    if let Some(body) = &step.body {
        request = request.body(body.clone());
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("{} {}: {e}", step.method, step.path))?;
    let status = response.status().as_u16();
    let _ = response.bytes().await;
    Ok(status)
}

/// A demo service instance on a loopback port.
struct Instance {
    base: String,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Instance {
    async fn start(framework: Framework, journal: &Journal) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot listen on a loopback port: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = App::new(true, Some(journal.clone())).await?;
        let task = tokio::spawn(frameworks::serve(framework, listener, app, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            base: format!("http://{addr}"),
            stop,
            task,
        })
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_lines_are_read_from_both_ends() {
        let line = "lookout event error error_type=app_service \"ServiceError: x request_id=fake\" request_id=tour-axum-4 trace_id=abc event_id=0123abcd";
        assert_eq!(
            parse_console_line(line),
            Some(ConsoleEvent {
                level: "error".into(),
                error_type: Some("app_service".into()),
                request_id: "tour-axum-4".into(),
                event_id: "0123abcd".into(),
                body: None,
            })
        );
        // A body comes last, quoted: the fixed fields are read before it.
        let with_body = format!(
            "{line} body={:?}",
            r#"{"note":"x request_id=fake event_id=fake","password":"[Filtered]"}"#
        );
        let parsed = parse_console_line(&with_body).unwrap();
        assert_eq!(parsed.request_id, "tour-axum-4");
        assert_eq!(parsed.event_id, "0123abcd");
        assert_eq!(
            parsed.body.as_deref(),
            Some(r#"{"note":"x request_id=fake event_id=fake","password":"[Filtered]"}"#)
        );
        let plain =
            parse_console_line("lookout event fatal \"boom\" request_id=r trace_id=t event_id=e")
                .unwrap();
        assert_eq!(plain.error_type, None);
        assert!(parse_console_line("something else").is_none());
        let log = parse_console_log_line(
            "lookout log warn \"GET /items/{id} -> 404\" request_id=tour-axum-3 trace_id=abc",
        )
        .unwrap();
        assert_eq!(
            log,
            ConsoleLog {
                level: "warn".into(),
                body: "GET /items/{id} -> 404".into(),
                request_id: "tour-axum-3".into(),
            }
        );
        assert!(parse_console_log_line(line).is_none());
        assert!(parse_console_line("lookout log info \"x\" request_id=r trace_id=t").is_none());
    }

    #[test]
    fn rows_say_continued_user_verdict_and_follow_the_hop() {
        let steps = script("http://a", "http://b");
        assert_eq!(steps.len(), 10);
        let sent = steps[0].sent_trace.clone().unwrap();
        let entry = |rid: &str, path: &str, trace: &str, user: Option<&str>| Entry {
            request_id: rid.into(),
            method: "GET".into(),
            path: path.into(),
            trace_id: trace.into(),
            user: user.map(Into::into),
            status: Some(200),
        };
        let entries = vec![
            entry("r1", "/users/7", &sent, None),
            entry("r2", "/users/7", "t2", Some("admin-ada (admin)")),
            entry("r8", "/hop", "t8", None),
            entry("generated", "/hop", "t8", None),
        ];
        let log = |level: &str, body: &str, rid: &str| ConsoleLog {
            level: level.into(),
            body: body.into(),
            request_id: rid.into(),
        };
        let delivered = Delivered {
            events: vec![
                ConsoleEvent {
                    level: "error".into(),
                    error_type: Some("app_service".into()),
                    request_id: "r5".into(),
                    event_id: "e5".into(),
                    body: Some(r#"{"item":"book","password":"[Filtered]"}"#.into()),
                },
                ConsoleEvent {
                    level: "error".into(),
                    error_type: Some("upstream".into()),
                    request_id: "r6".into(),
                    event_id: "e6".into(),
                    body: None,
                },
            ],
            logs: vec![
                log("info", "loading user", "r1"),
                log("info", "loading user", "r2"),
                log("warn", "GET /items/{id} -> 404", "r3"),
            ],
        };
        let ids: Vec<String> = (1..=10).map(|n| format!("r{n}")).collect();
        let rows = rows(
            &steps,
            &[200, 200, 404, 500, 500, 502, 500, 200, 202, 200],
            &entries,
            &delivered,
            &ids,
        );
        assert_eq!(rows.len(), 11);
        assert_eq!(rows[10].route, "GET /orders/{id}");
        assert_eq!(rows[0].trace, "continued");
        assert_eq!(rows[1].trace, "new");
        assert_eq!(rows[1].user, "admin-ada (admin)");
        assert_eq!(rows[2].verdict, "log warn");
        assert_eq!(rows[2].logs, "1");
        // A handler's own line counts as a log, not as the verdict.
        assert_eq!(
            (rows[0].verdict.as_str(), rows[0].logs.as_str()),
            ("-", "1")
        );
        assert_eq!(rows[3].logs, "0");
        // The failing POST's row shows the body its event carried.
        assert_eq!(rows[4].route, "POST /fail");
        assert_eq!(rows[4].body, r#"{"item":"book","password":"[Filtered]"}"#);
        assert_eq!(rows[3].body, "-");
        assert_eq!(rows[5].verdict, "event error upstream");
        assert_eq!(rows[5].event_id, "e6");
        assert_eq!(rows[8].trace, "continued");
        assert_eq!(rows[8].route, "POST /hop");
        let table = render(&rows);
        assert!(
            table
                .lines()
                .nth(2)
                .unwrap()
                .starts_with("  front-end call")
        );
    }
}
