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

/// Regression (issue 20): the failures chart gave every policy a panel (five of six empty) and
/// drew one policy's start-up failures as a one-pixel bar under the y axis. Only a policy that
/// failed gets a panel; the others are named in one line.
#[test]
fn failures_chart_panels_only_the_policies_that_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/quickstart.toml");
    // One replica for fixed-20: it fails; the others keep up with the night's traffic.
    let set = ["--set", "simulation.duration=30m", "--set", "policy.fixed-20.replicas=1"];
    let mut args = vec!["run", cfg.to_str().unwrap(), "--out", "out", "--quiet"];
    args.extend(set);
    scalesim(tmp.path(), &args);
    let out = tmp.path().join("out");
    let ts = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let head: Vec<&str> = ts.lines().next().unwrap().split(',').collect();
    let (p, f) = (
        head.iter().position(|h| *h == "policy").unwrap(),
        head.iter().position(|h| *h == "failed").unwrap(),
    );
    let mut clean: Vec<String> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    for line in ts.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        let name = c[p].to_string();
        if c[f].parse::<u64>().unwrap() > 0 {
            clean.retain(|x| *x != name);
            if !failed.contains(&name) {
                failed.push(name);
            }
        } else if !failed.contains(&name) && !clean.contains(&name) {
            clean.push(name);
        }
    }
    assert_eq!(failed, ["fixed-20"], "the scenario is meant to fail one policy");
    scalesim(tmp.path(), &["report", "out", "--quiet"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // The failures chart is the SVG whose title says so.
    let svg = html.split("<svg").find(|s| s.contains("failed requests by reason")).expect("failures chart");
    let svg = &svg[..svg.find("</svg>").unwrap()];
    assert!(svg.contains(&format!("no failures: {}", clean.join(", "))), "{clean:?}");
    assert!(svg.contains(">fixed-20<") || svg.contains("fixed-20\n"), "the failing policy's panel");
    for name in &clean {
        assert!(!svg.contains(&format!(">{name}<")), "{name} has a panel");
    }
}
