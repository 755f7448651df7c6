//! Autoscaling policies: pure decision functions behind one trait.
//!
//! A [`Policy`] sees an [`Observation`] (the replica counts and windowed metrics a real
//! controller would see) every `interval` and returns a [`Decision`]: the desired replica count
//! and a short reason. It never reaches into the engine, so the same code runs in simulations and
//! in unit tests with hand-made observations. New policy families (Kubernetes HPA, KEDA, Knative,
//! AWS) are new implementations of [`Policy`] plus a [`PolicyKind`] variant; the engine does not
//! change.

pub mod aws;
mod basic;
pub mod export;
pub mod hpa;
pub mod keda;
pub mod knative;
pub mod oracle;
mod schedule;
pub mod steady;

pub use aws::AwsPolicySpec;
pub use basic::{Basic, BasicSpec, MetricRule};
pub use export::{ExportError, ExportOptions, Exported, ManifestSource};
pub use oracle::{Oracle, OraclePlan, OracleSpec};
pub use schedule::{CronWindow, Schedule, ScheduleError};
pub use steady::SteadyState;

use crate::metrics::MetricsView;
use crate::service::Demand;
use crate::time::{Clock, Time};
use crate::traffic::TrafficSpec;

/// A pod's phase, as Kubernetes reports it (the phases the simulation produces).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    /// Requested, not started yet (scheduling, image pull).
    Pending,
    /// Started (containers running), ready or not.
    Running,
}

/// One replica as the Kubernetes API and metrics pipeline show it to a controller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodView {
    /// Stable identifier (creation order).
    pub id: u32,
    /// Phase.
    pub phase: PodPhase,
    /// The Ready condition.
    pub ready: bool,
    /// Being deleted (draining): controllers ignore it.
    pub deleting: bool,
    /// When the replica was requested.
    pub requested_at: Time,
    /// When it started running (`status.startTime`), if it has.
    pub start_time: Option<Time>,
    /// Last transition of the Ready condition (to ready, or creation if never ready).
    pub ready_transition: Time,
    /// CPU request, cores.
    pub cpu_request: f64,
    /// CPU-seconds used since it started, a cumulative counter like cAdvisor's
    /// `container_cpu_usage_seconds_total`; metric pipelines difference it over their windows.
    /// NaN for a policy that does not read it ([`Policy::reads_pod_cpu`]).
    pub cpu_seconds: f64,
    /// Requests in service or queued on it now.
    pub in_flight: u32,
    /// Memory working set now, bytes.
    pub memory_bytes: f64,
    /// Memory request, bytes.
    pub memory_request: f64,
}

/// What a controller sees at one decision.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// Simulated time of the decision.
    pub now: Time,
    /// The scenario's clock (for schedules).
    pub clock: &'a Clock,
    /// Replicas the controller currently asks for (starting + ready, not draining).
    pub current: u32,
    /// Ready replicas taking traffic.
    pub ready: u32,
    /// Replicas requested but not ready yet.
    pub starting: u32,
    /// Replicas draining (leaving).
    pub draining: u32,
    /// Windowed metrics.
    pub metrics: MetricsView<'a>,
    /// Every replica that exists (pending, running, draining), in creation order.
    pub pods: &'a [PodView],
    /// Requests held by an activator-like buffer while no replica is ready.
    pub buffered: u32,
}

/// A policy's answer, with the steps that led to it (for the decision log).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decision {
    /// Desired replicas (the engine clamps to the policy's [min, max] as a safeguard).
    pub desired: u32,
    /// Why, briefly: `within tolerance`, `ScaleUpLimit`, `stabilized`, `panic`, `cooldown`, …
    pub reason: String,
    /// The metric values the controller saw, e.g. `cpu=72% rps=95.1`.
    pub metrics: String,
    /// The raw proposal (largest over metrics), before stabilisation and limits.
    pub proposal: Option<u32>,
    /// After stabilisation.
    pub stabilized: Option<u32>,
    /// After rate limits and bounds.
    pub limited: Option<u32>,
}

impl Decision {
    /// A decision with only a count and a reason.
    pub fn new(desired: u32, reason: impl Into<String>) -> Decision {
        Decision { desired, reason: reason.into(), ..Decision::default() }
    }
}

/// A decision's full account, for `scalesim explain decision`: the reasoning step by step,
/// the state it was made from (pods as seen, windows, stored recommendations, datapoints) as
/// JSON, and, where a case-file format exists (`explain hpa`, `explain kpa`), the equivalent
/// case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Explanation {
    /// The reasoning, one line a step.
    pub steps: Vec<String>,
    /// What the decision was made from, family-specific (an object).
    pub detail: serde_json::Value,
    /// The equivalent `explain hpa` or `explain kpa` case, if the family has one.
    pub case: Option<ExplainCase>,
}

/// A case file for `scalesim explain hpa|kpa`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainCase {
    /// `hpa` or `kpa`: the `explain` subcommand that reads it.
    pub kind: &'static str,
    /// The case (written as JSON, which both readers accept).
    pub body: serde_json::Value,
}

