//! [`MiddlewareOptions`]: what every adapter's middleware is configured
//! with (its engine, whether it catches panics), written once.

use crate::Engine;

use super::EngineHandle;

/// The options of an adapter's middleware: the engine (given, or the
/// process-wide one looked up at the first request) and whether a panic
/// inside is caught. Each adapter's `LookoutLayer` holds one and offers its
/// setters; the middleware service reads it on every request.
///
/// ```
/// use lookout_core::Engine;
/// use lookout_core::toolkit::MiddlewareOptions;
///
/// let options = MiddlewareOptions::given(Engine::builder().build(), "auto.http.example");
/// assert!(options.catches_panics());
/// let options = options.catch_panics(false);
/// assert!(!options.catches_panics());
/// assert_eq!(options.engine().origin(), "auto.http.example");
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct MiddlewareOptions {
    engine: EngineHandle,
    catch_panics: bool,
}

impl MiddlewareOptions {
    /// The process-wide engine (resolved at the first request), named
    /// `origin`; panics caught.
    pub fn global(origin: &'static str) -> Self {
        Self::with(EngineHandle::global(origin))
    }

    /// `engine`, named `origin` unless it has an origin of its own; panics
    /// caught.
    pub fn given(engine: Engine, origin: &'static str) -> Self {
        Self::with(EngineHandle::given(engine, origin))
    }

    fn with(engine: EngineHandle) -> Self {
        Self {
            engine,
            catch_panics: true,
        }
    }

    /// Whether a panic inside the middleware is caught, captured and
    /// answered with an empty `500` (default: true).
    pub fn catch_panics(mut self, on: bool) -> Self {
        self.catch_panics = on;
        self
    }

    /// The engine (the global one is looked up at the first call).
    #[must_use]
    pub fn engine(&self) -> &Engine {
        self.engine.get()
    }

    /// Whether panics are caught.
    #[must_use]
    pub fn catches_panics(&self) -> bool {
        self.catch_panics
    }
}
