//! Cost bounds: the work and memory a command will take, estimated before it runs.
//!
//! A few characters of input can ask for years of computing (`interval = "1us"`, a rate of
//! 1e12 req/s, four billion replicas, a hundred thousand seeds). [`estimate`] counts what a run
//! of a scenario will do — requests, 1 s metric snapshots, policy decisions (each looking at
//! every replica), recording intervals — over every policy × seed, and the memory its results
//! hold until they are written (one row per recording interval and per decision, plus the
//! replicas). [`Estimate::check`] compares both with documented limits:
//!
//! | | warn above | refuse above (without `--allow-large`) |
//! |---|---|---|
//! | work (simulated events) | [`WORK_WARN`] (about a minute on one core) | [`WORK_LIMIT`] (about an hour) |
//! | memory | [`MEMORY_WARN`] (512 MiB) | [`MEMORY_LIMIT`] (4 GiB) |
//!
//! The estimate is deliberately simple and errs on the large side (replicas count at the
//! policy's maximum); its figures are printed with the warning or the refusal.

use crate::policy::PolicySpec;
use crate::scenario::Scenario;
use crate::time::{SECOND, Time, to_secs_f64};

/// Above this many simulated events a command is refused without `--allow-large`.
pub const WORK_LIMIT: f64 = 3e10;
/// Above this many simulated events a command warns.
pub const WORK_WARN: f64 = 5e8;
/// Above this many bytes of results a command is refused without `--allow-large`.
pub const MEMORY_LIMIT: f64 = 4.0 * (1u64 << 30) as f64;
/// Above this many bytes of results a command warns.
pub const MEMORY_WARN: f64 = (512u64 << 20) as f64;
/// The most worker threads `--threads` accepts.
pub const MAX_THREADS: u32 = 1024;
/// The most replications `--seeds` accepts without `--allow-large`.
pub const MAX_SEEDS: u32 = 10_000;

/// The one check of `--seeds` (run and tune): more than [`MAX_SEEDS`] replications are refused
/// unless `allow_large`; the refusal says what was asked and what to do.
pub fn check_seeds(seeds: u32, allow_large: bool) -> Result<(), String> {
    if seeds > MAX_SEEDS && !allow_large {
        return Err(format!(
            "--seeds {seeds}: more than {MAX_SEEDS} replications; ask for {MAX_SEEDS} or fewer, or pass \
             --allow-large to run them anyway"
        ));
    }
    Ok(())
}

/// The most rows `run --requests` writes without `--allow-large` (each row is held in memory,
/// about 56 bytes, until the file is written).
pub const MAX_REQUEST_ROWS: f64 = 50e6;

/// The check of `run --requests`: above [`MAX_REQUEST_ROWS`] expected rows (`rows`, requests
/// over all runs) is refused unless `allow_large`.
pub fn check_request_rows(rows: f64, allow_large: bool) -> Result<(), String> {
    if rows > MAX_REQUEST_ROWS && !allow_large {
        return Err(format!(
            "--requests: about {} rows expected (requests over all runs), more than {} M: shorten the run, \
             select policies with --policy, or pass --allow-large to write them anyway (about {} of memory)",
            crate::time::fmt_big(rows.round()),
            MAX_REQUEST_ROWS / 1e6,
            bytes(rows * 56.0),
        ));
    }
    Ok(())
}

/// Bytes held per recording interval of a run (its `timeseries.csv` row).
const INTERVAL_BYTES: f64 = 256.0;
/// Bytes held per policy decision of a run (its `decisions.csv` row, with its texts).
const DECISION_BYTES: f64 = 256.0;
/// Bytes per replica (its state, queue and pod view).
const REPLICA_BYTES: f64 = 512.0;
/// Fixed bytes per run (histograms, metric history).
const RUN_BYTES: f64 = 1024.0 * 1024.0;

