//! Step-test and capacity tests: queueing-theory checks and the interpolation rules.

use super::*;
use crate::service::{CpuModel, Demand, MemoryModel};

fn service(workers: u32, mean: f64) -> ServiceModel {
    ServiceModel {
        workers,
        queue_limit: Some(50),
        timeout: Some(10 * SECOND),
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

fn row(step: usize, served: f64, p99: f64, failure_rate: f64, in_flight: f64, cpu: f64) -> StepRow {
    StepRow {
        step,
        target_rps: Some(served),
        users: None,
        offered_rps: served,
        served_rps: served,
        failure_rate,
        failed: [0; 5],
        mean_s: Some(p99 / 3.0),
        p50_s: Some(p99 / 3.0),
        p90_s: Some(p99 / 2.0),
        p95_s: Some(p99 / 1.5),
        p99_s: Some(p99),
        p999_s: Some(p99 * 1.5),
        in_flight_mean: in_flight,
        cpu_utilization: Some(cpu),
    }
}

fn result(steps: Vec<StepRow>) -> StepTestResult {
    StepTestResult { mode: "open".into(), step_s: 60.0, warmup_s: 10.0, steps, stopped_early: false }
}

#[test]
fn open_loop_saturates_at_workers_over_mean_demand() {
    // M/M/2 with mean demand 100 ms: saturation throughput 20 req/s.
    let svc = service(2, 0.1);
    // Long steps: a saturated step's served count has the variance of ~6000 exponential
    // completions (±1.3 %).
    let test = StepTest::for_service(&svc, None).with_durations(330 * SECOND, 30 * SECOND);
    assert_eq!(test.steps(), 15);
    let r = run_step_test(&svc, &test, 1);
    // Exponential demand of 100 ms has p99 460 ms even unloaded: bound p99 at 1 s.
    let a = capacity(&r, &CapacitySlo { latency: Some((99.0, 1.0)), max_error_rate: 0.01 });
    assert!((a.saturation_rps - 20.0).abs() / 20.0 < 0.03, "{}", a.saturation_rps);
    // Below saturation the replica serves what it is offered.
    let s = &r.steps[2];
    assert!((s.served_rps - 6.0).abs() / 6.0 < 0.1, "{s:?}");
    // CPU: idle 0.05 + 0.25 per busy worker, utilisation ρ = λ S / c per worker.
    let cpu = s.cpu_utilization.unwrap();
    let expect = 0.05 + 0.25 * s.served_rps * 0.1;
    assert!((cpu - expect).abs() < 0.02, "{cpu} vs {expect}");
    // In flight below saturation: Little's law L = λ W.
    assert!((s.in_flight_mean - s.served_rps * s.mean_s.unwrap()).abs() < 0.05);
    // The capacity within p99 < 1 s sits between half and all of saturation.
    let cap = a.max_rps_within_slo.unwrap();
    assert!(a.bounded && cap > 10.0 && cap < 20.0, "{a:?}");
    assert!(a.concurrency_at_capacity.unwrap() > 1.0);
}

#[test]
fn stop_rule_ends_the_test_when_failures_dominate() {
    // Queue limit 2, 1 worker of 100 ms: at 40 req/s most requests fail.
    let mut svc = service(1, 0.1);
    svc.queue_limit = Some(2);
    let test = StepTest::open(vec![2.0, 5.0, 40.0, 60.0, 80.0]).with_durations(60 * SECOND, 10 * SECOND);
    let r = run_step_test(&svc, &test, 3);
    assert_eq!(r.steps.len(), 3);
    assert!(r.stopped_early);
    assert!(r.steps[2].failure_rate > 0.5);
    assert!(r.steps[2].failed[0] > 0, "queue_full counted");
}

#[test]
fn closed_loop_matches_the_interactive_response_time_law() {
    // No queue limit or timeout: every request is served, so N = X (R + Z) with X served.
    let mut svc = service(2, 0.1);
    svc.queue_limit = None;
    svc.timeout = None;
    let think = Think::Exponential(1.0);
    let test = StepTest::closed(vec![5, 20, 40, 80], think).with_durations(300 * SECOND, 30 * SECOND);
    let r = run_step_test(&svc, &test, 2);
    assert_eq!(r.mode, "closed");
    for s in &r.steps {
        let n = s.users.unwrap() as f64;
        let law = n / s.served_rps - 1.0;
        let rt = s.mean_s.unwrap();
        // Window edges add a little noise; the law holds within a few per cent.
        assert!((rt - law).abs() < 0.05 * (law + 1.0), "{n} users: R {rt} vs {law}");
    }
    // 80 users ≫ N* = 22: throughput at workers / demand.
    let x = r.steps[3].served_rps;
    assert!((x - 20.0).abs() < 0.8, "{x}");
    let a = capacity(&r, &CapacitySlo::default());
    assert!((a.saturation_rps - 20.0).abs() < 1.0, "{a:?}");
}

#[test]
fn same_seed_same_result() {
    let svc = service(2, 0.1);
    let test = StepTest::open_range(5.0, 5.0, 4).with_durations(30 * SECOND, 5 * SECOND);
    assert_eq!(run_step_test(&svc, &test, 9), run_step_test(&svc, &test, 9));
    assert_ne!(run_step_test(&svc, &test, 9), run_step_test(&svc, &test, 10));
}

#[test]
fn capacity_interpolates_latency_in_log_space() {
    // p99 100 ms at 10 req/s, 400 ms at 20 req/s: 200 ms is half-way in log space.
    let r = result(vec![
        row(0, 5.0, 0.05, 0.0, 0.5, 0.2),
        row(1, 10.0, 0.1, 0.0, 1.0, 0.3),
        row(2, 20.0, 0.4, 0.0, 3.0, 0.5),
    ]);
    let slo = CapacitySlo { latency: Some((99.0, 0.2)), max_error_rate: 0.01 };
    let a = capacity(&r, &slo);
    assert!((a.max_rps_within_slo.unwrap() - 15.0).abs() < 1e-9, "{a:?}");
    assert!((a.concurrency_at_capacity.unwrap() - 2.0).abs() < 1e-9);
    assert!((a.cpu_utilization_at_capacity.unwrap() - 0.4).abs() < 1e-9);
    assert_eq!(a.last_step_within_slo, Some(1));
    assert!(a.bounded);
    assert!(a.limited_by.unwrap().contains("p99"));
}

#[test]
fn capacity_interpolates_failures_linearly_and_handles_the_edges() {
    let slo = CapacitySlo { latency: Some((99.0, 1.0)), max_error_rate: 0.01 };
    let r = result(vec![row(0, 10.0, 0.1, 0.0, 1.0, 0.3), row(1, 20.0, 0.2, 0.04, 2.0, 0.5)]);
    let a = capacity(&r, &slo);
    assert!((a.max_rps_within_slo.unwrap() - 12.5).abs() < 1e-9, "{a:?}");
    // Every step meets the SLO: the last step's rate, unbounded.
    let r = result(vec![row(0, 10.0, 0.1, 0.0, 1.0, 0.3)]);
    let a = capacity(&r, &slo);
    assert_eq!(a.max_rps_within_slo, Some(10.0));
    assert!(!a.bounded);
    // The first step misses it: no capacity.
    let r = result(vec![row(0, 10.0, 5.0, 0.0, 1.0, 0.3)]);
    assert_eq!(capacity(&r, &slo).max_rps_within_slo, None);
    // Saturation: the plateau's mean, not its noisy maximum.
    let r = result(vec![
        row(0, 10.0, 0.1, 0.0, 1.0, 0.3),
        row(1, 19.8, 2.0, 0.0, 2.0, 0.5),
        row(2, 20.2, 3.0, 0.2, 2.0, 0.5),
    ]);
    assert!((capacity(&r, &slo).saturation_rps - 20.0).abs() < 1e-9);
    // Open loop: the overloaded steps (offered > 1.05 × served) when there are any.
    let mut over = row(2, 19.0, 3.0, 0.2, 2.0, 0.5);
    over.offered_rps = 30.0;
    let r = result(vec![row(0, 10.0, 0.1, 0.0, 1.0, 0.3), row(1, 19.9, 2.0, 0.0, 2.0, 0.5), over]);
    assert!((capacity(&r, &slo).saturation_rps - 19.0).abs() < 1e-9);
}

#[test]
fn slo_text_parses_or_says_what_was_expected() {
    assert_eq!(CapacitySlo::parse_latency("p99<500ms"), Ok((99.0, 0.5)));
    assert_eq!(CapacitySlo::parse_latency(" p95 < 1s "), Ok((95.0, 1.0)));
    assert_eq!(CapacitySlo::parse_latency("p99.9<2s"), Ok((99.9, 2.0)));
    for bad in ["99<500ms", "p99>500ms", "p98<500ms", "p99<fast", "p99<0ms", "px<1s"] {
        let e = CapacitySlo::parse_latency(bad).unwrap_err();
        assert!(e.contains(bad.trim()), "{e}");
    }
    assert!(CapacitySlo::parse_latency("p99>500ms").unwrap_err().contains("expected `pNN<DURATION`"));
    assert_eq!(CapacitySlo::parse_error_rate("1%"), Ok(0.01));
    assert_eq!(CapacitySlo::parse_error_rate("0.02"), Ok(0.02));
    assert!(CapacitySlo::parse_error_rate("150%").is_err());
    assert!(CapacitySlo::parse_error_rate("lots").unwrap_err().contains("expected a percentage"));
    assert_eq!(CapacitySlo::default().describe(), "p99 < 500 ms, errors <= 1%");
}

#[test]
fn plans_and_checks() {
    let svc = service(2, 0.1);
    let t = StepTest::for_service(&svc, Some(Think::Exponential(1.0)));
    // N* = 20 · 1.1 = 22 users; up to 2 N*.
    let Load::Closed { users, .. } = &t.load else { panic!() };
    assert_eq!(*users.last().unwrap(), 44);
    assert!(t.check().is_ok());
    assert!(StepTest::open(vec![]).check().is_err());
    assert!(StepTest::open(vec![1.0]).with_durations(SECOND, SECOND).check().is_err());
    assert!(StepTest::open(vec![-1.0]).check().is_err());
    assert_eq!(round_sig(12.345), 12.3);
}

/// Closed-loop users wait for the overhead too: N = X (R + Z) with R the latency they see,
/// overhead included, while the replica saturates at workers / demand whatever the overhead.
#[test]
fn closed_loop_users_see_the_overhead() {
    let mut svc = service(2, 0.1);
    svc.overhead = Some(crate::dist::Dist::Deterministic { value: 0.3 });
    let test =
        StepTest::closed(vec![5, 80], Think::Exponential(1.0)).with_durations(300 * SECOND, 30 * SECOND);
    let r = run_step_test(&svc, &test, 2);
    let light = &r.steps[0];
    // 5 users, cycle about 1 + 0.3 + 0.1 s: about 3.6 req/s (without the overhead, 4.5).
    let law = 5.0 / (1.0 + 0.3 + 0.1);
    assert!((light.served_rps / law - 1.0).abs() < 0.08, "{} vs {law}", light.served_rps);
    assert!(light.p50_s.unwrap() > 0.3, "{:?}", light.p50_s);
    let x = r.steps[1].served_rps;
    assert!((x - 20.0).abs() < 0.8, "saturation {x}");
}
