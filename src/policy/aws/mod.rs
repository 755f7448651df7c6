//! The AWS policy family (EC2 Auto Scaling and Application Auto Scaling): target tracking, step
//! scaling and scheduled actions on one group, with cooldowns and instance warm-up, evaluated on
//! 60 s CloudWatch datapoints.
//!
//! This module owns the checked [`AwsPolicySpec`] and the running [`Aws`] controller;
//! [`step`] holds the step-adjustment arithmetic and [`scheduled`] the scheduled actions.
//!
//! # Documented behaviour and modelled assumptions
//!
//! **Documented** (EC2 Auto Scaling and Application Auto Scaling user guides):
//! - target tracking scales out when the metric is above the target and scales in gradually;
//!   with several target-tracking policies the group scales out if *any* policy wants to and
//!   scales in only if *all* policies with scale-in enabled agree; when several policies act at
//!   once the one giving the **largest** capacity wins (scale out and scale in);
//! - capacity is rounded conservatively: up when adding, down when removing, so the proposal is
//!   `ceil(capacity × metric / target)`, with no cap on how much one scale-in removes;
//! - missing datapoints leave an alarm in `INSUFFICIENT_DATA`: no scaling;
//! - instance warm-up (`DefaultInstanceWarmup`): warming instances are excluded from the
//!   aggregated metric and from the current capacity a scale-out is computed from ("while
//!   scaling out, we do not consider instances that are warming up as part of the current
//!   capacity"), count toward desired capacity for the next scale-out (repeated breaches do not
//!   stack) and block scale-in until they finish; while scaling in, terminating instances are
//!   part of the current capacity;
//! - Application Auto Scaling cooldowns: during a scale-out cooldown the capacity added by the
//!   scale-out that started it counts toward the next one, so only a *larger* scale-out applies;
//!   a scale-in cooldown blocks scale-in, and a scale-out cancels it;
//! - step scaling: bounds relative to the threshold, inclusive/exclusive rules, the three
//!   adjustment types and the percent rounding (see [`step`]); while scaling out, warming
//!   instances are not part of the current capacity, so breaches within one step add capacity
//!   once; a scale-in cannot start while a scale-out is in progress;
//! - scheduled actions set min / max / desired, ignore cooldowns, and may run up to two
//!   minutes late (see [`scheduled`]); the instances an action launches are pending, then
//!   warming, like any other launch, so they block scale-in;
//! - `ALBRequestCountPerTarget` is the requests the load balancer received in one minute divided
//!   by the number of targets (every registered, healthy target: warming instances included,
//!   since the load balancer, not the Auto Scaling group, computes it); the capacity the
//!   proposal multiplies still leaves warming instances out.
//!
//! **Modelled from third-party observation** (the alarms target tracking creates are not
//! documented): the scale-out alarm fires on **3 of 3** one-minute datapoints above the target;
//! the scale-in alarm on **15 of 15** datapoints below **0.9 × target** (both configurable, see
//! [`AlarmShape`]). While an alarm stays in `ALARM`, the policy is invoked again every minute,
//! as the Auto Scaling alarm actions are observed to repeat.
//!
//! **Simulator choices**: a warming instance is one not yet ready (booting, `Pending`) or ready
//! for less than the warm-up; instances present at time 0 are warm. An instance contributes CPU
//! to a datapoint only if it was in service and warm for that whole minute, so a new instance
//! enters the CPU metric at the first datapoint at least 60 s after its warm-up ends (it is in
//! the capacity from the end of its warm-up). One evaluation runs at each datapoint (and at
//! each scheduled action's time): scheduled actions first, then the dynamic policies against
//! the desired capacity the actions left, counting the instances the actions launch as warming
//! and those they remove as terminating. Without a warm-up (`instance_warmup` unset) the
//! Application Auto Scaling model applies: target tracking computes from the current desired
//! capacity and relies on cooldowns to avoid stacking; a larger scale-out within a scale-out
//! cooldown applies but neither restarts the cooldown nor changes the capacity it computes
//! from. (A real EC2 group without `DefaultInstanceWarmup` instead warms instances for its
//! `DefaultCooldown`, 300 s: set `instance_warmup = "300s"` for that.) The request and
//! concurrency metrics are per *ready* target (the load balancer's healthy targets), as the
//! load balancer reports them; with no ready target they are missing (`INSUFFICIENT_DATA`), so
//! a group scaled in to 0 on them does not scale out again.

pub mod scheduled;
pub mod step;
#[cfg(test)]
mod tests;

pub use scheduled::{ScheduledAction, ScheduledError, When};
pub use step::{AdjustmentType, StepAdjustment, StepError};

use super::{Decision, Explanation, Observation, PodView, Policy, SteadyState};
use crate::time::{Clock, SECOND, Time, to_secs_f64};
use std::collections::VecDeque;
use std::fmt::Write;

/// CloudWatch datapoint period (one-minute detailed monitoring).
pub const PERIOD: Time = 60 * SECOND;

/// A metric a policy tracks or alarms on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsMetric {
    /// `ASGAverageCPUUtilization`: mean CPU utilisation of the group's warm, in-service
    /// instances, percent.
    CpuUtilization,
    /// `ALBRequestCountPerTarget`: requests in one minute divided by the ready targets.
    AlbRequestCountPerTarget,
    /// A custom metric: mean in-flight requests per ready target over the minute.
    ConcurrencyPerTarget,
}

