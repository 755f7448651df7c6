//! Traffic: when requests arrive, and how big they are.
//!
//! A [`TrafficSpec`] is a checked description of the traffic (a rate shape with an arrival
//! process, or a recorded trace). For each run it yields a fresh [`ArrivalSource`]: a lazy
//! iterator of arrivals in time order, never a materialised list of a day's requests. The same
//! spec and seed always give the same arrivals, so every policy sees the same traffic.
//!
//! * [`shape`]: rate shapes (constant, steps, ramp, daily curve, sine, spike, piecewise-linear,
//!   sum, scale, recorded rate series) with exact upper bounds and integrals;
//! * [`noise`]: optional multiplicative, mean-reverting random-walk noise on a shape;
//! * [`process`]: arrival processes over a rate (Poisson by thinning, uniform, bursty gamma);
//! * [`trace`]: trace parsers (rate CSV, per-request CSV, Azure LLM, Prometheus, Grafana CSV,
//!   access logs, Azure Functions), exact request replay and exact per-bin counts.
//!
//! Randomness comes only from [`Stream::Arrivals`] (arrival times, replay scaling) and
//! [`Stream::Noise`] (the noise path).

pub mod noise;
pub mod process;
pub mod shape;
pub mod tokens;
pub mod trace;

use crate::rng::{Stream, stream};
use crate::time::{Clock, Time, to_secs_f64};
use noise::{NoisePath, NoiseSpec};
use process::{Gap, IntegratedSource, PoissonSource};
pub use shape::{RateSeries, Shape};
use std::sync::Arc;
use trace::counts::{CountSeries, CountSource};
use trace::summary::TraceInfo;
use trace::{ReplayOptions, ReplaySource, RequestTrace};

/// How many per-request size columns an arrival can carry.
pub const MAX_SIZES: usize = 3;

/// One request arrival.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Arrival {
    /// When it arrives.
    pub time: Time,
    /// Per-request sizes (e.g. context and generated tokens); zero when the traffic has none.
    pub sizes: [f64; MAX_SIZES],
}

/// A lazy, time-ordered stream of arrivals for one run.
pub trait ArrivalSource: Send {
    /// The next arrival, or `None` when the traffic ends (or passes the horizon).
    fn next_arrival(&mut self) -> Option<Arrival>;
}

/// The arrival process over a rate shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Process {
    /// Non-homogeneous Poisson arrivals (exact, by thinning).
    Poisson,
    /// Evenly spaced in integrated-rate time: an arrival each time ∫rate grows by 1.
    Uniform,
    /// Gamma renewal process in integrated-rate time with inter-arrival coefficient of
    /// variation `cv` (> 0; above 1 is burstier than Poisson).
    Bursty {
        /// Coefficient of variation of the inter-arrival gaps.
        cv: f64,
    },
}

#[derive(Debug, Clone)]
enum Kind {
    Rate { shape: Shape, process: Process, noise: Option<NoiseSpec> },
    Replay { trace: Arc<RequestTrace>, opts: ReplayOptions },
    Counts { data: Arc<CountSeries>, opts: ReplayOptions },
}

/// A checked description of a scenario's traffic. Cheap to clone (trace data is shared).
#[derive(Debug, Clone)]
pub struct TrafficSpec {
    kind: Kind,
    /// What the trace holds, when the traffic is a trace.
    info: Option<Arc<TraceInfo>>,
    /// Prompt and output tokens drawn for each request (`[traffic.tokens]`).
    tokens: Option<Arc<tokens::TokenMix>>,
}

impl TrafficSpec {
    /// Poisson arrivals at a constant `rate` per second.
    pub fn constant_poisson(rate: f64) -> TrafficSpec {
        TrafficSpec::from_shape(Shape::Constant(rate.max(0.0)), Process::Poisson, None)
    }

    /// Arrivals of `process` over `shape`, optionally times random-walk `noise`.
    pub fn from_shape(shape: Shape, process: Process, noise: Option<NoiseSpec>) -> TrafficSpec {
        TrafficSpec { kind: Kind::Rate { shape, process, noise }, info: None, tokens: None }
    }

    /// Exact replay of a request trace.
    pub fn replay(trace: Arc<RequestTrace>, opts: ReplayOptions) -> TrafficSpec {
        TrafficSpec { kind: Kind::Replay { trace, opts }, info: None, tokens: None }
    }

