//! Replication statistics: means and 95 % confidence intervals over replications.
//!
//! When a scenario runs with `--seeds N`, every policy gets N independent replications. This
//! module owns the arithmetic that turns N [`RunSummary`]s into one estimate per figure: the
//! sample mean and a Student-t confidence interval with N − 1 degrees of freedom. It is pure
//! (no I/O, no formatting) so the report layer and tests share one definition.

use super::{FailReason, RunResult, RunSummary};

/// How many per-policy figures there are.
pub const N_FIGURES: usize = 26;

/// Names of the per-policy figures, in the order reports list them. The last seven compare a
/// run with the oracle baseline and are undefined (`None`) without one.
pub const FIGURES: [&str; N_FIGURES] = [
    "requests",
    "served",
    "failed",
    "failed_pct",
    "failed_queue_full",
    "failed_timeout",
    "failed_no_replica",
    "failed_terminated",
    "latency_mean_s",
    "latency_p50_s",
    "latency_p95_s",
    "latency_p99_s",
    "slo_violation_minutes",
    "time_at_max_minutes",
    "replica_seconds",
    "replica_hours",
    "cost",
    "scaling_actions",
    "peak_replicas",
    "cost_above_oracle_pct",
    "elasticity_theta_under_pct",
    "elasticity_theta_over_pct",
    "elasticity_tau_under_pct",
    "elasticity_tau_over_pct",
    "elasticity_instability_pct",
    "elasticity_jitter_per_h",
];

/// The value of every figure in [`FIGURES`] for one run (`None` when undefined, e.g. latency
/// with no request served).
pub fn figure_values(s: &RunSummary) -> [Option<f64>; N_FIGURES] {
    let r = |reason: FailReason| Some(s.failed_by_reason[reason as usize] as f64);
    let e = s.elasticity.as_ref();
    [
        Some(s.requests as f64),
        Some(s.served as f64),
        Some(s.failed as f64),
        Some(s.failed_pct()),
        r(FailReason::QueueFull),
        r(FailReason::Timeout),
        r(FailReason::NoReplica),
        r(FailReason::Terminated),
        s.latency_mean_s,
        s.latency_p50_s,
        s.latency_p95_s,
        s.latency_p99_s,
        Some(s.slo_violation_minutes),
        s.time_at_max_minutes,
        Some(s.replica_seconds),
        Some(s.replica_seconds / 3600.0),
        Some(s.cost),
        Some(s.scaling_actions as f64),
        Some(s.peak_replicas as f64),
        s.cost_above_oracle_pct,
        e.map(|e| e.theta_under_pct),
        e.map(|e| e.theta_over_pct),
        e.map(|e| e.tau_under_pct),
        e.map(|e| e.tau_over_pct),
        e.map(|e| e.instability_pct),
        e.map(|e| e.jitter_per_h),
    ]
}

/// A mean with its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Sample mean; `None` when no replication defined the figure.
    pub mean: Option<f64>,
    /// Lower end of the 95 % confidence interval; `None` when fewer than two values.
    pub ci95_low: Option<f64>,
    /// Upper end of the 95 % confidence interval; `None` when fewer than two values.
    pub ci95_high: Option<f64>,
    /// Number of values the estimate is based on.
    pub n: usize,
}

impl Estimate {
    /// Half-width of the confidence interval, when there is one.
    pub fn half_width(&self) -> Option<f64> {
        match (self.ci95_low, self.ci95_high) {
            (Some(l), Some(h)) => Some((h - l) / 2.0),
            _ => None,
        }
    }
}

/// Mean and two-sided 95 % Student-t confidence interval of `values`.
///
/// With one value the interval is undefined (`None`); with none the mean is too.
pub fn mean_ci95(values: &[f64]) -> Estimate {
    let n = values.len();
    if n == 0 {
        return Estimate { mean: None, ci95_low: None, ci95_high: None, n };
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Estimate { mean: Some(mean), ci95_low: None, ci95_high: None, n };
    }
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
    let half = t_quantile(0.975, (n - 1) as f64) * (var / n as f64).sqrt();
    Estimate { mean: Some(mean), ci95_low: Some(mean - half), ci95_high: Some(mean + half), n }
}

