//! Command-line conventions, through the real binary: shell completions, the man page,
//! `--quiet` (no `wrote …` lines; errors still print).

use assert_cmd::Command;
use predicates::prelude::*;

fn bin() -> Command {
    Command::cargo_bin("scalesim").unwrap()
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef scalesim"),
        ("fish", "complete -c scalesim"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = bin().args(["completions", shell]).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(out.status.success() && text.contains(marker), "{shell}: {text:.200}");
        for sub in ["run", "export", "tune", "completions"] {
            assert!(text.contains(sub), "{shell} completions lack `{sub}`");
        }
    }
    bin().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_page() {
    let out = bin().arg("man").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert!(text.starts_with(".ie") || text.contains(".TH scalesim"), "{text:.300}");
    assert!(text.contains("\\-\\-quiet") && text.contains("export"), "{text:.300}");
}

#[test]
fn quiet_run_writes_its_files_without_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tune/mmc.toml");
    let out = bin()
        .args(["run", "--quiet", "--no-oracle", "--set", "simulation.duration=10m", "--out"])
        .arg(dir.path())
        .arg(&scenario)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("wrote"), "{err}");
    assert!(dir.path().join("summary.json").is_file());
    assert!(!String::from_utf8_lossy(&out.stdout).is_empty(), "the table still prints");
    bin()
        .args(["run", "--quiet", "no-such.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error:"));
}
