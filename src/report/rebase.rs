//! Relative file paths in scenario text (`traffic.trace.path`, `policy[].manifest`, any `path`),
//! rewritten when the text is written to another folder (`recommend`'s recommended.toml, `tune`'s
//! best.toml), so that they still resolve from where the file is.

use std::path::{Path, PathBuf};

/// The scenario text with its relative paths rewritten from `from` (the folder they were
/// relative to) to `to` (where the text is written). Text that does not parse is returned as is.
pub fn rebase_text(text: &str, from: &Path, to: &Path) -> String {
    let Ok(mut doc) = text.parse::<toml_edit::DocumentMut>() else { return text.to_string() };
    rebase_paths(doc.as_table_mut(), from, to);
    doc.to_string()
}

/// Rewrites every relative `path` and `manifest` string so it resolves from `to` instead of
/// `from`.
pub fn rebase_paths(t: &mut dyn toml_edit::TableLike, from: &Path, to: &Path) {
    let keys: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
    for k in keys {
        let Some(item) = t.get_mut(&k) else { continue };
        match item {
            toml_edit::Item::Table(tt) => rebase_paths(tt, from, to),
            toml_edit::Item::ArrayOfTables(a) => {
                for tt in a.iter_mut() {
                    rebase_paths(tt, from, to);
                }
            }
            toml_edit::Item::Value(v) => rebase_value(&k, v, from, to),
            toml_edit::Item::None => {}
        }
    }
}

fn rebase_value(key: &str, v: &mut toml_edit::Value, from: &Path, to: &Path) {
    match v {
        toml_edit::Value::InlineTable(it) => rebase_paths(it, from, to),
        toml_edit::Value::Array(a) => {
            for x in a.iter_mut() {
                rebase_value("", x, from, to);
            }
        }
        toml_edit::Value::String(s) if key == "path" || key == "manifest" => {
            let p = Path::new(s.value());
            if p.is_relative() {
                let new = relative_to(&from.join(p), to);
                let decor = v.decor().clone();
                *v = toml_edit::Value::from(new.to_string_lossy().as_ref());
                *v.decor_mut() = decor;
            }
        }
        _ => {}
    }
}

/// `target` expressed relative to the folder `dir` (absolute when there is no common root).
fn relative_to(target: &Path, dir: &Path) -> PathBuf {
    let abs = |p: &Path| -> PathBuf {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        // Normalise `.` and `..` lexically (the output folder may not exist yet).
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                std::path::Component::ParentDir => {
                    out.pop();
                }
                std::path::Component::CurDir => {}
                other => out.push(other),
            }
        }
        out
    };
    let (t, d) = (abs(target), abs(dir));
    let tc: Vec<_> = t.components().collect();
    let dc: Vec<_> = d.components().collect();
    let common = tc.iter().zip(&dc).take_while(|(a, b)| a == b).count();
    // Sharing only the root: an absolute path reads better than a climb to it.
    if common <= 1 {
        return t;
    }
    let mut out = PathBuf::new();
    for _ in common..dc.len() {
        out.push("..");
    }
    for c in &tc[common..] {
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_from_the_output_folder() {
        assert_eq!(
            relative_to(Path::new("/a/configs/k8s/x.yaml"), Path::new("/a/output/q/tune-p")),
            PathBuf::from("../../../configs/k8s/x.yaml")
        );
        assert_eq!(relative_to(Path::new("/a/b/../c/x"), Path::new("/a/c")), PathBuf::from("x"));
        assert_eq!(relative_to(Path::new("/work/x"), Path::new("/tmp/o")), PathBuf::from("/work/x"));
    }

    #[test]
    fn trace_and_manifest_paths_follow_the_file() {
        let text = "[traffic.trace]\npath = \"../traces/day.csv\" # recorded\n[[policy]]\nmanifest = \"k8s/h.yaml\"\nname = \"x\"\n";
        let out = rebase_text(text, Path::new("/a/configs"), Path::new("/a/output/q"));
        assert!(out.contains("path = \"../../traces/day.csv\" # recorded"), "{out}");
        assert!(out.contains("manifest = \"../../configs/k8s/h.yaml\""), "{out}");
        assert!(out.contains("name = \"x\""), "{out}");
    }

    #[test]
    fn relative_folders_and_untouched_text() {
        let t = rebase_text(
            "[traffic.trace]\nformat = \"requests_csv\"\npath = \"r.csv\" # the trace\n",
            Path::new("a"),
            Path::new("b"),
        );
        assert!(t.contains("path = \"../a/r.csv\" # the trace"), "{t}");
        let t = rebase_text("[traffic.trace]\npath = \"/abs/t.csv\"\n", Path::new("configs"), Path::new("o"));
        assert!(t.contains("path = \"/abs/t.csv\""), "{t}");
        let rate = "[traffic.rate]\nshape = \"daily\"\n";
        assert_eq!(rebase_text(rate, Path::new("a"), Path::new("b")), rate);
    }
}
