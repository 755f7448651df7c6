//! Property tests over random scenarios: every request that arrives ends exactly once (served,
//! failed with a reason, or in flight at the end), replicas stay within [min, max], and a run is
//! a pure function of its seed.

mod common;

use common::{mmc_service, scenario};
use proptest::prelude::*;
use scalesim::balancer::BalancerKind;
use scalesim::dist::Dist;
use scalesim::engine::simulate;
use scalesim::experiment::{Progress, RunOptions, run};
use scalesim::policy::{ActivatorBuffer, BasicSpec, MetricRule, OracleSpec, PolicyKind, PolicySpec};
use scalesim::service::Curve;
use scalesim::time::SECOND;

fn balancer() -> impl Strategy<Value = BalancerKind> {
    prop::sample::select(BalancerKind::ALL.to_vec())
}

fn rule() -> impl Strategy<Value = MetricRule> {
    prop_oneof![
        (1.0..50.0f64, 1u64..60).prop_map(|(t, w)| MetricRule::Rps {
            target: t,
            tolerance: 0.1,
            window: w * SECOND
        }),
        (0.2..0.9f64, 1u64..60).prop_map(|(t, w)| MetricRule::Cpu {
            target: t,
            tolerance: 0.1,
            window: w * SECOND
        }),
        (0.5..10.0f64, 1u64..60).prop_map(|(t, w)| MetricRule::Concurrency {
            target: t,
            tolerance: 0.1,
            window: w * SECOND
        }),
    ]
}

