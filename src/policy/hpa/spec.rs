//! The autoscaling/v2 `HorizontalPodAutoscaler` spec as users write it (camelCase YAML or
//! JSON), its defaults (`pkg/apis/autoscaling/v2/defaults.go`), its validation (bounds from the
//! API reference, errors naming the field), and whole manifests in and out.

use super::quantity::Quantity;
use serde::{Deserialize, Serialize};
use std::fmt;

/// `spec` of a HorizontalPodAutoscaler.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HpaSpec {
    /// The scaled workload (kept for round trips; the simulation scales its own service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_target_ref: Option<ObjectReference>,
    /// Lower bound (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<i32>,
    /// Upper bound.
    pub max_replicas: i32,
    /// Metrics (default: CPU utilization 80 %).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricSpec>,
    /// Scaling behavior; `None` selects the legacy normalization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<Behavior>,
}

/// A reference to an object (`scaleTargetRef`, `describedObject`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectReference {
    /// API version, e.g. `apps/v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Name.
    pub name: String,
}

/// Metric source type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetricSourceType {
    /// A resource of the pods (cpu, memory).
    Resource,
    /// A resource of one container of the pods.
    ContainerResource,
    /// A per-pod custom metric.
    Pods,
    /// A metric of one Kubernetes object.
    Object,
    /// A metric from outside the cluster.
    External,
}

/// One entry of `spec.metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricSpec {
    /// Which source field is set.
    #[serde(rename = "type")]
    pub kind: MetricSourceType,
    /// `Resource` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceSource>,
    /// `ContainerResource` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_resource: Option<ContainerResourceSource>,
    /// `Pods` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<PodsSource>,
    /// `Object` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectSource>,
    /// `External` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalSource>,
}

/// A resource metric (`cpu`, `memory`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceSource {
    /// Resource name.
    pub name: String,
    /// Target.
    pub target: MetricTarget,
}

/// A resource metric of one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContainerResourceSource {
    /// Resource name.
    pub name: String,
    /// Container name.
    pub container: String,
    /// Target.
    pub target: MetricTarget,
}

/// A per-pod custom metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PodsSource {
    /// Metric.
    pub metric: MetricIdentifier,
    /// Target (`AverageValue`).
    pub target: MetricTarget,
}

/// An object metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectSource {
    /// The object the metric describes.
    pub described_object: ObjectReference,
    /// Metric.
    pub metric: MetricIdentifier,
    /// Target (`Value` or `AverageValue`).
    pub target: MetricTarget,
}

/// An external metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExternalSource {
    /// Metric.
    pub metric: MetricIdentifier,
    /// Target (`Value` or `AverageValue`).
    pub target: MetricTarget,
}

/// A metric name with an optional label selector (kept verbatim).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricIdentifier {
    /// Metric name.
    pub name: String,
    /// Label selector, passed through untouched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<serde_json::Value>,
}

/// Target type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetType {
    /// Percent of the request, averaged over pods.
    Utilization,
    /// Value averaged over pods.
    AverageValue,
    /// Total value.
    Value,
}

/// A metric target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricTarget {
    /// Which of the fields below applies.
    #[serde(rename = "type")]
    pub kind: TargetType,
    /// `Value` target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Quantity>,
    /// `AverageValue` target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_value: Option<Quantity>,
    /// `Utilization` target, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_utilization: Option<i32>,
}

/// `spec.behavior`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Behavior {
    /// Scale-up rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<ScalingRules>,
    /// Scale-down rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<ScalingRules>,
}

/// `HPAScalingRules`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScalingRules {
    /// Stabilization window, seconds (0..=3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stabilization_window_seconds: Option<i32>,
    /// How policies combine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_policy: Option<SelectPolicy>,
    /// Rate-limit policies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<ScalingPolicy>>,
    /// Per-direction tolerance (a quantity, e.g. `0.05`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Quantity>,
}

/// `selectPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelectPolicy {
    /// The policy allowing the largest change.
    Max,
    /// The policy allowing the smallest change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// Policy type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScalingPolicyType {
    /// An absolute number of pods per period.
    Pods,
    /// A percentage of the replicas at the start of the period.
    Percent,
}

/// `HPAScalingPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScalingPolicy {
    /// Pods or Percent.
    #[serde(rename = "type")]
    pub kind: ScalingPolicyType,
    /// Amount (> 0).
    pub value: i32,
    /// Period, seconds (1..=1800).
    pub period_seconds: i32,
}

