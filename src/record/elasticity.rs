//! Elasticity metrics of the SPEC Research Group: how closely a policy's supplied replicas follow
//! the replicas the load demanded.
//!
//! Herbst, Kounev and Reussner, "Elasticity in Cloud Computing: What It Is, and What It Is Not"
//! (ICAC 2013), define elasticity against two curves over time: the resources *demanded* (the
//! fewest that meet the SLO for the load at that time) and the resources *supplied*. The SPEC RG
//! Cloud group's metrics (Herbst et al., "Ready for Rain?", SPEC-RG-2016-01, and the TOMPECS
//! versions used by Bauer et al. to rank autoscalers) summarise the gap between them. Here both
//! curves are replica counts that change in steps ([`StepCurve`]): the supply is a run's ready
//! replicas, the demand the oracle's per-interval replica need (`crate::oracle`). With `T` the
//! horizon, `s(t)` supply, `d(t)` demand and `d⁺(t) = max(d(t), 1)`:
//!
//! * under-provisioning accuracy `θU = 100/T ∫ max(d − s, 0) / d⁺ dt` (%),
//! * over-provisioning accuracy `θO = 100/T ∫ max(s − d, 0) / d⁺ dt` (%),
//! * under-provisioning timeshare `τU = 100/T ∫ [s < d] dt` (%),
//! * over-provisioning timeshare `τO = 100/T ∫ [s > d] dt` (%),
//! * jitter `j = (E_S − E_D) / T` in adaptations per hour, `E_S` and `E_D` the number of changes
//!   of the supply and of the demand curve in `(0, T)`; positive means the supply changes more
//!   often than the demand (oscillation), negative less often (inertia);
//! * instability `υ = 100/(n − 1) · Σ_{k=1}^{n−1} min(|sgn Δs_k − sgn Δd_k|, 1)` (%), over the
//!   `n` samples `t_k = k·g < T` of both curves on a grid of step `g` (the demand's interval),
//!   `Δs_k = s(t_k) − s(t_{k−1})`: the share of grid steps in which supply and demand do not move
//!   in the same direction.
//!
//! The integrals are exact over the step curves (the papers' sums over samples, with the samples
//! at every change point). The papers divide by `d(t)`; a demand of zero replicas (no arrivals
//! foreseen) is counted as one (`d⁺`) so that idle replicas then still count as
//! over-provisioning. Pure functions, no I/O.

use crate::time::{Time, to_secs_f64};
use serde::{Deserialize, Serialize};

/// A replica count over time that changes in steps: it takes `points[i].1` from `points[i].0`
/// until the next point. The first point is at time 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepCurve {
    points: Vec<(Time, u32)>,
}

impl Default for StepCurve {
    fn default() -> Self {
        StepCurve::constant(0)
    }
}

impl StepCurve {
    /// `value` from time 0 on.
    pub fn constant(value: u32) -> StepCurve {
        StepCurve { points: vec![(0, value)] }
    }

    /// The curve through `points` (time, value), taken in order: later points at the same time
    /// replace earlier ones and repeated values are dropped. Times must not decrease; a curve
    /// that does not start at 0 is 0 until its first point.
    pub fn from_points(points: impl IntoIterator<Item = (Time, u32)>) -> StepCurve {
        let mut c = StepCurve::constant(0);
        for (t, v) in points {
            c.set(t, v);
        }
        c
    }

    /// The value becomes `value` at `t` (not before the last change).
    pub fn set(&mut self, t: Time, value: u32) {
        let last = *self.points.last().expect("a curve has a first point");
        debug_assert!(t >= last.0, "step curve times must not decrease");
        if t <= last.0 {
            self.points.pop();
            match self.points.last() {
                Some(&(_, v)) if v == value => {}
                _ => self.points.push((last.0, value)),
            }
        } else if value != last.1 {
            self.points.push((t, value));
        }
    }

    /// The value at `t`.
    pub fn at(&self, t: Time) -> u32 {
        let i = self.points.partition_point(|&(pt, _)| pt <= t);
        self.points[i.max(1) - 1].1
    }

    /// The change points (time, new value), the first at time 0.
    pub fn points(&self) -> &[(Time, u32)] {
        &self.points
    }

    /// How many times the value changes in `(0, horizon)`.
    pub fn changes_before(&self, horizon: Time) -> u64 {
        self.points.iter().filter(|&&(t, _)| t > 0 && t < horizon).count() as u64
    }

    /// ∫ value dt over `[0, horizon)`, in value-seconds.
    pub fn integral(&self, horizon: Time) -> f64 {
        let mut sum = 0.0;
        for (i, &(t, v)) in self.points.iter().enumerate() {
            if t >= horizon {
                break;
            }
            let end = self.points.get(i + 1).map_or(horizon, |p| p.0.min(horizon));
            sum += v as f64 * to_secs_f64(end - t);
        }
        sum
    }
}

