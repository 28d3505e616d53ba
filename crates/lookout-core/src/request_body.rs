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
//! (`application/x-www-form-urlencoded`) as a JSON object of its fields, a
//! multipart form (`multipart/form-data`) as a JSON object of its text
//! fields, other text as it is; the scrubber then filters denylisted keys,
//! recursively. Binary bodies and bodies over the limit are left out, and so
//! are a multipart form's file parts (as sentry-python does: the field is
//! there, empty), each with the note Relay reads from `_meta` (`!raw`,
//! `!config`), which sentry-types' `Event` cannot carry: the delivery adds
//! it to the serialized event (`annotate`). Transactions never carry the
//! body.
//!
//! Multipart forms are parsed by [`multer`] (what axum's own `Multipart`
//! extractor uses) over the chunks already recorded, so nothing is copied
//! to parse them; the boundary is the body's own first line, so the
//! recording plan stays a `Copy` value with no allocation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use lookout_scope::RequestContext;
use sentry_core::Envelope;
use sentry_core::protocol::{EnvelopeItem, Event};
use serde_json::json;
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
    fn is_held(self) -> bool {
        !matches!(self, Self::Binary)
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
    /// What the last event left out of the body, for its `_meta` note.
    note: Mutex<Option<LeftOut>>,
}

/// What an event left out of the recorded body, noted in its `_meta`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum LeftOut {
    /// All of it, by this rule.
    Whole(&'static str),
    /// A multipart form's file parts, by their field names (`!raw`).
    Files(Arc<[String]>),
}

/// `request.data` for an event: the text, and the multipart file fields
/// left out of it.
#[derive(Debug, PartialEq)]
struct BodyData {
    text: String,
    files: Vec<String>,
}

impl BodyData {
    fn text(text: String) -> Self {
        Self {
            text,
            files: Vec::new(),
        }
    }
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
            note: Mutex::new(None),
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
        } else if self.plan.kind.is_held() {
            state.chunks.push(data.clone());
        }
    }

    /// `request.data` for an event, or the `_meta` rule it is left out by.
    fn data(&self) -> Result<BodyData, &'static str> {
        let state = self.lock();
        if state.over_limit {
            return Err(RULE_CONFIG);
        }
        if !self.plan.kind.is_held() {
            return Err(RULE_RAW);
        }
        if self.plan.kind == BodyKind::Multipart {
            return multipart(&state.chunks).ok_or(RULE_RAW);
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
                    return Ok(BodyData::text(value.to_string()));
                }
            }
            BodyKind::Form => {
                let fields: Map<String, Value> = form_urlencoded::parse(bytes)
                    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                    .collect();
                return Ok(BodyData::text(Value::Object(fields).to_string()));
            }
            _ => {}
        }
        // Text, or JSON that does not parse (cut short): the text as read.
        String::from_utf8(bytes.to_vec())
            .map(BodyData::text)
            .map_err(|_| RULE_RAW)
    }

    fn note(&self) -> std::sync::MutexGuard<'_, Option<LeftOut>> {
        self.note.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A multipart form's fields as a JSON object: text fields with their text,
