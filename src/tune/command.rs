//! `scalesim tune` as a library call — the edge of the pure search: [`plan`] reads the scenario
//! (through `config`), parses the search (`--vary`, `--require`, `--minimize`, strategy) and
//! checks every candidate as a whole scenario before anything is simulated; [`search`] runs it
//! (or [`simulate_shard`] one shard's jobs, or [`merge`] looks every run up in the parts of a
//! sharded search); [`stage_outputs`] stages tune.json, tune.csv, the charts, best.toml and
//! best.yaml for the caller to commit. [`search_target_and_min`] is `recommend`'s search.

use super::guard::{self, Warning};
use super::{Candidate, CandidateSetup, Constraint, Strategy, TuneOutcome, TuneProgress, TuneSpec, space};
use crate::command::{self, Error, Feedback, Phase, invalid};
use crate::config;
use crate::report::ReportError;
use crate::report::atomic::Staging;
use crate::report::tune as out;
use crate::scenario::Scenario;
use crate::shard::{
    self, Shard,
    parts::{Part, Parts},
};
use crate::tune;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What `scalesim tune` is asked to do.
#[derive(Debug, Clone)]
pub struct TuneRequest {
    /// Scenario file.
    pub file: PathBuf,
    /// The policy to tune.
    pub policy: String,
    /// `--vary KEY=VALUES`.
    pub vary: Vec<String>,
    /// `--minimize FIGURE` (default `cost`).
    pub minimize: String,
    /// `--require 'FIGURE<=LIMIT'`.
    pub require: Vec<String>,
    /// `grid`, `random` or `halving`.
    pub strategy: String,
    /// `--budget N`.
    pub budget: Option<u64>,
    /// `--eta N` (halving).
    pub eta: u32,
    /// `--screen-horizon F` (halving).
    pub screen_horizon: f64,
    /// Replications per candidate.
    pub seeds: u32,
    /// `--seed`: the base seed, replacing `simulation.seed`.
    pub seed: Option<u64>,
    /// `--set` overrides.
    pub overrides: Vec<String>,
    /// Worker threads.
    pub threads: Option<usize>,
    /// Output folder.
    pub out_dir: Option<PathBuf>,
    /// `--check`: the outcome says when the best candidate misses the SLO.
    pub check: bool,
    /// `--allow-large`: run above the cost limits.
    pub allow_large: bool,
    /// `--shard I/N`: run only this shard's jobs and write a part directory.
    pub shard: Option<Shard>,
}

/// The settings of `tune` a part records (`--threads`, `--out`, `--allow-large` and what is
/// only printed are not among them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TuneSettings {
    file: PathBuf,
    policy: String,
    vary: Vec<String>,
    minimize: String,
    require: Vec<String>,
    strategy: String,
    budget: Option<u64>,
    eta: u32,
    /// As text, so that it reads back to the same bits.
    screen_horizon: String,
    seeds: u32,
    seed: Option<u64>,
    overrides: Vec<String>,
}

impl TuneRequest {
    /// The settings its parts record.
    pub fn settings(&self) -> serde_json::Value {
        shard::to_value(&TuneSettings {
            file: self.file.clone(),
            policy: self.policy.clone(),
            vary: self.vary.clone(),
            minimize: self.minimize.clone(),
            require: self.require.clone(),
            strategy: self.strategy.clone(),
            budget: self.budget,
            eta: self.eta,
            screen_horizon: self.screen_horizon.to_string(),
            seeds: self.seeds,
            seed: self.seed,
            overrides: self.overrides.clone(),
        })
    }

    /// The request a part's settings record, writing into `out` (the merge's `--out`).
    pub fn from_settings(settings: &serde_json::Value, out: Option<PathBuf>) -> Result<TuneRequest, String> {
        let s: TuneSettings = serde_json::from_value(settings.clone()).map_err(|e| e.to_string())?;
        let screen_horizon = s
            .screen_horizon
            .parse()
            .map_err(|_| format!("screen_horizon `{}` is not a number", s.screen_horizon))?;
        Ok(TuneRequest {
            file: s.file,
            policy: s.policy,
            vary: s.vary,
            minimize: s.minimize,
            require: s.require,
            strategy: s.strategy,
            budget: s.budget,
            eta: s.eta,
            screen_horizon,
            seeds: s.seeds,
            seed: s.seed,
            overrides: s.overrides,
            threads: None,
            out_dir: out,
            check: false,
            allow_large: true,
            shard: None,
        })
    }
}