/// The CPU utilization target when `metrics` is omitted (`DefaultCPUUtilization`).
pub const DEFAULT_CPU_UTILIZATION: i32 = 80;

impl MetricSpec {
    /// A Resource metric with a Utilization target.
    pub fn resource_utilization(name: &str, percent: i32) -> MetricSpec {
        MetricSpec {
            kind: MetricSourceType::Resource,
            resource: Some(ResourceSource {
                name: name.into(),
                target: MetricTarget {
                    kind: TargetType::Utilization,
                    value: None,
                    average_value: None,
                    average_utilization: Some(percent),
                },
            }),
            container_resource: None,
            pods: None,
            object: None,
            external: None,
        }
    }

    /// A short label, e.g. `Resource cpu`, `Pods requests_per_second`.
    pub fn label(&self) -> String {
        match self.kind {
            MetricSourceType::Resource => {
                format!("Resource {}", self.resource.as_ref().map_or("?", |r| &r.name))
            }
            MetricSourceType::ContainerResource => {
                self.container_resource.as_ref().map_or("ContainerResource ?".into(), |r| {
                    format!("ContainerResource {}/{}", r.container, r.name)
                })
            }
            MetricSourceType::Pods => format!("Pods {}", self.pods.as_ref().map_or("?", |r| &r.metric.name)),
            MetricSourceType::Object => {
                format!("Object {}", self.object.as_ref().map_or("?", |r| &r.metric.name))
            }
            MetricSourceType::External => {
                format!("External {}", self.external.as_ref().map_or("?", |r| &r.metric.name))
            }
        }
    }
}

/// Scale-up defaults: no stabilization, 4 pods or 100 % per 15 s, Max.
pub fn default_scale_up() -> ScalingRules {
    ScalingRules {
        stabilization_window_seconds: Some(0),
        select_policy: Some(SelectPolicy::Max),
        policies: Some(vec![
            ScalingPolicy { kind: ScalingPolicyType::Pods, value: 4, period_seconds: 15 },
            ScalingPolicy { kind: ScalingPolicyType::Percent, value: 100, period_seconds: 15 },
        ]),
        tolerance: None,
    }
}

/// Scale-down defaults: window left unset (the controller's flag, 300 s, at reconcile time),
/// 100 % per 15 s, Max.
pub fn default_scale_down() -> ScalingRules {
    ScalingRules {
        stabilization_window_seconds: None,
        select_policy: Some(SelectPolicy::Max),
        policies: Some(vec![ScalingPolicy {
            kind: ScalingPolicyType::Percent,
            value: 100,
            period_seconds: 15,
        }]),
        tolerance: None,
    }
}

/// `copyHPAScalingRules`: every field set in `from` replaces the default.
fn copy_rules(from: Option<&ScalingRules>, mut to: ScalingRules) -> ScalingRules {
    if let Some(f) = from {
        if f.select_policy.is_some() {
            to.select_policy = f.select_policy;
        }
        if f.stabilization_window_seconds.is_some() {
            to.stabilization_window_seconds = f.stabilization_window_seconds;
        }
        if f.policies.is_some() {
            to.policies = f.policies.clone();
        }
        if f.tolerance.is_some() {
            to.tolerance = f.tolerance.clone();
        }
    }
    to
}

impl HpaSpec {
    /// A spec with only bounds (metrics and behavior take their defaults).
    pub fn new(min: i32, max: i32) -> HpaSpec {
        HpaSpec {
            scale_target_ref: None,
            min_replicas: Some(min),
            max_replicas: max,
            metrics: vec![],
            behavior: None,
        }
    }

    /// The spec as the API server stores it after defaulting: `minReplicas` 1, CPU
    /// utilization 80 % when no metric is given, and — only when `behavior` is present —
    /// every unset behavior field filled from the defaults.
    pub fn with_defaults(&self) -> HpaSpec {
        let mut s = self.clone();
        s.min_replicas = Some(s.min_replicas.unwrap_or(1));
        if s.metrics.is_empty() {
            s.metrics = vec![MetricSpec::resource_utilization("cpu", DEFAULT_CPU_UTILIZATION)];
        }
        if let Some(b) = &s.behavior {
            s.behavior = Some(Behavior {
                scale_up: Some(copy_rules(b.scale_up.as_ref(), default_scale_up())),
                scale_down: Some(copy_rules(b.scale_down.as_ref(), default_scale_down())),
            });
        }
        s
    }