/// What a command is expected to cost.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    /// Runs (policies × seeds).
    pub runs: u64,
    /// Requests over all runs.
    pub requests: f64,
    /// Policy decisions (and metric scrapes) over all runs.
    pub decisions: f64,
    /// Recording intervals over all runs.
    pub intervals: f64,
    /// The most replicas any one run may hold.
    pub max_replicas: f64,
    /// Simulated events, all runs together (requests, snapshots, decisions × replicas, …).
    pub work: f64,
    /// Bytes of results held until they are written.
    pub memory_bytes: f64,
}

/// What to do about an estimate.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Run.
    Ok,
    /// Run, after printing this one-line warning.
    Warn(String),
    /// Refuse (bad input, exit 2) with this message, unless large runs are allowed.
    Refuse(String),
}

/// The interval between a policy's evaluations (decisions or scrapes), measured from the policy
/// itself over its first few ticks.
fn tick(p: &PolicySpec, sc: &Scenario) -> Time {
    let horizon = sc.duration.min(86_400 * SECOND);
    if let crate::policy::PolicyKind::Oracle(o) = &p.kind {
        // (Building the oracle plans its whole run; its ticks are its intervals.)
        return o.interval.max(1);
    }
    let run = crate::policy::RunContext {
        clock: &sc.clock,
        horizon,
        seed: sc.seed,
        traffic: &sc.traffic,
        demand: &sc.service.demand,
    };
    let ctl = p.build(&run);
    let mut last = ctl.next_tick(None);
    let mut gap = Time::MAX;
    for _ in 0..8 {
        let next = ctl.next_tick(Some(last)).max(last + 1);
        gap = gap.min(next - last);
        last = next;
    }
    gap.max(1)
}

/// Estimates a run of `policies` (each `seeds` times) of `sc`.
pub fn estimate(sc: &Scenario, policies: &[&PolicySpec], seeds: u32) -> Estimate {
    let seeds = f64::from(seeds.max(1));
    let secs = to_secs_f64(sc.duration);
    let requests = sc.traffic.expected_requests(&sc.clock, sc.duration);
    let intervals = (sc.duration / sc.record_interval.max(1)) as f64 + 1.0;
    let mean_rate = requests / secs.max(1e-9);
    let demand = sc.service.demand.mean_without_sizes().max(0.0);
    // Replicas busy at the mean rate, twice over, for policies without a maximum.
    let needed = (mean_rate * demand / f64::from(sc.service.workers.max(1)) * 2.0).ceil() + 1.0;
    let mut e = Estimate::default();
    for p in policies {
        let max = if p.max == u32::MAX { needed.max(f64::from(p.min)) } else { f64::from(p.max) };
        let decisions = secs / to_secs_f64(tick(p, sc)) + 1.0;
        e.runs += seeds as u64;
        e.requests += requests * seeds;
        e.decisions += decisions * seeds;
        e.intervals += intervals * seeds;
        e.max_replicas = e.max_replicas.max(max);
        e.work += (requests * 3.0 + secs + decisions * (max + 1.0) + intervals) * seeds;
        e.memory_bytes +=
            (intervals * INTERVAL_BYTES + decisions * DECISION_BYTES + max * REPLICA_BYTES + RUN_BYTES)
                * seeds;
    }
    e
}

/// Estimates a step test of one replica: `requests` in all, `users` at most at once (closed
/// loop), lasting `secs` of simulated time.
pub fn estimate_step_test(requests: f64, users: f64, secs: f64) -> Estimate {
    Estimate {
        runs: 1,
        requests,
        decisions: 0.0,
        intervals: 0.0,
        max_replicas: 1.0,
        work: requests * 3.0 + secs + users,
        memory_bytes: users * 64.0 + RUN_BYTES,
    }
}

