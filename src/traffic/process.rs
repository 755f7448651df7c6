//! Arrival processes over a rate shape: Poisson (exact, by thinning), uniform and bursty.
//!
//! * **Poisson** — a non-homogeneous Poisson process sampled exactly by thinning (Lewis and
//!   Shedler). Time is cut into chunks of at most [`CHUNK`] seconds (also at every noise step);
//!   each chunk gets a true upper bound of the rate from [`Shape::bound`], so a ×10 spike only
//!   costs rejections inside the chunks it covers, and a lower bound from [`Shape::floor`]: a
//!   candidate whose acceptance level falls below it is accepted without evaluating the rate
//!   (the same decision, so the same arrivals; most candidates of a smooth curve never pay for
//!   its cosine or time-zone conversion).
//! * **Uniform** and **bursty** — renewal processes in *integrated-rate time* Λ(t) = ∫ rate: the
//!   next arrival comes when Λ has grown by a gap `g`. Uniform uses `g = 1` (evenly spaced,
//!   exactly `rate` per second when the rate is constant); bursty draws `g` from a gamma
//!   distribution with mean 1 and coefficient of variation `cv` (shape `1/cv²`), so
//!   inter-arrival times have cv ≈ `cv` under a slowly varying rate (cv > 1 is bursty, cv = 1 is
//!   Poisson). The first gap is drawn from the equilibrium (stationary residual) distribution —
//!   a uniform phase for `uniform`, `U·Gamma(k+1, θ)` for gamma — so the expected count in any
//!   window is the integral of the rate. Λ is integrated with the rate treated as linear between
//!   samples at most [`STEP`] seconds apart (exact for constant and linear rates).
//!
//! No heap allocation per arrival; the shape is evaluated through enum dispatch.

use super::noise::NoisePath;
use super::shape::Shape;
use super::{Arrival, ArrivalSource, MAX_SIZES};
use crate::rng::SimRng;
use crate::time::{Clock, Time, from_secs_f64};
use rand::Rng;
use rand_distr::{Distribution, Exp1, Gamma};

/// Longest thinning chunk, seconds.
pub const CHUNK: f64 = 10.0;
/// Longest integration step of the integrated-rate processes, seconds.
pub const STEP: f64 = 1.0;
/// Arrivals a Poisson source draws ahead.
const AHEAD: usize = 64;
/// Relative slack on thinning bounds against rounding in the rate evaluation.
const SLACK: f64 = 1.0 + 1e-9;

#[inline]
fn arrival_at(s: f64, horizon: Time) -> Option<Arrival> {
    let time = from_secs_f64(s);
    (time < horizon).then_some(Arrival { time, sizes: [0.0; MAX_SIZES] })
}

/// Exact non-homogeneous Poisson arrivals by thinning.
pub struct PoissonSource {
    shape: Shape,
    clock: Clock,
    noise: Option<NoisePath>,
    rng: SimRng,
    /// Current time, seconds.
    t: f64,
    chunk_end: f64,
    /// Bound of the rate (noise included) over the current chunk.
    bound: f64,
    /// A lower bound of the rate (noise included) over the current chunk ([`Shape::floor`]):
    /// a candidate accepted below it needs no evaluation of the rate.
    floor: f64,
    factor: f64,
    /// Where arrivals stop, seconds (horizon, or the end of a finite shape).
    stop: f64,
    horizon: Time,
    /// Arrival times drawn ahead (`ahead[next..len]` are still to come): drawing a batch in a
    /// tight loop is faster than one per call, and the stream is the same.
    ahead: [Time; AHEAD],
    next: usize,
    len: usize,
    /// Largest rate/bound ratio seen (tests check it never exceeds 1).
    #[cfg(test)]
    pub(crate) worst_ratio: f64,
    /// Largest floor/rate ratio seen (tests check it never exceeds 1).
    #[cfg(test)]
    pub(crate) worst_floor: f64,
}

impl PoissonSource {
    /// A source over `shape` (times noise, if any) covering `[0, horizon)`.
    pub fn new(shape: Shape, clock: Clock, noise: Option<NoisePath>, rng: SimRng, horizon: Time) -> Self {
        let h = crate::time::to_secs_f64(horizon);
        let stop = shape.end().map_or(h, |e| e.min(h));
        PoissonSource {
            shape,
            clock,
            noise,
            rng,
            t: 0.0,
            chunk_end: 0.0,
            bound: 0.0,
            floor: 0.0,
            factor: 1.0,
            stop,
            horizon,
            ahead: [0; AHEAD],
            next: 0,
            len: 0,
            #[cfg(test)]
            worst_ratio: 0.0,
            #[cfg(test)]
            worst_floor: 0.0,
        }
    }

