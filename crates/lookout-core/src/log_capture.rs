//! Sentry Logs from lines an integration recorded, on lookout's own path.
//!
//! The `tracing` integration records a line once ([`LogLine`]: its callsite,
//! time, message and typed fields) and hands it to [`capture_line`]. Inside
//! a request whose client lookout wired (`Engine::client_options`) with no
//! `before_send_log` of the application's, the line is written straight to
//! the JSON of a batch's envelope, on the request's thread (the delivery's
//! [`Batch`]: no `Log`, no attribute map, no scope copy, no callback, no
//! hand-off to another thread), with the same attributes and the same
//! privacy rules as the general path
//! (lookout-core's `before_send_log` then the scrubber): the line's
//! fields (denylisted keys `[Filtered]`, credentials and secret query values
//! in strings filtered), `code.*`, `sentry.origin`, the request's trace and
//! parent span, `request_id`, `http.route`, `http.request.method`, the job,
//! the user (email and name only with PII on), then the client's defaults
//! (`sentry.environment`, `sentry.release`, `sentry.sdk.*`,
//! `server.address`).
//!
//! Everywhere else (outside requests, with an application
//! `before_send_log`, in console mode) the line becomes a
//! `sentry_core::protocol::Log` captured on the current Hub, as sentry-tracing
//! would capture it, and takes sentry-core's path.

use std::borrow::Cow;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use lookout_classify::{severity_number, tags};
use lookout_policy::Scrubber;
use lookout_scope::RequestContext;
use sentry_core::protocol::{Log, LogAttribute, LogLevel, Map, SpanId, Value};
use sentry_core::{Client, Hub};

use crate::delivery::batch::Batch;
use crate::engine::Shared;

/// One field of a recorded line, in its own type.
#[derive(Clone, Debug, PartialEq)]
pub enum LogField {
    /// Text (also what `Debug` and `Display` values become).
    Str(String),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A float.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

impl LogField {
    /// The field as a JSON value (breadcrumb data).
    ///
    /// ```
    /// use lookout_core::log_capture::LogField;
    /// assert_eq!(LogField::U64(7).to_json(), serde_json::json!(7));
    /// ```
    #[must_use]
    pub fn to_json(&self) -> Value {
        match self {
            LogField::Str(text) => Value::from(text.as_str()),
            LogField::I64(n) => Value::from(*n),
            LogField::U64(n) => Value::from(*n),
            LogField::F64(n) => Value::from(*n),
            LogField::Bool(b) => Value::from(*b),
        }
    }
}

/// A line recorded by an integration, kept as it was recorded until a
/// Sentry Log is written from it.
pub trait LogLine: Send + Sync + 'static {
    /// When the line was written.
    fn timestamp(&self) -> SystemTime;
    /// Its level.
    fn level(&self) -> LogLevel;
    /// Its message (the log's body).
    fn body(&self) -> &str;
    /// Its fields, message left out, in the order written.
    fn fields(&self) -> &[(&'static str, LogField)];
    /// The module it was written in (`code.module.name`).
    fn module_path(&self) -> Option<&'static str>;
    /// The file (`code.file.path`).
    fn file(&self) -> Option<&'static str>;
    /// The line number (`code.line.number`).
    fn line(&self) -> Option<u32>;
}

/// The attribute Sentry Logs name the parent span with.
const PARENT_SPAN: &str = "sentry.trace.parent_span_id";
/// What lines of the `tracing` integration carry as `sentry.origin`.
const ORIGIN: &str = "auto.tracing";

/// Captures `line` as a Sentry Log when the current client takes logs.
/// `request` is the current request ([`lookout_scope::current`], which the
/// caller has already looked up); `in_span` says whether the line was written inside a span of the
/// application's (its parent span is then read from the Hub).
///
/// ```
/// use std::sync::Arc;
/// use lookout_core::log_capture::{LogField, LogLine, capture_line};
/// use sentry_core::protocol::LogLevel;
///
/// struct Ready;
/// impl LogLine for Ready {
///     fn timestamp(&self) -> std::time::SystemTime { std::time::SystemTime::now() }
///     fn level(&self) -> LogLevel { LogLevel::Info }
///     fn body(&self) -> &str { "ready" }
///     fn fields(&self) -> &[(&'static str, LogField)] { &[] }
///     fn module_path(&self) -> Option<&'static str> { Some(module_path!()) }
///     fn file(&self) -> Option<&'static str> { Some(file!()) }
///     fn line(&self) -> Option<u32> { Some(line!()) }
/// }
/// // No client bound here: nothing is captured.
/// capture_line(Arc::new(Ready), lookout_scope::current().as_ref(), false);
/// ```
pub fn capture_line(line: Arc<dyn LogLine>, request: Option<&RequestContext>, in_span: bool) {
    let Some(client) = Hub::with_active(|hub| hub.client()) else {
        return;
    };
    // Deprecated in sentry-core 0.49 only because manual captures ignore
    // it; it is the switch lookout's settings set (`SENTRY_ENABLE_LOGS`).
    #[allow(deprecated)]
    let takes_logs = client.is_enabled() && client.options().enable_logs;
    if !takes_logs {
        return;
    }
    if let Some(ctx) = request
        && let Some(engine) = ctx.owner::<Shared>()
        && let Some(logs) = engine.attached.get().and_then(|a| a.logs.as_ref())
        && logs.wired_to(&client)
    {
        let parent_span = (in_span && ctx.trace().sampled)
            .then(current_span)
            .flatten();
        let route = crate::toolkit::route::route_of(ctx);
        logs.batch.push(|out| {
            logs.writer
                .write(&*line, ctx, route.as_deref(), parent_span, out);
        });
        return;
    }
    Hub::with_active(|hub| hub.capture_log(to_log(&*line)));
}

/// The span of the current Hub's scope (the application's span the line
/// was written in), read without changing the scope.
fn current_span() -> Option<SpanId> {
    Hub::with_active(|hub| {
        hub.configure_scope(|scope| {
            scope.get_span().map(|span| match span {
                sentry_core::TransactionOrSpan::Transaction(t) => t.get_trace_context().span_id,
                sentry_core::TransactionOrSpan::Span(s) => s.get_span_id(),
            })
        })
    })
}

/// `line` as sentry-tracing's `LogLayer` makes a log of it: the fields as
/// typed attributes, `code.*`, `sentry.origin`.
fn to_log(line: &dyn LogLine) -> Log {
    let mut attributes: Map<String, LogAttribute> = line
        .fields()
        .iter()
        .map(|(name, value)| ((*name).to_owned(), LogAttribute(value.to_json())))
        .collect();
    if let Some(module) = line.module_path() {
        attributes.insert("code.module.name".to_owned(), module.into());
    }
    if let Some(file) = line.file() {
        attributes.insert("code.file.path".to_owned(), file.into());
    }
    if let Some(number) = line.line() {
        attributes.insert("code.line.number".to_owned(), i64::from(number).into());
    }
    attributes.insert("sentry.origin".to_owned(), ORIGIN.into());
    Log {
        level: line.level(),
        body: line.body().to_owned(),
        trace_id: None,
        timestamp: line.timestamp(),
        severity_number: None,
        attributes,
    }
}

/// lookout's own log path of one wired client.
#[derive(Clone)]
pub(crate) struct FastLogs {
    pub(crate) batch: Arc<Batch>,
    writer: Arc<LogWriter>,
    /// The `before_send_log` lookout installed on that client: a client
    /// whose options hold this very callback is the one wired.
    hook: usize,
}

impl FastLogs {
    /// lookout's path for the client whose `before_send_log` is `hook`,
    /// writing with `writer`.
    pub(crate) fn new(hook: &sentry_core::BeforeCallback<Log>, writer: LogWriter) -> Self {
        let batch = Batch::new("log", "application/vnd.sentry.items.log+json");
        Self {
            batch: Arc::new(batch),
            writer: Arc::new(writer),
            hook: hook_address(hook),
        }
    }

    fn wired_to(&self, client: &Client) -> bool {
        client
            .options()
            .before_send_log
            .as_ref()
            .is_some_and(|hook| hook_address(hook) == self.hook)
    }
}

impl std::fmt::Debug for FastLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastLogs").finish_non_exhaustive()
    }
}

