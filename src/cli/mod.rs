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
mod explain_decision;
mod explain_kpa;
mod export;
mod paths;
mod run;
mod shard;
mod tune;
mod validate;

pub use explain::{ExplainCommand, ExplainFamily};
pub use explain_decision::ExplainDecisionCommand;
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
    /// `scalesim explain decision`.
    ExplainDecision(ExplainDecisionCommand),
    /// `scalesim calibrate`.
    Calibrate(CalibrateCommand),
    /// `scalesim tune`.
    Tune(TuneCommand),
    /// `scalesim completions SHELL`.
    Completions(clap_complete::Shell),
    /// `scalesim man`.
    Man,
    /// `scalesim merge`.
    Merge(MergeCommand),
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
    /// The overhead as the user knows it (`--overhead`), unparsed; `None` fits it.
    pub overhead: Option<String>,
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
pub use shard::MergeCommand;
pub use tune::TuneCommand;

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
    /// `--target`: the Deployment of a manifest written from scratch.
    pub target: Option<String>,
    /// `--namespace` of a manifest written from scratch.
    pub namespace: Option<String>,
    /// `--prometheus`: the address of generated prometheus triggers.
    pub prometheus: Option<String>,
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
    /// `--set key=value` overrides.
    pub overrides: Vec<String>,
    /// Add the oracle baseline when the scenario has no oracle policy (not `--no-oracle`).
    pub oracle: bool,
    /// `--seed`: the base seed, replacing `simulation.seed` (any `u64`, including those a TOML
    /// integer cannot hold).
    pub seed: Option<u64>,
    /// Options for the experiment.
    pub options: RunOptions,
    /// `--allow-large`: run above the cost limits.
    pub allow_large: bool,
    /// Chart options.
    pub charts: ChartArgsCommand,
    /// Also write report.html.
    pub report: bool,
    /// `--check`: exit 3 when a deployable policy misses the SLO.
    pub check: bool,
    /// `--shard I/N`: run only this shard's jobs and write a part directory.
    pub shard: Option<scalesim::shard::Shard>,
}

/// What `scalesim validate` was asked to check.
#[derive(Debug, Clone)]
pub struct ValidateCommand {
    /// Scenario file.
    pub file: PathBuf,
    /// `--set key=value` overrides.
    pub overrides: Vec<String>,
    /// `--allow-large`: do not refuse above the cost limits.
    pub allow_large: bool,
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
    /// `--check`: the run went well, but a policy misses the SLO (what misses it, by how much).
    Check(String),
}

impl CliError {
    /// The process exit code: 2 for bad input, 1 for failures while running, 3 when `--check`
    /// finds a policy that misses the SLO.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Check(_) => 3,
            CliError::Config(_) | CliError::Usage(_) | CliError::Calibrate(_) => 2,
            CliError::Report(ReportError::OverwritesInput { .. }) => 2,
            CliError::Experiment(ExperimentError::UnknownPolicy { .. }) => 2,
            CliError::Experiment(_) | CliError::Report(_) | CliError::Io(_) => 1,
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
            CliError::Check(m) => write!(f, "SLO check failed: {m}"),
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
        Command::ExplainDecision(c) => explain_decision::explain_decision(c),
        Command::Capacity(c) => capacity::capacity(c),
        Command::Recommend(c) => capacity::recommend(c),
        Command::Tune(c) => tune::tune(c),
        Command::Completions(shell) => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut args::Cli::command(), "scalesim", &mut out);
            print_stdout(&String::from_utf8_lossy(&out))
        }
        Command::Man => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_mangen::Man::new(args::Cli::command()).render(&mut out).map_err(CliError::Io)?;
            print_stdout(&String::from_utf8_lossy(&out))
        }
        Command::Merge(c) => shard::merge(c),
    }
}

static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `--quiet`: silences [`note`] lines and the progress bar.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, std::sync::atomic::Ordering::Relaxed);
}

fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// An informational line on stderr (`wrote …`, notes), silenced by `--quiet`; errors and
/// warnings are printed with `eprintln!` and never silenced.
fn note(line: impl fmt::Display) {
    if !quiet() {
        eprintln!("{}", terminal_safe(&line.to_string()));
    }
}

/// Runs `work` while a thread repaints a progress bar on stderr every 100 ms with `paint`
/// (nothing is drawn when stderr is not a terminal). `run` and `tune` share it.
fn with_painted_bar<T>(
    template: &str,
    paint: impl Fn(&indicatif::ProgressBar) + Sync,
    work: impl FnOnce() -> T,
) -> T {
    use std::io::IsTerminal;
    use std::sync::atomic::{AtomicBool, Ordering};
    if quiet() || !std::io::stderr().is_terminal() {
        return work();
    }
    let bar = indicatif::ProgressBar::with_draw_target(Some(1), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let painter = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                paint(&bar);
                std::thread::park_timeout(std::time::Duration::from_millis(100));
            }
        });
        let out = work();
        stop.store(true, Ordering::Relaxed);
        painter.thread().unpark();
        bar.finish_and_clear();
        out
    })
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error.
fn print_stdout(text: &str) -> Result<(), CliError> {
    let text = terminal_safe(text);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Io(e)),
        _ => Ok(()),
    }
}

