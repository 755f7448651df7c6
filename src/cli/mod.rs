//! The command-line front end: typed commands, one handler per subcommand, and the mapping of
//! failures to exit codes.
//!
//! clap's types stay in [`args`]; handlers take plain structs and call the library
//! (`config::load`, `experiment::run`, `report::write_outputs`), so the library never sees the
//! command line.

// `CliError` wraps a `ConfigError` by value; it exists once per failed command.
#![allow(clippy::result_large_err)]

pub mod args;
mod calibrate;
mod capacity;
mod compare;
mod explain;
mod explain_kpa;
mod export;
mod run;
mod validate;

pub use explain::{ExplainCommand, ExplainFamily};
use scalesim::config::ConfigError;
use scalesim::experiment::{ExperimentError, RunOptions};
use scalesim::report::ReportError;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;

/// A parsed, typed command.
#[derive(Debug, Clone)]
pub enum Command {
    /// `scalesim run`.
    Run(RunCommand),
    /// `scalesim report`.
    Report(ReportCommand),
    /// `scalesim compare`.
    Compare(CompareCommand),
    /// `scalesim validate`.
    Validate(ValidateCommand),
    /// `scalesim reference`.
    Reference,
    /// `scalesim export`.
    Export(ExportCommand),
    /// `scalesim capacity`.
    Capacity(capacity::CapacityCommand),
    /// `scalesim recommend`.
    Recommend(capacity::RecommendCommand),
    /// `scalesim explain hpa`.
    Explain(ExplainCommand),
    /// `scalesim explain kpa`.
    ExplainKpa(ExplainKpaCommand),
    /// `scalesim calibrate`.
    Calibrate(CalibrateCommand),
}

/// What `scalesim calibrate` was asked to do.
#[derive(Debug, Clone)]
pub struct CalibrateCommand {
    /// The Locust `*_stats_history.csv`.
    pub locust: PathBuf,
    /// Where to write the `[service]` section; `None` prints it.
    pub out: Option<PathBuf>,
    /// One JSON object instead of the table.
    pub json: bool,
    /// Seconds dropped at the start of each step; `None` for the default.
    pub ramp_s: Option<f64>,
}

/// What `scalesim explain kpa` was asked to replay.
#[derive(Debug, Clone)]
pub struct ExplainKpaCommand {
    /// The case file (JSON or YAML).
    pub case: PathBuf,
    /// Print JSON instead of one line per tick.
    pub json: bool,
}

pub use capacity::{CapacityCommand, RecommendCommand};

/// What `scalesim export` was asked to write.
#[derive(Debug, Clone)]
pub struct ExportCommand {
    /// Scenario file.
    pub file: PathBuf,
    /// The policy to export.
    pub policy: String,
    /// Output file; `None` for standard output.
    pub out: Option<PathBuf>,
    /// `--set key=value` overrides.
    pub overrides: Vec<String>,
}

/// Chart options as given on the command line (the window is parsed against the scenario's
/// clock once it is known).
#[derive(Debug, Clone, Default)]
pub struct ChartArgsCommand {
    /// `--window START..END`, unparsed.
    pub window: Option<String>,
    /// `--charts`.
    pub mode: scalesim::report::ChartsMode,
}

/// What `scalesim report` was asked to do.
#[derive(Debug, Clone)]
pub struct ReportCommand {
    /// The output folder of a run.
    pub dir: PathBuf,
    /// Where to write (default: `dir`).
    pub out: Option<PathBuf>,
    /// Chart options.
    pub charts: ChartArgsCommand,
}

/// What `scalesim compare` was asked to do.
#[derive(Debug, Clone)]
pub struct CompareCommand {
    /// Baseline output folder.
    pub base: PathBuf,
    /// The other output folder.
    pub other: PathBuf,
    /// JSON instead of the table.
    pub json: bool,
    /// Where to write compare.json and compare.png.
    pub out: Option<PathBuf>,
}

/// What `scalesim run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunCommand {
    /// Scenario file.
    pub file: PathBuf,
    /// Output folder; `None` for `output/<scenario name>`.
    pub out_dir: Option<PathBuf>,
    /// `--set key=value` overrides (with `--seed` last, as `simulation.seed=N`).
    pub overrides: Vec<String>,
    /// Options for the experiment.
    pub options: RunOptions,
    /// Chart options.
    pub charts: ChartArgsCommand,
    /// Also write report.html.
    pub report: bool,
}

