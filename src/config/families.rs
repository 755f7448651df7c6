//! Policies read from the manifests users deploy, `manifest = "path"` relative to the scenario
//! file: `type = "hpa"` (a HorizontalPodAutoscaler, autoscaling/v2), `type = "keda"` (a KEDA
//! ScaledObject) and `type = "knative"` (a Knative `Service`). The manifest is the whole
//! description; the scenario only names it (and, for hpa and keda, may set the replicas the
//! workload starts with, `initial`).

use super::activator::activator;
use super::error::KeyError;
use super::files::Files;
use super::raw::{PlatformMetricType, PolicyType, RawPolicy};
use super::source::KeyPath;
use crate::policy::keda::{KedaPolicySpec, KedaSpec, KedaTrigger, MetricType, scalers::Series};
use crate::policy::{CronWindow, ManifestSource, PolicyKind, PolicySpec, export, hpa, keda, knative};
use crate::time::SECOND;
use chrono_tz::Tz;
use std::path::Path;
use std::sync::Arc;

type R<T> = Result<T, KeyError>;

/// Whether policies of type `t` come from a manifest.
pub(super) fn is_family(t: PolicyType) -> bool {
    matches!(t, PolicyType::Knative | PolicyType::Hpa | PolicyType::Keda | PolicyType::Platform)
}

/// The platform-style settings (`min_replicas`, `max_replicas`, `polling_interval`,
/// `cooldown_period`, one `metric` of `cpu_utilization`, `rps` or `cron`) as the KEDA
/// ScaledObject they run on: cpu_utilization → a cpu trigger; rps → a Prometheus trigger on the
/// total request rate over 1 minute with `value` as its AverageValue threshold (so
/// desired = ceil(total rps / value)); cron → a cron trigger with `desired_replicas` (default
/// `max_replicas`) and `timezone` (default UTC).
fn platform(path: &KeyPath, p: &RawPolicy) -> R<KedaSpec> {
    let min = p.min_replicas.unwrap_or(1);
    let max = p
        .max_replicas
        .ok_or_else(|| KeyError::new(path.key("max_replicas"), "missing required key for type `platform`"))?;
    if max == 0 || max < min {
        return Err(KeyError::new(
            path.key("max_replicas"),
            format!("found {max}, expected at least 1 and at least min_replicas ({min})"),
        ));
    }
    let polling = p.polling_interval.map_or(30 * SECOND, |d| d.time());
    if polling < SECOND {
        return Err(KeyError::new(path.key("polling_interval"), "found less than 1s, expected at least 1s"));
    }
    let m = p.metric.as_ref().ok_or_else(|| {
        KeyError::new(
            path.key("metric"),
            "missing required key for type `platform`, expected e.g. { type = \"rps\", value = 10 }",
        )
    })?;
    let at = path.key("metric");
    let value = |what: &str| -> R<f64> {
        match m.value {
            Some(v) if v.is_finite() && v > 0.0 => Ok(v),
            Some(v) => Err(KeyError::new(at.key("value"), format!("found {v}, expected a positive {what}"))),
            None => Err(KeyError::new(at.key("value"), format!("missing, expected the target {what}"))),
        }
    };
    let unused = |keys: &[(&str, bool)]| -> R<()> {
        match keys.iter().find(|(_, on)| *on) {
            Some((k, _)) => Err(KeyError::new(at.key(k), "is only used by `cron` metrics")),
            None => Ok(()),
        }
    };
    let cron_keys = [
        ("start", m.start.is_some()),
        ("end", m.end.is_some()),
        ("timezone", m.timezone.is_some()),
        ("desired_replicas", m.desired_replicas.is_some()),
    ];
    let trigger = match m.kind {
        PlatformMetricType::CpuUtilization => {
            unused(&cron_keys)?;
            let v = value("CPU utilisation, percent of the request")?;
            if v.fract() != 0.0 {
                return Err(KeyError::new(
                    at.key("value"),
                    format!("found {v}, expected a whole percentage"),
                ));
            }
            KedaTrigger::Cpu { utilization: v as u32 }
        }
        PlatformMetricType::Rps => {
            unused(&cron_keys)?;
            KedaTrigger::Prometheus {
                series: Series::Rps { window: 60 * SECOND },
                query: "sum(rate(http_requests_total[1m]))".into(),
                server_address: String::new(),
                threshold: value("requests per second per replica")?,
                activation_threshold: 0.0,
                metric_type: MetricType::AverageValue,
            }
        }
        PlatformMetricType::Cron => {
            if m.value.is_some() {
                return Err(KeyError::new(
                    at.key("value"),
                    "is not used by `cron` metrics (use desired_replicas)",
                ));
            }
            let get = |k: &str, v: &Option<String>| {
                v.clone().ok_or_else(|| KeyError::new(at.key(k), "missing, expected a cron expression"))
            };
            let (start, end) = (get("start", &m.start)?, get("end", &m.end)?);
            let tz = match &m.timezone {
                Some(z) => super::shared::parse_tz(at.key("timezone"), z)?,
                None => chrono_tz::UTC,
            };
            let desired = m.desired_replicas.unwrap_or(max);
            if desired == 0 || desired > max {
                return Err(KeyError::new(
                    at.key("desired_replicas"),
                    format!("found {desired}, expected between 1 and max_replicas ({max})"),
                ));
            }
            let window = CronWindow::new(&start, &end, tz, desired)
                .map_err(|e| KeyError::new(at.key("start"), e.to_string()))?;
            KedaTrigger::Cron { window: Box::new(window) }
        }
    };
    Ok(KedaSpec {
        polling_interval: polling,
        cooldown_period: p.cooldown_period.map_or(300 * SECOND, |d| d.time()),
        initial_cooldown_period: 0,
        min_replica_count: min,
        max_replica_count: max,
        idle_replica_count: None,
        triggers: vec![trigger],
        behavior: None,
        target: String::new(),
    })
}

