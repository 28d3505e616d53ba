//! [`EngineHandle`]: the engine an adapter uses, given or global.

use std::sync::{Arc, OnceLock};

use crate::Engine;

/// The engine an adapter's middleware uses: one given explicitly, or the
/// process-wide one ([`Engine::global`], the one `lookout::init()`
/// installs) looked up at the first request, so the middleware may be built
/// before `init` runs. Either way the adapter's `origin`
/// (`auto.http.axum`, ...) names its transactions, unless the given engine
/// was built with an origin of its own.
///
/// ```
/// use lookout_core::Engine;
/// use lookout_core::toolkit::EngineHandle;
///
/// let handle = EngineHandle::given(Engine::builder().build(), "auto.http.example");
/// assert_eq!(handle.get().origin(), "auto.http.example");
///
/// let explicit = Engine::builder().origin("auto.http.custom").build();
/// assert_eq!(EngineHandle::given(explicit, "auto.http.example").get().origin(), "auto.http.custom");
/// ```
#[derive(Clone, Debug)]
pub struct EngineHandle(Inner);

#[derive(Clone, Debug)]
enum Inner {
    Given(Engine),
    Global {
        cell: Arc<OnceLock<Engine>>,
        origin: &'static str,
    },
}

impl EngineHandle {
    /// The process-wide engine, resolved at the first [`get`](Self::get).
    pub fn global(origin: &'static str) -> Self {
        Self(Inner::Global {
            cell: Arc::new(OnceLock::new()),
            origin,
        })
    }

    /// This engine, named `origin` unless it has an explicit origin already.
    pub fn given(engine: Engine, origin: &'static str) -> Self {
        Self(Inner::Given(engine.for_adapter(origin)))
    }

    /// The engine.
    pub fn get(&self) -> &Engine {
        match &self.0 {
            Inner::Given(engine) => engine,
            Inner::Global { cell, origin } => {
                cell.get_or_init(|| Engine::global().for_adapter(origin))
            }
        }
    }
}
