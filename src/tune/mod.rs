//! `scalesim tune`: search a policy's settings for the cheapest that meet the constraints.
//!
//! This module owns the search (candidates, strategies, successive halving), the objective and
//! constraints on summary figures, the ranking (feasible first, by objective), the cost-vs-SLO
//! Pareto front and the paired statistics against the best. It is pure: the CLI turns each
//! candidate's `--set` values into a checked [`Scenario`] (through `config`), this module runs
//! them on the engine and returns a [`TuneOutcome`], and `report::tune` writes the files.
//!
//! Common random numbers: every job of replication `i` uses
//! [`replication_seed`]`(scenario.seed, i)`, exactly as `scalesim run` does, so candidates see the
//! same arrivals and per-request demand, a candidate's figures equal those of a plain run with
//! the same `--set` values, and differences between candidates are paired.

pub mod command;
pub mod guard;
pub mod space;

use crate::engine;
use crate::policy::PolicySpec;
use crate::record::aggregate::{Estimate, FIGURES, PolicyAggregate, aggregate, figure_values, mean_ci95};
use crate::record::{RunResult, RunSummary};
use crate::rng::replication_seed;
use crate::scenario::{Scenario, Slo};
use crate::time::Time;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use space::ParamValue;
use std::sync::atomic::{AtomicU64, Ordering};

/// The figures an objective or a constraint may name: every per-policy figure of
/// `summary.json`.
pub fn figure_names() -> Vec<&'static str> {
    FIGURES.to_vec()
}

/// A comparison in a constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Gt => ">",
        }
    }
}

/// A constraint on a summary figure's mean, e.g. `failed_pct<=1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    /// The figure (a key of [`figure_names`]).
    pub figure: String,
    /// The comparison.
    pub op: Op,
    /// The limit.
    pub limit: f64,
    /// Where it came from: `--require` or the scenario's `[simulation.slo]`.
    pub origin: String,
}

impl Constraint {
    /// `figure<=limit` as text.
    pub fn text(&self) -> String {
        format!("{}{}{}", self.figure, self.op.text(), crate::report::fmt_num(self.limit))
    }

    /// Whether `value` meets it (an undefined figure does not).
    pub fn holds(&self, value: Option<f64>) -> bool {
        let Some(v) = value else { return false };
        match self.op {
            Op::Le => v <= self.limit,
            Op::Lt => v < self.limit,
            Op::Ge => v >= self.limit,
            Op::Gt => v > self.limit,
        }
    }

    /// How far `value` is on the wrong side, relative to the limit (0 when it holds).
    pub fn excess(&self, value: Option<f64>) -> f64 {
        let Some(v) = value else { return f64::INFINITY };
        if self.holds(Some(v)) {
            return 0.0;
        }
        let scale = self.limit.abs().max(1.0);
        (v - self.limit).abs() / scale
    }

    /// The margin to the limit (positive when met): limit − value for `<=`, value − limit for `>=`.
    pub fn margin(&self, value: Option<f64>) -> Option<f64> {
        let v = value?;
        Some(match self.op {
            Op::Le | Op::Lt => self.limit - v,
            Op::Ge | Op::Gt => v - self.limit,
        })
    }
}

/// Parses `FIGURE<=LIMIT` (also `<`, `>=`, `>`); errors list the figures.
pub fn parse_constraint(text: &str) -> Result<Constraint, String> {
    let t = text.trim();
    let (pos, op, len) = [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)]
        .iter()
        .find_map(|(s, op)| t.find(s).map(|p| (p, *op, s.len())))
        .ok_or_else(|| format!("`{t}` has no comparison; expected FIGURE<=LIMIT, e.g. failed_pct<=1"))?;
    let figure = t[..pos].trim();
    let limit_text = t[pos + len..].trim().trim_start_matches('=');
    check_figure(figure)?;
    let limit: f64 = limit_text
        .trim()
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| format!("`{}` is not a number; expected e.g. {figure}<=1", limit_text.trim()))?;
    Ok(Constraint { figure: figure.to_string(), op, limit, origin: "--require".into() })
}

/// Checks that `name` is a figure, with a did-you-mean.
pub fn check_figure(name: &str) -> Result<(), String> {
    let names = figure_names();
    if names.contains(&name) {
        return Ok(());
    }
    let mut m = format!("`{name}` is not a summary figure");
    if let Some(s) = crate::config::error::suggest(name, names.iter().copied()) {
        m.push_str(&format!("; did you mean `{s}`?"));
    }
    m.push_str(&format!(" (figures: {})", names.join(", ")));
    Err(m)
}

/// The constraints a scenario's SLO implies, as `recommend` checks it: the whole run's latency
/// percentile within the bound (when summary.json has that percentile), its failed share within
/// the error rate, and no recording interval in violation.
pub fn slo_constraints(slo: &Slo) -> Vec<Constraint> {
    let c = |figure: &str, limit: f64| Constraint {
        figure: figure.to_string(),
        op: Op::Le,
        limit,
        origin: "[simulation.slo]".into(),
    };
    let mut out = Vec::new();
    if let Some((p, bound)) = slo.latency {
        let figure = match p {
            _ if p == 50.0 => Some("latency_p50_s"),
            _ if p == 95.0 => Some("latency_p95_s"),
            _ if p == 99.0 => Some("latency_p99_s"),
            _ => None,
        };
        if let Some(f) = figure {
            out.push(c(f, bound));
        }
    }
    if let Some(e) = slo.error_rate {
        out.push(c("failed_pct", e * 100.0));
    }
    out.push(c("slo_violation_minutes", 0.0));
    out
}

/// How candidates are chosen and evaluated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Strategy {
    /// Every point of the space.
    Grid,
    /// `budget` distinct points drawn with the seed.
    Random {
        /// Points to draw.
        budget: u64,
    },
    /// Successive halving: screen cheaply, keep the best 1/`eta`, re-run survivors at higher
    /// fidelity; only full-fidelity results are ranked.
    Halving {
        /// Keep 1/eta of the candidates at each rung (at least 2).
        eta: u32,
        /// The first rung measures this fraction of the horizon — its busiest window
        /// ([`screen_window`]) — with one replication.
        screen_horizon: f64,
        /// Candidates to screen (a random sample of the space) when the space is larger.
        budget: Option<u64>,
    },
}

impl Strategy {
    /// Its name in outputs.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::Grid => "grid",
            Strategy::Random { .. } => "random",
            Strategy::Halving { .. } => "halving",
        }
    }
}

/// Most candidates a search may have.
pub const MAX_CANDIDATES: u64 = 100_000;

