//! The scenario file as written: serde types, one per table, unknown keys rejected — the
//! bottom of the building layers (it imports only `values`, never a builder).
//!
//! Tables are flat structs (every key of every variant is an `Option`), so serde can point at
//! the exact key of a mistake; which keys go with which `type` or `distribution` is checked
//! afterwards, by the builders, with the same precision. The `[traffic]` tables are in
//! [`traffic`], the keys of `type = "aws"` policies in [`aws`].

pub mod aws;
pub mod traffic;

use super::values::{Bytes, Dur, Fraction, Seconds};
use serde::Deserialize;
use std::collections::BTreeMap;
use traffic::TrafficConfig;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// `[simulation]`.
    pub simulation: RawSimulation,
    /// `[traffic]`.
    pub traffic: TrafficConfig,
    /// `[service]`.
    pub service: RawService,
    /// `[cost]`.
    #[serde(default)]
    pub cost: RawCost,
    /// `[[policy]]` entries.
    #[serde(default)]
    pub policy: Vec<RawPolicy>,
}

/// `[simulation]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    /// Scenario name.
    pub name: Option<String>,
    /// Simulated duration.
    pub duration: Dur,
    /// Local date-time of simulated time 0 (string or TOML local date-time).
    pub start: Option<toml::Value>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// Base seed.
    pub seed: Option<u64>,
    /// Recording interval.
    pub record_interval: Option<Dur>,
    /// Start-up transient excluded from summary figures.
    pub warmup: Option<Dur>,
    /// `[simulation.slo]`.
    pub slo: Option<RawSlo>,
    /// Where policies without their own `initial` start: `steady` (default) or `min`.
    pub initial: Option<RawInitial>,
}

/// `simulation.initial`: where a policy without its own `initial` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawInitial {
    /// Steady state at the traffic's rate at time 0.
    Steady,
    /// The policy's minimum.
    Min,
}

/// `[simulation.slo]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    /// Percentile bounded by `latency`.
    pub latency_percentile: Option<f64>,
    /// Latency bound.
    pub latency: Option<Dur>,
    /// Error-rate bound.
    pub error_rate: Option<Fraction>,
}

/// Load-balancing strategy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawBalancer {
    /// Round robin.
    RoundRobin,
    /// Uniform random.
    Random,
    /// Least outstanding requests.
    LeastOutstanding,
    /// Power of two choices.
    PowerOfTwo,
}

/// `[service]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// Workers per replica (required unless `[service.llm]`).
    pub workers: Option<u32>,
    /// Queue limit per replica.
    pub queue_limit: Option<u32>,
    /// Client timeout.
    pub timeout: Option<Dur>,
    /// Termination grace period.
    pub termination_grace: Option<Dur>,
    /// Load balancer.
    pub load_balancer: Option<RawBalancer>,
    /// `[service.demand]` (required unless `[service.llm]`).
    pub demand: Option<RawDist>,
    /// `[service.slowdown]`.
    pub slowdown: Option<RawSlowdown>,
    /// `[service.startup]`.
    pub startup: Option<RawStartup>,
    /// `[service.pending]`: time until the pod runs (same keys as startup).
    pub pending: Option<RawStartup>,
    /// `[service.overhead]`: latency outside the replica (same keys as startup).
    pub overhead: Option<RawStartup>,
    /// `[service.cpu]`.
    pub cpu: Option<RawCpu>,
    /// `[service.memory]`.
    pub memory: Option<RawMemory>,
    /// `[service.llm]`: an LLM replica (a vLLM-style step loop) instead of workers.
    pub llm: Option<RawLlm>,
}

/// `[service.llm]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLlm {
    /// A GPU of the bundled table (batch defaults).
    pub gpu: Option<String>,
    /// Requests running at once at most.
    pub max_num_seqs: Option<i64>,
    /// Tokens scheduled per step at most.
    pub max_num_batched_tokens: Option<i64>,
    /// Tokens per KV block.
    pub block_size: Option<i64>,
    /// Usable KV blocks.
    pub kv_blocks: Option<i64>,
    /// KV cache size in tokens as vLLM logs it.
    pub kv_tokens: Option<i64>,
    /// The longest sequence.
    pub max_model_len: Option<i64>,
    /// `[service.llm.step]`.
    pub step: Option<RawLlmStep>,
}