impl AwsMetric {
    const ALL: [AwsMetric; 3] =
        [AwsMetric::CpuUtilization, AwsMetric::AlbRequestCountPerTarget, AwsMetric::ConcurrencyPerTarget];

    fn index(self) -> usize {
        self as usize
    }

    /// Short label used in decision logs.
    pub fn label(self) -> &'static str {
        match self {
            AwsMetric::CpuUtilization => "cpu",
            AwsMetric::AlbRequestCountPerTarget => "req/target/min",
            AwsMetric::ConcurrencyPerTarget => "concurrency/target",
        }
    }
}

/// The shape of the two alarms a target-tracking policy creates (modelled, not documented).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlarmShape {
    /// Consecutive datapoints above the target to scale out (observed: 3).
    pub high_datapoints: u32,
    /// Consecutive datapoints below `low_ratio × target` to scale in (observed: 15).
    pub low_datapoints: u32,
    /// The scale-in alarm's threshold as a fraction of the target (observed: about 0.9).
    pub low_ratio: f64,
}

impl Default for AlarmShape {
    fn default() -> Self {
        AlarmShape { high_datapoints: 3, low_datapoints: 15, low_ratio: 0.9 }
    }
}

/// A target-tracking scaling policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetTracking {
    /// Policy name (for the decision log).
    pub name: String,
    /// The tracked metric.
    pub metric: AwsMetric,
    /// Target value, in the metric's unit (percent for CPU, requests per target per minute,
    /// in-flight requests per target).
    pub target: f64,
    /// `DisableScaleIn`: this policy never removes capacity (and does not veto others).
    pub disable_scale_in: bool,
    /// `ScaleOutCooldown` (Application Auto Scaling; 0: none).
    pub scale_out_cooldown: Time,
    /// `ScaleInCooldown` (Application Auto Scaling; 0: none).
    pub scale_in_cooldown: Time,
    /// The alarms' shape.
    pub alarm: AlarmShape,
}

/// The comparison of a step-scaling alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `GreaterThanOrEqualToThreshold`.
    GreaterOrEqual,
    /// `GreaterThanThreshold`.
    Greater,
    /// `LessThanThreshold`.
    Less,
    /// `LessThanOrEqualToThreshold`.
    LessOrEqual,
}

impl Comparison {
    /// Whether `v` breaches `threshold`.
    pub fn breaches(self, v: f64, threshold: f64) -> bool {
        match self {
            Comparison::GreaterOrEqual => v >= threshold,
            Comparison::Greater => v > threshold,
            Comparison::Less => v < threshold,
            Comparison::LessOrEqual => v <= threshold,
        }
    }
}

/// A step-scaling policy with its CloudWatch alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct StepScaling {
    /// Policy name (for the decision log).
    pub name: String,
    /// The alarm's metric.
    pub metric: AwsMetric,
    /// The alarm threshold, in the metric's unit.
    pub threshold: f64,
    /// The alarm's comparison.
    pub comparison: Comparison,
    /// `EvaluationPeriods` (N): datapoints the alarm looks at.
    pub evaluation_periods: u32,
    /// `DatapointsToAlarm` (M ≤ N): breaching datapoints among the last N to go to `ALARM`.
    pub datapoints_to_alarm: u32,
    /// How the steps change capacity.
    pub adjustment_type: AdjustmentType,
    /// Step adjustments, sorted by lower bound (checked by [`step::check_steps`]).
    pub steps: Vec<StepAdjustment>,
    /// `MinAdjustmentMagnitude` (percent changes only).
    pub min_adjustment_magnitude: Option<u32>,
}

/// The checked description of an AWS-style scaling group and its policies.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsPolicySpec {
    /// `MinSize` / `MinCapacity` at the start.
    pub min: u32,
    /// `MaxSize` / `MaxCapacity` at the start.
    pub max: u32,
    /// `DesiredCapacity` at the start (instances ready at time 0).
    pub desired: u32,
    /// `DefaultInstanceWarmup`: `Some` enables the EC2 warm-up model (even at 0 s, as AWS
    /// recommends); `None` uses the Application Auto Scaling model (cooldowns only).
    pub instance_warmup: Option<Time>,
    /// Target-tracking policies.
    pub target_tracking: Vec<TargetTracking>,
    /// Step-scaling policies.
    pub step_scaling: Vec<StepScaling>,
    /// Scheduled actions, in the order given (the order they run in when simultaneous).
    pub scheduled: Vec<ScheduledAction>,
    /// Fixed delay before a scheduled action takes effect (AWS: up to 2 minutes; default 0).
    pub scheduled_delay: Time,
}

