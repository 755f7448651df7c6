//! `scalesim tune` on the terminal: the library's [`scalesim::tune::command`] calls, the files
//! committed, the table (or tune.json) printed, the `--check` verdict as an exit code.

use super::{CliError, Terminal, commit, note, print_stdout, write_part};
use scalesim::shard::parts::Parts;
use scalesim::tune::TuneOutcome;
use scalesim::tune::command::{self as tune, TunePlan, TuneRequest};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// What `scalesim tune` was asked to do: the search, and how to print it.
#[derive(Debug, Clone)]
pub struct TuneCommand {
    /// The search.
    pub request: TuneRequest,
    /// Print tune.json instead of the table.
    pub json: bool,
    /// Rows of the terminal table.
    pub top: usize,
}

/// What `tune` prints, as its parts record it (it changes no file, so it is not hashed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TuneDisplay {
    json: bool,
    top: usize,
}

/// Runs `scalesim tune` (or, with `--shard I/N`, its shard's jobs into a part directory).
pub fn tune(cmd: TuneCommand) -> Result<(), CliError> {
    let plan = tune::plan(&cmd.request, true, &Terminal)?;
    if let Some(shard) = cmd.request.shard {
        let display = scalesim::shard::to_value(&TuneDisplay { json: cmd.json, top: cmd.top });
        let part = tune::simulate_shard(&plan, shard, display, &Terminal)?;
        return write_part(part, &tune::part_dir(&plan, shard));
    }
    let outcome = tune::search(&plan, &Terminal)?;
    finish(&plan, &outcome, cmd.json, cmd.top)
}

/// `scalesim merge` of `tune` parts: writes what `tune` without `--shard` writes, and prints
/// as the shards were asked to.
pub fn merge(parts: &Parts, out: Option<PathBuf>) -> Result<(), CliError> {
    let d: TuneDisplay =
        serde_json::from_value(parts.display.clone()).map_err(|e| parts.bad_settings(e.to_string()))?;
    let (plan, outcome) = tune::merge(parts, out, &Terminal)?;
    finish(&plan, &outcome, d.json, d.top)
}

/// Commits a search's outputs and prints its table (or tune.json): the same code for a search
/// on one machine and for a merge of parts.
fn finish(plan: &TunePlan, outcome: &TuneOutcome, json: bool, top: usize) -> Result<(), CliError> {
    let out = tune::stage_outputs(plan, outcome, &Terminal)?;
    let written = commit(out.staging)?;
    if json {
        print_stdout(&out.json)?;
    } else {
        print_stdout(&scalesim::report::tune::table(&plan.base, &plan.spec, outcome, top))?;
    }
    for p in &written {
        note(format_args!("wrote {}", p.display()));
    }
    match out.check_failure {
        Some(m) => Err(CliError::Check(m)),
        None => Ok(()),
    }
}
