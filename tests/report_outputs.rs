//! Integration tests of the report: every file written, parseable, schema-valid and
//! deterministic, built from hand-made run results (no engine).

use scalesim::dist::Dist;
use scalesim::policy::PolicySpec;
use scalesim::record::{FailReason, IntervalRow, RunResult, RunSummary};
use scalesim::report::{summary_table, write_outputs};
use scalesim::scenario::{CostModel, Scenario, Slo};
use scalesim::service::{CpuModel, Demand, MemoryModel, ServiceModel};
use scalesim::time::{Clock, SECOND};
use scalesim::traffic::TrafficSpec;
use serde_json::Value;
use std::path::Path;

#[path = "common/schema.rs"]
mod schema;
use schema::validate;

const POLICIES: [(&str, u32); 3] = [("fixed-3", 3), ("fixed-6", 6), ("hpa-like", 0)];

/// A scenario of `hours` with three policies.
fn scenario(hours: u64) -> Scenario {
    let duration = hours * 3600 * SECOND;
    Scenario {
        name: "daily-web".into(),
        duration,
        clock: Clock::utc_monday(duration),
        seed: 42,
        record_interval: 300 * SECOND,
        warmup: 0,
        slo: Some(Slo { latency: Some((99.0, 0.5)), error_rate: Some(0.01) }),
        traffic: TrafficSpec::constant_poisson(40.0),
        service: ServiceModel {
            workers: 4,
            queue_limit: Some(50),
            timeout: Some(10 * SECOND),
            demand: Demand::Dist(Dist::exponential(0.1)),
            slowdown: None,
            overhead: None,
            startup: Dist::Deterministic { value: 30.0 },
            pending: None,
            grace: 30 * SECOND,
            cpu: CpuModel::default(),
            memory: MemoryModel::default(),
            llm: None,
        },
        balancer: Default::default(),
        cost: CostModel { per_replica_hour: 0.05, currency: "EUR".into() },
        policies: POLICIES.iter().map(|(n, k)| PolicySpec::fixed(n, (*k).max(1))).collect(),
    }
}

/// Synthetic but plausible runs: a daily load curve; fixed policies under- or over-provision,
/// the "autoscaler" follows the load with a lag.
fn runs(s: &Scenario, reps: u32) -> Vec<RunResult> {
    let step = 300.0;
    let n = (s.duration / s.record_interval) as usize;
    let mut out = Vec::new();
    for (name, fixed) in POLICIES {
        for rep in 0..reps {
            let mut cost = 0.0;
            let mut intervals = Vec::new();
            let mut totals = (0u64, 0u64, [0u64; FailReason::COUNT], 0.0f64, 0u32, 0.0f64);
            for i in 0..n {
                let t = i as f64 * step;
                let day = (t / 86400.0 * std::f64::consts::TAU).sin();
                let rps = 40.0 + 30.0 * day + rep as f64;
                let need = (rps / 10.0).ceil() as u32;
                let ready = if fixed > 0 {
                    fixed
                } else {
                    let lag = ((t - 900.0) / 86400.0 * std::f64::consts::TAU).sin();
                    ((40.0 + 30.0 * lag) / 10.0).ceil() as u32
                };
                let arrived = (rps * step) as u64;
                let over = (need as f64 - ready as f64).max(0.0);
                let failed_q = (over * 200.0) as u64;
                let served = arrived - failed_q;
                let p99 = if ready >= need { 0.2 + 0.01 * rep as f64 } else { 0.2 * 10f64.powf(over) };
                cost += ready as f64 * step / 3600.0 * s.cost.per_replica_hour;
                totals.0 += arrived;
                totals.1 += served;
                totals.2[FailReason::QueueFull as usize] += failed_q;
                totals.3 += ready as f64 * step;
                totals.4 = totals.4.max(ready);
                if failed_q > 0 {
                    totals.5 += 5.0;
                }
                intervals.push(IntervalRow {
                    start_s: t,
                    end_s: t + step,
                    arrived,
                    offered_rps: arrived as f64 / step,
                    served,
                    failed: [failed_q, 0, 0, 0, 0],
                    desired: ready,
                    starting: 0,
                    ready,
                    ready_min: ready,
                    ready_max: ready,
                    draining: 0,
                    latency_mean_s: Some(0.1),
                    latency_p50_s: Some(0.07),
                    latency_p95_s: Some(p99 * 0.7),
                    latency_p99_s: Some(p99),
                    cpu_utilization: Some((rps / ready as f64 / 40.0).min(1.0)),
                    replica_seconds: ready as f64 * step,
                    cost_cumulative: cost,
                    slo_violated: failed_q > 0,
                    at_max_s: None,
                    llm: None,
                });
            }
            let failed: u64 = totals.2.iter().sum();
            out.push(RunResult {
                policy: name.into(),
                replication: rep,
                seed: 42 + rep as u64,
                summary: RunSummary {
                    requests: totals.0,
                    served: totals.1,
                    failed,
                    failed_by_reason: totals.2,
                    in_flight_at_end: 0,
                    latency_mean_s: Some(0.1),
                    latency_p50_s: Some(0.07),
                    latency_p95_s: Some(0.3),
                    latency_p99_s: if failed > 0 { Some(1.5 + 0.1 * rep as f64) } else { Some(0.21) },
                    replica_seconds: totals.3,
                    cost,
                    scaling_actions: if fixed > 0 { 0 } else { 12 + rep as u64 },
                    peak_replicas: totals.4,
                    slo_violation_minutes: totals.5,
                    cost_above_oracle_pct: None,
                    elasticity: None,
                    time_at_max_minutes: None,
                    llm: None,
                },
                intervals,
                decisions: vec![],
                ready_curve: Default::default(),
                foresight: None,
                requests: Vec::new(),
            });
        }
    }
    out
}

