//! One replica's capacity as one figure: the mean of several step tests with its uncertainty.
//!
//! A single step test is one random draw: across seeds 1–8 the quickstart's service gives
//! 12.9–15.4 req/s within its SLO (±9 %). [`estimate`] runs the same test with seeds
//! [`SEEDS`] (1–8) in parallel (rayon; results in seed order, so the figure does not depend on
//! the thread count) and reports the mean, the sample standard deviation and the 95 %
//! confidence interval of the mean (Student's t with n − 1 degrees of freedom).
//! [`replica_capacity`] is *the* capacity of a scenario — the open-loop test
//! [`StepTest::for_service`] judged against [`crate::oracle::capacity_slo`] of the scenario's
//! SLO — that `validate`, `capacity`, `recommend`, `run` (summary.json, the charts, the report)
//! and the oracle all use.
//!
//! Results are memoised in-process, keyed by what determines them (the service model, the test
//! and the objective, through their `Debug` text), so a command computes each estimate once
//! however many places show it. No I/O.

use super::{CapacityAnswer, CapacitySlo, StepTest, StepTestResult, capacity, run_step_test};
use crate::memo::Memo;
use crate::service::ServiceModel;
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;

/// The seeds of the step tests behind one estimate.
pub const SEEDS: [u64; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

/// Student's t quantile t(0.975; 7): the 95 % two-sided interval of a mean of 8 values.
const T975_DF7: f64 = 2.364_624_251_592_785;

/// Two-sided 95 % quantile of Student's t with `df` degrees of freedom (tabulated to 30, the
/// normal's 1.96 beyond).
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, T975_DF7, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
        2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        d if d <= 30 => T[d - 1],
        _ => 1.96,
    }
}

/// The capacity of one replica from [`SEEDS`]`.len()` step tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityEstimate {
    /// The objective the tests were judged against.
    pub objective: CapacitySlo,
    /// `"open"` or `"closed"`.
    pub mode: String,
    /// The seed of each test, in order.
    pub seeds: Vec<u64>,
    /// Each test's highest rate within the objective, requests per second (seed order); 0 for
    /// a test whose lowest step already misses it.
    pub per_seed_rps: Vec<f64>,
    /// The seeds whose test missed the objective even at its lowest step (counted as 0).
    pub missed_seeds: Vec<u64>,
    /// Their mean: *the* replica capacity.
    pub mean_rps: f64,
    /// Their sample standard deviation.
    pub sd_rps: f64,
    /// 95 % confidence interval of the mean (t distribution, n − 1 degrees of freedom).
    pub ci95_rps: (f64, f64),
    /// Mean saturation throughput of the tests (the most a replica serves, SLO or not).
    pub saturation_rps: f64,
    /// Mean requests in the replica at the capacity (when every test has one).
    pub concurrency_at_capacity: Option<f64>,
    /// Mean CPU utilisation at the capacity (when every test has one).
    pub cpu_utilization_at_capacity: Option<f64>,
    /// Whether every test had a step beyond its capacity (else some only give a lower bound).
    pub bounded: bool,
    /// Each test and its answers, in seed order.
    #[serde(skip)]
    pub tests: Vec<(StepTestResult, CapacityAnswer)>,
}

impl CapacityEstimate {
    /// The capacity (the mean), or why there is none: some test missed the objective even at
    /// its lowest step (a mean with such draws in it would not be a rate the replica was shown
    /// to serve within the objective).
    pub fn within(&self) -> Result<f64, EstimateError> {
        if self.missed_seeds.is_empty() && self.mean_rps > 0.0 {
            return Ok(self.mean_rps);
        }
        let seeds = self.missed_seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        Err(EstimateError::NoCapacity { slo: self.objective.describe(), seeds })
    }

