//! lookout-demo: the same small service on every framework lookout supports,
//! instrumented the way the guide recommends.
//!
//! - `lookout-demo` plays a scripted tour against each framework and prints
//!   what lookout made of every request (trace continued or new, user,
//!   verdict, logs, event id), then the console lines of its events and
//!   Sentry Logs. No Sentry account needed; with `SENTRY_DSN` set the events
//!   are also sent, with `SENTRY_SPOTLIGHT=1` they also appear in Spotlight.
//! - `lookout-demo serve --framework axum [--addr 127.0.0.1:8080] [--plain]`
//!   serves the routes until SIGINT/SIGTERM (`--plain`: without lookout, as
//!   a baseline for overhead measurements).
//!
//! Where to read: `frameworks::axum` is the whole integration for axum;
//! `routes`, `errors` and `auth` are shared by every framework.
//!
//! The binary is a one-line `main` over [`run`]; the library exists so that
//! the guide's code blocks (`docs/guide.md`) compile and run as its doctests.

use std::process::ExitCode;

mod auth;
mod cli;
mod errors;
mod frameworks;
mod journal;
mod routes;
mod serve;
mod tour;

use cli::Command;

/// Runs the demo with the arguments after the program name and returns the
/// process exit code: 0 on success, 1 on a failure (invalid settings, a
/// server error, a tour that did not go as scripted), 2 on a usage error.
pub fn run<S: AsRef<str>>(args: &[S]) -> ExitCode {
    let command = match cli::parse(args) {
        Ok(command) => command,
        Err(message) => {
            eprintln!("lookout-demo: error: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("lookout-demo: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            Ok(())
        }
        Command::Tour => runtime.block_on(tour::run()),
        Command::Serve(args) => runtime.block_on(serve::run(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("lookout-demo: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The guide's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/guide.md")]
pub struct GuideExamples;
