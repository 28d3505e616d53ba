//! Stack traces and runtime contexts on events.
//!
//! Owns what makes an event readable where it happened: frames for a panic
//! (taken by a panic hook at the panic site), for a typed error (taken where
//! it became a 5xx response, see [`ReportedError`](crate::toolkit::ReportedError)),
//! and for a message or a `tracing` ERROR without an error (the capture
//! site's, when `attach_stacktrace` is on, as the Python SDK attaches them to
//! messages); which frames are the application's (in-app) and which are
//! lookout's, the runtime's or the framework's; and the `os`, `rust`,
//! `device` and `app` contexts and `server_name`. It does not decide what is
//! captured (lookout-classify) and never walks a stack for a request that
//! captures nothing.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{Once, PoisonError};
use std::time::SystemTime;

use sentry_core::protocol::{AppContext, Context, Event, Frame, Stacktrace, Thread};
use sentry_core::{ClientOptions, Integration};

/// Module prefixes of frames that are never the application's: lookout's
/// own crates and the runtime, HTTP and framework crates between the
/// server and a handler (sentry-backtrace already knows `std`, `core`,
/// `alloc`, `tokio`, `futures`, `tracing_core`, `anyhow`, `log`).
pub(crate) const NOT_IN_APP: &[&str] = &[
    "lookout::",
    "lookout_core::",
    "lookout_scope::",
    "lookout_classify::",
    "lookout_policy::",
    "lookout_headers::",
    "lookout_axum::",
    "lookout_actix::",
    "lookout_warp::",
    "lookout_reqwest::",
    "axum::",
    "axum_core::",
    "actix_web::",
    "actix_http::",
    "actix_server::",
    "actix_service::",
    "actix_utils::",
    "actix_rt::",
    "warp::",
    "hyper::",
    "hyper_util::",
    "tower::",
    "tower_http::",
    "tower_service::",
    "tower_layer::",
    "http_body::",
    "http_body_util::",
    "tracing::",
    "tracing_subscriber::",
    "sentry_tracing::",
    "reqwest::",
    "reqwest_middleware::",
    "futures_task::",
    "futures_executor::",
    // Blanket impls of `core` (`<T as core::convert::Into<U>>::into`).
    "T as core::",
];

/// The frames nearest the capture that are the capturing machinery, not
/// the place of the failure: dropped from the top of a stack.
const CAPTURE_MACHINERY: &[&str] = &[
    "backtrace::",
    "sentry_backtrace::",
    "sentry_core::",
    "sentry_tracing::",
    "tracing_core::",
    "tracing_subscriber::",
    "tracing::",
    "lookout::",
    "lookout_core::",
    "lookout_classify::",
    "lookout_scope::",
    "lookout_axum::",
    "lookout_actix::",
    "lookout_warp::",
    "actix_web::error::",
    "<T as core::convert::",
    // The standard library's glue between them (`Option::and_then`,
    // closures called through `Box<dyn Fn>`, conversions, the panic hook).
    "core::",
    "alloc::",
    "std::",
    "rust_begin_unwind",
    "__rustc::",
    "<unknown>",
];

/// Where lookout's instrumentation polls the request's future: frames from
/// here outwards (the server, the runtime) are above the handler and cut.
const INSTRUMENTATION: &[&str] = &[
    "lookout_core::toolkit::instrumented::",
    "lookout_core::toolkit::body::",
    "lookout_core::toolkit::http_service::",
    "lookout_core::toolkit::route::",
    "lookout_scope::",
    "lookout_core::job::",
];

/// The panic machinery: from the first of these frames on, a panic's stack
/// is the runtime's, not the application's.
const PANIC_MACHINERY: &[&str] = &[
    "std::panicking::",
    "core::panicking::",
    "std::panic::panic_any",
    "std::sys::backtrace::__rust_end_short_backtrace",
    "rust_begin_unwind",
    "__rustc::rust_begin_unwind",
];

