//! What every command of the library shares: the error a command returns ([`Error`]), how it
//! tells its caller what it is doing while it works ([`Feedback`]: warnings, notes, progress),
//! and the cost gate every command passes before simulating ([`allow`]).
//!
//! Each subcommand is one call in the module that owns its domain — [`crate::run`] for `run`
//! and `report`, [`crate::tune::command`] for `tune`, [`crate::capacity::command`] for
//! `capacity` and `recommend`, [`crate::shard::parts`] for `merge` — taking a typed request and
//! returning data (and, for commands that write, a [`crate::report::atomic::Staging`] holding
//! the files, committed by the caller). The command line maps its arguments to those requests,
//! implements [`Feedback`] on the terminal, and maps [`Error`] to exit codes; a library user can
//! drive the same commands with [`Silent`] or [`Collect`].

use crate::budget::{Estimate, Verdict};
use crate::calibrate::CalibrateError;
use crate::config::ConfigError;
use crate::experiment::{ExperimentError, Progress};
use crate::report::ReportError;
use crate::tune::TuneProgress;
use std::fmt;
use std::sync::Mutex;

/// Why a command failed.
#[derive(Debug)]
pub enum Error {
    /// The scenario file (or an override) is wrong (boxed: a config error carries its file's
    /// excerpt, and a command's `Result` should stay small).
    Config(Box<ConfigError>),
    /// The request asks for something that does not exist or cannot be done (bad input).
    Invalid(String),
    /// The experiment could not run.
    Experiment(ExperimentError),
    /// Outputs could not be written.
    Report(ReportError),
    /// Writing to the terminal failed.
    Io(std::io::Error),
    /// The Locust file cannot be calibrated from.
    Calibrate(CalibrateError),
    /// `--check`: the run went well, but a policy misses the SLO (what misses it, by how much).
    Check(String),
}

impl Error {
    /// Whether the failure is the input's (the request, a file it names) rather than one while
    /// running or writing.
    pub fn is_bad_input(&self) -> bool {
        match self {
            Error::Config(_) | Error::Invalid(_) | Error::Calibrate(_) => true,
            Error::Report(ReportError::OverwritesInput { .. }) => true,
            Error::Experiment(ExperimentError::UnknownPolicy { .. }) => true,
            Error::Experiment(_) | Error::Report(_) | Error::Io(_) | Error::Check(_) => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::Invalid(m) => f.write_str(m),
            Error::Experiment(e) => e.fmt(f),
            Error::Report(e) => e.fmt(f),
            Error::Io(e) => write!(f, "cannot write to the terminal: {e}"),
            Error::Calibrate(e) => e.fmt(f),
            Error::Check(m) => write!(f, "SLO check failed: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(Box::new(e))
    }
}

impl From<ExperimentError> for Error {
    fn from(e: ExperimentError) -> Self {
        Error::Experiment(e)
    }
}

impl From<ReportError> for Error {
    fn from(e: ReportError) -> Self {
        Error::Report(e)
    }
}

impl From<CalibrateError> for Error {
    fn from(e: CalibrateError) -> Self {
        Error::Calibrate(e)
    }
}

/// Bad input, as an [`Error::Invalid`].
pub fn invalid(m: impl Into<String>) -> Error {
    Error::Invalid(m.into())
}

/// What a command is busy with, for a progress display.
#[derive(Debug, Clone, Copy)]
pub enum Phase<'a> {
    /// Simulating runs: `progress.done` grows towards `total` simulated microseconds.
    Simulating {
        /// Simulated microseconds of all the runs.
        total: u64,
        /// Shared counter the runs advance.
        progress: &'a Progress,
    },
    /// A tune search over `candidates` candidates.
    Tuning {
        /// Candidates checked.
        candidates: usize,
        /// Shared counters the search advances.
        progress: &'a TuneProgress,
    },
    /// Work with no measure of its own (a spinner), labelled.
    Working(&'a str),
}

/// How a command tells its caller what it is doing. The command line prints warnings and notes
/// on stderr and paints progress bars; [`Silent`] drops everything; [`Collect`] keeps the lines.
pub trait Feedback: Sync {
    /// A line the user must see (a warning, already worded as one), never silenced.
    fn warn(&self, line: &str);
    /// An informational line (`note: …`), which a quiet caller may drop.
    fn note(&self, line: &str);
    /// Runs `work` while showing `phase`; the default runs it with no display.
    fn during(&self, phase: Phase<'_>, work: &mut dyn FnMut()) {
        let _ = phase;
        work();
    }
}

/// Runs `work` under [`Feedback::during`] and returns what it returns.
pub fn during<T>(fb: &dyn Feedback, phase: Phase<'_>, work: impl FnOnce() -> T) -> T {
    let mut work = Some(work);
    let mut out = None;
    fb.during(phase, &mut || {
        if let Some(w) = work.take() {
            out = Some(w());
        }
    });
    match out {
        Some(v) => v,
        // A `during` that did not call its work: run it here.
        None => (work.take().expect("work runs once"))(),
    }
}

/// Feedback that drops every line and shows no progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Feedback for Silent {
    fn warn(&self, _: &str) {}
    fn note(&self, _: &str) {}
}

/// Feedback that keeps every line, in order (`warn` and `note` alike), for a caller that shows
/// them later or a test that reads them.
#[derive(Debug, Default)]
pub struct Collect {
    lines: Mutex<Vec<String>>,
}

impl Collect {
    /// The lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Feedback for Collect {
    fn warn(&self, line: &str) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(line.to_string());
        }
    }
    fn note(&self, line: &str) {
        self.warn(line);
    }
}