fn hook_address(hook: &sentry_core::BeforeCallback<Log>) -> usize {
    Arc::as_ptr(hook).cast::<()>() as usize
}

/// How a line is written as a log: the scrubber and the client's default
/// attributes.
pub(crate) struct LogWriter {
    scrubber: Scrubber,
    /// `sentry.environment`, `sentry.release`, `sentry.sdk.*`,
    /// `server.address`: what sentry-core adds to every log.
    defaults: Vec<(&'static str, String)>,
    /// The same, scrubbed and written once as the tail of an `attributes`
    /// object (each entry preceded by a comma); used whenever no field of
    /// the line has one of their names.
    defaults_json: Vec<u8>,
    /// This writer among the process's writers, for [`DENIED`].
    id: usize,
    /// Which of lookout's own keys (the only keys whose values are
    /// [`Attr::Own`]) the scrubber denylists: usually none.
    own_denied: Vec<&'static str>,
    /// Per key of [`OWN_KEYS`], written once: `,"key":{"value":` to be
    /// followed by the value, or the whole `,"key":{...}` when the key is
    /// denylisted (`true`).
    own_json: [(Box<[u8]>, bool); OWN_KEYS.len()],
    /// `sentry.origin` and the client's defaults, scrubbed and written once:
    /// how every log's `attributes` begins when no field of its line is
    /// named as one of lookout's keys ([`LogWriter::write`]'s direct path).
    head_json: Vec<u8>,
}

/// lookout's own attribute keys with values of lookout's ([`Attr::Own`]);
/// the client's defaults are added per writer.
const OWN_KEYS: [&str; 8] = [
    "code.module.name",
    "code.file.path",
    "code.line.number",
    "sentry.origin",
    PARENT_SPAN,
    tags::REQUEST_ID,
    tags::METHOD,
    tags::ROUTE,
];

/// Where a log was written: the request, and what lookout adds from it.
#[derive(Clone, Copy)]
struct Site<'a> {
    ctx: &'a RequestContext,
    /// The request's route template.
    route: Option<&'a str>,
    /// The span the line was written in (the request's own span outside
    /// the application's), as hex.
    parent_hex: &'a str,
    /// The job the context runs, if it is one.
    job: Option<&'a crate::job::JobName>,
    /// Whether personal data may be sent.
    pii: bool,
}

