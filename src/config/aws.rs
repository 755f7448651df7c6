//! `type = "aws"` policies in scenario files: the conversion of their as-written keys
//! ([`super::raw::aws`]) into a checked [`AwsPolicySpec`], and the documentation of every key.
//! The shared files only hook these in ([`super::raw::RawPolicy`] holds the five top-level aws
//! keys, the scenario's `build` calls [`build`], and the reference in `keys` appends
//! [`key_docs`] and [`NOTES`]).

use super::error::KeyError;
use super::raw::RawPolicy;
use super::raw::aws::{RawAdjustmentType, RawAwsMetric, RawComparison};
use super::shared::KeyDoc;
use super::source::KeyPath;
use super::values::Dur;
use crate::policy::aws::{
    AdjustmentType, AlarmShape, AwsMetric, AwsPolicySpec, Comparison, ScheduledAction, StepAdjustment,
    StepScaling, TargetTracking, When,
};
use crate::policy::{PolicyKind, PolicySpec};
use crate::time::{SECOND, Time};
use chrono::NaiveDateTime;
use chrono_tz::Tz;

type R<T> = Result<T, KeyError>;

fn err<T>(path: KeyPath, message: impl Into<String>) -> R<T> {
    Err(KeyError::new(path, message))
}

fn metric(m: RawAwsMetric) -> AwsMetric {
    match m {
        RawAwsMetric::Cpu => AwsMetric::CpuUtilization,
        RawAwsMetric::Alb => AwsMetric::AlbRequestCountPerTarget,
        RawAwsMetric::Concurrency => AwsMetric::ConcurrencyPerTarget,
    }
}

fn parse_local(s: &str) -> Option<NaiveDateTime> {
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s.trim(), f).ok())
}

/// Builds an `aws` policy (keys other than the aws ones were already rejected).
pub fn build(path: &KeyPath, p: RawPolicy, sim_tz: Tz) -> R<PolicySpec> {
    let warmup = p.instance_warmup.map(Dur::time);
    if let Some(w) = warmup
        && w > 3600 * SECOND
    {
        return err(path.key("instance_warmup"), "is more than 3600s, the most AWS accepts");
    }
    // Application Auto Scaling's default cooldowns (ECS and most resources) without a warm-up;
    // EC2 target tracking has no cooldowns, only the warm-up.
    let default_cooldown = if warmup.is_some() { 0 } else { 300 * SECOND };
    let tts = target_tracking(path, &p, default_cooldown)?;
    let steps = step_scaling(path, &p)?;
    let scheduled = scheduled_actions(path, &p, sim_tz)?;
    if tts.is_empty() && steps.is_empty() && scheduled.is_empty() {
        return err(
            path.key("target_tracking"),
            "type `aws` needs at least one entry in `target_tracking`, `step_scaling` or `scheduled_actions`",
        );
    }
    let (min, max, desired) = capacity(path, &p)?;
    let mut spec = AwsPolicySpec {
        min,
        max,
        desired,
        instance_warmup: warmup,
        target_tracking: tts,
        step_scaling: steps,
        scheduled,
        scheduled_delay: p.scheduled_delay.map_or(0, Dur::time),
    };
    if spec.scheduled_delay > 120 * SECOND {
        return err(path.key("scheduled_delay"), "is more than 120s (AWS runs actions within 2 minutes)");
    }
    spec.check().map_err(|e| KeyError::new(path.clone(), e.to_string()))?;
    let (lo, hi, initial) = spec.bounds();
    Ok(PolicySpec {
        name: p.name,
        min: lo,
        max: hi,
        initial,
        start: crate::policy::Start::Given,
        kind: PolicyKind::Aws(spec),
        activator: None,
    })
}

