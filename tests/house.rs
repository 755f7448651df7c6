//! The shape of the house, checked from the source: no function outside tests is longer than
//! 150 lines (tables of key documentation aside), and no two files of `src/config` or of
//! `src/cli` import each other, directly or in a loop (read from their `use` lines and paths).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LONGEST: usize = 150;

/// Functions that are tables of key documentation: long by nature, exempt.
fn is_key_doc_table(name: &str) -> bool {
    name.ends_with("key_docs")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The source with comments, string and character literals blanked (newlines kept), so that
/// braces and `fn` are only code's.
fn code_only(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !b[..i].last().is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &ch in &b[i..j.min(b.len())] {
                out.push(blank(ch));
            }
            i = j;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < b.len() {
                    out.push(blank(b[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{1b}') or a lifetime ('a).
            if next == Some('\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                for _ in i..=j.min(b.len() - 1) {
                    out.push(' ');
                }
                i = j + 1;
            } else if b.get(i + 2) == Some(&'\'') {
                out.push_str("   ");
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Every function outside `#[cfg(test)]` modules: (name, first line, lines).
fn functions(src: &str) -> Vec<(String, usize, usize)> {
    let code = code_only(src);
    let lines: Vec<&str> = code.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut test_module_until: Option<usize> = None;
    while i < lines.len() {
        let line = lines[i].trim_start();
        if line.starts_with("#[cfg(test)]") {
            // The item after it (a test module or function) is skipped whole.
            if let Some(end) = block_end(&lines, i + 1) {
                test_module_until = Some(end);
            }
        }
        if test_module_until.is_some_and(|e| i <= e) {
            i += 1;
            continue;
        }
        if let Some(name) = fn_name(line)
            && let Some(end) = block_end(&lines, i)
        {
            out.push((name, i + 1, end - i + 1));
        }
        i += 1;
    }
    out
}

/// The name of the function a line declares, if it does.
fn fn_name(line: &str) -> Option<String> {
    let mut rest = line;
    for prefix in ["pub(crate) ", "pub(super) ", "pub ", "const ", "async ", "unsafe ", "extern \"C\" "] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}

/// The line where the block opened at or after `start` closes; `None` for a declaration
/// without a body (a `;` before any `{`).
fn block_end(lines: &[&str], start: usize) -> Option<usize> {
    let mut depth = 0i64;
    let mut opened = false;
    for (k, line) in lines.iter().enumerate().skip(start) {
        for ch in line.chars() {
            match ch {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                ';' if !opened && depth == 0 => return None,
                _ => {}
            }
            if opened && depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

#[test]
fn no_function_outside_tests_is_longer_than_150_lines() {
    let mut files = Vec::new();
    rust_files(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")), &mut files);
    let mut long = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        for (name, line, n) in functions(&src) {
            if n > LONGEST && !is_key_doc_table(&name) {
                long.push(format!("{}:{line} {name}: {n} lines", f.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {LONGEST} lines (split them into named steps):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_length_check_sees_code_not_strings_or_comments() {
    let src = "fn a() {\n    let s = \"}}}{\";\n    let c = '{';\n    // }\n    let r = r#\"{\"#;\n    x\n}\nfn b<'a>(x: &'a str) {\n}\n#[cfg(test)]\nmod tests {\n    fn c() {\n    }\n}\n";
    let f = functions(src);
    assert_eq!(f, vec![("a".to_string(), 1, 7), ("b".to_string(), 8, 2)]);
}

/// The files of `src/<dir>` (a subfolder counts as one node, its mod.rs the facade) and which
/// of them each imports, outside test modules: every path that reaches `src/<dir>` — written
/// `crate::<dir>::`, or with as many `super::` as the file sits below `src/<dir>` — followed by
/// a node's name, directly or in a `{…}` group. Paths that stay inside a subfolder are the
/// subfolder's own business.
fn import_graph(dir: &str) -> BTreeMap<String, BTreeSet<String>> {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut nodes: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for e in std::fs::read_dir(&base).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            let mut files = Vec::new();
            rust_files(&p, &mut files);
            nodes.insert(p.file_name().unwrap().to_string_lossy().into_owned(), files);
        } else if p.extension().is_some_and(|x| x == "rs") && p.file_stem().unwrap() != "mod" {
            nodes.insert(p.file_stem().unwrap().to_string_lossy().into_owned(), vec![p]);
        }
    }
    let names: Vec<String> = nodes.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (node, files) in &nodes {
        let mut uses = BTreeSet::new();
        for f in files {
            let src = std::fs::read_to_string(f).unwrap();
            let code = code_only(&src);
            let code = code.split("#[cfg(test)]").next().unwrap_or("");
            // How many `super::` reach src/<dir> from this file's module.
            let below = f.strip_prefix(&base).unwrap().components().count();
            let up = below - usize::from(f.file_name().unwrap() == "mod.rs");
            let code = to_dir_paths(code, dir, up);
            for other in &names {
                if other == node {
                    continue;
                }
                let direct = format!("@@::{other}");
                let hit = code.match_indices(&direct).any(|(k, _)| {
                    !code[k + direct.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
                }) || braces_name(&code, other);
                if hit {
                    uses.insert(other.clone());
                }
            }
        }
        graph.insert(node.clone(), uses);
    }
    graph
}

/// `code` with every path to `src/<dir>` written `@@::`: `crate::<dir>::`, and runs of exactly
/// `up` `super::` (a longer or shorter run goes elsewhere and is left as it is).
fn to_dir_paths(code: &str, dir: &str, up: usize) -> String {
    let code = code.replace(&format!("crate::{dir}::"), "@@::");
    let mut out = String::with_capacity(code.len());
    let mut rest = code.as_str();
    while let Some(k) = rest.find("super::") {
        let starts_word = rest[..k].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let mut n = 0;
        let mut after = &rest[k..];
        while let Some(a) = after.strip_prefix("super::") {
            n += 1;
            after = a;
        }
        out.push_str(&rest[..k]);
        if starts_word && n == up {
            out.push_str("@@::");
        } else {
            out.push_str(&rest[k..rest.len() - after.len()]);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Whether a `@@::{…}` group names `name` as a module (`name`, `name::…`, `name as …`).
fn braces_name(code: &str, name: &str) -> bool {
    code.match_indices("@@::{").any(|(k, m)| {
        let inner = &code[k + m.len()..];
        let end = inner.find('}').unwrap_or(inner.len());
        inner[..end].split(',').any(|item| {
            let item = item.trim();
            item == name || item.starts_with(&format!("{name}::")) || item.starts_with(&format!("{name} as "))
        })
    })
}

/// The loops of a graph: every node that reaches itself, with the loop found.
fn loops(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for start in g.keys() {
        // Depth-first search for a path back to `start`.
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((n, path)) = stack.pop() {
            for m in &g[&n] {
                if m == start {
                    let mut l = path.clone();
                    l.push(start.clone());
                    found.push(l);
                    stack.clear();
                    break;
                }
                if seen.insert(m.clone()) {
                    let mut p = path.clone();
                    p.push(m.clone());
                    stack.push((m.clone(), p));
                }
            }
        }
    }
    found
}

#[test]
fn config_and_cli_files_import_in_one_direction() {
    for dir in ["config", "cli"] {
        let g = import_graph(dir);
        let l = loops(&g);
        assert!(
            l.is_empty(),
            "src/{dir}: files importing each other, directly or in a loop:\n{}",
            l.iter().map(|p| p.join(" → ")).collect::<Vec<_>>().join("\n")
        );
    }
}

#[test]
fn a_cli_handler_imports_only_the_facade_and_the_arguments() {
    for (node, uses) in import_graph("cli") {
        let others: Vec<&String> = uses.iter().filter(|u| u.as_str() != "args").collect();
        assert!(
            others.is_empty(),
            "src/cli/{node}.rs imports {others:?}: handlers share only what cli/mod.rs holds"
        );
    }
}

#[test]
fn the_import_check_finds_a_loop() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    g.insert("d".to_string(), BTreeSet::from(["a".to_string()]));
    let l = loops(&g);
    assert_eq!(l.len(), 3, "{l:?}");
    assert!(braces_name("use @@::{x, keys::KeyDoc, y};", "keys"));
    assert!(!braces_name("use @@::{x, keysmith};", "keys"));
    // From config/raw/traffic.rs (two below src/config): `super::super::x` is config's x,
    // `super::x` raw's own.
    assert_eq!(to_dir_paths("use super::super::x; use super::y;", "config", 2), "use @@::x; use super::y;");
    assert_eq!(to_dir_paths("crate::config::z, super::w", "config", 1), "@@::z, @@::w");
}