/// `[service.llm.step]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLlmStep {
    /// Fixed time per step.
    pub base: Option<Seconds>,
    /// Time per prefill token.
    pub prefill_token: Option<Seconds>,
    /// Time per decoding request.
    pub decode_token: Option<Seconds>,
    /// Time per token of context of a decoding request.
    pub context_token: Option<Seconds>,
}

/// Distribution names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistName {
    /// Exponential.
    Exponential,
    /// Constant.
    Deterministic,
    /// Log-normal.
    Lognormal,
    /// Gamma.
    Gamma,
    /// Uniform.
    Uniform,
    /// Resampled observations.
    Empirical,
    /// Linear in per-request sizes.
    Linear,
}

impl DistName {
    /// As written in files.
    pub fn name(self) -> &'static str {
        match self {
            DistName::Exponential => "exponential",
            DistName::Deterministic => "deterministic",
            DistName::Lognormal => "lognormal",
            DistName::Gamma => "gamma",
            DistName::Uniform => "uniform",
            DistName::Empirical => "empirical",
            DistName::Linear => "linear",
        }
    }
}

/// A distribution table (`[service.demand]`, `[service.startup]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDist {
    /// Which distribution.
    pub distribution: Option<DistName>,
    /// Mean.
    pub mean: Option<Seconds>,
    /// Constant value.
    pub value: Option<Seconds>,
    /// 99th percentile (log-normal).
    pub p99: Option<Seconds>,
    /// Sigma (log-normal).
    pub sigma: Option<f64>,
    /// Coefficient of variation (gamma).
    pub cv: Option<f64>,
    /// Shape (gamma).
    pub shape: Option<f64>,
    /// Scale (gamma).
    pub scale: Option<Seconds>,
    /// Lower bound (uniform).
    pub min: Option<Seconds>,
    /// Upper bound (uniform).
    pub max: Option<Seconds>,
    /// Observations (empirical).
    pub samples: Option<Vec<Seconds>>,
    /// Fixed part (linear).
    pub base: Option<Seconds>,
    /// Seconds per unit of each size column (linear).
    pub per: Option<BTreeMap<String, Seconds>>,
    /// Coefficient of variation of multiplicative noise (linear).
    pub noise: Option<f64>,
}

/// `[service.startup]`: the distribution keys without the `linear` ones. A separate struct
/// (rather than `RawDist` with `#[serde(flatten)]`) because flatten disables
/// `deny_unknown_fields`, and unknown keys must be errors.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStartup {
    /// Which distribution.
    pub distribution: Option<DistName>,
    /// Mean.
    pub mean: Option<Seconds>,
    /// Constant value.
    pub value: Option<Seconds>,
    /// 99th percentile (log-normal).
    pub p99: Option<Seconds>,
    /// Sigma (log-normal).
    pub sigma: Option<f64>,
    /// Coefficient of variation (gamma).
    pub cv: Option<f64>,
    /// Shape (gamma).
    pub shape: Option<f64>,
    /// Scale (gamma).
    pub scale: Option<Seconds>,
    /// Lower bound (uniform).
    pub min: Option<Seconds>,
    /// Upper bound (uniform).
    pub max: Option<Seconds>,
    /// Observations (empirical).
    pub samples: Option<Vec<Seconds>>,
}

impl From<RawStartup> for RawDist {
    fn from(s: RawStartup) -> RawDist {
        RawDist {
            distribution: s.distribution,
            mean: s.mean,
            value: s.value,
            p99: s.p99,
            sigma: s.sigma,
            cv: s.cv,
            shape: s.shape,
            scale: s.scale,
            min: s.min,
            max: s.max,
            samples: s.samples,
            base: None,
            per: None,
            noise: None,
        }
    }
}

/// `[service.slowdown]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlowdown {
    /// `[in_flight, factor]` points.
    pub points: Vec<(f64, f64)>,
}

/// `[service.cpu]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCpu {
    /// CPU request, cores.
    pub request: Option<f64>,
    /// Idle use, cores.
    pub idle: Option<f64>,
    /// CPU-seconds per request.
    pub per_request: Option<Seconds>,
    /// Cores per busy worker.
    pub per_busy_worker: Option<f64>,
    /// Cores an LLM replica's engine uses while a step runs.
    pub engine: Option<f64>,
}