    fn new_chunk(&mut self) {
        let mut end = (self.t + CHUNK).min(self.stop);
        if let Some(n) = &mut self.noise {
            n.advance_to(self.t);
            self.factor = n.factor();
            end = end.min(n.step_end());
        }
        self.chunk_end = end;
        self.bound = self.shape.bound(self.t, end, &self.clock) * self.factor * SLACK;
        self.floor = self.shape.floor(self.t, end, &self.clock) * self.factor / SLACK;
    }
}

impl ArrivalSource for PoissonSource {
    #[inline]
    fn next_arrival(&mut self) -> Option<Arrival> {
        if self.next == self.len {
            self.draw_ahead();
            if self.len == 0 {
                return None;
            }
        }
        let time = self.ahead[self.next];
        self.next += 1;
        Some(Arrival { time, sizes: [0.0; MAX_SIZES] })
    }
}

impl PoissonSource {
    /// Draws up to [`AHEAD`] arrival times (fewer only at the end of the stream).
    fn draw_ahead(&mut self) {
        (self.next, self.len) = (0, 0);
        while self.len < AHEAD {
            let Some(t) = self.draw() else { break };
            self.ahead[self.len] = t;
            self.len += 1;
        }
    }

    /// The next arrival time, or `None` when the stream has ended (for good).
    #[inline(always)]
    fn draw(&mut self) -> Option<Time> {
        loop {
            if self.t >= self.chunk_end {
                if self.t >= self.stop {
                    return None;
                }
                self.new_chunk();
            }
            if self.bound <= 0.0 {
                self.t = self.chunk_end;
                continue;
            }
            let e: f64 = Exp1.sample(&mut self.rng);
            let next = self.t + e / self.bound;
            if next >= self.chunk_end {
                // Memorylessness: restart at the chunk end with the next chunk's bound.
                self.t = self.chunk_end;
                continue;
            }
            self.t = next;
            #[cfg(test)]
            {
                let r = self.shape.rate(next, &self.clock) * self.factor;
                self.worst_ratio = self.worst_ratio.max(r / self.bound);
                self.worst_floor = self.worst_floor.max(self.floor / r.max(f64::MIN_POSITIVE));
            }
            let u: f64 = self.rng.random();
            let level = u * self.bound;
            // Below the chunk's floor the candidate is accepted without evaluating the rate:
            // the same decision as `level < rate`, since floor <= rate at every point.
            if level < self.floor || level < self.shape.rate(next, &self.clock) * self.factor {
                let a = arrival_at(next, self.horizon);
                if a.is_none() {
                    // Rounded onto the horizon: the stream has ended for good.
                    (self.t, self.chunk_end) = (self.stop, self.stop);
                }
                return a.map(|a| a.time);
            }
        }
    }
}

/// The gap distribution of an integrated-rate renewal process.
#[derive(Debug, Clone, Copy)]
pub enum Gap {
    /// Every gap is exactly 1 (uniform spacing).
    Unit,
    /// Gamma-distributed gaps with mean 1 and the given coefficient of variation.
    Gamma {
        /// Gamma(1/cv², cv²) sampler.
        dist: Gamma<f64>,
        /// Gamma(1/cv² + 1, cv²) sampler (length-biased gap, for the first arrival).
        biased: Gamma<f64>,
    },
}

impl Gap {
    /// Gaps for coefficient of variation `cv` (> 0).
    pub fn gamma(cv: f64) -> Gap {
        let k = 1.0 / (cv * cv);
        let theta = cv * cv;
        Gap::Gamma {
            dist: Gamma::new(k, theta).expect("positive gamma parameters"),
            biased: Gamma::new(k + 1.0, theta).expect("positive gamma parameters"),
        }
    }

    #[inline]
    fn sample(&self, rng: &mut SimRng) -> f64 {
        match self {
            Gap::Unit => 1.0,
            Gap::Gamma { dist, .. } => dist.sample(rng).max(1e-300),
        }
    }

    /// The stationary residual gap (for the first arrival).
    fn residual(&self, rng: &mut SimRng) -> f64 {
        let u: f64 = rng.random();
        let u = u.max(1e-300);
        match self {
            Gap::Unit => u,
            Gap::Gamma { biased, .. } => (u * biased.sample(rng)).max(1e-300),
        }
    }
}

/// Renewal arrivals in integrated-rate time (uniform and bursty processes).
pub struct IntegratedSource {
    shape: Shape,
    clock: Clock,
    noise: Option<NoisePath>,
    rng: SimRng,
    gap: Gap,
    /// Current position, seconds, and the rate there.
    t: f64,
    r_t: f64,
    /// End of the current integration step, and the rate at its (left-limit) end.
    s1: f64,
    r1: f64,
    factor: f64,
    /// Integrated rate still to cover before the next arrival.
    need: f64,
    stop: f64,
    horizon: Time,
}

