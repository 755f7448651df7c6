//! Every bundled scenario (configs/**/*.toml) run through the binary, exactly as a user runs it,
//! and every output file compared by SHA-256 with the sums committed in
//! tests/golden/outputs.sha256: the guard that a refactor changes no output byte.
//!
//! When a change is meant to alter outputs, regenerate the sums and review the diff of that file
//! (which files of which scenario changed) in the commit:
//!
//! ```text
//! SCALESIM_BLESS=1 cargo test --test golden_outputs
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SUMS: &str = "tests/golden/outputs.sha256";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled scenarios, as paths relative to the repository (how the README runs them).
fn scenarios() -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![repo().join("configs")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("configs/") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p.strip_prefix(repo()).expect("under the repo").to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// `file` → SHA-256 for every file `run` wrote into `dir`, keyed `scenario/file`.
fn sums_of(scenario: &str, dir: &Path, into: &mut BTreeMap<String, String>) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("outputs")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into())
        .collect();
    names.sort();
    for n in names {
        let bytes = std::fs::read(dir.join(&n)).expect("an output file");
        into.insert(format!("{scenario}/{n}"), scalesim::report::sha256::hex(&bytes));
    }
}

fn parse(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (sum, name) = l.split_once("  ").unwrap_or_else(|| panic!("{SUMS}: not `sum  name`: {l}"));
            (name.to_string(), sum.to_string())
        })
        .collect()
}

#[test]
fn every_bundled_scenario_writes_the_committed_bytes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut got = BTreeMap::new();
    let list = scenarios();
    assert!(list.len() >= 10, "found only {list:?}");
    for s in &list {
        let out = tmp.path().join(s.replace('/', "_"));
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_scalesim"))
            .current_dir(repo())
            .args(["run", s, "--out"])
            .arg(&out)
            .args(["--quiet", "--report"])
            .output()
            .expect("the binary runs");
        assert!(o.status.success(), "run {s}: {}", String::from_utf8_lossy(&o.stderr));
        sums_of(s, &out, &mut got);
    }
    let path = repo().join(SUMS);
    if std::env::var_os("SCALESIM_BLESS").is_some() {
        let mut text = String::from(
            "# SHA-256 of every output of `scalesim run <scenario> --report` on the bundled scenarios\n\
             # (tests/golden_outputs.rs). Regenerate: SCALESIM_BLESS=1 cargo test --test golden_outputs\n",
        );
        for (name, sum) in &got {
            text.push_str(&format!("{sum}  {name}\n"));
        }
        std::fs::create_dir_all(path.parent().expect("tests/golden")).expect("mkdir");
        std::fs::write(&path, text).expect("write the sums");
        return;
    }
    let want = parse(&std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("{SUMS}: {e}; generate it with SCALESIM_BLESS=1 cargo test --test golden_outputs")
    }));
    let mut diffs = Vec::new();
    for (name, sum) in &want {
        match got.get(name) {
            None => diffs.push(format!("{name}: no longer written")),
            Some(g) if g != sum => diffs.push(format!("{name}: changed")),
            _ => {}
        }
    }
    for name in got.keys().filter(|n| !want.contains_key(*n)) {
        diffs.push(format!("{name}: written, not in {SUMS}"));
    }
    assert!(
        diffs.is_empty(),
        "outputs differ from {SUMS} ({} of {} files):\n  {}\nIf the change is meant to alter outputs, \
         regenerate with SCALESIM_BLESS=1 cargo test --test golden_outputs and review the diff",
        diffs.len(),
        want.len(),
        diffs.join("\n  ")
    );
}
