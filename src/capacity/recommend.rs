//! From a replica's capacity and a traffic range to min, max and targets, with the arithmetic.
//!
//! The guide's rule: min = ⌈lowest rps / capacity⌉, max = ⌈highest rps / capacity⌉, rps target =
//! capacity (10 req/s per replica and 50–200 req/s give min 5, max 20, target 10). Headroom for
//! the time a policy needs to react — one polling interval to notice, then a cold start — is
//! computed separately and never folded into those three numbers: over that reaction time the
//! traffic can rise by its steepest ramp × (interval + startup), which needs that many more
//! replicas' worth of capacity at the top, or, equivalently, a lower target.

use serde::Serialize;

/// The traffic a recommendation must serve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrafficRange {
    /// Lowest rate, requests per second: for a rate shape its nominal value (the shape's own
    /// parameter, e.g. a daily curve's trough, when the horizon reaches it; see [`nominal`]).
    pub min_rps: f64,
    /// Highest rate, requests per second (nominal, like `min_rps`).
    pub max_rps: f64,
    /// Steepest rise, requests per second per second (0 when unknown).
    pub max_ramp_rps_per_s: f64,
    /// Lowest and highest per-minute rate the arrivals themselves reached (noise and Poisson
    /// scatter included) for the scenario's seed, when they were counted.
    pub reached: Option<(f64, f64)>,
}

/// `x` read as one of `levels` (the rates a shape's parameters name) when it is within a
/// relative 1e-4 of it: a rate sampled on a grid falls a hair short of an extreme that lies
/// between grid points (a daily curve's trough of 50 sampled at 50.0000001).
pub fn nominal(x: f64, levels: &[f64]) -> f64 {
    levels
        .iter()
        .copied()
        .filter(|l| (x - l).abs() <= 1e-4 * l.abs().max(1e-9))
        .min_by(|a, b| (x - a).abs().total_cmp(&(x - b).abs()))
        .unwrap_or(x)
}

/// Min, max and targets for one replica capacity and traffic range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// Requests per second one replica serves within the SLO.
    pub capacity_rps: f64,
    /// The traffic.
    pub traffic: TrafficRange,
    /// ⌈min_rps / capacity⌉ (at least 1).
    pub min_replicas: u32,
    /// ⌈max_rps / capacity⌉ (at least `min_replicas`).
    pub max_replicas: u32,
    /// Target of an `rps` policy: the capacity, rounded down ([`nice_target`]).
    pub rps_target: f64,
    /// Target of a `cpu` policy, percent of the CPU request: the utilisation at capacity,
    /// rounded down ([`nice_cpu_target`]).
    pub cpu_target_pct: Option<f64>,
    /// Target of a `concurrency` policy: requests in flight per replica at capacity, rounded
    /// down.
    pub concurrency_target: Option<f64>,
    /// Reaction time: polling interval + startup, seconds.
    pub reaction_s: f64,
    /// How far the traffic can rise during the reaction time, requests per second.
    pub headroom_rps: f64,
    /// Extra replicas at the top to absorb that rise: ⌈headroom_rps / capacity⌉.
    pub headroom_replicas: u32,
    /// The rps target that leaves that headroom at the peak: capacity × max / (max + headroom).
    pub rps_target_with_headroom: f64,
    /// The arithmetic, one line per step.
    pub arithmetic: Vec<String>,
}

/// ⌈x⌉ that never rounds a float artefact up: `x` within a relative 1e-9 of a whole number is
/// that number (200 / 10 is 20, not 21; 50.000000000001 / 10 is 5, not 6).
pub fn ceil(x: f64) -> u32 {
    let r = x.round();
    let v = if (x - r).abs() <= 1e-9 * r.abs().max(1.0) { r } else { x.ceil() };
    v.max(0.0) as u32
}

/// `x` rounded down to a value a person would write as a target: a multiple of 5 from 100, a
/// whole number from 10, a multiple of 0.5 from 1, of 0.05 below (never below 0.01). Down, so
/// the target stays within the capacity it came from.
pub fn nice_target(x: f64) -> f64 {
    let step = if x >= 100.0 {
        5.0
    } else if x >= 10.0 {
        1.0
    } else if x >= 1.0 {
        0.5
    } else {
        0.05
    };
    // The small epsilon keeps 10 at 10 despite rounding noise (9.9999999…); the final rounding
    // keeps 7 × 0.05 at 0.35.
    let v = ((x + 1e-9) / step).floor() * step;
    ((v * 1000.0).round() / 1000.0).max(0.01)
}