impl IntegratedSource {
    /// A source over `shape` (times noise, if any) covering `[0, horizon)`.
    pub fn new(
        shape: Shape,
        clock: Clock,
        noise: Option<NoisePath>,
        mut rng: SimRng,
        gap: Gap,
        horizon: Time,
    ) -> Self {
        let h = crate::time::to_secs_f64(horizon);
        let stop = shape.end().map_or(h, |e| e.min(h));
        let need = gap.residual(&mut rng);
        let mut src = IntegratedSource {
            shape,
            clock,
            noise,
            rng,
            gap,
            t: 0.0,
            r_t: 0.0,
            s1: 0.0,
            r1: 0.0,
            factor: 1.0,
            need,
            stop,
            horizon,
        };
        src.start_step();
        src
    }

    /// Begins an integration step at `self.t`.
    fn start_step(&mut self) {
        let mut end = (self.t + STEP).min(self.stop);
        if let Some(n) = &mut self.noise {
            n.advance_to(self.t);
            self.factor = n.factor();
            end = end.min(n.step_end());
        }
        self.r_t = self.shape.rate(self.t, &self.clock) * self.factor;
        self.s1 = end;
        // The left limit at the step end: evaluate just inside it so a jump exactly at the end
        // belongs to the next step.
        let inside = if end > self.t { end - (end - self.t) * 1e-9 } else { end };
        self.r1 = self.shape.rate(inside, &self.clock) * self.factor;
    }
}

