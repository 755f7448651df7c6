use super::*;
use crate::policy::hpa::spec::{Behavior, ScalingPolicy};

fn pod(name: &str, cpu_milli: Option<i64>, ready: bool) -> PodState {
    let mut p = PodState {
        name: name.into(),
        phase: Phase::Running,
        ready: Some(ready),
        start_time: Some(-3600 * SEC),
        ready_transition: -3600 * SEC,
        deleting: false,
        requests: BTreeMap::from([("cpu".to_string(), 1000)]),
        metrics: BTreeMap::new(),
        metric_time: 0,
        metric_window: 60 * SEC,
    };
    if let Some(c) = cpu_milli {
        p.metrics.insert("cpu".into(), c);
    }
    p
}

fn run(spec: &HpaSpec, current: i64, pods: &[PodState], state: &mut ControllerState, now: Micros) -> Outcome {
    let empty = BTreeMap::new();
    let input = SyncInput {
        now,
        current,
        status_replicas: current,
        pods,
        object_metrics: &empty,
        external_metrics: &empty,
    };
    reconcile(&spec.with_defaults(), &ControllerSettings::default(), state, &input)
}

fn cpu_spec(target: i32, min: i32, max: i32) -> HpaSpec {
    HpaSpec { metrics: vec![MetricSpec::resource_utilization("cpu", target)], ..HpaSpec::new(min, max) }
}

#[test]
fn tolerance_is_inclusive_per_direction() {
    let t = Tolerances { down: 0.1, up: 0.1 };
    assert!(t.is_within(1.1) && t.is_within(0.9) && !t.is_within(1.1001) && !t.is_within(0.8999));
    let t = Tolerances { down: 0.05, up: 0.01 };
    assert!(t.is_within(0.95) && t.is_within(1.01) && !t.is_within(1.02) && !t.is_within(0.94));
}

#[test]
fn grouping_rules() {
    let ctl = ControllerSettings::default();
    let now = 1000 * SEC;
    let mut pods = vec![pod("ok", Some(100), true)];
    let mut deleted = pod("deleted", Some(100), true);
    deleted.deleting = true;
    let mut failed = pod("failed", Some(100), true);
    failed.phase = Phase::Failed;
    let mut pending = pod("pending", Some(100), false);
    pending.phase = Phase::Pending;
    let missing = pod("missing", None, true);
    let mut no_start = pod("nostart", Some(100), true);
    no_start.start_time = None;
    // Rule 5: inside the init period, ready, sample window overlapping the transition.
    let mut hot = pod("hot", Some(900), true);
    hot.start_time = Some(now - 60 * SEC);
    hot.ready_transition = now - 30 * SEC;
    hot.metric_time = now;
    // Inside the init period with a full window since ready: ready.
    let mut warm = hot.clone();
    warm.name = "warm".into();
    warm.ready_transition = now - 60 * SEC;
    // Rule 6: after the init period, NotReady, became ready once late enough: counted ready.
    let mut flapped = pod("flapped", Some(100), false);
    flapped.start_time = Some(now - 600 * SEC);
    flapped.ready_transition = now - 500 * SEC;
    // NotReady and never ready (transition within the readiness delay): unready.
    let mut never = pod("never", Some(100), false);
    never.start_time = Some(now - 600 * SEC);
    never.ready_transition = now - 590 * SEC;
    pods.extend([deleted, failed, pending, missing, no_start, hot, warm, flapped, never]);
    let g = group_pods(&pods, "cpu", true, &ctl, now);
    let names = |v: &[usize]| v.iter().map(|&i| pods[i].name.as_str()).collect::<Vec<_>>();
    assert_eq!(names(&g.ready), ["ok", "warm", "flapped"]);
    assert_eq!(names(&g.unready), ["pending", "nostart", "hot", "never"]);
    assert_eq!(names(&g.missing), ["missing"]);
    assert_eq!(names(&g.ignored), ["deleted", "failed"]);
    // Non-CPU metrics: only Pending is unready.
    let g = group_pods(&pods, "cpu", false, &ctl, now);
    assert_eq!(names(&g.unready), ["pending"]);
}