/// The point indices a strategy evaluates, in increasing order. `seed` draws random samples.
pub fn choose_points(size: u64, strategy: &Strategy, seed: u64) -> Result<Vec<u64>, String> {
    let budget = match strategy {
        Strategy::Grid => None,
        Strategy::Random { budget } => Some(*budget),
        Strategy::Halving { budget, .. } => *budget,
    };
    if budget == Some(0) {
        return Err("--budget 0: expected at least 1 candidate".into());
    }
    match budget {
        Some(b) if b < size => {
            if b > MAX_CANDIDATES {
                return Err(format!(
                    "--budget {b}: more than {MAX_CANDIDATES} candidates; expected at most {MAX_CANDIDATES} \
                     (narrow the --vary ranges, or search in steps)"
                ));
            }
            Ok(sample(size, b, seed))
        }
        _ if size > MAX_CANDIDATES => Err(format!(
            "the --vary values make {size} candidates, more than {MAX_CANDIDATES}; use --strategy random or halving with --budget N, or fewer values"
        )),
        _ => Ok((0..size).collect()),
    }
}

/// `k` distinct indices below `n` (Floyd's algorithm), sorted.
fn sample(n: u64, k: u64, seed: u64) -> Vec<u64> {
    use rand::Rng;
    let mut rng = crate::rng::stream(seed, crate::rng::Stream::Policy);
    let mut set = std::collections::BTreeSet::new();
    for j in (n - k)..n {
        let t = rng.random_range(0..=j);
        if !set.insert(t) {
            set.insert(j);
        }
    }
    set.into_iter().collect()
}

/// One candidate: a point of the space and its `--set` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Index of the point in the space (stable across strategies).
    pub point: u64,
    /// (key, value) per varied key, in `--vary` order.
    pub params: Vec<(String, ParamValue)>,
}

impl Candidate {
    /// The `--set` arguments of its values.
    pub fn overrides(&self) -> Vec<String> {
        self.params.iter().map(|(k, v)| format!("{k}={}", v.text)).collect()
    }

    /// `key=value, key=value` for messages.
    pub fn label(&self) -> String {
        self.params.iter().map(|(k, v)| format!("{}={}", short_key(k), v.text)).collect::<Vec<_>>().join(" ")
    }
}

/// `policy.rps-10.target` → `target`; `service.workers` stays.
pub fn short_key(k: &str) -> &str {
    if let Some(rest) = k.strip_prefix("policy.") {
        return rest.split_once('.').map_or(rest, |(_, key)| key);
    }
    k
}

/// What to search.
#[derive(Debug, Clone)]
pub struct TuneSpec {
    /// The tuned policy's name.
    pub policy: String,
    /// The figure to minimise.
    pub objective: String,
    /// Constraints on figure means.
    pub constraints: Vec<Constraint>,
    /// Replications at full fidelity.
    pub seeds: u32,
    /// The strategy.
    pub strategy: Strategy,
}

/// The part of the horizon a run measures: `[start, end)` of the scenario's simulated time,
/// simulated from `start - warmup` on (the warm-up is simulated but not measured, so the
/// replicas, queues and the policy's windows have settled when measuring starts). The whole
/// horizon is `[0, duration)` without warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// Start of the measured part.
    pub start: Time,
    /// End of the measured part.
    pub end: Time,
    /// Simulated before `start` and not measured.
    pub warmup: Time,
}

impl Window {
    /// The whole horizon of `s`.
    pub fn whole(s: &Scenario) -> Window {
        Window { start: 0, end: s.duration, warmup: 0 }
    }

    /// Whether it is the whole horizon of `s`.
    pub fn is_whole(&self, s: &Scenario) -> bool {
        *self == Window::whole(s)
    }

    /// The measured fraction of the horizon of `s`.
    pub fn fraction(&self, s: &Scenario) -> f64 {
        (self.end - self.start) as f64 / s.duration.max(1) as f64
    }

    /// Simulated time a run of it takes (warm-up included).
    pub fn simulated(&self) -> Time {
        self.end - self.start + self.warmup
    }
}

/// The longest warm-up before a screening window (see [`screen_window`]).
pub const SCREEN_WARMUP: Time = 30 * 60 * crate::time::SECOND;

/// The screening window of halving's first rung for `fraction` of the horizon: the contiguous
/// span of that length (whole recording intervals, rounded up to whole seconds; at least one)
/// with the most expected arrivals — by the traffic's rate shape, or the trace's own requests
/// for a replay — the earliest of equals (so a prefix when the load is flat). It is simulated
/// after a warm-up of [`SCREEN_WARMUP`] or half the window, whichever is shorter (whole steps;
/// less when the window starts earlier), so the replicas, queues and policy windows have
/// settled at its start. Pure: no arrivals are drawn.
pub fn screen_window(s: &Scenario, fraction: f64) -> Window {
    let step = s.record_interval.max(1).div_ceil(crate::time::SECOND) * crate::time::SECOND;
    if fraction >= 1.0 || s.duration <= step {
        return Window::whole(s);
    }
    let len = ((s.duration as f64 * fraction) as Time / step * step).clamp(step, s.duration);
    if len >= s.duration {
        return Window::whole(s);
    }
    let k = (len / step) as usize;
    let last = ((s.duration - len) / step) as usize;
    let mut prefix = Vec::with_capacity(last + k + 1);
    prefix.push(0.0);
    for i in 0..last + k {
        let (a, b) = (i as Time * step, (i as Time + 1) * step);
        prefix.push(prefix[i] + s.traffic.expected_between(&s.clock, a, b));
    }
    let load = |i: usize| prefix[i + k] - prefix[i];
    let most = (0..=last).map(load).fold(0.0, f64::max);
    let i = (0..=last).find(|&i| load(i) >= most * (1.0 - 1e-9)).unwrap_or(0);
    let start = i as Time * step;
    let warmup = start.min(SCREEN_WARMUP.min(len / 2).div_ceil(step) * step);
    Window { start, end: start + len, warmup }
}

/// The fidelity a candidate was last evaluated at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fidelity {
    /// Rung (0 for grid and random; a re-filled last rung counts as the last rung).
    pub rung: usize,
    /// Replications.
    pub seeds: u32,
    /// Fraction of the horizon measured.
    pub horizon: f64,
    /// The part of the horizon measured.
    pub window: Window,
    /// Whether this is full fidelity (all seeds, whole horizon): only those are ranked.
    pub full: bool,
}

/// One candidate's evaluation.
#[derive(Debug, Clone)]
pub struct CandidateResult {
    /// The candidate.
    pub candidate: Candidate,
    /// Figures at its last fidelity (means with 95 % CIs), one per [`FIGURES`] entry.
    pub figures: PolicyAggregate,
    /// Its last fidelity.
    pub fidelity: Fidelity,
    /// Meets every constraint (at its last fidelity).
    pub feasible: bool,
    /// On the Pareto front of objective vs the trade-off figure (full fidelity only).
    pub pareto: bool,
    /// 1 = best; `None` when screened out before full fidelity.
    pub rank: Option<usize>,
    /// Per-replication objective minus the best's, mean and 95 % CI (full fidelity only).
    pub diff_to_best: Option<Estimate>,
    /// Whether the paired difference to the best is not significant (needs ≥ 2 replications).
    pub indistinguishable: Option<bool>,
    /// Cost above the oracle's, percent (when the oracle ran).
    pub cost_above_oracle_pct: Option<f64>,
    /// Sum of constraint excesses (0 when feasible), for ordering infeasible candidates.
    pub violation: f64,
}

