//! `scalesim explain hpa`: one HPA decision described in a file (YAML or JSON; times in
//! seconds, field names as Kubernetes spells them), run through the same [`core`](super::core)
//! the simulation uses, and reasoned step by step. Pure: text in, explanation out.

use super::core::{
    self, ControllerSettings, ControllerState, Micros, Outcome, Phase, PodState, Recommendation, SEC,
    ScaleEvent, SyncInput,
};
use super::quantity::Quantity;
use super::spec::HpaSpec;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// A case file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Case {
    hpa: HpaSpec,
    now: f64,
    current_replicas: i64,
    #[serde(default)]
    status_replicas: Option<i64>,
    #[serde(default)]
    first_sync: bool,
    #[serde(default)]
    pods: Vec<CasePod>,
    #[serde(default)]
    object_metrics: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    external_metrics: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    recommendations: Vec<Timed>,
    #[serde(default)]
    scale_up_events: Vec<Timed>,
    #[serde(default)]
    scale_down_events: Vec<Timed>,
    #[serde(default)]
    controller: CaseController,
}

#[derive(Debug, Clone, Copy, Deserialize)]
enum CasePhase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CasePod {
    name: String,
    #[serde(default)]
    phase: Option<CasePhase>,
    #[serde(default = "yes")]
    ready: bool,
    #[serde(default)]
    start_time: Option<f64>,
    #[serde(default)]
    ready_transition_time: Option<f64>,
    #[serde(default)]
    deleting: bool,
    #[serde(default)]
    requests: BTreeMap<String, Quantity>,
    #[serde(default)]
    metrics: BTreeMap<String, Quantity>,
    #[serde(default)]
    metric_time: Option<f64>,
    #[serde(default)]
    metric_window: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Quantity),
    Many(Vec<Quantity>),
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct Timed {
    time: f64,
    replicas: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CaseController {
    #[serde(default = "d_tol")]
    tolerance: f64,
    #[serde(default = "d_init")]
    cpu_initialization_period: f64,
    #[serde(default = "d_delay")]
    initial_readiness_delay: f64,
    #[serde(default = "d_init")]
    downscale_stabilization: f64,
}

fn d_tol() -> f64 {
    0.1
}
fn d_init() -> f64 {
    300.0
}
fn d_delay() -> f64 {
    30.0
}

impl Default for CaseController {
    fn default() -> Self {
        CaseController {
            tolerance: d_tol(),
            cpu_initialization_period: d_init(),
            initial_readiness_delay: d_delay(),
            downscale_stabilization: d_init(),
        }
    }
}

/// A case that cannot be explained, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainError(pub String);

impl fmt::Display for ExplainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExplainError {}

/// One decision, reasoned.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// `currentReplicas` of the case.
    pub current: i64,
    /// The controller's result, with its steps.
    pub outcome: Outcome,
}

fn us(s: f64) -> Micros {
    (s * SEC as f64).round() as Micros
}

fn is_manifest(v: &serde_norway::Value) -> bool {
    v.get("kind").is_some() || v.get("apiVersion").is_some()
}

/// The spec of a whole HorizontalPodAutoscaler document, checking its kind and apiVersion, and
/// its `status.currentReplicas` if any.
fn manifest_spec(m: &serde_norway::Value, at: &str) -> Result<(serde_norway::Value, Option<i64>), String> {
    let kind = m.get("kind").and_then(|k| k.as_str());
    if kind != Some("HorizontalPodAutoscaler") {
        return Err(format!("{at}kind: found {kind:?}, expected `HorizontalPodAutoscaler`"));
    }
    let api = m.get("apiVersion").and_then(|k| k.as_str());
    if api != Some("autoscaling/v2") {
        return Err(format!("{at}apiVersion: found {api:?}, expected `autoscaling/v2`"));
    }
    let spec = m.get("spec").cloned().ok_or_else(|| format!("{at}spec: missing"))?;
    let current = m.get("status").and_then(|s| s.get("currentReplicas")).and_then(|c| c.as_i64());
    Ok((spec, current))
}

