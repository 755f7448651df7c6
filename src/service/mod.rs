//! The replica model: how one replica serves requests.
//!
//! A replica has `workers` slots and a FIFO queue. A request's *demand* (seconds of work) is
//! drawn once, in arrival order, from its own random stream, so every policy gives request k the
//! same demand; its service time is the demand times a slowdown factor read off a
//! piecewise-linear curve of the requests in service on the replica when it starts. A request's
//! *overhead* (network, client and framework time) adds to its latency without occupying a
//! worker. CPU usage and cold-start times are also described here; the engine applies them.

pub mod llm;

use crate::dist::Dist;
use crate::rng::SimRng;
use crate::time::Time;
use crate::traffic::{Arrival, MAX_SIZES};

/// A piecewise-linear function y(x), constant beyond its first and last points.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// (x, y) points with strictly increasing x; at least one.
    points: Vec<(f64, f64)>,
}

impl Curve {
    /// A curve through `points`. Returns `None` when empty or x is not strictly increasing.
    pub fn new(points: Vec<(f64, f64)>) -> Option<Curve> {
        if points.is_empty()
            || points.iter().any(|p| !p.0.is_finite() || !p.1.is_finite())
            || points.windows(2).any(|w| w[1].0 <= w[0].0)
        {
            return None;
        }
        Some(Curve { points })
    }

    /// The points.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// y at x, interpolating linearly between points.
    #[inline]
    pub fn at(&self, x: f64) -> f64 {
        let p = &self.points;
        if x <= p[0].0 {
            return p[0].1;
        }
        let last = p[p.len() - 1];
        if x >= last.0 {
            return last.1;
        }
        let i = p.partition_point(|&(px, _)| px <= x);
        let (x0, y0) = p[i - 1];
        let (x1, y1) = p[i];
        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    }
}

/// How much work (seconds on an unloaded replica) a request needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Demand {
    /// Drawn from a distribution.
    Dist(Dist),
    /// `base + Σ coef[i]·size[i]`, times an optional random factor with mean 1, for traces with
    /// per-request sizes (e.g. LLM context and generated tokens).
    Linear {
        /// Fixed part, seconds.
        base: f64,
        /// Seconds per unit of each size column.
        coef: [f64; MAX_SIZES],
        /// Optional multiplicative noise (mean 1).
        noise: Option<Dist>,
    },
}

impl Demand {
    /// The demand of one request, in seconds. Consumes the same randomness for every request,
    /// whatever the replica state, so demand streams line up across policies.
    #[inline(always)]
    pub fn sample(&self, arrival: &Arrival, rng: &mut SimRng) -> f64 {
        match self {
            Demand::Dist(d) => d.sample(rng),
            Demand::Linear { base, coef, noise } => {
                let mut s = *base;
                for (c, x) in coef.iter().zip(arrival.sizes.iter()) {
                    s += c * x;
                }
                match noise {
                    Some(n) => s * n.sample(rng),
                    None => s,
                }
            }
        }
    }

    /// The expected demand of `arrival`, in seconds, without drawing anything: the
    /// distribution's mean, or `base + Σ coef·size` for the linear form (its noise has mean 1).
    pub fn expected(&self, arrival: &Arrival) -> f64 {
        match self {
            Demand::Dist(d) => d.mean(),
            Demand::Linear { base, coef, .. } => {
                base + coef.iter().zip(arrival.sizes.iter()).map(|(c, x)| c * x).sum::<f64>()
            }
        }
    }

    /// The distribution, when the demand is one (not the linear form).
    pub fn dist(&self) -> Option<&crate::dist::Dist> {
        match self {
            Demand::Dist(d) => Some(d),
            Demand::Linear { .. } => None,
        }
    }

    /// Mean demand when sizes are not known (sizes taken as zero for the linear form).
    pub fn mean_without_sizes(&self) -> f64 {
        match self {
            Demand::Dist(d) => d.mean(),
            Demand::Linear { base, .. } => *base,
        }
    }
}

/// CPU use of one replica, as Kubernetes measures it against the pod's request.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuModel {
    /// The pod's CPU request, cores (the denominator of utilisation).
    pub request_cores: f64,
    /// Cores used by an idle, ready replica.
    pub idle_cores: f64,
    /// CPU-seconds each request costs, charged when its service starts.
    pub per_request_cpu_s: f64,
    /// Cores used by each busy worker (CPU proportional to service time).
    pub busy_worker_cores: f64,
}