impl CandidateResult {
    /// The mean of a figure.
    pub fn mean(&self, figure: &str) -> Option<f64> {
        self.figures.get(figure).mean
    }
}

/// One rung of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Rung {
    /// Candidates evaluated at this rung.
    pub candidates: usize,
    /// Replications per candidate.
    pub seeds: u32,
    /// Fraction of the horizon measured.
    pub horizon: f64,
    /// The part of the horizon measured.
    pub window: Window,
    /// A re-fill of the last rung: the next candidates of the rung before, run because none
    /// that reached full fidelity was feasible.
    pub refill: bool,
    /// Requests simulated in this rung (new runs only).
    pub requests: u64,
    /// Runs simulated in this rung (new runs only).
    pub runs: u64,
}

/// The result of a search.
#[derive(Debug, Clone)]
pub struct TuneOutcome {
    /// Every candidate, in point order.
    pub candidates: Vec<CandidateResult>,
    /// Index (into `candidates`) of the best feasible full-fidelity candidate.
    pub best: Option<usize>,
    /// When nothing is feasible: the candidate that came closest and the constraints it misses.
    pub closest: Option<(usize, String)>,
    /// The trade-off figure of the Pareto front (y axis of pareto.png).
    pub tradeoff: String,
    /// The oracle's figures at full fidelity (when it ran).
    pub oracle: Option<PolicyAggregate>,
    /// The rungs (one for grid and random).
    pub rungs: Vec<Rung>,
    /// Requests simulated in all (candidates and oracle).
    pub requests_simulated: u64,
    /// Runs simulated in all.
    pub runs_simulated: u64,
}

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// `--shard` with halving.
    #[error(
        "--shard: halving runs on one machine (each rung's candidates depend on the previous rung's results); shard a grid or random search instead"
    )]
    NotShardable,
    /// The results put together from parts are incomplete or inconsistent.
    #[error("{0}")]
    Stored(String),
    /// The thread pool could not be built.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads {
        /// Requested threads.
        threads: usize,
        /// Why.
        message: String,
    },
}

/// Shared progress of a search.
#[derive(Debug, Default)]
pub struct TuneProgress {
    /// Simulated microseconds done (all jobs).
    pub done: AtomicU64,
    /// Simulated microseconds planned so far (grows as rungs are planned).
    pub total: AtomicU64,
    /// Jobs finished.
    pub jobs_done: AtomicU64,
    /// Jobs planned so far.
    pub jobs_total: AtomicU64,
}

/// One simulation: candidate (or the oracle), replication, measured window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Job {
    /// Index into the candidate list; `usize::MAX` for the oracle.
    cand: usize,
    rep: u32,
    window: Window,
}

const ORACLE: usize = usize::MAX;

/// What one candidate runs: its replica model and its policy (only `service.*` and the tuned
/// policy's keys vary, so everything else is the base scenario's).
#[derive(Debug, Clone)]
pub struct CandidateSetup {
    /// The service with the candidate's values.
    pub service: crate::service::ServiceModel,
    /// The tuned policy with the candidate's values.
    pub policy: PolicySpec,
}

/// Runs the search. `setups[i]` is candidate `i`'s service and policy (the base scenario with
/// its `--set` values applied, checked by `config`); `oracle`, when given, runs on the base
/// scenario at full fidelity.
pub fn run(
    spec: &TuneSpec,
    base: &Scenario,
    candidates: &[Candidate],
    setups: &[CandidateSetup],
    oracle: Option<&PolicySpec>,
    threads: Option<usize>,
    progress: &TuneProgress,
) -> Result<TuneOutcome, TuneError> {
    in_pool(threads, || search(spec, base, candidates, setups, oracle, None, progress))?
}

/// The search [`run`] makes, with every simulation's result taken from `stored` (the parts of
/// a sharded search, put together) instead of simulated: the same outcome, to the bit, as
/// [`run`] with the same arguments. Grid and random only ([`shard_jobs`]).
pub fn run_stored(
    spec: &TuneSpec,
    base: &Scenario,
    candidates: &[Candidate],
    setups: &[CandidateSetup],
    oracle: Option<&PolicySpec>,
    stored: &StoredRuns,
) -> Result<TuneOutcome, TuneError> {
    shard_jobs(spec, candidates.len())?;
    search(spec, base, candidates, setups, oracle, Some(stored), &TuneProgress::default())
}

/// The jobs of a grid or random search, in order: candidate `c`'s replication `r` is job
/// `c × seeds + r` (what `--shard I/N` splits). Halving has none to give: each rung's
/// candidates depend on the previous rung's results, so it runs on one machine.
pub fn shard_jobs(spec: &TuneSpec, candidates: usize) -> Result<Vec<(usize, u32)>, TuneError> {
    if let Strategy::Halving { .. } = spec.strategy {
        return Err(TuneError::NotShardable);
    }
    let seeds = spec.seeds.max(1);
    Ok((0..candidates).flat_map(|c| (0..seeds).map(move |r| (c, r))).collect())
}

/// What one shard of a grid or random search computed: the oracle's runs of the replications
/// its jobs use, and its jobs' runs. Every entry is what [`run`] computes for the same job.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardRuns {
    /// The oracle's runs: (replication, summary, the demand curve it planned).
    pub oracle: Vec<(u32, RunSummary, Option<crate::record::DemandCurve>)>,
    /// The candidates' runs: (job index of [`shard_jobs`], summary, requests simulated).
    pub runs: Vec<(u64, RunSummary, u64)>,
}

/// Runs the jobs `owned` (indices into [`shard_jobs`]) of a grid or random search, and the
/// oracle's runs of the replications they use, exactly as [`run`] runs them.
#[allow(clippy::too_many_arguments)]
pub fn run_shard(
    spec: &TuneSpec,
    base: &Scenario,
    setups: &[CandidateSetup],
    oracle: Option<&PolicySpec>,
    owned: &[u64],
    threads: Option<usize>,
    progress: &TuneProgress,
) -> Result<ShardRuns, TuneError> {
    let all = shard_jobs(spec, setups.len())?;
    let whole = Window::whole(base);
    let jobs: Vec<(u64, Job)> = owned
        .iter()
        .filter_map(|&j| all.get(j as usize).map(|&(cand, rep)| (j, Job { cand, rep, window: whole })))
        .collect();
    let mut reps: Vec<u32> = jobs.iter().map(|(_, j)| j.rep).collect();
    reps.sort_unstable();
    reps.dedup();
    in_pool(threads, || {
        let oracle_runs: Vec<(u32, RunSummary, Option<crate::record::DemandCurve>)> = match oracle {
            Some(o) => reps
                .par_iter()
                .map(|&rep| {
                    let r = simulate(base, None, o, rep, whole, &progress.done);
                    (rep, r.summary, r.foresight)
                })
                .collect(),
            None => Vec::new(),
        };
        let runs = jobs
            .par_iter()
            .map(|&(k, j)| {
                let reference = oracle_runs.iter().find(|o| o.0 == j.rep).map(|o| (&o.1, o.2.as_ref()));
                let (summary, simulated) = candidate_run(base, &setups[j.cand], j, reference, progress);
                (k, summary, simulated)
            })
            .collect();
        ShardRuns { oracle: oracle_runs, runs }
    })
}

