//! The link check of the docs: every relative link in the README and
//! `docs/*.md` points at a file that exists, and every `#anchor` at a heading
//! of its page (GitHub's heading anchors).

use std::path::Path;

/// Fails, listing every broken link, when a link of the README or of
/// `docs/*.md` has no target.
pub(crate) fn check(root: &Path) -> Result<(), String> {
    let mut pages = vec![root.join("README.md")];
    let docs = root.join("docs");
    let entries = std::fs::read_dir(&docs).map_err(|e| format!("{}: {e}", docs.display()))?;
    for entry in entries.flatten() {
        if entry.path().extension().is_some_and(|e| e == "md") {
            pages.push(entry.path());
        }
    }
    pages.sort();
    let mut broken = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).map_err(|e| format!("{}: {e}", page.display()))?;
        let shown = page
            .strip_prefix(root)
            .unwrap_or(page)
            .display()
            .to_string();
        for (line, target) in links(&text) {
            if let Err(why) = resolve(page, &text, target) {
                broken.push(format!("{shown}:{line}: ({target}) {why}"));
            }
        }
    }
    if broken.is_empty() {
        Ok(())
    } else {
        Err(format!("broken links:\n  {}", broken.join("\n  ")))
    }
}

/// Whether `target`, linked from `page` (whose text is `text`), exists.
fn resolve(page: &Path, text: &str, target: &str) -> Result<(), String> {
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let (file, contents) = if path.is_empty() {
        (page.to_path_buf(), Some(text.to_owned()))
    } else {
        let file = page.parent().unwrap_or(Path::new(".")).join(path);
        if !file.exists() {
            return Err("no such file".to_owned());
        }
        let contents = file
            .extension()
            .is_some_and(|e| e == "md")
            .then(|| std::fs::read_to_string(&file).unwrap_or_default());
        (file, contents)
    };
    match (anchor, contents) {
        (None, _) | (Some(_), None) => Ok(()),
        (Some(anchor), Some(contents)) => {
            if anchors(&contents).iter().any(|a| a == anchor) {
                Ok(())
            } else {
                Err(format!("no heading with this anchor in {}", file.display()))
            }
        }
    }
}

/// The relative links of a Markdown page with their line numbers (outside
/// code blocks and inline code; web and mail links left out).
pub(crate) fn links(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Inline code spans hold example syntax, not links.
        let mut rest = String::new();
        for (i, part) in line.split('`').enumerate() {
            if i % 2 == 0 {
                rest.push_str(part);
            }
        }
        let mut from = 0;
        while let Some(at) = rest[from..].find("](") {
            let start = from + at + 2;
            let Some(len) = rest[start..].find(')') else {
                break;
            };
            let target = &rest[start..start + len];
            from = start + len;
            if target.contains("://") || target.starts_with("mailto:") || target.is_empty() {
                continue;
            }
            // Point back into `text` so the caller can borrow it.
            if let Some(pos) = line.find(target) {
                out.push((index + 1, &line[pos..pos + target.len()]));
            }
        }
    }
    out
}

/// The anchors GitHub gives the headings of a page: lower case, spaces to
/// `-`, punctuation other than `-` and `_` dropped, `-1`, `-2`.. for repeats.
pub(crate) fn anchors(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced || !line.starts_with('#') {
            continue;
        }
        let heading = line.trim_start_matches('#').trim();
        let mut slug = String::new();
        for c in heading.chars().flat_map(char::to_lowercase) {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                slug.push(c);
            } else if c == ' ' {
                slug.push('-');
            }
        }
        let repeats = out
            .iter()
            .filter(|a| {
                *a == &slug
                    || a.strip_prefix(&format!("{slug}-"))
                        .is_some_and(|n| n.parse::<u32>().is_ok())
            })
            .count();
        if repeats > 0 {
            slug = format!("{slug}-{repeats}");
        }
        out.push(slug);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_follow_github() {
        let page = "# The guide\n## Shutdown, and when Sentry cannot be reached\n```\n# not a heading\n```\n## `SENTRY_DSN`\n## Logs\n## Logs\n";
        assert_eq!(
            anchors(page),
            [
                "the-guide",
                "shutdown-and-when-sentry-cannot-be-reached",
                "sentry_dsn",
                "logs",
                "logs-1"
            ]
        );
    }

    #[test]
    fn links_skip_code_and_the_web() {
        let page = "See [a](#a), [b](other.md#b) and [web](https://x.y/#z).\n`[not](#link)`\n```\n[no](#no)\n```\n";
        assert_eq!(links(page), [(1, "#a"), (1, "other.md#b")]);
    }

    /// The docs test: no broken link or anchor in the README and `docs/`.
    #[test]
    fn docs_links_resolve() {
        if let Err(message) = check(&crate::workspace_root()) {
            panic!("{message}");
        }
    }
}