/// The `target_tracking` entries, checked; their cooldowns default to `default_cooldown`.
fn target_tracking(path: &KeyPath, p: &RawPolicy, default_cooldown: Time) -> R<Vec<TargetTracking>> {
    let mut tts = Vec::new();
    for (j, t) in p.target_tracking.iter().flatten().enumerate() {
        let at = path.key("target_tracking").index(j);
        if !(t.target.is_finite() && t.target > 0.0) {
            return err(at.key("target"), format!("found {}, expected a positive target", t.target));
        }
        let ratio = t.scale_in_ratio.unwrap_or(0.9);
        if !(ratio > 0.0 && ratio <= 1.0) {
            return err(at.key("scale_in_ratio"), format!("found {ratio}, expected a fraction in (0, 1]"));
        }
        let alarm = AlarmShape {
            high_datapoints: t.scale_out_datapoints.unwrap_or(3),
            low_datapoints: t.scale_in_datapoints.unwrap_or(15),
            low_ratio: ratio,
        };
        for (k, v) in
            [("scale_out_datapoints", alarm.high_datapoints), ("scale_in_datapoints", alarm.low_datapoints)]
        {
            if v == 0 {
                return err(at.key(k), "found 0, expected at least 1 datapoint");
            }
        }
        let m = metric(t.metric);
        tts.push(TargetTracking {
            name: t.name.clone().unwrap_or_else(|| format!("tt{j}-{}", m.label())),
            metric: m,
            target: t.target,
            disable_scale_in: t.disable_scale_in.unwrap_or(false),
            scale_out_cooldown: t.scale_out_cooldown.map_or(default_cooldown, Dur::time),
            scale_in_cooldown: t.scale_in_cooldown.map_or(default_cooldown, Dur::time),
            alarm,
        });
    }
    Ok(tts)
}

/// The `step_scaling` entries, checked.
fn step_scaling(path: &KeyPath, p: &RawPolicy) -> R<Vec<StepScaling>> {
    let mut steps = Vec::new();
    for (j, s) in p.step_scaling.iter().flatten().enumerate() {
        let at = path.key("step_scaling").index(j);
        if !s.threshold.is_finite() {
            return err(at.key("threshold"), "expected a finite number");
        }
        let n = s.evaluation_periods.unwrap_or(1);
        let m = s.datapoints_to_alarm.unwrap_or(n);
        if n == 0 {
            return err(at.key("evaluation_periods"), "found 0, expected at least 1");
        }
        if m == 0 || m > n {
            return err(
                at.key("datapoints_to_alarm"),
                format!("found {m}, expected between 1 and evaluation_periods ({n})"),
            );
        }
        let kind = match s.adjustment_type {
            RawAdjustmentType::ChangeInCapacity => AdjustmentType::ChangeInCapacity,
            RawAdjustmentType::ExactCapacity => AdjustmentType::ExactCapacity,
            RawAdjustmentType::PercentChangeInCapacity => AdjustmentType::PercentChangeInCapacity,
        };
        if s.min_adjustment_magnitude.is_some() && kind != AdjustmentType::PercentChangeInCapacity {
            return err(
                at.key("min_adjustment_magnitude"),
                "is only used with adjustment_type = \"PercentChangeInCapacity\"",
            );
        }
        let mut adj: Vec<StepAdjustment> = s
            .steps
            .iter()
            .map(|r| StepAdjustment { lower: r.lower, upper: r.upper, adjustment: r.adjustment })
            .collect();
        if let Err(e) = crate::policy::aws::step::check_steps(&mut adj) {
            return err(at.key("steps"), e.to_string());
        }
        let metric = metric(s.metric);
        steps.push(StepScaling {
            name: s.name.clone().unwrap_or_else(|| format!("step{j}")),
            metric,
            threshold: s.threshold,
            comparison: match s.comparison {
                RawComparison::GreaterThanOrEqualToThreshold => Comparison::GreaterOrEqual,
                RawComparison::GreaterThanThreshold => Comparison::Greater,
                RawComparison::LessThanThreshold => Comparison::Less,
                RawComparison::LessThanOrEqualToThreshold => Comparison::LessOrEqual,
            },
            evaluation_periods: n,
            datapoints_to_alarm: m,
            adjustment_type: kind,
            steps: adj,
            min_adjustment_magnitude: s.min_adjustment_magnitude,
        });
    }
    Ok(steps)
}

