//! Probability distributions for service demand and startup times.
//!
//! [`Dist`] is a checked, ready-to-sample description (built by the config layer); sampling uses
//! `rand_distr`. Every variant knows its mean, so reports and `validate` can show expectations.

use crate::rng::SimRng;
use rand::Rng;
use rand_distr::{Distribution, Exp1, StandardNormal};

/// A non-negative distribution, in seconds (or whatever unit its user gives it).
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    /// Always `value`.
    Deterministic {
        /// The value.
        value: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean: f64,
    },
    /// Log-normal: `exp(mu + sigma·Z)`.
    LogNormal {
        /// Location of the underlying normal.
        mu: f64,
        /// Scale of the underlying normal.
        sigma: f64,
    },
    /// Gamma with `shape` k and `scale` θ (mean kθ).
    Gamma {
        /// Shape k.
        shape: f64,
        /// Scale θ.
        scale: f64,
        /// Prepared sampler.
        sampler: rand_distr::Gamma<f64>,
    },
    /// Uniform on [low, high].
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// Resampling from observed values, uniformly.
    Empirical {
        /// The samples (non-empty).
        samples: Vec<f64>,
    },
}

/// z such that P(Z ≤ z) = 0.99 for a standard normal.
pub const Z99: f64 = 2.326_347_874_040_841;

impl Dist {
    /// Exponential with mean `mean`.
    pub fn exponential(mean: f64) -> Dist {
        Dist::Exponential { mean }
    }

    /// Log-normal with the given mean and sigma.
    pub fn lognormal_mean_sigma(mean: f64, sigma: f64) -> Dist {
        Dist::LogNormal { mu: mean.ln() - sigma * sigma / 2.0, sigma }
    }

    /// Log-normal with the given mean and 99th percentile. Returns `None` when no log-normal has
    /// them (p99 must exceed the mean and the tail must not be too heavy for the mean).
    pub fn lognormal_mean_p99(mean: f64, p99: f64) -> Option<Dist> {
        // ln p99 = mu + Z99 sigma, ln mean = mu + sigma²/2  ⇒  sigma²/2 − Z99 sigma + ln(p99/mean) = 0
        let c = (p99 / mean).ln();
        if c.is_nan() || c <= 0.0 {
            return None;
        }
        let disc = Z99 * Z99 - 2.0 * c;
        if disc < 0.0 {
            return None;
        }
        let sigma = Z99 - disc.sqrt();
        Some(Dist::lognormal_mean_sigma(mean, sigma))
    }

