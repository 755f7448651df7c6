//! Results pinned by snapshot (the `insta` crate): a seeded run's `summary.csv`, the head of its
//! `decisions.csv`, the terminal table, and `explain` outputs. A dependency upgrade that changes
//! the numbers a seed produces (rand_distr, croner, chrono-tz, hdrhistogram, …) fails here.
//! After an intended change, review and accept with `INSTA_UPDATE=always cargo test --test
//! snapshots` (or `cargo insta review`).

use assert_cmd::Command;

fn scalesim(args: &[&str]) -> String {
    let out = Command::cargo_bin("scalesim").expect("binary").args(args).output().expect("runs");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn seeded_run_outputs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let table =
        scalesim(&["run", "tests/fixtures/good.toml", "--out", out.to_str().expect("path"), "--seeds", "2"]);
    insta::assert_snapshot!("run_table", table);
    let summary = std::fs::read_to_string(out.join("summary.csv")).expect("summary.csv");
    insta::assert_snapshot!("run_summary_csv", summary);
    let decisions = std::fs::read_to_string(out.join("decisions.csv")).expect("decisions.csv");
    let head: Vec<&str> = decisions.lines().take(40).collect();
    insta::assert_snapshot!("run_decisions_head", head.join("\n"));
}

#[test]
fn explain_outputs() {
    insta::assert_snapshot!(
        "explain_hpa_a1",
        scalesim(&["explain", "hpa", "tests/explain/hpa/A1-scale-up.yaml"])
    );
    insta::assert_snapshot!(
        "explain_hpa_a1_json",
        scalesim(&["explain", "hpa", "tests/explain/hpa/A1-scale-up.yaml", "--json"])
    );
    insta::assert_snapshot!(
        "explain_kpa_k03",
        scalesim(&["explain", "kpa", "tests/explain/kpa/k03_panic_mode_double_pod_count.yaml"])
    );
}
