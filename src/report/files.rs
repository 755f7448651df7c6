//! The data files: `timeseries.csv`, `summary.csv` and `summary.json` (rendered to bytes).
//!
//! Column and key names are a public interface, documented in `docs/outputs.md` and
//! `docs/summary.schema.json`; change them only with those.

use super::meta::ReportMeta;
use super::{fmt_num, round6};
use crate::record::aggregate::{Estimate, FIGURES, PolicyAggregate, aggregate};
use crate::record::{FailReason, RunResult};
use crate::time::from_secs_f64;
use chrono::SecondsFormat;
use serde_json::{Map, Value, json};

/// Version of the `summary.json` layout; bumped on incompatible changes.
pub const SUMMARY_SCHEMA_VERSION: u32 = 1;

/// Header of `decisions.csv`.
pub const DECISIONS_HEADER: [&str; 13] = [
    "time_s",
    "time_local",
    "policy",
    "replication",
    "current",
    "ready",
    "metrics",
    "proposal",
    "stabilized",
    "limited",
    "desired",
    "changed",
    "reason",
];

/// `decisions.csv`: every decision of every run, in run order then time order.
pub fn decisions_csv(meta: &ReportMeta, runs: &[RunResult]) -> Vec<u8> {
    let header = DECISIONS_HEADER.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let count = |x: Option<u32>| x.map(|v| v.to_string()).unwrap_or_default();
    let rows = runs.iter().flat_map(|r| {
        r.decisions.iter().map(move |d| {
            let local = meta.clock.datetime(from_secs_f64(d.time_s));
            vec![
                fmt_num(d.time_s),
                local.to_rfc3339_opts(SecondsFormat::Secs, false),
                r.policy.clone(),
                r.replication.to_string(),
                d.current.to_string(),
                d.ready.to_string(),
                d.metrics.clone(),
                count(d.proposal),
                count(d.stabilized),
                count(d.limited),
                d.desired.to_string(),
                (d.desired != d.current).to_string(),
                d.reason.clone(),
            ]
        })
    });
    csv_bytes(std::iter::once(header).chain(rows))
}

/// The columns an LLM service adds to `timeseries.csv`, after the others.
/// (End-to-end latency is in the `latency_*` columns, as for every service.)
pub const LLM_COLUMNS: [&str; 20] = [
    "failed_too_long",
    "output_tokens",
    "tokens_per_s",
    "ttft_mean_s",
    "ttft_p50_s",
    "ttft_p95_s",
    "ttft_p99_s",
    "itl_mean_s",
    "itl_p50_s",
    "itl_p95_s",
    "itl_p99_s",
    "tpot_mean_s",
    "tpot_p50_s",
    "tpot_p95_s",
    "tpot_p99_s",
    "kv_usage_mean",
    "kv_usage_max",
    "running_mean",
    "waiting_mean",
    "preemptions",
];

/// The cells of [`LLM_COLUMNS`] for one interval (`too_long` failures, then its figures).
fn llm_cells(too_long: u64, f: Option<&crate::record::llm::LlmFigures>) -> Vec<String> {
    let Some(f) = f else { return vec![String::new(); LLM_COLUMNS.len()] };
    let q = |x: &crate::record::llm::Quantiles| [opt(x.mean), opt(x.p50), opt(x.p95), opt(x.p99)];
    let mut v = vec![too_long.to_string(), f.output_tokens.to_string(), fmt_num(f.tokens_per_s)];
    v.extend(q(&f.ttft));
    v.extend(q(&f.itl));
    v.extend(q(&f.tpot));
    v.extend([opt(f.kv_usage_mean), opt(f.kv_usage_max), fmt_num(f.running_mean), fmt_num(f.waiting_mean)]);
    v.push(f.preemptions.to_string());
    v
}