    /// `minReplicas`, defaulted.
    pub fn min(&self) -> i32 {
        self.min_replicas.unwrap_or(1)
    }

    /// Checks the spec against the API's validation rules. Errors name the field.
    pub fn validate(&self) -> Result<(), SpecError> {
        let e = |field: String, message: String| Err(SpecError { field, message });
        let scale_to_zero_ok = self
            .metrics
            .iter()
            .any(|m| matches!(m.kind, MetricSourceType::Object | MetricSourceType::External));
        if let Some(min) = self.min_replicas {
            let lo = if scale_to_zero_ok { 0 } else { 1 };
            if min < lo {
                return e(
                    "spec.minReplicas".into(),
                    format!(
                        "found {min}, expected >= {lo}{}",
                        if lo == 1 { " (0 needs an Object or External metric: HPAScaleToZero)" } else { "" }
                    ),
                );
            }
        }
        if self.max_replicas < 1 {
            return e("spec.maxReplicas".into(), format!("found {}, expected >= 1", self.max_replicas));
        }
        if self.max_replicas < self.min() {
            return e(
                "spec.maxReplicas".into(),
                format!("found {}, expected >= minReplicas ({})", self.max_replicas, self.min()),
            );
        }
        for (i, m) in self.metrics.iter().enumerate() {
            validate_metric(m, &format!("spec.metrics[{i}]"))?;
        }
        if let Some(b) = &self.behavior {
            for (name, r) in [("scaleUp", &b.scale_up), ("scaleDown", &b.scale_down)] {
                if let Some(r) = r {
                    validate_rules(r, &format!("spec.behavior.{name}"))?;
                }
            }
        }
        Ok(())
    }
}

fn validate_metric(m: &MetricSpec, path: &str) -> Result<(), SpecError> {
    let e = |field: String, message: String| Err(SpecError { field, message });
    let set = [
        ("resource", m.resource.is_some()),
        ("containerResource", m.container_resource.is_some()),
        ("pods", m.pods.is_some()),
        ("object", m.object.is_some()),
        ("external", m.external.is_some()),
    ];
    let want = match m.kind {
        MetricSourceType::Resource => "resource",
        MetricSourceType::ContainerResource => "containerResource",
        MetricSourceType::Pods => "pods",
        MetricSourceType::Object => "object",
        MetricSourceType::External => "external",
    };
    for (name, present) in set {
        if name == want && !present {
            return e(format!("{path}.{want}"), format!("must be set for type {:?}", m.kind));
        }
        if name != want && present {
            return e(format!("{path}.{name}"), format!("must not be set for type {:?}", m.kind));
        }
    }
    let (target, allowed, tpath): (&MetricTarget, &[TargetType], String) = match m.kind {
        MetricSourceType::Resource => {
            let r = m.resource.as_ref().expect("checked");
            (
                &r.target,
                &[TargetType::Utilization, TargetType::AverageValue],
                format!("{path}.resource.target"),
            )
        }
        MetricSourceType::ContainerResource => {
            let r = m.container_resource.as_ref().expect("checked");
            (
                &r.target,
                &[TargetType::Utilization, TargetType::AverageValue],
                format!("{path}.containerResource.target"),
            )
        }
        MetricSourceType::Pods => (
            &m.pods.as_ref().expect("checked").target,
            &[TargetType::AverageValue],
            format!("{path}.pods.target"),
        ),
        MetricSourceType::Object => (
            &m.object.as_ref().expect("checked").target,
            &[TargetType::Value, TargetType::AverageValue],
            format!("{path}.object.target"),
        ),
        MetricSourceType::External => (
            &m.external.as_ref().expect("checked").target,
            &[TargetType::Value, TargetType::AverageValue],
            format!("{path}.external.target"),
        ),
    };
    if !allowed.contains(&target.kind) {
        return e(
            format!("{tpath}.type"),
            format!("found {:?}, expected one of {:?} for a {:?} metric", target.kind, allowed, m.kind),
        );
    }
    match target.kind {
        TargetType::Utilization => match target.average_utilization {
            None => {
                return e(format!("{tpath}.averageUtilization"), "must be set for type Utilization".into());
            }
            Some(u) if u <= 0 => {
                return e(format!("{tpath}.averageUtilization"), format!("found {u}, expected > 0"));
            }
            _ => {}
        },
        TargetType::AverageValue => match &target.average_value {
            None => return e(format!("{tpath}.averageValue"), "must be set for type AverageValue".into()),
            Some(q) if q.milli() <= 0 => {
                return e(format!("{tpath}.averageValue"), format!("found {q}, expected > 0"));
            }
            _ => {}
        },
        TargetType::Value => match &target.value {
            None => return e(format!("{tpath}.value"), "must be set for type Value".into()),
            Some(q) if q.milli() <= 0 => {
                return e(format!("{tpath}.value"), format!("found {q}, expected > 0"));
            }
            _ => {}
        },
    }
    Ok(())
}

