//! Capacity of one replica: a simulated load-generator step test and what it says.
//!
//! This module owns the step test ([`StepTest`], [`run_step_test`]), its per-step figures
//! ([`StepTestResult`], [`StepRow`]), the SLO it is judged against ([`CapacitySlo`], with the
//! `p99<500ms` / `1%` parsers) and the answers ([`capacity`], [`CapacityAnswer`]); [`recommend`]
//! turns a capacity and a traffic range into min / max replicas and policy targets. Pure: no
//! I/O, no formatting of files. [`estimate`] turns 8 seeded step tests into the one replica
//! capacity every command shows (mean, σ, 95 % interval).
//!
//! The step test runs the real engine ([`crate::engine::simulate_with`]) on one replica held by a
//! `fixed` policy, so the model is exactly the one `scalesim run` uses, in one continuous run (as
//! a Locust step load is: what queued in one step is still there in the next):
//!
//! * **open loop**: Poisson arrivals whose rate steps through the offered rates;
//! * **closed loop**: a population of users (as Locust's users behave: send, wait for the
//!   response or failure, think, repeat) stepping through the user counts
//!   ([`crate::engine::ClosedLoop`]).
//!
//! Each step lasts `step_duration`; its first `warmup` is excluded from its figures (the engine
//! records the warm-up and the measured part as separate intervals). **Stop rule**: the test
//! ends after the first step in which failures dominate — more than `stop_failure_rate` (default
//! 50 %) of the requests that ended in the measured part failed; later steps are dropped from the
//! result.

pub mod command;
pub mod estimate;
pub mod recommend;

pub use estimate::{CapacityEstimate, EstimateError, SEEDS, estimate, replica_capacity};
pub use recommend::{Recommendation, TrafficRange, recommend};

use crate::balancer::BalancerKind;
use crate::dist::Dist;
use crate::engine::{ClosedLoop, Extras, simulate_with};
use crate::policy::PolicySpec;
use crate::record::{FailCounts, LatencyHistogram};
use crate::scenario::{CostModel, Scenario};
use crate::service::ServiceModel;
use crate::time::{Clock, SECOND, Time, from_secs_f64, to_secs_f64};
use crate::traffic::{Process, Shape, TrafficSpec};
use serde::Serialize;
use std::sync::Arc;

/// How a closed-loop user waits between a response and its next request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "distribution", content = "mean_s", rename_all = "snake_case")]
pub enum Think {
    /// Exponential with this mean, seconds (Locust's `constant_pacing` is not this; its
    /// `between(a, b)` is closer to [`Think::Constant`] of the midpoint).
    Exponential(f64),
    /// Always this long, seconds (Locust's `constant(t)`).
    Constant(f64),
}

impl Think {
    /// The mean think time, seconds.
    pub fn mean(&self) -> f64 {
        match *self {
            Think::Exponential(m) | Think::Constant(m) => m,
        }
    }

    fn dist(&self) -> Dist {
        match *self {
            Think::Exponential(m) => Dist::exponential(m),
            Think::Constant(m) => Dist::Deterministic { value: m },
        }
    }
}

/// What the steps step through.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Load {
    /// Open loop: Poisson arrivals at each offered rate (requests per second) in turn.
    Open {
        /// Offered rates, one per step.
        rates: Vec<f64>,
    },
    /// Closed loop: this many users in each step, each thinking `think` between requests.
    Closed {
        /// User counts, one per step.
        users: Vec<u32>,
        /// Think time.
        think: Think,
    },
}

/// A step test of one replica, as a load generator runs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepTest {
    /// The load of each step.
    pub load: Load,
    /// Length of each step.
    pub step_duration: Time,
    /// The first part of each step, excluded from its figures (must be shorter than a step).
    pub warmup: Time,
    /// Stop after the first step whose failure rate exceeds this fraction (default 0.5).
    pub stop_failure_rate: f64,
}

