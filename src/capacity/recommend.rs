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
    /// Lowest rate, requests per second.
    pub min_rps: f64,
    /// Highest rate, requests per second.
    pub max_rps: f64,
    /// Steepest rise, requests per second per second (0 when unknown).
    pub max_ramp_rps_per_s: f64,
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
    /// Target of an `rps` policy: the capacity.
    pub rps_target: f64,
    /// Target of a `cpu` policy, percent of the CPU request: the utilisation at capacity.
    pub cpu_target_pct: Option<f64>,
    /// Target of a `concurrency` policy: requests in flight per replica at capacity.
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

/// ⌈x⌉ tolerant of rounding noise (200 / 10 is 20, not 21).
fn ceil(x: f64) -> u32 {
    (x - 1e-9).ceil().max(0.0) as u32
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
    let with_headroom =
        if traffic.max_rps > 0.0 { cap * traffic.max_rps / (traffic.max_rps + headroom_rps) } else { cap };
    let mut a = vec![
        format!("capacity of one replica within the SLO: {} req/s", num(cap)),
        format!("min = ceil({} / {}) = {min}", num(traffic.min_rps), num(cap)),
        format!("max = ceil({} / {}) = {max}", num(traffic.max_rps), num(cap)),
        format!("rps target = capacity = {}", num(cap)),
    ];
    if let Some(c) = cpu_at_capacity {
        a.push(format!("cpu target = CPU utilisation at capacity = {}%", num(c * 100.0)));
    }
    if let Some(c) = concurrency_at_capacity {
        a.push(format!("concurrency target = requests in flight at capacity = {}", num(c)));
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
        rps_target: cap,
        cpu_target_pct: cpu_at_capacity.map(|c| c * 100.0),
        concurrency_target: concurrency_at_capacity,
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
    fn the_guides_example_exactly() {
        let t = TrafficRange { min_rps: 50.0, max_rps: 200.0, max_ramp_rps_per_s: 0.0 };
        let r = recommend(10.0, t, Some(0.6), Some(2.0), 15.0, 30.0);
        assert_eq!((r.min_replicas, r.max_replicas, r.rps_target), (5, 20, 10.0));
        assert_eq!(r.arithmetic[1], "min = ceil(50 / 10) = 5");
        assert_eq!(r.arithmetic[2], "max = ceil(200 / 10) = 20");
        assert_eq!(r.arithmetic[3], "rps target = capacity = 10");
        assert_eq!(r.headroom_replicas, 0);
    }

    #[test]
    fn headroom_is_separate() {
        // 0.5 req/s per second for 15 s + 30 s: 22.5 req/s, 3 replicas of 10.
        let t = TrafficRange { min_rps: 50.0, max_rps: 200.0, max_ramp_rps_per_s: 0.5 };
        let r = recommend(10.0, t, None, None, 15.0, 30.0);
        assert_eq!((r.min_replicas, r.max_replicas, r.rps_target), (5, 20, 10.0));
        assert_eq!(r.headroom_replicas, 3);
        assert!((r.headroom_rps - 22.5).abs() < 1e-9);
        assert!((r.rps_target_with_headroom - 2000.0 / 222.5).abs() < 1e-9);
        assert!(r.arithmetic.last().unwrap().starts_with("headroom (separate)"));
        // Tiny traffic: at least one replica.
        let r = recommend(
            10.0,
            TrafficRange { min_rps: 0.0, max_rps: 3.0, max_ramp_rps_per_s: 0.0 },
            None,
            None,
            0.0,
            0.0,
        );
        assert_eq!((r.min_replicas, r.max_replicas), (1, 1));
    }
}
