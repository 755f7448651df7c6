//! The command-line front end: clap's arguments mapped to the library's requests, one
//! handler per subcommand that calls the library and prints, and the mapping of failures to
//! exit codes.
//!
//! clap's types stay in [`args`]; every subcommand is a library call (`scalesim::run`,
//! `scalesim::tune::command`, `scalesim::capacity::command`, `scalesim::shard::parts`, …) that
//! returns data and staged files; the handlers commit the files, print, and implement the
//! library's [`Feedback`] on the terminal ([`Terminal`]: warnings and notes on stderr, progress
//! bars). No handler file imports another: what they share is here.

pub mod args;
mod calibrate;
mod capacity;
mod compare;
mod explain;
mod explain_decision;
mod explain_kpa;
mod export;
mod run;
mod tune;
mod validate;

pub use explain::{ExplainCommand, ExplainFamily};
pub use explain_decision::ExplainDecisionCommand;
use scalesim::command::{Feedback, Phase};
use scalesim::run::{ReportRequest, RunRequest};
use std::fmt;
use std::io::Write;
use std::path::PathBuf;

/// A parsed, typed command.
#[derive(Debug, Clone)]
pub enum Command {
    /// `scalesim run`, and whether to print how long each phase took (`--timings`).
    Run(RunRequest, bool),
    /// `scalesim report`.
    Report(ReportRequest),
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
    Recommend(scalesim::capacity::command::RecommendRequest),
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

/// What `scalesim calibrate` was asked to do: the fit, where to write it, how to print it.
#[derive(Debug, Clone)]
pub struct CalibrateCommand {
    /// The fit.
    pub request: scalesim::calibrate::command::CalibrateRequest,
    /// Where to write the `[service]` section; `None` prints it.
    pub out: Option<PathBuf>,
    /// One JSON object instead of the table.
    pub json: bool,
}

/// What `scalesim explain kpa` was asked to replay.
#[derive(Debug, Clone)]
pub struct ExplainKpaCommand {
    /// The case file (JSON or YAML).
    pub case: PathBuf,
    /// Print JSON instead of one line per tick.
    pub json: bool,
}

pub use capacity::CapacityCommand;
pub use export::ExportCommand;
pub use tune::TuneCommand;

/// What `scalesim merge` was asked to do.
#[derive(Debug, Clone)]
pub struct MergeCommand {
    /// The part directories, in any order.
    pub parts: Vec<PathBuf>,
    /// Output folder; `None` for the command's own default.
    pub out: Option<PathBuf>,
}

/// What `scalesim compare` was asked to do: the comparison, and how to print it.
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

/// Why a command failed: the library's error ([`scalesim::command::Error`]).
pub type CliError = scalesim::command::Error;

/// The process exit code of a failure: 2 for bad input, 1 for failures while running, 3 when
/// `--check` finds a policy that misses the SLO.
pub fn exit_code(e: &CliError) -> u8 {
    match e {
        CliError::Check(_) => 3,
        _ if e.is_bad_input() => 2,
        _ => 1,
    }
}

/// Runs a command.
pub fn execute(cmd: Command) -> Result<(), CliError> {
    let threads = match &cmd {
        Command::Run(c, _) => c.options.threads,
        Command::Tune(c) => c.request.threads,
        _ => None,
    };
    if let Some(n) = threads {
        // `--threads N` bounds every parallel part of the command, not only its simulations
        // (the replica-capacity estimate, the oracle's demand curves run in the global pool).
        // Only the first pool built takes effect; nothing parallel has run yet.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global();
    }
    match cmd {
        Command::Run(c, timings) => run::run(c, timings),
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
        Command::Merge(c) => {
            let parts = scalesim::shard::parts::read(&c.parts)?;
            match parts.command.as_str() {
                "run" => run::merge(&parts, c.out),
                "tune" => tune::merge(&parts, c.out),
                _ => Err(parts.not_mergeable()),
            }
        }
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

/// Writes one file the user named, all or nothing ([`scalesim::report::atomic::Staging::file`]
/// in its folder): on failure the previous file, if any, is left as it was (exit 1); a file
/// among `inputs` (the files the command read) is never replaced (exit 2).
fn write_file_atomic(
    path: &std::path::Path,
    bytes: &[u8],
    inputs: &[&std::path::Path],
) -> Result<(), CliError> {
    commit(scalesim::command::stage_file(path, bytes, inputs)?)?;
    Ok(())
}

/// Commits a shard's part directory and says what it holds.
fn write_part(part: scalesim::shard::parts::Part, dir: &std::path::Path) -> Result<(), CliError> {
    let (staging, said) = part.stage(dir)?;
    let written = commit(staging)?;
    note(said);
    for p in written {
        note(format_args!("wrote {}", p.display()));
    }
    Ok(())
}

/// The terminal as the library's [`Feedback`]: warnings on stderr (never silenced), notes on
/// stderr (silenced by `--quiet`), progress bars while simulating or tuning and a spinner for
/// other long work (only when stderr is a terminal).
struct Terminal;

impl Feedback for Terminal {
    fn warn(&self, line: &str) {
        eprintln!("{}", terminal_safe(line));
    }

    fn note(&self, line: &str) {
        note(line);
    }

    fn during(&self, phase: Phase<'_>, work: &mut dyn FnMut()) {
        use std::sync::atomic::Ordering::Relaxed;
        match phase {
            Phase::Simulating { total, progress } => with_painted_bar(
                "{spinner} simulating [{elapsed_precise}] {wide_bar} {percent:>3}% eta {eta}",
                |bar| {
                    bar.set_length(total.max(1));
                    bar.set_position(progress.done.load(Relaxed).min(total));
                },
                work,
            ),
            Phase::Tuning { candidates, progress } => with_painted_bar(
                "{spinner} tuning [{elapsed_precise}] {wide_bar} {msg} eta {eta}",
                |bar| {
                    let total = progress.total.load(Relaxed).max(1);
                    bar.set_length(total);
                    bar.set_position(progress.done.load(Relaxed).min(total));
                    bar.set_message(format!(
                        "{candidates} candidates, runs {}/{}",
                        progress.jobs_done.load(Relaxed),
                        progress.jobs_total.load(Relaxed)
                    ));
                },
                work,
            ),
            Phase::Working(what) => with_spinner(what, work),
        }
    }
}

/// Runs `work` with a spinner labelled `what` on stderr (only when stderr is a terminal).
fn with_spinner<T>(what: &str, work: impl FnOnce() -> T) -> T {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(what.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    let out = work();
    bar.finish_and_clear();
    out
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