    /// How the figure was found, e.g. `mean of 8 open-loop step tests (seeds 1–8), p99 < 500 ms,
    /// errors <= 1%`.
    pub fn method(&self) -> String {
        let seeds = match (self.seeds.first(), self.seeds.last()) {
            (Some(a), Some(b)) if self.seeds.len() > 1 => format!("seeds {a}–{b}"),
            (Some(a), _) => format!("seed {a}"),
            _ => "no seeds".into(),
        };
        let missed = match self.missed_seeds.as_slice() {
            [] => String::new(),
            m => format!(
                "; {} missed it even at the lowest step, counted as 0",
                m.iter().map(|s| format!("seed {s}")).collect::<Vec<_>>().join(", ")
            ),
        };
        format!(
            "mean of {} {}-loop step tests ({seeds}), {}{missed}",
            self.seeds.len(),
            self.mode,
            self.objective.describe()
        )
    }

    /// `13.48 ± 0.82 req/s (95 % CI 12.79–14.17)`, hyperfine-style.
    pub fn describe(&self) -> String {
        format!(
            "{:.2} ± {:.2} req/s (95 % CI {:.2}–{:.2})",
            self.mean_rps, self.sd_rps, self.ci95_rps.0, self.ci95_rps.1
        )
    }
}

/// Why there is no estimate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EstimateError {
    /// A test found no load at which one replica meets the objective.
    #[error(
        "one replica misses the objective ({slo}) even at the lowest load of the step test with seed {seeds}"
    )]
    NoCapacity {
        /// The objective, as text.
        slo: String,
        /// The seeds whose test missed it, as text (`2, 5`).
        seeds: String,
    },
}

/// Mean, sample standard deviation and 95 % interval of the mean of `xs` (at least one value).
pub fn mean_sd_ci(xs: &[f64]) -> (f64, f64, (f64, f64)) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0, (mean, mean));
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let sd = var.sqrt();
    let half = t975(xs.len() - 1) * sd / n.sqrt();
    (mean, sd, (mean - half, mean + half))
}

/// The estimate of `service`'s capacity from `test` run with every seed of [`SEEDS`], judged
/// against `objective` (memoised: the same inputs are computed once per process). When every
/// test misses the objective at its lowest step the mean is 0: see [`CapacityEstimate::within`].
///
/// Panics if `test.check()` fails; check it first when it comes from user input.
pub fn estimate(service: &ServiceModel, test: &StepTest, objective: &CapacitySlo) -> Arc<CapacityEstimate> {
    static MEMO: Memo<Arc<CapacityEstimate>> = Memo::new();
    MEMO.get_or(format_args!("{service:?}|{test:?}|{objective:?}"), || {
        Arc::new(compute(service, test, objective))
    })
}

fn compute(service: &ServiceModel, test: &StepTest, objective: &CapacitySlo) -> CapacityEstimate {
    // Seed order whatever the scheduling: `collect` on an indexed parallel iterator keeps it.
    let tests: Vec<(StepTestResult, CapacityAnswer)> = SEEDS
        .par_iter()
        .map(|&seed| {
            let result = run_step_test(service, test, seed);
            let answer = capacity(&result, objective);
            (result, answer)
        })
        .collect();
    // A test whose lowest step already misses the objective shows no rate within it: it counts
    // as 0 (its capacity lies below the lowest step; 0 is the bound it proves) and is named.
    let mut per_seed = Vec::with_capacity(SEEDS.len());
    let mut missed = Vec::new();
    for (seed, (_, a)) in SEEDS.iter().zip(&tests) {
        match a.max_rps_within_slo.filter(|c| c.is_finite() && *c > 0.0) {
            Some(c) => per_seed.push(c),
            None => {
                per_seed.push(0.0);
                missed.push(*seed);
            }
        }
    }
    let (mean, sd, ci) = mean_sd_ci(&per_seed);
    let all = |f: fn(&CapacityAnswer) -> Option<f64>| -> Option<f64> {
        let v: Option<Vec<f64>> = tests.iter().map(|(_, a)| f(a)).collect();
        v.map(|v| v.iter().sum::<f64>() / v.len() as f64)
    };
    CapacityEstimate {
        objective: *objective,
        mode: test.mode().into(),
        seeds: SEEDS.to_vec(),
        per_seed_rps: per_seed,
        mean_rps: mean,
        sd_rps: sd,
        ci95_rps: ci,
        saturation_rps: tests.iter().map(|(_, a)| a.saturation_rps).sum::<f64>() / tests.len() as f64,
        concurrency_at_capacity: all(|a| a.concurrency_at_capacity),
        cpu_utilization_at_capacity: all(|a| a.cpu_utilization_at_capacity),
        bounded: tests.iter().all(|(_, a)| a.bounded),
        missed_seeds: missed,
        tests,
    }
}

