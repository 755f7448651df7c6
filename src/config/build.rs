//! Checking a parsed scenario and turning it into a [`Scenario`]: defaults, cross-key rules
//! (which keys go with which `type` or `distribution`, min ≤ initial ≤ max, unique names, …)
//! and conversion into the library's types. Every failure names the key at fault.

use super::error::{KeyError, suggest};
use super::files::Files;
use super::raw::*;
use super::shared::{parse_tz, positive};
use super::source::KeyPath;
use super::values::{Bytes, Dur};
use crate::balancer::BalancerKind;
use crate::dist::Dist;
use crate::policy::{PolicySpec, Start};
use crate::scenario::{CostModel, Scenario, Slo};
use crate::service::{CpuModel, Curve, Demand, MemoryModel, ServiceModel};
use crate::time::{Clock, SECOND, Time};
use crate::traffic::MAX_SIZES;
use chrono::NaiveDateTime;
use std::path::Path;

type R<T> = Result<T, KeyError>;

fn err<T>(path: KeyPath, message: impl Into<String>) -> R<T> {
    Err(KeyError::new(path, message))
}

/// The longest simulation accepted (ten years): calendars and schedules are resolved over it.
pub const MAX_DURATION: Time = 3660 * 86_400 * SECOND;

/// The largest log-normal sigma accepted: above it the sampled mean needs more than ~10⁷ draws
/// to come within 10 % of the declared mean. Above [`WARN_SIGMA`] a warning says so.
pub const MAX_SIGMA: f64 = 4.0;
/// Above this log-normal sigma, validation warns that the mean converges slowly.
pub const WARN_SIGMA: f64 = 2.5;

/// The longest scenario name, in characters (it names the output folder).
pub const MAX_NAME_CHARS: usize = 200;

/// Default start of simulated time: Monday 2025-01-06 00:00 local time.
pub const DEFAULT_START: &str = "2025-01-06T00:00:00";

/// Checks `raw` and builds the scenario; `default_name` names it when the file does not, and
/// trace and manifest paths are relative to `base_dir` (read through `files`).
pub fn build(raw: RawScenario, default_name: &str, base_dir: &Path, files: &Files) -> R<Scenario> {
    build_with_warnings(raw, default_name, base_dir, files, &mut Vec::new())
}

