//! Autoscaling policies: pure decision functions behind one trait.
//!
//! A [`Policy`] sees an [`Observation`] (the replica counts and windowed metrics a real
//! controller would see) every `interval` and returns a [`Decision`]: the desired replica count
//! and a short reason. It never reaches into the engine, so the same code runs in simulations and
//! in unit tests with hand-made observations. New policy families (Kubernetes HPA, KEDA, Knative,
//! AWS) are new implementations of [`Policy`] plus a [`PolicyKind`] variant; the engine does not
//! change.

mod basic;
mod schedule;

pub use basic::{Basic, BasicSpec, MetricRule};
pub use schedule::{CronWindow, Schedule, ScheduleError};

use crate::metrics::MetricsView;
use crate::time::{Clock, Time};

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
}

/// A policy's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Desired replicas (the engine clamps to the policy's [min, max] as a safeguard).
    pub desired: u32,
    /// Why, briefly (for logs and explanations).
    pub reason: String,
}

/// An autoscaling controller.
pub trait Policy: Send {
    /// Time between decisions; the first decision is at `interval()` after the start.
    fn interval(&self) -> Time;
    /// Decides the desired replica count.
    fn decide(&mut self, seen: &Observation) -> Decision;
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
    /// Replicas ready at time 0.
    pub initial: u32,
    /// The decision rule.
    pub kind: PolicyKind,
}

/// The decision rule of a policy.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyKind {
    /// Always the same number of replicas.
    Fixed,
    /// Metric targets and schedules; desired is the largest proposal.
    Basic(BasicSpec),
}

impl PolicySpec {
    /// A fixed policy of `n` replicas.
    pub fn fixed(name: &str, n: u32) -> PolicySpec {
        PolicySpec { name: name.to_string(), min: n, max: n, initial: n, kind: PolicyKind::Fixed }
    }

    /// The policy family, as written in scenario files.
    pub fn family(&self) -> &'static str {
        match &self.kind {
            PolicyKind::Fixed => "fixed",
            PolicyKind::Basic(b) => b.family(),
        }
    }

    /// A fresh controller for one run.
    pub fn build(&self, clock: &Clock, horizon: Time) -> Box<dyn Policy> {
        match &self.kind {
            PolicyKind::Fixed => Box::new(Fixed { n: self.min }),
            PolicyKind::Basic(b) => Box::new(Basic::new(b.clone(), self.min, self.max, clock, horizon)),
        }
    }
}

/// A constant replica count.
#[derive(Debug, Clone)]
pub struct Fixed {
    n: u32,
}

impl Policy for Fixed {
    fn interval(&self) -> Time {
        // Never changes its mind; a long interval keeps the engine idle.
        3600 * crate::time::SECOND
    }

    fn decide(&mut self, _seen: &Observation) -> Decision {
        Decision { desired: self.n, reason: "fixed".into() }
    }
}