/// Default step length: long enough that a step's served rate is within about 1–2 % of its mean.
pub const DEFAULT_STEP: Time = 120 * SECOND;
/// Default warm-up excluded from each step.
pub const DEFAULT_WARMUP: Time = 20 * SECOND;
/// Default think time of closed-loop users, seconds (exponential).
pub const DEFAULT_THINK_S: f64 = 1.0;

impl StepTest {
    /// Open loop through `rates` (requests per second), default durations.
    pub fn open(rates: Vec<f64>) -> StepTest {
        StepTest {
            load: Load::Open { rates },
            step_duration: DEFAULT_STEP,
            warmup: DEFAULT_WARMUP,
            stop_failure_rate: 0.5,
        }
    }

    /// Open loop at `start`, `start + step`, … (`count` steps).
    pub fn open_range(start: f64, step: f64, count: usize) -> StepTest {
        StepTest::open((0..count).map(|i| start + step * i as f64).collect())
    }

    /// Closed loop through `users` with `think` time, default durations.
    pub fn closed(users: Vec<u32>, think: Think) -> StepTest {
        StepTest {
            load: Load::Closed { users, think },
            step_duration: DEFAULT_STEP,
            warmup: DEFAULT_WARMUP,
            stop_failure_rate: 0.5,
        }
    }

    /// Closed loop at `start`, `start + step`, … users (`count` steps).
    pub fn closed_range(start: u32, step: u32, count: usize, think: Think) -> StepTest {
        StepTest::closed((0..count as u32).map(|i| start + step * i).collect(), think)
    }

    /// The same test with other step and warm-up lengths.
    pub fn with_durations(mut self, step_duration: Time, warmup: Time) -> StepTest {
        self.step_duration = step_duration;
        self.warmup = warmup;
        self
    }

    /// A plan that brackets the service's capacity. With `c = workers / mean demand` (the
    /// no-slowdown saturation throughput), open loop offers 10 %, 20 %, … 150 % of `c`; closed
    /// loop (think `think`) runs 10 % … 200 % of `N* = c · (mean demand + mean think)`, the user
    /// count at which an ideal replica saturates, in 15 steps.
    pub fn for_service(service: &ServiceModel, closed: Option<Think>) -> StepTest {
        let demand = service.demand.mean_without_sizes().max(1e-6);
        let c = service.capacity_rps(demand);
        match closed {
            None => StepTest::open((1..=15).map(|k| round_sig(c * 0.1 * k as f64)).collect()),
            Some(think) => {
                let n_star = c * (demand + think.mean());
                let mut users: Vec<u32> =
                    (1..=15).map(|k| ((n_star * 2.0 * k as f64 / 15.0).round() as u32).max(1)).collect();
                users.dedup();
                StepTest::closed(users, think)
            }
        }
    }

    /// Number of steps.
    pub fn steps(&self) -> usize {
        match &self.load {
            Load::Open { rates } => rates.len(),
            Load::Closed { users, .. } => users.len(),
        }
    }

    /// `"open"` or `"closed"`.
    pub fn mode(&self) -> &'static str {
        match self.load {
            Load::Open { .. } => "open",
            Load::Closed { .. } => "closed",
        }
    }

    /// Checks the test; the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.steps() == 0 {
            return Err("the step test has no steps".into());
        }
        if self.step_duration == 0 || self.warmup >= self.step_duration {
            return Err(format!(
                "the warm-up ({} s) must be shorter than a step ({} s)",
                to_secs_f64(self.warmup),
                to_secs_f64(self.step_duration)
            ));
        }
        match &self.load {
            Load::Open { rates } => {
                if let Some(r) = rates.iter().find(|r| !r.is_finite() || **r < 0.0) {
                    return Err(format!("offered rate {r} is not a finite rate >= 0"));
                }
            }
            Load::Closed { think, .. } => {
                if !think.mean().is_finite() || think.mean() < 0.0 {
                    return Err(format!("think time {} s is not a finite time >= 0", think.mean()));
                }
            }
        }
        Ok(())
    }
}

