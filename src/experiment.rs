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

/// Runs every selected policy × replication, in parallel; results ordered by policy (scenario
/// order) then replication. Replication i uses [`replication_seed`]`(scenario.seed, i)`. With an
/// oracle in the scenario, the oracle figures of every run are filled in
/// ([`crate::oracle::attach`]).
pub fn run(
    scenario: &Scenario,
    opts: &RunOptions,
    progress: &Progress,
) -> Result<Vec<RunResult>, ExperimentError> {
    for name in &opts.policies {
        if !scenario.policies.iter().any(|p| &p.name == name) {
            let known = scenario.policies.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
            return Err(ExperimentError::UnknownPolicy { name: name.clone(), known });
        }
    }
    let selected: Vec<_> = scenario
        .policies
        .iter()
        .filter(|p| opts.policies.is_empty() || opts.policies.contains(&p.name))
        .collect();
    let seeds = opts.seeds.max(1);
    let jobs: Vec<_> = selected.iter().flat_map(|p| (0..seeds).map(move |i| (*p, i))).collect();
    let work = || {
        let mut runs = jobs
            .par_iter()
            .map(|(p, i)| {
                engine::simulate(scenario, p, replication_seed(scenario.seed, *i), *i, Some(&progress.done))
            })
            .collect::<Vec<_>>();
        crate::oracle::attach(scenario, &mut runs);
        runs
    };
    match opts.threads {
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