/// `[service.memory]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMemory {
    /// Memory request.
    pub request: Option<Bytes>,
    /// Working set with nothing in flight.
    pub base: Option<Bytes>,
    /// Extra working set per request in flight.
    pub per_in_flight: Option<Bytes>,
}

/// `[cost]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    /// Price per replica-hour.
    pub per_replica_hour: Option<f64>,
    /// Currency label.
    pub currency: Option<String>,
}

/// Policy types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyType {
    /// Constant replicas.
    Fixed,
    /// Requests per second per replica.
    Rps,
    /// CPU utilisation.
    Cpu,
    /// In-flight requests per replica.
    Concurrency,
    /// Cron windows.
    Schedule,
    /// Several metrics and windows; the largest proposal wins.
    Autoscale,
    /// Knative Serving's KPA, from a Knative `Service` manifest.
    Knative,
    /// A Kubernetes HorizontalPodAutoscaler, from its manifest.
    Hpa,
    /// A KEDA ScaledObject, from its manifest.
    Keda,
    /// Platform-style settings (min_replicas, max_replicas, polling_interval, one metric) on KEDA.
    Platform,
    /// AWS target tracking, step scaling and scheduled actions (see `config::aws`).
    Aws,
    /// Perfect foresight of the arrivals (the cost baseline, see `crate::oracle`).
    Oracle,
}

impl PolicyType {
    /// As written in files.
    pub fn name(self) -> &'static str {
        match self {
            PolicyType::Fixed => "fixed",
            PolicyType::Rps => "rps",
            PolicyType::Cpu => "cpu",
            PolicyType::Concurrency => "concurrency",
            PolicyType::Schedule => "schedule",
            PolicyType::Autoscale => "autoscale",
            PolicyType::Knative => "knative",
            PolicyType::Hpa => "hpa",
            PolicyType::Keda => "keda",
            PolicyType::Platform => "platform",
            PolicyType::Aws => "aws",
            PolicyType::Oracle => "oracle",
        }
    }
}

/// One `[[policy]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Unique name.
    pub name: String,
    /// Policy type.
    #[serde(rename = "type")]
    pub kind: PolicyType,
    /// Replicas (fixed).
    pub replicas: Option<u32>,
    /// Lower bound.
    pub min: Option<u32>,
    /// Upper bound.
    pub max: Option<u32>,
    /// Replicas at time 0.
    pub initial: Option<u32>,
    /// Decision interval.
    pub interval: Option<Dur>,
    /// Scale-down stabilisation window.
    pub scale_down_stabilization: Option<Dur>,
    /// Scale-up stabilisation window.
    pub scale_up_stabilization: Option<Dur>,
    /// Target (rps, cpu, concurrency).
    pub target: Option<f64>,
    /// Averaging window (rps, cpu, concurrency).
    pub window: Option<Dur>,
    /// Tolerance (cpu).
    pub tolerance: Option<f64>,
    /// Cron windows (schedule, autoscale).
    pub windows: Option<Vec<RawWindow>>,
    /// Metric rules (autoscale).
    pub metrics: Option<Vec<RawMetric>>,
    /// Manifest file (hpa, keda, knative), relative to the scenario file.
    pub manifest: Option<String>,
    /// Hold requests while no replica is ready (any autoscaling type).
    pub activator: Option<RawActivator>,
    /// Kubernetes controller and metrics-pipeline settings (hpa, keda, platform).
    pub controller: Option<RawController>,
    /// A merge patch of the manifest (hpa, keda, knative; see `config::manifest_edit`).
    pub patch: Option<toml::Table>,
    /// Knative annotations to set (`window` means `autoscaling.knative.dev/window`).
    pub annotations: Option<toml::Table>,
    /// Custom metric names of an HPA manifest mapped onto the metrics the simulation supplies
    /// (hpa): `{ http_requests_per_second = "requests_per_second" }`.
    pub metrics_map: Option<BTreeMap<String, String>>,
    // ---- type = "platform" (mapped onto a KEDA ScaledObject in config/families.rs) ----
    /// Fewest replicas (platform).
    pub min_replicas: Option<u32>,
    /// Most replicas (platform).
    pub max_replicas: Option<u32>,
    /// KEDA polling interval (platform).
    pub polling_interval: Option<Dur>,
    /// KEDA cooldown period (platform).
    pub cooldown_period: Option<Dur>,
    /// The one metric (platform).
    pub metric: Option<RawPlatformMetric>,
    // ---- type = "aws" (serde types in config/raw/aws.rs, checks in config/aws.rs) ----
    /// `DefaultInstanceWarmup` (aws).
    pub instance_warmup: Option<Dur>,
    /// Delay of scheduled actions (aws).
    pub scheduled_delay: Option<Dur>,
    /// Target-tracking policies (aws).
    pub target_tracking: Option<Vec<aws::RawTargetTracking>>,
    /// Step-scaling policies (aws).
    pub step_scaling: Option<Vec<aws::RawStepScaling>>,
    /// Scheduled actions (aws).
    pub scheduled_actions: Option<Vec<aws::RawScheduledAction>>,
    // ---- type = "oracle" ----
    /// Requests per second one replica serves within the SLO (oracle).
    pub capacity: Option<f64>,
    /// How long ahead of an interval its replicas are requested (oracle).
    pub lead: Option<Dur>,
}