/// What `scalesim validate` was asked to check.
#[derive(Debug, Clone)]
pub struct ValidateCommand {
    /// Scenario file.
    pub file: PathBuf,
    /// `--set key=value` overrides.
    pub overrides: Vec<String>,
}

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The scenario file (or an override) is wrong.
    Config(ConfigError),
    /// The command line asks for something that does not exist.
    Usage(String),
    /// The experiment could not run.
    Experiment(ExperimentError),
    /// Outputs could not be written.
    Report(ReportError),
    /// Writing to the terminal failed.
    Io(std::io::Error),
    /// The Locust file cannot be calibrated from.
    Calibrate(scalesim::calibrate::CalibrateError),
    /// A file could not be written.
    Write(PathBuf, std::io::Error),
}

impl CliError {
    /// The process exit code: 2 for bad input, 1 for failures while running.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) | CliError::Usage(_) | CliError::Calibrate(_) => 2,
            CliError::Experiment(ExperimentError::UnknownPolicy { .. }) => 2,
            CliError::Experiment(_) | CliError::Report(_) | CliError::Io(_) | CliError::Write(..) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Config(e) => e.fmt(f),
            CliError::Usage(m) => f.write_str(m),
            CliError::Experiment(e) => e.fmt(f),
            CliError::Report(e) => e.fmt(f),
            CliError::Io(e) => write!(f, "cannot write to the terminal: {e}"),
            CliError::Calibrate(e) => e.fmt(f),
            CliError::Write(p, e) => write!(f, "cannot write {}: {e}", p.display()),
        }
    }
}

impl std::error::Error for CliError {}

impl From<ConfigError> for CliError {
    fn from(e: ConfigError) -> Self {
        CliError::Config(e)
    }
}

impl From<ExperimentError> for CliError {
    fn from(e: ExperimentError) -> Self {
        CliError::Experiment(e)
    }
}

impl From<ReportError> for CliError {
    fn from(e: ReportError) -> Self {
        CliError::Report(e)
    }
}

/// Runs a command.
pub fn execute(cmd: Command) -> Result<(), CliError> {
    match cmd {
        Command::Run(c) => run::run(c),
        Command::Report(c) => run::report(c),
        Command::Compare(c) => compare::compare(c),
        Command::Validate(c) => validate::validate(c),
        Command::Reference => print_stdout(&scalesim::config::reference_markdown()),
        Command::Export(c) => export::export(c),
        Command::Calibrate(c) => calibrate::calibrate(c),
        Command::Explain(c) => explain::explain(c),
        Command::ExplainKpa(c) => explain_kpa::explain_kpa(c),
        Command::Capacity(c) => capacity::capacity(c),
        Command::Recommend(c) => capacity::recommend(c),
    }
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error.
fn print_stdout(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Io(e)),
        _ => Ok(()),
    }
}

/// The default output folder of a scenario: `output/<name>`, with a slug of the overrides
/// (`output/quickstart+traffic.scale=2`) so that a what-if never overwrites its baseline.
fn default_out_dir(name: &str, overrides: &[String]) -> PathBuf {
    PathBuf::from("output").join(scalesim::report::meta::output_slug(name, overrides))
}

/// Checks `--policy` names against the scenario, suggesting the closest.
fn check_policy_names(scenario: &scalesim::scenario::Scenario, wanted: &[String]) -> Result<(), CliError> {
    let known: Vec<&str> = scenario.policies.iter().map(|p| p.name.as_str()).collect();
    for w in wanted {
        if !known.contains(&w.as_str()) {
            let mut m = format!("--policy {w}: no policy named `{w}` in the scenario");
            if let Some(s) = scalesim::config::error::suggest(w, known.iter().copied()) {
                m.push_str(&format!("; did you mean `{s}`?"));
            }
            m.push_str(&format!(" (policies: {})", known.join(", ")));
            return Err(CliError::Usage(m));
        }
    }
    Ok(())
}