/// Header of `timeseries.csv` (`llm`: with the LLM columns).
pub fn timeseries_header(llm: bool) -> Vec<String> {
    let mut h: Vec<String> = [
        "start_s",
        "end_s",
        "time_local",
        "policy",
        "replication",
        "arrived",
        "offered_rps",
        "served",
        "failed",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    h.extend(FailReason::ALL.iter().map(|r| format!("failed_{}", r.name())));
    h.extend(
        [
            "replicas_desired",
            "replicas_starting",
            "replicas_ready",
            "replicas_ready_min",
            "replicas_ready_max",
            "replicas_draining",
            "latency_mean_s",
            "latency_p50_s",
            "latency_p95_s",
            "latency_p99_s",
            "cpu_utilization",
            "replica_seconds",
            "cost_cumulative",
            "slo_violated",
            "at_max_s",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    if llm {
        h.extend(LLM_COLUMNS.iter().map(|s| s.to_string()));
    }
    h
}

fn opt(x: Option<f64>) -> String {
    x.map(fmt_num).unwrap_or_default()
}

fn csv_bytes(rows: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    for r in rows {
        w.write_record(&r).expect("writing CSV to memory cannot fail");
    }
    w.into_inner().expect("flushing CSV to memory cannot fail")
}

/// `timeseries.csv`: one row per policy, replication and recording interval. Rows are
/// formatted one at a time (the bytes are the only copy held), so a long run's memory is its
/// results plus the text, not a table of strings.
pub fn timeseries_csv(meta: &ReportMeta, runs: &[RunResult]) -> Vec<u8> {
    let rows = runs.iter().flat_map(|run| {
        run.intervals.iter().map(move |iv| {
            let local =
                meta.clock.datetime(from_secs_f64(iv.start_s)).to_rfc3339_opts(SecondsFormat::AutoSi, false);
            let mut r = vec![
                fmt_num(iv.start_s),
                fmt_num(iv.end_s),
                local,
                run.policy.clone(),
                run.replication.to_string(),
                iv.arrived.to_string(),
                fmt_num(iv.offered_rps),
                iv.served.to_string(),
                iv.failed_total().to_string(),
            ];
            r.extend(FailReason::ALL.iter().map(|&f| iv.failed[f as usize].to_string()));
            r.extend([
                iv.desired.to_string(),
                iv.starting.to_string(),
                iv.ready.to_string(),
                iv.ready_min.to_string(),
                iv.ready_max.to_string(),
                iv.draining.to_string(),
                opt(iv.latency_mean_s),
                opt(iv.latency_p50_s),
                opt(iv.latency_p95_s),
                opt(iv.latency_p99_s),
                opt(iv.cpu_utilization),
                fmt_num(iv.replica_seconds),
                fmt_num(iv.cost_cumulative),
                iv.slo_violated.to_string(),
                opt(iv.at_max_s),
            ]);
            if meta.llm {
                r.extend(llm_cells(iv.failed[FailReason::TooLong as usize], iv.llm.as_ref()));
            }
            r
        })
    });
    csv_bytes(std::iter::once(timeseries_header(meta.llm)).chain(rows))
}

/// Header of `summary.csv`.
pub fn summary_header() -> Vec<String> {
    let mut h = vec!["policy".to_string(), "replications".to_string()];
    for f in FIGURES {
        h.push(f.to_string());
        h.push(format!("{f}_ci95_low"));
        h.push(format!("{f}_ci95_high"));
    }
    h.push("currency".to_string());
    h
}

/// `summary.csv`: one row per policy; each figure is the mean over replications, followed by
/// its 95 % confidence bounds (empty with a single replication).
pub fn summary_csv(meta: &ReportMeta, runs: &[RunResult]) -> Vec<u8> {
    let mut rows = vec![summary_header()];
    for agg in aggregate(runs) {
        let mut r = vec![agg.policy.clone(), agg.replications().to_string()];
        for e in &agg.figures {
            r.push(opt(e.mean));
            r.push(opt(e.ci95_low));
            r.push(opt(e.ci95_high));
        }
        r.push(meta.currency.clone());
        rows.push(r);
    }
    csv_bytes(rows)
}

/// A JSON number: an integer when the (rounded) value is whole, else a float.
fn jnum(x: f64) -> Value {
    let r = round6(x);
    if r == r.trunc() && r.abs() < 9.0e15 { json!(r as i64) } else { json!(r) }
}

fn jopt(x: Option<f64>) -> Value {
    x.map(jnum).unwrap_or(Value::Null)
}

fn jestimate(e: &Estimate) -> Value {
    json!({
        "mean": jopt(e.mean),
        "ci95_low": jopt(e.ci95_low),
        "ci95_high": jopt(e.ci95_high),
        "n": e.n,
    })
}

fn policy_json(meta: &ReportMeta, agg: &PolicyAggregate) -> Value {
    let no_slo = meta.slo.is_none();
    let mean = |name: &str| {
        if no_slo && name == "slo_violation_minutes" { Value::Null } else { jopt(agg.get(name).mean) }
    };
    let mut by_reason = Map::new();
    for r in FailReason::ALL {
        by_reason.insert(r.name().to_string(), mean(&format!("failed_{}", r.name())));
    }
    let pm = meta.policy(&agg.policy);
    let mut obj = Map::new();
    obj.insert("policy".into(), json!(agg.policy));
    obj.insert("family".into(), json!(pm.map(|p| p.family.clone())));
    obj.insert("baseline".into(), json!(pm.is_some_and(|p| p.family == "oracle")));
    obj.insert("min_replicas".into(), json!(pm.map(|p| p.min)));
    obj.insert("max_replicas".into(), json!(pm.map(|p| p.max)));
    obj.insert("replications".into(), json!(agg.replications()));
    obj.insert("seeds".into(), json!(agg.seeds));
    for f in FIGURES {
        if !f.starts_with("failed_") || f == "failed_pct" {
            obj.insert(f.to_string(), mean(f));
        }
    }
    obj.insert("failed_by_reason".into(), Value::Object(by_reason));
    if agg.replications() > 1 {
        let mut iv = Map::new();
        for (f, e) in FIGURES.iter().zip(agg.figures.iter()) {
            if no_slo && *f == "slo_violation_minutes" {
                continue;
            }
            iv.insert(f.to_string(), jestimate(e));
        }
        obj.insert("intervals".into(), Value::Object(iv));
    }
    Value::Object(obj)
}

/// The `summary.json` document (see `docs/summary.schema.json`).
pub fn summary_value(meta: &ReportMeta, runs: &[RunResult]) -> Value {
    let aggs = aggregate(runs);
    let replications = aggs.iter().map(|a| a.replications()).max().unwrap_or(0);
    let seeds: Vec<u64> = aggs.first().map(|a| a.seeds.clone()).unwrap_or_default();
    let slo = meta.slo.as_ref().map(|s| {
        json!({
            "latency_percentile": s.latency.map(|l| jnum(l.0)),
            "latency_bound_s": s.latency.map(|l| jnum(l.1)),
            "error_rate": s.error_rate.map(jnum),
        })
    });
    let p = &meta.provenance;
    let source = json!({
        "path": p.path,
        "sha256": p.sha256,
        "overrides": p.overrides,
    });
    let capacity = meta.capacity.as_ref().map(|c| {
        json!({
            "rps": jnum(c.rps),
            "method": c.method,
            "sd": c.sd.map(jnum),
            "ci95": c.ci95.map(|(lo, hi)| [jnum(lo), jnum(hi)]),
            "seeds": c.seeds,
        })
    });
    let oracle_capacity =
        meta.oracle_capacity.as_ref().map(|c| json!({ "rps": jnum(c.rps), "method": c.method }));
    json!({
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "scenario": meta.name,
        "scenario_source": source,
        "start": meta.clock.start().to_rfc3339_opts(SecondsFormat::AutoSi, false),
        "time_zone": meta.clock.tz().name(),
        "duration_s": jnum(meta.duration_s),
        "record_interval_s": jnum(meta.record_interval_s),
        "warmup_s": jnum(meta.warmup_s),
        "replications": replications,
        "seeds": seeds,
        "currency": meta.currency,
        "cost_per_replica_hour": jnum(meta.cost_per_replica_hour),
        "replica_capacity": capacity,
        "oracle_planning_capacity": oracle_capacity,
        "slo": slo,
        "policies": aggs
            .iter()
            .map(|a| {
                let mut p = policy_json(meta, a);
                if meta.llm {
                    p["llm"] = llm_json(runs.iter().filter(|r| r.policy == a.policy));
                    p["failed_by_reason"]["too_long"] = mean_of(
                        runs.iter().filter(|r| r.policy == a.policy),
                        |r| Some(r.summary.failed_by_reason[FailReason::TooLong as usize] as f64),
                    );
                }
                p
            })
            .collect::<Vec<_>>(),
    })
}

/// The mean over `runs` of `f` (runs without a value left out; null when none has one), as
/// every other figure's ([`crate::record::aggregate::mean_ci95`]).
fn mean_of<'a>(runs: impl Iterator<Item = &'a RunResult>, f: impl Fn(&RunResult) -> Option<f64>) -> Value {
    let v: Vec<f64> = runs.filter_map(f).collect();
    jopt(crate::record::aggregate::mean_ci95(&v).mean)
}

/// A policy's LLM figures in summary.json: each the mean over its replications.
fn llm_json<'a>(runs: impl Iterator<Item = &'a RunResult> + Clone) -> Value {
    use crate::record::llm::{LlmFigures, Quantiles};
    let get = |f: &dyn Fn(&LlmFigures) -> Option<f64>| {
        mean_of(runs.clone(), |r| r.summary.llm.as_ref().and_then(f))
    };
    let q = |pick: fn(&LlmFigures) -> &Quantiles| {
        json!({
            "mean_s": get(&|f| pick(f).mean),
            "p50_s": get(&|f| pick(f).p50),
            "p95_s": get(&|f| pick(f).p95),
            "p99_s": get(&|f| pick(f).p99),
        })
    };
    json!({
        "output_tokens": get(&|f| Some(f.output_tokens as f64)),
        "tokens_per_s": get(&|f| Some(f.tokens_per_s)),
        "ttft": q(|f| &f.ttft),
        "itl": q(|f| &f.itl),
        "tpot": q(|f| &f.tpot),
        "kv_usage_mean": get(&|f| f.kv_usage_mean),
        "kv_usage_max": get(&|f| f.kv_usage_max),
        "running_mean": get(&|f| Some(f.running_mean)),
        "waiting_mean": get(&|f| Some(f.waiting_mean)),
        "preemptions": get(&|f| Some(f.preemptions as f64)),
    })
}

/// `summary.json`, pretty-printed with a final newline.
pub fn summary_json(meta: &ReportMeta, runs: &[RunResult]) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(&summary_value(meta, runs)).expect("JSON values serialise");
    s.push('\n');
    s.into_bytes()
}