/// file parts (a file name, or a body that is not text) empty and named in
/// `files`. `None` when the body does not parse as multipart at all; a form
/// cut short keeps the fields read before the cut.
///
/// multer's parser is asynchronous over a stream; over chunks already in
/// memory every poll is ready, so it is polled here with a no-op waker (a
/// `Pending` would mean more input is wanted: the form ends there).
fn multipart(chunks: &[Bytes]) -> Option<BodyData> {
    let first = chunks.first()?;
    let line = first.split(|b| *b == b'\n').next().unwrap_or_default();
    let boundary = std::str::from_utf8(line.strip_prefix(b"--")?)
        .ok()?
        .trim_end_matches('\r');
    if boundary.is_empty() {
        return None;
    }
    let stream = futures_util::stream::iter(
        chunks
            .iter()
            .cloned()
            .map(Ok::<Bytes, std::convert::Infallible>),
    );
    let mut form = multer::Multipart::new(stream, boundary);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut fields = Map::new();
    let mut files = Vec::new();
    let mut parsed_any = false;
    loop {
        let field = match form.poll_next_field(&mut cx) {
            std::task::Poll::Ready(Ok(Some(field))) => field,
            _ => break,
        };
        parsed_any = true;
        let name = field.name().unwrap_or_default().to_owned();
        let declared_text = field.content_type().is_none_or(|mime| {
            matches!(
                BodyKind::of(Some(mime.essence_str())),
                BodyKind::Json | BodyKind::Form | BodyKind::Text
            )
        });
        if field.file_name().is_some() || !declared_text {
            fields.insert(name.clone(), Value::String(String::new()));
            files.push(name);
            continue;
        }
        let read = std::pin::pin!(field.bytes());
        let text = match std::future::Future::poll(read, &mut cx) {
            std::task::Poll::Ready(Ok(bytes)) => String::from_utf8(bytes.to_vec()),
            _ => break,
        };
        match text {
            Ok(text) => {
                fields.insert(name, Value::String(text));
            }
            // Declared as text, but not: left out like a file.
            Err(_) => {
                fields.insert(name.clone(), Value::String(String::new()));
                files.push(name);
            }
        }
    }
    parsed_any.then(|| BodyData {
        text: Value::Object(fields).to_string(),
        files,
    })
}

/// Adds the current request's body to `event` as `request.data`, or keeps
/// what is left out of it for [`annotate`]. A request whose handler read
/// no body adds nothing.
pub(crate) fn apply(ctx: &RequestContext, event: &mut Event<'static>) {
    let Some(record) = ctx.extension::<RecordedBody>() else {
        return;
    };
    let request = event.request.get_or_insert_with(Default::default);
    let left_out = match record.data() {
        Ok(BodyData { text, files }) => {
            request.data = Some(text);
            (!files.is_empty()).then(|| LeftOut::Files(files.into()))
        }
        Err(rule) => Some(LeftOut::Whole(rule)),
    };
    *record.note() = left_out;
}

/// An event envelope of the current request whose body was left out, whole
/// or in part, gets Relay's `_meta` note on its `request.data` (`{"": {"rem":
/// [[rule, "x"]]}}` for the whole body, the same under each file field's name
/// for a multipart form's files), written into the serialized event:
/// sentry-types' `Event` has no `_meta`. `request.data` stays JSON text,
/// as for every body (sentry-types reads it as a string). Other envelopes
/// are returned as they are.
pub(crate) fn annotate(envelope: Envelope) -> Envelope {
    // Most envelopes (transactions, logs) stop at this look at their items.
    let (mut with_request, mut without_data) = (false, false);
    for item in envelope.items() {
        if let EnvelopeItem::Event(event) = item
            && let Some(request) = &event.request
        {
            with_request = true;
            without_data |= request.data.is_none();
        }
    }
    if !with_request {
        return envelope;
    }
    let Some(left_out) = lookout_scope::current()
        .and_then(|ctx| ctx.extension::<RecordedBody>())
        .and_then(|record| record.note().clone())
    else {
        return envelope;
    };
    // A body left out whole is noted on an event without data only; a
    // form's file parts on the event that carries the form.
    if matches!(left_out, LeftOut::Whole(_)) != without_data {
        return envelope;
    }
    match with_meta(&envelope, &left_out).and_then(|bytes| Envelope::from_bytes_raw(bytes).ok()) {
        Some(annotated) => annotated,
        None => envelope,
    }
}

/// The `_meta` note for what `left_out` names.
fn meta_for(left_out: &LeftOut) -> Value {
    let removed = |rule: &str| json!({ "": { "rem": [[rule, "x"]] } });
    match left_out {
        LeftOut::Whole(rule) => json!({ "request": { "data": removed(rule) } }),
        LeftOut::Files(files) => {
            let fields: Map<String, Value> = files
                .iter()
                .map(|name| (name.clone(), removed(RULE_RAW)))
                .collect();
            json!({ "request": { "data": fields } })
        }
    }
}