/// Checks a `--vary` key addresses the tuned policy or the service.
fn check_key(key: &str, policy: &str, scenario: &Scenario) -> Result<(), String> {
    let segs: Vec<&str> = key.split('.').collect();
    match segs.as_slice() {
        ["service", _, ..] => Ok(()),
        ["policy", who, _, ..] => {
            let index = scenario.policies.iter().position(|p| p.name == policy);
            if *who == policy || who.parse::<usize>().ok() == index {
                Ok(())
            } else {
                Err(format!(
                    "varies policy `{who}`, but the tuned policy is `{policy}`; use policy.{policy}.<key>"
                ))
            }
        }
        _ => Err(format!(
            "tune varies the tuned policy's keys (policy.{policy}.<key>) or the replica model's (service.<key>); `{key}` is neither (to change traffic or the simulation for every candidate, use --set)"
        )),
    }
}
/// A search ready to run: the base scenario, the space, the candidates checked as scenarios,
/// the spec and the oracle.
#[derive(Debug)]
pub struct TunePlan {
    /// The request planned.
    pub request: TuneRequest,
    /// The scenario file's text, read once.
    pub text: String,
    /// The scenario file as named in messages.
    pub origin: String,
    /// The folder its relative paths resolve from.
    pub base_dir: PathBuf,
    /// Every trace and manifest file read, shared by the base and the candidates.
    pub sources: config::Files,
    /// The base scenario (with `--set` and `--seed`).
    pub base: Scenario,
    /// The search space.
    pub space: space::Space,
    /// The candidates, in the order the strategy chose them.
    pub candidates: Vec<Candidate>,
    /// Each candidate's service and tuned policy, checked as a scenario.
    pub setups: Vec<CandidateSetup>,
    /// Objective, constraints, replications and strategy.
    pub spec: TuneSpec,
    /// The oracle baseline of the base scenario, when one can be built.
    pub oracle: Option<crate::policy::PolicySpec>,
    /// Warnings known before the search (the horizon's), given again with the outcome's.
    pub warnings: Vec<Warning>,
}

/// Runs the search of `plan` on the rayon pool, showing progress through `fb`.
pub fn search(plan: &TunePlan, fb: &dyn Feedback) -> Result<TuneOutcome, Error> {
    let p = plan;
    let progress = TuneProgress::default();
    command::during(fb, Phase::Tuning { candidates: p.candidates.len(), progress: &progress }, || {
        tune::run(&p.spec, &p.base, &p.candidates, &p.setups, p.oracle.as_ref(), p.request.threads, &progress)
    })
    .map_err(|e| invalid(e.to_string()))
}

/// Runs the jobs of shard `shard` of the search and returns the part to write into
/// [`part_dir`]; `display` is what the caller wants back from the merge for its printed output.
pub fn simulate_shard(
    plan: &TunePlan,
    shard: Shard,
    display: serde_json::Value,
    fb: &dyn Feedback,
) -> Result<Part, Error> {
    let p = plan;
    let all = tune::shard_jobs(&p.spec, p.candidates.len()).map_err(|e| invalid(e.to_string()))?;
    let owned = shard.jobs(all.len() as u64).map_err(invalid)?;
    let progress = TuneProgress::default();
    let runs =
        command::during(fb, Phase::Tuning { candidates: p.candidates.len(), progress: &progress }, || {
            tune::run_shard(
                &p.spec,
                &p.base,
                &p.setups,
                p.oracle.as_ref(),
                &owned,
                p.request.threads,
                &progress,
            )
        })
        .map_err(|e| invalid(e.to_string()))?;
    let jobs = owned
        .iter()
        .map(|&job| {
            let (c, rep) = all[job as usize];
            shard::JobEntry { job, label: format!("{}, replication {rep}", p.candidates[c].label()) }
        })
        .collect();
    Ok(Part {
        command: "tune",
        scenario: p.request.file.clone(),
        settings: p.request.settings(),
        display,
        shard,
        total_jobs: all.len() as u64,
        jobs,
        results: shard::encode(&runs),
        // Every file the base and the candidates read (trace, manifests).
        inputs: p.sources.read(),
    })
}

/// Where a shard of the search writes its part: `--out`, else a folder beside the search's
/// own outputs.
pub fn part_dir(plan: &TunePlan, shard: Shard) -> PathBuf {
    plan.request.out_dir.clone().unwrap_or_else(|| {
        default_dir(&plan.base, &plan.request.policy)
            .join(format!("shard-{}-of-{}", shard.index, shard.count))
    })
}

/// `scalesim merge` of `tune` parts: the request the parts recorded (writing into `out`),
/// planned again, and the same search with every simulation looked up in the parts.
pub fn merge(
    parts: &Parts,
    out: Option<PathBuf>,
    fb: &dyn Feedback,
) -> Result<(TunePlan, TuneOutcome), Error> {
    let request = TuneRequest::from_settings(&parts.settings, out).map_err(|e| parts.bad_settings(e))?;
    let runs: Vec<tune::ShardRuns> =
        parts.results(|r: &tune::ShardRuns| r.runs.iter().map(|x| x.0).collect())?;
    let p = plan(&request, false, fb)?;
    let stored =
        tune::StoredRuns::assemble(&p.spec, p.candidates.len(), runs).map_err(|e| invalid(e.to_string()))?;
    let outcome = tune::run_stored(&p.spec, &p.base, &p.candidates, &p.setups, p.oracle.as_ref(), &stored)
        .map_err(|e| invalid(e.to_string()))?;
    Ok((p, outcome))
}

