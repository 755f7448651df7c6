//! A ScaledObject as the engine runs it: KEDA's polling loop (activation, cooldown, zero/idle)
//! and, underneath, the HPA KEDA creates — fed, at every HPA sync, the triggers' live values as
//! External metrics (KEDA's metrics adapter queries the scalers when the HPA asks).

use super::executor::{Action, Executor};
use super::scalers::{Reading, cron_reading, prometheus_reading};
use super::{KedaSpec, KedaTrigger, MetricType};
use crate::metrics::{MetricsHistory, MetricsView, Snapshot};
use crate::policy::hpa::HpaPolicySpec;
use crate::policy::hpa::sim::{HpaController, due, next_in};
use crate::policy::schedule::Schedule;
use crate::policy::{Decision, Explanation, Observation, Policy, SteadyState};
use crate::time::{Clock, Time};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The External metric name KEDA gives trigger `i` (`s<i>-<scaler>`).
pub fn metric_name(i: usize, t: &KedaTrigger) -> String {
    let scaler = match t {
        KedaTrigger::Cpu { .. } => "cpu",
        KedaTrigger::Prometheus { .. } => "prometheus",
        KedaTrigger::Cron { .. } => "cron",
    };
    format!("s{i}-{scaler}")
}

/// The HPA KEDA creates for `spec` (`controllers/keda/hpa.go`): min = max(1, minReplicaCount),
/// max = maxReplicaCount, one External metric per trigger (AverageValue unless `Value`; cron
/// AverageValue 1), cpu as a Resource metric, and the user's `behavior`.
pub fn hpa_for(spec: &KedaSpec) -> Result<HpaPolicySpec, String> {
    use serde_norway::{Mapping, Value};
    let s = |x: &str| Value::String(x.to_string());
    let mut metrics = Vec::new();
    for (i, t) in spec.triggers.iter().enumerate() {
        let mut m = Mapping::new();
        match t {
            KedaTrigger::Cpu { utilization } => {
                m.insert(s("type"), s("Resource"));
                let mut target = Mapping::new();
                target.insert(s("type"), s("Utilization"));
                target.insert(s("averageUtilization"), Value::Number((*utilization as u64).into()));
                let mut r = Mapping::new();
                r.insert(s("name"), s("cpu"));
                r.insert(s("target"), Value::Mapping(target));
                m.insert(s("resource"), Value::Mapping(r));
            }
            KedaTrigger::Prometheus { threshold, metric_type, .. } => {
                let (kind, key) = match metric_type {
                    MetricType::AverageValue => ("AverageValue", "averageValue"),
                    MetricType::Value => ("Value", "value"),
                };
                m.insert(s("type"), s("External"));
                m.insert(s("external"), external(&metric_name(i, t), kind, key, &format!("{threshold}")));
            }
            KedaTrigger::Cron { .. } => {
                m.insert(s("type"), s("External"));
                m.insert(s("external"), external(&metric_name(i, t), "AverageValue", "averageValue", "1"));
            }
        }
        metrics.push(Value::Mapping(m));
    }
    let mut hpa = Mapping::new();
    hpa.insert(s("minReplicas"), Value::Number((spec.hpa_min() as u64).into()));
    hpa.insert(s("maxReplicas"), Value::Number((spec.max_replica_count as u64).into()));
    hpa.insert(s("metrics"), Value::Sequence(metrics));
    if let Some(b) = &spec.behavior {
        hpa.insert(s("behavior"), b.clone());
    }
    let parsed = serde_norway::from_value(Value::Mapping(hpa))
        .map_err(|e| format!("spec.advanced.horizontalPodAutoscalerConfig.behavior: {e}"))?;
    HpaPolicySpec::new(parsed).map_err(|e| e.to_string())
}

fn external(name: &str, kind: &str, key: &str, value: &str) -> serde_norway::Value {
    use serde_norway::{Mapping, Value};
    let s = |x: &str| Value::String(x.to_string());
    let mut id = Mapping::new();
    id.insert(s("name"), s(name));
    let mut target = Mapping::new();
    target.insert(s("type"), s(kind));
    target.insert(s(key), s(value));
    let mut e = Mapping::new();
    e.insert(s("metric"), Value::Mapping(id));
    e.insert(s("target"), Value::Mapping(target));
    Value::Mapping(e)
}

/// The running ScaledObject.
pub(super) struct KedaController {
    spec: KedaSpec,
    hpa: HpaController,
    exec: Executor,
    schedules: Vec<Option<Schedule>>,
}

impl KedaController {
    pub(super) fn new(spec: &KedaSpec, hpa: &HpaPolicySpec, clock: &Clock, horizon: Time) -> KedaController {
        let schedules = spec
            .triggers
            .iter()
            .map(|t| match t {
                KedaTrigger::Cron { window } => Some(Schedule::resolve(window, clock, horizon)),
                _ => None,
            })
            .collect();
        KedaController {
            spec: spec.clone(),
            hpa: HpaController::new(hpa),
            exec: Executor::new(
                spec.cooldown_period,
                spec.initial_cooldown_period,
                spec.min_replica_count,
                spec.idle_replica_count,
                0,
            ),
            schedules,
        }
    }

    /// Every trigger's reading now (cpu triggers have none: the HPA reads CPU itself).
    fn readings(&self, seen: &Observation) -> Vec<Option<Reading>> {
        self.readings_of(&seen.metrics, seen.now)
    }

    fn readings_of(&self, metrics: &crate::metrics::MetricsView, now: Time) -> Vec<Option<Reading>> {
        self.spec
            .triggers
            .iter()
            .zip(&self.schedules)
            .map(|(t, sch)| match (t, sch) {
                (KedaTrigger::Prometheus { series, activation_threshold, .. }, _) => {
                    Some(prometheus_reading(
                        series.value(metrics, self.spec.polling_interval),
                        *activation_threshold,
                    ))
                }
                (KedaTrigger::Cron { .. }, Some(s)) => Some(cron_reading(s, now)),
                _ => None,
            })
            .collect()
    }