prop_compose! {
    fn policy()(min in 0u32..4, extra in 0u32..8, rules in prop::collection::vec(rule(), 1..3),
                interval in 1u64..30, down in 0u64..120, up in 0u64..30, kind in 0u8..4,
                window in 1u64..30, lead in 0u64..90, capacity in 0.5..60.0f64)
                -> PolicySpec {
        if kind == 0 {
            return PolicySpec::fixed("p", min + extra);
        }
        if kind == 1 {
            // The oracle, with any settings: its schedule must respect the same invariants.
            let spec = OracleSpec {
                interval: interval * SECOND,
                window: window.min(interval) * SECOND,
                lead: lead * SECOND,
                capacity_rps: capacity,
                reference_demand_s: 0.1,
                pre_pass: None,
                capacity_source: "given".into(),
            };
            return PolicySpec {
                name: "p".into(),
                min,
                max: (min + extra).max(1),
                initial: min,
                start: scalesim::policy::Start::Given,
                kind: PolicyKind::Oracle(spec),
                activator: None,
            };
        }
        PolicySpec {
            name: "p".into(),
            min,
            max: (min + extra).max(1),
            initial: min,
            start: scalesim::policy::Start::Given,
            kind: PolicyKind::Basic(BasicSpec {
                interval: interval * SECOND,
                metrics: rules,
                schedules: vec![],
                down_stabilization: down * SECOND,
                up_stabilization: up * SECOND,
            }),
        activator: None,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn every_request_ends_exactly_once_and_replicas_stay_in_bounds(
        rate in 0.0..200.0f64,
        secs in 30u64..400,
        workers in 1u32..6,
        mean in 0.005..0.5f64,
        queue_limit in prop::option::of(0u32..50),
        timeout in prop::option::of(1u64..5000),
        startup in 0.0..60.0f64,
        grace in 0u64..20,
        slow in any::<bool>(),
        lb in balancer(),
        p in policy(),
        held in prop::option::of((1u32..50, 1u64..30)),
        seed in any::<u64>(),
    ) {
        let mut p = p;
        p.activator = held.map(|(capacity, wait)| ActivatorBuffer { capacity, max_wait: wait * SECOND });
        let mut svc = mmc_service(workers, mean);
        svc.queue_limit = queue_limit;
        svc.timeout = timeout.map(|ms| ms * 1000);
        svc.startup = Dist::Uniform { low: 0.0, high: startup };
        svc.grace = grace * SECOND;
        if slow {
            svc.slowdown = Curve::new(vec![(1.0, 1.0), (4.0, 2.0)]);
        }
        let mut sc = scenario(rate, secs, svc, vec![p.clone()]);
        sc.balancer = lb;
        sc.record_interval = 7 * SECOND;
        let r = simulate(&sc, &sc.policies[0], seed, 0, None);
        let s = &r.summary;
        prop_assert_eq!(s.requests, s.served + s.failed + s.in_flight_at_end);
        prop_assert_eq!(s.failed, s.failed_by_reason.iter().sum::<u64>());
        let arrived: u64 = r.intervals.iter().map(|i| i.arrived).sum();
        let done: u64 = r.intervals.iter().map(|i| i.served + i.failed_total()).sum();
        prop_assert_eq!(arrived, s.requests);
        prop_assert_eq!(done, s.served + s.failed);
        for i in &r.intervals {
            prop_assert!(i.desired >= p.min && i.desired <= p.max, "desired {} not in [{}, {}]", i.desired, p.min, p.max);
            prop_assert!(i.starting + i.ready <= p.max);
        }
        if let Some(to) = timeout
            && let Some(p100) = r.intervals.iter().filter_map(|i| i.latency_p99_s).reduce(f64::max)
        {
            prop_assert!(p100 <= to as f64 / 1000.0 * 1.001 + 1e-6);
        }
        // Billed replicas only grow when the policy scales, where the peak is taken: it is at
        // least every recorded count, and without a grace period (draining replicas leave at
        // once) it never exceeds the policy's bound.
        for i in &r.intervals {
            prop_assert!(s.peak_replicas >= i.starting + i.ready + i.draining, "peak {} below an interval's {}", s.peak_replicas, i.starting + i.ready + i.draining);
        }
        if grace == 0 {
            prop_assert!(s.peak_replicas <= p.max.max(p.initial), "peak {} above max {}", s.peak_replicas, p.max);
        } else {
            prop_assert!(s.peak_replicas <= p.max.max(p.initial) + p.max);
        }
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let rps = |name: &str, t: f64| PolicySpec {
        name: name.into(),
        min: 1,
        max: 20,
        initial: 1,
        start: scalesim::policy::Start::Given,
        kind: PolicyKind::Basic(BasicSpec {
            interval: 15 * SECOND,
            metrics: vec![MetricRule::Rps { target: t, tolerance: 0.1, window: 30 * SECOND }],
            schedules: vec![],
            down_stabilization: 60 * SECOND,
            up_stabilization: 0,
        }),
        activator: None,
    };
    let mut sc = scenario(
        150.0,
        900,
        mmc_service(4, 0.1),
        vec![PolicySpec::fixed("fixed", 5), rps("a", 30.0), rps("b", 20.0)],
    );
    // With the oracle baseline, whose figures are filled in after the runs.
    let oracle = scalesim::oracle::build(
        &sc,
        "oracle",
        &scalesim::oracle::OracleSettings { capacity_rps: Some(30.0), ..Default::default() },
    )
    .unwrap();
    sc.policies.push(oracle);
    let go = |threads| {
        run(
            &sc,
            &RunOptions { seeds: 3, threads: Some(threads), policies: vec![], requests: false },
            &Progress::default(),
        )
        .unwrap()
    };
    let one = go(1);
    let two = go(2);
    assert_eq!(one.len(), 12);
    assert_eq!(one, two);
    assert!(one.iter().all(|r| r.summary.elasticity.is_some() && r.summary.cost_above_oracle_pct.is_some()));
    assert_eq!(one[0].policy, "fixed");
    assert_eq!(one[3].policy, "a");
    assert_ne!(one[0].summary, one[1].summary, "replications use different seeds");
}

#[test]
fn all_policies_see_the_same_arrivals() {
    let sc = scenario(
        120.0,
        600,
        mmc_service(4, 0.1),
        vec![PolicySpec::fixed("two", 2), PolicySpec::fixed("ten", 10)],
    );
    let a = simulate(&sc, &sc.policies[0], 3, 0, None);
    let b = simulate(&sc, &sc.policies[1], 3, 0, None);
    let per_interval =
        |r: &scalesim::record::RunResult| r.intervals.iter().map(|i| i.arrived).collect::<Vec<_>>();
    assert_eq!(per_interval(&a), per_interval(&b));
}

#[test]
fn request_k_gets_the_same_demand_under_every_policy() {
    // With far more workers than requests in flight nobody queues, so latency = demand and the
    // latency sums must agree to the microsecond across policies with different replica counts.
    let sc =
        scenario(20.0, 600, mmc_service(50, 0.1), vec![PolicySpec::fixed("a", 3), PolicySpec::fixed("b", 7)]);
    let a = simulate(&sc, &sc.policies[0], 8, 0, None);
    let b = simulate(&sc, &sc.policies[1], 8, 0, None);
    assert_eq!(a.summary.served, b.summary.served);
    assert_eq!(a.summary.latency_mean_s, b.summary.latency_mean_s);
}
