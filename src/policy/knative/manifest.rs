//! Knative manifests in and out: a `Service` (serving.knative.dev/v1) with
//! `autoscaling.knative.dev/*` annotations on `spec.template.metadata.annotations`,
//! `containerConcurrency` and `timeoutSeconds` on `spec.template.spec`, optionally followed (in
//! the same multi-document YAML) by the cluster's `config-autoscaler` and `config-deployment`
//! ConfigMaps for the settings a revision cannot override (max scale-up / scale-down rates,
//! scale-to-zero grace period, enable-scale-to-zero, progress deadline, …). ConfigMap values are
//! the cluster defaults; annotations override them, as in Knative.
//!
//! [`to_manifest`] writes every annotation the simulation uses explicitly, and the ConfigMaps
//! only when a cluster-level setting differs from Knative's default, so that
//! `parse_manifest(to_manifest(spec))` gives `spec` back.

use super::spec::{KnativePolicySpec, KpaMetric};
use crate::time::{MILLISECOND, SECOND, Time};
use serde::Deserialize;
use serde_norway::Value;
use std::fmt::{self, Write};

/// Why a manifest could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// Where the manifest came from (a file name).
    pub origin: String,
    /// 1-based line of the offending key, when known.
    pub line: Option<usize>,
    /// The field or annotation at fault.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}: {}: {}", self.origin, l, self.field, self.message),
            None => write!(f, "{}: {}: {}", self.origin, self.field, self.message),
        }
    }
}

impl std::error::Error for ManifestError {}

const PREFIX: &str = "autoscaling.knative.dev/";

/// Every setting [`apply`] knows (annotation suffixes and ConfigMap keys), for did-you-mean.
const KNOWN_SETTINGS: &[&str] = &[
    "activation-scale",
    "activator-capacity",
    "allow-zero-initial-scale",
    "class",
    "container-concurrency-target-default",
    "container-concurrency-target-percentage",
    "enable-scale-to-zero",
    "initial-scale",
    "max-scale",
    "max-scale-down-rate",
    "max-scale-limit",
    "max-scale-up-rate",
    "metric",
    "metric-aggregation-algorithm",
    "min-scale",
    "panic-threshold-percentage",
    "panic-window",
    "panic-window-percentage",
    "pod-autoscaler-class",
    "progress-deadline",
    "progress-deadline-seconds",
    "registration-timeout",
    "tick-interval",
    "requests-per-second-target-default",
    "scale-down-delay",
    "scale-to-zero-grace-period",
    "scale-to-zero-pod-retention",
    "scale-to-zero-pod-retention-period",
    "stable-window",
    "target",
    "target-burst-capacity",
    "target-utilization-percentage",
    "window",
];
const KPA_CLASS: &str = "kpa.autoscaling.knative.dev";

/// Parses a Go-style duration (`90s`, `1m30s`, `1h`, `500ms`, `0`).
pub fn parse_duration(s: &str) -> Option<Time> {
    let s = s.trim();
    if s == "0" {
        return Some(0);
    }
    let mut rest = s;
    let mut total: f64 = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if n == 0 {
            return None;
        }
        let v: f64 = rest[..n].parse().ok()?;
        rest = &rest[n..];
        let u = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let unit = match &rest[..u] {
            "h" => 3600.0 * SECOND as f64,
            "m" => 60.0 * SECOND as f64,
            "s" => SECOND as f64,
            "ms" => MILLISECOND as f64,
            "us" | "µs" => 1.0,
            _ => return None,
        };
        rest = &rest[u..];
        total += v * unit;
    }
    // Longer than any simulation (or not a number): refused rather than wrapped.
    (total.is_finite() && total <= crate::time::MAX_VALUE_SECS * SECOND as f64).then(|| total.round() as Time)
}

/// Formats a duration the way Go parses it (`60s`, `1500ms`).
pub fn format_duration(t: Time) -> String {
    if t.is_multiple_of(SECOND) {
        format!("{}s", t / SECOND)
    } else if t.is_multiple_of(MILLISECOND) {
        format!("{}ms", t / MILLISECOND)
    } else {
        format!("{t}us")
    }
}