/// The cost gate ([`crate::budget`]) every command passes before simulating: a warning line,
/// or a refusal (bad input) unless `allow_large`; the messages say first what is planned
/// (`plan`), when given.
pub fn allow(fb: &dyn Feedback, e: &Estimate, allow_large: bool, plan: Option<&str>) -> Result<(), Error> {
    match e.check_plan(plan) {
        Verdict::Ok => Ok(()),
        Verdict::Warn(m) => {
            fb.warn(&m);
            Ok(())
        }
        Verdict::Refuse(_) if allow_large => {
            fb.warn(&format!(
                "warning: --allow-large: {}{}",
                plan.map(|p| format!("{p}: ")).unwrap_or_default(),
                e.describe()
            ));
            Ok(())
        }
        Verdict::Refuse(m) => Err(Error::Invalid(m)),
    }
}

/// Stages one file the user named, to be written all or nothing
/// ([`crate::report::atomic::Staging::file`] in its folder): a file among `inputs` (the files
/// the command read) is never replaced.
pub fn stage_file(
    path: &std::path::Path,
    bytes: &[u8],
    inputs: &[&std::path::Path],
) -> Result<crate::report::atomic::Staging, Error> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| invalid(format!("{}: expected a file name", path.display())))?
        .to_string_lossy()
        .into_owned();
    // The commit refuses to replace an input (checked there, once).
    let mut staging = crate::report::atomic::Staging::file(dir)?;
    for i in inputs {
        staging.protect(i);
    }
    staging.write(&name, bytes)?;
    Ok(staging)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn during_returns_the_work_and_collect_keeps_order() {
        let c = Collect::default();
        c.warn("a");
        c.note("b");
        assert_eq!(c.lines(), ["a", "b"]);
        assert_eq!(during(&c, Phase::Working("x"), || 7), 7);
        // A feedback whose `during` forgets to run the work still gets it run.
        struct Lazy;
        impl Feedback for Lazy {
            fn warn(&self, _: &str) {}
            fn note(&self, _: &str) {}
            fn during(&self, _: Phase<'_>, _: &mut dyn FnMut()) {}
        }
        assert_eq!(during(&Lazy, Phase::Working("x"), || 8), 8);
    }

    #[test]
    fn bad_input_is_the_requests() {
        assert!(invalid("x").is_bad_input());
        assert!(Error::Check("m".into()).to_string().starts_with("SLO check failed"));
        assert!(!Error::Check("m".into()).is_bad_input());
    }
}
