//! The real binary on the bundled scenarios: every config runs and writes every output; the same
//! seed gives byte-identical files at 1 and 2 threads and another seed gives different ones.

use assert_cmd::Command;
use scalesim::report::OUTPUT_FILES;
use std::path::{Path, PathBuf};

fn configs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn run(config: &Path, out: &Path, extra: &[&str]) {
    Command::cargo_bin("scalesim")
        .unwrap()
        .arg("run")
        .arg(config)
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_bundled_config_runs_and_writes_every_output() {
    let all = configs();
    let names: Vec<_> = all.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for want in [
        "quickstart.toml",
        "llm-inference.toml",
        "flash-crowd.toml",
        "dev-office-hours.toml",
        "reference.toml",
    ] {
        assert!(names.iter().any(|n| n == want), "configs/ lacks {want}");
    }
    for config in &all {
        let tmp = tempfile::tempdir().unwrap();
        run(config, tmp.path(), &[]);
        for f in OUTPUT_FILES {
            let p = tmp.path().join(f);
            let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            assert!(len > 0, "{}: {f} missing or empty", config.display());
        }
        let text = std::fs::read_to_string(config).unwrap();
        let policies = text.matches("[[policy]]").count();
        let summary = json(&tmp.path().join("summary.json"));
        let entries = summary["policies"].as_array().unwrap();
        // Every policy of the file, then the oracle baseline `run` adds.
        assert_eq!(entries.len(), policies + 1, "{}", config.display());
        let last = &entries[policies];
        assert_eq!(
            (&last["policy"], &last["family"], &last["baseline"]),
            (&"oracle".into(), &"oracle".into(), &true.into())
        );
        assert!(entries[..policies].iter().all(|e| e["baseline"] == false));
        // Relative cost is undefined when replicas are free (the oracle costs 0).
        let priced = summary["cost_per_replica_hour"].as_f64().unwrap() > 0.0;
        assert!(
            entries.iter().all(|e| e["cost_above_oracle_pct"].is_number() == priced),
            "{}",
            config.display()
        );
        assert!(entries.iter().all(|e| e["elasticity_tau_under_pct"].is_number()), "{}", config.display());
        for e in entries {
            let (req, served, failed) = (
                e["requests"].as_u64().unwrap(),
                e["served"].as_u64().unwrap(),
                e["failed"].as_u64().unwrap(),
            );
            // With a warm-up, requests are arrivals after it and served/failed are requests
            // that ended after it (some arrived during it), so only without one must they add up.
            let warm = summary["warmup_s"].as_f64().unwrap() > 0.0;
            assert!(req > 0 && (warm || served + failed <= req), "{}: {e}", config.display());
        }
    }
}

fn read_all(dir: &Path) -> Vec<(String, Vec<u8>)> {
    OUTPUT_FILES.iter().map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap())).collect()
}

