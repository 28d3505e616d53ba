//! The scenario app's behaviour, written once: every harness routes its
//! framework's handlers to these functions (see [`crate::harness::Harness`]
//! for the routes).
//!
//! They reach the request through `lookout_scope::current()`, so they work
//! the same under every adapter.

use std::net::SocketAddr;

use serde_json::{Value, json};

/// The typed error `GET /db` fails with (through the framework's error
/// path); the suite's classifiers name it `database`.
#[derive(Debug)]
pub struct DbError(pub std::io::Error);

impl DbError {
    pub fn new() -> Self {
        Self(std::io::Error::other("connection refused"))
    }
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("database unavailable")
    }
}

impl std::error::Error for DbError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The request id that makes [`echo`] log lines: `lines-N`.
pub const LINES_REQUEST_ID: &str = "lines-";

/// A request whose id is this does by hand what a Sentry user does inside a
/// request: identify, a tag, a context, a handled error, a message.
pub const BY_HAND_REQUEST_ID: &str = "by-hand";

/// A request whose id is this logs one `tracing` ERROR (an event with the
/// capture site's frames) before answering.
pub const ERROR_LINE_REQUEST_ID: &str = "error-line";

/// `GET /echo`, `GET /users/{id}`: what the handler sees of its request.
///
/// A request whose id is `lines-N` (`x-request-id: lines-100`) first logs N
/// `info` lines (`line {i}`, field `line`): the scenarios that need many log
/// lines in one request use the routes every framework already has.
pub fn echo() -> String {
    let ctx = lookout_scope::current().expect("handlers run inside the request");
    if let Some(lines) = ctx
        .request_id()
        .strip_prefix(LINES_REQUEST_ID)
        .and_then(|n| n.parse::<usize>().ok())
    {
        for line in 0..lines.min(1000) {
            tracing::info!(line, "line {line}");
        }
    }
    if ctx.request_id() == ERROR_LINE_REQUEST_ID {
        log_an_error();
    }
    if ctx.request_id() == BY_HAND_REQUEST_ID {
        by_hand();
    }
    let trace = ctx.trace();
    json!({
        "request_id": ctx.request_id(),
        "trace_id": trace.trace_id.to_string(),
        "parent_span_id": trace.parent_span_id.map(|s| s.to_string()),
        "sampled": trace.sampled,
        "user": ctx.user().and_then(|u| u.id),
    })
    .to_string()
}

/// The per-request API, as every framework's `CurrentRequest` has it (they
/// all dereference to the toolkit's, which `lookout::current()` returns).
#[inline(never)]
fn by_hand() {
    let current = lookout_core::toolkit::CurrentRequest::get().expect("inside the request");
    current.identify(lookout_scope::User::id("u-hand").email("hand@example.com"));
    current.set_tag("tenant", "acme");
    current.set_context("order", [("id", json!(7)), ("password", json!("hunter2"))]);
    current
        .capture_error(&DbError::new())
        .expect("a client is bound");
    current
        .capture_message("payment retried", sentry_core::Level::Warning)
        .expect("a client is bound");
}

/// The application's own function the error line is logged from (its frame
/// is the newest in-app one of the event).
#[inline(never)]
fn log_an_error() {
    tracing::error!(order = 7, "payment declined");
}

/// `GET /identify/{id}?role=R`: identifies the user, lets other requests
/// run on this thread, then reports what it sees (answered with a 500, so
/// the event shows the attribution too).
pub async fn identify(id: String, role: Option<String>) -> String {
    let mut user = lookout_scope::User::id(&id);
    if let Some(role) = role {
        user = user.role(role);
    }
    lookout_scope::identify(user).expect("inside the request");
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    echo()
}

/// Called by `GET /missing/{id}`'s body while it streams (after the 404 was
/// classified): an event captured then shows the request's breadcrumbs.
pub fn probe() {
    sentry_core::capture_message("probe while the 404 body streams", sentry_core::Level::Info);
}

