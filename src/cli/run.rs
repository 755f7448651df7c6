//! `scalesim run`: load, add the oracle baseline, run the experiment with a progress bar, write
//! outputs, print the table; and `scalesim report`: report.html (and the charts) again from an
//! output folder.
//!
//! The oracle baseline ([`scalesim::oracle::with_baseline`]) runs as one more policy, last, unless
//! the scenario already has an oracle policy or `--no-oracle` is given; it is run even when
//! `--policy` selects others, since every policy's `cost_above_oracle_pct` is measured against it.
//! When the oracle cannot be built (one replica misses the SLO at any load), the run goes on
//! without it and says why on stderr.

use super::{
    CliError, ReportCommand, RunCommand, check_budget, check_policy_names, default_out_dir, note,
    print_stdout,
};
use scalesim::experiment::{self, Progress};
use scalesim::record::RunResult;
use scalesim::report::{self, ChartOptions, Provenance, ReplicaCapacity, ReportMeta};
use scalesim::scenario::Scenario;
use scalesim::{budget, config, oracle, report::sha256};
use std::path::{Path, PathBuf};

/// A run ready to simulate: the scenario (with the oracle baseline), the options, and where
/// and how the outputs go.
struct Prepared {
    /// The scenario file's text, read once: what was loaded is what the outputs hash and copy.
    text: String,
    scenario: Scenario,
    options: experiment::RunOptions,
    overrides: Vec<String>,
    charts: ChartOptions,
    out_dir: PathBuf,
    /// Every file the scenario's load read (recorded in a shard's part).
    inputs: Vec<scalesim::input::FileRead>,
}

/// Loads and checks what `cmd` asks for; `budget` applies the cost bounds (a merge does not:
/// the work is done).
fn prepare(cmd: &RunCommand, budget: bool) -> Result<Prepared, CliError> {
    let files = config::Files::default();
    let text = config::read_scenario_via(&cmd.file, &files)?.to_string();
    let origin = cmd.file.display().to_string();
    let (mut scenario, warnings) =
        config::load_str_with_files(&text, &origin, &config::base_dir(&cmd.file), &cmd.overrides, &files)?;
    for w in &warnings {
        eprintln!("{}", super::terminal_safe(w));
    }
    if let Some(seed) = cmd.seed {
        scenario.seed = check_seed(seed)?;
    }
    check_policy_names(&scenario, &cmd.options.policies)?;
    if cmd.check && scenario.slo.is_none() {
        return Err(no_slo_to_check(&cmd.file));
    }
    if budget {
        budget::check_seeds(cmd.options.seeds, cmd.allow_large).map_err(CliError::Usage)?;
    }
    // The cost bound, before the oracle is built (it plans from the whole run's arrivals); the
    // oracle baseline is one more run of about the same cost as the others.
    let selected: Vec<_> = scenario
        .policies
        .iter()
        .filter(|p| cmd.options.policies.is_empty() || cmd.options.policies.contains(&p.name))
        .collect();
    if budget {
        check_budget(&budget::estimate(&scenario, &selected, cmd.options.seeds), cmd.allow_large)?;
    }
    let mut options = cmd.options.clone();
    // What the run changed from the file, as recorded in its outputs (`--seed` included).
    let mut overrides = cmd.overrides.clone();
    if let Some(seed) = cmd.seed {
        overrides.push(format!("simulation.seed={seed}"));
    }
    let scenario = if cmd.oracle {
        match oracle::with_baseline(&scenario) {
            Ok(s) => s,
            Err(e) => {
                note(format_args!("note: no oracle baseline: {e}"));
                scenario
            }
        }
    } else {
        scenario
    };
    if let Some(o) = scenario.oracle()
        && !options.policies.is_empty()
        && !options.policies.contains(&o.name)
    {
        options.policies.push(o.name.clone());
    }
    let charts = chart_options(&cmd.charts, &scenario.clock, scalesim::time::to_secs_f64(scenario.duration))?;
    let out_dir = cmd.out_dir.clone().unwrap_or_else(|| {
        let dir = default_out_dir(&scenario.name, &overrides);
        match cmd.shard {
            Some(s) => dir.join(format!("shard-{}-of-{}", s.index, s.count)),
            None => dir,
        }
    });
    // Outputs never replace an input (the scenario, a trace, a manifest): refused here, before
    // simulating (the commit checks again).
    let inputs = files.read();
    let names: Vec<&str> = if cmd.shard.is_some() {
        vec![scalesim::shard::RESULTS_FILE, scalesim::shard::MANIFEST_FILE]
    } else {
        report::OUTPUT_FILES.iter().copied().chain(cmd.report.then_some("report.html")).collect()
    };
    report::atomic::check_outputs(&out_dir, &names, &input_paths(&cmd.file, &inputs))?;
    Ok(Prepared { text, scenario, options, overrides, charts, out_dir, inputs })
}

