//! `scalesim run` and `scalesim report DIR` as library calls: load and check what a
//! [`RunRequest`] asks for ([`plan`]), simulate it ([`simulate`], or one shard's jobs:
//! [`simulate_shard`]; or put the parts of a sharded run back together: [`merge`]), and stage
//! the outputs ([`stage_outputs`]) for the caller to commit. [`report()`] writes report.html (and
//! the charts) again from an output folder.
//!
//! The oracle baseline ([`crate::oracle::with_baseline`]) runs as one more policy, last, unless
//! the scenario already has an oracle policy or `oracle` is off; it is run even when `--policy`
//! selects others, since every policy's `cost_above_oracle_pct` is measured against it. When the
//! oracle cannot be built (one replica misses the SLO at any load), the run goes on without it
//! and says why in a note.

use crate::command::{self, Error, Feedback, Phase, invalid};
use crate::experiment::{self, Progress, RunOptions};
use crate::input::FileRead;
use crate::record::RunResult;
use crate::report::atomic::Staging;
use crate::report::{self, ChartOptions, ChartsMode, Provenance, ReplicaCapacity, ReportMeta};
use crate::scenario::Scenario;
use crate::shard::{
    self, Shard,
    parts::{Part, Parts},
};
use crate::{budget, config, oracle, report::sha256};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Chart options as the user gave them (the window is parsed against the scenario's clock once
/// it is known).
#[derive(Debug, Clone, Default)]
pub struct ChartRequest {
    /// `--window START..END`, unparsed.
    pub window: Option<String>,
    /// `--charts`.
    pub mode: ChartsMode,
}

/// What `scalesim run` is asked to do.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// Scenario file.
    pub file: PathBuf,
    /// Output folder; `None` for `output/<scenario name>`.
    pub out_dir: Option<PathBuf>,
    /// `--set key=value` overrides.
    pub overrides: Vec<String>,
    /// Add the oracle baseline when the scenario has no oracle policy (not `--no-oracle`).
    pub oracle: bool,
    /// `--seed`: the base seed, replacing `simulation.seed`.
    pub seed: Option<u64>,
    /// Options for the experiment.
    pub options: RunOptions,
    /// `--allow-large`: run above the cost limits.
    pub allow_large: bool,
    /// Chart options.
    pub charts: ChartRequest,
    /// Also write report.html.
    pub report: bool,
    /// `--check`: the outcome says when a deployable policy misses the SLO.
    pub check: bool,
    /// `--shard I/N`: run only this shard's jobs and write a part directory.
    pub shard: Option<Shard>,
}

/// A run ready to simulate: the scenario (with the oracle baseline), the options, and where
/// and how the outputs go.
#[derive(Debug)]
pub struct RunPlan {
    /// The request planned.
    pub request: RunRequest,
    /// The scenario file's text, read once: what was loaded is what the outputs hash and copy.
    pub text: String,
    /// The scenario, with the oracle baseline when asked for.
    pub scenario: Scenario,
    /// The experiment's options (the oracle added to a `--policy` selection).
    pub options: RunOptions,
    /// What the run changed from the file, as recorded in its outputs (`--seed` included).
    pub overrides: Vec<String>,
    /// Chart options, the window parsed.
    pub charts: ChartOptions,
    /// Where the outputs go.
    pub out_dir: PathBuf,
    /// Every file the scenario's load read (recorded in a shard's part).
    pub inputs: Vec<FileRead>,
}

/// `seed`, checked against the seeds a scenario file can hold ([`crate::rng::check_seed`]):
/// the command line checks it as it is parsed; this catches the settings a shard recorded.
pub fn check_seed(seed: u64) -> Result<u64, Error> {
    crate::rng::check_seed(seed).map_err(|m| invalid(format!("--seed: {m}")))
}

/// The `--check` refusal of a scenario without an SLO (bad input).
pub fn no_slo_to_check(file: &Path) -> Error {
    invalid(format!(
        "--check: {} has no [simulation.slo], so there is nothing to check; add one (e.g. \
         `[simulation.slo]` with `latency = \"500ms\"` and `error_rate = \"1%\"`) or leave --check out",
        file.display()
    ))
}

