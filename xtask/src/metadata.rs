//! The workspace as `cargo metadata --no-deps` describes it: packages,
//! descriptions, publishability and the dependency edges between them.
//!
//! Both `docs` (the README crate table) and `release` (publish order) read
//! the workspace through this module, so they agree on what a crate is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::cargo;

/// One workspace package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Package {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) description: String,
    /// The package directory, relative to the workspace root (`crates/lookout-core`).
    pub(crate) dir: String,
    /// False for `publish = false`.
    pub(crate) publish: bool,
    /// Names of workspace packages this one needs to build (normal and build
    /// dependencies; dev-dependencies are stripped or optional on publish and
    /// may form cycles, so they do not order publishing).
    pub(crate) deps: BTreeSet<String>,
}

/// The workspace packages, in `cargo metadata` order.
pub(crate) fn workspace(root: &Path) -> Result<Vec<Package>, String> {
    let output = Command::new(cargo())
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("could not run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let json: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed invalid JSON: {e}"))?;
    parse(&json)
}

/// Reads the packages out of `cargo metadata` JSON.
pub(crate) fn parse(json: &Value) -> Result<Vec<Package>, String> {
    let root = PathBuf::from(
        json["workspace_root"]
            .as_str()
            .ok_or("cargo metadata: no workspace_root")?,
    );
    let packages = json["packages"]
        .as_array()
        .ok_or("cargo metadata: no packages")?;
    let names: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    let mut out = Vec::with_capacity(packages.len());
    for p in packages {
        let name = p["name"]
            .as_str()
            .ok_or("cargo metadata: package without a name")?;
        let manifest = Path::new(p["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest
            .parent()
            .and_then(|d| d.strip_prefix(&root).ok())
            .map(|d| d.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        // `publish`: null = anywhere, [] = publish = false, [..] = named registries.
        let publish = match &p["publish"] {
            Value::Array(registries) => !registries.is_empty(),
            _ => true,
        };
        let deps = p["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"].as_str() != Some("dev"))
            .filter_map(|d| d["name"].as_str())
            .filter(|d| *d != name && names.contains(d))
            .map(str::to_owned)
            .collect();
        out.push(Package {
            name: name.to_owned(),
            version: p["version"].as_str().unwrap_or_default().to_owned(),
            description: p["description"]
                .as_str()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            dir,
            publish,
            deps,
        });
    }
    Ok(out)
}

/// Orders `packages` dependencies first (ties broken by name, so the order
/// is stable). Fails on a dependency cycle.
pub(crate) fn dependency_order(packages: &[Package]) -> Result<Vec<&Package>, String> {
    let by_name: BTreeMap<&str, &Package> = packages.iter().map(|p| (p.name.as_str(), p)).collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::with_capacity(packages.len());
    while order.len() < packages.len() {
        let ready = by_name.values().find(|p| {
            !done.contains(p.name.as_str())
                && p.deps
                    .iter()
                    .all(|d| done.contains(d.as_str()) || !by_name.contains_key(d.as_str()))
        });
        let Some(next) = ready else {
            let rest: Vec<&str> = by_name
                .keys()
                .copied()
                .filter(|n| !done.contains(n))
                .collect();
            return Err(format!("dependency cycle among {}", rest.join(", ")));
        };
        done.insert(next.name.as_str());
        order.push(*next);
    }
    Ok(order)
}

/// The crates to publish, dependencies first. A publishable crate that
/// needs an unpublishable one cannot be published: that is an error.
pub(crate) fn publish_order(packages: &[Package]) -> Result<Vec<&Package>, String> {
    let unpublished: BTreeSet<&str> = packages
        .iter()
        .filter(|p| !p.publish)
        .map(|p| p.name.as_str())
        .collect();
    for p in packages.iter().filter(|p| p.publish) {
        if let Some(dep) = p.deps.iter().find(|d| unpublished.contains(d.as_str())) {
            return Err(format!(
                "{} depends on {dep}, which has publish = false",
                p.name
            ));
        }
    }
    let publishable: Vec<Package> = packages.iter().filter(|p| p.publish).cloned().collect();
    let order: Vec<String> = dependency_order(&publishable)?
        .into_iter()
        .map(|p| p.name.clone())
        .collect();
    Ok(order
        .iter()
        .filter_map(|n| packages.iter().find(|p| &p.name == n))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, publish: bool, deps: &[&str]) -> Package {
        Package {
            name: name.into(),
            version: "0.1.0".into(),
            description: String::new(),
            dir: format!("crates/{name}"),
            publish,
            deps: deps.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    fn names(order: &[&Package]) -> Vec<String> {
        order.iter().map(|p| p.name.clone()).collect()
    }

    #[test]
    fn dependencies_come_first_ties_by_name() {
        let ws = [
            pkg("lookout", true, &["lookout-core", "lookout-axum"]),
            pkg("lookout-axum", true, &["lookout-core"]),
            pkg("lookout-core", true, &["lookout-headers", "lookout-policy"]),
            pkg("lookout-policy", true, &["lookout-headers"]),
            pkg("lookout-headers", true, &[]),
            pkg("lookout-classify", true, &[]),
            pkg("lookout-demo", false, &["lookout"]),
            pkg("xtask", false, &["lookout-policy"]),
        ];
        let order = publish_order(&ws).unwrap();
        assert_eq!(
            names(&order),
            [
                "lookout-classify",
                "lookout-headers",
                "lookout-policy",
                "lookout-core",
                "lookout-axum",
                "lookout",
            ]
        );
    }

    #[test]
    fn cycles_are_reported() {
        let ws = [pkg("a", true, &["b"]), pkg("b", true, &["a"])];
        let err = publish_order(&ws).unwrap_err();
        assert!(err.contains("cycle among a, b"), "{err}");
    }

    #[test]
    fn publishable_crate_needing_unpublished_one_is_refused() {
        let ws = [pkg("a", true, &["demo"]), pkg("demo", false, &[])];
        let err = publish_order(&ws).unwrap_err();
        assert_eq!(err, "a depends on demo, which has publish = false");
    }

    #[test]
    fn parses_cargo_metadata_json() {
        let json = serde_json::json!({
            "workspace_root": "/ws",
            "packages": [
                {
                    "name": "a", "version": "0.1.0", "description": " A crate. ",
                    "manifest_path": "/ws/crates/a/Cargo.toml", "publish": null,
                    "dependencies": [
                        {"name": "b", "kind": null},
                        {"name": "c", "kind": "dev"},
                        {"name": "serde", "kind": null},
                        {"name": "a", "kind": "dev"}
                    ]
                },
                {"name": "b", "version": "0.1.0", "description": null,
                 "manifest_path": "/ws/crates/b/Cargo.toml", "publish": [], "dependencies": []},
                {"name": "c", "version": "0.1.0",
                 "manifest_path": "/ws/c/Cargo.toml", "publish": ["crates-io"], "dependencies": []}
            ]
        });
        let packages = parse(&json).unwrap();
        assert_eq!(packages[0].description, "A crate.");
        assert_eq!(packages[0].dir, "crates/a");
        assert_eq!(packages[0].deps, BTreeSet::from(["b".to_owned()]));
        assert!(packages[0].publish);
        assert!(!packages[1].publish);
        assert!(packages[2].publish);
    }
}
