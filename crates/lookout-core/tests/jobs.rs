//! Background jobs on the request's trace, and cron monitors: what reaches
//! Sentry for a job enqueued inside a request and run later, and for a
//! monitored run.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use lookout_classify::{Classifiers, by_type};
use lookout_core::job::{self, Carried, Job};
use lookout_core::monitor::Monitor;
use lookout_core::testing::TestLookout;
use lookout_core::{RequestHead, ResponseHead, User};
use sentry_core::protocol::{Context, MonitorCheckInStatus, SpanStatus, Transaction};

#[derive(Debug)]
struct MailError;

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("smtp refused the message")
    }
}

impl std::error::Error for MailError {}

fn test_with(rate: &str) -> TestLookout {
    let settings = TestLookout::from_vars([("SENTRY_TRACES_SAMPLE_RATE", rate)])
        .unwrap()
        .settings()
        .clone();
    TestLookout::with_settings(settings, |builder| {
        builder.classifiers(Classifiers::default().with(by_type::<MailError>("mail")))
    })
}

/// A request that identifies `user` and enqueues a job: what it carried,
/// and the request's trace id.
fn enqueue(test: &TestLookout, user: &str) -> (Carried, String) {
    let in_flight = test
        .engine()
        .begin(&RequestHead::new("POST", "/signup", &HeaderMap::new()).with_route("/signup"));
    let ctx = in_flight.context().clone();
    ctx.identify(User::id(user));
    let carried = ctx.enter(job::carry).expect("inside a request");
    let trace_id = ctx.trace().trace_id.to_string();
    drop(ctx);
    in_flight
        .finish(&ResponseHead::new(StatusCode::ACCEPTED))
        .body
        .complete();
    (carried, trace_id)
}

fn trace_of(
    contexts: &std::collections::BTreeMap<String, Context>,
) -> sentry_core::protocol::TraceContext {
    match contexts.get("trace") {
        Some(Context::Trace(trace)) => (**trace).clone(),
        other => panic!("no trace context: {other:?}"),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_job_continues_the_request_trace_with_the_requests_sampling_decision() {
    let test = test_with("1.0");
    let (carried, trace_id) = enqueue(&test, "u-1");
    let done = runtime().block_on(
        Job::new("send-welcome-email")
            .id("msg-1")
            .carried(Some(carried))
            .engine(test.engine())
            .run(async { Ok::<_, MailError>("sent") }),
    );
    assert_eq!(done.unwrap(), "sent");
    let transactions = test.transactions();
    let by_name: HashMap<_, Transaction<'_>> = transactions
        .into_iter()
        .map(|tx| (tx.name.clone().unwrap_or_default(), tx))
        .collect();
    let request = &by_name["POST /signup"];
    let job = &by_name["send-welcome-email"];
    let publish = request
        .spans
        .iter()
        .find(|span| span.op.as_deref() == Some(job::PUBLISH_OP))
        .expect("the request recorded the enqueueing");
    let job_trace = trace_of(&job.contexts);
    assert_eq!(
        job_trace.trace_id.to_string(),
        trace_id,
        "the request's trace"
    );
    assert_eq!(
        job_trace.parent_span_id,
        Some(publish.span_id),
        "child of the publish span"
    );
    assert_eq!(job_trace.op.as_deref(), Some(job::OP));
    assert_eq!(job_trace.status, Some(SpanStatus::Ok));
    assert_eq!(job.tags["job"], "send-welcome-email");
    assert_eq!(job.tags["job.id"], "msg-1");
    assert_eq!(job.tags["transaction.source"], "task");

    // An unsampled request's job is not sampled either.
    let test = test_with("0.0");
    let (carried, _) = enqueue(&test, "u-2");
    assert!(
        carried.sentry_trace.ends_with("-0"),
        "{}",
        carried.sentry_trace
    );
    let done = runtime().block_on(
        job::Job::new("send-welcome-email")
            .carried(Some(carried))
            .engine(test.engine())
            .run(async { Ok::<_, MailError>(()) }),
    );
    assert!(done.is_ok());
    assert!(
        test.transactions().is_empty(),
        "the parent's decision is inherited"
    );
}

#[test]
fn an_error_in_a_job_is_captured_with_its_type_and_the_jobs_tags_on_the_request_trace() {
    let test = test_with("0.0");
    let (carried, trace_id) = enqueue(&test, "u-7");
    let failed = runtime().block_on(
        Job::new("send-welcome-email")
            .id("msg-7")
            .carried(Some(carried))
            .engine(test.engine())
            .run(async { Err::<(), _>(MailError) }),
    );
    assert!(failed.is_err(), "the job's own result is returned");
    let events = test.events();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.tags["error_type"], "mail", "classified by its type");
    assert_eq!(event.tags["job"], "send-welcome-email");
    assert_eq!(event.tags["job.id"], "msg-7");
    assert_eq!(
        event.user.as_ref().and_then(|u| u.id.as_deref()),
        Some("u-7")
    );
    assert_eq!(trace_of(&event.contexts).trace_id.to_string(), trace_id);
    assert!(event.request.is_none(), "a job is not an HTTP request");
    assert!(!event.tags.contains_key("http.status_code"));
    assert_eq!(event.exception.values.last().unwrap().ty, "MailError");
}

#[test]
fn a_panicking_job_is_captured_and_the_panic_reaches_the_caller() {
    let test = test_with("1.0");
    let (carried, _) = enqueue(&test, "u-3");
    let runtime = runtime();
    let engine = test.engine().clone();
    let joined = runtime.block_on(async move {
        tokio::spawn(
            Job::new("resize-avatar")
                .carried(Some(carried))
                .engine(&engine)
                .run(async {
                    if true {
                        panic!("avatar too large");
                    }
                    Ok::<(), MailError>(())
                }),
        )
        .await
    });
    assert!(
        joined.unwrap_err().is_panic(),
        "the panic is resumed, not swallowed"
    );
    let events = test.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tags["error_type"], "panic");
    // The panic site's frames: the job's own future is the newest in-app one.
    let frames = &events[0]
        .exception
        .values
        .last()
        .unwrap()
        .stacktrace
        .as_ref()
        .expect("frames")
        .frames;
    let newest_in_app = frames
        .iter()
        .rev()
        .find(|f| f.in_app == Some(true))
        .and_then(|f| f.function.as_deref());
    assert!(
        newest_in_app.is_some_and(|f| f.starts_with("jobs::a_panicking_job")),
        "{:?}",
        frames
            .iter()
            .map(|f| (&f.function, f.in_app))
            .collect::<Vec<_>>()
    );
    let job_tx = test
        .transactions()
        .into_iter()
        .find(|tx| tx.name.as_deref() == Some("resize-avatar"))
        .expect("the job's transaction");
    assert_eq!(
        trace_of(&job_tx.contexts).status,
        Some(SpanStatus::InternalError)
    );
}

