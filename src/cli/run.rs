//! `scalesim run`: load, run the experiment with a progress bar, write outputs, print the table;
//! and `scalesim report`: report.html (and the charts) again from an output folder.

use super::{CliError, ReportCommand, RunCommand, check_policy_names, default_out_dir, print_stdout};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use scalesim::capacity::{self, CapacitySlo, StepTest};
use scalesim::experiment::{self, Progress};
use scalesim::report::{self, ChartOptions, Provenance, ReplicaCapacity, ReportMeta};
use scalesim::scenario::Scenario;
use scalesim::{config, report::sha256};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Runs the scenario.
pub fn run(cmd: RunCommand) -> Result<(), CliError> {
    let scenario = config::load(&cmd.file, &cmd.overrides)?;
    check_policy_names(&scenario, &cmd.options.policies)?;
    let charts = chart_options(&cmd.charts, &scenario.clock, scalesim::time::to_secs_f64(scenario.duration))?;
    let out_dir = cmd.out_dir.clone().unwrap_or_else(|| default_out_dir(&scenario.name, &cmd.overrides));
    let progress = Progress::default();
    let total = experiment::total_work(&scenario, &cmd.options);
    let runs = with_progress_bar(total, &progress, || experiment::run(&scenario, &cmd.options, &progress))?;
    let mut meta = ReportMeta::from_scenario(&scenario);
    meta.provenance = provenance(&cmd.file, &cmd.overrides);
    meta.capacity = replica_capacity(&scenario);
    let mut written = report::write_report(&out_dir, &meta, &runs, &charts)?;
    if cmd.report {
        written.push(report::html::write(&out_dir, &meta, &runs, &charts)?);
    }
    print_stdout(&report::summary_table_meta(&meta, &runs))?;
    for (file, why) in report::empty_charts(&meta, &runs, &charts) {
        eprintln!("{file}: {why}");
    }
    for p in &written {
        eprintln!("wrote {}", p.display());
    }
    Ok(())
}

/// `scalesim report DIR`: report.html from the files of an output folder.
pub fn report(cmd: ReportCommand) -> Result<(), CliError> {
    let loaded = report::read::read_dir(&cmd.dir).map_err(CliError::Usage)?;
    let charts = chart_options(&cmd.charts, &loaded.meta.clock, loaded.meta.duration_s)?;
    let out = cmd.out.clone().unwrap_or_else(|| cmd.dir.clone());
    let path = report::html::write_with_summary(&out, &loaded.meta, &loaded.summary, &loaded.runs, &charts)?;
    for (file, why) in report::empty_charts(&loaded.meta, &loaded.runs, &charts) {
        eprintln!("{file}: {why}");
    }
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn chart_options(
    args: &super::ChartArgsCommand,
    clock: &scalesim::time::Clock,
    duration_s: f64,
) -> Result<ChartOptions, CliError> {
    let window = match &args.window {
        Some(w) => Some(
            report::charts::parse_window(w, clock, duration_s)
                .map_err(|e| CliError::Usage(format!("--window {e}")))?,
        ),
        None => None,
    };
    Ok(ChartOptions { window, mode: args.mode })
}

/// Where the scenario came from: path, content hash, overrides and the text as run.
fn provenance(file: &std::path::Path, overrides: &[String]) -> Provenance {
    let bytes = std::fs::read(file).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let as_run =
        if overrides.is_empty() { Some(text) } else { config::apply_overrides_text(&text, overrides).ok() };
    Provenance {
        path: Some(file.display().to_string()),
        sha256: Some(sha256::hex(&bytes)),
        overrides: overrides.to_vec(),
        text: as_run,
    }
}

/// One replica's capacity within the scenario's SLO (p99 < 500 ms and 1 % errors without one),
/// from the same simulated step test as `scalesim capacity` (open loop, seed 1): about
/// 15 × 120 s of one replica: measured at 0.01 s of CPU for quickstart, 0.06 s for llm-inference.
fn replica_capacity(scenario: &Scenario) -> Option<ReplicaCapacity> {
    let mut slo = CapacitySlo::default();
    if let Some(s) = &scenario.slo {
        if let Some((p, b)) = s.latency
            && capacity::SLO_PERCENTILES.contains(&p)
        {
            slo.latency = Some((p, b));
        }
        if let Some(e) = s.error_rate {
            slo.max_error_rate = e;
        }
    }
    let test = StepTest::for_service(&scenario.service, None);
    let result = capacity::run_step_test(&scenario.service, &test, 1);
    let answer = capacity::capacity(&result, &slo);
    let rps = answer.max_rps_within_slo.filter(|r| *r > 0.0)?;
    Some(ReplicaCapacity { rps, method: format!("step test, {}", slo.describe()) })
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
