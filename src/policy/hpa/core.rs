//! The HPA decision core, as `horizontal.go` and `replica_calculator.go` decide: pre-checks,
//! pod grouping, per-metric proposals with the missing/unready rebalancing, tolerances, the
//! maximum over metrics with the invalid-metric rules, then the legacy or the behavior
//! normalization, and the stored controller state (recommendations, scale events).
//!
//! Pure: no engine, no clock. Times are signed microseconds ([`Micros`]) so that explain cases
//! may use any origin; every window comparison is exact and as strict as upstream's.

use super::spec::{
    HpaSpec, MetricSourceType, MetricSpec, ScalingPolicyType, ScalingRules, SelectPolicy, TargetType,
};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Signed time in microseconds.
pub type Micros = i64;
/// One second in [`Micros`].
pub const SEC: Micros = 1_000_000;

/// The kube-controller-manager settings the HPA reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ControllerSettings {
    /// `--horizontal-pod-autoscaler-tolerance` (0.1).
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (300 s).
    pub cpu_initialization_period: Micros,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (30 s).
    pub initial_readiness_delay: Micros,
    /// `--horizontal-pod-autoscaler-downscale-stabilization` (300 s).
    pub downscale_stabilization: Micros,
}

impl Default for ControllerSettings {
    fn default() -> Self {
        ControllerSettings {
            tolerance: 0.1,
            cpu_initialization_period: 300 * SEC,
            initial_readiness_delay: 30 * SEC,
            downscale_stabilization: 300 * SEC,
        }
    }
}

/// A pod phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not started.
    Pending,
    /// Started.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Failed.
    Failed,
}

/// One pod as the controller sees it: API status plus its latest metric samples.
#[derive(Debug, Clone, PartialEq)]
pub struct PodState {
    /// Name.
    pub name: String,
    /// Phase.
    pub phase: Phase,
    /// The Ready condition; `None` when the pod has none.
    pub ready: Option<bool>,
    /// `status.startTime`.
    pub start_time: Option<Micros>,
    /// The Ready condition's `lastTransitionTime`.
    pub ready_transition: Micros,
    /// Has a deletion timestamp.
    pub deleting: bool,
    /// Requests per resource, milli-units (cpu in millicores, memory in milli-bytes).
    pub requests: BTreeMap<String, i64>,
    /// Latest sample per metric name, milli-units.
    pub metrics: BTreeMap<String, i64>,
    /// Timestamp of the samples.
    pub metric_time: Micros,
    /// Window of the samples.
    pub metric_window: Micros,
}

/// A stored recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    /// When.
    pub time: Micros,
    /// Replicas (unstabilized).
    pub replicas: i64,
}

/// A stored scale event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleEvent {
    /// When.
    pub time: Micros,
    /// |Δreplicas|.
    pub change: i64,
    /// Marked for slot reuse (older than the longest policy period).
    pub outdated: bool,
}

/// What the controller keeps between syncs for one HPA.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ControllerState {
    /// `None` until the first sync stores the initial recommendation.
    pub recommendations: Option<Vec<Recommendation>>,
    /// Scale-up events (behavior path only).
    pub scale_up_events: Vec<ScaleEvent>,
    /// Scale-down events (behavior path only).
    pub scale_down_events: Vec<ScaleEvent>,
}

/// Everything one sync reads.
#[derive(Debug, Clone, Copy)]
pub struct SyncInput<'a> {
    /// Now.
    pub now: Micros,
    /// `scale.spec.replicas`.
    pub current: i64,
    /// `scale.status.replicas`.
    pub status_replicas: i64,
    /// Pods matched by the selector.
    pub pods: &'a [PodState],
    /// Object metrics: name → values (summed), milli-units.
    pub object_metrics: &'a BTreeMap<String, Vec<i64>>,
    /// External metrics: name → series (summed), milli-units.
    pub external_metrics: &'a BTreeMap<String, Vec<i64>>,
}

/// One metric's result.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricResult {
    /// E.g. `Resource cpu`.
    pub label: String,
    /// Proposal, or why the metric is invalid.
    pub proposal: Result<i64, String>,
    /// Within tolerance (proposal = current for that reason).
    pub within_tolerance: bool,
    /// What the controller saw, short (decision log): `cpu=62% (ready 3, unready 1, missing 0)`.
    pub seen: String,
    /// The reasoning, one line.
    pub detail: String,
}

/// The result of one sync.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Replicas the controller writes (or keeps).
    pub desired: i64,
    /// Whether it writes a new scale.
    pub rescale: bool,
    /// Per-metric results.
    pub metrics: Vec<MetricResult>,
    /// Max over valid metrics.
    pub proposal: Option<i64>,
    /// After stabilization.
    pub stabilized: Option<i64>,
    /// After rate limits and bounds.
    pub limited: Option<i64>,
    /// The reason: `within tolerance`, `ScaleUpLimit`, `TooManyReplicas`, `stabilized`, …
    pub reason: String,
    /// Each step of the reasoning, in order.
    pub steps: Vec<String>,
}