#[test]
fn concurrent_jobs_with_different_users_never_mix() {
    const JOBS: usize = 300;
    let test = test_with("0.0");
    let runtime = runtime();
    let mut handles = Vec::new();
    for n in 0..JOBS {
        let (carried, _) = enqueue(&test, &format!("user-{n}"));
        let engine = test.engine().clone();
        handles.push(runtime.spawn(async move {
            Job::new("notify")
                .id(format!("job-{n}"))
                .carried(Some(carried))
                .engine(&engine)
                .run(async move {
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                    }
                    Err::<(), _>(MailError)
                })
                .await
        }));
    }
    runtime.block_on(async {
        for handle in handles {
            assert!(handle.await.unwrap().is_err());
        }
    });
    let events = test.events();
    assert_eq!(events.len(), JOBS);
    let mixed = events
        .iter()
        .filter(|event| {
            let job_id = &event.tags["job.id"];
            let user = event
                .user
                .as_ref()
                .and_then(|u| u.id.as_deref())
                .unwrap_or_default();
            job_id.strip_prefix("job-") != user.strip_prefix("user-")
        })
        .count();
    assert_eq!(mixed, 0, "events attributed to another job's user");
}

#[test]
fn a_monitor_run_sends_in_progress_then_ok_with_one_check_in_id_and_a_duration() {
    let test = test_with("1.0");
    let monitor = Monitor::new("nightly-report")
        .crontab("0 3 * * *")
        .unwrap()
        .checkin_margin(5)
        .max_runtime(30)
        .engine(test.engine());
    let rows = runtime().block_on(monitor.run(async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok::<_, MailError>(12)
    }));
    assert_eq!(rows.unwrap(), 12);
    let check_ins = test.check_ins();
    assert_eq!(check_ins.len(), 2, "{check_ins:?}");
    let (start, end) = (&check_ins[0], &check_ins[1]);
    assert_eq!(start.status, MonitorCheckInStatus::InProgress);
    assert_eq!(end.status, MonitorCheckInStatus::Ok);
    assert_eq!(start.check_in_id, end.check_in_id, "one check-in id");
    assert_eq!(start.monitor_slug, "nightly-report");
    assert!(
        start.monitor_config.is_some(),
        "the schedule is upserted with the first"
    );
    assert!(
        end.duration.is_some_and(|d| d >= 0.02),
        "{:?}",
        end.duration
    );
    assert_eq!(start.environment.as_deref(), Some("test"));
    assert!(test.events().is_empty());
}

