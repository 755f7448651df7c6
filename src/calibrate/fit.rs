//! Fitting the replica model to measured steps: a small deterministic search whose every
//! candidate is judged by simulating the step test.
//!
//! The model: `workers`, a log-normal demand (mean and sigma), a queue limit (unbounded unless
//! the test saw failures), and a slowdown curve `[[1, 1.0], [workers, f]]` only when it pays.
//!
//! **Starting point.** The least-loaded step gives the service-time distribution: its median is
//! the log-normal's median and `ln(p95/p50)/1.645` its sigma. The highest throughput measured,
//! times the mean demand, gives the workers (Little's law on a saturated replica). With
//! failures, the queue limit is the saturated throughput times the extra median wait of the
//! most-failing step (a full FIFO queue of q makes every admitted request wait q / X).
//!
//! **Objective.** Each fitted step (not held back by the load generator) is simulated open-loop
//! at its measured arrival rate (Poisson, one replica, fixed seeds, so every candidate sees the
//! same arrivals and demands); the objective is the mean over steps of
//! `ln(X̂/X)² + ln(p̂50/p50)² + ½·ln(p̂95/p95)² + 4·(f̂ − f)²` — relative errors of served
//! throughput and latency, absolute error of the failure fraction.
//!
//! **Search.** Coordinate descent from the starting point: workers ± 1 (alone, and with the mean
//! scaled to keep workers/mean), mean and sigma × (1 ± s), queue limit ± max(1, q·s), slowdown
//! factor ± s, for s = 16 %, 8 %, 4 %, 2 %, 1 %; a move is taken when it lowers the objective.
//! Then the same from a start with a slowdown factor of 1.3; the slowdown is kept only if it
//! lowers the objective by a fifth, so data that does not need one does not get one.
//!
//! The simulation of a step is [`simulate_step`]: a one-step open-loop
//! [`crate::capacity::run_step_test`] (the same step test `scalesim capacity` runs). Open loop at
//! the *measured* arrival rate needs no model of how Locust's users wait, so it works whatever
//! their `wait_time`; the price is near the knee, where closed-loop users back off and Poisson
//! arrivals do not (slightly more simulated failures there).

use super::steps::{MeasuredStep, Steps};
use crate::capacity::{CapacitySlo, StepTest, capacity, run_step_test, secs};
use crate::dist::Dist;
use crate::service::{CpuModel, Curve, Demand, MemoryModel, ServiceModel};
use crate::time::SECOND;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// Base seed of every fitting simulation.
pub const FIT_SEED: u64 = 20_240_401;
/// z of the 95th percentile of a standard normal.
const Z95: f64 = 1.644_853_626_951_472_2;

/// One step as simulated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SimulatedStep {
    /// Offered (arrival) rate, requests per second.
    pub offered_rps: f64,
    /// Served requests per second.
    pub served_rps: f64,
    /// Failed fraction of arrivals.
    pub failure_rate: f64,
    /// Median latency of served requests, seconds.
    pub p50_s: Option<f64>,
    /// 95th percentile latency of served requests, seconds.
    pub p95_s: Option<f64>,
}

/// Seconds simulated before each step's measured part (the queue fills).
pub const WARMUP_S: f64 = 10.0;

/// Simulates one replica of `service` under open-loop Poisson traffic at `rate` for `seconds`
/// (after a [`WARMUP_S`] warm-up): a one-step [`crate::capacity`] step test.
pub fn simulate_step(service: &ServiceModel, rate: f64, seconds: f64, seed: u64) -> SimulatedStep {
    let test = StepTest::open(vec![rate]).with_durations(secs(seconds + WARMUP_S), secs(WARMUP_S));
    let result = run_step_test(service, &test, seed);
    let row = &result.steps[0];
    SimulatedStep {
        offered_rps: row.offered_rps,
        served_rps: row.served_rps,
        failure_rate: row.failure_rate,
        p50_s: row.p50_s,
        p95_s: row.p95_s,
    }
}

/// Simulated seconds for a step at `rate`: enough for about 6000 requests, 60 s to 300 s.
pub fn step_seconds(rate: f64) -> f64 {
    (6000.0 / rate.max(1e-9)).clamp(60.0, 300.0)
}

