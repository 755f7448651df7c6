//! Hand-built scenarios and run results for the report's unit tests (no engine needed).

use crate::dist::Dist;
use crate::policy::PolicySpec;
use crate::record::{IntervalRow, RunResult, RunSummary};
use crate::scenario::{CostModel, Scenario, Slo};
use crate::service::{CpuModel, Demand, MemoryModel, ServiceModel};
use crate::time::{Clock, SECOND};
use crate::traffic::TrafficSpec;

/// A two-hour scenario with three fixed policies and `reps` replications each.
pub(crate) fn fixture(reps: u32) -> (Scenario, Vec<RunResult>) {
    let duration = 2 * 3600 * SECOND;
    let scenario = Scenario {
        name: "unit".into(),
        duration,
        clock: Clock::utc_monday(duration),
        seed: 7,
        record_interval: 60 * SECOND,
        warmup: 0,
        slo: Some(Slo { latency: Some((99.0, 0.5)), error_rate: Some(0.01) }),
        traffic: TrafficSpec::constant_poisson(50.0),
        service: ServiceModel {
            workers: 4,
            queue_limit: Some(100),
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
        cost: CostModel { per_replica_hour: 0.1, currency: "USD".into() },
        policies: vec![PolicySpec::fixed("two", 2), PolicySpec::fixed("four", 4)],
    };
    let mut runs = Vec::new();
    for (p, n) in [("two", 2u32), ("four", 4u32)] {
        for rep in 0..reps {
            runs.push(run(p, n, rep, 120));
        }
    }
    (scenario, runs)
}

fn run(policy: &str, n: u32, rep: u32, intervals: usize) -> RunResult {
    let rows: Vec<IntervalRow> = (0..intervals)
        .map(|i| {
            let served = 3000 + 10 * rep as u64 + i as u64;
            IntervalRow {
                start_s: 60.0 * i as f64,
                end_s: 60.0 * (i + 1) as f64,
                arrived: served + 2,
                offered_rps: (served + 2) as f64 / 60.0,
                served,
                failed: [1, 1, 0, 0, 0],
                desired: n,
                starting: 0,
                ready: n,
                ready_min: n,
                ready_max: n,
                draining: 0,
                latency_mean_s: Some(0.1),
                latency_p50_s: Some(0.07),
                latency_p95_s: Some(0.3),
                latency_p99_s: if i == 5 { None } else { Some(0.46 + 0.01 * rep as f64) },
                cpu_utilization: Some(0.4),
                replica_seconds: 60.0 * n as f64,
                cost_cumulative: (i + 1) as f64 * 60.0 * n as f64 / 3600.0 * 0.1,
                slo_violated: i % 7 == 0,
                at_max_s: None,
                llm: None,
            }
        })
        .collect();
    let requests = rows.iter().map(|r| r.arrived).sum();
    let served = rows.iter().map(|r| r.served).sum();
    RunResult {
        policy: policy.into(),
        replication: rep,
        seed: 7 + rep as u64,
        summary: RunSummary {
            requests,
            served,
            failed: 2 * intervals as u64,
            failed_by_reason: [intervals as u64, intervals as u64, 0, 0, 0],
            in_flight_at_end: 0,
            latency_mean_s: Some(0.1),
            latency_p50_s: Some(0.07),
            latency_p95_s: Some(0.3),
            latency_p99_s: Some(0.46 + 0.01 * rep as f64),
            replica_seconds: rows.iter().map(|r| r.replica_seconds).sum(),
            cost: rows.last().map_or(0.0, |r| r.cost_cumulative),
            scaling_actions: rep as u64,
            peak_replicas: n,
            slo_violation_minutes: 18.0,
            cost_above_oracle_pct: None,
            elasticity: None,
            time_at_max_minutes: None,
            llm: None,
        },
        intervals: rows,
        decisions: vec![],
        ready_curve: Default::default(),
        foresight: None,
        requests: Vec::new(),
    }
}
