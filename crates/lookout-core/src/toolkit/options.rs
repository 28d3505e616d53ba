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

/// Defines an adapter's `LookoutLayer` (the middleware's configuration, a
/// newtype over [`MiddlewareOptions`] so that the adapter can implement its
/// framework's middleware trait for it), `layer()` (the process-wide engine)
/// and the setters, the same on every framework. The adapter adds its
/// middleware trait (`tower::Layer`, actix's `Transform`), reading the
/// options as `self.0`.
///
/// ```
/// mod adapter {
///     pub const ORIGIN: &str = "auto.http.example";
///     lookout_core::adapter_layer! {
///         /// The example middleware.
///         crate: "adapter",
///         origin: ORIGIN,
///         /// The middleware with the process-wide engine.
///         fn layer;
///     }
/// }
/// let layer = adapter::LookoutLayer::new(lookout_core::Engine::builder().build()).catch_panics(false);
/// # let _ = (layer, adapter::layer());
/// ```
#[macro_export]
macro_rules! adapter_layer {
    (
        $(#[$meta:meta])*
        crate: $krate:literal,
        origin: $origin:expr,
        $(#[$layer_meta:meta])*
        fn layer;
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        #[must_use]
        pub struct LookoutLayer($crate::toolkit::MiddlewareOptions);

        $(#[$layer_meta])*
        pub fn layer() -> LookoutLayer {
            LookoutLayer($crate::toolkit::MiddlewareOptions::global($origin))
        }

        impl ::std::default::Default for LookoutLayer {
            fn default() -> Self {
                layer()
            }
        }

        impl LookoutLayer {
            /// The middleware with this engine (tests pass one with a
            /// capturing client). Its transactions say the adapter's
            /// `ORIGIN` unless the engine was built with an origin of its
            /// own.
            ///
            /// ```
            /// let engine = lookout_core::Engine::builder().build();
            #[doc = concat!("let layer = ", $krate, "::LookoutLayer::new(engine);")]
            /// # let _ = layer;
            /// ```
            pub fn new(engine: $crate::Engine) -> Self {
                Self($crate::toolkit::MiddlewareOptions::given(engine, $origin))
            }

            /// Whether a panic inside the middleware (in a handler, a
            /// filter, a middleware inside this one) is caught, captured
            /// and answered with an empty `500` (default: true). Turn it off
            /// when something outside this middleware handles panics: the
            /// panic then goes on as it would without lookout, is not
            /// captured here, and the request ends as cancelled.
            ///
            /// ```
            #[doc = concat!("let layer = ", $krate, "::layer().catch_panics(false);")]
            /// # let _ = layer;
            /// ```
            pub fn catch_panics(self, on: bool) -> Self {
                Self(self.0.catch_panics(on))
            }
        }
    };
}
