//! The keys of `type = "aws"` policies as written: serde types only (unknown keys rejected);
//! `config::aws` checks them and builds the policy.

use crate::config::values::Dur;
use serde::Deserialize;

/// Metric names, as AWS spells the predefined ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RawAwsMetric {
    /// `ASGAverageCPUUtilization`, percent.
    #[serde(rename = "ASGAverageCPUUtilization")]
    Cpu,
    /// `ALBRequestCountPerTarget`, requests per target per minute.
    #[serde(rename = "ALBRequestCountPerTarget")]
    Alb,
    /// A custom metric: in-flight requests per target.
    #[serde(rename = "ConcurrencyPerTarget")]
    Concurrency,
}

/// Alarm comparisons, as CloudWatch spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RawComparison {
    /// `>=`.
    GreaterThanOrEqualToThreshold,
    /// `>`.
    GreaterThanThreshold,
    /// `<`.
    LessThanThreshold,
    /// `<=`.
    LessThanOrEqualToThreshold,
}

/// Adjustment types, as AWS spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RawAdjustmentType {
    /// Add or remove instances.
    ChangeInCapacity,
    /// Set the capacity.
    ExactCapacity,
    /// Add or remove a percentage.
    PercentChangeInCapacity,
}

/// One entry of `target_tracking = [...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTargetTracking {
    /// Name in the decision log.
    pub name: Option<String>,
    /// The tracked metric.
    pub metric: RawAwsMetric,
    /// Target value.
    pub target: f64,
    /// `DisableScaleIn`.
    pub disable_scale_in: Option<bool>,
    /// `ScaleOutCooldown`.
    pub scale_out_cooldown: Option<Dur>,
    /// `ScaleInCooldown`.
    pub scale_in_cooldown: Option<Dur>,
    /// Datapoints of the scale-out alarm (modelled: 3).
    pub scale_out_datapoints: Option<u32>,
    /// Datapoints of the scale-in alarm (modelled: 15).
    pub scale_in_datapoints: Option<u32>,
    /// Scale-in alarm threshold / target (modelled: 0.9).
    pub scale_in_ratio: Option<f64>,
}

/// One entry of `steps = [...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// `MetricIntervalLowerBound`, relative to the threshold.
    pub lower: Option<f64>,
    /// `MetricIntervalUpperBound`, relative to the threshold.
    pub upper: Option<f64>,
    /// `ScalingAdjustment`.
    pub adjustment: f64,
}

/// One entry of `step_scaling = [...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStepScaling {
    /// Name in the decision log.
    pub name: Option<String>,
    /// The alarm's metric.
    pub metric: RawAwsMetric,
    /// The alarm's threshold.
    pub threshold: f64,
    /// The alarm's comparison.
    pub comparison: RawComparison,
    /// `EvaluationPeriods`.
    pub evaluation_periods: Option<u32>,
    /// `DatapointsToAlarm`.
    pub datapoints_to_alarm: Option<u32>,
    /// `AdjustmentType`.
    pub adjustment_type: RawAdjustmentType,
    /// `MinAdjustmentMagnitude`.
    pub min_adjustment_magnitude: Option<u32>,
    /// `StepAdjustments`.
    pub steps: Vec<RawStep>,
}

/// One entry of `scheduled_actions = [...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScheduledAction {
    /// Name in the decision log.
    pub name: Option<String>,
    /// `Recurrence`: 5-field cron.
    pub cron: Option<String>,
    /// `StartTime` of a one-off action: local date-time.
    pub at: Option<String>,
    /// `TimeZone`.
    pub timezone: Option<String>,
    /// `MinSize`.
    pub min: Option<u32>,
    /// `MaxSize`.
    pub max: Option<u32>,
    /// `DesiredCapacity`.
    pub desired: Option<u32>,
}