impl Explanation {
    /// The generic account of a decision: its logged fields as steps (policies with nothing
    /// more to say).
    pub fn from_decision(d: &Decision) -> Explanation {
        let mut steps = Vec::new();
        if !d.metrics.is_empty() {
            steps.push(format!("metrics seen: {}", d.metrics));
        }
        let opt = |v: Option<u32>| v.map_or("-".to_string(), |v| v.to_string());
        steps.push(format!(
            "proposal {}, stabilized {}, limited {}",
            opt(d.proposal),
            opt(d.stabilized),
            opt(d.limited)
        ));
        steps.push(format!("desired {} ({})", d.desired, d.reason));
        Explanation { steps, detail: serde_json::json!({}), case: None }
    }
}

/// An autoscaling controller.
pub trait Policy: Send {
    /// When to decide next: the first decision time when `last` is `None` (it may be 0),
    /// otherwise a time strictly after `last`.
    fn next_tick(&self, last: Option<Time>) -> Time;
    /// Looks at the service and decides the desired replica count, or returns `None` when this
    /// tick only observes (e.g. a metrics scrape between two decisions).
    fn decide(&mut self, seen: &Observation) -> Option<Decision>;
    /// Whether the policy reads its pods' CPU seconds ([`PodView::cpu_seconds`]). The engine
    /// integrates each replica's CPU at every request start and end only for a policy that does;
    /// for one that does not, the field is NaN. Default: yes (a family that never looks at its
    /// pods' CPU says no and saves that work).
    fn reads_pod_cpu(&self) -> bool {
        true
    }
    /// Whether a request held at zero ready replicas should trigger an immediate decision
    /// (Knative's "poke"). Default: no.
    fn poke_on_demand(&self) -> bool {
        false
    }
    /// Called once before the first tick of a run that will be explained (`explain decision`):
    /// a family whose case needs history (Knative's decider ticks) starts keeping it. Never
    /// called in ordinary runs. Default: nothing.
    fn prepare_explain(&mut self) {}
    /// [`decide`](Policy::decide), also returning the account of the decision. It must decide
    /// exactly as `decide` would. The default explains from the decision's logged fields.
    fn explain(&mut self, seen: &Observation) -> Option<(Decision, Explanation)> {
        let d = self.decide(seen)?;
        let e = Explanation::from_decision(&d);
        Some((d, e))
    }
    /// Starts the run in steady state (`simulation.initial = "steady"`): returns the count the
    /// policy decides on the noiseless observation `steady` with every replica ready (a fixed
    /// point for metrics that depend on the count, see [`SteadyState::settle`]), before the
    /// engine's clamp to [`min`, `max`], and pre-fills the policy's own windows (stored
    /// recommendations, scrapes, buckets, datapoints) as if it had run at that count for ever.
    /// Called once, before the first tick, only for such runs. Default: `None`, no steady state
    /// (fixed, oracle): the run starts at the policy's `initial`.
    fn start_steady(&mut self, steady: &SteadyState, min: u32, max: u32) -> Option<u32> {
        let _ = (steady, min, max);
        None
    }
    /// The demand a policy with foresight planned for (the oracle's replicas per interval),
    /// reported with the run's result as the reference of the elasticity metrics. Default:
    /// none (a policy that only observes has no such curve).
    fn foresight(&self) -> Option<crate::record::DemandCurve> {
        None
    }
}

/// The run a controller is built for. Controllers only observe the service while it runs; the
/// one exception is the [`Oracle`], whose foresight is a pre-pass over this run's own arrivals
/// (`traffic` with `seed`), so it alone reads `traffic`, `seed` and `demand`.
#[derive(Debug, Clone, Copy)]
pub struct RunContext<'a> {
    /// The scenario's clock.
    pub clock: &'a Clock,
    /// End of the run.
    pub horizon: Time,
    /// The run's seed (its arrivals are `traffic.source(seed, clock, horizon)`).
    pub seed: u64,
    /// The run's traffic.
    pub traffic: &'a TrafficSpec,
    /// The service's per-request demand model.
    pub demand: &'a Demand,
}

/// The next periodic tick: `interval` after `last`, or the first one at `interval`.
pub fn periodic(last: Option<Time>, interval: Time) -> Time {
    let i = interval.max(1);
    last.map_or(i, |t| t + i)
}

/// The checked description of one policy in a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySpec {
    /// Unique name (column and legend label).
    pub name: String,
    /// Lower bound on replicas.
    pub min: u32,
    /// Upper bound on replicas.
    pub max: u32,
    /// Replicas ready at time 0 when [`start`](PolicySpec::start) is not `Steady` (its
    /// `initial`, or `min`); the fallback of a family without a steady state.
    pub initial: u32,
    /// Where the run starts: the given `initial`, `min`, or the policy's steady state at the
    /// traffic's rate at time 0 (`simulation.initial`).
    pub start: Start,
    /// The decision rule.
    pub kind: PolicyKind,
    /// Hold requests that arrive while no replica is ready (instead of failing them as
    /// `no_replica`), as Knative's activator does.
    pub activator: Option<ActivatorBuffer>,
}

