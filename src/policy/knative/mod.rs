//! Knative Serving's KPA (`kpa.autoscaling.knative.dev`), as Knative decides: the
//! configuration and its bounds ([`spec`]), the 1 s metric buckets ([`bucketing`]), the 2 s
//! decider with panic mode ([`decider`]), the PodAutoscaler reconciler with scale to zero
//! ([`reconciler`]), Knative `Service` manifests in and out ([`manifest`]) and
//! `scalesim explain kpa` ([`explain`]).
//!
//! How the simulation feeds it ([`Knative`]): the policy ticks every whole second. Each second
//! it "scrapes" the revision — the mean total concurrency (or the offered rps) over the last
//! second, read from [`Observation::metrics`], with requests held by the activator counted in
//! flight — and records it in the stable and panic buckets at that second, as Knative's
//! collector records each scrape at its scrape time. A scrape with no ready pod and nothing in
//! flight records nothing (Knative's scraper returns an empty stat then), so after a full stable
//! window of silence at zero pods the collector has no data and the decider's result is invalid
//! (the last desired scale stands). Every second second (2 s, `tickInterval`) the decider runs,
//! then the reconciler. A request held at zero replicas pokes the policy
//! ([`Policy::poke_on_demand`]): the activator's stat (the requests it holds) is recorded and
//! the decider and reconciler run at once, as Knative's `Poke` does.
//!
//! The activator: [`KnativePolicySpec::activator`] holds requests while no replica is ready, up
//! to the activator's per-revision queue depth (10 000, `breakerQueueDepth`), each for at most
//! the revision timeout (`timeoutSeconds`, 300 s by default).

pub mod bucketing;
pub mod decider;
pub mod explain;
pub mod manifest;
pub mod reconciler;
pub mod spec;

pub use decider::{Decider, DeciderSpec, ScaleResult};
pub use manifest::{ManifestError, parse_manifest, to_manifest};
pub use reconciler::{PaState, PodAutoscaler, Reconciled, ReconcilerSpec};
pub use spec::{KnativePolicySpec, KnativeSpecError, KpaMetric};

use super::{Decision, Observation, Policy};
use crate::time::{Clock, SECOND, Time};
use bucketing::TimedBuckets;

/// A running KPA: collector buckets, decider and PodAutoscaler for one revision.
#[derive(Debug, Clone)]
pub struct Knative {
    spec: KnativePolicySpec,
    stable: TimedBuckets,
    panic: TimedBuckets,
    decider: Decider,
    pa: PodAutoscaler,
    /// The last whole second scraped.
    last_scrape: Option<Time>,
    /// The decider's last valid (desired, excess burst capacity); `None` before any.
    last_valid: Option<(u32, i64)>,
}

impl Knative {
    /// A KPA created at time 0 with `ready` pods ready.
    pub fn new(spec: KnativePolicySpec, ready: u32) -> Knative {
        let rspec = ReconcilerSpec {
            min_scale: spec.min_scale,
            max_scale: spec.max_scale,
            initial_scale: spec.initial_scale,
            enable_scale_to_zero: spec.enable_scale_to_zero,
            stable_window: spec.stable_window,
            grace_period: spec.scale_to_zero_grace_period,
            pod_retention: spec.scale_to_zero_pod_retention,
            activation_timeout: spec.progress_deadline + spec::ACTIVATION_TIMEOUT_BUFFER,
            tbc_unlimited: spec.target_burst_capacity == -1.0,
        };
        Knative {
            stable: TimedBuckets::new(spec.stable_window, SECOND),
            panic: TimedBuckets::new(spec.panic_window(), SECOND),
            decider: Decider::new(spec.decider_spec(), ready, 0),
            pa: PodAutoscaler::new(rspec, ready, 0),
            spec,
            last_scrape: None,
            last_valid: None,
        }
    }

    fn record(&mut self, now: Time, value: f64) {
        self.stable.record(now, value);
        self.panic.record(now, value);
    }

    /// One decider tick followed by a reconcile.
    fn tick(&mut self, seen: &Observation) -> Decision {
        let now = seen.now;
        let ready = seen.ready;
        let no_data = self.stable.is_empty(now) && self.spec.target_burst_capacity != -1.0;
        let (stable, panic) = (self.stable.window_average(now), self.panic.window_average(now));
        let result = (!no_data).then(|| self.decider.scale(now, stable, panic, ready));
        if let Some(r) = &result {
            self.last_valid = Some((r.desired, r.excess_burst_capacity));
        }
        let (desired, ebc) = match self.last_valid {
            Some((d, e)) => (Some(d), e),
            None => (None, 0),
        };
        let rec = self.pa.reconcile(now, desired, ebc, ready);
        let metric = self.spec.metric.name();
        let metrics = if no_data {
            format!("{metric} no data ready={ready} buffered={}", seen.buffered)
        } else {
            format!(
                "{metric} stable={:.2} panic={:.2} ready={ready} ebc={ebc} buffered={}",
                stable.max(0.0),
                panic.max(0.0),
                seen.buffered
            )
        };
        let reason = match (rec.reason, &result) {
            (Some(r), _) => r,
            (None, Some(r)) => r.reason,
            (None, None) => "no data",
        };
        Decision {
            desired: rec.applied,
            reason: reason.to_string(),
            metrics: format!(
                "{metrics} pa={} sks={}",
                match self.pa.state() {
                    PaState::Active => "active",
                    PaState::Inactive => "inactive",
                    PaState::Activating => "activating",
                },
                if rec.proxy { "proxy" } else { "serve" }
            ),
            proposal: result.map(|r| if r.panicking { r.dspc.max(r.dppc) } else { r.dspc }),
            stabilized: result.map(|r| r.desired),
            limited: Some(rec.applied),
        }
    }
}

impl Policy for Knative {
    fn next_tick(&self, last: Option<Time>) -> Time {
        last.map_or(SECOND, |t| (t / SECOND + 1) * SECOND)
    }

    fn decide(&mut self, seen: &Observation) -> Option<Decision> {
        let now = seen.now;
        let poke = !now.is_multiple_of(SECOND) || self.last_scrape == Some(now);
        if poke {
            // The activator reports the requests it holds; Poke ticks the decider at once.
            if seen.buffered > 0 {
                self.record(now, seen.buffered as f64);
            }
            return Some(self.tick(seen));
        }
        self.last_scrape = Some(now);
        if let Some(w) = seen.metrics.window(SECOND) {
            let v = match self.spec.metric {
                KpaMetric::Concurrency => w.concurrency_total(),
                KpaMetric::Rps => w.rps(),
            };
            if seen.ready > 0 || seen.buffered > 0 || v > 0.0 {
                self.record(now, v.max(0.0));
            }
        }
        now.is_multiple_of(spec::TICK).then(|| self.tick(seen))
    }

    fn poke_on_demand(&self) -> bool {
        true
    }
}

impl KnativePolicySpec {
    /// A fresh KPA for one run, created with the initial scale ready at time 0.
    pub fn build(&self, _clock: &Clock, _horizon: Time) -> Box<dyn Policy> {
        Box::new(Knative::new(self.clone(), self.bounds().2))
    }

    /// A complete [`super::PolicySpec`] named `name` with this KPA's bounds and activator.
    pub fn policy_spec(&self, name: &str) -> super::PolicySpec {
        let (min, max, initial) = self.bounds();
        super::PolicySpec {
            name: name.to_string(),
            min,
            max,
            initial,
            kind: super::PolicyKind::Knative(self.clone()),
            activator: self.activator(),
        }
    }
}