fn default_dir(base: &Scenario, policy: &str) -> PathBuf {
    PathBuf::from("output").join(&base.name).join(format!("tune-{policy}"))
}
/// Reads the scenario, parses and checks the search, and checks every candidate as a scenario;
/// `budget` applies the cost bounds (a merge does not: the work is done).
pub fn plan(cmd: &TuneRequest, budget: bool, fb: &dyn Feedback) -> Result<TunePlan, Error> {
    let origin = cmd.file.display().to_string();
    // Through the guarded reader: a FIFO, a device or an oversized file is refused unread.
    let text = config::read_scenario(&cmd.file)?;
    let base_dir = config::base_dir(&cmd.file);
    // Trace and manifest files are read (and traces parsed) once, for the base and every
    // candidate.
    let sources = config::Files::default();
    let mut base = config::load_str_with(&text, &origin, &base_dir, &cmd.overrides, &sources)?;
    if let Some(seed) = cmd.seed {
        base.seed = crate::run::check_seed(seed)?;
    }
    crate::run::check_policy_names(&base, std::slice::from_ref(&cmd.policy))?;
    if budget {
        crate::budget::check_seeds(cmd.seeds, cmd.allow_large).map_err(Error::Invalid)?;
    }
    if cmd.check && base.slo.is_none() {
        return Err(crate::run::no_slo_to_check(&cmd.file));
    }
    let space = parse_space(cmd, &base)?;
    let constraints = parse_constraints(cmd, &base)?;
    let strategy = parse_strategy(cmd)?;
    let points = tune::choose_points(space.size(), &strategy, base.seed).map_err(invalid)?;
    let loader = Loader { text: &text, origin: &origin, base_dir: &base_dir, sources: &sources };
    let (candidates, setups) = check_candidates(cmd, &space, &points, &loader)?;
    let spec = TuneSpec {
        policy: cmd.policy.clone(),
        objective: cmd.minimize.clone(),
        constraints,
        seeds: cmd.seeds.max(1),
        strategy,
    };
    let oracle = oracle_for(cmd, &base, &spec, fb)?;
    if budget {
        let (estimate, plan) = search_estimate(&spec, &base, &setups, oracle.as_ref());
        command::allow(fb, &estimate, cmd.allow_large, plan.as_deref())?;
    }
    let warnings: Vec<Warning> = horizon_warning(cmd, &loader, &base).into_iter().collect();
    for w in &warnings {
        fb.warn(&format!("warning: {}", w.text()));
    }
    Ok(TunePlan {
        request: cmd.clone(),
        text,
        origin,
        base_dir,
        sources,
        base,
        space,
        candidates,
        setups,
        spec,
        oracle,
        warnings,
    })
}

/// The scenario text and what loading it needs, to load it with other `--set`.
struct Loader<'a> {
    text: &'a str,
    origin: &'a str,
    base_dir: &'a Path,
    sources: &'a config::Files,
}

impl Loader<'_> {
    /// The scenario with `overrides` applied (the error as `config` gives it, for the caller
    /// to word).
    #[allow(clippy::result_large_err)]
    fn load(&self, overrides: &[String]) -> Result<Scenario, config::ConfigError> {
        config::load_str_with(self.text, self.origin, self.base_dir, overrides, self.sources)
    }
}

/// The search space from `--vary`: at least one key, each the tuned policy's or the service's,
/// none twice.
fn parse_space(cmd: &TuneRequest, base: &Scenario) -> Result<space::Space, Error> {
    if cmd.vary.is_empty() {
        return Err(invalid(
            "tune needs at least one --vary KEY=VALUES, e.g. --vary policy.rps-10.target=6..14:2",
        ));
    }
    let mut vary = Vec::new();
    for arg in &cmd.vary {
        let v = space::parse_vary(arg).map_err(|m| invalid(format!("--vary {arg}: {m}")))?;
        check_key(&v.key, &cmd.policy, base).map_err(|m| invalid(format!("--vary {arg}: {m}")))?;
        if vary.iter().any(|w: &space::Vary| w.key == v.key) {
            return Err(invalid(format!("--vary {arg}: the key {} is varied twice", v.key)));
        }
        vary.push(v);
    }
    Ok(space::Space { vary })
}

