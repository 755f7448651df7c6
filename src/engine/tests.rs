//! Engine unit tests: conservation, lifecycle, timeouts, drain, determinism.

use super::*;
use crate::balancer::BalancerKind;
use crate::dist::Dist;
use crate::policy::{BasicSpec, MetricRule, PolicyKind};
use crate::scenario::CostModel;
use crate::service::{CpuModel, Demand, MemoryModel, ServiceModel};
use crate::time::Clock;
use crate::traffic::TrafficSpec;

fn scenario(rate: f64, secs: u64, service: ServiceModel, policies: Vec<PolicySpec>) -> Scenario {
    Scenario {
        name: "t".into(),
        duration: secs * SECOND,
        clock: Clock::utc_monday(secs * SECOND),
        seed: 7,
        record_interval: 60 * SECOND,
        warmup: 0,
        slo: None,
        traffic: TrafficSpec::constant_poisson(rate),
        service,
        balancer: BalancerKind::RoundRobin,
        cost: CostModel { per_replica_hour: 1.0, currency: "USD".into() },
        policies,
    }
}

fn service(workers: u32, mean: f64) -> ServiceModel {
    ServiceModel {
        workers,
        queue_limit: None,
        timeout: None,
        demand: Demand::Dist(Dist::exponential(mean)),
        slowdown: None,
        overhead: None,
        startup: Dist::Deterministic { value: 30.0 },
        pending: None,
        grace: 30 * SECOND,
        cpu: CpuModel::default(),
        memory: MemoryModel::default(),
        llm: None,
    }
}

fn conserved(r: &RunResult) {
    let s = &r.summary;
    assert_eq!(s.requests, s.served + s.failed + s.in_flight_at_end, "{s:?}");
    assert_eq!(s.failed, s.failed_by_reason.iter().sum::<u64>());
    let arrived: u64 = r.intervals.iter().map(|i| i.arrived).sum();
    let served: u64 = r.intervals.iter().map(|i| i.served).sum();
    let failed: u64 = r.intervals.iter().map(|i| i.failed_total()).sum();
    assert_eq!((arrived, served, failed), (s.requests, s.served, s.failed));
}

fn rps_policy(target: f64, min: u32, max: u32) -> PolicySpec {
    PolicySpec {
        name: "rps".into(),
        min,
        max,
        initial: min,
        start: crate::policy::Start::Given,
        kind: PolicyKind::Basic(BasicSpec {
            interval: 15 * SECOND,
            metrics: vec![MetricRule::Rps { target, tolerance: 0.0, window: 15 * SECOND }],
            schedules: vec![],
            down_stabilization: 0,
            up_stabilization: 0,
        }),
        activator: None,
    }
}

#[test]
fn fixed_policy_conserves_requests() {
    let sc = scenario(50.0, 600, service(4, 0.1), vec![PolicySpec::fixed("f", 2)]);
    let r = simulate(&sc, &sc.policies[0], 1, 0, None);
    conserved(&r);
    assert!(r.summary.requests > 25_000);
    assert_eq!(r.summary.failed, 0);
    assert_eq!(r.intervals.len(), 10);
    assert!((r.summary.replica_seconds - 1200.0).abs() < 1e-6);
}

#[test]
fn no_replicas_means_no_replica_failures() {
    let sc = scenario(10.0, 60, service(4, 0.1), vec![PolicySpec::fixed("zero", 0)]);
    let r = simulate(&sc, &sc.policies[0], 1, 0, None);
    conserved(&r);
    assert_eq!(r.summary.failed_by_reason[FailReason::NoReplica as usize], r.summary.requests);
}

