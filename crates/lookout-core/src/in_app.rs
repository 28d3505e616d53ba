//! In-app marking: which frames of a stack are the application's, by
//! sentry-backtrace's rules (`in_app_include`, then `in_app_exclude`, then
//! its list of well-known crates; every frame in-app when none is), and
//! each frame's crate (`package`).
//!
//! sentry-backtrace's own `process_event_stacktrace` does the same with a
//! regex per frame for the crate and a substring searcher per frame and
//! pattern (its `function_starts_with` trims with string patterns); an
//! erroring request under load spent a large share of its CPU there. Here
//! the crate is parsed by hand (and cached with the frame's symbols), and
//! the patterns are sorted by their first byte, so a frame is compared with
//! the few patterns that can match it, by plain prefix checks.

use sentry_core::ClientOptions;
use sentry_core::protocol::Stacktrace;

/// sentry-backtrace's well-known not-in-app prefixes (its
/// `is_well_known_not_in_app`).
const WELL_KNOWN_NOT_IN_APP: &[&str] = &[
    "std::",
    "core::",
    "alloc::",
    "backtrace::",
    "sentry::",
    "sentry_core::",
    "sentry_types::",
    "sentry_backtrace::",
    "sentry_tracing::",
    "__rust_",
    "___rust_",
    "rust_begin_unwind",
    "_start",
    "anyhow::",
    "log::",
    "tokio::",
    "tracing_core::",
    "futures_core::",
    "futures_util::",
];

/// A list of `function_starts_with` patterns, sorted by the first byte a
/// matching function has (behind the `<F as `, `<` and `_<` of trait
/// impls); patterns that start with `<` (or are empty) are tried on every
/// function.
#[derive(Debug)]
struct Patterns {
    by_first: Vec<Vec<&'static str>>,
    always: Vec<&'static str>,
}

impl Patterns {
    fn new(patterns: impl IntoIterator<Item = &'static str>) -> Self {
        let mut by_first = vec![Vec::new(); 256];
        let mut always = Vec::new();
        for pattern in patterns {
            match pattern.as_bytes().first() {
                None | Some(b'<') => always.push(pattern),
                Some(&first) => {
                    by_first[usize::from(first)].push(pattern);
                    // A `.` in a function matches a `:` in a pattern.
                    if first == b':' {
                        by_first[usize::from(b'.')].push(pattern);
                    }
                }
            }
        }
        Self { by_first, always }
    }

    fn matches(&self, function: &str) -> bool {
        if self
            .always
            .iter()
            .any(|p| function_starts_with(function, p))
        {
            return true;
        }
        let Some(first) = behind_impl_prefix(function).bytes().next() else {
            return false;
        };
        self.by_first[usize::from(first)]
            .iter()
            .any(|p| function_starts_with(function, p))
    }
}

/// `function` without the `<F as `, `<` and `_<` in front of a trait impl's
/// path, as `function_starts_with` reads it for a pattern that does not
/// start with `<`.
fn behind_impl_prefix(mut function: &str) -> &str {
    while let Some(rest) = function.strip_prefix("<F as ") {
        function = rest;
    }
    function = function.trim_start_matches('<');
    while let Some(rest) = function.strip_prefix("_<") {
        function = rest;
    }
    function
}

/// The in-app rules of one client.
#[derive(Debug)]
pub(crate) struct InApp {
    include: Patterns,
    /// `in_app_exclude` and the well-known crates: both mark a frame not
    /// in-app, after `include`.
    exclude: Patterns,
}

impl InApp {
    /// The rules of `options` (`in_app_include`, `in_app_exclude`) and
    /// sentry-backtrace's well-known crates.
    pub(crate) fn new(options: &ClientOptions) -> Self {
        Self {
            include: Patterns::new(options.in_app_include.iter().copied()),
            exclude: Patterns::new(
                options
                    .in_app_exclude
                    .iter()
                    .copied()
                    .chain(WELL_KNOWN_NOT_IN_APP.iter().copied()),
            ),
        }
    }

    /// Marks `stacktrace`'s frames in-app or not and sets their crate, as
    /// sentry-backtrace's `process_event_stacktrace` does: a frame marked
    /// already keeps its mark; when no frame is in-app, every unmarked one
    /// is.
    pub(crate) fn mark(&self, stacktrace: &mut Stacktrace) {
        let mut any_in_app = false;
        for frame in &mut stacktrace.frames {
            let Some(function) = frame.function.as_deref() else {
                continue;
            };
            if frame.package.is_none() {
                frame.package = crate_name(function).map(str::to_owned);
            }
            match frame.in_app {
                Some(true) => any_in_app = true,
                Some(false) => {}
                None => {
                    if self.include.matches(function) {
                        frame.in_app = Some(true);
                        any_in_app = true;
                    } else if self.exclude.matches(function) {
                        frame.in_app = Some(false);
                    }
                }
            }
        }
        if !any_in_app {
            for frame in &mut stacktrace.frames {
                frame.in_app.get_or_insert(true);
            }
        }
    }
}

/// The crate a function belongs to, by sentry-backtrace's rule (its
/// `parse_crate_name` regex): the first path segment, behind a `<` or `_<`
/// and a `Name as ` of a trait impl, followed by `::`, `..` or `[`.
pub(crate) fn crate_name(function: &str) -> Option<&str> {
    let rest = function
        .strip_prefix("_<")
        .or_else(|| function.strip_prefix('<'))
        .unwrap_or(function);
    let segment = |s: &str| -> Option<usize> {
        let end = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        let after = &s[end..];
        (end > 0 && (after.starts_with("::") || after.starts_with("..") || after.starts_with('[')))
            .then_some(end)
    };
    let word = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    if word > 0
        && let Some(implementor) = rest[word..].strip_prefix(" as ")
        && let Some(end) = segment(implementor)
    {
        return Some(&implementor[..end]);
    }
    segment(rest).map(|end| &rest[..end])
}

