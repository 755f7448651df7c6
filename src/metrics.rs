//! What a policy can observe: windowed metrics over the simulated service.
//!
//! The engine records a [`Snapshot`] of cumulative counters at a fixed resolution (1 s) and
//! hands policies a [`MetricsView`] — the recent history plus a snapshot taken at the decision
//! instant. A windowed metric is the difference of two snapshots, so any window (and, later,
//! any scrape interval or reporting lag) costs one lookup, never a pass over requests.

use crate::time::{SECOND, Time, to_secs_f64};
use std::collections::VecDeque;

/// Cumulative counters at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Snapshot {
    /// When it was taken.
    pub t: Time,
    /// Requests offered to the service since the start.
    pub arrivals: u64,
    /// Requests that finished service since the start.
    pub served: u64,
    /// ∫ requests in the system (in service or queued, at any replica) dt, request-seconds.
    pub inflight_integral: f64,
    /// CPU-seconds used by ready, non-draining replicas.
    pub cpu_seconds: f64,
    /// ∫ ready, non-draining replicas dt, replica-seconds.
    pub ready_replica_seconds: f64,
}

/// Rates over a window, from two snapshots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// The earlier snapshot.
    pub from: Snapshot,
    /// The later snapshot.
    pub to: Snapshot,
}

impl Window {
    /// Length of the window, seconds.
    pub fn seconds(&self) -> f64 {
        to_secs_f64(self.to.t - self.from.t)
    }

    /// Offered requests per second.
    pub fn rps(&self) -> f64 {
        (self.to.arrivals - self.from.arrivals) as f64 / self.seconds()
    }

    /// Mean requests in flight (service plus queues), over all replicas.
    pub fn concurrency_total(&self) -> f64 {
        (self.to.inflight_integral - self.from.inflight_integral) / self.seconds()
    }

    /// Mean ready, non-draining replicas.
    pub fn ready_replicas(&self) -> f64 {
        (self.to.ready_replica_seconds - self.from.ready_replica_seconds) / self.seconds()
    }

    /// Mean requests in flight per ready replica; `None` with no ready replica in the window.
    pub fn concurrency_per_replica(&self) -> Option<f64> {
        let r = self.ready_replicas();
        (r > 1e-9).then(|| self.concurrency_total() / r)
    }

    /// CPU utilisation (usage / request, a fraction) averaged over ready replicas, as the
    /// Kubernetes resource metric computes it; `None` with no ready replica in the window.
    pub fn cpu_utilization(&self, request_cores: f64) -> Option<f64> {
        let rs = self.to.ready_replica_seconds - self.from.ready_replica_seconds;
        (rs > 1e-9 && request_cores > 0.0)
            .then(|| (self.to.cpu_seconds - self.from.cpu_seconds) / (rs * request_cores))
    }
}

/// The rates of the counters before time 0, when a run starts in steady state: a window that
/// reaches back before the first snapshot is completed with them, as if the service had run at
/// these rates for ever (`simulation.initial = "steady"`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Prior {
    /// Offered (and served) requests per second.
    pub rps: f64,
    /// Mean requests in flight over all replicas.
    pub in_flight: f64,
    /// CPU cores used by the ready replicas together.
    pub cpu_cores: f64,
    /// Ready replicas.
    pub ready: f64,
}

/// A bounded history of snapshots, oldest first.
#[derive(Debug, Clone)]
pub struct MetricsHistory {
    samples: VecDeque<Snapshot>,
    keep: Time,
    /// What came before the first sample, if the run started in steady state.
    prior: Option<Prior>,
}

impl MetricsHistory {
    /// The sampling resolution the engine uses.
    pub const RESOLUTION: Time = SECOND;

    /// A history that keeps at least `keep` of past samples.
    pub fn new(keep: Time) -> MetricsHistory {
        MetricsHistory { samples: VecDeque::new(), keep: keep.max(Self::RESOLUTION), prior: None }
    }

    /// Declares the rates before the first sample (a steady start).
    pub fn set_prior(&mut self, prior: Prior) {
        self.prior = Some(prior);
    }

    /// The window of length `length` ending at `to`, from the latest sample at or before its
    /// start (or the oldest kept). When it reaches back before the first sample (time 0) and
    /// a [`Prior`] is set, the missing part is filled with the prior's rates (the window is then
    /// `length` long, its snapshots synthetic: only their differences mean anything); without
    /// one it is shortened to the history available. `None` when it would be empty.
    pub fn window_to(&self, to: Snapshot, length: Time) -> Option<Window> {
        let start = to.t.saturating_sub(length);
        let from = self.at_or_before(start).or_else(|| self.oldest()).copied();
        let short = |from: &Snapshot| from.t == 0 && to.t.saturating_sub(from.t) < length;
        match (self.prior, from) {
            (Some(p), from) if from.is_none_or(|f| short(&f)) && length > 0 => {
                let from = from.filter(|f| f.t <= to.t).unwrap_or(to);
                let missing = length - (to.t - from.t);
                let m = to_secs_f64(missing);
                let count = |x: f64| (x * m).round().max(0.0) as u64;
                let synthetic = Snapshot {
                    t: length,
                    arrivals: to.arrivals - from.arrivals + count(p.rps),
                    served: to.served.saturating_sub(from.served) + count(p.rps),
                    inflight_integral: to.inflight_integral - from.inflight_integral + p.in_flight * m,
                    cpu_seconds: to.cpu_seconds - from.cpu_seconds + p.cpu_cores * m,
                    ready_replica_seconds: to.ready_replica_seconds - from.ready_replica_seconds
                        + p.ready * m,
                };
                Some(Window { from: Snapshot::default(), to: synthetic })
            }
            (_, from) => from.filter(|f| f.t < to.t).map(|from| Window { from, to }),
        }
    }

