//! Request bodies on events (`LOOKOUT_MAX_REQUEST_BODY_SIZE`).
//!
//! A [`BodyRecorder`] sees each chunk of a request's body as the handler
//! reads it (the toolkit's [`RequestBody`](crate::toolkit::RequestBody), for
//! `http-body` bodies and for actix-web's payload stream) and keeps a reference
//! to it (a `Bytes` clone, never a copy) on the request's context, up to the
//! limit: it never reads ahead, records nothing the handler does not read,
//! and drops what it held once the body goes over the limit. The first
//! chunk finds the request (the handler reads its body inside it); a body
//! never read costs nothing but the recorder itself.
//!
//! Only when an event is captured is the body turned into `request.data`
//! (`apply`): JSON as its (compact) JSON text, a form
//! (`application/x-www-form-urlencoded`) as a JSON object of its fields,
//! other text as it is; the scrubber then filters denylisted keys in both,
//! recursively. Binary bodies, multipart bodies (file uploads) and bodies
//! over the limit are left out, with the note Relay reads from `_meta`
//! (`!raw`, `!config`), which sentry-types' `Event` cannot carry: the
//! delivery adds it to the serialized event (`annotate`). Transactions
//! never carry the body.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use lookout_scope::RequestContext;
use sentry_core::Envelope;
use sentry_core::protocol::{EnvelopeItem, Event};
use serde_json::{Map, Value};

use crate::Engine;
use crate::head::{Headers, names};

/// Relay's rule for a value removed because it is not text.
const RULE_RAW: &str = "!raw";
/// Relay's rule for a value removed by the SDK's configuration (its size).
const RULE_CONFIG: &str = "!config";

/// What a body is, from its `content-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyKind {
    Json,
    Form,
    Text,
    Multipart,
    Binary,
}

impl BodyKind {
    fn of(content_type: Option<&str>) -> Self {
        let Some(content_type) = content_type else {
            // Undeclared: text if it decodes as UTF-8.
            return Self::Text;
        };
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        let is = |name: &str| essence.eq_ignore_ascii_case(name);
        let (kind, subtype) = essence.split_once('/').unwrap_or((essence, ""));
        let ends_with = |suffix: &str| {
            subtype.len() >= suffix.len()
                && subtype[subtype.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        };
        if is("application/json") || ends_with("+json") {
            Self::Json
        } else if is("application/x-www-form-urlencoded") {
            Self::Form
        } else if kind.eq_ignore_ascii_case("multipart") {
            Self::Multipart
        } else if kind.eq_ignore_ascii_case("text")
            || ends_with("+xml")
            || is("application/xml")
            || is("application/javascript")
            || is("application/graphql")
        {
            Self::Text
        } else {
            Self::Binary
        }
    }

    /// Whether its bytes are worth holding (the others are left out anyway).
    fn is_text(self) -> bool {
        matches!(self, Self::Json | Self::Form | Self::Text)
    }
}

/// What recording one request's body is to do, decided when the request
/// arrives: the limit, what kind of body it declares, its declared length.
/// `Copy`, no allocation.
///
/// ```
/// use lookout_core::Engine;
/// use lookout_core::request_body::BodyRecording;
///
/// let engine = Engine::builder().build();
/// let plan = BodyRecording::new(&engine, Some("application/json"), Some(42), true);
/// assert!(plan.is_some());
/// // Nothing to record: an empty body, or bodies never recorded.
/// assert!(BodyRecording::new(&engine, None, Some(0), true).is_none());
/// let never = Engine::builder().request_body_size(lookout_policy::RequestBodySize::Never).build();
/// assert!(BodyRecording::new(&never, Some("application/json"), Some(42), true).is_none());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BodyRecording {
    limit: usize,
    kind: BodyKind,
    declared: Option<u64>,
}

impl BodyRecording {
    /// The plan for a request with this `content-type` and
    /// `content-length`; `may_have_body` says whether it may carry a body
    /// without a length (`transfer-encoding`, or a protocol that does not
    /// say: HTTP/2 and later). `None` when there is nothing to record: the
    /// engine records no bodies (`never`), or the request has no body.
    #[must_use]
    pub fn new(
        engine: &Engine,
        content_type: Option<&str>,
        content_length: Option<u64>,
        may_have_body: bool,
    ) -> Option<Self> {
        let limit = engine.engine.request_body_limit?;
        let has_body = match content_length {
            Some(length) => length > 0,
            None => may_have_body,
        };
        has_body.then(|| Self {
            limit,
            kind: BodyKind::of(content_type),
            declared: content_length,
        })
    }