/// Per-direction tolerances (`Tolerances.isWithin`, both bounds inclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Below 1.
    pub down: f64,
    /// Above 1.
    pub up: f64,
}

impl Tolerances {
    /// `(1 − down) ≤ ratio ≤ (1 + up)`.
    pub fn is_within(&self, ratio: f64) -> bool {
        (1.0 - self.down) <= ratio && ratio <= (1.0 + self.up)
    }

    /// The tolerances of `spec` (per direction from `behavior`, else the controller's).
    pub fn of(spec: &HpaSpec, ctl: &ControllerSettings) -> Tolerances {
        let pick = |r: Option<&ScalingRules>| {
            r.and_then(|r| r.tolerance.as_ref()).map_or(ctl.tolerance, |q| q.as_f64())
        };
        let b = spec.behavior.as_ref();
        Tolerances {
            down: pick(b.and_then(|b| b.scale_down.as_ref())),
            up: pick(b.and_then(|b| b.scale_up.as_ref())),
        }
    }
}

/// `int32(math.Ceil(x))`, clamped to `MaxInt32` as the recent upstream does.
fn ceil_i32(x: f64) -> i64 {
    if x > i32::MAX as f64 { i32::MAX as i64 } else { x.ceil() as i64 }
}

fn secs(t: Micros) -> String {
    let s = t as f64 / SEC as f64;
    if t % SEC == 0 { format!("{}", t / SEC) } else { format!("{s}") }
}

fn milli_str(v: i64) -> String {
    if v % 1000 == 0 { format!("{}", v / 1000) } else { format!("{v}m") }
}

/// How `groupPods` sorted the pods for one metric.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Groups {
    /// Ready pods with a sample.
    pub ready: Vec<usize>,
    /// Unready (Pending, or CPU readiness rules).
    pub unready: Vec<usize>,
    /// Running without a sample.
    pub missing: Vec<usize>,
    /// Deleted or Failed.
    pub ignored: Vec<usize>,
}

/// `groupPods` for the metric `name` (`cpu` triggers the CPU readiness rules).
pub fn group_pods(pods: &[PodState], name: &str, cpu: bool, ctl: &ControllerSettings, now: Micros) -> Groups {
    let mut g = Groups::default();
    for (i, p) in pods.iter().enumerate() {
        if p.deleting || p.phase == Phase::Failed {
            g.ignored.push(i);
            continue;
        }
        if p.phase == Phase::Pending {
            g.unready.push(i);
            continue;
        }
        if !p.metrics.contains_key(name) {
            g.missing.push(i);
            continue;
        }
        if cpu {
            let unready = match (p.ready, p.start_time) {
                (None, _) | (_, None) => true,
                (Some(ready), Some(start)) => {
                    if start + ctl.cpu_initialization_period > now {
                        !ready || p.metric_time < p.ready_transition + p.metric_window
                    } else {
                        !ready && start + ctl.initial_readiness_delay > p.ready_transition
                    }
                }
            };
            if unready {
                g.unready.push(i);
                continue;
            }
        }
        g.ready.push(i);
    }
    g
}

/// The pod-based calculation (`GetResourceReplicas` with `utilization = Some(target%)`, or
/// `calcPlainMetricReplicas` with `target_milli`).
struct PodCalc<'a> {
    pods: &'a [PodState],
    name: &'a str,
    resource: bool,
    utilization: Option<i32>,
    target_milli: i64,
}