struct Ctx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Ctx<'_> {
    /// The first line mentioning `key`, 1-based.
    fn line_of(&self, key: &str) -> Option<usize> {
        let with_colon = format!("{key}:");
        self.text.lines().position(|l| l.trim_start().starts_with(&with_colon)).map(|i| i + 1)
    }

    fn err(&self, field: &str, message: impl Into<String>) -> ManifestError {
        // The full key (an annotation), else its last dotted segment (a ConfigMap key).
        let line = self.line_of(field).or_else(|| self.line_of(field.rsplit('.').next().unwrap_or(field)));
        ManifestError {
            origin: self.origin.to_string(),
            line,
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// A scalar as text (YAML numbers and booleans included).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn mapping_entries(v: Option<&Value>) -> Vec<(String, Value)> {
    v.and_then(Value::as_mapping)
        .map(|m| m.iter().filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.clone()))).collect())
        .unwrap_or_default()
}

/// Applies one setting (a ConfigMap key or an annotation without its prefix) to `spec`.
fn apply(
    spec: &mut KnativePolicySpec,
    key: &str,
    raw: &str,
    field: &str,
    cx: &Ctx,
) -> Result<(), ManifestError> {
    let num = || raw.trim().parse::<f64>().map_err(|_| cx.err(field, format!("`{raw}` is not a number")));
    let int =
        || raw.trim().parse::<u32>().map_err(|_| cx.err(field, format!("`{raw}` is not a whole number ≥ 0")));
    let dur =
        || parse_duration(raw).ok_or_else(|| cx.err(field, format!("`{raw}` is not a duration like 60s")));
    let boolean = || match raw.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(cx.err(field, format!("`{raw}` is not true or false"))),
    };
    match key {
        "class" => {
            if raw.trim() != KPA_CLASS {
                return Err(
                    cx.err(field, format!("`{raw}`: only the KPA class ({KPA_CLASS}) is simulated here"))
                );
            }
        }
        "metric" => {
            spec.metric = match raw.trim() {
                "concurrency" => KpaMetric::Concurrency,
                "rps" => KpaMetric::Rps,
                other => {
                    return Err(cx.err(field, format!("`{other}` is not simulated (concurrency or rps)")));
                }
            }
        }
        "target" => spec.target = Some(num()?),
        "target-utilization-percentage" => spec.target_utilization = num()? / 100.0,
        "container-concurrency-target-percentage" => {
            let v = num()?;
            spec.target_utilization = if v > 1.0 { v / 100.0 } else { v };
        }
        "container-concurrency-target-default" => spec.concurrency_target_default = num()?,
        "requests-per-second-target-default" => spec.rps_target_default = num()?,
        "target-burst-capacity" => spec.target_burst_capacity = num()?,
        "window" | "stable-window" => spec.stable_window = dur()?,
        "panic-window-percentage" => spec.panic_window_percentage = num()?,
        "panic-threshold-percentage" => spec.panic_threshold_percentage = num()?,
        "max-scale-up-rate" => spec.max_scale_up_rate = num()?,
        "max-scale-down-rate" => spec.max_scale_down_rate = num()?,
        "scale-to-zero-grace-period" => spec.scale_to_zero_grace_period = dur()?,
        "scale-to-zero-pod-retention-period" => spec.scale_to_zero_pod_retention = dur()?,
        "scale-down-delay" => spec.scale_down_delay = dur()?,
        "activation-scale" => spec.activation_scale = int()?,
        "min-scale" | "minScale" => spec.min_scale = int()?,
        "max-scale" | "maxScale" => spec.max_scale = int()?,
        "initial-scale" | "initialScale" => spec.initial_scale = int()?,
        "allow-zero-initial-scale" => spec.allow_zero_initial_scale = boolean()?,
        "enable-scale-to-zero" => spec.enable_scale_to_zero = boolean()?,
        "activator-capacity" => spec.activator_capacity = num()?,
        "progress-deadline" => spec.progress_deadline = dur()?,
        "metric-aggregation-algorithm" => {
            if !raw.trim().eq_ignore_ascii_case("linear") {
                return Err(cx.err(field, format!("`{raw}` is not simulated (only linear)")));
            }
        }
        // Cluster settings the simulation does not use.
        "pod-autoscaler-class"
        | "max-scale-limit"
        | "scale-to-zero-pod-retention"
        | "panic-window"
        | "tick-interval"
        | "registration-timeout"
        | "progress-deadline-seconds" => {}
        _ => {
            let mut m = "unknown setting".to_string();
            if let Some(s) = crate::config::error::suggest(key, KNOWN_SETTINGS.iter().copied()) {
                let shown = if field.starts_with(PREFIX) { format!("{PREFIX}{s}") } else { s.to_string() };
                m.push_str(&format!("; did you mean `{shown}`?"));
            }
            return Err(cx.err(field, m));
        }
    }
    Ok(())
}

