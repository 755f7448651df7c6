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
pub mod calibrate;
pub mod capacity;
mod chart;
pub mod charts;
pub mod compare;
pub mod describe;
pub mod files;
pub mod html;
pub mod markup;
pub mod meta;
pub mod read;
pub mod rebase;
pub mod sha256;
mod table;
mod ticks;
pub mod tune;
pub mod verdict;

pub use charts::{ChartOptions, ChartsMode};
pub use meta::{OracleCapacity, PolicyMeta, Provenance, ReplicaCapacity, ReportMeta};

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
    /// An output would replace a file the command reads (bad input).
    #[error(
        "{output} is an input of this command ({input}): an output never replaces an input; \
         choose another --out folder, or rename the input"
    )]
    OverwritesInput {
        /// The output's path.
        output: PathBuf,
        /// The input, as the command named it.
        input: PathBuf,
    },
}

impl ReportError {
    /// An [`ReportError::Io`] on `path`.
    pub fn io(path: &Path, message: impl std::fmt::Display) -> ReportError {
        ReportError::Io { path: path.to_path_buf(), message: message.to_string() }
    }
}

/// Names of the files [`write_outputs`] writes, in the order it returns them.
pub const OUTPUT_FILES: [&str; 9] = [
    "scenario.toml",
    "timeseries.csv",
    "decisions.csv",
    "summary.csv",
    "summary.json",
    "replicas.png",
    "failures.png",
    "cost.png",
    "latency.png",
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
    write_report(dir, &ReportMeta::from_scenario(scenario), runs, &ChartOptions::default())
}

/// [`write_outputs`] with the report's full view of the run (provenance, capacity) and chart
/// options.
pub fn write_report(
    dir: &Path,
    meta: &ReportMeta,
    runs: &[RunResult],
    charts: &ChartOptions,
) -> Result<Vec<PathBuf>, ReportError> {
    Ok(write_outputs_inner(dir, meta, runs, charts, None)?.written)
}

/// Stages every output file of a run into `staging` (the files of [`OUTPUT_FILES`], and
/// report.html when `html`); the caller commits. `run` and `merge` use it, with the scenario
/// registered as an input ([`atomic::Staging::protect`]).
pub fn stage_report(
    staging: &mut atomic::Staging,
    meta: &ReportMeta,
    runs: &[RunResult],
    charts: &ChartOptions,
    html: bool,
) -> Result<(), ReportError> {
    for name in OUTPUT_FILES.iter().chain(html.then_some(&"report.html")) {
        let dest = staging.dest().join(name);
        if dest.is_dir() {
            return Err(ReportError::io(&dest, "a folder of that name is in the way; remove or rename it"));
        }
    }
    write_all(staging, meta, runs, charts, None)?;
    if html {
        html::stage(staging, meta, &files::summary_value(meta, runs), runs, charts)?;
    }
    Ok(())
}

/// [`write_report`] with an injected failure before the `fail_at`-th file (tests only).
fn write_outputs_inner(
    dir: &Path,
    meta: &ReportMeta,
    runs: &[RunResult],
    charts: &ChartOptions,
    fail_at: Option<usize>,
) -> Result<atomic::Committed, ReportError> {
    // Refuse early if a destination is in the way (e.g. a folder named summary.json).
    for name in OUTPUT_FILES {
        let dest = dir.join(name);
        if dest.is_dir() {
            return Err(ReportError::io(&dest, "a folder of that name is in the way; remove or rename it"));
        }
    }
    let mut staging = atomic::Staging::new(dir, "run")?;
    write_all(&mut staging, meta, runs, charts, fail_at)?;
    staging.commit()
}