/// Whether `function` starts with one of `prefixes`, also behind the
/// `<F as `, `<` and `_<` that trait impls put in front of a path. Plain
/// prefix checks: an event's frames each go through this several times.
fn starts_with_any(function: &str, prefixes: &[&str]) -> bool {
    let mut function = function;
    loop {
        if prefixes.iter().any(|p| function.starts_with(p)) {
            return true;
        }
        match function
            .strip_prefix("<F as ")
            .or_else(|| function.strip_prefix('<'))
            .or_else(|| function.strip_prefix("_<"))
        {
            Some(rest) => function = rest,
            None => return false,
        }
    }
}

/// `stacktrace` (oldest frame first) without the capturing machinery at
/// its top and without what lies outside lookout's instrumentation at its
/// bottom; `None` when nothing is left.
#[must_use]
#[cfg(any(test, feature = "anyhow"))]
pub(crate) fn trim(mut stacktrace: Stacktrace) -> Option<Stacktrace> {
    let kept = kept_range(&stacktrace.frames);
    stacktrace.frames.truncate(kept.end);
    stacktrace.frames.drain(..kept.start);
    (!stacktrace.frames.is_empty()).then_some(stacktrace)
}

/// The frames [`trim`] keeps of `frames` (oldest first), as a range: the
/// trimming is decided on borrowed frames, so only the kept ones are copied
/// out of the symbol cache.
fn kept_range<T: std::borrow::Borrow<Frame>>(frames: &[T]) -> std::ops::Range<usize> {
    fn function<T: std::borrow::Borrow<Frame>>(frame: &T) -> &str {
        frame.borrow().function.as_deref().unwrap_or_default()
    }
    // The capture's own frames, down to the first that is not (or that is
    // lookout's instrumentation: an event lookout captured itself when the
    // request finished has no frames of the application's). A request's
    // context entered for the capture (`RequestContext::enter`) is part of
    // the capture at the top; further down it is instrumentation.
    let mut end = frames.len();
    while end > 0 && {
        let function = function(&frames[end - 1]);
        starts_with_any(function, CAPTURE_MACHINERY)
            && (function.contains("lookout_scope::") || !starts_with_any(function, INSTRUMENTATION))
    } {
        end -= 1;
    }
    let start = frames[..end]
        .iter()
        .rposition(|f| starts_with_any(function(f), INSTRUMENTATION))
        .map_or(0, |boundary| boundary + 1);
    start..end
}

/// A backtrace taken earlier (unresolved: cheap to take), resolved and
/// turned into trimmed frames now that an event needs them.
#[must_use]
pub(crate) fn resolve(backtrace: backtrace::Backtrace) -> Option<Stacktrace> {
    trimmed(&backtrace, false)
}

/// Addresses the symbol cache holds at most; past it, it starts over.
const SYMBOL_CACHE_CAPACITY: usize = 16_384;

/// The frames each instruction address resolved to, as
/// `sentry_backtrace::backtrace_to_stacktrace` makes them (more than one
/// where functions were inlined). Resolving an address walks the binary's
/// debug info (tens of microseconds a frame); the events of one error path
/// share their addresses, so each is resolved once.
static SYMBOLS: std::sync::LazyLock<std::sync::Mutex<HashMap<usize, Vec<Frame>>>> =
    std::sync::LazyLock::new(Default::default);

/// Resolves the addresses of `backtrace` the symbol cache does not hold
/// yet, and caches the frames sentry-backtrace makes of each (newest first,
/// as in the backtrace), each with its crate (`package`) set, which
/// sentry-backtrace would otherwise find with a regex per frame and event.
fn cache_symbols(backtrace: &backtrace::Backtrace) {
    let unknown: Vec<backtrace::BacktraceFrame> = {
        let symbols = SYMBOLS.lock().unwrap_or_else(PoisonError::into_inner);
        backtrace
            .frames()
            .iter()
            .filter(|frame| !symbols.contains_key(&ip(frame)))
            .cloned()
            .collect()
    };
    if unknown.is_empty() {
        return;
    }
    let mut fresh = backtrace::Backtrace::from(unknown);
    fresh.resolve();
    let by_address = fresh.frames().iter().map(|frame| {
        let one = backtrace::Backtrace::from(vec![frame.clone()]);
        let mut frames = sentry_backtrace::backtrace_to_stacktrace(&one)
            .map(|stacktrace| stacktrace.frames)
            .unwrap_or_default();
        // `from_frames_reversed` put the outermost of an inlined run first.
        frames.reverse();
        for frame in &mut frames {
            if frame.package.is_none() {
                frame.package = frame
                    .function
                    .as_deref()
                    .and_then(crate::in_app::crate_name)
                    .map(str::to_owned);
            }
        }
        (ip(frame), frames)
    });
    let by_address: Vec<(usize, Vec<Frame>)> = by_address.collect();
    let mut boundaries = BOUNDARIES.write().unwrap_or_else(PoisonError::into_inner);
    let mut symbols = SYMBOLS.lock().unwrap_or_else(PoisonError::into_inner);
    if symbols.len() > SYMBOL_CACHE_CAPACITY {
        symbols.clear();
        boundaries.clear();
    }
    for (address, frames) in by_address {
        if frames.iter().any(is_boundary) {
            boundaries.insert(address);
        }
        symbols.insert(address, frames);
    }
}