/// One pod-based metric's proposal, as `GetResourceReplicas` / `calcPlainMetricReplicas` compute
/// it: `groupPods`, the usage ratio over the ready pods, then the missing/unready rebalance.
fn pod_based(c: &PodCalc, input: &SyncInput, ctl: &ControllerSettings, tol: Tolerances) -> MetricResult {
    let cpu = c.resource && c.name == "cpu";
    let g = group_pods(c.pods, c.name, cpu, ctl, input.now);
    let counts = format!(
        "ready {}, unready {}, missing {}, ignored {}",
        g.ready.len(),
        g.unready.len(),
        g.missing.len(),
        g.ignored.len()
    );
    let short_counts =
        format!("ready {}, unready {}, missing {}", g.ready.len(), g.unready.len(), g.missing.len());
    let mut r = MetricResult {
        label: String::new(),
        proposal: Err(String::new()),
        within_tolerance: false,
        seen: format!("{}=? ({short_counts})", c.name),
        detail: String::new(),
    };
    if c.pods.is_empty() {
        r.proposal = Err("no pods returned by selector while calculating replica count".into());
        return r;
    }
    let mut metrics = remove_metrics_for_pods(c, &g);
    if metrics.is_empty() {
        r.proposal =
            Err(format!("did not receive metrics for targeted pods (pods might be unready) ({counts})"));
        return r;
    }
    let requests = match calculate_pod_requests(c) {
        Ok(v) => v,
        Err(e) => {
            r.proposal = Err(e);
            return r;
        }
    };
    let (ratio, shown, how) = match usage_ratio(c, requests.as_deref(), &metrics) {
        Ok(x) => x,
        Err(e) => {
            r.proposal = Err(e);
            return r;
        }
    };
    let target_s = match c.utilization {
        Some(t) => format!("{t}%"),
        None => milli_str(c.target_milli),
    };
    r.seen = match c.utilization {
        Some(_) => format!("{}={shown}% ({short_counts})", c.name),
        None => format!("{}={} ({short_counts})", c.name, milli_str(shown)),
    };
    let band = format!("[{}, {}]", 1.0 - tol.down, 1.0 + tol.up);
    let mut d = format!("pods: {counts}; {how}; ratio {ratio:.4} to target {target_s}");
    let scale_up_with_unready = !g.unready.is_empty() && ratio > 1.0;
    if !scale_up_with_unready && g.missing.is_empty() {
        if tol.is_within(ratio) {
            let _ = write!(d, " within tolerance {band} → keep {}", input.current);
            r.within_tolerance = true;
            r.proposal = Ok(input.current);
        } else {
            let p = ceil_i32(ratio * g.ready.len() as f64);
            let _ = write!(d, " → ceil({ratio:.4} × {} ready) = {p}", g.ready.len());
            r.proposal = Ok(p);
        }
        r.detail = d;
        return r;
    }
    if !g.missing.is_empty() {
        rebalance_missing_pods(c, requests.as_deref(), &g, ratio, &mut metrics, &mut d);
    }
    if scale_up_with_unready {
        rebalance_unready_pods(&g, &mut metrics, &mut d);
    }
    let (new_ratio, _, new_how) = match usage_ratio(c, requests.as_deref(), &metrics) {
        Ok(x) => x,
        Err(e) => {
            r.proposal = Err(e);
            return r;
        }
    };
    let _ = write!(d, "; recomputed {new_how}, ratio {new_ratio:.4}");
    let (p, within) = rebalanced_replicas(ratio, new_ratio, metrics.len(), input.current, tol, &band, &mut d);
    r.within_tolerance = within;
    r.proposal = Ok(p);
    r.detail = d;
    r
}

/// `removeMetricsForPods` for the ignored and the unready pods: the samples that remain are
/// those of the ready pods, as (pod index, value) in pod order.
fn remove_metrics_for_pods(c: &PodCalc, g: &Groups) -> Vec<(usize, i64)> {
    g.ready.iter().map(|&i| (i, c.pods[i].metrics[c.name])).collect()
}

/// `calculatePodRequests`: each pod's request for the resource, in pod order, when the target
/// is a utilization (`None` otherwise); an error names the first pod without one.
fn calculate_pod_requests(c: &PodCalc) -> Result<Option<Vec<i64>>, String> {
    if c.utilization.is_none() {
        return Ok(None);
    }
    let mut v = Vec::with_capacity(c.pods.len());
    for p in c.pods {
        match p.requests.get(c.name) {
            Some(&q) => v.push(q),
            None => return Err(format!("missing request for {} in pod {}", c.name, p.name)),
        }
    }
    Ok(Some(v))
}

/// `GetResourceUtilizationRatio` (with `requests` and a utilization target) or
/// `GetMetricUsageRatio` (the average against `target_milli`) over the samples `m`: the ratio,
/// the value shown (utilization % or average milli-units) and how it was computed.
fn usage_ratio(
    c: &PodCalc,
    requests: Option<&[i64]>,
    m: &[(usize, i64)],
) -> Result<(f64, i64, String), String> {
    match (requests, c.utilization) {
        (Some(req), Some(target)) => {
            let (mut total, mut reqs) = (0i64, 0i64);
            for &(i, v) in m {
                total += v;
                reqs += req[i];
            }
            if reqs == 0 {
                return Err("no metrics returned matched known pods".into());
            }
            let util = (total * 100 / reqs) as i32;
            Ok((
                util as f64 / target as f64,
                util as i64,
                format!("utilization {util}% = {} used / {} requested", milli_str(total), milli_str(reqs)),
            ))
        }
        _ => {
            let total: i64 = m.iter().map(|x| x.1).sum();
            let avg = total / m.len() as i64;
            Ok((
                avg as f64 / c.target_milli as f64,
                avg,
                format!("average {} = {} / {} pods", milli_str(avg), milli_str(total), m.len()),
            ))
        }
    }
}

/// The missing pods' rebalance: on a scale-down (`ratio` < 1) they count as using
/// max(100 %, target) of their request (utilization) or the target (plain metrics); on a
/// scale-up (`ratio` > 1) as using 0.
fn rebalance_missing_pods(
    c: &PodCalc,
    requests: Option<&[i64]>,
    g: &Groups,
    ratio: f64,
    metrics: &mut Vec<(usize, i64)>,
    d: &mut String,
) {
    if ratio < 1.0 {
        for &i in &g.missing {
            let v = match (requests, c.utilization) {
                (Some(req), Some(t)) => req[i] * (t.max(100) as i64) / 100,
                _ => c.target_milli,
            };
            metrics.push((i, v));
        }
        let _ = write!(
            d,
            "; scale-down: {} missing pod(s) assumed at {}",
            g.missing.len(),
            if c.utilization.is_some() { "max(100%, target) of their request" } else { "the target" }
        );
    } else if ratio > 1.0 {
        for &i in &g.missing {
            metrics.push((i, 0));
        }
        let _ = write!(d, "; scale-up: {} missing pod(s) assumed at 0", g.missing.len());
    }
}