    /// Appends a snapshot (times must not decrease) and forgets samples older than needed.
    pub fn push(&mut self, s: Snapshot) {
        self.samples.push_back(s);
        while self.samples.len() > 2 && s.t.saturating_sub(self.samples[1].t) >= self.keep {
            self.samples.pop_front();
        }
    }

    /// The latest sample taken at or before `t`, if any.
    pub fn at_or_before(&self, t: Time) -> Option<&Snapshot> {
        let i = self.samples.partition_point(|s| s.t <= t);
        if i == 0 { None } else { self.samples.get(i - 1) }
    }

    /// The oldest sample kept.
    pub fn oldest(&self) -> Option<&Snapshot> {
        self.samples.front()
    }
}

/// The metrics a policy sees at one decision: history plus the present.
#[derive(Debug, Clone, Copy)]
pub struct MetricsView<'a> {
    /// Past snapshots.
    pub history: &'a MetricsHistory,
    /// Counters at the decision instant.
    pub now: Snapshot,
    /// The replicas' CPU request, cores.
    pub cpu_request_cores: f64,
}

impl MetricsView<'_> {
    /// The window `[now − length, now]`, shortened to the history available (the start of the
    /// simulation), or completed with the steady [`Prior`] when the run has one
    /// ([`MetricsHistory::window_to`]). `None` when it would be empty.
    pub fn window(&self, length: Time) -> Option<Window> {
        self.history.window_to(self.now, length)
    }

    /// Offered requests per second over the last `length`.
    pub fn rps(&self, length: Time) -> Option<f64> {
        self.window(length).map(|w| w.rps())
    }

    /// CPU utilisation (fraction) over the last `length`.
    pub fn cpu_utilization(&self, length: Time) -> Option<f64> {
        self.window(length).and_then(|w| w.cpu_utilization(self.cpu_request_cores))
    }

    /// Mean in-flight requests per ready replica over the last `length`.
    pub fn concurrency_per_replica(&self, length: Time) -> Option<f64> {
        self.window(length).and_then(|w| w.concurrency_per_replica())
    }

    /// Mean in-flight requests over all replicas over the last `length`.
    pub fn concurrency_total(&self, length: Time) -> Option<f64> {
        self.window(length).map(|w| w.concurrency_total())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(t: u64, arrivals: u64) -> Snapshot {
        Snapshot { t: t * SECOND, arrivals, ready_replica_seconds: t as f64 * 2.0, ..Default::default() }
    }

    #[test]
    fn window_rates() {
        let mut h = MetricsHistory::new(60 * SECOND);
        for t in 0..=100 {
            h.push(snap(t, t * 10));
        }
        let v = MetricsView { history: &h, now: snap(100, 1000), cpu_request_cores: 1.0 };
        let w = v.window(15 * SECOND).unwrap();
        assert_eq!(w.from.t, 85 * SECOND);
        assert_eq!(w.rps(), 10.0);
        assert_eq!(w.ready_replicas(), 2.0);
        // Older than kept: falls back to the oldest sample.
        let w = v.window(3600 * SECOND).unwrap();
        assert!(w.from.t >= 39 * SECOND && w.from.t <= 41 * SECOND);
    }

    #[test]
    fn a_prior_completes_windows_that_reach_before_zero() {
        let mut h = MetricsHistory::new(3600 * SECOND);
        h.set_prior(Prior { rps: 10.0, in_flight: 2.0, cpu_cores: 1.0, ready: 2.0 });
        // At time 0 the window is all prior.
        let zero = Snapshot::default();
        h.push(zero);
        let v = MetricsView { history: &h, now: zero, cpu_request_cores: 1.0 };
        let w = v.window(60 * SECOND).unwrap();
        assert_eq!((w.seconds(), w.rps(), w.concurrency_total()), (60.0, 10.0, 2.0));
        assert_eq!(w.cpu_utilization(1.0), Some(0.5));
        // 30 s in, at 20 req/s: half prior, half measured.
        for t in 1..=30 {
            h.push(snap(t, t * 20));
        }
        let v = MetricsView { history: &h, now: snap(30, 600), cpu_request_cores: 1.0 };
        assert_eq!(v.rps(60 * SECOND), Some(15.0));
        assert_eq!(v.rps(10 * SECOND), Some(20.0), "a window within the history is measured");
    }

    #[test]
    fn empty_window_is_none() {
        let mut h = MetricsHistory::new(SECOND);
        h.push(snap(0, 0));
        let v = MetricsView { history: &h, now: snap(0, 0), cpu_request_cores: 1.0 };
        assert!(v.rps(15 * SECOND).is_none());
    }
}