/// The serialized envelope with `_meta` on its event item.
fn with_meta(envelope: &Envelope, left_out: &LeftOut) -> Option<Vec<u8>> {
    let note = meta_for(left_out);
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
            event
                .as_object_mut()?
                .insert("_meta".to_owned(), note.clone());
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
            (Some("Multipart/Mixed"), BodyKind::Multipart),
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

    /// A multipart form as a client sends it, cut into `cuts` chunks.
    fn form(cuts: usize) -> Vec<Bytes> {
        let body = concat!(
            "--XyZ\r\n",
            "Content-Disposition: form-data; name=\"user\"\r\n\r\n",
            "ada\r\n",
            "--XyZ\r\n",
            "Content-Disposition: form-data; name=\"password\"\r\n\r\n",
            "hunter2\r\n",
            "--XyZ\r\n",
            "Content-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\n",
            "Content-Type: image/png\r\n\r\n",
            "\u{89}PNG\r\n",
            "--XyZ\r\n",
            "Content-Disposition: form-data; name=\"blob\"\r\n",
            "Content-Type: application/octet-stream\r\n\r\n",
            "raw\r\n",
            "--XyZ\r\n",
            "Content-Disposition: form-data; name=\"note\"\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n\r\n",
            "déjà vu\r\n",
            "--XyZ--\r\n",
        )
        .as_bytes();
        let size = body.len().div_ceil(cuts);
        body.chunks(size).map(Bytes::copy_from_slice).collect()
    }

    #[test]
    fn a_multipart_forms_text_fields_are_parsed_and_its_files_left_out() {
        for cuts in [1, 2, 7, 40] {
            let data = multipart(&form(cuts)).unwrap();
            let fields: Value = serde_json::from_str(&data.text).unwrap();
            assert_eq!(
                fields,
                json!({"user": "ada", "password": "hunter2", "avatar": "", "blob": "", "note": "déjà vu"}),
                "{cuts} chunks"
            );
            assert_eq!(data.files, ["avatar", "blob"], "{cuts} chunks");
        }
    }

    #[test]
    fn a_multipart_form_cut_short_keeps_the_fields_before_the_cut() {
        let whole: Vec<u8> = form(1).concat();
        let cut = Bytes::copy_from_slice(&whole[..whole.len() / 2]);
        let data = multipart(&[cut]).unwrap();
        let fields: Value = serde_json::from_str(&data.text).unwrap();
        assert_eq!(fields["user"], "ada");
        assert!(fields.get("note").is_none(), "{fields}");
        // Not multipart at all: left out whole.
        assert!(multipart(&[Bytes::from_static(b"user=ada")]).is_none());
        assert!(multipart(&[]).is_none());
    }

    #[test]
    fn a_multipart_record_is_held_and_noted_by_field() {
        let plan = BodyRecording {
            limit: 10_000,
            kind: BodyKind::Multipart,
            declared: None,
        };
        let record = RecordedBody::new(plan);
        for chunk in form(3) {
            record.push(&chunk);
        }
        let data = record.data().unwrap();
        assert_eq!(data.files, ["avatar", "blob"]);
        let note = meta_for(&LeftOut::Files(data.files.into()));
        assert_eq!(
            note,
            json!({"request": {"data": {
                "avatar": {"": {"rem": [["!raw", "x"]]}},
                "blob": {"": {"rem": [["!raw", "x"]]}},
            }}})
        );
    }

    #[test]
    fn file_notes_go_on_the_forms_fields() {
        let event = Event {
            request: Some(sentry_core::protocol::Request {
                data: Some(r#"{"user":"ada","avatar":""}"#.to_owned()),
                ..Default::default()
            }),
            ..Event::default()
        };
        let envelope: Envelope = event.into();
        let left_out = LeftOut::Files(vec!["avatar".to_owned()].into());
        let bytes = with_meta(&envelope, &left_out).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let event: Value = serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
        assert_eq!(event["request"]["data"], r#"{"user":"ada","avatar":""}"#);
        assert_eq!(
            event["_meta"]["request"]["data"]["avatar"],
            json!({"": {"rem": [["!raw", "x"]]}})
        );
        assert!(Envelope::from_slice(&bytes).unwrap().event().is_some());
    }

    #[test]
    fn meta_goes_on_the_serialized_event_and_the_envelope_still_parses() {
        let event = Event {
            request: Some(Default::default()),
            ..Event::default()
        };
        let envelope: Envelope = event.into();
        let bytes = with_meta(&envelope, &LeftOut::Whole(RULE_CONFIG)).unwrap();
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