/// sentry-backtrace's `function_starts_with`, without building a
/// substring searcher: whether `function` (behind the `<F as `, `<` and
/// `_<` of trait impls) starts with `pattern`, a `.` in the function
/// matching a `:` in the pattern.
pub(crate) fn function_starts_with(mut function: &str, mut pattern: &str) -> bool {
    if pattern.starts_with('<') {
        while let Some(rest) = pattern.strip_prefix('<') {
            pattern = rest;
            function = match function
                .strip_prefix("<F as ")
                .or_else(|| function.strip_prefix('<'))
                .or_else(|| function.strip_prefix("_<"))
            {
                Some(rest) => rest,
                None => return false,
            };
        }
    } else {
        while let Some(rest) = function.strip_prefix("<F as ") {
            function = rest;
        }
        function = function.trim_start_matches('<');
        while let Some(rest) = function.strip_prefix("_<") {
            function = rest;
        }
    }
    if !function.is_char_boundary(pattern.len()) {
        return false;
    }
    function
        .chars()
        .zip(pattern.chars())
        .all(|(f, p)| f == p || f == '.' && p == ':')
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_core::protocol::Frame;

    /// sentry-backtrace's matching rule, case by case.
    #[test]
    fn function_starts_with_follows_sentry_backtraces_rule() {
        for (function, pattern, expected) in [
            ("myapp::billing::charge", "myapp::billing", true),
            ("myapp.billing.charge", "myapp:billing", true),
            ("dotted.name::f", "dotted:name", true),
            ("<myapp::Invoice as Display>::fmt", "myapp::Invoice", true),
            ("<myapp::Invoice as Display>::fmt", "<myapp::Invoice", true),
            ("myapp::Invoice::fmt", "<myapp::Invoice", false),
            ("<F as myapp::Charge>::call", "myapp::Charge", true),
            ("_<myapp::X>::y", "myapp::X", true),
            ("my", "myapp", false),
        ] {
            assert_eq!(
                function_starts_with(function, pattern),
                expected,
                "{function} / {pattern}"
            );
        }
    }

    /// Marking and crates are sentry-backtrace's, frame by frame, for the
    /// patterns and name shapes lookout meets (its own not-in-app list, a
    /// user's include and exclude patterns, well-known crates, trait impls,
    /// legacy `.` paths, inlined and unknown frames).
    #[test]
    fn in_app_marking_and_crates_are_sentry_backtraces() {
        let mut client = ClientOptions::new();
        client.in_app_include = vec!["myapp::billing", "<myapp::Invoice", "dotted:name"];
        client.in_app_exclude = vec!["myapp::vendored", ":odd"];
        client
            .in_app_exclude
            .extend_from_slice(crate::stacktrace::NOT_IN_APP);
        let functions = [
            "myapp::billing::charge",
            "myapp.billing.charge",
            "<myapp::Invoice as core::fmt::Display>::fmt",
            "<F as myapp::billing::Charge>::call",
            "_<myapp::billing::X>::y",
            "myapp::vendored::thing",
            "tokio::runtime::task::raw::poll",
            "<axum::routing::Router as tower::Service>::call",
            "<T as core::convert::Into<U>>::into",
            "lookout_core::toolkit::instrumented::Instrumented::poll",
            "<lookout_core::toolkit::instrumented::Instrumented<F, R> as core::future::Future>::poll",
            "myapp::handlers::user",
            "myapp::handlers::user::{{closure}}",
            "hyper_util::server::conn::auto::Connection::poll",
            "std::panicking::try",
            "__rust_try",
            "_start",
            "dotted.name::f",
            ".odd::f",
            "Vec<T>::push",
            "[u8]::len",
            "my",
            "<unknown>",
            "",
        ];
        let frames: Vec<Frame> = functions
            .iter()
            .map(|f| Frame {
                function: Some((*f).to_owned()),
                ..Frame::default()
            })
            .collect();
        let mut ours = Stacktrace {
            frames: frames.clone(),
            ..Stacktrace::default()
        };
        InApp::new(&client).mark(&mut ours);
        let mut theirs = Stacktrace {
            frames,
            ..Stacktrace::default()
        };
        sentry_backtrace::process_event_stacktrace(&mut theirs, &client);
        for (ours, theirs) in ours.frames.iter().zip(&theirs.frames) {
            assert_eq!(
                (ours.in_app, &ours.package),
                (theirs.in_app, &theirs.package),
                "{:?}",
                ours.function
            );
        }
        let marks: Vec<_> = ours.frames.iter().map(|f| f.in_app).collect();
        assert!(marks.contains(&Some(false)) && marks.contains(&Some(true)));
        // No frame in-app: every unmarked one is, as sentry-backtrace does.
        let mut none = Stacktrace {
            frames: vec![
                Frame {
                    function: Some("tokio::x".to_owned()),
                    ..Frame::default()
                },
                Frame {
                    function: Some("somelib::y".to_owned()),
                    ..Frame::default()
                },
            ],
            ..Stacktrace::default()
        };
        let mut theirs = none.clone();
        InApp::new(&client).mark(&mut none);
        sentry_backtrace::process_event_stacktrace(&mut theirs, &client);
        assert_eq!(none, theirs);
    }
}