/// Reads a Knative `Service` (plus optional `config-autoscaler` / `config-deployment`
/// ConfigMaps in the same multi-document YAML) into a checked [`KnativePolicySpec`]. `origin`
/// names the source in errors, which give the line and the annotation or field at fault.
pub fn parse_manifest(text: &str, origin: &str) -> Result<KnativePolicySpec, ManifestError> {
    let cx = Ctx { text, origin };
    let mut docs = Vec::new();
    for de in serde_norway::Deserializer::from_str(text) {
        let v = Value::deserialize(de).map_err(|e| ManifestError {
            origin: origin.to_string(),
            line: e.location().map(|l| l.line()),
            field: "yaml".to_string(),
            message: e.to_string(),
        })?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    let mut spec = KnativePolicySpec::default();
    let mut service = None;
    for d in &docs {
        let kind = d.get("kind").and_then(Value::as_str).unwrap_or("");
        match kind {
            "Service" => {
                let api = d.get("apiVersion").and_then(Value::as_str).unwrap_or("");
                if !api.starts_with("serving.knative.dev/") {
                    return Err(cx.err("apiVersion", format!("`{api}`: expected serving.knative.dev/v1")));
                }
                if service.replace(d).is_some() {
                    return Err(cx.err("kind", "more than one Service"));
                }
            }
            "ConfigMap" => {
                let name =
                    d.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or("");
                if name != "config-autoscaler" && name != "config-deployment" {
                    return Err(cx.err(
                        "metadata.name",
                        format!("ConfigMap `{name}`: expected config-autoscaler or config-deployment"),
                    ));
                }
                for (k, v) in mapping_entries(d.get("data")) {
                    if name == "config-deployment" && k != "progress-deadline" {
                        continue;
                    }
                    let raw = scalar(&v).ok_or_else(|| cx.err(&k, "expected a string value"))?;
                    apply(&mut spec, &k, &raw, &format!("{name}.{k}"), &cx)?;
                }
            }
            other => return Err(cx.err("kind", format!("`{other}`: expected a Knative Service"))),
        }
    }
    let svc = service.ok_or_else(|| cx.err("kind", "no Knative Service (serving.knative.dev/v1) found"))?;
    let template = svc.get("spec").and_then(|s| s.get("template"));
    let annotations =
        mapping_entries(template.and_then(|t| t.get("metadata")).and_then(|m| m.get("annotations")));
    for (k, v) in annotations {
        let Some(key) = k.strip_prefix(PREFIX) else { continue };
        let raw = scalar(&v).ok_or_else(|| cx.err(&k, "expected a string value"))?;
        apply(&mut spec, key, &raw, &k, &cx)?;
    }
    let pod = template.and_then(|t| t.get("spec"));
    if let Some(v) = pod.and_then(|p| p.get("containerConcurrency")) {
        spec.container_concurrency = v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| cx.err("containerConcurrency", "expected a whole number ≥ 0"))?;
    }
    if let Some(v) = pod.and_then(|p| p.get("timeoutSeconds")) {
        let s = v
            .as_u64()
            .filter(|&n| n > 0)
            .ok_or_else(|| cx.err("timeoutSeconds", "expected a whole number > 0"))?;
        spec.revision_timeout = crate::time::checked_whole_secs(s)
            .ok_or_else(|| cx.err("timeoutSeconds", "expected at most 3660 days in seconds"))?;
    }
    spec.validate().map_err(|e| {
        let ann = format!("{PREFIX}{}", e.field);
        let field = if text.contains(&ann) { ann } else { e.field.to_string() };
        cx.err(&field, e.message)
    })?;
    Ok(spec)
}