impl ArrivalSource for IntegratedSource {
    #[inline]
    fn next_arrival(&mut self) -> Option<Arrival> {
        loop {
            if self.t >= self.stop {
                return None;
            }
            let h = self.s1 - self.t;
            let area = 0.5 * (self.r_t + self.r1) * h;
            if area >= self.need && h > 0.0 {
                // Solve r_t·x + (r1 − r_t)·x²/(2h) = need for x in [0, h].
                let a = (self.r1 - self.r_t) / (2.0 * h);
                let b = self.r_t;
                let disc = (b * b + 4.0 * a * self.need).max(0.0);
                let x = (2.0 * self.need / (b + disc.sqrt())).clamp(0.0, h);
                self.t += x;
                self.r_t += (self.r1 - self.r_t) * x / h;
                self.need = self.gap.sample(&mut self.rng);
                let a = if self.t >= self.stop { None } else { arrival_at(self.t, self.horizon) };
                if a.is_none() {
                    self.t = self.stop;
                }
                return a;
            }
            self.need -= area;
            self.t = self.s1;
            if self.t >= self.stop {
                return None;
            }
            self.start_step();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};
    use crate::time::SECOND;
    use std::sync::Arc;

    fn clock() -> Clock {
        Clock::utc_monday(8 * 86_400 * SECOND)
    }

    fn times(src: &mut dyn ArrivalSource) -> Vec<f64> {
        let mut v = Vec::new();
        let mut last = 0;
        while let Some(a) = src.next_arrival() {
            assert!(a.time >= last, "out of order");
            last = a.time;
            v.push(crate::time::to_secs_f64(a.time));
        }
        v
    }

    /// Counts in windows against the integral of the rate, within 4 sigma (Poisson variance).
    fn check_counts(shape: Shape, horizon_s: f64, window: f64, seed: u64) {
        let c = clock();
        let horizon = from_secs_f64(horizon_s);
        let mut src =
            PoissonSource::new(shape.clone(), c.clone(), None, stream(seed, Stream::Arrivals), horizon);
        let ts = times(&mut src);
        assert!(src.worst_ratio <= 1.0, "rate exceeded bound: {}", src.worst_ratio);
        assert!(src.worst_floor <= 1.0, "floor exceeded rate: {}", src.worst_floor);
        let mut w = 0.0;
        while w < horizon_s {
            let hi = (w + window).min(horizon_s);
            let expect = shape.integral(w, hi, &c);
            let got = ts.iter().filter(|&&t| t >= w && t < hi).count() as f64;
            let tol = 4.0 * expect.sqrt() + 3.0;
            assert!((got - expect).abs() <= tol, "{shape:?}: window {w}..{hi}: got {got}, expected {expect}");
            w = hi;
        }
    }

    #[test]
    fn poisson_counts_constant() {
        check_counts(Shape::Constant(200.0), 600.0, 60.0, 1);
    }

    #[test]
    fn poisson_counts_sine() {
        check_counts(
            Shape::Sine { mean: 100.0, amplitude: 80.0, period: 300.0, phase: 20.0 },
            900.0,
            30.0,
            2,
        );
    }

    #[test]
    fn poisson_counts_daily() {
        let d = Shape::Daily { trough: 0.5, peak: 5.0, peak_hour: 14.0, weekend_factor: 0.5 };
        check_counts(d, 7.0 * 86_400.0, 3600.0, 3);
    }

    #[test]
    fn poisson_counts_spike() {
        let s = Shape::Spike {
            base: Arc::new(Shape::Constant(20.0)),
            start: 300.0,
            length: 120.0,
            multiplier: 10.0,
            rise: 60.0,
            fall: 30.0,
        };
        check_counts(s, 900.0, 20.0, 4);
    }

    #[test]
    fn poisson_with_noise_respects_bound_and_mean() {
        let c = clock();
        let spec = super::super::noise::NoiseSpec { sigma: 0.2, step: 7.0, reversion: 60.0 };
        let shape = Shape::Constant(50.0);
        let horizon_s = 20_000.0;
        let mut total = 0.0;
        for seed in 0..4 {
            let noise = NoisePath::new(spec, seed);
            let mut src = PoissonSource::new(
                shape.clone(),
                c.clone(),
                Some(noise),
                stream(seed, Stream::Arrivals),
                from_secs_f64(horizon_s),
            );
            total += times(&mut src).len() as f64;
            assert!(src.worst_ratio <= 1.0);
            assert!(src.worst_floor <= 1.0);
        }
        let mean = total / 4.0;
        // Mean 1e6 with noise: the count's sd is dominated by the noise (~sigma·sqrt(corr/T)).
        let expect = 50.0 * horizon_s;
        assert!((mean - expect).abs() / expect < 0.02, "{mean} vs {expect}");
    }

    #[test]
    fn uniform_spacing_is_exact() {
        let c = clock();
        let mut src = IntegratedSource::new(
            Shape::Constant(250.0),
            c,
            None,
            stream(1, Stream::Arrivals),
            Gap::Unit,
            from_secs_f64(10.0),
        );
        let ts = times(&mut src);
        assert!((ts.len() as i64 - 2500).abs() <= 1, "{}", ts.len());
        for w in ts.windows(2) {
            assert!(((w[1] - w[0]) - 0.004).abs() <= 1.01e-6, "gap {}", w[1] - w[0]);
        }
    }

    #[test]
    fn uniform_follows_a_ramp() {
        let c = clock();
        let shape = Shape::Ramp { from: 10.0, to: 110.0, start: 0.0, end: 100.0 };
        let mut src = IntegratedSource::new(
            shape.clone(),
            c.clone(),
            None,
            stream(1, Stream::Arrivals),
            Gap::Unit,
            100 * SECOND,
        );
        let ts = times(&mut src);
        for w in [0.0, 25.0, 50.0, 75.0] {
            let got = ts.iter().filter(|&&t| t >= w && t < w + 25.0).count() as f64;
            let expect = shape.integral(w, w + 25.0, &c);
            assert!((got - expect).abs() <= 1.0, "{got} vs {expect}");
        }
    }

    fn cv_of(ts: &[f64]) -> f64 {
        let gaps: Vec<f64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
        let n = gaps.len() as f64;
        let mean = gaps.iter().sum::<f64>() / n;
        let var = gaps.iter().map(|g| (g - mean) * (g - mean)).sum::<f64>() / n;
        var.sqrt() / mean
    }

    #[test]
    fn bursty_cv_matches_target() {
        let c = clock();
        for target in [0.5, 1.0, 2.0, 3.0] {
            let mut src = IntegratedSource::new(
                Shape::Constant(100.0),
                c.clone(),
                None,
                stream(9, Stream::Arrivals),
                Gap::gamma(target),
                from_secs_f64(2000.0),
            );
            let ts = times(&mut src);
            let cv = cv_of(&ts);
            assert!((cv - target).abs() / target < 0.05, "target {target}, measured {cv}");
            let n = ts.len() as f64;
            // Renewal count variance ≈ cv²·mean.
            let tol = 4.0 * target * (200_000f64).sqrt();
            assert!((n - 200_000.0).abs() < tol, "count {n}");
        }
    }

    #[test]
    fn bursty_mean_count_is_the_integral() {
        let c = clock();
        // Short horizon: the equilibrium start makes even the first window unbiased.
        let mut total = 0.0;
        let runs = 400;
        for seed in 0..runs {
            let mut src = IntegratedSource::new(
                Shape::Constant(2.0),
                c.clone(),
                None,
                stream(seed, Stream::Arrivals),
                Gap::gamma(3.0),
                from_secs_f64(5.0),
            );
            total += times(&mut src).len() as f64;
        }
        let mean = total / runs as f64;
        // Per-run variance of the count is at most ~cv²·10 + small: sd of the mean ≈ 0.5.
        assert!((mean - 10.0).abs() < 1.5, "{mean}");
    }
}