/// A demand curve with the interval it was computed on (the instability's sampling grid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemandCurve {
    /// Replicas demanded over time.
    pub curve: StepCurve,
    /// Length of the intervals the demand is constant over.
    pub interval: Time,
}

/// The SPEC elasticity metrics of one supply curve against one demand curve (see the module
/// notes for the formulas).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Elasticity {
    /// θU: mean shortfall of supply as a percentage of the demand.
    pub theta_under_pct: f64,
    /// θO: mean excess of supply as a percentage of the demand.
    pub theta_over_pct: f64,
    /// τU: percentage of time with fewer replicas supplied than demanded.
    pub tau_under_pct: f64,
    /// τO: percentage of time with more replicas supplied than demanded.
    pub tau_over_pct: f64,
    /// υ: percentage of grid steps in which supply and demand do not move in the same direction.
    pub instability_pct: f64,
    /// j: supply adaptations minus demand adaptations, per hour.
    pub jitter_per_h: f64,
    /// E_S: changes of the supply curve.
    pub supply_adaptations: u64,
    /// E_D: changes of the demand curve.
    pub demand_adaptations: u64,
}

/// The elasticity metrics of `supplied` against `demanded` over `[0, horizon)`, with the
/// instability sampled every `grid` (e.g. the demand curve's interval).
pub fn elasticity(supplied: &StepCurve, demanded: &StepCurve, horizon: Time, grid: Time) -> Elasticity {
    let total = to_secs_f64(horizon);
    let (mut under, mut over, mut t_under, mut t_over) = (0.0, 0.0, 0.0, 0.0);
    // Walk the union of both curves' change points.
    let (s, d) = (supplied.points(), demanded.points());
    let (mut i, mut j) = (0usize, 0usize);
    let mut t: Time = 0;
    while t < horizon {
        while i + 1 < s.len() && s[i + 1].0 <= t {
            i += 1;
        }
        while j + 1 < d.len() && d[j + 1].0 <= t {
            j += 1;
        }
        let next_s = s.get(i + 1).map_or(horizon, |p| p.0);
        let next_d = d.get(j + 1).map_or(horizon, |p| p.0);
        let end = next_s.min(next_d).min(horizon);
        let dt = to_secs_f64(end - t);
        let sv = if s[i].0 <= t { s[i].1 } else { 0 } as f64;
        let dv = if d[j].0 <= t { d[j].1 } else { 0 } as f64;
        let norm = dv.max(1.0);
        if sv < dv {
            under += (dv - sv) / norm * dt;
            t_under += dt;
        } else if sv > dv {
            over += (sv - dv) / norm * dt;
            t_over += dt;
        }
        t = end;
    }
    let pct = |x: f64| if total > 0.0 { 100.0 * x / total } else { 0.0 };
    let (es, ed) = (supplied.changes_before(horizon), demanded.changes_before(horizon));
    Elasticity {
        theta_under_pct: pct(under),
        theta_over_pct: pct(over),
        tau_under_pct: pct(t_under),
        tau_over_pct: pct(t_over),
        instability_pct: instability(supplied, demanded, horizon, grid),
        jitter_per_h: if total > 0.0 { (es as f64 - ed as f64) / (total / 3600.0) } else { 0.0 },
        supply_adaptations: es,
        demand_adaptations: ed,
    }
}

