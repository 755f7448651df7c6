//! The command line as clap sees it, and its conversion into plain, typed commands.
//!
//! Nothing outside `src/cli` sees these types: [`Cli::into_command`] turns them into
//! [`Command`], whose options are the library's own structs.

use super::{
    CalibrateCommand, CapacityCommand, Command, CompareCommand, ExplainCommand, ExplainDecisionCommand,
    ExplainFamily, ExplainKpaCommand, ExportCommand, MergeCommand, TuneCommand, ValidateCommand,
};
use clap::{Args, Parser, Subcommand};
use scalesim::calibrate::command::CalibrateRequest;
use scalesim::capacity::command::{CapacityRequest, RecommendRequest};
use scalesim::experiment::RunOptions;
use scalesim::run::{ChartRequest, ReportRequest, RunRequest};
use scalesim::tune::command::TuneRequest;
use std::path::PathBuf;

/// Simulate how a service's replicas autoscale under traffic, comparing policies side by side.
#[derive(Debug, Parser)]
#[command(name = "scalesim", version, about, propagate_version = true)]
pub struct Cli {
    /// No progress bar and no `wrote …` or note lines on stderr (errors and warnings still
    /// print; standard output is unchanged).
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Run every policy of a scenario (× seeds) and write the results.
    Run(RunArgs),
    /// Write report.html for an output folder of `run`: verdict, table, charts, decisions.
    Report(ReportArgs),
    /// Compare two output folders of `run` policy by policy (a what-if against its baseline).
    Compare(CompareArgs),
    /// Check a scenario file and show what a run would do.
    Validate(ValidateArgs),
    /// Print the scenario-file reference (every key, its type, default and meaning).
    #[command(alias = "keys")]
    Reference,
    /// Write the Kubernetes manifest of one policy: the manifest it was read from (hpa, keda,
    /// knative), or the closest HPA or KEDA ScaledObject of a platform or basic policy.
    Export(ExportArgs),
    /// Fit the replica model to a real Locust step test and write its `[service]` section.
    Calibrate(CalibrateArgs),
    /// Simulated step test of one replica: latency and failures against load, and its capacity.
    Capacity(CapacityArgs),
    /// Recommend min, max and targets from the capacity and the traffic, and check them.
    Recommend(RecommendArgs),
    /// Search a policy's settings for the cheapest that meet the SLO, with the evidence.
    Tune(TuneArgs),
    /// Put the part directories of a sharded `run` or `tune` (--shard I/N) together: writes
    /// exactly the files the command writes on one machine.
    Merge(MergeArgs),
    /// Explain one autoscaler decision: from a case file (hpa, kpa) or from a run (decision).
    #[command(subcommand)]
    Explain(Explain),
    /// Print a shell completion script (e.g. `scalesim completions bash > ~/.local/share/bash-completion/completions/scalesim`).
    Completions(CompletionsArgs),
    /// Print the manual page (roff; e.g. `scalesim man > scalesim.1 && man ./scalesim.1`).
    Man,
}

