//! `scalesim run` and `scalesim report` on the terminal: the library's [`scalesim::run`] calls,
//! their files committed, the table printed, notes on stderr.

use super::{CliError, Terminal, commit, note, print_stdout, write_part};
use scalesim::record::RunResult;
use scalesim::run::{self, ReportRequest, RunPlan, RunRequest};
use scalesim::shard::parts::Parts;
use std::path::PathBuf;

/// Runs the scenario (or, with `--shard I/N`, its shard's jobs into a part directory).
pub fn run(cmd: RunRequest) -> Result<(), CliError> {
    let plan = run::plan(&cmd, true, &Terminal)?;
    if let Some(shard) = cmd.shard {
        let part = run::simulate_shard(&plan, shard, &Terminal)?;
        return write_part(part, &plan.out_dir);
    }
    let runs = run::simulate(&plan, &Terminal)?;
    write_outputs(&plan, &runs)
}

/// `scalesim merge` of `run` parts: writes what `run` without `--shard` writes.
pub fn merge(parts: &Parts, out: Option<PathBuf>) -> Result<(), CliError> {
    let (plan, runs) = run::merge(parts, out, &Terminal)?;
    write_outputs(&plan, &runs)
}

/// Commits a run's outputs and prints its table: the same code for a run on one machine and
/// for a merge of parts.
fn write_outputs(plan: &RunPlan, runs: &[RunResult]) -> Result<(), CliError> {
    let out = run::stage_outputs(plan, runs)?;
    let written = commit(out.staging)?;
    print_stdout(&out.table)?;
    for (file, why) in &out.empty_charts {
        note(format_args!("{file}: {why}"));
    }
    for p in &written {
        note(format_args!("wrote {}", p.display()));
    }
    match out.check_failure {
        Some(m) => Err(CliError::Check(m)),
        None => Ok(()),
    }
}

/// `scalesim report DIR`: report.html from the files of an output folder (of `run`, or of
/// `tune`).
pub fn report(cmd: ReportRequest) -> Result<(), CliError> {
    let (staging, empty) = run::report(&cmd)?;
    let written = commit(staging)?;
    for (file, why) in &empty {
        note(format_args!("{file}: {why}"));
    }
    for p in written {
        note(format_args!("wrote {}", p.display()));
    }
    Ok(())
}