/// Why an [`AwsPolicySpec`] is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AwsSpecError {
    /// min > max, desired outside them, or max 0.
    #[error("capacities must satisfy min ≤ desired ≤ max and max ≥ 1 (found min {0}, desired {1}, max {2})")]
    Capacity(u32, u32, u32),
    /// No policy or action at all.
    #[error("needs at least one target-tracking policy, step-scaling policy or scheduled action")]
    Empty,
    /// A target or threshold that is not a positive finite number.
    #[error("policy `{0}`: target must be positive and finite")]
    Target(String),
    /// Alarm datapoint counts out of range.
    #[error(
        "policy `{0}`: datapoint counts must satisfy 1 ≤ datapoints_to_alarm ≤ evaluation_periods (and the alarm ratio lie in (0, 1])"
    )]
    Alarm(String),
    /// Invalid step adjustments.
    #[error("policy `{0}`: {1}")]
    Steps(String, StepError),
    /// Invalid scheduled action.
    #[error("scheduled action `{0}`: {1}")]
    Scheduled(String, ScheduledError),
}

impl AwsPolicySpec {
    /// Checks the spec (capacities, targets, alarms, steps, actions) and sorts the steps.
    pub fn check(&mut self) -> Result<(), AwsSpecError> {
        if self.max == 0 || self.min > self.max || self.desired < self.min || self.desired > self.max {
            return Err(AwsSpecError::Capacity(self.min, self.desired, self.max));
        }
        if self.target_tracking.is_empty() && self.step_scaling.is_empty() && self.scheduled.is_empty() {
            return Err(AwsSpecError::Empty);
        }
        for t in &self.target_tracking {
            if !(t.target.is_finite() && t.target > 0.0) {
                return Err(AwsSpecError::Target(t.name.clone()));
            }
            let a = t.alarm;
            if a.high_datapoints == 0 || a.low_datapoints == 0 || !(a.low_ratio > 0.0 && a.low_ratio <= 1.0) {
                return Err(AwsSpecError::Alarm(t.name.clone()));
            }
        }
        for s in &mut self.step_scaling {
            if !s.threshold.is_finite() {
                return Err(AwsSpecError::Target(s.name.clone()));
            }
            if s.datapoints_to_alarm == 0 || s.datapoints_to_alarm > s.evaluation_periods {
                return Err(AwsSpecError::Alarm(s.name.clone()));
            }
            step::check_steps(&mut s.steps).map_err(|e| AwsSpecError::Steps(s.name.clone(), e))?;
        }
        for a in &self.scheduled {
            a.check().map_err(|e| AwsSpecError::Scheduled(a.name.clone(), e))?;
        }
        Ok(())
    }

    /// The widest (min, max) the group can reach, including scheduled actions' bounds, and the
    /// initial desired capacity: the engine's safeguard clamp.
    pub fn bounds(&self) -> (u32, u32, u32) {
        let min = self.scheduled.iter().filter_map(|a| a.min).fold(self.min, u32::min);
        let max = self.scheduled.iter().filter_map(|a| a.max.or(a.desired)).fold(self.max, u32::max);
        (min, max, self.desired)
    }

    /// A fresh controller for one run on `clock`, with scheduled actions resolved up to
    /// `horizon`.
    pub fn build(&self, clock: &Clock, horizon: Time) -> Box<dyn Policy> {
        Box::new(Aws::new(self.clone(), clock, horizon))
    }
}

/// Per-target-tracking-policy cooldown state.
#[derive(Debug, Clone, Copy, Default)]
struct Cooldowns {
    /// End of the scale-out cooldown.
    out_until: Time,
    /// Capacity before the scale-out that started the cooldown.
    out_base: f64,
    /// End of the scale-in cooldown.
    in_until: Time,
}

/// One metric's datapoint series.
#[derive(Debug, Clone, Default)]
struct Series {
    /// Most recent last; `None` is a missing datapoint.
    points: VecDeque<Option<f64>>,
}

impl Series {
    fn latest(&self) -> Option<f64> {
        self.points.back().copied().flatten()
    }

    /// The last `n` datapoints, if that many were taken.
    fn last(&self, n: u32) -> Option<impl Iterator<Item = Option<f64>> + '_> {
        let n = n as usize;
        (self.points.len() >= n).then(|| self.points.iter().skip(self.points.len() - n).copied())
    }

    /// `n` of the last `n` datapoints present and satisfying `f`.
    fn all(&self, n: u32, f: impl Fn(f64) -> bool) -> bool {
        self.last(n).is_some_and(|mut it| it.all(|p| p.is_some_and(&f)))
    }

    /// How many of the last `n` datapoints are present and satisfy `f`.
    fn count(&self, n: u32, f: impl Fn(f64) -> bool) -> u32 {
        let n = (n as usize).min(self.points.len());
        self.points.iter().skip(self.points.len() - n).filter(|p| p.is_some_and(&f)).count() as u32
    }
}

/// A running AWS-style controller.
#[derive(Debug, Clone)]
pub struct Aws {
    spec: AwsPolicySpec,
    /// Current bounds (scheduled actions change them).
    min: u32,
    max: u32,
    /// (fire time, action index), in time order then given order.
    fires: Vec<(Time, usize)>,
    next_fire: usize,
    series: [Series; 3],
    used: [bool; 3],
    keep: usize,
    /// CPU-seconds counter per pod id at the previous datapoint, if it was warm and in service.
    cpu_prev: Vec<Option<f64>>,
    last_datapoint: Option<Time>,
    cooldowns: Vec<Cooldowns>,
    /// A steady start: the series hold steady datapoints before time 0, so the tick at 0 only
    /// starts the CPU counters.
    steady: bool,
}

