//! The run matrix: policies × replications, executed in parallel.

use crate::record::RunResult;
use crate::scenario::Scenario;
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
/// order) then replication.
pub fn run(
    _scenario: &Scenario,
    _opts: &RunOptions,
    _progress: &Progress,
) -> Result<Vec<RunResult>, ExperimentError> {
    todo!("being written")
}