/// Rounds to three significant figures (plan rates read better).
fn round_sig(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    let m = 10f64.powi(2 - x.log10().floor() as i32);
    (x * m).round() / m
}

/// One step's figures, over its measured part (warm-up excluded).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRow {
    /// Step number, from 0.
    pub step: usize,
    /// Offered rate asked for (open loop), requests per second.
    pub target_rps: Option<f64>,
    /// Users (closed loop).
    pub users: Option<u32>,
    /// Requests that arrived per second.
    pub offered_rps: f64,
    /// Requests served per second.
    pub served_rps: f64,
    /// Failed requests as a fraction of the requests that ended (served + failed).
    pub failure_rate: f64,
    /// Failures by reason (`queue_full`, `timeout`, `no_replica`, `terminated`).
    pub failed: FailCounts,
    /// Mean latency of served requests, seconds.
    pub mean_s: Option<f64>,
    /// Median latency, seconds.
    pub p50_s: Option<f64>,
    /// 90th percentile latency, seconds.
    pub p90_s: Option<f64>,
    /// 95th percentile latency, seconds.
    pub p95_s: Option<f64>,
    /// 99th percentile latency, seconds.
    pub p99_s: Option<f64>,
    /// 99.9th percentile latency, seconds.
    pub p999_s: Option<f64>,
    /// Mean requests in the replica (in service or queued).
    pub in_flight_mean: f64,
    /// Mean CPU utilisation (fraction of the CPU request).
    pub cpu_utilization: Option<f64>,
}

/// The percentiles a [`CapacitySlo`] may bound (those every [`StepRow`] carries, and that a
/// Locust stats file has).
pub const SLO_PERCENTILES: [f64; 5] = [50.0, 90.0, 95.0, 99.0, 99.9];

impl StepRow {
    /// The latency at percentile `p` (one of [`SLO_PERCENTILES`]); `None` if `p` is not one
    /// of them or nothing was served.
    pub fn latency_at(&self, p: f64) -> Option<f64> {
        match p {
            _ if p == 50.0 => self.p50_s,
            _ if p == 90.0 => self.p90_s,
            _ if p == 95.0 => self.p95_s,
            _ if p == 99.0 => self.p99_s,
            _ if p == 99.9 => self.p999_s,
            _ => None,
        }
    }
}

/// What a step test measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepTestResult {
    /// `"open"` or `"closed"`.
    pub mode: String,
    /// Step length, seconds.
    pub step_s: f64,
    /// Warm-up excluded from each step, seconds.
    pub warmup_s: f64,
    /// The steps run, in order (the test stops after the first step where failures dominate).
    pub steps: Vec<StepRow>,
    /// Whether the stop rule ended the test before its last planned step.
    pub stopped_early: bool,
}

fn quantile(h: &LatencyHistogram, q: f64) -> Option<f64> {
    (!h.is_empty()).then(|| h.value_at_quantile(q) as f64 * 1e-6)
}

