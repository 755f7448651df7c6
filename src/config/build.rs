//! Checking a parsed scenario and turning it into a [`Scenario`]: defaults, cross-key rules
//! (which keys go with which `type` or `distribution`, min ≤ initial ≤ max, unique names, …)
//! and conversion into the library's types. Every failure names the key at fault.
//!
//! This is the top of the building layers: it checks `[simulation]` and `[cost]` itself and
//! assembles the scenario from the family builders below it — `traffic`, `service`, and per
//! policy (after the keys its type takes are checked here) `basic`, `families` (manifests and
//! `platform`), `aws`, `fixed` and `oracle` (these two here). No builder imports this file.

use super::error::KeyError;
use super::files::Files;
use super::raw::traffic::TrafficConfig;
use super::raw::*;
use super::shared::{parse_tz, pos, positive};
use super::source::KeyPath;
use super::values::Dur;
use crate::dist::Dist;
use crate::policy::{PolicySpec, Start};
use crate::scenario::{CostModel, Scenario, Slo};
use crate::service::ServiceModel;
use crate::time::{Clock, SECOND, Time};
use crate::traffic::TrafficSpec;
use chrono::NaiveDateTime;
use std::path::Path;

type R<T> = Result<T, KeyError>;

fn err<T>(path: KeyPath, message: impl Into<String>) -> R<T> {
    Err(KeyError::new(path, message))
}

/// The longest simulation accepted (ten years): calendars and schedules are resolved over it.
pub const MAX_DURATION: Time = 3660 * 86_400 * SECOND;

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
    check_name(sim.key("name"), &name)?;
    let duration = positive(sim.key("duration"), s.duration)?;
    if duration > MAX_DURATION {
        return err(sim.key("duration"), "is longer than the longest supported simulation (3660 days)");
    }
    let clock = build_clock(&sim, s.timezone.as_deref(), s.start.as_ref(), duration, warnings)?;
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
    let mut raw_traffic = raw.traffic;
    raw_traffic.tokens_required = raw.service.llm.is_some();
    let traffic = build_traffic(raw_traffic, base_dir, files, &clock, duration, warnings)?;
    let (service, balancer) =
        super::service::build_service(raw.service, &traffic.size_columns(), &traffic.max_sizes())?;
    warn_large_sigmas(&service, warnings);
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

/// Checks the scenario's name: not empty, without slashes or control characters, and at most
/// [`MAX_NAME_CHARS`] characters.
fn check_name(path: KeyPath, name: &str) -> R<()> {
    if name.trim().is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
        return err(path, format!("found \"{name}\", expected a non-empty name without slashes"));
    }
    // The name becomes a folder name (output/<name>) and a column value.
    if name.chars().any(char::is_control) {
        return err(
            path,
            format!("found {name:?}, expected a name without control characters (NUL, newline, …)"),
        );
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return err(
            path,
            format!(
                "is {} characters long, expected at most {MAX_NAME_CHARS} (it names the output folder)",
                name.chars().count()
            ),
        );
    }
    Ok(())
}

/// The simulation's clock from `simulation.timezone` (default UTC) and `simulation.start`
/// (default [`DEFAULT_START`]); a start the clocks skip (a daylight-saving gap) is a warning.
fn build_clock(
    sim: &KeyPath,
    timezone: Option<&str>,
    start: Option<&toml::Value>,
    duration: Time,
    warnings: &mut Vec<KeyError>,
) -> R<Clock> {
    let tz = match timezone {
        Some(t) => parse_tz(sim.key("timezone"), t)?,
        None => chrono_tz::UTC,
    };
    let start = match start {
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
    Ok(Clock::new(start, tz, duration))
}

/// The `[traffic]` section built (its errors' keys made absolute), with a warning when a trace
/// skipped malformed lines.
fn build_traffic(
    raw: TrafficConfig,
    base_dir: &Path,
    files: &Files,
    clock: &Clock,
    duration: Time,
    warnings: &mut Vec<KeyError>,
) -> R<TrafficSpec> {
    let traffic = raw.into_spec(base_dir, files, clock, duration).map_err(|e| {
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
    Ok(traffic)
}

/// Warns about a log-normal demand or startup whose sigma is above [`super::service::WARN_SIGMA`].
fn warn_large_sigmas(service: &ServiceModel, warnings: &mut Vec<KeyError>) {
    for (k, d) in [("demand", service.demand.dist()), ("startup", Some(&service.startup))] {
        if let Some(Dist::LogNormal { sigma, .. }) = d
            && *sigma > super::service::WARN_SIGMA
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

/// The scaling keys of the basic types (aws and oracle take some of them).
const SCALING: [&str; 6] = [
    "min_replicas",
    "max_replicas",
    "initial",
    "polling_interval",
    "scale_down_stabilization",
    "scale_up_stabilization",
];
/// The short spellings the basic types, aws and oracle also accept.
const ALIASES: [&str; 3] = ["min", "max", "interval"];
/// Manifest-based types: the keys that edit the manifest (config/manifest_edit.rs).
const EDITS: [&str; 5] = ["min_replicas", "max_replicas", "min", "max", "patch"];
/// The keys of `hpa` and `keda` policies (hpa takes all but the last two, KEDA's polling and
/// cooldown).
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

/// The keys each policy type takes (besides `name` and `type`).
pub fn policy_keys(t: PolicyType) -> &'static [&'static str] {
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