#[test]
fn queue_limit_and_timeout_fail_with_reasons() {
    let mut svc = service(1, 0.5);
    svc.queue_limit = Some(2);
    svc.timeout = Some(SECOND);
    let sc = scenario(10.0, 300, svc, vec![PolicySpec::fixed("one", 1)]);
    let r = simulate(&sc, &sc.policies[0], 3, 0, None);
    conserved(&r);
    let f = r.summary.failed_by_reason;
    assert!(f[FailReason::QueueFull as usize] > 0, "{f:?}");
    assert!(f[FailReason::Timeout as usize] > 0, "{f:?}");
    // No served request is slower than the timeout.
    assert!(r.summary.latency_p99_s.unwrap() <= 1.0 + 1e-3);
}

#[test]
fn autoscaler_stays_in_bounds_and_conserves() {
    let mut svc = service(4, 0.1);
    svc.queue_limit = Some(100);
    let sc = scenario(300.0, 1800, svc, vec![rps_policy(30.0, 2, 30)]);
    let r = simulate(&sc, &sc.policies[0], 1, 0, None);
    conserved(&r);
    for i in &r.intervals {
        assert!(i.desired >= 2 && i.desired <= 30);
        assert!(i.starting + i.ready <= 30);
    }
    // Steady state: ceil(300 / 30) = 10 ready replicas.
    assert_eq!(r.intervals.last().unwrap().ready, 10);
}

#[test]
fn drain_grace_terminates_unfinished_work() {
    // Long requests, a scale-down from 4 to 1 after the first decision, 1 s grace.
    let mut svc = service(1, 100.0);
    svc.demand = Demand::Dist(Dist::Deterministic { value: 100.0 });
    svc.grace = SECOND;
    let mut p = rps_policy(1000.0, 1, 4);
    p.initial = 4;
    let sc = scenario(2.0, 120, svc, vec![p]);
    let r = simulate(&sc, &sc.policies[0], 1, 0, None);
    conserved(&r);
    assert!(r.summary.failed_by_reason[FailReason::Terminated as usize] > 0);
}

