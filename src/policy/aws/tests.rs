//! Unit tests of the AWS controller on hand-made observations: a tiny group whose instances
//! burn a chosen CPU utilisation, stepped one datapoint (60 s) at a time.

use super::*;
use crate::metrics::{MetricsHistory, MetricsView, Snapshot};
use crate::policy::PodPhase;

/// A hand-driven group: pods, a metrics history, and the controller under test.
struct Group {
    aws: Aws,
    clock: Clock,
    pods: Vec<PodView>,
    history: MetricsHistory,
    now: Time,
    next_id: u32,
    /// Time from launch to ready.
    startup: Time,
    arrivals: u64,
    ready_seconds: f64,
}

fn pod(id: u32, at: Time, ready: bool) -> PodView {
    PodView {
        id,
        phase: PodPhase::Running,
        ready,
        deleting: false,
        requested_at: at,
        start_time: Some(at),
        ready_transition: at,
        cpu_request: 1.0,
        cpu_seconds: 0.0,
        in_flight: 0,
        memory_bytes: 0.0,
        memory_request: 1.0,
    }
}

impl Group {
    fn new(spec: AwsPolicySpec, startup: Time) -> Group {
        let clock = Clock::utc_monday(2 * 86_400 * SECOND);
        Group::with_clock(spec, startup, clock)
    }

    fn with_clock(mut spec: AwsPolicySpec, startup: Time, clock: Clock) -> Group {
        spec.check().expect("valid spec");
        let n = spec.desired;
        let aws = Aws::new(spec, &clock, 2 * 86_400 * SECOND);
        let mut g = Group {
            aws,
            clock,
            pods: (0..n).map(|i| pod(i, 0, true)).collect(),
            history: MetricsHistory::new(3600 * SECOND),
            now: 0,
            next_id: n,
            startup,
            arrivals: 0,
            ready_seconds: 0.0,
        };
        g.history.push(g.snap());
        let t = g.aws.next_tick(None);
        assert_eq!(t, 0);
        assert!(g.decide().is_none(), "the tick at 0 only observes");
        g
    }

    fn snap(&self) -> Snapshot {
        Snapshot {
            t: self.now,
            arrivals: self.arrivals,
            ready_replica_seconds: self.ready_seconds,
            ..Snapshot::default()
        }
    }

    fn current(&self) -> u32 {
        self.pods.iter().filter(|p| !p.deleting).count() as u32
    }

    fn ready(&self) -> u32 {
        self.pods.iter().filter(|p| p.ready && !p.deleting).count() as u32
    }

    fn decide(&mut self) -> Option<Decision> {
        let view = MetricsView { history: &self.history, now: self.snap(), cpu_request_cores: 1.0 };
        let (current, ready) = (self.current(), self.ready());
        let seen = Observation {
            now: self.now,
            clock: &self.clock,
            current,
            ready,
            starting: current - ready,
            draining: 0,
            metrics: view,
            pods: &self.pods,
            buffered: 0,
        };
        let d = self.aws.decide(&seen)?;
        self.scale_to(d.desired);
        Some(d)
    }

    fn scale_to(&mut self, desired: u32) {
        while self.current() < desired {
            self.pods.push(pod(self.next_id, self.now, false));
            self.next_id += 1;
        }
        while self.current() > desired {
            let i = self.pods.iter().rposition(|p| !p.deleting).unwrap();
            self.pods.remove(i);
        }
    }

    /// Advances to the controller's next tick with every ready pod at `cpu` percent and `rpm`
    /// requests per minute in total; returns its decision.
    fn tick(&mut self, cpu: f64, rpm: u64) -> Option<Decision> {
        let next = self.aws.next_tick(Some(self.now));
        let dt = next - self.now;
        for p in &mut self.pods {
            if !p.ready && p.requested_at + self.startup <= next {
                p.ready = true;
                p.ready_transition = p.requested_at + self.startup;
            }
            if p.ready {
                p.cpu_seconds += cpu / 100.0 * to_secs_f64(dt);
            }
        }
        self.ready_seconds += self.ready() as f64 * to_secs_f64(dt);
        self.arrivals += rpm * dt / PERIOD;
        self.now = next;
        self.history.push(self.snap());
        self.decide()
    }