    /// The plan for an `http` 1.x request (its `content-type`,
    /// `content-length`, `transfer-encoding` and version).
    ///
    /// ```
    /// let engine = lookout_core::Engine::builder().build();
    /// let get = http::Request::get("/").body(()).unwrap();
    /// assert!(lookout_core::request_body::BodyRecording::for_http(&engine, &get).is_none());
    /// let post = http::Request::post("/").header("content-length", "2").body(()).unwrap();
    /// assert!(lookout_core::request_body::BodyRecording::for_http(&engine, &post).is_some());
    /// ```
    #[must_use]
    pub fn for_http<B>(engine: &Engine, request: &http::Request<B>) -> Option<Self> {
        let headers = request.headers();
        let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
        let content_length =
            header(http::header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
        let may_have_body = headers.contains_key(http::header::TRANSFER_ENCODING)
            || request.version() >= http::Version::HTTP_2;
        Self::new(
            engine,
            header(http::header::CONTENT_TYPE),
            content_length,
            may_have_body,
        )
    }

    /// The plan for a request with these headers, read through
    /// [`Headers`] (any framework's header map): its `content-type`,
    /// `content-length` and `transfer-encoding`; `http2_or_later` says
    /// whether its protocol is HTTP/2 or later (a body without a declared
    /// length). A header whose first value is not visible ASCII counts as
    /// its next one.
    ///
    /// ```
    /// use lookout_core::request_body::BodyRecording;
    ///
    /// let engine = lookout_core::Engine::builder().build();
    /// let mut headers = http::HeaderMap::new();
    /// assert!(BodyRecording::for_headers(&engine, &headers, false).is_none());
    /// // HTTP/2 may carry a body without saying its length.
    /// assert!(BodyRecording::for_headers(&engine, &headers, true).is_some());
    /// headers.insert("transfer-encoding", "chunked".parse().unwrap());
    /// assert!(BodyRecording::for_headers(&engine, &headers, false).is_some());
    /// ```
    #[must_use]
    pub fn for_headers<H: Headers + ?Sized>(
        engine: &Engine,
        headers: &H,
        http2_or_later: bool,
    ) -> Option<Self> {
        let header = |name| headers.values_of(name).next();
        let content_length = header(names::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok());
        let may_have_body = http2_or_later || header(names::TRANSFER_ENCODING).is_some();
        Self::new(
            engine,
            header(names::CONTENT_TYPE),
            content_length,
            may_have_body,
        )
    }
}

/// Records the chunks of one request's body as the handler reads them (see
/// the [module docs](self)). Framework body wrappers call
/// [`chunk`](Self::chunk) for each chunk read and [`end`](Self::end) when
/// the body is done.
///
/// ```
/// use bytes::Bytes;
/// use lookout_core::request_body::{BodyRecorder, BodyRecording};
/// use lookout_core::testing::TestLookout;
///
/// let test = TestLookout::new();
/// let headers = http::HeaderMap::new();
/// let head = lookout_core::RequestHead::new("POST", "/orders", &headers);
/// let in_flight = test.engine().begin(&head);
/// let plan = BodyRecording::new(test.engine(), Some("text/plain"), Some(5), true).unwrap();
/// let mut recorder = BodyRecorder::new(plan);
/// // The handler reads its body inside the request.
/// in_flight.context().enter(|| {
///     recorder.chunk(&Bytes::from_static(b"hello"));
///     recorder.end();
///     sentry_core::capture_message("failed", sentry_core::Level::Error);
/// });
/// in_flight.finish(&lookout_core::ResponseHead::new(http::StatusCode::OK)).body.complete();
/// let event = &test.events()[0];
/// assert_eq!(event.request.as_ref().unwrap().data.as_deref(), Some("hello"));
/// ```
#[derive(Debug)]
pub struct BodyRecorder {
    plan: BodyRecording,
    state: Recorder,
}

#[derive(Debug)]
enum Recorder {
    /// No chunk read yet: the request is looked up at the first one.
    NotStarted,
    Recording(Arc<RecordedBody>),
    Off,
}

impl BodyRecorder {
    /// A recorder for `plan`.
    #[must_use]
    pub fn new(plan: BodyRecording) -> Self {
        Self {
            plan,
            state: Recorder::NotStarted,
        }
    }

    /// The handler read `data`: keep a reference to it while the body is
    /// within the limit. Call it inside the request (where the handler
    /// reads its body).
    pub fn chunk(&mut self, data: &Bytes) {
        if data.is_empty() {
            return;
        }
        if matches!(self.state, Recorder::NotStarted) {
            self.state = self.start();
        }
        if let Recorder::Recording(record) = &self.state {
            record.push(data);
        }
    }

    /// The body was read to its end.
    pub fn end(&mut self) {
        if let Recorder::Recording(record) = &self.state {
            record.lock().complete = true;
        }
    }