/// The output files in `dir` (not the record of what was written, `.scalesim-outputs`).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != scalesim::report::atomic::RECORD)
        .collect();
    v.sort();
    v
}

const FILES: [&str; 9] = [
    "cost.png",
    "decisions.csv",
    "failures.png",
    "latency.png",
    "replicas.png",
    "scenario.toml",
    "summary.csv",
    "summary.json",
    "timeseries.csv",
];

#[test]
fn every_file_is_written_and_parseable() {
    let s = scenario(48);
    let r = runs(&s, 1);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let written = write_outputs(&out, &s, &r).unwrap();
    assert_eq!(written.len(), FILES.len());
    assert_eq!(names(&out), FILES);
    // The record names every file written, as the run's.
    let record = std::fs::read_to_string(out.join(scalesim::report::atomic::RECORD)).unwrap();
    for f in FILES {
        assert!(record.contains(&format!("run\t{f}\n")), "{f} not in the record:\n{record}");
    }

    // timeseries.csv: header and one row per policy × replication × interval.
    let mut rd = csv::Reader::from_path(out.join("timeseries.csv")).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    for col in ["start_s", "time_local", "policy", "replication", "offered_rps", "served", "replicas_ready"] {
        assert!(header.contains(&col.to_string()), "{col}");
    }
    for reason in FailReason::ALL {
        assert!(header.contains(&format!("failed_{}", reason.name())));
    }
    assert_eq!(header.len(), 28);
    let rows: Vec<csv::StringRecord> = rd.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 3 * 48 * 12);
    assert_eq!(&rows[12 * 24][2], "2025-01-07T00:00:00+00:00");

    // summary.csv: one row per policy, empty confidence cells with one replication.
    let mut rd = csv::Reader::from_path(out.join("summary.csv")).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    // 26 figures (19, plus cost_above_oracle_pct and six elasticity metrics), each with its
    // two confidence bounds.
    assert_eq!(header.len(), 2 + 26 * 3 + 1);
    let rows: Vec<csv::StringRecord> = rd.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[2][0], "hpa-like");
    let low = header.iter().position(|h| h == "cost_ci95_low").unwrap();
    assert_eq!(&rows[0][low], "");

    // summary.json against the schema.
    let json: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    validate(&json, &schema(), &schema(), "$");
    assert_eq!(json["replications"], 1);
    assert_eq!(json["currency"], "EUR");
    assert!(json["policies"][0].get("intervals").is_none());

    // PNGs: signature and size 1280×720.
    for png in ["replicas.png", "failures.png", "cost.png", "latency.png"] {
        let b = std::fs::read(out.join(png)).unwrap();
        assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{png}");
        assert_eq!(u32::from_be_bytes(b[16..20].try_into().unwrap()), 1280);
        assert_eq!(u32::from_be_bytes(b[20..24].try_into().unwrap()), 720);
    }
    if let Ok(keep) = std::env::var("SCALESIM_KEEP_REPORT") {
        write_outputs(Path::new(&keep), &s, &r).unwrap();
    }
}