/// A case: one document with an `hpa` section (a spec, or a whole manifest); or a whole
/// HorizontalPodAutoscaler manifest (as `kubectl get hpa NAME -o yaml` prints it) followed by
/// a second YAML document (`---`) with the rest of the case (now, pods, history). A manifest's
/// `status.currentReplicas` stands for an absent `currentReplicas`.
fn parse_case(text: &str) -> Result<Case, String> {
    use serde::Deserialize as _;
    use serde_norway::{Mapping, Value};
    let docs: Vec<Value> = serde_norway::Deserializer::from_str(text)
        .map(Value::deserialize)
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let hpa_is_manifest = docs.first().and_then(|d| d.get("hpa")).is_some_and(is_manifest);
    let first_is_manifest = docs.first().is_some_and(is_manifest);
    if docs.len() <= 1 && !hpa_is_manifest && !first_is_manifest {
        // The plain form: parse the text itself, so errors keep their line numbers.
        return serde_norway::from_str(text).map_err(|e| e.to_string());
    }
    let mut case = Mapping::new();
    let (spec, status) = if first_is_manifest {
        let (spec, status) = manifest_spec(&docs[0], "")?;
        for (i, d) in docs.iter().enumerate().skip(1) {
            match d {
                Value::Mapping(m) => case.extend(m.clone()),
                Value::Null => {}
                _ => {
                    return Err(format!(
                        "document {}: expected a mapping (now, currentReplicas, pods, …)",
                        i + 1
                    ));
                }
            }
        }
        if case.contains_key("hpa") {
            return Err("hpa: given twice (the manifest document and an `hpa` key)".into());
        }
        (spec, status)
    } else {
        if docs.len() > 1 {
            return Err("several YAML documents: the first must be a HorizontalPodAutoscaler manifest".into());
        }
        let Some(Value::Mapping(m)) = docs.into_iter().next() else {
            return Err("expected a mapping".into());
        };
        case = m;
        let hpa = case.get("hpa").cloned().unwrap_or(Value::Null);
        manifest_spec(&hpa, "hpa.")?
    };
    case.insert(Value::String("hpa".into()), spec);
    if let Some(c) = status
        && !case.contains_key("currentReplicas")
    {
        case.insert(Value::String("currentReplicas".into()), Value::Number(c.into()));
    }
    serde_norway::from_value(Value::Mapping(case)).map_err(|e| e.to_string())
}

