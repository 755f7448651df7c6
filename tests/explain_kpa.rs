//! `scalesim explain kpa` on the case files of tests/explain/kpa: the reference's Knative golden
//! cases (K1, K3, K5, K8, K12) and cases derived from upstream `autoscaler_test.go` (each file
//! cites its test), asserted exactly against the real binary.

use assert_cmd::Command;
use std::path::PathBuf;

fn case(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/explain/kpa").join(format!("{name}.yaml"))
}

fn explain(name: &str) -> String {
    let out =
        Command::cargo_bin("scalesim").unwrap().args(["explain", "kpa"]).arg(case(name)).output().unwrap();
    assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

const CASES: &[(&str, &str)] = &[
    ("k01_stable_mode_no_change", "t=0 desired=5 panic=true ebc=-137\n"),
    ("k03_panic_mode_double_pod_count", "t=0 desired=10 panic=true ebc=-171\n"),
    ("k05_small_scale_down_rate", "t=0 desired=90 panic=false ebc=-650\n"),
    ("k08_rate_limit_scale_up", "t=0 desired=10 panic=true ebc=-1049\nt=2 desired=100 panic=true ebc=-929\n"),
    (
        "k12_no_traffic_scale_to_zero",
        "t=0 desired=1 panic=false ebc=-62\nt=2 desired=0 panic=false ebc=-62\n",
    ),
    ("u01_unlimited_tbc", "t=0 desired=1 panic=false ebc=-1\n"),
    ("u02_zero_tbc", "t=0 desired=5 panic=true ebc=0\n"),
    ("u03_small_scale_up_rate", "t=0 desired=3 panic=true ebc=-1983\n"),
    ("u04_decrease_not_reachable", "t=0 desired=1 panic=false ebc=-650\n"),
    ("u05_panic_stable_larger", "t=5 desired=50 panic=true ebc=-124\n"),
    ("u06_panic_stable_less", "t=5 desired=30 panic=true ebc=-124\n"),
    (
        "u07_panic_then_unpanic",
        "t=0 desired=10 panic=true ebc=-180\nt=2 desired=100 panic=true ebc=-960\n\
         t=32 desired=100 panic=true ebc=39\nt=63 desired=1 panic=false ebc=39\n",
    ),
    ("u08_rate_limit_scale_down", "t=0 desired=10 panic=false ebc=1271\nt=2 desired=1 panic=false ebc=71\n"),
    ("u09_no_endpoints_counts_one", "t=0 desired=10 panic=true ebc=-969\n"),
    (
        "u10_unpanic_after_slow_increase",
        "t=0 desired=25 panic=true ebc=-110\nt=30 desired=41 panic=true ebc=-86\nt=62 desired=50 panic=false ebc=-81\n",
    ),
    ("u11_extend_panic_window", "t=0 desired=25 panic=true ebc=-110\nt=30 desired=80 panic=true ebc=-125\n"),
    (
        "u12_scale_down_delay",
        "t=2 desired=4 panic=false ebc=0\nt=300 desired=4 panic=false ebc=0\nt=302 desired=0 panic=false ebc=0\n\
         t=540 desired=4 panic=false ebc=0\nt=600 desired=4 panic=false ebc=0\nt=660 desired=4 panic=false ebc=0\n\
         t=840 desired=3 panic=false ebc=0\nt=900 desired=0 panic=false ebc=0\n",
    ),
    ("u13_activation_scale", "t=0 desired=0 panic=false ebc=-62\nt=2 desired=2 panic=false ebc=-62\n"),
    (
        "u14_stable_increase_concurrency",
        "t=0 desired=5 panic=false ebc=-98\nt=2 desired=10 panic=false ebc=-98\n",
    ),
];

#[test]
fn every_case_file_is_asserted() {
    let mut files: Vec<String> = std::fs::read_dir(case("x").parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut names: Vec<&str> = CASES.iter().map(|c| c.0).collect();
    names.sort();
    assert_eq!(files, names);
}

#[test]
fn text_output_matches_upstream_decisions() {
    for (name, want) in CASES {
        assert_eq!(explain(name), *want, "{name}");
    }
}

#[test]
fn json_output() {
    let out = Command::cargo_bin("scalesim")
        .unwrap()
        .args(["explain", "kpa", "--json"])
        .arg(case("k08_rate_limit_scale_up"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            {"time": 0, "desiredReplicas": 10, "panicking": true, "excessBurstCapacity": -1049},
            {"time": 2, "desiredReplicas": 100, "panicking": true, "excessBurstCapacity": -929}
        ])
    );
}

#[test]
fn json_case_files_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.json");
    std::fs::write(
        &p,
        r#"{"config": {"target": 10, "totalValue": 100, "targetBurstCapacity": 0},
            "ticks": [{"time": 0, "stableAverage": 25, "panicAverage": 25, "readyPods": 1}]}"#,
    )
    .unwrap();
    let out = Command::cargo_bin("scalesim").unwrap().args(["explain", "kpa"]).arg(&p).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "t=0 desired=3 panic=true ebc=0\n");
}

#[test]
fn invalid_cases_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    for (text, field) in [
        (
            "config: {target: -1, totalValue: 1}\nticks: [{time: 0, stableAverage: 1, panicAverage: 1, readyPods: 1}]\n",
            "config.target",
        ),
        ("config: {target: 1}\nticks: []\n", "totalValue"),
        (
            "config: {target: 1, totalValue: 1, maxScaleUpRate: 0}\nticks: [{time: 0, stableAverage: 1, panicAverage: 1, readyPods: 1}]\n",
            "config.maxScaleUpRate",
        ),
        (
            "config: {target: 1, totalValue: 1}\nticks: [{time: 0, stableAverage: 1, panicAverage: 1, readyPods: -3}]\n",
            "readyPods",
        ),
        (
            "config: {target: 1, totalValue: 1}\nticks: [{time: 0, stableAvg: 1, panicAverage: 1, readyPods: 1}]\n",
            "stableAvg",
        ),
    ] {
        let p = dir.path().join("bad.yaml");
        std::fs::write(&p, text).unwrap();
        let out = Command::cargo_bin("scalesim").unwrap().args(["explain", "kpa"]).arg(&p).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field), "{field} not in: {err}");
    }
}
