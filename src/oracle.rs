//! The oracle baseline: building the oracle policy for a scenario, and comparing runs with it.
//!
//! The oracle itself is a policy ([`crate::policy::oracle`]): perfect foresight of the
//! arrivals, the fewest replicas that meet the SLO in each interval, started early enough to be
//! ready in time. This module is the layer above the engine that sets it up and uses it:
//!
//! * [`build`] turns a scenario's oracle settings into a [`PolicySpec`]: the capacity it plans
//!   with (unless given) is found by [`search_capacity`] — a bisection, starting from the replica
//!   capacity of [`replica_capacity`] (the mean of 8 step tests), for the highest capacity at
//!   which the oracle's own run meets the SLO — the startup lead is read off the service's
//!   startup distribution, and the replicas ready at time 0 are the schedule's first value for
//!   the scenario seed;
//! * [`spec_for`] is the oracle `scalesim run` (and `tune`) add as a baseline, with default
//!   settings; [`with_baseline`] adds it to a scenario that has none;
//! * [`attach`] fills in, for every run, the figures measured against the oracle: its cost above
//!   the oracle's in the same replication (`cost_above_oracle_pct`) and the SPEC elasticity
//!   metrics of its ready replicas against the oracle's demand curve
//!   ([`crate::record::elasticity`]).
//!
//! Deterministic (fixed seeds throughout) and pure: no I/O.

use crate::capacity::{self, CapacityEstimate, CapacitySlo, SLO_PERCENTILES};
use crate::memo::Memo;
use crate::policy::{OraclePlan, OracleSpec, PolicyKind, PolicySpec, RunContext, oracle};
use crate::record::{DemandCurve, RunResult, elasticity};
use crate::scenario::{Scenario, Slo};
use crate::service::{Demand, ServiceModel};
use crate::time::{Time, from_secs_f64};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;

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
    /// Requests per second one replica serves within the SLO, kept as given (default: the one
    /// [`search_capacity`] finds).
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
    /// An LLM replica: its capacity depends on the token mix, which the step test of
    /// requests without sizes does not have.
    #[error(
        "an LLM replica's capacity depends on the prompt and output tokens of its requests, which the step test (requests without sizes) does not model yet; give the oracle one with `capacity` (requests per second)"
    )]
    LlmReplica,
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

/// One replica's capacity within the scenario's objective ([`capacity_slo`] of `slo`): the mean
/// of the 8 open-loop step tests of [`capacity::replica_capacity`] (seeds 1–8, memoised), the
/// figure `validate`, `capacity`, `run` and the oracle's search start from. Requests of
/// [`ServiceModel::demand`] without sizes.
pub fn replica_capacity(
    service: &ServiceModel,
    slo: Option<&Slo>,
) -> Result<Arc<CapacityEstimate>, OracleError> {
    if matches!(service.demand, Demand::Linear { base, .. } if base <= 0.0) {
        return Err(OracleError::NoReferenceDemand);
    }
    if service.llm.is_some() {
        return Err(OracleError::LlmReplica);
    }
    let objective = capacity_slo(slo);
    let e = capacity::replica_capacity(service, &objective);
    e.within().map_err(|_| OracleError::NoCapacity { slo: objective.describe() })?;
    Ok(e)
}

/// Most oracle runs the capacity search makes.
pub const SEARCH_RUNS: u32 = 8;
/// The search stops when the capacity that misses is within this fraction above the one that
/// meets the SLO.
pub const SEARCH_TOLERANCE: f64 = 0.01;
/// Factor of the search's first steps away from the starting capacity.
const SEARCH_STEP: f64 = 1.25;

/// How the capacity search ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchEnd {
    /// Bracketed: `rps` meets the SLO and a capacity at most [`SEARCH_TOLERANCE`] above it
    /// misses.
    Tight,
    /// `rps` meets the SLO, but the run bound ([`SEARCH_RUNS`]) ended the search before the
    /// bracket was that tight.
    Bound,
    /// `rps` is the replica's saturation throughput and meets the SLO: the search does not plan
    /// one replica beyond what it can serve at all.
    Saturation,
    /// No capacity tried met the SLO: the oracle plans with the starting capacity.
    NoneMet,
    /// The scenario has no SLO to meet: the oracle plans with the starting capacity.
    NoSlo,
}

/// The capacity the oracle plans with, found by [`search_capacity`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanningCapacity {
    /// Requests per second per replica the oracle plans with.
    pub rps: f64,
    /// Where the search started: the replica capacity (mean of the step tests).
    pub start_rps: f64,
    /// Each oracle run of the search, in order: (capacity, SLO-violating minutes; a run that
    /// misses the SLO stops at its first violating interval, so its minutes are a lower bound).
    pub trials: Vec<(f64, f64)>,
    /// How the search ended.
    pub end: SearchEnd,
    /// The seed of the runs (the scenario's: replication 0's).
    pub seed: u64,
}

