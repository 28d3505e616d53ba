//! The scrubber as the client's `before_send` and `before_breadcrumb`,
//! running after the application's own callbacks so nothing they add
//! escapes it.

use std::sync::Arc;

use sentry_core::protocol::{Breadcrumb, Event};

use super::scrubber::Scrubber;
use crate::options::BeforeCallback;

impl Scrubber {
    /// A `before_send` that runs the application's own callback first (if
    /// any) and then this scrubber, so nothing the callback adds escapes it.
    #[must_use]
    pub fn before_send(
        &self,
        user: Option<BeforeCallback<Event<'static>>>,
    ) -> BeforeCallback<Event<'static>> {
        let scrubber = self.clone();
        Arc::new(move |event| {
            let mut event = match &user {
                Some(callback) => callback(event)?,
                None => event,
            };
            scrubber.scrub_event(&mut event);
            Some(event)
        })
    }

    /// A `before_breadcrumb` that runs the application's own callback first
    /// (if any) and then this scrubber.
    #[must_use]
    pub fn before_breadcrumb(
        &self,
        user: Option<BeforeCallback<Breadcrumb>>,
    ) -> BeforeCallback<Breadcrumb> {
        let scrubber = self.clone();
        Arc::new(move |crumb| {
            let mut crumb = match &user {
                Some(callback) => callback(crumb)?,
                None => crumb,
            };
            scrubber.scrub_breadcrumb(&mut crumb);
            Some(crumb)
        })
    }
}
