//! The HPA as the engine runs it: metrics-server-like CPU scrapes, a custom/external metrics
//! source with its own refresh and lag, and a reconcile every sync period. Scrapes between
//! syncs are observe-only ticks (`decide` returns `None`).

use super::core::{self, ControllerSettings, ControllerState, Micros, Phase, PodState, SyncInput};
use super::spec::{HpaSpec, MetricSourceType};
use super::{HpaPolicySpec, MetricsPipeline};
use crate::policy::{Decision, ExplainCase, Explanation, Observation, PodPhase, Policy, SteadyState};
use crate::time::Time;
use std::collections::{BTreeMap, VecDeque};

/// One CPU sample as metrics-server serves it.
#[derive(Debug, Clone, Copy)]
struct CpuSample {
    time: Time,
    /// When the HPA can read it (`time + cpu_delay`; 0 for a steady start's pre-filled one).
    visible: Time,
    window: Time,
    milli: i64,
    /// Memory working set at the scrape, milli-bytes.
    memory_milli: i64,
}

/// What the kubelet counters and metrics-server hold for one pod.
#[derive(Debug, Clone, Default)]
struct PodCpu {
    last_read: Option<(Time, f64)>,
    samples: VecDeque<CpuSample>,
}

/// One refresh of the custom/external metrics source.
#[derive(Debug, Clone)]
struct CustomScrape {
    rps: Option<f64>,
    concurrency: Option<f64>,
    ready: Vec<u32>,
}

/// The running HPA (also the HPA under a KEDA ScaledObject).
pub(crate) struct HpaController {
    spec: HpaSpec,
    ctl: ControllerSettings,
    sync_period: Time,
    sync_offset: Time,
    pipe: MetricsPipeline,
    /// Alias → supplied metric name (the scenario's `metrics_map`).
    metrics_map: BTreeMap<String, String>,
    needs_custom: bool,
    state: ControllerState,
    cpu: BTreeMap<u32, PodCpu>,
    custom: Option<CustomScrape>,
    /// A steady start: the pods ready at time 0 have been running since long before it.
    steady: bool,
}

/// When the pods of a steady start started, as the controller sees them: an hour before time
/// 0, past the CPU initialization period and the initial readiness delay.
const STEADY_SINCE: Micros = -3600 * core::SEC;

pub(crate) fn next_in(offset: Time, period: Time, last: Option<Time>) -> Time {
    let period = period.max(1);
    match last {
        None => offset,
        Some(l) if l < offset => offset,
        Some(l) => offset + ((l - offset) / period + 1) * period,
    }
}

pub(crate) fn due(offset: Time, period: Time, now: Time) -> bool {
    now >= offset && (now - offset).is_multiple_of(period.max(1))
}

impl HpaController {
    pub(crate) fn new(p: &HpaPolicySpec) -> HpaController {
        let spec = p.hpa.with_defaults();
        let needs_custom = spec.metrics.iter().any(|m| {
            matches!(m.kind, MetricSourceType::Pods | MetricSourceType::Object | MetricSourceType::External)
        });
        HpaController {
            spec,
            ctl: p.controller,
            sync_period: p.sync_period,
            sync_offset: p.sync_offset,
            pipe: p.pipeline,
            metrics_map: p.metrics_map.clone(),
            needs_custom,
            state: ControllerState::default(),
            cpu: BTreeMap::new(),
            custom: None,
            steady: false,
        }
    }

