//! The KEDA family: a `ScaledObject` is KEDA's own polling loop (activation, cooldown, scaling
//! to and from zero or `idleReplicaCount`) on top of an HPA that KEDA creates with one External
//! metric per trigger (AverageValue by default) — so between 1 and N the decisions are exactly
//! the HPA's, quirks included (the 10 % tolerance, the legacy max(2×current, 4) scale-up cap and
//! the 300 s downscale stabilisation when no `behavior` is given).
//!
//! Facts and sources: ../shared/reference/autoscalers.md §2 (kedacore/keda @ 8b4f083).

pub mod executor;
pub mod manifest;
pub mod scalers;
mod sim;

use crate::policy::schedule::{CronWindow, ScheduleError};
use crate::time::{SECOND, Time};
use manifest::{ScaledObject, Trigger};
use scalers::{QueryError, Series};
use std::collections::BTreeMap;

/// KEDA's defaults (`withtriggers_types.go`, `scale_executor.go`, `scaledobject_types.go`).
pub mod defaults {
    use crate::time::{SECOND, Time};
    /// `pollingInterval`.
    pub const POLLING_INTERVAL: Time = 30 * SECOND;
    /// `cooldownPeriod`.
    pub const COOLDOWN_PERIOD: Time = 300 * SECOND;
    /// `minReplicaCount`.
    pub const MIN_REPLICA_COUNT: u32 = 0;
    /// `maxReplicaCount`.
    pub const MAX_REPLICA_COUNT: u32 = 100;
}

/// A target type of a KEDA trigger's HPA metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// desired = ceil(value / threshold) (default).
    AverageValue,
    /// desired = ceil(value / threshold × ready pods).
    Value,
}

/// A checked trigger.
#[derive(Debug, Clone, PartialEq)]
pub enum KedaTrigger {
    /// CPU utilisation (a Resource metric of the HPA), percent of the request.
    Cpu {
        /// Target utilisation, percent.
        utilization: u32,
    },
    /// A Prometheus query mapped onto a simulated series.
    Prometheus {
        /// The series the query reads.
        series: Series,
        /// The query as written.
        query: String,
        /// `serverAddress` (kept for round trips; the simulation has no Prometheus).
        server_address: String,
        /// `threshold`.
        threshold: f64,
        /// `activationThreshold`.
        activation_threshold: f64,
        /// `metricType`.
        metric_type: MetricType,
    },
    /// A cron window.
    Cron {
        /// The window (start, end, time zone, desiredReplicas).
        window: Box<CronWindow>,
    },
}

/// The checked KEDA settings of a ScaledObject.
#[derive(Debug, Clone, PartialEq)]
pub struct KedaSpec {
    /// `pollingInterval`.
    pub polling_interval: Time,
    /// `cooldownPeriod`.
    pub cooldown_period: Time,
    /// `initialCooldownPeriod`.
    pub initial_cooldown_period: Time,
    /// `minReplicaCount`.
    pub min_replica_count: u32,
    /// `maxReplicaCount`.
    pub max_replica_count: u32,
    /// `idleReplicaCount`.
    pub idle_replica_count: Option<u32>,
    /// Triggers, in order.
    pub triggers: Vec<KedaTrigger>,
    /// The HPA `behavior` KEDA copies into its HPA (YAML as written), if any.
    pub behavior: Option<serde_norway::Value>,
    /// `scaleTargetRef.name` (kept for round trips).
    pub target: String,
}

/// A ScaledObject setting that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct KedaError {
    /// Field path, e.g. `spec.triggers[1].metadata.threshold`.
    pub field: String,
    /// What was found and what was expected.
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> KedaError {
    KedaError { field: field.into(), message: message.into() }
}

fn number(t: &Trigger, i: usize, key: &str, default: Option<f64>) -> Result<f64, KedaError> {
    let field = format!("spec.triggers[{i}].metadata.{key}");
    match t.metadata.get(key) {
        Some(v) => {
            v.trim().parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| {
                err(field, format!("found `{v}`, expected a number (as a string, e.g. \"10\")"))
            })
        }
        None => default.ok_or_else(|| err(field, "missing, expected a number")),
    }
}

