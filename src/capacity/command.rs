//! `scalesim capacity` and `scalesim recommend` as library calls: the step test of one
//! replica and its answers ([`capacity()`]), and min / max / targets from it checked by
//! simulation ([`recommend`]). The edge of the pure capacity module: these read the files the
//! requests name (through `config`) and stage the files they write for the caller to commit.

use super::recommend::Recommendation;
use super::{CapacityEstimate, CapacitySlo, StepTest, Think, TrafficRange};
use crate::capacity;
use crate::command::{self, Error, Feedback, Phase, invalid};
use crate::config;
use crate::experiment::{self, Progress, RunOptions};
use crate::report;
use crate::report::atomic::Staging;
use crate::scenario::Scenario;
use crate::time::{SECOND, Time, to_secs_f64};
use crate::tune::command::{Found, search_target_and_min};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// What `scalesim capacity` is asked to do.
#[derive(Debug, Clone)]
pub struct CapacityRequest {
    /// Scenario or service-only file.
    pub file: PathBuf,
    /// `--slo` text.
    pub slo: Option<String>,
    /// `--max-errors` text.
    pub max_errors: Option<String>,
    /// `--mode closed` (else open).
    pub closed: bool,
    /// `--think` seconds (closed loop).
    pub think_s: Option<f64>,
    /// `--out`.
    pub out_dir: Option<PathBuf>,
    /// `--allow-large`.
    pub allow_large: bool,
}

/// What `scalesim recommend` is asked to do.
#[derive(Debug, Clone)]
pub struct RecommendRequest {
    /// Scenario file, or a service-only file (then `range` or `traffic` is required).
    pub file: PathBuf,
    /// A scenario file whose traffic to use instead.
    pub traffic: Option<PathBuf>,
    /// `--min-rps`, `--max-rps`.
    pub range: Option<(f64, f64)>,
    /// `--slo`, `--max-errors`.
    pub slo: Option<String>,
    /// `--max-errors`.
    pub max_errors: Option<String>,
    /// `--out`.
    pub out_dir: Option<PathBuf>,
    /// `--capacity-rps`: a known capacity per replica (skips the step test; no cpu or
    /// concurrency target then).
    pub capacity_rps: Option<f64>,
    /// `--mode closed`: the step test uses closed-loop users (as Locust), else open loop.
    pub closed: bool,
    /// `--think` seconds (closed loop).
    pub think_s: Option<f64>,
    /// `--min-replicas`: the fewest replicas recommended (2 by default, for fault tolerance).
    pub min_replicas: u32,
    /// `--allow-large`.
    pub allow_large: bool,
}

/// The cost of the step tests of one capacity estimate, one per seed of [`capacity::SEEDS`]
/// (see [`crate::budget`]).
fn step_test_estimate(test: &StepTest, service: &crate::service::ServiceModel) -> crate::budget::Estimate {
    let mut e = one_step_test_estimate(test, service);
    let n = capacity::SEEDS.len();
    e.runs *= n as u64;
    e.requests *= n as f64;
    e.work *= n as f64;
    e
}

/// The cost of one step test.
fn one_step_test_estimate(
    test: &StepTest,
    service: &crate::service::ServiceModel,
) -> crate::budget::Estimate {
    let step = to_secs_f64(test.step_duration);
    let secs = step * test.steps() as f64;
    match &test.load {
        capacity::Load::Open { rates } => {
            crate::budget::estimate_step_test(rates.iter().sum::<f64>() * step, 0.0, secs)
        }
        capacity::Load::Closed { users, think } => {
            let cycle = (service.demand.mean_without_sizes() + think.mean()).max(1e-6);
            let total: f64 = users.iter().map(|&u| f64::from(u)).sum();
            let most = users.iter().copied().max().unwrap_or(0);
            crate::budget::estimate_step_test(total * step / cycle, f64::from(most), secs)
        }
    }
}

