//! The basic policy types, `rps`, `cpu`, `concurrency`, `schedule` and `autoscale`: their metric
//! rules, cron windows and bounds, checked and built into a [`BasicSpec`] policy.

use super::activator::activator;
use super::error::KeyError;
use super::raw::{MetricType, PolicyType, RawPolicy, RawWindow};
use super::shared::{parse_tz, positive};
use super::source::KeyPath;
use super::values::Dur;
use crate::policy::{BasicSpec, CronWindow, MetricRule, PolicyKind, PolicySpec};
use crate::time::{Clock, SECOND, Time};
use chrono_tz::Tz;

type R<T> = Result<T, KeyError>;

fn err<T>(path: KeyPath, message: impl Into<String>) -> R<T> {
    Err(KeyError::new(path, message))
}

/// Builds a policy of a basic type (its keys were already checked against the type); `clock`
/// and `duration` are the simulation's, to check that its windows fire (a window that does not
/// fire during the simulation adds a warning).
pub(super) fn build(
    path: &KeyPath,
    p: RawPolicy,
    clock: &Clock,
    duration: Time,
    warnings: &mut Vec<KeyError>,
) -> R<PolicySpec> {
    let interval = match p.interval {
        Some(d) => positive(path.key("interval"), d)?,
        None => 30 * SECOND,
    };
    let min = p.min.unwrap_or(1);
    let metrics = metric_rules(path, &p, interval)?;
    let schedules = schedules(path, &p, clock, duration, warnings)?;
    let (max, initial) = bounds(path, &p, min, &metrics, &schedules)?;
    let spec = BasicSpec {
        interval,
        metrics,
        schedules,
        down_stabilization: p.scale_down_stabilization.map_or(0, Dur::time),
        up_stabilization: p.scale_up_stabilization.map_or(0, Dur::time),
    };
    let activator = activator(path, &p)?;
    Ok(PolicySpec {
        name: p.name,
        min,
        max,
        initial,
        start: crate::policy::Start::Given,
        kind: PolicyKind::Basic(spec),
        activator,
    })
}

/// The policy's metric rules: the one rule of `rps`, `cpu` and `concurrency` (its `target`,
/// `window` and `tolerance`), the `metrics` of `autoscale` (which needs a metric or a window),
/// none for `schedule`.
fn metric_rules(path: &KeyPath, p: &RawPolicy, interval: Time) -> R<Vec<MetricRule>> {
    let mut metrics = Vec::new();
    match p.kind {
        PolicyType::Rps | PolicyType::Cpu | PolicyType::Concurrency => {
            let kind = match p.kind {
                PolicyType::Rps => MetricType::Rps,
                PolicyType::Cpu => MetricType::Cpu,
                _ => MetricType::Concurrency,
            };
            let target = p.target.ok_or_else(|| {
                KeyError::new(
                    path.key("target"),
                    format!("missing required key for type `{}`", p.kind.name()),
                )
            })?;
            metrics.push(metric_rule(kind, target, p.window, p.tolerance, path, interval)?);
        }
        PolicyType::Autoscale => {
            for (j, m) in p.metrics.iter().flatten().enumerate() {
                let at = path.key("metrics").index(j);
                metrics.push(metric_rule(m.kind, m.target, m.window, m.tolerance, &at, interval)?);
            }
            if metrics.is_empty() && p.windows.as_ref().is_none_or(Vec::is_empty) {
                return err(
                    path.key("metrics"),
                    "type `autoscale` needs at least one entry in `metrics` or `windows`",
                );
            }
        }
        // Schedule has no metric; the other types are not built here.
        PolicyType::Schedule
        | PolicyType::Fixed
        | PolicyType::Knative
        | PolicyType::Hpa
        | PolicyType::Keda
        | PolicyType::Platform
        | PolicyType::Aws
        | PolicyType::Oracle => {}
    }
    Ok(metrics)
}

/// One metric rule, written at `at`: a positive `target` (for cpu, a percentage of the CPU
/// request), a positive `window` (default: `interval` for cpu, 60 s otherwise) and a `tolerance`
/// in [0, 1) (default 0.1, the HPA's).
fn metric_rule(
    kind: MetricType,
    target: f64,
    window: Option<Dur>,
    tolerance: Option<f64>,
    at: &KeyPath,
    interval: Time,
) -> R<MetricRule> {
    if !(target.is_finite() && target > 0.0) {
        return err(at.key("target"), format!("found {target}, expected a positive target"));
    }
    let default_window = if kind == MetricType::Cpu { interval } else { 60 * SECOND };
    let window = match window {
        Some(d) => positive(at.key("window"), d)?,
        None => default_window,
    };
    // The HPA's default tolerance, for every rule.
    let tolerance = tolerance.unwrap_or(0.1);
    if !(0.0..1.0).contains(&tolerance) {
        return err(at.key("tolerance"), format!("found {tolerance}, expected a fraction in [0, 1)"));
    }
    Ok(match kind {
        MetricType::Rps => MetricRule::Rps { target, tolerance, window },
        MetricType::Concurrency => MetricRule::Concurrency { target, tolerance, window },
        MetricType::Cpu => {
            if target < 1.0 {
                return err(
                    at.key("target"),
                    format!("found {target}, expected a percentage of the CPU request (60 for 60 %)"),
                );
            }
            MetricRule::Cpu { target: target / 100.0, tolerance, window }
        }
    })
}