/// The document is a `ScaledObject` of the `keda.sh` API group.
fn check_kind(so: &ScaledObject) -> Result<(), KedaError> {
    if so.kind != "ScaledObject" {
        return Err(err("kind", format!("found `{}`, expected `ScaledObject`", so.kind)));
    }
    if !so.api_version.starts_with("keda.sh/") {
        return Err(err("apiVersion", format!("found `{}`, expected `keda.sh/v1alpha1`", so.api_version)));
    }
    Ok(())
}

/// Trigger `i` checked: its `metricType` first, then the scaler its `type` names.
fn trigger(
    t: &Trigger,
    i: usize,
    default_tz: chrono_tz::Tz,
    metrics_map: &BTreeMap<String, String>,
) -> Result<KedaTrigger, KedaError> {
    let metric_type = match t.metric_type.as_deref() {
        None | Some("AverageValue") => MetricType::AverageValue,
        Some("Value") => MetricType::Value,
        Some("Utilization") if t.kind == "cpu" => MetricType::AverageValue,
        Some(other) => {
            return Err(err(
                format!("spec.triggers[{i}].metricType"),
                format!("found `{other}`, expected `AverageValue` or `Value`"),
            ));
        }
    };
    match t.kind.as_str() {
        "cpu" => cpu_trigger(t, i),
        "prometheus" => prometheus_trigger(t, i, metric_type, metrics_map),
        "cron" => cron_trigger(t, i, default_tz),
        other => Err(err(
            format!("spec.triggers[{i}].type"),
            format!("found `{other}`, expected one of the simulated scalers `cpu`, `prometheus`, `cron`"),
        )),
    }
}

/// A `cpu` trigger: `value`, a whole percentage of the CPU request.
fn cpu_trigger(t: &Trigger, i: usize) -> Result<KedaTrigger, KedaError> {
    let v = number(t, i, "value", None)?;
    if v < 1.0 || v.fract() != 0.0 {
        return Err(err(
            format!("spec.triggers[{i}].metadata.value"),
            format!("found {v}, expected a whole percentage of the CPU request (e.g. \"60\")"),
        ));
    }
    Ok(KedaTrigger::Cpu { utilization: v as u32 })
}

/// A `prometheus` trigger: its `query` mapped onto a simulated series (through `metrics_map`,
/// else by reading the query), a positive `threshold` and an `activationThreshold`.
fn prometheus_trigger(
    t: &Trigger,
    i: usize,
    metric_type: MetricType,
    metrics_map: &BTreeMap<String, String>,
) -> Result<KedaTrigger, KedaError> {
    let query = t.metadata.get("query").ok_or_else(|| {
        err(format!("spec.triggers[{i}].metadata.query"), "missing, expected a PromQL query")
    })?;
    let series = match metrics_map.get(query.trim()) {
        Some(name) => Series::supplied(name, query).ok_or_else(|| {
            err(
                format!("spec.triggers[{i}].metadata.query"),
                format!(
                    "metrics_map maps this query to `{name}`, expected one of the supplied metrics `requests_per_second`, `concurrency`"
                ),
            )
        })?,
        None => Series::from_query(query).map_err(|QueryError { .. }| {
            err(format!("spec.triggers[{i}].metadata.query"), QueryError { query: query.clone() }.to_string())
        })?,
    };
    let threshold = number(t, i, "threshold", None)?;
    if threshold <= 0.0 {
        return Err(err(
            format!("spec.triggers[{i}].metadata.threshold"),
            format!("found {threshold}, expected a positive number"),
        ));
    }
    let activation_threshold = number(t, i, "activationThreshold", Some(0.0))?;
    Ok(KedaTrigger::Prometheus {
        series,
        query: query.clone(),
        server_address: t.metadata.get("serverAddress").cloned().unwrap_or_default(),
        threshold,
        activation_threshold,
        metric_type,
    })
}