impl PlanningCapacity {
    /// How the capacity was found, for reports.
    pub fn describe(&self) -> String {
        let runs = self.trials.len();
        let from = format!("from the replica capacity {:.2} req/s", self.start_rps);
        match self.end {
            SearchEnd::Tight => {
                let miss = self
                    .trials
                    .iter()
                    .filter(|t| t.1 > 0.0 && t.0 > self.rps)
                    .map(|t| t.0)
                    .fold(f64::INFINITY, f64::min);
                format!(
                    "bisection {from}: the highest that meets the SLO in the oracle's own run (seed {}); {miss:.2} misses; {runs} runs",
                    self.seed
                )
            }
            SearchEnd::Bound => format!(
                "bisection {from}: the highest found that meets the SLO in the oracle's own run (seed {}) within {runs} runs",
                self.seed
            ),
            SearchEnd::Saturation => format!(
                "bisection {from}: one replica's saturation throughput, which still meets the SLO in the oracle's own run (seed {}); {runs} runs",
                self.seed
            ),
            SearchEnd::NoneMet => format!(
                "the replica capacity: no capacity the search tried ({runs} runs, down to {:.2} req/s) met the SLO in the oracle's own run (seed {})",
                self.trials.iter().map(|t| t.0).fold(f64::INFINITY, f64::min),
                self.seed
            ),
            SearchEnd::NoSlo => "the replica capacity (no SLO to search against)".into(),
        }
    }
}

/// Oracle settings after defaults, without the capacity.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Resolved {
    interval: Time,
    window: Time,
    lead: Time,
    min: u32,
    max: u32,
    initial: Option<u32>,
}

fn resolve(scenario: &Scenario, settings: &OracleSettings) -> Result<Resolved, OracleError> {
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
    if let Some(i) = settings.initial
        && (i < min || i > max)
    {
        return Err(OracleError::Invalid(format!(
            "initial: found {i}, expected a value between min ({min}) and max ({max})"
        )));
    }
    Ok(Resolved {
        interval,
        window,
        lead: settings.lead.unwrap_or_else(|| startup_lead(&scenario.service)),
        min,
        max,
        initial: settings.initial,
    })
}

/// The oracle policy with `capacity_rps`.
/// The oracle's settings with `capacity_rps`.
fn oracle_spec(scenario: &Scenario, r: &Resolved, capacity_rps: f64, capacity_source: String) -> OracleSpec {
    OracleSpec {
        interval: r.interval,
        window: r.window,
        lead: r.lead,
        capacity_rps,
        reference_demand_s: scenario.service.demand.mean_without_sizes(),
        capacity_source,
        pre_pass: None,
    }
}

fn assemble(
    scenario: &Scenario,
    name: &str,
    r: &Resolved,
    capacity_rps: f64,
    capacity_source: String,
) -> PolicySpec {
    let spec = oracle_spec(scenario, r, capacity_rps, capacity_source);
    // Only the intervals that overlap [0, lead] matter for the first value.
    let initial = r.initial.unwrap_or_else(|| {
        OraclePlan::compute(
            &spec,
            r.min,
            r.max,
            &run_context(scenario, scenario.seed),
            spec.lead + r.interval,
        )
        .schedule
        .at(0)
    });
    PolicySpec {
        name: name.to_string(),
        min: r.min,
        max: r.max,
        initial,
        start: crate::policy::Start::Given,
        kind: PolicyKind::Oracle(spec),
        activator: None,
    }
}

/// The capacity the oracle of `scenario` with `settings` (its capacity left out) plans with:
/// the highest per-replica capacity at which the oracle's own run of replication 0 (the
/// scenario's seed) has no SLO-violating minute after the warm-up (`slo_violation_minutes`,
/// the summary's criterion), so that the oracle is the cheapest schedule of its kind that meets
/// the SLO.
///
/// The search starts at the replica capacity ([`replica_capacity`], the mean of the step
/// tests). If that meets the SLO it steps up by ×1.25 (never beyond the replica's saturation
/// throughput) until a capacity misses, else down by ÷1.25 until one meets; then it bisects
/// the bracket until the capacity that misses is within [`SEARCH_TOLERANCE`] (1 %) above the
/// one that meets, in at most [`SEARCH_RUNS`] (8) oracle runs in all. If none meets, the
/// starting capacity stays; without an SLO there is nothing to search and it stays too.
/// Deterministic; memoised in-process by a hash of the scenario (its policies left out) and
/// the settings, so `tune`'s candidates share one search.
pub fn search_capacity(
    scenario: &Scenario,
    settings: &OracleSettings,
) -> Result<PlanningCapacity, OracleError> {
    let resolved = resolve(scenario, settings)?;
    let mut bare = scenario.clone();
    bare.policies.clear();
    static MEMO: Memo<Result<PlanningCapacity, OracleError>> = Memo::new();
    MEMO.get_or(format_args!("{bare:?}|{resolved:?}"), || search_uncached(scenario, &resolved))
}

