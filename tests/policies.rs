//! Policy behaviour in full simulations: the rps rule's steady state and a schedule window in
//! the scenario's time zone.

mod common;

use common::{mmc_service, scenario};
use scalesim::engine::simulate;
use scalesim::policy::{BasicSpec, CronWindow, MetricRule, PolicyKind, PolicySpec};
use scalesim::time::{Clock, SECOND};

fn basic(name: &str, min: u32, max: u32, metrics: Vec<MetricRule>, schedules: Vec<CronWindow>) -> PolicySpec {
    PolicySpec {
        name: name.into(),
        min,
        max,
        initial: min,
        start: scalesim::policy::Start::Given,
        kind: PolicyKind::Basic(BasicSpec {
            interval: 30 * SECOND,
            metrics,
            schedules,
            down_stabilization: 0,
            up_stabilization: 0,
        }),
        activator: None,
    }
}

#[test]
fn rps_steady_state_is_ceil_of_load_over_target() {
    for (lambda, target, want) in [(95.0, 10.0, 10), (195.0, 10.0, 20), (45.0, 10.0, 5), (130.0, 30.0, 5)] {
        // λ / target is kept away from integers (where ceil flips with noise) and a long window
        // makes the estimate tight enough that the ceiling is unambiguous.
        let p = basic(
            "rps",
            1,
            100,
            vec![MetricRule::Rps { target, tolerance: 0.0, window: 600 * SECOND }],
            vec![],
        );
        let sc = scenario(lambda, 3600, mmc_service(8, 0.05), vec![p]);
        let r = simulate(&sc, &sc.policies[0], 21, 0, None);
        let tail = &r.intervals[r.intervals.len() - 20..];
        for i in tail {
            assert_eq!(i.desired, want, "λ={lambda}, target={target}: desired {} at {}s", i.desired, i.end_s);
            assert_eq!(i.ready, want);
        }
    }
}

#[test]
fn schedule_holds_its_count_inside_the_window_in_its_time_zone() {
    // The simulation clock is UTC from Monday 00:00; the window is 09:00–21:00 on weekdays in
    // New York (UTC−5 in January), i.e. 14:00–02:00 UTC.
    let ny = chrono_tz::America::New_York;
    let w = CronWindow::new("0 9 * * 1-5", "0 21 * * 1-5", ny, 6).unwrap();
    let p = basic("office", 1, 10, vec![], vec![w]);
    let mut sc = scenario(5.0, 2 * 86_400, mmc_service(4, 0.1), vec![p]);
    sc.clock = Clock::utc_monday(sc.duration);
    sc.record_interval = 300 * SECOND;
    let r = simulate(&sc, &sc.policies[0], 1, 0, None);
    let at = |h: f64| r.intervals.iter().find(|i| i.end_s >= h * 3600.0).unwrap();
    assert_eq!(at(13.0).desired, 1, "before 09:00 New York");
    assert_eq!(at(14.5).desired, 6, "inside the window");
    assert_eq!(at(14.5).ready + at(14.5).starting, 6);
    assert_eq!(at(25.5).desired, 6, "still 20:30 New York");
    assert_eq!(at(26.5).desired, 1, "after 21:00 New York");
    assert_eq!(at(26.5).ready, 1);
    assert_eq!(at(38.5).desired, 6, "Tuesday 09:30 New York");
}

#[test]
fn schedule_combined_with_rps_takes_the_larger() {
    // rps alone wants ceil(115 / 10) = 12; from 09:00 to 17:00 a window asks for 16 (the
    // schedule wins), from 18:00 to 22:00 another asks for 4 (the rps rule wins).
    let busy = CronWindow::new("0 9 * * *", "0 17 * * *", chrono_tz::UTC, 16).unwrap();
    let quiet = CronWindow::new("0 18 * * *", "0 22 * * *", chrono_tz::UTC, 4).unwrap();
    let p = basic(
        "mixed",
        1,
        20,
        vec![MetricRule::Rps { target: 10.0, tolerance: 0.1, window: 600 * SECOND }],
        vec![busy, quiet],
    );
    let sc = scenario(115.0, 86_400, mmc_service(8, 0.05), vec![p]);
    let r = simulate(&sc, &sc.policies[0], 2, 0, None);
    let at = |h: f64| r.intervals.iter().find(|i| i.end_s >= h * 3600.0).unwrap();
    assert_eq!(at(8.0).desired, 12, "before the windows: the rps rule");
    assert_eq!(at(12.0).desired, 16, "inside the busy window: the schedule is larger");
    assert_eq!(at(16.5).desired, 16);
    assert_eq!(at(20.0).desired, 12, "inside the quiet window: the rps rule is larger");
}

/// Issue 10: the rps rule without a tolerance band flapped (82 ± 6 actions in 2 h at a steady
/// 10 req/s with target 5); with the HPA's default 10 % it holds steady.
#[test]
fn rps_rule_with_the_default_tolerance_does_not_flap_at_steady_load() {
    let actions = |tolerance: f64| {
        let rule = MetricRule::Rps { target: 5.0, tolerance, window: 60 * SECOND };
        let sc = scenario(10.0, 7200, mmc_service(4, 0.05), vec![basic("rps", 1, 10, vec![rule], vec![])]);
        let r = simulate(&sc, &sc.policies[0], 3, 0, None);
        r.summary.scaling_actions
    };
    let (plain, banded) = (actions(0.0), actions(0.1));
    assert!(plain >= 40, "the plain ceiling flaps: {plain} actions");
    assert!(
        banded <= 12 && banded * 4 <= plain,
        "the tolerance band holds: {banded} actions against {plain}"
    );
}
