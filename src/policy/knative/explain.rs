//! `scalesim explain kpa`: replay decider ticks described in a case file (JSON or YAML) through
//! the same [`Decider`] the simulation runs, so that a user can see why Knative chose a scale
//! and tests can replay the upstream `autoscaler_test.go` cases.
//!
//! A case: `config` {`target`, `totalValue`, `targetBurstCapacity` (211), `panicThreshold` (a
//! factor, 2), `maxScaleUpRate` (1000), `maxScaleDownRate` (2), `stableWindow` (60 s),
//! `scaleDownDelay` (0), `activationScale` (1), `reachable` (true)}; `initialReadyPods` (the
//! ready count when the decider is created, 1); `ticks`: [{`time`, `stableAverage`,
//! `panicAverage`, `readyPods`}], applied in order to one decider; `createdAt` (seconds, default the
//! first tick's time) is when the decider was created. Times are seconds. `target`
//! and `totalValue` are required; the other defaults are Knative's. Unlike a manifest, the
//! stable window is not held to Knative's 6 s minimum, so upstream cases that leave it unset
//! (0) replay as written.

use super::decider::{Decider, DeciderSpec};
use crate::time::from_secs_f64;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Write};

/// The decider settings of a case.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KpaCaseConfig {
    /// Per-pod target (`TargetValue`).
    pub target: f64,
    /// Per-pod total (`TotalValue`).
    pub total_value: f64,
    /// Target burst capacity (0 none, −1 unlimited).
    #[serde(default = "default_tbc")]
    pub target_burst_capacity: f64,
    /// Panic threshold, a factor (2 = 200 %).
    #[serde(default = "default_threshold")]
    pub panic_threshold: f64,
    /// Max scale-up rate.
    #[serde(default = "default_up")]
    pub max_scale_up_rate: f64,
    /// Max scale-down rate.
    #[serde(default = "default_down")]
    pub max_scale_down_rate: f64,
    /// Stable window, seconds.
    #[serde(default = "default_window")]
    pub stable_window: f64,
    /// Scale-down delay, seconds.
    #[serde(default)]
    pub scale_down_delay: f64,
    /// Activation scale.
    #[serde(default = "one")]
    pub activation_scale: u32,
    /// Whether the revision is reachable.
    #[serde(default = "yes")]
    pub reachable: bool,
}

fn default_tbc() -> f64 {
    211.0
}
fn default_threshold() -> f64 {
    2.0
}
fn default_up() -> f64 {
    1000.0
}
fn default_down() -> f64 {
    2.0
}
fn default_window() -> f64 {
    60.0
}
fn one() -> u32 {
    1
}
fn yes() -> bool {
    true
}

/// One tick of a case.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KpaCaseTick {
    /// When, seconds.
    pub time: f64,
    /// Stable-window average of the metric.
    pub stable_average: f64,
    /// Panic-window average of the metric.
    pub panic_average: f64,
    /// Ready pods at the tick.
    pub ready_pods: u32,
}

/// A `scalesim explain kpa` case.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KpaCase {
    /// Decider settings.
    pub config: KpaCaseConfig,
    /// Ready pods when the decider is created.
    #[serde(default = "one")]
    pub initial_ready_pods: u32,
    /// When the decider was created, seconds [default: the first tick's time]. A decider
    /// created with more than one ready pod starts in panic mode from then.
    #[serde(default)]
    pub created_at: Option<f64>,
    /// Ticks, in order.
    pub ticks: Vec<KpaCaseTick>,
}

/// The decision of one tick.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KpaTickResult {
    /// When, seconds.
    pub time: f64,
    /// Desired pods.
    pub desired_replicas: u32,
    /// In panic mode after the tick.
    pub panicking: bool,
    /// Excess burst capacity.
    pub excess_burst_capacity: i64,
}

/// A case that cannot be replayed; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainError(pub String);

impl fmt::Display for ExplainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExplainError {}

