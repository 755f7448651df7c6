//! The checked scenario: everything a run needs, typed and validated.
//!
//! The config layer builds a [`Scenario`] from a TOML file; tests and library users can build
//! one directly. Nothing in here reads files.

use crate::balancer::BalancerKind;
use crate::policy::{PolicyKind, PolicySpec};
use crate::service::ServiceModel;
use crate::time::{Clock, Time};
use crate::traffic::TrafficSpec;

/// A service-level objective: a latency percentile bound and an error-rate bound, checked per
/// recording interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// Which percentile is bounded (99 for p99), with the bound in seconds; `None` for no
    /// latency objective.
    pub latency: Option<(f64, f64)>,
    /// Highest acceptable fraction of failed requests (0.01 for 1 %); `None` for none.
    pub error_rate: Option<f64>,
}

/// What replicas cost.
#[derive(Debug, Clone, PartialEq)]
pub struct CostModel {
    /// Price of one replica for one hour.
    pub per_replica_hour: f64,
    /// Currency label (e.g. `USD`).
    pub currency: String,
}

/// A complete, checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name (output folder and chart titles).
    pub name: String,
    /// Simulated duration.
    pub duration: Time,
    /// Wall clock of simulated time 0.
    pub clock: Clock,
    /// Base seed.
    pub seed: u64,
    /// Length of one recording interval.
    pub record_interval: Time,
    /// Start-up transient `[0, warmup)` excluded from summary figures (0 for none).
    pub warmup: Time,
    /// Optional SLO.
    pub slo: Option<Slo>,
    /// Traffic.
    pub traffic: TrafficSpec,
    /// Replica model.
    pub service: ServiceModel,
    /// Load balancer.
    pub balancer: BalancerKind,
    /// Cost.
    pub cost: CostModel,
    /// Policies to compare (unique names).
    pub policies: Vec<PolicySpec>,
}

impl Scenario {
    /// The part of this scenario from `from` lasting `duration`, as a scenario of its own:
    /// the clock and the traffic are shifted ([`Clock::shifted`], [`TrafficSpec::shifted`]), so
    /// its time `t` is this scenario's `from + t` — the same rate curve, trace position, local
    /// time of day and cron windows — but it starts from the initial state (each policy's
    /// start: steady state at the rate at `from` by default, or its `initial`; empty queues)
    /// and its arrivals are drawn afresh from the seed.
    /// `from` is in whole seconds (a fraction is dropped).
    pub fn window(&self, from: Time, duration: Time) -> Scenario {
        let from = from - from % crate::time::SECOND;
        Scenario {
            duration,
            clock: self.clock.shifted(from),
            traffic: self.traffic.shifted(from),
            ..self.clone()
        }
    }

    /// The oracle baseline: the first policy of type `oracle`, if any. Reports measure
    /// `cost_above_oracle_pct` and the elasticity metrics against it (see `crate::oracle`).
    pub fn oracle(&self) -> Option<&PolicySpec> {
        self.policies.iter().find(|p| matches!(p.kind, PolicyKind::Oracle(_)))
    }
}
