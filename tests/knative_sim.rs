//! Knative's KPA in full simulations: scale to zero after the last request, panic under a
//! burst, the activator holding requests at zero replicas, and request conservation.

mod common;

use common::{mmc_service, scenario};
use scalesim::dist::Dist;
use scalesim::engine::simulate;
use scalesim::policy::PolicySpec;
use scalesim::policy::knative::KnativePolicySpec;
use scalesim::record::{FailReason, RunResult};
use scalesim::scenario::Scenario;
use scalesim::time::SECOND;
use scalesim::traffic::{Process, Shape, TrafficSpec};
use std::sync::Arc;

fn steps(points: &[(f64, f64)]) -> TrafficSpec {
    TrafficSpec::from_shape(Shape::Steps(Arc::from(points.to_vec())), Process::Poisson, None)
}

fn run(spec: &KnativePolicySpec, traffic: TrafficSpec, secs: u64, startup_s: f64) -> (Scenario, RunResult) {
    run_policy(spec.policy_spec("knative"), traffic, secs, startup_s)
}

fn run_policy(p: PolicySpec, traffic: TrafficSpec, secs: u64, startup_s: f64) -> (Scenario, RunResult) {
    let mut service = mmc_service(50, 0.1);
    service.startup = Dist::Deterministic { value: startup_s };
    let mut sc = scenario(1.0, secs, service, vec![p]);
    sc.traffic = traffic;
    sc.record_interval = SECOND;
    let r = simulate(&sc, &sc.policies[0], 7, 0, None);
    (sc, r)
}

fn assert_conserved(r: &RunResult) {
    let s = &r.summary;
    assert_eq!(s.requests, s.served + s.failed + s.in_flight_at_end, "{s:?}");
}

/// (end of the last interval with an arrival, first decision after it that asks for 0).
fn last_request_and_zero(r: &RunResult) -> (f64, f64) {
    let last = r.intervals.iter().filter(|i| i.arrived > 0).map(|i| i.end_s).fold(0.0, f64::max);
    let zero = r.decisions.iter().find(|d| d.time_s > last && d.desired == 0).expect("scaled to zero").time_s;
    (last, zero)
}

#[test]
fn default_kpa_reaches_zero_about_a_stable_window_plus_grace_after_the_last_request() {
    // TBC 0: the activator leaves the path while pods serve, so scale to zero waits out the
    // grace period after the stable window: ≈ 60 s + 30 s.
    let spec = KnativePolicySpec { target_burst_capacity: 0.0, ..KnativePolicySpec::default() };
    let (_, r) = run(&spec, steps(&[(0.0, 20.0), (120.0, 0.0)]), 400, 1.0);
    assert_conserved(&r);
    let (last, zero) = last_request_and_zero(&r);
    let after = zero - last;
    println!("last request {last} s, zero at {zero} s: {after} s");
    assert!((88.0..=96.0).contains(&after), "zero {after} s after the last request");
    assert!(r.decisions.iter().any(|d| d.reason == "scale to zero after grace"));
    // Between the stable window and the grace period the pod is kept while the PA is inactive.
    assert!(r.decisions.iter().any(|d| d.reason == "inactive: grace period" && d.desired == 1));
}

#[test]
fn default_tbc_keeps_the_activator_in_the_path_so_zero_follows_the_stable_window() {
    // TBC 211 with one pod: EBC < 0, the SKS is already in proxy mode, so the reconciler takes
    // the fast path as soon as the PA is inactive (Knative's `ProxyFor() ≥ grace`).
    let spec = KnativePolicySpec::default();
    let (_, r) = run(&spec, steps(&[(0.0, 20.0), (120.0, 0.0)]), 400, 1.0);
    assert_conserved(&r);
    let (last, zero) = last_request_and_zero(&r);
    let after = zero - last;
    println!("last request {last} s, zero at {zero} s: {after} s");
    assert!((60.0..=96.0).contains(&after), "zero {after} s after the last request");
    assert_eq!(r.intervals.last().unwrap().ready, 0);
}

