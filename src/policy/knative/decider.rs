//! The KPA decider (`pkg/autoscaler/scaling/autoscaler.go`, `Scale`): from the stable and
//! panic averages and the ready pod count to a desired pod count and the excess burst capacity,
//! with panic mode, rate limits, activation scale and the scale-down delay window. A pure
//! struct: it sees numbers, never the engine, so `scalesim explain kpa` and the simulation run
//! the same code.

use crate::time::{SECOND, Time};
use std::collections::VecDeque;

/// The decider's settings (`DeciderSpec`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeciderSpec {
    /// Per-pod target of the metric (`TargetValue`).
    pub target: f64,
    /// Per-pod total capacity (`TotalValue`), for the excess burst capacity.
    pub total: f64,
    /// Target burst capacity (0 none, −1 unlimited).
    pub target_burst_capacity: f64,
    /// Panic threshold as a factor (2.0).
    pub panic_threshold: f64,
    /// Max scale-up rate (> 1).
    pub max_scale_up_rate: f64,
    /// Max scale-down rate (> 1).
    pub max_scale_down_rate: f64,
    /// Stable window: how long panic lasts after the last over-threshold tick.
    pub stable_window: Time,
    /// Scale-down delay (0: none).
    pub scale_down_delay: Time,
    /// Activation scale (1: none).
    pub activation_scale: u32,
    /// Whether the revision receives traffic (only then is scale-down rate-limited).
    pub reachable: bool,
}

/// What one tick decided, with the intermediate values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleResult {
    /// Desired pod count.
    pub desired: u32,
    /// Excess burst capacity (−1 when TBC is unlimited).
    pub excess_burst_capacity: i64,
    /// In panic mode after this tick.
    pub panicking: bool,
    /// `ceil(stable / target)`.
    pub dspc: u32,
    /// `ceil(panic / target)`.
    pub dppc: u32,
    /// Stable proposal after the rate limits and activation scale.
    pub desired_stable: u32,
    /// Panic proposal after the rate limits and activation scale.
    pub desired_panic: u32,
    /// The result before the scale-down delay window.
    pub before_delay: u32,
    /// Why: `panic`, `stable`, `max scale-up rate`, `max scale-down rate`, `activation scale`,
    /// `scale-down delay`.
    pub reason: &'static str,
}

/// The max over the last `delay` of recorded values, in 2 s buckets (`max.TimeWindow`, an
/// ascending-minima window indexed by `unix / 2`).
#[derive(Debug, Clone, PartialEq)]
struct DelayWindow {
    size: u64,
    granularity: Time,
    /// (index, value), indices ascending, values descending.
    maxima: VecDeque<(u64, u32)>,
}

impl DelayWindow {
    fn new(delay: Time, granularity: Time) -> DelayWindow {
        DelayWindow { size: delay.div_ceil(granularity).max(1), granularity, maxima: VecDeque::new() }
    }

    fn record(&mut self, now: Time, mut v: u32) {
        let index = now / self.granularity;
        while self.maxima.back().is_some_and(|&(_, b)| v >= b) {
            self.maxima.pop_back();
        }
        while self.maxima.front().is_some_and(|&(i, _)| index.saturating_sub(i) >= self.size) {
            self.maxima.pop_front();
        }
        if let Some(&(i, b)) = self.maxima.back()
            && i == index
        {
            v = v.max(b);
            self.maxima.pop_back();
        }
        self.maxima.push_back((index, v));
    }

    fn current(&self) -> u32 {
        self.maxima.front().map_or(0, |e| e.1)
    }
}

/// One revision's decider, with its panic state.
#[derive(Debug, Clone, PartialEq)]
pub struct Decider {
    spec: DeciderSpec,
    panic_time: Option<Time>,
    max_panic_pods: u32,
    delay: Option<DelayWindow>,
}

fn ceil_u32(x: f64) -> f64 {
    if x.is_finite() { x.ceil().max(0.0) } else { 0.0 }
}