/// Header of `requests.csv`.
pub const REQUESTS_HEADER: &str = "policy,replication,id,arrival_s,replica,first_token_s,end_s,prompt_tokens,output_tokens,outcome,preemptions";

/// Writes `requests.csv` (one row per request of every run, runs in order, requests in arrival
/// order) to `w`, streaming: times in seconds with the clock's six decimals (exact), empty
/// fields where a value does not apply.
pub fn write_requests_csv(w: &mut impl std::io::Write, runs: &[RunResult]) -> std::io::Result<()> {
    use crate::record::requests::{NONE_COUNT, NONE_TIME};
    fn time(w: &mut impl std::io::Write, t: crate::time::Time) -> std::io::Result<()> {
        if t != NONE_TIME {
            write!(w, "{}.{:06}", t / 1_000_000, t % 1_000_000)?;
        }
        Ok(())
    }
    fn count(w: &mut impl std::io::Write, n: u32) -> std::io::Result<()> {
        if n != NONE_COUNT {
            write!(w, "{n}")?;
        }
        Ok(())
    }
    writeln!(w, "{REQUESTS_HEADER}")?;
    for run in runs {
        let policy = csv_field(&run.policy);
        for r in &run.requests {
            write!(w, "{policy},{},{},", run.replication, r.id)?;
            time(w, r.arrival)?;
            w.write_all(b",")?;
            count(w, r.replica)?;
            w.write_all(b",")?;
            time(w, r.first_token)?;
            w.write_all(b",")?;
            time(w, r.end)?;
            w.write_all(b",")?;
            count(w, r.prompt_tokens)?;
            w.write_all(b",")?;
            count(w, r.output_tokens)?;
            writeln!(w, ",{},{}", r.outcome.name(), r.preemptions)?;
        }
    }
    Ok(())
}