/// The objective: flags first, then the scenario's (as [`crate::oracle::capacity_slo`]
/// reads its `[simulation.slo]`, the one objective `validate`, `run` and the oracle use), then
/// p99 < 500 ms and 1 % for a service-only file.
fn slo_from(
    slo: &Option<String>,
    max_errors: &Option<String>,
    sc: Option<&Scenario>,
) -> Result<CapacitySlo, Error> {
    let mut out = match sc {
        Some(s) => crate::oracle::capacity_slo(s.slo.as_ref()),
        None => CapacitySlo::default(),
    };
    if let Some(t) = slo {
        out.latency = Some(CapacitySlo::parse_latency(t).map_err(|e| Error::Invalid(format!("--slo {e}")))?);
    }
    if let Some(t) = max_errors {
        out.max_error_rate =
            CapacitySlo::parse_error_rate(t).map_err(|e| Error::Invalid(format!("--max-errors {e}")))?;
    }
    Ok(out)
}

fn stem(p: &Path) -> String {
    p.file_stem().map_or_else(|| "service".into(), |s| s.to_string_lossy().into_owned())
}

/// What `scalesim capacity` found: the estimate (8 seeded step tests), staged files
/// (capacity_steps.csv and capacity.png of the first test) for the caller to commit.
#[derive(Debug)]
pub struct CapacityOutcome {
    /// The scenario's name, or the service file's stem.
    pub name: String,
    /// The estimate.
    pub estimate: std::sync::Arc<CapacityEstimate>,
    /// capacity_steps.csv and capacity.png, staged.
    pub staging: Staging,
}

impl CapacityOutcome {
    /// The terminal text: the first test's steps, every seed's answer, and the estimate.
    pub fn table(&self) -> String {
        let (est, (result, answer)) = (&self.estimate, &self.estimate.tests[0]);
        let mut s = format!(
            "{}: {}-loop step test of one replica ({} s steps, first {} s excluded), seed {} of {}\n",
            self.name,
            result.mode,
            result.step_s,
            result.warmup_s,
            est.seeds[0],
            est.seeds.len()
        );
        s.push_str(&report::capacity::step_table(result, answer));
        s.push('\n');
        s.push_str(&report::capacity::seeds_table(est));
        s.push('\n');
        s.push_str(&report::capacity::estimate_text(est));
        s
    }

    /// The estimate as JSON (`--json`).
    pub fn json(&self) -> String {
        let v = report::capacity::estimate_json(&self.estimate);
        format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
    }
}

/// `scalesim capacity`: the step tests of one replica of the file's service, judged against
/// the objective, and their files staged.
pub fn capacity(cmd: &CapacityRequest, fb: &dyn Feedback) -> Result<CapacityOutcome, Error> {
    let loaded = config::load_service(&cmd.file)?;
    let slo = slo_from(&cmd.slo, &cmd.max_errors, loaded.scenario.as_ref())?;
    if let Some(z) = cmd.think_s
        && crate::time::checked_from_secs(z).is_err()
    {
        return Err(Error::Invalid(format!(
            "--think {z}: expected a think time in seconds, from 0 to {} (3660 days)",
            crate::time::MAX_VALUE_SECS
        )));
    }
    let think = cmd.closed.then(|| Think::Exponential(cmd.think_s.unwrap_or(capacity::DEFAULT_THINK_S)));
    let test = StepTest::for_service(&loaded.service, think);
    command::allow(fb, &step_test_estimate(&test, &loaded.service), cmd.allow_large, None)?;
    let est = capacity::estimate(&loaded.service, &test, &slo);
    // The step table and the chart show the first test (seed 1); --json holds all of them.
    let (result, answer) = &est.tests[0];
    let name = loaded.scenario.as_ref().map_or_else(|| stem(&cmd.file), |s| s.name.clone());
    let out = cmd.out_dir.clone().unwrap_or_else(|| PathBuf::from("output").join(&name));
    // Both files or neither: the CSV is not replaced when the chart fails.
    let mut staging = Staging::new(&out, "capacity")?;
    staging.protect(&cmd.file);
    staging.write("capacity_steps.csv", &report::capacity::steps_csv(result))?;
    let title = format!("{name}: one replica, {}-loop step test, seed {}", result.mode, est.seeds[0]);
    report::capacity::chart(&staging.path("capacity.png"), &title, result, answer)?;
    staging.add("capacity.png");
    Ok(CapacityOutcome { name, estimate: est, staging })
}

