//! `scalesim run`: load, run the experiment with a progress bar, write outputs, print the table.

use super::{CliError, RunCommand, check_budget, check_policy_names, default_out_dir, print_stdout};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use scalesim::experiment::{self, Progress};
use scalesim::{budget, config, report};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Runs the scenario.
pub fn run(cmd: RunCommand) -> Result<(), CliError> {
    let (mut scenario, warnings) = config::load_with_warnings(&cmd.file, &cmd.overrides)?;
    for w in &warnings {
        eprintln!("{w}");
    }
    if let Some(seed) = cmd.seed {
        scenario.seed = seed;
    }
    check_policy_names(&scenario, &cmd.options.policies)?;
    if cmd.options.seeds > budget::MAX_SEEDS && !cmd.allow_large {
        return Err(CliError::Usage(format!(
            "--seeds {}: more than {} replications; pass --allow-large to run them anyway",
            cmd.options.seeds,
            budget::MAX_SEEDS
        )));
    }
    let selected: Vec<_> = scenario
        .policies
        .iter()
        .filter(|p| cmd.options.policies.is_empty() || cmd.options.policies.contains(&p.name))
        .collect();
    check_budget(&budget::estimate(&scenario, &selected, cmd.options.seeds), cmd.allow_large)?;
    let out_dir = cmd.out_dir.clone().unwrap_or_else(|| default_out_dir(&scenario.name));
    let progress = Progress::default();
    let total = experiment::total_work(&scenario, &cmd.options);
    let runs = with_progress_bar(total, &progress, || experiment::run(&scenario, &cmd.options, &progress))?;
    let written = report::write_outputs(&out_dir, &scenario, &runs)?;
    print_stdout(&report::summary_table(&scenario, &runs))?;
    for p in &written {
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

/// Runs `work` while a thread shows `progress` against `total` on stderr (hidden when stderr is
/// not a terminal).
fn with_progress_bar<T>(total: u64, progress: &Progress, work: impl FnOnce() -> T) -> T {
    if !std::io::stderr().is_terminal() {
        return work();
    }
    let bar = ProgressBar::with_draw_target(Some(total.max(1)), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} simulating [{elapsed_precise}] {wide_bar} {percent:>3}% eta {eta}",
    ) {
        bar.set_style(style);
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let painter = s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                bar.set_position(progress.done.load(Ordering::Relaxed).min(total));
                std::thread::park_timeout(Duration::from_millis(100));
            }
        });
        let out = work();
        stop.store(true, Ordering::Relaxed);
        painter.thread().unpark();
        bar.finish_and_clear();
        out
    })
}