/// Writes every output into `staging`.
fn write_all(
    staging: &mut atomic::Staging,
    meta: &ReportMeta,
    runs: &[RunResult],
    opts: &ChartOptions,
    fail_at: Option<usize>,
) -> Result<(), ReportError> {
    let built = charts::build_all(meta, runs, *opts);
    for (i, name) in OUTPUT_FILES.iter().enumerate() {
        let path = staging.path(name);
        if fail_at == Some(i) {
            return Err(ReportError::io(&staging.dest().join(name), "injected failure"));
        }
        match *name {
            "scenario.toml" => {
                let text = meta.provenance.text.clone().unwrap_or_else(|| {
                    format!("# scenario `{}`: its text was not given to the report writer\n", meta.name)
                });
                staging.write(name, text.as_bytes())?
            }
            "timeseries.csv" => staging.write(name, &files::timeseries_csv(meta, runs))?,
            "decisions.csv" => staging.write(name, &files::decisions_csv(meta, runs))?,
            "summary.csv" => staging.write(name, &files::summary_csv(meta, runs))?,
            "summary.json" => staging.write(name, &files::summary_json(meta, runs))?,
            png => {
                let stem = png.strip_suffix(".png").expect("a chart file");
                let b = built.iter().find(|b| b.name == stem).expect("every chart is built");
                let bytes = chart::render_png(&b.figure).map_err(|e| ReportError::io(&path, e))?;
                staging.write(name, &bytes)?;
            }
        }
    }
    if meta.requests {
        // Streamed: it can hold tens of millions of rows.
        let name = REQUESTS_FILE;
        let path = staging.path(name);
        let dest = staging.dest().join(name);
        let file = std::fs::File::create(&path).map_err(|e| ReportError::io(&dest, e))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
        files::write_requests_csv(&mut w, runs)
            .and_then(|_| std::io::Write::flush(&mut w))
            .map_err(|e| ReportError::io(&dest, e))?;
        staging.add(name);
    }
    Ok(())
}

/// Per-request rows (`run --requests`).
pub const REQUESTS_FILE: &str = "requests.csv";

/// Charts that have nothing to show, with why (for the terminal and the report).
pub fn empty_charts(meta: &ReportMeta, runs: &[RunResult], opts: &ChartOptions) -> Vec<(String, String)> {
    charts::build_all(meta, runs, *opts)
        .into_iter()
        .filter_map(|b| b.empty.map(|why| (format!("{}.png", b.name), why)))
        .collect()
}

/// The summary table for the terminal.
pub fn summary_table(scenario: &Scenario, runs: &[RunResult]) -> String {
    table::render(&ReportMeta::from_scenario(scenario), runs)
}

/// The summary table for the terminal, from the report's view of the run.
pub fn summary_table_meta(meta: &ReportMeta, runs: &[RunResult]) -> String {
    table::render(meta, runs)
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

/// A simulated duration for people: `90s`, `10m`, `1h30m`.
pub fn format_duration(t: crate::time::Time) -> String {
    fmt_duration(crate::time::to_secs_f64(t))
}

/// A duration for people: `90s`, `10m`, `1h30m`.
pub(crate) fn fmt_duration(s: f64) -> String {
    let s = s.round() as u64;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, sec) => format!("{m}m{sec}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m}m"),
    }
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
        let meta = ReportMeta::from_scenario(&scenario);
        for (k, name) in OUTPUT_FILES.iter().enumerate() {
            let err = write_outputs_inner(&out, &meta, &runs, &ChartOptions::default(), Some(k)).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
            let left: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert!(left.is_empty(), "left {left:?}");
        }
        // A failed final rename leaves the previous outputs exactly as they were.
        let written = write_outputs(&out, &scenario, &runs).unwrap();
        let before: Vec<Vec<u8>> = written.iter().map(|p| std::fs::read(p).unwrap()).collect();
        let (_, runs3) = crate::report::testdata::fixture(3);
        for k in 0..OUTPUT_FILES.len() {
            let mut st = atomic::Staging::new(&out, "run").unwrap();
            write_all(&mut st, &meta, &runs3, &ChartOptions::default(), None).unwrap();
            st.fail_rename_at(k);
            assert!(st.commit().is_err());
            let after: Vec<Vec<u8>> = written.iter().map(|p| std::fs::read(p).unwrap()).collect();
            assert!(after == before, "outputs changed after a rename failure at {k}");
            assert_eq!(std::fs::read_dir(&out).unwrap().count(), OUTPUT_FILES.len() + 1, "and the record");
        }
    }
}

#[cfg(test)]
pub(crate) mod testdata;