/// The fitted parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    /// Requests served at once.
    pub workers: u32,
    /// Mean demand, seconds.
    pub mean_s: f64,
    /// Sigma of the log-normal demand.
    pub sigma: f64,
    /// Queue limit; `None` is unbounded.
    pub queue_limit: Option<u32>,
    /// Slowdown factor with all workers busy (linear from 1 with one busy); `None` for none.
    pub slowdown: Option<f64>,
}

impl Params {
    /// The replica model (timeout none, startup, grace and CPU at their defaults: a step test
    /// does not measure them).
    pub fn service(&self) -> ServiceModel {
        ServiceModel {
            workers: self.workers,
            queue_limit: self.queue_limit,
            timeout: None,
            demand: Demand::Dist(Dist::lognormal_mean_sigma(self.mean_s, self.sigma)),
            slowdown: self.slowdown_points().and_then(Curve::new),
            startup: Dist::Deterministic { value: 30.0 },
            pending: None,
            grace: 30 * SECOND,
            cpu: CpuModel::default(),
            memory: MemoryModel::default(),
        }
    }

    /// The slowdown curve's points, if any.
    pub fn slowdown_points(&self) -> Option<Vec<(f64, f64)>> {
        self.slowdown.map(|f| {
            if self.workers > 1 { vec![(1.0, 1.0), (self.workers as f64, f)] } else { vec![(1.0, f)] }
        })
    }

    fn key(&self) -> ParamsKey {
        (
            self.workers,
            self.mean_s.to_bits(),
            self.sigma.to_bits(),
            self.queue_limit,
            self.slowdown.map(f64::to_bits),
        )
    }
}

/// [`Params`] as a hashable key (floats by their bits).
type ParamsKey = (u32, u64, u64, Option<u32>, Option<u64>);

/// One step: measured against simulated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepComparison {
    /// The measured step.
    pub measured: MeasuredStep,
    /// The fitted model's simulation of it (at the measured arrival rate).
    pub simulated: SimulatedStep,
    /// Whether the step counted in the objective.
    pub fitted: bool,
}

/// The result of a fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    /// The parameters.
    pub params: Params,
    /// Objective at the optimum (see the module notes).
    pub objective: f64,
    /// Objective of the best fit without a slowdown curve.
    pub objective_without_slowdown: f64,
    /// Objective of the best fit with one, when it was tried (only past saturation).
    pub objective_with_slowdown: Option<f64>,
    /// Simulations run (steps × candidates).
    pub simulations: u64,
    /// Per-step comparison, every step.
    pub steps: Vec<StepComparison>,
    /// Highest measured throughput of a fitted step, requests per second.
    pub measured_saturation_rps: f64,
    /// Whether the test pushed the replica past saturation (latency at least doubled or
    /// failures); otherwise `workers` is only a lower bound.
    pub saturated: bool,
    /// The model's saturation throughput (simulated at well above it), requests per second.
    pub model_saturation_rps: f64,
}

fn log_err(sim: Option<f64>, meas: f64) -> f64 {
    match sim {
        Some(s) if s > 0.0 && meas > 0.0 => (s / meas).ln().powi(2),
        _ => 1.0,
    }
}

/// The per-step objective term.
fn step_error(m: &MeasuredStep, s: &SimulatedStep) -> f64 {
    let lat = m.latency.expect("fitted steps have latency");
    log_err(Some(s.served_rps), m.served_rps)
        + log_err(s.p50_s, lat.p50_s)
        + 0.5 * log_err(s.p95_s, lat.p95_s)
        + 4.0 * (s.failure_rate - m.failure_rate).powi(2)
}

struct Evaluator<'a> {
    targets: Vec<(usize, &'a MeasuredStep)>,
    cache: HashMap<ParamsKey, f64>,
    simulations: u64,
}

impl Evaluator<'_> {
    fn objective(&mut self, p: &Params) -> f64 {
        if let Some(&v) = self.cache.get(&p.key()) {
            return v;
        }
        let service = p.service();
        let sims: Vec<SimulatedStep> = self
            .targets
            .par_iter()
            .map(|(k, m)| {
                simulate_step(&service, m.arrival_rps, step_seconds(m.arrival_rps), FIT_SEED + *k as u64)
            })
            .collect();
        self.simulations += sims.len() as u64;
        let v = self.targets.iter().zip(&sims).map(|((_, m), s)| step_error(m, s)).sum::<f64>()
            / self.targets.len() as f64;
        self.cache.insert(p.key(), v);
        v
    }

    /// Coordinate descent from `start`; returns the best parameters and their objective.
    fn descend(&mut self, start: Params) -> (Params, f64) {
        let mut best = start;
        let mut best_v = self.objective(&best);
        for s in [0.16, 0.08, 0.04, 0.02, 0.01] {
            for _ in 0..12 {
                let mut improved = false;
                for cand in neighbours(&best, s) {
                    let v = self.objective(&cand);
                    if v < best_v - 1e-12 {
                        best = cand;
                        best_v = v;
                        improved = true;
                    }
                }
                if !improved {
                    break;
                }
            }
        }
        (best, best_v)
    }
}