fn validate_rules(r: &ScalingRules, path: &str) -> Result<(), SpecError> {
    let e = |field: String, message: String| Err(SpecError { field, message });
    if let Some(w) = r.stabilization_window_seconds
        && !(0..=3600).contains(&w)
    {
        return e(format!("{path}.stabilizationWindowSeconds"), format!("found {w}, expected 0..=3600"));
    }
    if let Some(p) = &r.policies {
        if p.is_empty() {
            return e(format!("{path}.policies"), "must specify at least one policy".into());
        }
        for (i, pol) in p.iter().enumerate() {
            if !(1..=1800).contains(&pol.period_seconds) {
                return e(
                    format!("{path}.policies[{i}].periodSeconds"),
                    format!("found {}, expected 1..=1800", pol.period_seconds),
                );
            }
            if pol.value <= 0 {
                return e(
                    format!("{path}.policies[{i}].value"),
                    format!("found {}, expected > 0", pol.value),
                );
            }
        }
    }
    if let Some(t) = &r.tolerance
        && t.milli() < 0
    {
        return e(format!("{path}.tolerance"), format!("found {t}, expected >= 0"));
    }
    Ok(())
}

/// A spec that breaks a validation rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The field path, e.g. `spec.behavior.scaleUp.policies[0].periodSeconds`.
    pub field: String,
    /// What is wrong, e.g. `found 0, expected 1..=1800`.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for SpecError {}

/// A whole `HorizontalPodAutoscaler` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaManifest {
    /// `autoscaling/v2`.
    pub api_version: String,
    /// `HorizontalPodAutoscaler`.
    pub kind: String,
    /// Name and namespace.
    #[serde(default)]
    pub metadata: Metadata,
    /// The spec, as written (not defaulted).
    pub spec: HpaSpec,
}

/// Object metadata (the fields kept).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Why a manifest was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// Where the text came from (a file name).
    pub origin: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}", self.origin, l, self.message),
            None => write!(f, "{}: {}", self.origin, self.message),
        }
    }
}

impl std::error::Error for ManifestError {}

/// The 1-based line of the first top-level `key:` in `text`.
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start_matches(['{', ' ']).trim_start_matches('"');
            l.starts_with(key) && l[key.len()..].trim_start_matches('"').trim_start().starts_with(':')
        })
        .map(|i| i + 1)
}

/// Parses one `HorizontalPodAutoscaler` document, YAML or JSON, autoscaling/v2 or
/// autoscaling/v1 (converted as the API server does, [`v1_to_v2`]), and validates its spec.
/// `origin` names the source in errors.
pub fn parse_manifest(text: &str, origin: &str) -> Result<HpaManifest, ManifestError> {
    read_manifest(text, origin).map(|(m, _)| m)
}