/// The objective checked and the constraints parsed (`--require`, then the SLO's checks not
/// already constrained); a figure the scenario leaves undefined is refused.
fn parse_constraints(cmd: &TuneRequest, base: &Scenario) -> Result<Vec<Constraint>, Error> {
    tune::check_figure(&cmd.minimize).map_err(|m| invalid(format!("--minimize {}: {m}", cmd.minimize)))?;
    let mut constraints: Vec<Constraint> = Vec::new();
    for r in &cmd.require {
        let c = tune::parse_constraint(r).map_err(|m| invalid(format!("--require {r}: {m}")))?;
        constraints.push(c);
    }
    // An objective or a constraint on a figure this scenario leaves undefined could never be
    // judged (an undefined figure is not 0): refused before anything is simulated.
    let judged = std::iter::once(("--minimize", cmd.minimize.clone(), cmd.minimize.as_str())).chain(
        cmd.require.iter().zip(&constraints).map(|(r, c)| ("--require", r.clone(), c.figure.as_str())),
    );
    for (flag, arg, figure) in judged {
        if let Some(why) = tune::undefined_reason(base, figure) {
            return Err(invalid(format!("{flag} {arg}: {}: {why}", cmd.file.display())));
        }
    }
    if let Some(slo) = &base.slo {
        for c in tune::slo_constraints(slo) {
            if !constraints.iter().any(|k| k.figure == c.figure) {
                constraints.push(c);
            }
        }
    }
    Ok(constraints)
}

/// The strategy, its options checked.
fn parse_strategy(cmd: &TuneRequest) -> Result<Strategy, Error> {
    Ok(match cmd.strategy.as_str() {
        "grid" => {
            if let Some(b) = cmd.budget {
                return Err(invalid(format!(
                    "--budget {b}: grid evaluates every point; use --strategy random or halving to sample"
                )));
            }
            Strategy::Grid
        }
        "random" => Strategy::Random {
            budget: cmd
                .budget
                .ok_or_else(|| invalid("--strategy random needs --budget N (the points to draw)"))?,
        },
        "halving" => {
            if cmd.eta < 2 {
                return Err(invalid(format!("--eta {}: expected at least 2", cmd.eta)));
            }
            if !(cmd.screen_horizon > 0.0 && cmd.screen_horizon <= 1.0) {
                return Err(invalid(format!(
                    "--screen-horizon {}: expected a fraction in (0, 1]",
                    cmd.screen_horizon
                )));
            }
            Strategy::Halving { eta: cmd.eta, screen_horizon: cmd.screen_horizon, budget: cmd.budget }
        }
        other => return Err(invalid(format!("--strategy {other}: expected grid, random or halving"))),
    })
}

/// Every candidate checked as a scenario before anything is simulated: its `--set` values on
/// the search's, loaded whole; a candidate that is not a valid scenario names the `--vary` to
/// blame.
fn check_candidates(
    cmd: &TuneRequest,
    space: &space::Space,
    points: &[u64],
    loader: &Loader<'_>,
) -> Result<(Vec<Candidate>, Vec<CandidateSetup>), Error> {
    let mut candidates = Vec::with_capacity(points.len());
    let mut setups = Vec::with_capacity(points.len());
    for &p in points {
        let values = space.point(p);
        let c = Candidate {
            point: p,
            params: space.vary.iter().zip(values).map(|(v, x)| (v.key.clone(), x.clone())).collect(),
        };
        let mut overrides = cmd.overrides.clone();
        overrides.extend(c.overrides());
        let sc = loader.load(&overrides).map_err(|e| {
            let blamed = e
                .from_set
                .as_deref()
                .and_then(|a| {
                    cmd.vary.iter().zip(&space.vary).find(|(_, v)| a.starts_with(&format!("{}=", v.key)))
                })
                .map_or_else(|| cmd.vary.join(" --vary "), |(arg, _)| arg.clone());
            invalid(format!("--vary {blamed}: the candidate {} is not a valid scenario: {e}", c.label()))
        })?;
        let policy = sc.policies.iter().find(|x| x.name == cmd.policy).cloned().ok_or_else(|| {
            invalid(format!("the candidate {} has no policy named `{}`", c.label(), cmd.policy))
        })?;
        setups.push(CandidateSetup { service: sc.service, policy });
        candidates.push(c);
    }
    Ok((candidates, setups))
}

/// The oracle (perfect foresight of the base scenario's arrivals), the cost yardstick; without
/// one, the figures measured against it are undefined for every candidate, so an objective or
/// constraint on them is refused.
fn oracle_for(
    cmd: &TuneRequest,
    base: &Scenario,
    spec: &TuneSpec,
    fb: &dyn Feedback,
) -> Result<Option<crate::policy::PolicySpec>, Error> {
    match crate::oracle::spec_for(base) {
        Ok(o) => Ok(Some(o)),
        Err(e) => {
            let judged = std::iter::once(("--minimize", &cmd.minimize, cmd.minimize.as_str())).chain(
                cmd.require.iter().zip(&spec.constraints).map(|(r, c)| ("--require", r, c.figure.as_str())),
            );
            for (flag, arg, figure) in judged {
                if tune::ORACLE_FIGURES.contains(&figure) {
                    return Err(invalid(format!(
                        "{flag} {arg}: {figure} is measured against the oracle baseline, and {} has none: {e}; \
                         constrain cost, or the SLO figures, instead",
                        cmd.file.display()
                    )));
                }
            }
            fb.note(&format!("note: no oracle baseline: {e}"));
            Ok(None)
        }
    }
}