fn neighbours(p: &Params, s: f64) -> Vec<Params> {
    let mut out = Vec::new();
    for dw in [-1i64, 1] {
        let w = p.workers as i64 + dw;
        if (1..=100_000).contains(&w) {
            out.push(Params { workers: w as u32, ..*p });
            out.push(Params { workers: w as u32, mean_s: p.mean_s * w as f64 / p.workers as f64, ..*p });
        }
    }
    for f in [1.0 - s, 1.0 + s] {
        out.push(Params { mean_s: p.mean_s * f, ..*p });
        let sigma = (p.sigma * f).clamp(0.01, 3.0);
        out.push(Params { sigma, ..*p });
        if let Some(k) = p.slowdown {
            out.push(Params { slowdown: Some((1.0 + (k - 1.0) * f).max(1.0)), ..*p });
            out.push(Params { slowdown: Some((k * f).max(1.0)), ..*p });
        }
    }
    if let Some(q) = p.queue_limit {
        let d = ((q as f64 * s).round() as u32).max(1);
        out.push(Params { queue_limit: Some(q + d), ..*p });
        if q >= d {
            out.push(Params { queue_limit: Some(q - d), ..*p });
        }
    }
    out
}

/// Fits the replica model to `steps`.
pub fn fit(steps: &Steps) -> Option<Fit> {
    let targets: Vec<(usize, &MeasuredStep)> = steps
        .steps
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.generator_bound && m.latency.is_some() && m.served_rps > 0.0)
        .collect();
    if targets.len() < 2 {
        return None;
    }
    let low = targets.iter().map(|t| t.1).min_by(|a, b| a.arrival_rps.total_cmp(&b.arrival_rps))?;
    let low_lat = low.latency?;
    let sigma0 = ((low_lat.p95_s / low_lat.p50_s).ln() / Z95).clamp(0.05, 2.5);
    let mean0 = low_lat.p50_s * (sigma0 * sigma0 / 2.0).exp();
    let top = targets.iter().map(|t| t.1).max_by(|a, b| a.served_rps.total_cmp(&b.served_rps))?;
    let x_sat = top.served_rps;
    let most_failing =
        targets.iter().map(|t| t.1).max_by(|a, b| a.failure_rate.total_cmp(&b.failure_rate))?;
    let saturated = most_failing.failure_rate > 0.01
        || targets.iter().any(|t| t.1.latency.is_some_and(|l| l.p50_s > 2.0 * low_lat.p50_s));
    let workers0 = ((x_sat * mean0).round() as u32).max(1);
    let queue0 = (most_failing.failure_rate > 0.005).then(|| {
        let wait = most_failing.latency.map_or(0.0, |l| (l.p50_s - low_lat.p50_s).max(0.0));
        (x_sat * wait).round() as u32
    });
    let start =
        Params { workers: workers0, mean_s: mean0, sigma: sigma0, queue_limit: queue0, slowdown: None };
    let mut ev = Evaluator { targets, cache: HashMap::new(), simulations: 0 };
    let (base, base_v) = ev.descend(start);
    let (slow, slow_v) = if saturated {
        let w = ((base.workers as f64 * 1.3).round() as u32).max(1);
        ev.descend(Params { workers: w, slowdown: Some(1.3), ..base })
    } else {
        (base, f64::INFINITY)
    };
    let (params, objective) = if slow_v < 0.8 * base_v { (slow, slow_v) } else { (base, base_v) };
    let service = params.service();
    let comparisons = steps
        .steps
        .par_iter()
        .enumerate()
        .map(|(k, m)| {
            let simulated =
                simulate_step(&service, m.arrival_rps, step_seconds(m.arrival_rps), FIT_SEED + k as u64);
            let fitted = ev.targets.iter().any(|t| t.0 == k);
            StepComparison { measured: m.clone(), simulated, fitted }
        })
        .collect();
    let model_saturation_rps = model_saturation(&service, FIT_SEED);
    Some(Fit {
        params,
        objective,
        objective_without_slowdown: base_v,
        objective_with_slowdown: saturated.then_some(slow_v),
        simulations: ev.simulations,
        steps: comparisons,
        measured_saturation_rps: x_sat,
        saturated,
        model_saturation_rps,
    })
}