/// The user's attributes a log carries: the id, and the email and name
/// only with `pii`.
fn user_attributes(
    user: Option<&lookout_scope::User>,
    pii: bool,
) -> impl Iterator<Item = (&'static str, &str)> {
    user.into_iter().flat_map(move |user| {
        [
            ("user.id", &user.id, true),
            ("user.email", &user.email, pii),
            ("user.name", &user.username, pii),
        ]
        .into_iter()
        .filter_map(|(key, value, allowed)| Some((key, value.as_deref().filter(|_| allowed)?)))
    })
}

/// Indexes into [`OWN_KEYS`] (and a writer's keys written once).
#[derive(Clone, Copy)]
enum OwnKey {
    Module = 0,
    File = 1,
    Line = 2,
    Origin = 3,
    Parent = 4,
    RequestId = 5,
    Method = 6,
    Route = 7,
}

/// The keys lookout sets from the request's context besides [`OWN_KEYS`]
/// (the job, the user): a field named like one of either, or like one of
/// the client's defaults, takes the general path.
const CONTEXT_KEYS: [&str; 4] = [crate::job::JOB_TAG, "user.id", "user.email", "user.name"];

/// The most fields a line written on the direct path has (more take the
/// general path: each field's name is compared with the others').
const DIRECT_FIELDS: usize = 16;

/// What a writer answers of a key, per writer and key: keys are callsites'
/// field names and lookout's own names, all `'static`, so a key is asked
/// about once per thread, not once per log (keyed by the writer, the key's
/// address and length). Per thread: logs are written by the requests'
/// threads, which then share no lock.
type Denied = std::collections::HashMap<(usize, usize, usize), KeyAnswers, KeyHasher>;

/// A writer's answers for one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct KeyAnswers {
    /// The scrubber denylists it.
    denied: bool,
    /// lookout sets an attribute of that name ([`OWN_KEYS`],
    /// [`CONTEXT_KEYS`], the client's defaults).
    lookouts: bool,
}

thread_local! {
    static DENIED: std::cell::RefCell<Denied> = std::cell::RefCell::default();
}

/// Past this many answers a thread's cache starts again (writers come and
/// go with clients, in tests by the thousand).
const DENIED_MAX: usize = 4096;

/// Runs `f` with the current thread's denylist answers (with answers of its
/// own when the thread's are out of reach: a line logged while the thread's
/// locals are being destroyed, or while they are in use further up).
fn with_denied<R>(f: impl FnOnce(&mut Denied) -> R) -> R {
    let mut f = Some(f);
    let cached = DENIED.try_with(|cell| {
        let mut denied = cell.try_borrow_mut().ok()?;
        if denied.len() > DENIED_MAX {
            denied.clear();
        }
        f.take().map(|f| f(&mut denied))
    });
    match (cached, f) {
        (Ok(Some(result)), _) => result,
        (_, Some(f)) => f(&mut Denied::default()),
        // `f` ran and its result is in `cached`.
        (_, None) => unreachable!("f ran and returned through `cached`"),
    }
}

/// Hashes a `'static` key's address and length (no SipHash per attribute).
type KeyHasher = std::hash::BuildHasherDefault<AddressHasher>;

/// A multiplicative hash of a few `usize`s.
#[derive(Default)]
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

impl LogWriter {
    pub(crate) fn new(scrubber: Scrubber, options: &sentry_core::ClientOptions) -> Self {
        let mut defaults = Vec::new();
        if let Some(environment) = &options.environment {
            defaults.push(("sentry.environment", environment.to_string()));
        }
        if let Some(release) = &options.release {
            defaults.push(("sentry.release", release.to_string()));
        }
        // sentry-core's default user agent is `sentry.rust/<its version>`,
        // the name and version its client puts on every log.
        let (name, version) = options
            .user_agent
            .split_once('/')
            .unwrap_or(("sentry.rust", &options.user_agent));
        defaults.push(("sentry.sdk.name", name.to_owned()));
        defaults.push(("sentry.sdk.version", version.to_owned()));
        if let Some(server) = &options.server_name {
            defaults.push(("server.address", server.to_string()));
        }
        for (_, value) in &mut defaults {
            if let Cow::Owned(clean) = scrubber.scrub_url(value) {
                *value = clean;
            }
        }
        static WRITERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let mut writer = Self {
            scrubber,
            defaults,
            defaults_json: Vec::new(),
            id: WRITERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            own_denied: Vec::new(),
            own_json: Default::default(),
            head_json: Vec::new(),
        };
        writer.own_denied = OWN_KEYS
            .into_iter()
            .chain(writer.defaults.iter().map(|(key, _)| *key))
            .filter(|key| writer.scrubber.is_denylisted(key))
            .collect();
        let mut json = Vec::new();
        with_denied(|denied| {
            for (key, value) in &writer.defaults {
                let value = Attr::Own(Cow::Borrowed(value.as_str()));
                if let Some(value) = writer.scrubbed(denied, key, &value) {
                    json.push(b',');
                    write_key(&mut json, key);
                    value.write(&mut json);
                }
            }
        });
        writer.defaults_json = json;
        for (slot, key) in writer.own_json.iter_mut().zip(OWN_KEYS) {
            let mut json = b",".to_vec();
            write_key(&mut json, key);
            let filtered = writer.own_denied.contains(&key);
            if filtered {
                Attr::Str(Cow::Borrowed(lookout_policy::FILTERED)).write(&mut json);
            } else {
                json.extend_from_slice(b"{\"value\":");
            }
            *slot = (json.into_boxed_slice(), filtered);
        }
        let mut head = Vec::new();
        writer.write_own(&mut head, OwnKey::Origin, &Attr::Own(Cow::Borrowed(ORIGIN)));
        head.extend_from_slice(&writer.defaults_json);
        // The object's first member: no comma before it.
        head.remove(0);
        writer.head_json = head;
        writer
    }

