//! Multiplicative random-walk noise on a rate shape.
//!
//! The noise is a mean-reverting random walk in log space (a discretised Ornstein–Uhlenbeck
//! process, AR(1)): every `step` the log-factor moves to `φ·x + σ·z` with `φ = exp(−step /
//! reversion)` and `z` standard normal. It starts from its stationary distribution
//! `N(0, σ²/(1−φ²))` and the factor is `exp(x − v/2)` (with `v` the stationary variance), so its
//! mean is 1 at every time and the expected request count is the shape's integral. The log-factor
//! is clamped to ±4 stationary standard deviations, so the factor is truly bounded. The factor is
//! constant within a step, which lets the Poisson sampler bound the noisy rate exactly. All draws
//! come from [`Stream::Noise`], so the path is the same for a seed whatever the arrival process.

use crate::rng::{SimRng, Stream, stream};
use rand_distr::{Distribution, StandardNormal};

/// Parameters of the multiplicative noise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseSpec {
    /// Standard deviation of one step of the log-factor.
    pub sigma: f64,
    /// Seconds between changes of the factor (> 0).
    pub step: f64,
    /// Mean-reversion time constant, seconds (> 0): how long a deviation takes to decay by 1/e.
    pub reversion: f64,
}

impl NoiseSpec {
    fn phi(&self) -> f64 {
        (-self.step / self.reversion).exp()
    }

    /// Stationary variance of the log-factor.
    pub fn stationary_variance(&self) -> f64 {
        let phi = self.phi();
        self.sigma * self.sigma / (1.0 - phi * phi).max(1e-12)
    }

    /// The largest factor the noise can ever take.
    pub fn max_factor(&self) -> f64 {
        let v = self.stationary_variance();
        (4.0 * v.sqrt() - v / 2.0).exp()
    }
}

/// The noise path of one run, generated lazily as time advances.
#[derive(Debug, Clone)]
pub struct NoisePath {
    spec: NoiseSpec,
    phi: f64,
    half_var: f64,
    limit: f64,
    x: f64,
    factor: f64,
    /// End of the current step, seconds.
    step_end: f64,
    rng: SimRng,
}

impl NoisePath {
    /// The path for `seed`.
    pub fn new(spec: NoiseSpec, seed: u64) -> NoisePath {
        let mut rng = stream(seed, Stream::Noise);
        let v = spec.stationary_variance();
        let limit = 4.0 * v.sqrt();
        let z: f64 = StandardNormal.sample(&mut rng);
        let x = (z * v.sqrt()).clamp(-limit, limit);
        NoisePath {
            spec,
            phi: spec.phi(),
            half_var: v / 2.0,
            limit,
            x,
            factor: (x - v / 2.0).exp(),
            step_end: spec.step,
            rng,
        }
    }

    /// Moves the path forward so that the current step contains time `s` (seconds); `s` must not
    /// go backwards between calls.
    #[inline]
    pub fn advance_to(&mut self, s: f64) {
        while s >= self.step_end {
            let z: f64 = StandardNormal.sample(&mut self.rng);
            self.x = (self.phi * self.x + self.spec.sigma * z).clamp(-self.limit, self.limit);
            self.step_end += self.spec.step;
            self.factor = (self.x - self.half_var).exp();
        }
    }

    /// The factor during the current step.
    #[inline]
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// When the current step ends, seconds.
    #[inline]
    pub fn step_end(&self) -> f64 {
        self.step_end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_mean_one_and_is_bounded() {
        let spec = NoiseSpec { sigma: 0.1, step: 60.0, reversion: 600.0 };
        let mut total = 0.0;
        let n = 200_000;
        let mut p = NoisePath::new(spec, 11);
        for k in 0..n {
            p.advance_to(k as f64 * 60.0);
            assert!(p.factor() <= spec.max_factor() * (1.0 + 1e-12));
            total += p.factor();
        }
        let mean = total / n as f64;
        assert!((mean - 1.0).abs() < 0.02, "mean factor {mean}");
    }

    #[test]
    fn noise_is_reproducible() {
        let spec = NoiseSpec { sigma: 0.05, step: 1.0, reversion: 100.0 };
        let mut a = NoisePath::new(spec, 5);
        let mut b = NoisePath::new(spec, 5);
        let mut c = NoisePath::new(spec, 6);
        a.advance_to(1000.0);
        b.advance_to(1000.0);
        c.advance_to(1000.0);
        assert_eq!(a.factor(), b.factor());
        assert_ne!(a.factor(), c.factor());
    }
}