fn search_uncached(scenario: &Scenario, r: &Resolved) -> Result<PlanningCapacity, OracleError> {
    let est = replica_capacity(&scenario.service, scenario.slo.as_ref())?;
    let start = est.mean_rps;
    let seed = scenario.seed;
    let mut out =
        PlanningCapacity { rps: start, start_rps: start, trials: Vec::new(), end: SearchEnd::NoSlo, seed };
    if scenario.slo.is_none() {
        return Ok(out);
    }
    let mut trials: Vec<(f64, f64)> = Vec::new();
    // One pre-pass for every trial: the peak rates depend on the arrivals, not the capacity.
    let pre_pass = {
        let spec = oracle_spec(scenario, r, start, String::new());
        let plan = OraclePlan::compute(&spec, r.min, r.max, &run_context(scenario, seed), Time::MAX);
        oracle::PrePass { seed, peak_rps: plan.peak_rps.into() }
    };
    let meets = |c: f64, trials: &mut Vec<(f64, f64)>| -> bool {
        let mut spec = assemble(scenario, NAME, r, c, "search".into());
        if let PolicyKind::Oracle(o) = &mut spec.kind {
            o.pre_pass = Some(pre_pass.clone());
        }
        // A trial that misses the SLO stops at its first violating interval.
        let extras = crate::engine::Extras { stop_at_slo_violation: true, ..Default::default() };
        let (run, _) = crate::engine::simulate_with(scenario, &spec, seed, 0, None, &extras);
        let v = run.summary.slo_violation_minutes;
        trials.push((c, v));
        v == 0.0
    };
    let n = |t: &Vec<(f64, f64)>| t.len() as u32;
    let saturation = est.saturation_rps.max(start);
    // lo: the highest capacity known to meet the SLO; hi: the lowest known to miss it.
    let (mut lo, mut hi): (Option<f64>, Option<f64>) = (None, None);
    let mut at_saturation = false;
    if meets(start, &mut trials) {
        lo = Some(start);
        let mut c = start;
        while n(&trials) < SEARCH_RUNS && !at_saturation {
            c = (c * SEARCH_STEP).min(saturation);
            if c <= lo.unwrap_or(0.0) {
                at_saturation = true;
                break;
            }
            if meets(c, &mut trials) {
                lo = Some(c);
                at_saturation = c >= saturation;
            } else {
                hi = Some(c);
                break;
            }
        }
    } else {
        hi = Some(start);
        let mut c = start;
        while n(&trials) < SEARCH_RUNS {
            c /= SEARCH_STEP;
            if meets(c, &mut trials) {
                lo = Some(c);
                break;
            }
            hi = Some(c);
        }
    }
    if let (Some(mut l), Some(mut h)) = (lo, hi) {
        while n(&trials) < SEARCH_RUNS && h > l * (1.0 + SEARCH_TOLERANCE) {
            let mid = 0.5 * (l + h);
            if meets(mid, &mut trials) {
                l = mid;
            } else {
                h = mid;
            }
        }
        lo = Some(l);
        hi = Some(h);
    }
    out.end = match (lo, hi) {
        (None, _) => SearchEnd::NoneMet,
        (Some(_), _) if at_saturation => SearchEnd::Saturation,
        (Some(l), Some(h)) if h <= l * (1.0 + SEARCH_TOLERANCE) => SearchEnd::Tight,
        (Some(_), _) => SearchEnd::Bound,
    };
    out.rps = lo.unwrap_or(start);
    out.trials = trials;
    Ok(out)
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

/// The oracle policy `name` for `scenario` with `settings` (see the module notes): with no
/// capacity given, the one [`search_capacity`] finds.
pub fn build(scenario: &Scenario, name: &str, settings: &OracleSettings) -> Result<PolicySpec, OracleError> {
    let resolved = resolve(scenario, settings)?;
    let (capacity_rps, capacity_source) = match settings.capacity_rps {
        Some(c) if c.is_finite() && c > 0.0 => (c, "given".to_string()),
        Some(c) => {
            return Err(OracleError::Invalid(format!(
                "capacity: found {c}, expected requests per second > 0"
            )));
        }
        None => {
            let found = search_capacity(scenario, settings)?;
            (found.rps, found.describe())
        }
    };
    Ok(assemble(scenario, name, &resolved, capacity_rps, capacity_source))
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