/// Parses and checks a case (JSON or YAML).
pub fn parse_case(text: &str) -> Result<KpaCase, ExplainError> {
    let case: KpaCase = serde_norway::from_str(text)
        .map_err(|e| ExplainError(crate::config::error::with_did_you_mean(&e.to_string())))?;
    let c = &case.config;
    let bad = |f: &str, m: &str| Err(ExplainError(format!("{f}: {m}")));
    if !(c.target.is_finite() && c.target > 0.0) {
        return bad("config.target", "must be a positive number");
    }
    if !(c.total_value.is_finite() && c.total_value >= 0.0) {
        return bad("config.totalValue", "must be a number ≥ 0");
    }
    if !(c.target_burst_capacity.is_finite()
        && (c.target_burst_capacity >= 0.0 || c.target_burst_capacity == -1.0))
    {
        return bad("config.targetBurstCapacity", "must be ≥ 0 or -1 (unlimited)");
    }
    if !(c.panic_threshold.is_finite() && c.panic_threshold > 0.0) {
        return bad("config.panicThreshold", "must be a positive factor (2 = 200 %)");
    }
    if !(c.max_scale_up_rate.is_finite() && c.max_scale_up_rate > 0.0) {
        return bad("config.maxScaleUpRate", "must be positive");
    }
    if !(c.max_scale_down_rate.is_finite() && c.max_scale_down_rate > 0.0) {
        return bad("config.maxScaleDownRate", "must be positive");
    }
    if !(c.stable_window.is_finite() && c.stable_window >= 0.0) {
        return bad("config.stableWindow", "must be seconds ≥ 0");
    }
    if !(c.scale_down_delay.is_finite() && c.scale_down_delay >= 0.0) {
        return bad("config.scaleDownDelay", "must be seconds ≥ 0");
    }
    for (i, t) in case.ticks.iter().enumerate() {
        let f = |n: &str| format!("ticks[{i}].{n}");
        if !(t.time.is_finite() && t.time >= 0.0) {
            return Err(ExplainError(format!("{}: must be seconds ≥ 0", f("time"))));
        }
        if i > 0 && t.time < case.ticks[i - 1].time {
            return Err(ExplainError(format!(
                "{}: found {}, before the previous tick ({}); ticks must be in time order",
                f("time"),
                t.time,
                case.ticks[i - 1].time
            )));
        }
        if !(t.stable_average.is_finite() && t.stable_average >= 0.0) {
            return Err(ExplainError(format!("{}: must be a number ≥ 0", f("stableAverage"))));
        }
        if !(t.panic_average.is_finite() && t.panic_average >= 0.0) {
            return Err(ExplainError(format!("{}: must be a number ≥ 0", f("panicAverage"))));
        }
    }
    if case.ticks.is_empty() {
        return bad("ticks", "at least one tick is needed");
    }
    Ok(case)
}

/// Applies the ticks of `case` to one decider.
pub fn run_case(case: &KpaCase) -> Vec<KpaTickResult> {
    let c = &case.config;
    let spec = DeciderSpec {
        target: c.target,
        total: c.total_value,
        target_burst_capacity: c.target_burst_capacity,
        panic_threshold: c.panic_threshold,
        max_scale_up_rate: c.max_scale_up_rate,
        max_scale_down_rate: c.max_scale_down_rate,
        stable_window: from_secs_f64(c.stable_window),
        scale_down_delay: from_secs_f64(c.scale_down_delay),
        activation_scale: c.activation_scale,
        reachable: c.reachable,
    };
    let first = case.created_at.or(case.ticks.first().map(|t| t.time)).map_or(0, from_secs_f64);
    let mut d = Decider::new(spec, case.initial_ready_pods, first);
    case.ticks
        .iter()
        .map(|t| {
            let r = d.scale(from_secs_f64(t.time), t.stable_average, t.panic_average, t.ready_pods);
            KpaTickResult {
                time: t.time,
                desired_replicas: r.desired,
                panicking: r.panicking,
                excess_burst_capacity: r.excess_burst_capacity,
            }
        })
        .collect()
}

/// One line per tick: `t=<time> desired=<N> panic=<bool> ebc=<ebc>`.
pub fn format_text(results: &[KpaTickResult]) -> String {
    let mut o = String::new();
    for r in results {
        let _ = writeln!(
            o,
            "t={} desired={} panic={} ebc={}",
            r.time, r.desired_replicas, r.panicking, r.excess_burst_capacity
        );
    }
    o
}

/// One entry of the JSON output, fields in the documented order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonTick {
    time: serde_json::Value,
    desired_replicas: u32,
    panicking: bool,
    excess_burst_capacity: i64,
}

/// The results as a JSON list (whole-second times written as integers).
pub fn format_json(results: &[KpaTickResult]) -> String {
    let list: Vec<JsonTick> = results
        .iter()
        .map(|r| JsonTick {
            time: if r.time.fract() == 0.0 && r.time.abs() < 9e15 {
                serde_json::Value::from(r.time as i64)
            } else {
                serde_json::Value::from(r.time)
            },
            desired_replicas: r.desired_replicas,
            panicking: r.panicking,
            excess_burst_capacity: r.excess_burst_capacity,
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&list).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k8_rate_limited_scale_up() {
        let case = parse_case(
            "config: {target: 10, totalValue: 13.333333333333334, targetBurstCapacity: 61, maxScaleUpRate: 10, maxScaleDownRate: 10}\n\
             ticks:\n  - {time: 0, stableAverage: 1000, panicAverage: 1001, readyPods: 1}\n  - {time: 2, stableAverage: 1000, panicAverage: 1001, readyPods: 10}\n",
        )
        .unwrap();
        let r = run_case(&case);
        assert_eq!(
            format_text(&r),
            "t=0 desired=10 panic=true ebc=-1049\nt=2 desired=100 panic=true ebc=-929\n"
        );
        assert!(format_json(&r).contains("\"desiredReplicas\": 100"));
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse_case("config: {totalValue: 1}\nticks: []\n").unwrap_err().to_string();
        assert!(e.contains("target"), "{e}");
        let e = parse_case("config: {target: 0, totalValue: 1}\nticks: []\n").unwrap_err().to_string();
        assert!(e.starts_with("config.target"), "{e}");
        let e = parse_case(
            "config: {target: 1, totalValue: 1}\nticks: [{time: -1, stableAverage: 1, panicAverage: 1, readyPods: 1}]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("ticks[0].time"), "{e}");
        let e =
            parse_case("config: {target: 1, totalValue: 1, bogus: 2}\nticks: []\n").unwrap_err().to_string();
        assert!(e.contains("bogus"), "{e}");
    }
}
