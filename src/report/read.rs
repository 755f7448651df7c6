//! Reading an output folder back — `summary.json`, `timeseries.csv` and `decisions.csv` — into
//! the same types the writers take, so `report DIR` and `compare` draw with the code `run` uses.
//! Unknown extra keys and columns are ignored (other tools may add figures).

use super::ReportMeta;
use crate::record::aggregate::{Estimate, FIGURES, PolicyAggregate};
use crate::record::{DecisionRow, FailReason, IntervalRow, RunResult, RunSummary};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// An output folder, read back.
#[derive(Debug)]
pub struct Loaded {
    /// The run's meta (from `summary.json`).
    pub meta: ReportMeta,
    /// `summary.json` as written.
    pub summary: Value,
    /// Every run's intervals and decisions (whole-run summaries are in `summary`).
    pub runs: Vec<RunResult>,
}

/// The files of a run's output folder that `report` and `compare` read.
pub const FILES_READ: [&str; 4] = ["summary.json", "timeseries.csv", "decisions.csv", "scenario.toml"];

/// Reads `dir`: `summary.json`, `timeseries.csv` and `decisions.csv` are required (a folder
/// missing one is refused, naming it, rather than drawn as if nothing had been served);
/// `scenario.toml` is shown when present.
pub fn read_dir(dir: &Path) -> Result<Loaded, String> {
    let sp = dir.join("summary.json");
    if !sp.exists() {
        return Err(format!(
            "{}: no summary.json in this folder; expected an output folder written by `scalesim run` \
             (or `merge`); give the folder `run --out` wrote",
            dir.display()
        ));
    }
    for need in ["timeseries.csv", "decisions.csv"] {
        if !dir.join(need).exists() {
            return Err(format!(
                "{}: {need} is missing (summary.json is there): the folder is incomplete, and the charts \
                 and decision logs need it; restore the file, or run the scenario again into this folder",
                dir.display()
            ));
        }
    }
    let text = crate::input::read_text(&sp, crate::input::InputKind::Output)
        .map_err(|e| format!("{e} (expected an output folder written by `scalesim run`)"))?;
    let summary: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not valid JSON ({e}); expected the summary.json `scalesim run` writes; run the scenario again into this folder",
            sp.display()
        )
    })?;
    let mut meta = ReportMeta::from_summary(&summary).map_err(|e| {
        format!(
            "{}: {e}; expected the summary.json `scalesim run` writes (docs/summary.schema.json); run the scenario again into this folder",
            sp.display()
        )
    })?;
    meta.provenance.text =
        crate::input::read_text(&dir.join("scenario.toml"), crate::input::InputKind::Scenario).ok();
    let mut runs = read_timeseries(&dir.join("timeseries.csv"))?;
    read_decisions(&dir.join("decisions.csv"), &mut runs)?;
    Ok(Loaded { meta, summary, runs })
}

fn empty_summary() -> RunSummary {
    RunSummary {
        requests: 0,
        served: 0,
        failed: 0,
        failed_by_reason: [0; FailReason::COUNT],
        in_flight_at_end: 0,
        latency_mean_s: None,
        latency_p50_s: None,
        latency_p95_s: None,
        latency_p99_s: None,
        replica_seconds: 0.0,
        cost: 0.0,
        scaling_actions: 0,
        peak_replicas: 0,
        slo_violation_minutes: 0.0,
        time_at_max_minutes: None,
        llm: None,
        cost_above_oracle_pct: None,
        elasticity: None,
    }
}

/// Column lookup by header name.
struct Cols(HashMap<String, usize>);

impl Cols {
    fn new(h: &csv::StringRecord) -> Cols {
        Cols(h.iter().enumerate().map(|(i, n)| (n.to_string(), i)).collect())
    }

    fn s<'r>(&self, r: &'r csv::StringRecord, name: &str) -> &'r str {
        self.0.get(name).and_then(|&i| r.get(i)).unwrap_or("")
    }

    fn f(&self, r: &csv::StringRecord, name: &str) -> Option<f64> {
        self.s(r, name).parse().ok()
    }

    fn u(&self, r: &csv::StringRecord, name: &str) -> u64 {
        self.s(r, name).parse().unwrap_or(0)
    }
}