/// Metric rule types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricType {
    /// Requests per second per replica.
    Rps,
    /// CPU utilisation, percent.
    Cpu,
    /// In-flight requests per replica.
    Concurrency,
}

/// One entry of `metrics = [...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMetric {
    /// Which metric.
    #[serde(rename = "type")]
    pub kind: MetricType,
    /// Target per replica (percent for cpu).
    pub target: f64,
    /// Averaging window.
    pub window: Option<Dur>,
    /// Tolerance (cpu only).
    pub tolerance: Option<f64>,
}

/// One entry of `windows = [...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    /// Cron expression of the start.
    pub start: String,
    /// Cron expression of the end.
    pub end: String,
    /// Replicas inside the window.
    pub replicas: u32,
    /// IANA time zone of the expressions.
    pub timezone: Option<String>,
}

/// `activator = { capacity = …, max_wait = … }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawActivator {
    /// Requests held at most.
    pub capacity: Option<u32>,
    /// Longest a request waits for a ready replica.
    pub max_wait: Option<Dur>,
}

/// Platform metric types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformMetricType {
    /// Percent of the CPU request, averaged over replicas.
    CpuUtilization,
    /// Requests per second per replica.
    Rps,
    /// A cron window.
    Cron,
}

/// `metric = { type = …, … }` of a platform policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlatformMetric {
    /// Which metric.
    #[serde(rename = "type")]
    pub kind: PlatformMetricType,
    /// Target (cpu_utilization: percent; rps: requests/s per replica).
    pub value: Option<f64>,
    /// Cron start.
    pub start: Option<String>,
    /// Cron end.
    pub end: Option<String>,
    /// Cron time zone (default UTC).
    pub timezone: Option<String>,
    /// Replicas inside the window (default max_replicas).
    pub desired_replicas: Option<u32>,
}

/// `controller = { … }`: the kube-controller-manager flags and metrics pipeline of an HPA (also
/// the HPA under KEDA).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawController {
    /// `--horizontal-pod-autoscaler-sync-period`.
    pub sync_period: Option<Dur>,
    /// Phase of the sync loop.
    pub sync_offset: Option<Dur>,
    /// `--horizontal-pod-autoscaler-tolerance`.
    pub tolerance: Option<f64>,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period`.
    pub cpu_initialization_period: Option<Dur>,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay`.
    pub initial_readiness_delay: Option<Dur>,
    /// `--horizontal-pod-autoscaler-downscale-stabilization`.
    pub downscale_stabilization: Option<Dur>,
    /// metrics-server resolution (scrape interval and CPU window).
    pub metrics_resolution: Option<Dur>,
    /// Delay before a CPU sample reaches the HPA.
    pub metrics_delay: Option<Dur>,
    /// Custom/external metrics refresh interval.
    pub custom_metrics_interval: Option<Dur>,
    /// Age of a custom/external value when refreshed.
    pub custom_metrics_lag: Option<Dur>,
    /// Averaging window of custom/external values.
    pub custom_metrics_window: Option<Dur>,
}