#[test]
fn unready_pods_count_as_zero_on_scale_up() {
    // A2: 300/500/700 m of 1 core, pod 0 NotReady, target 30 % → 4.
    let pods = [pod("a", Some(300), false), pod("b", Some(500), true), pod("c", Some(700), true)];
    let o = run(&cpu_spec(30, 1, 10), 3, &pods, &mut ControllerState::default(), 0);
    assert_eq!(o.proposal, Some(4));
    assert_eq!(o.metrics[0].seen, "cpu=60% (ready 2, unready 1, missing 0)");
}

#[test]
fn missing_pods_count_as_full_on_scale_down_and_guard_direction() {
    // A21: metrics for 2 of 4 pods (400, 95 m), target 100 % → 3.
    let pods =
        [pod("a", Some(400), true), pod("b", Some(95), true), pod("c", None, true), pod("d", None, true)];
    let o = run(&cpu_spec(100, 1, 10), 4, &pods, &mut ControllerState::default(), 0);
    assert_eq!(o.proposal, Some(3));
    // A25: the recomputed count would exceed current on a scale-down → keep.
    let pods = [pod("a", Some(100), true), pod("b", Some(100), true), pod("c", None, true)];
    let o = run(&cpu_spec(50, 1, 10), 2, &pods, &mut ControllerState::default(), 0);
    assert_eq!(o.proposal, Some(2));
}

#[test]
fn utilization_truncates_to_integer_percent() {
    // 1019 m of 1000 m is 101.9 % → 101 %, within tolerance of 92 %? 101/92 = 1.0978 → keep.
    let pods = [pod("a", Some(1019), true)];
    let o = run(&cpu_spec(92, 1, 10), 1, &pods, &mut ControllerState::default(), 0);
    assert_eq!(o.metrics[0].seen, "cpu=101% (ready 1, unready 0, missing 0)");
    assert_eq!(o.reason, "within tolerance");
}

#[test]
fn legacy_scale_up_cap_and_stabilization() {
    let spec = cpu_spec(10, 1, 100);
    let hot: Vec<PodState> = (0..1).map(|i| pod(&format!("p{i}"), Some(1000), true)).collect();
    let mut st = ControllerState::default();
    let o = run(&spec, 1, &hot, &mut st, 0);
    assert_eq!((o.proposal, o.desired, o.reason.as_str()), (Some(10), 4, "ScaleUpLimit"));
    // Scale-down is held for 300 s by the recommendations (inclusive at exactly 300 s).
    let cool: Vec<PodState> = (0..4).map(|i| pod(&format!("p{i}"), Some(10), true)).collect();
    let o = run(&spec, 4, &cool, &mut st, 15 * SEC);
    // The raw proposal 1 is stabilized up to the stored 10, then capped at max(2×4, 4) = 8.
    assert_eq!(
        (o.proposal, o.stabilized, o.desired, o.reason.as_str()),
        (Some(1), Some(10), 8, "ScaleUpLimit")
    );
}

#[test]
fn legacy_window_boundary_is_inclusive() {
    let spec = cpu_spec(50, 1, 100);
    let mut st = ControllerState {
        recommendations: Some(vec![Recommendation { time: 0, replicas: 6 }]),
        ..Default::default()
    };
    let pods: Vec<PodState> = (0..6).map(|i| pod(&format!("p{i}"), Some(100), true)).collect();
    let o = run(&spec, 6, &pods, &mut st, 300 * SEC);
    assert_eq!(o.desired, 6, "a recommendation exactly 300 s old still counts (Before(cutoff) is strict)");
    let mut st = ControllerState {
        recommendations: Some(vec![Recommendation { time: 0, replicas: 6 }]),
        ..Default::default()
    };
    let o = run(&spec, 6, &pods, &mut st, 300 * SEC + 1);
    assert_eq!(o.desired, 2);
    assert_eq!(
        st.recommendations.unwrap(),
        vec![Recommendation { time: 300 * SEC + 1, replicas: 2 }],
        "slot reused"
    );
}

