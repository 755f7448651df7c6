//! The basic metric-and-schedule autoscaler: `rps`, `cpu`, `concurrency` and `schedule` rules,
//! alone or combined. Each rule proposes a replica count; desired is the largest proposal (as
//! Kubernetes combines metrics), clamped to [min, max], then optionally stabilised: a scale-down
//! takes the highest recommendation of the last `down_stabilization`, a scale-up the lowest of
//! the last `up_stabilization`.

use super::schedule::{CronWindow, Schedule};
use super::{Decision, Explanation, Observation, Policy, SteadyState};
use crate::time::{Clock, Time};
use std::collections::VecDeque;
use std::fmt::Write;

/// One metric rule.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricRule {
    /// desired = ceil(offered rps over `window` / `target` per replica), unchanged while
    /// |rps / (target × current) − 1| ≤ tolerance.
    Rps {
        /// Requests per second per replica.
        target: f64,
        /// Tolerance band around ratio 1 (0.1, like the HPA).
        tolerance: f64,
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
    /// desired = ceil(mean in-flight requests over `window` / `target` per replica), unchanged
    /// while |concurrency / (target × current) − 1| ≤ tolerance.
    Concurrency {
        /// In-flight requests per replica.
        target: f64,
        /// Tolerance band around ratio 1 (0.1, like the HPA).
        tolerance: f64,
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

/// A per-replica target rule with the HPA's tolerance: the ratio `total / (target × current)`
/// and whether it is within `tolerance` of 1 (then keep `current`; otherwise propose
/// `ceil(total / target)`). With no replica asked for there is no band.
fn within_band(total: f64, target: f64, tolerance: f64, current: u32) -> (f64, bool) {
    if current == 0 {
        return (f64::INFINITY, false);
    }
    let ratio = total / (target * current as f64);
    (ratio, (ratio - 1.0).abs() <= tolerance)
}

impl Policy for Basic {
    fn next_tick(&self, last: Option<Time>) -> Time {
        super::periodic(last, self.spec.interval)
    }

    fn reads_pod_cpu(&self) -> bool {
        false
    }

    fn decide(&mut self, seen: &Observation) -> Option<Decision> {
        Some(self.decide_noting(seen, None))
    }

    fn start_steady(&mut self, steady: &SteadyState, min: u32, max: u32) -> Option<u32> {
        let n = SteadyState::settle(min, max, |n| self.steady_proposal(steady, n));
        // The stabilisation windows remember that count as every past recommendation.
        self.recent.clear();
        self.recent.push_back((0, n));
        Some(n)
    }

    fn explain(&mut self, seen: &Observation) -> Option<(Decision, Explanation)> {
        let mut steps = Vec::new();
        let d = self.decide_noting(seen, Some(&mut steps));
        let detail = serde_json::json!({
            "current": seen.current,
            "ready": seen.ready,
            "seen": d.metrics,
            "recommendations": self.recent.iter().map(|(t, r)| serde_json::json!({
                "time_s": crate::time::to_secs_f64(*t), "replicas": r,
            })).collect::<Vec<_>>(),
        });
        Some((d, Explanation { steps, detail, case: None }))
    }
}

impl Basic {
    /// The proposal (largest over rules, before bounds and stabilisation) with `n` replicas
    /// ready and asked for, on the steady observation: each rule as [`decide`](Policy::decide)
    /// computes it, schedules as active at time 0.
    fn steady_proposal(&self, steady: &SteadyState, n: u32) -> u32 {
        let mut best: Option<u32> = None;
        let mut propose = |v: u32| best = Some(best.map_or(v, |b| b.max(v)));
        for rule in &self.spec.metrics {
            match *rule {
                MetricRule::Rps { target, tolerance, .. } => {
                    let (_, keep) = within_band(steady.rate, target, tolerance, n);
                    propose(if keep { n } else { ceil_u32(steady.rate / target) });
                }
                MetricRule::Cpu { target, tolerance, .. } => {
                    if n == 0 {
                        propose(n);
                        continue;
                    }
                    let ratio = steady.cpu_utilization(n) / target;
                    propose(if (ratio - 1.0).abs() <= tolerance { n } else { ceil_u32(n as f64 * ratio) });
                }
                MetricRule::Concurrency { target, tolerance, .. } => {
                    let c = steady.concurrency_total(n);
                    if !c.is_finite() {
                        // Saturated (or none ready): at least the fewest that are not.
                        propose(steady.unsaturated());
                        continue;
                    }
                    let (_, keep) = within_band(c, target, tolerance, n);
                    propose(if keep { n } else { ceil_u32(c / target) });
                }
            }
        }
        for sch in &self.schedules {
            if sch.active(0) {
                propose(sch.replicas);
            }
        }
        best.unwrap_or(self.min)
    }

    /// One decision; with `steps`, each rule's window and arithmetic are written there.
    fn decide_noting(&mut self, seen: &Observation, steps: Option<&mut Vec<String>>) -> Decision {
        let explaining = steps.is_some();
        let mut tally = Tally { steps, metrics: String::new(), best: None };
        for rule in &self.spec.metrics {
            match *rule {
                MetricRule::Rps { target, tolerance, window } => {
                    rps_rule(&mut tally, seen, target, tolerance, window)
                }
                MetricRule::Cpu { target, tolerance, window } => {
                    cpu_rule(&mut tally, seen, target, tolerance, window)
                }
                MetricRule::Concurrency { target, tolerance, window } => {
                    concurrency_rule(&mut tally, seen, target, tolerance, window)
                }
            }
        }
        for sch in &self.schedules {
            if sch.active(seen.now) {
                tally.say(&|| format!("schedule window active: {} replicas", sch.replicas));
                tally.propose(sch.replicas, "schedule");
            }
        }
        let (raw, mut reason) =
            tally.best.map_or((self.min, "no rule active".to_string()), |(v, w)| (v, w.into()));
        tally.say(&|| format!("proposal: the largest, {raw} ({reason})"));
        let clamped = raw.clamp(self.min, self.max);
        if clamped != raw {
            reason = if raw > self.max { "TooManyReplicas".into() } else { "TooFewReplicas".into() };
            tally.say(&|| format!("bounds [{}, {}] → {clamped}", self.min, self.max));
        }
        let (desired, stabilised) = self.stabilise(seen.now, clamped, seen.current);
        if explaining {
            self.say_stabilisation(&mut tally, seen.now, desired);
        }
        if stabilised {
            reason = "stabilized".into();
        }
        tally.say(&|| format!("desired {desired} (was {}): {reason}", seen.current));
        Decision {
            desired,
            reason,
            metrics: tally.metrics,
            proposal: Some(raw),
            stabilized: Some(desired),
            limited: Some(desired),
        }
    }

    /// The stabilisation step of an explanation: the remembered recommendations, oldest first,
    /// each marked with the window(s) it falls outside of, and the `desired` they gave.
    fn say_stabilisation(&self, tally: &mut Tally, now: Time, desired: u32) {
        let secs = crate::time::to_secs_f64;
        let (down, up) = (self.spec.down_stabilization, self.spec.up_stabilization);
        if down > 0 || up > 0 {
            // Oldest first (the deque is in time order); an entry older than a window in
            // use is marked (a window of 0 s is not in use).
            let recs: Vec<String> = self
                .recent
                .iter()
                .map(|(t, r)| {
                    let age = now.saturating_sub(*t);
                    let mark = match (down > 0 && age > down, up > 0 && age > up) {
                        (true, true) => " (outside both windows)",
                        (true, false) => " (outside the down window)",
                        (false, true) => " (outside the up window)",
                        (false, false) => "",
                    };
                    format!("{r}@-{}s{mark}", secs(age))
                })
                .collect();
            tally.say(&|| {
                format!(
                    "stabilisation (down {}s: highest, up {}s: lowest) over recommendations, oldest first [{}] → {desired}",
                    secs(down),
                    secs(up),
                    recs.join(", ")
                )
            });
        }
    }
}

/// What one decision gathers while its rules run: the explanation's steps (when explaining),
/// the decision log's metrics line, and the largest proposal so far with the rule that made it.
struct Tally<'s> {
    steps: Option<&'s mut Vec<String>>,
    metrics: String,
    /// (proposal, which rule) of the largest proposal so far.
    best: Option<(u32, &'static str)>,
}

impl Tally<'_> {
    /// Writes the step `f` makes, only when explaining (so nothing is formatted otherwise).
    fn say(&mut self, f: &dyn Fn() -> String) {
        if let Some(s) = self.steps.as_deref_mut() {
            s.push(f());
        }
    }

    /// Offers a proposal: kept when it is the first or larger than the largest so far.
    fn propose(&mut self, v: u32, why: &'static str) {
        if self.best.is_none_or(|(b, _)| v > b) {
            self.best = Some((v, why));
        }
    }

    /// Appends `args` to the metrics line, space-separated.
    fn note(&mut self, args: std::fmt::Arguments) {
        if !self.metrics.is_empty() {
            self.metrics.push(' ');
        }
        let _ = self.metrics.write_fmt(args);
    }
}

/// The `rps` rule: ceil(offered rps over `window` / `target`), or the current count within the
/// tolerance band or without data.
fn rps_rule(tally: &mut Tally, seen: &Observation, target: f64, tolerance: f64, window: Time) {
    let secs = crate::time::to_secs_f64;
    match seen.metrics.rps(window) {
        Some(r) => {
            tally.note(format_args!("rps={r:.2}"));
            let (ratio, keep) = within_band(r, target, tolerance, seen.current);
            tally.say(&|| {
                let head = format!(
                    "rps over the last {}s: {r:.3} req/s (every arrival, served or not), ratio {ratio:.4} to {target} × {} replicas",
                    secs(window),
                    seen.current
                );
                if keep {
                    format!("{head} within tolerance {tolerance} → keep {}", seen.current)
                } else {
                    format!("{head} → ceil({r:.3} / {target}) = {}", ceil_u32(r / target))
                }
            });
            if keep {
                tally.propose(seen.current, "rps within tolerance");
            } else {
                tally.propose(ceil_u32(r / target), "rps");
            }
        }
        None => {
            tally.say(&|| "rps: no data yet, proposes the current count".to_string());
            tally.propose(seen.current, "rps: no data")
        }
    }
}

/// The `cpu` rule: ceil(ready × utilisation over `window` / `target`), or the current count
/// within the tolerance band, without data or without a ready replica.
fn cpu_rule(tally: &mut Tally, seen: &Observation, target: f64, tolerance: f64, window: Time) {
    let secs = crate::time::to_secs_f64;
    match seen.metrics.cpu_utilization(window).filter(|_| seen.ready > 0) {
        Some(u) => {
            tally.note(format_args!("cpu={:.1}%", u * 100.0));
            let ratio = u / target;
            if (ratio - 1.0).abs() <= tolerance {
                tally.say(&|| {
                    format!(
                        "cpu over the last {}s: {:.2}% of the request, ratio {ratio:.4} to {:.1}% within tolerance {tolerance} → keep {}",
                        secs(window),
                        u * 100.0,
                        target * 100.0,
                        seen.current
                    )
                });
                tally.propose(seen.current, "cpu within tolerance");
            } else {
                tally.say(&|| {
                    format!(
                        "cpu over the last {}s: {:.2}% of the request, ratio {ratio:.4} to {:.1}% → ceil({} ready × {ratio:.4}) = {}",
                        secs(window),
                        u * 100.0,
                        target * 100.0,
                        seen.ready,
                        ceil_u32(seen.ready as f64 * ratio)
                    )
                });
                tally.propose(ceil_u32(seen.ready as f64 * ratio), "cpu");
            }
        }
        None => {
            tally.say(&|| "cpu: no data (or no ready replica), proposes the current count".to_string());
            tally.propose(seen.current, "cpu: no data")
        }
    }
}

/// The `concurrency` rule: ceil(mean in-flight requests over `window` / `target`), or the
/// current count within the tolerance band or without data.
fn concurrency_rule(tally: &mut Tally, seen: &Observation, target: f64, tolerance: f64, window: Time) {
    let secs = crate::time::to_secs_f64;
    match seen.metrics.concurrency_total(window) {
        Some(c) => {
            tally.note(format_args!("concurrency={c:.2}"));
            let (ratio, keep) = within_band(c, target, tolerance, seen.current);
            tally.say(&|| {
                let head = format!(
                    "mean requests in flight over the last {}s: {c:.3}, ratio {ratio:.4} to {target} × {} replicas",
                    secs(window),
                    seen.current
                );
                if keep {
                    format!("{head} within tolerance {tolerance} → keep {}", seen.current)
                } else {
                    format!("{head} → ceil({c:.3} / {target}) = {}", ceil_u32(c / target))
                }
            });
            if keep {
                tally.propose(seen.current, "concurrency within tolerance");
            } else {
                tally.propose(ceil_u32(c / target), "concurrency");
            }
        }
        None => {
            tally.say(&|| "concurrency: no data yet, proposes the current count".to_string());
            tally.propose(seen.current, "concurrency: no data")
        }
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
            spec(vec![MetricRule::Rps { target: 10.0, tolerance: 0.1, window: 60 * SECOND }]),
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
    fn rps_rule_has_the_hpa_tolerance() {
        let clock = Clock::utc_monday(3600 * SECOND);
        let (h, now) = history(10.5, 0.5, 10.0, 120);
        let o = Observation {
            now: now.t,
            clock: &clock,
            current: 10,
            ready: 10,
            starting: 0,
            draining: 0,
            pods: &[],
            buffered: 0,
            metrics: view(&h, now),
        };
        let rule = |tolerance| MetricRule::Rps { target: 1.0, tolerance, window: 60 * SECOND };
        let mut p = Basic::new(spec(vec![rule(0.1)]), 1, 50, &clock, 3600 * SECOND);
        let d = p.decide(&o).unwrap();
        assert_eq!(
            (d.desired, d.reason.as_str()),
            (10, "rps within tolerance"),
            "10.5 / (1 × 10) is within 10 %"
        );
        let mut p = Basic::new(spec(vec![rule(0.0)]), 1, 50, &clock, 3600 * SECOND);
        assert_eq!(p.decide(&o).unwrap().desired, 11, "no band: ceil(10.5)");
        let mut p = Basic::new(spec(vec![rule(0.1)]), 1, 50, &clock, 3600 * SECOND);
        let (_, e) = p.explain(&Observation { current: 8, ..o }).unwrap();
        assert!(e.steps[0].contains("ceil(10.500 / 1) = 11"), "{:?}", e.steps);
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
        let mut s = spec(vec![MetricRule::Rps { target: 10.0, tolerance: 0.1, window: 10 * SECOND }]);
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

    #[test]
    fn explained_recommendations_are_oldest_first_with_those_outside_a_window_marked() {
        let clock = Clock::utc_monday(3600 * SECOND);
        let mut s = spec(vec![MetricRule::Rps { target: 10.0, tolerance: 0.1, window: 10 * SECOND }]);
        s.down_stabilization = 300 * SECOND;
        s.up_stabilization = 60 * SECOND;
        let mut p = Basic::new(s, 1, 50, &clock, 3600 * SECOND);
        let mut step = String::new();
        for (secs, rps) in [(100, 50.0), (200, 80.0), (300, 60.0)] {
            let (h, now) = history(rps, 0.0, 5.0, secs);
            let o = Observation {
                now: now.t,
                clock: &clock,
                current: 5,
                ready: 5,
                starting: 0,
                draining: 0,
                pods: &[],
                buffered: 0,
                metrics: view(&h, now),
            };
            let (_, e) = p.explain(&o).unwrap();
            step = e.steps.iter().find(|s| s.contains("stabilisation")).cloned().unwrap_or_default();
        }
        assert!(
            step.contains(
                "oldest first [5@-200s (outside the up window), 8@-100s (outside the up window), 6@-0s]"
            ),
            "{step}"
        );
    }
}