    /// Gamma with the given shape and scale (both > 0).
    pub fn gamma(shape: f64, scale: f64) -> Option<Dist> {
        let sampler = rand_distr::Gamma::new(shape, scale).ok()?;
        Some(Dist::Gamma { shape, scale, sampler })
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Deterministic { value } => *value,
            Dist::Exponential { mean } => *mean,
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Gamma { shape, scale, .. } => shape * scale,
            Dist::Uniform { low, high } => (low + high) / 2.0,
            Dist::Empirical { samples } => samples.iter().sum::<f64>() / samples.len() as f64,
        }
    }

    /// The largest value it can take, when it has one (deterministic, uniform, empirical).
    pub fn upper_bound(&self) -> Option<f64> {
        match self {
            Dist::Deterministic { value } => Some(*value),
            Dist::Uniform { high, .. } => Some(*high),
            Dist::Empirical { samples } => Some(samples.iter().copied().fold(0.0, f64::max)),
            Dist::Exponential { .. } | Dist::LogNormal { .. } | Dist::Gamma { .. } => None,
        }
    }

    /// The 99th percentile: exact for every variant but gamma, which uses the Wilson–Hilferty
    /// approximation `kθ (1 − 1/(9k) + z₀.₉₉ √(1/(9k)))³` (within about 1 % for shape k ≥ 1).
    /// Empirical: the nearest-rank 99th percentile of the samples.
    pub fn p99(&self) -> f64 {
        match self {
            Dist::Deterministic { value } => *value,
            Dist::Exponential { mean } => mean * 100f64.ln(),
            Dist::LogNormal { mu, sigma } => (mu + sigma * Z99).exp(),
            Dist::Gamma { shape, scale, .. } => {
                let c = 1.0 / (9.0 * shape);
                shape * scale * (1.0 - c + Z99 * c.sqrt()).max(0.0).powi(3)
            }
            Dist::Uniform { low, high } => low + 0.99 * (high - low),
            Dist::Empirical { samples } => {
                let mut v = samples.clone();
                v.sort_by(f64::total_cmp);
                let rank = ((0.99 * v.len() as f64).ceil() as usize).clamp(1, v.len());
                v[rank - 1]
            }
        }
    }

    /// One draw. Always consumes randomness for random variants only; never negative.
    #[inline(always)]
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        match self {
            Dist::Deterministic { value } => *value,
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                e * mean
            }
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Gamma { sampler, .. } => sampler.sample(rng),
            Dist::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
            Dist::Empirical { samples } => samples[rng.random_range(0..samples.len())],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    fn sample_mean(d: &Dist, n: usize) -> f64 {
        let mut r = stream(1, Stream::Demand);
        (0..n).map(|_| d.sample(&mut r)).sum::<f64>() / n as f64
    }

    #[test]
    fn means_match() {
        let ds = [
            Dist::exponential(0.1),
            Dist::lognormal_mean_sigma(0.2, 0.5),
            Dist::lognormal_mean_p99(0.1, 0.5).unwrap(),
            Dist::gamma(2.0, 0.05).unwrap(),
            Dist::Uniform { low: 40.0, high: 90.0 },
            Dist::Deterministic { value: 3.0 },
            Dist::Empirical { samples: vec![1.0, 2.0, 3.0] },
        ];
        for d in &ds {
            let m = sample_mean(d, 200_000);
            assert!((m / d.mean() - 1.0).abs() < 0.02, "{d:?}: {m} vs {}", d.mean());
        }
    }

    #[test]
    fn p99_and_upper_bound_match_samples() {
        let ds = [
            Dist::exponential(2.0),
            Dist::lognormal_mean_sigma(30.0, 0.4),
            Dist::gamma(4.0, 10.0).unwrap(),
            Dist::Uniform { low: 20.0, high: 40.0 },
        ];
        for d in &ds {
            let mut r = stream(5, Stream::Startup);
            let mut v: Vec<f64> = (0..200_000).map(|_| d.sample(&mut r)).collect();
            v.sort_by(f64::total_cmp);
            let p99 = v[(0.99 * v.len() as f64) as usize];
            assert!((p99 / d.p99() - 1.0).abs() < 0.02, "{d:?}: {p99} vs {}", d.p99());
        }
        assert_eq!(Dist::Uniform { low: 20.0, high: 40.0 }.upper_bound(), Some(40.0));
        assert_eq!(Dist::Deterministic { value: 3.0 }.upper_bound(), Some(3.0));
        assert_eq!(Dist::Empirical { samples: vec![1.0, 5.0, 2.0] }.upper_bound(), Some(5.0));
        assert_eq!(Dist::exponential(1.0).upper_bound(), None);
    }

    #[test]
    fn lognormal_p99_is_honoured() {
        let d = Dist::lognormal_mean_p99(0.1, 0.5).unwrap();
        let mut r = stream(3, Stream::Demand);
        let mut v: Vec<f64> = (0..200_000).map(|_| d.sample(&mut r)).collect();
        v.sort_by(f64::total_cmp);
        let p99 = v[(0.99 * v.len() as f64) as usize];
        assert!((p99 / 0.5 - 1.0).abs() < 0.03, "{p99}");
        assert!(Dist::lognormal_mean_p99(0.1, 0.05).is_none());
    }
}