/// Applies the cost bounds ([`scalesim::budget`]) to an estimate: a warning line on stderr, or
/// a refusal (exit 2) unless `allow_large`.
fn check_budget(e: &scalesim::budget::Estimate, allow_large: bool) -> Result<(), CliError> {
    check_budget_plan(e, allow_large, None)
}

/// [`check_budget`], the messages saying first what is planned (`plan`), when given.
fn check_budget_plan(
    e: &scalesim::budget::Estimate,
    allow_large: bool,
    plan: Option<&str>,
) -> Result<(), CliError> {
    use scalesim::budget::Verdict;
    match e.check_plan(plan) {
        Verdict::Ok => Ok(()),
        Verdict::Warn(m) => {
            eprintln!("{}", terminal_safe(&m));
            Ok(())
        }
        Verdict::Refuse(_) if allow_large => {
            eprintln!(
                "warning: --allow-large: {}{}",
                plan.map(|p| format!("{p}: ")).unwrap_or_default(),
                e.describe()
            );
            Ok(())
        }
        Verdict::Refuse(m) => Err(CliError::Usage(m)),
    }
}

/// Writes one file the user named, all or nothing ([`scalesim::report::atomic::Staging::file`]
/// in its folder): on failure the previous file, if any, is left as it was (exit 1); a file
/// among `inputs` (the files the command read) is never replaced (exit 2).
fn write_file_atomic(
    path: &std::path::Path,
    bytes: &[u8],
    inputs: &[&std::path::Path],
) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| CliError::Usage(format!("{}: expected a file name", path.display())))?
        .to_string_lossy()
        .into_owned();
    // The commit refuses to replace an input (checked there, once).
    let mut staging = scalesim::report::atomic::Staging::file(dir)?;
    for i in inputs {
        staging.protect(i);
    }
    staging.write(&name, bytes)?;
    commit(staging)?;
    Ok(())
}

/// Commits `staging` ([`scalesim::report::atomic::Staging::commit`]) and says on stderr which
/// files of the command's previous write it removed and which other files it found in the
/// folder. Returns the paths written.
fn commit(staging: scalesim::report::atomic::Staging) -> Result<Vec<PathBuf>, CliError> {
    let dir = staging.dest().to_path_buf();
    let done = staging.commit()?;
    for p in &done.removed {
        note(format_args!(
            "removed {} (an output of an earlier write into this folder that this one replaces and does not produce)",
            p.display()
        ));
    }
    if !done.unknown.is_empty() {
        const SHOWN: usize = 5;
        let names: Vec<String> = done
            .unknown
            .iter()
            .take(SHOWN)
            .map(|p| {
                p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
            })
            .collect();
        let more = done.unknown.len().saturating_sub(SHOWN);
        warn(format_args!(
            "{} also holds {} that scalesim did not write there: {}{}; left as {}; give each run a folder of its own (--out) so its outputs are not mixed with other files",
            dir.display(),
            if done.unknown.len() == 1 {
                "1 file".to_string()
            } else {
                format!("{} files", done.unknown.len())
            },
            names.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() },
            if done.unknown.len() == 1 { "it is" } else { "they are" },
        ));
    }
    Ok(done.written)
}

/// A warning on stderr (`warning: …`), control characters made visible
/// ([`terminal_safe`]); not silenced by `--quiet`.
fn warn(line: impl fmt::Display) {
    eprintln!("warning: {}", terminal_safe(&line.to_string()));
}

/// Text from user input (policy and scenario names, paths, messages quoting a file) made safe
/// for a terminal: every control character other than newline and tab — escape sequences that
/// recolour, move the cursor or retitle the window, carriage returns that overwrite a line — is
/// shown as a visible escape (`\u{1b}`). The one filter for everything scalesim prints.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char =
        |c: char| (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}');
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Reads an input file through the shared reader ([`scalesim::input::read_text`]), checking the
/// nesting of YAML and JSON cases; a failure is bad input (exit 2).
fn read_input(path: &std::path::Path, kind: scalesim::input::InputKind) -> Result<String, CliError> {
    let text = scalesim::input::read_text(path, kind).map_err(|e| CliError::Usage(e.to_string()))?;
    if kind == scalesim::input::InputKind::ExplainCase
        && let Err((line, m)) = scalesim::input::check_nesting(&text)
    {
        return Err(CliError::Usage(format!("{}:{line}: the case file {m}", path.display())));
    }
    Ok(text)
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