/// Parses a case (YAML or JSON) and runs one reconcile. `origin` names the file in errors.
pub fn explain(text: &str, origin: &str) -> Result<Explanation, ExplainError> {
    // Messages about a field start with its path; they point at the line it is written on.
    let err = |m: String| ExplainError(crate::yaml_pos::at_field(text, origin, &m));
    let case = parse_case(text).map_err(|e| err(crate::config::error::with_did_you_mean(&e)))?;
    case.hpa
        .validate()
        .map_err(|e| err(format!("hpa.{}: {}", e.field.trim_start_matches("spec."), e.message)))?;
    let spec = case.hpa.with_defaults();
    if case.current_replicas < 0 {
        return Err(err(format!("currentReplicas: found {}, expected >= 0", case.current_replicas)));
    }
    let status = case.status_replicas.unwrap_or(case.current_replicas);
    if status < 0 {
        return Err(err(format!("statusReplicas: found {status}, expected >= 0")));
    }
    let c = &case.controller;
    if c.tolerance.is_nan() || c.tolerance < 0.0 {
        return Err(err(format!("controller.tolerance: found {}, expected >= 0", c.tolerance)));
    }
    for (name, v) in [
        ("cpuInitializationPeriod", c.cpu_initialization_period),
        ("initialReadinessDelay", c.initial_readiness_delay),
        ("downscaleStabilization", c.downscale_stabilization),
    ] {
        if v.is_nan() || v < 0.0 {
            return Err(err(format!("controller.{name}: found {v}, expected >= 0 (seconds)")));
        }
    }
    let ctl = ControllerSettings {
        tolerance: c.tolerance,
        cpu_initialization_period: us(c.cpu_initialization_period),
        initial_readiness_delay: us(c.initial_readiness_delay),
        downscale_stabilization: us(c.downscale_stabilization),
    };
    if !(case.now.is_finite() && case.now >= 0.0 && case.now <= crate::time::MAX_VALUE_SECS) {
        return Err(err(format!("now: found {}, expected seconds >= 0", case.now)));
    }
    let now = us(case.now);
    if case.first_sync && !case.recommendations.is_empty() {
        return Err(err(format!(
            "firstSync: true means the controller has stored no recommendation yet, but recommendations lists {}",
            case.recommendations.len()
        )));
    }
    let mut names = std::collections::BTreeSet::new();
    let mut pods = Vec::with_capacity(case.pods.len());
    for (i, p) in case.pods.iter().enumerate() {
        if !names.insert(p.name.as_str()) {
            return Err(err(format!("pods[{i}].name: `{}` appears twice", p.name)));
        }
        for (what, m) in [("requests", &p.requests), ("metrics", &p.metrics)] {
            if let Some((k, v)) = m.iter().find(|(_, v)| v.milli() < 0) {
                return Err(err(format!(
                    "pods[{i}].{what}.{k}: found {}, expected a quantity >= 0 (usage and requests cannot be negative)",
                    v.milli() as f64 / 1000.0
                )));
            }
        }
        if let Some(w) = p.metric_window
            && (w.is_nan() || w < 0.0)
        {
            return Err(err(format!("pods[{i}].metricWindow: found {w}, expected >= 0 (seconds)")));
        }
        // An absent startTime means "long ago" (outside every window), as in the upstream
        // tests; the Ready transition defaults to the start (never changed since).
        let start = p.start_time.map_or(now - 1_000_000_000 * SEC, us);
        pods.push(PodState {
            name: p.name.clone(),
            phase: match p.phase.unwrap_or(CasePhase::Running) {
                CasePhase::Pending => Phase::Pending,
                CasePhase::Running => Phase::Running,
                CasePhase::Succeeded => Phase::Succeeded,
                CasePhase::Failed => Phase::Failed,
            },
            ready: Some(p.ready),
            start_time: Some(start),
            ready_transition: p.ready_transition_time.map_or(start, us),
            deleting: p.deleting,
            requests: p.requests.iter().map(|(k, v)| (k.clone(), v.milli())).collect(),
            metrics: p.metrics.iter().map(|(k, v)| (k.clone(), v.milli())).collect(),
            metric_time: p.metric_time.map_or(now, us),
            metric_window: us(p.metric_window.unwrap_or(60.0)),
        });
    }
    let totals = |m: &BTreeMap<String, OneOrMany>| -> BTreeMap<String, Vec<i64>> {
        m.iter()
            .map(|(k, v)| {
                let vals = match v {
                    OneOrMany::One(q) => vec![q.milli()],
                    OneOrMany::Many(qs) => qs.iter().map(Quantity::milli).collect(),
                };
                (k.clone(), vals)
            })
            .collect()
    };
    let (object, external) = (totals(&case.object_metrics), totals(&case.external_metrics));
    let events = |v: &[Timed]| -> Vec<ScaleEvent> {
        v.iter().map(|e| ScaleEvent { time: us(e.time), change: e.replicas, outdated: false }).collect()
    };
    let mut state = ControllerState {
        recommendations: if case.first_sync {
            None
        } else {
            Some(
                case.recommendations
                    .iter()
                    .map(|r| Recommendation { time: us(r.time), replicas: r.replicas })
                    .collect(),
            )
        },
        scale_up_events: events(&case.scale_up_events),
        scale_down_events: events(&case.scale_down_events),
    };
    let input = SyncInput {
        now,
        current: case.current_replicas,
        status_replicas: status,
        pods: &pods,
        object_metrics: &object,
        external_metrics: &external,
    };
    let outcome = core::reconcile(&spec, &ctl, &mut state, &input);
    Ok(Explanation { current: case.current_replicas, outcome })
}