/// [`build`], adding to `warnings` what is suspicious but runnable (each naming its key).
pub fn build_with_warnings(
    raw: RawScenario,
    default_name: &str,
    base_dir: &Path,
    files: &Files,
    warnings: &mut Vec<KeyError>,
) -> R<Scenario> {
    let sim = KeyPath::root().key("simulation");
    let s = raw.simulation;
    let name = s.name.unwrap_or_else(|| default_name.to_string());
    if name.trim().is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        return err(sim.key("name"), format!("found \"{name}\", expected a non-empty name without slashes"));
    }
    // The name becomes a folder name (output/<name>) and a column value.
    if name.chars().any(char::is_control) {
        return err(
            sim.key("name"),
            format!("found {name:?}, expected a name without control characters (NUL, newline, …)"),
        );
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return err(
            sim.key("name"),
            format!(
                "is {} characters long, expected at most {MAX_NAME_CHARS} (it names the output folder)",
                name.chars().count()
            ),
        );
    }
    let duration = positive(sim.key("duration"), s.duration)?;
    if duration > MAX_DURATION {
        return err(sim.key("duration"), "is longer than the longest supported simulation (3660 days)");
    }
    let tz = match &s.timezone {
        Some(t) => parse_tz(sim.key("timezone"), t)?,
        None => chrono_tz::UTC,
    };
    let start = match &s.start {
        Some(v) => parse_start(sim.key("start"), v)?,
        None => parse_local(DEFAULT_START).expect("valid default"),
    };
    if let chrono::LocalResult::None = chrono::TimeZone::from_local_datetime(&tz, &start) {
        let moved = crate::time::resolve_local(tz, start);
        warnings.push(KeyError::new(
            sim.key("start"),
            format!(
                "{start} does not exist in {} (clocks jump forward there); the simulation starts at {}",
                tz.name(),
                moved.format("%Y-%m-%dT%H:%M:%S%:z")
            ),
        ));
    }
    let clock = Clock::new(start, tz, duration);
    let record_interval = match s.record_interval {
        Some(d) => positive(sim.key("record_interval"), d)?,
        None => 60 * SECOND,
    };
    if record_interval > duration {
        return err(sim.key("record_interval"), "is longer than simulation.duration");
    }
    let start_mode = match s.initial {
        None | Some(RawInitial::Steady) => Start::Steady,
        Some(RawInitial::Min) => Start::Min,
    };
    let warmup = s.warmup.map_or(0, |d| d.time());
    if warmup >= duration {
        return err(sim.key("warmup"), "is not shorter than simulation.duration");
    }
    let slo = match s.slo {
        Some(raw) => build_slo(&sim.key("slo"), raw)?,
        None => None,
    };

    let traffic = raw.traffic.into_spec(base_dir, files, &clock, duration).map_err(|e| {
        let key = if e.key == "traffic" || e.key.starts_with("traffic.") || e.key.starts_with("traffic[") {
            e.key.clone()
        } else {
            format!("traffic.{}", e.key)
        };
        KeyError::new(KeyPath::parse(&key), e.message)
    })?;

    if let Some(info) = traffic.trace_info()
        && info.skipped > 0
    {
        warnings.push(KeyError::new(
            KeyPath::parse("traffic.trace.skip_malformed"),
            format!(
                "skipped {} malformed line(s); the first: {}",
                info.skipped,
                info.first_skipped.as_deref().unwrap_or("?")
            ),
        ));
    }
    let (service, balancer) = build_service(raw.service, &traffic.size_columns(), &traffic.max_sizes())?;
    for (k, d) in [("demand", service.demand.dist()), ("startup", Some(&service.startup))] {
        if let Some(Dist::LogNormal { sigma, .. }) = d
            && *sigma > WARN_SIGMA
        {
            warnings.push(KeyError::new(
                KeyPath::root().key("service").key(k).key("sigma"),
                format!(
                    "sigma {sigma} is large: the sampled mean approaches the declared mean only over \
                     millions of requests"
                ),
            ));
        }
    }
    let cost = build_cost(raw.cost)?;
    let mut scenario = Scenario {
        name,
        duration,
        clock,
        seed: s.seed.unwrap_or(1),
        record_interval,
        warmup,
        slo,
        traffic,
        service,
        balancer,
        cost,
        policies: Vec::new(),
    };
    // The oracle plans from the rest of the scenario (its traffic, service and SLO).
    scenario.policies = build_policies(raw.policy, base_dir, files, &scenario, start_mode, warnings)?;
    Ok(scenario)
}

fn parse_local(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0))
}

fn parse_start(path: KeyPath, v: &toml::Value) -> R<NaiveDateTime> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => {
            if d.offset.is_some() {
                return err(
                    path,
                    format!(
                        "found {d} with a UTC offset, expected a local date-time (the zone goes in simulation.timezone)"
                    ),
                );
            }
            d.to_string()
        }
        other => {
            return err(
                path,
                format!(
                    "found {}, expected a local date-time such as \"2025-03-04T00:00:00\"",
                    other.type_str()
                ),
            );
        }
    };
    parse_local(&text).ok_or_else(|| {
        KeyError::new(
            path,
            format!("found \"{text}\", expected a local date-time such as \"2025-03-04T00:00:00\""),
        )
    })
}

fn build_slo(path: &KeyPath, raw: RawSlo) -> R<Option<Slo>> {
    if raw.latency_percentile.is_some() && raw.latency.is_none() {
        return err(path.key("latency_percentile"), "needs simulation.slo.latency (the bound it applies to)");
    }
    let pct = raw.latency_percentile.unwrap_or(99.0);
    if !(pct > 0.0 && pct < 100.0) {
        return err(
            path.key("latency_percentile"),
            format!("found {pct}, expected a percentile between 0 and 100 (e.g. 99)"),
        );
    }
    let latency = match raw.latency {
        Some(d) => Some((pct, crate::time::to_secs_f64(positive(path.key("latency"), d)?))),
        None => None,
    };
    let error_rate = raw.error_rate.map(|f| f.0);
    if latency.is_none() && error_rate.is_none() {
        return Ok(None);
    }
    Ok(Some(Slo { latency, error_rate }))
}