/// Lowest and highest per-minute rate of the traffic, and the steepest rise between minutes.
/// For a rate shape: its noise-free rate at each minute's midpoint, the extremes read as the
/// shape's own levels ([`capacity::recommend::nominal`]: 50 and 200 for a daily curve from 50
/// to 200, not 50.0000001), and separately what the arrivals reached per minute with the
/// scenario's seed (noise and Poisson scatter included). For a trace: the arrivals per minute.
fn traffic_range(sc: &Scenario) -> TrafficRange {
    let minute = 60 * SECOND;
    let n = (sc.duration / minute).max(1);
    let counted = || -> Vec<f64> {
        let mut counts = vec![0u64; n as usize];
        let mut src = sc.traffic.source(sc.seed, &sc.clock, n * minute);
        while let Some(a) = src.next_arrival() {
            counts[((a.time / minute) as usize).min(n as usize - 1)] += 1;
        }
        counts.iter().map(|&c| c as f64 / 60.0).collect()
    };
    let extremes = |rates: &[f64]| {
        let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
        let max = rates.iter().copied().fold(0.0, f64::max);
        (if min.is_finite() { min } else { 0.0 }, max)
    };
    let (rates, reached) = match sc.traffic.shape() {
        Some(shape) => {
            let rates: Vec<f64> = (0..n)
                .map(|i| sc.traffic.rate_at(&sc.clock, i * minute + minute / 2).unwrap_or(0.0))
                .collect();
            let levels = shape.levels();
            let (lo, hi) = extremes(&rates);
            let nominal =
                (capacity::recommend::nominal(lo, &levels), capacity::recommend::nominal(hi, &levels));
            (rates, Some((nominal, extremes(&counted()))))
        }
        None => (counted(), None),
    };
    let ramp = rates.windows(2).map(|w| (w[1] - w[0]) / 60.0).fold(0.0, f64::max);
    let ((min, max), reached) = match reached {
        Some((nominal, reached)) => (nominal, Some(reached)),
        None => (extremes(&rates), None),
    };
    TrafficRange { min_rps: min, max_rps: max, max_ramp_rps_per_s: ramp, reached }
}

fn dur(t: Time) -> String {
    format!("{}s", to_secs_f64(t))
}

/// The traffic `recommend` simulates for a service-only file given `--min-rps A --max-rps B`:
/// one weekday (Monday 2025-01-06, UTC) of a daily curve from A at night to B at 14:00, Poisson
/// arrivals, seed 1, recorded every minute, judged against `slo`. Scenario TOML, without the
/// service or policies.
fn default_traffic_toml(name: &str, min_rps: f64, max_rps: f64, slo: &CapacitySlo) -> String {
    format!(
        "# Written by `scalesim recommend` for a service-only file: one weekday of a daily curve from\n\
         # --min-rps (night) to --max-rps (14:00), Poisson arrivals. Edit the traffic to match yours.\n\
         [simulation]\nname = {}\nduration = \"24h\"\nstart = \"2025-01-06T00:00:00\"   # a Monday\n\
         timezone = \"UTC\"\nseed = 1\nrecord_interval = \"1m\"\n\n{}\n\
         [traffic]\narrival = \"poisson\"\n\n\
         [traffic.rate]\nshape = \"daily\"\ntrough = {min_rps:?}\npeak = {max_rps:?}\npeak_hour = 14.0\n",
        toml_edit::Value::from(name),
        slo_toml(slo)
    )
}

/// `slo` as a `[simulation.slo]` table.
fn slo_toml(slo: &CapacitySlo) -> String {
    let mut s = String::from("[simulation.slo]\n");
    if let Some((p, b)) = slo.latency {
        let _ = writeln!(s, "latency_percentile = {p:?}\nlatency = \"{}ms\"", fmt_ms(b * 1000.0));
    }
    let _ = writeln!(s, "error_rate = {:?}", slo.max_error_rate);
    s
}