/// Every file a run reads: the scenario and the files it names.
fn input_paths(scenario: &Path, inputs: &[scalesim::input::FileRead]) -> Vec<PathBuf> {
    std::iter::once(scenario.to_path_buf()).chain(inputs.iter().map(|f| f.path.clone())).collect()
}

/// Runs the scenario (or, with `--shard I/N`, its shard's jobs into a part directory).
pub fn run(cmd: RunCommand) -> Result<(), CliError> {
    let prep = prepare(&cmd, true)?;
    let progress = Progress::default();
    if let Some(shard) = cmd.shard {
        let jobs = experiment::jobs(&prep.scenario, &prep.options)?;
        let owned: Vec<u64> = shard.jobs(jobs.len() as u64).map_err(CliError::Usage)?;
        let mine: Vec<experiment::Job> = owned.iter().map(|&j| jobs[j as usize]).collect();
        let total = prep.scenario.duration * mine.len() as u64;
        let runs = with_progress_bar(total, &progress, || {
            experiment::run_jobs(&prep.scenario, &mine, prep.options.threads, &progress)
        })?;
        let entries = owned
            .iter()
            .zip(&mine)
            .map(|(&job, j)| scalesim::shard::JobEntry {
                job,
                label: format!(
                    "policy {}, replication {}",
                    prep.scenario.policies[j.policy].name, j.replication
                ),
            })
            .collect();
        let results: Vec<(u64, RunResult)> = owned.into_iter().zip(runs).collect();
        let part = super::shard::Part {
            command: "run",
            scenario: &cmd.file,
            settings: super::shard::run_settings(&cmd),
            display: serde_json::Value::Null,
            shard,
            total_jobs: jobs.len() as u64,
            jobs: entries,
            results: scalesim::shard::encode(&results),
            inputs: prep.inputs.clone(),
        };
        return part.write(&prep.out_dir);
    }
    let total = experiment::total_work(&prep.scenario, &prep.options);
    let runs =
        with_progress_bar(total, &progress, || experiment::run(&prep.scenario, &prep.options, &progress))?;
    write_outputs(&cmd, &prep, &runs)
}

/// `scalesim merge` of `run` parts: `cmd` as the parts recorded it, and every job's run (in
/// job order) from the parts. Writes what `run` without `--shard` writes.
pub(super) fn merge(cmd: &RunCommand, parts: Vec<Vec<(u64, RunResult)>>) -> Result<(), CliError> {
    let prep = prepare(cmd, false)?;
    let jobs = experiment::jobs(&prep.scenario, &prep.options)?;
    let mut slots: Vec<Option<RunResult>> = vec![None; jobs.len()];
    for (job, run) in parts.into_iter().flatten() {
        let slot = slots.get_mut(job as usize).ok_or_else(|| {
            CliError::Usage(format!("the parts hold job {job}, but the run has {} jobs", jobs.len()))
        })?;
        if slot.replace(run).is_some() {
            return Err(CliError::Usage(format!("the parts hold job {job} twice")));
        }
    }
    let mut runs = Vec::with_capacity(jobs.len());
    for (k, (slot, j)) in slots.into_iter().zip(&jobs).enumerate() {
        let run = slot.ok_or_else(|| CliError::Usage(format!("no part holds job {k}")))?;
        let want = &prep.scenario.policies[j.policy].name;
        if &run.policy != want || run.replication != j.replication {
            return Err(CliError::Usage(format!(
                "job {k} of the parts is policy {}, replication {}; the scenario's job {k} is policy {want}, replication {}",
                run.policy, run.replication, j.replication
            )));
        }
        runs.push(run);
    }
    experiment::finish(&prep.scenario, &mut runs);
    write_outputs(cmd, &prep, &runs)
}

/// Writes the outputs of a run and prints its table: the same code for a run on one machine
/// and for a merge of parts.
fn write_outputs(cmd: &RunCommand, prep: &Prepared, runs: &[RunResult]) -> Result<(), CliError> {
    let (scenario, out_dir, charts) = (&prep.scenario, &prep.out_dir, &prep.charts);
    let mut meta = ReportMeta::from_scenario(scenario);
    meta.provenance = provenance(&cmd.file, &prep.text, &prep.overrides);
    meta.capacity = replica_capacity(scenario);
    let mut staging = report::atomic::Staging::new(out_dir, "run")?;
    for p in input_paths(&cmd.file, &prep.inputs) {
        staging.protect(&p);
    }
    report::stage_report(&mut staging, &meta, runs, charts, cmd.report)?;
    let written = super::commit(staging)?;
    let verdict = report::verdict::verdict(&meta, &scalesim::record::aggregate::aggregate(runs));
    print_stdout(&format!("{}\n{}", report::summary_table_meta(&meta, runs), verdict.text()))?;
    for (file, why) in report::empty_charts(&meta, runs, charts) {
        note(format_args!("{file}: {why}"));
    }
    for p in &written {
        note(format_args!("wrote {}", p.display()));
    }
    match verdict.check_failure() {
        Some(m) if cmd.check => Err(CliError::Check(m)),
        _ => Ok(()),
    }
}