    /// `n` ticks at a steady load; the last decision.
    fn run(&mut self, n: usize, cpu: f64, rpm: u64) -> Decision {
        let mut last = None;
        for _ in 0..n {
            last = self.tick(cpu, rpm).or(last);
        }
        last.expect("a decision")
    }
}

fn tt(metric: AwsMetric, target: f64) -> TargetTracking {
    TargetTracking {
        name: format!("tt-{}", metric.label()),
        metric,
        target,
        disable_scale_in: false,
        scale_out_cooldown: 0,
        scale_in_cooldown: 0,
        alarm: AlarmShape::default(),
    }
}

fn spec(desired: u32, max: u32) -> AwsPolicySpec {
    AwsPolicySpec {
        min: 1,
        max,
        desired,
        instance_warmup: Some(0),
        target_tracking: vec![],
        step_scaling: vec![],
        scheduled: vec![],
        scheduled_delay: 0,
    }
}

#[test]
fn target_tracking_scales_out_after_three_datapoints() {
    let mut s = spec(4, 20);
    s.target_tracking.push(tt(AwsMetric::CpuUtilization, 50.0));
    let mut g = Group::new(s, 30 * SECOND);
    // Two breaching datapoints: alarm_high 2/3, nothing yet.
    let d = g.run(2, 80.0, 0);
    assert_eq!(d.desired, 4, "{d:?}");
    assert!(d.metrics.contains("alarm_high 2/3"), "{}", d.metrics);
    // The third: ceil(4 × 80 / 50) = 7.
    let d = g.tick(80.0, 0).unwrap();
    assert_eq!(d.desired, 7, "{d:?}");
    assert!(d.reason.starts_with("alarm high"), "{}", d.reason);
    assert!(d.metrics.contains("cpu=80.0%"), "{}", d.metrics);
}

#[test]
fn target_tracking_scales_in_after_fifteen_low_datapoints_and_rounds_capacity_up() {
    let mut s = spec(10, 20);
    s.target_tracking.push(tt(AwsMetric::CpuUtilization, 50.0));
    let mut g = Group::new(s, 30 * SECOND);
    // 44 % < 0.9 × 50 = 45 %: 14 low datapoints are not enough.
    let d = g.run(14, 44.0, 0);
    assert_eq!(d.desired, 10, "{d:?}");
    // The 15th: ceil(10 × 44 / 50) = ceil(8.8) = 9 (removing 1.2 rounds down to 1).
    let d = g.tick(44.0, 0).unwrap();
    assert_eq!(d.desired, 9, "{d:?}");
    assert!(d.reason.starts_with("alarm low"), "{}", d.reason);
    // Between 0.9 × target and target: no alarm, no change.
    let mut s = spec(10, 20);
    s.target_tracking.push(tt(AwsMetric::CpuUtilization, 50.0));
    let mut g = Group::new(s, 30 * SECOND);
    assert_eq!(g.run(30, 46.0, 0).desired, 10);
}

#[test]
fn missing_data_is_insufficient_data() {
    let mut s = spec(2, 20);
    s.target_tracking.push(tt(AwsMetric::AlbRequestCountPerTarget, 100.0));
    let mut g = Group::new(s, 3600 * SECOND);
    // Requests per target = 0 is data (low), but with no ready target there is none: make
    // every pod unready.
    for p in &mut g.pods {
        p.ready = false;
    }
    let d = g.tick(0.0, 0).unwrap();
    assert_eq!(d.desired, 2, "{d:?}");
    assert!(d.reason.contains("INSUFFICIENT_DATA"), "{d:?}");
}

#[test]
fn alb_request_count_per_target() {
    let mut s = spec(4, 40);
    s.target_tracking.push(tt(AwsMetric::AlbRequestCountPerTarget, 1000.0));
    let mut g = Group::new(s, 30 * SECOND);
    // 8000 requests per minute over 4 targets = 2000 per target: ceil(4 × 2) = 8.
    let d = g.run(3, 0.0, 8000);
    assert!(d.metrics.contains("req/target/min=2000.00"), "{}", d.metrics);
    assert_eq!(d.desired, 8, "{d:?}");
}

