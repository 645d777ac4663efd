//! The dependency rule, kept by a test: a module may use only the modules
//! below it in [`LAYERS`], so dependencies point one way — from the web
//! layer down through the capabilities to the database and the pure
//! domain — and a capability added later can use every one before it
//! without any of them learning about it.
//!
//! The test reads the `crate::…` paths in every non-test source file under
//! `src/` (comments and `#[cfg(test)]` code left out) and names every
//! reference that points up or sideways, with its file and line. Tests may
//! reach anywhere: a test of the catalog may record stock to see a
//! location refuse to close.
//!
//! Besides the order: nothing outside `web/` and `startup` names actix,
//! and `domain/` does no I/O (no database, files, network or runtime).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Every top-level module of the crate, lowest first. Each may use only
/// the modules before it in this list.
pub const LAYERS: &[(&str, &str)] = &[
    // Pure: types and rules, no I/O.
    ("domain", "pure types and rules"),
    ("crypto", "random tokens, digests"),
    ("validation", "field errors"),
    // Infrastructure.
    ("outbound", "outgoing HTTP that refuses local addresses"),
    ("config", "the typed configuration"),
    ("telemetry", "logging"),
    ("db", "connections, transactions, migrations"),
    ("audit", "the hash-chained audit log"),
    ("jobs", "the queue's mechanics"),
    ("mail", "the outgoing mail server"),
    // Capabilities, in the order they build on each other.
    ("accounts", "users, sessions, tokens"),
    ("catalog", "items, suppliers, locations"),
    ("practice", "the practice's details"),
    ("stock", "the ledger"),
    ("orders", "purchase orders"),
    ("dispatch", "sending orders to suppliers"),
    ("notify", "the daily digest"),
    ("csv_io", "import and export"),
    ("demo", "the demo practice"),
    // Delivery.
    ("web", "pages and the JSON API"),
    ("startup", "wiring the application"),
    ("cli", "the command line"),
];

/// Modules that may name actix: the HTTP layer and the code that starts it.
const ACTIX_ALLOWED: &[&str] = &["web", "startup"];

/// What `domain/` may not name: it stays free of I/O.
const IMPURE: &[&str] = &[
    "rusqlite", "tokio", "std::fs", "std::net", "reqwest", "lettre", "actix",
];

/// One reference that breaks the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub file: String,
    pub line: usize,
    pub message: String,
}

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(m, _)| *m == module)
}

/// The top-level module a file under `src/` belongs to (`lib`, `main` and
/// this file belong to none).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    match name {
        "lib" | "main" | "architecture" => None,
        _ => Some(name.to_string()),
    }
}

