//! Project automation for the lookout workspace, run as `cargo xtask <command>`.
//!
//! One small binary with few dependencies, in the style of rust-analyzer's
//! `xtask/`: every command prints one line per step and stops at the first
//! failing step with a non-zero exit code.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod doc_crates;
mod docs;
mod fuzz;
mod links;
mod loadtest;
mod metadata;
mod node;
mod python;
mod release;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci                        fmt, generated docs, clippy, tests, doc crates, rustdoc (what CI runs)
  doc-crates [NAME..]       build the README's and the guide's examples as crates of
                            their own, with exactly the dependencies the page lists
  docs [--check]            regenerate docs/configuration.md and the README crate table
                            (--check: fail if they are stale)
  release <version> [--execute]
                            dry run by default: bump, changelog, publish order,
                            cargo publish --dry-run, in a temporary worktree
  loadtest [--quick] [--duration S] [--connections N] [--rounds N] [--frameworks ..] [--scenarios ..]
           [--set NAME=VALUE]...
                            the demo under load (wrk or oha), with and without lookout:
                            requests/s, p50/p99, CPU per request, same-run ratios
  loadtest-floor [--requests N] [--connections N]
                            the least one HTTP/1.1 request per transaction costs here:
                            the demo's transaction posted to the load test's receiver
                            with one write and one read each, CPU per request on both sides
  python-env                create the Python virtualenv with sentry-sdk under target/
  node-env                  install @sentry/node under target/lookout-node
  fuzz <target> [--seconds N]
                            run one cargo-fuzz target for N seconds (default 60)
  fuzz --list               list the fuzz targets";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("python-env") => python::ensure_env(&workspace_root()).map(|python| {
            println!("xtask: python with sentry-sdk at {}", python.display());
        }),
        Some("loadtest") => loadtest::run(&workspace_root(), &args[1..]),
        // The load test's envelope receiver, run by `loadtest` in its own process.
        Some("loadtest-sink") => loadtest::sink::serve(),
        Some("loadtest-floor") => loadtest::floor::run(&workspace_root(), &args[1..]),
        Some("node-env") => node::ensure_env(&workspace_root()).map(|modules| {
            println!("xtask: @sentry/node in {}", modules.display());
        }),
        Some("fuzz") => fuzz::run(&workspace_root(), &args[1..]),
        Some("docs") => docs::run(&workspace_root(), &args[1..]),
        Some("doc-crates") => doc_crates::run(&workspace_root(), &args[1..]),
        Some("release") => release::run(&workspace_root(), &args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of this crate's manifest directory.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo binary that invoked us (falls back to `cargo` on the PATH).
pub(crate) fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Runs `cmd` (from the workspace root unless it names a directory), printing one line for the step and its result.
pub(crate) fn step(name: &str, cmd: &mut Command) -> Result<(), String> {
    println!("xtask: ▶ {name}");
    let started = Instant::now();
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(workspace_root());
    }
    let status = cmd
        .status()
        .map_err(|e| format!("{name}: could not start {cmd:?}: {e}"))?;
    let secs = started.elapsed().as_secs_f64();
    if status.success() {
        println!("xtask: ✔ {name} ({secs:.1}s)");
        Ok(())
    } else {
        Err(format!("✘ {name} failed ({status}) after {secs:.1}s"))
    }
}

fn ci() -> Result<(), String> {
    let root = workspace_root();
    let cargo = cargo();
    step(
        "cargo fmt --all --check",
        Command::new(&cargo).args(["fmt", "--all", "--check"]),
    )?;
    println!("xtask: ▶ cargo xtask docs --check");
    docs::check(&root)?;
    println!("xtask: ✔ generated docs are up to date");
    println!("xtask: ▶ links and anchors of the README and docs/");
    links::check(&root)?;
    println!("xtask: ✔ every link resolves");
    step(
        "cargo clippy --workspace --all-targets --locked -- -D warnings",
        Command::new(&cargo).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    println!("xtask: ▶ python virtualenv with sentry-sdk (interop tests)");
    let python = python::ensure_env(&root)?;
    println!("xtask: ✔ python at {}", python.display());
    println!("xtask: ▶ node_modules with @sentry/node (interop tests)");
    let node_modules = node::ensure_env(&root)?;
    println!("xtask: ✔ @sentry/node in {}", node_modules.display());
    step(
        "cargo test --workspace --locked",
        Command::new(&cargo)
            .args(["test", "--workspace", "--locked"])
            .env("LOOKOUT_PYTHON", &python)
            .env("LOOKOUT_NODE_MODULES", &node_modules),
    )?;
    println!("xtask: ▶ the README's and the guide's examples as crates of their own");
    let examples = doc_crates::collect(&root)?;
    doc_crates::build(&root, &examples.iter().collect::<Vec<_>>())?;
    step(
        "cargo doc --workspace --no-deps (RUSTDOCFLAGS=-D warnings)",
        Command::new(&cargo)
            .args(["doc", "--workspace", "--no-deps", "--locked"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    println!("xtask: ci passed");
    Ok(())
}