/// The result of one evaluation of the dynamic policies.
#[derive(Debug, Clone)]
struct Outcome {
    /// New desired capacity (after bounds).
    next: u32,
    /// The capacity asked for before cooldowns, warm-up and the scale-in agreement.
    proposal: u32,
    /// After those rules, before the bounds.
    stabilized: u32,
    /// What the controller saw.
    metrics: String,
    /// Why.
    reason: String,
}

/// The group as the dynamic policies count it at one evaluation, after the scheduled actions of
/// the same evaluation have changed the desired capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct GroupCount {
    /// In service and past the warm-up: AWS's "current capacity" for a scale-out, which leaves
    /// warming instances out.
    warm: u32,
    /// Launched but not in service yet, or in service within the warm-up, including the
    /// launches a scheduled action of the same evaluation asks for.
    warming: u32,
    /// Leaving the group (draining, or removed by a scheduled action of the same evaluation):
    /// part of the current capacity for a scale-in, as AWS documents.
    terminating: u32,
}

/// A policy's wish at one evaluation.
#[derive(Debug, Clone)]
struct Wish {
    capacity: u32,
    why: String,
    /// Index of the target-tracking policy (for cooldowns).
    tt: Option<usize>,
}

/// What the dynamic policies ask for at one evaluation, as they are evaluated.
#[derive(Debug, Default)]
struct Wishes {
    /// Scale-outs that apply.
    outs: Vec<Wish>,
    /// Scale-ins that apply (target tracking's only when every policy agrees).
    ins: Vec<Wish>,
    /// Why a wish does not apply (no data, warm-up, cooldown).
    blocked: Vec<String>,
    /// Every scale-out capacity asked for, before cooldowns, warm-up and the agreement rule.
    raw_out: Vec<u32>,
    /// Every scale-in capacity asked for, before cooldowns, warm-up and the agreement rule.
    raw_in: Vec<u32>,
}

impl Aws {
    /// A controller for a checked `spec`, with scheduled actions resolved on `clock` up to
    /// `horizon`.
    pub fn new(spec: AwsPolicySpec, clock: &Clock, horizon: Time) -> Aws {
        let mut fires: Vec<(Time, usize)> = spec
            .scheduled
            .iter()
            .enumerate()
            .flat_map(|(i, a)| {
                a.fire_times(clock, horizon, spec.scheduled_delay).into_iter().map(move |t| (t, i))
            })
            .collect();
        fires.sort();
        let mut used = [false; 3];
        let mut keep = 1;
        for t in &spec.target_tracking {
            used[t.metric.index()] = true;
            keep = keep.max(t.alarm.high_datapoints.max(t.alarm.low_datapoints) as usize);
        }
        for s in &spec.step_scaling {
            used[s.metric.index()] = true;
            keep = keep.max(s.evaluation_periods as usize);
        }
        Aws {
            min: spec.min,
            max: spec.max,
            cooldowns: vec![Cooldowns::default(); spec.target_tracking.len()],
            spec,
            fires,
            next_fire: 0,
            series: Default::default(),
            used,
            keep,
            cpu_prev: Vec::new(),
            last_datapoint: None,
            steady: false,
        }
    }

    /// A metric's datapoint with `n` instances in `steady` state (all warm and in service).
    fn steady_value(metric: AwsMetric, steady: &SteadyState, n: u32) -> f64 {
        let per = |v: f64| if n == 0 { f64::INFINITY } else { v / n as f64 };
        let v = match metric {
            AwsMetric::CpuUtilization => 100.0 * steady.cpu_utilization(n),
            AwsMetric::AlbRequestCountPerTarget => per(steady.rate * to_secs_f64(PERIOD)),
            AwsMetric::ConcurrencyPerTarget => per(steady.concurrency_total(n)),
        };
        if v.is_finite() { (v * 1e6).round() / 1e6 } else { v }
    }

    /// The capacity the target-tracking policies ask for with `n` instances in `steady` state:
    /// a scale-out when a metric is above its target, a scale-in when every policy that may
    /// scale in is below its low alarm, else `n`. (Step-scaling policies keep `n`: their
    /// adjustments are relative to a breach, not to a steady level.)
    fn steady_proposal(&self, steady: &SteadyState, n: u32) -> u32 {
        let mut out: Option<u32> = None;
        let mut ins: Vec<u32> = Vec::new();
        let mut veto = false;
        for t in &self.spec.target_tracking {
            let v = Self::steady_value(t.metric, steady, n);
            if !v.is_finite() {
                out = Some(out.unwrap_or(0).max(steady.unsaturated()));
                continue;
            }
            let p = ceil_u32(n as f64 * v / t.target);
            if v > t.target && p > n {
                out = Some(out.unwrap_or(0).max(p));
            }
            if t.disable_scale_in {
                continue;
            }
            if v < t.alarm.low_ratio * t.target && p < n {
                ins.push(p);
            } else {
                veto = true;
            }
        }
        match out {
            Some(p) => p,
            None if !veto && !ins.is_empty() => ins.into_iter().max().unwrap_or(n),
            None => n,
        }
    }

    fn warmup_mode(&self) -> bool {
        self.spec.instance_warmup.is_some()
    }

