//! The Kubernetes HorizontalPodAutoscaler (autoscaling/v2), decided exactly as the upstream
//! controller decides, with a simulated metrics pipeline in front of it.
//!
//! - [`quantity`]: Kubernetes quantities (`500m`, `100Mi`).
//! - [`spec`]: the HPA spec as users write it, its defaults and validation, manifests in/out.
//! - [`core`]: the pure decision (pre-checks, proposals, normalization) and controller state.
//! - `sim`: the [`Policy`](super::Policy) the engine runs: scrapes, lags, syncs.
//! - [`explain`]: one decision described in a file, reasoned step by step.

pub mod core;
pub mod explain;
pub mod quantity;
pub(crate) mod sim;
pub mod spec;

pub use self::core::{ControllerSettings, ControllerState, Outcome};
pub use quantity::Quantity;
pub use spec::{HpaManifest, HpaSpec, ManifestError, SpecError, parse_manifest, read_manifest, to_manifest};

use super::Policy;
use crate::time::{Clock, SECOND, Time};
use spec::MetricSourceType;
use std::collections::BTreeMap;

/// How metrics reach the controller in a simulation.
///
/// CPU goes through a metrics-server-like scrape: every `resolution` the pods' cumulative CPU
/// counters are read, each pod's usage is the counter's increase over the time since the
/// previous read (its sample window), stamped with the read time, and the sample becomes
/// visible to the HPA `cpu_delay` later. With the defaults (15 s resolution, as metrics-server's
/// `--metric-resolution`; 10 s delay for the kubelet/cAdvisor measurement) plus the 15 s sync,
/// the worst case from a load change to a decision is 15 (window) + 15 (wait for the next
/// scrape) + 10 + 15 (sync) = 55 s and the average about 30 s, the breakdown a SIG-autoscaling
/// maintainer gives in kubernetes/kubernetes#110317 (kubelet ~10 s + metrics-server ~30 s +
/// 15 s sync).
///
/// Custom (Pods) and External/Object metrics come from a Prometheus-adapter-like source,
/// refreshed every `custom_interval`; each refresh holds the value as of `refresh − custom_lag`
/// averaged over `custom_window` (like `rate(...[1m])`). Available names:
/// `requests_per_second` (offered requests per second) and `concurrency` (requests in flight).
/// As a Pods metric each ready pod reports the total divided by the ready pods (round-robin);
/// pods not ready have no sample (missing). As an Object or External metric the value is the
/// service total. Memory comes with the CPU scrape: each pod's working set at the scrape
/// (`service.memory`: base + per request in flight), against its memory request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsPipeline {
    /// metrics-server scrape interval (and so the CPU sample window), default 15 s.
    pub resolution: Time,
    /// Delay before a CPU sample is visible to the HPA, default 10 s.
    pub cpu_delay: Time,
    /// Phase of the scrapes, default 0.
    pub scrape_offset: Time,
    /// Custom/external metric refresh interval, default 30 s.
    pub custom_interval: Time,
    /// Age of the custom/external value at refresh, default 0 s.
    pub custom_lag: Time,
    /// Averaging window of the custom/external value, default 60 s.
    pub custom_window: Time,
}

impl Default for MetricsPipeline {
    fn default() -> Self {
        MetricsPipeline {
            resolution: 15 * SECOND,
            cpu_delay: 10 * SECOND,
            scrape_offset: 0,
            custom_interval: 30 * SECOND,
            custom_lag: 0,
            custom_window: 60 * SECOND,
        }
    }
}