/// The unready pods' rebalance, on a scale-up only: they count as using 0.
fn rebalance_unready_pods(g: &Groups, metrics: &mut Vec<(usize, i64)>, d: &mut String) {
    for &i in &g.unready {
        metrics.push((i, 0));
    }
    let _ = write!(d, "; scale-up: {} unready pod(s) assumed at 0", g.unready.len());
}

/// The replicas after the rebalance, from the ratio before (`ratio`) and after (`new_ratio`)
/// over `n` samples: `current` when the new ratio is within tolerance (then also `true`), flips
/// the direction, or gives a count that moves against it; else ceil(new_ratio × n).
fn rebalanced_replicas(
    ratio: f64,
    new_ratio: f64,
    n: usize,
    current: i64,
    tol: Tolerances,
    band: &str,
    d: &mut String,
) -> (i64, bool) {
    if tol.is_within(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0) {
        let within = tol.is_within(new_ratio);
        if within {
            let _ = write!(d, " within tolerance {band}");
        } else {
            let _ = write!(d, " flips the direction");
        }
        let _ = write!(d, " → keep {current}");
        return (current, within);
    }
    let p = ceil_i32(new_ratio * n as f64);
    if (new_ratio < 1.0 && p > current) || (new_ratio > 1.0 && p < current) {
        let _ = write!(d, " → ceil({new_ratio:.4} × {n}) = {p} moves against the ratio → keep {current}");
        (current, false)
    } else {
        let _ = write!(d, " → ceil({new_ratio:.4} × {n} pods) = {p}");
        (p, false)
    }
}

fn ready_pods(pods: &[PodState]) -> i64 {
    pods.iter().filter(|p| p.phase == Phase::Running && p.ready == Some(true)).count() as i64
}

/// `GetObjectMetricReplicas` / `GetExternalMetricReplicas` (Value targets).
fn value_based(usage: i64, target: i64, input: &SyncInput, tol: Tolerances, name: &str) -> MetricResult {
    let ratio = usage as f64 / target as f64;
    let mut r = MetricResult {
        label: String::new(),
        proposal: Ok(0),
        within_tolerance: false,
        seen: format!("{name}={}", milli_str(usage)),
        detail: format!("value {} to target {}: ratio {ratio:.4}", milli_str(usage), milli_str(target)),
    };
    if input.current != 0 {
        if tol.is_within(ratio) {
            r.within_tolerance = true;
            r.proposal = Ok(input.current);
            let _ = write!(r.detail, " within tolerance → keep {}", input.current);
        } else {
            if input.pods.is_empty() {
                r.proposal = Err("unable to calculate ready pods: no pods returned by selector".into());
                return r;
            }
            let ready = ready_pods(input.pods);
            let p = ceil_i32(ratio * ready as f64);
            let _ = write!(r.detail, " → ceil({ratio:.4} × {ready} ready pods) = {p}");
            r.proposal = Ok(p);
        }
    } else {
        let p = ceil_i32(ratio);
        let _ = write!(r.detail, "; from 0 replicas → ceil({ratio:.4}) = {p}");
        r.proposal = Ok(p);
    }
    r
}

/// `GetObjectPerPodMetricReplicas` / `GetExternalPerPodMetricReplicas` (AverageValue targets).
fn per_pod_based(usage: i64, target: i64, input: &SyncInput, tol: Tolerances, name: &str) -> MetricResult {
    let status = input.status_replicas;
    let ratio = usage as f64 / (target as f64 * status as f64);
    let mut r = MetricResult {
        label: String::new(),
        proposal: Ok(status),
        within_tolerance: false,
        seen: format!("{name}={}", milli_str(usage)),
        detail: format!(
            "value {} to target {} × {status} status replicas: ratio {ratio:.4}",
            milli_str(usage),
            milli_str(target)
        ),
    };
    if !tol.is_within(ratio) {
        let p = ceil_i32(usage as f64 / target as f64);
        let _ = write!(r.detail, " → ceil({} / {}) = {p}", milli_str(usage), milli_str(target));
        r.proposal = Ok(p);
    } else {
        r.within_tolerance = true;
        let _ = write!(r.detail, " within tolerance → keep {status} (status replicas)");
    }
    r
}