/// `s` as one CSV field (quoted when it holds a comma, a quote or a line break).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testdata::fixture;

    #[test]
    fn timeseries_has_one_row_per_interval() {
        let (s, runs) = fixture(2);
        let bytes = timeseries_csv(&ReportMeta::from_scenario(&s), &runs);
        let mut rd = csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header, timeseries_header(false));
        let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
        assert_eq!(rows.len(), 2 * 2 * 120);
        assert_eq!(&rows[0][2], "2025-01-06T00:00:00+00:00");
        assert_eq!(&rows[1][2], "2025-01-06T00:01:00+00:00");
        // p99 missing in interval 5 gives an empty cell.
        let p99 = header.iter().position(|h| h == "latency_p99_s").unwrap();
        assert_eq!(&rows[5][p99], "");
        assert_eq!(&rows[4][p99], "0.46");
    }

    #[test]
    fn summary_json_shape() {
        let (s, runs) = fixture(3);
        let v = summary_value(&ReportMeta::from_scenario(&s), &runs);
        assert_eq!(v["replications"], 3);
        assert_eq!(v["policies"][0]["policy"], "two");
        assert_eq!(v["policies"][0]["failed_by_reason"]["queue_full"], 120);
        let iv = &v["policies"][0]["intervals"]["latency_p99_s"];
        assert_eq!(iv["n"], 3);
        assert_eq!(iv["mean"], 0.47);
        // s = 0.01, half = t(0.975, 2) * 0.01 / sqrt(3)
        let half = 4.302_652_73 * 0.01 / 3f64.sqrt();
        assert!((iv["ci95_high"].as_f64().unwrap() - (0.47 + half)).abs() < 2e-6);
        let (s1, runs1) = fixture(1);
        assert!(
            summary_value(&ReportMeta::from_scenario(&s1), &runs1)["policies"][0].get("intervals").is_none()
        );
    }
}
