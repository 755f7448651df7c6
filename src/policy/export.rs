//! Policies back to the manifests people apply: `scalesim export` and the tuned manifest of
//! `scalesim tune`.
//!
//! * A policy read from a manifest (hpa, keda, knative) keeps its [`ManifestSource`]: the YAML
//!   documents as read (with the scenario's edits, which are themselves YAML edits of the
//!   modelled fields). Export writes those documents back, so metadata (name, namespace,
//!   labels, annotations), `scaleTargetRef`, images, containers and every field scalesim does
//!   not model are kept verbatim; only when the policy's modelled settings differ from what the
//!   documents say (a policy changed in code) are those fields rewritten, and nothing else.
//! * A policy without a manifest is rendered: `platform` as its ScaledObject, and the basic
//!   types as their closest Kubernetes form — `cpu` an autoscaling/v2 HPA, `rps`,
//!   `concurrency`, `schedule` and `autoscale` a KEDA ScaledObject (prometheus, cron and cpu
//!   triggers) — with a comment header saying what is exact and what approximates the basic
//!   policy's semantics, and placeholders (Prometheus address and query, Deployment name) the
//!   user is told to fill.
//! * `fixed`, `aws` and `oracle` have no Kubernetes equivalent: an [`ExportError`] says so.
//!
//! Pure: no I/O; the command line writes the text.

use super::hpa::spec::{
    Behavior, HpaSpec, MetricSpec, ObjectReference, ScalingPolicy, ScalingPolicyType, ScalingRules,
};
use super::keda::{self, KedaSpec, KedaTrigger, MetricType, scalers::Series};
use super::{BasicSpec, MetricRule, PolicyKind, PolicySpec, k8s_name};
use crate::time::{SECOND, Time};
use serde_norway::Value;
use std::fmt::Write;

/// The manifest a policy was read from, kept so that export writes it back as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestSource {
    /// The YAML documents, as read after the scenario's edits (an autoscaling/v1 HPA already
    /// converted to autoscaling/v2), in order.
    pub docs: Vec<Value>,
    /// The policy's own rendering of its modelled settings when it was read; a different
    /// rendering at export time means a modelled setting changed since.
    pub rendered: String,
}

/// What the user tells export about the cluster, for manifests scalesim has to write from
/// scratch (never used for a policy read from a manifest, whose documents say it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOptions {
    /// The Deployment to scale (`scaleTargetRef.name`).
    pub target: String,
    /// `metadata.namespace`, if any.
    pub namespace: Option<String>,
    /// The Prometheus address of generated prometheus triggers (`serverAddress`).
    pub prometheus: String,
}

/// The Prometheus address written when none is given: the usual in-cluster service name of
/// the prometheus-operator stack, which the header tells the user to check.
pub const DEFAULT_PROMETHEUS: &str = "http://prometheus-operated.monitoring.svc:9090";

impl ExportOptions {
    /// The options `scalesim export` uses for a policy of the scenario `scenario` (its
    /// `simulation.name`): the Deployment named `target` when given, else after the scenario
    /// (not after the policy), no namespace, the default Prometheus address. `tune`'s best.yaml
    /// uses the same.
    pub fn for_scenario(scenario: &str, target: Option<&str>) -> ExportOptions {
        ExportOptions::new(target.unwrap_or(scenario))
    }

    /// Options naming the Deployment `target`, no namespace, the default Prometheus address.
    pub fn new(target: &str) -> ExportOptions {
        ExportOptions {
            target: k8s_name(target),
            namespace: None,
            prometheus: DEFAULT_PROMETHEUS.to_string(),
        }
    }
}

/// An exported manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The YAML (one or more documents).
    pub yaml: String,
    /// What the user has to check or fill before applying it (empty for a manifest written
    /// back as read).
    pub todo: Vec<String>,
}

/// Why a policy cannot be exported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--policy {policy}: {message}")]
pub struct ExportError {
    /// The policy.
    pub policy: String,
    /// What is wrong, and what export writes instead.
    pub message: String,
}

fn to_yaml(v: &impl serde::Serialize) -> String {
    serde_norway::to_string(v).expect("a YAML value always serialises")
}

/// Several documents as one YAML stream.
pub fn docs_to_yaml(docs: &[Value]) -> String {
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_yaml(d));
    }
    out
}

