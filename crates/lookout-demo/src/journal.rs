//! What the tour learns from inside the service: for each request, the id,
//! trace and user lookout holds while the handler runs.
//!
//! Only the tour adds the journal (as the innermost middleware, after
//! authentication, so it runs even for a handler that then panics); `serve`
//! never does, so a long-running server keeps no per-request memory.

use std::sync::{Arc, Mutex};

/// One request as seen from inside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) request_id: String,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) trace_id: String,
    /// `id (role)` of the identified user.
    pub(crate) user: Option<String>,
    /// The response status, once the handler returned (none after a panic).
    pub(crate) status: Option<u16>,
}

/// The requests seen so far, shared by every demo instance of the process.
#[derive(Clone, Debug, Default)]
pub(crate) struct Journal {
    entries: Arc<Mutex<Vec<Entry>>>,
}

impl Journal {
    /// Records the current request (call inside the request, after auth).
    pub(crate) fn record_current(&self, method: &str, path: &str) {
        let Some(ctx) = lookout::scope::current() else {
            return;
        };
        let user = ctx.user().map(|u| {
            let id = u.id.as_deref().unwrap_or("?");
            match u.role.as_deref() {
                Some(role) => format!("{id} ({role})"),
                None => id.to_owned(),
            }
        });
        self.push(Entry {
            request_id: ctx.request_id().to_owned(),
            method: method.to_owned(),
            path: path.to_owned(),
            trace_id: ctx.trace().trace_id.to_string(),
            user,
            status: None,
        });
    }

    /// Records the current request's response status.
    pub(crate) fn record_status(&self, status: u16) {
        let Some(ctx) = lookout::scope::current() else {
            return;
        };
        let mut entries = self.lock();
        if let Some(entry) = entries
            .iter_mut()
            .rev()
            .find(|e| e.request_id == ctx.request_id())
        {
            entry.status = Some(status);
        }
    }

    pub(crate) fn push(&self, entry: Entry) {
        self.lock().push(entry);
    }

    pub(crate) fn entries(&self) -> Vec<Entry> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
