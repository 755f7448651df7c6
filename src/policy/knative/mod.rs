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

use super::{Decision, ExplainCase, Explanation, Observation, Policy, SteadyState};
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
    /// Every decider tick's inputs (time, stable, panic, ready), kept only when a decision is
    /// to be explained (`explain decision --case` writes them as an `explain kpa` case).
    ticks: Option<Vec<(Time, f64, f64, u32)>>,
    /// Ready pods when the KPA was created.
    initial_ready: u32,
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
            ticks: None,
            initial_ready: ready,
        }
    }

    fn record(&mut self, now: Time, value: f64) {
        self.stable.record(now, value);
        self.panic.record(now, value);
    }

    /// One decider tick followed by a reconcile; with `explain`, its account too.
    fn tick(&mut self, seen: &Observation, explain: bool) -> (Decision, Option<Explanation>) {
        let now = seen.now;
        let ready = seen.ready;
        let no_data = self.stable.is_empty(now) && self.spec.target_burst_capacity != -1.0;
        let (stable, panic) = (self.stable.window_average(now), self.panic.window_average(now));
        let before = explain.then(|| self.decider.clone());
        let result = (!no_data).then(|| self.decider.scale(now, stable, panic, ready));
        if let (Some(t), Some(_)) = (&mut self.ticks, &result) {
            t.push((now, stable, panic, ready));
        }
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
        let explanation =
            before.map(|before| self.explanation(seen, &before, no_data, stable, panic, result, &rec));
        let d = Decision {
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
        };
        (d, explanation)
    }

    /// The account of one tick: windows, decider arithmetic and state, reconciler.
    #[allow(clippy::too_many_arguments)]
    fn explanation(
        &self,
        seen: &Observation,
        before: &Decider,
        no_data: bool,
        stable: f64,
        panic: f64,
        result: Option<ScaleResult>,
        rec: &Reconciled,
    ) -> Explanation {
        use crate::time::to_secs_f64 as s;
        let ds = *before.spec();
        let n = shortest;
        let metric = self.spec.metric.name();
        let mut steps = vec![format!(
            "{metric} target {} per pod (total {}), {} ready pod(s), {} request(s) held by the activator",
            n(ds.target),
            n(ds.total),
            seen.ready,
            seen.buffered
        )];
        match result {
            None => steps.push(format!(
                "no data in the {}s stable window: the decider's result is invalid, the last desired scale stands",
                s(ds.stable_window)
            )),
            Some(r) => self.decider_steps(&mut steps, seen, before, stable, panic, r),
        }
        steps.push(format!(
            "PodAutoscaler: want {}, applied {}{}; SKS {}",
            rec.want,
            rec.applied,
            rec.reason.map_or(String::new(), |r| format!(" ({r})")),
            if rec.proxy { "proxy" } else { "serve" }
        ));
        let detail = serde_json::json!({
            "metric": metric,
            "readyPods": seen.ready,
            "buffered": seen.buffered,
            "stableWindowS": s(ds.stable_window),
            "panicWindowS": s(self.spec.panic_window()),
            "stableAverage": if no_data { None } else { Some(stable) },
            "panicAverage": if no_data { None } else { Some(panic) },
            "decider": result.map(|r| serde_json::json!({
                "desiredStable": r.desired_stable,
                "desiredPanic": r.desired_panic,
                "dspc": r.dspc,
                "dppc": r.dppc,
                "panicking": r.panicking,
                "beforeDelay": r.before_delay,
                "desired": r.desired,
                "excessBurstCapacity": r.excess_burst_capacity,
                "reason": r.reason,
            })),
            "reconciler": {"want": rec.want, "applied": rec.applied, "proxy": rec.proxy, "reason": rec.reason},
        });
        let case = self.replay_case(&ds);
        Explanation { steps, detail, case }
    }

    /// The decider's arithmetic for a valid result `r`: the stable and panic windows, the rate
    /// limits, panic mode, the scale-down delay, the decision and the excess burst capacity.
    fn decider_steps(
        &self,
        steps: &mut Vec<String>,
        seen: &Observation,
        before: &Decider,
        stable: f64,
        panic: f64,
        r: ScaleResult,
    ) {
        use crate::time::to_secs_f64 as s;
        let ds = *before.spec();
        let n = shortest;
        steps.push(format!(
            "stable window {}s average {stable:.3} → ceil({stable:.3} / {}) = {} pods",
            s(ds.stable_window),
            n(ds.target),
            r.dspc
        ));
        steps.push(format!(
            "panic window {}s average {panic:.3} → ceil({panic:.3} / {}) = {} pods",
            s(self.spec.panic_window()),
            n(ds.target),
            r.dppc
        ));
        steps.push(format!(
            "rate limits: at most ceil({} × {}) up, at least floor({} / {}) down → stable {}, panic {}",
            n(ds.max_scale_up_rate),
            seen.ready.max(1),
            seen.ready.max(1),
            n(ds.max_scale_down_rate),
            r.desired_stable,
            r.desired_panic
        ));
        steps.push(format!(
            "panic threshold {} × ready: {} / {} = {:.3} → {}{}",
            n(ds.panic_threshold),
            r.dppc,
            seen.ready.max(1),
            r.dppc as f64 / seen.ready.max(1) as f64,
            if r.panicking { "in panic mode" } else { "not in panic mode" },
            if before.panicking() && r.panicking {
                " (panic mode holds the highest scale since it began)"
            } else if before.panicking() {
                " (panic ended: a stable window without over-threshold ticks)"
            } else {
                ""
            }
        ));
        if r.before_delay != r.desired {
            steps.push(format!(
                "scale-down delay {}s holds the highest recent scale: {} instead of {}",
                s(ds.scale_down_delay),
                r.desired,
                r.before_delay
            ));
        }
        steps.push(format!("decider: desired {} ({})", r.desired, r.reason));
        steps.push(match ds.target_burst_capacity {
            0.0 => "excess burst capacity: not used (targetBurstCapacity 0)".to_string(),
            t if t < 0.0 => {
                "excess burst capacity: unlimited (targetBurstCapacity -1): activator always in path"
                    .to_string()
            }
            t => format!(
                "excess burst capacity floor({} ready × {} − {t} − {panic:.3}) = {} → {}",
                seen.ready,
                n(ds.total),
                r.excess_burst_capacity,
                if r.excess_burst_capacity < 0 { "activator in the path (proxy)" } else { "serve directly" }
            ),
        });
    }

    /// The `explain kpa` case that replays this decision (the decider's configuration and every
    /// tick's inputs so far), when the ticks were kept.
    fn replay_case(&self, c: &DeciderSpec) -> Option<ExplainCase> {
        use crate::time::to_secs_f64 as s;
        self.ticks.as_ref().filter(|t| !t.is_empty()).map(|ticks| {
            let body = serde_json::json!({
                "config": {
                    "target": c.target,
                    "totalValue": c.total,
                    "targetBurstCapacity": c.target_burst_capacity,
                    "panicThreshold": c.panic_threshold,
                    "maxScaleUpRate": c.max_scale_up_rate,
                    "maxScaleDownRate": c.max_scale_down_rate,
                    "stableWindow": s(c.stable_window),
                    "scaleDownDelay": s(c.scale_down_delay),
                    "activationScale": c.activation_scale,
                    "reachable": c.reachable,
                },
                "initialReadyPods": self.initial_ready,
                "createdAt": 0.0,
                "ticks": ticks.iter().map(|&(t, st, pa, r)| serde_json::json!({
                    "time": s(t), "stableAverage": st.max(0.0), "panicAverage": pa.max(0.0), "readyPods": r,
                })).collect::<Vec<_>>(),
            });
            ExplainCase { kind: "kpa", body }
        })
    }
}