/// `GET /call?url=U`: calls `U` twice with the trace headers lookout adds,
/// once through the `reqwest-middleware` integration, once through the
/// low-level `inject_headers` (asking the downstream to answer 503), and
/// returns what the first call's server saw, with the second's under
/// `"second"`.
pub async fn call(url: String) -> String {
    let client = reqwest_middleware::ClientBuilder::new(reqwest_client::Client::new())
        .with(lookout_reqwest::Propagate::default())
        .build();
    let first = client
        .get(&url)
        .send()
        .await
        .expect("the downstream server answers")
        .text()
        .await
        .expect("a body");

    let second_url = format!("{url}?status=503");
    let mut headers = http::HeaderMap::new();
    let outgoing =
        lookout_core::inject_headers("GET", &second_url, &mut headers).expect("inside a request");
    let response = reqwest_client::Client::new()
        .get(&second_url)
        .headers(headers)
        .send()
        .await
        .expect("the downstream server answers");
    outgoing.finish(response.status());
    let second: Value = response.json().await.expect("a JSON body");

    let mut seen: Value = serde_json::from_str(&first).expect("a JSON body");
    seen["second"] = second;
    seen.to_string()
}

/// The typed error a welcome job fails with (the suite's classifiers name it
/// `mail`).
#[derive(Debug)]
pub struct MailError;

impl std::fmt::Display for MailError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("smtp refused the welcome mail")
    }
}

impl std::error::Error for MailError {}

/// `POST /jobs/welcome?user=U&fail=1`: identifies `U` (when given), then
/// enqueues the job `send-welcome-email` on a tokio task with what the
/// request carries; answers with the job's id. The job fails with
/// [`MailError`] when `fail` is set.
pub async fn enqueue_welcome(user: Option<String>, fail: bool) -> String {
    if let Some(user) = user {
        lookout_scope::identify(lookout_scope::User::id(user)).expect("inside the request");
    }
    let carried = lookout_core::job::carry().expect("inside the request");
    let ctx = lookout_scope::current().expect("inside the request");
    let job_id = format!("welcome-{}", ctx.request_id());
    // Made inside the request (it takes the request's engine), run on a task.
    let job = lookout_core::job::Job::new("send-welcome-email")
        .id(job_id.clone())
        .carried(Some(carried))
        .run(async move {
            tokio::task::yield_now().await;
            if fail { Err(MailError) } else { Ok(()) }
        });
    tokio::spawn(job);
    job_id
}

/// `POST /submit` (the handler read `body`) and `POST /submit/unread` (it
/// read nothing, `None`): both fail, answered 500 with this text.
pub fn submitted(body: Option<&[u8]>) -> String {
    match body {
        Some(body) => format!("read {} bytes, then failed", body.len()),
        None => "failed without reading the body".to_owned(),
    }
}

/// How many chunks `GET /stream` sends.
pub const STREAM_CHUNKS: usize = 3;

/// Chunk `i` of a streamed body, produced when the body is polled: the id of
/// the request current at that moment. The last chunk also records a child
/// span of the request's transaction (`body.last_chunk`), which only reaches
/// Sentry if the transaction is still open, i.e. ends with the body.
pub fn chunk(i: usize) -> String {
    let ctx = lookout_scope::current().expect("the body streams inside its request");
    if i + 1 == STREAM_CHUNKS {
        let span = sentry_core::configure_scope(|scope| scope.get_span())
            .expect("a sampled request has its transaction on the scope");
        span.start_child("body.last_chunk", "the last chunk")
            .finish();
    }
    format!("{}\n", ctx.request_id())
}

/// `GET /me`'s authentication middleware: `authorization: Bearer <id>`
/// identifies the user (role `member`) through the framework's
/// `CurrentRequest`.
pub fn authenticate(current: &lookout_core::toolkit::CurrentRequest, authorization: Option<&str>) {
    if let Some(id) = authorization.and_then(|a| a.strip_prefix("Bearer ")) {
        current.identify(lookout_scope::User::id(id).role("member"));
    }
}

/// `GET /me`: what the handler's `CurrentRequest` says. Logs one `info`
/// line, `serving /me`, with the fields `seen_user` (the user's id) and
/// `password`, `token`, `authorization` (secrets a careless handler logs).
pub fn me(current: &lookout_core::toolkit::CurrentRequest) -> String {
    let ctx = lookout_scope::current().expect("handlers run inside the request");
    let seen_user = current.user().and_then(|u| u.id).unwrap_or_default();
    tracing::info!(
        seen_user,
        password = "hunter2",
        token = "t0k3n-in-a-log",
        authorization = "Bearer u-in-a-log",
        "serving /me"
    );
    json!({
        "request_id": current.request_id(),
        "trace_id": current.trace_id(),
        "user": current.user().and_then(|u| u.id),
        "same_as_current": ctx.same_request(current.context()),
    })
    .to_string()
}