    /// The pods and metric totals the controller would see with `n` ready pods in `steady`
    /// state, long started (CPU and memory samples, per-pod and total rps and concurrency).
    fn steady_input(&self, steady: &SteadyState, n: u32) -> (Vec<PodState>, BTreeMap<String, Vec<i64>>) {
        let milli = |v: f64| if v.is_finite() { (v * 1000.0).round() as i64 } else { i64::MAX / 4 };
        let conc = steady.concurrency_total(n);
        let per = |v: f64| v / n.max(1) as f64;
        let mut totals: BTreeMap<String, Vec<i64>> = BTreeMap::from([
            ("requests_per_second".to_string(), vec![milli(steady.rate)]),
            ("concurrency".to_string(), vec![milli(conc)]),
        ]);
        for (alias, name) in &self.metrics_map {
            if let Some(v) = totals.get(name).cloned() {
                totals.insert(alias.clone(), v);
            }
        }
        let in_flight = per(conc);
        let memory =
            steady.memory.usage(if in_flight.is_finite() { in_flight.round() as u32 } else { u32::MAX });
        let pods = (0..n)
            .map(|i| {
                let mut metrics = BTreeMap::from([
                    ("cpu".to_string(), milli(steady.cpu_cores_per_replica(n))),
                    ("memory".to_string(), milli(memory)),
                    ("requests_per_second".to_string(), milli(per(steady.rate))),
                    ("concurrency".to_string(), milli(in_flight)),
                ]);
                for (alias, name) in &self.metrics_map {
                    if let Some(&v) = metrics.get(name) {
                        metrics.insert(alias.clone(), v);
                    }
                }
                PodState {
                    name: format!("pod-{i}"),
                    phase: Phase::Running,
                    ready: Some(true),
                    start_time: Some(STEADY_SINCE),
                    ready_transition: STEADY_SINCE,
                    deleting: false,
                    requests: BTreeMap::from([
                        ("cpu".to_string(), milli(steady.cpu.request_cores)),
                        ("memory".to_string(), milli(steady.memory.request_bytes)),
                    ]),
                    metrics,
                    metric_time: 0,
                    metric_window: self.pipe.resolution as Micros,
                }
            })
            .collect();
        (pods, totals)
    }

    /// The HPA's proposal (the largest over its metrics, tolerance applied; before
    /// stabilisation and rate limits) with `n` ready pods in `steady` state; `external`
    /// replaces the External metrics (KEDA's triggers). `n` when no metric is valid.
    pub(crate) fn steady_proposal(
        &self,
        steady: &SteadyState,
        n: u32,
        external: Option<&BTreeMap<String, Vec<i64>>>,
    ) -> u32 {
        let (pods, totals) = self.steady_input(steady, n);
        let input = SyncInput {
            now: 0,
            current: n as i64,
            status_replicas: n as i64,
            pods: &pods,
            object_metrics: &totals,
            external_metrics: external.unwrap_or(&totals),
        };
        let o = core::reconcile(&self.spec, &self.ctl, &mut ControllerState::default(), &input);
        o.proposal.map_or(n, |p| p.clamp(0, u32::MAX as i64) as u32)
    }

    /// Pre-fills the controller for a steady start at `n` ready pods: the stabilisation window
    /// holds `n` as its recommendation, each pod a CPU sample visible from time 0, the custom
    /// metrics source a refresh, and the pods ready at time 0 count as long started.
    pub(crate) fn prefill_steady(&mut self, steady: &SteadyState, n: u32) {
        self.steady = true;
        self.state.recommendations = Some(vec![core::Recommendation { time: 0, replicas: n as i64 }]);
        let (pods, totals) = self.steady_input(steady, n);
        for (i, p) in pods.iter().enumerate() {
            let sample = CpuSample {
                time: 0,
                visible: 0,
                window: self.pipe.resolution,
                milli: p.metrics["cpu"],
                memory_milli: p.metrics["memory"],
            };
            self.cpu.insert(i as u32, PodCpu { last_read: None, samples: VecDeque::from([sample]) });
        }
        let total = |k: &str| totals.get(k).and_then(|v| v.first()).map(|&m| m as f64 / 1000.0);
        self.custom = Some(CustomScrape {
            rps: total("requests_per_second"),
            concurrency: total("concurrency"),
            ready: (0..n).collect(),
        });
    }

    fn scrape_cpu(&mut self, seen: &Observation) {
        let now = seen.now;
        self.cpu.retain(|id, _| seen.pods.iter().any(|p| p.id == *id));
        for p in seen.pods {
            if p.phase != PodPhase::Running {
                continue;
            }
            let e = self.cpu.entry(p.id).or_default();
            if let Some((t, c)) = e.last_read
                && now > t
            {
                let cores = (p.cpu_seconds - c).max(0.0) / crate::time::to_secs_f64(now - t);
                e.samples.push_back(CpuSample {
                    time: now,
                    visible: now + self.pipe.cpu_delay,
                    window: now - t,
                    milli: (cores * 1000.0).round() as i64,
                    memory_milli: (p.memory_bytes * 1000.0).round() as i64,
                });
            }
            e.last_read = Some((now, p.cpu_seconds));
            // Keep the newest visible sample and the ones not visible yet.
            while e.samples.len() > 1 && e.samples[1].visible <= now {
                e.samples.pop_front();
            }
        }
    }