/// Everything a simulation needs for one HPA: the spec and the controller around it.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaPolicySpec {
    /// The spec as written (defaults are applied when the controller is built); boxed to keep
    /// `PolicyKind` small.
    pub hpa: Box<HpaSpec>,
    /// Controller flags (tolerance, CPU initialization period, initial readiness delay,
    /// downscale stabilization).
    pub controller: ControllerSettings,
    /// `--horizontal-pod-autoscaler-sync-period`, default 15 s.
    pub sync_period: Time,
    /// When the first sync happens (phase of the 15 s loop), default 0.
    pub sync_offset: Time,
    /// Metric scrapes and lags.
    pub pipeline: MetricsPipeline,
    /// Custom metric names mapped onto the ones the simulation supplies ([`SUPPLIED_METRICS`]):
    /// the metric `http_requests_per_second` of a manifest reads `requests_per_second` when
    /// mapped so (the scenario's `metrics_map`).
    pub metrics_map: BTreeMap<String, String>,
    /// The manifest it was read from, written back by export (`None` when built in code).
    pub source: Option<super::ManifestSource>,
}

/// The Pods, Object and External metric names the simulation supplies.
pub const SUPPLIED_METRICS: [&str; 2] = ["requests_per_second", "concurrency"];
/// The Resource (and ContainerResource) metric names the simulation supplies.
pub const SUPPLIED_RESOURCES: [&str; 2] = ["cpu", "memory"];

impl HpaPolicySpec {
    /// A validated policy for `hpa` with controller and pipeline defaults.
    pub fn new(hpa: HpaSpec) -> Result<HpaPolicySpec, SpecError> {
        hpa.validate()?;
        Ok(HpaPolicySpec {
            hpa: Box::new(hpa),
            controller: ControllerSettings::default(),
            sync_period: 15 * SECOND,
            sync_offset: 0,
            pipeline: MetricsPipeline::default(),
            metrics_map: BTreeMap::new(),
            source: None,
        })
    }

    /// The first metric of the spec the simulation cannot supply (after `metrics_map`): its
    /// label and what is wrong, for an error that lists what is supplied.
    pub fn unsupplied_metric(&self) -> Option<(String, String)> {
        for m in &self.hpa.with_defaults().metrics {
            let (name, resource) = match m.kind {
                MetricSourceType::Resource => (m.resource.as_ref().map(|r| r.name.clone()), true),
                MetricSourceType::ContainerResource => {
                    (m.container_resource.as_ref().map(|r| r.name.clone()), true)
                }
                MetricSourceType::Pods => (m.pods.as_ref().map(|r| r.metric.name.clone()), false),
                MetricSourceType::Object => (m.object.as_ref().map(|r| r.metric.name.clone()), false),
                MetricSourceType::External => (m.external.as_ref().map(|r| r.metric.name.clone()), false),
            };
            let Some(name) = name else { continue };
            if resource {
                if !SUPPLIED_RESOURCES.contains(&name.as_str()) {
                    return Some((
                        m.label(),
                        format!("the simulation supplies the resources `cpu` and `memory`, not `{name}`"),
                    ));
                }
                continue;
            }
            let mapped = self.metrics_map.get(&name).unwrap_or(&name);
            if !SUPPLIED_METRICS.contains(&mapped.as_str()) {
                return Some((
                    m.label(),
                    format!(
                        "the simulation cannot supply the metric `{name}` (it supplies `requests_per_second`, \
                         offered requests per second, and `concurrency`, requests in flight); map it onto one \
                         with `metrics_map = {{ {name} = \"requests_per_second\" }}` in the policy"
                    ),
                ));
            }
        }
        None
    }

    /// A validated policy from a parsed manifest.
    pub fn from_manifest(m: &HpaManifest) -> Result<HpaPolicySpec, SpecError> {
        HpaPolicySpec::new(m.spec.clone())
    }

    /// The manifest of this policy (YAML), named `name`.
    pub fn to_manifest(&self, name: &str) -> String {
        to_manifest(name, &self.hpa)
    }

    /// A fresh controller for one run.
    pub fn build(&self, _clock: &Clock, _horizon: Time) -> Box<dyn Policy> {
        Box::new(sim::HpaController::new(self))
    }

    /// `(minReplicas, maxReplicas)`, defaulted.
    pub fn bounds(&self) -> (u32, u32) {
        (self.hpa.min().max(0) as u32, self.hpa.max_replicas.max(0) as u32)
    }
}
