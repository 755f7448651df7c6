//! `scalesim capacity` and `scalesim recommend` on the terminal: the library's
//! [`scalesim::capacity::command`] calls, their files committed, their reports printed.

use super::{CliError, Terminal, commit, note, print_stdout};
use scalesim::capacity::command::{self as capacity, CapacityRequest, RecommendRequest};

/// What `scalesim capacity` was asked to do: the test, and how to print it.
#[derive(Debug, Clone)]
pub struct CapacityCommand {
    /// The test.
    pub request: CapacityRequest,
    /// `--json`.
    pub json: bool,
}

/// Runs `scalesim capacity`.
pub fn capacity(cmd: CapacityCommand) -> Result<(), CliError> {
    let found = capacity::capacity(&cmd.request, &Terminal)?;
    let text = if cmd.json { found.json() } else { found.table() };
    let written = commit(found.staging)?;
    print_stdout(&text)?;
    for p in &written {
        note(format_args!("wrote {}", p.display()));
    }
    Ok(())
}

/// Runs `scalesim recommend`: the searches' evidence is committed first, then
/// recommended.toml, then the report is printed.
pub fn recommend(cmd: RecommendRequest) -> Result<(), CliError> {
    let rec = capacity::recommend(&cmd, &Terminal)?;
    for search in rec.searches {
        commit(search.staging)?;
    }
    commit(rec.staging)?;
    print_stdout(&rec.report)
}