    fn scrape_custom(&mut self, seen: &Observation) {
        let m = &seen.metrics;
        let end = seen.now.saturating_sub(self.pipe.custom_lag);
        let to = if self.pipe.custom_lag == 0 { Some(m.now) } else { m.history.at_or_before(end).copied() };
        let w = to.and_then(|to| m.history.window_to(to, self.pipe.custom_window));
        self.custom = Some(CustomScrape {
            rps: w.map(|w| w.rps()),
            concurrency: w.map(|w| w.concurrency_total()),
            ready: seen.pods.iter().filter(|p| p.ready && !p.deleting).map(|p| p.id).collect(),
        });
    }

    /// Takes the metric scrapes due at `seen.now`.
    pub(crate) fn observe(&mut self, seen: &Observation) {
        let now = seen.now;
        if due(self.pipe.scrape_offset, self.pipe.resolution, now) {
            self.scrape_cpu(seen);
        }
        if self.needs_custom && due(self.pipe.scrape_offset, self.pipe.custom_interval, now) {
            self.scrape_custom(seen);
        }
    }

    /// The sync period.
    pub(crate) fn sync_period(&self) -> Time {
        self.sync_period
    }

    /// Whether a sync (reconcile) is due at `now`.
    pub(crate) fn sync_due(&self, now: Time) -> bool {
        due(self.sync_offset, self.sync_period, now)
    }

    /// One reconcile. `external` replaces the simulated external metrics (milli-units), as
    /// KEDA's metrics adapter serves its scalers' values to the HPA it created.
    pub(crate) fn sync_with(
        &mut self,
        seen: &Observation,
        external: Option<&BTreeMap<String, Vec<i64>>>,
    ) -> Decision {
        self.sync_inner(seen, external, false).0
    }

    /// [`sync_with`](Self::sync_with), also explaining it: every pod as the controller saw it,
    /// the reconcile's steps, and the equivalent `explain hpa` case.
    pub(crate) fn sync_explained(
        &mut self,
        seen: &Observation,
        external: Option<&BTreeMap<String, Vec<i64>>>,
    ) -> (Decision, Explanation) {
        let (d, e) = self.sync_inner(seen, external, true);
        (d, e.expect("explanation asked for"))
    }