#[test]
fn a_burst_triggers_panic_and_no_scale_down_while_panicking() {
    let spec = KnativePolicySpec::concurrency(10.0);
    let spike = Shape::Spike {
        base: Arc::new(Shape::Constant(5.0)),
        start: 100.0,
        length: 60.0,
        multiplier: 20.0,
        rise: 0.0,
        fall: 0.0,
    };
    let traffic = TrafficSpec::from_shape(spike, Process::Poisson, None);
    let mut p = spec.policy_spec("kpa");
    p.initial = 1;
    let mut service = mmc_service(50, 0.5);
    service.startup = Dist::Deterministic { value: 2.0 };
    let mut sc = scenario(1.0, 300, service, vec![p]);
    sc.traffic = traffic;
    let r = simulate(&sc, &sc.policies[0], 3, 0, None);
    assert_conserved(&r);
    let panics: Vec<_> = r.decisions.iter().filter(|d| d.reason == "panic").collect();
    assert!(!panics.is_empty(), "no panic decision");
    let first = panics[0].time_s;
    assert!((100.0..=106.0).contains(&first), "panic began at {first}");
    // Within the first seconds of panic the desired count never falls.
    let window: Vec<u32> = r
        .decisions
        .iter()
        .filter(|d| d.time_s >= first && d.time_s <= first + 20.0)
        .map(|d| d.desired)
        .collect();
    assert!(window.windows(2).all(|w| w[1] >= w[0]), "{window:?}");
    assert!(window.last().copied().unwrap_or(0) >= 4, "{window:?}");
}

#[test]
fn the_activator_holds_requests_at_zero_and_releases_them_when_a_replica_is_ready() {
    // A first burst, a long silence (the KPA scales to zero), then traffic again.
    let traffic = steps(&[(0.0, 2.0), (30.0, 0.0), (300.0, 2.0), (360.0, 0.0)]);
    let spec = KnativePolicySpec::default();
    let (_, with) = run(&spec, traffic.clone(), 420, 3.0);
    assert_conserved(&with);
    assert_eq!(with.summary.failed_by_reason[FailReason::NoReplica as usize], 0);
    assert_eq!(with.summary.failed, 0);
    // It did go to zero before the second burst, and came back.
    assert!(with.intervals.iter().any(|i| i.end_s > 200.0 && i.end_s < 300.0 && i.ready == 0));
    assert!(with.intervals.iter().any(|i| i.end_s > 300.0 && i.ready >= 1));
    // The first request at zero poked the KPA: a decision at its arrival (between two ticks)
    // asked for a replica at once.
    let wake = with.decisions.iter().find(|d| d.time_s > 300.0 && d.desired >= 1).expect("woke up");
    assert!(wake.time_s < 302.0 || wake.time_s.fract() != 0.0, "woke at {}", wake.time_s);
    assert_eq!(wake.reason, "stable");

    let mut p = spec.policy_spec("no activator");
    p.activator = None;
    let (_, without) = run_policy(p, traffic, 420, 3.0);
    assert_conserved(&without);
    assert!(without.summary.failed_by_reason[FailReason::NoReplica as usize] > 0);
}

#[test]
fn min_scale_and_disabled_scale_to_zero_keep_pods() {
    let traffic = steps(&[(0.0, 5.0), (30.0, 0.0)]);
    let spec = KnativePolicySpec { min_scale: 2, ..KnativePolicySpec::default() };
    let (_, r) = run(&spec, traffic.clone(), 300, 1.0);
    assert_conserved(&r);
    assert!(r.intervals.iter().all(|i| i.desired >= 2));
    let spec = KnativePolicySpec { enable_scale_to_zero: false, ..KnativePolicySpec::default() };
    let (_, r) = run(&spec, traffic, 300, 1.0);
    assert_eq!(r.intervals.last().unwrap().desired, 1);
}