/// The saturation throughput of one replica of `service`, as `scalesim capacity` reports it:
/// its default open-loop step test (10 % to 150 % of workers / mean demand).
pub fn model_saturation(service: &ServiceModel, seed: u64) -> f64 {
    let test = StepTest::for_service(service, None);
    capacity(&run_step_test(service, &test, seed), &CapacitySlo::default()).saturation_rps
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Steps measured on a known model (simulated with other seeds) are fitted back.
    #[test]
    fn recovers_a_known_model() {
        let truth = Params { workers: 4, mean_s: 0.05, sigma: 0.5, queue_limit: Some(16), slowdown: None };
        let steps =
            super::detection_tests::measured(&truth, &[15.0, 30.0, 45.0, 60.0, 72.0, 85.0, 110.0, 140.0]);
        let f = fit(&steps).unwrap();
        assert_eq!(f.params.workers, 4, "{:?}", f.params);
        assert!((f.params.mean_s / 0.05 - 1.0).abs() < 0.05, "{:?}", f.params);
        assert!((f.params.sigma - 0.5).abs() < 0.1, "{:?}", f.params);
        assert!(f.params.queue_limit.is_some_and(|q| (12..=20).contains(&q)), "{:?}", f.params);
        assert_eq!(f.params.slowdown, None);
        assert!(f.saturated);
        assert!((f.model_saturation_rps / 80.0 - 1.0).abs() < 0.05, "{}", f.model_saturation_rps);
    }
}

/// Fits to steps simulated from models with and without what the search must detect.
#[cfg(test)]
mod detection_tests {
    use super::*;
    use crate::calibrate::locust::PercentileMode;
    use crate::calibrate::steps::Percentiles;

    /// Steps "measured" by simulating `truth` at each arrival rate (seed 99, 200 s each).
    pub(super) fn measured(truth: &Params, rates: &[f64]) -> Steps {
        let service = truth.service();
        let steps = rates
            .iter()
            .map(|&rate| {
                let s = simulate_step(&service, rate, 200.0, 99);
                MeasuredStep {
                    users: rate as u32,
                    lines: (0, 0),
                    duration_s: 200.0,
                    kept_s: 200.0,
                    arrival_rps: rate,
                    served_rps: s.served_rps,
                    failure_rate: s.failure_rate,
                    mean_s: None,
                    latency: Some(Percentiles { p50_s: s.p50_s.unwrap(), p95_s: s.p95_s.unwrap() }),
                    expected_rps: None,
                    generator_bound: false,
                }
            })
            .collect();
        Steps { mode: PercentileMode::Window, ramp_s: 0.0, think_s: None, steps, skipped: Vec::new() }
    }

    #[test]
    fn a_replica_that_slows_under_load_gets_a_slowdown_curve() {
        // 8 workers of 40 ms that take twice as long when all are busy: 100 rps, not 200.
        let truth =
            Params { workers: 8, mean_s: 0.04, sigma: 0.4, queue_limit: Some(30), slowdown: Some(2.0) };
        let f = fit(&measured(&truth, &[10.0, 25.0, 40.0, 55.0, 70.0, 85.0, 100.0, 130.0, 160.0])).unwrap();
        assert!(f.params.slowdown.is_some_and(|k| k > 1.1), "{:?}", f.params);
        assert!(f.objective < 0.8 * f.objective_without_slowdown);
        assert!((f.model_saturation_rps / 100.0 - 1.0).abs() < 0.05, "{}", f.model_saturation_rps);
    }

    #[test]
    fn a_test_that_never_saturates_says_so() {
        let truth = Params { workers: 4, mean_s: 0.05, sigma: 0.5, queue_limit: None, slowdown: None };
        let f = fit(&measured(&truth, &[10.0, 20.0, 30.0, 40.0, 50.0])).unwrap();
        assert!(!f.saturated);
        assert_eq!((f.params.queue_limit, f.params.slowdown, f.objective_with_slowdown), (None, None, None));
        assert!((f.params.mean_s / 0.05 - 1.0).abs() < 0.1, "{:?}", f.params);
    }
}