/// The `scheduled_actions` entries, checked; an action without `timezone` is read in `sim_tz`.
fn scheduled_actions(path: &KeyPath, p: &RawPolicy, sim_tz: Tz) -> R<Vec<ScheduledAction>> {
    let mut scheduled = Vec::new();
    for (j, a) in p.scheduled_actions.iter().flatten().enumerate() {
        let at = path.key("scheduled_actions").index(j);
        let tz = match &a.timezone {
            Some(t) => super::shared::parse_tz(at.key("timezone"), t)?,
            None => sim_tz,
        };
        let when = match (&a.cron, &a.at) {
            (Some(c), None) => When::Recurrence { cron: c.clone(), tz },
            (None, Some(s)) => match parse_local(s) {
                Some(t) => When::Once { at: t, tz },
                None => {
                    return err(
                        at.key("at"),
                        format!("found \"{s}\", expected a local time such as \"2025-03-04T08:00:00\""),
                    );
                }
            },
            (Some(_), Some(_)) => {
                return err(at.key("at"), "give either `cron` (recurring) or `at` (once), not both");
            }
            (None, None) => return err(at.key("cron"), "missing: give `cron` (recurring) or `at` (once)"),
        };
        let action = ScheduledAction {
            name: a.name.clone().unwrap_or_else(|| format!("action{j}")),
            when,
            min: a.min,
            max: a.max,
            desired: a.desired,
        };
        if let Err(e) = action.check() {
            let key = if a.cron.is_some() && matches!(e, crate::policy::aws::ScheduledError::Cron(..)) {
                "cron"
            } else {
                "desired"
            };
            return err(at.key(key), e.to_string());
        }
        scheduled.push(action);
    }
    Ok(scheduled)
}

/// The group's capacity bounds `(min, max, desired)`: `max` required, `min` default 1,
/// `desired` (from `initial`) default `min`, checked against each other.
fn capacity(path: &KeyPath, p: &RawPolicy) -> R<(u32, u32, u32)> {
    let max = p.max.ok_or_else(|| KeyError::new(path.key("max"), "missing required key for type `aws`"))?;
    let min = p.min.unwrap_or(1);
    if max == 0 {
        return err(path.key("max"), "found 0, expected at least 1");
    }
    if min > max {
        return err(path.key("min"), format!("min ({min}) is greater than max ({max})"));
    }
    let desired = p.initial.unwrap_or(min);
    if desired < min || desired > max {
        return err(
            path.key("initial"),
            format!("found {desired}, expected a value between min ({min}) and max ({max})"),
        );
    }
    Ok((min, max, desired))
}

/// How `type = "aws"` policies decide, with every point where scalesim models rather than
/// follows AWS's documentation or defaults differently (a section of docs/scenario.md).
pub const NOTES: &str = "\
One evaluation runs at every one-minute CloudWatch datapoint, and at the time of each scheduled
action. Documented AWS behaviour, as modelled:

- **Order within an evaluation.** Scheduled actions due at that time apply first (in the order
  given), then the dynamic policies evaluate against the desired capacity they left. Instances
  an action launches count as warming in that same evaluation, so with `instance_warmup` set
  they block scale-in: raising `desired` ahead of a known peak holds even while the
  target-tracking scale-in alarm is in ALARM. Instances an action removes count as terminating.
- **Capacity.** A target-tracking proposal is ceil(capacity × metric / target). With
  `instance_warmup`, scaling out uses the current capacity without warming instances, and the
  proposal must exceed the desired capacity (which counts them) to add any; scaling in (only
  when nothing is warming) uses the instances in service plus the terminating ones. Without
  `instance_warmup`, both use the desired capacity (within a scale-out cooldown, the capacity
  before the scale-out that started it). Step scaling adds to the instances in service past
  their warm-up and removes from the desired capacity.
- **Scale-in is proportional.** Target tracking removes everything its proposal allows in one
  action (10 instances at 20 % with a 50 % target go to 4); nothing caps a single scale-in.