fn build_service(
    raw: RawService,
    sizes: &[String],
    max_sizes: &[f64; MAX_SIZES],
) -> R<(ServiceModel, BalancerKind)> {
    let p = KeyPath::root().key("service");
    if raw.workers == 0 {
        return err(p.key("workers"), "found 0, expected at least 1 worker per replica");
    }
    let timeout = match raw.timeout {
        Some(d) => Some(positive(p.key("timeout"), d)?),
        None => None,
    };
    let grace = raw.termination_grace.map_or(30 * SECOND, Dur::time);
    let balancer = match raw.load_balancer {
        None | Some(RawBalancer::RoundRobin) => BalancerKind::RoundRobin,
        Some(RawBalancer::Random) => BalancerKind::Random,
        Some(RawBalancer::LeastOutstanding) => BalancerKind::LeastOutstanding,
        Some(RawBalancer::PowerOfTwo) => BalancerKind::PowerOfTwo,
    };
    let demand = build_demand(&p.key("demand"), &raw.demand, sizes, max_sizes)?;
    let slowdown = match raw.slowdown {
        Some(s) => Some(build_curve(&p.key("slowdown").key("points"), s.points)?),
        None => None,
    };
    let startup = match raw.startup {
        Some(d) => build_dist(&p.key("startup"), &d.into())?,
        None => Dist::Deterministic { value: 30.0 },
    };
    let pending = match raw.pending {
        Some(d) => Some(build_dist(&p.key("pending"), &d.into())?),
        None => None,
    };
    let overhead = match raw.overhead {
        Some(d) => Some(build_dist(&p.key("overhead"), &d.into())?),
        None => None,
    };
    let cpu = match raw.cpu {
        Some(c) => build_cpu(&p.key("cpu"), c)?,
        None => CpuModel::default(),
    };
    let memory = match raw.memory {
        Some(m) => build_memory(&p.key("memory"), m)?,
        None => MemoryModel::default(),
    };
    let service = ServiceModel {
        workers: raw.workers,
        queue_limit: raw.queue_limit,
        timeout,
        demand,
        slowdown,
        overhead,
        startup,
        pending,
        grace,
        cpu,
        memory,
    };
    Ok((service, balancer))
}

fn build_curve(path: &KeyPath, points: Vec<(f64, f64)>) -> R<Curve> {
    if points.is_empty() {
        return err(path.clone(), "is empty, expected at least one [in_flight, factor] point");
    }
    for (i, &(x, y)) in points.iter().enumerate() {
        if !(x.is_finite() && x >= 0.0) {
            return err(path.index(i), format!("found in_flight {x}, expected a non-negative number"));
        }
        if !(y.is_finite() && y > 0.0) {
            return err(path.index(i), format!("found factor {y}, expected a positive number"));
        }
        if i > 0 && x <= points[i - 1].0 {
            return err(path.index(i), format!("in_flight {x} does not increase on the previous point"));
        }
    }
    Curve::new(points).ok_or_else(|| KeyError::new(path.clone(), "invalid curve"))
}

fn build_cpu(path: &KeyPath, c: RawCpu) -> R<CpuModel> {
    let d = CpuModel::default();
    let non_neg = |k: &str, v: f64| -> R<f64> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            err(path.key(k), format!("found {v}, expected a non-negative number"))
        }
    };
    let request = c.request.unwrap_or(d.request_cores);
    if !(request.is_finite() && request > 0.0) {
        return err(path.key("request"), format!("found {request}, expected a positive number of cores"));
    }
    Ok(CpuModel {
        request_cores: request,
        idle_cores: non_neg("idle", c.idle.unwrap_or(d.idle_cores))?,
        per_request_cpu_s: c.per_request.map_or(d.per_request_cpu_s, |s| s.0),
        busy_worker_cores: non_neg("per_busy_worker", c.per_busy_worker.unwrap_or(d.busy_worker_cores))?,
    })
}

fn build_memory(path: &KeyPath, m: RawMemory) -> R<MemoryModel> {
    let d = MemoryModel::default();
    let bytes = |k: &str, v: Option<Bytes>, default: f64, positive: bool| -> R<f64> {
        let x = v.map_or(default, |b| b.0);
        if !x.is_finite() || x < 0.0 || (positive && x == 0.0) {
            return err(
                path.key(k),
                format!(
                    "found {x} bytes, expected a {} size",
                    if positive { "positive" } else { "non-negative" }
                ),
            );
        }
        Ok(x)
    };
    Ok(MemoryModel {
        request_bytes: bytes("request", m.request, d.request_bytes, true)?,
        base_bytes: bytes("base", m.base, d.base_bytes, false)?,
        per_in_flight_bytes: bytes("per_in_flight", m.per_in_flight, d.per_in_flight_bytes, false)?,
    })
}

