//! `cargo xtask doc-crates [NAME..]`: the README's and the guide's examples
//! built as crates of their own, with exactly the dependencies the page lists.
//!
//! A doctest runs inside a crate that already has every dependency the
//! workspace has, so an example that forgets one in its `[dependencies]`
//! block still passes. Here each marked example becomes a scratch crate under
//! the build tree (`<target>/doc-crates/<name>/`): its manifest is the page's
//! own TOML blocks, with `lookout` by path instead of by version; it reuses
//! the workspace's `Cargo.lock` (so it resolves the same versions without
//! touching the registry when they are all there) and the workspace's target
//! directory (so what is already built is not built again).
//!
//! Markers are HTML comments on the line before a code block, invisible on
//! GitHub:
//!
//! - `<!-- doc-deps ID -->` before a TOML block: a named set of dependencies;
//! - `<!-- doc-crate NAME deps=ID[,ID..] [run] -->` before a Rust block: the
//!   crate `NAME`, built from those dependency blocks (merged in order, a
//!   later line for the same key wins; `[dev-dependencies]` stay dev ones).
//!   Without `run` the code is `src/main.rs` and is only built (a server
//!   runs forever); with `run` it is a test target (`harness = false`, so
//!   dev-dependencies apply) that is built and run.
//!
//! Code is taken as rustdoc takes it: `# ` hidden lines are kept (without the
//! `# `), and code without `fn main` is wrapped in one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The pages whose marked examples are built.
pub(crate) const PAGES: [&str; 2] = ["README.md", "docs/guide.md"];

/// One example to build as its own crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DocCrate {
    /// The crate's name (`doc-crate-<name>` as a package).
    pub(crate) name: String,
    /// The page it comes from, for messages.
    pub(crate) page: String,
    /// The manifest's dependency sections, merged from the named blocks.
    pub(crate) manifest: String,
    /// The Rust code, as rustdoc would compile it.
    pub(crate) code: String,
    /// Built and run as a test, rather than only built as a binary.
    pub(crate) run: bool,
}

pub(crate) fn run(root: &Path, args: &[String]) -> Result<(), String> {
    let crates = collect(root)?;
    let chosen: Vec<&DocCrate> = if args.is_empty() {
        crates.iter().collect()
    } else {
        let mut chosen = Vec::new();
        for name in args {
            let found = crates.iter().find(|c| &c.name == name).ok_or_else(|| {
                let known: Vec<&str> = crates.iter().map(|c| c.name.as_str()).collect();
                format!(
                    "doc-crates: no example named `{name}` (known: {})",
                    known.join(", ")
                )
            })?;
            chosen.push(found);
        }
        chosen
    };
    build(root, &chosen)
}

/// Every marked example of [`PAGES`].
pub(crate) fn collect(root: &Path) -> Result<Vec<DocCrate>, String> {
    let mut all = Vec::new();
    for page in PAGES {
        let path = root.join(page);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        all.extend(parse(page, &text)?);
    }
    Ok(all)
}

/// The marked examples of one page.
pub(crate) fn parse(page: &str, text: &str) -> Result<Vec<DocCrate>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut deps: BTreeMap<String, String> = BTreeMap::new();
    let mut crates = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(marker) = line
            .trim()
            .strip_prefix("<!--")
            .and_then(|l| l.strip_suffix("-->"))
            .map(str::trim)
        else {
            continue;
        };
        let mut words = marker.split_whitespace();
        let at = |what: &str| format!("{page}:{}: {what}", index + 1);
        match words.next() {
            Some("doc-deps") => {
                let id = words.next().ok_or_else(|| at("`doc-deps` without an id"))?;
                let (lang, block) = block_after(&lines, index)
                    .ok_or_else(|| at("no code block after the marker"))?;
                if lang != "toml" {
                    return Err(at("`doc-deps` must precede a ```toml block"));
                }
                deps.insert(id.to_owned(), block);
            }
            Some("doc-crate") => {
                let name = words
                    .next()
                    .ok_or_else(|| at("`doc-crate` without a name"))?;
                let mut ids = Vec::new();
                let mut run = false;
                for word in words {
                    match word {
                        "run" => run = true,
                        w if w.starts_with("deps=") => {
                            ids.extend(w["deps=".len()..].split(',').map(str::to_owned));
                        }
                        other => return Err(at(&format!("unknown word `{other}` in the marker"))),
                    }
                }
                if ids.is_empty() {
                    return Err(at("`doc-crate` needs deps=ID[,ID..]"));
                }
                let (lang, block) = block_after(&lines, index)
                    .ok_or_else(|| at("no code block after the marker"))?;
                if !lang.starts_with("rust") {
                    return Err(at("`doc-crate` must precede a ```rust block"));
                }
                let mut blocks = Vec::new();
                for id in &ids {
                    blocks.push(
                        deps.get(id)
                            .ok_or_else(|| at(&format!("no `doc-deps {id}` block above")))?
                            .as_str(),
                    );
                }
                crates.push(DocCrate {
                    name: name.to_owned(),
                    page: page.to_owned(),
                    manifest: merge_manifests(&blocks),
                    code: rustdoc_code(&block),
                    run,
                });
            }
            _ => {}
        }
    }
    Ok(crates)
}