#[test]
fn replications_give_confidence_intervals() {
    let s = scenario(6);
    let r = runs(&s, 5);
    let tmp = tempfile::tempdir().unwrap();
    write_outputs(tmp.path(), &s, &r).unwrap();
    let json: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("summary.json")).unwrap()).unwrap();
    validate(&json, &schema(), &schema(), "$");
    assert_eq!(json["replications"], 5);
    assert_eq!(json["seeds"], serde_json::json!([42, 43, 44, 45, 46]));
    // hpa-like: scaling_actions 12..=16, mean 14, s = sqrt(2.5), half = t(0.975, 4) sqrt(2.5/5).
    let p = &json["policies"][2];
    assert_eq!(p["policy"], "hpa-like");
    assert_eq!(p["scaling_actions"], 14);
    let e = &p["intervals"]["scaling_actions"];
    assert_eq!(e["n"], 5);
    let half = 2.776_445_105 * 0.5f64.sqrt();
    assert!((e["ci95_low"].as_f64().unwrap() - (14.0 - half)).abs() < 1e-5);
    assert!((e["ci95_high"].as_f64().unwrap() - (14.0 + half)).abs() < 1e-5);
    let mut rd = csv::Reader::from_path(tmp.path().join("summary.csv")).unwrap();
    let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    let hi = header.iter().position(|h| h == "scaling_actions_ci95_high").unwrap();
    let row = rd.records().nth(2).unwrap().unwrap();
    assert!((row[hi].parse::<f64>().unwrap() - (14.0 + half)).abs() < 1e-5);
    if let Ok(keep) = std::env::var("SCALESIM_KEEP_REPORT") {
        write_outputs(&Path::new(&keep).join("reps"), &s, &r).unwrap();
    }
}

#[test]
fn table_lists_every_policy() {
    let s = scenario(6);
    for reps in [1, 5] {
        let t = summary_table(&s, &runs(&s, reps));
        for (p, _) in POLICIES {
            assert!(t.lines().any(|l| l.starts_with(p)), "{p} missing:\n{t}");
        }
        assert!(t.contains("cost EUR"));
        assert!(t.lines().all(|l| l.chars().count() <= 100), "too wide:\n{t}");
        assert_eq!(t, summary_table(&s, &runs(&s, reps)));
        println!("{t}");
    }
}

#[test]
fn outputs_are_byte_identical_across_writes() {
    let s = scenario(30);
    let r = runs(&s, 2);
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_outputs(a.path(), &s, &r).unwrap();
    write_outputs(b.path(), &s, &r).unwrap();
    for f in FILES {
        let (x, y) = (std::fs::read(a.path().join(f)).unwrap(), std::fs::read(b.path().join(f)).unwrap());
        assert!(x == y, "{f} differs between writes");
    }
    // Writing again into the same folder replaces the files, still identical.
    write_outputs(a.path(), &s, &r).unwrap();
    assert_eq!(names(a.path()), FILES);
    assert_eq!(
        std::fs::read(a.path().join("replicas.png")).unwrap(),
        std::fs::read(b.path().join("replicas.png")).unwrap()
    );
}