/// The keys each distribution takes.
pub fn dist_keys(d: DistName) -> &'static [&'static str] {
    match d {
        DistName::Exponential => &["mean"],
        DistName::Deterministic => &["value"],
        DistName::Lognormal => &["mean", "p99", "sigma"],
        DistName::Gamma => &["mean", "cv", "shape", "scale"],
        DistName::Uniform => &["min", "max"],
        DistName::Empirical => &["samples"],
        DistName::Linear => &["base", "per", "noise"],
    }
}

const ALL_DISTS: &str =
    "`exponential`, `deterministic`, `lognormal`, `gamma`, `uniform`, `empirical`, `linear`";

fn present(raw: &RawDist) -> Vec<&'static str> {
    let mut v = Vec::new();
    let mut add = |k: &'static str, on: bool| {
        if on {
            v.push(k)
        }
    };
    add("mean", raw.mean.is_some());
    add("value", raw.value.is_some());
    add("p99", raw.p99.is_some());
    add("sigma", raw.sigma.is_some());
    add("cv", raw.cv.is_some());
    add("shape", raw.shape.is_some());
    add("scale", raw.scale.is_some());
    add("min", raw.min.is_some());
    add("max", raw.max.is_some());
    add("samples", raw.samples.is_some());
    add("base", raw.base.is_some());
    add("per", raw.per.is_some());
    add("noise", raw.noise.is_some());
    v
}

fn dist_name(path: &KeyPath, raw: &RawDist) -> R<DistName> {
    let name = raw.distribution.ok_or_else(|| {
        KeyError::new(path.key("distribution"), format!("missing required key, expected one of {ALL_DISTS}"))
    })?;
    let allowed = dist_keys(name);
    if let Some(k) = present(raw).into_iter().find(|k| !allowed.contains(k)) {
        return err(
            path.key(k),
            format!(
                "is not used by distribution `{}` (it takes {})",
                name.name(),
                allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            ),
        );
    }
    Ok(name)
}

fn need<T: Copy>(path: &KeyPath, name: DistName, key: &str, v: Option<T>) -> R<T> {
    v.ok_or_else(|| {
        KeyError::new(path.key(key), format!("missing required key for distribution `{}`", name.name()))
    })
}

fn pos(path: KeyPath, v: f64) -> R<f64> {
    if v.is_finite() && v > 0.0 { Ok(v) } else { err(path, format!("found {v}, expected a positive number")) }
}

/// Builds a distribution (not `linear`) from its table. Its mean must be a time the simulation
/// can represent (at most [`crate::time::MAX_VALUE_SECS`]).
pub fn build_dist(path: &KeyPath, raw: &RawDist) -> R<Dist> {
    let d = build_dist_unchecked(path, raw)?;
    let mean = d.mean();
    if !(mean.is_finite() && mean <= crate::time::MAX_VALUE_SECS) {
        return err(
            path.key("distribution"),
            format!(
                "has mean {} s, more than the longest supported time ({} s, 3660 days)",
                crate::time::fmt_big(mean),
                crate::time::MAX_VALUE_SECS
            ),
        );
    }
    Ok(d)
}