/// Every replication of one policy, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyAggregate {
    /// Policy name.
    pub policy: String,
    /// Seeds of its replications, in replication order.
    pub seeds: Vec<u64>,
    /// One estimate per entry of [`FIGURES`], same order.
    pub figures: [Estimate; N_FIGURES],
}

impl PolicyAggregate {
    /// Number of replications.
    pub fn replications(&self) -> usize {
        self.seeds.len()
    }

    /// The estimate of the figure called `name` (one of [`FIGURES`]).
    ///
    /// # Panics
    /// When `name` is not in [`FIGURES`] (a programming error).
    pub fn get(&self, name: &str) -> &Estimate {
        let i = FIGURES.iter().position(|f| *f == name).unwrap_or_else(|| panic!("unknown figure {name}"));
        &self.figures[i]
    }
}

/// Groups `runs` by policy (in order of first appearance) and estimates every figure.
pub fn aggregate(runs: &[RunResult]) -> Vec<PolicyAggregate> {
    let mut order: Vec<&str> = Vec::new();
    for r in runs {
        if !order.contains(&r.policy.as_str()) {
            order.push(&r.policy);
        }
    }
    order
        .into_iter()
        .map(|name| {
            let mine: Vec<&RunResult> = runs.iter().filter(|r| r.policy == name).collect();
            let values: Vec<[Option<f64>; N_FIGURES]> =
                mine.iter().map(|r| figure_values(&r.summary)).collect();
            let figures = std::array::from_fn(|i| {
                let v: Vec<f64> = values.iter().filter_map(|row| row[i]).collect();
                mean_ci95(&v)
            });
            PolicyAggregate {
                policy: name.to_string(),
                seeds: mine.iter().map(|r| r.seed).collect(),
                figures,
            }
        })
        .collect()
}