/// Applies `controller = { … }` to an HPA (or the HPA under KEDA).
fn apply_controller(path: &KeyPath, p: &RawPolicy, h: &mut hpa::HpaPolicySpec) -> R<()> {
    let Some(c) = &p.controller else { return Ok(()) };
    let at = path.key("controller");
    let pos = |key: &str, d: Option<super::values::Dur>| -> R<Option<crate::time::Time>> {
        match d.map(|d| d.time()) {
            Some(0) => Err(KeyError::new(at.key(key), "found a zero duration, expected a positive duration")),
            t => Ok(t),
        }
    };
    let micros = |t: crate::time::Time| t as hpa::core::Micros;
    if let Some(t) = pos("sync_period", c.sync_period)? {
        h.sync_period = t;
    }
    if let Some(d) = c.sync_offset {
        h.sync_offset = d.time();
    }
    if let Some(tol) = c.tolerance {
        if !(tol.is_finite() && (0.0..1.0).contains(&tol)) {
            return Err(KeyError::new(
                at.key("tolerance"),
                format!("found {tol}, expected a fraction in [0, 1)"),
            ));
        }
        h.controller.tolerance = tol;
    }
    if let Some(d) = c.cpu_initialization_period {
        h.controller.cpu_initialization_period = micros(d.time());
    }
    if let Some(d) = c.initial_readiness_delay {
        h.controller.initial_readiness_delay = micros(d.time());
    }
    if let Some(d) = c.downscale_stabilization {
        h.controller.downscale_stabilization = micros(d.time());
    }
    if let Some(t) = pos("metrics_resolution", c.metrics_resolution)? {
        h.pipeline.resolution = t;
    }
    if let Some(d) = c.metrics_delay {
        h.pipeline.cpu_delay = d.time();
    }
    if let Some(t) = pos("custom_metrics_interval", c.custom_metrics_interval)? {
        h.pipeline.custom_interval = t;
    }
    if let Some(d) = c.custom_metrics_lag {
        h.pipeline.custom_lag = d.time();
    }
    if let Some(t) = pos("custom_metrics_window", c.custom_metrics_window)? {
        h.pipeline.custom_window = t;
    }
    Ok(())
}

/// Reads the manifest a policy names: (display path, text).
fn read_manifest(path: &KeyPath, p: &RawPolicy, base_dir: &Path, files: &Files) -> R<(String, Arc<str>)> {
    let rel = p.manifest.as_deref().ok_or_else(|| {
        KeyError::new(
            path.key("manifest"),
            format!("missing required key for type `{}`, expected the path of its manifest", p.kind.name()),
        )
    })?;
    let file = base_dir.join(rel);
    let shown = file.display().to_string();
    let text = files
        .text(&file, crate::input::InputKind::Manifest)
        .map_err(|e| KeyError::new(path.key("manifest"), format!("`{shown}`: {}", e.message)))?;
    if let Err((line, m)) = crate::input::check_nesting(&text) {
        return Err(KeyError::new(path.key("manifest"), format!("{shown}:{line}: the manifest {m}")));
    }
    Ok((shown, text))
}