/// [`parse_manifest`], also returning the document as autoscaling/v2 YAML: the text's own
/// document for a v2 manifest (every field, metadata and all, as written), the API server's
/// conversion of it for a v1 manifest.
pub fn read_manifest(text: &str, origin: &str) -> Result<(HpaManifest, serde_norway::Value), ManifestError> {
    let err = |line: Option<usize>, message: String| ManifestError { origin: origin.into(), line, message };
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        api_version: Option<String>,
        kind: Option<String>,
    }
    let head: Head = serde_norway::from_str(text)
        .map_err(|e| err(e.location().map(|l| l.line()), format!("not a YAML or JSON mapping: {e}")))?;
    match head.kind.as_deref() {
        Some("HorizontalPodAutoscaler") => {}
        Some(k) => {
            return Err(err(
                line_of(text, "kind"),
                format!("kind: found `{k}`, expected `HorizontalPodAutoscaler`"),
            ));
        }
        None => return Err(err(None, "kind: missing, expected `HorizontalPodAutoscaler`".into())),
    }
    let doc: serde_norway::Value = match head.api_version.as_deref() {
        Some("autoscaling/v2") => serde_norway::from_str(text)
            .map_err(|e| err(e.location().map(|l| l.line()), format!("not a YAML or JSON mapping: {e}")))?,
        Some("autoscaling/v1") => {
            let v1: V1Manifest = serde_norway::from_str(text).map_err(|e| {
                err(
                    e.location().map(|l| l.line()),
                    format!("autoscaling/v1: {}", crate::config::error::with_did_you_mean(&e.to_string())),
                )
            })?;
            v1_to_v2(v1)
                .map_err(|(key, m)| err(line_of(text, &key).or_else(|| line_of(text, "annotations")), m))?
        }
        Some(v) => {
            return Err(err(
                line_of(text, "apiVersion"),
                format!("apiVersion: found `{v}`, expected `autoscaling/v2` or `autoscaling/v1`"),
            ));
        }
        None => {
            return Err(err(
                None,
                "apiVersion: missing, expected `autoscaling/v2` or `autoscaling/v1`".into(),
            ));
        }
    };
    let m: HpaManifest = serde_norway::from_value(doc.clone()).map_err(|e| {
        err(
            serde_norway::from_str::<HpaManifest>(text).err().and_then(|e| e.location()).map(|l| l.line()),
            crate::config::error::with_did_you_mean(&e.to_string()),
        )
    })?;
    m.spec
        .validate()
        .map_err(|e| err(line_of(text, e.field.rsplit('.').next().unwrap_or("")), e.to_string()))?;
    Ok((m, doc))
}

/// `autoscaling.MetricSpecsAnnotation`: the metrics other than CPU utilization of an
/// autoscaling/v1 HPA, as a JSON list of v1 `MetricSpec`s.
pub const V1_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/metrics";
/// `autoscaling.MetricStatusesAnnotation` (status, dropped by the conversion).
pub const V1_CURRENT_METRICS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/current-metrics";
/// `autoscaling.HorizontalPodAutoscalerConditionsAnnotation` (status, dropped by the conversion).
pub const V1_CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";

/// An autoscaling/v1 `HorizontalPodAutoscaler`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct V1Manifest {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    metadata: serde_norway::Mapping,
    spec: V1Spec,
    /// Read and dropped: a manifest carries no status.
    #[serde(default)]
    #[allow(dead_code)]
    status: Option<serde_norway::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct V1Spec {
    scale_target_ref: ObjectReference,
    #[serde(default)]
    min_replicas: Option<i32>,
    max_replicas: i32,
    #[serde(default, rename = "targetCPUUtilizationPercentage")]
    target_cpu_utilization_percentage: Option<i32>,
}