/// Addresses whose frames are lookout's instrumentation below a handler
/// (not `lookout_scope`'s, which may also be part of a capture at the
/// top of a stack): a stack walk stops at the first, since [`trim`] cuts
/// there anyway.
static BOUNDARIES: std::sync::LazyLock<std::sync::RwLock<HashSet<usize>>> =
    std::sync::LazyLock::new(Default::default);

fn is_boundary(frame: &Frame) -> bool {
    let function = frame.function.as_deref().unwrap_or_default();
    starts_with_any(function, INSTRUMENTATION) && !function.contains("lookout_scope::")
}

/// An unresolved backtrace of the calling thread's stack, newest frame
/// first, walked down to the first frame known (from an earlier event's
/// resolved frames) to be lookout's instrumentation below the handler: the
/// runtime's and the server's frames under it would be trimmed, so they
/// are not walked (walking a frame is a search of the unwind tables). The
/// first walks of a process, with nothing known yet, go to the bottom.
pub(crate) fn walk() -> backtrace::Backtrace {
    walk_until(&BOUNDARIES.read().unwrap_or_else(PoisonError::into_inner))
}

fn walk_until(boundaries: &HashSet<usize>) -> backtrace::Backtrace {
    let mut frames: Vec<backtrace::BacktraceFrame> = Vec::with_capacity(64);
    // The walker's own frames are kept: trimming drops them as capture
    // machinery, as for `Backtrace::new_unresolved`.
    backtrace::trace(|frame| {
        frames.push(frame.clone().into());
        !boundaries.contains(&(frame.ip() as usize))
    });
    backtrace::Backtrace::from(frames)
}

fn ip(frame: &backtrace::BacktraceFrame) -> usize {
    frame.ip() as usize
}

/// `backtrace`'s frames, newest last (sentry's order), each address resolved
/// through the symbol cache; untrimmed.
#[cfg(test)]
fn to_stacktrace(backtrace: &backtrace::Backtrace) -> Option<Stacktrace> {
    cache_symbols(backtrace);
    let symbols = SYMBOLS.lock().unwrap_or_else(PoisonError::into_inner);
    let frames: Vec<Frame> = backtrace
        .frames()
        .iter()
        .flat_map(|frame| symbols.get(&ip(frame)).cloned().unwrap_or_default())
        .collect();
    Stacktrace::from_frames_reversed(frames)
}

/// `backtrace`'s frames, newest last, trimmed ([`trim`]; for a panic, the
/// panic machinery below the hook cut first), copied out of the symbol
/// cache: only the frames kept are copied.
fn trimmed(backtrace: &backtrace::Backtrace, panic: bool) -> Option<Stacktrace> {
    cache_symbols(backtrace);
    let symbols = SYMBOLS.lock().unwrap_or_else(PoisonError::into_inner);
    let mut frames: Vec<&Frame> = backtrace
        .frames()
        .iter()
        .filter_map(|frame| symbols.get(&ip(frame)))
        .flatten()
        .collect();
    frames.reverse();
    let frames = if panic {
        &frames[..below_panic_machinery(&frames)]
    } else {
        &frames[..]
    };
    let kept = kept_range(frames);
    let frames: Vec<Frame> = frames[kept].iter().map(|f| (*f).clone()).collect();
    (!frames.is_empty()).then(|| Stacktrace {
        frames,
        ..Stacktrace::default()
    })
}