    /// Exact counts per bin, each bin's requests at seeded uniform times inside it.
    pub fn counts(data: Arc<CountSeries>, opts: ReplayOptions) -> TrafficSpec {
        TrafficSpec { kind: Kind::Counts { data, opts }, info: None, tokens: None }
    }

    /// The same traffic, described by `info` (what its trace holds).
    pub fn with_info(mut self, info: TraceInfo) -> TrafficSpec {
        self.info = Some(Arc::new(info));
        self
    }

    /// The same traffic, each request given prompt and output tokens drawn from `mix`.
    pub fn with_tokens(mut self, mix: tokens::TokenMix) -> TrafficSpec {
        self.tokens = Some(Arc::new(mix));
        self
    }

    /// The token mix of synthetic traffic (`[traffic.tokens]`), if any.
    pub fn tokens(&self) -> Option<&tokens::TokenMix> {
        self.tokens.as_deref()
    }

    /// What the trace holds, when the traffic is a trace.
    pub fn trace_info(&self) -> Option<&TraceInfo> {
        self.info.as_deref()
    }

    /// The same traffic with its rate multiplied by `factor` (>= 0): a scaled shape, or for a
    /// request replay a multiplied replay `scale` (see [`ReplayOptions::scale`]).
    pub fn scaled(self, factor: f64) -> TrafficSpec {
        if factor == 1.0 {
            return self;
        }
        let kind = match self.kind {
            Kind::Rate { shape, process, noise } => {
                Kind::Rate { shape: Shape::Scale { factor, of: Arc::new(shape) }, process, noise }
            }
            Kind::Replay { trace, mut opts } => {
                opts.scale *= factor;
                Kind::Replay { trace, opts }
            }
            Kind::Counts { data, mut opts } => {
                opts.scale *= factor;
                Kind::Counts { data, opts }
            }
        };
        TrafficSpec { kind, info: self.info, tokens: self.tokens }
    }

    /// The same traffic seen from `by` later: its time `t` is this traffic's `by + t`, read on
    /// the clock shifted by `by` ([`Clock::shifted`]). Arrivals are drawn afresh from the
    /// seed, so the shifted traffic has the pattern of that part of the original (rate shape,
    /// or the trace from that point on), not the very arrivals a run from 0 would see there.
    pub fn shifted(&self, by: Time) -> TrafficSpec {
        let kind = match &self.kind {
            Kind::Rate { shape, process, noise } => {
                Kind::Rate { shape: shape.shifted(to_secs_f64(by)), process: *process, noise: *noise }
            }
            Kind::Replay { trace, opts } => {
                let mut opts = *opts;
                opts.start_offset += to_secs_f64(by) * opts.speedup;
                Kind::Replay { trace: trace.clone(), opts }
            }
            Kind::Counts { data, opts } => {
                let mut opts = *opts;
                opts.start_offset += to_secs_f64(by) * opts.speedup;
                Kind::Counts { data: data.clone(), opts }
            }
        };
        TrafficSpec { kind, info: self.info.clone(), tokens: self.tokens.clone() }
    }

    /// A fresh arrival stream for one run, covering `[0, horizon)`.
    pub fn source(&self, seed: u64, clock: &Clock, horizon: Time) -> Box<dyn ArrivalSource> {
        let inner = self.source_untokened(seed, clock, horizon);
        match &self.tokens {
            None => inner,
            Some(mix) => {
                Box::new(tokens::TokenSource { inner, mix: mix.clone(), rng: stream(seed, Stream::Tokens) })
            }
        }
    }

    fn source_untokened(&self, seed: u64, clock: &Clock, horizon: Time) -> Box<dyn ArrivalSource> {
        let rng = stream(seed, Stream::Arrivals);
        match &self.kind {
            Kind::Rate { shape, process, noise } => {
                let noise = noise.map(|n| NoisePath::new(n, seed));
                let shape = shape.clone();
                match process {
                    Process::Poisson => {
                        Box::new(PoissonSource::new(shape, clock.clone(), noise, rng, horizon))
                    }
                    Process::Uniform => {
                        Box::new(IntegratedSource::new(shape, clock.clone(), noise, rng, Gap::Unit, horizon))
                    }
                    Process::Bursty { cv } => Box::new(IntegratedSource::new(
                        shape,
                        clock.clone(),
                        noise,
                        rng,
                        Gap::gamma(*cv),
                        horizon,
                    )),
                }
            }
            Kind::Replay { trace, opts } => Box::new(ReplaySource::new(trace.clone(), *opts, rng, horizon)),
            Kind::Counts { data, opts } => Box::new(CountSource::new(data.clone(), *opts, rng, horizon)),
        }
    }