/// Checks `--policy` names against the scenario, suggesting the closest.
pub fn check_policy_names(scenario: &Scenario, wanted: &[String]) -> Result<(), Error> {
    let known: Vec<&str> = scenario.policies.iter().map(|p| p.name.as_str()).collect();
    for w in wanted {
        if !known.contains(&w.as_str()) {
            let mut m = format!("--policy {w}: no policy named `{w}` in the scenario");
            if let Some(s) = config::error::suggest(w, known.iter().copied()) {
                m.push_str(&format!("; did you mean `{s}`?"));
            }
            m.push_str(&format!(" (policies: {})", known.join(", ")));
            return Err(invalid(m));
        }
    }
    Ok(())
}

/// The default output folder of a scenario: `output/<name>`, with a slug of the overrides
/// (`output/quickstart+traffic.scale=2`) so that a what-if never overwrites its baseline.
pub fn default_out_dir(name: &str, overrides: &[String]) -> PathBuf {
    PathBuf::from("output").join(report::meta::output_slug(name, overrides))
}

/// Loads and checks what `req` asks for; `budget` applies the cost bounds (a merge does not:
/// the work is done). The scenario's warnings go to `fb` as they are found.
pub fn plan(req: &RunRequest, budget: bool, fb: &dyn Feedback) -> Result<RunPlan, Error> {
    let files = config::Files::default();
    let text = config::read_scenario_via(&req.file, &files)?.to_string();
    let origin = req.file.display().to_string();
    let (mut scenario, warnings) =
        config::load_str_with_files(&text, &origin, &config::base_dir(&req.file), &req.overrides, &files)?;
    for w in &warnings {
        fb.warn(w);
    }
    if let Some(seed) = req.seed {
        scenario.seed = check_seed(seed)?;
    }
    check_policy_names(&scenario, &req.options.policies)?;
    if req.check && scenario.slo.is_none() {
        return Err(no_slo_to_check(&req.file));
    }
    if budget {
        budget::check_seeds(req.options.seeds, req.allow_large).map_err(Error::Invalid)?;
        // The cost bound, before the oracle is built (it plans from the whole run's arrivals);
        // the oracle baseline is one more run of about the same cost as the others.
        let selected: Vec<_> = scenario
            .policies
            .iter()
            .filter(|p| req.options.policies.is_empty() || req.options.policies.contains(&p.name))
            .collect();
        let estimate = budget::estimate(&scenario, &selected, req.options.seeds);
        command::allow(fb, &estimate, req.allow_large, None)?;
        if req.options.requests {
            budget::check_request_rows(estimate.requests, req.allow_large).map_err(Error::Invalid)?;
        }
    }
    let mut options = req.options.clone();
    let mut overrides = req.overrides.clone();
    if let Some(seed) = req.seed {
        overrides.push(format!("simulation.seed={seed}"));
    }
    let scenario = if req.oracle { with_oracle(scenario, fb) } else { scenario };
    if let Some(o) = scenario.oracle()
        && !options.policies.is_empty()
        && !options.policies.contains(&o.name)
    {
        options.policies.push(o.name.clone());
    }
    let charts = chart_options(&req.charts, &scenario.clock, crate::time::to_secs_f64(scenario.duration))?;
    let out_dir = req.out_dir.clone().unwrap_or_else(|| {
        let dir = default_out_dir(&scenario.name, &overrides);
        match req.shard {
            Some(s) => dir.join(format!("shard-{}-of-{}", s.index, s.count)),
            None => dir,
        }
    });
    // Outputs never replace an input (the scenario, a trace, a manifest): refused here, before
    // simulating (the commit checks again).
    let inputs = files.read();
    let names: Vec<&str> = if req.shard.is_some() {
        vec![shard::RESULTS_FILE, shard::MANIFEST_FILE]
    } else {
        report::OUTPUT_FILES
            .iter()
            .copied()
            .chain(req.report.then_some("report.html"))
            .chain(req.options.requests.then_some(report::REQUESTS_FILE))
            .collect()
    };
    report::atomic::check_outputs(&out_dir, &names, &input_paths(&req.file, &inputs))?;
    Ok(RunPlan { request: req.clone(), text, scenario, options, overrides, charts, out_dir, inputs })
}

/// `scenario` with the oracle baseline added, or as it is (and a note saying why) when no
/// oracle can be built.
fn with_oracle(scenario: Scenario, fb: &dyn Feedback) -> Scenario {
    match oracle::with_baseline(&scenario) {
        Ok(s) => s,
        Err(e) => {
            fb.note(&format!("note: no oracle baseline: {e}"));
            scenario
        }
    }
}