/// The info string and contents of the fenced block starting on the line
/// after `marker` (blank lines between are allowed).
fn block_after(lines: &[&str], marker: usize) -> Option<(String, String)> {
    let mut i = marker + 1;
    while lines.get(i)?.trim().is_empty() {
        i += 1;
    }
    let lang = lines[i].trim().strip_prefix("```")?.trim().to_owned();
    let mut body = String::new();
    for line in &lines[i + 1..] {
        if line.trim_start().starts_with("```") {
            return Some((lang, body));
        }
        body.push_str(line);
        body.push('\n');
    }
    None
}

/// TOML dependency blocks merged section by section, keys in first-seen
/// order, the last value for a key winning.
pub(crate) fn merge_manifests(blocks: &[&str]) -> String {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for block in blocks {
        let mut section = String::from("[dependencies]");
        for line in block.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if trimmed.starts_with('[') {
                section = trimmed.to_owned();
                continue;
            }
            let key = trimmed
                .split('=')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            let entries = match sections.iter().position(|(s, _)| *s == section) {
                Some(i) => &mut sections[i].1,
                None => {
                    sections.push((section.clone(), Vec::new()));
                    &mut sections.last_mut().expect("just pushed").1
                }
            };
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = trimmed.to_owned(),
                None => entries.push((key, trimmed.to_owned())),
            }
        }
    }
    let mut out = String::new();
    for (section, entries) in sections {
        out.push_str(&section);
        out.push('\n');
        for (_, line) in entries {
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// The code as rustdoc compiles it: hidden `# ` lines kept, wrapped in
/// `fn main` when it has none.
pub(crate) fn rustdoc_code(block: &str) -> String {
    let mut code = String::new();
    for line in block.lines() {
        let trimmed = line.trim_start();
        let shown = if trimmed == "#" {
            ""
        } else if let Some(rest) = trimmed.strip_prefix("# ") {
            rest
        } else {
            line
        };
        code.push_str(shown);
        code.push('\n');
    }
    if code.contains("fn main(") {
        code
    } else {
        format!("#![allow(unused)]\nfn main() {{\n{code}}}\n")
    }
}

/// The manifest of a scratch crate: the page's dependencies, `lookout` by
/// path to this workspace.
pub(crate) fn manifest(root: &Path, doc: &DocCrate) -> Result<String, String> {
    let lookout = root.join("crates").join("lookout");
    let lookout = lookout.to_string_lossy().replace('\\', "/");
    let mut deps = String::new();
    for line in doc.manifest.lines() {
        if line.starts_with("lookout ") || line.starts_with("lookout=") {
            let start = line.find("version = \"").ok_or_else(|| {
                format!(
                    "{}: `{}`: the lookout dependency needs `version = \"..\"`",
                    doc.page, doc.name
                )
            })?;
            let end = line[start + 11..]
                .find('"')
                .map(|e| start + 11 + e + 1)
                .ok_or_else(|| format!("{}: `{}`: unterminated version", doc.page, doc.name))?;
            deps.push_str(&format!(
                "{}path = \"{lookout}\"{}\n",
                &line[..start],
                &line[end..]
            ));
        } else {
            deps.push_str(line);
            deps.push('\n');
        }
    }
    let mut out = format!(
        "# Generated by `cargo xtask doc-crates` from {}, do not edit.\n\
         [package]\nname = \"doc-crate-{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n",
        doc.page, doc.name
    );
    if doc.run {
        out.push_str(
            "[[test]]\nname = \"example\"\npath = \"tests/example.rs\"\nharness = false\n\n",
        );
    }
    out.push_str(&deps);
    // Not a member of the lookout workspace it sits under.
    out.push_str("[workspace]\n");
    Ok(out)
}

/// The build directory: `CARGO_TARGET_DIR`, else the workspace's `target/`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_relative() {
                root.join(dir)
            } else {
                dir
            }
        })
        .unwrap_or_else(|| root.join("target"))
}