/// One metric's proposal (`computeReplicasForMetric`).
pub fn metric_proposal(
    m: &MetricSpec,
    input: &SyncInput,
    ctl: &ControllerSettings,
    tol: Tolerances,
) -> MetricResult {
    let label = m.label();
    let invalid = |why: String| MetricResult {
        label: label.clone(),
        proposal: Err(why),
        within_tolerance: false,
        seen: String::new(),
        detail: String::new(),
    };
    let mut r = match m.kind {
        MetricSourceType::Resource | MetricSourceType::ContainerResource => {
            let (name, target) = match (&m.resource, &m.container_resource) {
                (Some(r), _) => (r.name.as_str(), &r.target),
                (_, Some(r)) => (r.name.as_str(), &r.target),
                _ => return invalid("resource source not set".into()),
            };
            let calc = match (target.kind, &target.average_value, target.average_utilization) {
                (TargetType::AverageValue, Some(v), _) => PodCalc {
                    pods: input.pods,
                    name,
                    resource: true,
                    utilization: None,
                    target_milli: v.milli(),
                },
                (TargetType::Utilization, _, Some(u)) => {
                    PodCalc { pods: input.pods, name, resource: true, utilization: Some(u), target_milli: 0 }
                }
                _ => {
                    return invalid(
                        "invalid resource metric source: neither an average utilization target nor an average value target was set"
                            .into(),
                    );
                }
            };
            pod_based(&calc, input, ctl, tol)
        }
        MetricSourceType::Pods => {
            let Some(p) = &m.pods else { return invalid("pods source not set".into()) };
            let Some(v) = &p.target.average_value else {
                return invalid("pods metric needs an averageValue target".into());
            };
            let calc = PodCalc {
                pods: input.pods,
                name: &p.metric.name,
                resource: false,
                utilization: None,
                target_milli: v.milli(),
            };
            pod_based(&calc, input, ctl, tol)
        }
        MetricSourceType::Object | MetricSourceType::External => {
            let (name, target, source) = match (&m.object, &m.external) {
                (Some(o), _) if m.kind == MetricSourceType::Object => {
                    (&o.metric.name, &o.target, input.object_metrics)
                }
                (_, Some(e)) if m.kind == MetricSourceType::External => {
                    (&e.metric.name, &e.target, input.external_metrics)
                }
                _ => return invalid("metric source not set".into()),
            };
            let Some(values) = source.get(name.as_str()) else {
                return invalid(format!("unable to get metric {name}: not available"));
            };
            let usage = values.iter().fold(0i64, |a, &v| a.saturating_add(v));
            // Object: Value first; External: AverageValue first (as computeStatusFor*Metric).
            let value_first = m.kind == MetricSourceType::Object;
            match (value_first, &target.value, &target.average_value) {
                (true, Some(v), _) | (false, Some(v), None) => {
                    value_based(usage, v.milli(), input, tol, name)
                }
                (_, _, Some(a)) => per_pod_based(usage, a.milli(), input, tol, name),
                _ => return invalid("neither a value target nor an average value target was set".into()),
            }
        }
    };
    r.label = label;
    r
}

/// The whole reconcile (`reconcileAutoscaler`), mutating `state` as the controller does.
/// `spec` should be defaulted ([`HpaSpec::with_defaults`]).
pub fn reconcile(
    spec: &HpaSpec,
    ctl: &ControllerSettings,
    state: &mut ControllerState,
    input: &SyncInput,
) -> Outcome {
    let now = input.now;
    let current = input.current;
    let mut o = Outcome { desired: current, ..Outcome::default() };
    if state.recommendations.is_none() {
        state.recommendations = Some(vec![Recommendation { time: now, replicas: current }]);
        o.steps.push(format!("first sync: initial recommendation {current} stored at t={}", secs(now)));
    }
    let min = spec.min() as i64;
    let max = spec.max_replicas as i64;
    if current == 0 && min != 0 {
        o.reason = "ScalingDisabled".into();
        o.steps.push(
            "currentReplicas 0 with minReplicas != 0: scaling is disabled (ScalingActive=False)".into(),
        );
        return o;
    }
    if current > max {
        o.desired = max;
        o.rescale = true;
        o.limited = Some(max);
        o.reason = "TooManyReplicas".into();
        o.steps
            .push(format!("currentReplicas {current} > maxReplicas {max}: scale to {max} without metrics"));
    } else if current < min {
        o.desired = min;
        o.rescale = true;
        o.limited = Some(min);
        o.reason = "TooFewReplicas".into();
        o.steps
            .push(format!("currentReplicas {current} < minReplicas {min}: scale to {min} without metrics"));
    } else {
        o.steps.push(format!("currentReplicas {current} within [{min}, {max}]: compute metrics"));
        let tol = Tolerances::of(spec, ctl);
        let (mut best, mut invalid) = (0i64, 0usize);
        for (i, m) in spec.metrics.iter().enumerate() {
            let r = metric_proposal(m, input, ctl, tol);
            match &r.proposal {
                Ok(p) => {
                    o.steps.push(format!("metric[{i}] {}: {} ⇒ proposal {p}", r.label, r.detail));
                    if best == 0 || *p > best {
                        best = *p;
                    }
                }
                Err(e) => {
                    invalid += 1;
                    o.steps.push(format!("metric[{i}] {}: invalid: {e}", r.label));
                }
            }
            o.metrics.push(r);
        }
        let n = spec.metrics.len();
        if invalid >= n || (invalid > 0 && best < current) {
            o.reason = "FailedGetMetrics".into();
            o.steps.push(if invalid >= n {
                format!("all {n} metric(s) invalid: no scaling")
            } else {
                format!("{invalid} of {n} metric(s) invalid and the valid ones propose {best} < {current}: no scaling")
            });
            return o;
        }
        o.proposal = Some(best);
        o.steps.push(format!(
            "proposal: max over {} valid metric(s) = {best}{}",
            n - invalid,
            if invalid > 0 { format!(" ({invalid} invalid, scale-up allowed)") } else { String::new() }
        ));
        let (desired, limit_reason) = match &spec.behavior {
            None => normalize_legacy(spec, ctl, state, &mut o, now, current, best),
            Some(_) => normalize_with_behavior(spec, ctl, state, &mut o, now, current, best),
        };
        o.desired = desired;
        o.rescale = desired != current;
        let within = o.metrics.iter().all(|m| m.within_tolerance || m.proposal.is_err());
        o.reason = if let Some(l) = limit_reason {
            l.to_string()
        } else if o.stabilized != Some(best) {
            "stabilized".into()
        } else if desired == current && within {
            "within tolerance".into()
        } else if desired == current {
            "no change".into()
        } else {
            let m = o.metrics.iter().find(|m| m.proposal == Ok(best)).map_or("metrics", |m| m.label.as_str());
            m.to_string()
        };
    }
    if o.rescale {
        store_scale_event(spec, state, now, current, o.desired);
        if spec.behavior.is_some() {
            o.steps.push(format!("scale event stored: {current} → {} at t={}", o.desired, secs(now)));
        }
    }
    o
}