fn build_dist_unchecked(path: &KeyPath, raw: &RawDist) -> R<Dist> {
    let name = dist_name(path, raw)?;
    let secs = |k: &str, v: Option<super::values::Seconds>| need(path, name, k, v.map(|s| s.0));
    match name {
        DistName::Exponential => Ok(Dist::exponential(pos(path.key("mean"), secs("mean", raw.mean)?)?)),
        DistName::Deterministic => Ok(Dist::Deterministic { value: secs("value", raw.value)? }),
        DistName::Lognormal => {
            let mean = pos(path.key("mean"), secs("mean", raw.mean)?)?;
            match (raw.p99, raw.sigma) {
                (Some(p99), None) => Dist::lognormal_mean_p99(mean, p99.0).ok_or_else(|| {
                    KeyError::new(
                        path.key("p99"),
                        format!(
                            "no log-normal has mean {mean}s and p99 {}s: p99 must exceed the mean and be at most {:.3}s",
                            p99.0,
                            mean * (crate::dist::Z99 * crate::dist::Z99 / 2.0).exp()
                        ),
                    )
                }),
                (None, Some(sigma)) => {
                    let sigma = pos(path.key("sigma"), sigma)?;
                    if sigma > MAX_SIGMA {
                        return err(
                            path.key("sigma"),
                            format!(
                                "found {sigma}, expected at most {MAX_SIGMA}: with a larger sigma almost every \
                                 draw is far below the mean {mean}s and the sampled mean does not approach it \
                                 in any feasible run (give `p99` instead to describe a heavy tail)"
                            ),
                        );
                    }
                    Ok(Dist::lognormal_mean_sigma(mean, sigma))
                }
                (Some(_), Some(_)) => err(path.key("sigma"), "give `p99` or `sigma`, not both"),
                (None, None) => err(path.key("p99"), "missing required key for distribution `lognormal`: give `p99` or `sigma`"),
            }
        }
        DistName::Gamma => {
            let mean = raw.mean.map(|m| pos(path.key("mean"), m.0)).transpose()?;
            let cv = raw.cv.map(|v| pos(path.key("cv"), v)).transpose()?;
            let shape = raw.shape.map(|v| pos(path.key("shape"), v)).transpose()?;
            let scale = raw.scale.map(|v| pos(path.key("scale"), v.0)).transpose()?;
            let (k, theta) = match (mean, cv, shape, scale) {
                (Some(m), Some(cv), None, None) => (1.0 / (cv * cv), m * cv * cv),
                (Some(m), None, Some(k), None) => (k, m / k),
                (Some(m), None, None, Some(t)) => (m / t, t),
                (None, None, Some(k), Some(t)) => (k, t),
                _ => {
                    return err(
                        path.key("distribution"),
                        "gamma needs `mean` with one of `cv`, `shape` or `scale`, or `shape` with `scale`",
                    );
                }
            };
            Dist::gamma(k, theta).ok_or_else(|| KeyError::new(path.clone(), "invalid gamma parameters"))
        }
        DistName::Uniform => {
            let (lo, hi) = (secs("min", raw.min)?, secs("max", raw.max)?);
            if lo > hi {
                return err(path.key("min"), format!("min ({lo}s) is greater than max ({hi}s)"));
            }
            Ok(Dist::Uniform { low: lo, high: hi })
        }
        DistName::Empirical => {
            let samples: Vec<f64> =
                raw.samples.as_ref().map(|v| v.iter().map(|s| s.0).collect()).unwrap_or_default();
            if samples.is_empty() {
                return err(path.key("samples"), "missing or empty, expected at least one observed value");
            }
            Ok(Dist::Empirical { samples })
        }
        DistName::Linear => err(
            path.key("distribution"),
            "`linear` depends on per-request sizes and is only valid for service.demand",
        ),
    }
}

fn build_demand(path: &KeyPath, raw: &RawDist, sizes: &[String], max_sizes: &[f64; MAX_SIZES]) -> R<Demand> {
    let name = dist_name(path, raw)?;
    if name != DistName::Linear {
        return build_dist(path, raw).map(Demand::Dist);
    }
    if sizes.is_empty() {
        return err(
            path.key("distribution"),
            "`linear` needs per-request sizes, but the traffic has no size columns; use another distribution",
        );
    }
    let base = raw.base.map_or(0.0, |s| s.0);
    let mut coef = [0.0; MAX_SIZES];
    let per = raw.per.as_ref().filter(|p| !p.is_empty()).ok_or_else(|| {
        KeyError::new(
            path.key("per"),
            format!(
                "missing required key for distribution `linear`: seconds per unit of a size column ({})",
                sizes.join(", ")
            ),
        )
    })?;
    for (col, secs) in per {
        let Some(i) = sizes.iter().position(|s| s == col).filter(|&i| i < MAX_SIZES) else {
            let mut m =
                format!("unknown size column `{col}` (the traffic's size columns: {})", sizes.join(", "));
            if let Some(s) = suggest(col, sizes.iter().map(String::as_str)) {
                m = format!(
                    "unknown size column `{col}`; did you mean `{s}`? (the traffic's size columns: {})",
                    sizes.join(", ")
                );
            }
            return err(path.key("per").key(col), m);
        };
        coef[i] = secs.0;
    }
    // The largest demand any request of the trace gets must be a representable time.
    let worst = base + coef.iter().zip(max_sizes).map(|(c, m)| c * m).sum::<f64>();
    if !(worst.is_finite() && worst <= crate::time::MAX_VALUE_SECS) {
        let (col, _) = per
            .iter()
            .filter_map(|(c, s)| sizes.iter().position(|x| x == c).map(|i| (c, s.0 * max_sizes[i])))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((&sizes[0], 0.0));
        let i = sizes.iter().position(|x| x == col).unwrap_or(0);
        return err(
            path.key("per").key(col),
            format!(
                "gives a request of the trace (size {} = {}) a demand of {} s, more than the longest \
                 supported time ({} s, 3660 days); check the size column's unit",
                col,
                crate::time::fmt_big(max_sizes[i]),
                crate::time::fmt_big(worst),
                crate::time::MAX_VALUE_SECS
            ),
        );
    }
    let noise = match raw.noise {
        Some(cv) => {
            let cv = pos(path.key("noise"), cv)?;
            Some(
                Dist::gamma(1.0 / (cv * cv), cv * cv)
                    .ok_or_else(|| KeyError::new(path.key("noise"), "invalid noise"))?,
            )
        }
        None => None,
    };
    Ok(Demand::Linear { base, coef, noise })
}

