//! What-ifs end to end with the real binary: the default folder of a `--set` run is named
//! after its overrides (the baseline is untouched), summary.json records the scenario's path,
//! hash and overrides, `report DIR` writes report.html from the files, `--window` and
//! `--charts` are accepted, and `compare` puts two runs side by side.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scalesim(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_scalesim")).current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "scalesim {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/bench/reference.toml")
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn what_ifs_get_their_own_folder_and_compare_side_by_side() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config();
    let cfg = cfg.to_str().unwrap();
    let short = "simulation.duration=10m";
    scalesim(tmp.path(), &["run", cfg, "--set", short, "--seeds", "2"]);
    let base = tmp.path().join("output/reference+simulation.duration=10m");
    assert!(
        base.join("summary.json").exists(),
        "{:?}",
        std::fs::read_dir(tmp.path().join("output")).unwrap().collect::<Vec<_>>()
    );
    let before = std::fs::read(base.join("summary.json")).unwrap();
    let out = scalesim(
        tmp.path(),
        &[
            "run",
            cfg,
            "--set",
            short,
            "--set",
            "traffic.scale=2",
            "--seeds",
            "2",
            "--window",
            "2m..6m",
            "--charts",
            "panels",
        ],
    );
    let what_if = tmp.path().join("output/reference+simulation.duration=10m+traffic.scale=2");
    assert!(what_if.join("summary.json").exists());
    assert_eq!(std::fs::read(base.join("summary.json")).unwrap(), before, "the baseline is untouched");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("--set simulation.duration=10m, traffic.scale=2"), "{table}");

    let s = json(&what_if.join("summary.json"));
    let src = &s["scenario_source"];
    assert_eq!(src["path"], cfg);
    assert_eq!(src["overrides"], serde_json::json!([short, "traffic.scale=2"]));
    assert_eq!(src["sha256"].as_str().unwrap().len(), 64);
    assert!(s["replica_capacity"]["rps"].as_f64().unwrap() > 0.0);
    let scenario_toml = std::fs::read_to_string(what_if.join("scenario.toml")).unwrap();
    assert!(scenario_toml.contains("scale = 2"), "{scenario_toml}");

    // report DIR: report.html from the files alone.
    scalesim(tmp.path(), &["report", what_if.to_str().unwrap(), "--window", "..5m"]);
    let page = std::fs::read_to_string(what_if.join("report.html")).unwrap();
    assert!(page.contains("traffic.scale=2"));
    assert_eq!(page.matches("class=\"policy-row\"").count(), s["policies"].as_array().unwrap().len());

    // --out wins over the slug.
    let mine = tmp.path().join("mine");
    scalesim(tmp.path(), &["run", cfg, "--set", short, "--out", mine.to_str().unwrap()]);
    assert!(mine.join("summary.json").exists());

    // compare: every figure, the difference, a CI for it with replications.
    let out = scalesim(
        tmp.path(),
        &[
            "compare",
            base.to_str().unwrap(),
            what_if.to_str().unwrap(),
            "--json",
            "--out",
            tmp.path().join("cmp").to_str().unwrap(),
        ],
    );
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    let p0 = &c["policies"][0];
    let req = p0["figures"].as_array().unwrap().iter().find(|f| f["figure"] == "requests").unwrap();
    let (b, o) = (req["base"].as_f64().unwrap(), req["other"].as_f64().unwrap());
    assert!((o / b - 2.0).abs() < 0.1, "traffic ×2 doubles the requests: {b} → {o}");
    assert!(req["diff_ci95_low"].as_f64().unwrap() <= req["diff"].as_f64().unwrap());
    assert!(tmp.path().join("cmp/compare.png").exists());
    let out = scalesim(tmp.path(), &["compare", base.to_str().unwrap(), what_if.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("95 % CI of diff") && text.contains("requests"), "{text}");
}

#[test]
fn report_of_a_folder_that_is_not_one_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scalesim"))
        .args(["report", tmp.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("summary.json"));
}