#[test]
fn warming_instances_count_toward_desired_and_block_scale_in() {
    let mut s = spec(4, 40);
    s.instance_warmup = Some(300 * SECOND);
    s.target_tracking.push(tt(AwsMetric::CpuUtilization, 50.0));
    let mut g = Group::new(s, 60 * SECOND);
    assert_eq!(g.run(3, 100.0, 0).desired, 8);
    // Still breaching while the new instances warm up: the metric covers the 4 warm ones,
    // ceil(4 × 100 / 50) = 8 already desired, so no stacking.
    let d = g.tick(100.0, 0).unwrap();
    assert_eq!(d.desired, 8, "{d:?}");
    assert!(d.reason.contains("warm-up"), "{}", d.reason);
    // A larger breach scales out again: ceil(4 × 150 / 50) = 12.
    assert_eq!(g.tick(150.0, 0).unwrap().desired, 12);
    // Load collapses: 15 low datapoints, but instances launched at 4 min are warming until
    // 4 min + 60 s startup + 300 s warm-up = 10 min; the last launch at 5 min warms until 11.
    let mut blocked = 0;
    let mut scaled_in_at = None;
    for _ in 0..30 {
        let d = g.tick(5.0, 0).unwrap();
        if d.reason.contains("warm-up") && d.proposal.unwrap() < 12 {
            blocked += 1;
        }
        if d.desired < 12 && scaled_in_at.is_none() {
            scaled_in_at = Some(g.now / SECOND);
        }
    }
    assert_eq!(blocked, 0, "15 low datapoints take longer than the warm-up here");
    // Warm instances contribute only after a full warm minute; they were warm from 11 min.
    // The first 15 low datapoints end at 20 min.
    assert_eq!(scaled_in_at, Some(20 * 60));
}

#[test]
fn scale_in_blocked_while_warming() {
    let mut s = spec(4, 40);
    s.instance_warmup = Some(600 * SECOND);
    let mut t = tt(AwsMetric::CpuUtilization, 50.0);
    t.alarm.low_datapoints = 2;
    s.target_tracking.push(t);
    let mut g = Group::new(s, 60 * SECOND);
    assert_eq!(g.run(3, 100.0, 0).desired, 8);
    // Low load right away: scale-in wanted but blocked by the warming instances.
    let d = g.run(3, 10.0, 0);
    assert_eq!(d.desired, 8, "{d:?}");
    assert!(d.reason.contains("warm-up"), "{}", d.reason);
    assert!(d.proposal.unwrap() < 8);
    // After startup (60 s) + warm-up (600 s) from launch at 3 min, i.e. from 14 min, plus two
    // low datapoints, it scales in.
    let mut at = None;
    for _ in 0..20 {
        let d = g.tick(10.0, 0).unwrap();
        if d.desired < 8 {
            at = Some(g.now / SECOND);
            break;
        }
    }
    assert!(at.is_some_and(|t| t >= 14 * 60), "{at:?}");
}

#[test]
fn scale_out_cooldown_only_allows_larger_scale_out() {
    // Application Auto Scaling model (no warm-up): proposals from the current capacity.
    let mut s = spec(4, 100);
    s.instance_warmup = None;
    let mut t = tt(AwsMetric::CpuUtilization, 50.0);
    t.scale_out_cooldown = 300 * SECOND;
    s.target_tracking.push(t);
    // Slow startup: the new capacity does not lower the metric during the cooldown.
    let mut g = Group::new(s, 3600 * SECOND);
    assert_eq!(g.run(3, 100.0, 0).desired, 8);
    // Same breach during the cooldown: from the pre-cooldown capacity 4, ceil(4 × 2) = 8,
    // not larger than 8, so nothing (without a cooldown it would stack to 16).
    let d = g.tick(100.0, 0).unwrap();
    assert_eq!(d.desired, 8, "{d:?}");
    assert!(d.reason.contains("cooldown"), "{}", d.reason);
    // A larger breach during the cooldown applies: ceil(4 × 150 / 50) = 12.
    assert_eq!(g.tick(150.0, 0).unwrap().desired, 12);
    // After the cooldown (started at 3 min, 5 min long) it computes from capacity again.
    let d = g.run(5, 100.0, 0);
    assert!(d.desired > 12, "{d:?}");
}