/// The key of a `--set key=value` argument, trimmed.
fn set_key(arg: &str) -> &str {
    arg.split_once('=').map_or(arg, |(k, _)| k).trim()
}

/// The `--set` keys that move or shorten the horizon.
const HORIZON_KEYS: [&str; 2] = ["simulation.duration", "simulation.start"];

/// The horizon warning ([`guard::horizon_warning`]) when `--set` moves or shortens the horizon:
/// the scenario without those overrides is the whole it is compared with, and the same search
/// moved to the whole's busiest span (`--set simulation.start=…`) is suggested when it reaches
/// the peak.
fn horizon_warning(cmd: &TuneRequest, loader: &Loader<'_>, base: &Scenario) -> Option<Warning> {
    let (horizon, rest): (Vec<String>, Vec<String>) =
        cmd.overrides.iter().cloned().partition(|o| HORIZON_KEYS.contains(&set_key(o)));
    if horizon.is_empty() {
        return None;
    }
    let full = loader.load(&rest).ok()?;
    let moved = guard::busiest_span(base, &full).and_then(|w| {
        let start = full.clock.datetime(w.start).naive_local().format("%Y-%m-%dT%H:%M:%S").to_string();
        let arg = format!("simulation.start={start}");
        let mut o = cmd.overrides.clone();
        o.push(arg.clone());
        loader.load(&o).ok().map(|m| (m, format!("--set {arg}")))
    });
    guard::horizon_warning(base, &full, &horizon, moved.as_ref().map(|(m, s)| (m, s.as_str())))
}

/// The cost bound of a search: the runs it plans ([`tune::planned_rungs`]: every candidate ×
/// seed for grid and random; halving's rungs, the screen on its window) and the oracle's, each
/// counted as the largest of the candidates' runs on that window; results are kept as
/// summaries, so memory is that of the largest single run. For halving, also the plan in words.
fn search_estimate(
    spec: &TuneSpec,
    base: &Scenario,
    setups: &[CandidateSetup],
    oracle: Option<&crate::policy::PolicySpec>,
) -> (crate::budget::Estimate, Option<String>) {
    use crate::budget::{Estimate, estimate};
    let largest = |sc: &Scenario| -> Estimate {
        setups
            .iter()
            .map(|s| estimate(&Scenario { service: s.service.clone(), ..sc.clone() }, &[&s.policy], 1))
            .max_by(|a, b| a.work.total_cmp(&b.work))
            .unwrap_or_default()
    };
    let rungs = tune::planned_rungs(spec, base, setups.len());
    let mut total = Estimate::default();
    let mut words = Vec::new();
    let whole = tune::Window::whole(base);
    let whole_run = largest(base);
    let mut full_runs = 0;
    for r in &rungs {
        let run = if r.window == whole {
            whole_run
        } else {
            largest(&base.window(r.window.start - r.window.warmup, r.window.simulated()))
        };
        let n = r.candidates as u64 * u64::from(r.runs_per_candidate);
        total.add_runs(&run, n);
        let day = base.duration > 86_400 * crate::time::SECOND;
        let last = std::ptr::eq(r, rungs.last().expect("a plan has a rung"));
        words.push(if r.window == whole {
            format!(
                "{} × {} run(s) of the whole horizon{}",
                r.candidates,
                r.runs_per_candidate,
                if last { " at full fidelity" } else { "" }
            )
        } else {
            let at = |t| {
                let dt = base.clock.datetime(t);
                if day { dt.format("%Y-%m-%d %H:%M").to_string() } else { dt.format("%H:%M").to_string() }
            };
            format!(
                "{} screen(s) of {}–{}{}",
                r.candidates,
                at(r.window.start),
                at(r.window.end),
                if r.window.warmup > 0 {
                    format!(" (after a {} warm-up)", crate::report::format_duration(r.window.warmup))
                } else {
                    String::new()
                }
            )
        });
        full_runs = r.runs_per_candidate;
    }
    if let Some(o) = oracle {
        total.add_runs(&estimate(base, &[o], 1), u64::from(spec.seeds));
        words.push(format!("{} oracle run(s)", spec.seeds));
    }
    let plan = matches!(spec.strategy, Strategy::Halving { .. }).then(|| {
        format!(
            "halving plans {} (each candidate re-filled when none at full fidelity is feasible adds {} run(s) of the whole horizon)",
            words.join(", "),
            full_runs
        )
    });
    (total, plan)
}
/// What a search's outputs say, beside its files.
#[derive(Debug)]
pub struct TuneOutputs {
    /// tune.json, tune.csv, the charts, best.toml and best.yaml, staged in the output folder;
    /// the caller commits them.
    pub staging: Staging,
    /// tune.json's text (printed by `tune --json`).
    pub json: String,
    /// With `check`: why the best candidate misses the SLO, or that none meets the constraints.
    pub check_failure: Option<String>,
}

