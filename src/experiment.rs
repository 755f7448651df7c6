//! The run matrix: policies × replications, executed in parallel.
//!
//! Every run is independent and deterministic given (scenario, policy, seed); rayon executes
//! them on a pool of the requested size and `collect` keeps the matrix order, so results (and
//! the files written from them) do not depend on the thread count or on scheduling. When the
//! scenario has an oracle policy, every run is then measured against it
//! ([`crate::oracle::attach`]: cost above the oracle, elasticity metrics).

use crate::engine;
use crate::record::RunResult;
use crate::rng::replication_seed;
use crate::scenario::Scenario;
use rayon::prelude::*;
use std::sync::atomic::AtomicU64;

/// How to run a scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Replications per policy (at least 1).
    pub seeds: u32,
    /// Worker threads; `None` for one per core.
    pub threads: Option<usize>,
    /// Only these policies (by name); empty for all.
    pub policies: Vec<String>,
    /// Keep one row per request in each run (`run --requests`).
    pub requests: bool,
}

/// Shared progress counter: simulated microseconds completed, summed over runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Simulated microseconds done so far.
    pub done: AtomicU64,
}

/// Why an experiment could not run.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A `--policy` name matches no policy.
    #[error("no policy named `{name}` in the scenario (policies: {known})")]
    UnknownPolicy {
        /// The name asked for.
        name: String,
        /// Names available.
        known: String,
    },
    /// The thread pool could not be built.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads {
        /// Requested threads.
        threads: usize,
        /// Why.
        message: String,
    },
}

/// Total simulated microseconds the experiment will cover (for a progress bar).
pub fn total_work(scenario: &Scenario, opts: &RunOptions) -> u64 {
    let n = if opts.policies.is_empty() { scenario.policies.len() } else { opts.policies.len() };
    scenario.duration * n as u64 * opts.seeds.max(1) as u64
}

/// One job of the run matrix: a policy (index into `scenario.policies`) and a replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    /// Index of the policy in the scenario.
    pub policy: usize,
    /// Replication index.
    pub replication: u32,
}

/// The jobs of the run matrix, in the order results are kept: by policy (scenario order), then
/// replication. Job `j` of this list is what a shard (`--shard I/N`) owns when `j % N == I`.
pub fn jobs(scenario: &Scenario, opts: &RunOptions) -> Result<Vec<Job>, ExperimentError> {
    for name in &opts.policies {
        if !scenario.policies.iter().any(|p| &p.name == name) {
            let known = scenario.policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
            return Err(ExperimentError::UnknownPolicy { name: name.clone(), known });
        }
    }
    let seeds = opts.seeds.max(1);
    Ok(scenario
        .policies
        .iter()
        .enumerate()
        .filter(|(_, p)| opts.policies.is_empty() || opts.policies.contains(&p.name))
        .flat_map(|(k, _)| (0..seeds).map(move |i| Job { policy: k, replication: i }))
        .collect())
}

/// Runs every selected policy × replication, in parallel; results ordered by policy (scenario
/// order) then replication. Replication i uses [`replication_seed`]`(scenario.seed, i)`. With an
/// oracle in the scenario, the oracle figures of every run are filled in
/// ([`crate::oracle::attach`]).
pub fn run(
    scenario: &Scenario,
    opts: &RunOptions,
    progress: &Progress,
) -> Result<Vec<RunResult>, ExperimentError> {
    let jobs = jobs(scenario, opts)?;
    in_pool(opts.threads, || {
        let mut runs = simulate_all(scenario, &jobs, opts.requests, progress);
        crate::oracle::attach(scenario, &mut runs);
        runs
    })
}

/// Runs `jobs` only (a shard's share of [`jobs`]), in parallel, in their order, without the
/// oracle figures: those compare runs of different jobs, so [`finish`] fills them in once every
/// job's run is together. Each run is the one [`run`] makes for the same job, whichever
/// machine, thread count or shard runs it.
pub fn run_jobs(
    scenario: &Scenario,
    jobs: &[Job],
    threads: Option<usize>,
    requests: bool,
    progress: &Progress,
) -> Result<Vec<RunResult>, ExperimentError> {
    in_pool(threads, || simulate_all(scenario, jobs, requests, progress))
}

/// The runs of every job (from [`run_jobs`], in [`jobs`] order) as [`run`] returns them: the
/// oracle figures filled in.
pub fn finish(scenario: &Scenario, runs: &mut [RunResult]) {
    crate::oracle::attach(scenario, runs);
}

fn simulate_all(scenario: &Scenario, jobs: &[Job], requests: bool, progress: &Progress) -> Vec<RunResult> {
    let extras = engine::Extras { requests, ..engine::Extras::default() };
    jobs.par_iter()
        .map(|j| {
            let p = &scenario.policies[j.policy];
            let i = j.replication;
            let seed = replication_seed(scenario.seed, i);
            engine::simulate_with(scenario, p, seed, i, Some(&progress.done), &extras).0
        })
        .collect()
}

fn in_pool<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> Result<T, ExperimentError> {
    match threads {
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .map_err(|e| ExperimentError::Threads { threads: n, message: e.to_string() })?;
            Ok(pool.install(work))
        }
        None => Ok(work()),
    }
}

/// `scalesim explain decision`: re-simulates `policy`'s replication `replication` exactly as
/// [`run`] does (same seed, same streams) up to its first decision at or after `at`, and returns
/// that decision (the row `decisions.csv` holds for it) with the policy's account. `None` when
/// the policy decides nothing from `at` to the horizon.
pub fn explain_decision(
    scenario: &Scenario,
    policy: &str,
    at: crate::time::Time,
    replication: u32,
) -> Result<Option<engine::ExplainedDecision>, ExperimentError> {
    let Some(p) = scenario.policies.iter().find(|p| p.name == policy) else {
        let known = scenario.policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
        return Err(ExperimentError::UnknownPolicy { name: policy.to_string(), known });
    };
    let extras = engine::Extras { explain_at: Some(at), ..engine::Extras::default() };
    let seed = replication_seed(scenario.seed, replication);
    let (_, detail) = engine::simulate_with(scenario, p, seed, replication, None, &extras);
    Ok(detail.explained)
}

/// The decisions `policy`'s replication `replication` makes in `[from, to)` (their
/// `decisions.csv` rows, in time order), re-simulating as [`run`] does and stopping at `to`.
pub fn decisions_between(
    scenario: &Scenario,
    policy: &str,
    from: crate::time::Time,
    to: crate::time::Time,
    replication: u32,
) -> Result<Vec<crate::record::DecisionRow>, ExperimentError> {
    let Some(p) = scenario.policies.iter().find(|p| p.name == policy) else {
        let known = scenario.policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
        return Err(ExperimentError::UnknownPolicy { name: policy.to_string(), known });
    };
    // Explaining the first decision at or after `to` stops the run there; the decisions before
    // it are logged exactly as in a full run.
    let extras = engine::Extras { explain_at: Some(to), ..engine::Extras::default() };
    let seed = replication_seed(scenario.seed, replication);
    let (result, _) = engine::simulate_with(scenario, p, seed, replication, None, &extras);
    let (lo, hi) = (crate::time::to_secs_f64(from), crate::time::to_secs_f64(to));
    Ok(result.decisions.into_iter().filter(|d| d.time_s >= lo && d.time_s < hi).collect())
}
