//! The oracle baseline: building the oracle policy for a scenario, and comparing runs with it.
//!
//! The oracle itself is a policy ([`crate::policy::oracle`]): perfect foresight of the
//! arrivals, the fewest replicas that meet the SLO in each interval, started early enough to be
//! ready in time. This module is the layer above the engine that sets it up and uses it:
//!
//! * [`build`] turns a scenario's oracle settings into a [`PolicySpec`]: one replica's capacity
//!   within the SLO is measured by the simulated step test of [`crate::capacity`] (unless given),
//!   the startup lead is read off the service's startup distribution, and the replicas ready at
//!   time 0 are the schedule's first value for the scenario seed;
//! * [`spec_for`] is the oracle `scalesim run` (and `tune`) add as a baseline, with default
//!   settings; [`with_baseline`] adds it to a scenario that has none;
//! * [`attach`] fills in, for every run, the figures measured against the oracle: its cost above
//!   the oracle's in the same replication (`cost_above_oracle_pct`) and the SPEC elasticity
//!   metrics of its ready replicas against the oracle's demand curve
//!   ([`crate::record::elasticity`]).
//!
//! Deterministic (fixed seeds throughout) and pure: no I/O.

use crate::capacity::{self, CapacitySlo, SLO_PERCENTILES, StepTest};
use crate::policy::{OraclePlan, OracleSpec, PolicyKind, PolicySpec, RunContext, oracle};
use crate::record::{DemandCurve, RunResult, elasticity};
use crate::scenario::{Scenario, Slo};
use crate::service::{Demand, ServiceModel};
use crate::time::{Time, from_secs_f64};
use rayon::prelude::*;

/// Name of the oracle [`spec_for`] adds (`oracle-2`, … when a policy already has it).
pub const NAME: &str = "oracle";

/// Settings of an oracle policy as a scenario gives them; `None` takes the default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OracleSettings {
    /// Demand interval (default [`oracle::DEFAULT_INTERVAL`], 30 s).
    pub interval: Option<Time>,
    /// Sub-window of the peak rate (default [`oracle::DEFAULT_WINDOW`], 10 s, at most the
    /// interval).
    pub window: Option<Time>,
    /// How long ahead replicas are requested (default [`startup_lead`]).
    pub lead: Option<Time>,
    /// Requests per second one replica serves within the SLO (default: [`measure_capacity`]).
    pub capacity_rps: Option<f64>,
    /// Fewest replicas (default 0).
    pub min: Option<u32>,
    /// Most replicas (default unbounded).
    pub max: Option<u32>,
    /// Replicas ready at time 0 (default: the schedule's value at 0 for the scenario seed).
    pub initial: Option<u32>,
}

/// Why an oracle cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OracleError {
    /// The step test found no load at which one replica meets the SLO.
    #[error(
        "one replica misses the SLO ({slo}) even at the lowest load of the step test, so the oracle has no capacity to plan with; give it one with `capacity`"
    )]
    NoCapacity {
        /// The objective, as text.
        slo: String,
    },
    /// Requests with sizes but no fixed part: the step test's requests would need no work.
    #[error(
        "service.demand is `linear` with base 0: requests without sizes need no work, so the step test cannot measure a capacity; give the oracle one with `capacity` (requests of demand `base` per second)"
    )]
    NoReferenceDemand,
    /// A setting out of range (the message names it).
    #[error("{0}")]
    Invalid(String),
}

/// The objective one replica's capacity is measured against: the scenario's SLO, its latency
/// percentile raised to the next one the step test reports (p50, p90, p95, p99, p99.9) when it
/// is not one of them, and 1 % errors when it bounds no error rate. Without an SLO the only
/// objective is that at most 1 % of requests fail: no latency bound.
pub fn capacity_slo(slo: Option<&Slo>) -> CapacitySlo {
    let latency = slo.and_then(|s| s.latency).map(|(p, bound)| {
        let q = SLO_PERCENTILES.iter().copied().find(|&q| q >= p).unwrap_or(99.9);
        (q, bound)
    });
    CapacitySlo { latency, max_error_rate: slo.and_then(|s| s.error_rate).unwrap_or(0.01) }
}