/// Reads `timeseries.csv` into one [`RunResult`] per (policy, replication), in file order.
pub fn read_timeseries(path: &Path) -> Result<Vec<RunResult>, String> {
    let text = crate::input::read_text(path, crate::input::InputKind::Output).map_err(|e| e.to_string())?;
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let c = Cols::new(&rd.headers().map_err(|e| format!("{}: {e}", path.display()))?.clone());
    for need in ["start_s", "end_s", "policy", "replication"] {
        if !c.0.contains_key(need) {
            return Err(format!(
                "{}: the header has no `{need}` column; expected the timeseries.csv `scalesim run` writes; \
                 run the scenario again into this folder",
                path.display()
            ));
        }
    }
    let mut runs: Vec<RunResult> = Vec::new();
    for (line, rec) in rd.records().enumerate() {
        let r = rec.map_err(|e| format!("{}: row {}: {e}", path.display(), line + 2))?;
        let policy = c.s(&r, "policy").to_string();
        let replication = c.u(&r, "replication") as u32;
        let ready = c.u(&r, "replicas_ready") as u32;
        let iv = IntervalRow {
            start_s: c.f(&r, "start_s").unwrap_or(0.0),
            end_s: c.f(&r, "end_s").unwrap_or(0.0),
            arrived: c.u(&r, "arrived"),
            offered_rps: c.f(&r, "offered_rps").unwrap_or(0.0),
            served: c.u(&r, "served"),
            failed: FailReason::EVERY.map(|f| c.u(&r, &format!("failed_{}", f.name()))),
            desired: c.u(&r, "replicas_desired") as u32,
            starting: c.u(&r, "replicas_starting") as u32,
            ready,
            ready_min: c.f(&r, "replicas_ready_min").map_or(ready, |v| v as u32),
            ready_max: c.f(&r, "replicas_ready_max").map_or(ready, |v| v as u32),
            draining: c.u(&r, "replicas_draining") as u32,
            latency_mean_s: c.f(&r, "latency_mean_s"),
            latency_p50_s: c.f(&r, "latency_p50_s"),
            latency_p95_s: c.f(&r, "latency_p95_s"),
            latency_p99_s: c.f(&r, "latency_p99_s"),
            cpu_utilization: c.f(&r, "cpu_utilization"),
            replica_seconds: c.f(&r, "replica_seconds").unwrap_or(0.0),
            cost_cumulative: c.f(&r, "cost_cumulative").unwrap_or(0.0),
            slo_violated: c.s(&r, "slo_violated") == "true",
            at_max_s: c.f(&r, "at_max_s"),
            llm: None,
        };
        match runs.last_mut() {
            Some(run) if run.policy == policy && run.replication == replication => run.intervals.push(iv),
            _ => runs.push(RunResult {
                policy,
                replication,
                seed: 0,
                intervals: vec![iv],
                summary: empty_summary(),
                decisions: Vec::new(),
                ready_curve: Default::default(),
                foresight: None,
                requests: Vec::new(),
            }),
        }
    }
    Ok(runs)
}

/// Reads `decisions.csv` into the matching runs.
fn read_decisions(path: &Path, runs: &mut [RunResult]) -> Result<(), String> {
    let text = crate::input::read_text(path, crate::input::InputKind::Output).map_err(|e| e.to_string())?;
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let c = Cols::new(&rd.headers().map_err(|e| format!("{}: {e}", path.display()))?.clone());
    let count = |s: &str| s.parse::<u32>().ok();
    for (line, rec) in rd.records().enumerate() {
        let r = rec.map_err(|e| format!("{}: row {}: {e}", path.display(), line + 2))?;
        let (policy, rep) = (c.s(&r, "policy"), c.u(&r, "replication") as u32);
        let Some(run) = runs.iter_mut().find(|x| x.policy == policy && x.replication == rep) else {
            continue;
        };
        run.decisions.push(DecisionRow {
            time_s: c.f(&r, "time_s").unwrap_or(0.0),
            current: c.u(&r, "current") as u32,
            ready: c.u(&r, "ready") as u32,
            metrics: c.s(&r, "metrics").to_string(),
            proposal: count(c.s(&r, "proposal")),
            stabilized: count(c.s(&r, "stabilized")),
            limited: count(c.s(&r, "limited")),
            desired: c.u(&r, "desired") as u32,
            reason: c.s(&r, "reason").to_string(),
        });
    }
    Ok(())
}