fn build_cost(raw: RawCost) -> R<CostModel> {
    let p = KeyPath::root().key("cost");
    let per = raw.per_replica_hour.unwrap_or(0.0);
    if !(per.is_finite() && per >= 0.0) {
        return err(p.key("per_replica_hour"), format!("found {per}, expected a non-negative price"));
    }
    let currency = raw.currency.unwrap_or_else(|| "USD".into());
    if currency.trim().is_empty() {
        return err(p.key("currency"), "is empty, expected a currency label such as \"USD\"");
    }
    Ok(CostModel { per_replica_hour: per, currency })
}

/// The keys each policy type takes (besides `name` and `type`).
pub fn policy_keys(t: PolicyType) -> &'static [&'static str] {
    const SCALING: [&str; 6] = [
        "min_replicas",
        "max_replicas",
        "initial",
        "polling_interval",
        "scale_down_stabilization",
        "scale_up_stabilization",
    ];
    // The short spellings the basic types, aws and oracle also accept.
    const ALIASES: [&str; 3] = ["min", "max", "interval"];
    // Manifest-based types: the keys that edit the manifest (config/manifest_edit.rs).
    const EDITS: [&str; 5] = ["min_replicas", "max_replicas", "min", "max", "patch"];
    const MANIFEST_KEYS: [&str; 13] = [
        "manifest",
        "initial",
        "activator",
        "controller",
        "metrics_map",
        EDITS[0],
        EDITS[1],
        EDITS[2],
        EDITS[3],
        EDITS[4],
        "target",
        "polling_interval",
        "cooldown_period",
    ];
    match t {
        PolicyType::Fixed => &["replicas"],
        PolicyType::Rps | PolicyType::Concurrency => &[
            "target",
            "window",
            "tolerance",
            "activator",
            SCALING[0],
            SCALING[1],
            SCALING[2],
            SCALING[3],
            SCALING[4],
            SCALING[5],
            ALIASES[0],
            ALIASES[1],
            ALIASES[2],
        ],
        PolicyType::Cpu => &[
            "target",
            "activator",
            "window",
            "tolerance",
            SCALING[0],
            SCALING[1],
            SCALING[2],
            SCALING[3],
            SCALING[4],
            SCALING[5],
            ALIASES[0],
            ALIASES[1],
            ALIASES[2],
        ],
        PolicyType::Schedule => &[
            "windows",
            "activator",
            SCALING[0],
            SCALING[1],
            SCALING[2],
            SCALING[3],
            SCALING[4],
            SCALING[5],
            ALIASES[0],
            ALIASES[1],
            ALIASES[2],
        ],
        PolicyType::Autoscale => &[
            "metrics",
            "windows",
            "activator",
            SCALING[0],
            SCALING[1],
            SCALING[2],
            SCALING[3],
            SCALING[4],
            SCALING[5],
            ALIASES[0],
            ALIASES[1],
            ALIASES[2],
        ],
        PolicyType::Knative => &[
            "manifest",
            "activator",
            EDITS[0],
            EDITS[1],
            EDITS[2],
            EDITS[3],
            EDITS[4],
            "target",
            "annotations",
        ],
        // hpa takes all but KEDA's polling and cooldown (the last two).
        PolicyType::Hpa => &MANIFEST_KEYS[..MANIFEST_KEYS.len() - 2],
        PolicyType::Keda => &MANIFEST_KEYS,
        PolicyType::Platform => &[
            "min_replicas",
            "max_replicas",
            "polling_interval",
            "cooldown_period",
            "metric",
            "initial",
            "activator",
            "controller",
        ],
        PolicyType::Aws => {
            const K: [&str; 5] = super::aws::KEYS;
            &[SCALING[0], SCALING[1], SCALING[2], ALIASES[0], ALIASES[1], K[0], K[1], K[2], K[3], K[4]]
        }
        PolicyType::Oracle => &[
            SCALING[0], SCALING[1], SCALING[2], SCALING[3], ALIASES[0], ALIASES[1], ALIASES[2], "window",
            "lead", "capacity",
        ],
    }
}

