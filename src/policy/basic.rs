//! The basic metric-and-schedule autoscaler: `rps`, `cpu`, `concurrency` and `schedule` rules,
//! alone or combined. Each rule proposes a replica count; desired is the largest proposal (as
//! Kubernetes combines metrics), clamped to [min, max], then optionally stabilised: a scale-down
//! takes the highest recommendation of the last `down_stabilization`, a scale-up the lowest of
//! the last `up_stabilization`.

use super::schedule::{CronWindow, Schedule};
use super::{Decision, Observation, Policy};
use crate::time::{Clock, Time};
use std::collections::VecDeque;
use std::fmt::Write;

/// One metric rule.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricRule {
    /// desired = ceil(offered rps over `window` / `target` per replica).
    Rps {
        /// Requests per second per replica.
        target: f64,
        /// Averaging window.
        window: Time,
    },
    /// desired = ceil(ready × utilisation / target), unchanged while |ratio − 1| ≤ tolerance.
    Cpu {
        /// Target utilisation, a fraction of the CPU request (0.6 for 60 %).
        target: f64,
        /// Tolerance band around ratio 1 (0.1).
        tolerance: f64,
        /// Averaging window.
        window: Time,
    },
    /// desired = ceil(mean in-flight requests over `window` / `target` per replica).
    Concurrency {
        /// In-flight requests per replica.
        target: f64,
        /// Averaging window.
        window: Time,
    },
}

impl MetricRule {
    /// The longest history this rule reads.
    pub fn window(&self) -> Time {
        match self {
            MetricRule::Rps { window, .. }
            | MetricRule::Cpu { window, .. }
            | MetricRule::Concurrency { window, .. } => *window,
        }
    }
}

/// The checked description of a basic policy.
#[derive(Debug, Clone, PartialEq)]
pub struct BasicSpec {
    /// Time between decisions.
    pub interval: Time,
    /// Metric rules.
    pub metrics: Vec<MetricRule>,
    /// Schedule windows.
    pub schedules: Vec<CronWindow>,
    /// A scale-down uses the highest recommendation over this window (0: none).
    pub down_stabilization: Time,
    /// A scale-up uses the lowest recommendation over this window (0: none).
    pub up_stabilization: Time,
}

impl BasicSpec {
    /// The family name: the single rule's kind, or `mixed`.
    pub fn family(&self) -> &'static str {
        match (self.metrics.as_slice(), self.schedules.is_empty()) {
            ([MetricRule::Rps { .. }], true) => "rps",
            ([MetricRule::Cpu { .. }], true) => "cpu",
            ([MetricRule::Concurrency { .. }], true) => "concurrency",
            ([], false) => "schedule",
            _ => "mixed",
        }
    }
}

/// A running basic policy.
#[derive(Debug, Clone)]
pub struct Basic {
    spec: BasicSpec,
    min: u32,
    max: u32,
    schedules: Vec<Schedule>,
    /// (time, recommendation) within the longest stabilisation window.
    recent: VecDeque<(Time, u32)>,
}

impl Basic {
    /// A controller for `spec`, bounded by [min, max], with schedules resolved on `clock` up to
    /// `horizon`.
    pub fn new(spec: BasicSpec, min: u32, max: u32, clock: &Clock, horizon: Time) -> Basic {
        let schedules = spec.schedules.iter().map(|w| Schedule::resolve(w, clock, horizon)).collect();
        Basic { spec, min, max, schedules, recent: VecDeque::new() }
    }