/// Where a policy's run starts (`policy[].initial`, else `simulation.initial`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The policy's own `initial` (given in the scenario or its manifest; also policies built
    /// in code).
    Given,
    /// Its minimum (`simulation.initial = "min"`): `initial` holds it.
    Min,
    /// Steady state (`simulation.initial = "steady"`, the default): the policy's own decision
    /// on a noiseless observation of the rate at time 0 with every replica ready, its windows
    /// pre-filled with it ([`Policy::start_steady`], [`steady`]).
    Steady,
}

/// An activator-like buffer in front of the replicas, used while none is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActivatorBuffer {
    /// Requests it holds at most; more fail as `no_replica`.
    pub capacity: u32,
    /// Longest a request waits for a ready replica before failing as `no_replica`.
    pub max_wait: Time,
}

/// The decision rule of a policy.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyKind {
    /// Always the same number of replicas.
    Fixed,
    /// Metric targets and schedules; desired is the largest proposal.
    Basic(BasicSpec),
    /// A Kubernetes HorizontalPodAutoscaler (autoscaling/v2).
    Hpa(hpa::HpaPolicySpec),
    /// Knative Serving's KPA, with its activator and scale to zero.
    Knative(knative::KnativePolicySpec),
    /// A KEDA ScaledObject: KEDA's polling loop over the HPA it creates.
    Keda(Box<keda::KedaPolicySpec>),
    /// AWS target tracking, step scaling and scheduled actions (family `aws`).
    Aws(AwsPolicySpec),
    /// Perfect foresight of the arrivals: the fewest replicas that meet the SLO, started in
    /// time (family `oracle`, the cost baseline).
    Oracle(OracleSpec),
}

impl PolicySpec {
    /// A fixed policy of `n` replicas.
    pub fn fixed(name: &str, n: u32) -> PolicySpec {
        PolicySpec {
            name: name.to_string(),
            min: n,
            max: n,
            initial: n,
            start: Start::Given,
            kind: PolicyKind::Fixed,
            activator: None,
        }
    }

    /// The policy family, as written in scenario files.
    pub fn family(&self) -> &'static str {
        match &self.kind {
            PolicyKind::Fixed => "fixed",
            PolicyKind::Basic(b) => b.family(),
            PolicyKind::Hpa(_) => "hpa",
            PolicyKind::Knative(_) => "knative",
            PolicyKind::Keda(_) => "keda",
            PolicyKind::Aws(_) => "aws",
            PolicyKind::Oracle(_) => "oracle",
        }
    }

    /// How often the policy decides a replica count: a basic policy's `interval`, the HPA's sync
    /// period (also under keda and platform, whose polls only activate), Knative's 2 s tick,
    /// AWS's 60 s datapoints, the oracle's demand interval; `None` for a fixed policy.
    pub fn decision_interval(&self) -> Option<Time> {
        match &self.kind {
            PolicyKind::Fixed => None,
            PolicyKind::Basic(b) => Some(b.interval),
            PolicyKind::Hpa(h) => Some(h.sync_period),
            PolicyKind::Keda(k) => Some(k.hpa.sync_period),
            PolicyKind::Knative(_) => Some(knative::spec::TICK),
            PolicyKind::Aws(_) => Some(60 * crate::time::SECOND),
            PolicyKind::Oracle(o) => Some(o.interval),
        }
    }

    /// A fresh controller for one run.
    pub fn build(&self, run: &RunContext) -> Box<dyn Policy> {
        let (clock, horizon) = (run.clock, run.horizon);
        match &self.kind {
            PolicyKind::Fixed => Box::new(Fixed { n: self.min }),
            PolicyKind::Basic(b) => Box::new(Basic::new(b.clone(), self.min, self.max, clock, horizon)),
            PolicyKind::Hpa(h) => h.build(clock, horizon),
            PolicyKind::Knative(k) => k.build(clock, horizon),
            PolicyKind::Keda(k) => k.build(clock, horizon),
            PolicyKind::Aws(a) => a.build(clock, horizon),
            PolicyKind::Oracle(o) => {
                Box::new(Oracle::new(OraclePlan::compute(o, self.min, self.max, run, Time::MAX)))
            }
        }
    }
}

/// `name` as a valid Kubernetes object name (RFC 1123 subdomain): lower case, characters other
/// than letters, digits, `-` and `.` replaced by `-`, trimmed to 253 characters.
pub fn k8s_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '-' })
        .take(253)
        .collect();
    while s.ends_with(['-', '.']) {
        s.pop();
    }
    while s.starts_with(['-', '.']) {
        s.remove(0);
    }
    if s.is_empty() { "scalesim".to_string() } else { s }
}

/// A constant replica count.
#[derive(Debug, Clone)]
pub struct Fixed {
    n: u32,
}

impl Policy for Fixed {
    fn next_tick(&self, last: Option<Time>) -> Time {
        // Never changes its mind; a long interval keeps the engine idle.
        periodic(last, 3600 * crate::time::SECOND)
    }

    fn reads_pod_cpu(&self) -> bool {
        false
    }

    fn decide(&mut self, _seen: &Observation) -> Option<Decision> {
        Some(Decision::new(self.n, "fixed"))
    }
}