/// The stored recommendations oldest first (the controller keeps them in slots it reuses, so
/// not in time order), as `replicas@-age`, each marked with the window(s) it falls outside of
/// (`outside` says which, or `None` when it counts).
fn rec_list(
    recs: &[Recommendation],
    now: Micros,
    outside: impl Fn(&Recommendation) -> Option<&'static str>,
) -> String {
    let mut sorted: Vec<&Recommendation> = recs.iter().collect();
    sorted.sort_by_key(|r| r.time);
    let v: Vec<String> = sorted
        .iter()
        .map(|r| {
            let mark = outside(r).map_or(String::new(), |w| format!(" ({w})"));
            format!("{}@-{}s{mark}", r.replicas, secs(now - r.time))
        })
        .collect();
    if v.is_empty() { "none".into() } else { v.join(", ") }
}

fn normalize_legacy(
    spec: &HpaSpec,
    ctl: &ControllerSettings,
    state: &mut ControllerState,
    o: &mut Outcome,
    now: Micros,
    current: i64,
    desired: i64,
) -> (i64, Option<&'static str>) {
    // stabilizeRecommendation: max over recommendations not older than the window.
    let recs = state.recommendations.get_or_insert_with(Vec::new);
    let cutoff = now - ctl.downscale_stabilization;
    let mut stabilized = desired;
    let mut old = None;
    for (i, r) in recs.iter().enumerate() {
        if r.time < cutoff {
            old = Some(i);
        } else {
            stabilized = stabilized.max(r.replicas);
        }
    }
    let shown = rec_list(recs, now, |r| (r.time < cutoff).then_some("outside the window"));
    let rec = Recommendation { time: now, replicas: desired };
    match old {
        Some(i) => recs[i] = rec,
        None => recs.push(rec),
    }
    o.stabilized = Some(stabilized);
    o.steps.push(format!(
        "no behavior: downscale stabilization over {}s: max({desired}, stored recommendations: {shown}) = {stabilized}",
        secs(ctl.downscale_stabilization),
    ));
    // convertDesiredReplicasWithRules.
    let min = spec.min() as i64;
    let max = spec.max_replicas as i64;
    let scale_up_limit = (2.0 * current as f64).max(4.0) as i64;
    let (max_allowed, cond) =
        if max > scale_up_limit { (scale_up_limit, "ScaleUpLimit") } else { (max, "TooManyReplicas") };
    let (out, reason) = if stabilized < min {
        (min, Some("TooFewReplicas"))
    } else if stabilized > max_allowed {
        (max_allowed, Some(cond))
    } else {
        (stabilized, None)
    };
    o.limited = Some(out);
    o.steps.push(format!(
        "limits: scaleUpLimit max(2×{current}, 4) = {scale_up_limit}, allowed [{min}, {max_allowed}] → {out}{}",
        reason.map_or(String::new(), |r| format!(" ({r})"))
    ));
    (out, reason)
}

fn rules(spec: &HpaSpec, up: bool) -> ScalingRules {
    let b = spec.behavior.as_ref();
    let r = if up { b.and_then(|b| b.scale_up.as_ref()) } else { b.and_then(|b| b.scale_down.as_ref()) };
    r.cloned().unwrap_or_else(|| {
        if up { super::spec::default_scale_up() } else { super::spec::default_scale_down() }
    })
}

/// `getReplicasChangePerPeriod`: events strictly newer than `now − period`.
fn change_in_period(events: &[ScaleEvent], now: Micros, period_s: i32) -> i64 {
    let cutoff = now - period_s as i64 * SEC;
    events.iter().filter(|e| e.time > cutoff).map(|e| e.change).sum()
}