#[test]
fn scale_in_cooldown_blocks_scale_in_and_scale_out_cancels_it() {
    let mut s = spec(10, 100);
    s.instance_warmup = None;
    let mut t = tt(AwsMetric::CpuUtilization, 50.0);
    t.scale_in_cooldown = 600 * SECOND;
    t.alarm.low_datapoints = 1;
    t.alarm.high_datapoints = 1;
    s.target_tracking.push(t);
    let mut g = Group::new(s, 0);
    // ceil(10 × 40 / 50) = 8.
    assert_eq!(g.tick(40.0, 0).unwrap().desired, 8);
    // Still low: blocked by the 10-minute scale-in cooldown.
    let d = g.tick(35.0, 0).unwrap();
    assert_eq!(d.desired, 8);
    assert!(d.reason.contains("cooldown"), "{}", d.reason);
    // A scale-out cancels it: ceil(8 × 60 / 50) = 10, then a scale-in is allowed at once.
    assert_eq!(g.tick(60.0, 0).unwrap().desired, 10);
    assert_eq!(g.tick(20.0, 0).unwrap().desired, 4);
}

#[test]
fn several_target_tracking_policies_out_if_any_in_if_all() {
    let mut s = spec(10, 100);
    let mut cpu = tt(AwsMetric::CpuUtilization, 50.0);
    cpu.alarm.low_datapoints = 1;
    cpu.alarm.high_datapoints = 1;
    let mut alb = tt(AwsMetric::AlbRequestCountPerTarget, 1000.0);
    alb.alarm.low_datapoints = 1;
    alb.alarm.high_datapoints = 1;
    s.target_tracking = vec![cpu.clone(), alb.clone()];
    let mut g = Group::new(s.clone(), 0);
    // CPU low but requests on target: no scale-in.
    let d = g.tick(20.0, 10_000).unwrap();
    assert_eq!(d.desired, 10, "{d:?}");
    // Both low: the largest of the two proposals, ceil(10 × 20/50)=4 vs ceil(10 × 500/1000)=5.
    let d = g.tick(20.0, 5_000).unwrap();
    assert_eq!(d.desired, 5, "{d:?}");
    // Either high: out, the largest.
    let d = g.tick(20.0, 10_000).unwrap();
    assert_eq!(d.desired, 10, "{d:?}");
    // A policy with scale-in disabled does not veto.
    alb.disable_scale_in = true;
    s.target_tracking = vec![cpu, alb];
    let mut g = Group::new(s, 0);
    assert_eq!(g.tick(20.0, 9_000).unwrap().desired, 4);
}

fn doc_steps() -> (StepScaling, StepScaling) {
    let sa = |lower, upper, adjustment| StepAdjustment { lower, upper, adjustment };
    let out = StepScaling {
        name: "out".into(),
        metric: AwsMetric::CpuUtilization,
        threshold: 50.0,
        comparison: Comparison::GreaterOrEqual,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        adjustment_type: AdjustmentType::PercentChangeInCapacity,
        steps: vec![
            sa(Some(0.0), Some(10.0), 0.0),
            sa(Some(10.0), Some(20.0), 10.0),
            sa(Some(20.0), None, 30.0),
        ],
        min_adjustment_magnitude: None,
    };
    let inn = StepScaling {
        name: "in".into(),
        comparison: Comparison::LessOrEqual,
        steps: vec![
            sa(Some(-10.0), Some(0.0), 0.0),
            sa(Some(-20.0), Some(-10.0), -10.0),
            sa(None, Some(-20.0), -30.0),
        ],
        ..out.clone()
    };
    (out, inn)
}

