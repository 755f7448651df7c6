//! The HPA as the engine runs it: metrics-server-like CPU scrapes, a custom/external metrics
//! source with its own refresh and lag, and a reconcile every sync period. Scrapes between
//! syncs are observe-only ticks (`decide` returns `None`).

use super::core::{self, ControllerSettings, ControllerState, Micros, Phase, PodState, SyncInput};
use super::spec::{HpaSpec, MetricSourceType};
use super::{HpaPolicySpec, MetricsPipeline};
use crate::metrics::Window;
use crate::policy::{Decision, ExplainCase, Explanation, Observation, PodPhase, Policy};
use crate::time::Time;
use std::collections::{BTreeMap, VecDeque};

/// One CPU sample as metrics-server serves it.
#[derive(Debug, Clone, Copy)]
struct CpuSample {
    time: Time,
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
}

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
        }
    }

    fn scrape_cpu(&mut self, seen: &Observation) {
        let now = seen.now;
        self.cpu.retain(|id, _| seen.pods.iter().any(|p| p.id == *id));
        let keep = self.pipe.cpu_delay;
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
                    window: now - t,
                    milli: (cores * 1000.0).round() as i64,
                    memory_milli: (p.memory_bytes * 1000.0).round() as i64,
                });
            }
            e.last_read = Some((now, p.cpu_seconds));
            // Keep the newest visible sample and the ones not visible yet.
            while e.samples.len() > 1 && e.samples[1].time + keep <= now {
                e.samples.pop_front();
            }
        }
    }

    fn scrape_custom(&mut self, seen: &Observation) {
        let m = &seen.metrics;
        let end = seen.now.saturating_sub(self.pipe.custom_lag);
        let to = if self.pipe.custom_lag == 0 { Some(m.now) } else { m.history.at_or_before(end).copied() };
        let from = to.and_then(|to| {
            m.history
                .at_or_before(to.t.saturating_sub(self.pipe.custom_window))
                .or_else(|| m.history.oldest())
                .copied()
                .filter(|f| f.t < to.t)
        });
        let w = match (from, to) {
            (Some(from), Some(to)) => Some(Window { from, to }),
            _ => None,
        };
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
            let mut st = PodState {
                name: format!("pod-{}", p.id),
                phase: match (p.phase, p.start_time) {
                    (PodPhase::Running, Some(_)) => Phase::Running,
                    _ => Phase::Pending,
                },
                ready: Some(p.ready),
                start_time: p.start_time.map(|t| t as Micros),
                ready_transition: p.ready_transition as Micros,
                deleting: p.deleting,
                requests: BTreeMap::from([
                    ("cpu".to_string(), (p.cpu_request * 1000.0).round() as i64),
                    ("memory".to_string(), (p.memory_request * 1000.0).round() as i64),
                ]),
                metrics: BTreeMap::new(),
                metric_time: now as Micros,
                metric_window: self.pipe.resolution as Micros,
            };
            if let Some(s) = self
                .cpu
                .get(&p.id)
                .and_then(|c| c.samples.iter().rev().find(|s| s.time + self.pipe.cpu_delay <= now))
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