/// Stages a search's outputs (the same code for a search on one machine and for a merge of
/// parts); the outcome's warnings go to `fb` first.
pub fn stage_outputs(p: &TunePlan, outcome: &TuneOutcome, fb: &dyn Feedback) -> Result<TuneOutputs, Error> {
    let TunePlan { request: cmd, text, origin, base_dir, base, space, spec, .. } = p;
    let out_dir = cmd.out_dir.clone().unwrap_or_else(|| default_dir(base, &cmd.policy));
    let found = guard::outcome_warnings(spec, &space.vary, outcome);
    for w in &found {
        fb.warn(&format!("warning: {}", w.text()));
    }
    let warnings: Vec<Warning> = p.warnings.iter().chain(&found).cloned().collect();
    let ctx = out::TuneContext {
        scenario_path: origin,
        overrides: &cmd.overrides,
        space,
        seed: base.seed,
        warnings: &warnings,
    };
    let mut files = search_files(base, spec, &ctx, outcome);
    if let Some(b) = outcome.best {
        let best = &outcome.candidates[b].candidate;
        let best_file = BestFile { text, origin, base_dir, out_dir: &out_dir, spec, best, seed: base.seed };
        files.push(("best.toml".into(), best_file.toml(&cmd.overrides)?));
        // The best candidate's policy as the plan checked it (the scenario with the search's
        // `--set` and the candidate's values), named as `scalesim export` names it: the
        // Deployment after the scenario.
        let opts = crate::policy::ExportOptions::for_scenario(&base.name, None);
        if let Ok(e) = p.setups[b].policy.export(&opts) {
            files.push(("best.yaml".into(), e.yaml.into_bytes()));
        }
    }
    let title = format!("{}: tune {} ({})", base.name, cmd.policy, spec.strategy.name());
    let staging =
        stage_files(&out_dir, &files, &cmd.file, |staging| charts(staging, &title, spec, space, outcome))?;
    let json = String::from_utf8_lossy(&files[0].1).into_owned();
    let check_failure = if cmd.check { check_failure(outcome) } else { None };
    Ok(TuneOutputs { staging, json, check_failure })
}

/// tune.json and tune.csv of a search (`tune`'s own, and `recommend`'s evidence).
fn search_files(
    base: &Scenario,
    spec: &TuneSpec,
    ctx: &out::TuneContext<'_>,
    outcome: &TuneOutcome,
) -> Vec<(String, Vec<u8>)> {
    vec![
        ("tune.json".into(), out::tune_json(base, spec, ctx, outcome)),
        ("tune.csv".into(), out::tune_csv(spec, ctx.space, outcome)),
    ]
}

/// `tune --check`: the best candidate must meet the SLO (the verdict's definition:
/// [`crate::report::verdict::misses_slo`]); with no feasible candidate, the closest and what
/// it misses. `None` when the best meets it.
pub fn check_failure(outcome: &TuneOutcome) -> Option<String> {
    match outcome.best {
        Some(b) => {
            let c = &outcome.candidates[b];
            crate::report::verdict::misses_slo(&c.figures).then(|| {
                format!(
                    "the best candidate, {}, misses the SLO: {:.1} SLO-violating min, {:.2} % failed",
                    c.candidate.label(),
                    c.mean("slo_violation_minutes").unwrap_or(0.0),
                    c.mean("failed_pct").unwrap_or(0.0)
                )
            })
        }
        None => Some(match &outcome.closest {
            Some((c, missed)) => {
                let c = &outcome.candidates[*c];
                format!(
                    "no candidate meets every constraint; the closest, {}, misses {missed} ({:.1} SLO-violating min, {:.2} % failed)",
                    c.candidate.label(),
                    c.mean("slo_violation_minutes").unwrap_or(0.0),
                    c.mean("failed_pct").unwrap_or(0.0)
                )
            }
            None => "no candidate meets every constraint".into(),
        }),
    }
}

/// What best.toml is made of.
struct BestFile<'a> {
    text: &'a str,
    origin: &'a str,
    base_dir: &'a Path,
    out_dir: &'a Path,
    spec: &'a TuneSpec,
    best: &'a Candidate,
    /// The search's base seed (`simulation.seed`, or `--seed`).
    seed: u64,
}

/// A word for a POSIX shell: as it is when it holds only characters a shell leaves alone, else
/// single-quoted.
fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=,+@%".contains(c);
    if !s.is_empty() && s.chars().all(plain) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