/// Writes each crate under `<target>/doc-crates/` and builds it (and runs
/// it, for `run` examples), stopping at the first failure.
pub(crate) fn build(root: &Path, crates: &[&DocCrate]) -> Result<(), String> {
    let target = target_dir(root);
    let lock = std::fs::read(root.join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    for doc in crates {
        let dir = target.join("doc-crates").join(&doc.name);
        let write = |path: PathBuf, contents: &[u8]| -> Result<(), String> {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))
        };
        write(dir.join("Cargo.toml"), manifest(root, doc)?.as_bytes())?;
        // The workspace's versions; cargo only adds this crate's own entry.
        write(dir.join("Cargo.lock"), &lock)?;
        if doc.run {
            write(dir.join("src/lib.rs"), b"")?;
            write(dir.join("tests/example.rs"), doc.code.as_bytes())?;
            let _ = std::fs::remove_file(dir.join("src/main.rs"));
        } else {
            write(dir.join("src/main.rs"), doc.code.as_bytes())?;
            let _ = std::fs::remove_file(dir.join("tests/example.rs"));
            let _ = std::fs::remove_file(dir.join("src/lib.rs"));
        }
        let mut cargo = Command::new(crate::cargo());
        if doc.run {
            cargo.args(["test", "--quiet", "--test", "example"]);
        } else {
            cargo.args(["build", "--quiet"]);
        }
        cargo
            .arg("--manifest-path")
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(&dir);
        let what = if doc.run { "built and run" } else { "built" };
        crate::step(
            &format!(
                "{} example `{}` {what} as its own crate",
                doc.page, doc.name
            ),
            &mut cargo,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_name_the_blocks_and_dependencies_merge() {
        let page = "\
<!-- doc-deps base -->
```toml
[dependencies]
lookout = { package = \"lookout-sentry\", version = \"0.1\", features = [\"axum\"] }
tokio = \"1\"

[dev-dependencies]
serde_json = \"1\"
```

<!-- doc-deps extra -->
```toml
[dependencies]
lookout = { package = \"lookout-sentry\", version = \"0.1\", features = [\"axum\", \"reqwest\"] }
reqwest = \"0.13\"
```

<!-- doc-crate client deps=base,extra -->
```rust
fn client() {}
# let _ = client;
```

<!-- doc-crate served deps=base run -->
```rust,no_run
fn main() {}
```
";
        let crates = parse("page.md", page).unwrap();
        assert_eq!(crates.len(), 2);
        assert_eq!(crates[0].name, "client");
        assert!(!crates[0].run);
        assert_eq!(
            crates[0].manifest,
            "[dependencies]\n\
             lookout = { package = \"lookout-sentry\", version = \"0.1\", features = [\"axum\", \"reqwest\"] }\n\
             tokio = \"1\"\n\
             reqwest = \"0.13\"\n\n\
             [dev-dependencies]\n\
             serde_json = \"1\"\n\n"
        );
        assert_eq!(
            crates[0].code,
            "#![allow(unused)]\nfn main() {\nfn client() {}\nlet _ = client;\n}\n"
        );
        assert!(crates[1].run);
        assert_eq!(crates[1].code, "fn main() {}\n");

        let manifest = manifest(Path::new("/repo"), &crates[0]).unwrap();
        assert!(manifest.contains(
            "lookout = { package = \"lookout-sentry\", path = \"/repo/crates/lookout\", features = [\"axum\", \"reqwest\"] }\n"
        ), "{manifest}");
        assert!(manifest.ends_with("[workspace]\n"));
        assert!(!manifest.contains("[[test]]"));
        assert!(
            super::manifest(Path::new("/repo"), &crates[1])
                .unwrap()
                .contains("harness = false")
        );
    }

    #[test]
    fn a_marker_without_its_block_is_an_error() {
        let err = parse(
            "p.md",
            "<!-- doc-crate x deps=missing -->\n```rust\nfn main() {}\n```\n",
        )
        .unwrap_err();
        assert!(
            err.contains("p.md:1") && err.contains("doc-deps missing"),
            "{err}"
        );
        let err = parse("p.md", "<!-- doc-deps d -->\n```rust\n```\n").unwrap_err();
        assert!(err.contains("```toml"), "{err}");
    }

    /// The README and the guide have their examples marked, and each one's
    /// dependencies name lookout by version (what a user copies).
    #[test]
    fn the_pages_mark_their_examples() {
        let crates = collect(&crate::workspace_root()).unwrap();
        let names: Vec<&str> = crates.iter().map(|c| c.name.as_str()).collect();
        for expected in [
            "readme",
            "guide-axum",
            "guide-reqwest",
            "guide-job",
            "guide-testing",
        ] {
            assert!(names.contains(&expected), "{expected} not in {names:?}");
        }
        let readme = &crates[names.iter().position(|n| *n == "readme").unwrap()];
        for dep in ["lookout ", "axum ", "tokio ", "tracing "] {
            assert!(readme.manifest.contains(dep), "{dep}: {}", readme.manifest);
        }
    }
}
