//! Reports: CSV, JSON, terminal table and PNG charts.

use crate::record::RunResult;
use crate::scenario::Scenario;
use std::path::{Path, PathBuf};

/// Why outputs could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// An I/O failure on a path.
    #[error("cannot write {path}: {message}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

/// Writes every output file for `runs` into `dir` (created if needed), whole or not at all.
/// Returns the paths written.
pub fn write_outputs(
    _dir: &Path,
    _scenario: &Scenario,
    _runs: &[RunResult],
) -> Result<Vec<PathBuf>, ReportError> {
    todo!("being written")
}

/// The summary table for the terminal.
pub fn summary_table(_scenario: &Scenario, _runs: &[RunResult]) -> String {
    todo!("being written")
}