/// The runs of every shard of a search, put together for [`run_stored`].
#[derive(Debug, Clone, Default)]
pub struct StoredRuns {
    oracle: std::collections::HashMap<u32, (RunSummary, Option<crate::record::DemandCurve>)>,
    runs: std::collections::HashMap<(usize, u32), (RunSummary, u64)>,
}

impl StoredRuns {
    /// Puts the parts together for a search of `candidates` candidates; an oracle run given by
    /// several parts (each computes those its jobs need) must be the same in each.
    pub fn assemble(
        spec: &TuneSpec,
        candidates: usize,
        parts: impl IntoIterator<Item = ShardRuns>,
    ) -> Result<StoredRuns, TuneError> {
        let all = shard_jobs(spec, candidates)?;
        let mut out = StoredRuns::default();
        for part in parts {
            for (rep, summary, curve) in part.oracle {
                if let Some(prev) = out.oracle.get(&rep)
                    && (prev.0 != summary || prev.1 != curve)
                {
                    return Err(TuneError::Stored(format!(
                        "two parts hold different runs of the oracle baseline's replication {rep}, so they \
                         were not run from the same scenario, settings and scalesim; run every shard of \
                         one search again and merge those parts"
                    )));
                }
                out.oracle.insert(rep, (summary, curve));
            }
            for (j, summary, simulated) in part.runs {
                let &(c, r) = all.get(j as usize).ok_or_else(|| {
                    TuneError::Stored(format!(
                        "a part holds run {j}, but this search has {} runs (candidates × replications), so \
                         that part comes from another search; merge only the parts of one search",
                        all.len()
                    ))
                })?;
                if out.runs.insert((c, r), (summary, simulated)).is_some() {
                    return Err(TuneError::Stored(format!(
                        "two parts hold run {j} (a candidate's replication {r}): one shard's part is given \
                         twice; give each shard's part once"
                    )));
                }
            }
        }
        Ok(out)
    }
}

fn in_pool<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> Result<T, TuneError> {
    match threads {
        Some(n) => {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .map_err(|e| TuneError::Threads { threads: n, message: e.to_string() })?;
            Ok(pool.install(work))
        }
        None => Ok(work()),
    }
}

/// One candidate job: its run, measured against the oracle's run of the same replication when
/// there is one (whole horizon only). Returns the summary and the requests simulated.
fn candidate_run(
    base: &Scenario,
    setup: &CandidateSetup,
    j: Job,
    oracle: Option<(&RunSummary, Option<&crate::record::DemandCurve>)>,
    progress: &TuneProgress,
) -> (RunSummary, u64) {
    let whole = Window::whole(base);
    let run = simulate(base, Some(&setup.service), &setup.policy, j.rep, j.window, &progress.done);
    // Requests simulated, the warm-up's included.
    let simulated: u64 = run.intervals.iter().map(|r| r.arrived).sum();
    let mut summary = run.summary;
    if j.window == whole {
        if let Some((_, Some(d))) = oracle {
            summary.elasticity = Some(crate::record::elasticity::elasticity(
                &run.ready_curve,
                &d.curve,
                base.duration,
                d.interval,
            ));
        }
        summary.cost_above_oracle_pct =
            oracle.map(|(o, _)| o.cost).filter(|c| *c > 0.0).map(|c| 100.0 * (summary.cost - c) / c);
    }
    progress.jobs_done.fetch_add(1, Ordering::Relaxed);
    (summary, simulated)
}

type Cache = std::collections::HashMap<Job, RunSummary>;

/// One rung of the plan: replications and window.
#[derive(Debug, Clone, Copy)]
struct Step {
    seeds: u32,
    window: Window,
}

/// The rungs a strategy runs. Halving: the screen (one replication of the busiest window, when
/// the window is not the whole horizon), then one replication of the whole horizon (when there
/// are several), then full fidelity.
fn plan(spec: &TuneSpec, base: &Scenario) -> Vec<Step> {
    let full = Step { seeds: spec.seeds.max(1), window: Window::whole(base) };
    match spec.strategy {
        Strategy::Grid | Strategy::Random { .. } => vec![full],
        Strategy::Halving { screen_horizon, .. } => {
            let mut v = Vec::new();
            let screen = screen_window(base, screen_horizon);
            if !screen.is_whole(base) {
                v.push(Step { seeds: 1, window: screen });
            }
            if full.seeds > 1 {
                v.push(Step { seeds: 1, window: full.window });
            }
            v.push(full);
            v
        }
    }
}

/// How many of `n` candidates a rung of halving keeps for the next: the best 1/`eta` (at least
/// one; at least two while a later rung compares).
fn survivors(n: usize, eta: usize) -> usize {
    n.div_ceil(eta).max(2.min(n))
}

/// One rung of a search as planned before any result is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlannedRung {
    /// Candidates it runs.
    pub candidates: usize,
    /// New runs per candidate (replications not already run by an earlier rung on its window).
    pub runs_per_candidate: u32,
    /// The part of the horizon measured (and the warm-up simulated before it).
    pub window: Window,
}

/// What a search of `candidates` candidates will simulate, rung by rung, as [`run`] plans it
/// (for the cost bound): grid and random run every candidate at full fidelity; halving screens
/// every candidate, keeps the best 1/η at each rung, and reuses what an earlier rung ran on the
/// same window. A re-fill (halving, when no candidate at full fidelity is feasible) depends on
/// the results and is not counted: each re-filled candidate adds one full-fidelity candidate's
/// runs. The oracle's runs are not included.
pub fn planned_rungs(spec: &TuneSpec, base: &Scenario, candidates: usize) -> Vec<PlannedRung> {
    let eta = match spec.strategy {
        Strategy::Halving { eta, .. } => eta.max(2) as usize,
        _ => 1,
    };
    let steps = plan(spec, base);
    let mut alive = candidates;
    let mut out = Vec::with_capacity(steps.len());
    for (r, step) in steps.iter().enumerate() {
        let done = steps[..r].iter().filter(|s| s.window == step.window).map(|s| s.seeds).max().unwrap_or(0);
        out.push(PlannedRung {
            candidates: alive,
            runs_per_candidate: step.seeds.saturating_sub(done),
            window: step.window,
        });
        if r + 1 < steps.len() {
            alive = survivors(alive, eta);
        }
    }
    out
}

/// One search in progress: what it runs on, and the runs done so far (each simulated once,
/// keyed by candidate, replication and window, whichever rung asked for it).
struct Search<'a> {
    spec: &'a TuneSpec,
    base: &'a Scenario,
    candidates: &'a [Candidate],
    setups: &'a [CandidateSetup],
    stored: Option<&'a StoredRuns>,
    progress: &'a TuneProgress,
    cache: Cache,
    /// The oracle's run summaries, one per replication (empty without an oracle).
    oracle_runs: Vec<RunSummary>,
    /// The demand curves the oracle planned for, one per replication.
    curves: Vec<Option<crate::record::DemandCurve>>,
}