/// Runs `test` against one replica of `service` with `seed` (same seed, same result).
///
/// Panics if `test.check()` fails; check it first when it comes from user input.
pub fn run_step_test(service: &ServiceModel, test: &StepTest, seed: u64) -> StepTestResult {
    if let Err(e) = test.check() {
        panic!("invalid step test: {e}");
    }
    let n = test.steps();
    let d = test.step_duration;
    let horizon = d * n as u64;
    let (traffic, closed_loop) = match &test.load {
        Load::Open { rates } => {
            let points: Vec<(f64, f64)> =
                rates.iter().enumerate().map(|(i, &r)| (to_secs_f64(d * i as u64), r)).collect();
            (TrafficSpec::from_shape(Shape::Steps(Arc::from(points)), Process::Poisson, None), None)
        }
        Load::Closed { users, think } => {
            let schedule = users.iter().enumerate().map(|(i, &u)| (d * i as u64, u)).collect();
            (TrafficSpec::constant_poisson(0.0), Some(ClosedLoop { users: schedule, think: think.dist() }))
        }
    };
    // Interval boundaries: each step's warm-up end and step end; `measured[i]` is the interval
    // index of step i's measured part.
    let mut marks = Vec::with_capacity(2 * n);
    let mut measured = Vec::with_capacity(n);
    for i in 0..n as u64 {
        if test.warmup > 0 {
            marks.push(i * d + test.warmup);
        }
        measured.push(marks.len());
        marks.push((i + 1) * d);
    }
    let scenario = Scenario {
        name: "step-test".into(),
        duration: horizon,
        clock: Clock::utc_monday(horizon),
        seed,
        record_interval: d,
        warmup: 0,
        slo: None,
        traffic,
        service: service.clone(),
        balancer: BalancerKind::RoundRobin,
        cost: CostModel { per_replica_hour: 0.0, currency: "USD".into() },
        policies: vec![PolicySpec::fixed("one-replica", 1)],
    };
    let extras =
        Extras { closed_loop, record_marks: Some(marks), interval_histograms: true, ..Extras::default() };
    let (run, detail) = simulate_with(&scenario, &scenario.policies[0], seed, 0, None, &extras);
    let mut steps = Vec::with_capacity(n);
    let mut stopped_early = false;
    for (i, &j) in measured.iter().enumerate() {
        let row = &run.intervals[j];
        let h = &detail.interval_histograms[j];
        let len = row.end_s - row.start_s;
        let failed: u64 = row.failed_total();
        let ended = row.served + failed;
        let inflight =
            detail.interval_ends[j].inflight_integral - detail.interval_ends[j - 1].inflight_integral;
        let (target_rps, users) = match &test.load {
            Load::Open { rates } => (Some(rates[i]), None),
            Load::Closed { users, .. } => (None, Some(users[i])),
        };
        let step = StepRow {
            step: i,
            target_rps,
            users,
            offered_rps: row.arrived as f64 / len,
            served_rps: row.served as f64 / len,
            failure_rate: if ended == 0 { 0.0 } else { failed as f64 / ended as f64 },
            failed: row.failed,
            mean_s: row.latency_mean_s,
            p50_s: quantile(h, 0.5),
            p90_s: quantile(h, 0.9),
            p95_s: quantile(h, 0.95),
            p99_s: quantile(h, 0.99),
            p999_s: quantile(h, 0.999),
            in_flight_mean: inflight / len,
            cpu_utilization: row.cpu_utilization,
        };
        let dominated = step.failure_rate > test.stop_failure_rate;
        steps.push(step);
        if dominated {
            stopped_early = i + 1 < n;
            break;
        }
    }
    StepTestResult {
        mode: test.mode().into(),
        step_s: to_secs_f64(d),
        warmup_s: to_secs_f64(test.warmup),
        steps,
        stopped_early,
    }
}

/// The objective a replica's capacity is judged against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CapacitySlo {
    /// Latency bound: (percentile, one of [`SLO_PERCENTILES`]; bound in seconds).
    pub latency: Option<(f64, f64)>,
    /// Highest acceptable failure rate (0.01 for 1 %).
    pub max_error_rate: f64,
}

impl Default for CapacitySlo {
    /// p99 < 500 ms, at most 1 % errors.
    fn default() -> Self {
        CapacitySlo { latency: Some((99.0, 0.5)), max_error_rate: 0.01 }
    }
}

