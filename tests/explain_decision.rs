//! `scalesim explain decision` against the runs it explains: for every policy family, the
//! explained decision's `time_s` and `desired` equal the row of that run's `decisions.csv`
//! (the first decision of the policy and replication at or after `--at`), and the case file
//! written with `--case` replays to the same answer through `explain hpa` / `explain kpa`.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn config(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs").join(name)
}

fn bin() -> Command {
    Command::cargo_bin("scalesim").unwrap()
}

/// decisions.csv rows of `policy`, replication `rep`: (time_s, stabilized, desired).
fn rows(out: &Path, policy: &str, rep: u32) -> Vec<(f64, Option<u32>, u32)> {
    let mut r = csv::Reader::from_path(out.join("decisions.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (t, p, rp, st, d) =
        (col("time_s"), col("policy"), col("replication"), col("stabilized"), col("desired"));
    r.records()
        .map(|x| x.unwrap())
        .filter(|x| &x[p] == policy && x[rp].parse::<u32>().unwrap() == rep)
        .map(|x| (x[t].parse().unwrap(), x[st].parse().ok(), x[d].parse().unwrap()))
        .collect()
}

fn explain(
    file: &Path,
    set: &[&str],
    policy: &str,
    at: &str,
    rep: u32,
    case: Option<&Path>,
) -> serde_json::Value {
    let mut c = bin();
    c.args(["explain", "decision"]).arg(file).args(["--policy", policy, "--at", at, "--json"]);
    c.args(["--replication", &rep.to_string()]);
    for s in set {
        c.args(["--set", s]);
    }
    if let Some(p) = case {
        c.arg("--case").arg(p);
    }
    let out = c.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

/// Runs `policies` of `file` and checks the explanation at each of `times` (seconds).
fn check(file: &str, set: &[&str], policies: &[&str], times: &[f64], seeds: u32) {
    let dir = tempfile::tempdir().unwrap();
    let file = config(file);
    let mut c = bin();
    c.arg("run").arg(&file).arg("--out").arg(dir.path()).args(["--seeds", &seeds.to_string()]);
    for s in set {
        c.args(["--set", s]);
    }
    for p in policies {
        c.args(["--policy", p]);
    }
    c.assert().success();
    for p in policies {
        for rep in 0..seeds {
            let log = rows(dir.path(), p, rep);
            for &at in times {
                let want =
                    log.iter().find(|r| r.0 >= at).unwrap_or_else(|| panic!("{p}: no decision after {at}"));
                let case = dir.path().join(format!("case-{p}-{rep}-{at}.json"));
                let e = explain(
                    &file,
                    set,
                    p,
                    &at.to_string(),
                    rep,
                    Some(case.as_path()).filter(|_| has_case(p)),
                );
                assert_eq!(e["policy"], *p);
                assert_eq!(e["time_s"].as_f64().unwrap(), want.0, "{p} rep {rep} at {at}: {e}");
                assert_eq!(e["desired"].as_u64().unwrap() as u32, want.2, "{p} rep {rep} at {at}: {e}");
                assert!(!e["steps"].as_array().unwrap().is_empty(), "{e}");
                match e["case"].as_str() {
                    Some("hpa") => {
                        let out = bin().args(["explain", "hpa", "--json"]).arg(&case).assert().success();
                        let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
                        assert_eq!(v["desiredReplicas"].as_u64().unwrap() as u32, want.2, "{p} at {at}: {v}");
                    }
                    Some("kpa") => {
                        let out = bin().args(["explain", "kpa", "--json"]).arg(&case).assert().success();
                        let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
                        let last = v.as_array().unwrap().last().unwrap().clone();
                        assert_eq!(last["time"].as_f64().unwrap(), want.0, "{p} at {at}: {last}");
                        if let Some(st) = want.1 {
                            assert_eq!(
                                last["desiredReplicas"].as_u64().unwrap() as u32,
                                st,
                                "{p} at {at}: {last}"
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Whether the policy's family writes a case file (the test configs name them by family).
fn has_case(policy: &str) -> bool {
    policy.starts_with("hpa") || policy.starts_with("keda") || policy.starts_with("knative")
}

#[test]
fn kubernetes_families_match_their_decision_log() {
    check(
        "k8s-policies.toml",
        &["simulation.duration=2h"],
        &["hpa-cpu", "hpa-fast", "keda-rps", "keda-cron+rps", "knative-concurrency"],
        &[0.0, 61.5, 1800.0, 5417.0],
        1,
    );
}

#[test]
fn basic_and_aws_families_match_their_decision_log() {
    check(
        "flash-crowd.toml",
        &["simulation.duration=40m"],
        &["rps-10-30s", "concurrency-1"],
        &[0.0, 1234.0],
        2,
    );
    check(
        "quickstart.toml",
        &["simulation.duration=3h"],
        &["cpu-60", "office-hours+rps"],
        &[600.0, 9000.0],
        1,
    );
    check(
        "aws-target-tracking.toml",
        &["simulation.duration=3h"],
        &["tt-cpu-50", "tt-alb-600", "step-cpu"],
        &[1.0, 7000.0],
        1,
    );
}

#[test]
fn times_in_every_form_and_errors() {
    let file = config("k8s-policies.toml");
    let set = ["simulation.duration=2h"];
    // 00:30 local on the start day (Europe/London, GMT in March) is 1800 s.
    let a = explain(&file, &set, "hpa-cpu", "00:30", 0, None);
    let b = explain(&file, &set, "hpa-cpu", "2025-03-04T00:30:00Z", 0, None);
    let c = explain(&file, &set, "hpa-cpu", "1800", 0, None);
    assert_eq!(a["time_s"], 1800.0);
    assert_eq!(a, b);
    assert_eq!(a, c);
    bin()
        .args(["explain", "decision"])
        .arg(&file)
        .args(["--policy", "hpa-cpx", "--at", "10", "--set", set[0]])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("did you mean `hpa-cpu`"));
    bin()
        .args(["explain", "decision"])
        .arg(&file)
        .args(["--policy", "hpa-cpu", "--at", "3h", "--set", set[0]])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--at"));
    let dir = tempfile::tempdir().unwrap();
    bin()
        .args(["explain", "decision"])
        .arg(config("flash-crowd.toml"))
        .args(["--policy", "rps-10-30s", "--at", "60", "--set", "simulation.duration=10m", "--case"])
        .arg(dir.path().join("x.json"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no case-file format"));
}