/// The per-policy estimates of a `summary.json` document: from `intervals` when present
/// (several replications), else the means with no interval.
pub fn aggregates(summary: &Value) -> Vec<PolicyAggregate> {
    let Some(ps) = summary.get("policies").and_then(Value::as_array) else { return Vec::new() };
    ps.iter()
        .map(|p| {
            let reps = p.get("replications").and_then(Value::as_u64).unwrap_or(1) as usize;
            let seeds: Vec<u64> = p
                .get("seeds")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            let figures = std::array::from_fn(|i| {
                let f = FIGURES[i];
                if let Some(e) = p.get("intervals").and_then(|iv| iv.get(f)) {
                    let g = |k: &str| e.get(k).and_then(Value::as_f64);
                    return Estimate {
                        mean: g("mean"),
                        ci95_low: g("ci95_low"),
                        ci95_high: g("ci95_high"),
                        n: e.get("n").and_then(Value::as_u64).unwrap_or(0) as usize,
                    };
                }
                let mean = match f.strip_prefix("failed_") {
                    Some(reason) if f != "failed_pct" => {
                        p.get("failed_by_reason").and_then(|b| b.get(reason)).and_then(Value::as_f64)
                    }
                    _ => p.get(f).and_then(Value::as_f64),
                };
                Estimate { mean, ci95_low: None, ci95_high: None, n: if mean.is_some() { reps } else { 0 } }
            });
            PolicyAggregate {
                policy: p.get("policy").and_then(Value::as_str).unwrap_or("?").to_string(),
                seeds: if seeds.is_empty() { vec![0; reps] } else { seeds },
                figures,
            }
        })
        .collect()
}

/// Each policy's cost above the oracle, in percent, when `summary.json` has it (written by
/// runs that include the oracle baseline).
pub fn cost_above_oracle(summary: &Value, policy: &str) -> Option<f64> {
    summary
        .get("policies")?
        .as_array()?
        .iter()
        .find(|p| p.get("policy").and_then(Value::as_str) == Some(policy))?
        .get("cost_above_oracle_pct")?
        .as_f64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::aggregate::aggregate;
    use crate::report::testdata::fixture;

    #[test]
    fn an_output_folder_reads_back_as_written() {
        let (s, runs) = fixture(3);
        let dir = tempfile::tempdir().unwrap();
        crate::report::write_outputs(dir.path(), &s, &runs).unwrap();
        let l = read_dir(dir.path()).unwrap();
        assert_eq!(l.meta.name, "unit");
        assert_eq!(l.runs.len(), runs.len());
        for (a, b) in l.runs.iter().zip(&runs) {
            assert_eq!(
                (&a.policy, a.replication, a.intervals.len()),
                (&b.policy, b.replication, b.intervals.len())
            );
        }
        // Read back and written again: the same bytes (numbers are written rounded).
        let meta = crate::report::ReportMeta::from_scenario(&s);
        assert_eq!(
            crate::report::files::timeseries_csv(&meta, &l.runs),
            std::fs::read(dir.path().join("timeseries.csv")).unwrap()
        );
        let (x, y) = (aggregates(&l.summary), aggregate(&runs));
        assert_eq!(x.len(), y.len());
        for (a, b) in x.iter().zip(&y) {
            for (f, (e, g)) in FIGURES.iter().zip(a.figures.iter().zip(&b.figures)) {
                let close = |p: Option<f64>, q: Option<f64>| match (p, q) {
                    (Some(p), Some(q)) => (p - q).abs() < 1e-5,
                    (None, None) => true,
                    _ => false,
                };
                assert!(close(e.mean, g.mean) && close(e.ci95_low, g.ci95_low), "{f}: {e:?} vs {g:?}");
            }
        }
        assert_eq!(cost_above_oracle(&l.summary, "two"), None);
    }
}