/// The replica capacity of a service under a scenario's SLO: [`estimate`] of the open-loop
/// [`StepTest::for_service`] against `objective` (for a scenario,
/// [`crate::oracle::capacity_slo`] of its SLO).
pub fn replica_capacity(service: &ServiceModel, objective: &CapacitySlo) -> Arc<CapacityEstimate> {
    estimate(service, &StepTest::for_service(service, None), objective)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dist::Dist;
    use crate::service::{CpuModel, Demand, MemoryModel};
    use crate::time::SECOND;

    fn service() -> ServiceModel {
        ServiceModel {
            workers: 2,
            queue_limit: Some(50),
            timeout: Some(10 * SECOND),
            demand: Demand::Dist(Dist::lognormal_mean_p99(0.1, 0.3).unwrap()),
            slowdown: None,
            overhead: None,
            startup: Dist::Deterministic { value: 30.0 },
            pending: None,
            grace: 30 * SECOND,
            cpu: CpuModel::default(),
            memory: MemoryModel::default(),
            llm: None,
        }
    }

    #[test]
    fn eight_seeds_give_a_mean_inside_its_interval_and_each_is_a_step_test() {
        let svc = service();
        let slo = CapacitySlo::default();
        let e = replica_capacity(&svc, &slo);
        assert_eq!(e.seeds, SEEDS.to_vec());
        assert_eq!(e.per_seed_rps.len(), 8);
        assert!(e.ci95_rps.0 < e.mean_rps && e.mean_rps < e.ci95_rps.1, "{e:?}");
        assert!(e.sd_rps > 0.0);
        assert!(e.missed_seeds.is_empty(), "{e:?}");
        // Each per-seed value is exactly what one step test with that seed gives.
        let test = StepTest::for_service(&svc, None);
        for (i, &seed) in SEEDS.iter().enumerate() {
            let one = capacity(&run_step_test(&svc, &test, seed), &slo).max_rps_within_slo.unwrap();
            assert_eq!(e.per_seed_rps[i], one, "seed {seed}");
        }
        let (lo, hi) = e.ci95_rps;
        let half = T975_DF7 * e.sd_rps / 8f64.sqrt();
        assert!((hi - lo - 2.0 * half).abs() < 1e-9);
        // Memoised: the same object's figures, the same bytes.
        assert_eq!(*replica_capacity(&svc, &slo), *e);
        assert!(
            e.method().starts_with("mean of 8 open-loop step tests (seeds 1–8), p99 < 500 ms"),
            "{}",
            e.method()
        );
    }

    #[test]
    fn mean_sd_and_interval_by_hand() {
        let (m, sd, (lo, hi)) = mean_sd_ci(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
        assert_eq!(m, 4.5);
        assert!((sd - 2.449_489_742_783_178).abs() < 1e-12);
        assert!((hi - 4.5 - 2.364_624_251_592_785 * sd / 8f64.sqrt()).abs() < 1e-12);
        assert!((4.5 - lo - (hi - 4.5)).abs() < 1e-12);
        assert_eq!(mean_sd_ci(&[3.0]), (3.0, 0.0, (3.0, 3.0)));
    }

    #[test]
    fn an_objective_no_step_meets_is_an_error() {
        let svc = service();
        let slo = CapacitySlo { latency: Some((99.0, 1e-6)), max_error_rate: 0.01 };
        let e = replica_capacity(&svc, &slo);
        assert_eq!(e.missed_seeds, SEEDS.to_vec());
        assert_eq!(e.per_seed_rps, vec![0.0; 8]);
        let err = e.within().unwrap_err().to_string();
        assert!(err.contains("with seed 1, 2, 3, 4, 5, 6, 7, 8"), "{err}");
    }
}
