//! `cargo xtask release <version> [--execute]`: a lockstep release of every
//! published crate.
//!
//! Dry run (the default): refuses an invalid version, a version not above the
//! current one, an existing tag or a dirty tree; then, in a temporary git
//! worktree under `target/` (removed afterwards, so the working tree is left
//! exactly as it was), bumps every crate's version, moves the CHANGELOG's
//! `Unreleased` section under the version with today's date, computes the
//! publish order from `cargo metadata` (dependencies first, `publish = false`
//! crates left out), runs `cargo publish --dry-run` for those crates in that
//! order and prints the tag it would create.
//!
//! `--execute` does the same in the working tree, commits, tags and publishes.

use std::cmp::Ordering;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::metadata::{self, Package};
use crate::{cargo, step};

const USAGE: &str = "usage: cargo xtask release <version> [--execute]";

pub(crate) fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let mut version = None;
    let mut execute = false;
    for arg in args {
        match arg.as_str() {
            "--execute" => execute = true,
            other if version.is_none() && !other.starts_with('-') => version = Some(other),
            other => return Err(format!("release: unexpected argument `{other}`\n{USAGE}")),
        }
    }
    let text = version.ok_or_else(|| format!("release: name the version to release\n{USAGE}"))?;
    let new = Version::parse(text)?;

    let packages = metadata::workspace(root)?;
    let current = current_version(&packages)?;
    if new <= current {
        return Err(format!(
            "release: {new} is not above the current version {current}"
        ));
    }
    let tag = format!("v{new}");
    ensure_clean(root)?;
    if git_ok(
        root,
        &[
            "rev-parse",
            "--quiet",
            "--verify",
            &format!("refs/tags/{tag}"),
        ],
    ) {
        return Err(format!("release: tag {tag} already exists"));
    }
    let date = today();
    println!(
        "xtask: release {current} -> {new} ({date}){}",
        if execute { "" } else { ", dry run" }
    );

    if execute {
        let undo = |e: String| {
            format!("{e}\nthe bump is left in the working tree; `git checkout -- .` undoes it")
        };
        prepare(root, &current, &new, &date).map_err(undo)?;
        let order = ordered_names(root).map_err(undo)?;
        publish(root, &order, true).map_err(undo)?;
        step(
            "git commit",
            Command::new("git").args([
                "commit",
                "--all",
                "--quiet",
                "-m",
                &format!("Release {new}"),
            ]),
        )?;
        step(
            &format!("git tag {tag}"),
            Command::new("git").args(["tag", "-a", &tag, "-m", &format!("lookout {new}")]),
        )?;
        publish(root, &order, false).map_err(|e| {
            format!("{e}\ncommit and tag {tag} exist; crates published before the failure stay published: fix and run `cargo publish -p <rest>` in order")
        })?;
        println!("xtask: released {new}; push with `git push origin HEAD {tag}`");
        return Ok(());
    }

    let worktree = Worktree::add(root, &format!("xtask-release-{new}"))?;
    prepare(worktree.path(), &current, &new, &date)?;
    let order = ordered_names(worktree.path())?;
    publish(worktree.path(), &order, true)?;
    drop(worktree);
    ensure_clean(root)
        .map_err(|e| format!("release: the dry run changed the working tree: {e}"))?;
    println!("xtask: dry run passed; the working tree is unchanged");
    println!(
        "xtask: would create tag {tag} (on a commit \"Release {new}\") and publish {}",
        order.join(", ")
    );
    println!("xtask: to do it: cargo xtask release {new} --execute");
    Ok(())
}

/// The version every package shares (lockstep).
fn current_version(packages: &[Package]) -> Result<Version, String> {
    let first = packages
        .first()
        .ok_or("release: the workspace has no packages")?;
    if let Some(other) = packages.iter().find(|p| p.version != first.version) {
        return Err(format!(
            "release: versions are not in lockstep ({} is {}, {} is {})",
            first.name, first.version, other.name, other.version
        ));
    }
    Version::parse(&first.version)
}

/// Bumps versions, moves the changelog and refreshes Cargo.lock in `dir`.
fn prepare(dir: &Path, current: &Version, new: &Version, date: &str) -> Result<(), String> {
    let (old, new_text) = (current.to_string(), new.to_string());
    let mut bumped = 0;
    for manifest in manifests(dir)? {
        let text = read(&manifest)?;
        let (out, count) = bump_manifest(&text, &old, &new_text);
        if count > 0 {
            write(&manifest, &out)?;
            bumped += count;
        }
    }
    if bumped == 0 {
        return Err(format!("release: found no `version = \"{old}\"` to bump"));
    }
    println!("xtask: bumped {bumped} version entries {old} -> {new_text}");
    let changelog = dir.join("CHANGELOG.md");
    write(
        &changelog,
        &release_changelog(&read(&changelog)?, &new_text, date)?,
    )?;
    println!("xtask: CHANGELOG: Unreleased moved under [{new_text}] - {date}");
    step(
        "cargo update --workspace (Cargo.lock)",
        Command::new(cargo())
            .args(["update", "--workspace", "--quiet"])
            .current_dir(dir),
    )
}