#[derive(Debug, Args)]
struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: ShellArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ShellArg {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[derive(Debug, Subcommand)]
enum Explain {
    /// A Kubernetes HorizontalPodAutoscaler (autoscaling/v2) decision.
    Hpa(ExplainArgs),
    /// Knative's KPA decider: one line per tick of the case.
    Kpa(ExplainKpaArgs),
    /// A decision a run makes: re-simulate up to the first decision of a policy at or after a
    /// time and explain it.
    Decision(ExplainDecisionArgs),
}

#[derive(Debug, Args)]
struct ExplainDecisionArgs {
    /// The scenario file (TOML).
    file: PathBuf,
    /// The policy whose decision to explain.
    #[arg(long, value_name = "NAME")]
    policy: String,
    /// When: an offset from the start (`2h`, `90m`, `1h30m`, `5400`), a local clock time
    /// `HH:MM:SS` or `HH:MM` (first occurrence at or after the start), a local date and time
    /// `YYYY-MM-DDTHH:MM[:SS]`, or RFC 3339 — the forms `--window` takes. The first decision at or
    /// after it is explained; with `HH:MM` (no seconds), the decision of that minute that changed
    /// the replica count, or the minute's decisions are listed to pick one.
    #[arg(long, value_name = "TIME")]
    at: String,
    /// Which replication, as `run --seeds N` numbers them (0 to N-1).
    #[arg(long, default_value_t = 0)]
    replication: u32,
    /// Base seed (overrides simulation.seed), as `run --seed`: 0 to 2^63 − 1.
    #[arg(long, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Also write the equivalent case file for `explain hpa` (hpa, keda) or `explain kpa`
    /// (knative).
    #[arg(long, value_name = "FILE")]
    case: Option<PathBuf>,
    #[command(flatten)]
    set: SetArgs,
}

#[derive(Debug, Args)]
struct ExplainArgs {
    /// The case file (JSON or YAML).
    #[arg(value_name = "CASE")]
    case: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct ExplainKpaArgs {
    /// The case file (JSON or YAML): `config`, `initialReadyPods`, `ticks`.
    case: PathBuf,
    /// Print a JSON list instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Mode {
    Open,
    Closed,
}

#[derive(Debug, Args)]
struct CapacityArgs {
    /// A scenario file (its [service]) or a file holding only a [service] section.
    file: PathBuf,
    /// Latency objective, e.g. `p99<500ms` [default: the scenario's, else p99<500ms].
    #[arg(long, value_name = "pNN<DURATION")]
    slo: Option<String>,
    /// Highest acceptable failure rate, e.g. `1%` [default: the scenario's, else 1%].
    #[arg(long, value_name = "RATE")]
    max_errors: Option<String>,
    /// Open loop (offered rates) or closed loop (users with think time, as Locust).
    #[arg(long, value_enum, default_value = "open")]
    mode: Mode,
    /// Mean think time of closed-loop users, seconds (exponential).
    #[arg(long, value_name = "SECONDS")]
    think: Option<f64>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Output folder for capacity_steps.csv and capacity.png [default: output/<name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    large: LargeArgs,
}

#[derive(Debug, Args)]
struct RecommendArgs {
    /// The scenario file (TOML), or a file holding only a `[service]` section (as `calibrate`
    /// writes; it then needs --min-rps/--max-rps or --traffic).
    file: PathBuf,
    /// A scenario file whose traffic to plan for [default: the scenario's own; for a
    /// service-only file, its [simulation] and [traffic] are used].
    #[arg(long, value_name = "FILE", conflicts_with_all = ["min_rps", "max_rps"])]
    traffic: Option<PathBuf>,
    /// Lowest traffic, requests per second (with --max-rps). For a service-only file the
    /// check simulates one weekday (UTC) of a daily curve from this at night to --max-rps at 14:00.
    #[arg(long, requires = "max_rps")]
    min_rps: Option<f64>,
    /// Highest traffic, requests per second (with --min-rps).
    #[arg(long, requires = "min_rps")]
    max_rps: Option<f64>,
    /// Latency objective, e.g. `p99<500ms`.
    #[arg(long, value_name = "pNN<DURATION")]
    slo: Option<String>,
    /// Highest acceptable failure rate, e.g. `1%`.
    #[arg(long, value_name = "RATE")]
    max_errors: Option<String>,
    /// Output folder for recommended.toml [default: output/<scenario name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Requests per second one replica serves within the SLO, if known (e.g. from a real
    /// benchmark); otherwise the simulated step test decides.
    #[arg(long, value_name = "RPS")]
    capacity_rps: Option<f64>,
    /// Step test in open loop (offered rates) or closed loop (users with think time, as Locust).
    #[arg(long, value_enum, default_value = "open")]
    mode: Mode,
    /// Mean think time of closed-loop users, seconds (exponential).
    #[arg(long, value_name = "SECONDS")]
    think: Option<f64>,
    /// The fewest replicas to recommend: 2 by default, so that losing one (a node drain, a
    /// crash, a rollout) never leaves none; 1 to allow a single replica.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..))]
    min_replicas: u32,
    #[command(flatten)]
    large: LargeArgs,
}

#[derive(Debug, Args)]
struct CalibrateArgs {
    /// A Locust `*_stats_history.csv` from a step test of one replica (with or without
    /// `--csv-full-history`).
    #[arg(long, value_name = "FILE")]
    locust: PathBuf,
    /// Write the fitted `[service]` section to this file [default: print it].
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Print one JSON object (fitted service and per-step comparison) instead of the table.
    #[arg(long)]
    json: bool,
    /// Seconds to drop at the start of each step [default: 12 with windowed percentiles, 4 with
    /// cumulative ones].
    #[arg(long, value_name = "SECONDS")]
    ramp: Option<f64>,
    /// Latency outside the replica, if you know it (e.g. `70ms`: the client's latency minus the
    /// server's own, or the network round trip): held at this value instead of fitted. Use it
    /// when calibrate warns that the data cannot tell the overhead from demand.
    #[arg(long, value_name = "DURATION")]
    overhead: Option<String>,
}

#[derive(Debug, Args)]
struct SetArgs {
    /// Override a scenario key before it is checked, e.g. `--set service.timeout=10s` or
    /// `--set policy.hpa.max=20` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The scenario file (TOML).
    file: PathBuf,
    /// Output folder [default: output/<scenario name>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Base seed (overrides simulation.seed): 0 to 2^63 − 1.
    #[arg(long, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Replications per policy, each with its own seed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    seeds: u32,
    /// Worker threads, at most 1024 [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=scalesim::budget::MAX_THREADS as i64))]
    threads: Option<u32>,
    /// Run only this policy (repeatable).
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    /// Do not add the oracle baseline (perfect foresight) when the scenario has no oracle
    /// policy; `cost_above_oracle_pct` and the elasticity figures are then empty.
    #[arg(long)]
    no_oracle: bool,
    #[command(flatten)]
    set: SetArgs,
    #[command(flatten)]
    large: LargeArgs,
    #[command(flatten)]
    charts: ChartArgs,
    /// Also write report.html (one self-contained page: verdict, table, charts, decisions).
    #[arg(long)]
    report: bool,
    /// Also write requests.csv: one row per request of every run (replica, first token, end,
    /// tokens, outcome, preemptions); refused above 50 million rows without --allow-large.
    #[arg(long)]
    requests: bool,
    /// Exit with code 3 when any deployable policy (not the oracle baseline) misses the SLO,
    /// i.e. has SLO-violating minutes after the warm-up; the outputs are written first and the
    /// policies that miss it are listed on stderr. Needs a [simulation.slo].
    #[arg(long, conflicts_with = "shard")]
    check: bool,
    /// Print on stderr how long each phase took (start-up, simulation, replica-capacity
    /// estimate, outputs, writing), wall-clock.
    #[arg(long)]
    timings: bool,
    /// Run only shard I of N (jobs j with j % N == I, 0 <= I < N) and write a part directory
    /// (manifest.json, results.bin) into --out, for `scalesim merge`.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<scalesim::shard::Shard>,
}

/// `--seed`: a whole number from 0 to [`scalesim::rng::MAX_SEED`] (the seeds a scenario file
/// can hold).
fn parse_seed(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let n: u64 = t
        .parse()
        .map_err(|_| format!("found `{t}`; expected a whole number from 0 to {}", scalesim::rng::MAX_SEED))?;
    scalesim::rng::check_seed(n)
}

fn parse_shard(text: &str) -> Result<scalesim::shard::Shard, String> {
    scalesim::shard::Shard::parse(text)
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// The part directories (the --out folders of every shard), in any order.
    #[arg(required = true, value_name = "PART_DIR")]
    parts: Vec<PathBuf>,
    /// Output folder [default: the command's own default].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StrategyArg {
    Grid,
    Random,
    Halving,
}

#[derive(Debug, Args)]
struct TuneArgs {
    /// The scenario file (TOML).
    file: PathBuf,
    /// The policy to tune.
    #[arg(long, value_name = "NAME")]
    policy: String,
    /// A key of the policy (`policy.NAME.target`) or of the service (`service.workers`) and its
    /// values: a list `10s,30s`, a range `6..14:2`, a geometric range `1..64:x2` (repeatable;
    /// several form the cross product).
    #[arg(long, value_name = "KEY=VALUES", required = true)]
    vary: Vec<String>,
    /// The summary figure to minimise.
    #[arg(long, value_name = "FIGURE", default_value = "cost")]
    minimize: String,
    /// A constraint on a summary figure, e.g. `failed_pct<=1` or `latency_p99_s<=0.5`
    /// (repeatable; the scenario's [simulation.slo] adds its own unless overridden per figure).
    #[arg(long, value_name = "FIGURE<=LIMIT")]
    require: Vec<String>,
    /// How to search.
    #[arg(long, value_enum, default_value = "grid")]
    strategy: StrategyArg,
    /// Candidates to draw (random) or to screen (halving, when the space is larger).
    #[arg(long, value_name = "N")]
    budget: Option<u64>,
    /// Halving: keep 1/ETA of the candidates at each rung.
    #[arg(long, value_name = "ETA", default_value_t = 4)]
    eta: u32,
    /// Halving: the fraction of the horizon the first, screening rung measures (its busiest
    /// window, after a warm-up of up to 30 minutes).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.25)]
    screen_horizon: f64,
    /// Replications per candidate at full fidelity (common random numbers across candidates).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    seeds: u32,
    /// Base seed (overrides simulation.seed): 0 to 2^63 − 1.
    #[arg(long, value_parser = parse_seed)]
    seed: Option<u64>,
    /// Worker threads, at most 1024 [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=scalesim::budget::MAX_THREADS as i64))]
    threads: Option<u32>,
    /// Output folder [default: output/<scenario name>/tune-<policy>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print tune.json instead of the table.
    #[arg(long)]
    json: bool,
    /// Exit with code 3 when the search's best candidate misses the SLO (SLO-violating minutes
    /// after the warm-up) or no candidate meets every constraint; the outputs are written
    /// first. Needs a [simulation.slo].
    #[arg(long, conflicts_with = "shard")]
    check: bool,
    /// Candidates shown in the table.
    #[arg(long, value_name = "N", default_value_t = 10)]
    top: usize,
    /// Grid and random only: run only shard I of N of the candidate × replication jobs and
    /// write a part directory into --out, for `scalesim merge` (halving runs on one machine).
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<scalesim::shard::Shard>,
    #[command(flatten)]
    set: SetArgs,
    #[command(flatten)]
    large: LargeArgs,
}

#[derive(Debug, Args)]
struct LargeArgs {
    /// Run even when the estimated work or memory is above the limits (see `scalesim
    /// reference`, "Cost bounds"); without it such a run is refused before it starts.
    #[arg(long)]
    allow_large: bool,
}

#[derive(Debug, Args)]
struct ChartArgs {
    /// Zoom every chart to START..END: offsets (`2h..3h`), local clock times (`09:00..12:30:15`)
    /// or date-times (`2025-01-07T09:00..`), the forms `explain decision --at` takes; either end
    /// may be left out.
    #[arg(long, value_name = "START..END")]
    window: Option<String>,
    /// One plot for all policies, or one panel per policy [default: panels when more than six
    /// policies or when their lines coincide for most of the run].
    #[arg(long, value_enum, value_name = "overlay|panels")]
    charts: Option<ChartsArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ChartsArg {
    Overlay,
    Panels,
}

impl ChartArgs {
    fn into_options(self) -> ChartRequest {
        ChartRequest {
            window: self.window,
            mode: match self.charts {
                None => scalesim::report::ChartsMode::Auto,
                Some(ChartsArg::Overlay) => scalesim::report::ChartsMode::Overlay,
                Some(ChartsArg::Panels) => scalesim::report::ChartsMode::Panels,
            },
        }
    }
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// An output folder written by `scalesim run`.
    dir: PathBuf,
    /// Write report.html into this folder instead of DIR (the page holds its charts inline;
    /// no PNG is written).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    charts: ChartArgs,
}

#[derive(Debug, Args)]
struct CompareArgs {
    /// The baseline output folder.
    base: PathBuf,
    /// The output folder to compare with it.
    other: PathBuf,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Write compare.json and compare.png into this folder.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ExportArgs {
    /// The scenario file (TOML).
    file: PathBuf,
    /// The policy to export.
    #[arg(long, value_name = "NAME")]
    policy: String,
    /// Write the manifest to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// The Deployment to scale, for a manifest written from scratch (platform and basic
    /// policies) [default: the scenario's name].
    #[arg(long, value_name = "NAME")]
    target: Option<String>,
    /// `metadata.namespace` of a manifest written from scratch.
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Prometheus address of the prometheus triggers written from scratch
    /// [default: http://prometheus-operated.monitoring.svc:9090].
    #[arg(long, value_name = "URL")]
    prometheus: Option<String>,
    #[command(flatten)]
    set: SetArgs,
}

#[derive(Debug, Args)]
struct ValidateArgs {
    /// The scenario file (TOML).
    file: PathBuf,
    #[command(flatten)]
    set: SetArgs,
    #[command(flatten)]
    large: LargeArgs,
}

impl Cli {
    /// `--quiet`.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// The typed command to execute.
    pub fn into_command(self) -> Command {
        match self.command {
            Sub::Completions(a) => Command::Completions(match a.shell {
                ShellArg::Bash => clap_complete::Shell::Bash,
                ShellArg::Zsh => clap_complete::Shell::Zsh,
                ShellArg::Fish => clap_complete::Shell::Fish,
                ShellArg::Powershell => clap_complete::Shell::PowerShell,
                ShellArg::Elvish => clap_complete::Shell::Elvish,
            }),
            Sub::Man => Command::Man,
            Sub::Run(a) => Command::Run(
                RunRequest {
                    file: a.file,
                    out_dir: a.out,
                    allow_large: a.large.allow_large,
                    seed: a.seed,
                    overrides: a.set.set,
                    oracle: !a.no_oracle,
                    options: RunOptions {
                        seeds: a.seeds,
                        threads: a.threads.map(|t| t as usize),
                        policies: a.policies,
                        requests: a.requests,
                    },
                    charts: a.charts.into_options(),
                    report: a.report,
                    check: a.check,
                    shard: a.shard,
                },
                a.timings,
            ),
            Sub::Merge(a) => Command::Merge(MergeCommand { parts: a.parts, out: a.out }),
            Sub::Tune(a) => Command::Tune(TuneCommand {
                json: a.json,
                top: a.top,
                request: TuneRequest {
                    file: a.file,
                    policy: a.policy,
                    vary: a.vary,
                    minimize: a.minimize,
                    require: a.require,
                    strategy: match a.strategy {
                        StrategyArg::Grid => "grid",
                        StrategyArg::Random => "random",
                        StrategyArg::Halving => "halving",
                    }
                    .to_string(),
                    budget: a.budget,
                    eta: a.eta,
                    screen_horizon: a.screen_horizon,
                    seeds: a.seeds,
                    seed: a.seed,
                    overrides: a.set.set,
                    threads: a.threads.map(|t| t as usize),
                    out_dir: a.out,
                    check: a.check,
                    allow_large: a.large.allow_large,
                    shard: a.shard,
                },
            }),
            Sub::Report(a) => {
                Command::Report(ReportRequest { dir: a.dir, out: a.out, charts: a.charts.into_options() })
            }
            Sub::Compare(a) => {
                Command::Compare(CompareCommand { base: a.base, other: a.other, json: a.json, out: a.out })
            }
            Sub::Validate(a) => Command::Validate(ValidateCommand {
                file: a.file,
                overrides: a.set.set,
                allow_large: a.large.allow_large,
            }),
            Sub::Reference => Command::Reference,
            Sub::Export(a) => Command::Export(ExportCommand {
                file: a.file,
                policy: a.policy,
                out: a.out,
                overrides: a.set.set,
                target: a.target,
                namespace: a.namespace,
                prometheus: a.prometheus,
            }),
            Sub::Calibrate(a) => Command::Calibrate(CalibrateCommand {
                request: CalibrateRequest { locust: a.locust, ramp_s: a.ramp, overhead: a.overhead },
                out: a.out,
                json: a.json,
            }),
            Sub::Explain(Explain::Hpa(a)) => {
                Command::Explain(ExplainCommand { family: ExplainFamily::Hpa, case: a.case, json: a.json })
            }
            Sub::Explain(Explain::Decision(a)) => Command::ExplainDecision(ExplainDecisionCommand {
                file: a.file,
                policy: a.policy,
                at: a.at,
                replication: a.replication,
                seed: a.seed,
                overrides: a.set.set,
                json: a.json,
                case: a.case,
            }),
            Sub::Explain(Explain::Kpa(a)) => {
                Command::ExplainKpa(ExplainKpaCommand { case: a.case, json: a.json })
            }
            Sub::Capacity(a) => Command::Capacity(CapacityCommand {
                json: a.json,
                request: CapacityRequest {
                    file: a.file,
                    slo: a.slo,
                    max_errors: a.max_errors,
                    closed: a.mode == Mode::Closed,
                    think_s: a.think,
                    out_dir: a.out,
                    allow_large: a.large.allow_large,
                },
            }),
            Sub::Recommend(a) => Command::Recommend(RecommendRequest {
                file: a.file,
                traffic: a.traffic,
                range: a.min_rps.zip(a.max_rps),
                slo: a.slo,
                max_errors: a.max_errors,
                out_dir: a.out,
                capacity_rps: a.capacity_rps,
                closed: a.mode == Mode::Closed,
                think_s: a.think,
                min_replicas: a.min_replicas,
                allow_large: a.large.allow_large,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once("scalesim").chain(args.iter().copied())).unwrap().into_command()
    }

    #[test]
    fn run_arguments_become_options() {
        let Command::Run(r, timings) = parse(&[
            "run",
            "s.toml",
            "--seed",
            "7",
            "--seeds",
            "3",
            "--threads",
            "2",
            "--policy",
            "a",
            "--policy",
            "b",
            "--set",
            "service.timeout=10s",
            "--out",
            "o",
        ]) else {
            panic!("run")
        };
        assert_eq!(r.file, PathBuf::from("s.toml"));
        assert_eq!(r.out_dir, Some(PathBuf::from("o")));
        assert_eq!(r.options.seeds, 3);
        assert_eq!(r.options.threads, Some(2));
        assert_eq!(r.options.policies, vec!["a", "b"]);
        assert_eq!(r.overrides, vec!["service.timeout=10s"]);
        assert_eq!(r.seed, Some(7));
        assert!(!timings);
    }

    #[test]
    fn the_clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn quiet_is_global_and_completions_name_a_shell() {
        let cli = Cli::try_parse_from(["scalesim", "run", "x.toml", "--quiet"]).unwrap();
        assert!(cli.quiet());
        let cli = Cli::try_parse_from(["scalesim", "-q", "validate", "x.toml"]).unwrap();
        assert!(cli.quiet());
        assert!(!Cli::try_parse_from(["scalesim", "validate", "x.toml"]).unwrap().quiet());
        assert!(matches!(parse(&["completions", "zsh"]), Command::Completions(clap_complete::Shell::Zsh)));
        assert!(Cli::try_parse_from(["scalesim", "completions", "tcsh"]).is_err());
        assert!(matches!(parse(&["man"]), Command::Man));
        let Command::Export(e) =
            parse(&["export", "s.toml", "--policy", "p", "--target", "api", "--namespace", "prod"])
        else {
            panic!("export")
        };
        assert_eq!(
            (e.target.as_deref(), e.namespace.as_deref(), e.prometheus),
            (Some("api"), Some("prod"), None)
        );
    }

    #[test]
    fn other_commands() {
        assert!(
            matches!(parse(&["validate", "x.toml", "--set", "a=1"]), Command::Validate(v) if v.overrides == ["a=1"])
        );
        assert!(matches!(parse(&["reference"]), Command::Reference));
        assert!(matches!(parse(&["keys"]), Command::Reference));
        let Command::Calibrate(c) = parse(&["calibrate", "--locust", "h.csv", "--out", "r.toml", "--json"])
        else {
            panic!("calibrate")
        };
        assert_eq!(
            (c.request.locust, c.out, c.json, c.request.ramp_s),
            (PathBuf::from("h.csv"), Some(PathBuf::from("r.toml")), true, None)
        );
        assert!(Cli::try_parse_from(["scalesim", "calibrate"]).is_err());
        assert!(
            matches!(parse(&["explain", "kpa", "c.yaml", "--json"]), Command::ExplainKpa(c) if c.json && c.case == std::path::Path::new("c.yaml"))
        );
        assert!(Cli::try_parse_from(["scalesim", "run", "x", "--seeds", "0"]).is_err());
    }
}