    /// Whether a pod is warming at `now`: not ready yet, or ready for less than the warm-up.
    /// Instances ready at time 0 are warm.
    fn warming(&self, p: &PodView, now: Time) -> bool {
        if p.deleting {
            return false;
        }
        if !p.ready {
            return true;
        }
        let w = self.spec.instance_warmup.unwrap_or(0);
        p.ready_transition > 0 && now < p.ready_transition.saturating_add(w)
    }

    /// Counts the group for an evaluation at which the desired capacity is `desired` (after this
    /// evaluation's scheduled actions). Instances the group does not have yet are launching, so
    /// warming; instances beyond `desired` are being removed in the engine's order (not-ready
    /// ones newest first, then the most recently ready), so terminating.
    fn count_group(&self, seen: &Observation, desired: u32) -> GroupCount {
        let now = seen.now;
        let mut live: Vec<&PodView> = seen.pods.iter().filter(|p| !p.deleting).collect();
        let mut c = GroupCount {
            terminating: seen.pods.iter().filter(|p| p.deleting).count() as u32,
            ..GroupCount::default()
        };
        let have = live.len() as u32;
        if desired < have {
            // Removal order: not ready before ready; among them the newest first.
            live.sort_by_key(|p| (p.ready, std::cmp::Reverse(p.ready_transition), std::cmp::Reverse(p.id)));
            let gone = (have - desired) as usize;
            live.drain(..gone);
            c.terminating += gone as u32;
        } else {
            c.warming += desired - have;
        }
        for p in live {
            if self.warming(p, now) {
                c.warming += 1;
            } else {
                c.warm += 1;
            }
        }
        c
    }

    /// Takes one datapoint of every metric in use.
    fn take_datapoints(&mut self, seen: &Observation) {
        let now = seen.now;
        let steady_zero = self.steady && now == 0;
        let dt = self.last_datapoint.map(|t| now.saturating_sub(t)).unwrap_or(0);
        // CPU: warm, in-service instances that were also warm and in service at the last
        // datapoint.
        let (mut sum, mut n) = (0.0, 0u32);
        let mut next_prev = vec![None; seen.pods.iter().map(|p| p.id as usize + 1).max().unwrap_or(0)];
        for p in seen.pods {
            let counted = p.ready && !p.deleting && !self.warming(p, now);
            if !counted {
                continue;
            }
            if let Some(Some(prev)) = self.cpu_prev.get(p.id as usize)
                && dt > 0
                && p.cpu_request > 0.0
            {
                sum += (p.cpu_seconds - prev) / (to_secs_f64(dt) * p.cpu_request);
                n += 1;
            }
            next_prev[p.id as usize] = Some(p.cpu_seconds);
        }
        self.cpu_prev = next_prev;
        if steady_zero {
            // The series already hold the steady datapoints up to time 0.
            self.last_datapoint = Some(now);
            return;
        }
        let window = seen.metrics.window(PERIOD);
        for m in AwsMetric::ALL {
            if !self.used[m.index()] {
                continue;
            }
            let value = match m {
                AwsMetric::CpuUtilization => (n > 0).then(|| 100.0 * sum / n as f64),
                AwsMetric::AlbRequestCountPerTarget => match window {
                    Some(w) if w.ready_replicas() > 1e-9 => {
                        let reqs =
                            (w.to.arrivals - w.from.arrivals) as f64 * to_secs_f64(PERIOD) / w.seconds();
                        Some(reqs / w.ready_replicas())
                    }
                    _ => None,
                },
                AwsMetric::ConcurrencyPerTarget => window.and_then(|w| w.concurrency_per_replica()),
            };
            // CloudWatch stores values at limited precision; rounding also keeps step bounds
            // (inclusive / exclusive) free of floating-point noise.
            let value = value.map(|v| (v * 1e6).round() / 1e6);
            let s = &mut self.series[m.index()];
            s.points.push_back(value);
            while s.points.len() > self.keep {
                s.points.pop_front();
            }
        }
        self.last_datapoint = Some(now);
    }

    /// Evaluates every dynamic policy against `desired`.
    fn evaluate(&mut self, seen: &Observation, desired: u32) -> Outcome {
        let now = seen.now;
        let mut note = String::new();
        self.note_datapoints(&mut note);
        let group = self.count_group(seen, desired);
        let _ = write!(note, "warm={} warming={} ", group.warm, group.warming);
        if group.terminating > 0 {
            let _ = write!(note, "terminating={} ", group.terminating);
        }
        let mut wishes = Wishes::default();
        self.target_tracking(now, desired, group, &mut note, &mut wishes);
        self.step_scaling(desired, group, &mut note, &mut wishes);
        // Combine: any scale-out wins (largest); otherwise the largest scale-in.
        let chosen = if !wishes.outs.is_empty() {
            wishes.outs.iter().max_by_key(|w| w.capacity).cloned()
        } else {
            wishes.ins.iter().max_by_key(|w| w.capacity).cloned()
        };
        let mut reason = match &chosen {
            Some(w) => w.why.clone(),
            None if !wishes.blocked.is_empty() => wishes.blocked.join("; "),
            None => "ok".to_string(),
        };
        let largest_out = wishes.raw_out.iter().copied().filter(|&p| p > desired).max();
        let proposal = match (largest_out, wishes.raw_in.iter().max()) {
            (Some(p), _) => p,
            (None, Some(&p)) => p,
            (None, None) => desired,
        };
        let mut next = chosen.as_ref().map_or(desired, |w| w.capacity);
        let stabilized = next;
        let clamped = next.clamp(self.min, self.max);
        if clamped != next {
            reason.push_str(if next > self.max { " (max)" } else { " (min)" });
            next = clamped;
        }
        self.start_cooldowns(now, desired, next, &wishes);
        Outcome { next, proposal, stabilized, metrics: note.trim_end().to_string(), reason }
    }