/// Reads every document of a YAML stream (empty documents skipped).
pub fn yaml_docs(text: &str) -> Result<Vec<Value>, serde_norway::Error> {
    use serde::Deserialize;
    let mut docs = Vec::new();
    for de in serde_norway::Deserializer::from_str(text) {
        let v = Value::deserialize(de)?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    Ok(docs)
}

/// Merges `from` into `into`: mappings key by key (keys only in `into` are kept), lists of the
/// same length element by element, anything else replaced — unless both are the same scalar
/// written differently (`"10"` and `10`), which keeps `into`'s spelling.
pub fn overlay(into: &mut Value, from: &Value) {
    overlay_changed(into, from, None);
}

/// [`overlay`] of only what `from` changes relative to `base` (the rendering `into` was read
/// as): a part of `from` equal to `base`'s is left as `into` has it (or lacks it, as a default
/// `into` leaves out).
pub fn overlay_changed(into: &mut Value, from: &Value, base: Option<&Value>) {
    if base == Some(from) {
        return;
    }
    match (into, from) {
        (Value::Mapping(a), Value::Mapping(b)) => {
            for (k, v) in b {
                let was = base.and_then(|m| m.get(k));
                if was == Some(v) {
                    continue;
                }
                match a.get_mut(k) {
                    Some(old) => overlay_changed(old, v, was),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Sequence(a), Value::Sequence(b)) if a.len() == b.len() => {
            let was = base.and_then(Value::as_sequence).filter(|s| s.len() == b.len());
            for (i, (x, y)) in a.iter_mut().zip(b).enumerate() {
                overlay_changed(x, y, was.map(|s| &s[i]));
            }
        }
        (a, b) => {
            if scalar_text(a).is_none() || scalar_text(a) != scalar_text(b) {
                *a = b.clone();
            }
        }
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn remove_path(v: &mut Value, path: &[&str]) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut cur = v;
    for p in parents {
        match cur.get_mut(*p) {
            Some(next) => cur = next,
            None => return,
        }
    }
    if let Value::Mapping(m) = cur {
        m.shift_remove(*last);
    }
}

/// The rendering kept in [`ManifestSource::rendered`] and compared at export.
pub fn rendering(kind: &PolicyKind) -> String {
    match kind {
        PolicyKind::Hpa(h) => super::hpa::to_manifest("x", &h.hpa),
        PolicyKind::Keda(k) => keda::to_manifest("x", &k.keda),
        PolicyKind::Knative(k) => super::knative::to_manifest("x", k),
        _ => String::new(),
    }
}

impl PolicySpec {
    /// The manifest of this policy: the documents it was read from, written back (modelled
    /// fields rewritten only where they changed), or a rendering of a policy that has no
    /// manifest. `opts` names the cluster objects a rendering needs.
    pub fn export(&self, opts: &ExportOptions) -> Result<Exported, ExportError> {
        let name = k8s_name(&self.name);
        let none = |why: &str| ExportError {
            policy: self.name.clone(),
            message: format!("a `{}` policy has no Kubernetes equivalent: {why}", self.family()),
        };
        match &self.kind {
            PolicyKind::Hpa(h) => match &h.source {
                Some(src) => Ok(Exported { yaml: hpa_back(src, &h.hpa), todo: vec![] }),
                None => Ok(rendered_hpa(&name, &h.hpa, opts, "", vec![])),
            },
            PolicyKind::Keda(k) => match &k.source {
                Some(src) => Ok(Exported {
                    yaml: back(src, &self.kind, &keda::to_manifest(&name, &k.keda), Strip::Keda),
                    todo: vec![],
                }),
                None => Ok(rendered_keda(&name, &k.keda, opts, "", vec![])),
            },
            PolicyKind::Knative(k) => match &k.source {
                Some(src) => Ok(Exported {
                    yaml: back(src, &self.kind, &super::knative::to_manifest(&name, k), Strip::Knative),
                    todo: vec![],
                }),
                None => {
                    let mut yaml = String::from(
                        "# Knative Service written by scalesim from the policy's settings.\n\
                         # TODO: replace the container image with your service's.\n",
                    );
                    let mut docs = yaml_docs(&super::knative::to_manifest(&name, k)).expect("own YAML");
                    if let Some(ns) = &opts.namespace {
                        set_namespace(&mut docs[0], ns);
                    }
                    yaml.push_str(&docs_to_yaml(&docs));
                    Ok(Exported { yaml, todo: vec!["spec.template.spec.containers[0].image".into()] })
                }
            },
            PolicyKind::Basic(b) => basic(self, &name, b, opts),
            PolicyKind::Fixed => Err(none(&format!(
                "it is a constant {} replicas: set `spec.replicas: {}` on the Deployment (no autoscaler)",
                self.min, self.min
            ))),
            PolicyKind::Aws(_) => Err(none(
                "AWS target tracking, step scaling and scheduled actions are Application Auto Scaling \
                 (or EC2 Auto Scaling) policies, configured in AWS, not Kubernetes objects",
            )),
            PolicyKind::Oracle(_) => Err(none("the oracle sees the future arrivals; no controller can")),
        }
    }

    /// [`PolicySpec::export`] with default options (the Deployment named after the policy),
    /// the YAML only; `None` for the policies without a Kubernetes equivalent. What `export`
    /// and `tune` write names it after the scenario instead ([`ExportOptions::for_scenario`]).
    pub fn to_manifest(&self) -> Option<String> {
        self.export(&ExportOptions::new(&self.name)).ok().map(|e| e.yaml)
    }
}

fn set_namespace(doc: &mut Value, ns: &str) {
    if let Some(Value::Mapping(m)) = doc.get_mut("metadata") {
        m.insert("namespace".into(), Value::String(ns.to_string()));
    }
}

/// An HPA read from a manifest, written back: the document as read, with `minReplicas`,
/// `maxReplicas`, `metrics` and `behavior` rewritten where `spec` differs from it.
fn hpa_back(src: &ManifestSource, spec: &HpaSpec) -> String {
    let mut doc = src.docs[0].clone();
    let read: Option<HpaSpec> = doc.get("spec").and_then(|s| serde_norway::from_value(s.clone()).ok());
    let model = serde_norway::to_value(spec).expect("an HPA spec serialises");
    if read.as_ref() != Some(spec)
        && let Some(Value::Mapping(out)) = doc.get_mut("spec")
    {
        let read = read.map(|r| serde_norway::to_value(r).expect("serialises"));
        for key in ["minReplicas", "maxReplicas", "metrics", "behavior"] {
            let now = model.get(key);
            if read.as_ref().and_then(|r| r.get(key)) == now {
                continue;
            }
            match now {
                Some(v) => {
                    out.insert(key.into(), v.clone());
                }
                None => {
                    out.shift_remove(key);
                }
            }
        }
    }
    docs_to_yaml(&[doc])
}

/// What of a rendering is the cluster's and never replaces the source's.
#[derive(Clone, Copy)]
enum Strip {
    Keda,
    Knative,
}

/// A KEDA or Knative policy read from a manifest, written back: the documents as read, or —
/// when the modelled settings changed — with the rendering of those settings merged in
/// ([`overlay`]), leaving metadata, `scaleTargetRef`, containers and unmodelled fields as read.
fn back(src: &ManifestSource, kind: &PolicyKind, rendered: &str, strip: Strip) -> String {
    let mut docs = src.docs.clone();
    if rendering(kind) != src.rendered {
        let name_of = |d: &Value| d.get("metadata").and_then(|m| m.get("name")).cloned();
        let base_docs = yaml_docs(&src.rendered).expect("own YAML");
        for whole in yaml_docs(rendered).expect("own YAML") {
            let kind = whole.get("kind").cloned();
            let is_config_map = kind.as_ref().and_then(Value::as_str) == Some("ConfigMap");
            // The Service or ScaledObject by kind; a cluster ConfigMap by its name.
            let same = |d: &Value| {
                d.get("kind") == kind.as_ref() && (!is_config_map || name_of(d) == name_of(&whole))
            };
            let mut f = whole.clone();
            remove_path(&mut f, &["metadata"]);
            match strip {
                Strip::Keda => remove_path(&mut f, &["spec", "scaleTargetRef"]),
                Strip::Knative => remove_path(&mut f, &["spec", "template", "spec", "containers"]),
            }
            let base = base_docs.iter().find(|d| same(d));
            match docs.iter_mut().find(|d| same(d)) {
                Some(d) => overlay_changed(d, &f, base),
                None => docs.push(whole),
            }
        }
    }
    docs_to_yaml(&docs)
}

fn secs_ceil(t: Time) -> u64 {
    t.div_ceil(SECOND)
}

/// Text for a YAML comment line: a line break (or any other control character) would end the
/// comment and turn the rest of a name, an address or a query into YAML, so each is shown as a
/// visible escape (`\n`, `\u{1b}`).
fn comment_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

fn header(kind: &str, policy: &PolicySpec, exact: &[String], approx: &[String], todo: &[String]) -> String {
    let mut h = format!(
        "# {kind} written by `scalesim export` from the `{}` policy `{}`.\n",
        policy.family(),
        comment_text(&policy.name)
    );
    let mut list = |title: &str, items: &[String]| {
        if !items.is_empty() {
            let _ = writeln!(h, "# {title}");
            for i in items {
                let _ = writeln!(h, "#   - {}", comment_text(i));
            }
        }
    };
    list("Exact:", exact);
    list("Approximations of the basic policy's semantics:", approx);
    list("TODO before applying:", todo);
    h
}

fn rendered_hpa(name: &str, spec: &HpaSpec, opts: &ExportOptions, head: &str, todo: Vec<String>) -> Exported {
    let mut doc = serde_norway::to_value(super::hpa::HpaManifest {
        api_version: "autoscaling/v2".into(),
        kind: "HorizontalPodAutoscaler".into(),
        metadata: super::hpa::spec::Metadata { name: name.into(), namespace: opts.namespace.clone() },
        spec: HpaSpec {
            scale_target_ref: Some(spec.scale_target_ref.clone().unwrap_or_else(|| deployment(&opts.target))),
            ..spec.clone()
        },
    })
    .expect("an HPA serialises");
    if !spec.metrics.is_empty()
        && let Some(Value::Mapping(s)) = doc.get_mut("spec")
        && let Some(b) = s.shift_remove("behavior")
    {
        // behavior last, as people write it.
        s.insert("behavior".into(), b);
    }
    Exported { yaml: format!("{head}{}", docs_to_yaml(&[doc])), todo }
}

fn deployment(name: &str) -> ObjectReference {
    ObjectReference { kind: "Deployment".into(), name: name.into(), api_version: Some("apps/v1".into()) }
}

fn rendered_keda(
    name: &str,
    spec: &KedaSpec,
    opts: &ExportOptions,
    head: &str,
    todo: Vec<String>,
) -> Exported {
    let mut docs = yaml_docs(&keda::to_manifest(name, spec)).expect("own YAML");
    let doc = &mut docs[0];
    if let Some(ns) = &opts.namespace {
        set_namespace(doc, ns);
    }
    if spec.target.is_empty()
        && let Some(Value::Mapping(r)) = doc.get_mut("spec").and_then(|s| s.get_mut("scaleTargetRef"))
    {
        r.insert("name".into(), Value::String(opts.target.clone()));
    }
    let mut todo = todo;
    if let Some(Value::Sequence(ts)) = doc.get_mut("spec").and_then(|s| s.get_mut("triggers")) {
        for (i, t) in ts.iter_mut().enumerate() {
            if t.get("type").and_then(Value::as_str) == Some("prometheus")
                && let Some(Value::Mapping(md)) = t.get_mut("metadata")
                && !md.contains_key("serverAddress")
            {
                md.insert("serverAddress".into(), Value::String(opts.prometheus.clone()));
                todo.push(format!(
                    "spec.triggers[{i}].metadata.serverAddress ({}) and .query: your Prometheus and your service's metric",
                    opts.prometheus
                ));
            }
        }
    }
    let head = if head.is_empty() && !todo.is_empty() {
        let mut h =
            String::from("# KEDA ScaledObject written by `scalesim export`.\n# TODO before applying:\n");
        for t in &todo {
            let _ = writeln!(h, "#   - {t}");
        }
        h
    } else {
        head.to_string()
    };
    Exported { yaml: format!("{head}{}", docs_to_yaml(&docs)), todo }
}

/// `[W]` as Prometheus writes a range.
fn prom_range(t: Time) -> String {
    let s = secs_ceil(t).max(1);
    if s.is_multiple_of(60) { format!("{}m", s / 60) } else { format!("{s}s") }
}

/// The HPA `behavior` closest to a basic policy: its stabilisation windows, and rate limits
/// that never bind (a basic policy jumps straight to its proposal).
fn basic_behavior(b: &BasicSpec, max: u32) -> Behavior {
    let window = |t: Time| Some(secs_ceil(t).min(3600) as i32);
    Behavior {
        scale_up: Some(ScalingRules {
            stabilization_window_seconds: window(b.up_stabilization),
            select_policy: None,
            policies: Some(vec![ScalingPolicy {
                kind: ScalingPolicyType::Pods,
                value: max.max(1) as i32,
                period_seconds: 15,
            }]),
            tolerance: None,
        }),
        scale_down: Some(ScalingRules {
            stabilization_window_seconds: window(b.down_stabilization),
            select_policy: None,
            policies: Some(vec![ScalingPolicy {
                kind: ScalingPolicyType::Percent,
                value: 100,
                period_seconds: 15,
            }]),
            tolerance: None,
        }),
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

/// A basic policy as its closest Kubernetes object: an HPA when it has only CPU rules, else a
/// KEDA ScaledObject.
fn basic(p: &PolicySpec, name: &str, b: &BasicSpec, opts: &ExportOptions) -> Result<Exported, ExportError> {
    let (exact, approx) = basic_notes(p, b);
    let only_cpu = b.schedules.is_empty() && b.metrics.iter().all(|m| matches!(m, MetricRule::Cpu { .. }));
    if only_cpu && !b.metrics.is_empty() {
        return Ok(basic_as_hpa(p, name, b, opts, exact, approx));
    }
    // Everything else: a KEDA ScaledObject.
    Ok(basic_as_keda(p, name, b, opts, exact, approx))
}

/// The header lines every rendering of a basic policy shares: what is exact (bounds, the
/// largest proposal, stabilisation, no rate limit) and what approximates it (scale to zero,
/// capped windows, the initial count).
fn basic_notes(p: &PolicySpec, b: &BasicSpec) -> (Vec<String>, Vec<String>) {
    let exact = vec![
        format!("replicas between {} and {} (minReplicas/maxReplicas)", p.min.max(1), p.max),
        "desired is the largest proposal over the metrics, as the basic policy's".to_string(),
        format!(
            "stabilisation: scale-down {} s, scale-up {} s (behavior.*.stabilizationWindowSeconds, the same \
             highest/lowest-recommendation rule)",
            secs_ceil(b.down_stabilization),
            secs_ceil(b.up_stabilization)
        ),
        "no rate limit: scale up by up to maxReplicas pods and down by 100 % per 15 s".to_string(),
    ];
    let mut approx = Vec::new();
    if p.min == 0 {
        approx.push(
            "min_replicas 0: a plain HPA keeps at least 1 replica; KEDA scales to 0 only after cooldownPeriod \
             with every trigger inactive"
                .to_string(),
        );
    }
    if b.up_stabilization > 3600 * SECOND || b.down_stabilization > 3600 * SECOND {
        approx.push("stabilisation windows longer than 3600 s are capped at 3600 s (the API's limit)".into());
    }
    if p.initial != p.min.max(1) {
        approx.push(format!(
            "initial = {}: set `spec.replicas` on the Deployment; an autoscaler has no initial count",
            p.initial
        ));
    }
    (exact, approx)
}

/// A basic policy with only CPU rules as an autoscaling/v2 HPA: one Resource cpu Utilization
/// metric per rule.
fn basic_as_hpa(
    p: &PolicySpec,
    name: &str,
    b: &BasicSpec,
    opts: &ExportOptions,
    mut exact: Vec<String>,
    mut approx: Vec<String>,
) -> Exported {
    let mut metrics = Vec::new();
    for m in &b.metrics {
        let MetricRule::Cpu { target, tolerance, window } = *m else { unreachable!() };
        let pct = (target * 100.0).round();
        if (target * 100.0 - pct).abs() > 1e-9 {
            approx.push(format!(
                "target {} % rounded to {pct} % (averageUtilization is whole)",
                target * 100.0
            ));
        }
        if (tolerance - 0.1).abs() > 1e-12 {
            approx.push(format!(
                "tolerance {tolerance}: the HPA's is the cluster's --horizontal-pod-autoscaler-tolerance \
                 (default 0.1)"
            ));
        } else {
            exact.push("the 10 % tolerance band (the HPA's default)".into());
        }
        approx.push(format!(
            "CPU averaged over {} s in the simulation; the HPA reads metrics-server's latest sample \
             (15 s resolution, about 30-60 s behind)",
            secs_ceil(window)
        ));
        exact.push(format!("CPU utilisation target {pct} % of the request (Resource cpu, Utilization)"));
        metrics.push(MetricSpec::resource_utilization("cpu", pct as i32));
    }
    approx.push(format!(
        "decisions every {} s in the simulation; the HPA syncs every 15 s (--horizontal-pod-autoscaler-sync-period)",
        secs_ceil(b.interval)
    ));
    approx.push(
        "the HPA ignores pods not yet ready for CPU during their first minutes (cpu-initialization-period)"
            .into(),
    );
    let spec = HpaSpec {
        scale_target_ref: Some(deployment(&opts.target)),
        min_replicas: Some(p.min.max(1) as i32),
        max_replicas: p.max as i32,
        metrics,
        behavior: Some(basic_behavior(b, p.max)),
    };
    let todo = vec![format!("scaleTargetRef.name `{}`: the Deployment to scale", opts.target)];
    let head = header("HorizontalPodAutoscaler (autoscaling/v2)", p, &exact, &approx, &todo);
    rendered_hpa(name, &spec, opts, &head, todo)
}

/// A basic policy with a non-CPU rule or a schedule as a KEDA ScaledObject: one trigger per
/// rule and per schedule window, polling at the basic interval.
fn basic_as_keda(
    p: &PolicySpec,
    name: &str,
    b: &BasicSpec,
    opts: &ExportOptions,
    mut exact: Vec<String>,
    mut approx: Vec<String>,
) -> Exported {
    let mut todo = vec![format!("scaleTargetRef.name `{}`: the Deployment to scale", opts.target)];
    let mut triggers = basic_metric_triggers(b, opts, &mut exact, &mut approx);
    if b.metrics.iter().any(|m| !matches!(m, MetricRule::Cpu { .. })) {
        approx.push(
            "the simulation reads the offered load directly; Prometheus adds its scrape interval and rate() lag"
                .into(),
        );
    }
    for w in &b.schedules {
        exact.push(format!(
            "{} replicas from `{}` to `{}` ({}): a cron trigger (a floor, as the basic schedule's proposal)",
            w.replicas,
            w.start,
            w.end,
            w.tz.name()
        ));
        triggers.push(KedaTrigger::Cron { window: Box::new(w.clone()) });
    }
    exact.push(format!(
        "KEDA polls every {} s (pollingInterval, the basic interval)",
        secs_ceil(b.interval).max(1)
    ));
    if triggers.iter().any(|t| matches!(t, KedaTrigger::Prometheus { .. })) {
        todo.push(format!(
            "serverAddress `{}` and each prometheus query: your Prometheus and the metric your service exports \
             (the queries assume http_requests_total / http_requests_in_flight labelled service=\"{}\")",
            opts.prometheus, opts.target
        ));
    }
    let behavior = serde_norway::to_value(basic_behavior(b, p.max)).expect("behavior serialises");
    let spec = KedaSpec {
        polling_interval: secs_ceil(b.interval).max(1) * SECOND,
        cooldown_period: keda::defaults::COOLDOWN_PERIOD,
        initial_cooldown_period: 0,
        min_replica_count: p.min,
        max_replica_count: p.max,
        idle_replica_count: None,
        triggers,
        behavior: Some(behavior),
        target: opts.target.clone(),
    };
    let head = header("KEDA ScaledObject (keda.sh/v1alpha1)", p, &exact, &approx, &todo);
    let mut out = rendered_keda(name, &spec, opts, &head, vec![]);
    out.todo = todo;
    out
}

/// The KEDA triggers of a basic policy's metric rules, in order (prometheus for `rps` and
/// `concurrency`, cpu for `cpu`), each noting what it keeps exactly and what it approximates.
fn basic_metric_triggers(
    b: &BasicSpec,
    opts: &ExportOptions,
    exact: &mut Vec<String>,
    approx: &mut Vec<String>,
) -> Vec<KedaTrigger> {
    let mut triggers = Vec::new();
    let selector = format!("{{service=\"{}\"}}", opts.target);
    for m in &b.metrics {
        match *m {
            MetricRule::Rps { target, window, tolerance } => {
                keda_tolerance_note(tolerance, "rps", exact, approx);
                let q = format!("sum(rate(http_requests_total{selector}[{}]))", prom_range(window));
                exact.push(format!(
                    "{} req/s per replica: a prometheus trigger on the total request rate over {} with threshold {} \
                     (AverageValue: desired = ceil(total / threshold))",
                    fmt_num(target),
                    prom_range(window),
                    fmt_num(target)
                ));
                triggers.push(KedaTrigger::Prometheus {
                    series: Series::Rps { window },
                    query: q,
                    server_address: opts.prometheus.clone(),
                    threshold: target,
                    activation_threshold: 0.0,
                    metric_type: MetricType::AverageValue,
                });
            }
            MetricRule::Concurrency { target, window, tolerance } => {
                keda_tolerance_note(tolerance, "concurrency", exact, approx);
                let q =
                    format!("sum(avg_over_time(http_requests_in_flight{selector}[{}]))", prom_range(window));
                exact.push(format!(
                    "{} requests in flight per replica: a prometheus trigger on the total in flight averaged over {} \
                     with threshold {}",
                    fmt_num(target),
                    prom_range(window),
                    fmt_num(target)
                ));
                triggers.push(KedaTrigger::Prometheus {
                    series: Series::Concurrency { window: Some(window) },
                    query: q,
                    server_address: opts.prometheus.clone(),
                    threshold: target,
                    activation_threshold: 0.0,
                    metric_type: MetricType::AverageValue,
                });
            }
            MetricRule::Cpu { target, tolerance, .. } => {
                let pct = (target * 100.0).round();
                exact.push(format!("CPU utilisation target {pct} % (a cpu trigger, Utilization)"));
                keda_tolerance_note(tolerance, "cpu", exact, approx);
                triggers.push(KedaTrigger::Cpu { utilization: pct as u32 });
            }
        }
    }
    triggers
}

/// The basic rule's tolerance against the cluster-wide one of the HPA that KEDA creates.
fn keda_tolerance_note(tolerance: f64, rule: &str, exact: &mut Vec<String>, approx: &mut Vec<String>) {
    if (tolerance - 0.1).abs() > 1e-12 {
        approx.push(format!(
            "{rule} tolerance {tolerance}: the HPA KEDA creates uses the cluster's \
             --horizontal-pod-autoscaler-tolerance (default 0.1)"
        ));
    } else {
        let line = "the 10 % tolerance band (the default of the HPA KEDA creates)".to_string();
        if !exact.contains(&line) {
            exact.push(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_keeps_what_the_rendering_lacks_and_the_spelling_of_equal_scalars() {
        let mut a: Value = serde_norway::from_str(
            "metadata: {name: api, labels: {app: api}}\nspec: {threshold: \"10\", keep: 1, list: [{a: 1, b: 2}]}",
        )
        .unwrap();
        let b: Value = serde_norway::from_str("spec: {threshold: 10, list: [{a: 3}], new: x}").unwrap();
        overlay(&mut a, &b);
        let want: Value = serde_norway::from_str(
            "metadata: {name: api, labels: {app: api}}\nspec: {threshold: \"10\", keep: 1, list: [{a: 3, b: 2}], new: x}",
        )
        .unwrap();
        assert_eq!(a, want);
    }

    fn loaded(text: &str, kind: &str) -> PolicySpec {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("m.yaml"), text).unwrap();
        let scenario = format!(
            "[simulation]\nname = \"x\"\nduration = \"1h\"\n[traffic]\nrate = 10.0\n[service]\nworkers = 2\n\
             [service.demand]\ndistribution = \"exponential\"\nmean = \"100ms\"\n\
             [[policy]]\nname = \"p\"\ntype = \"{kind}\"\nmanifest = \"m.yaml\"\n"
        );
        crate::config::load_str(&scenario, "x.toml", dir.path(), &[]).unwrap().policies.remove(0)
    }

    const KEDA: &str = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: api\n  namespace: prod\n  labels: {app: api}\nspec:\n  scaleTargetRef: {name: api-deploy}\n  minReplicaCount: 2\n  maxReplicaCount: 9\n  triggers:\n  - type: prometheus\n    name: rate\n    metadata: {serverAddress: 'http://p:9090', query: 'sum(rate(http_requests_total[1m]))', threshold: '10', customHeaders: 'a=b'}\n    authenticationRef: {name: auth}\n";

    #[test]
    fn a_setting_changed_in_code_rewrites_only_the_modelled_fields() {
        let mut p = loaded(KEDA, "keda");
        let unchanged = docs_to_yaml(&yaml_docs(KEDA).unwrap());
        assert_eq!(p.to_manifest().unwrap(), unchanged, "an unchanged policy comes back as read");
        let PolicyKind::Keda(k) = &mut p.kind else { panic!() };
        k.keda.max_replica_count = 12;
        let KedaTrigger::Prometheus { threshold, .. } = &mut k.keda.triggers[0] else { panic!() };
        *threshold = 25.0;
        let want = unchanged
            .replace("maxReplicaCount: 9", "maxReplicaCount: 12")
            .replace("threshold: '10'", "threshold: '25'");
        let got = p.to_manifest().unwrap();
        assert_eq!(yaml_docs(&got).unwrap(), yaml_docs(&want).unwrap(), "{got}");

        let svc = "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: api, namespace: prod}\nspec:\n  template:\n    metadata:\n      annotations: {autoscaling.knative.dev/target: '10', team: x}\n    spec:\n      containers: [{image: 'api:1'}]\n";
        let mut p = loaded(svc, "knative");
        let PolicyKind::Knative(k) = &mut p.kind else { panic!() };
        k.target = Some(20.0);
        k.max_scale_up_rate = 5.0;
        let got = yaml_docs(&p.to_manifest().unwrap()).unwrap();
        assert_eq!(got[0]["spec"]["template"]["spec"]["containers"][0]["image"], Value::from("api:1"));
        assert_eq!(got[0]["metadata"]["namespace"], Value::from("prod"));
        let ann = &got[0]["spec"]["template"]["metadata"]["annotations"];
        assert_eq!(
            (ann["autoscaling.knative.dev/target"].as_str(), ann["team"].as_str()),
            (Some("20"), Some("x"))
        );
        assert_eq!(
            got[1]["data"]["max-scale-up-rate"],
            Value::from("5"),
            "the cluster setting in its ConfigMap"
        );

        let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api, labels: {a: b}}\nspec:\n  scaleTargetRef: {kind: Deployment, name: api}\n  maxReplicas: 5\n";
        let mut p = loaded(hpa, "hpa");
        let PolicyKind::Hpa(h) = &mut p.kind else { panic!() };
        h.hpa.max_replicas = 7;
        h.hpa.min_replicas = Some(2);
        let got = yaml_docs(&p.to_manifest().unwrap()).unwrap();
        let want = yaml_docs(&hpa.replace("maxReplicas: 5", "maxReplicas: 7\n  minReplicas: 2")).unwrap();
        assert_eq!(got, want);
    }

    #[test]
    fn basic_policies_render_with_their_settings() {
        use crate::policy::{CronWindow, MetricRule};
        let b = BasicSpec {
            interval: 20 * SECOND,
            metrics: vec![
                MetricRule::Concurrency { target: 4.0, window: 30 * SECOND, tolerance: 0.1 },
                MetricRule::Cpu { target: 0.7, tolerance: 0.1, window: 60 * SECOND },
            ],
            schedules: vec![CronWindow::new("0 8 * * *", "0 18 * * *", chrono_tz::UTC, 6).unwrap()],
            down_stabilization: 120 * SECOND,
            up_stabilization: 0,
        };
        let p = PolicySpec {
            name: "Mixed_1".into(),
            min: 2,
            max: 10,
            initial: 2,
            start: crate::policy::Start::Given,
            kind: PolicyKind::Basic(b),
            activator: None,
        };
        let e = p.export(&ExportOptions::new("api")).unwrap();
        let spec = keda::parse_manifest(&e.yaml, "x", chrono_tz::UTC).unwrap();
        let k = &spec.keda;
        assert_eq!((k.min_replica_count, k.max_replica_count, k.polling_interval), (2, 10, 20 * SECOND));
        assert!(
            matches!(k.triggers[0], KedaTrigger::Prometheus { threshold: 4.0, series: Series::Concurrency { window: Some(w) }, .. } if w == 30 * SECOND)
        );
        assert_eq!(k.triggers[1], KedaTrigger::Cpu { utilization: 70 });
        assert!(matches!(&k.triggers[2], KedaTrigger::Cron { window } if window.replicas == 6));
        let down = spec.hpa.hpa.behavior.as_ref().unwrap().scale_down.as_ref().unwrap();
        assert_eq!(down.stabilization_window_seconds, Some(120));
        assert!(e.yaml.contains("name: mixed-1") && e.todo.len() == 2, "{e:?}");
        let fixed = PolicySpec::fixed("f", 3).export(&ExportOptions::new("api")).unwrap_err();
        assert!(fixed.to_string().contains("no Kubernetes equivalent"), "{fixed}");
    }

    #[test]
    fn prometheus_ranges() {
        assert_eq!(prom_range(60 * SECOND), "1m");
        assert_eq!(prom_range(90 * SECOND), "90s");
        assert_eq!(prom_range(SECOND / 2), "1s");
    }
}