/// The policy's cron windows (`windows`, which `schedule` requires), each checked to fire
/// (see [`check_fires`]).
fn schedules(
    path: &KeyPath,
    p: &RawPolicy,
    clock: &Clock,
    duration: Time,
    warnings: &mut Vec<KeyError>,
) -> R<Vec<CronWindow>> {
    if p.kind == PolicyType::Schedule && p.windows.as_ref().is_none_or(Vec::is_empty) {
        return err(path.key("windows"), "missing or empty, type `schedule` needs at least one window");
    }
    let sim_tz = clock.tz();
    let mut schedules = Vec::new();
    for (j, w) in p.windows.iter().flatten().enumerate() {
        let at = path.key("windows").index(j);
        let window = build_window(&at, w, sim_tz)?;
        check_fires(&at, &window, clock, duration, warnings)?;
        schedules.push(window);
    }
    Ok(schedules)
}

/// The policy's `max` (for `schedule`, by default the largest window's replicas, at least
/// `min`) and `initial` (default `min`), checked against `min`, each other and the windows; a
/// `min` of 0 needs something that can scale up from zero replicas.
fn bounds(
    path: &KeyPath,
    p: &RawPolicy,
    min: u32,
    metrics: &[MetricRule],
    schedules: &[CronWindow],
) -> R<(u32, u32)> {
    let max = match p.max {
        Some(m) => m,
        None if p.kind == PolicyType::Schedule => {
            schedules.iter().map(|w| w.replicas).max().unwrap_or(1).max(min)
        }
        None => {
            return err(path.key("max"), format!("missing required key for type `{}`", p.kind.name()));
        }
    };
    if max == 0 {
        return err(path.key("max"), "found 0, expected at least 1");
    }
    // With no replica nothing is in flight and no CPU is used: a policy that reads only those
    // can never leave zero unless an activator holds requests (and counts them) meanwhile.
    let reads_arrivals = metrics.iter().any(|m| matches!(m, MetricRule::Rps { .. }));
    if min == 0 && p.activator.is_none() && !reads_arrivals && schedules.is_empty() {
        return err(
            path.key("min"),
            "is 0 with no activator: at zero replicas no request is in flight and no CPU is used, so \
             this policy could never scale up again (every request would fail as no_replica); set \
             min to at least 1, or add `activator = { capacity = 100 }` to hold requests while it scales",
        );
    }
    if min > max {
        return err(path.key("min"), format!("min ({min}) is greater than max ({max})"));
    }
    let initial = p.initial.unwrap_or(min);
    if initial < min || initial > max {
        return err(
            path.key("initial"),
            format!("found {initial}, expected a value between min ({min}) and max ({max})"),
        );
    }
    for (j, w) in schedules.iter().enumerate() {
        if w.replicas > max {
            return err(
                path.key("windows").index(j).key("replicas"),
                format!("found {}, more than the policy's max ({max})", w.replicas),
            );
        }
    }
    Ok((max, initial))
}

/// A window whose start or end never fires is an error; one that does not fire during the
/// simulation, a warning.
fn check_fires(
    path: &KeyPath,
    w: &CronWindow,
    clock: &Clock,
    duration: Time,
    warnings: &mut Vec<KeyError>,
) -> R<()> {
    let start = clock.start();
    let end = clock.datetime(duration);
    for (k, is_end, expr) in [("start", false, &w.start), ("end", true, &w.end)] {
        match w.next_fire(is_end, &start) {
            None => {
                return err(
                    path.key(k),
                    format!("`{expr}` never fires (no date matches it), so the window would never {k}"),
                );
            }
            Some(t) if t.with_timezone(&clock.tz()) > end => warnings.push(KeyError::new(
                path.key(k),
                format!(
                    "`{expr}` does not fire during the simulation (first at {})",
                    t.format("%Y-%m-%d %H:%M %Z")
                ),
            )),
            Some(_) => {}
        }
    }
    Ok(())
}

fn build_window(path: &KeyPath, w: &RawWindow, sim_tz: Tz) -> R<CronWindow> {
    let tz = match &w.timezone {
        Some(t) => parse_tz(path.key("timezone"), t)?,
        None => sim_tz,
    };
    for (k, expr) in [("start", &w.start), ("end", &w.end)] {
        if let Err(e) = CronWindow::new(expr, expr, tz, w.replicas) {
            return err(
                path.key(k),
                format!(
                    "{e}; expected a cron expression such as \"0 9 * * 1-5\" (minute hour day month weekday)"
                ),
            );
        }
    }
    if w.start.split_whitespace().eq(w.end.split_whitespace()) {
        return err(path.key("end"), "is the same as `start`, so the window would never be open");
    }
    if w.replicas == 0 {
        return err(path.key("replicas"), "found 0, expected at least 1 replica inside the window");
    }
    CronWindow::new(&w.start, &w.end, tz, w.replicas).map_err(|e| KeyError::new(path.clone(), e.to_string()))
}