    fn stabilise(&mut self, now: Time, rec: u32, current: u32) -> (u32, bool) {
        let keep = self.spec.down_stabilization.max(self.spec.up_stabilization);
        self.recent.push_back((now, rec));
        while let Some(&(t, _)) = self.recent.front() {
            if now.saturating_sub(t) > keep {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        let within =
            |w: Time| self.recent.iter().filter(move |(t, _)| now.saturating_sub(*t) <= w).map(|r| r.1);
        let mut out = rec;
        if rec < current && self.spec.down_stabilization > 0 {
            out = within(self.spec.down_stabilization).max().unwrap_or(rec).min(current);
        } else if rec > current && self.spec.up_stabilization > 0 {
            out = within(self.spec.up_stabilization).min().unwrap_or(rec).max(current);
        }
        (out, out != rec)
    }
}

fn ceil_u32(x: f64) -> u32 {
    if x.is_finite() && x > 0.0 { x.ceil().min(u32::MAX as f64) as u32 } else { 0 }
}

impl Policy for Basic {
    fn next_tick(&self, last: Option<Time>) -> Time {
        super::periodic(last, self.spec.interval)
    }

    fn decide(&mut self, seen: &Observation) -> Option<Decision> {
        let mut metrics = String::new();
        // (proposal, which rule) of the largest proposal so far.
        let mut best: Option<(u32, &'static str)> = None;
        let mut propose = |v: u32, why: &'static str| {
            if best.is_none_or(|(b, _)| v > b) {
                best = Some((v, why));
            }
        };
        let note = |metrics: &mut String, args: std::fmt::Arguments| {
            if !metrics.is_empty() {
                metrics.push(' ');
            }
            let _ = metrics.write_fmt(args);
        };
        for rule in &self.spec.metrics {
            match *rule {
                MetricRule::Rps { target, window } => match seen.metrics.rps(window) {
                    Some(r) => {
                        note(&mut metrics, format_args!("rps={r:.2}"));
                        propose(ceil_u32(r / target), "rps");
                    }
                    None => propose(seen.current, "rps: no data"),
                },
                MetricRule::Cpu { target, tolerance, window } => {
                    match seen.metrics.cpu_utilization(window).filter(|_| seen.ready > 0) {
                        Some(u) => {
                            note(&mut metrics, format_args!("cpu={:.1}%", u * 100.0));
                            let ratio = u / target;
                            if (ratio - 1.0).abs() <= tolerance {
                                propose(seen.current, "cpu within tolerance");
                            } else {
                                propose(ceil_u32(seen.ready as f64 * ratio), "cpu");
                            }
                        }
                        None => propose(seen.current, "cpu: no data"),
                    }
                }
                MetricRule::Concurrency { target, window } => match seen.metrics.concurrency_total(window) {
                    Some(c) => {
                        note(&mut metrics, format_args!("concurrency={c:.2}"));
                        propose(ceil_u32(c / target), "concurrency");
                    }
                    None => propose(seen.current, "concurrency: no data"),
                },
            }
        }
        for s in &self.schedules {
            if s.active(seen.now) {
                propose(s.replicas, "schedule");
            }
        }
        let (raw, mut reason) = best.map_or((self.min, "no rule active".to_string()), |(v, w)| (v, w.into()));
        let clamped = raw.clamp(self.min, self.max);
        if clamped != raw {
            reason = if raw > self.max { "TooManyReplicas".into() } else { "TooFewReplicas".into() };
        }
        let (desired, stabilised) = self.stabilise(seen.now, clamped, seen.current);
        if stabilised {
            reason = "stabilized".into();
        }
        Some(Decision {
            desired,
            reason,
            metrics,
            proposal: Some(raw),
            stabilized: Some(desired),
            limited: Some(desired),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{MetricsHistory, MetricsView, Snapshot};
    use crate::time::SECOND;

    fn view(h: &MetricsHistory, now: Snapshot) -> MetricsView<'_> {
        MetricsView { history: h, now, cpu_request_cores: 1.0 }
    }

    fn history(rps: f64, util: f64, ready: f64, secs: u64) -> (MetricsHistory, Snapshot) {
        let mut h = MetricsHistory::new(3600 * SECOND);
        let s = |t: u64| Snapshot {
            t: t * SECOND,
            arrivals: (rps * t as f64) as u64,
            served: 0,
            inflight_integral: 0.0,
            cpu_seconds: util * ready * t as f64,
            ready_replica_seconds: ready * t as f64,
        };
        for t in 0..secs {
            h.push(s(t));
        }
        (h, s(secs))
    }

    fn spec(metrics: Vec<MetricRule>) -> BasicSpec {
        BasicSpec {
            interval: 30 * SECOND,
            metrics,
            schedules: vec![],
            down_stabilization: 0,
            up_stabilization: 0,
        }
    }

    #[test]
    fn rps_rule_is_ceil_of_ratio() {
        let clock = Clock::utc_monday(3600 * SECOND);
        let (h, now) = history(95.0, 0.5, 4.0, 120);
        let mut p = Basic::new(
            spec(vec![MetricRule::Rps { target: 10.0, window: 60 * SECOND }]),
            1,
            50,
            &clock,
            3600 * SECOND,
        );
        let o = Observation {
            now: now.t,
            clock: &clock,
            current: 4,
            ready: 4,
            starting: 0,
            draining: 0,
            pods: &[],
            buffered: 0,
            metrics: view(&h, now),
        };
        assert_eq!(p.decide(&o).unwrap().desired, 10);
    }

    #[test]
    fn cpu_rule_respects_tolerance() {
        let clock = Clock::utc_monday(3600 * SECOND);
        let rule = MetricRule::Cpu { target: 0.6, tolerance: 0.1, window: 30 * SECOND };
        let (h, now) = history(0.0, 0.65, 4.0, 120);
        let mut p = Basic::new(spec(vec![rule.clone()]), 1, 50, &clock, 3600 * SECOND);
        let o = Observation {
            now: now.t,
            clock: &clock,
            current: 4,
            ready: 4,
            starting: 0,
            draining: 0,
            pods: &[],
            buffered: 0,
            metrics: view(&h, now),
        };
        assert_eq!(p.decide(&o).unwrap().desired, 4, "0.65/0.6 is within 10 %");
        let (h, now) = history(0.0, 0.9, 4.0, 120);
        let o = Observation { metrics: view(&h, now), ..o };
        assert_eq!(p.decide(&o).unwrap().desired, 6, "ceil(4 × 0.9/0.6)");
    }

    #[test]
    fn down_stabilization_holds_the_peak() {
        let clock = Clock::utc_monday(3600 * SECOND);
        let mut s = spec(vec![MetricRule::Rps { target: 10.0, window: 10 * SECOND }]);
        s.down_stabilization = 300 * SECOND;
        let mut p = Basic::new(s, 1, 50, &clock, 3600 * SECOND);
        let (h, now) = history(100.0, 0.0, 10.0, 100);
        let o = Observation {
            now: now.t,
            clock: &clock,
            current: 1,
            ready: 1,
            starting: 0,
            draining: 0,
            pods: &[],
            buffered: 0,
            metrics: view(&h, now),
        };
        assert_eq!(p.decide(&o).unwrap().desired, 10);
        let (h2, now2) = history(20.0, 0.0, 10.0, 200);
        let o2 = Observation { now: now2.t, current: 10, metrics: view(&h2, now2), ..o };
        assert_eq!(p.decide(&o2).unwrap().desired, 10, "held by the window");
    }
}