    /// The request's record, unless outside a request, without a client
    /// (no event can be captured), or recorded by an outer lookout already.
    fn start(&self) -> Recorder {
        let Some(ctx) = lookout_scope::current() else {
            return Recorder::Off;
        };
        if ctx.hub().is_none() {
            return Recorder::Off;
        }
        let record = ctx.extension_or_insert_with(|| RecordedBody::new(self.plan));
        if record.claimed.swap(true, Ordering::AcqRel) {
            return Recorder::Off;
        }
        Recorder::Recording(record)
    }
}

/// One request's body as read so far (an extension of its context).
#[derive(Debug)]
pub(crate) struct RecordedBody {
    plan: BodyRecording,
    /// Taken by the first recorder of the request (nested lookout layers
    /// each wrap the body; one records).
    claimed: AtomicBool,
    state: Mutex<Chunks>,
    /// The `_meta` rule of the last event that left the body out.
    note: OnceLock<&'static str>,
}

#[derive(Debug, Default)]
struct Chunks {
    chunks: Vec<Bytes>,
    size: usize,
    over_limit: bool,
    complete: bool,
}

impl RecordedBody {
    fn new(plan: BodyRecording) -> Self {
        let over_limit = plan
            .declared
            .is_some_and(|length| length > plan.limit as u64);
        Self {
            plan,
            claimed: AtomicBool::new(false),
            state: Mutex::new(Chunks {
                over_limit,
                ..Chunks::default()
            }),
            note: OnceLock::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Chunks> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, data: &Bytes) {
        let mut state = self.lock();
        if state.over_limit {
            return;
        }
        state.size += data.len();
        if state.size > self.plan.limit {
            // Never hold more than the limit.
            state.over_limit = true;
            state.chunks = Vec::new();
        } else if self.plan.kind.is_text() {
            state.chunks.push(data.clone());
        }
    }

    /// `request.data` for an event, or the `_meta` rule it is left out by.
    fn data(&self) -> Result<String, &'static str> {
        let state = self.lock();
        if state.over_limit {
            return Err(RULE_CONFIG);
        }
        if !self.plan.kind.is_text() {
            return Err(RULE_RAW);
        }
        let joined;
        let bytes: &[u8] = match state.chunks.as_slice() {
            [one] => one,
            chunks => {
                joined = chunks.concat();
                &joined
            }
        };
        match self.plan.kind {
            BodyKind::Json => {
                if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
                    return Ok(value.to_string());
                }
            }
            BodyKind::Form => {
                let fields: Map<String, Value> = form_urlencoded::parse(bytes)
                    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                    .collect();
                return Ok(Value::Object(fields).to_string());
            }
            _ => {}
        }
        // Text, or JSON that does not parse (cut short): the text as read.
        String::from_utf8(bytes.to_vec()).map_err(|_| RULE_RAW)
    }
}

/// Adds the current request's body to `event` as `request.data`, or keeps
/// the reason it is left out for [`annotate`]. A request whose handler read
/// no body adds nothing.
pub(crate) fn apply(ctx: &RequestContext, event: &mut Event<'static>) {
    let Some(record) = ctx.extension::<RecordedBody>() else {
        return;
    };
    let request = event.request.get_or_insert_with(Default::default);
    match record.data() {
        Ok(data) => request.data = Some(data),
        Err(rule) => {
            let _ = record.note.set(rule);
        }
    }
}

/// An event envelope of the current request whose body was left out gets
/// Relay's `_meta` note on its `request.data` (`{"": {"rem": [[rule, "x"]]}}`),
/// written into the serialized event: sentry-types' `Event` has no `_meta`.
/// Other envelopes are returned as they are.
pub(crate) fn annotate(envelope: Envelope) -> Envelope {
    // Most envelopes (transactions, logs) stop at this look at their items.
    let left_out = envelope.items().any(|item| match item {
        EnvelopeItem::Event(event) => event.request.as_ref().is_some_and(|r| r.data.is_none()),
        _ => false,
    });
    if !left_out {
        return envelope;
    }
    let Some(rule) = lookout_scope::current()
        .and_then(|ctx| ctx.extension::<RecordedBody>())
        .and_then(|record| record.note.get().copied())
    else {
        return envelope;
    };
    match with_meta(&envelope, rule).and_then(|bytes| Envelope::from_bytes_raw(bytes).ok()) {
        Some(annotated) => annotated,
        None => envelope,
    }
}