    /// Notes the latest datapoint of every metric in use (`none` when missing).
    fn note_datapoints(&self, note: &mut String) {
        for m in AwsMetric::ALL.iter().filter(|m| self.used[m.index()]) {
            match self.series[m.index()].latest() {
                Some(v) if *m == AwsMetric::CpuUtilization => {
                    let _ = write!(note, "{}={}% ", m.label(), datapoint(v, 1));
                }
                Some(v) => {
                    let _ = write!(note, "{}={} ", m.label(), datapoint(v, 2));
                }
                None => {
                    let _ = write!(note, "{}=none ", m.label());
                }
            }
        }
    }

    /// The target-tracking policies' wishes: a scale-out on the high alarm; a scale-in on the
    /// low alarm, kept only when every policy that may scale in agrees (none vetoes).
    fn target_tracking(
        &self,
        now: Time,
        desired: u32,
        group: GroupCount,
        note: &mut String,
        wishes: &mut Wishes,
    ) {
        let warming = group.warming;
        let mut tt_ins: Vec<Wish> = Vec::new();
        let mut tt_veto = false;
        for (i, t) in self.spec.target_tracking.iter().enumerate() {
            let s = &self.series[t.metric.index()];
            let a = t.alarm;
            let high = s.all(a.high_datapoints, |v| v > t.target);
            let low = s.all(a.low_datapoints, |v| v < a.low_ratio * t.target);
            let _ = write!(
                note,
                "{}: alarm_high {}/{} alarm_low {}/{} ",
                t.name,
                s.count(a.high_datapoints, |v| v > t.target),
                a.high_datapoints,
                s.count(a.low_datapoints, |v| v < a.low_ratio * t.target),
                a.low_datapoints
            );
            let Some(v) = s.latest() else {
                wishes.blocked.push(format!("INSUFFICIENT_DATA {}", t.name));
                tt_veto |= !t.disable_scale_in;
                continue;
            };
            let cd = self.cooldowns[i];
            let ratio = v / t.target;
            if high {
                // Warm-up model: from the current capacity without the warming instances (AWS:
                // "while scaling out, we do not consider instances that are warming up as part
                // of the current capacity"), for every metric; a proposal must then exceed the
                // desired capacity, which counts them. Application Auto Scaling: from the
                // current capacity, or during a scale-out cooldown from the capacity before it.
                let base = if self.warmup_mode() {
                    group.warm as f64
                } else if now < cd.out_until {
                    cd.out_base
                } else {
                    desired as f64
                };
                let p = ceil_u32(base * ratio);
                wishes.raw_out.push(p);
                if p > desired {
                    wishes.outs.push(Wish {
                        capacity: p,
                        why: format!("alarm high {}", t.name),
                        tt: Some(i),
                    });
                } else if self.warmup_mode() && warming > 0 {
                    wishes.blocked.push(format!("warm-up {}", t.name));
                } else if now < cd.out_until {
                    wishes.blocked.push(format!("cooldown {}", t.name));
                }
            }
            if t.disable_scale_in {
                continue;
            }
            if !low {
                tt_veto = true;
                continue;
            }
            // Warm-up model: scale-in needs no warming instance (checked below), so the current
            // capacity is the warm instances plus the terminating ones (AWS: "while scaling in,
            // we consider instances that are terminating as part of the current capacity").
            let base =
                if self.warmup_mode() { (group.warm + group.terminating) as f64 } else { desired as f64 };
            let p = ceil_u32(base * ratio);
            if p >= desired {
                tt_veto = true;
                continue;
            }
            wishes.raw_in.push(p);
            if self.warmup_mode() && warming > 0 {
                wishes.blocked.push(format!("warm-up {}", t.name));
                tt_veto = true;
            } else if now < cd.in_until {
                wishes.blocked.push(format!("cooldown {}", t.name));
                tt_veto = true;
            } else {
                tt_ins.push(Wish { capacity: p, why: format!("alarm low {}", t.name), tt: Some(i) });
            }
        }
        if !tt_veto {
            wishes.ins.extend(tt_ins);
        }
    }