/// `normalizeDesiredReplicasWithBehaviors`: the stabilised recommendation, then the rate limits
/// of the direction it moves (`convertDesiredReplicasWithBehaviorRate`) and the bounds.
fn normalize_with_behavior(
    spec: &HpaSpec,
    ctl: &ControllerSettings,
    state: &mut ControllerState,
    o: &mut Outcome,
    now: Micros,
    current: i64,
    desired: i64,
) -> (i64, Option<&'static str>) {
    let up = rules(spec, true);
    let down = rules(spec, false);
    let w_up = up.stabilization_window_seconds.unwrap_or(0) as i64 * SEC;
    // maybeInitScaleDownStabilizationWindow.
    let w_down = down.stabilization_window_seconds.map_or(ctl.downscale_stabilization, |w| w as i64 * SEC);
    let recs = state.recommendations.get_or_insert_with(Vec::new);
    let stabilized = stabilize_recommendation_with_behaviors(recs, o, now, current, desired, w_up, w_down);
    let min = spec.min() as i64;
    let max = spec.max_replicas as i64;
    if stabilized > current {
        scale_up_with_behavior_rate(&up, state, o, now, current, stabilized, max)
    } else if stabilized < current {
        scale_down_with_behavior_rate(&down, state, o, now, current, stabilized, min)
    } else {
        o.limited = Some(stabilized);
        o.steps.push(format!("no change after stabilization: {stabilized}"));
        (stabilized, None)
    }
}

/// `stabilizeRecommendationWithBehaviors`: `current` clamped between the lowest recommendation
/// of the scaleUp window `w_up` and the highest of the scaleDown window `w_down` (`desired`
/// included), then `desired` stored in the slot of an entry older than both windows, or added.
fn stabilize_recommendation_with_behaviors(
    recs: &mut Vec<Recommendation>,
    o: &mut Outcome,
    now: Micros,
    current: i64,
    desired: i64,
    w_up: Micros,
    w_down: Micros,
) -> i64 {
    let (up_cut, down_cut) = (now - w_up, now - w_down);
    let (mut up_rec, mut down_rec) = (desired, desired);
    let mut old = None;
    for (i, r) in recs.iter().enumerate() {
        if r.time > up_cut {
            up_rec = up_rec.min(r.replicas);
        }
        if r.time > down_cut {
            down_rec = down_rec.max(r.replicas);
        }
        if r.time < up_cut && r.time < down_cut {
            old = Some(i);
        }
    }
    // A window of 0 s holds nothing by design: marking every entry outside it would be noise,
    // unless both are 0.
    let shown = rec_list(recs, now, |r| {
        let up = w_up > 0 && r.time <= up_cut;
        let down = w_down > 0 && r.time <= down_cut;
        match (up, down) {
            _ if w_up == 0 && w_down == 0 => Some("outside both windows"),
            (true, true) => Some("outside both windows"),
            (true, false) => Some("outside the scaleUp window"),
            (false, true) => Some("outside the scaleDown window"),
            (false, false) => None,
        }
    });
    let stabilized = current.max(up_rec).min(down_rec);
    let rec = Recommendation { time: now, replicas: desired };
    match old {
        Some(i) => recs[i] = rec,
        None => recs.push(rec),
    }
    o.stabilized = Some(stabilized);
    o.steps.push(format!(
        "behavior: stabilization (stored recommendations, oldest first: {shown}): min over scaleUp window {}s = {up_rec}, max over scaleDown window {}s = {down_rec} → clamp({current}, {up_rec}, {down_rec}) = {stabilized}",
        secs(w_up),
        secs(w_down)
    ));
    stabilized
}