- **`ALBRequestCountPerTarget`** is computed by the load balancer over every ready target, so it
  includes warming instances, while the capacity the proposal multiplies leaves them out (both
  as AWS documents). On a ramp this holds scale-outs back until instances finish warming;
  counting the warming instances in the capacity too would add capacity again at every minute
  the metric stays above the target while they warm. With no ready target there is no datapoint (INSUFFICIENT_DATA): a group with
  `min = 0` that scales in to 0 on this metric never scales out again.

Modelled where AWS documents nothing, and scalesim's own choices:

- **Alarms.** Target tracking's scale-out alarm fires on 3 of 3 datapoints above the target, its
  scale-in alarm on 15 of 15 below 0.9 × target (`scale_out_datapoints`, `scale_in_datapoints`,
  `scale_in_ratio`); while an alarm stays in ALARM the policy runs again every minute. An alarm
  looks at its last N one-minute periods counting from the start of the run, where the first
  datapoint (at 0) is missing, so it can fire only from minute N on.
- **The whole-minute rule.** A CPU datapoint averages the instances that were in service and
  past their warm-up for that whole minute: a new instance enters the metric at the first
  datapoint at least 60 s after its warm-up ends (ready + warm-up + 60 s, rounded up to the
  minute), although it is part of the capacity as soon as its warm-up ends.
- **Cooldowns without `instance_warmup`** (Application Auto Scaling): during a scale-out
  cooldown only a larger scale-out applies, computed from the capacity before the scale-out
  that started the cooldown; it neither restarts the cooldown nor changes that capacity. A
  scale-in cooldown blocks scale-in; any scale-out cancels it.

Defaults that differ from AWS's (`scalesim validate` repeats them for each aws policy):

- **Unset `instance_warmup`** gives the Application Auto Scaling model (cooldowns of 300 s, no
  warm-up). A real EC2 Auto Scaling group without a default instance warm-up falls back to its
  default cooldown (300 s) as the warm-up, which also blocks scale-in after launches: set
  `instance_warmup = \"300s\"` to model such a group.
- **A scheduled action without `timezone`** is read in `simulation.timezone`, like every other
  schedule in a scenario; AWS reads it in UTC. Set `timezone = \"UTC\"` to match an action
  created without a `TimeZone`.
";

/// The top-level keys `type = "aws"` takes besides `min`, `max`, `initial`.
pub const KEYS: [&str; 5] =
    ["instance_warmup", "scheduled_delay", "target_tracking", "step_scaling", "scheduled_actions"];

const fn k(
    key: &'static str,
    when: &'static str,
    ty: &'static str,
    default: &'static str,
    meaning: &'static str,
    example: &'static str,
) -> KeyDoc {
    KeyDoc { key, when, ty, default, meaning, example }
}

const AWS: &str = "type = \"aws\"";

