//! `scalesim capacity` and `scalesim recommend`: the step test of one replica, its answers,
//! and min / max / targets checked by simulation.

use super::{CliError, note, print_stdout};
use scalesim::capacity::{self, CapacitySlo, StepTest, Think, TrafficRange};
use scalesim::config;
use scalesim::experiment::{self, Progress, RunOptions};
use scalesim::report;
use scalesim::scenario::Scenario;
use scalesim::time::{SECOND, Time, to_secs_f64};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// What `scalesim capacity` was asked to do.
#[derive(Debug, Clone)]
pub struct CapacityCommand {
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
    /// `--json`.
    pub json: bool,
    /// `--out`.
    pub out_dir: Option<PathBuf>,
    /// `--allow-large`.
    pub allow_large: bool,
}

/// What `scalesim recommend` was asked to do.
#[derive(Debug, Clone)]
pub struct RecommendCommand {
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
/// (see [`scalesim::budget`]).
fn step_test_estimate(
    test: &StepTest,
    service: &scalesim::service::ServiceModel,
) -> scalesim::budget::Estimate {
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
    service: &scalesim::service::ServiceModel,
) -> scalesim::budget::Estimate {
    let step = to_secs_f64(test.step_duration);
    let secs = step * test.steps() as f64;
    match &test.load {
        capacity::Load::Open { rates } => {
            scalesim::budget::estimate_step_test(rates.iter().sum::<f64>() * step, 0.0, secs)
        }
        capacity::Load::Closed { users, think } => {
            let cycle = (service.demand.mean_without_sizes() + think.mean()).max(1e-6);
            let total: f64 = users.iter().map(|&u| f64::from(u)).sum();
            let most = users.iter().copied().max().unwrap_or(0);
            scalesim::budget::estimate_step_test(total * step / cycle, f64::from(most), secs)
        }
    }
}

/// The objective: flags first, then the scenario's (as [`scalesim::oracle::capacity_slo`]
/// reads its `[simulation.slo]`, the one objective `validate`, `run` and the oracle use), then
/// p99 < 500 ms and 1 % for a service-only file.
fn slo_from(
    slo: &Option<String>,
    max_errors: &Option<String>,
    sc: Option<&Scenario>,
) -> Result<CapacitySlo, CliError> {
    let mut out = match sc {
        Some(s) => scalesim::oracle::capacity_slo(s.slo.as_ref()),
        None => CapacitySlo::default(),
    };
    if let Some(t) = slo {
        out.latency = Some(CapacitySlo::parse_latency(t).map_err(|e| CliError::Usage(format!("--slo {e}")))?);
    }
    if let Some(t) = max_errors {
        out.max_error_rate =
            CapacitySlo::parse_error_rate(t).map_err(|e| CliError::Usage(format!("--max-errors {e}")))?;
    }
    Ok(out)
}

fn stem(p: &Path) -> String {
    p.file_stem().map_or_else(|| "service".into(), |s| s.to_string_lossy().into_owned())
}

/// Runs `scalesim capacity`.
pub fn capacity(cmd: CapacityCommand) -> Result<(), CliError> {
    let loaded = config::load_service(&cmd.file)?;
    let slo = slo_from(&cmd.slo, &cmd.max_errors, loaded.scenario.as_ref())?;
    if let Some(z) = cmd.think_s
        && scalesim::time::checked_from_secs(z).is_err()
    {
        return Err(CliError::Usage(format!(
            "--think {z}: expected a think time in seconds, from 0 to {} (3660 days)",
            scalesim::time::MAX_VALUE_SECS
        )));
    }
    let think = cmd.closed.then(|| Think::Exponential(cmd.think_s.unwrap_or(capacity::DEFAULT_THINK_S)));
    let test = StepTest::for_service(&loaded.service, think);
    super::check_budget(&step_test_estimate(&test, &loaded.service), cmd.allow_large)?;
    let est = capacity::estimate(&loaded.service, &test, &slo);
    // The step table and the chart show the first test (seed 1); --json holds all of them.
    let (result, answer) = &est.tests[0];
    let name = loaded.scenario.as_ref().map_or_else(|| stem(&cmd.file), |s| s.name.clone());
    let out = cmd.out_dir.clone().unwrap_or_else(|| PathBuf::from("output").join(&name));
    // Both files or neither: the CSV is not replaced when the chart fails.
    let mut staging = report::atomic::Staging::new(&out, "capacity")?;
    staging.protect(&cmd.file);
    staging.write("capacity_steps.csv", &report::capacity::steps_csv(result))?;
    let title = format!("{name}: one replica, {}-loop step test, seed {}", result.mode, est.seeds[0]);
    report::capacity::chart(&staging.path("capacity.png"), &title, result, answer)?;
    staging.add("capacity.png");
    let written = super::commit(staging)?;
    if cmd.json {
        let v = report::capacity::estimate_json(&est);
        print_stdout(&format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default()))?;
    } else {
        let mut s = format!(
            "{name}: {}-loop step test of one replica ({} s steps, first {} s excluded), seed {} of {}\n",
            result.mode,
            result.step_s,
            result.warmup_s,
            est.seeds[0],
            est.seeds.len()
        );
        s.push_str(&report::capacity::step_table(result, answer));
        s.push('\n');
        s.push_str(&report::capacity::seeds_table(&est));
        s.push('\n');
        s.push_str(&report::capacity::estimate_text(&est));
        print_stdout(&s)?;
    }
    for p in &written {
        note(format_args!("wrote {}", p.display()));
    }
    Ok(())
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
    service: scalesim::service::ServiceModel,
    seed: u64,
    slo: CapacitySlo,
    range: TrafficRange,
    text: String,
    base_dir: PathBuf,
    /// How often the scenario's (or traffic scenario's) policies decide, if it has any.
    interval: Option<scalesim::time::Time>,
}

