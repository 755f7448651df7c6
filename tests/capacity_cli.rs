//! `scalesim capacity` and `scalesim recommend` through the real binary.

use assert_cmd::Command;
use predicates::str::contains;
use std::path::Path;

fn scalesim() -> Command {
    Command::cargo_bin("scalesim").expect("binary built")
}

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).expect("one JSON object")
}

#[test]
fn capacity_on_quickstart_prints_the_answers_and_saturates_at_workers_over_demand() {
    let dir = tempfile::tempdir().unwrap();
    let out = scalesim()
        .args(["capacity", "configs/quickstart.toml", "--json", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json(&out);
    for key in
        ["max_rps_within_slo", "saturation_rps", "concurrency_at_capacity", "cpu_utilization_at_capacity"]
    {
        assert!(v[key].is_number(), "{key}: {v}");
    }
    // 2 workers, mean demand 100 ms: 20 req/s.
    let sat = v["saturation_rps"].as_f64().unwrap();
    assert!((sat - 20.0).abs() / 20.0 < 0.03, "{sat}");
    let cap = v["max_rps_within_slo"].as_f64().unwrap();
    assert!(cap > 8.0 && cap < sat, "{cap}");
    // The mean of 8 step tests, its interval around it, each test's own figure beside it.
    let ci = v["max_rps_within_slo_ci95"].as_array().unwrap();
    let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
    assert!(lo < cap && cap < hi, "{lo} {cap} {hi}");
    let per_seed: Vec<f64> =
        v["max_rps_within_slo_per_seed"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_eq!(per_seed.len(), 8);
    assert!((per_seed.iter().sum::<f64>() / 8.0 - cap).abs() < 1e-9);
    let tests = v["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 8);
    for (i, t) in tests.iter().enumerate() {
        assert_eq!(t["seed"].as_u64(), Some(i as u64 + 1));
        assert_eq!(t["max_rps_within_slo"].as_f64(), Some(per_seed[i]));
    }
    let steps = tests[0]["steps"].as_array().unwrap();
    assert!(steps.len() >= 10);
    for k in [
        "offered_rps",
        "served_rps",
        "p50_s",
        "p95_s",
        "p99_s",
        "failure_rate",
        "in_flight_mean",
        "cpu_utilization",
    ] {
        assert!(!steps[0][k].is_null(), "{k}");
    }
    assert!(dir.path().join("capacity_steps.csv").exists());
    assert!(std::fs::metadata(dir.path().join("capacity.png")).unwrap().len() > 10_000);
}

#[test]
fn capacity_closed_loop_and_a_service_only_file() {
    let dir = tempfile::tempdir().unwrap();
    let svc = dir.path().join("replica.toml");
    std::fs::write(
        &svc,
        "[service]\nworkers = 4\nqueue_limit = 100\ntimeout = \"10s\"\n[service.demand]\ndistribution = \"exponential\"\nmean = \"200ms\"\n",
    )
    .unwrap();
    let out = scalesim()
        .args(["capacity"])
        .arg(&svc)
        .args(["--mode", "closed", "--think", "1", "--json", "--slo", "p95<2s", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json(&out);
    assert_eq!(v["mode"], "closed");
    // 4 workers / 200 ms = 20 req/s.
    let sat = v["saturation_rps"].as_f64().unwrap();
    assert!((sat - 20.0).abs() / 20.0 < 0.05, "{sat}");
    assert!(v["steps"][0]["users"].is_number());
    // The table form.
    scalesim()
        .args(["capacity"])
        .arg(&svc)
        .args(["--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(contains("saturation throughput"))
        .stdout(contains("max rps within SLO"));
}

#[test]
fn bad_slo_and_files_exit_2_with_a_clear_message() {
    scalesim()
        .args(["capacity", "configs/quickstart.toml", "--slo", "p99>500ms"])
        .assert()
        .code(2)
        .stderr(contains("--slo `p99>500ms`"))
        .stderr(contains("expected `pNN<DURATION`"));
    scalesim()
        .args(["capacity", "configs/quickstart.toml", "--slo", "p97<1s"])
        .assert()
        .code(2)
        .stderr(contains("p50, p90, p95, p99 or p99.9"));
    scalesim()
        .args(["capacity", "configs/quickstart.toml", "--max-errors", "lots"])
        .assert()
        .code(2)
        .stderr(contains("--max-errors"));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("empty.toml");
    std::fs::write(&f, "[cost]\nper_replica_hour = 1.0\n").unwrap();
    scalesim().arg("capacity").arg(&f).assert().code(2).stderr(contains("no [service] section"));
    scalesim().args(["capacity", "no/such/file.toml"]).assert().code(2).stderr(contains("no/such/file.toml"));
}

/// quickstart.toml shortened to `duration` for a fast check.
fn short_quickstart(dir: &Path, duration: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string("configs/quickstart.toml").unwrap();
    let text = text.replace("duration = \"24h\"", &format!("duration = \"{duration}\""));
    let p = dir.join("qs.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_guides_example_through_the_binary() {
    // A replica modelled to serve 10 req/s within the SLO, traffic from 50 to 200 req/s.
    let dir = tempfile::tempdir().unwrap();
    let f = short_quickstart(dir.path(), "1h");
    scalesim()
        .arg("recommend")
        .arg(&f)
        .args(["--capacity-rps", "10", "--min-rps", "50", "--max-rps", "200", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(contains("min = ceil(50 / 10) = 5"))
        .stdout(contains("max = ceil(200 / 10) = 20"))
        .stdout(contains("rps target = capacity = 10"))
        .stdout(contains("recommended: min 5, max 20, rps target 10\n"))
        .stdout(contains("headroom (separate)"));
}

#[test]
fn recommend_writes_a_scenario_that_validates_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let f = short_quickstart(dir.path(), "2h");
    let out = dir.path().join("rec");
    scalesim()
        .arg("recommend")
        .arg(&f)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("rec-rps"))
        .stdout(contains("rec-cpu"))
        .stdout(contains("rec-concurrency"))
        .stdout(contains("meets SLO"))
        .stdout(contains("step tests: within the SLO "))
        .stdout(contains("across the capacity's 95 % interval ("));
    let rec = out.join("recommended.toml");
    scalesim().arg("validate").arg(&rec).assert().success().stdout(contains("rec-rps"));
    scalesim().arg("run").arg(&rec).arg("--out").arg(dir.path().join("run")).assert().success();
    assert!(dir.path().join("run/summary.json").exists());
    // Bad ranges are bad input.
    scalesim()
        .arg("recommend")
        .arg(&f)
        .args(["--min-rps", "300", "--max-rps", "200"])
        .assert()
        .code(2)
        .stderr(contains("--min-rps 300 --max-rps 200"));
}

/// A service-only file, as `calibrate` writes.
fn service_only(dir: &Path) -> std::path::PathBuf {
    let svc = dir.join("replica.toml");
    std::fs::write(
        &svc,
        "# a replica\n[service]\nworkers = 2\nqueue_limit = 50\ntimeout = \"10s\"\n[service.demand]\ndistribution = \"lognormal\"\nmean = \"100ms\"\np99 = \"300ms\"\n",
    )
    .unwrap();
    svc
}

#[test]
fn recommend_on_a_service_only_file_plans_a_default_weekday_and_writes_a_whole_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service_only(dir.path());
    let out = dir.path().join("rec");
    scalesim()
        .arg("recommend")
        .arg(&svc)
        .args(["--min-rps", "50", "--max-rps", "200", "--slo", "p95<400ms", "--max-errors", "2%", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("replica: SLO p95 < 400 ms, errors <= 2%"))
        .stdout(contains("traffic: 50 to 200 req/s"))
        .stdout(contains("recommended: min"))
        .stdout(contains("simulated against the traffic (86400s)"))
        .stdout(contains("rec-rps"));
    let rec = out.join("recommended.toml");
    let text = std::fs::read_to_string(&rec).unwrap();
    for want in [
        "[simulation]",
        "duration = \"24h\"",
        "timezone = \"UTC\"",
        "seed = 1",
        "record_interval = \"1m\"",
        "latency_percentile = 95.0",
        "latency = \"400ms\"",
        "error_rate = 0.02",
        "arrival = \"poisson\"",
        "shape = \"daily\"",
        "trough = 50.0",
        "peak = 200.0",
        "peak_hour = 14.0",
        "[service]",
        "workers = 2",
        "[[policy]]",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    scalesim()
        .arg("validate")
        .arg(&rec)
        .assert()
        .success()
        .stdout(contains("starts Mon 2025-01-06 00:00:00 UTC"))
        .stdout(contains("rec-rps"));
    scalesim()
        .arg("run")
        .arg(&rec)
        .args(["--set", "simulation.duration=1h", "--out"])
        .arg(dir.path().join("run"))
        .assert()
        .success();
    assert!(dir.path().join("run/summary.json").exists());
    // Or the traffic of another scenario: its [simulation] and [traffic], then the service.
    let traffic = short_quickstart(dir.path(), "1h");
    let out = dir.path().join("rec-traffic");
    scalesim()
        .arg("recommend")
        .arg(&svc)
        .arg("--traffic")
        .arg(&traffic)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("quickstart: SLO p99 < 500 ms, errors <= 1%"))
        .stdout(contains("simulated against the traffic (3600s)"));
    let text = std::fs::read_to_string(out.join("recommended.toml")).unwrap();
    assert!(text.contains("timezone = \"Europe/London\"") && text.contains("workers = 2"), "{text}");
    assert!(!text.contains("fixed-20"), "the traffic file's policies are not carried over:\n{text}");
    scalesim().arg("validate").arg(out.join("recommended.toml")).assert().success();
}

#[test]
fn recommend_on_a_service_only_file_without_traffic_says_which_flags_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let svc = service_only(dir.path());
    scalesim()
        .arg("recommend")
        .arg(&svc)
        .args(["--out"])
        .arg(dir.path().join("rec"))
        .assert()
        .code(2)
        .stderr(contains("replica.toml: a service-only file has no traffic to plan for"))
        .stderr(contains("--min-rps"))
        .stderr(contains("--max-rps"))
        .stderr(contains("--traffic"));
    assert!(!dir.path().join("rec/recommended.toml").exists());
}

#[test]
fn recommend_is_realistic_min_two_rounded_targets_no_guessed_cpu() {
    // Issue 10: a calibrated (service-only) file has no CPU model, so no cpu target; min is at
    // least 2; targets are rounded; the step test can be closed-loop, as Locust's users are.
    let dir = tempfile::tempdir().unwrap();
    let svc = service_only(dir.path());
    let out = dir.path().join("rec");
    let o = scalesim()
        .arg("recommend")
        .arg(&svc)
        .args(["--min-rps", "2", "--max-rps", "30", "--mode", "closed", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(contains("min raised from 1 to 2"))
        .stdout(contains("no cpu target"))
        .stdout(contains("step test closed"))
        .stdout(contains("recommended: min 2,"));
    let stdout = String::from_utf8_lossy(&o.get_output().stdout).into_owned();
    assert!(!stdout.contains("rec-cpu"), "{stdout}");
    let text = std::fs::read_to_string(out.join("recommended.toml")).unwrap();
    let target: f64 = text.lines().find_map(|l| l.strip_prefix("target = ")).unwrap().parse().unwrap();
    assert_eq!(target, target.floor(), "a whole-number rps target: {target}");
    assert!(text.contains("interval = \"15s\""), "{text}");
}

/// The first number of `text` after `key` (e.g. `capacity   12.67 ± …`).
fn number_after(text: &str, key: &str) -> f64 {
    let rest = &text[text.find(key).unwrap_or_else(|| panic!("{key} not in {text}")) + key.len()..];
    let num: String = rest.trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    num.parse().unwrap_or_else(|_| panic!("no number after {key}: {rest}"))
}

/// Issue 20: validate, capacity --json and summary.json give one replica capacity (the mean of
/// the 8 step tests), with the same interval; the oracle's planning capacity sits beside it.
#[test]
fn one_capacity_figure_in_validate_capacity_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let f = short_quickstart(dir.path(), "1h");
    let validate = scalesim().arg("validate").arg(&f).assert().success().get_output().stdout.clone();
    let validate = String::from_utf8(validate).unwrap();
    assert!(validate.contains("per replica within the SLO (p99 < 500 ms, errors <= 1%"), "{validate}");
    assert!(validate.contains("saturation ≈ 20.00 req/s per replica"), "{validate}");
    let from_validate = number_after(&validate, "capacity");
    let out = scalesim()
        .args(["capacity", "--json", "--out"])
        .arg(dir.path().join("cap"))
        .arg(&f)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let cap = json(&out);
    let from_capacity = cap["max_rps_within_slo"].as_f64().unwrap();
    scalesim().args(["run", "--out"]).arg(dir.path().join("run")).arg(&f).assert().success();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run/summary.json")).unwrap()).unwrap();
    let rc = &summary["replica_capacity"];
    // summary.json rounds to 6 decimals.
    let same = |a: f64, b: f64| (a - b).abs() < 1e-6;
    assert!(same(rc["rps"].as_f64().unwrap(), from_capacity), "{rc} {from_capacity}");
    assert_eq!(format!("{from_capacity:.2}"), format!("{from_validate:.2}"));
    for i in 0..2 {
        assert!(same(rc["ci95"][i].as_f64().unwrap(), cap["max_rps_within_slo_ci95"][i].as_f64().unwrap()));
    }
    assert_eq!(rc["seeds"], serde_json::json!([1, 2, 3, 4, 5, 6, 7, 8]));
    assert!(rc["method"].as_str().unwrap().starts_with("mean of 8 open-loop step tests (seeds 1–8)"), "{rc}");
    // The oracle's planning capacity beside it, found by the search from it.
    let oc = &summary["oracle_planning_capacity"];
    assert!(oc["rps"].as_f64().unwrap() > 0.0, "{oc}");
    assert!(
        oc["method"]
            .as_str()
            .unwrap()
            .contains(&format!("from the replica capacity {from_capacity:.2} req/s")),
        "{oc}"
    );
}

/// Issue 20: the guide's own example on the guide's own file: a daily curve from 50 to 200 req/s
/// at 10 req/s per replica is min 5, max 20 (not `ceil(50.000…1 / 10) = 6`), and the noisy
/// traffic's own reach is said apart.
#[test]
fn recommend_on_quickstart_uses_the_shapes_nominal_range() {
    let dir = tempfile::tempdir().unwrap();
    scalesim()
        .args(["recommend", "configs/quickstart.toml", "--capacity-rps", "10", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(contains("traffic: 50 to 200 req/s"))
        .stdout(contains("the arrivals (seed 1, noise and Poisson scatter included) reached"))
        .stdout(contains("min = ceil(50 / 10) = 5"))
        .stdout(contains("max = ceil(200 / 10) = 20"))
        .stdout(contains("recommended: min 5, max 20, rps target 10\n"));
}

/// A replica whose CPU at capacity is above its request (request 0.5 cores): the cpu target
/// recommend prints is the one recommended.toml holds (it was clamped to 100 in the file).
#[test]
fn recommend_writes_the_cpu_target_it_prints_even_above_100() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("configs/quickstart.toml").unwrap();
    assert!(text.contains("\nrequest = 1.0\n"));
    let text = text
        .replace("duration = \"24h\"", "duration = \"2h\"")
        .replace("\nrequest = 1.0\n", "\nrequest = 0.5\n");
    let f = dir.path().join("half.toml");
    std::fs::write(&f, text).unwrap();
    let out = dir.path().join("rec");
    let done = scalesim().arg("recommend").arg(&f).arg("--out").arg(&out).assert().success();
    let stdout = String::from_utf8(done.get_output().stdout.clone()).unwrap();
    let printed: f64 = stdout
        .split(", cpu target ")
        .nth(1)
        .and_then(|r| r.split('%').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no cpu target in {stdout}"));
    assert!(printed > 100.0, "{stdout}");
    let rec = std::fs::read_to_string(out.join("recommended.toml")).unwrap();
    let cpu = rec.split("name = \"rec-cpu\"").nth(1).expect("rec-cpu policy");
    let written: f64 = cpu
        .lines()
        .find_map(|l| l.strip_prefix("target = "))
        .and_then(|v| v.trim().parse().ok())
        .expect("target line");
    assert_eq!(written, printed, "{rec}");
}