#[test]
fn same_seed_same_result_other_seed_differs() {
    let sc = scenario(100.0, 300, service(4, 0.1), vec![rps_policy(30.0, 1, 10)]);
    let a = simulate(&sc, &sc.policies[0], 5, 0, None);
    let b = simulate(&sc, &sc.policies[0], 5, 0, None);
    let c = simulate(&sc, &sc.policies[0], 6, 0, None);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

fn closed(users: Vec<(Time, u32)>, think: Dist) -> Extras {
    Extras { closed_loop: Some(ClosedLoop { users, think }), ..Extras::default() }
}

fn idle_scenario(secs: u64, service: ServiceModel) -> Scenario {
    let mut sc = scenario(0.0, secs, service, vec![PolicySpec::fixed("one", 1)]);
    sc.traffic = TrafficSpec::constant_poisson(0.0);
    sc
}

#[test]
fn closed_loop_obeys_the_interactive_response_time_law() {
    // N users, exponential think Z, one 4-worker replica: N = X (R + Z) over a long run.
    let (n, z) = (30u32, 1.0);
    let sc = idle_scenario(4000, service(4, 0.1));
    let (r, d) = simulate_with(&sc, &sc.policies[0], 3, 0, None, &closed(vec![(0, n)], Dist::exponential(z)));
    conserved(&r);
    assert_eq!(r.summary.failed, 0);
    let x = r.summary.served as f64 / 4000.0;
    let rt = r.summary.latency_mean_s.unwrap();
    let law = n as f64 / x - z;
    assert!((rt - law).abs() / law < 0.03, "R {rt} vs N/X − Z {law}");
    // Below saturation (N* = 4 (0.1 + 1) / 0.1 = 44): X close to N / (Z + S).
    assert!(x > 0.9 * n as f64 / 1.1 && x < 40.0, "{x}");
    // Little's law on the system: L = X R.
    let l = d.in_flight_integral / 4000.0;
    assert!((l - x * rt).abs() / l < 0.03, "{l} vs {}", x * rt);
}

#[test]
fn closed_loop_saturates_at_workers_over_demand() {
    let sc = idle_scenario(2000, service(2, 0.1));
    let (r, _) = simulate_with(
        &sc,
        &sc.policies[0],
        1,
        0,
        None,
        &closed(vec![(0, 200)], Dist::Deterministic { value: 0.5 }),
    );
    conserved(&r);
    let x = r.summary.served as f64 / 2000.0;
    assert!((x - 20.0).abs() < 0.4, "{x}");
    // At most the users are in flight.
    assert!(r.summary.in_flight_at_end <= 200);
}

#[test]
fn closed_loop_users_follow_their_schedule_and_failures_retry() {
    // Queue limit 2 with 50 users: many fail as queue_full, think, and retry; then the users
    // drop to 5 and the failures stop.
    let mut svc = service(1, 0.1);
    svc.queue_limit = Some(2);
    let sc = idle_scenario(600, svc);
    let ex = closed(vec![(0, 50), (300 * SECOND, 5)], Dist::exponential(0.5));
    let (r, _) = simulate_with(&sc, &sc.policies[0], 2, 0, None, &ex);
    conserved(&r);
    let early: u64 = r.intervals[..5].iter().map(|i| i.failed_total()).sum();
    let late: u64 = r.intervals[6..].iter().map(|i| i.failed_total()).sum();
    assert!(early > 1000, "{early}");
    assert!(late < early / 20, "{late} vs {early}");
    let mut users = closed::Users::new(ex.closed_loop.clone().unwrap(), 1);
    assert!(!users.step(0));
    assert_eq!(users.live(), 50);
    assert!(!users.step(300 * SECOND));
    users.ended(300 * SECOND, 300 * SECOND, 60);
    assert_eq!(users.live(), 5);
}

#[test]
fn closed_loop_is_deterministic_and_free_when_absent() {
    let sc = idle_scenario(300, service(2, 0.1));
    let ex = closed(vec![(0, 10), (100 * SECOND, 30)], Dist::exponential(1.0));
    let a = simulate_with(&sc, &sc.policies[0], 5, 0, None, &ex).0;
    let b = simulate_with(&sc, &sc.policies[0], 5, 0, None, &ex).0;
    let c = simulate_with(&sc, &sc.policies[0], 6, 0, None, &ex).0;
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Default extras change nothing.
    let sc = scenario(50.0, 300, service(4, 0.1), vec![rps_policy(30.0, 1, 10)]);
    let plain = simulate(&sc, &sc.policies[0], 5, 0, None);
    let (with, _) = simulate_with(&sc, &sc.policies[0], 5, 0, None, &Extras::default());
    assert_eq!(plain, with);
}

#[test]
fn record_marks_set_the_intervals_and_histograms_follow_them() {
    let sc = scenario(50.0, 100, service(4, 0.1), vec![PolicySpec::fixed("f", 1)]);
    let ex = Extras {
        record_marks: Some(vec![10 * SECOND, 40 * SECOND, 45 * SECOND]),
        interval_histograms: true,
        ..Extras::default()
    };
    let (r, d) = simulate_with(&sc, &sc.policies[0], 1, 0, None, &ex);
    conserved(&r);
    let ends: Vec<f64> = r.intervals.iter().map(|i| i.end_s).collect();
    assert_eq!(ends, [10.0, 40.0, 45.0, 100.0]);
    assert_eq!(d.interval_ends.len(), 4);
    assert_eq!(d.interval_histograms.len(), 4);
    for (row, h) in r.intervals.iter().zip(&d.interval_histograms) {
        assert_eq!(row.served, h.len());
    }
    assert_eq!(d.interval_ends[3].arrivals, r.summary.requests);
}

/// `service.overhead` adds to every served latency, occupies no worker and is not in flight.
#[test]
fn overhead_adds_latency_but_occupies_no_worker() {
    let mut plain = service(2, 0.05);
    plain.demand = Demand::Dist(Dist::Deterministic { value: 0.05 });
    let mut slow = plain.clone();
    slow.overhead = Some(Dist::Deterministic { value: 0.2 });
    // 30 req/s on 2 workers of 50 ms: 75 % busy; a 200 ms overhead occupying a worker would
    // make it 2 × (0.05 + 0.2) = 8 req/s of capacity and fail or queue without bound.
    let run = |svc: ServiceModel| {
        let sc = scenario(30.0, 600, svc, vec![PolicySpec::fixed("one", 1)]);
        let (r, d) = simulate_detailed(&sc, &sc.policies[0], 5, 0, None);
        conserved(&r);
        (r, d)
    };
    let (a, da) = run(plain);
    let (b, db) = run(slow);
    // Same arrivals, same demands, same service: the same requests served, 200 ms later each.
    assert_eq!(a.summary.served, b.summary.served);
    assert_eq!(a.summary.failed, b.summary.failed);
    assert!((da.in_flight_integral - db.in_flight_integral).abs() < 1e-6, "overhead is not at the replica");
    // (HDR histograms keep 3 significant digits.)
    let close = |x: u64, y: u64| (x as f64 - y as f64).abs() <= 1e-3 * y as f64;
    assert!(
        close(db.latency_us.min(), da.latency_us.min() + 200_000),
        "{} {}",
        db.latency_us.min(),
        da.latency_us.min()
    );
    assert!(
        close(db.latency_us.max(), da.latency_us.max() + 200_000),
        "{} {}",
        db.latency_us.max(),
        da.latency_us.max()
    );
    let (pa, pb) = (a.summary.latency_p50_s.unwrap(), b.summary.latency_p50_s.unwrap());
    assert!((pb - pa - 0.2).abs() < 1e-3, "p50 {pa} -> {pb}");
    assert!((b.summary.latency_mean_s.unwrap() - a.summary.latency_mean_s.unwrap() - 0.2).abs() < 1e-4);
}

/// The timeout bounds the time at the replica: overhead does not count toward it.
#[test]
fn overhead_does_not_count_toward_the_timeout() {
    let mut svc = service(1, 0.1);
    svc.demand = Demand::Dist(Dist::Deterministic { value: 0.1 });
    svc.timeout = Some(from_secs_f64(0.5));
    svc.overhead = Some(Dist::Deterministic { value: 1.0 });
    // 1 req/s on one 100 ms worker: no queueing, nothing times out at the replica.
    let sc = scenario(1.0, 600, svc, vec![PolicySpec::fixed("one", 1)]);
    let r = simulate(&sc, &sc.policies[0], 2, 0, None);
    conserved(&r);
    assert_eq!(r.summary.failed_by_reason[FailReason::Timeout as usize], 0);
    assert!(r.summary.latency_p50_s.unwrap() > 1.09, "{:?}", r.summary.latency_p50_s);
}

/// Runs without an overhead draw exactly as before: the overhead stream is separate, and an
/// overhead changes no demand, arrival or balancer choice.
#[test]
fn overhead_uses_its_own_stream() {
    let base = service(3, 0.1);
    let mut with = base.clone();
    with.overhead = Some(Dist::exponential(0.03));
    let sc_a = scenario(25.0, 300, base, vec![PolicySpec::fixed("f", 1)]);
    let sc_b = scenario(25.0, 300, with, vec![PolicySpec::fixed("f", 1)]);
    let a = simulate(&sc_a, &sc_a.policies[0], 9, 0, None);
    let b = simulate(&sc_b, &sc_b.policies[0], 9, 0, None);
    let c = simulate(&sc_b, &sc_b.policies[0], 9, 0, None);
    assert_eq!(b, c, "deterministic");
    let per_interval = |r: &RunResult| r.intervals.iter().map(|i| (i.arrived, i.served)).collect::<Vec<_>>();
    assert_eq!(per_interval(&a), per_interval(&b));
    assert!(b.summary.latency_mean_s.unwrap() > a.summary.latency_mean_s.unwrap() + 0.02);
}

#[test]
fn a_run_asked_to_stop_at_a_violation_stops_there() {
    // One replica for 80 req/s violates the SLO in its first minute: the run stops at the end
    // of that interval, and what it simulated is the whole run's start.
    let mut sc = scenario(80.0, 600, service(2, 0.1), vec![rps_policy(10.0, 1, 20)]);
    sc.slo = Some(crate::scenario::Slo { latency: Some((99.0, 0.5)), error_rate: Some(0.01) });
    sc.service.queue_limit = Some(10);
    let p = &sc.policies[0];
    let whole = simulate(&sc, p, 3, 0, None);
    let stop = Extras { stop_at_slo_violation: true, ..Extras::default() };
    let (early, _) = simulate_with(&sc, p, 3, 0, None, &stop);
    let first = whole.intervals.iter().position(|r| r.slo_violated).expect("a violating interval");
    assert_eq!(early.intervals, whole.intervals[..=first]);
    assert!(early.summary.slo_violation_minutes > 0.0);
    // A run that meets the SLO is simulated whole, unchanged.
    let mut fine = sc.clone();
    fine.traffic = TrafficSpec::constant_poisson(1.0);
    fine.slo = Some(crate::scenario::Slo { latency: Some((99.0, 5.0)), error_rate: Some(0.01) });
    let all = simulate(&fine, &fine.policies[0], 3, 0, None);
    assert_eq!((all.summary.slo_violation_minutes, all.intervals.len()), (0.0, 10));
    let (a, _) = simulate_with(&fine, &fine.policies[0], 3, 0, None, &stop);
    assert_eq!(a, all);
}

#[test]
fn a_warm_up_is_simulated_but_not_measured() {
    // Traffic from 0, a policy that scales up from one replica: the first minutes fail.
    let mut sc = scenario(80.0, 600, service(2, 0.1), vec![rps_policy(10.0, 1, 20)]);
    sc.slo = Some(crate::scenario::Slo { latency: Some((99.0, 0.5)), error_rate: Some(0.01) });
    sc.service.queue_limit = Some(10);
    let p = &sc.policies[0];
    let whole = simulate(&sc, p, 3, 0, None);
    let from = 180 * SECOND;
    let (warm, _) = simulate_with(&sc, p, 3, 0, None, &Extras { measure_from: from, ..Extras::default() });
    // The run itself is the same: rows, decisions, ready replicas.
    assert_eq!(
        (&warm.intervals, &warm.decisions, &warm.ready_curve),
        (&whole.intervals, &whole.decisions, &whole.ready_curve)
    );
    assert!(whole.summary.slo_violation_minutes > 0.0 && whole.summary.failed > 0, "{:?}", whole.summary);
    // The summary counts the rows from 180 s on.
    let after: Vec<&crate::record::IntervalRow> =
        whole.intervals.iter().filter(|r| r.start_s >= 180.0).collect();
    let s = &warm.summary;
    assert_eq!(s.requests, after.iter().map(|r| r.arrived).sum::<u64>());
    assert_eq!(s.served, after.iter().map(|r| r.served).sum::<u64>());
    assert_eq!(s.failed, after.iter().map(|r| r.failed_total()).sum::<u64>());
    let violated = after.iter().filter(|r| r.slo_violated).count() as f64;
    assert_eq!(s.slo_violation_minutes, violated);
    let billed: f64 = after.iter().map(|r| r.replica_seconds).sum();
    assert!((s.replica_seconds - billed).abs() < 1e-6, "{} vs {billed}", s.replica_seconds);
    let actions = warm.decisions.iter().filter(|d| d.time_s >= 180.0 && d.desired != d.current).count();
    assert_eq!(s.scaling_actions, actions as u64);
    assert!(s.peak_replicas <= whole.summary.peak_replicas);
    assert!(s.requests < whole.summary.requests);
    // A warm-up of 0 measures everything.
    let (zero, _) = simulate_with(&sc, p, 3, 0, None, &Extras { measure_from: 0, ..Extras::default() });
    assert_eq!(zero, whole);
}