impl BestFile<'_> {
    /// Everything best.toml applies to the scenario file, in the order the search applied it:
    /// the search's `--set`, the best candidate's values, then its base seed (`--seed` replaces
    /// `simulation.seed` after the overrides).
    fn applied(&self, overrides: &[String]) -> Vec<String> {
        let mut applied = overrides.to_vec();
        applied.extend(self.best.overrides());
        applied.push(format!("simulation.seed={}", self.seed));
        applied
    }

    /// The `scalesim run` line (from best.toml's folder) that reproduces the best candidate's
    /// figures: the tuned policy and, when the search ran more than one, its replications.
    fn run_line(&self) -> String {
        let mut line = format!("scalesim run best.toml --policy {}", shell_word(&self.spec.policy));
        if self.spec.seeds > 1 {
            line.push_str(&format!(" --seeds {}", self.spec.seeds));
        }
        line
    }

    /// best.toml: the scenario the search ranked best, exactly — the scenario file as written
    /// (text-preserving: comments and layout kept) with the search's `--set`, the best
    /// candidate's values and the search's seed applied, its relative paths rewritten to resolve
    /// from the output folder — so that its run line gives the figures tune.json reports for the
    /// best. The header names what was applied, the run line and, when the search had `--set`
    /// of its own, the run of the original file with only the best values.
    fn toml(&self, overrides: &[String]) -> Result<Vec<u8>, Error> {
        let applied = self.applied(overrides);
        let mut doc: toml_edit::DocumentMut = self.text.parse().map_err(|e| {
            invalid(format!("{}: the scenario file is not valid TOML any more: {e}", self.origin))
        })?;
        config::overrides::apply(&mut doc, &applied)
            .map_err(|e| invalid(format!("--set {}: {}", e.arg, e.message)))?;
        crate::report::rebase::rebase_paths(doc.as_table_mut(), self.base_dir, self.out_dir);
        let spec = self.spec;
        let mut s = format!(
            "# Written by `scalesim tune` from {}: the scenario the search ranked best, exactly: that\n\
             # file as written, with these applied:\n",
            self.origin
        );
        if !overrides.is_empty() {
            s.push_str(&format!(
                "#   the search's --set: {}\n",
                overrides.iter().map(|o| shell_word(o)).collect::<Vec<_>>().join(" ")
            ));
        }
        s.push_str(&format!(
            "#   the best settings of policy `{}` found (minimize {}; {}): {}\n\
             #   the search's seed: simulation.seed={}\n\
             # Relative paths in it resolve from this file's folder.\n\
             # The best candidate's figures (tune.json `best`), exactly, from this folder:\n#   {}\n",
            spec.policy,
            spec.objective,
            if spec.constraints.is_empty() {
                "no constraints".to_string()
            } else {
                spec.constraints.iter().map(Constraint::text).collect::<Vec<_>>().join(", ")
            },
            self.best.overrides().join(", "),
            self.seed,
            self.run_line(),
        ));
        if !overrides.is_empty() {
            let mut line = format!("scalesim run {}", shell_word(self.origin));
            for o in self.best.overrides() {
                line.push_str(&format!(" --set {}", shell_word(&o)));
            }
            line.push_str(&format!(" --seed {}", self.seed));
            s.push_str(&format!(
                "# The best settings on the original scenario, without the search's --set (from where tune ran):\n#   {line}\n"
            ));
        }
        s.push('\n');
        s.push_str(&doc.to_string());
        // The file must load from where it is written, as it is.
        std::fs::create_dir_all(self.out_dir).map_err(|e| {
            Error::Report(ReportError::Io { path: self.out_dir.to_path_buf(), message: e.to_string() })
        })?;
        config::load_str(&s, &self.out_dir.join("best.toml").display().to_string(), self.out_dir, &[])?;
        Ok(s.into_bytes())
    }
}

/// Stages `files` and the charts in `dir`, to be written whole or not at all ([`Staging`]: everything is
/// written into a staging folder inside `dir` and moved into place only when all of it was
/// written); the files of an earlier tune into `dir` that this one did not write (a best.toml,
/// a report.html) are removed with the commit, and `scenario` is never replaced.
fn stage_files(
    dir: &Path,
    files: &[(String, Vec<u8>)],
    scenario: &Path,
    charts: impl FnOnce(&mut Staging) -> Result<(), ReportError>,
) -> Result<Staging, Error> {
    let mut staging = Staging::new(dir, "tune")?;
    staging.protect(scenario);
    for (name, bytes) in files {
        staging.write(name, bytes)?;
    }
    charts(&mut staging)?;
    Ok(staging)
}