/// Every file a run reads: the scenario and the files it names.
fn input_paths(scenario: &Path, inputs: &[FileRead]) -> Vec<PathBuf> {
    std::iter::once(scenario.to_path_buf()).chain(inputs.iter().map(|f| f.path.clone())).collect()
}

/// Runs every job of the plan ([`experiment::run`]), showing progress through `fb`.
pub fn simulate(plan: &RunPlan, fb: &dyn Feedback) -> Result<Vec<RunResult>, Error> {
    let progress = Progress::default();
    let total = experiment::total_work(&plan.scenario, &plan.options);
    let runs = command::during(fb, Phase::Simulating { total, progress: &progress }, || {
        experiment::run(&plan.scenario, &plan.options, &progress)
    })?;
    Ok(runs)
}

/// Runs the jobs of shard `shard` of the plan and returns the part to write into
/// [`RunPlan::out_dir`] ([`Part::stage`]).
pub fn simulate_shard(plan: &RunPlan, shard: Shard, fb: &dyn Feedback) -> Result<Part, Error> {
    let jobs = experiment::jobs(&plan.scenario, &plan.options)?;
    let owned: Vec<u64> = shard.jobs(jobs.len() as u64).map_err(Error::Invalid)?;
    let mine: Vec<experiment::Job> = owned.iter().map(|&j| jobs[j as usize]).collect();
    let progress = Progress::default();
    let total = plan.scenario.duration * mine.len() as u64;
    let runs = command::during(fb, Phase::Simulating { total, progress: &progress }, || {
        experiment::run_jobs(&plan.scenario, &mine, plan.options.threads, plan.options.requests, &progress)
    })?;
    let entries = owned
        .iter()
        .zip(&mine)
        .map(|(&job, j)| shard::JobEntry {
            job,
            label: format!("policy {}, replication {}", plan.scenario.policies[j.policy].name, j.replication),
        })
        .collect();
    let results: Vec<(u64, RunResult)> = owned.into_iter().zip(runs).collect();
    Ok(Part {
        command: "run",
        scenario: plan.request.file.clone(),
        settings: plan.request.settings(),
        display: serde_json::Value::Null,
        shard,
        total_jobs: jobs.len() as u64,
        jobs: entries,
        results: shard::encode(&results),
        inputs: plan.inputs.clone(),
    })
}

/// `scalesim merge` of `run` parts: the request the parts recorded (writing into `out`),
/// planned again, and every job's run taken from the parts, in job order.
pub fn merge(
    parts: &Parts,
    out: Option<PathBuf>,
    fb: &dyn Feedback,
) -> Result<(RunPlan, Vec<RunResult>), Error> {
    let request = RunRequest::from_settings(&parts.settings, out).map_err(|e| parts.bad_settings(e))?;
    let results: Vec<Vec<(u64, RunResult)>> =
        parts.results(|r: &Vec<(u64, RunResult)>| r.iter().map(|x| x.0).collect())?;
    let plan = plan(&request, false, fb)?;
    let runs = assemble(&plan, results)?;
    Ok((plan, runs))
}

/// The runs of a sharded `run` put back together: every part's `(job, run)` pairs, checked
/// against the plan's jobs (each once, each the policy and replication the scenario gives that
/// job), then measured against the oracle as [`experiment::run`] does.
fn assemble(plan: &RunPlan, parts: Vec<Vec<(u64, RunResult)>>) -> Result<Vec<RunResult>, Error> {
    let jobs = experiment::jobs(&plan.scenario, &plan.options)?;
    let mut slots: Vec<Option<RunResult>> = vec![None; jobs.len()];
    for (job, run) in parts.into_iter().flatten() {
        let slot = slots.get_mut(job as usize).ok_or_else(|| {
            invalid(format!("the parts hold job {job}, but the run has {} jobs", jobs.len()))
        })?;
        if slot.replace(run).is_some() {
            return Err(invalid(format!("the parts hold job {job} twice")));
        }
    }
    let mut runs = Vec::with_capacity(jobs.len());
    for (k, (slot, j)) in slots.into_iter().zip(&jobs).enumerate() {
        let run = slot.ok_or_else(|| invalid(format!("no part holds job {k}")))?;
        let want = &plan.scenario.policies[j.policy].name;
        if &run.policy != want || run.replication != j.replication {
            return Err(invalid(format!(
                "job {k} of the parts is policy {}, replication {}; the scenario's job {k} is policy {want}, replication {}",
                run.policy, run.replication, j.replication
            )));
        }
        runs.push(run);
    }
    experiment::finish(&plan.scenario, &mut runs);
    Ok(runs)
}