/// Where the rungs of a search left the candidates.
struct Screened {
    /// The rungs run, in order.
    rungs: Vec<Rung>,
    /// The candidates at full fidelity.
    alive: Vec<usize>,
    /// The rung before the last, ranked, with each candidate's feasibility there: where a
    /// re-fill takes its candidates from.
    before_last: Vec<(usize, bool)>,
    /// Each candidate's highest fidelity.
    last: Vec<Option<Fidelity>>,
}

/// The search behind [`run`] and [`run_stored`]: the oracle's runs, the rungs of the plan
/// (screen and promote), the re-fill, then the ranking.
fn search(
    spec: &TuneSpec,
    base: &Scenario,
    candidates: &[Candidate],
    setups: &[CandidateSetup],
    oracle: Option<&PolicySpec>,
    stored: Option<&StoredRuns>,
    progress: &TuneProgress,
) -> Result<TuneOutcome, TuneError> {
    let mut s = Search {
        spec,
        base,
        candidates,
        setups,
        stored,
        progress,
        cache: Cache::new(),
        oracle_runs: Vec::new(),
        curves: Vec::new(),
    };
    let oracle_rung = match oracle {
        Some(o) => Some(s.run_oracle(o)?),
        None => None,
    };
    let plan = plan(spec, base);
    let mut screened = s.screen(&plan)?;
    s.refill(&plan, &mut screened)?;
    Ok(s.rank(screened, oracle_rung))
}