/// The documents of a manifest that parsed, kept for export with `rendered`, the policy's
/// rendering of its modelled settings.
fn source(path: &KeyPath, text: &str, shown: &str, rendered: String) -> R<ManifestSource> {
    let docs =
        export::yaml_docs(text).map_err(|e| KeyError::new(path.key("manifest"), format!("{shown}: {e}")))?;
    Ok(ManifestSource { docs, rendered })
}

/// Builds a manifest-based policy.
pub(super) fn build(
    path: &KeyPath,
    p: &RawPolicy,
    base_dir: &Path,
    files: &Files,
    sim_tz: Tz,
) -> R<PolicySpec> {
    let activator = activator(path, p)?;
    // (the policy, its (min, max, default initial) bounds, whose bounds they are)
    let (kind, (min, max, default), whose) = match p.kind {
        PolicyType::Platform => {
            let keda = platform(path, p)?;
            let mut spec =
                KedaPolicySpec::new(keda).map_err(|e| KeyError::new(path.clone(), e.to_string()))?;
            apply_controller(path, p, &mut spec.hpa)?;
            let bounds = spec.keda.bounds();
            (PolicyKind::Keda(Box::new(spec)), bounds, "min_replicas and max_replicas")
        }
        PolicyType::Hpa | PolicyType::Keda | PolicyType::Knative => {
            let (shown, text) = read_manifest(path, p, base_dir, files)?;
            let edited = super::manifest_edit::has_edits(p);
            let text = super::manifest_edit::apply(path, p, &text, &shown)?;
            let shown = if edited { format!("{shown} (with the scenario's edits)") } else { shown };
            let bad = |m: String| KeyError::new(path.key("manifest"), m);
            match p.kind {
                PolicyType::Hpa => {
                    let (m, doc) = hpa::read_manifest(&text, &shown).map_err(|e| bad(e.to_string()))?;
                    let mut spec =
                        hpa::HpaPolicySpec::from_manifest(&m).map_err(|e| bad(format!("{shown}: {e}")))?;
                    spec.source = Some(ManifestSource {
                        docs: vec![doc],
                        rendered: export::rendering(&PolicyKind::Hpa(spec.clone())),
                    });
                    apply_controller(path, p, &mut spec)?;
                    if let Some(map) = &p.metrics_map {
                        for (alias, name) in map {
                            if !hpa::SUPPLIED_METRICS.contains(&name.as_str()) {
                                return Err(KeyError::new(
                                    path.key("metrics_map").key(alias),
                                    format!(
                                        "found `{name}`, expected one of the supplied metrics {}",
                                        hpa::SUPPLIED_METRICS.map(|m| format!("`{m}`")).join(", ")
                                    ),
                                ));
                            }
                        }
                        spec.metrics_map = map.clone();
                    }
                    if let Some((label, why)) = spec.unsupplied_metric() {
                        let name = label.rsplit(' ').next().unwrap_or("");
                        let line = text
                            .lines()
                            .position(|l| l.contains(name))
                            .map_or_else(String::new, |i| format!(":{}", i + 1));
                        return Err(bad(format!("{shown}{line}: metric {label}: {why}")));
                    }
                    let (min, max) = spec.bounds();
                    (PolicyKind::Hpa(spec), (min, max, min.max(1)), "the manifest's min and max")
                }
                PolicyType::Keda => {
                    let mut spec = keda::parse_manifest_mapped(
                        &text,
                        &shown,
                        sim_tz,
                        &p.metrics_map.clone().unwrap_or_default(),
                    )
                    .map_err(|e| bad(e.to_string()))?;
                    apply_controller(path, p, &mut spec.hpa)?;
                    spec.source = Some(source(path, &text, &shown, keda::to_manifest("x", &spec.keda))?);
                    let bounds = spec.keda.bounds();
                    (PolicyKind::Keda(Box::new(spec)), bounds, "the manifest's min and max")
                }
                _ => {
                    // Knative: the manifest fixes bounds, initial scale and its activator.
                    let mut spec = knative::parse_manifest(&text, &shown).map_err(|e| bad(e.to_string()))?;
                    spec.source = Some(source(path, &text, &shown, knative::to_manifest("x", &spec))?);
                    let mut ps = spec.policy_spec(&p.name);
                    ps.activator = activator.or(ps.activator);
                    return Ok(ps);
                }
            }
        }
        other => unreachable!("`{}` is not a manifest family", other.name()),
    };
    let initial = p.initial.unwrap_or(default);
    if initial < min || initial > max {
        return Err(KeyError::new(
            path.key("initial"),
            format!("found {initial}, expected between {whose} ({min} and {max})"),
        ));
    }
    Ok(PolicySpec {
        name: p.name.clone(),
        min,
        max,
        initial,
        start: crate::policy::Start::Given,
        kind,
        activator,
    })
}
