//! Reports: CSV, JSON, terminal table and PNG charts.
//!
//! This is the edge where results become files. It owns the output formats (documented in
//! `docs/outputs.md`, with `docs/summary.schema.json` for `summary.json`), the
//! all-or-nothing write of an output folder, and the charts. Everything here is deterministic:
//! the same runs give byte-identical files (stable ordering, stable number formatting, no
//! "now" timestamps, deterministic PNG encoding).
//!
//! Nothing here simulates; replication statistics come from [`crate::record::aggregate`].

pub mod atomic;
pub mod capacity;
mod charts;
pub mod files;
mod table;
pub mod tune;

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

impl ReportError {
    /// An [`ReportError::Io`] on `path`.
    pub fn io(path: &Path, message: impl std::fmt::Display) -> ReportError {
        ReportError::Io { path: path.to_path_buf(), message: message.to_string() }
    }
}

/// Names of the files [`write_outputs`] writes, in the order it returns them.
pub const OUTPUT_FILES: [&str; 8] = [
    "timeseries.csv",
    "decisions.csv",
    "summary.csv",
    "summary.json",
    "replicas.png",
    "failures.png",
    "cost.png",
    "latency_p99.png",
];

/// Writes every output file for `runs` into `dir` (created if needed), whole or not at all.
/// Returns the paths written.
///
/// Files are first written into a staging folder inside `dir` ([`atomic::Staging`]) and moved
/// into place only when all of them succeeded; on failure `dir` holds exactly what it held
/// before.
pub fn write_outputs(
    dir: &Path,
    scenario: &Scenario,
    runs: &[RunResult],
) -> Result<Vec<PathBuf>, ReportError> {
    write_outputs_inner(dir, scenario, runs, None)
}

/// [`write_outputs`] with an injected failure before the `fail_at`-th file (tests only).
fn write_outputs_inner(
    dir: &Path,
    scenario: &Scenario,
    runs: &[RunResult],
    fail_at: Option<usize>,
) -> Result<Vec<PathBuf>, ReportError> {
    // Refuse early if a destination is in the way (e.g. a folder named summary.json).
    for name in OUTPUT_FILES {
        let dest = dir.join(name);
        if dest.is_dir() {
            return Err(ReportError::io(&dest, "a directory is in the way"));
        }
    }
    let mut staging = atomic::Staging::new(dir)?;
    write_all(&mut staging, scenario, runs, fail_at)?;
    staging.commit()
}

/// Writes every output into `staging`.
fn write_all(
    staging: &mut atomic::Staging,
    scenario: &Scenario,
    runs: &[RunResult],
    fail_at: Option<usize>,
) -> Result<(), ReportError> {
    for (i, name) in OUTPUT_FILES.iter().enumerate() {
        let path = staging.path(name);
        if fail_at == Some(i) {
            return Err(ReportError::io(&staging.dest().join(name), "injected failure"));
        }
        match *name {
            "timeseries.csv" => staging.write(name, &files::timeseries_csv(scenario, runs))?,
            "decisions.csv" => staging.write(name, &files::decisions_csv(scenario, runs))?,
            "summary.csv" => staging.write(name, &files::summary_csv(scenario, runs))?,
            "summary.json" => staging.write(name, &files::summary_json(scenario, runs))?,
            "replicas.png" => charts::replicas(&path, scenario, runs)?,
            "failures.png" => charts::failures(&path, scenario, runs)?,
            "cost.png" => charts::cost(&path, scenario, runs)?,
            "latency_p99.png" => charts::latency_p99(&path, scenario, runs)?,
            other => unreachable!("no writer for {other}"),
        }
        staging.add(name);
    }
    Ok(())
}

/// The summary table for the terminal.
pub fn summary_table(scenario: &Scenario, runs: &[RunResult]) -> String {
    table::render(scenario, runs)
}

/// Formats a number as the output files do (6 decimals at most, no trailing zeros).
pub fn format_number(x: f64) -> String {
    fmt_num(x)
}

/// Formats a number for files: rounded to 6 decimals (values below 1e9), shortest
/// round-trip text, no negative zero. Deterministic across platforms.
pub(crate) fn fmt_num(x: f64) -> String {
    let r = round6(x);
    if r == r.trunc() && r.abs() < 9.0e15 { format!("{}", r as i64) } else { format!("{r}") }
}

/// Rounds to 6 decimals (values below 1e9 in magnitude), mapping -0 to 0.
pub(crate) fn round6(x: f64) -> f64 {
    let r = if x.is_finite() && x.abs() < 1e9 { (x * 1e6).round() / 1e6 } else { x };
    if r == 0.0 { 0.0 } else { r }
}

/// Replications per policy (the largest, should they differ).
pub(crate) fn replications(runs: &[RunResult]) -> usize {
    crate::record::aggregate::aggregate(runs).iter().map(|a| a.replications()).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_stably() {
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(-0.0), "0");
        assert_eq!(fmt_num(0.1 + 0.2), "0.3");
        assert_eq!(fmt_num(1.0 / 3.0), "0.333333");
        assert_eq!(fmt_num(2.5e-7), "0");
        assert_eq!(fmt_num(1234567.5), "1234567.5");
    }

    #[test]
    fn injected_failure_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let (scenario, runs) = crate::report::testdata::fixture(2);
        for (k, name) in OUTPUT_FILES.iter().enumerate() {
            let err = write_outputs_inner(&out, &scenario, &runs, Some(k)).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
            let left: Vec<_> = std::fs::read_dir(&out).unwrap().collect();
            assert!(left.is_empty(), "left {left:?}");
        }
        // A failed final rename leaves the previous outputs exactly as they were.
        let written = write_outputs(&out, &scenario, &runs).unwrap();
        let before: Vec<Vec<u8>> = written.iter().map(|p| std::fs::read(p).unwrap()).collect();
        let (_, runs3) = crate::report::testdata::fixture(3);
        for k in 0..OUTPUT_FILES.len() {
            let mut st = atomic::Staging::new(&out).unwrap();
            write_all(&mut st, &scenario, &runs3, None).unwrap();
            st.fail_rename_at(k);
            assert!(st.commit().is_err());
            let after: Vec<Vec<u8>> = written.iter().map(|p| std::fs::read(p).unwrap()).collect();
            assert!(after == before, "outputs changed after a rename failure at {k}");
            assert_eq!(std::fs::read_dir(&out).unwrap().count(), OUTPUT_FILES.len());
        }
    }
}

#[cfg(test)]
pub(crate) mod testdata;