fn si(x: f64) -> String {
    if !x.is_finite() {
        return "unbounded".into();
    }
    if x >= 1e15 {
        return format!("{x:.1e}");
    }
    for (unit, f) in [("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)] {
        if x >= f {
            let s = format!("{:.1}", x / f);
            return format!("{}{unit}", s.strip_suffix(".0").unwrap_or(&s));
        }
    }
    format!("{x:.0}")
}

fn bytes(x: f64) -> String {
    if !x.is_finite() {
        return "unbounded".into();
    }
    for (unit, f) in [("TiB", 1u64 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if x >= f as f64 {
            return format!("{:.1} {unit}", x / f as f64);
        }
    }
    format!("{x:.0} B")
}

impl Estimate {
    /// One line of figures.
    pub fn describe(&self) -> String {
        format!(
            "{} runs, {} requests, {} decisions, {} recording intervals, up to {} replicas per run: \
             about {} simulated events and {} of results",
            self.runs,
            si(self.requests),
            si(self.decisions),
            si(self.intervals),
            si(self.max_replicas),
            si(self.work),
            bytes(self.memory_bytes)
        )
    }

    /// Adds `times` runs of which `run` is the estimate of one: counts and work add up, the
    /// replicas and the memory are the larger (the search keeps summaries, not whole runs).
    pub fn add_runs(&mut self, run: &Estimate, times: u64) {
        let k = times as f64;
        self.runs += run.runs * times;
        self.requests += run.requests * k;
        self.decisions += run.decisions * k;
        self.intervals += run.intervals * k;
        self.work += run.work * k;
        if times > 0 {
            self.max_replicas = self.max_replicas.max(run.max_replicas);
            self.memory_bytes = self.memory_bytes.max(run.memory_bytes);
        }
    }

    /// Compares the estimate with the limits.
    pub fn check(&self) -> Verdict {
        self.check_plan(None)
    }

    /// [`Estimate::check`], the messages saying first what is planned (`plan`, e.g. the rungs of
    /// a search), when given.
    pub fn check_plan(&self, plan: Option<&str>) -> Verdict {
        // NaN (an estimate that overflowed) counts as over.
        let over_work = self.work.is_nan() || self.work > WORK_LIMIT;
        let over_mem = self.memory_bytes.is_nan() || self.memory_bytes > MEMORY_LIMIT;
        if over_work || over_mem {
            let what = match (over_work, over_mem) {
                (true, true) => format!(
                    "more than {} simulated events and {} of memory",
                    si(WORK_LIMIT),
                    bytes(MEMORY_LIMIT)
                ),
                (true, false) => format!("more than {} simulated events", si(WORK_LIMIT)),
                _ => format!("more than {} of memory", bytes(MEMORY_LIMIT)),
            };
            return Verdict::Refuse(format!(
                "this would take {what} ({}{}); shorten simulation.duration, lower the rate, raise \
                 the recording or policy interval, lower max replicas or --seeds, or pass \
                 --allow-large to run it anyway",
                plan.map(|p| format!("{p}: ")).unwrap_or_default(),
                self.describe()
            ));
        }
        if self.work > WORK_WARN || self.memory_bytes > MEMORY_WARN {
            return Verdict::Warn(format!(
                "warning: a large run: {}{}",
                plan.map(|p| format!("{p}: ")).unwrap_or_default(),
                self.describe()
            ));
        }
        Verdict::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_and_warn() {
        let small = estimate_step_test(1e6, 1.0, 3600.0);
        assert_eq!(small.check(), Verdict::Ok);
        let big = estimate_step_test(1e9, 1.0, 3600.0);
        assert!(matches!(big.check(), Verdict::Warn(m) if m.contains("1G requests")), "{:?}", big.check());
        let huge = estimate_step_test(1e12, 4e9, 3600.0);
        let Verdict::Refuse(m) = huge.check() else { panic!("refused") };
        assert!(m.contains("--allow-large") && m.contains("simulated events and"), "{m}");
        assert!(matches!(estimate_step_test(f64::NAN, 1.0, 1.0).check(), Verdict::Refuse(_)));
    }
}