impl CapacitySlo {
    /// Parses a latency objective written `p99<500ms` (also `p95<0.2s`, `p99.9<1s`, spaces
    /// allowed): a percentile from [`SLO_PERCENTILES`] and a duration. Returns (percentile,
    /// seconds) or a message saying what was expected.
    pub fn parse_latency(text: &str) -> Result<(f64, f64), String> {
        let expected = "expected `pNN<DURATION` such as `p99<500ms` or `p95<1s`";
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let Some((p, bound)) = t.split_once('<') else {
            return Err(format!("`{text}`: no `<` found; {expected}"));
        };
        let Some(num) = p.strip_prefix('p').or_else(|| p.strip_prefix('P')) else {
            return Err(format!("`{text}`: `{p}` is not a percentile; {expected}"));
        };
        let pct: f64 = num.parse().map_err(|_| format!("`{text}`: `{p}` is not a percentile; {expected}"))?;
        if !SLO_PERCENTILES.contains(&pct) {
            return Err(format!(
                "`{text}`: percentile {pct} is not supported; use p50, p90, p95, p99 or p99.9"
            ));
        }
        let bound = bound.strip_prefix('=').unwrap_or(bound);
        let d = humantime::parse_duration(bound)
            .map_err(|e| format!("`{text}`: `{bound}` is not a duration ({e}); {expected}"))?;
        let s = d.as_secs_f64();
        if s <= 0.0 {
            return Err(format!("`{text}`: the latency bound must be above zero; {expected}"));
        }
        Ok((pct, s))
    }

    /// Parses an error-rate bound written `1%`, `0.5%` or as a fraction `0.01`.
    pub fn parse_error_rate(text: &str) -> Result<f64, String> {
        let t = text.trim();
        let v = match t.strip_suffix('%') {
            Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
            None => t.parse::<f64>(),
        }
        .map_err(|_| format!("`{text}` is not an error rate; expected a percentage such as `1%` or a fraction such as `0.01`"))?;
        if !(0.0..=1.0).contains(&v) {
            return Err(format!("`{text}`: an error rate must be between 0% and 100%"));
        }
        Ok(v)
    }

    /// Whether a step meets the objective.
    pub fn met_by(&self, row: &StepRow) -> bool {
        self.violation(row).is_none()
    }

    /// Why a step misses the objective, if it does.
    pub fn violation(&self, row: &StepRow) -> Option<String> {
        if row.failure_rate > self.max_error_rate {
            return Some(format!(
                "failure rate {:.2}% > {:.2}%",
                row.failure_rate * 100.0,
                self.max_error_rate * 100.0
            ));
        }
        if let Some((p, bound)) = self.latency {
            match row.latency_at(p) {
                None => return Some(format!("no p{p} latency (nothing served)")),
                Some(v) if v > bound => {
                    return Some(format!("p{p} {:.0} ms > {:.0} ms", v * 1000.0, bound * 1000.0));
                }
                _ => {}
            }
        }
        None
    }

    /// The objective as text, e.g. `p99 < 500 ms, errors <= 1%`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some((p, b)) = self.latency {
            parts.push(format!("p{p} < {} ms", fmt_num(b * 1000.0)));
        }
        parts.push(format!("errors <= {}%", fmt_num(self.max_error_rate * 100.0)));
        parts.join(", ")
    }
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The answers a step test gives.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityAnswer {
    /// The objective used.
    pub slo: CapacitySlo,
    /// The highest served rate (requests per second) at which the replica meets the objective,
    /// interpolated between the last step that meets it and the next (see [`capacity`]);
    /// `None` if even the first step misses it.
    pub max_rps_within_slo: Option<f64>,
    /// Whether a step beyond the capacity missed the objective (`false`: every step met it, so
    /// the capacity is at least `max_rps_within_slo` — extend the test).
    pub bounded: bool,
    /// Saturation throughput: the mean served rate of the overloaded steps (offered above 1.05 ×
    /// served: the replica cannot keep up); with none (closed loop, or a test that stops short),
    /// of the plateau steps within 3 % of the highest served rate. Either damps the upward bias
    /// of a maximum over noisy steps.
    pub saturation_rps: f64,
    /// Mean requests in the replica at the capacity (interpolated like the rate).
    pub concurrency_at_capacity: Option<f64>,
    /// CPU utilisation at the capacity (interpolated like the rate): a natural `cpu` target.
    pub cpu_utilization_at_capacity: Option<f64>,
    /// The last step meeting the objective (from 0), if any.
    pub last_step_within_slo: Option<usize>,
    /// Why the first step beyond it misses the objective.
    pub limited_by: Option<String>,
}

