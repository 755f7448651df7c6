//! `run --check` and `tune --check` through the binary (k6-style thresholds): exit 0 when every
//! deployable policy meets the SLO (the oracle baseline is not one, even when it misses it),
//! 3 when one misses it — outputs written, the policy and by how much on stderr — and 2 for a
//! scenario with no SLO to check. Without `--check` the exit code is unchanged.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/check").join(name)
}

fn scalesim(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("scalesim").unwrap().args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_check_passes_when_every_deployable_policy_meets_the_slo() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pass");
    let o = scalesim(&[
        "-q",
        "run",
        fixture("pass.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--check",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("verdict: fixed-6 is the cheapest deployable policy that meets the SLO"),
        "{stdout}"
    );
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    assert!(out.join("summary.json").exists());
}

#[test]
fn run_check_fails_with_exit_3_naming_the_policy_and_by_how_much() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fail");
    let cfg = fixture("fail.toml");
    let o = scalesim(&["-q", "run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains("SLO check failed: 1 of 2 deployable policies misses the SLO: fixed-1 (")
            && stderr.contains("SLO-violating min,")
            && stderr.contains("% failed)"),
        "{stderr}"
    );
    assert!(!stderr.contains("fixed-6") && !stderr.contains("oracle"), "{stderr}");
    // The outputs and the table are written all the same.
    assert!(out.join("summary.json").exists());
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let missing: Vec<&str> = summary["policies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["baseline"] != true && p["slo_violation_minutes"].as_f64().unwrap() > 0.0)
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["fixed-1"], "the check and summary.json agree on who misses the SLO");
    assert!(text(&o.stdout).contains("Cheaper but missing the SLO: fixed-1"), "{}", text(&o.stdout));
    // Without --check the same run exits 0.
    let o = scalesim(&["-q", "run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn check_without_an_slo_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = fixture("no_slo.toml");
    let out = tmp.path().join("x");
    let o = scalesim(&["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--check"]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = text(&o.stderr);
    assert!(stderr.contains("no_slo.toml has no [simulation.slo]"), "{stderr}");
    assert!(!out.exists(), "nothing is simulated");
    let o = scalesim(&[
        "tune",
        cfg.to_str().unwrap(),
        "--policy",
        "fixed-6",
        "--vary",
        "policy.fixed-6.replicas=5,6",
        "--check",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("has no [simulation.slo]"), "{}", text(&o.stderr));
    // Without --check it runs.
    let o = scalesim(&["-q", "run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("verdict: No SLO is set: fixed-6 is the cheapest"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn tune_check_judges_its_best_candidate() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |cfg: &str, policy: &str, values: &str| {
        let out = tmp.path().join(policy);
        scalesim(&[
            "-q",
            "tune",
            fixture(cfg).to_str().unwrap(),
            "--policy",
            policy,
            "--vary",
            &format!("policy.{policy}.replicas={values}"),
            "--check",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let o = run("pass.toml", "fixed-6", "5,6");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Only one replica is tried: no candidate meets the SLO.
    let o = run("fail.toml", "fixed-1", "1");
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let stderr = text(&o.stderr);
    assert!(
        stderr.contains(
            "SLO check failed: no candidate meets every constraint; the closest, replicas=1, misses"
        ),
        "{stderr}"
    );
    assert!(tmp.path().join("fixed-1/tune.json").exists(), "the outputs are written");
}
