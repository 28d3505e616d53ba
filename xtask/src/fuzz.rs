//! `cargo xtask fuzz <target> --seconds N`: one cargo-fuzz target for a bounded time.
//!
//! cargo-fuzz needs nightly-only compiler flags; the project builds on the
//! stable toolchain, so the fuzz build sets `RUSTC_BOOTSTRAP=1` for itself
//! only. cargo-fuzz is installed on first use (`cargo install cargo-fuzz`).

use std::path::Path;
use std::process::Command;

use crate::{cargo, step};

pub(crate) fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let fuzz_dir = root.join("fuzz");
    let targets = list_targets(&fuzz_dir)?;
    let mut target = None;
    let mut seconds: u64 = 60;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--list" => {
                for t in &targets {
                    println!("{t}");
                }
                return Ok(());
            }
            "--seconds" => {
                let value = iter
                    .next()
                    .ok_or("--seconds needs a value: a whole number of seconds")?;
                seconds = value.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    format!("--seconds {value:?}: expected a whole number of seconds above 0")
                })?;
            }
            other if target.is_none() && !other.starts_with('-') => target = Some(other.to_owned()),
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    let target =
        target.ok_or_else(|| format!("name a fuzz target: one of {}", targets.join(", ")))?;
    if !targets.contains(&target) {
        return Err(format!(
            "unknown fuzz target `{target}`: expected one of {}",
            targets.join(", ")
        ));
    }
    ensure_cargo_fuzz()?;
    let corpus = fuzz_dir.join("corpus").join(&target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    let seeds = fuzz_dir.join("seeds").join(&target);
    let mut cmd = Command::new(cargo());
    cmd.args(["fuzz", "run", "--sanitizer", "none", &target])
        .arg(&corpus);
    if seeds.is_dir() {
        cmd.arg(&seeds);
    }
    cmd.arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(&fuzz_dir);
    step(&format!("fuzz {target} for {seconds}s"), &mut cmd)
}

fn list_targets(fuzz_dir: &Path) -> Result<Vec<String>, String> {
    let dir = fuzz_dir.join("fuzz_targets");
    let mut targets: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    targets.sort();
    Ok(targets)
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let installed = Command::new(cargo())
        .args(["fuzz", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    step(
        "cargo install cargo-fuzz --locked",
        Command::new(cargo()).args(["install", "cargo-fuzz", "--locked"]),
    )
}