#[test]
fn step_scaling_documented_example_end_to_end() {
    let (out, inn) = doc_steps();
    let mut s = spec(10, 100);
    s.instance_warmup = Some(0);
    s.step_scaling = vec![out, inn];
    let mut g = Group::new(s, 0);
    let d = g.tick(60.0, 0).unwrap();
    assert_eq!(d.desired, 11, "{d:?}");
    assert!(d.reason.contains("step +10%"), "{}", d.reason);
    // The new instance is ready at once (startup 0) but contributes after a full minute; the
    // group's current capacity is 11 either way: 30 % of 11 = 3.3 → 3 → 14.
    assert_eq!(g.tick(70.0, 0).unwrap().desired, 14);
    assert_eq!(g.tick(40.0, 0).unwrap().desired, 13);
    assert_eq!(g.tick(30.0, 0).unwrap().desired, 10);
    assert_eq!(g.tick(50.0, 0).unwrap().desired, 10);
}

#[test]
fn step_scaling_with_warming_instance_does_not_stack() {
    // Documented: at 60 % → 11; at 62 % while the new instance warms, 10 % of 10 → 11, already
    // desired: nothing; at 70 % while it warms, 30 % of 10 = 3 → 13 (only 2 more).
    let (out, inn) = doc_steps();
    let mut s = spec(10, 100);
    s.instance_warmup = Some(600 * SECOND);
    s.step_scaling = vec![out, inn];
    let mut g = Group::new(s, 60 * SECOND);
    assert_eq!(g.tick(60.0, 0).unwrap().desired, 11);
    let d = g.tick(62.0, 0).unwrap();
    assert_eq!(d.desired, 11, "{d:?}");
    assert!(d.reason.contains("warm-up"), "{}", d.reason);
    assert_eq!(g.tick(70.0, 0).unwrap().desired, 13);
    // Scale-in waits for the warm-up.
    let d = g.tick(30.0, 0).unwrap();
    assert_eq!(d.desired, 13);
    assert!(d.reason.contains("warm-up"), "{}", d.reason);
}

#[test]
fn step_alarm_needs_m_of_n_datapoints() {
    let (mut out, _) = doc_steps();
    out.evaluation_periods = 3;
    out.datapoints_to_alarm = 2;
    let mut s = spec(10, 100);
    s.step_scaling = vec![out];
    let mut g = Group::new(s, 0);
    assert_eq!(g.tick(75.0, 0).unwrap().desired, 10, "1 of 3");
    assert_eq!(g.tick(40.0, 0).unwrap().desired, 10, "1 of 3");
    let d = g.tick(75.0, 0).unwrap();
    assert_eq!(d.desired, 13, "2 of 3: 30 % of 10 {d:?}");
}

#[test]
fn target_tracking_and_step_scaling_largest_wins() {
    let (out, _) = doc_steps();
    let mut s = spec(10, 100);
    let mut t = tt(AwsMetric::CpuUtilization, 60.0);
    t.alarm.high_datapoints = 1;
    s.target_tracking = vec![t];
    s.step_scaling = vec![out];
    let mut g = Group::new(s, 0);
    // 75 %: step +30 % → 13; target tracking ceil(10 × 75/60) = 13 (12.5). Tie.
    assert_eq!(g.tick(75.0, 0).unwrap().desired, 13);
    let mut s = spec(10, 100);
    let (out, _) = doc_steps();
    let mut t = tt(AwsMetric::CpuUtilization, 40.0);
    t.alarm.high_datapoints = 1;
    s.target_tracking = vec![t];
    s.step_scaling = vec![out];
    let mut g = Group::new(s, 0);
    // 75 %: step → 13; target tracking ceil(10 × 75/40) = 19: the larger wins.
    let d = g.tick(75.0, 0).unwrap();
    assert_eq!(d.desired, 19, "{d:?}");
    assert!(d.reason.contains("alarm high"));
}