impl Default for CpuModel {
    fn default() -> Self {
        CpuModel { request_cores: 1.0, idle_cores: 0.05, per_request_cpu_s: 0.0, busy_worker_cores: 0.25 }
    }
}

/// Memory use of one replica (working set, as metrics-server reports it), bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryModel {
    /// The pod's memory request, bytes (the denominator of memory utilisation).
    pub request_bytes: f64,
    /// Working set of a running replica with nothing in flight.
    pub base_bytes: f64,
    /// Extra working set per request in service or queued.
    pub per_in_flight_bytes: f64,
}

impl Default for MemoryModel {
    fn default() -> Self {
        const MI: f64 = 1024.0 * 1024.0;
        MemoryModel { request_bytes: 512.0 * MI, base_bytes: 256.0 * MI, per_in_flight_bytes: 4.0 * MI }
    }
}

impl MemoryModel {
    /// Working set with `in_flight` requests on the replica.
    pub fn usage(&self, in_flight: u32) -> f64 {
        self.base_bytes + self.per_in_flight_bytes * in_flight as f64
    }
}

/// Everything about one replica of the service.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceModel {
    /// Requests one replica serves at once.
    pub workers: u32,
    /// Requests that may wait per replica; `None` is unbounded.
    pub queue_limit: Option<u32>,
    /// Client timeout: a request whose latency would exceed it fails as `timeout` at
    /// arrival + timeout (leaving the queue, or abandoning its service).
    pub timeout: Option<Time>,
    /// Work per request.
    pub demand: Demand,
    /// Slowdown factor as a function of requests in service on the replica (including the one
    /// starting); `None` means 1.
    pub slowdown: Option<Curve>,
    /// Latency outside the replica (network, client, framework), seconds, drawn per request: it
    /// occupies no worker and is added to every latency figure, but does not count toward
    /// `timeout` (which bounds the time at the replica). `None`: no overhead.
    pub overhead: Option<Dist>,
    /// Time from the scale-up decision until the replica is ready, seconds.
    pub startup: Dist,
    /// Time from the scale-up decision until the pod is running (scheduled, image pulled), seconds;
    /// the pod is `Pending` until then (capped at its startup time). `None`: it runs at once.
    pub pending: Option<Dist>,
    /// Termination grace period: how long a draining replica may finish its work.
    pub grace: Time,
    /// CPU usage.
    pub cpu: CpuModel,
    /// Memory usage.
    pub memory: MemoryModel,
    /// An LLM replica (`[service.llm]`): a vLLM-style step loop instead of workers; `workers`,
    /// `demand` and `slowdown` are then unused.
    pub llm: Option<llm::LlmModel>,
}

impl ServiceModel {
    /// The most a replica can serve per second with no slowdown (workers / mean demand), given
    /// a mean demand in seconds.
    pub fn capacity_rps(&self, mean_demand: f64) -> f64 {
        if mean_demand > 0.0 { self.workers as f64 / mean_demand } else { f64::INFINITY }
    }

    /// Service time of a request with `demand` seconds starting when `busy` requests (including
    /// itself) are in service on the replica.
    #[inline]
    pub fn service_time(&self, demand: f64, busy: u32) -> f64 {
        match &self.slowdown {
            None => demand,
            Some(c) => demand * c.at(busy as f64).max(0.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_interpolates_and_clamps() {
        let c = Curve::new(vec![(1.0, 1.0), (4.0, 2.5)]).unwrap();
        assert_eq!(c.at(0.0), 1.0);
        assert_eq!(c.at(2.0), 1.5);
        assert_eq!(c.at(9.0), 2.5);
        assert!(Curve::new(vec![(1.0, 1.0), (1.0, 2.0)]).is_none());
        assert!(Curve::new(vec![]).is_none());
    }

    #[test]
    fn linear_demand_uses_sizes() {
        let d = Demand::Linear { base: 0.5, coef: [0.001, 0.02, 0.0], noise: None };
        let a = Arrival { time: 0, sizes: [1000.0, 50.0, 0.0] };
        let mut r = crate::rng::stream(1, crate::rng::Stream::Demand);
        assert!((d.sample(&a, &mut r) - 2.5).abs() < 1e-12);
    }
}