impl Decider {
    /// A decider created at `now` with `ready` pods: it starts in panic (holding `ready`) when
    /// more than one pod is ready, so that it never scales down before it has history.
    pub fn new(spec: DeciderSpec, ready: u32, now: Time) -> Decider {
        let delay = (spec.scale_down_delay > 0).then(|| DelayWindow::new(spec.scale_down_delay, 2 * SECOND));
        Decider { spec, panic_time: (ready > 1).then_some(now), max_panic_pods: ready, delay }
    }

    /// The settings.
    pub fn spec(&self) -> &DeciderSpec {
        &self.spec
    }

    /// Whether the decider is in panic mode.
    pub fn panicking(&self) -> bool {
        self.panic_time.is_some()
    }

    /// One tick at `now` with the window averages and the ready pod count.
    pub fn scale(&mut self, now: Time, stable: f64, panic: f64, ready: u32) -> ScaleResult {
        let s = self.spec;
        let ready_f = (ready as f64).max(1.0);
        let max_up = (s.max_scale_up_rate * ready_f).ceil();
        let max_down = if s.reachable { (ready_f / s.max_scale_down_rate).floor() } else { 0.0 };
        let dspc = ceil_u32(stable / s.target);
        let dppc = ceil_u32(panic / s.target);
        let clamp = |x: f64| x.max(max_down).min(max_up);
        let mut desired_stable = clamp(dspc) as u32;
        let mut desired_panic = clamp(dppc) as u32;
        let mut reason = if dspc > max_up {
            "max scale-up rate"
        } else if dspc < max_down {
            "max scale-down rate"
        } else {
            "stable"
        };
        if s.activation_scale > 1 {
            if dspc > 0.0 && s.activation_scale > desired_stable {
                desired_stable = s.activation_scale;
                reason = "activation scale";
            }
            if dppc > 0.0 && s.activation_scale > desired_panic {
                desired_panic = s.activation_scale;
            }
        }
        let over = dppc / ready_f >= s.panic_threshold;
        match self.panic_time {
            _ if over => self.panic_time = Some(now),
            Some(pt) if pt + s.stable_window < now => {
                self.panic_time = None;
                self.max_panic_pods = 0;
            }
            _ => {}
        }
        let mut desired = desired_stable;
        if self.panic_time.is_some() {
            desired = desired.max(desired_panic);
            self.max_panic_pods = self.max_panic_pods.max(desired);
            desired = self.max_panic_pods;
            reason = "panic";
        }
        let before_delay = desired;
        if let Some(w) = &mut self.delay {
            w.record(now, desired);
            let d = w.current();
            if d != desired {
                desired = d;
                reason = "scale-down delay";
            }
        }
        let ebc = if s.target_burst_capacity == 0.0 {
            0
        } else if s.target_burst_capacity > 0.0 {
            (ready as f64 * s.total - s.target_burst_capacity - panic).floor() as i64
        } else {
            -1
        };
        ScaleResult {
            desired,
            excess_burst_capacity: ebc,
            panicking: self.panic_time.is_some(),
            dspc: dspc as u32,
            dppc: dppc as u32,
            desired_stable,
            desired_panic,
            before_delay,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Time = SECOND;

    /// The spec of upstream `newTestAutoscaler`: total = target / 0.75, threshold 2, rates 10.
    fn spec(target: f64, tbc: f64) -> DeciderSpec {
        DeciderSpec {
            target,
            total: target / 0.75,
            target_burst_capacity: tbc,
            panic_threshold: 2.0,
            max_scale_up_rate: 10.0,
            max_scale_down_rate: 10.0,
            stable_window: 60 * S,
            scale_down_delay: 0,
            activation_scale: 1,
            reachable: true,
        }
    }

    fn ebc(target: f64, tbc: f64, panic: f64, pods: f64) -> i64 {
        (target / 0.75 * pods - tbc - panic).floor() as i64
    }

    #[test]
    fn stable_mode_no_change_k1() {
        let mut d = Decider::new(spec(10.0, 100.0), 1, 0);
        let r = d.scale(0, 50.0, 50.0, 1);
        assert_eq!((r.desired, r.excess_burst_capacity), (5, ebc(10.0, 100.0, 50.0, 1.0)));
    }

    #[test]
    fn panic_mode_double_pod_count_k3() {
        let mut d = Decider::new(spec(10.0, 84.0), 1, 0);
        let r = d.scale(0, 50.0, 100.0, 1);
        assert_eq!(r.desired, 10);
        assert!(r.panicking);
    }

    #[test]
    fn small_scale_down_rate_k5_and_unreachable() {
        let mut s = spec(10.0, 1982.0);
        s.max_scale_down_rate = 1.1;
        assert_eq!(Decider::new(s, 1, 0).scale(0, 1.0, 1.0, 100).desired, 90);
        s.reachable = false;
        assert_eq!(Decider::new(s, 1, 0).scale(0, 1.0, 1.0, 100).desired, 1);
    }

    #[test]
    fn rate_limited_scale_up_k8() {
        let mut d = Decider::new(spec(10.0, 61.0), 1, 0);
        assert_eq!(d.scale(0, 1000.0, 1001.0, 1).desired, 10);
        assert_eq!(d.scale(0, 1000.0, 1001.0, 10).desired, 100);
    }

    #[test]
    fn no_traffic_scales_to_zero_k12() {
        let mut d = Decider::new(spec(10.0, 75.0), 1, 0);
        assert_eq!(d.scale(0, 1.0, 0.0, 1).desired, 1);
        assert_eq!(d.scale(0, 0.0, 0.0, 1).desired, 0);
    }

    #[test]
    fn panic_then_unpanic_scale_down() {
        let mut d = Decider::new(spec(10.0, 93.0), 1, 0);
        let t0 = 100 * S;
        assert_eq!(d.scale(t0, 100.0, 100.0, 1).desired, 10);
        assert_eq!(d.scale(t0, 100.0, 1000.0, 10).desired, 100);
        assert_eq!(d.scale(t0 + 30 * S, 1.0, 1.0, 10).desired, 100, "no scale-down in panic");
        let r = d.scale(t0 + 61 * S, 1.0, 1.0, 10);
        assert_eq!(r.desired, 1);
        assert!(!r.panicking);
    }

    #[test]
    fn starts_in_panic_with_more_than_one_ready_pod() {
        for (ready, panic) in [(0, false), (1, false), (2, true)] {
            let d = Decider::new(spec(100.0, 11.0), ready, 0);
            assert_eq!(d.panicking(), panic);
            assert_eq!(d.max_panic_pods, ready);
        }
        // Holds the pods it started with.
        let mut d = Decider::new(spec(10.0, 0.0), 5, 0);
        assert_eq!(d.scale(2 * S, 0.0, 0.0, 5).desired, 5);
    }

    #[test]
    fn scale_down_delay_holds_the_max_over_the_window() {
        let mut s = spec(10.0, 0.0);
        s.panic_threshold = 100.0;
        s.scale_down_delay = 300 * S;
        let mut d = Decider::new(s, 0, 0);
        assert_eq!(d.scale(2 * S, 40.0, 40.0, 0).desired, 4);
        let r = d.scale(300 * S, 0.0, 0.0, 0);
        assert_eq!((r.desired, r.reason), (4, "scale-down delay"));
        assert_eq!(d.scale(302 * S, 0.0, 0.0, 0).desired, 0);
    }

    #[test]
    fn activation_scale_applies_only_with_traffic() {
        let mut s = spec(10.0, 75.0);
        s.activation_scale = 2;
        let mut d = Decider::new(s, 1, 0);
        assert_eq!(d.scale(0, 0.0, 0.0, 1).desired, 0);
        assert_eq!(d.scale(0, 1.0, 0.0, 1).desired, 2);
    }

    #[test]
    fn ebc_special_values() {
        assert_eq!(Decider::new(spec(181.0, -1.0), 1, 0).scale(0, 21.0, 26.0, 1).excess_burst_capacity, -1);
        assert_eq!(Decider::new(spec(10.0, 0.0), 1, 0).scale(0, 50.0, 49.0, 1).excess_burst_capacity, 0);
    }
}