/// The decision interval of the first policy of `sc` that has one.
fn scenario_interval(sc: &Scenario) -> Option<scalesim::time::Time> {
    sc.policies.iter().find_map(|p| p.decision_interval())
}

/// Whether the file sets a CPU model (`[service.cpu]`) rather than leaving the default.
fn has_cpu_model(path: &Path) -> bool {
    read_doc(path).is_ok_and(|d| d.get("service").and_then(|s| s.get("cpu")).is_some())
}

fn parent_dir(p: &Path) -> PathBuf {
    p.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
}

fn read_doc(path: &Path) -> Result<toml_edit::DocumentMut, CliError> {
    let text = super::read_input(path, scalesim::input::InputKind::Scenario)?;
    text.parse().map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

/// The plan for a whole scenario: its own traffic (or `--traffic`'s range, or the given one),
/// its SLO under the flags, its text.
fn plan_scenario(
    cmd: &RecommendCommand,
    sc: Scenario,
    range: Option<TrafficRange>,
) -> Result<Plan, CliError> {
    let slo = slo_from(&cmd.slo, &cmd.max_errors, Some(&sc))?;
    let range = match (range, &cmd.traffic) {
        (Some(r), _) => r,
        (None, Some(f)) => traffic_range(&config::load(f, &[])?),
        (None, None) => traffic_range(&sc),
    };
    let mut doc = read_doc(&cmd.file)?;
    doc.remove("policy");
    Ok(Plan {
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
    cmd: &RecommendCommand,
    service: scalesim::service::ServiceModel,
    range: Option<TrafficRange>,
) -> Result<Plan, CliError> {
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
            return Err(CliError::Usage(format!(
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
        text: format!("{head}\n{}", svc.to_string().trim_start()),
        base_dir,
        interval,
    })
}

/// Runs `scalesim recommend`.
pub fn recommend(cmd: RecommendCommand) -> Result<(), CliError> {
    let loaded = config::load_service(&cmd.file)?;
    let range = match cmd.range {
        Some((a, b)) => {
            if !(a.is_finite() && b.is_finite() && a >= 0.0 && b >= a && b > 0.0) {
                return Err(CliError::Usage(format!(
                    "--min-rps {a} --max-rps {b}: expected 0 <= min <= max and max > 0"
                )));
            }
            Some(TrafficRange { min_rps: a, max_rps: b, max_ramp_rps_per_s: 0.0, reached: None })
        }
        None => None,
    };
    let plan = match loaded.scenario {
        Some(sc) => plan_scenario(&cmd, sc, range)?,
        None => plan_service(&cmd, loaded.service, range)?,
    };
    let (slo, range) = (plan.slo, plan.range);
    if let Some(z) = cmd.think_s
        && !(z.is_finite() && z >= 0.0)
    {
        return Err(CliError::Usage(format!("--think {z}: expected a think time in seconds >= 0")));
    }
    let think = cmd.closed.then(|| Think::Exponential(cmd.think_s.unwrap_or(capacity::DEFAULT_THINK_S)));
    let test = StepTest::for_service(&plan.service, think);
    super::check_budget(&step_test_estimate(&test, &plan.service), cmd.allow_large)?;
    let estimate =
        with_spinner("step tests of one replica", || capacity::estimate(&plan.service, &test, &slo));
    let est = estimate.within().map(|_| estimate.clone());
    // The default CPU model is a placeholder: a target read from it would be a guess.
    let cpu_given = has_cpu_model(&cmd.file);
    let (cap, cpu_at, conc_at) = match (cmd.capacity_rps, &est) {
        (Some(c), _) => {
            if !(c.is_finite() && c > 0.0) {
                return Err(CliError::Usage(format!("--capacity-rps {c}: expected requests per second > 0")));
            }
            (c, None, None)
        }
        (None, Ok(e)) => {
            (e.mean_rps, e.cpu_utilization_at_capacity.filter(|_| cpu_given), e.concurrency_at_capacity)
        }
        (None, Err(e)) => {
            return Err(CliError::Usage(format!("{}: {e}; nothing to recommend", cmd.file.display())));
        }
    };
    // The scenario's own decision interval (its first policy that has one), else 15 s.
    let interval = plan.interval.unwrap_or(15 * scalesim::time::SECOND);
    let interval_s = scalesim::time::to_secs_f64(interval);
    let interval_toml = format!("{}s", fmt(interval_s));
    let startup_s = plan.service.startup.mean();
    let rec = capacity::recommend(cap, range, cpu_at, conc_at, interval_s, startup_s)
        .with_min_floor(cmd.min_replicas);
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
    match (&est, cmd.capacity_rps) {
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
    if !cpu_given && cmd.capacity_rps.is_none() {
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
        test.mode()
    );
    if let (Ok(e), None) = (&est, cmd.capacity_rps) {
        let (lo, hi) = e.ci95_rps;
        let at = |c: f64| {
            capacity::recommend(c, range, None, None, interval_s, startup_s).with_min_floor(cmd.min_replicas)
        };
        let (a, b) = (at(hi), at(lo));
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
    let mut toml = plan.text;
    let (min, max) = (rec.min_replicas, rec.max_replicas);
    let mut policies = vec![format!(
        "[[policy]]\nname = \"rec-rps\"\ntype = \"rps\"\ntarget = {}\nmin_replicas = {min}\nmax_replicas = {max}\npolling_interval = \"{interval_toml}\"\n",
        fmt(rec.rps_target)
    )];
    if let Some(c) = rec.cpu_target_pct {
        policies.push(format!(
            "[[policy]]\nname = \"rec-cpu\"\ntype = \"cpu\"\ntarget = {}\nmin_replicas = {min}\nmax_replicas = {max}\npolling_interval = \"{interval_toml}\"\n",
            fmt(c.clamp(1.0, 100.0))
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
    toml.push_str("\n# Recommended by `scalesim recommend` from the simulated capacity of one replica.\n");
    toml.push_str(&policies.join("\n"));
    let out = cmd.out_dir.clone().unwrap_or_else(|| PathBuf::from("output").join(&plan.name));
    let path = out.join("recommended.toml");
    let checked = config::load_str(&toml, &path.display().to_string(), &plan.base_dir, &[])?;
    let opts = RunOptions { seeds: 1, threads: None, policies: vec![] };
    let all: Vec<_> = checked.policies.iter().collect();
    super::check_budget(&scalesim::budget::estimate(&checked, &all, 1), cmd.allow_large)?;
    let progress = Progress::default();
    let total = experiment::total_work(&checked, &opts);
    let runs =
        super::run::with_progress_bar(total, &progress, || experiment::run(&checked, &opts, &progress))?;
    let _ = writeln!(s, "\nsimulated against the traffic ({}):", dur(checked.duration));
    let _ = writeln!(
        s,
        "{:<18} {:>8} {:>8} {:>17} {:>10} {:>10} meets SLO",
        "policy", "failed %", "p99 ms", "SLO-violating min", "replica-h", "cost"
    );
    let mut missed = Vec::new();
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
        // Over the whole run and in every recording interval (the scenario's own SLO).
        let meets = err_ok && lat_ok && m.slo_violation_minutes == 0.0;
        if !meets {
            missed.push(r.policy.clone());
        }
        let _ = writeln!(
            s,
            "{:<18} {:>8.2} {:>8} {:>17.1} {:>10.1} {:>10.2} {}",
            r.policy,
            m.failed_pct(),
            m.latency_p99_s.map_or_else(|| "-".into(), |v| format!("{:.0}", v * 1000.0)),
            m.slo_violation_minutes,
            m.replica_seconds / 3600.0,
            m.cost,
            if meets { "yes" } else { "no" }
        );
    }
    // Where the arithmetic misses the SLO in simulation, search target and min for the cheapest
    // settings that meet it (the same checks), and add them as `<policy>-tuned`.
    for name in &missed {
        let Some(p) = checked.policies.iter().find(|p| &p.name == name) else { continue };
        let target = policy_target(&toml, name);
        let Some(target) = target else { continue };
        let found = super::tune::search_target_and_min(
            &toml,
            &path,
            &plan.base_dir,
            &out,
            name,
            target,
            (p.min, p.max),
            &scalesim::scenario::Slo { latency: slo.latency, error_rate: Some(slo.max_error_rate) },
        )?;
        let _ = writeln!(
            s,
            "\n{name} misses the SLO: searched target and min ({} candidates, written to {}):",
            found.candidates,
            found.dir.display()
        );
        s.push_str(&found.table);
        if let Some((t, min)) = found.best {
            let kind = checked_kind(&toml, name);
            toml.push_str(&format!(
                "\n# {name} with the target and min `tune` found cheapest within the SLO.\n[[policy]]\nname = \"{name}-tuned\"\ntype = \"{kind}\"\ntarget = {t}\nmin_replicas = {min}\nmax_replicas = {}\npolling_interval = \"{interval_toml}\"\n",
                p.max
            ));
        }
    }
    // Relative paths in the text are relative to the scenario it came from; the file is written
    // elsewhere, so they are rewritten relative to its own folder (it runs from there).
    let toml = super::paths::rebase_text(&toml, &plan.base_dir, &out);
    super::write_file_atomic(&path, toml.as_bytes(), &[&cmd.file])?;
    let _ = writeln!(s, "\nwrote {} (run it with `scalesim run {}`)", path.display(), path.display());
    print_stdout(&s)
}

/// Runs `work` with a spinner labelled `what` on stderr (only when stderr is a terminal).
fn with_spinner<T>(what: &str, work: impl FnOnce() -> T) -> T {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    let out = work();
    bar.finish_and_clear();
    out
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
