//! Traffic: when requests arrive, and how big they are.
//!
//! A [`TrafficSpec`] is a checked description of the traffic (a rate shape with an arrival
//! process, or a recorded trace). For each run it yields a fresh [`ArrivalSource`]: a lazy
//! iterator of arrivals in time order, never a materialised list of a day's requests. The same
//! spec and seed always give the same arrivals, so every policy sees the same traffic.

use crate::rng::{Stream, stream};
use crate::time::{Clock, SECOND, Time};
use rand_distr::{Distribution, Exp1};

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

/// A checked description of a scenario's traffic.
#[derive(Debug, Clone)]
pub struct TrafficSpec {
    rate: f64,
}

impl TrafficSpec {
    /// Poisson arrivals at a constant `rate` per second.
    pub fn constant_poisson(rate: f64) -> TrafficSpec {
        TrafficSpec { rate }
    }

    /// A fresh arrival stream for one run, covering `[0, horizon)`.
    pub fn source(&self, seed: u64, _clock: &Clock, horizon: Time) -> Box<dyn ArrivalSource> {
        Box::new(ConstantPoisson { rate: self.rate, t: 0.0, horizon, rng: stream(seed, Stream::Arrivals) })
    }

    /// Expected number of arrivals in `[0, horizon)`.
    pub fn expected_requests(&self, _clock: &Clock, horizon: Time) -> f64 {
        self.rate * horizon as f64 / SECOND as f64
    }

    /// Names of the per-request size columns this traffic carries, in `Arrival::sizes` order.
    pub fn size_columns(&self) -> Vec<String> {
        Vec::new()
    }
}

struct ConstantPoisson {
    rate: f64,
    t: f64,
    horizon: Time,
    rng: crate::rng::SimRng,
}

impl ArrivalSource for ConstantPoisson {
    fn next_arrival(&mut self) -> Option<Arrival> {
        if self.rate <= 0.0 {
            return None;
        }
        let e: f64 = Exp1.sample(&mut self.rng);
        self.t += e / self.rate;
        let time = crate::time::from_secs_f64(self.t);
        (time < self.horizon).then_some(Arrival { time, sizes: [0.0; MAX_SIZES] })
    }
}
