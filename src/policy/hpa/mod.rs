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
pub use spec::{HpaManifest, HpaSpec, ManifestError, SpecError, parse_manifest, to_manifest};

use super::Policy;
use crate::time::{Clock, SECOND, Time};

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
}

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
        })
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