impl Explanation {
    /// The reasoning, one numbered step a line, then `desiredReplicas: N`.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (i, step) in self.outcome.steps.iter().enumerate() {
            s.push_str(&format!("{}. {step}\n", i + 1));
        }
        s.push_str(&format!("reason: {}\n", self.outcome.reason));
        s.push_str(&format!("desiredReplicas: {}\n", self.outcome.desired));
        s
    }

    /// One JSON object: `desiredReplicas`, per-metric proposals, stabilized and limited
    /// values, the reason and the steps.
    pub fn to_json(&self) -> serde_json::Value {
        let o = &self.outcome;
        let metrics: Vec<serde_json::Value> = o
            .metrics
            .iter()
            .map(|m| {
                serde_json::json!({
                    "metric": m.label,
                    "proposal": m.proposal.as_ref().ok(),
                    "error": m.proposal.as_ref().err(),
                    "withinTolerance": m.within_tolerance,
                    "seen": m.seen,
                    "detail": m.detail,
                })
            })
            .collect();
        serde_json::json!({
            "currentReplicas": self.current,
            "desiredReplicas": o.desired,
            "rescale": o.rescale,
            "metrics": metrics,
            "proposal": o.proposal,
            "stabilized": o.stabilized,
            "limited": o.limited,
            "reason": o.reason,
            "steps": o.steps,
        })
    }
}

fn secs_f(t: Micros) -> f64 {
    t as f64 / SEC as f64
}

fn quantities(m: &BTreeMap<String, i64>) -> serde_json::Value {
    m.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(Quantity::from_milli(*v).text()))).collect()
}

fn series(m: &BTreeMap<String, Vec<i64>>) -> serde_json::Value {
    m.iter()
        .map(|(k, v)| {
            let q: Vec<serde_json::Value> =
                v.iter().map(|x| serde_json::Value::from(Quantity::from_milli(*x).text())).collect();
            (k.clone(), serde_json::Value::from(q))
        })
        .collect()
}

/// The case file (as JSON) that makes [`explain`] run exactly the reconcile of `input` on
/// `spec` with the controller `state` as it was before it: the bridge from a simulated decision
/// (`scalesim explain decision --case`) to `scalesim explain hpa`.
pub fn case_json(
    spec: &HpaSpec,
    ctl: &ControllerSettings,
    state: &ControllerState,
    input: &SyncInput,
) -> serde_json::Value {
    use serde_json::json;
    let pods: Vec<serde_json::Value> = input
        .pods
        .iter()
        .map(|p| {
            let mut o = json!({
                "name": p.name,
                "phase": match p.phase {
                    Phase::Pending => "Pending",
                    Phase::Running => "Running",
                    Phase::Succeeded => "Succeeded",
                    Phase::Failed => "Failed",
                },
                "ready": p.ready.unwrap_or(false),
                "readyTransitionTime": secs_f(p.ready_transition),
                "deleting": p.deleting,
                "requests": quantities(&p.requests),
                "metrics": quantities(&p.metrics),
                "metricTime": secs_f(p.metric_time),
                "metricWindow": secs_f(p.metric_window),
            });
            if let Some(t) = p.start_time {
                o["startTime"] = json!(secs_f(t));
            }
            o
        })
        .collect();
    let timed = |v: &[ScaleEvent]| -> Vec<serde_json::Value> {
        v.iter()
            .filter(|e| !e.outdated)
            .map(|e| json!({"time": secs_f(e.time), "replicas": e.change}))
            .collect()
    };
    let mut case = json!({
        "hpa": spec,
        "now": secs_f(input.now),
        "currentReplicas": input.current,
        "statusReplicas": input.status_replicas,
        "pods": pods,
        "objectMetrics": series(input.object_metrics),
        "externalMetrics": series(input.external_metrics),
        "scaleUpEvents": timed(&state.scale_up_events),
        "scaleDownEvents": timed(&state.scale_down_events),
        "controller": {
            "tolerance": ctl.tolerance,
            "cpuInitializationPeriod": secs_f(ctl.cpu_initialization_period),
            "initialReadinessDelay": secs_f(ctl.initial_readiness_delay),
            "downscaleStabilization": secs_f(ctl.downscale_stabilization),
        },
    });
    match &state.recommendations {
        None => case["firstSync"] = json!(true),
        Some(r) => {
            case["recommendations"] =
                r.iter().map(|r| json!({"time": secs_f(r.time), "replicas": r.replicas})).collect();
        }
    }
    case
}

