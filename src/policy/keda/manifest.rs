//! KEDA `ScaledObject` manifests (keda.sh/v1alpha1) as users write them, and the
//! platform-style settings (`min_replicas`, `max_replicas`, `polling_interval`, a metric of
//! `cpu_utilization`, `rps` or `cron`) that sit on ScaledObjects.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A `ScaledObject` document.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaledObject {
    /// `keda.sh/v1alpha1`.
    pub api_version: String,
    /// `ScaledObject`.
    pub kind: String,
    /// Name and labels.
    pub metadata: Metadata,
    /// The spec.
    pub spec: ScaledObjectSpec,
}

/// `metadata` (only the fields scalesim reads; others are kept out by design).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations (e.g. `autoscaling.keda.sh/paused`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// `spec` of a ScaledObject.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScaledObjectSpec {
    /// The workload scaled.
    pub scale_target_ref: ScaleTargetRef,
    /// Seconds between KEDA's polls (default 30).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polling_interval: Option<u64>,
    /// Seconds after the last active poll before scaling to idle/zero (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_period: Option<u64>,
    /// Seconds after creation before the first scale-in when never active (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_cooldown_period: Option<u64>,
    /// Replicas when every trigger is inactive (must be below minReplicaCount).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_replica_count: Option<u32>,
    /// Minimum replicas (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replica_count: Option<u32>,
    /// Maximum replicas (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replica_count: Option<u32>,
    /// `advanced` settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced: Option<Advanced>,
    /// Fallback (parsed for completeness; scalers never fail in the simulation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<serde_norway::Value>,
    /// The triggers.
    pub triggers: Vec<Trigger>,
}

/// `scaleTargetRef`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleTargetRef {
    /// Target API version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Target kind (default Deployment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Target name.
    pub name: String,
}

/// `advanced`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Advanced {
    /// `horizontalPodAutoscalerConfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizontal_pod_autoscaler_config: Option<HpaConfig>,
    /// `restoreToOriginalReplicaCount` (no effect in a simulation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_to_original_replica_count: Option<bool>,
}

/// `advanced.horizontalPodAutoscalerConfig`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaConfig {
    /// Name of the HPA KEDA creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The HPA `behavior`, copied verbatim into the HPA KEDA creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<serde_norway::Value>,
}

/// One trigger.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Trigger {
    /// Scaler type: `cpu`, `prometheus`, `cron` are simulated.
    #[serde(rename = "type")]
    pub kind: String,
    /// Optional trigger name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Value`, `AverageValue` (default) or `Utilization` (cpu).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<String>,
    /// Scaler metadata (all values strings, as KEDA takes them).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Serve HPA queries from the last poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_cached_metrics: Option<bool>,
    /// `authenticationRef` (a TriggerAuthentication; kept, the simulation needs no credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_ref: Option<serde_norway::Value>,
}