/// One replica's capacity within `slo` (requests per second, with the requests of
/// [`ServiceModel::demand`] without sizes), measured by the open-loop step test
/// [`StepTest::for_service`] with `seed`, and a description of where it comes from.
pub fn measure_capacity(
    service: &ServiceModel,
    slo: Option<&Slo>,
    seed: u64,
) -> Result<(f64, String), OracleError> {
    if matches!(service.demand, Demand::Linear { base, .. } if base <= 0.0) {
        return Err(OracleError::NoReferenceDemand);
    }
    let objective = capacity_slo(slo);
    let test = StepTest::for_service(service, None);
    let answer = capacity::capacity(&capacity::run_step_test(service, &test, seed), &objective);
    match answer.max_rps_within_slo.filter(|c| c.is_finite() && *c > 0.0) {
        Some(c) => Ok((c, format!("step test, {}", objective.describe()))),
        None => Err(OracleError::NoCapacity { slo: objective.describe() }),
    }
}

/// How long before an interval the oracle requests its replicas: the startup time's upper
/// bound when it has one (deterministic, uniform, empirical), else its 99th percentile
/// (exponential, log-normal, gamma), so that replicas are ready in time but for the slowest
/// 1 % of starts of an unbounded distribution. A pending time ends before the startup does,
/// so it adds nothing.
pub fn startup_lead(service: &ServiceModel) -> Time {
    let s = service.startup.upper_bound().unwrap_or_else(|| service.startup.p99());
    from_secs_f64(s.max(0.0))
}

/// The oracle policy `name` for `scenario` with `settings` (see the module notes).
pub fn build(scenario: &Scenario, name: &str, settings: &OracleSettings) -> Result<PolicySpec, OracleError> {
    let interval = settings.interval.unwrap_or(oracle::DEFAULT_INTERVAL);
    if interval == 0 {
        return Err(OracleError::Invalid("interval: expected a positive duration".into()));
    }
    let window = settings.window.unwrap_or(oracle::DEFAULT_WINDOW.min(interval));
    if window == 0 || window > interval {
        return Err(OracleError::Invalid(format!(
            "window: expected a positive duration of at most the interval ({} s)",
            crate::time::to_secs_f64(interval)
        )));
    }
    let (min, max) = (settings.min.unwrap_or(0), settings.max.unwrap_or(u32::MAX));
    if min > max {
        return Err(OracleError::Invalid(format!("min ({min}) is greater than max ({max})")));
    }
    let (capacity_rps, capacity_source) = match settings.capacity_rps {
        Some(c) if c.is_finite() && c > 0.0 => (c, "given".to_string()),
        Some(c) => {
            return Err(OracleError::Invalid(format!(
                "capacity: found {c}, expected requests per second > 0"
            )));
        }
        None => measure_capacity(&scenario.service, scenario.slo.as_ref(), scenario.seed)?,
    };
    let spec = OracleSpec {
        interval,
        window,
        lead: settings.lead.unwrap_or_else(|| startup_lead(&scenario.service)),
        capacity_rps,
        reference_demand_s: scenario.service.demand.mean_without_sizes(),
        capacity_source,
    };
    let initial = match settings.initial {
        Some(i) if i < min || i > max => {
            return Err(OracleError::Invalid(format!(
                "initial: found {i}, expected a value between min ({min}) and max ({max})"
            )));
        }
        Some(i) => i,
        // Only the intervals that overlap [0, lead] matter for the first value.
        None => {
            OraclePlan::compute(&spec, min, max, &run_context(scenario, scenario.seed), spec.lead + interval)
                .schedule
                .at(0)
        }
    };
    Ok(PolicySpec {
        name: name.to_string(),
        min,
        max,
        initial,
        start: crate::policy::Start::Given,
        kind: PolicyKind::Oracle(spec),
        activator: None,
    })
}

fn run_context(scenario: &Scenario, seed: u64) -> RunContext<'_> {
    RunContext {
        clock: &scenario.clock,
        horizon: scenario.duration,
        seed,
        traffic: &scenario.traffic,
        demand: &scenario.service.demand,
    }
}

/// The oracle baseline for `scenario` with default settings, named [`NAME`] (or `oracle-2`, …
/// if a policy of the scenario already has that name).
pub fn spec_for(scenario: &Scenario) -> Result<PolicySpec, OracleError> {
    let taken = |n: &str| scenario.policies.iter().any(|p| p.name == n);
    let name = std::iter::once(NAME.to_string())
        .chain((2..).map(|i| format!("{NAME}-{i}")))
        .find(|n| !taken(n))
        .expect("an unused name exists");
    build(scenario, &name, &OracleSettings::default())
}