/// What a run's outputs say, beside its files.
#[derive(Debug)]
pub struct RunOutputs {
    /// The files, staged in the output folder; the caller commits them.
    pub staging: Staging,
    /// The terminal table and the verdict.
    pub table: String,
    /// Charts drawn empty, and why (file, reason).
    pub empty_charts: Vec<(String, String)>,
    /// With `check`: what misses the SLO, if anything does.
    pub check_failure: Option<String>,
}

/// Stages the outputs of a run (the same code for a run on one machine and for a merge of
/// parts) and words its table and verdict.
/// `capacity` is [`replica_capacity`] of the plan's scenario (a separate call, so that a caller
/// can time it).
pub fn stage_outputs(
    plan: &RunPlan,
    runs: &[RunResult],
    capacity: Option<ReplicaCapacity>,
) -> Result<RunOutputs, Error> {
    let (scenario, charts) = (&plan.scenario, &plan.charts);
    let mut meta = ReportMeta::from_scenario(scenario);
    meta.provenance = provenance(&plan.request.file, &plan.text, &plan.overrides);
    meta.capacity = capacity;
    meta.requests = plan.options.requests;
    let mut staging = Staging::new(&plan.out_dir, "run")?;
    for p in input_paths(&plan.request.file, &plan.inputs) {
        staging.protect(&p);
    }
    report::stage_report(&mut staging, &meta, runs, charts, plan.request.report)?;
    let verdict = report::verdict::verdict(&meta, &crate::record::aggregate::aggregate(runs));
    let table = format!("{}\n{}", report::summary_table_meta(&meta, runs), verdict.text());
    let empty_charts = report::empty_charts(&meta, runs, charts);
    let check_failure = if plan.request.check { verdict.check_failure() } else { None };
    Ok(RunOutputs { staging, table, empty_charts, check_failure })
}

/// Chart options with the window parsed against the scenario's clock.
pub fn chart_options(
    args: &ChartRequest,
    clock: &crate::time::Clock,
    duration_s: f64,
) -> Result<ChartOptions, Error> {
    let window = match &args.window {
        Some(w) => Some(
            report::charts::parse_window(w, clock, duration_s)
                .map_err(|e| invalid(format!("--window: {e}")))?,
        ),
        None => None,
    };
    Ok(ChartOptions { window, mode: args.mode })
}

/// Where the scenario came from: path, content hash, overrides and the text as run (`text` is
/// the file as it was read for the run, not read again).
fn provenance(file: &Path, text: &str, overrides: &[String]) -> Provenance {
    let as_run = if overrides.is_empty() {
        Some(text.to_string())
    } else {
        config::apply_overrides_text(text, overrides).ok()
    };
    Provenance {
        path: Some(file.display().to_string()),
        sha256: Some(sha256::hex(text.as_bytes())),
        overrides: overrides.to_vec(),
        text: as_run,
    }
}

/// One replica's capacity within the scenario's objective: the mean of the 8 step tests of
/// [`oracle::replica_capacity`] (memoised: the oracle's search started from the same figure).
pub fn replica_capacity(scenario: &Scenario) -> Option<ReplicaCapacity> {
    oracle::replica_capacity(&scenario.service, scenario.slo.as_ref())
        .ok()
        .map(|e| ReplicaCapacity::from_estimate(&e))
}

/// The settings of `run` a part records: those that change results or the files written;
/// `--threads`, `--out`, `--allow-large` are not among them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunSettings {
    file: PathBuf,
    overrides: Vec<String>,
    oracle: bool,
    seed: Option<u64>,
    seeds: u32,
    policies: Vec<String>,
    window: Option<String>,
    charts: String,
    report: bool,
    #[serde(default)]
    requests: bool,
}

impl RunRequest {
    /// The settings its parts record.
    pub fn settings(&self) -> serde_json::Value {
        shard::to_value(&RunSettings {
            file: self.file.clone(),
            overrides: self.overrides.clone(),
            oracle: self.oracle,
            seed: self.seed,
            seeds: self.options.seeds,
            policies: self.options.policies.clone(),
            window: self.charts.window.clone(),
            charts: match self.charts.mode {
                ChartsMode::Auto => "auto",
                ChartsMode::Overlay => "overlay",
                ChartsMode::Panels => "panels",
            }
            .into(),
            report: self.report,
            requests: self.options.requests,
        })
    }