#[test]
fn a_failing_monitor_run_sends_error_and_an_event_linked_to_the_check_in() {
    let test = test_with("1.0");
    let monitor = Monitor::new("nightly-report").engine(test.engine());
    let failed = runtime().block_on(monitor.run(async { Err::<(), _>(MailError) }));
    assert!(failed.is_err());
    let check_ins = test.check_ins();
    assert_eq!(check_ins.len(), 2);
    assert_eq!(check_ins[1].status, MonitorCheckInStatus::Error);
    assert!(
        check_ins[0].monitor_config.is_none(),
        "no schedule, no upsert"
    );
    let events = test.events();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.tags["monitor.slug"], "nightly-report");
    assert_eq!(
        event.tags["monitor.check_in_id"],
        check_ins[0].check_in_id.simple().to_string()
    );
    // The run's transaction and its event share the run's trace.
    let run = test
        .transactions()
        .into_iter()
        .find(|tx| tx.name.as_deref() == Some("nightly-report"))
        .expect("the run's transaction");
    assert_eq!(
        trace_of(&run.contexts).trace_id,
        trace_of(&event.contexts).trace_id
    );

    // A panic is an error too, and still reaches the scheduler.
    let test = test_with("1.0");
    let monitor = Monitor::new("nightly-report").engine(test.engine());
    let runtime = runtime();
    let panicked = runtime.block_on(async move {
        tokio::spawn(async move {
            monitor
                .run(async {
                    if true {
                        panic!("report template missing");
                    }
                    Ok::<(), MailError>(())
                })
                .await
        })
        .await
    });
    assert!(panicked.unwrap_err().is_panic());
    let statuses: Vec<_> = test.check_ins().iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [
            MonitorCheckInStatus::InProgress,
            MonitorCheckInStatus::Error
        ]
    );
}

#[test]
fn jobs_and_check_ins_never_block_when_sentry_is_down() {
    // A port nothing listens on: every send fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let settings = lookout_policy::Settings::from_vars([
        ("SENTRY_DSN", format!("http://public@{closed}/1").as_str()),
        ("SENTRY_ENVIRONMENT", "production"),
        ("SENTRY_TRACES_SAMPLE_RATE", "1.0"),
    ])
    .unwrap();
    let wired = lookout_core::testing::WiredEngine::new(
        &settings,
        lookout_core::delivery::Delivery::send(),
        |builder| builder,
    );
    let engine = Arc::new(wired.engine);
    let runtime = runtime();
    let finished = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), async {
            for n in 0..200 {
                let failed = Job::new("notify")
                    .engine(&engine)
                    .run(async move { if n % 2 == 0 { Err(MailError) } else { Ok(()) } })
                    .await;
                assert_eq!(failed.is_err(), n % 2 == 0);
                let monitored = Monitor::new("heartbeat")
                    .engine(&engine)
                    .run(async { Ok::<_, MailError>(()) })
                    .await;
                assert!(monitored.is_ok());
            }
        })
        .await
    });
    assert!(
        finished.is_ok(),
        "jobs and monitors ran to the end while Sentry was down"
    );
}

#[test]
fn check_ins_print_one_console_line_each_in_development() {
    let (sink, lines) = lookout_core::collecting_console();
    let settings = lookout_policy::Settings::from_vars([
        ("SENTRY_DSN", lookout_core::testing::TEST_DSN),
        ("SENTRY_ENVIRONMENT", "development"),
    ])
    .unwrap();
    let delivery = lookout_core::delivery::Delivery::console().with_console(sink);
    let wired = lookout_core::testing::WiredEngine::new(&settings, delivery, |builder| builder);
    let monitor = Monitor::new("heartbeat").engine(&wired.engine);
    runtime()
        .block_on(monitor.run(async { Ok::<_, MailError>(()) }))
        .unwrap();
    assert!(wired.client.flush(Some(Duration::from_secs(5))));
    let lines = lines.lock().unwrap().clone();
    let check_ins: Vec<_> = lines
        .iter()
        .filter(|line| line.starts_with("lookout check-in heartbeat"))
        .collect();
    assert_eq!(check_ins.len(), 2, "{lines:?}");
    assert!(check_ins[0].contains(" in_progress "), "{}", check_ins[0]);
    assert!(
        check_ins[1].contains(" ok ") && check_ins[1].contains("duration="),
        "{}",
        check_ins[1]
    );
}

#[test]
fn logs_inside_a_job_are_on_its_trace_and_name_the_job() {
    let test = test_with("0.0");
    let (carried, trace_id) = enqueue(&test, "u-4");
    let done = runtime().block_on(
        Job::new("send-welcome-email")
            .carried(Some(carried))
            .engine(test.engine())
            .run(async {
                sentry_core::Hub::current().capture_log(sentry_core::protocol::Log {
                    level: sentry_core::protocol::LogLevel::Info,
                    body: "rendering the welcome mail".into(),
                    trace_id: None,
                    timestamp: std::time::SystemTime::now(),
                    severity_number: None,
                    attributes: Default::default(),
                });
                Err::<(), _>(MailError)
            }),
    );
    assert!(done.is_err());
    let logs = test.logs();
    let log = logs
        .iter()
        .find(|log| log.body == "rendering the welcome mail")
        .expect("the job's log");
    assert_eq!(
        log.trace_id.map(|t| t.to_string()).as_deref(),
        Some(trace_id.as_str())
    );
    assert_eq!(log.attributes["job"].0, "send-welcome-email");
    assert_eq!(log.attributes["user.id"].0, "u-4");
    assert!(
        !log.attributes.contains_key("http.request.method"),
        "a job has no HTTP method"
    );
    let event = &test.events()[0];
    assert!(!event.tags.contains_key("http.request.method"));
}
