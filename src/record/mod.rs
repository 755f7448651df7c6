//! The recorder: per-interval aggregates and per-run summaries.
//!
//! The engine feeds the recorder events (arrivals, completions, failures, replica counts); the
//! recorder keeps constant memory per interval (counters and a latency histogram in HDR buckets,
//! [`histogram`]) and
//! hands the report a finished [`RunResult`]. Nothing here formats output. [`elasticity`] holds
//! the SPEC elasticity metrics, a pure function of a run's ready-replica curve and a demand
//! curve; the figures that compare a run with the oracle baseline (`cost_above_oracle_pct`, the
//! elasticity metrics) are filled in after the runs by `crate::oracle::attach`.

pub mod aggregate;
pub mod elasticity;
pub mod histogram;
pub mod llm;
mod recorder;
pub mod requests;

pub use elasticity::{DemandCurve, Elasticity, StepCurve};
pub use histogram::LatencyHistogram;
pub use recorder::{Gauges, Recorder};

use serde::{Deserialize, Serialize};

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailReason {
    /// The chosen replica's queue was at its limit.
    QueueFull = 0,
    /// Its latency would have exceeded the client timeout.
    Timeout = 1,
    /// No replica was ready to take it.
    NoReplica = 2,
    /// Its replica was shut down before it finished (termination grace period ran out).
    Terminated = 3,
    /// Its prompt is at least the LLM replica's `max_model_len` (refused before routing).
    TooLong = 4,
}

impl FailReason {
    /// How many reasons there are.
    pub const COUNT: usize = 5;

    /// The reasons every scenario reports, in column order.
    pub const ALL: [FailReason; 4] =
        [FailReason::QueueFull, FailReason::Timeout, FailReason::NoReplica, FailReason::Terminated];

    /// Every reason, in index order: [`FailReason::ALL`] and those only an LLM replica has.
    pub const EVERY: [FailReason; FailReason::COUNT] = [
        FailReason::QueueFull,
        FailReason::Timeout,
        FailReason::NoReplica,
        FailReason::Terminated,
        FailReason::TooLong,
    ];

    /// The name used in files.
    pub fn name(self) -> &'static str {
        match self {
            FailReason::QueueFull => "queue_full",
            FailReason::Timeout => "timeout",
            FailReason::NoReplica => "no_replica",
            FailReason::Terminated => "terminated",
            FailReason::TooLong => "too_long",
        }
    }
}

/// Failures counted by reason, indexed by `FailReason as usize`.
pub type FailCounts = [u64; FailReason::COUNT];

/// One recording interval of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalRow {
    /// Interval start, seconds since the simulation start.
    pub start_s: f64,
    /// Interval end, seconds since the simulation start.
    pub end_s: f64,
    /// Requests that arrived in the interval.
    pub arrived: u64,
    /// Arrivals per second.
    pub offered_rps: f64,
    /// Requests served (completed successfully) in the interval.
    pub served: u64,
    /// Requests failed in the interval, by reason.
    pub failed: FailCounts,
    /// Desired replicas at the interval end.
    pub desired: u32,
    /// Replicas starting at the interval end.
    pub starting: u32,
    /// Replicas ready (taking traffic) at the interval end.
    pub ready: u32,
    /// Fewest replicas ready at any instant of the interval (event resolution).
    pub ready_min: u32,
    /// Most replicas ready at any instant of the interval (event resolution).
    pub ready_max: u32,
    /// Replicas draining at the interval end.
    pub draining: u32,
    /// Mean latency of requests served in the interval, seconds.
    pub latency_mean_s: Option<f64>,
    /// Median latency of requests served in the interval, seconds.
    pub latency_p50_s: Option<f64>,
    /// 95th percentile latency of requests served in the interval, seconds.
    pub latency_p95_s: Option<f64>,
    /// 99th percentile latency of requests served in the interval, seconds.
    pub latency_p99_s: Option<f64>,
    /// Mean CPU utilisation of ready replicas (fraction of the request), if any were ready.
    pub cpu_utilization: Option<f64>,
    /// Replica-seconds billed in the interval (starting, ready and draining replicas).
    pub replica_seconds: f64,
    /// Cost from the start to the interval end.
    pub cost_cumulative: f64,
    /// Whether the interval violated the SLO.
    pub slo_violated: bool,
    /// Seconds of the interval during which the policy asked for its highest replica count
    /// (`None` for a policy whose min equals its max).
    pub at_max_s: Option<f64>,
    /// The LLM figures (LLM scenarios only).
    #[serde(default)]
    pub llm: Option<llm::LlmFigures>,
}

