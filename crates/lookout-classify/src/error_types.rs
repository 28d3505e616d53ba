//! The `error_type` values lookout's built-in rules give (a user's rule
//! names its own, e.g. `by_type::<DbError>("database")`).
//!
//! ```
//! assert_eq!(lookout_classify::error_types::PANIC, "panic");
//! ```

/// A handler that panicked.
pub const PANIC: &str = "panic";
/// A captured error that no rule named.
pub const UNHANDLED: &str = "unhandled";
/// A failure that is only a status code, without an error or a panic.
pub const HTTP_STATUS: &str = "http_status";