impl Search<'_> {
    /// The oracle's runs first, one per replication at full fidelity: its summaries (for the
    /// cost above it) and the demand curves it planned (its foresight, for the elasticity
    /// metrics of every whole-horizon candidate run).
    fn run_oracle(&mut self, o: &PolicySpec) -> Result<Rung, TuneError> {
        let (base, progress) = (self.base, self.progress);
        let full_seeds = self.spec.seeds.max(1);
        let whole = Window::whole(base);
        let jobs: Vec<Job> = (0..full_seeds).map(|rep| Job { cand: ORACLE, rep, window: whole }).collect();
        progress.total.fetch_add(base.duration * jobs.len() as u64, Ordering::Relaxed);
        progress.jobs_total.fetch_add(jobs.len() as u64, Ordering::Relaxed);
        let done: Vec<(RunSummary, Option<crate::record::DemandCurve>)> = match self.stored {
            Some(st) => jobs
                .iter()
                .map(|j| {
                    st.oracle.get(&j.rep).cloned().ok_or_else(|| {
                        TuneError::Stored(format!(
                            "no part holds the oracle baseline's replication {}: a shard's part is \
                             missing; give the parts of every shard, 0/N to (N-1)/N",
                            j.rep
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
            None => jobs
                .par_iter()
                .map(|j| {
                    let r = simulate(base, None, o, j.rep, whole, &progress.done);
                    progress.jobs_done.fetch_add(1, Ordering::Relaxed);
                    (r.summary, r.foresight)
                })
                .collect(),
        };
        let mut rung = Rung {
            candidates: 0,
            seeds: full_seeds,
            horizon: 1.0,
            window: whole,
            refill: false,
            requests: 0,
            runs: 0,
        };
        for (summary, curve) in done {
            rung.requests += summary.requests;
            rung.runs += 1;
            self.oracle_runs.push(summary);
            self.curves.push(curve);
        }
        Ok(rung)
    }

    /// Runs `cands` at `step` (what the cache lacks: simulated, or looked up in the stored
    /// runs) and records the rung.
    fn run_rung(&mut self, cands: &[usize], step: Step, refill: bool) -> Result<Rung, TuneError> {
        let (base, progress) = (self.base, self.progress);
        let whole = Window::whole(base);
        let mut jobs: Vec<Job> = Vec::new();
        for &c in cands {
            for rep in 0..step.seeds {
                let j = Job { cand: c, rep, window: step.window };
                if !self.cache.contains_key(&j) {
                    jobs.push(j);
                }
            }
        }
        progress.total.fetch_add(jobs.iter().map(|j| j.window.simulated()).sum::<Time>(), Ordering::Relaxed);
        progress.jobs_total.fetch_add(jobs.len() as u64, Ordering::Relaxed);
        let results: Vec<(RunSummary, u64)> = match self.stored {
            Some(st) => jobs
                .iter()
                .map(|j| {
                    st.runs.get(&(j.cand, j.rep)).filter(|_| j.window == whole).cloned().ok_or_else(|| {
                        TuneError::Stored(format!(
                            "no part holds candidate {}'s replication {}: a shard's part is missing; give \
                             the parts of every shard, 0/N to (N-1)/N (run a missing one with `tune \
                             --shard I/N` and the same arguments)",
                            self.candidates[j.cand].label(),
                            j.rep
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
            None => {
                let (oracle_runs, curves, setups) = (&self.oracle_runs, &self.curves, self.setups);
                jobs.par_iter()
                    .map(|j| {
                        let reference =
                            oracle_runs.get(j.rep as usize).map(|o| (o, curves[j.rep as usize].as_ref()));
                        candidate_run(base, &setups[j.cand], *j, reference, progress)
                    })
                    .collect()
            }
        };
        let mut rung = Rung {
            candidates: cands.len(),
            seeds: step.seeds,
            horizon: step.window.fraction(base),
            window: step.window,
            refill,
            requests: 0,
            runs: 0,
        };
        for (j, (s, simulated)) in jobs.into_iter().zip(results) {
            rung.requests += simulated;
            rung.runs += 1;
            self.cache.insert(j, s);
        }
        Ok(rung)
    }

    /// Runs the plan's rungs: every candidate at the first, then at each rung the best 1/η of
    /// the one before (at least one; at least two while a later rung compares).
    fn screen(&mut self, plan: &[Step]) -> Result<Screened, TuneError> {
        let (spec, base) = (self.spec, self.base);
        let n = self.candidates.len();
        let eta = match spec.strategy {
            Strategy::Halving { eta, .. } => eta.max(2) as usize,
            _ => 1,
        };
        let mut out = Screened {
            rungs: Vec::new(),
            alive: (0..n).collect(),
            before_last: Vec::new(),
            last: vec![None; n],
        };
        for (r, &step) in plan.iter().enumerate() {
            let is_last = r + 1 == plan.len();
            let alive = std::mem::take(&mut out.alive);
            out.rungs.push(self.run_rung(&alive, step, false)?);
            let fidelity = Fidelity {
                rung: r,
                seeds: step.seeds,
                horizon: step.window.fraction(base),
                window: step.window,
                full: is_last,
            };
            for &c in &alive {
                out.last[c] = Some(fidelity);
            }
            out.alive = alive;
            if !is_last {
                let mut ranked: Vec<(usize, PolicyAggregate)> = out
                    .alive
                    .iter()
                    .map(|&c| (c, evaluate(&self.cache, c, step.seeds, step.window, base)))
                    .collect();
                ranked.sort_by(|a, b| order(spec, &a.1, &b.1).then(a.0.cmp(&b.0)));
                let keep = survivors(out.alive.len(), eta);
                out.before_last = ranked.iter().map(|(c, a)| (*c, feasible(spec, a))).collect();
                out.alive = ranked.into_iter().take(keep).map(|(c, _)| c).collect();
                out.alive.sort_unstable();
            }
        }
        Ok(out)
    }

    /// Re-fill: while no full-fidelity candidate is feasible, runs the next candidate of the
    /// rung before (in its order, among those feasible there) at full fidelity, one at a time.
    fn refill(&mut self, plan: &[Step], s: &mut Screened) -> Result<(), TuneError> {
        let (spec, base) = (self.spec, self.base);
        let last_step = *plan.last().expect("a plan has a rung");
        let promoted = s.alive.clone();
        let before_last = std::mem::take(&mut s.before_last);
        let mut next = before_last.iter().filter(|(c, ok)| *ok && !promoted.contains(c));
        let full_feasible = |cache: &Cache, cands: &[usize]| {
            cands
                .iter()
                .any(|&c| feasible(spec, &evaluate(cache, c, last_step.seeds, last_step.window, base)))
        };
        while !full_feasible(&self.cache, &s.alive) {
            let Some(&(c, _)) = next.next() else { break };
            s.rungs.push(self.run_rung(&[c], last_step, true)?);
            s.last[c] = Some(Fidelity {
                rung: plan.len() - 1,
                seeds: last_step.seeds,
                horizon: last_step.window.fraction(base),
                window: last_step.window,
                full: true,
            });
            s.alive.push(c);
        }
        s.before_last = before_last;
        Ok(())
    }

    /// Every candidate's figures at its highest fidelity, the full-fidelity ones ranked (the
    /// best, the Pareto front, paired differences to the best), and the closest candidate when
    /// none is feasible.
    fn rank(mut self, s: Screened, oracle_rung: Option<Rung>) -> TuneOutcome {
        let (spec, base) = (self.spec, self.base);
        let oracle_runs = std::mem::take(&mut self.oracle_runs);
        let oracle_agg = (!oracle_runs.is_empty()).then(|| {
            let runs: Vec<RunResult> = oracle_runs
                .into_iter()
                .enumerate()
                .map(|(i, s)| as_run("oracle", i as u32, replication_seed(base.seed, i as u32), s))
                .collect();
            defined_for(base, aggregate(&runs).remove(0))
        });
        let mut results: Vec<CandidateResult> =
            (0..self.candidates.len()).map(|c| self.candidate_result(c, &s.last)).collect();
        // Rank the full-fidelity candidates.
        let mut full: Vec<usize> = (0..results.len()).filter(|&c| results[c].fidelity.full).collect();
        full.sort_by(|&a, &b| order(spec, &results[a].figures, &results[b].figures).then(a.cmp(&b)));
        for (i, &c) in full.iter().enumerate() {
            results[c].rank = Some(i + 1);
        }
        let best = full.first().copied().filter(|&c| results[c].feasible);
        let tradeoff = tradeoff_figure(spec);
        mark_pareto(spec, &tradeoff, &full, &mut results);
        self.paired_differences(&full, &mut results);
        let closest =
            if best.is_none() { full.first().map(|&c| (c, missed(spec, &results[c]))) } else { None };
        let requests_simulated = s.rungs.iter().chain(&oracle_rung).map(|r| r.requests).sum();
        let runs_simulated = s.rungs.iter().chain(&oracle_rung).map(|r| r.runs).sum();
        TuneOutcome {
            candidates: results,
            best,
            closest,
            tradeoff,
            oracle: oracle_agg,
            rungs: s.rungs,
            requests_simulated,
            runs_simulated,
        }
    }

    /// Candidate `c`'s figures at its highest fidelity, whether it is feasible, and by how much
    /// it misses the constraints.
    fn candidate_result(&self, c: usize, last: &[Option<Fidelity>]) -> CandidateResult {
        let spec = self.spec;
        let f = last[c].expect("every candidate runs at rung 0");
        let figures = evaluate(&self.cache, c, f.seeds, f.window, self.base);
        let violation: f64 = spec.constraints.iter().map(|k| k.excess(figures.get(&k.figure).mean)).sum();
        let feasible = feasible(spec, &figures);
        let cost_above_oracle_pct = if f.full { figures.get("cost_above_oracle_pct").mean } else { None };
        CandidateResult {
            candidate: self.candidates[c].clone(),
            figures,
            fidelity: f,
            feasible,
            pareto: false,
            rank: None,
            diff_to_best: None,
            indistinguishable: None,
            cost_above_oracle_pct,
            violation,
        }
    }

    /// Paired differences of the objective to the best (or, with nothing feasible, to the first
    /// ranked), replication by replication, and whether each is indistinguishable from it.
    fn paired_differences(&self, full: &[usize], results: &mut [CandidateResult]) {
        let Some(&anchor) = full.first() else { return };
        let whole = Window::whole(self.base);
        let per_rep = |c: usize| -> Vec<Option<f64>> {
            (0..self.spec.seeds.max(1))
                .map(|rep| {
                    self.cache
                        .get(&Job { cand: c, rep, window: whole })
                        .and_then(|s| figure_of(s, &self.spec.objective))
                })
                .collect()
        };
        let a = per_rep(anchor);
        for &c in full {
            let d: Vec<f64> = per_rep(c).iter().zip(&a).filter_map(|(x, y)| Some((*x)? - (*y)?)).collect();
            let e = mean_ci95(&d);
            results[c].indistinguishable = match (e.ci95_low, e.ci95_high) {
                _ if c == anchor => Some(true),
                (Some(lo), Some(hi)) => Some(lo <= 0.0 && hi >= 0.0),
                _ => None,
            };
            results[c].diff_to_best = Some(e);
        }
    }
}

/// Pareto: marks the full-fidelity candidates no other is at least as good as on both the
/// objective and `tradeoff` and better on one.
fn mark_pareto(spec: &TuneSpec, tradeoff: &str, full: &[usize], results: &mut [CandidateResult]) {
    let pts: Vec<(usize, f64, f64)> = full
        .iter()
        .filter_map(|&c| Some((c, results[c].mean(&spec.objective)?, results[c].mean(tradeoff)?)))
        .collect();
    for &(c, x, y) in &pts {
        let dominated = pts.iter().any(|&(d, x2, y2)| d != c && x2 <= x && y2 <= y && (x2 < x || y2 < y));
        results[c].pareto = !dominated;
    }
}

/// The constraints a candidate misses, each with the value found.
fn missed(spec: &TuneSpec, r: &CandidateResult) -> String {
    let missed: Vec<String> = spec
        .constraints
        .iter()
        .filter(|k| !k.holds(r.mean(&k.figure)))
        .map(|k| {
            let v = r.mean(&k.figure).map_or_else(|| "undefined".to_string(), crate::report::fmt_num);
            format!("{} (found {v})", k.text())
        })
        .collect();
    missed.join(", ")
}

/// Whether figures meet every constraint.
fn feasible(spec: &TuneSpec, a: &PolicyAggregate) -> bool {
    spec.constraints.iter().all(|k| k.holds(a.get(&k.figure).mean))
}

/// The y axis of the Pareto front: SLO-violation minutes when the constraints involve the SLO,
/// else the first constraint's figure, else the failed share.
pub fn tradeoff_figure(spec: &TuneSpec) -> String {
    if spec.constraints.iter().any(|c| c.figure == "slo_violation_minutes") {
        return "slo_violation_minutes".into();
    }
    spec.constraints
        .iter()
        .map(|c| c.figure.clone())
        .find(|f| *f != spec.objective)
        .unwrap_or_else(|| "failed_pct".into())
}

/// One run: the base scenario with `service` (when given) over `window` (the whole horizon,
/// or a part of it after a warm-up: [`Scenario::window`]), seeded as `scalesim run` seeds
/// replication `rep`.
fn simulate(
    base: &Scenario,
    service: Option<&crate::service::ServiceModel>,
    policy: &PolicySpec,
    rep: u32,
    window: Window,
    done: &AtomicU64,
) -> RunResult {
    let seed = replication_seed(base.seed, rep);
    let whole = window.is_whole(base);
    if service.is_none() && whole {
        return engine::simulate(base, policy, seed, rep, Some(done));
    }
    let bare = Scenario { policies: Vec::new(), ..base.clone() };
    let mut sc = if whole { bare } else { bare.window(window.start - window.warmup, window.simulated()) };
    if let Some(s) = service {
        sc.service = s.clone();
    }
    let extras = engine::Extras { measure_from: window.warmup, ..engine::Extras::default() };
    engine::simulate_with(&sc, policy, seed, rep, Some(done), &extras).0
}

fn as_run(policy: &str, rep: u32, seed: u64, summary: RunSummary) -> RunResult {
    RunResult {
        policy: policy.to_string(),
        replication: rep,
        seed,
        intervals: Vec::new(),
        summary,
        decisions: Vec::new(),
        ready_curve: Default::default(),
        foresight: None,
        requests: Vec::new(),
    }
}

fn figure_of(s: &RunSummary, name: &str) -> Option<f64> {
    let i = FIGURES.iter().position(|f| *f == name)?;
    figure_values(s)[i]
}

/// The aggregate of candidate `c`'s first `seeds` replications of `window`, the figures
/// undefined for `base` ([`undefined_figures`]) left undefined.
fn evaluate(cache: &Cache, c: usize, seeds: u32, window: Window, base: &Scenario) -> PolicyAggregate {
    let runs: Vec<RunResult> = (0..seeds)
        .filter_map(|rep| {
            let s = cache.get(&Job { cand: c, rep, window })?;
            Some(as_run("candidate", rep, rep as u64, s.clone()))
        })
        .collect();
    defined_for(base, aggregate(&runs).remove(0))
}

/// `a` with the figures undefined for `base` ([`undefined_figures`]) set to undefined, as
/// `run`'s summary.json reports them.
fn defined_for(base: &Scenario, mut a: PolicyAggregate) -> PolicyAggregate {
    for name in undefined_figures(base) {
        if let Some(i) = FIGURES.iter().position(|f| *f == name) {
            a.figures[i] = Estimate { mean: None, ci95_low: None, ci95_high: None, n: 0 };
        }
    }
    a
}

/// The figures measured against the oracle baseline (the last seven of [`FIGURES`]): undefined
/// for every candidate when the oracle cannot be built.
pub const ORACLE_FIGURES: &[&str] = FIGURES.as_slice().split_at(FIGURES.len() - 7).1;

/// The figures undefined for every run of `base`, whatever the candidate:
/// `slo_violation_minutes` when it has no `[simulation.slo]` (no minute can violate an SLO there
/// is not; `run`'s summary.json reports it as null, and so does tune.json).
pub fn undefined_figures(base: &Scenario) -> Vec<&'static str> {
    if base.slo.is_none() { vec!["slo_violation_minutes"] } else { Vec::new() }
}

/// Why `figure` cannot be judged for `base` (it is one of [`undefined_figures`]): what is missing
/// and how to add it. For the refusal of an objective or a constraint on it, before anything is
/// simulated.
pub fn undefined_reason(base: &Scenario, figure: &str) -> Option<String> {
    if !undefined_figures(base).contains(&figure) {
        return None;
    }
    Some(format!(
        "the scenario has no [simulation.slo], so {figure} is undefined for it (null in summary.json and \
         tune.json), not 0; add an SLO to the scenario (a `[simulation.slo]` section with e.g. \
         `latency = \"500ms\"` and `error_rate = \"1%\"`), or constrain latency_p99_s or failed_pct instead"
    ))
}

/// Feasible first (by objective, lower is better), then infeasible by total violation, then by
/// objective.
fn order(spec: &TuneSpec, a: &PolicyAggregate, b: &PolicyAggregate) -> std::cmp::Ordering {
    let viol = |x: &PolicyAggregate| -> f64 {
        spec.constraints.iter().map(|k| k.excess(x.get(&k.figure).mean)).sum()
    };
    let obj = |x: &PolicyAggregate| x.get(&spec.objective).mean.unwrap_or(f64::INFINITY);
    let (va, vb) = (viol(a), viol(b));
    let fa = va == 0.0;
    let fb = vb == 0.0;
    fb.cmp(&fa)
        .then_with(|| if fa { obj(a).total_cmp(&obj(b)) } else { va.total_cmp(&vb) })
        .then_with(|| obj(a).total_cmp(&obj(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_parse_and_judge() {
        let c = parse_constraint("failed_pct<=1").unwrap();
        assert_eq!((c.figure.as_str(), c.op, c.limit), ("failed_pct", Op::Le, 1.0));
        assert!(c.holds(Some(1.0)) && !c.holds(Some(1.5)) && !c.holds(None));
        assert_eq!(c.margin(Some(0.25)), Some(0.75));
        assert!((c.excess(Some(1.5)) - 0.5).abs() < 1e-12);
        assert_eq!(parse_constraint(" latency_p99_s < 0.5 ").unwrap().op, Op::Lt);
        assert_eq!(parse_constraint("served>=10").unwrap().op, Op::Ge);
        assert!(parse_constraint("cots<=3").unwrap_err().contains("did you mean `cost`"));
        assert!(parse_constraint("cost").unwrap_err().contains("no comparison"));
        assert!(parse_constraint("cost<=x").unwrap_err().contains("not a number"));
        assert!(parse_constraint("cost<=inf").unwrap_err().contains("not a number"));
    }

    #[test]
    fn slo_gives_the_checks_recommend_makes() {
        let slo = Slo { latency: Some((99.0, 0.5)), error_rate: Some(0.01) };
        let t: Vec<String> = slo_constraints(&slo).iter().map(Constraint::text).collect();
        assert_eq!(t, ["latency_p99_s<=0.5", "failed_pct<=1", "slo_violation_minutes<=0"]);
    }

    #[test]
    fn points_are_chosen_deterministically() {
        assert_eq!(choose_points(5, &Strategy::Grid, 1).unwrap(), [0, 1, 2, 3, 4]);
        let a = choose_points(1000, &Strategy::Random { budget: 10 }, 7).unwrap();
        assert_eq!(a.len(), 10);
        assert_eq!(a, choose_points(1000, &Strategy::Random { budget: 10 }, 7).unwrap());
        assert!(a.windows(2).all(|w| w[0] < w[1]) && a.iter().all(|&i| i < 1000));
        assert_ne!(a, choose_points(1000, &Strategy::Random { budget: 10 }, 8).unwrap());
        assert_eq!(choose_points(5, &Strategy::Random { budget: 10 }, 1).unwrap().len(), 5);
        assert!(choose_points(200_000, &Strategy::Grid, 1).unwrap_err().contains("more than 100000"));
        assert!(choose_points(5, &Strategy::Random { budget: 0 }, 1).unwrap_err().contains("--budget 0"));
        let big = choose_points(u64::MAX, &Strategy::Random { budget: 3 }, 1).unwrap();
        assert_eq!(big.len(), 3);
    }

    fn scenario(duration: &str, rate: &str) -> Scenario {
        let toml = format!(
            "[simulation]\nduration = \"{duration}\"\nstart = \"2025-03-04T00:00:00\"\ntimezone = \"Europe/London\"\n\
             [traffic]\nrate = {rate}\n[service]\nworkers = 1\n[service.demand]\ndistribution = \"exponential\"\n\
             mean = \"100ms\"\n[[policy]]\nname = \"f\"\ntype = \"fixed\"\nreplicas = 1\n"
        );
        crate::config::load_str(&toml, "t.toml", std::path::Path::new("."), &[]).unwrap()
    }

    #[test]
    fn the_screen_is_the_busiest_window_after_a_warm_up() {
        use crate::time::SECOND;
        let (h, m) = (3600 * SECOND, 60 * SECOND);
        // A day peaking at 14:00: the busiest quarter is 11:00 to 17:00, after 30 minutes.
        let day = scenario("24h", r#"{ shape = "daily", trough = 50.0, peak = 200.0, peak_hour = 14.0 }"#);
        assert_eq!(screen_window(&day, 0.25), Window { start: 11 * h, end: 17 * h, warmup: 30 * m });
        assert_eq!(screen_window(&day, 0.5), Window { start: 8 * h, end: 20 * h, warmup: 30 * m });
        assert_eq!(screen_window(&day, 1.0), Window::whole(&day));
        assert!((screen_window(&day, 0.25).fraction(&day) - 0.25).abs() < 1e-12);
        // Flat load: the earliest window, a prefix, with no warm-up.
        let flat = scenario("4h", "30.0");
        assert_eq!(screen_window(&flat, 0.25), Window { start: 0, end: h, warmup: 0 });
        // The load at the end: the first window at full load (the earliest of equals); the
        // warm-up is at most half the window.
        let late =
            scenario("2h", r#"{ shape = "ramp", from = 10.0, to = 50.0, start = "60m", end = "80m" }"#);
        assert_eq!(screen_window(&late, 0.25), Window { start: 80 * m, end: 110 * m, warmup: 15 * m });
        let later =
            scenario("2h", r#"{ shape = "ramp", from = 10.0, to = 50.0, start = "60m", end = "2h" }"#);
        assert_eq!(screen_window(&later, 0.25), Window { start: 90 * m, end: 2 * h, warmup: 15 * m });
        // Whole minutes (the recording interval), at least one; a warm-up no longer than the start.
        assert_eq!(screen_window(&late, 0.001), Window { start: 80 * m, end: 81 * m, warmup: m });
        // A spike from 20 to 30 minutes: the earliest window holding all of it.
        let spike = scenario(
            "1h",
            r#"{ shape = "spike", base = 10.0, start = "20m", length = "10m", multiplier = 5.0 }"#,
        );
        assert_eq!(screen_window(&spike, 0.25), Window { start: 15 * m, end: 30 * m, warmup: 8 * m });
    }

    #[test]
    fn halving_plans_its_rungs_as_it_runs_them() {
        use crate::time::SECOND;
        let h = 3600 * SECOND;
        let day = scenario("24h", r#"{ shape = "daily", trough = 50.0, peak = 200.0, peak_hour = 14.0 }"#);
        let spec = |seeds, strategy| TuneSpec {
            policy: "f".into(),
            objective: "cost".into(),
            constraints: Vec::new(),
            seeds,
            strategy,
        };
        let halving = Strategy::Halving { eta: 4, screen_horizon: 0.25, budget: None };
        let got: Vec<(usize, u32, Time, Time)> = planned_rungs(&spec(5, halving), &day, 48)
            .iter()
            .map(|r| (r.candidates, r.runs_per_candidate, r.window.start, r.window.end))
            .collect();
        // 48 screens of 11:00-17:00, the best 12 on the whole day once, the best 3 four more times.
        assert_eq!(got, [(48, 1, 11 * h, 17 * h), (12, 1, 0, 24 * h), (3, 4, 0, 24 * h)]);
        // One seed: the screen, then the survivors' whole day; a screen of the whole horizon
        // is reused.
        let one: Vec<(usize, u32)> = planned_rungs(&spec(1, halving), &day, 10)
            .iter()
            .map(|r| (r.candidates, r.runs_per_candidate))
            .collect();
        assert_eq!(one, [(10, 1), (3, 1)]);
        let whole = Strategy::Halving { eta: 4, screen_horizon: 1.0, budget: None };
        let w: Vec<(usize, u32)> = planned_rungs(&spec(3, whole), &day, 3)
            .iter()
            .map(|r| (r.candidates, r.runs_per_candidate))
            .collect();
        assert_eq!(w, [(3, 1), (2, 2)]);
        assert_eq!(
            planned_rungs(&spec(2, Strategy::Grid), &day, 7)
                .iter()
                .map(|r| (r.candidates, r.runs_per_candidate))
                .collect::<Vec<_>>(),
            [(7, 2)]
        );
    }

    #[test]
    fn oracle_figures_are_the_last_of_the_figures() {
        assert_eq!(ORACLE_FIGURES.first(), Some(&"cost_above_oracle_pct"));
        assert!(ORACLE_FIGURES[1..].iter().all(|f| f.starts_with("elasticity_")), "{ORACLE_FIGURES:?}");
    }

    #[test]
    fn short_keys() {
        assert_eq!(short_key("policy.rps-10.target"), "target");
        assert_eq!(short_key("policy.hpa.patch.spec.maxReplicas"), "patch.spec.maxReplicas");
        assert_eq!(short_key("service.workers"), "service.workers");
    }
}