impl IntervalRow {
    /// Total failures in the interval.
    pub fn failed_total(&self) -> u64 {
        self.failed.iter().sum()
    }
}

/// Whole-run figures of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Requests that arrived.
    pub requests: u64,
    /// Requests served.
    pub served: u64,
    /// Requests failed.
    pub failed: u64,
    /// Failures by reason.
    pub failed_by_reason: FailCounts,
    /// Requests still queued or in service at the end.
    pub in_flight_at_end: u64,
    /// Mean latency of served requests, seconds.
    pub latency_mean_s: Option<f64>,
    /// Median latency of served requests, seconds.
    pub latency_p50_s: Option<f64>,
    /// 95th percentile latency, seconds.
    pub latency_p95_s: Option<f64>,
    /// 99th percentile latency, seconds.
    pub latency_p99_s: Option<f64>,
    /// Replica-seconds billed (from the scale-up decision until the replica is gone).
    pub replica_seconds: f64,
    /// Cost of those replica-seconds.
    pub cost: f64,
    /// Changes of the desired replica count.
    pub scaling_actions: u64,
    /// Most replicas billed at once (starting + ready + draining).
    pub peak_replicas: u32,
    /// Minutes (summed interval lengths) in which the SLO was violated.
    pub slo_violation_minutes: f64,
    /// Cost above the oracle baseline's cost in the same replication (same seed), as a
    /// percentage of it; `None` without an oracle run (see `crate::oracle::attach`).
    pub cost_above_oracle_pct: Option<f64>,
    /// Elasticity metrics of the ready replicas against the oracle's demand curve; `None`
    /// without an oracle in the scenario (see `crate::oracle::attach`).
    pub elasticity: Option<Elasticity>,
    /// Minutes during which the policy asked for its highest replica count (`None` for a policy
    /// whose min equals its max).
    pub time_at_max_minutes: Option<f64>,
    /// The LLM figures (LLM scenarios only).
    #[serde(default)]
    pub llm: Option<llm::LlmFigures>,
}

impl RunSummary {
    /// Failed requests as a percentage of arrivals.
    pub fn failed_pct(&self) -> f64 {
        if self.requests == 0 { 0.0 } else { 100.0 * self.failed as f64 / self.requests as f64 }
    }
}

/// One decision of a policy, with the steps that led to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRow {
    /// Seconds since the start.
    pub time_s: f64,
    /// Replicas asked for before the decision.
    pub current: u32,
    /// Ready replicas at the decision.
    pub ready: u32,
    /// The metric values the controller saw.
    pub metrics: String,
    /// Raw proposal (largest over metrics).
    pub proposal: Option<u32>,
    /// After stabilisation.
    pub stabilized: Option<u32>,
    /// After rate limits and bounds.
    pub limited: Option<u32>,
    /// Replicas asked for after it (final, clamped to [min, max]).
    pub desired: u32,
    /// The policy's reason.
    pub reason: String,
}

/// Everything one run produced (serialisable losslessly, for the parts of a sharded run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Policy name.
    pub policy: String,
    /// Replication index (0 for a single run).
    pub replication: u32,
    /// The seed this run used.
    pub seed: u64,
    /// Per-interval rows, in time order.
    pub intervals: Vec<IntervalRow>,
    /// Whole-run figures.
    pub summary: RunSummary,
    /// Every decision the policy made, in time order.
    pub decisions: Vec<DecisionRow>,
    /// Ready replicas (taking traffic) over the run, at every change: the supply curve of the
    /// elasticity metrics.
    pub ready_curve: StepCurve,
    /// The demand the policy planned for, if it has foresight (the oracle): the reference curve
    /// of the elasticity metrics, so they need no second pre-pass.
    pub foresight: Option<DemandCurve>,
    /// One row per request, in arrival order, when the run kept them (`run --requests`);
    /// empty otherwise.
    pub requests: Vec<requests::RequestRow>,
}