fn policy_present(p: &RawPolicy) -> Vec<&'static str> {
    let pairs = [
        ("replicas", p.replicas.is_some()),
        ("min", p.min.is_some()),
        ("max", p.max.is_some()),
        ("initial", p.initial.is_some()),
        ("interval", p.interval.is_some()),
        ("scale_down_stabilization", p.scale_down_stabilization.is_some()),
        ("scale_up_stabilization", p.scale_up_stabilization.is_some()),
        ("target", p.target.is_some()),
        ("window", p.window.is_some()),
        ("tolerance", p.tolerance.is_some()),
        ("windows", p.windows.is_some()),
        ("metrics", p.metrics.is_some()),
        ("manifest", p.manifest.is_some()),
        ("activator", p.activator.is_some()),
        ("controller", p.controller.is_some()),
        ("patch", p.patch.is_some()),
        ("annotations", p.annotations.is_some()),
        ("metrics_map", p.metrics_map.is_some()),
        ("min_replicas", p.min_replicas.is_some()),
        ("max_replicas", p.max_replicas.is_some()),
        ("polling_interval", p.polling_interval.is_some()),
        ("cooldown_period", p.cooldown_period.is_some()),
        ("metric", p.metric.is_some()),
        // type = "aws"
        ("instance_warmup", p.instance_warmup.is_some()),
        ("scheduled_delay", p.scheduled_delay.is_some()),
        ("target_tracking", p.target_tracking.is_some()),
        ("step_scaling", p.step_scaling.is_some()),
        ("scheduled_actions", p.scheduled_actions.is_some()),
        // type = "oracle"
        ("capacity", p.capacity.is_some()),
        ("lead", p.lead.is_some()),
    ];
    pairs.iter().filter(|(_, on)| *on).map(|(k, _)| *k).collect()
}

fn build_policies(
    raw: Vec<RawPolicy>,
    base_dir: &Path,
    files: &Files,
    scenario: &Scenario,
    start_mode: Start,
    warnings: &mut Vec<KeyError>,
) -> R<Vec<PolicySpec>> {
    let root = KeyPath::root().key("policy");
    if raw.is_empty() {
        return err(root, "no [[policy]] in the scenario, expected at least one (e.g. type = \"fixed\")");
    }
    let mut out: Vec<PolicySpec> = Vec::with_capacity(raw.len());
    // Name → first index: O(n log n) over the policies, not a scan per policy.
    let mut seen: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for (i, p) in raw.into_iter().enumerate() {
        let path = root.index(i);
        if p.name.trim().is_empty() {
            return err(path.key("name"), "is empty, expected a policy name");
        }
        if let Some(j) = seen.insert(p.name.clone(), i) {
            return err(
                path.key("name"),
                format!("duplicate policy name \"{}\" (already used by policy[{j}])", p.name),
            );
        }
        // A policy's own `initial` wins; the oracle plans its own start; fixed is fixed.
        let given = p.initial.is_some() || matches!(p.kind, PolicyType::Oracle | PolicyType::Fixed);
        let mut spec = build_policy(&path, p, base_dir, files, scenario, warnings)?;
        spec.start = if given { Start::Given } else { start_mode };
        out.push(spec);
    }
    Ok(out)
}

/// Moves `min_replicas`, `max_replicas` and `polling_interval` of a basic or aws policy onto
/// their short spellings (`min`, `max`, `interval`), which the rest of the build reads; both
/// spellings at once is an error. Returns the spellings used, to name them in later errors.
fn one_vocabulary(path: &KeyPath, p: &mut RawPolicy) -> R<Vec<(&'static str, &'static str)>> {
    let mut renamed = Vec::new();
    fn take<T>(
        path: &KeyPath,
        long: &'static str,
        short: &'static str,
        a: &mut Option<T>,
        b: &mut Option<T>,
        renamed: &mut Vec<(&'static str, &'static str)>,
    ) -> R<()> {
        if a.is_some() {
            if b.is_some() {
                return err(
                    path.key(short),
                    format!("give `{long}` or `{short}` (the same setting), not both"),
                );
            }
            *b = a.take();
            renamed.push((short, long));
        }
        Ok(())
    }
    take(path, "min_replicas", "min", &mut p.min_replicas, &mut p.min, &mut renamed)?;
    take(path, "max_replicas", "max", &mut p.max_replicas, &mut p.max, &mut renamed)?;
    take(path, "polling_interval", "interval", &mut p.polling_interval, &mut p.interval, &mut renamed)?;
    Ok(renamed)
}