fn ordered_names(dir: &Path) -> Result<Vec<String>, String> {
    let packages = metadata::workspace(dir)?;
    let order: Vec<String> = metadata::publish_order(&packages)?
        .into_iter()
        .map(|p| p.name.clone())
        .collect();
    println!("xtask: publish order: {}", order.join(" -> "));
    Ok(order)
}

/// `cargo publish` for `crates` in one invocation: cargo (>= 1.90) packages
/// interdependent, not yet published workspace crates together, verifying
/// each against the others' freshly packaged versions.
fn publish(dir: &Path, crates: &[String], dry_run: bool) -> Result<(), String> {
    let mut cmd = Command::new(cargo());
    cmd.arg("publish").current_dir(dir);
    if dry_run {
        // The bump is not committed (dry run) or not yet (execute).
        cmd.args(["--dry-run", "--allow-dirty"]);
    }
    for name in crates {
        cmd.args(["-p", name]);
    }
    // Build in the main target directory: verification reuses the
    // dependencies already compiled there instead of building them again.
    if let Some(target) = main_target_dir(dir) {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    let what = if dry_run {
        "cargo publish --dry-run"
    } else {
        "cargo publish"
    };
    step(&format!("{what} -p {}", crates.join(" -p ")), &mut cmd)
}

fn main_target_dir(dir: &Path) -> Option<PathBuf> {
    if std::env::var_os("CARGO_TARGET_DIR").is_some() {
        return None; // inherited by the child
    }
    let root = crate::workspace_root();
    (dir != root).then(|| root.join("target"))
}

/// Every `Cargo.toml` of the workspace: the root and its members.
fn manifests(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = vec![dir.join("Cargo.toml")];
    for p in metadata::workspace(dir)? {
        if !p.dir.is_empty() {
            out.push(dir.join(&p.dir).join("Cargo.toml"));
        }
    }
    Ok(out)
}

/// Replaces `old` by `new` in a manifest: the `version` of `[package]` /
/// `[workspace.package]`, and the version of every path dependency (the
/// internal crates). Returns the new text and the number of replacements.
pub(crate) fn bump_manifest(text: &str, old: &str, new: &str) -> (String, usize) {
    let quoted_old = format!("\"{old}\"");
    let quoted_new = format!("\"{new}\"");
    let mut section = String::new();
    let mut count = 0;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            section = trimmed.trim_end().to_owned();
        }
        let key_is_version = trimmed
            .strip_prefix("version")
            .is_some_and(|rest| rest.trim_start().starts_with('='));
        let package_version = key_is_version
            && (section == "[package]" || section == "[workspace.package]")
            && line.contains(&quoted_old);
        let path_dep = !trimmed.starts_with('#')
            && trimmed.contains("path =")
            && line.contains(&format!("version = {quoted_old}"));
        if package_version || path_dep {
            out.push_str(&line.replacen(&quoted_old, &quoted_new, 1));
            count += 1;
        } else {
            out.push_str(line);
        }
    }
    (out, count)
}

/// Moves the entries of `## [Unreleased]` under `## [version] - date`,
/// leaving an empty Unreleased section; headings without entries are left
/// out of the release.
pub(crate) fn release_changelog(text: &str, version: &str, date: &str) -> Result<String, String> {
    const UNRELEASED: &str = "## [Unreleased]";
    if text.contains(&format!("## [{version}]")) {
        return Err(format!("CHANGELOG.md already has a section for {version}"));
    }
    let start = text
        .find(UNRELEASED)
        .ok_or("CHANGELOG.md has no `## [Unreleased]` section")?;
    let body_start = text[start..]
        .find('\n')
        .map_or(text.len(), |i| start + i + 1);
    let body_end = text[body_start..]
        .find("\n## ")
        .map_or(text.len(), |i| body_start + i + 1);
    let body = &text[body_start..body_end];

    // Keep a `###` heading only if an entry follows it before the next heading.
    let mut kept = String::new();
    let mut heading: Option<&str> = None;
    let mut entries = 0;
    for line in body.split_inclusive('\n') {
        if line.starts_with("### ") {
            heading = Some(line);
        } else if line.trim().is_empty() {
            continue;
        } else {
            if let Some(h) = heading.take() {
                if !kept.is_empty() {
                    kept.push('\n');
                }
                kept.push_str(h);
            }
            entries += usize::from(line.starts_with("- "));
            kept.push_str(line);
            if !line.ends_with('\n') {
                kept.push('\n');
            }
        }
    }
    if entries == 0 {
        return Err("CHANGELOG.md: the Unreleased section has no entries to release".to_owned());
    }
    let rest = &text[body_end..];
    let separator = if rest.is_empty() { "" } else { "\n" };
    Ok(format!(
        "{}{UNRELEASED}\n\n## [{version}] - {date}\n\n{kept}{separator}{rest}",
        &text[..start]
    ))
}

