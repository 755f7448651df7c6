//! The KPA configuration: Knative's `config-autoscaler` defaults, the per-revision
//! `autoscaling.knative.dev/*` overrides already resolved into one value per setting, their
//! bounds (checked with errors naming the field), and the derived quantities the decider uses
//! (target, total, panic window, panic threshold).
//!
//! Sources: `pkg/autoscaler/config/config.go` (defaults, `validate`),
//! `pkg/apis/autoscaling/register.go` (`WindowMin` 6 s, `WindowMax` 1 h, `TargetMin` 0.01),
//! `pkg/reconciler/autoscaling/resources/target.go` (`ResolveMetricTarget`),
//! `pkg/reconciler/autoscaling/kpa/resources/metric.go` (panic window).

use crate::time::{SECOND, Time};
use std::fmt;

/// The smallest stable window Knative accepts (`autoscaling.WindowMin`).
pub const WINDOW_MIN: Time = 6 * SECOND;
/// The largest stable window (and scale-down delay) Knative accepts (`autoscaling.WindowMax`).
pub const WINDOW_MAX: Time = 3600 * SECOND;
/// The smallest per-pod target (`autoscaling.TargetMin`).
pub const TARGET_MIN: f64 = 0.01;
/// The decider's evaluation period (`tickInterval` in `pkg/autoscaler/scaling/multiscaler.go`).
pub const TICK: Time = 2 * SECOND;
/// Requests the activator holds per revision before it answers 503 (`breakerQueueDepth` in
/// `pkg/activator/net/throttler.go`).
pub const ACTIVATOR_QUEUE_DEPTH: u32 = 10_000;
/// Added to the progress deadline before a stuck activation gives up (`activationTimeoutBuffer`
/// in `pkg/reconciler/autoscaling/kpa/scaler.go`, as the reference §3.5 states it).
pub const ACTIVATION_TIMEOUT_BUFFER: Time = 30 * SECOND;

/// What the KPA scales on (`autoscaling.knative.dev/metric`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KpaMetric {
    /// Requests in flight (in the pods' queue-proxies, plus those the activator holds).
    #[default]
    Concurrency,
    /// Requests per second.
    Rps,
}

impl KpaMetric {
    /// The annotation value.
    pub fn name(self) -> &'static str {
        match self {
            KpaMetric::Concurrency => "concurrency",
            KpaMetric::Rps => "rps",
        }
    }
}

/// A Knative PodAutoscaler (KPA class) as the simulation runs it: the cluster's
/// `config-autoscaler` values with the revision's annotations applied. [`Default`] is Knative's
/// default configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct KnativePolicySpec {
    /// `autoscaling.knative.dev/metric` (default concurrency).
    pub metric: KpaMetric,
    /// `spec.template.spec.containerConcurrency`: the hard limit of requests per pod; 0 means
    /// unlimited (default 0).
    pub container_concurrency: u32,
    /// `autoscaling.knative.dev/target`: the per-pod total (before target utilisation); `None`
    /// uses containerConcurrency or the metric's default.
    pub target: Option<f64>,
    /// `container-concurrency-target-default` (100).
    pub concurrency_target_default: f64,
    /// `requests-per-second-target-default` (200).
    pub rps_target_default: f64,
    /// Target utilisation as a fraction in (0, 1] (`container-concurrency-target-percentage`
    /// 70, or `autoscaling.knative.dev/target-utilization-percentage`).
    pub target_utilization: f64,
    /// `target-burst-capacity` (211; 0 none; −1 unlimited, the activator always in the path).
    pub target_burst_capacity: f64,
    /// `stable-window` / `autoscaling.knative.dev/window` (60 s; 6 s – 1 h, whole seconds).
    pub stable_window: Time,
    /// `panic-window-percentage` (10, in [1, 100]).
    pub panic_window_percentage: f64,
    /// `panic-threshold-percentage` (200, in [110, 1000]).
    pub panic_threshold_percentage: f64,
    /// `max-scale-up-rate` (1000, > 1).
    pub max_scale_up_rate: f64,
    /// `max-scale-down-rate` (2, > 1).
    pub max_scale_down_rate: f64,
    /// `scale-to-zero-grace-period` (30 s, ≥ 6 s).
    pub scale_to_zero_grace_period: Time,
    /// `scale-to-zero-pod-retention-period` (0 s).
    pub scale_to_zero_pod_retention: Time,
    /// `scale-down-delay` (0 s; ≤ 1 h, whole seconds).
    pub scale_down_delay: Time,
    /// `autoscaling.knative.dev/activation-scale` (1).
    pub activation_scale: u32,
    /// `min-scale` (0).
    pub min_scale: u32,
    /// `max-scale` (0 = unbounded).
    pub max_scale: u32,
    /// `initial-scale` (1; 0 only with `allow_zero_initial_scale`).
    pub initial_scale: u32,
    /// `allow-zero-initial-scale` (false).
    pub allow_zero_initial_scale: bool,
    /// `enable-scale-to-zero` (true).
    pub enable_scale_to_zero: bool,
    /// `activator-capacity` (100), used for the number of activators reported.
    pub activator_capacity: f64,
    /// `spec.template.spec.timeoutSeconds` (300 s): how long a request may wait, so how long
    /// the activator holds one.
    pub revision_timeout: Time,
    /// `progress-deadline` of `config-deployment` (600 s): a revision stuck activating this long
    /// (plus 30 s) is scaled back to zero.
    pub progress_deadline: Time,
    /// The manifest it was read from, written back by export (`None` when built in code).
    pub source: Option<crate::policy::ManifestSource>,
}