    fn sync_inner(
        &mut self,
        seen: &Observation,
        external: Option<&BTreeMap<String, Vec<i64>>>,
        explain: bool,
    ) -> (Decision, Option<Explanation>) {
        let now = seen.now;
        let mut pods = Vec::with_capacity(seen.pods.len());
        let custom = self.custom.as_ref();
        let per_pod = |v: Option<f64>, c: &CustomScrape| {
            v.map(|v| (v * 1000.0 / c.ready.len().max(1) as f64).round() as i64)
        };
        for p in seen.pods {
            // A steady start's pods (ready at time 0) have been running long before it.
            let long_started = self.steady && p.ready && p.requested_at == 0 && p.start_time == Some(0);
            let since = |t: Micros| if long_started && t == 0 { STEADY_SINCE } else { t };
            let mut st = PodState {
                name: format!("pod-{}", p.id),
                phase: match (p.phase, p.start_time) {
                    (PodPhase::Running, Some(_)) => Phase::Running,
                    _ => Phase::Pending,
                },
                ready: Some(p.ready),
                start_time: p.start_time.map(|t| since(t as Micros)),
                ready_transition: since(p.ready_transition as Micros),
                deleting: p.deleting,
                requests: BTreeMap::from([
                    ("cpu".to_string(), (p.cpu_request * 1000.0).round() as i64),
                    ("memory".to_string(), (p.memory_request * 1000.0).round() as i64),
                ]),
                metrics: BTreeMap::new(),
                metric_time: now as Micros,
                metric_window: self.pipe.resolution as Micros,
            };
            if let Some(s) =
                self.cpu.get(&p.id).and_then(|c| c.samples.iter().rev().find(|s| s.visible <= now))
            {
                st.metrics.insert("cpu".into(), s.milli);
                st.metrics.insert("memory".into(), s.memory_milli);
                st.metric_time = s.time as Micros;
                st.metric_window = s.window as Micros;
            }
            if let Some(c) = custom
                && c.ready.contains(&p.id)
            {
                if let Some(v) = per_pod(c.rps, c) {
                    st.metrics.insert("requests_per_second".into(), v);
                }
                if let Some(v) = per_pod(c.concurrency, c) {
                    st.metrics.insert("concurrency".into(), v);
                }
                for (alias, name) in &self.metrics_map {
                    if let Some(&v) = st.metrics.get(name) {
                        st.metrics.insert(alias.clone(), v);
                    }
                }
            }
            pods.push(st);
        }
        let mut totals: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        if let Some(c) = custom {
            if let Some(v) = c.rps {
                totals.insert("requests_per_second".into(), vec![(v * 1000.0).round() as i64]);
            }
            if let Some(v) = c.concurrency {
                totals.insert("concurrency".into(), vec![(v * 1000.0).round() as i64]);
            }
            for (alias, name) in &self.metrics_map {
                if let Some(v) = totals.get(name).cloned() {
                    totals.insert(alias.clone(), v);
                }
            }
        }
        let status = seen.pods.iter().filter(|p| !p.deleting).count() as i64;
        let input = SyncInput {
            now: now as Micros,
            current: seen.current as i64,
            status_replicas: status,
            pods: &pods,
            object_metrics: &totals,
            external_metrics: external.unwrap_or(&totals),
        };
        let before = explain.then(|| self.state.clone());
        let o = core::reconcile(&self.spec, &self.ctl, &mut self.state, &input);
        let explanation = before.map(|st| {
            let case = super::explain::case_json(&self.spec, &self.ctl, &st, &input);
            let mut steps = super::explain::pod_lines(&input);
            steps.extend(o.steps.iter().cloned());
            steps.push(format!("reason: {}", o.reason));
            let outcome =
                super::explain::Explanation { current: input.current, outcome: o.clone() }.to_json();
            let mut detail = case.clone();
            if let Some(m) = detail.as_object_mut() {
                m.remove("hpa");
                m.remove("controller");
            }
            detail["outcome"] = outcome;
            Explanation { steps, detail, case: Some(ExplainCase { kind: "hpa", body: case }) }
        });
        let clamp = |v: i64| v.clamp(0, u32::MAX as i64) as u32;
        let seen_text = o
            .metrics
            .iter()
            .map(|m| match &m.proposal {
                Ok(_) => m.seen.clone(),
                Err(_) => format!("{}=invalid", m.label.rsplit(' ').next().unwrap_or("?")),
            })
            .collect::<Vec<_>>()
            .join(" ");
        let d = Decision {
            desired: clamp(o.desired),
            reason: o.reason,
            metrics: seen_text,
            proposal: o.proposal.map(clamp),
            stabilized: o.stabilized.map(clamp),
            limited: o.limited.map(clamp),
        };
        (d, explanation)
    }
}

impl Policy for HpaController {
    fn next_tick(&self, last: Option<Time>) -> Time {
        let mut t = next_in(self.sync_offset, self.sync_period, last);
        t = t.min(next_in(self.pipe.scrape_offset, self.pipe.resolution, last));
        if self.needs_custom {
            t = t.min(next_in(self.pipe.scrape_offset, self.pipe.custom_interval, last));
        }
        t
    }

    fn decide(&mut self, seen: &Observation) -> Option<Decision> {
        self.observe(seen);
        self.sync_due(seen.now).then(|| self.sync_with(seen, None))
    }

    fn start_steady(&mut self, steady: &SteadyState, min: u32, max: u32) -> Option<u32> {
        let n = SteadyState::settle(min, max, |n| self.steady_proposal(steady, n, None));
        self.prefill_steady(steady, n);
        Some(n)
    }

    fn explain(&mut self, seen: &Observation) -> Option<(Decision, Explanation)> {
        self.observe(seen);
        self.sync_due(seen.now).then(|| self.sync_explained(seen, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    #[test]
    fn ticks_merge_syncs_and_scrapes() {
        let mut p = HpaPolicySpec::new(HpaSpec::new(1, 10)).unwrap();
        p.sync_offset = 5 * SECOND;
        p.pipeline.resolution = 10 * SECOND;
        let c = HpaController::new(&p);
        assert_eq!(c.next_tick(None), 0);
        assert_eq!(c.next_tick(Some(0)), 5 * SECOND);
        assert_eq!(c.next_tick(Some(5 * SECOND)), 10 * SECOND);
        assert_eq!(c.next_tick(Some(10 * SECOND)), 20 * SECOND);
        assert_eq!(c.next_tick(Some(20 * SECOND)), 30 * SECOND);
        assert!(due(5 * SECOND, 15 * SECOND, 35 * SECOND) && !due(5 * SECOND, 15 * SECOND, 30 * SECOND));
    }
}