/// A `cron` trigger: distinct `start` and `end` expressions in `timezone` (else `default_tz`)
/// and a whole `desiredReplicas` of at least 1.
fn cron_trigger(t: &Trigger, i: usize, default_tz: chrono_tz::Tz) -> Result<KedaTrigger, KedaError> {
    let get = |k: &str| {
        t.metadata.get(k).ok_or_else(|| {
            err(format!("spec.triggers[{i}].metadata.{k}"), "missing, expected a cron expression")
        })
    };
    let (start, end) = (get("start")?, get("end")?);
    if start == end {
        return Err(err(
            format!("spec.triggers[{i}].metadata.end"),
            "found the same expression as `start`, expected a different one (KEDA rejects it)",
        ));
    }
    let tz = match t.metadata.get("timezone") {
        Some(z) => z.parse::<chrono_tz::Tz>().map_err(|_| {
            err(
                format!("spec.triggers[{i}].metadata.timezone"),
                format!("found `{z}`, expected an IANA time zone such as `Europe/London`"),
            )
        })?,
        None => default_tz,
    };
    let desired = number(t, i, "desiredReplicas", None)?;
    if desired < 1.0 || desired.fract() != 0.0 {
        return Err(err(
            format!("spec.triggers[{i}].metadata.desiredReplicas"),
            format!("found {desired}, expected a whole number of at least 1"),
        ));
    }
    let window = CronWindow::new(start, end, tz, desired as u32)
        .map_err(|e: ScheduleError| err(format!("spec.triggers[{i}].metadata.start/end"), e.to_string()))?;
    Ok(KedaTrigger::Cron { window: Box::new(window) })
}

impl KedaSpec {
    /// Checks a ScaledObject and applies KEDA's defaults. `default_tz` is used for cron
    /// triggers without a `timezone`.
    pub fn from_scaled_object(so: &ScaledObject, default_tz: chrono_tz::Tz) -> Result<KedaSpec, KedaError> {
        KedaSpec::from_scaled_object_mapped(so, default_tz, &BTreeMap::new())
    }

    /// [`KedaSpec::from_scaled_object`] with the scenario's `metrics_map`: a Prometheus query
    /// (as written in the trigger) mapped onto a supplied metric, `requests_per_second` (rate
    /// window: the query's `[W]`, else 60 s) or `concurrency`.
    pub fn from_scaled_object_mapped(
        so: &ScaledObject,
        default_tz: chrono_tz::Tz,
        metrics_map: &BTreeMap<String, String>,
    ) -> Result<KedaSpec, KedaError> {
        check_kind(so)?;
        let s = &so.spec;
        let min = s.min_replica_count.unwrap_or(defaults::MIN_REPLICA_COUNT);
        let max = s.max_replica_count.unwrap_or(defaults::MAX_REPLICA_COUNT);
        if max < min.max(1) {
            return Err(err(
                "spec.maxReplicaCount",
                format!("found {max}, expected at least minReplicaCount ({min}) and at least 1"),
            ));
        }
        if let Some(idle) = s.idle_replica_count
            && idle >= min
        {
            return Err(err(
                "spec.idleReplicaCount",
                format!("found {idle}, expected less than minReplicaCount ({min})"),
            ));
        }
        let polling = s.polling_interval.unwrap_or(30);
        if polling == 0 {
            return Err(err("spec.pollingInterval", "found 0, expected at least 1 second"));
        }
        if s.triggers.is_empty() {
            return Err(err("spec.triggers", "found none, expected at least one trigger"));
        }
        let mut triggers = Vec::new();
        for (i, t) in s.triggers.iter().enumerate() {
            triggers.push(trigger(t, i, default_tz, metrics_map)?);
        }
        let secs = |field: &str, v: u64| {
            crate::time::checked_whole_secs(v).ok_or_else(|| {
                err(field, format!("found {v}, more than the longest supported time (3660 days in seconds)"))
            })
        };
        Ok(KedaSpec {
            polling_interval: secs("spec.pollingInterval", polling)?,
            cooldown_period: secs("spec.cooldownPeriod", s.cooldown_period.unwrap_or(300))?,
            initial_cooldown_period: secs(
                "spec.initialCooldownPeriod",
                s.initial_cooldown_period.unwrap_or(0),
            )?,
            min_replica_count: min,
            max_replica_count: max,
            idle_replica_count: s.idle_replica_count,
            triggers,
            behavior: s
                .advanced
                .as_ref()
                .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
                .and_then(|h| h.behavior.clone()),
            target: s.scale_target_ref.name.clone(),
        })
    }