/// υ over the samples `k·grid < horizon` (0 with fewer than two samples).
fn instability(supplied: &StepCurve, demanded: &StepCurve, horizon: Time, grid: Time) -> f64 {
    let g = grid.max(1);
    let n = horizon.div_ceil(g);
    if n < 2 {
        return 0.0;
    }
    let sign = |a: u32, b: u32| (b as i64 - a as i64).signum();
    let mut differ = 0u64;
    let (mut s0, mut d0) = (supplied.at(0), demanded.at(0));
    for k in 1..n {
        let (s1, d1) = (supplied.at(k * g), demanded.at(k * g));
        if sign(s0, s1) != sign(d0, d1) {
            differ += 1;
        }
        (s0, d0) = (s1, d1);
    }
    100.0 * differ as f64 / (n - 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn curve(points: &[(u64, u32)]) -> StepCurve {
        StepCurve::from_points(points.iter().map(|&(t, v)| (t * SECOND, v)))
    }

    #[test]
    fn step_curve_merges_and_reads() {
        let mut c = StepCurve::constant(2);
        c.set(0, 3); // replaces the value at 0
        c.set(10 * SECOND, 3); // no change
        c.set(20 * SECOND, 5);
        c.set(20 * SECOND, 4); // same time: the last wins
        c.set(30 * SECOND, 4);
        c.set(40 * SECOND, 1);
        c.set(40 * SECOND, 4); // back to the previous value: the change disappears
        assert_eq!(c.points(), &[(0, 3), (20 * SECOND, 4)]);
        assert_eq!((c.at(0), c.at(19 * SECOND), c.at(20 * SECOND), c.at(99 * SECOND)), (3, 3, 4, 4));
        assert_eq!(c.changes_before(100 * SECOND), 1);
        assert_eq!(c.changes_before(20 * SECOND), 0);
        assert!(close(c.integral(100 * SECOND), 3.0 * 20.0 + 4.0 * 80.0));
        assert_eq!(curve(&[(5, 2)]).at(0), 0, "0 before the first point");
    }

    #[test]
    fn equal_curves_are_perfect() {
        let c = curve(&[(0, 2), (60, 4), (120, 3)]);
        let e = elasticity(&c, &c, 180 * SECOND, 30 * SECOND);
        assert_eq!(
            (e.theta_under_pct, e.theta_over_pct, e.tau_under_pct, e.tau_over_pct, e.instability_pct),
            (0.0, 0.0, 0.0, 0.0, 0.0)
        );
        assert_eq!((e.jitter_per_h, e.supply_adaptations, e.demand_adaptations), (0.0, 2, 2));
    }

    /// Hand-computed over 100 s:
    ///
    /// ```text
    /// t        0    20   40   60   80   100
    /// demand   2    4    4    1    1
    /// supply   2    2    5    5    1
    /// ```
    /// Under: [20, 40) by 2 of 4 → 0.5 × 20 = 10 → θU = 10 %, τU = 20 %.
    /// Over: [40, 60) by 1 of 4 → 0.25 × 20 = 5; [60, 80) by 4 of 1 → 4 × 20 = 80;
    /// θO = 85 %, τO = 40 %. Supply changes at 40 and 80 (2), demand at 20 and 60 (2): j = 0.
    /// Grid 20 s, samples at 0, 20, 40, 60, 80: Δd = +, 0, −, 0; Δs = 0, +, 0, − → 4 of 4
    /// steps differ: υ = 100 %.
    #[test]
    fn hand_computed_example() {
        let d = curve(&[(0, 2), (20, 4), (60, 1)]);
        let s = curve(&[(0, 2), (40, 5), (80, 1)]);
        let e = elasticity(&s, &d, 100 * SECOND, 20 * SECOND);
        assert!(close(e.theta_under_pct, 10.0), "{e:?}");
        assert!(close(e.theta_over_pct, 85.0), "{e:?}");
        assert!(close(e.tau_under_pct, 20.0), "{e:?}");
        assert!(close(e.tau_over_pct, 40.0), "{e:?}");
        assert!(close(e.instability_pct, 100.0), "{e:?}");
        assert!(close(e.jitter_per_h, 0.0), "{e:?}");
        // Sampled every 40 s instead (0, 40, 80): Δd = +, −; Δs = +, − → in step: υ = 0.
        assert!(close(elasticity(&s, &d, 100 * SECOND, 40 * SECOND).instability_pct, 0.0));
    }

    #[test]
    fn zero_demand_counts_idle_replicas_as_over_provisioning() {
        // One replica kept through a quiet hour with no demand: θO = 100 % (1 of max(0, 1)).
        let e = elasticity(&curve(&[(0, 1)]), &curve(&[(0, 0)]), 3600 * SECOND, 60 * SECOND);
        assert!(close(e.theta_over_pct, 100.0) && close(e.tau_over_pct, 100.0), "{e:?}");
        assert!(close(e.theta_under_pct, 0.0) && close(e.tau_under_pct, 0.0));
    }

    #[test]
    fn jitter_counts_adaptations_per_hour() {
        // Over 30 min the supply changes 4 times, the demand once: j = (4 − 1) / 0.5 h = 6 /h.
        let d = curve(&[(0, 2), (600, 3)]);
        let s = curve(&[(0, 2), (300, 3), (400, 2), (700, 3), (800, 4)]);
        let e = elasticity(&s, &d, 1800 * SECOND, 60 * SECOND);
        assert_eq!((e.supply_adaptations, e.demand_adaptations), (4, 1));
        assert!(close(e.jitter_per_h, 6.0), "{e:?}");
        // Changes at or after the horizon do not count.
        assert_eq!(curve(&[(0, 1), (1800, 2)]).changes_before(1800 * SECOND), 0);
    }
}