/// A rules' policies as the explanation lists them: `Pods 4 per 15s, Percent 100 per 15s`.
fn policies_text(r: &ScalingRules) -> String {
    r.policies
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .map(|p| format!("{:?} {} per {}s", p.kind, p.value, p.period_seconds))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scale-up half of `convertDesiredReplicasWithBehaviorRate`: `stabilized` capped by the
/// scale-up limit (never below `current`) and by `max`.
fn scale_up_with_behavior_rate(
    up: &ScalingRules,
    state: &ControllerState,
    o: &mut Outcome,
    now: Micros,
    current: i64,
    stabilized: i64,
    max: i64,
) -> (i64, Option<&'static str>) {
    let select = up.select_policy.unwrap_or(SelectPolicy::Max);
    let (mut limit, parts) = calculate_scale_up_limit_with_scaling_rules(up, select, state, now, current);
    if limit < current {
        limit = current;
    }
    let (max_allowed, cond) = if max > limit { (limit, "ScaleUpLimit") } else { (max, "TooManyReplicas") };
    let (out, reason) = if stabilized > max_allowed { (max_allowed, Some(cond)) } else { (stabilized, None) };
    o.limited = Some(out);
    o.steps.push(format!(
        "scaleUp rate limit (selectPolicy {select:?}; {}): [{}] → limit {limit}, maxAllowed {max_allowed} → {out}{}",
        policies_text(up),
        parts.join("; "),
        reason.map_or(String::new(), |r| format!(" ({r})"))
    ));
    (out, reason)
}

/// `calculateScaleUpLimitWithScalingRules`: over the policies, the highest (`Max`) or lowest
/// (`Min`) of each period's start replicas plus its allowance; `current` when `Disabled`. With
/// each policy's arithmetic, for the explanation.
fn calculate_scale_up_limit_with_scaling_rules(
    up: &ScalingRules,
    select: SelectPolicy,
    state: &ControllerState,
    now: Micros,
    current: i64,
) -> (i64, Vec<String>) {
    let mut limit = if select == SelectPolicy::Min { i64::from(i32::MAX) } else { i64::from(i32::MIN) };
    let mut parts = Vec::new();
    if select == SelectPolicy::Disabled {
        limit = current;
    } else {
        for p in up.policies.as_deref().unwrap_or(&[]) {
            let added = change_in_period(&state.scale_up_events, now, p.period_seconds);
            let deleted = change_in_period(&state.scale_down_events, now, p.period_seconds);
            let start = current - added + deleted;
            let proposed = match p.kind {
                ScalingPolicyType::Pods => start + p.value as i64,
                ScalingPolicyType::Percent => ceil_i32(start as f64 * (1.0 + p.value as f64 / 100.0)),
            };
            parts.push(format!("{:?} {}/{}s from {start} → {proposed}", p.kind, p.value, p.period_seconds));
            limit = if select == SelectPolicy::Min { limit.min(proposed) } else { limit.max(proposed) };
        }
    }
    (limit, parts)
}

/// The scale-down half of `convertDesiredReplicasWithBehaviorRate`: `stabilized` raised to the
/// scale-down limit (never above `current`) and to `min`.
fn scale_down_with_behavior_rate(
    down: &ScalingRules,
    state: &ControllerState,
    o: &mut Outcome,
    now: Micros,
    current: i64,
    stabilized: i64,
    min: i64,
) -> (i64, Option<&'static str>) {
    let select = down.select_policy.unwrap_or(SelectPolicy::Max);
    let (mut limit, parts) = calculate_scale_down_limit_with_behaviors(down, select, state, now, current);
    if limit > current {
        limit = current;
    }
    let (min_allowed, cond) = if min < limit { (limit, "ScaleDownLimit") } else { (min, "TooFewReplicas") };
    let (out, reason) = if stabilized < min_allowed { (min_allowed, Some(cond)) } else { (stabilized, None) };
    o.limited = Some(out);
    o.steps.push(format!(
        "scaleDown rate limit (selectPolicy {select:?}; {}): [{}] → limit {limit}, minAllowed {min_allowed} → {out}{}",
        policies_text(down),
        parts.join("; "),
        reason.map_or(String::new(), |r| format!(" ({r})"))
    ));
    (out, reason)
}

/// `calculateScaleDownLimitWithBehaviors`: over the policies, the lowest (`Max`: the largest
/// change) or highest (`Min`) of each period's start replicas minus its allowance; `current`
/// when `Disabled`. With each policy's arithmetic, for the explanation.
fn calculate_scale_down_limit_with_behaviors(
    down: &ScalingRules,
    select: SelectPolicy,
    state: &ControllerState,
    now: Micros,
    current: i64,
) -> (i64, Vec<String>) {
    let mut limit = if select == SelectPolicy::Min { i64::from(i32::MIN) } else { i64::from(i32::MAX) };
    let mut parts = Vec::new();
    if select == SelectPolicy::Disabled {
        limit = current;
    } else {
        for p in down.policies.as_deref().unwrap_or(&[]) {
            let added = change_in_period(&state.scale_up_events, now, p.period_seconds);
            let deleted = change_in_period(&state.scale_down_events, now, p.period_seconds);
            let start = current - added + deleted;
            let proposed = match p.kind {
                ScalingPolicyType::Pods => start - p.value as i64,
                ScalingPolicyType::Percent => (start as f64 * (1.0 - p.value as f64 / 100.0)) as i64,
            };
            parts.push(format!("{:?} {}/{}s from {start} → {proposed}", p.kind, p.value, p.period_seconds));
            limit = if select == SelectPolicy::Min { limit.max(proposed) } else { limit.min(proposed) };
        }
    }
    (limit, parts)
}

/// `storeScaleEvent` (behavior path only): mark events older than the longest policy period
/// outdated, overwrite the last outdated slot or append.
fn store_scale_event(spec: &HpaSpec, state: &mut ControllerState, now: Micros, prev: i64, new: i64) {
    if spec.behavior.is_none() {
        return;
    }
    let up = new > prev;
    let r = rules(spec, up);
    let longest = r.policies.as_deref().unwrap_or(&[]).iter().map(|p| p.period_seconds).max().unwrap_or(0);
    let events = if up { &mut state.scale_up_events } else { &mut state.scale_down_events };
    let cutoff = now - longest as i64 * SEC;
    let mut slot = None;
    for (i, e) in events.iter_mut().enumerate() {
        if e.time < cutoff {
            e.outdated = true;
        }
        if e.outdated {
            slot = Some(i);
        }
    }
    let ev = ScaleEvent { time: now, change: (new - prev).abs(), outdated: false };
    match slot {
        Some(i) => events[i] = ev,
        None => events.push(ev),
    }
}

#[cfg(test)]
mod tests;