/// The shortest decimal form of `x` up to 6 decimals (targets like 0.7 × 1.5 print as 1.05, not
/// 1.0499999999999998).
fn shortest(x: f64) -> String {
    let t = format!("{x:.6}");
    t.trim_end_matches('0').trim_end_matches('.').to_string()
}

impl Knative {
    /// One tick: scrape, then decide when due (or poked).
    fn step(&mut self, seen: &Observation, explain: bool) -> Option<(Decision, Option<Explanation>)> {
        let now = seen.now;
        let poke = !now.is_multiple_of(SECOND) || self.last_scrape == Some(now);
        if poke {
            // The activator reports the requests it holds; Poke ticks the decider at once.
            if seen.buffered > 0 {
                self.record(now, seen.buffered as f64);
            }
            return Some(self.tick(seen, explain));
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
        now.is_multiple_of(spec::TICK).then(|| self.tick(seen, explain))
    }
}

impl Policy for Knative {
    fn next_tick(&self, last: Option<Time>) -> Time {
        last.map_or(SECOND, |t| (t / SECOND + 1) * SECOND)
    }

    fn reads_pod_cpu(&self) -> bool {
        false
    }

    fn decide(&mut self, seen: &Observation) -> Option<Decision> {
        self.step(seen, false).map(|(d, _)| d)
    }

    fn poke_on_demand(&self) -> bool {
        true
    }

    fn start_steady(&mut self, steady: &SteadyState, min: u32, max: u32) -> Option<u32> {
        let target = self.spec.decider_spec().target;
        let metric = self.spec.metric;
        let value = |n: u32| match metric {
            KpaMetric::Concurrency => steady.concurrency_total(n),
            KpaMetric::Rps => steady.rate,
        };
        let n = SteadyState::settle(min, max, |n| {
            let v = value(n);
            if v.is_finite() {
                (v / target).ceil().max(0.0).min(u32::MAX as f64) as u32
            } else {
                steady.unsaturated()
            }
        });
        let ticks = self.ticks.take();
        *self = Knative::new(self.spec.clone(), n);
        self.ticks = ticks;
        // Long running: no start-up panic (the decider starts as with no pod ready, which the
        // `explain kpa` case records as its initialReadyPods), the initial scale behind it, and
        // both windows holding the steady value.
        self.decider = Decider::new(self.spec.decider_spec(), 0, 0);
        self.initial_ready = 0;
        self.pa.mark_initialized();
        let v = value(n);
        let v = if v.is_finite() { v } else { 0.0 };
        self.stable.prefill(v);
        self.panic.prefill(v);
        Some(n)
    }

    fn prepare_explain(&mut self) {
        self.ticks = Some(Vec::new());
    }

    fn explain(&mut self, seen: &Observation) -> Option<(Decision, Explanation)> {
        self.step(seen, true).map(|(d, e)| (d, e.expect("explanation asked for")))
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
            start: crate::policy::Start::Given,
            kind: super::PolicyKind::Knative(self.clone()),
            activator: self.activator(),
        }
    }
}