fn lerp(a: f64, b: f64, f: f64) -> f64 {
    a + (b - a) * f
}

fn lerp_opt(a: Option<f64>, b: Option<f64>, f: f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(lerp(a, b, f)),
        (a, _) => a,
    }
}

/// Reads the answers off a step test.
///
/// The capacity is found from the bottom up: step `k` is the last of an unbroken run of steps,
/// from the first, that meet `slo`. If step `k + 1` exists (and misses it), the capacity lies
/// between them: for each criterion step `k + 1` misses, the fraction `f` of the way from step
/// `k` to `k + 1` at which it crosses its bound — linearly for the failure rate, linearly in
/// log(latency) for the latency (latency grows roughly geometrically towards saturation) — and
/// the smallest `f` wins. The served rate, the in-flight mean and the CPU utilisation are then
/// interpolated linearly by `f` between the two steps. With every step meeting the objective the
/// answer is the last step's (and `bounded` is false); with none, `None`.
pub fn capacity(result: &StepTestResult, slo: &CapacitySlo) -> CapacityAnswer {
    let steps = &result.steps;
    let overloaded: Vec<f64> =
        steps.iter().filter(|s| s.offered_rps > 1.05 * s.served_rps).map(|s| s.served_rps).collect();
    let peak = steps.iter().map(|s| s.served_rps).fold(0.0, f64::max);
    let plateau: Vec<f64> = if overloaded.is_empty() {
        steps.iter().map(|s| s.served_rps).filter(|&r| r >= 0.97 * peak).collect()
    } else {
        overloaded
    };
    let saturation_rps =
        if plateau.is_empty() { 0.0 } else { plateau.iter().sum::<f64>() / plateau.len() as f64 };
    let k = steps.iter().position(|s| !slo.met_by(s)).map_or(steps.len(), |i| i);
    let mut answer = CapacityAnswer {
        slo: *slo,
        max_rps_within_slo: None,
        bounded: k < steps.len(),
        saturation_rps,
        concurrency_at_capacity: None,
        cpu_utilization_at_capacity: None,
        last_step_within_slo: k.checked_sub(1),
        limited_by: steps.get(k).and_then(|s| slo.violation(s)),
    };
    if k == 0 {
        return answer;
    }
    let a = &steps[k - 1];
    let f = match steps.get(k) {
        None => 0.0,
        Some(b) => {
            let mut f: f64 = 1.0;
            if b.failure_rate > slo.max_error_rate && b.failure_rate > a.failure_rate {
                f = f.min((slo.max_error_rate - a.failure_rate) / (b.failure_rate - a.failure_rate));
            }
            if let Some((p, bound)) = slo.latency {
                match (a.latency_at(p), b.latency_at(p)) {
                    (Some(la), Some(lb)) if lb > bound && lb > la && la > 0.0 => {
                        f = f.min((bound.ln() - la.ln()) / (lb.ln() - la.ln()));
                    }
                    (_, None) => f = 0.0,
                    _ => {}
                }
            }
            f.clamp(0.0, 1.0)
        }
    };
    let b = steps.get(k).unwrap_or(a);
    answer.max_rps_within_slo = Some(lerp(a.served_rps, b.served_rps, f));
    answer.concurrency_at_capacity = Some(lerp(a.in_flight_mean, b.in_flight_mean, f));
    answer.cpu_utilization_at_capacity = lerp_opt(a.cpu_utilization, b.cpu_utilization, f);
    answer
}

/// Seconds as a [`Time`] (re-exported for callers building tests from user input).
pub fn secs(s: f64) -> Time {
    from_secs_f64(s)
}

#[cfg(test)]
mod tests;