/// `--seed`, checked against the seeds a scenario file can hold ([`scalesim::rng::check_seed`]):
/// the command line checks it as it is parsed; this catches the settings a shard recorded.
pub(super) fn check_seed(seed: u64) -> Result<u64, CliError> {
    scalesim::rng::check_seed(seed).map_err(|m| CliError::Usage(format!("--seed: {m}")))
}

/// The `--check` refusal of a scenario without an SLO (bad input, exit 2).
pub(super) fn no_slo_to_check(file: &std::path::Path) -> CliError {
    CliError::Usage(format!(
        "--check: {} has no [simulation.slo], so there is nothing to check; add one (e.g. \
         `[simulation.slo]` with `latency = \"500ms\"` and `error_rate = \"1%\"`) or leave --check out",
        file.display()
    ))
}

/// `scalesim report DIR`: report.html from the files of an output folder (of `run`, or of
/// `tune`).
pub fn report(cmd: ReportCommand) -> Result<(), CliError> {
    // A `tune` folder: the candidates table and its charts.
    if cmd.dir.join("tune.json").is_file() && !cmd.dir.join("summary.json").exists() {
        if cmd.charts.window.is_some() {
            return Err(CliError::Usage(
                "--window: a tune folder's charts are not time series; leave --window out".into(),
            ));
        }
        let mut staging = report_staging(&cmd, "tune")?;
        report::html::stage_tune(&cmd.dir, &mut staging).map_err(CliError::Usage)?;
        for p in super::commit(staging)? {
            note(format_args!("wrote {}", p.display()));
        }
        return Ok(());
    }
    let loaded = report::read::read_dir(&cmd.dir).map_err(CliError::Usage)?;
    let charts = chart_options(&cmd.charts, &loaded.meta.clock, loaded.meta.duration_s)?;
    let mut staging = report_staging(&cmd, "run")?;
    report::html::stage(&mut staging, &loaded.meta, &loaded.summary, &loaded.runs, &charts)?;
    let written = super::commit(staging)?;
    for (file, why) in report::empty_charts(&loaded.meta, &loaded.runs, &charts) {
        note(format_args!("{file}: {why}"));
    }
    for p in written {
        note(format_args!("wrote {}", p.display()));
    }
    Ok(())
}

/// Where `report` stages report.html: into the folder it reads, the page joins the output set
/// of the command that wrote the folder (`set`: a later run or tune there removes it); into
/// another folder (`--out`), it is the `report` command's own set. The files read are inputs.
fn report_staging(cmd: &ReportCommand, set: &str) -> Result<report::atomic::Staging, CliError> {
    let out = cmd.out.clone().unwrap_or_else(|| cmd.dir.clone());
    let same =
        out == cmd.dir || matches!((out.canonicalize(), cmd.dir.canonicalize()), (Ok(a), Ok(b)) if a == b);
    let mut staging = if same {
        report::atomic::Staging::adding_to(&out, set)?
    } else {
        report::atomic::Staging::new(&out, "report")?
    };
    for name in report::read::FILES_READ {
        staging.protect(&cmd.dir.join(name));
    }
    Ok(staging)
}

fn chart_options(
    args: &super::ChartArgsCommand,
    clock: &scalesim::time::Clock,
    duration_s: f64,
) -> Result<ChartOptions, CliError> {
    let window = match &args.window {
        Some(w) => Some(
            report::charts::parse_window(w, clock, duration_s)
                .map_err(|e| CliError::Usage(format!("--window: {e}")))?,
        ),
        None => None,
    };
    Ok(ChartOptions { window, mode: args.mode })
}

/// Where the scenario came from: path, content hash, overrides and the text as run (`text` is
/// the file as it was read for the run, not read again).
fn provenance(file: &std::path::Path, text: &str, overrides: &[String]) -> Provenance {
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
fn replica_capacity(scenario: &Scenario) -> Option<ReplicaCapacity> {
    oracle::replica_capacity(&scenario.service, scenario.slo.as_ref())
        .ok()
        .map(|e| ReplicaCapacity::from_estimate(&e))
}

/// Runs `work` while a thread shows `progress` against `total` on stderr (hidden when stderr is
/// not a terminal).
pub(super) fn with_progress_bar<T>(total: u64, progress: &Progress, work: impl FnOnce() -> T) -> T {
    super::with_painted_bar(
        "{spinner} simulating [{elapsed_precise}] {wide_bar} {percent:>3}% eta {eta}",
        |bar| {
            bar.set_length(total.max(1));
            bar.set_position(progress.done.load(std::sync::atomic::Ordering::Relaxed).min(total));
        },
        work,
    )
}