/// A CPU target in percent rounded down as people set them: a multiple of 5 from 50 %, whole
/// percents below.
pub fn nice_cpu_target(pct: f64) -> f64 {
    let step = if pct >= 50.0 { 5.0 } else { 1.0 };
    (((pct + 1e-9) / step).floor() * step).max(1.0)
}

impl Recommendation {
    /// Raises min (and max, if needed) to at least `floor` replicas — two by default in
    /// `scalesim recommend`, so that losing one replica (a node drain, a crash, a rollout) never
    /// leaves the service with none — and says so in the arithmetic.
    pub fn with_min_floor(mut self, floor: u32) -> Recommendation {
        if floor > self.min_replicas {
            self.arithmetic.insert(
                2,
                format!(
                    "min raised from {} to {floor}: at least {floor} replicas for fault tolerance (--min-replicas)",
                    self.min_replicas
                ),
            );
            self.min_replicas = floor;
            self.max_replicas = self.max_replicas.max(floor);
        }
        self
    }
}

fn num(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The recommendation for `capacity_rps` per replica over `traffic`; `cpu_at_capacity` (a
/// fraction) and `concurrency_at_capacity` give the other targets; `interval_s` and
/// `startup_s` (mean cold start) give the headroom.
pub fn recommend(
    capacity_rps: f64,
    traffic: TrafficRange,
    cpu_at_capacity: Option<f64>,
    concurrency_at_capacity: Option<f64>,
    interval_s: f64,
    startup_s: f64,
) -> Recommendation {
    let cap = capacity_rps.max(1e-9);
    let min = ceil(traffic.min_rps / cap).max(1);
    let max = ceil(traffic.max_rps / cap).max(min);
    let reaction = interval_s + startup_s;
    let headroom_rps = traffic.max_ramp_rps_per_s.max(0.0) * reaction;
    let headroom_replicas = ceil(headroom_rps / cap);
    let with_headroom = nice_target(if traffic.max_rps > 0.0 {
        cap * traffic.max_rps / (traffic.max_rps + headroom_rps)
    } else {
        cap
    });
    let rounded = |x: f64, r: f64, unit: &str| {
        if (r - x).abs() > 1e-9 { format!(" → {}{unit} (rounded down)", num(r)) } else { String::new() }
    };
    let rps_target = nice_target(cap);
    let cpu_target = cpu_at_capacity.map(|c| nice_cpu_target(c * 100.0));
    let conc_target = concurrency_at_capacity.map(nice_target);
    let mut a = vec![
        format!("capacity of one replica within the SLO: {} req/s", num(cap)),
        format!("min = ceil({} / {}) = {min}", num(traffic.min_rps), num(cap)),
        format!("max = ceil({} / {}) = {max}", num(traffic.max_rps), num(cap)),
        format!("rps target = capacity = {}{}", num(cap), rounded(cap, rps_target, "")),
    ];
    if let (Some(c), Some(t)) = (cpu_at_capacity, cpu_target) {
        a.push(format!(
            "cpu target = CPU utilisation at capacity = {}%{}",
            num(c * 100.0),
            rounded(c * 100.0, t, "%")
        ));
    }
    if let (Some(c), Some(t)) = (concurrency_at_capacity, conc_target) {
        a.push(format!(
            "concurrency target = requests in flight at capacity = {}{}",
            num(c),
            rounded(c, t, "")
        ));
    }
    a.push(format!(
        "headroom (separate): reaction = interval {} s + startup {} s = {} s; steepest rise {} req/s/s × {} s = {} req/s = ceil({} / {}) = {headroom_replicas} more replicas at the top (max {}), or an rps target of {} × {} / ({} + {}) = {}",
        num(interval_s),
        num(startup_s),
        num(reaction),
        num(traffic.max_ramp_rps_per_s),
        num(reaction),
        num(headroom_rps),
        num(headroom_rps),
        num(cap),
        max + headroom_replicas,
        num(cap),
        num(traffic.max_rps),
        num(traffic.max_rps),
        num(headroom_rps),
        num(with_headroom)
    ));
    Recommendation {
        capacity_rps: cap,
        traffic,
        min_replicas: min,
        max_replicas: max,
        rps_target,
        cpu_target_pct: cpu_target,
        concurrency_target: conc_target,
        reaction_s: reaction,
        headroom_rps,
        headroom_replicas,
        rps_target_with_headroom: with_headroom,
        arithmetic: a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nominal_ceil_never_rounds_an_artefact_up() {
        assert_eq!(ceil(50.0 / 10.0), 5);
        assert_eq!(ceil(200.0 / 10.0), 20);
        assert_eq!(ceil(50.000_000_000_01 / 10.0), 5);
        assert_eq!(ceil(0.1 * 3.0 / 0.1), 3);
        assert_eq!(ceil(5.01), 6);
        assert_eq!(ceil(4.2), 5);
        assert_eq!(ceil(0.0), 0);
        // Sampled extremes read as the shape's own levels; others stay as they are.
        assert_eq!(nominal(50.000_4, &[50.0, 200.0]), 50.0);
        assert_eq!(nominal(199.999, &[50.0, 200.0]), 200.0);
        assert_eq!(nominal(87.5, &[50.0, 200.0]), 87.5);
        assert_eq!(nominal(3.0, &[]), 3.0);
        let t = TrafficRange {
            min_rps: nominal(50.000_4, &[50.0, 200.0]),
            max_rps: 200.0,
            max_ramp_rps_per_s: 0.0,
            reached: None,
        };
        let r = recommend(10.0, t, None, None, 15.0, 30.0);
        assert_eq!((r.min_replicas, r.max_replicas), (5, 20));
        assert_eq!(r.arithmetic[1], "min = ceil(50 / 10) = 5");
    }

    #[test]
    fn the_guides_example_exactly() {
        let t = TrafficRange { min_rps: 50.0, max_rps: 200.0, max_ramp_rps_per_s: 0.0, reached: None };
        let r = recommend(10.0, t, Some(0.6), Some(2.0), 15.0, 30.0);
        assert_eq!((r.min_replicas, r.max_replicas, r.rps_target), (5, 20, 10.0));
        assert_eq!(r.arithmetic[1], "min = ceil(50 / 10) = 5");
        assert_eq!(r.arithmetic[2], "max = ceil(200 / 10) = 20");
        assert_eq!(r.arithmetic[3], "rps target = capacity = 10");
        assert_eq!(r.headroom_replicas, 0);
    }

    #[test]
    fn targets_are_rounded_down_as_people_set_them() {
        assert_eq!(nice_target(13.08), 13.0);
        assert_eq!(nice_target(73.39), 73.0);
        assert_eq!(nice_target(8.04), 8.0);
        assert_eq!(nice_target(2.7), 2.5);
        assert_eq!(nice_target(0.37), 0.35);
        assert_eq!(nice_target(10.0), 10.0);
        assert_eq!(nice_target(123.0), 120.0);
        assert_eq!(nice_cpu_target(83.39), 80.0);
        assert_eq!(nice_cpu_target(95.21), 95.0);
        assert_eq!(nice_cpu_target(42.7), 42.0);
        let t = TrafficRange { min_rps: 5.0, max_rps: 200.0, max_ramp_rps_per_s: 0.0, reached: None };
        let r = recommend(73.39, t, Some(0.8339), Some(8.04), 15.0, 30.0).with_min_floor(2);
        assert_eq!((r.min_replicas, r.max_replicas), (2, 3));
        assert_eq!((r.rps_target, r.cpu_target_pct, r.concurrency_target), (73.0, Some(80.0), Some(8.0)));
        assert!(r.arithmetic.iter().any(|l| l.contains("min raised from 1 to 2")), "{:?}", r.arithmetic);
        assert!(r.arithmetic[4].ends_with("→ 73 (rounded down)"), "{:?}", r.arithmetic);
    }

    #[test]
    fn headroom_is_separate() {
        // 0.5 req/s per second for 15 s + 30 s: 22.5 req/s, 3 replicas of 10.
        let t = TrafficRange { min_rps: 50.0, max_rps: 200.0, max_ramp_rps_per_s: 0.5, reached: None };
        let r = recommend(10.0, t, None, None, 15.0, 30.0);
        assert_eq!((r.min_replicas, r.max_replicas, r.rps_target), (5, 20, 10.0));
        assert_eq!(r.headroom_replicas, 3);
        assert!((r.headroom_rps - 22.5).abs() < 1e-9);
        // 10 × 200 / 222.5 = 8.99, rounded down to 8.5.
        assert_eq!(r.rps_target_with_headroom, 8.5);
        assert!(r.arithmetic.last().unwrap().starts_with("headroom (separate)"));
        // Tiny traffic: at least one replica.
        let r = recommend(
            10.0,
            TrafficRange { min_rps: 0.0, max_rps: 3.0, max_ramp_rps_per_s: 0.0, reached: None },
            None,
            None,
            0.0,
            0.0,
        );
        assert_eq!((r.min_replicas, r.max_replicas), (1, 1));
    }
}