/// The serialized envelope with `_meta` on its event item.
fn with_meta(envelope: &Envelope, rule: &str) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    envelope.to_writer(&mut raw).ok()?;
    let mut out = Vec::with_capacity(raw.len() + 64);
    let line_end = |bytes: &[u8]| {
        bytes
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(bytes.len())
    };
    let end = line_end(&raw);
    out.extend_from_slice(&raw[..end]);
    out.push(b'\n');
    let mut rest = raw.get(end + 1..).unwrap_or_default();
    while !rest.is_empty() {
        let end = line_end(rest);
        let mut header: Value = serde_json::from_slice(&rest[..end]).ok()?;
        rest = rest.get(end + 1..).unwrap_or_default();
        let length = match header.get("length").and_then(Value::as_u64) {
            Some(length) => usize::try_from(length).ok()?,
            None => line_end(rest),
        };
        let payload = rest.get(..length)?;
        rest = rest.get(length..).unwrap_or_default();
        rest = rest.strip_prefix(b"\n").unwrap_or(rest);
        let payload = if header.get("type").and_then(Value::as_str) == Some("event") {
            let mut event: Value = serde_json::from_slice(payload).ok()?;
            let note =
                serde_json::json!({ "request": { "data": { "": { "rem": [[rule, "x"]] } } } });
            event.as_object_mut()?.insert("_meta".to_owned(), note);
            let payload = serde_json::to_vec(&event).ok()?;
            header["length"] = Value::from(payload.len());
            std::borrow::Cow::Owned(payload)
        } else {
            std::borrow::Cow::Borrowed(payload)
        };
        out.extend_from_slice(&serde_json::to_vec(&header).ok()?);
        out.push(b'\n');
        out.extend_from_slice(&payload);
        out.push(b'\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_from_content_types() {
        for (content_type, kind) in [
            (Some("application/json"), BodyKind::Json),
            (Some("Application/JSON; charset=utf-8"), BodyKind::Json),
            (Some("application/vnd.api+json"), BodyKind::Json),
            (Some("application/x-www-form-urlencoded"), BodyKind::Form),
            (Some("multipart/form-data; boundary=x"), BodyKind::Multipart),
            (Some("text/plain"), BodyKind::Text),
            (Some("application/xml"), BodyKind::Text),
            (Some("application/octet-stream"), BodyKind::Binary),
            (Some("image/png"), BodyKind::Binary),
            (None, BodyKind::Text),
        ] {
            assert_eq!(BodyKind::of(content_type), kind, "{content_type:?}");
        }
    }

    /// lookout-actix plans through `for_headers` what axum and warp plan
    /// through `for_http`: the same plan for the same request.
    #[test]
    fn for_headers_plans_as_for_http() {
        let engine = Engine::builder().build();
        let requests = [
            http::Request::get("/"),
            http::Request::post("/").header("content-length", "0"),
            http::Request::post("/")
                .header("content-type", "application/json")
                .header("content-length", " 42 "),
            http::Request::post("/").header("transfer-encoding", "chunked"),
            http::Request::post("/").version(http::Version::HTTP_2),
            http::Request::post("/")
                .header("content-type", "text/plain")
                .header("content-length", "x"),
        ];
        for request in requests {
            let request = request.body(()).unwrap();
            let http2 = request.version() >= http::Version::HTTP_2;
            let by_headers = BodyRecording::for_headers(&engine, request.headers(), http2);
            let by_http = BodyRecording::for_http(&engine, &request);
            assert_eq!(
                format!("{by_headers:?}"),
                format!("{by_http:?}"),
                "{request:?}"
            );
        }
    }

    #[test]
    fn past_the_limit_nothing_is_held_and_chunks_are_references() {
        let plan = BodyRecording {
            limit: 10,
            kind: BodyKind::Text,
            declared: None,
        };
        let record = RecordedBody::new(plan);
        let chunk = Bytes::from(vec![b'a'; 6]);
        record.push(&chunk);
        // A reference to the chunk the handler read, not a copy.
        assert_eq!(record.lock().chunks[0].as_ptr(), chunk.as_ptr());
        record.push(&chunk);
        let state = record.lock();
        assert!(state.over_limit);
        assert!(state.chunks.is_empty() && state.chunks.capacity() == 0);
        drop(state);
        assert_eq!(record.data(), Err(RULE_CONFIG));
    }

    #[test]
    fn meta_goes_on_the_serialized_event_and_the_envelope_still_parses() {
        let event = Event {
            request: Some(Default::default()),
            ..Event::default()
        };
        let envelope: Envelope = event.into();
        let bytes = with_meta(&envelope, RULE_CONFIG).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let event_line = text.lines().nth(2).unwrap();
        let event: Value = serde_json::from_str(event_line).unwrap();
        assert_eq!(
            event["_meta"],
            serde_json::json!({"request": {"data": {"": {"rem": [["!config", "x"]]}}}})
        );
        let parsed = Envelope::from_slice(&bytes).unwrap();
        assert!(parsed.event().is_some());
    }
}