/// `scenario` with the oracle baseline [`spec_for`] appended, unless it already has an oracle
/// policy (which then is the baseline, see [`Scenario::oracle`]).
pub fn with_baseline(scenario: &Scenario) -> Result<Scenario, OracleError> {
    let mut s = scenario.clone();
    if s.oracle().is_none() {
        s.policies.push(spec_for(scenario)?);
    }
    Ok(s)
}

/// The oracle's demand curve (replicas per interval, unclamped) for the run with `seed`, by a
/// pre-pass over that run's arrivals; `None` when `policy` is not an oracle. (An oracle run
/// reports the same curve in [`RunResult::foresight`].)
pub fn demand_curve(scenario: &Scenario, policy: &PolicySpec, seed: u64) -> Option<DemandCurve> {
    let PolicyKind::Oracle(spec) = &policy.kind else { return None };
    let plan = OraclePlan::compute(spec, policy.min, policy.max, &run_context(scenario, seed), Time::MAX);
    Some(DemandCurve { curve: plan.demand_curve(), interval: plan.interval })
}

/// Fills in the oracle figures of every run of `scenario` ([`Scenario::oracle`] is the
/// reference; nothing happens without one): the elasticity metrics of each run's ready
/// replicas against the oracle's demand curve for that run's seed, and, when `runs` holds the
/// oracle's own run with the same seed (the same replication), the cost above it in per cent
/// (undefined when the oracle costs nothing). Runs are matched by seed, so runs of other
/// scenarios with the same traffic (e.g. tuning candidates) can be compared too. The demand
/// curve is the one the oracle's run reports ([`RunResult::foresight`]); for a seed without an
/// oracle run it is computed by a pre-pass, on the current rayon pool.
pub fn attach(scenario: &Scenario, runs: &mut [RunResult]) {
    let Some(reference) = scenario.oracle() else { return };
    let oracle_run = |seed: u64, runs: &[RunResult]| {
        runs.iter().position(|r| r.policy == reference.name && r.seed == seed)
    };
    let mut missing: Vec<u64> = runs
        .iter()
        .map(|r| r.seed)
        .filter(|&s| oracle_run(s, runs).is_none_or(|i| runs[i].foresight.is_none()))
        .collect();
    missing.sort_unstable();
    missing.dedup();
    let computed: Vec<(u64, DemandCurve)> =
        missing.par_iter().filter_map(|&s| demand_curve(scenario, reference, s).map(|c| (s, c))).collect();
    let per_run: Vec<(Option<DemandCurve>, Option<f64>)> = runs
        .iter()
        .map(|r| {
            let own = oracle_run(r.seed, runs).map(|i| &runs[i]);
            let demand = own
                .and_then(|o| o.foresight.clone())
                .or_else(|| computed.iter().find(|(s, _)| *s == r.seed).map(|(_, c)| c.clone()));
            (demand, own.map(|o| o.summary.cost))
        })
        .collect();
    for (run, (demand, oracle_cost)) in runs.iter_mut().zip(per_run) {
        if let Some(d) = demand {
            run.summary.elasticity =
                Some(elasticity::elasticity(&run.ready_curve, &d.curve, scenario.duration, d.interval));
        }
        run.summary.cost_above_oracle_pct =
            oracle_cost.filter(|c| *c > 0.0).map(|c| 100.0 * (run.summary.cost - c) / c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_objective_follows_the_scenario_slo() {
        let none = capacity_slo(None);
        assert_eq!((none.latency, none.max_error_rate), (None, 0.01));
        let p97 = capacity_slo(Some(&Slo { latency: Some((97.0, 0.3)), error_rate: None }));
        assert_eq!((p97.latency, p97.max_error_rate), (Some((99.0, 0.3)), 0.01));
        let p9999 = capacity_slo(Some(&Slo { latency: Some((99.99, 1.0)), error_rate: Some(0.001) }));
        assert_eq!((p9999.latency, p9999.max_error_rate), (Some((99.9, 1.0)), 0.001));
        let errors = capacity_slo(Some(&Slo { latency: None, error_rate: Some(0.05) }));
        assert_eq!((errors.latency, errors.max_error_rate), (None, 0.05));
    }
}