/// Documentation of every key of `type = "aws"` policies.
pub fn key_docs() -> Vec<KeyDoc> {
    vec![
        k(
            "policy[].instance_warmup",
            AWS,
            "duration",
            "none",
            "`DefaultInstanceWarmup` (0–3600 s). Set (even to \"0s\", as AWS recommends): EC2 warm-up model, where instances not yet ready or within the warm-up are left out of the CPU metric and of the capacity a scale-out is computed from, count toward desired capacity for the next scale-out and block scale-in. Unset: Application Auto Scaling model, with cooldowns only. This default differs from a real EC2 group without a default warm-up, which falls back to its default cooldown (300 s) as the warm-up: set \"300s\" to model that.",
            "\"300s\"",
        ),
        k(
            "policy[].scheduled_delay",
            AWS,
            "duration",
            "\"0s\"",
            "Fixed delay before a scheduled action takes effect. AWS documents \"up to 2 minutes\" without a distribution; 0 runs actions on time.",
            "\"60s\"",
        ),
        k(
            "policy[].target_tracking",
            AWS,
            "array of tables",
            "none",
            "Target-tracking policies: scale out if any wants to, scale in only if all (with scale-in enabled) agree. Each proposes ceil(capacity × metric / target): capacity is the instances in service past their warm-up (with `instance_warmup`; the desired capacity without it), and scale-in is proportional, with no cap on how much one action removes. Evaluated every minute after the scheduled actions due then, whose launches count as warming.",
            "[{ metric = \"ASGAverageCPUUtilization\", target = 50 }]",
        ),
        k(
            "policy[].target_tracking[].name",
            "",
            "string",
            "\"tt<i>-<metric>\"",
            "Name in the decision log.",
            "\"cpu-50\"",
        ),
        k(
            "policy[].target_tracking[].metric",
            "",
            "string",
            "required",
            "`ASGAverageCPUUtilization` (percent, over instances in service and warm for the whole minute: a new instance enters it at the first datapoint at least 60 s after its warm-up ends), `ALBRequestCountPerTarget` (requests per target per minute, over every ready target, warming ones included, as the load balancer computes it; with no ready target there is no data, so a group with `min = 0` scaled in to 0 on it stays at 0) or `ConcurrencyPerTarget` (in-flight requests per ready target, a custom metric).",
            "\"ALBRequestCountPerTarget\"",
        ),
        k(
            "policy[].target_tracking[].target",
            "",
            "float",
            "required",
            "Target value in the metric's unit.",
            "1000",
        ),
        k(
            "policy[].target_tracking[].disable_scale_in",
            "",
            "bool",
            "false",
            "`DisableScaleIn`: never remove capacity (and do not veto other policies' scale-in).",
            "true",
        ),
        k(
            "policy[].target_tracking[].scale_out_cooldown",
            "",
            "duration",
            "\"300s\" without `instance_warmup`, else \"0s\"",
            "`ScaleOutCooldown` (Application Auto Scaling): within it, a scale-out applies only if larger than the one that started it, computed from the capacity before that one; it neither restarts the cooldown nor changes that capacity.",
            "\"60s\"",
        ),
        k(
            "policy[].target_tracking[].scale_in_cooldown",
            "",
            "duration",
            "\"300s\" without `instance_warmup`, else \"0s\"",
            "`ScaleInCooldown`: blocks this policy's scale-in; any scale-out cancels it.",
            "\"600s\"",
        ),
        k(
            "policy[].target_tracking[].scale_out_datapoints",
            "",
            "integer",
            "3",
            "Consecutive one-minute datapoints above the target that fire the scale-out alarm (modelled from observation; AWS does not document it).",
            "2",
        ),
        k(
            "policy[].target_tracking[].scale_in_datapoints",
            "",
            "integer",
            "15",
            "Consecutive datapoints below `scale_in_ratio × target` that fire the scale-in alarm (modelled from observation).",
            "10",
        ),
        k(
            "policy[].target_tracking[].scale_in_ratio",
            "",
            "float",
            "0.9",
            "Scale-in alarm threshold as a fraction of the target (modelled; AWS says \"typically more than 10 % lower\").",
            "0.8",
        ),
        k(
            "policy[].step_scaling",
            AWS,
            "array of tables",
            "none",
            "Step-scaling policies, each with its CloudWatch alarm.",
            "[{ metric = \"ASGAverageCPUUtilization\", threshold = 70, comparison = \"GreaterThanOrEqualToThreshold\", adjustment_type = \"ChangeInCapacity\", steps = [{ lower = 0, adjustment = 2 }] }]",
        ),
        k(
            "policy[].step_scaling[].name",
            "",
            "string",
            "\"step<i>\"",
            "Name in the decision log.",
            "\"cpu-high\"",
        ),
        k(
            "policy[].step_scaling[].metric",
            "",
            "string",
            "required",
            "The alarm's metric, as for `target_tracking[].metric`.",
            "\"ASGAverageCPUUtilization\"",
        ),
        k(
            "policy[].step_scaling[].threshold",
            "",
            "float",
            "required",
            "The alarm threshold, in the metric's unit.",
            "70",
        ),
        k(
            "policy[].step_scaling[].comparison",
            "",
            "string",
            "required",
            "`GreaterThanOrEqualToThreshold`, `GreaterThanThreshold`, `LessThanThreshold` or `LessThanOrEqualToThreshold`.",
            "\"GreaterThanThreshold\"",
        ),
        k(
            "policy[].step_scaling[].evaluation_periods",
            "",
            "integer",
            "1",
            "`EvaluationPeriods`: one-minute datapoints the alarm looks at.",
            "3",
        ),
        k(
            "policy[].step_scaling[].datapoints_to_alarm",
            "",
            "integer",
            "evaluation_periods",
            "`DatapointsToAlarm`: breaching datapoints among them that put the alarm in ALARM.",
            "1",
        ),
        k(
            "policy[].step_scaling[].adjustment_type",
            "",
            "string",
            "required",
            "`ChangeInCapacity`, `ExactCapacity` or `PercentChangeInCapacity` (rounded as AWS documents).",
            "\"PercentChangeInCapacity\"",
        ),
        k(
            "policy[].step_scaling[].min_adjustment_magnitude",
            "adjustment_type = \"PercentChangeInCapacity\"",
            "integer",
            "none",
            "`MinAdjustmentMagnitude`: the least number of instances a percent step changes.",
            "2",
        ),
        k(
            "policy[].step_scaling[].steps",
            "",
            "array of tables",
            "required",
            "Step adjustments; ranges must neither overlap nor leave gaps.",
            "[{ lower = 0, upper = 10, adjustment = 1 }, { lower = 10, adjustment = 3 }]",
        ),
        k(
            "policy[].step_scaling[].steps[].lower",
            "",
            "float",
            "−∞",
            "`MetricIntervalLowerBound`, relative to the threshold (inclusive above the threshold, exclusive below).",
            "0",
        ),
        k(
            "policy[].step_scaling[].steps[].upper",
            "",
            "float",
            "+∞",
            "`MetricIntervalUpperBound`, relative to the threshold (exclusive above the threshold, inclusive below).",
            "20",
        ),
        k(
            "policy[].step_scaling[].steps[].adjustment",
            "",
            "float",
            "required",
            "`ScalingAdjustment`: instances, a capacity, or percent, per `adjustment_type`.",
            "2",
        ),
        k(
            "policy[].scheduled_actions",
            AWS,
            "array of tables",
            "none",
            "Scheduled actions setting min, max and/or desired capacity; simultaneous ones run in the order given.",
            "[{ cron = \"0 8 * * 1-5\", min = 6 }]",
        ),
        k(
            "policy[].scheduled_actions[].name",
            "",
            "string",
            "\"action<i>\"",
            "Name in the decision log (`scheduled action <name>`).",
            "\"morning\"",
        ),
        k(
            "policy[].scheduled_actions[].cron",
            "",
            "cron",
            "`cron` or `at` required",
            "`Recurrence`: 5-field cron expression.",
            "\"0 8 * * 1-5\"",
        ),
        k(
            "policy[].scheduled_actions[].at",
            "",
            "local date-time",
            "`cron` or `at` required",
            "One-off action at this local time (instead of `cron`).",
            "\"2025-01-06T12:00:00\"",
        ),
        k(
            "policy[].scheduled_actions[].timezone",
            "",
            "string",
            "simulation.timezone",
            "IANA `TimeZone` of `cron` or `at`. Unset, scalesim reads the action in `simulation.timezone`, where AWS uses UTC (`scalesim validate` says which zone applies).",
            "\"America/New_York\"",
        ),
        k("policy[].scheduled_actions[].min", "", "integer", "unchanged", "New minimum capacity.", "4"),
        k("policy[].scheduled_actions[].max", "", "integer", "unchanged", "New maximum capacity.", "40"),
        k(
            "policy[].scheduled_actions[].desired",
            "",
            "integer",
            "unchanged",
            "New desired capacity (kept within the new min and max).",
            "12",
        ),
    ]
}