/// A semantic version (semver.org 2.0.0).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<String>,
    build: String,
}

impl Version {
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let invalid = |why: &str| {
            format!(
                "release: `{text}` is not a valid version ({why}); expected MAJOR.MINOR.PATCH \
                 with an optional -pre.release and +build, e.g. 0.2.0 or 1.0.0-rc.1"
            )
        };
        let (rest, build) = match text.split_once('+') {
            Some((rest, build)) => (rest, Some(build)),
            None => (text, None),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (rest, None),
        };
        let numbers: Vec<&str> = core.split('.').collect();
        let [major, minor, patch] = numbers[..] else {
            return Err(invalid("three numbers separated by dots are needed"));
        };
        let number = |part: &str| -> Result<u64, String> {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("each of MAJOR, MINOR and PATCH must be a number"));
            }
            if part.len() > 1 && part.starts_with('0') {
                return Err(invalid("numbers must not have leading zeros"));
            }
            part.parse().map_err(|_| invalid("number too large"))
        };
        let identifiers = |list: &str, numeric_rule: bool| -> Result<Vec<String>, String> {
            list.split('.')
                .map(|id| {
                    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    {
                        return Err(invalid("identifiers are non-empty [0-9A-Za-z-]"));
                    }
                    if numeric_rule
                        && id.len() > 1
                        && id.starts_with('0')
                        && id.bytes().all(|b| b.is_ascii_digit())
                    {
                        return Err(invalid(
                            "numeric pre-release identifiers must not have leading zeros",
                        ));
                    }
                    Ok(id.to_owned())
                })
                .collect()
        };
        Ok(Self {
            major: number(major)?,
            minor: number(minor)?,
            patch: number(patch)?,
            pre: pre
                .map(|p| identifiers(p, true))
                .transpose()?
                .unwrap_or_default(),
            build: build
                .map(|b| identifiers(b, false))
                .transpose()?
                .unwrap_or_default()
                .join("."),
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre.join("."))?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Precedence as semver.org defines it; build metadata is ignored, except
/// as a last tie-break so that `Ord` agrees with `Eq`.
impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        let ord = match (a.parse::<u64>(), b.parse::<u64>()) {
                            (Ok(a), Ok(b)) => a.cmp(&b),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            (Err(_), Err(_)) => a.cmp(b),
                        };
                        if ord != Ordering::Equal {
                            return ord;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
            .then_with(|| self.build.cmp(&other.build))
    }
}

/// Today's date (UTC) from the system clock, as `YYYY-MM-DD`.
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// Refuses a tree with modified, staged or untracked files.
fn ensure_clean(root: &Path) -> Result<(), String> {
    let output = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=normal"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("could not run git status: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "git status failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let status = String::from_utf8_lossy(&output.stdout);
    if status.trim().is_empty() {
        return Ok(());
    }
    let lines: Vec<&str> = status.lines().collect();
    let shown = lines
        .iter()
        .take(10)
        .copied()
        .collect::<Vec<_>>()
        .join("\n  ");
    let more = lines.len().saturating_sub(10);
    let more = if more > 0 {
        format!("\n  ... and {more} more")
    } else {
        String::new()
    };
    Err(format!(
        "release: the working tree is not clean; commit or stash these first:\n  {shown}{more}"
    ))
}

