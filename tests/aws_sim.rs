//! Simulation-level behaviour of the AWS policy family: target tracking scales out within a
//! few minutes and in only after about 15 minutes of low load; warming instances block
//! scale-in; a scheduled action takes effect at its local time.

mod common;

use common::{mmc_service, scenario};
use scalesim::dist::Dist;
use scalesim::engine::simulate;
use scalesim::policy::aws::{AlarmShape, AwsMetric, ScheduledAction, TargetTracking, When};
use scalesim::policy::{AwsPolicySpec, PolicyKind, PolicySpec};
use scalesim::record::{DecisionRow, RunResult};
use scalesim::time::SECOND;
use scalesim::traffic::{Process, Shape, TrafficSpec};
use std::sync::Arc;

fn cpu_tt(target: f64) -> TargetTracking {
    TargetTracking {
        name: "cpu".into(),
        metric: AwsMetric::CpuUtilization,
        target,
        disable_scale_in: false,
        scale_out_cooldown: 0,
        scale_in_cooldown: 0,
        alarm: AlarmShape::default(),
    }
}

fn policy(mut spec: AwsPolicySpec) -> PolicySpec {
    spec.check().expect("valid");
    let (min, max, initial) = spec.bounds();
    PolicySpec {
        name: "aws".into(),
        min,
        max,
        initial,
        start: scalesim::policy::Start::Given,
        kind: PolicyKind::Aws(spec),
        activator: None,
    }
}

/// `steps` of (seconds, rps), Poisson, for `secs`, on replicas of 4 workers × 100 ms with a
/// 30 s startup (so 100 rps on 4 replicas is about 68 % CPU).
fn run(steps: &[(f64, f64)], secs: u64, p: PolicySpec) -> RunResult {
    let mut svc = mmc_service(4, 0.1);
    svc.startup = Dist::Deterministic { value: 30.0 };
    let mut sc = scenario(1.0, secs, svc, vec![p.clone()]);
    sc.traffic = TrafficSpec::from_shape(Shape::Steps(Arc::from(steps)), Process::Poisson, None);
    simulate(&sc, &p, 1, 0, None)
}

fn first(r: &RunResult, f: impl Fn(&DecisionRow) -> bool) -> Option<&DecisionRow> {
    r.decisions.iter().find(|d| f(d))
}

#[test]
fn target_tracking_scales_out_fast_and_in_slowly() {
    let spec = AwsPolicySpec {
        min: 1,
        max: 20,
        desired: 4,
        instance_warmup: Some(60 * SECOND),
        target_tracking: vec![cpu_tt(50.0)],
        step_scaling: vec![],
        scheduled: vec![],
        scheduled_delay: 0,
    };
    let r = run(&[(0.0, 100.0), (1200.0, 20.0)], 3600, policy(spec));
    let out = first(&r, |d| d.desired > d.current).expect("a scale-out");
    // Three one-minute datapoints above the target: the decision at 3 min.
    assert_eq!(out.time_s, 180.0, "{out:?}");
    assert!(out.reason.starts_with("alarm high"), "{out:?}");
    assert!(out.desired >= 6, "{out:?}");
    // Load drops at 20 min; the 15th low datapoint is at 35 min.
    let inn = first(&r, |d| d.desired < d.current).expect("a scale-in");
    assert_eq!(inn.time_s, 2100.0, "{inn:?}");
    assert!(inn.reason.starts_with("alarm low"), "{inn:?}");
    // Nothing scaled in before that, although the load was low from 20 min.
    assert!(r.decisions.iter().filter(|d| d.time_s < 2100.0).all(|d| d.desired >= d.current));
}

#[test]
fn scale_in_waits_for_warm_up() {
    let spec = AwsPolicySpec {
        min: 1,
        max: 20,
        desired: 4,
        instance_warmup: Some(1800 * SECOND),
        target_tracking: vec![cpu_tt(50.0)],
        step_scaling: vec![],
        scheduled: vec![],
        scheduled_delay: 0,
    };
    let r = run(&[(0.0, 100.0), (300.0, 10.0)], 4 * 3600, policy(spec));
    let out = first(&r, |d| d.desired > d.current).expect("a scale-out");
    assert_eq!(out.time_s, 180.0);
    // New instances are ready at 210 s and warm until 2010 s. The scale-in alarm fires
    // (15 low datapoints) around 20 min but scale-in is blocked until then.
    let blocked = first(&r, |d| d.reason.contains("warm-up") && d.proposal.unwrap() < d.current)
        .expect("scale-in blocked by warm-up");
    assert!(blocked.time_s < 2010.0 && blocked.desired == blocked.current, "{blocked:?}");
    let inn = first(&r, |d| d.desired < d.current).expect("a scale-in");
    assert!(inn.time_s >= 2010.0, "{inn:?}");
    assert!(inn.time_s <= 2160.0, "{inn:?}");
}

#[test]
fn scheduled_action_at_local_time() {
    // The clock starts Monday 2025-01-06 00:00 UTC; 06:00 in Kolkata (UTC+5:30) is 00:30 UTC.
    let spec = AwsPolicySpec {
        min: 1,
        max: 10,
        desired: 2,
        instance_warmup: Some(0),
        target_tracking: vec![],
        step_scaling: vec![],
        scheduled: vec![ScheduledAction {
            name: "morning".into(),
            when: When::Recurrence { cron: "0 6 * * 1-5".into(), tz: chrono_tz::Asia::Kolkata },
            min: Some(7),
            max: None,
            desired: None,
        }],
        scheduled_delay: 0,
    };
    let r = run(&[(0.0, 20.0)], 3600, policy(spec));
    let d = first(&r, |d| d.reason.contains("scheduled action morning")).expect("the action ran");
    assert_eq!(d.time_s, 1800.0, "{d:?}");
    assert_eq!(d.desired, 7);
    // And the new minimum holds afterwards.
    assert!(r.decisions.iter().filter(|d| d.time_s > 1800.0).all(|d| d.desired >= 7));
    assert!(r.decisions.iter().filter(|d| d.time_s < 1800.0).all(|d| d.desired == 2));
}