    /// The step-scaling policies' wishes: on an alarm, the step of the latest datapoint's
    /// breach applied to the warm capacity (adding) or to `desired` (removing).
    fn step_scaling(&self, desired: u32, group: GroupCount, note: &mut String, wishes: &mut Wishes) {
        let warming = group.warming;
        for sp in &self.spec.step_scaling {
            let s = &self.series[sp.metric.index()];
            let n = sp.evaluation_periods;
            let breaching = s.count(n, |v| sp.comparison.breaches(v, sp.threshold));
            let _ = write!(note, "{}: alarm {breaching}/{n} ", sp.name);
            let present = s.count(n, |_| true);
            if s.last(n).is_none() || present == 0 {
                wishes.blocked.push(format!("INSUFFICIENT_DATA {}", sp.name));
                continue;
            }
            if breaching < sp.datapoints_to_alarm {
                continue;
            }
            // The aggregated value of the most recent datapoint present.
            let Some(v) = s.points.iter().rev().find_map(|p| *p) else { continue };
            let Some(st) = step::find_step(&sp.steps, v - sp.threshold) else { continue };
            let adding = match sp.adjustment_type {
                AdjustmentType::ExactCapacity => st.adjustment.round() as i64 > desired as i64,
                _ => st.adjustment > 0.0,
            };
            let removing = match sp.adjustment_type {
                AdjustmentType::ExactCapacity => (st.adjustment.round() as i64) < desired as i64,
                _ => st.adjustment < 0.0,
            };
            let label = match sp.adjustment_type {
                AdjustmentType::ExactCapacity => format!("step ={} {}", st.adjustment, sp.name),
                AdjustmentType::ChangeInCapacity => format!("step {:+} {}", st.adjustment, sp.name),
                AdjustmentType::PercentChangeInCapacity => format!("step {:+}% {}", st.adjustment, sp.name),
            };
            if adding {
                // Warming (and booting) instances are not part of the current capacity.
                let base = group.warm;
                let p = step::apply(sp.adjustment_type, st.adjustment, base, sp.min_adjustment_magnitude);
                wishes.raw_out.push(p);
                if p > desired {
                    wishes.outs.push(Wish { capacity: p, why: label, tt: None });
                } else {
                    wishes.blocked.push(format!("warm-up {}", sp.name));
                }
            } else if removing {
                let p = step::apply(sp.adjustment_type, st.adjustment, desired, sp.min_adjustment_magnitude);
                if p >= desired {
                    continue;
                }
                wishes.raw_in.push(p);
                if self.warmup_mode() && warming > 0 {
                    wishes.blocked.push(format!("warm-up {}", sp.name));
                } else {
                    wishes.ins.push(Wish { capacity: p, why: label, tt: None });
                }
            }
        }
    }

    /// The target-tracking cooldowns a change from `desired` to `next` starts: a scale-out
    /// cancels every scale-in cooldown and starts the scale-out cooldown of each policy that
    /// asked for it (unless one runs); a scale-in starts the scale-in cooldown of each policy
    /// that asked for it.
    fn start_cooldowns(&mut self, now: Time, desired: u32, next: u32, wishes: &Wishes) {
        if next > desired {
            for (i, t) in self.spec.target_tracking.iter().enumerate() {
                // A scale-out cancels every scale-in cooldown.
                self.cooldowns[i].in_until = 0;
                if wishes.outs.iter().any(|w| w.tt == Some(i)) && now >= self.cooldowns[i].out_until {
                    self.cooldowns[i].out_until = now + t.scale_out_cooldown;
                    self.cooldowns[i].out_base = desired as f64;
                }
            }
        } else if next < desired {
            for (i, t) in self.spec.target_tracking.iter().enumerate() {
                if wishes.ins.iter().any(|w| w.tt == Some(i)) {
                    self.cooldowns[i].in_until = now + t.scale_in_cooldown;
                }
            }
        }
    }
}

/// A datapoint as stored (rounded to 1e-6), with at least `min_decimals` decimals and no
/// trailing zeros beyond them: the decision log shows exactly the value the alarms compared.
fn datapoint(v: f64, min_decimals: usize) -> String {
    let mut s = format!("{v:.6}");
    if let Some(dot) = s.find('.') {
        let keep = dot + 1 + min_decimals;
        while s.len() > keep && s.ends_with('0') {
            s.pop();
        }
    }
    s
}

fn ceil_u32(x: f64) -> u32 {
    if x.is_finite() && x > 0.0 { (x - 1e-9).ceil().clamp(0.0, u32::MAX as f64) as u32 } else { 0 }
}

impl Policy for Aws {
    fn next_tick(&self, last: Option<Time>) -> Time {
        let Some(last) = last else {
            // An observe-only tick at 0 starts the CPU counters.
            return 0;
        };
        let datapoint = (last / PERIOD + 1) * PERIOD;
        let fire = self.fires[self.next_fire.min(self.fires.len())..]
            .iter()
            .map(|f| f.0)
            .find(|&t| t > last)
            .unwrap_or(Time::MAX);
        datapoint.min(fire)
    }

    fn start_steady(&mut self, steady: &SteadyState, min: u32, max: u32) -> Option<u32> {
        let n =
            SteadyState::settle(min.max(self.min), max.min(self.max), |n| self.steady_proposal(steady, n));
        self.steady = true;
        for m in AwsMetric::ALL {
            if self.used[m.index()] {
                let v = Self::steady_value(m, steady, n);
                self.series[m.index()].points =
                    std::iter::repeat_n(v.is_finite().then_some(v), self.keep).collect();
            }
        }
        Some(n)
    }