/// How many of a panic's frames (oldest first) lie below the panic
/// machinery: it is one run of frames below the hook's; the `catch_unwind`
/// frames further down (lookout's, the runtime's) are not part of it.
fn below_panic_machinery(frames: &[&Frame]) -> usize {
    let is_panic =
        |f: &&Frame| starts_with_any(f.function.as_deref().unwrap_or_default(), PANIC_MACHINERY);
    match frames.iter().rposition(is_panic) {
        Some(mut first) => {
            while first > 0 && is_panic(&frames[first - 1]) {
                first -= 1;
            }
            first
        }
        None => frames.len(),
    }
}

thread_local! {
    /// The backtrace of the last panic on this thread, for the event of the
    /// request that caught it.
    static PANICKED: RefCell<Option<backtrace::Backtrace>> = const { RefCell::new(None) };
}

/// Installs (once per process) a panic hook that keeps the panic site's
/// backtrace for the request that catches the panic; the hook that was
/// installed before runs after it (the panic message on stderr stays).
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.with(|slot| *slot.borrow_mut() = Some(walk()));
            previous(info);
        }));
    });
}

/// The frames of the last panic on this thread, taken by the hook of
/// [`install_panic_hook`]; `None` without the hook.
#[must_use]
pub(crate) fn take_panic() -> Option<Stacktrace> {
    let backtrace = PANICKED.with(|slot| slot.borrow_mut().take())?;
    trimmed(&backtrace, true)
}

/// The frames of anyhow's own capture of a backtrace, at the top of it.
#[cfg(feature = "anyhow")]
const ANYHOW_CAPTURE: &[&str] = &[
    "anyhow::",
    "<anyhow::",
    "std::backtrace",
    "<std::backtrace",
    "std::backtrace_rs",
    "core::ops::function::FnOnce::call_once",
    "<T as core::convert::Into",
    "<anyhow::Error as core::convert::From",
];

thread_local! {
    /// Where the last typed error that became a 5xx on this thread did so:
    /// the error's address and the backtrace then.
    static REPORTED: RefCell<Option<(usize, backtrace::Backtrace)>> = const { RefCell::new(None) };
}

fn address(error: &dyn crate::TypedError) -> usize {
    std::ptr::from_ref(error).cast::<()>() as usize
}

