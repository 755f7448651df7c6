//! `scalesim run`: load, add the oracle baseline, run the experiment with a progress bar, write
//! outputs, print the table.
//!
//! The oracle baseline ([`scalesim::oracle::with_baseline`]) runs as one more policy, last, unless
//! the scenario already has an oracle policy or `--no-oracle` is given; it is run even when
//! `--policy` selects others, since every policy's `cost_above_oracle_pct` is measured against it.
//! When the oracle cannot be built (one replica misses the SLO at any load), the run goes on
//! without it and says why on stderr.

use super::{CliError, RunCommand, check_budget, check_policy_names, default_out_dir, print_stdout};
use scalesim::experiment::{self, Progress};
use scalesim::{budget, config, oracle, report};

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
    // The cost bound, before the oracle is built (it plans from the whole run's arrivals); the
    // oracle baseline is one more run of about the same cost as the others.
    let selected: Vec<_> = scenario
        .policies
        .iter()
        .filter(|p| cmd.options.policies.is_empty() || cmd.options.policies.contains(&p.name))
        .collect();
    check_budget(&budget::estimate(&scenario, &selected, cmd.options.seeds), cmd.allow_large)?;
    let mut options = cmd.options.clone();
    let scenario = if cmd.oracle {
        match oracle::with_baseline(&scenario) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("note: no oracle baseline: {e}");
                scenario
            }
        }
    } else {
        scenario
    };
    if let Some(o) = scenario.oracle()
        && !options.policies.is_empty()
        && !options.policies.contains(&o.name)
    {
        options.policies.push(o.name.clone());
    }
    let out_dir = cmd.out_dir.clone().unwrap_or_else(|| default_out_dir(&scenario.name));
    let progress = Progress::default();
    let total = experiment::total_work(&scenario, &options);
    let runs = with_progress_bar(total, &progress, || experiment::run(&scenario, &options, &progress))?;
    let written = report::write_outputs(&out_dir, &scenario, &runs)?;
    print_stdout(&report::summary_table(&scenario, &runs))?;
    for p in &written {
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

/// Runs `work` while a bar on stderr shows `progress` against `total`.
fn with_progress_bar<T>(total: u64, progress: &Progress, work: impl FnOnce() -> T) -> T {
    super::with_painted_bar(
        "{spinner} simulating [{elapsed_precise}] {wide_bar} {percent:>3}% eta {eta}",
        |bar| {
            bar.set_length(total.max(1));
            bar.set_position(progress.done.load(std::sync::atomic::Ordering::Relaxed).min(total));
        },
        work,
    )
}