/// The `p` quantile of Student's t distribution with `df` degrees of freedom (`df` > 0,
/// 0 < `p` < 1), found by inverting the CDF (regularized incomplete beta) to about 1e-12.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0 && df > 0.0, "t_quantile({p}, {df}) out of domain");
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    if p == 0.5 {
        return 0.0;
    }
    // Bracket, then bisect: the CDF is monotone, and bisection cannot misbehave in the tails.
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while t_cdf(hi, df) < p {
        lo = hi;
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// CDF of Student's t distribution with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * reg_inc_beta(df / 2.0, 0.5, x);
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// Natural log of the gamma function (Lanczos, g = 7, n = 9; relative error ~1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection formula.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Regularized incomplete beta function I_x(a, b), by Lentz's continued fraction.
fn reg_inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // The continued fraction converges fast for x < (a + 1) / (a + b + 2); use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Continued fraction for the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=10_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn t_quantile_matches_tables() {
        // Published two-sided 95 % critical values (t(0.975, df)), to the printed precision.
        let table = [
            (1.0, 12.706_204_736),
            (2.0, 4.302_652_730),
            (3.0, 3.182_446_305),
            (4.0, 2.776_445_105),
            (5.0, 2.570_581_836),
            (9.0, 2.262_157_163),
            (10.0, 2.228_138_852),
            (19.0, 2.093_024_054),
            (29.0, 2.045_229_642),
            (30.0, 2.042_272_456),
            (60.0, 2.000_297_822),
            (120.0, 1.979_930_405),
        ];
        for (df, want) in table {
            let got = t_quantile(0.975, df);
            assert!(close(got, want, 1e-8), "df {df}: {got} vs {want}");
        }
        // Large df tends to the normal quantile.
        assert!(close(t_quantile(0.975, 1e7), 1.959_963_985, 1e-6));
        // Other levels and symmetry.
        assert!(close(t_quantile(0.95, 10.0), 1.812_461_123, 1e-8));
        assert!(close(t_quantile(0.995, 5.0), 4.032_142_984, 1e-8));
        assert!(close(t_quantile(0.025, 4.0), -2.776_445_105, 1e-8));
        assert_eq!(t_quantile(0.5, 3.0), 0.0);
    }

    #[test]
    fn t_quantile_closed_forms() {
        // df = 1 is Cauchy: tan(pi (p - 1/2)); df = 2: (2p - 1) / sqrt(2 p (1 - p)).
        for p in [0.6, 0.9, 0.975, 0.999] {
            let c = (std::f64::consts::PI * (p - 0.5)).tan();
            assert!(close(t_quantile(p, 1.0), c, 1e-9 * c.max(1.0)), "p {p}");
            let t2 = (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
            assert!(close(t_quantile(p, 2.0), t2, 1e-9 * t2.max(1.0)), "p {p}");
        }
    }

    #[test]
    fn t_cdf_round_trips() {
        for df in [1.0, 3.0, 7.5, 40.0] {
            for t in [-3.0, -0.5, 0.0, 0.7, 2.5, 10.0] {
                let p = t_cdf(t, df);
                if p > 1e-12 && p < 1.0 - 1e-12 {
                    assert!(close(t_quantile(p, df), t, 1e-8), "df {df} t {t}");
                }
            }
        }
    }

    #[test]
    fn mean_ci_known_values() {
        // Values 1..=5: mean 3, s = sqrt(2.5), half = 2.776445 * sqrt(2.5 / 5).
        let e = mean_ci95(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(e.n, 5);
        assert!(close(e.mean.unwrap(), 3.0, 1e-12));
        let half = 2.776_445_105 * (0.5f64).sqrt();
        assert!(close(e.ci95_low.unwrap(), 3.0 - half, 1e-8));
        assert!(close(e.ci95_high.unwrap(), 3.0 + half, 1e-8));
        assert!(close(e.half_width().unwrap(), half, 1e-8));
        // Two values: df = 1.
        let e = mean_ci95(&[10.0, 12.0]);
        assert!(close(e.half_width().unwrap(), 12.706_204_736 * 1.0, 1e-7));
        // Degenerate cases.
        let one = mean_ci95(&[7.0]);
        assert_eq!((one.mean, one.ci95_low, one.half_width(), one.n), (Some(7.0), None, None, 1));
        let none = mean_ci95(&[]);
        assert_eq!((none.mean, none.n), (None, 0));
        let same = mean_ci95(&[2.0, 2.0, 2.0]);
        assert_eq!(same.half_width(), Some(0.0));
    }

    #[test]
    fn aggregate_groups_by_policy_in_order() {
        let summary = |requests: u64, p99: Option<f64>| RunSummary {
            requests,
            served: requests,
            failed: 0,
            failed_by_reason: [0; FailReason::COUNT],
            in_flight_at_end: 0,
            latency_mean_s: p99,
            latency_p50_s: p99,
            latency_p95_s: p99,
            latency_p99_s: p99,
            replica_seconds: 7200.0,
            cost: 1.0,
            scaling_actions: 0,
            peak_replicas: 2,
            slo_violation_minutes: 0.0,
            cost_above_oracle_pct: None,
            elasticity: None,
            time_at_max_minutes: None,
            llm: None,
        };
        let run = |policy: &str, rep: u32, requests: u64, p99: Option<f64>| RunResult {
            policy: policy.into(),
            replication: rep,
            seed: 100 + rep as u64,
            intervals: vec![],
            summary: summary(requests, p99),
            decisions: vec![],
            ready_curve: Default::default(),
            foresight: None,
            requests: Vec::new(),
        };
        let runs = vec![
            run("b", 0, 10, Some(0.1)),
            run("b", 1, 20, None),
            run("b", 2, 30, Some(0.3)),
            run("a", 0, 5, Some(0.2)),
            run("a", 1, 5, Some(0.2)),
            run("a", 2, 5, Some(0.2)),
        ];
        let agg = aggregate(&runs);
        assert_eq!(agg.len(), 2);
        assert_eq!(agg[0].policy, "b");
        assert_eq!(agg[0].seeds, vec![100, 101, 102]);
        assert_eq!(agg[0].get("requests").mean, Some(20.0));
        assert_eq!(agg[0].get("requests").n, 3);
        // Latency defined in two of three replications.
        assert_eq!(agg[0].get("latency_p99_s").n, 2);
        assert!(close(agg[0].get("latency_p99_s").mean.unwrap(), 0.2, 1e-12));
        assert_eq!(agg[0].get("replica_hours").mean, Some(2.0));
        assert_eq!(agg[1].get("requests").half_width(), Some(0.0));
    }
}