    /// The HPA KEDA creates: `minReplicas = max(1, minReplicaCount)`.
    pub fn hpa_min(&self) -> u32 {
        self.min_replica_count.max(1)
    }

    /// The HPA KEDA creates underneath (see [`sim::hpa_for`]).
    pub fn hpa(&self) -> Result<crate::policy::hpa::HpaPolicySpec, String> {
        sim::hpa_for(self)
    }

    /// Replica bounds of the target: (min incl. idle/zero, max, initial). The workload starts
    /// at the HPA's minimum, max(1, minReplicaCount).
    pub fn bounds(&self) -> (u32, u32, u32) {
        let min = self.idle_replica_count.unwrap_or(self.min_replica_count).min(self.min_replica_count);
        (min, self.max_replica_count, self.hpa_min())
    }

    /// Whether every trigger is cpu (then the object is always active and never scales to 0).
    pub fn all_resource_triggers(&self) -> bool {
        self.triggers.iter().all(|t| matches!(t, KedaTrigger::Cpu { .. }))
    }
}

/// A ScaledObject ready to simulate: the KEDA settings and the HPA it creates.
#[derive(Debug, Clone, PartialEq)]
pub struct KedaPolicySpec {
    /// The ScaledObject's settings.
    pub keda: KedaSpec,
    /// The HPA underneath.
    pub hpa: crate::policy::hpa::HpaPolicySpec,
    /// The manifest it was read from, written back by export (`None` for `platform` settings
    /// and policies built in code).
    pub source: Option<crate::policy::ManifestSource>,
}

impl KedaPolicySpec {
    /// Checks `keda` and derives its HPA.
    pub fn new(keda: KedaSpec) -> Result<KedaPolicySpec, KedaError> {
        let hpa = keda.hpa().map_err(|m| err("spec", m))?;
        Ok(KedaPolicySpec { keda, hpa, source: None })
    }

    /// A fresh controller for one run.
    pub fn build(&self, clock: &crate::time::Clock, horizon: Time) -> Box<dyn crate::policy::Policy> {
        Box::new(sim::KedaController::new(&self.keda, &self.hpa, clock, horizon))
    }
}

/// The ScaledObject (YAML) for `spec`, named `name`: every field the simulation uses, with
/// KEDA's defaults written out.
pub fn to_manifest(name: &str, spec: &KedaSpec) -> String {
    use manifest::{Advanced, HpaConfig, Metadata, ScaleTargetRef, ScaledObjectSpec};
    let secs = |t: Time| t / SECOND;
    let triggers = spec
        .triggers
        .iter()
        .map(|t| {
            let mut md = BTreeMap::new();
            let (kind, metric_type) = match t {
                KedaTrigger::Cpu { utilization } => {
                    md.insert("value".to_string(), utilization.to_string());
                    ("cpu", Some("Utilization".to_string()))
                }
                KedaTrigger::Prometheus {
                    query,
                    server_address,
                    threshold,
                    activation_threshold,
                    metric_type,
                    ..
                } => {
                    if !server_address.is_empty() {
                        md.insert("serverAddress".to_string(), server_address.clone());
                    }
                    md.insert("query".to_string(), query.clone());
                    md.insert("threshold".to_string(), threshold.to_string());
                    if *activation_threshold != 0.0 {
                        md.insert("activationThreshold".to_string(), activation_threshold.to_string());
                    }
                    let mt = match metric_type {
                        MetricType::AverageValue => None,
                        MetricType::Value => Some("Value".to_string()),
                    };
                    ("prometheus", mt)
                }
                KedaTrigger::Cron { window } => {
                    md.insert("timezone".to_string(), window.tz.name().to_string());
                    md.insert("start".to_string(), window.start.clone());
                    md.insert("end".to_string(), window.end.clone());
                    md.insert("desiredReplicas".to_string(), window.replicas.to_string());
                    ("cron", None)
                }
            };
            Trigger {
                kind: kind.to_string(),
                name: None,
                metric_type,
                metadata: md,
                use_cached_metrics: None,
                authentication_ref: None,
            }
        })
        .collect();
    let so = ScaledObject {
        api_version: "keda.sh/v1alpha1".into(),
        kind: "ScaledObject".into(),
        metadata: Metadata { name: name.to_string(), ..Metadata::default() },
        spec: ScaledObjectSpec {
            scale_target_ref: ScaleTargetRef {
                name: if spec.target.is_empty() { name.to_string() } else { spec.target.clone() },
                ..ScaleTargetRef::default()
            },
            polling_interval: Some(secs(spec.polling_interval)),
            cooldown_period: Some(secs(spec.cooldown_period)),
            initial_cooldown_period: (spec.initial_cooldown_period > 0)
                .then(|| secs(spec.initial_cooldown_period)),
            idle_replica_count: spec.idle_replica_count,
            min_replica_count: Some(spec.min_replica_count),
            max_replica_count: Some(spec.max_replica_count),
            advanced: spec.behavior.as_ref().map(|b| Advanced {
                horizontal_pod_autoscaler_config: Some(HpaConfig { name: None, behavior: Some(b.clone()) }),
                restore_to_original_replica_count: None,
            }),
            fallback: None,
            triggers,
        },
    };
    serde_norway::to_string(&so).expect("a ScaledObject always serialises")
}