/// A plain server (no lookout) echoing the trace headers it receives as JSON.
pub struct Downstream {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Downstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Downstream {
    pub async fn start() -> Self {
        async fn seen(
            axum::extract::Query(query): axum::extract::Query<
                std::collections::HashMap<String, String>,
            >,
            headers: http::HeaderMap,
        ) -> (http::StatusCode, String) {
            let status = query
                .get("status")
                .and_then(|s| s.parse().ok())
                .and_then(|s| http::StatusCode::from_u16(s).ok())
                .unwrap_or(http::StatusCode::OK);
            let get = |name: &str| -> Value {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map_or(Value::Null, |v| Value::from(v.to_owned()))
            };
            let seen = json!({
                "sentry-trace": get("sentry-trace"),
                "baggage": get("baggage"),
                "traceparent": get("traceparent"),
            });
            (status, seen.to_string())
        }
        let app = axum::Router::new().route("/seen", axum::routing::get(seen));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, task }
    }
}

/// The orders database `GET /orders/{id}` reads: SQLite in memory, one
/// connection for the whole suite (sqlx-sqlite's connection is a worker
/// thread and channels, usable from every test's runtime).
static ORDERS: tokio::sync::OnceCell<tokio::sync::Mutex<sqlx::SqliteConnection>> =
    tokio::sync::OnceCell::const_new();

/// The two queries of `GET /orders/{id}`, in order.
pub const ORDER_QUERY: &str = "SELECT id, customer FROM orders WHERE id = ?";
pub const LINES_QUERY: &str =
    "SELECT sku, quantity FROM order_lines WHERE order_id = ? ORDER BY sku";

/// Creates and seeds the orders database (order 7 of `ada` with two lines),
/// once; every harness calls it before serving, outside any request.
pub async fn seed_orders() {
    ORDERS
        .get_or_init(|| async {
            use sqlx::Connection as _;
            let mut db = sqlx::SqliteConnection::connect("sqlite::memory:")
                .await
                .expect("an in-memory database");
            for statement in [
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL)",
                "CREATE TABLE order_lines (order_id INTEGER NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL)",
                "INSERT INTO orders (id, customer) VALUES (7, 'ada')",
                "INSERT INTO order_lines (order_id, sku, quantity) VALUES (7, 'tea', 2), (7, 'cup', 1)",
            ] {
                sqlx::query(statement).execute(&mut db).await.expect(statement);
            }
            tokio::sync::Mutex::new(db)
        })
        .await;
}

/// `GET /orders/{id}`: the order ([`ORDER_QUERY`]), then its lines
/// ([`LINES_QUERY`]), as JSON; counts the metric `orders.lookup` (attribute
/// `order.found`). An unknown order answers `null`.
pub async fn order(id: String) -> String {
    use sqlx::Row as _;
    let id: i64 = id.parse().unwrap_or(-1);
    let mut db = ORDERS.get().expect("seeded before serving").lock().await;
    let order = sqlx::query(ORDER_QUERY)
        .bind(id)
        .fetch_optional(&mut *db)
        .await
        .expect("the order query");
    let lines = sqlx::query(LINES_QUERY)
        .bind(id)
        .fetch_all(&mut *db)
        .await
        .expect("the lines query");
    sentry_core::metrics::counter("orders.lookup", 1)
        .attribute("order.found", order.is_some())
        .capture();
    let Some(order) = order else {
        return "null".to_owned();
    };
    let lines: Vec<Value> = lines
        .iter()
        .map(|line| json!({"sku": line.get::<String, _>("sku"), "quantity": line.get::<i64, _>("quantity")}))
        .collect();
    json!({
        "id": order.get::<i64, _>("id"),
        "customer": order.get::<String, _>("customer"),
        "lines": lines,
    })
    .to_string()
}