/// pareto.png and sensitivity.png, into `staging`.
fn charts(
    staging: &mut Staging,
    title: &str,
    spec: &TuneSpec,
    space: &space::Space,
    outcome: &tune::TuneOutcome,
) -> Result<(), ReportError> {
    out::pareto_chart(&staging.path("pareto.png"), title, spec, outcome)?;
    staging.add("pareto.png");
    out::sensitivity_chart(&staging.path("sensitivity.png"), title, spec, space, outcome)?;
    staging.add("sensitivity.png");
    Ok(())
}

/// What `recommend`'s search found.
#[derive(Debug)]
pub struct Found {
    /// Candidates simulated.
    pub candidates: usize,
    /// Where the evidence (tune.json, tune.csv, charts) goes.
    pub dir: PathBuf,
    /// The evidence, staged in `dir`; the caller commits it.
    pub staging: Staging,
    /// The terminal table.
    pub table: String,
    /// The best (target as written, min), if any candidate met the SLO.
    pub best: Option<(String, u32)>,
}

/// Rounds a target to what a person would write: whole numbers from 20, halves from 5, tenths
/// below.
fn round_target(x: f64) -> f64 {
    let step = if x >= 20.0 {
        1.0
    } else if x >= 5.0 {
        0.5
    } else {
        0.1
    };
    ((x / step).round() * step * 10.0).round() / 10.0
}

/// `recommend`'s search when its arithmetic misses the SLO in simulation: targets from half the
/// recommended one up to it, and min as recommended or half as much again, checked as `tune`
/// does (grid, one replication, the SLO's checks as constraints); the evidence goes to
/// `out/tune-<policy>/`.
#[allow(clippy::too_many_arguments)]
pub fn search_target_and_min(
    toml: &str,
    path: &Path,
    base_dir: &Path,
    out: &Path,
    policy: &str,
    target: f64,
    (min, max): (u32, u32),
    slo: &crate::scenario::Slo,
    fb: &dyn Feedback,
) -> Result<Found, Error> {
    let mut targets: Vec<f64> = (0..=10).map(|k| round_target(target * (0.5 + 0.05 * k as f64))).collect();
    targets.retain(|t| *t > 0.0);
    targets.dedup();
    let mut mins = vec![min.max(1), (min + min.div_ceil(2)).min(max)];
    mins.dedup();
    let fmt = crate::report::format_number;
    let vary = vec![
        space::Vary {
            key: format!("policy.{policy}.target"),
            values: targets.iter().map(|t| space::ParamValue::new(&fmt(*t))).collect(),
        },
        space::Vary {
            key: format!("policy.{policy}.min_replicas"),
            values: mins.iter().map(|m| space::ParamValue::new(&m.to_string())).collect(),
        },
    ];
    let space = space::Space { vary };
    let origin = path.display().to_string();
    let files = config::Files::default();
    let base = config::load_str_with(toml, &origin, base_dir, &[], &files)?;
    let mut candidates = Vec::new();
    let mut setups = Vec::new();
    for p in 0..space.size() {
        let c = Candidate {
            point: p,
            params: space.vary.iter().zip(space.point(p)).map(|(v, x)| (v.key.clone(), x.clone())).collect(),
        };
        let sc = config::load_str_with(toml, &origin, base_dir, &c.overrides(), &files)?;
        let pol = sc.policies.iter().find(|x| x.name == policy).cloned().expect("the policy was checked");
        setups.push(CandidateSetup { service: sc.service, policy: pol });
        candidates.push(c);
    }
    let spec = TuneSpec {
        policy: policy.to_string(),
        objective: "cost".into(),
        constraints: tune::slo_constraints(slo),
        seeds: 1,
        strategy: Strategy::Grid,
    };
    let progress = TuneProgress::default();
    let outcome =
        command::during(fb, Phase::Tuning { candidates: candidates.len(), progress: &progress }, || {
            tune::run(&spec, &base, &candidates, &setups, None, None, &progress)
        })
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let dir = out.join(format!("tune-{policy}"));
    let warnings = guard::outcome_warnings(&spec, &space.vary, &outcome);
    let ctx = out::TuneContext {
        scenario_path: &origin,
        overrides: &[],
        space: &space,
        seed: base.seed,
        warnings: &warnings,
    };
    let files = search_files(&base, &spec, &ctx, &outcome);
    let title = format!("{}: recommend, search for {policy}", base.name);
    let staging =
        stage_files(&dir, &files, path, |staging| charts(staging, &title, &spec, &space, &outcome))?;
    let best = outcome.best.map(|b| {
        let p = &outcome.candidates[b].candidate.params;
        (p[0].1.text.clone(), p[1].1.text.parse().unwrap_or(min))
    });
    Ok(Found {
        candidates: candidates.len(),
        dir,
        staging,
        table: out::table(&base, &spec, &outcome, 5),
        best,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_like_a_person_would() {
        assert_eq!(round_target(13.08), 13.0);
        assert_eq!(round_target(7.3), 7.5);
        assert_eq!(round_target(83.39), 83.0);
        assert_eq!(round_target(1.234), 1.2);
    }
}