/// autoscaling/v1 `MetricSpec` (the form of the metrics annotation).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct V1MetricSpec {
    #[serde(rename = "type")]
    kind: MetricSourceType,
    #[serde(default)]
    object: Option<V1ObjectSource>,
    #[serde(default)]
    pods: Option<V1PodsSource>,
    #[serde(default)]
    resource: Option<V1ResourceSource>,
    #[serde(default)]
    container_resource: Option<V1ContainerResourceSource>,
    #[serde(default)]
    external: Option<V1ExternalSource>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct V1ObjectSource {
    target: ObjectReference,
    metric_name: String,
    target_value: Quantity,
    #[serde(default)]
    selector: Option<serde_json::Value>,
    #[serde(default)]
    average_value: Option<Quantity>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct V1PodsSource {
    metric_name: String,
    target_average_value: Quantity,
    #[serde(default)]
    selector: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct V1ResourceSource {
    name: String,
    #[serde(default)]
    target_average_utilization: Option<i32>,
    #[serde(default)]
    target_average_value: Option<Quantity>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct V1ContainerResourceSource {
    name: String,
    container: String,
    #[serde(default)]
    target_average_utilization: Option<i32>,
    #[serde(default)]
    target_average_value: Option<Quantity>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct V1ExternalSource {
    metric_name: String,
    #[serde(default)]
    metric_selector: Option<serde_json::Value>,
    #[serde(default)]
    target_value: Option<Quantity>,
    #[serde(default)]
    target_average_value: Option<Quantity>,
}

/// A v2 target from v1's utilization / average value (`Convert_v1_ResourceMetricSource_To_…`):
/// Utilization when a utilization is given, else AverageValue.
fn v1_resource_target(utilization: Option<i32>, average: Option<Quantity>) -> MetricTarget {
    MetricTarget {
        kind: if utilization.is_some() { TargetType::Utilization } else { TargetType::AverageValue },
        value: None,
        average_value: average,
        average_utilization: utilization,
    }
}

/// One v1 `MetricSpec` as v2, field for field as `Convert_v1_MetricSpec_To_autoscaling_MetricSpec`
/// and the source conversions of `pkg/apis/autoscaling/v1/conversion.go` do it.
fn v1_metric(m: V1MetricSpec) -> MetricSpec {
    let ident = |name: String, selector| MetricIdentifier { name, selector };
    MetricSpec {
        kind: m.kind,
        resource: m.resource.map(|r| ResourceSource {
            name: r.name,
            target: v1_resource_target(r.target_average_utilization, r.target_average_value),
        }),
        container_resource: m.container_resource.map(|r| ContainerResourceSource {
            name: r.name,
            container: r.container,
            target: v1_resource_target(r.target_average_utilization, r.target_average_value),
        }),
        // Pods: always AverageValue.
        pods: m.pods.map(|p| PodsSource {
            metric: ident(p.metric_name, p.selector),
            target: MetricTarget {
                kind: TargetType::AverageValue,
                value: None,
                average_value: Some(p.target_average_value),
                average_utilization: None,
            },
        }),
        // Object: Value unless averageValue is set; value is always copied from targetValue.
        object: m.object.map(|o| ObjectSource {
            described_object: o.target,
            metric: ident(o.metric_name, o.selector),
            target: MetricTarget {
                kind: if o.average_value.is_none() { TargetType::Value } else { TargetType::AverageValue },
                value: Some(o.target_value),
                average_value: o.average_value,
                average_utilization: None,
            },
        }),
        // External: AverageValue unless targetValue is set.
        external: m.external.map(|e| ExternalSource {
            metric: ident(e.metric_name, e.metric_selector),
            target: MetricTarget {
                kind: if e.target_value.is_none() { TargetType::AverageValue } else { TargetType::Value },
                value: e.target_value,
                average_value: e.target_average_value,
                average_utilization: None,
            },
        }),
    }
}

/// Converts an autoscaling/v1 HPA to the autoscaling/v2 document the API server serves for it
/// (`Convert_v1_HorizontalPodAutoscaler_To_autoscaling_HorizontalPodAutoscaler` in kubernetes
/// `pkg/apis/autoscaling/v1/conversion.go`): the metrics of the
/// `autoscaling.alpha.kubernetes.io/metrics` annotation first, then
/// `targetCPUUtilizationPercentage` as a Resource cpu Utilization metric; with neither, the
/// default CPU utilization of 80 %. The metrics, current-metrics and conditions annotations are
/// removed (the last two carry status); every other field and annotation is kept. Errors are
/// (key, message).
fn v1_to_v2(v1: V1Manifest) -> Result<serde_norway::Value, (String, String)> {
    use serde_norway::Value;
    let mut metadata = v1.metadata;
    let mut metrics = Vec::new();
    if let Some(Value::Mapping(ann)) = metadata.get_mut("annotations") {
        if let Some(raw) = ann.shift_remove(V1_METRICS_ANNOTATION) {
            let text = raw.as_str().ok_or_else(|| {
                (
                    V1_METRICS_ANNOTATION.to_string(),
                    format!("metadata.annotations.{V1_METRICS_ANNOTATION}: expected a JSON string"),
                )
            })?;
            let list: Vec<V1MetricSpec> = serde_json::from_str(text).map_err(|e| {
                (
                    V1_METRICS_ANNOTATION.to_string(),
                    format!(
                        "metadata.annotations.{V1_METRICS_ANNOTATION}: found `{text}`, expected a JSON list of autoscaling/v1 MetricSpecs: {e}"
                    ),
                )
            })?;
            metrics.extend(list.into_iter().map(v1_metric));
        }
        ann.shift_remove(V1_CURRENT_METRICS_ANNOTATION);
        ann.shift_remove(V1_CONDITIONS_ANNOTATION);
        if ann.is_empty() {
            metadata.shift_remove("annotations");
        }
    }
    let cpu =
        v1.spec.target_cpu_utilization_percentage.or(metrics.is_empty().then_some(DEFAULT_CPU_UTILIZATION));
    if let Some(pct) = cpu {
        metrics.push(MetricSpec::resource_utilization("cpu", pct));
    }
    let spec = HpaSpec {
        scale_target_ref: Some(v1.spec.scale_target_ref),
        min_replicas: v1.spec.min_replicas,
        max_replicas: v1.spec.max_replicas,
        metrics,
        behavior: None,
    };
    let mut doc = serde_norway::Mapping::new();
    doc.insert("apiVersion".into(), "autoscaling/v2".into());
    doc.insert("kind".into(), "HorizontalPodAutoscaler".into());
    doc.insert("metadata".into(), Value::Mapping(metadata));
    let spec = serde_norway::to_value(&spec).map_err(|e| ("spec".to_string(), e.to_string()))?;
    doc.insert("spec".into(), spec);
    Ok(Value::Mapping(doc))
}

/// Writes `spec` as a `HorizontalPodAutoscaler` manifest (YAML) named `name`.
pub fn to_manifest(name: &str, spec: &HpaSpec) -> String {
    let m = HpaManifest {
        api_version: "autoscaling/v2".into(),
        kind: "HorizontalPodAutoscaler".into(),
        metadata: Metadata { name: name.into(), namespace: None },
        spec: spec.clone(),
    };
    serde_norway::to_string(&m).expect("an HPA manifest always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: prod
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 20
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
  - type: Resource
    resource: {name: memory, target: {type: AverageValue, averageValue: 100Mi}}
  - type: Pods
    pods:
      metric: {name: requests_per_second}
      target: {type: AverageValue, averageValue: "10"}
  - type: Object
    object:
      describedObject: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: main}
      metric: {name: requests_per_second}
      target: {type: Value, value: 2k}
  - type: External
    external:
      metric: {name: concurrency, selector: {matchLabels: {queue: q}}}
      target: {type: AverageValue, averageValue: 1.5}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      tolerance: 0.01
      policies: [{type: Percent, value: 900, periodSeconds: 60}]
    scaleDown:
      selectPolicy: Min
      policies: [{type: Pods, value: 1, periodSeconds: 60}]
"#;

    #[test]
    fn parses_a_full_manifest() {
        let m = parse_manifest(FULL, "web.yaml").unwrap();
        assert_eq!(m.metadata.name, "web");
        assert_eq!(m.spec.metrics.len(), 5);
        let b = m.spec.with_defaults().behavior.unwrap();
        let up = b.scale_up.unwrap();
        assert_eq!(up.select_policy, Some(SelectPolicy::Max));
        assert_eq!(up.tolerance.unwrap().milli(), 10);
        let down = b.scale_down.unwrap();
        assert_eq!(down.stabilization_window_seconds, None, "left to the controller flag");
        assert_eq!(down.select_policy, Some(SelectPolicy::Min));
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let m = parse_manifest(FULL, "web.yaml").unwrap();
        let text = to_manifest("web", &m.spec);
        let back = parse_manifest(&text, "out.yaml").unwrap();
        assert_eq!(back.spec, m.spec);
        let d = m.spec.with_defaults();
        let back = parse_manifest(&to_manifest("web", &d), "out.yaml").unwrap();
        assert_eq!(back.spec, d);
    }

    #[test]
    fn defaults_follow_defaults_go() {
        let s = HpaSpec { min_replicas: None, ..HpaSpec::new(1, 10) }.with_defaults();
        assert_eq!(s.min_replicas, Some(1));
        assert_eq!(s.metrics, vec![MetricSpec::resource_utilization("cpu", 80)]);
        assert!(s.behavior.is_none(), "no behavior defaults without behavior");
        let s = HpaSpec { behavior: Some(Behavior::default()), ..HpaSpec::new(1, 10) }.with_defaults();
        let b = s.behavior.unwrap();
        assert_eq!(b.scale_up.unwrap(), default_scale_up());
        assert_eq!(b.scale_down.unwrap(), default_scale_down());
    }

    #[test]
    fn wrong_kind_and_version_name_the_line() {
        let e =
            parse_manifest("apiVersion: autoscaling/v2\nkind: Deployment\nspec: {}\n", "x.yaml").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("x.yaml:2: kind: found `Deployment`"), "{e}");
        let e = parse_manifest("kind: HorizontalPodAutoscaler\napiVersion: autoscaling/v2beta1\n", "x.yaml")
            .unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("autoscaling/v2"));
    }

    #[test]
    fn validation_names_the_field() {
        let text = FULL.replace("periodSeconds: 60}]\n    scaleDown", "periodSeconds: 0}]\n    scaleDown");
        let e = parse_manifest(&text, "x.yaml").unwrap_err();
        assert!(
            e.message.contains("spec.behavior.scaleUp.policies[0].periodSeconds: found 0, expected 1..=1800"),
            "{e}"
        );
        let e = HpaSpec::new(5, 3).validate().unwrap_err();
        assert_eq!(e.field, "spec.maxReplicas");
        let mut s = HpaSpec::new(1, 3);
        s.metrics = vec![MetricSpec::resource_utilization("cpu", 0)];
        assert_eq!(s.validate().unwrap_err().field, "spec.metrics[0].resource.target.averageUtilization");
    }

    const V1: &str = r#"
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: prod
  annotations:
    keep: "me"
    autoscaling.alpha.kubernetes.io/metrics: '[{"type":"External","external":{"metricName":"queue","targetValue":"30"}},{"type":"Object","object":{"target":{"kind":"Ingress","name":"main","apiVersion":"networking.k8s.io/v1"},"metricName":"rps","targetValue":"2k","averageValue":"10"}},{"type":"Resource","resource":{"name":"memory","targetAverageValue":"100Mi"}}]'
    autoscaling.alpha.kubernetes.io/current-metrics: '[]'
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 20
  targetCPUUtilizationPercentage: 60
status:
  currentReplicas: 2
  desiredReplicas: 2
"#;

    #[test]
    fn v1_converts_as_the_api_server_does() {
        let (m, doc) = read_manifest(V1, "v1.yaml").unwrap();
        assert_eq!(doc["apiVersion"], serde_norway::Value::from("autoscaling/v2"));
        assert_eq!(m.metadata.namespace.as_deref(), Some("prod"));
        let ann = doc["metadata"]["annotations"].as_mapping().unwrap();
        assert_eq!(ann.len(), 1, "only the user's annotation is left: {ann:?}");
        let s = &m.spec;
        assert_eq!((s.min_replicas, s.max_replicas), (Some(2), 20));
        assert_eq!(s.scale_target_ref.as_ref().unwrap().name, "web");
        // The annotation's metrics first, then the CPU target.
        let kinds: Vec<_> = s.metrics.iter().map(|m| m.label()).collect();
        assert_eq!(kinds, ["External queue", "Object rps", "Resource memory", "Resource cpu"]);
        let ext = &s.metrics[0].external.as_ref().unwrap().target;
        assert_eq!((ext.kind, ext.value.as_ref().map(|q| q.milli())), (TargetType::Value, Some(30_000)));
        // Object: AverageValue when averageValue is set, value copied all the same.
        let obj = &s.metrics[1].object.as_ref().unwrap().target;
        assert_eq!(obj.kind, TargetType::AverageValue);
        assert_eq!(obj.value.as_ref().map(|q| q.milli()), Some(2_000_000));
        let mem = &s.metrics[2].resource.as_ref().unwrap().target;
        assert_eq!(mem.kind, TargetType::AverageValue);
        assert_eq!(s.metrics[3], MetricSpec::resource_utilization("cpu", 60));
        assert!(s.behavior.is_none());
        // Without any target: the default 80 % CPU.
        let plain = "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: w}\nspec:\n  scaleTargetRef: {kind: Deployment, name: w}\n  maxReplicas: 3\n";
        let m = parse_manifest(plain, "p.yaml").unwrap();
        assert_eq!(m.spec.metrics, vec![MetricSpec::resource_utilization("cpu", 80)]);
    }

    #[test]
    fn v1_errors_name_the_field() {
        let e = parse_manifest(&V1.replace("targetCPUUtilizationPercentage", "targetCPU"), "v1.yaml")
            .unwrap_err();
        assert!(e.message.contains("targetCPU"), "{e}");
        let e = parse_manifest(&V1.replace("\"metricName\":\"queue\",", ""), "v1.yaml").unwrap_err();
        assert!(e.message.contains(V1_METRICS_ANNOTATION) && e.message.contains("metricName"), "{e}");
        assert_eq!(e.line, Some(9), "{e}");
        let e = parse_manifest(&V1.replace("maxReplicas: 20", "maxReplicas: 1"), "v1.yaml").unwrap_err();
        assert!(e.message.contains("spec.maxReplicas"), "{e}");
    }

    #[test]
    fn unknown_fields_are_errors() {
        let text = FULL.replace("minReplicas: 2", "minReplica: 2");
        let e = parse_manifest(&text, "x.yaml").unwrap_err();
        assert!(e.message.contains("minReplica"), "{e}");
    }
}