    /// Expected number of arrivals in `[0, horizon)`.
    pub fn expected_requests(&self, clock: &Clock, horizon: Time) -> f64 {
        let h = to_secs_f64(horizon);
        match &self.kind {
            Kind::Rate { shape, .. } => shape.integral(0.0, shape.end().map_or(h, |e| e.min(h)), clock),
            Kind::Replay { trace, opts } => trace::expected_replay(trace, opts, h),
            Kind::Counts { data, opts } => trace::counts::expected_counts(data, opts, h),
        }
    }

    /// The largest value of each size column over the whole trace (0 without sizes), so that
    /// validation can bound the per-request demand a linear model gives.
    pub fn max_sizes(&self) -> [f64; MAX_SIZES] {
        let mut m = [0.0; MAX_SIZES];
        if let Some(t) = &self.tokens {
            m[0] = t.prompt.max as f64;
            m[1] = t.output.max as f64;
        }
        if let Kind::Replay { trace, .. } = &self.kind {
            for s in &trace.sizes {
                for (a, b) in m.iter_mut().zip(s) {
                    *a = f64::max(*a, *b);
                }
            }
        }
        m
    }

    /// Expected number of arrivals in `[from, to)`.
    pub fn expected_between(&self, clock: &Clock, from: Time, to: Time) -> f64 {
        match &self.kind {
            Kind::Rate { shape, .. } => {
                let end = shape.end().unwrap_or(f64::INFINITY);
                shape.integral(to_secs_f64(from).min(end), to_secs_f64(to).min(end), clock)
            }
            Kind::Replay { .. } | Kind::Counts { .. } => {
                (self.expected_requests(clock, to) - self.expected_requests(clock, from)).max(0.0)
            }
        }
    }

    /// Names of the per-request size columns this traffic carries, in `Arrival::sizes` order.
    pub fn size_columns(&self) -> Vec<String> {
        if self.tokens.is_some() {
            return tokens::TOKEN_COLUMNS.iter().map(|s| s.to_string()).collect();
        }
        match &self.kind {
            Kind::Rate { .. } | Kind::Counts { .. } => Vec::new(),
            Kind::Replay { trace, .. } => trace.size_columns.clone(),
        }
    }

    /// The mean request rate (per second) at `t`, noise excluded; `None` for a request replay,
    /// which has no rate shape.
    pub fn rate_at(&self, clock: &Clock, t: Time) -> Option<f64> {
        match &self.kind {
            Kind::Rate { shape, .. } => Some(shape.rate(to_secs_f64(t), clock)),
            Kind::Replay { .. } | Kind::Counts { .. } => None,
        }
    }

    /// The rate shape, if the traffic has one.
    pub fn shape(&self) -> Option<&Shape> {
        match &self.kind {
            Kind::Rate { shape, .. } => Some(shape),
            Kind::Replay { .. } | Kind::Counts { .. } => None,
        }
    }