fn build_policy(
    path: &KeyPath,
    mut p: RawPolicy,
    base_dir: &Path,
    files: &Files,
    scenario: &Scenario,
    warnings: &mut Vec<KeyError>,
) -> R<PolicySpec> {
    let allowed = policy_keys(p.kind);
    if let Some(k) = policy_present(&p).into_iter().find(|k| !allowed.contains(k)) {
        return err(
            path.key(k),
            format!(
                "is not used by policy type `{}` (it takes {})",
                p.kind.name(),
                allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            ),
        );
    }
    if super::families::is_family(p.kind) || p.kind == PolicyType::Fixed {
        return build_policy_as_written(path, p, base_dir, files, scenario, warnings);
    }
    let renamed = one_vocabulary(path, &mut p)?;
    build_policy_as_written(path, p, base_dir, files, scenario, warnings).map_err(|mut e| {
        // Name the key as the user spelled it.
        if let Some(super::source::Seg::Key(k)) = e.path.0.get(2).cloned()
            && let Some((_, long)) = renamed.iter().find(|(short, _)| *short == k)
        {
            e.path.0[2] = super::source::Seg::Key(long.to_string());
            e.message = e.message.replace(&format!("{k} ("), &format!("{long} ("));
        }
        e
    })
}

/// Builds a policy whose keys are spelled as the build reads them: checks that its type takes
/// them, then hands it to its family — manifests, `fixed`, `aws`, `oracle`, or the basic types.
fn build_policy_as_written(
    path: &KeyPath,
    p: RawPolicy,
    base_dir: &Path,
    files: &Files,
    scenario: &Scenario,
    warnings: &mut Vec<KeyError>,
) -> R<PolicySpec> {
    let (clock, duration) = (&scenario.clock, scenario.duration);
    let sim_tz = clock.tz();
    let allowed = policy_keys(p.kind);
    if let Some(k) = policy_present(&p).into_iter().find(|k| !allowed.contains(k)) {
        return err(
            path.key(k),
            format!(
                "is not used by policy type `{}` (it takes {})",
                p.kind.name(),
                allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            ),
        );
    }
    if super::families::is_family(p.kind) {
        return super::families::build(path, &p, base_dir, files, sim_tz);
    }
    if p.kind == PolicyType::Fixed {
        return build_fixed(path, &p);
    }
    if p.kind == PolicyType::Aws {
        return super::aws::build(path, p, sim_tz);
    }
    if p.kind == PolicyType::Oracle {
        return build_oracle(path, &p, scenario);
    }
    super::basic::build(path, p, clock, duration, warnings)
}

/// `type = "fixed"`: `replicas`, at least 1.
fn build_fixed(path: &KeyPath, p: &RawPolicy) -> R<PolicySpec> {
    let n = p
        .replicas
        .ok_or_else(|| KeyError::new(path.key("replicas"), "missing required key for type `fixed`"))?;
    if n == 0 {
        return err(path.key("replicas"), "found 0, expected at least 1 replica");
    }
    Ok(PolicySpec::fixed(&p.name, n))
}

/// `type = "oracle"`: checks its keys and builds it against the rest of the scenario (the step
/// test that measures one replica's capacity runs here unless `capacity` is given).
fn build_oracle(path: &KeyPath, p: &RawPolicy, scenario: &Scenario) -> R<PolicySpec> {
    let settings = crate::oracle::OracleSettings {
        interval: p.interval.map(|d| positive(path.key("interval"), d)).transpose()?,
        window: p.window.map(|d| positive(path.key("window"), d)).transpose()?,
        lead: p.lead.map(Dur::time),
        capacity_rps: p.capacity.map(|c| pos(path.key("capacity"), c)).transpose()?,
        min: p.min,
        max: p.max,
        initial: p.initial,
    };
    if let Some(0) = p.max {
        return err(path.key("max"), "found 0, expected at least 1");
    }
    crate::oracle::build(scenario, &p.name, &settings).map_err(|e| match e {
        crate::oracle::OracleError::Invalid(m) => match m.split_once(": ") {
            Some((key, rest)) if policy_keys(PolicyType::Oracle).contains(&key) => {
                KeyError::new(path.key(key), rest)
            }
            _ => KeyError::new(path.key("min"), m),
        },
        other => KeyError::new(path.key("capacity"), other.to_string()),
    })
}