impl Default for KnativePolicySpec {
    fn default() -> Self {
        KnativePolicySpec {
            metric: KpaMetric::Concurrency,
            container_concurrency: 0,
            target: None,
            concurrency_target_default: 100.0,
            rps_target_default: 200.0,
            target_utilization: 0.7,
            target_burst_capacity: 211.0,
            stable_window: 60 * SECOND,
            panic_window_percentage: 10.0,
            panic_threshold_percentage: 200.0,
            max_scale_up_rate: 1000.0,
            max_scale_down_rate: 2.0,
            scale_to_zero_grace_period: 30 * SECOND,
            scale_to_zero_pod_retention: 0,
            scale_down_delay: 0,
            activation_scale: 1,
            min_scale: 0,
            max_scale: 0,
            initial_scale: 1,
            allow_zero_initial_scale: false,
            enable_scale_to_zero: true,
            activator_capacity: 100.0,
            revision_timeout: 300 * SECOND,
            progress_deadline: 600 * SECOND,
            source: None,
        }
    }
}

/// A KPA setting out of Knative's bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnativeSpecError {
    /// The setting, as Knative names it (e.g. `stable-window`).
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for KnativeSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for KnativeSpecError {}

fn err(field: &'static str, message: impl Into<String>) -> KnativeSpecError {
    KnativeSpecError { field, message: message.into() }
}

fn secs(t: Time) -> f64 {
    t as f64 / SECOND as f64
}

impl KnativePolicySpec {
    /// Knative's defaults on the concurrency metric with `target` concurrent requests per pod
    /// (before utilisation).
    pub fn concurrency(target: f64) -> KnativePolicySpec {
        KnativePolicySpec { target: Some(target), ..KnativePolicySpec::default() }
    }

    /// Knative's defaults on the rps metric with `target` requests per second per pod (before
    /// utilisation).
    pub fn rps(target: f64) -> KnativePolicySpec {
        KnativePolicySpec { metric: KpaMetric::Rps, target: Some(target), ..KnativePolicySpec::default() }
    }