    /// One log's JSON object: `line`, written in the request `ctx` (whose
    /// route is `route`) inside the application's span `parent_span`.
    fn write(
        &self,
        line: &dyn LogLine,
        ctx: &RequestContext,
        route: Option<&str>,
        parent_span: Option<SpanId>,
        out: &mut Vec<u8>,
    ) {
        let trace = ctx.trace();
        let parent = parent_span.map_or(trace.span_id, lookout_headers::SpanId::from);
        let mut parent_hex = [0; 16];
        let parent_hex = parent.encode_hex(&mut parent_hex);
        let job = ctx.extension::<crate::job::JobName>();
        let site = Site {
            ctx,
            route,
            parent_hex,
            job: job.as_deref(),
            pii: ctx.pii().allows_pii(),
        };
        if !self.write_direct(line, &site, out) {
            self.write_general(line, &site, out);
        }
    }

    /// Writes the log through [`Attributes`], which settle which value a key
    /// shared by fields and lookout's attributes keeps.
    fn write_general(&self, line: &dyn LogLine, site: &Site<'_>, out: &mut Vec<u8>) {
        let ctx = site.ctx;
        // A field of the line named as a default replaces it: then the
        // defaults are written one by one, after it.
        let defaults_shadowed = line
            .fields()
            .iter()
            .any(|(name, _)| self.defaults.iter().any(|(key, _)| key == name));
        // Built inside the user's borrow (the attributes borrow the user).
        ctx.with_user(|user| {
            let mut attributes = Attributes::with_fields(line.fields().len());
            for (name, value) in line.fields() {
                attributes.field(name, Attr::of(value));
            }
            if let Some(module) = line.module_path() {
                attributes.insert("code.module.name", Attr::Own(Cow::Borrowed(module)));
            }
            if let Some(file) = line.file() {
                attributes.insert("code.file.path", Attr::Own(Cow::Borrowed(file)));
            }
            if let Some(number) = line.line() {
                attributes.insert("code.line.number", Attr::I64(i64::from(number)));
            }
            attributes.insert("sentry.origin", Attr::Own(Cow::Borrowed(ORIGIN)));
            attributes.insert_if_absent(PARENT_SPAN, Attr::Own(Cow::Borrowed(site.parent_hex)));
            attributes.insert(tags::REQUEST_ID, Attr::Own(Cow::Borrowed(ctx.request_id())));
            if !ctx.method().is_empty() {
                attributes.insert(tags::METHOD, Attr::Own(Cow::Borrowed(ctx.method())));
            }
            if let Some(route) = site.route {
                attributes.insert(tags::ROUTE, Attr::Own(Cow::Borrowed(route)));
            }
            if let Some(job) = site.job {
                attributes.insert(crate::job::JOB_TAG, Attr::Str(Cow::Borrowed(&job.0)));
            }
            if defaults_shadowed {
                for (key, value) in &self.defaults {
                    attributes.insert_if_absent(key, Attr::Own(Cow::Borrowed(value)));
                }
            }
            for (key, value) in user_attributes(user, site.pii) {
                attributes.insert(key, Attr::Str(Cow::Borrowed(value)));
            }
            self.write_object(line, &ctx.trace(), &attributes, !defaults_shadowed, out);
        });
    }