#[test]
fn unwritable_directory_is_an_error_naming_the_path() {
    let s = scenario(2);
    let r = runs(&s, 1);
    let tmp = tempfile::tempdir().unwrap();
    // A regular file where a folder should be: cannot be created, whoever runs the test.
    let blocker = tmp.path().join("blocker");
    std::fs::write(&blocker, b"x").unwrap();
    let out = blocker.join("out");
    let err = write_outputs(&out, &s, &r).unwrap_err();
    assert!(err.to_string().contains("blocker"), "{err}");
    assert_eq!(names(tmp.path()), vec!["blocker".to_string()]);

    // A folder in the way of one output: nothing written, nothing left behind.
    let out = tmp.path().join("out2");
    std::fs::create_dir_all(out.join("summary.json")).unwrap();
    let err = write_outputs(&out, &s, &r).unwrap_err();
    assert!(err.to_string().contains("summary.json"), "{err}");
    assert_eq!(names(&out), vec!["summary.json".to_string()]);
}

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/summary.schema.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn validator_rejects_bad_documents() {
    let s = scenario(2);
    let tmp = tempfile::tempdir().unwrap();
    write_outputs(tmp.path(), &s, &runs(&s, 1)).unwrap();
    let good: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("summary.json")).unwrap()).unwrap();
    let mut missing = good.clone();
    missing["policies"][0].as_object_mut().unwrap().remove("cost");
    let mut wrong = good.clone();
    wrong["policies"][0]["policy"] = Value::from(3);
    for bad in [missing, wrong] {
        let r = std::panic::catch_unwind(|| validate(&bad, &schema(), &schema(), "$"));
        assert!(r.is_err());
    }
}

#[test]
fn degenerate_inputs_still_write_everything() {
    let s = scenario(1);
    let tmp = tempfile::tempdir().unwrap();
    // No runs at all.
    write_outputs(&tmp.path().join("empty"), &s, &[]).unwrap();
    assert_eq!(names(&tmp.path().join("empty")), FILES);
    let t = summary_table(&s, &[]);
    assert!(t.contains("policy"));
    // Runs with nothing served (latency undefined everywhere).
    let mut r = runs(&s, 1);
    for run in &mut r {
        run.summary.latency_p99_s = None;
        for iv in &mut run.intervals {
            iv.latency_p99_s = None;
        }
    }
    let out = tmp.path().join("nolatency");
    write_outputs(&out, &s, &r).unwrap();
    let json: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    validate(&json, &schema(), &schema(), "$");
    assert!(json["policies"][0]["latency_p99_s"].is_null());
}

#[test]
fn real_output_with_the_oracle_baseline_matches_the_schema() {
    // A simulated run (not hand-made results): quickstart shortened to 2 h, two seeds, with the
    // oracle baseline `scalesim run` adds, so the oracle figures are numbers, not nulls.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/quickstart.toml");
    let s = scalesim::config::load(&path, &["simulation.duration=\"2h\"".to_string()]).unwrap();
    let s = scalesim::oracle::with_baseline(&s).unwrap();
    let opts =
        scalesim::experiment::RunOptions { seeds: 2, threads: None, policies: vec![], requests: false };
    let r = scalesim::experiment::run(&s, &opts, &Default::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    write_outputs(tmp.path(), &s, &r).unwrap();
    let json: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("summary.json")).unwrap()).unwrap();
    validate(&json, &schema(), &schema(), "$");
    let policies = json["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 5);
    for p in policies {
        for f in ["cost_above_oracle_pct", "elasticity_theta_under_pct", "elasticity_jitter_per_h"] {
            assert!(p[f].is_number(), "{}: {f}", p["policy"]);
            assert!(p["intervals"][f]["n"] == 2, "{}: {f}", p["policy"]);
        }
    }
    let oracle = policies.iter().find(|p| p["baseline"] == true).unwrap();
    assert_eq!((&oracle["policy"], &oracle["cost_above_oracle_pct"]), (&"oracle".into(), &0.into()));
    let t = summary_table(&s, &r);
    assert!(t.contains("+oracle %"), "{t}");
    assert!(t.lines().all(|l| l.chars().count() <= 100), "too wide:\n{t}");
}