    /// The External metrics KEDA serves the HPA from its triggers' readings.
    fn external(&self, readings: &[Option<Reading>]) -> BTreeMap<String, Vec<i64>> {
        self.spec
            .triggers
            .iter()
            .zip(readings)
            .enumerate()
            .filter_map(|(i, (t, r))| r.map(|r| (metric_name(i, t), vec![(r.value * 1000.0).round() as i64])))
            .collect()
    }

    fn describe(&self, readings: &[Option<Reading>]) -> String {
        let mut o = String::new();
        for (i, (t, r)) in self.spec.triggers.iter().zip(readings).enumerate() {
            if let Some(r) = r {
                if !o.is_empty() {
                    o.push(' ');
                }
                let _ = write!(
                    o,
                    "{}={:.2}{}",
                    metric_name(i, t),
                    r.value,
                    if r.active { "" } else { "(inactive)" }
                );
            }
        }
        o
    }
}

impl Policy for KedaController {
    fn next_tick(&self, last: Option<Time>) -> Time {
        self.hpa.next_tick(last).min(next_in(0, self.spec.polling_interval, last))
    }

    fn decide(&mut self, seen: &Observation) -> Option<Decision> {
        self.step(seen, false).map(|(d, _)| d)
    }

    fn start_steady(&mut self, steady: &SteadyState, min: u32, max: u32) -> Option<u32> {
        // The triggers read the steady metrics (a history that is all prior) at time 0.
        let external_at = |n: u32| {
            let mut h = MetricsHistory::new(crate::time::SECOND);
            h.set_prior(steady.prior(n));
            h.push(Snapshot::default());
            let view = MetricsView {
                history: &h,
                now: Snapshot::default(),
                cpu_request_cores: steady.cpu.request_cores,
            };
            self.external(&self.readings_of(&view, 0))
        };
        let n = SteadyState::settle(min, max, |n| {
            // With no replica, KEDA activates to its minimum when a trigger is active.
            self.hpa.steady_proposal(steady, n.max(1), Some(&external_at(n.max(1))))
        });
        self.hpa.prefill_steady(steady, n);
        Some(n)
    }

    fn explain(&mut self, seen: &Observation) -> Option<(Decision, Explanation)> {
        self.step(seen, true).map(|(d, e)| (d, e.expect("explanation asked for")))
    }
}

impl KedaController {
    /// One tick: KEDA's poll when due, then the HPA's sync when due; with `explain`, the
    /// account of the decision too.
    fn step(&mut self, seen: &Observation, explain: bool) -> Option<(Decision, Option<Explanation>)> {
        let now = seen.now;
        self.hpa.observe(seen);
        let readings = self.readings(seen);
        let mut current = seen.current;
        let mut keda = None;
        let mut keda_steps = Vec::new();
        if explain {
            keda_steps.push(format!(
                "KEDA polls every {}s (activation and scale to/from zero only; the HPA below decides every {}s)",
                crate::time::to_secs_f64(self.spec.polling_interval),
                crate::time::to_secs_f64(self.hpa.sync_period())
            ));
            for (i, (t, r)) in self.spec.triggers.iter().zip(&readings).enumerate() {
                match r {
                    Some(r) => keda_steps.push(format!(
                        "trigger {}: value {:.3}, {}",
                        metric_name(i, t),
                        r.value,
                        if r.active { "active" } else { "inactive (at or below its activation threshold)" }
                    )),
                    None => keda_steps.push(format!("trigger {}: read by the HPA itself", metric_name(i, t))),
                }
            }
        }
        if due(0, self.spec.polling_interval, now) {
            let active = self.spec.all_resource_triggers() || readings.iter().flatten().any(|r| r.active);
            if explain {
                keda_steps.push(format!(
                    "poll at t={}s: scaled object {}; {} replicas now",
                    crate::time::to_secs_f64(now),
                    if active { "active" } else { "inactive" },
                    current
                ));
            }
            if let Action::ScaleTo(n, why) = self.exec.request_scale(now, current, active) {
                keda = Some(Decision {
                    desired: n,
                    reason: format!("keda {why}"),
                    metrics: self.describe(&readings),
                    ..Decision::default()
                });
                if explain {
                    keda_steps.push(format!("KEDA scales to {n}: {why}"));
                }
                current = n;
            } else if explain {
                keda_steps.push("KEDA leaves the scale to the HPA".to_string());
            }
        }
        if !self.hpa.sync_due(now) {
            return keda.map(|d| {
                let e = explain.then(|| {
                    let mut e = Explanation::from_decision(&d);
                    keda_steps.append(&mut e.steps);
                    e.steps = keda_steps;
                    e
                });
                (d, e)
            });
        }
        let external = self.external(&readings);
        let after = Observation { current, ..*seen };
        let (mut d, mut e) = if explain {
            let (d, e) = self.hpa.sync_explained(&after, Some(&external));
            (d, Some(e))
        } else {
            (self.hpa.sync_with(&after, Some(&external)), None)
        };
        if let Some(k) = keda {
            d.reason = format!("{}; hpa: {}", k.reason, d.reason);
        }
        d.metrics = self.describe(&readings) + if d.metrics.is_empty() { "" } else { " | hpa " } + &d.metrics;
        if let Some(e) = &mut e {
            keda_steps.push("the HPA KEDA created syncs, fed the triggers as External metrics:".to_string());
            keda_steps.append(&mut e.steps);
            e.steps = keda_steps;
        }
        Some((d, e))
    }
}