/// The frames `error` carries itself: the backtrace an `anyhow::Error`
/// captured where it was created (feature `anyhow`, with `RUST_BACKTRACE`
/// or `RUST_LIB_BACKTRACE` set), parsed with sentry-backtrace's
/// `parse_stacktrace` and trimmed as lookout's own. `None` for any other
/// error, or one that captured none: then lookout takes the frames.
#[cfg_attr(not(feature = "anyhow"), allow(unused_variables))]
pub(crate) fn carried(error: &(dyn std::error::Error + 'static)) -> Option<Stacktrace> {
    #[cfg(feature = "anyhow")]
    if let Some(backtrace) =
        crate::anyhow_error::of(error).and_then(crate::anyhow_error::captured_backtrace)
    {
        // The alternate form lists each frame's address, which
        // `parse_stacktrace` reads (inlined frames share their caller's).
        let mut stacktrace = sentry_backtrace::parse_stacktrace(&format!("{backtrace:#}"))?;
        // A source line std prints on its own (more than one for a frame)
        // reads as a frame named `at <path>` to the parser: not a frame.
        stacktrace.frames.retain(|f| {
            !f.function
                .as_deref()
                .is_some_and(|name| name.starts_with("at "))
        });
        // anyhow's capture is at the top: the newest frame is where the
        // error was created.
        while stacktrace.frames.last().is_some_and(|f| {
            starts_with_any(f.function.as_deref().unwrap_or_default(), ANYHOW_CAPTURE)
        }) {
            stacktrace.frames.pop();
        }
        return trim(stacktrace);
    }
    None
}

/// Whether `error` carries frames of its own ([`carried`]), without
/// resolving them.
#[cfg_attr(not(feature = "anyhow"), allow(unused_variables))]
fn carries_frames(error: &(dyn std::error::Error + 'static)) -> bool {
    #[cfg(feature = "anyhow")]
    if crate::anyhow_error::of(error)
        .and_then(crate::anyhow_error::captured_backtrace)
        .is_some()
    {
        return true;
    }
    false
}

/// Takes the backtrace of where `error` became a response with `status`,
/// when `status` is a 5xx (what is captured by default): the response is
/// finished on the same thread, which takes it back with [`take_reported`].
/// A 4xx costs nothing, and so does an error that carries its own frames
/// ([`carried`]).
pub(crate) fn note_reported(error: &dyn crate::TypedError, status: http::StatusCode) {
    if status.is_server_error() && !carries_frames(error) {
        let taken = (address(error), walk());
        REPORTED.with(|slot| *slot.borrow_mut() = Some(taken));
    }
}

/// The frames of a typed error answered with a 5xx: its own ([`carried`]),
/// else those noted by [`note_reported`], if any.
pub(crate) fn take_reported(error: &dyn crate::TypedError) -> Option<Stacktrace> {
    if let Some(carried) = carried(error) {
        return Some(carried);
    }
    let wanted = address(error);
    REPORTED
        .with(|slot| {
            let mut slot = slot.borrow_mut();
            match &*slot {
                Some((at, _)) if *at == wanted => slot.take().map(|(_, bt)| bt),
                _ => None,
            }
        })
        .and_then(resolve)
}

thread_local! {
    /// Set while lookout captures the event of a finished request: its
    /// frames (if any) are the panic's or the typed error's, never the
    /// capture site's (lookout's own).
    static OWN_CAPTURE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `capture` (lookout capturing a finished request's event) so that
/// no capture-site frames are attached to it: a status-only 5xx has no
/// frames of the application's, and walking and symbolicating a stack for
/// each would cost every erroring request.
pub(crate) fn own_capture<R>(capture: impl FnOnce() -> R) -> R {
    OWN_CAPTURE.with(|own| own.set(true));
    let result = capture();
    OWN_CAPTURE.with(|own| own.set(false));
    result
}

/// Puts `stacktrace` on the event's main exception (the last one, as
/// Sentry reads them), unless it has one.
pub(crate) fn attach_to_exception(event: &mut Event<'static>, stacktrace: Option<Stacktrace>) {
    if let (Some(exception), Some(stacktrace)) = (event.exception.values.last_mut(), stacktrace)
        && exception.stacktrace.is_none()
    {
        exception.stacktrace = Some(stacktrace);
    }
}

/// What lookout adds to every event as it is captured (run from the
/// client's `before_send`, so transactions pay nothing for it): the capture
/// site's frames on an event without an exception when `attach_stacktrace`
/// is on, in-app marking of every stack, the `os`, `rust`, `device` and
/// `app` contexts and `server_name`. (As sentry-core integrations they
/// would be listed in the SDK info every transaction clones, and
/// `server_name` copied onto every transaction.)
pub(crate) struct EventProcessor {
    /// Holds the in-app rules and `attach_stacktrace`.
    options: ClientOptions,
    /// The in-app rules of `options`, sorted for cheap matching.
    in_app: crate::in_app::InApp,
    contexts: sentry_contexts::ContextIntegration,
    server_name: Option<String>,
    started: SystemTime,
}

impl EventProcessor {
    /// The processor for a client built with `client` (its
    /// `attach_stacktrace`, `in_app_include` / `in_app_exclude` and
    /// `release`); installs the panic hook.
    pub(crate) fn new(client: &ClientOptions) -> Self {
        install_panic_hook();
        let mut options = ClientOptions::new();
        options.attach_stacktrace = client.attach_stacktrace;
        options.in_app_include.clone_from(&client.in_app_include);
        options.in_app_exclude.clone_from(&client.in_app_exclude);
        options.in_app_exclude.extend_from_slice(NOT_IN_APP);
        options.release.clone_from(&client.release);
        let server_name = client
            .server_name
            .as_ref()
            .map(|s| s.to_string())
            .or_else(|| {
                let mut probe = ClientOptions::new();
                sentry_contexts::ContextIntegration::new().setup(&mut probe);
                probe.server_name.map(|s| s.to_string())
            });
        Self {
            in_app: crate::in_app::InApp::new(&options),
            options,
            contexts: sentry_contexts::ContextIntegration::new(),
            server_name,
            started: SystemTime::now(),
        }
    }

    /// In-app marking and crates for `stacktrace` ([`InApp`](crate::in_app::InApp)).
    fn process_stacktrace(&self, stacktrace: &mut Stacktrace) {
        self.in_app.mark(stacktrace);
    }

    /// `event` with its frames, contexts and server name.
    pub(crate) fn process(&self, mut event: Event<'static>) -> Option<Event<'static>> {
        let has_frames = event.stacktrace.is_some()
            || event.threads.iter().any(|t| t.stacktrace.is_some())
            || event.exception.iter().any(|e| e.stacktrace.is_some());
        if self.options.attach_stacktrace
            && !OWN_CAPTURE.with(std::cell::Cell::get)
            && event.exception.is_empty()
            && !has_frames
            && let Some(stacktrace) = resolve(walk())
        {
            let mut thread: Thread = sentry_backtrace::current_thread(false);
            thread.stacktrace = Some(stacktrace);
            event.threads.values.push(thread);
        }
        for exception in &mut event.exception.values {
            if let Some(stacktrace) = &mut exception.stacktrace {
                self.process_stacktrace(stacktrace);
            }
        }
        for thread in &mut event.threads.values {
            if let Some(stacktrace) = &mut thread.stacktrace {
                self.process_stacktrace(stacktrace);
            }
        }
        if let Some(stacktrace) = &mut event.stacktrace {
            self.process_stacktrace(stacktrace);
        }
        if event.server_name.is_none() {
            event.server_name = self.server_name.clone().map(Cow::Owned);
        }
        event.contexts.entry("app".to_owned()).or_insert_with(|| {
            Context::App(Box::new(AppContext {
                app_start_time: Some(self.started),
                build_type: Some(
                    if cfg!(debug_assertions) {
                        "debug"
                    } else {
                        "release"
                    }
                    .to_owned(),
                ),
                app_version: self.options.release.as_ref().map(Cow::to_string),
                ..AppContext::default()
            }))
        });
        self.contexts.process_event(event, &self.options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::protocol::Frame;

    fn stack(functions: &[&str]) -> Stacktrace {
        Stacktrace {
            frames: functions
                .iter()
                .map(|f| Frame {
                    function: Some((*f).to_owned()),
                    ..Frame::default()
                })
                .collect(),
            ..Stacktrace::default()
        }
    }

    /// The cache gives the frames sentry-backtrace makes of the same
    /// backtrace resolved whole, with the crates its processing would set,
    /// the second time without resolving.
    #[test]
    fn cached_symbols_give_the_frames_of_a_whole_resolution() {
        let backtrace = backtrace::Backtrace::new_unresolved();
        let first = to_stacktrace(&backtrace).expect("frames");
        let mut resolved = backtrace.clone();
        resolved.resolve();
        let mut whole = sentry_backtrace::backtrace_to_stacktrace(&resolved).expect("frames");
        sentry_backtrace::process_event_stacktrace(&mut whole, &ClientOptions::new());
        let processed = |mut stacktrace: Stacktrace| {
            sentry_backtrace::process_event_stacktrace(&mut stacktrace, &ClientOptions::new());
            stacktrace.frames
        };
        assert!(first.frames.iter().any(|f| f.package.is_some()));
        assert!(
            processed(first) == whole.frames,
            "the frames of a whole resolution"
        );
        let cached = SYMBOLS.lock().unwrap().len();
        assert!(cached >= backtrace.frames().len().min(SYMBOL_CACHE_CAPACITY));
        let again = to_stacktrace(&backtrace).expect("frames");
        assert!(processed(again) == whole.frames, "the same from the cache");
    }

    /// A walk that stops at a known boundary gives the frames a whole walk
    /// gives once trimmed.
    #[test]
    fn a_walk_stopped_at_the_instrumentation_keeps_what_trimming_keeps() {
        #[inline(never)]
        fn below(
            depth: usize,
            boundaries: &HashSet<usize>,
        ) -> (backtrace::Backtrace, backtrace::Backtrace) {
            if depth == 0 {
                (
                    walk_until(boundaries),
                    backtrace::Backtrace::new_unresolved(),
                )
            } else {
                let taken = below(depth - 1, boundaries);
                std::hint::black_box(depth);
                taken
            }
        }
        let (first, _) = below(3, &HashSet::new());
        let _ = trimmed(&first, false);
        // Pretend the test harness's frame is lookout's instrumentation: the
        // walk stops there, and trimming at it gives the same frames.
        let boundary = first
            .frames()
            .iter()
            .find(|f| {
                SYMBOLS.lock().unwrap()[&ip(f)].iter().any(|s| {
                    s.function
                        .as_deref()
                        .is_some_and(|n| n.contains("run_test"))
                })
            })
            .map(ip)
            .expect("the harness's frame");
        let (walked, whole) = below(3, &HashSet::from([boundary]));
        assert!(
            walked.frames().len() < whole.frames().len(),
            "the walk stopped"
        );
        assert_eq!(walked.frames().last().map(ip), Some(boundary));
        let names = |b: &backtrace::Backtrace| {
            to_stacktrace(b)
                .unwrap()
                .frames
                .into_iter()
                .filter_map(|f| f.function)
                .filter(|f| f.contains("below"))
                .count()
        };
        assert_eq!(
            names(&walked),
            names(&whole),
            "every frame above the boundary"
        );
    }

    /// Frames trimmed out of the cache are the trimmed frames of the whole
    /// stack.
    #[test]
    fn trimming_in_the_cache_is_trimming_the_whole_stack() {
        let backtrace = backtrace::Backtrace::new_unresolved();
        let whole = to_stacktrace(&backtrace).and_then(trim);
        assert_eq!(trimmed(&backtrace, false), whole);
    }

    /// A typed error answered with a 4xx costs no stack walk; a 5xx keeps
    /// the frames for the error that was answered, and only for it.
    #[test]
    fn only_a_5xx_keeps_where_the_error_was_answered() {
        let kept = || REPORTED.with(|slot| slot.borrow().as_ref().map(|(at, _)| *at));
        REPORTED.with(|slot| slot.borrow_mut().take());
        let not_found = crate::toolkit::ReportedError::new(std::fmt::Error)
            .answered(http::StatusCode::NOT_FOUND);
        assert_eq!(kept(), None);
        let failed = crate::toolkit::ReportedError::new(std::fmt::Error)
            .answered(http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(kept(), Some(address(failed.error())));
        assert!(
            take_reported(not_found.error()).is_none(),
            "another error's frames"
        );
        assert_eq!(kept(), Some(address(failed.error())));
        let _ = take_reported(failed.error());
        assert_eq!(kept(), None, "taken once");
    }

    #[test]
    fn trimming_keeps_the_frames_between_the_instrumentation_and_the_capture() {
        let trimmed = trim(stack(&[
            "tokio::runtime::task::harness::poll",
            "hyper::proto::h1::dispatch::poll",
            "<lookout_core::toolkit::instrumented::Instrumented<F, R> as core::future::Future>::poll",
            "axum::routing::route::RouteFuture::poll",
            "shop::handlers::checkout::{{closure}}",
            "shop::db::load",
            "tracing_core::event::Event::dispatch",
            "sentry_core::hub::Hub::capture_event",
            "backtrace::backtrace::trace",
        ]))
        .unwrap();
        let kept: Vec<_> = trimmed
            .frames
            .iter()
            .map(|f| f.function.as_deref().unwrap())
            .collect();
        assert_eq!(
            kept,
            [
                "axum::routing::route::RouteFuture::poll",
                "shop::handlers::checkout::{{closure}}",
                "shop::db::load"
            ]
        );
        assert!(trim(stack(&["backtrace::trace"])).is_none());
        // Captured by lookout itself when the request finished: nothing of
        // the application's, so no frames (not the runtime's).
        assert!(
            trim(stack(&[
                "tokio::runtime::task::harness::poll",
                "<lookout_core::toolkit::instrumented::Instrumented<F, R> as core::future::Future>::poll",
                "lookout_core::lifecycle::in_flight::InFlight::finish",
                "sentry_core::hub::Hub::capture_event",
            ]))
            .is_none()
        );
    }
}
