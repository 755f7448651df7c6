//! `scalesim run` and `scalesim report` on the terminal: the library's [`scalesim::run`] calls,
//! their files committed, the table printed, notes on stderr.

use super::{CliError, Terminal, commit, note, print_stdout, write_part};
use scalesim::record::RunResult;
use scalesim::run::{self, ReportRequest, RunPlan, RunRequest};
use scalesim::shard::parts::Parts;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Runs the scenario (or, with `--shard I/N`, its shard's jobs into a part directory); with
/// `timings`, prints how long each phase took.
pub fn run(cmd: RunRequest, timings: bool) -> Result<(), CliError> {
    let mut clock = Phases::new(timings);
    let plan = run::plan(&cmd, true, &Terminal)?;
    clock.lap("start-up");
    if let Some(shard) = cmd.shard {
        let part = run::simulate_shard(&plan, shard, &Terminal)?;
        clock.lap("simulation");
        let done = write_part(part, &plan.out_dir);
        clock.lap("writing");
        clock.print();
        return done;
    }
    let runs = run::simulate(&plan, &Terminal)?;
    clock.lap("simulation");
    let done = write_outputs(&plan, &runs, &mut clock);
    clock.print();
    done
}

/// Wall-clock time of each phase of a command (`--timings`), printed on stderr at the end.
struct Phases {
    on: bool,
    start: Instant,
    last: Instant,
    laps: Vec<(&'static str, Duration)>,
}

impl Phases {
    fn new(on: bool) -> Self {
        let now = Instant::now();
        Phases { on, start: now, last: now, laps: Vec::new() }
    }

    /// The phase `name` ended now.
    fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        self.laps.push((name, now - self.last));
        self.last = now;
    }

    fn print(&self) {
        if !self.on {
            return;
        }
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        let parts: Vec<String> = self.laps.iter().map(|(n, d)| format!("{n} {}", ms(*d))).collect();
        eprintln!("timings: {} · total {}", parts.join(" · "), ms(self.last - self.start));
    }
}

/// `scalesim merge` of `run` parts: writes what `run` without `--shard` writes.
pub fn merge(parts: &Parts, out: Option<PathBuf>) -> Result<(), CliError> {
    let (plan, runs) = run::merge(parts, out, &Terminal)?;
    write_outputs(&plan, &runs, &mut Phases::new(false))
}

/// Commits a run's outputs and prints its table: the same code for a run on one machine and
/// for a merge of parts.
fn write_outputs(plan: &RunPlan, runs: &[RunResult], clock: &mut Phases) -> Result<(), CliError> {
    let capacity = run::replica_capacity(&plan.scenario);
    clock.lap("replica capacity");
    let out = run::stage_outputs(plan, runs, capacity)?;
    clock.lap("outputs");
    let written = commit(out.staging)?;
    clock.lap("writing");
    print_stdout(&out.table)?;
    for (file, why) in &out.empty_charts {
        note(format_args!("{file}: {why}"));
    }
    for p in &written {
        note(format_args!("wrote {}", p.display()));
    }
    match out.check_failure {
        Some(m) => Err(CliError::Check(m)),
        None => Ok(()),
    }
}

/// `scalesim report DIR`: report.html from the files of an output folder (of `run`, or of
/// `tune`).
pub fn report(cmd: ReportRequest) -> Result<(), CliError> {
    let (staging, empty) = run::report(&cmd)?;
    let written = commit(staging)?;
    for (file, why) in &empty {
        note(format_args!("{file}: {why}"));
    }
    for p in written {
        note(format_args!("wrote {}", p.display()));
    }
    Ok(())
}