#[test]
fn scheduled_actions_in_a_time_zone() {
    // Simulation starts Monday 2025-01-06 00:00 UTC; the action fires at 08:00 New York time,
    // 13:00 UTC (EST, UTC−5).
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let clock = Clock::new(start, chrono_tz::UTC, 2 * 86_400 * SECOND);
    let mut s = spec(2, 10);
    s.scheduled.push(ScheduledAction {
        name: "morning".into(),
        when: When::Recurrence { cron: "0 8 * * 1-5".into(), tz: chrono_tz::America::New_York },
        min: Some(6),
        max: Some(30),
        desired: None,
    });
    s.scheduled.push(ScheduledAction {
        name: "evening".into(),
        when: When::Once {
            at: chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap().and_hms_opt(20, 30, 0).unwrap(),
            tz: chrono_tz::UTC,
        },
        min: Some(1),
        max: None,
        desired: Some(3),
    });
    s.scheduled_delay = 30 * SECOND;
    assert_eq!(s.bounds(), (1, 30, 2));
    let mut g = Group::with_clock(s, 0, clock);
    let mut seen = Vec::new();
    while g.now < 22 * 3600 * SECOND {
        if let Some(d) = g.tick(0.0, 0)
            && d.reason.contains("scheduled")
        {
            seen.push((g.now / SECOND, d.desired, d.reason.clone()));
        }
    }
    assert_eq!(
        seen,
        vec![
            (13 * 3600 + 30, 6, "scheduled action morning".to_string()),
            (20 * 3600 + 30 * 60 + 30, 3, "scheduled action evening".to_string()),
        ]
    );
}

#[test]
fn scheduled_action_bounds_apply() {
    let a = |min, max, desired| ScheduledAction {
        name: "a".into(),
        when: When::Recurrence { cron: "0 8 * * *".into(), tz: chrono_tz::UTC },
        min,
        max,
        desired,
    };
    assert_eq!(scheduled::apply(&a(Some(5), None, None), 1, 10, 2), (5, 10, 5));
    assert_eq!(scheduled::apply(&a(None, Some(3), None), 1, 10, 8), (1, 3, 3));
    assert_eq!(scheduled::apply(&a(None, None, Some(7)), 1, 10, 2), (1, 10, 7));
    assert!(a(None, None, None).check().is_err());
    assert!(a(Some(5), Some(3), None).check().is_err());
}

#[test]
fn invalid_specs_are_rejected() {
    let mut s = spec(0, 10);
    s.min = 1;
    s.target_tracking.push(tt(AwsMetric::CpuUtilization, 50.0));
    assert!(matches!(s.check(), Err(AwsSpecError::Capacity(..))));
    let mut s = spec(2, 10);
    assert_eq!(s.check(), Err(AwsSpecError::Empty));
    s.target_tracking.push(tt(AwsMetric::CpuUtilization, 0.0));
    assert!(matches!(s.check(), Err(AwsSpecError::Target(_))));
}

fn once_utc(hh: u32, mm: u32) -> When {
    When::Once {
        at: chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap().and_hms_opt(hh, mm, 0).unwrap(),
        tz: chrono_tz::UTC,
    }
}

fn action(name: &str, mm: u32, min: Option<u32>, desired: Option<u32>) -> ScheduledAction {
    ScheduledAction { name: name.into(), when: once_utc(0, mm), min, max: None, desired }
}

#[test]
fn regression_issue14_scheduled_desired_is_not_undone_by_scale_in() {
    // 2 instances at 32 % CPU: below 0.9 × 50 % = 45 %, so the scale-in alarm is in ALARM from
    // the 15th datapoint on, and ceil(2 × 32 / 50) = 2 keeps the group at min 2.
    let mut s = spec(2, 10);
    s.min = 2;
    s.instance_warmup = Some(120 * SECOND);
    s.target_tracking.push(tt(AwsMetric::CpuUtilization, 50.0));
    s.scheduled.push(action("prewarm", 30, None, Some(6)));
    let mut g = Group::new(s, 60 * SECOND);
    let d = g.run(29, 32.0, 0);
    assert_eq!(d.desired, 2, "{d:?}");
    assert!(d.metrics.contains("alarm_low 15/15"), "{}", d.metrics);
    // 00:30: the action sets desired 6; its 4 launches are warming in the same evaluation, so
    // the scale-in to ceil(2 × 32 / 50) = 2 is blocked. (It used to be applied: desired 2.)
    let d = g.tick(32.0, 0).unwrap();
    assert_eq!(d.desired, 6, "{d:?}");
    assert!(d.metrics.contains("warm=2 warming=4"), "{}", d.metrics);
    assert_eq!(d.reason, "scheduled action prewarm; warm-up tt-cpu");
    assert_eq!(d.proposal, Some(2));
    // Ready at 00:31, warm from 00:33: blocked at 00:31 and 00:32.
    for _ in 0..2 {
        let d = g.tick(32.0, 0).unwrap();
        assert_eq!(d.desired, 6, "{d:?}");
        assert!(d.reason.contains("warm-up"), "{d:?}");
    }
    // 00:33: nothing warms any more and the load is still low: ceil(6 × 32 / 50) = ceil(3.84) = 4.
    let d = g.tick(32.0, 0).unwrap();
    assert!(d.metrics.contains("warm=6 warming=0"), "{}", d.metrics);
    assert_eq!(d.desired, 4, "{d:?}");
}