    /// Writes the log straight out when no field of `line` has a name of
    /// lookout's own attributes (or another field's): every attribute is
    /// then written once, lookout's with keys written when the writer was
    /// made. Returns `false`, having written nothing, when a name is shared:
    /// [`Attributes`] then settles which value each key keeps.
    fn write_direct(&self, line: &dyn LogLine, site: &Site<'_>, out: &mut Vec<u8>) -> bool {
        let ctx = site.ctx;
        let fields = line.fields();
        if fields.len() > DIRECT_FIELDS {
            return false;
        }
        // Each field's denylist answer, asked once; `None`: a name is shared.
        let denied = with_denied(|denied| {
            let mut answers = [false; DIRECT_FIELDS];
            for (at, (name, _)) in fields.iter().enumerate() {
                let key = self.answers(denied, name);
                if key.lookouts || fields[..at].iter().any(|(other, _)| other == name) {
                    return None;
                }
                answers[at] = key.denied;
            }
            Some(answers)
        });
        let Some(denied) = denied else {
            return false;
        };
        ctx.with_user(|user| {
            self.write_fixed(line, &ctx.trace(), out);
            out.extend_from_slice(&self.head_json);
            for ((name, value), denied) in fields.iter().zip(denied) {
                let value = Attr::of(value);
                let Some(value) = self.scrubbed_as(denied, name, &value) else {
                    continue;
                };
                out.push(b',');
                write_key(out, name);
                value.write(out);
            }
            let own = |out: &mut Vec<u8>, key, text| {
                self.write_own(out, key, &Attr::Own(Cow::Borrowed(text)));
            };
            if let Some(module) = line.module_path() {
                own(out, OwnKey::Module, module);
            }
            if let Some(file) = line.file() {
                own(out, OwnKey::File, file);
            }
            if let Some(number) = line.line() {
                self.write_own(out, OwnKey::Line, &Attr::I64(i64::from(number)));
            }
            own(out, OwnKey::Parent, site.parent_hex);
            own(out, OwnKey::RequestId, ctx.request_id());
            if !ctx.method().is_empty() {
                own(out, OwnKey::Method, ctx.method());
            }
            if let Some(route) = site.route {
                own(out, OwnKey::Route, route);
            }
            let mut rest = |key: &'static str, text: &str| {
                let value = Attr::Str(Cow::Borrowed(text));
                let denied = with_denied(|denied| self.is_denied(denied, key));
                if let Some(value) = self.scrubbed_as(denied, key, &value) {
                    out.push(b',');
                    write_key(out, key);
                    value.write(out);
                }
            };
            if let Some(job) = site.job {
                rest(crate::job::JOB_TAG, &job.0);
            }
            for (key, value) in user_attributes(user, site.pii) {
                rest(key, value);
            }
            out.extend_from_slice(b"}}");
        });
        true
    }

    /// `,"key":{...}` for one of lookout's own attributes, its key written
    /// when the writer was made.
    fn write_own(&self, out: &mut Vec<u8>, key: OwnKey, value: &Attr<'_>) {
        let (json, filtered) = &self.own_json[key as usize];
        out.extend_from_slice(json);
        if !filtered {
            value.write_rest(out);
        }
    }

    /// What this writer answers of `key` (asked once per thread).
    fn answers(&self, denied: &mut Denied, key: &'static str) -> KeyAnswers {
        *denied
            .entry((self.id, key.as_ptr() as usize, key.len()))
            .or_insert_with(|| KeyAnswers {
                denied: self.scrubber.is_denylisted(key),
                lookouts: OWN_KEYS.contains(&key)
                    || CONTEXT_KEYS.contains(&key)
                    || self.defaults.iter().any(|(default, _)| *default == key),
            })
    }

    /// Whether the scrubber denylists `key` (answered once per thread).
    fn is_denied(&self, denied: &mut Denied, key: &'static str) -> bool {
        self.answers(denied, key).denied
    }

    /// The log's members before its attributes, up to `"attributes":{`.
    fn write_fixed(
        &self,
        line: &dyn LogLine,
        trace: &lookout_scope::RequestTrace,
        out: &mut Vec<u8>,
    ) {
        let level = line.level();
        out.extend_from_slice(b"{\"timestamp\":");
        let seconds = line
            .timestamp()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let _ = serde_json::to_writer(&mut *out, &seconds);
        out.extend_from_slice(b",\"trace_id\":\"");
        let mut trace_hex = [0; 32];
        out.extend_from_slice(trace.trace_id.encode_hex(&mut trace_hex).as_bytes());
        out.extend_from_slice(b"\",\"level\":");
        let _ = serde_json::to_writer(&mut *out, &level);
        out.extend_from_slice(b",\"body\":");
        let body = self.scrubber.scrub_log_body(line.body());
        write_str(out, body.as_ref());
        out.extend_from_slice(b",\"severity_number\":");
        let _ = serde_json::to_writer(&mut *out, &severity_number(level));
        out.extend_from_slice(b",\"attributes\":{");
    }

    /// Writes the log object: its fixed members, then `attributes`
    /// scrubbed, then (`defaults`) the client's defaults.
    fn write_object(
        &self,
        line: &dyn LogLine,
        trace: &lookout_scope::RequestTrace,
        attributes: &Attributes<'_>,
        defaults: bool,
        out: &mut Vec<u8>,
    ) {
        self.write_fixed(line, trace, out);
        let mut first = true;
        with_denied(|denied| {
            for (key, value) in &attributes.list {
                let value = self.scrubbed(denied, key, value);
                let Some(value) = value else { continue };
                if !first {
                    out.push(b',');
                }
                first = false;
                write_key(out, key);
                value.write(out);
            }
        });
        if defaults && !self.defaults_json.is_empty() {
            // Written with a leading comma each.
            let json = if first {
                &self.defaults_json[1..]
            } else {
                &self.defaults_json[..]
            };
            out.extend_from_slice(json);
        }
        out.extend_from_slice(b"}}");
    }

    /// `value` of `key` as the scrubber leaves it (`None`: removed).
    fn scrubbed<'a>(
        &self,
        denied: &mut Denied,
        key: &'static str,
        value: &'a Attr<'a>,
    ) -> Option<Cow<'a, Attr<'a>>> {
        let denylisted = match value {
            // lookout's own keys, answered once per writer.
            Attr::Own(_) => self.own_denied.contains(&key),
            _ => self.is_denied(denied, key),
        };
        self.scrubbed_as(denylisted, key, value)
    }

    /// `value` of `key` as the scrubber leaves it, the key's denylist answer
    /// being `denylisted` (`None`: removed).
    fn scrubbed_as<'a>(
        &self,
        denylisted: bool,
        key: &'static str,
        value: &'a Attr<'a>,
    ) -> Option<Cow<'a, Attr<'a>>> {
        if !self.scrubber.pii().allows_pii() && PERSONAL_USER_ATTRIBUTES.contains(&key) {
            return None;
        }
        if denylisted {
            return Some(Cow::Owned(Attr::Str(Cow::Borrowed(
                lookout_policy::FILTERED,
            ))));
        }
        match value {
            Attr::Own(_) => Some(Cow::Borrowed(value)),
            Attr::Str(text) => match self.scrubber.scrub_url(text) {
                Cow::Borrowed(_) => Some(Cow::Borrowed(value)),
                Cow::Owned(clean) => Some(Cow::Owned(Attr::Str(Cow::Owned(clean)))),
            },
            _ => Some(Cow::Borrowed(value)),
        }
    }
}