/// Writes a Knative `Service` named `name` carrying `spec` (annotations, containerConcurrency,
/// timeoutSeconds), followed by the `config-autoscaler` / `config-deployment` ConfigMaps when a
/// cluster-level setting differs from Knative's default.
pub fn to_manifest(name: &str, spec: &KnativePolicySpec) -> String {
    let d = KnativePolicySpec::default();
    let mut o = String::new();
    let _ = writeln!(o, "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: {name}");
    let _ = writeln!(o, "spec:\n  template:\n    metadata:\n      annotations:");
    let mut ann = |k: &str, v: String| {
        let _ = writeln!(o, "        {PREFIX}{k}: \"{v}\"");
    };
    ann("class", KPA_CLASS.to_string());
    ann("metric", spec.metric.name().to_string());
    if let Some(t) = spec.target {
        ann("target", t.to_string());
    }
    ann("target-utilization-percentage", (spec.target_utilization * 100.0).to_string());
    ann("target-burst-capacity", spec.target_burst_capacity.to_string());
    ann("window", format_duration(spec.stable_window));
    ann("panic-window-percentage", spec.panic_window_percentage.to_string());
    ann("panic-threshold-percentage", spec.panic_threshold_percentage.to_string());
    ann("scale-down-delay", format_duration(spec.scale_down_delay));
    ann("scale-to-zero-pod-retention-period", format_duration(spec.scale_to_zero_pod_retention));
    ann("activation-scale", spec.activation_scale.to_string());
    ann("min-scale", spec.min_scale.to_string());
    ann("max-scale", spec.max_scale.to_string());
    ann("initial-scale", spec.initial_scale.to_string());
    let _ = writeln!(o, "    spec:\n      containerConcurrency: {}", spec.container_concurrency);
    let _ = writeln!(o, "      timeoutSeconds: {}", spec.revision_timeout / SECOND);
    let _ = writeln!(o, "      containers:\n        - image: example.com/{name}:latest");
    let mut cm = Vec::new();
    let mut diff = |k: &str, differs: bool, v: String| {
        if differs {
            cm.push(format!("  {k}: \"{v}\""));
        }
    };
    diff(
        "max-scale-up-rate",
        spec.max_scale_up_rate != d.max_scale_up_rate,
        spec.max_scale_up_rate.to_string(),
    );
    diff(
        "max-scale-down-rate",
        spec.max_scale_down_rate != d.max_scale_down_rate,
        spec.max_scale_down_rate.to_string(),
    );
    diff(
        "scale-to-zero-grace-period",
        spec.scale_to_zero_grace_period != d.scale_to_zero_grace_period,
        format_duration(spec.scale_to_zero_grace_period),
    );
    diff(
        "enable-scale-to-zero",
        spec.enable_scale_to_zero != d.enable_scale_to_zero,
        spec.enable_scale_to_zero.to_string(),
    );
    diff(
        "allow-zero-initial-scale",
        spec.allow_zero_initial_scale != d.allow_zero_initial_scale,
        spec.allow_zero_initial_scale.to_string(),
    );
    diff(
        "container-concurrency-target-default",
        spec.concurrency_target_default != d.concurrency_target_default,
        spec.concurrency_target_default.to_string(),
    );
    diff(
        "requests-per-second-target-default",
        spec.rps_target_default != d.rps_target_default,
        spec.rps_target_default.to_string(),
    );
    diff(
        "activator-capacity",
        spec.activator_capacity != d.activator_capacity,
        spec.activator_capacity.to_string(),
    );
    if !cm.is_empty() {
        let _ = writeln!(
            o,
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-autoscaler\n  namespace: knative-serving\ndata:"
        );
        for l in cm {
            let _ = writeln!(o, "{l}");
        }
    }
    if spec.progress_deadline != d.progress_deadline {
        let _ = writeln!(
            o,
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-deployment\n  namespace: knative-serving\ndata:\n  progress-deadline: \"{}\"",
            format_duration(spec.progress_deadline)
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: &str = r#"apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: hello
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/metric: "rps"
        autoscaling.knative.dev/target: "150"
        autoscaling.knative.dev/window: "2m"
        autoscaling.knative.dev/min-scale: "1"
        autoscaling.knative.dev/max-scale: "20"
        other.example.com/ignored: "x"
    spec:
      containerConcurrency: 50
      timeoutSeconds: 120
      containers:
        - image: ghcr.io/example/hello
"#;

    #[test]
    fn reads_annotations_and_the_pod_spec() {
        let s = parse_manifest(SERVICE, "svc.yaml").unwrap();
        assert_eq!(s.metric, KpaMetric::Rps);
        assert_eq!(s.target, Some(150.0));
        assert_eq!(s.stable_window, 120 * SECOND);
        assert_eq!((s.min_scale, s.max_scale), (1, 20));
        assert_eq!(s.container_concurrency, 50);
        assert_eq!(s.revision_timeout, 120 * SECOND);
        assert_eq!(s.max_scale_down_rate, 2.0);
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let spec = KnativePolicySpec {
            metric: KpaMetric::Rps,
            container_concurrency: 8,
            target: Some(12.5),
            concurrency_target_default: 90.0,
            rps_target_default: 150.0,
            target_utilization: 0.75,
            target_burst_capacity: -1.0,
            stable_window: 90 * SECOND,
            panic_window_percentage: 20.0,
            panic_threshold_percentage: 300.0,
            max_scale_up_rate: 10.0,
            max_scale_down_rate: 4.0,
            scale_to_zero_grace_period: 45 * SECOND,
            scale_to_zero_pod_retention: 90 * SECOND,
            scale_down_delay: 30 * SECOND,
            activation_scale: 3,
            min_scale: 0,
            max_scale: 40,
            initial_scale: 0,
            allow_zero_initial_scale: true,
            enable_scale_to_zero: false,
            activator_capacity: 150.0,
            revision_timeout: 60 * SECOND,
            progress_deadline: 300 * SECOND,
            source: None,
        };
        spec.validate().unwrap();
        let text = to_manifest("svc", &spec);
        assert_eq!(parse_manifest(&text, "out.yaml").unwrap(), spec, "{text}");
        let d = KnativePolicySpec::default();
        let text = to_manifest("svc", &d);
        assert!(!text.contains("ConfigMap"));
        assert_eq!(parse_manifest(&text, "out.yaml").unwrap(), d);
    }

    #[test]
    fn errors_name_the_line_and_the_annotation() {
        let bad = SERVICE.replace("\"2m\"", "\"2 minutes\"");
        let e = parse_manifest(&bad, "svc.yaml").unwrap_err();
        assert_eq!(e.line, Some(11));
        assert_eq!(e.field, "autoscaling.knative.dev/window");
        let bad = SERVICE.replace("\"2m\"", "\"5s\"");
        let e = parse_manifest(&bad, "svc.yaml").unwrap_err().to_string();
        assert!(e.starts_with("svc.yaml:11: autoscaling.knative.dev/window:"), "{e}");
        let bad = SERVICE.replace("min-scale", "min-scael");
        let e = parse_manifest(&bad, "svc.yaml").unwrap_err().to_string();
        assert!(e.contains("autoscaling.knative.dev/min-scael: unknown setting"), "{e}");
        let e = parse_manifest("kind: Deployment\n", "d.yaml").unwrap_err().to_string();
        assert!(e.contains("kind"), "{e}");
    }

    #[test]
    fn config_map_sets_cluster_defaults_and_annotations_win() {
        let text = format!(
            "{SERVICE}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-autoscaler\ndata:\n  max-scale-up-rate: \"5\"\n  stable-window: \"30s\"\n"
        );
        let s = parse_manifest(&text, "x").unwrap();
        assert_eq!(s.max_scale_up_rate, 5.0);
        assert_eq!(s.stable_window, 120 * SECOND, "the annotation overrides the ConfigMap");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1m30s"), Some(90 * SECOND));
        assert_eq!(parse_duration("1500ms"), Some(1500 * MILLISECOND));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(format_duration(90 * SECOND), "90s");
    }
}