/// Parses a ScaledObject manifest (YAML or JSON); errors name the file and the line.
pub fn parse_manifest(
    text: &str,
    origin: &str,
    default_tz: chrono_tz::Tz,
) -> Result<KedaPolicySpec, KedaError> {
    parse_manifest_mapped(text, origin, default_tz, &BTreeMap::new())
}

/// [`parse_manifest`] with the scenario's `metrics_map` (Prometheus query → supplied metric).
pub fn parse_manifest_mapped(
    text: &str,
    origin: &str,
    default_tz: chrono_tz::Tz,
    metrics_map: &BTreeMap<String, String>,
) -> Result<KedaPolicySpec, KedaError> {
    let so: ScaledObject = serde_norway::from_str(text).map_err(|e| {
        let at = e.location().map(|l| format!(":{}", l.line())).unwrap_or_default();
        err(format!("{origin}{at}"), crate::config::error::with_did_you_mean(&e.to_string()))
    })?;
    let spec = KedaSpec::from_scaled_object_mapped(&so, default_tz, metrics_map)
        .map_err(|e| err(format!("{origin}: {}", e.field), e.message))?;
    KedaPolicySpec::new(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<KedaSpec, KedaError> {
        let so: ScaledObject = serde_norway::from_str(yaml).expect("valid YAML");
        KedaSpec::from_scaled_object(&so, chrono_tz::UTC)
    }

    const RPS: &str = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: { name: web }
spec:
  scaleTargetRef: { name: web }
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus:9090
        query: sum(rate(http_requests_total[1m]))
        threshold: "10"
"#;

    #[test]
    fn defaults_apply() {
        let k = parse(RPS).unwrap();
        assert_eq!(k.polling_interval, 30 * SECOND);
        assert_eq!(k.cooldown_period, 300 * SECOND);
        assert_eq!((k.min_replica_count, k.max_replica_count, k.hpa_min()), (0, 100, 1));
        assert!(matches!(k.triggers[0], KedaTrigger::Prometheus { threshold, .. } if threshold == 10.0));
    }

    #[test]
    fn manifest_round_trip_keeps_every_simulated_field() {
        for text in [RPS, include_str!("../../../configs/k8s/keda-cron-rps.yaml")] {
            let a = parse(text).unwrap();
            let out = to_manifest("web", &a);
            let b = parse(&out).unwrap();
            assert_eq!(a, b, "{out}");
        }
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse(&RPS.replace("\"10\"", "\"ten\"")).unwrap_err();
        assert_eq!(e.field, "spec.triggers[0].metadata.threshold");
        let e = parse(&RPS.replace("type: prometheus", "type: kafka")).unwrap_err();
        assert!(e.message.contains("`kafka`"), "{e}");
        let e = parse(&RPS.replace("rate(http_requests_total[1m])", "kafka_lag")).unwrap_err();
        assert_eq!(e.field, "spec.triggers[0].metadata.query");
        let e = parse(&RPS.replace("triggers:", "idleReplicaCount: 0\n  triggers:")).unwrap_err();
        assert_eq!(e.field, "spec.idleReplicaCount");
    }
}