/// `"key":` (lookout's and callsites' keys need escaping only in theory).
fn write_key(out: &mut Vec<u8>, key: &str) {
    write_str(out, key);
    out.push(b':');
}

/// `text` as a JSON string. Most text needs no escaping (keys, ids, code
/// paths, route templates, plain messages): it is checked 8 bytes at a time
/// and copied as it is; anything else is escaped by serde_json.
fn write_str(out: &mut Vec<u8>, text: &str) {
    if needs_escaping(text.as_bytes()) {
        let _ = serde_json::to_writer(&mut *out, text);
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// Whether JSON needs any byte of `bytes` escaped: a control character, `"`
/// or `\\` (UTF-8 beyond ASCII is written as it is). Eight bytes at a time:
/// a byte below `0x20`, or equal to `"` or `\\`, sets its high bit in the
/// word tests below (bytes of `0x80` and up never do: `!word` clears it).
fn needs_escaping(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH != 0;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let w = u64::from_ne_bytes(word.try_into().unwrap_or([0; 8]));
        if w.wrapping_sub(ONES * 0x20) & !w & HIGH != 0
            || has_zero(w ^ (ONES * u64::from(b'"')))
            || has_zero(w ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// The user attributes that are personal data (the id is not), as the
/// scrubber treats them.
const PERSONAL_USER_ATTRIBUTES: [&str; 3] = ["user.email", "user.name", "user.ip_address"];

/// One attribute's value, borrowed where it can be.
#[derive(Clone, Debug)]
enum Attr<'a> {
    Str(Cow<'a, str>),
    /// lookout's own text (code location, ids, the route template, the
    /// client's defaults, scrubbed once): no URL to scrub in it.
    Own(Cow<'a, str>),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

impl<'a> Attr<'a> {
    fn of(field: &'a LogField) -> Self {
        match field {
            LogField::Str(text) => Attr::Str(Cow::Borrowed(text)),
            LogField::I64(n) => Attr::I64(*n),
            LogField::U64(n) => Attr::U64(*n),
            LogField::F64(n) => Attr::F64(*n),
            LogField::Bool(b) => Attr::Bool(*b),
        }
    }

    /// `{"value":..,"type":..}` as `LogAttribute` serializes it.
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"value\":");
        self.write_rest(out);
    }

    /// What follows `{"value":`: the value, its type and `}`.
    fn write_rest(&self, out: &mut Vec<u8>) {
        let kind = match self {
            Attr::Str(text) | Attr::Own(text) => {
                write_str(out, text.as_ref());
                "string"
            }
            Attr::I64(n) => {
                let _ = serde_json::to_writer(&mut *out, n);
                "integer"
            }
            Attr::U64(n) => match i64::try_from(*n) {
                Ok(n) => {
                    let _ = write!(out, "{n}");
                    "integer"
                }
                Err(_) => {
                    let _ = write!(out, "\"{n}\"");
                    "string"
                }
            },
            Attr::F64(n) if n.is_finite() => {
                let _ = serde_json::to_writer(&mut *out, n);
                "double"
            }
            // serde_json writes a non-finite float as `null`: a string, as
            // `LogAttribute` writes any other value.
            Attr::F64(_) => {
                out.extend_from_slice(b"\"null\"");
                "string"
            }
            Attr::Bool(b) => {
                let _ = write!(out, "{b}");
                "boolean"
            }
        };
        out.extend_from_slice(b",\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.extend_from_slice(b"\"}");
    }
}

/// How many attributes a log keeps on the stack: lookout's own (up to 16)
/// and a line's fields; a line with more fields allocates once.
const ATTRIBUTES_INLINE: usize = 24;

/// Attributes in the order first set, a later `insert` of a key replacing
/// its value (a handful per log: a vector beats a map). The line's fields
/// come first; lookout's own keys, all different, are then looked up among
/// the fields only.
struct Attributes<'a> {
    list: smallvec::SmallVec<[(&'static str, Attr<'a>); ATTRIBUTES_INLINE]>,
    /// How many entries at the front are the line's fields.
    fields: usize,
}

impl<'a> Attributes<'a> {
    /// Room for `fields` fields and lookout's own attributes.
    fn with_fields(fields: usize) -> Self {
        Self {
            list: smallvec::SmallVec::with_capacity(fields + 16),
            fields: 0,
        }
    }

    /// A field of the line (a later field of the same name replaces it).
    fn field(&mut self, key: &'static str, value: Attr<'a>) {
        self.insert(key, value);
        self.fields = self.list.len();
    }

    /// One of lookout's attributes, replacing a field of that name.
    fn insert(&mut self, key: &'static str, value: Attr<'a>) {
        match self.list[..self.fields].iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.list.push((key, value)),
        }
    }

    /// One of lookout's attributes, unless a field has its name.
    fn insert_if_absent(&mut self, key: &'static str, value: Attr<'a>) {
        if !self.list[..self.fields].iter().any(|(k, _)| *k == key) {
            self.list.push((key, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lookout_headers::RequestId;
    use lookout_policy::PiiPolicy;
    use lookout_scope::User;

    struct Line(Vec<(&'static str, LogField)>);

    impl LogLine for Line {
        fn timestamp(&self) -> SystemTime {
            SystemTime::now()
        }
        fn level(&self) -> LogLevel {
            LogLevel::Info
        }
        fn body(&self) -> &str {
            "loading user"
        }
        fn fields(&self) -> &[(&'static str, LogField)] {
            &self.0
        }
        fn module_path(&self) -> Option<&'static str> {
            Some(module_path!())
        }
        fn file(&self) -> Option<&'static str> {
            Some(file!())
        }
        fn line(&self) -> Option<u32> {
            Some(line!())
        }
    }

    /// The attributes of one log `writer` writes for `line` in a request.
    fn attributes(writer: &LogWriter, line: &Line) -> serde_json::Map<String, Value> {
        let ctx = RequestContext::new(RequestId::parse("req-1").unwrap());
        let mut out = Vec::new();
        writer.write(line, &ctx, Some("/users/{id}"), None, &mut out);
        let log: serde_json::Value = serde_json::from_slice(&out).unwrap();
        log["attributes"].as_object().unwrap().clone()
    }

    fn value(attributes: &serde_json::Map<String, Value>, key: &str) -> Value {
        attributes[key]["value"].clone()
    }

    /// `write_str` as serde_json writes a string.
    fn same_as_serde_json(text: &str) {
        let mut out = Vec::new();
        write_str(&mut out, text);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string(text).unwrap(),
            "{text:?}"
        );
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for text in [
            "",
            "loading user",
            "crates/lookout-demo/src/routes.rs",
            "a \"quoted\" word",
            "C:\\path\\file.rs",
            "tab\there",
            "sixteen bytes ok\"",
            "sixteen bytes ok and more \u{1}",
            "ünïcödé ✓ and \u{7f}",
        ] {
            same_as_serde_json(text);
        }
        // Every character that could need escaping, at every offset of a
        // 8-byte word and in the remainder.
        for c in (0u8..0x80).map(char::from) {
            for at in 0..40 {
                let mut text = "x".repeat(at);
                text.push(c);
                text.push_str("tail");
                same_as_serde_json(&text);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_is_written_as_serde_json_writes_it(text in ".*") {
            same_as_serde_json(&text);
        }
    }

    /// Answers a test puts in a cache.
    const ANSWERED: KeyAnswers = KeyAnswers {
        denied: true,
        lookouts: false,
    };

    #[test]
    fn the_denylist_cache_in_use_further_up_gives_way_to_answers_of_its_own() {
        let answer = with_denied(|outer| {
            outer.insert((0, 1, 2), ANSWERED);
            // A line logged while the cache is in use (no panic on the
            // second borrow): its answers start empty.
            with_denied(|inner| inner.get(&(0, 1, 2)).copied())
        });
        assert_eq!(answer, None);
        assert_eq!(
            with_denied(|denied| denied.get(&(0, 1, 2)).copied()),
            Some(ANSWERED)
        );
    }

    #[test]
    fn denylisted_keys_are_filtered_whether_lookout_or_the_line_sets_them() {
        let mut options = sentry_core::ClientOptions::default();
        options.release = Some("shop@1.0".into());
        let scrubber = Scrubber::new(PiiPolicy::Off).with_keys([
            "request_id",
            "http.route",
            "sentry.release",
            "user_id",
        ]);
        let writer = LogWriter::new(scrubber, &options);
        let line = Line(vec![("user_id", LogField::Str("7".into()))]);
        let attributes = attributes(&writer, &line);
        for key in ["request_id", "http.route", "sentry.release", "user_id"] {
            assert_eq!(value(&attributes, key), "[Filtered]", "{key}");
        }
        assert_eq!(value(&attributes, "sentry.origin"), "auto.tracing");

        // The same writer's keys, not denylisted by another writer: the
        // answers are the writer's own.
        let open = LogWriter::new(Scrubber::new(PiiPolicy::Off), &options);
        let attributes = super::tests::attributes(&open, &line);
        assert_eq!(value(&attributes, "request_id"), "req-1");
        assert_eq!(value(&attributes, "http.route"), "/users/{id}");
        assert_eq!(value(&attributes, "sentry.release"), "shop@1.0");
        assert_eq!(value(&attributes, "user_id"), "7");
    }

    /// Field names, all different.
    const MANY: [&str; 20] = [
        "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13",
        "f14", "f15", "f16", "f17", "f18", "f19",
    ];

    /// The log `writer` writes for `line` in `ctx` on the direct path
    /// (`None` when it declines) and on the general path.
    fn both_paths(
        writer: &LogWriter,
        line: &Line,
        ctx: &RequestContext,
        job: Option<&crate::job::JobName>,
    ) -> (Option<Value>, Value) {
        let route = Some("/users/{id}");
        let pii = ctx.pii().allows_pii();
        let parent = "b7ad6b7169203331";
        let mut direct = Vec::new();
        let site = Site {
            ctx,
            route,
            parent_hex: parent,
            job,
            pii,
        };
        let wrote = writer.write_direct(line, &site, &mut direct);
        assert_eq!(wrote, !direct.is_empty(), "declining writes nothing");
        let mut general = Vec::new();
        writer.write_general(line, &site, &mut general);
        // The test line's timestamp is the time it is asked for.
        let parse = |bytes: &[u8]| {
            let mut log = serde_json::from_slice::<Value>(bytes).unwrap();
            assert!(log["timestamp"].as_f64().unwrap() > 1.7e9);
            log["timestamp"] = Value::Null;
            log
        };
        (wrote.then(|| parse(&direct)), parse(&general))
    }

    #[test]
    fn the_direct_path_writes_what_the_general_path_writes() {
        let mut options = sentry_core::ClientOptions::default();
        options.release = Some("shop@1.0".into());
        options.environment = Some("production".into());
        options.server_name = Some("https://admin:hunter2@web-1.internal".into());
        let fields = || {
            vec![
                ("user_id", LogField::Str("7".into())),
                ("password", LogField::Str("hunter2".into())),
                (
                    "callback",
                    LogField::Str("https://bob:s3cr3t@example.com/x".into()),
                ),
                ("attempt", LogField::I64(-3)),
                ("bytes", LogField::U64(u64::MAX)),
                ("ratio", LogField::F64(f64::NAN)),
                ("cached", LogField::Bool(true)),
                ("note", LogField::Str("a \"quoted\"\n line".into())),
            ]
        };
        let user = User::id("42").email("bob@example.com").username("bob");
        let job = crate::job::JobName("nightly-report".into());
        let scrubbers = || {
            [
                Scrubber::new(PiiPolicy::Off),
                Scrubber::new(PiiPolicy::On),
                Scrubber::new(PiiPolicy::Off).with_keys([
                    "http.route",
                    "code.file.path",
                    "code.line.number",
                    "sentry.origin",
                    "sentry.trace.parent_span_id",
                    "sentry.environment",
                    "attempt",
                    "job",
                    "user.id",
                ]),
            ]
        };
        let mut compared = 0;
        for scrubber in scrubbers() {
            let pii = scrubber.pii();
            let writer = LogWriter::new(scrubber, &options);
            for identified in [false, true] {
                for in_job in [false, true] {
                    for fields in [Vec::new(), fields()] {
                        let ctx = RequestContext::builder(RequestId::parse("req-1").unwrap())
                            .method(if in_job { "" } else { "GET" })
                            .pii(pii)
                            .build();
                        if identified {
                            ctx.identify(user.clone());
                        }
                        let line = Line(fields);
                        let job = in_job.then_some(&job);
                        let (direct, general) = both_paths(&writer, &line, &ctx, job);
                        assert_eq!(
                            direct.as_ref(),
                            Some(&general),
                            "{pii:?} {identified} {in_job}"
                        );
                        compared += 1;
                    }
                }
            }
        }
        assert_eq!(compared, 24);
    }

    #[test]
    fn a_field_named_as_lookouts_attribute_or_another_field_takes_the_general_path() {
        let mut options = sentry_core::ClientOptions::default();
        options.release = Some("shop@1.0".into());
        let writer = LogWriter::new(Scrubber::new(PiiPolicy::Off), &options);
        let ctx = RequestContext::new(RequestId::parse("req-1").unwrap());
        for fields in [
            vec![("http.route", LogField::Str("mine".into()))],
            vec![("sentry.trace.parent_span_id", LogField::Str("mine".into()))],
            vec![("sentry.release", LogField::Str("mine".into()))],
            vec![("user.id", LogField::Str("mine".into()))],
            vec![("job", LogField::Str("mine".into()))],
            vec![("retry", LogField::I64(1)), ("retry", LogField::I64(2))],
            // More fields than the direct path takes, each named apart.
            MANY[..=DIRECT_FIELDS]
                .iter()
                .map(|name| (*name, LogField::Bool(true)))
                .collect(),
        ] {
            let (direct, general) = both_paths(&writer, &Line(fields), &ctx, None);
            assert_eq!(direct, None, "{general}");
        }
        // The general path's answers for them: lookout's own value replaces
        // a field's, except the parent span; a later field replaces an
        // earlier one of the same name.
        let written = |fields| both_paths(&writer, &Line(fields), &ctx, None).1;
        let route = written(vec![("http.route", LogField::Str("mine".into()))]);
        assert_eq!(route["attributes"]["http.route"]["value"], "/users/{id}");
        let parent = written(vec![(
            "sentry.trace.parent_span_id",
            LogField::Str("mine".into()),
        )]);
        assert_eq!(
            parent["attributes"]["sentry.trace.parent_span_id"]["value"],
            "mine"
        );
        let retry = written(vec![
            ("retry", LogField::I64(1)),
            ("retry", LogField::I64(2)),
        ]);
        assert_eq!(retry["attributes"]["retry"]["value"], 2);
    }
}