    /// The arrival process, if the traffic has a rate shape.
    pub fn process(&self) -> Option<Process> {
        match &self.kind {
            Kind::Rate { process, .. } => Some(*process),
            Kind::Replay { .. } | Kind::Counts { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    fn collect(spec: &TrafficSpec, seed: u64, clock: &Clock, horizon: Time) -> Vec<Arrival> {
        let mut s = spec.source(seed, clock, horizon);
        let mut v = Vec::new();
        while let Some(a) = s.next_arrival() {
            assert!(a.time < horizon);
            v.push(a);
        }
        v
    }

    fn specs() -> Vec<TrafficSpec> {
        let daily = Shape::Daily { trough: 5.0, peak: 20.0, peak_hour: 14.0, weekend_factor: 0.5 };
        let noise = Some(NoiseSpec { sigma: 0.1, step: 60.0, reversion: 3600.0 });
        vec![
            TrafficSpec::constant_poisson(30.0),
            TrafficSpec::from_shape(daily.clone(), Process::Poisson, noise),
            TrafficSpec::from_shape(daily.clone(), Process::Uniform, noise),
            TrafficSpec::from_shape(daily, Process::Bursty { cv: 2.0 }, None),
        ]
    }

    #[test]
    fn same_seed_same_stream_other_seed_differs() {
        let clock = Clock::utc_monday(86_400 * SECOND);
        let h = 3600 * SECOND;
        for spec in specs() {
            let a = collect(&spec, 42, &clock, h);
            let b = collect(&spec.clone(), 42, &clock, h);
            let c = collect(&spec, 43, &clock, h);
            assert!(!a.is_empty());
            assert_eq!(a, b);
            assert_ne!(a, c);
        }
    }

    #[test]
    fn expected_requests_matches_mean_count() {
        let clock = Clock::utc_monday(86_400 * SECOND);
        let h = 6 * 3600 * SECOND;
        for spec in specs() {
            let expect = spec.expected_requests(&clock, h);
            let runs = 6;
            let mean =
                (0..runs).map(|s| collect(&spec, s, &clock, h).len() as f64).sum::<f64>() / runs as f64;
            // Noise (sd 0.1 per step, 1 h correlation) moves the count by a few per cent.
            assert!((mean - expect).abs() / expect < 0.05, "{spec:?}: {mean} vs {expect}");
        }
    }

    #[test]
    fn shifted_traffic_has_the_later_pattern() {
        let clock = Clock::utc_monday(2 * 86_400 * SECOND);
        let by = 13 * 3600 * SECOND;
        let later = clock.shifted(by);
        let h = 2 * 3600 * SECOND;
        for spec in specs() {
            let s2 = spec.shifted(by);
            let expect = spec.expected_between(&clock, by, by + h);
            assert!((s2.expected_requests(&later, h) - expect).abs() < 1e-6 * expect);
            // (The noise path wanders too far over 2 h for one draw to be checked.)
            if matches!(spec.kind, Kind::Rate { noise: None, .. }) {
                let n = collect(&s2, 5, &later, h).len() as f64;
                assert!((n - expect).abs() / expect < 0.05, "{spec:?}: {n} vs {expect}");
            }
            assert_eq!(collect(&s2, 5, &later, h), collect(&spec.shifted(by), 5, &later, h));
        }
        // A replay picks the trace up at the shifted point.
        let trace = Arc::new(RequestTrace {
            times: (0..100).map(|i| i as f64).collect(),
            sizes: vec![[0.0; MAX_SIZES]; 100],
            size_columns: Vec::new(),
        });
        let spec = TrafficSpec::replay(trace, ReplayOptions::default());
        let s2 = spec.shifted(40 * SECOND);
        let got: Vec<Time> = collect(&s2, 1, &clock, 10 * SECOND).iter().map(|a| a.time).collect();
        assert_eq!(got, (0..10).map(|i| i * SECOND).collect::<Vec<_>>());
        assert_eq!(spec.expected_between(&clock, 40 * SECOND, 50 * SECOND), 10.0);
    }

    #[test]
    fn spec_is_send_sync_clone_debug() {
        fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
        check::<TrafficSpec>();
    }

    #[test]
    fn scale_multiplies_synthetic_traffic() {
        let clock = Clock::utc_monday(86_400 * SECOND);
        let spec = TrafficSpec::constant_poisson(10.0).scaled(2.0);
        assert_eq!(spec.rate_at(&clock, 0), Some(20.0));
        assert!((spec.expected_requests(&clock, 100 * SECOND) - 2000.0).abs() < 1e-9);
    }

    /// Throughput of Poisson arrivals over a daily curve. Run in release mode:
    /// `cargo test --release --lib traffic::tests::bench_poisson_daily -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_poisson_daily() {
        let clock = Clock::utc_monday(8 * 86_400 * SECOND);
        let daily = Shape::Daily { trough: 50.0, peak: 200.0, peak_hour: 14.0, weekend_factor: 0.5 };
        for (name, spec) in [
            ("poisson/daily", TrafficSpec::from_shape(daily.clone(), Process::Poisson, None)),
            (
                "poisson/daily+noise",
                TrafficSpec::from_shape(
                    daily.clone(),
                    Process::Poisson,
                    Some(NoiseSpec { sigma: 0.05, step: 60.0, reversion: 3600.0 }),
                ),
            ),
            ("bursty/daily", TrafficSpec::from_shape(daily, Process::Bursty { cv: 2.0 }, None)),
        ] {
            let h = 7 * 86_400 * SECOND;
            let start = std::time::Instant::now();
            let mut s = spec.source(1, &clock, h);
            let mut n = 0u64;
            let mut last = 0;
            while let Some(a) = s.next_arrival() {
                n += 1;
                last = a.time;
            }
            let dt = start.elapsed();
            std::hint::black_box(last);
            println!("{name}: {n} arrivals, {:.1} ns/arrival", dt.as_nanos() as f64 / n as f64);
        }
    }
}