    /// Checks every setting against Knative's bounds; the error names the setting.
    pub fn validate(&self) -> Result<(), KnativeSpecError> {
        let whole = |t: Time| t.is_multiple_of(SECOND);
        if let Some(t) = self.target
            && !(t.is_finite() && t >= TARGET_MIN)
        {
            return Err(err("target", format!("must be at least {TARGET_MIN}, found {t}")));
        }
        if !(self.concurrency_target_default.is_finite() && self.concurrency_target_default > 0.0) {
            return Err(err("container-concurrency-target-default", "must be positive"));
        }
        if !(self.rps_target_default.is_finite() && self.rps_target_default >= TARGET_MIN) {
            return Err(err("requests-per-second-target-default", format!("must be at least {TARGET_MIN}")));
        }
        if !(self.target_utilization > 0.0 && self.target_utilization <= 1.0) {
            return Err(err(
                "target-utilization-percentage",
                format!("{} % is outside (0, 100]", self.target_utilization * 100.0),
            ));
        }
        if self.target_value() < TARGET_MIN || !self.target_value().is_finite() {
            return Err(err("target", format!("target × utilisation must be at least {TARGET_MIN}")));
        }
        let tbc = self.target_burst_capacity;
        if !(tbc.is_finite() && (tbc >= 0.0 || tbc == -1.0)) {
            return Err(err("target-burst-capacity", format!("must be non-negative or -1, found {tbc}")));
        }
        if self.stable_window < WINDOW_MIN || self.stable_window > WINDOW_MAX || !whole(self.stable_window) {
            return Err(err(
                "window",
                format!("{} s must be whole seconds between 6 s and 1 h", secs(self.stable_window)),
            ));
        }
        if !(1.0..=100.0).contains(&self.panic_window_percentage) {
            return Err(err(
                "panic-window-percentage",
                format!("{} is outside [1, 100]", self.panic_window_percentage),
            ));
        }
        if !(110.0..=1000.0).contains(&self.panic_threshold_percentage) {
            return Err(err(
                "panic-threshold-percentage",
                format!("{} is outside [110, 1000]", self.panic_threshold_percentage),
            ));
        }
        if !(self.max_scale_up_rate.is_finite() && self.max_scale_up_rate > 1.0) {
            return Err(err(
                "max-scale-up-rate",
                format!("{} must be greater than 1", self.max_scale_up_rate),
            ));
        }
        if !(self.max_scale_down_rate.is_finite() && self.max_scale_down_rate > 1.0) {
            return Err(err(
                "max-scale-down-rate",
                format!("{} must be greater than 1", self.max_scale_down_rate),
            ));
        }
        if self.scale_to_zero_grace_period < WINDOW_MIN {
            return Err(err(
                "scale-to-zero-grace-period",
                format!("must be at least 6 s, found {} s", secs(self.scale_to_zero_grace_period)),
            ));
        }
        if self.scale_down_delay > WINDOW_MAX || !whole(self.scale_down_delay) {
            return Err(err(
                "scale-down-delay",
                format!("{} s must be whole seconds, at most 1 h", secs(self.scale_down_delay)),
            ));
        }
        if self.activation_scale < 1 {
            return Err(err("activation-scale", "must be at least 1"));
        }
        if self.max_scale != 0 && self.min_scale > self.max_scale {
            return Err(err(
                "min-scale",
                format!("{} is greater than max-scale {}", self.min_scale, self.max_scale),
            ));
        }
        if self.initial_scale == 0 && !self.allow_zero_initial_scale {
            return Err(err("initial-scale", "0 needs allow-zero-initial-scale: true"));
        }
        if !(self.activator_capacity.is_finite() && self.activator_capacity >= 1.0) {
            return Err(err("activator-capacity", "must be at least 1"));
        }
        if self.revision_timeout == 0 {
            return Err(err("timeoutSeconds", "must be positive"));
        }
        Ok(())
    }

    /// The per-pod total capacity (`TotalValue`): the target annotation, capped by
    /// containerConcurrency on the concurrency metric, else containerConcurrency, else the
    /// metric's default (`ResolveMetricTarget`).
    pub fn total_value(&self) -> f64 {
        let cc = self.container_concurrency as f64;
        match self.metric {
            KpaMetric::Rps => self.target.unwrap_or(self.rps_target_default),
            KpaMetric::Concurrency => match self.target {
                Some(t) if cc > 0.0 => t.min(cc),
                Some(t) => t,
                None if cc > 0.0 => cc,
                None => self.concurrency_target_default,
            },
        }
    }

    /// The per-pod target the decider divides by: `max(0.01, total × utilisation)`.
    pub fn target_value(&self) -> f64 {
        (self.total_value() * self.target_utilization).max(TARGET_MIN)
    }

    /// The panic window: the stable window × percentage, rounded to whole seconds, at least 1 s.
    pub fn panic_window(&self) -> Time {
        let w = secs(self.stable_window) * self.panic_window_percentage / 100.0;
        crate::time::from_secs_f64(w.round()).max(SECOND)
    }

    /// The panic threshold as a factor (200 % → 2.0).
    pub fn panic_threshold(&self) -> f64 {
        self.panic_threshold_percentage / 100.0
    }

    /// Replica bounds for the engine: (min-scale, max-scale or `u32::MAX` when unbounded,
    /// initial scale raised to min-scale).
    pub fn bounds(&self) -> (u32, u32, u32) {
        let max = if self.max_scale == 0 { u32::MAX } else { self.max_scale };
        let initial = self.initial_scale.max(self.min_scale).min(max);
        (self.min_scale, max, initial)
    }