#[test]
fn same_seed_same_bytes_at_any_thread_count_and_another_seed_differs() {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/quickstart.toml");
    let short = ["--set", "simulation.duration=3h"];
    let (a, b, c) =
        (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(&config, a.path(), &[&short[..], &["--threads", "1"]].concat());
    run(&config, b.path(), &[&short[..], &["--threads", "2"]].concat());
    run(&config, c.path(), &[&short[..], &["--threads", "2", "--seed", "2"]].concat());
    for ((name, x), (_, y)) in read_all(a.path()).iter().zip(read_all(b.path()).iter()) {
        assert!(x == y, "{name} differs between 1 and 2 threads");
    }
    let ts = |d: &Path| std::fs::read(d.join("timeseries.csv")).unwrap();
    assert_ne!(ts(a.path()), ts(c.path()), "another seed must change the time series");
}

#[test]
fn seeds_policy_filter_and_set_overrides() {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/flash-crowd.toml");
    let tmp = tempfile::tempdir().unwrap();
    run(
        &config,
        tmp.path(),
        &["--seeds", "3", "--policy", "rps-10-30s", "--policy", "fixed-40", "--set", "traffic.scale=0.5"],
    );
    let s = json(&tmp.path().join("summary.json"));
    let p = s["policies"].as_array().unwrap();
    let names: Vec<_> = p.iter().map(|e| e["policy"].as_str().unwrap()).collect();
    // The oracle baseline runs too: the others' cost above it needs its runs.
    assert_eq!(names, ["fixed-40", "rps-10-30s", "oracle"]);
    let ci = &p[1]["intervals"]["latency_p99_s"];
    assert_eq!(ci["n"].as_u64(), Some(3));
    assert!(ci["ci95_low"].as_f64().unwrap() <= ci["mean"].as_f64().unwrap());
    // Half the traffic: about 0.5 × (50 req/s × 2 h + the spike) requests.
    let req = p[0]["requests"].as_f64().unwrap();
    assert!((400_000.0..620_000.0).contains(&req), "{req}");
}

#[test]
fn editing_a_policy_changes_its_results() {
    // The README's promise: edit a policy in the TOML, run again, see the difference.
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/quickstart.toml");
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let common = ["--set", "simulation.duration=6h", "--policy", "rps-10"];
    run(&config, a.path(), &common);
    run(&config, b.path(), &[&common[..], &["--set", "policy.rps-10.target=5"]].concat());
    let rs = |d: &Path| json(&d.join("summary.json"))["policies"][0]["replica_seconds"].as_f64().unwrap();
    assert!(rs(b.path()) > 1.5 * rs(a.path()), "halving the target should roughly double replicas");
}

#[test]
fn decision_log_explains_every_scaling_action() {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/flash-crowd.toml");
    let tmp = tempfile::tempdir().unwrap();
    run(&config, tmp.path(), &[]);
    let mut rd = csv::Reader::from_path(tmp.path().join("decisions.csv")).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, scalesim::report::files::DECISIONS_HEADER);
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    let summary = json(&tmp.path().join("summary.json"));
    for p in summary["policies"].as_array().unwrap() {
        let name = p["policy"].as_str().unwrap();
        let mine: Vec<_> = rows.iter().filter(|r| &r[2] == name).collect();
        assert!(!mine.is_empty(), "{name} has no decisions");
        let changed = mine.iter().filter(|r| &r[11] == "true").count() as u64;
        assert_eq!(changed, p["scaling_actions"].as_u64().unwrap(), "{name}");
        assert!(mine.iter().all(|r| !r[12].is_empty()), "{name}: every decision has a reason");
    }
    // The rps policies log the rate they saw.
    assert!(rows.iter().any(|r| &r[2] == "rps-10-30s" && r[6].starts_with("rps=")));
}

#[test]
fn no_oracle_runs_only_the_scenario_policies() {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/quickstart.toml");
    let tmp = tempfile::tempdir().unwrap();
    run(&config, tmp.path(), &["--set", "simulation.duration=1h", "--no-oracle", "--policy", "rps-10"]);
    let s = json(&tmp.path().join("summary.json"));
    let p = s["policies"].as_array().unwrap();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["baseline"], false);
    assert!(p[0]["cost_above_oracle_pct"].is_null() && p[0]["elasticity_theta_over_pct"].is_null());
    let mut rd = csv::Reader::from_path(tmp.path().join("summary.csv")).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    let i = header.iter().position(|h| h == "cost_above_oracle_pct").unwrap();
    assert_eq!(&rd.records().next().unwrap().unwrap()[i], "");
}

/// `--timings` prints one line on stderr naming every phase with its wall time, the phases
/// adding up to the total; the outputs are those of a run without it.
#[test]
fn timings_name_each_phase_and_change_no_output() {
    let config = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs/bench/reference.toml");
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let set = ["--set", "simulation.duration=10m", "--no-oracle", "--threads", "1"];
    run(&config, &a, &set);
    let out = Command::cargo_bin("scalesim")
        .unwrap()
        .args(["run", config.to_str().unwrap(), "--out", b.to_str().unwrap(), "--timings"])
        .args(set)
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    let line = err.lines().find(|l| l.starts_with("timings: ")).expect("a timings line");
    let ms = |name: &str| -> f64 {
        let at = line.find(&format!("{name} ")).unwrap_or_else(|| panic!("{name} in {line}"));
        let rest = &line[at + name.len() + 1..];
        rest[..rest.find(" ms").unwrap()].parse().unwrap()
    };
    let phases = ["start-up", "simulation", "replica capacity", "outputs", "writing"];
    let sum: f64 = phases.iter().map(|p| ms(p)).sum();
    assert!((sum - ms("total")).abs() <= 0.1 * phases.len() as f64, "{line}");
    assert!(ms("simulation") > 0.0, "{line}");
    assert_eq!(read_all(&a), read_all(&b));
}