    fn decide(&mut self, seen: &Observation) -> Option<Decision> {
        let now = seen.now;
        let mut desired = seen.current.clamp(self.min, self.max);
        let mut reasons: Vec<String> = Vec::new();
        let mut scheduled = false;
        while let Some(&(t, i)) = self.fires.get(self.next_fire) {
            if t > now {
                break;
            }
            self.next_fire += 1;
            let a = &self.spec.scheduled[i];
            let (lo, hi, d) = scheduled::apply(a, self.min, self.max, desired);
            (self.min, self.max, desired) = (lo, hi, d);
            reasons.push(format!("scheduled action {}", a.name));
            scheduled = true;
        }
        if !now.is_multiple_of(PERIOD) {
            if !scheduled {
                return None;
            }
            let reason = reasons.join("; ");
            return Some(Decision {
                desired,
                reason,
                metrics: String::new(),
                proposal: Some(desired),
                stabilized: Some(desired),
                limited: Some(desired),
            });
        }
        self.take_datapoints(seen);
        if now == 0 {
            return None;
        }
        let o = self.evaluate(seen, desired);
        if !(scheduled && o.next == desired && o.reason == "ok") {
            reasons.push(o.reason);
        }
        Some(Decision {
            desired: o.next,
            reason: reasons.join("; "),
            metrics: o.metrics,
            proposal: Some(o.proposal),
            stabilized: Some(o.stabilized),
            limited: Some(o.next),
        })
    }

    fn explain(&mut self, seen: &Observation) -> Option<(Decision, Explanation)> {
        let cooldowns = self.cooldowns.clone();
        let (min, max) = (self.min, self.max);
        let d = self.decide(seen)?;
        let e = self.explanation(seen, &d, &cooldowns, (min, max));
        Some((d, e))
    }
}

impl Aws {
    /// The account of the decision `d` just made: every alarm's datapoints as compared, the
    /// cooldowns it started from, the step taken.
    fn explanation(
        &self,
        seen: &Observation,
        d: &Decision,
        cooldowns: &[Cooldowns],
        bounds: (u32, u32),
    ) -> Explanation {
        let now = seen.now;
        let pts = |m: AwsMetric, n: u32| -> Vec<Option<f64>> {
            let s = &self.series[m.index()];
            let n = (n as usize).min(s.points.len());
            s.points.iter().skip(s.points.len() - n).copied().collect()
        };
        let show = |v: &[Option<f64>]| -> String {
            v.iter()
                .map(|p| p.map_or("missing".to_string(), |x| datapoint(x, 2)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut steps = vec![format!(
            "evaluation at t={}s: {} replicas asked for ({} ready), bounds [{}, {}] before this evaluation's scheduled actions, [{}, {}] after",
            to_secs_f64(now),
            seen.current,
            seen.ready,
            bounds.0,
            bounds.1,
            self.min,
            self.max
        )];
        let mut alarms = Vec::new();
        for (i, t) in self.spec.target_tracking.iter().enumerate() {
            let a = t.alarm;
            let high = pts(t.metric, a.high_datapoints);
            let low = pts(t.metric, a.low_datapoints);
            let cd = cooldowns.get(i).copied().unwrap_or_default();
            steps.push(format!(
                "target tracking {}: {} target {}; alarm high (> {}, {} datapoints): [{}]; alarm low (< {:.4}, {} datapoints): [{}]",
                t.name,
                t.metric.label(),
                t.target,
                t.target,
                a.high_datapoints,
                show(&high),
                a.low_ratio * t.target,
                a.low_datapoints,
                show(&low)
            ));
            if now < cd.out_until || now < cd.in_until {
                steps.push(format!(
                    "  cooldowns: scale-out until t={}s, scale-in until t={}s",
                    to_secs_f64(cd.out_until),
                    to_secs_f64(cd.in_until)
                ));
            }
            alarms.push(serde_json::json!({
                "policy": t.name, "kind": "target_tracking", "metric": t.metric.label(), "target": t.target,
                "highThreshold": t.target, "highDatapoints": high,
                "lowThreshold": a.low_ratio * t.target, "lowDatapoints": low,
                "scaleOutCooldownUntilS": to_secs_f64(cd.out_until), "scaleInCooldownUntilS": to_secs_f64(cd.in_until),
            }));
        }
        for sp in &self.spec.step_scaling {
            let v = pts(sp.metric, sp.evaluation_periods);
            let breaching =
                v.iter().filter(|p| p.is_some_and(|x| sp.comparison.breaches(x, sp.threshold))).count();
            steps.push(format!(
                "step scaling {}: {} {:?} {}; last {} datapoints [{}]: {breaching} breaching, {} needed",
                sp.name,
                sp.metric.label(),
                sp.comparison,
                sp.threshold,
                sp.evaluation_periods,
                show(&v),
                sp.datapoints_to_alarm
            ));
            alarms.push(serde_json::json!({
                "policy": sp.name, "kind": "step_scaling", "metric": sp.metric.label(),
                "threshold": sp.threshold, "comparison": format!("{:?}", sp.comparison),
                "datapoints": v, "breaching": breaching, "datapointsToAlarm": sp.datapoints_to_alarm,
            }));
        }
        let mut generic = Explanation::from_decision(d);
        steps.append(&mut generic.steps);
        let detail = serde_json::json!({
            "alarms": alarms,
            "seen": d.metrics,
            "bounds": [self.min, self.max],
        });
        Explanation { steps, detail, case: None }
    }
}