    /// The activator as the engine models it: it holds requests while no replica is ready, up
    /// to its per-revision queue depth (10 000), each for at most the revision timeout.
    pub fn activator(&self) -> Option<crate::policy::ActivatorBuffer> {
        Some(crate::policy::ActivatorBuffer {
            capacity: ACTIVATOR_QUEUE_DEPTH,
            max_wait: self.revision_timeout,
        })
    }

    /// The decider's settings derived from this spec.
    pub fn decider_spec(&self) -> super::decider::DeciderSpec {
        super::decider::DeciderSpec {
            target: self.target_value(),
            total: self.total_value(),
            target_burst_capacity: self.target_burst_capacity,
            panic_threshold: self.panic_threshold(),
            max_scale_up_rate: self.max_scale_up_rate,
            max_scale_down_rate: self.max_scale_down_rate,
            stable_window: self.stable_window,
            scale_down_delay: self.scale_down_delay,
            activation_scale: self.activation_scale,
            reachable: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_give_seventy_concurrent_or_140_rps_per_pod() {
        let d = KnativePolicySpec::default();
        d.validate().unwrap();
        assert_eq!(d.total_value(), 100.0);
        assert!((d.target_value() - 70.0).abs() < 1e-9);
        let r = KnativePolicySpec { metric: KpaMetric::Rps, ..d.clone() };
        assert!((r.target_value() - 140.0).abs() < 1e-9);
        assert_eq!(d.panic_window(), 6 * SECOND);
        assert_eq!(d.panic_threshold(), 2.0);
        assert_eq!(d.bounds(), (0, u32::MAX, 1));
    }

    #[test]
    fn container_concurrency_caps_the_target_annotation() {
        let s = KnativePolicySpec { container_concurrency: 10, target: Some(50.0), ..Default::default() };
        assert_eq!(s.total_value(), 10.0);
        let s = KnativePolicySpec { container_concurrency: 10, ..Default::default() };
        assert_eq!(s.total_value(), 10.0);
        assert!((s.target_value() - 7.0).abs() < 1e-9);
    }

    #[test]
    fn panic_window_rounds_to_whole_seconds_at_least_one() {
        let s = KnativePolicySpec {
            stable_window: 7 * SECOND,
            panic_window_percentage: 1.0,
            ..Default::default()
        };
        assert_eq!(s.panic_window(), SECOND);
        let s = KnativePolicySpec { stable_window: 45 * SECOND, ..Default::default() };
        assert_eq!(s.panic_window(), 5 * SECOND); // 4.5 rounds away from zero
    }

    #[test]
    fn errors_name_the_field() {
        let cases: Vec<(KnativePolicySpec, &str)> = vec![
            (KnativePolicySpec { stable_window: 5 * SECOND, ..Default::default() }, "window"),
            (KnativePolicySpec { stable_window: 61 * SECOND / 2, ..Default::default() }, "window"),
            (
                KnativePolicySpec { panic_threshold_percentage: 100.0, ..Default::default() },
                "panic-threshold",
            ),
            (KnativePolicySpec { panic_window_percentage: 0.5, ..Default::default() }, "panic-window"),
            (KnativePolicySpec { max_scale_up_rate: 1.0, ..Default::default() }, "max-scale-up-rate"),
            (KnativePolicySpec { max_scale_down_rate: 0.5, ..Default::default() }, "max-scale-down-rate"),
            (KnativePolicySpec { target_burst_capacity: -2.0, ..Default::default() }, "target-burst"),
            (
                KnativePolicySpec { scale_to_zero_grace_period: SECOND, ..Default::default() },
                "scale-to-zero-grace",
            ),
            (KnativePolicySpec { scale_down_delay: SECOND / 2, ..Default::default() }, "scale-down-delay"),
            (KnativePolicySpec { min_scale: 3, max_scale: 2, ..Default::default() }, "min-scale"),
            (KnativePolicySpec { initial_scale: 0, ..Default::default() }, "initial-scale"),
            (KnativePolicySpec { target: Some(0.001), ..Default::default() }, "target"),
            (KnativePolicySpec { target_utilization: 1.5, ..Default::default() }, "target-utilization"),
        ];
        for (s, field) in cases {
            let e = s.validate().unwrap_err();
            assert!(e.to_string().starts_with(field), "{e} should name {field}");
        }
    }
}