/// One line per pod as the controller sees it at `now` (for `explain decision`).
pub fn pod_lines(input: &SyncInput) -> Vec<String> {
    input
        .pods
        .iter()
        .map(|p| {
            let mut s = format!(
                "pod {}: {:?}{}{}",
                p.name,
                p.phase,
                match p.ready {
                    Some(true) => format!(", Ready since t={}s", secs_f(p.ready_transition)),
                    Some(false) => ", not Ready".to_string(),
                    None => String::new(),
                },
                if p.deleting { ", deleting" } else { "" }
            );
            if let Some(t) = p.start_time {
                s.push_str(&format!(", started t={}s", secs_f(t)));
            }
            if p.metrics.is_empty() {
                s.push_str(", no metric sample (missing)");
            } else {
                let m: Vec<String> = p
                    .metrics
                    .iter()
                    .map(|(k, v)| {
                        let req = p.requests.get(k).filter(|r| **r > 0).map_or(String::new(), |r| {
                            format!(" of {} requested", Quantity::from_milli(*r).text())
                        });
                        format!("{k} {}{req}", Quantity::from_milli(*v).text())
                    })
                    .collect();
                s.push_str(&format!(
                    ", {} (sample at t={}s over {}s)",
                    m.join(", "),
                    secs_f(p.metric_time),
                    secs_f(p.metric_window)
                ));
            }
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A1: &str = "
hpa: {minReplicas: 1, maxReplicas: 10, metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 30}}}]}
now: 1000
currentReplicas: 3
pods:
- {name: a, requests: {cpu: 1}, metrics: {cpu: 300m}}
- {name: b, requests: {cpu: 1}, metrics: {cpu: 0.5}}
- {name: c, requests: {cpu: 1.0}, metrics: {cpu: 0.7}}
";

    #[test]
    fn explains_a_scale_up() {
        let e = explain(A1, "a1.yaml").unwrap();
        assert_eq!(e.outcome.desired, 5);
        let t = e.to_text();
        assert!(t.ends_with("desiredReplicas: 5\n"), "{t}");
        assert!(t.contains("utilization 50%"), "{t}");
        assert_eq!(e.to_json()["metrics"][0]["proposal"], 5);
    }

    #[test]
    fn errors_name_the_field() {
        let e = explain(&A1.replace("currentReplicas: 3", "currentReplicas: -1"), "x").unwrap_err();
        assert!(e.0.contains("currentReplicas"), "{e}");
        let e = explain(&A1.replace("maxReplicas: 10", "maxReplicas: 0"), "x").unwrap_err();
        assert!(e.0.contains("hpa.maxReplicas"), "{e}");
        let e = explain(&A1.replace("name: b,", "name: b, phase: Sleeping,"), "x").unwrap_err();
        assert!(e.0.contains("phase") || e.0.contains("Sleeping"), "{e}");
        let e = explain(&A1.replace("now: 1000", "now: 1000\nbogus: 1"), "x").unwrap_err();
        assert!(e.0.contains("bogus"), "{e}");
    }

    #[test]
    fn accepts_a_whole_manifest() {
        let manifest = "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: prod}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 10
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 30}}}]
status: {currentReplicas: 3, desiredReplicas: 3}
";
        let rest = A1.split_once("now:").map(|(_, r)| format!("now:{r}")).unwrap();
        let two_docs = format!("{manifest}---\n{}", rest.replace("currentReplicas: 3\n", ""));
        assert_eq!(explain(&two_docs, "x").unwrap().outcome.desired, 5);
        let indented: String = manifest.lines().map(|l| format!("  {l}\n")).collect();
        let nested = format!("hpa:\n{indented}{rest}");
        assert_eq!(explain(&nested, "x").unwrap().outcome.desired, 5);
        let e = explain(&two_docs.replace("autoscaling/v2", "autoscaling/v1"), "x").unwrap_err();
        assert!(e.0.contains("apiVersion"), "{e}");
    }

    #[test]
    fn first_sync_records_the_initial_recommendation() {
        let case = A1
            .replace("metrics: {cpu: 300m}", "metrics: {cpu: 10m}")
            .replace("metrics: {cpu: 0.5}", "metrics: {cpu: 10m}")
            .replace("metrics: {cpu: 0.7}", "metrics: {cpu: 10m}");
        assert_eq!(explain(&case, "x").unwrap().outcome.desired, 1);
        let e = explain(&format!("{case}firstSync: true\n"), "x").unwrap();
        assert_eq!((e.outcome.desired, e.outcome.reason.as_str()), (3, "stabilized"));
    }
}