    /// The request a part's settings record, writing into `out` (the merge's `--out`).
    pub fn from_settings(settings: &serde_json::Value, out: Option<PathBuf>) -> Result<RunRequest, String> {
        let s: RunSettings = serde_json::from_value(settings.clone()).map_err(|e| e.to_string())?;
        let mode = match s.charts.as_str() {
            "auto" => ChartsMode::Auto,
            "overlay" => ChartsMode::Overlay,
            "panels" => ChartsMode::Panels,
            other => return Err(format!("charts `{other}` is not auto, overlay or panels")),
        };
        Ok(RunRequest {
            file: s.file,
            out_dir: out,
            overrides: s.overrides,
            oracle: s.oracle,
            seed: s.seed,
            options: RunOptions { seeds: s.seeds, threads: None, policies: s.policies, requests: s.requests },
            allow_large: true,
            charts: ChartRequest { window: s.window, mode },
            report: s.report,
            check: false,
            shard: None,
        })
    }
}

/// What `scalesim report` is asked to do.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// The output folder of a run (or of a tune).
    pub dir: PathBuf,
    /// Where to write (default: `dir`).
    pub out: Option<PathBuf>,
    /// Chart options.
    pub charts: ChartRequest,
}

/// `scalesim report DIR`: report.html (and the charts) staged from the files of an output
/// folder of `run` or of `tune`; with the charts drawn empty, and why.
pub fn report(req: &ReportRequest) -> Result<(Staging, Vec<(String, String)>), Error> {
    // A `tune` folder: the candidates table and its charts.
    if req.dir.join("tune.json").is_file() && !req.dir.join("summary.json").exists() {
        if req.charts.window.is_some() {
            return Err(invalid("--window: a tune folder's charts are not time series; leave --window out"));
        }
        let mut staging = report_staging(req, "tune")?;
        report::html::stage_tune(&req.dir, &mut staging).map_err(Error::Invalid)?;
        return Ok((staging, Vec::new()));
    }
    let loaded = report::read::read_dir(&req.dir).map_err(Error::Invalid)?;
    let charts = chart_options(&req.charts, &loaded.meta.clock, loaded.meta.duration_s)?;
    let mut staging = report_staging(req, "run")?;
    report::html::stage(&mut staging, &loaded.meta, &loaded.summary, &loaded.runs, &charts)?;
    Ok((staging, report::empty_charts(&loaded.meta, &loaded.runs, &charts)))
}

/// Where `report` stages report.html: into the folder it reads, the page joins the output set
/// of the command that wrote the folder (`set`: a later run or tune there removes it); into
/// another folder (`--out`), it is the `report` command's own set. The files read are inputs.
fn report_staging(req: &ReportRequest, set: &str) -> Result<Staging, Error> {
    let out = req.out.clone().unwrap_or_else(|| req.dir.clone());
    let same =
        out == req.dir || matches!((out.canonicalize(), req.dir.canonicalize()), (Ok(a), Ok(b)) if a == b);
    let mut staging = if same { Staging::adding_to(&out, set)? } else { Staging::new(&out, "report")? };
    for name in report::read::FILES_READ {
        staging.protect(&req.dir.join(name));
    }
    Ok(staging)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_leave_out_what_changes_no_result_and_read_back() {
        let req = |threads: Option<usize>, out: Option<&str>| RunRequest {
            file: "s.toml".into(),
            out_dir: out.map(PathBuf::from),
            overrides: vec!["a=1".into()],
            oracle: true,
            seed: Some(u64::MAX),
            options: RunOptions { seeds: 3, threads, policies: vec![], requests: false },
            allow_large: false,
            charts: ChartRequest::default(),
            report: false,
            check: false,
            shard: None,
        };
        let a = req(None, None).settings();
        assert_eq!(a, req(Some(2), Some("elsewhere")).settings());
        let back = RunRequest::from_settings(&a, None).unwrap();
        assert_eq!(back.settings(), a);
        let mut other = req(None, None);
        other.options.seeds = 4;
        assert_ne!(shard::settings_hash(&other.settings()), shard::settings_hash(&a));
    }
}