fn fmt_ms(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// What `recommend` plans from: the service, the SLO, the traffic range, and the scenario text
/// (without policies) the recommended policies are appended to.
struct Plan {
    name: String,
    service: crate::service::ServiceModel,
    seed: u64,
    slo: CapacitySlo,
    range: TrafficRange,
    text: String,
    base_dir: PathBuf,
    /// How often the scenario's (or traffic scenario's) policies decide, if it has any.
    interval: Option<crate::time::Time>,
    /// Whether the file sets a CPU model of its own (the default is a placeholder).
    cpu_given: bool,
}

/// The decision interval of the first policy of `sc` that has one.
fn scenario_interval(sc: &Scenario) -> Option<crate::time::Time> {
    sc.policies.iter().find_map(|p| p.decision_interval())
}

/// Whether the file sets a CPU model (`[service.cpu]`) rather than leaving the default.
fn has_cpu_model(doc: &toml_edit::DocumentMut) -> bool {
    doc.get("service").and_then(|s| s.get("cpu")).is_some()
}

fn parent_dir(p: &Path) -> PathBuf {
    p.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
}

fn read_doc(path: &Path) -> Result<toml_edit::DocumentMut, Error> {
    let text = crate::input::read_text(path, crate::input::InputKind::Scenario)
        .map_err(|e| invalid(e.to_string()))?;
    text.parse().map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
}

/// The plan for a whole scenario: its own traffic (or `--traffic`'s range, or the given one),
/// its SLO under the flags, its text.
fn plan_scenario(cmd: &RecommendRequest, sc: Scenario, range: Option<TrafficRange>) -> Result<Plan, Error> {
    let slo = slo_from(&cmd.slo, &cmd.max_errors, Some(&sc))?;
    let range = match (range, &cmd.traffic) {
        (Some(r), _) => r,
        (None, Some(f)) => traffic_range(&config::load(f, &[])?),
        (None, None) => traffic_range(&sc),
    };
    let mut doc = read_doc(&cmd.file)?;
    doc.remove("policy");
    Ok(Plan {
        cpu_given: has_cpu_model(&doc),
        interval: scenario_interval(&sc),
        name: sc.name.clone(),
        service: sc.service,
        seed: sc.seed,
        slo,
        range,
        text: doc.to_string(),
        base_dir: parent_dir(&cmd.file),
    })
}

/// The plan for a service-only file (as `calibrate` writes): the traffic is the default daily
/// curve over the given range, or `--traffic`'s scenario (its `[simulation]`, `[traffic]` and
/// `[cost]`; its name, or the service file's), and the service follows it. Either way the
/// `[simulation.slo]` is the one the recommendation is judged against.
fn plan_service(
    cmd: &RecommendRequest,
    service: crate::service::ServiceModel,
    range: Option<TrafficRange>,
) -> Result<Plan, Error> {
    let mut name = stem(&cmd.file);
    let mut svc = read_doc(&cmd.file)?;
    svc.remove("policy");
    let mut interval = None;
    let (head, slo, range, seed, base_dir) = match (range, &cmd.traffic) {
        (Some(r), _) => {
            let slo = slo_from(&cmd.slo, &cmd.max_errors, None)?;
            (default_traffic_toml(&name, r.min_rps, r.max_rps, &slo), slo, r, 1, parent_dir(&cmd.file))
        }
        (None, Some(f)) => {
            let tsc = config::load(f, &[])?;
            interval = scenario_interval(&tsc);
            let slo = slo_from(&cmd.slo, &cmd.max_errors, Some(&tsc))?;
            let mut doc = read_doc(f)?;
            let keep = ["simulation", "traffic", "cost"];
            let drop: Vec<String> =
                doc.iter().map(|(k, _)| k.to_string()).filter(|k| !keep.contains(&k.as_str())).collect();
            for k in drop {
                doc.remove(&k);
            }
            if let Some(sim) = doc.get_mut("simulation").and_then(|s| s.as_table_like_mut()) {
                sim.remove("slo");
                // The traffic scenario's own name, else the service file's.
                if sim.contains_key("name") {
                    name.clone_from(&tsc.name);
                } else {
                    sim.insert("name", toml_edit::value(name.as_str()));
                }
            }
            let head = format!(
                "# Traffic from {} (for the service-only file {}).\n{}\n\n{}",
                f.display(),
                cmd.file.display(),
                doc.to_string().trim_end(),
                slo_toml(&slo)
            );
            (head, slo, traffic_range(&tsc), tsc.seed, parent_dir(f))
        }
        (None, None) => {
            return Err(Error::Invalid(format!(
                "{}: a service-only file has no traffic to plan for; pass --min-rps A --max-rps B \
                 (lowest and highest requests per second; a weekday daily curve between them is \
                 simulated) or --traffic SCENARIO (a scenario file whose traffic to use)",
                cmd.file.display()
            )));
        }
    };
    Ok(Plan {
        name,
        service,
        seed,
        slo,
        range,
        cpu_given: has_cpu_model(&svc),
        text: format!("{head}\n{}", svc.to_string().trim_start()),
        base_dir,
        interval,
    })
}

/// What `scalesim recommend` found: the arithmetic, how the recommended policies fared in
/// simulation, the searches run for those that missed the SLO, and the files staged
/// (recommended.toml, each search's evidence) for the caller to commit in order.
#[derive(Debug)]
pub struct Recommended {
    /// Min, max and targets, with the arithmetic.
    pub recommendation: Recommendation,
    /// Where recommended.toml goes.
    pub path: PathBuf,
    /// recommended.toml's text.
    pub toml: String,
    /// Each recommended policy and whether it met the SLO in simulation.
    pub meets: Vec<(String, bool)>,
    /// The searches for the policies that missed it, in policy order (their evidence staged).
    pub searches: Vec<Found>,
    /// recommended.toml, staged (commit it after the searches' evidence).
    pub staging: Staging,
    /// The terminal report, ending with the line naming the file written.
    pub report: String,
}

/// The capacity a recommendation is made from: the step tests' estimate (when within the
/// SLO) or `--capacity-rps`, and the targets measured at it.
struct Measured {
    test: StepTest,
    est: Result<std::sync::Arc<CapacityEstimate>, String>,
    cap: f64,
    cpu_at: Option<f64>,
    conc_at: Option<f64>,
}

/// `scalesim recommend`: min, max and targets from one replica's capacity and the traffic's
/// range, checked by simulating them against the traffic; where the arithmetic misses the SLO,
/// target and min are searched as `tune` does and added as `<policy>-tuned`.
pub fn recommend(cmd: &RecommendRequest, fb: &dyn Feedback) -> Result<Recommended, Error> {
    let plan = recommend_plan(cmd)?;
    let m = measure(cmd, &plan, fb)?;
    let (slo, range) = (plan.slo, plan.range);
    // The scenario's own decision interval (its first policy that has one), else 15 s.
    let interval_s = crate::time::to_secs_f64(plan.interval.unwrap_or(15 * crate::time::SECOND));
    let interval_toml = format!("{}s", fmt(interval_s));
    let startup_s = plan.service.startup.mean();
    let at = |c: f64, cpu, conc| {
        capacity::recommend(c, range, cpu, conc, interval_s, startup_s).with_min_floor(cmd.min_replicas)
    };
    let rec = at(m.cap, m.cpu_at, m.conc_at);
    let mut s = describe_basis(cmd, &plan, &m, &rec, &interval_toml);
    if let (Ok(e), None) = (&m.est, cmd.capacity_rps) {
        let (lo, hi) = e.ci95_rps;
        let (a, b) = (at(hi, None, None), at(lo, None, None));
        let span = |x: u32, y: u32| if x == y { x.to_string() } else { format!("{x}–{y}") };
        let _ = writeln!(
            s,
            "  across the capacity's 95 % interval ({lo:.2}–{hi:.2} req/s): min {}, max {}",
            span(a.min_replicas, b.min_replicas),
            span(a.max_replicas, b.max_replicas)
        );
    }
    let _ = writeln!(
        s,
        "\nrecommended: min {}, max {}, rps target {}{}{}",
        rec.min_replicas,
        rec.max_replicas,
        fmt(rec.rps_target),
        rec.cpu_target_pct.map_or_else(String::new, |c| format!(", cpu target {}%", fmt(c))),
        rec.concurrency_target.map_or_else(String::new, |c| format!(", concurrency target {}", fmt(c)))
    );
    // The recommended scenario: the plan's text (the file, or the traffic and the service) with
    // the recommended policies.
    let mut toml = format!("{}{}", plan.text, recommended_policies(&rec, &interval_toml));
    let out = cmd.out_dir.clone().unwrap_or_else(|| PathBuf::from("output").join(&plan.name));
    let path = out.join("recommended.toml");
    let checked = config::load_str(&toml, &path.display().to_string(), &plan.base_dir, &[])?;
    let meets = simulate_recommended(cmd, &checked, &slo, &mut s, fb)?;
    // Where the arithmetic misses the SLO in simulation, search target and min for the cheapest
    // settings that meet it (the same checks), and add them as `<policy>-tuned`.
    let mut searches = Vec::new();
    for (name, _) in meets.iter().filter(|(_, ok)| !ok) {
        let Some(p) = checked.policies.iter().find(|p| &p.name == name) else { continue };
        let Some(target) = policy_target(&toml, name) else { continue };
        let found = search_target_and_min(
            &toml,
            &path,
            &plan.base_dir,
            &out,
            name,
            target,
            (p.min, p.max),
            &crate::scenario::Slo { latency: slo.latency, error_rate: Some(slo.max_error_rate) },
            fb,
        )?;
        let _ = writeln!(
            s,
            "\n{name} misses the SLO: searched target and min ({} candidates, written to {}):",
            found.candidates,
            found.dir.display()
        );
        s.push_str(&found.table);
        if let Some((t, min)) = &found.best {
            let kind = checked_kind(&toml, name);
            toml.push_str(&format!(
                "\n# {name} with the target and min `tune` found cheapest within the SLO.\n[[policy]]\nname = \"{name}-tuned\"\ntype = \"{kind}\"\ntarget = {t}\nmin_replicas = {min}\nmax_replicas = {}\npolling_interval = \"{interval_toml}\"\n",
                p.max
            ));
        }
        searches.push(found);
    }
    // Relative paths in the text are relative to the scenario it came from; the file is written
    // elsewhere, so they are rewritten relative to its own folder (it runs from there).
    let toml = crate::report::rebase::rebase_text(&toml, &plan.base_dir, &out);
    let staging = command::stage_file(&path, toml.as_bytes(), &[&cmd.file])?;
    let _ = writeln!(s, "\nwrote {} (run it with `scalesim run {}`)", path.display(), path.display());
    Ok(Recommended { recommendation: rec, path, toml, meets, searches, staging, report: s })
}

/// The plan of a recommendation: the file loaded as a whole scenario or as a service-only file,
/// with the traffic range given, or read from the traffic.
fn recommend_plan(cmd: &RecommendRequest) -> Result<Plan, Error> {
    let loaded = config::load_service(&cmd.file)?;
    let range = match cmd.range {
        Some((a, b)) => {
            if !(a.is_finite() && b.is_finite() && a >= 0.0 && b >= a && b > 0.0) {
                return Err(Error::Invalid(format!(
                    "--min-rps {a} --max-rps {b}: expected 0 <= min <= max and max > 0"
                )));
            }
            Some(TrafficRange { min_rps: a, max_rps: b, max_ramp_rps_per_s: 0.0, reached: None })
        }
        None => None,
    };
    match loaded.scenario {
        Some(sc) => plan_scenario(cmd, sc, range),
        None => plan_service(cmd, loaded.service, range),
    }
}

/// One replica's capacity for the plan: the step tests (8 seeds) within the SLO, or
/// `--capacity-rps`; and the CPU and concurrency at it, when the file says how to measure them.
fn measure(cmd: &RecommendRequest, plan: &Plan, fb: &dyn Feedback) -> Result<Measured, Error> {
    if let Some(z) = cmd.think_s
        && !(z.is_finite() && z >= 0.0)
    {
        return Err(Error::Invalid(format!("--think {z}: expected a think time in seconds >= 0")));
    }
    let think = cmd.closed.then(|| Think::Exponential(cmd.think_s.unwrap_or(capacity::DEFAULT_THINK_S)));
    let test = StepTest::for_service(&plan.service, think);
    command::allow(fb, &step_test_estimate(&test, &plan.service), cmd.allow_large, None)?;
    let estimate = command::during(fb, Phase::Working("step tests of one replica"), || {
        capacity::estimate(&plan.service, &test, &plan.slo)
    });
    let est = estimate.within().map(|_| estimate.clone());
    // The default CPU model is a placeholder: a target read from it would be a guess.
    let (cap, cpu_at, conc_at) = match (cmd.capacity_rps, &est) {
        (Some(c), _) => {
            if !(c.is_finite() && c > 0.0) {
                return Err(Error::Invalid(format!("--capacity-rps {c}: expected requests per second > 0")));
            }
            (c, None, None)
        }
        (None, Ok(e)) => {
            (e.mean_rps, e.cpu_utilization_at_capacity.filter(|_| plan.cpu_given), e.concurrency_at_capacity)
        }
        (None, Err(e)) => {
            return Err(Error::Invalid(format!("{}: {e}; nothing to recommend", cmd.file.display())));
        }
    };
    Ok(Measured { test, est: est.map_err(|e| e.to_string()), cap, cpu_at, conc_at })
}

/// The report's first part: the SLO, the traffic, where the capacity comes from, the
/// arithmetic and how often the policies decide.
fn describe_basis(
    cmd: &RecommendRequest,
    plan: &Plan,
    m: &Measured,
    rec: &Recommendation,
    interval_toml: &str,
) -> String {
    let (slo, range) = (&plan.slo, &plan.range);
    let mut s = String::new();
    let _ = writeln!(s, "{}: SLO {}", plan.name, slo.describe());
    let _ = writeln!(
        s,
        "traffic: {} to {} req/s, steepest rise {:.3} req/s per second",
        fmt(range.min_rps),
        fmt(range.max_rps),
        range.max_ramp_rps_per_s
    );
    if let Some((lo, hi)) = range.reached {
        let _ = writeln!(
            s,
            "         the arrivals (seed {}, noise and Poisson scatter included) reached {lo:.1} to {hi:.1} req/s per minute",
            plan.seed
        );
    }
    match (&m.est, cmd.capacity_rps) {
        (Ok(e), None) => {
            let _ = writeln!(
                s,
                "step tests: within the SLO {}, {}; saturation (the most one replica serves, SLO or not) {:.2} req/s\n",
                e.describe(),
                e.method(),
                e.saturation_rps
            );
        }
        (Ok(e), Some(_)) => {
            let _ = writeln!(
                s,
                "capacity given by --capacity-rps (the step tests give {} within the SLO; saturation {:.2} req/s)\n",
                e.describe(),
                e.saturation_rps
            );
        }
        (Err(e), _) => {
            let _ = writeln!(s, "capacity given by --capacity-rps (step tests: {e})\n");
        }
    }
    for line in &rec.arithmetic {
        let _ = writeln!(s, "  {line}");
    }
    if !plan.cpu_given && cmd.capacity_rps.is_none() {
        let _ = writeln!(
            s,
            "  no cpu target: {} has no [service.cpu] model (the default is a placeholder); add one, measured, for a cpu target",
            cmd.file.display()
        );
    }
    let _ = writeln!(
        s,
        "  policies decide every {interval_toml} ({}); step test {}",
        if plan.interval.is_some() { "the scenario's interval" } else { "default" },
        m.test.mode()
    );
    s
}

/// The recommended policies as `[[policy]]` tables: rps, and cpu, concurrency and rps with
/// headroom when the recommendation has them.
fn recommended_policies(rec: &Recommendation, interval_toml: &str) -> String {
    let (min, max) = (rec.min_replicas, rec.max_replicas);
    let mut policies = vec![format!(
        "[[policy]]\nname = \"rec-rps\"\ntype = \"rps\"\ntarget = {}\nmin_replicas = {min}\nmax_replicas = {max}\npolling_interval = \"{interval_toml}\"\n",
        fmt(rec.rps_target)
    )];
    if let Some(c) = rec.cpu_target_pct {
        policies.push(format!(
            "[[policy]]\nname = \"rec-cpu\"\ntype = \"cpu\"\ntarget = {}\nmin_replicas = {min}\nmax_replicas = {max}\npolling_interval = \"{interval_toml}\"\n",
            // The figure printed, as computed: a CPU target above 100 % of the request is valid
            // (usage above the request, as the HPA allows).
            fmt(c)
        ));
    }
    if let Some(c) = rec.concurrency_target.filter(|c| *c > 0.0) {
        policies.push(format!(
            "[[policy]]\nname = \"rec-concurrency\"\ntype = \"concurrency\"\ntarget = {}\nmin_replicas = {min}\nmax_replicas = {max}\npolling_interval = \"{interval_toml}\"\n",
            fmt(c)
        ));
    }
    if rec.headroom_replicas > 0 {
        policies.push(format!(
            "[[policy]]\nname = \"rec-rps-headroom\"\ntype = \"rps\"\ntarget = {}\nmin_replicas = {min}\nmax_replicas = {}\npolling_interval = \"{interval_toml}\"\n",
            fmt(rec.rps_target_with_headroom),
            max + rec.headroom_replicas
        ));
    }
    format!(
        "\n# Recommended by `scalesim recommend` from the simulated capacity of one replica.\n{}",
        policies.join("\n")
    )
}

/// Simulates the recommended scenario (one replication, every policy) and adds the table of
/// how each policy fared to `s`; returns each policy and whether it met the SLO — over the
/// whole run and in every recording interval (the scenario's own SLO).
fn simulate_recommended(
    cmd: &RecommendRequest,
    checked: &Scenario,
    slo: &CapacitySlo,
    s: &mut String,
    fb: &dyn Feedback,
) -> Result<Vec<(String, bool)>, Error> {
    let opts = RunOptions { seeds: 1, threads: None, policies: vec![], requests: false };
    let all: Vec<_> = checked.policies.iter().collect();
    command::allow(fb, &crate::budget::estimate(checked, &all, 1), cmd.allow_large, None)?;
    let progress = Progress::default();
    let total = experiment::total_work(checked, &opts);
    let runs = command::during(fb, Phase::Simulating { total, progress: &progress }, || {
        experiment::run(checked, &opts, &progress)
    })?;
    let _ = writeln!(s, "\nsimulated against the traffic ({}):", dur(checked.duration));
    let _ = writeln!(
        s,
        "{:<18} {:>8} {:>8} {:>17} {:>10} {:>10} meets SLO",
        "policy", "failed %", "p99 ms", "SLO-violating min", "replica-h", "cost"
    );
    let mut meets = Vec::new();
    for r in &runs {
        let m = &r.summary;
        let err_ok = m.failed_pct() / 100.0 <= slo.max_error_rate;
        let lat_ok = match slo.latency {
            Some((p, b)) => {
                let v = match p {
                    _ if p == 50.0 => m.latency_p50_s,
                    _ if p == 95.0 => m.latency_p95_s,
                    _ => m.latency_p99_s,
                };
                v.is_some_and(|v| v <= b)
            }
            None => true,
        };
        let ok = err_ok && lat_ok && m.slo_violation_minutes == 0.0;
        meets.push((r.policy.clone(), ok));
        let _ = writeln!(
            s,
            "{:<18} {:>8.2} {:>8} {:>17.1} {:>10.1} {:>10.2} {}",
            r.policy,
            m.failed_pct(),
            m.latency_p99_s.map_or_else(|| "-".into(), |v| format!("{:.0}", v * 1000.0)),
            m.slo_violation_minutes,
            m.replica_seconds / 3600.0,
            m.cost,
            if ok { "yes" } else { "no" }
        );
    }
    Ok(meets)
}

/// The `target` of policy `name` in the recommended scenario text.
fn policy_target(toml: &str, name: &str) -> Option<f64> {
    let v: toml::Value = toml::from_str(toml).ok()?;
    let p =
        v.get("policy")?.as_array()?.iter().find(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))?;
    p.get("target").and_then(|t| t.as_float().or_else(|| t.as_integer().map(|i| i as f64)))
}

/// The `type` of policy `name` in the recommended scenario text.
fn checked_kind(toml: &str, name: &str) -> String {
    let v: Option<toml::Value> = toml::from_str(toml).ok();
    v.as_ref()
        .and_then(|v| {
            v.get("policy")?
                .as_array()?
                .iter()
                .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))
                .cloned()
        })
        .and_then(|p| p.get("type").and_then(|t| t.as_str()).map(str::to_string))
        .unwrap_or_else(|| "rps".into())
}

fn fmt(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