#[test]
fn behavior_windows_are_strict_and_events_reuse_slots() {
    let mut spec = cpu_spec(50, 1, 100);
    spec.behavior = Some(Behavior {
        scale_up: Some(ScalingRules {
            policies: Some(vec![ScalingPolicy {
                kind: ScalingPolicyType::Pods,
                value: 1,
                period_seconds: 60,
            }]),
            ..Default::default()
        }),
        scale_down: Some(ScalingRules { stabilization_window_seconds: Some(60), ..Default::default() }),
    });
    let mut st = ControllerState::default();
    let busy: Vec<PodState> = (0..2).map(|i| pod(&format!("p{i}"), Some(1000), true)).collect();
    let o = run(&spec, 2, &busy, &mut st, 0);
    assert_eq!((o.desired, o.reason.as_str()), (3, "ScaleUpLimit"));
    let busy3: Vec<PodState> = (0..3).map(|i| pod(&format!("p{i}"), Some(1000), true)).collect();
    let o = run(&spec, 3, &busy3, &mut st, 30 * SEC);
    assert_eq!(o.desired, 3, "1 pod per 60 s already used");
    let o = run(&spec, 3, &busy3, &mut st, 60 * SEC);
    assert_eq!(o.desired, 4, "the event exactly 60 s old is outside the period");
    assert_eq!(st.scale_up_events.len(), 2);
    let busy4: Vec<PodState> = (0..4).map(|i| pod(&format!("p{i}"), Some(1000), true)).collect();
    let o = run(&spec, 4, &busy4, &mut st, 121 * SEC);
    assert_eq!(o.desired, 5);
    assert_eq!(st.scale_up_events.len(), 2, "an outdated slot was reused");
    // Scale-down: strict 60 s window over the stored recommendations.
    let idle: Vec<PodState> = (0..5).map(|i| pod(&format!("p{i}"), Some(10), true)).collect();
    let o = run(&spec, 5, &idle, &mut st, 150 * SEC);
    assert_eq!((o.desired, o.reason.as_str()), (5, "stabilized"));
    let o = run(&spec, 5, &idle, &mut st, 210 * SEC);
    assert_eq!(o.desired, 1, "the 8@121 s recommendation left the window; 100 % per 15 s allows 0, min 1");
}

#[test]
fn invalid_metric_blocks_scale_down_not_scale_up() {
    let mut spec = cpu_spec(50, 1, 100);
    spec.metrics.push(MetricSpec::resource_utilization("memory", 50));
    let idle: Vec<PodState> = (0..4).map(|i| pod(&format!("p{i}"), Some(10), true)).collect();
    let o = run(&spec, 4, &idle, &mut ControllerState::default(), 0);
    assert_eq!((o.desired, o.reason.as_str()), (4, "FailedGetMetrics"));
    let busy: Vec<PodState> = (0..4).map(|i| pod(&format!("p{i}"), Some(1000), true)).collect();
    let o = run(&spec, 4, &busy, &mut ControllerState::default(), 0);
    assert_eq!(o.desired, 8);
}

#[test]
fn prechecks() {
    let spec = cpu_spec(50, 2, 5);
    let o = run(&spec, 0, &[], &mut ControllerState::default(), 0);
    assert_eq!((o.desired, o.rescale, o.reason.as_str()), (0, false, "ScalingDisabled"));
    let o = run(&spec, 7, &[], &mut ControllerState::default(), 0);
    assert_eq!((o.desired, o.reason.as_str()), (5, "TooManyReplicas"));
    let o = run(&spec, 1, &[], &mut ControllerState::default(), 0);
    assert_eq!((o.desired, o.reason.as_str()), (2, "TooFewReplicas"));
}