#[test]
fn regression_issue14_proposal_counts_every_instance_past_its_warm_up() {
    // 2 instances at 32 % (scale-in alarm in ALARM). min = 5 at 00:30 launches 3 (ready 00:31,
    // warm from 00:33); min = 1 at 00:31.
    let mut s = spec(2, 10);
    s.min = 2;
    s.instance_warmup = Some(120 * SECOND);
    s.target_tracking.push(tt(AwsMetric::CpuUtilization, 50.0));
    s.scheduled.push(action("raise", 30, Some(5), None));
    s.scheduled.push(action("lower", 31, Some(1), None));
    let mut g = Group::new(s, 60 * SECOND);
    assert_eq!(g.run(30, 32.0, 0).desired, 5);
    let d = g.run(2, 15.8, 0);
    assert_eq!(d.desired, 5, "warming instances block scale-in: {d:?}");
    // 00:33: the CPU datapoint still covers only the 2 old instances (the new ones have not
    // been warm for a whole minute), but the capacity is the 5 instances past their warm-up:
    // ceil(5 × 15.8 / 50) = ceil(1.58) = 2, not ceil(2 × 15.8 / 50) = 1.
    let d = g.tick(15.8, 0).unwrap();
    assert!(d.metrics.contains("cpu=15.8% warm=5 warming=0"), "{}", d.metrics);
    assert_eq!(d.desired, 2, "{d:?}");
    assert!(d.reason.starts_with("alarm low"), "{d:?}");
}

#[test]
fn regression_issue14_alb_capacity_leaves_warming_targets_out() {
    // ALBRequestCountPerTarget counts every ready target, warming ones included; the capacity a
    // scale-out is computed from does not.
    let mut s = spec(4, 40);
    s.instance_warmup = Some(300 * SECOND);
    s.target_tracking.push(tt(AwsMetric::AlbRequestCountPerTarget, 1000.0));
    let mut g = Group::new(s, 60 * SECOND);
    // 8000 requests a minute on 4 targets: 2000 each, ceil(4 × 2000 / 1000) = 8 at 3 min.
    assert_eq!(g.run(3, 0.0, 8000).desired, 8);
    // 12 000 a minute from then on: 1500 per target over the 8 ready targets. The 4 new ones
    // warm until 4 min + 300 s = 9 min, so the capacity is 4: ceil(4 × 1500 / 1000) = 6 ≤ 8,
    // no scale-out (counting the warming targets would give ceil(8 × 1.5) = 12 at once).
    for _ in 4..9 {
        let d = g.tick(0.0, 12_000).unwrap();
        assert!(d.metrics.contains("req/target/min=1500.00"), "{}", d.metrics);
        assert_eq!(d.desired, 8, "{d:?}");
        assert!(d.reason.contains("warm-up"), "{d:?}");
    }
    // 9 min: all 8 warm, ceil(8 × 1500 / 1000) = 12.
    let d = g.tick(0.0, 12_000).unwrap();
    assert!(d.metrics.contains("warm=8 warming=0"), "{}", d.metrics);
    assert_eq!(d.desired, 12, "{d:?}");
}

#[test]
fn datapoints_are_logged_as_compared() {
    assert_eq!(datapoint(80.0, 1), "80.0");
    assert_eq!(datapoint(15.829756, 1), "15.829756");
    assert_eq!(datapoint(2000.0, 2), "2000.00");
    assert_eq!(datapoint(1500.5, 2), "1500.50");
    assert_eq!(datapoint(73.69, 1), "73.69");
}