fn git_ok(root: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .args(args)
        .current_dir(root)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A detached `git worktree` of HEAD under `target/`, removed on drop.
struct Worktree {
    root: PathBuf,
    path: PathBuf,
}

impl Worktree {
    fn add(root: &Path, name: &str) -> Result<Self, String> {
        let path = root.join("target").join(name);
        if path.exists() {
            // A leftover from an interrupted run.
            let _ = Command::new("git")
                .args(["worktree", "remove", "--force"])
                .arg(&path)
                .current_dir(root)
                .output();
            let _ = std::fs::remove_dir_all(&path);
            let _ = Command::new("git")
                .args(["worktree", "prune"])
                .current_dir(root)
                .output();
        }
        let output = Command::new("git")
            .args(["worktree", "add", "--quiet", "--detach"])
            .arg(&path)
            .arg("HEAD")
            .current_dir(root)
            .output()
            .map_err(|e| format!("could not run git worktree add: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "git worktree add failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        println!("xtask: temporary worktree {}", path.display());
        Ok(Self {
            root: root.to_path_buf(),
            path,
        })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let removed = Command::new("git")
            .args(["worktree", "remove", "--force"])
            .arg(&self.path)
            .current_dir(&self.root)
            .status()
            .is_ok_and(|s| s.success());
        if !removed {
            let _ = std::fs::remove_dir_all(&self.path);
            let _ = Command::new("git")
                .args(["worktree", "prune"])
                .current_dir(&self.root)
                .status();
        }
        println!("xtask: removed the temporary worktree");
    }
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_validated_with_a_clear_message() {
        for ok in ["0.2.0", "1.0.0-rc.1", "1.0.0-alpha-1+build.5", "10.20.30"] {
            assert_eq!(Version::parse(ok).unwrap().to_string(), ok);
        }
        for (bad, why) in [
            ("0.2", "three numbers"),
            ("v0.2.0", "must be a number"),
            ("0.02.0", "leading zeros"),
            ("1.0.0-01", "leading zeros"),
            ("1.0.0-", "identifiers"),
            ("1.0.0-a..b", "identifiers"),
            ("1.x.0", "must be a number"),
            ("", "three numbers"),
        ] {
            let err = Version::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
            assert!(
                err.contains(&format!("`{bad}` is not a valid version")),
                "{err}"
            );
        }
    }

    #[test]
    fn precedence_follows_semver() {
        let ordered = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1.0",
            "2.0.0",
        ];
        for pair in ordered.windows(2) {
            let (a, b) = (
                Version::parse(pair[0]).unwrap(),
                Version::parse(pair[1]).unwrap(),
            );
            assert!(a < b, "{a} < {b}");
        }
    }

    #[test]
    fn manifest_bump_touches_package_and_internal_versions_only() {
        let manifest = r#"[workspace.package]
version = "0.1.0"
edition = "2024"

[workspace.dependencies]
lookout-headers = { path = "crates/lookout-headers", version = "0.1.0" }
# lookout-old = { path = "x", version = "0.1.0" }
other = { version = "0.1.0" }
uuid = "0.1.0"

[package]
name = "x"
version = "0.1.0"
"#;
        let (out, count) = bump_manifest(manifest, "0.1.0", "0.2.0");
        assert_eq!(count, 3);
        assert!(out.contains("[workspace.package]\nversion = \"0.2.0\""));
        assert!(out.contains(
            r#"lookout-headers = { path = "crates/lookout-headers", version = "0.2.0" }"#
        ));
        assert!(out.contains(r#"# lookout-old = { path = "x", version = "0.1.0" }"#));
        assert!(out.contains(r#"other = { version = "0.1.0" }"#));
        assert!(out.contains("uuid = \"0.1.0\""));
        assert!(out.ends_with("name = \"x\"\nversion = \"0.2.0\"\n"));
    }

    #[test]
    fn changelog_moves_unreleased_entries_under_the_version() {
        let text = "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n### a\n- one\n  continued\n\n### empty\n\n### b\n- two\n\n## [0.1.0] - 2026-01-01\n\n- old\n";
        let out = release_changelog(text, "0.2.0", "2026-11-22").unwrap();
        assert_eq!(
            out,
            "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n## [0.2.0] - 2026-11-22\n\n### a\n- one\n  continued\n\n### b\n- two\n\n## [0.1.0] - 2026-01-01\n\n- old\n"
        );
        let at_end = release_changelog("## [Unreleased]\n\n- x\n", "1.0.0", "2027-01-02").unwrap();
        assert_eq!(
            at_end,
            "## [Unreleased]\n\n## [1.0.0] - 2027-01-02\n\n- x\n"
        );
    }

    #[test]
    fn changelog_refuses_empty_or_repeated_releases() {
        let empty = release_changelog("## [Unreleased]\n\n### a\n\n## [0.1.0]\n", "0.2.0", "d");
        assert!(empty.unwrap_err().contains("no entries"));
        let twice = release_changelog("## [Unreleased]\n- x\n## [0.2.0] - d\n", "0.2.0", "d");
        assert!(
            twice
                .unwrap_err()
                .contains("already has a section for 0.2.0")
        );
        let missing = release_changelog("# Changelog\n", "0.2.0", "d");
        assert!(missing.unwrap_err().contains("no `## [Unreleased]`"));
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_414), (2025, 11, 22));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(today().len(), 10);
    }
}