/// The source with comments blanked (line structure kept) so that doc
/// links and prose are not read as dependencies.
fn strip_comments(src: &str) -> String {
    src.lines()
        .map(|line| {
            // A `//` inside a string literal is rare in this code base and
            // would only hide a reference, never invent one.
            match line.find("//") {
                Some(i) if !line[..i].contains('"') => &line[..i],
                _ => line,
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The source with `#[cfg(test)]` items blanked, and the names of the
/// `mod x;` files they declare (test-only files).
fn strip_test_items(src: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(src.len());
    let mut test_files = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        // The item: up to its first `;` (a `mod x;`) or its block.
        let semi = after.find(';');
        let brace = after.find('{');
        match (semi, brace) {
            (Some(s), b) if b.is_none_or(|b| s < b) => {
                let item = &after[..s];
                if let Some(name) = item.split_whitespace().last()
                    && item.split_whitespace().any(|w| w == "mod")
                {
                    test_files.push(name.to_string());
                }
                blank(&mut out, &after[..=s]);
                rest = &after[s + 1..];
            }
            (_, Some(b)) => {
                let mut depth = 0usize;
                let mut end = after.len();
                for (j, c) in after[b..].char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = b + j + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                blank(&mut out, &after[..end]);
                rest = &after[end..];
            }
            _ => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    (out, test_files)
}

/// Keeps the line count of skipped text so line numbers stay right.
fn blank(out: &mut String, skipped: &str) {
    out.extend(std::iter::repeat_n('\n', skipped.matches('\n').count()));
}

/// The top-level modules named by `crate::…` paths in `code`, with lines:
/// `crate::x::y`, `crate::x;` and the groups of `use crate::{x, y::z}`.
fn crate_references(code: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            // `stockroom_crate::` or `some_crate::` are other paths.
            let before = rest[..i].chars().last();
            rest = &rest[i + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let inner = group.split('}').next().unwrap_or("");
                for part in inner.split(',') {
                    let name: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        out.push((n + 1, name));
                    }
                }
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((n + 1, name));
            }
        }
    }
    out
}

/// Every `.rs` file under `dir`, in a stable order.
pub(crate) fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every violation of the rule in the source tree at `src`.
pub fn check(src: &Path) -> Vec<Violation> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    // Files that only tests compile: declared under `#[cfg(test)]`, named
    // `tests.rs`, or inside a `tests/` folder.
    let mut test_only: Vec<PathBuf> = Vec::new();
    let mut stripped: BTreeMap<PathBuf, String> = BTreeMap::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("a readable source file");
        let (code, test_mods) = strip_test_items(&strip_comments(&text));
        let dir = match path.file_name().and_then(|n| n.to_str()) {
            Some("mod.rs" | "lib.rs" | "main.rs") => path.parent().expect("a parent").to_path_buf(),
            _ => path.with_extension(""),
        };
        for m in test_mods {
            test_only.push(dir.join(format!("{m}.rs")));
            test_only.push(dir.join(&m));
        }
        stripped.insert(path.clone(), code);
    }
    let mut violations = Vec::new();
    for (path, code) in &stripped {
        let rel = path.strip_prefix(src).expect("under src/");
        if rel.file_name().is_some_and(|n| n == "tests.rs")
            || rel.components().any(|c| c.as_os_str() == "tests")
            || test_only.iter().any(|t| path.starts_with(t))
        {
            continue;
        }
        let Some(module) = module_of(rel) else {
            continue;
        };
        let file = format!("src/{}", rel.display());
        let Some(own) = rank(&module) else {
            violations.push(Violation {
                file,
                line: 1,
                message: format!(
                    "module `{module}` is not in the dependency table (src/architecture.rs LAYERS): add it where it belongs"
                ),
            });
            continue;
        };
        for (line, target) in crate_references(code) {
            if target == module || target == "self" || target == "super" {
                continue;
            }
            match rank(&target) {
                Some(r) if r < own => {}
                Some(_) => violations.push(Violation {
                    file: file.clone(),
                    line,
                    message: format!(
                        "`{module}` may not use `{target}`: {target} is not below {module} in the dependency order"
                    ),
                }),
                // Macros exported at the crate root (`crate::page!`) and
                // modules only tests see are not layers.
                None if code.contains(&format!("crate::{target}!")) => {}
                None => violations.push(Violation {
                    file: file.clone(),
                    line,
                    message: format!("`{module}` uses `crate::{target}`, which is not in the table"),
                }),
            }
        }
        let words: &[&str] = if module == "domain" {
            IMPURE
        } else {
            &["actix"]
        };
        if module == "domain" || !ACTIX_ALLOWED.contains(&module.as_str()) {
            for (n, line) in code.lines().enumerate() {
                for w in words {
                    if line.match_indices(w).any(|(i, _)| {
                        !line[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                    }) {
                        violations.push(Violation {
                            file: file.clone(),
                            line: n + 1,
                            message: if module == "domain" {
                                format!("`domain` is pure: it may not use `{w}`")
                            } else {
                                format!(
                                    "`{module}` may not use `{w}`: only web/ and startup speak HTTP"
                                )
                            },
                        });
                    }
                }
            }
        }
    }
    violations
}

/// The violations as one readable report.
pub fn report(violations: &[Violation]) -> String {
    let mut out = String::new();
    for v in violations {
        let _ = writeln!(out, "{}:{}: {}", v.file, v.line, v.message);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
    }

    #[test]
    fn dependencies_only_point_down() {
        let violations = check(&src());
        assert!(
            violations.is_empty(),
            "{} reference(s) break the dependency rule (see docs/architecture.md):\n{}",
            violations.len(),
            report(&violations)
        );
    }

    #[test]
    fn every_top_level_module_is_in_the_table() {
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(src()).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(src()).unwrap().to_path_buf();
            if let Some(m) = module_of(&rel)
                && (path.is_dir() || path.extension().is_some_and(|e| e == "rs"))
                && rank(&m).is_none()
            {
                missing.push(m);
            }
        }
        assert!(missing.is_empty(), "not in LAYERS: {missing:?}");
    }

    /// The checker itself, on a small tree: it must find what is wrong and
    /// leave alone what is right.
    #[test]
    fn a_reference_up_or_sideways_is_named_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(
            "orders/mod.rs",
            "//! uses [`crate::web`] only in a comment\n\
             use crate::db::Db;\n\
             use crate::{catalog, dispatch::send};\n\
             fn f() { crate::web::error::AppError::x(); }\n\
             #[cfg(test)]\nmod tests;\n",
        );
        write("orders/tests.rs", "use crate::web::state::AppState;\n");
        write(
            "stock/mod.rs",
            "use actix_web::HttpResponse;\n#[cfg(test)]\nmod t { use crate::orders::x; }\n",
        );
        write("domain/time.rs", "fn f() { std::fs::read(\"x\"); }\n");
        write("web/mod.rs", "use actix_web::App; use crate::orders;\n");
        write("gadgets.rs", "use crate::db;\n");
        let found = check(root);
        let lines: Vec<String> = found
            .iter()
            .map(|v| format!("{}:{}", v.file, v.line))
            .collect();
        assert_eq!(
            lines,
            [
                "src/domain/time.rs:1",
                "src/gadgets.rs:1",
                "src/orders/mod.rs:3",
                "src/orders/mod.rs:4",
                "src/stock/mod.rs:1",
            ],
            "{}",
            report(&found)
        );
        assert!(found[2].message.contains("`orders` may not use `dispatch`"));
        assert!(
            found[4]
                .message
                .contains("only web/ and startup speak HTTP")
        );
    }
}
