//! The command line as clap sees it, and its conversion into plain, typed commands.
//!
//! Nothing outside `src/cli` sees these types: [`Cli::into_command`] turns them into
//! [`Command`], whose options are the library's own structs.

use super::{CalibrateCommand, Command, RunCommand, ValidateCommand};
use clap::{Args, Parser, Subcommand};
use scalesim::experiment::RunOptions;
use std::path::PathBuf;

/// Simulate how a service's replicas autoscale under traffic, comparing policies side by side.
#[derive(Debug, Parser)]
#[command(name = "scalesim", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Run every policy of a scenario (× seeds) and write the results.
    Run(RunArgs),
    /// Check a scenario file and show what a run would do.
    Validate(ValidateArgs),
    /// Print the scenario-file reference (every key, its type, default and meaning).
    #[command(alias = "keys")]
    Reference,
    /// Fit the replica model to a real Locust step test and write its `[service]` section.
    Calibrate(CalibrateArgs),
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
    /// Base seed (overrides simulation.seed).
    #[arg(long)]
    seed: Option<u64>,
    /// Replications per policy, each with its own seed.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    seeds: u32,
    /// Worker threads [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    threads: Option<u32>,
    /// Run only this policy (repeatable).
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    #[command(flatten)]
    set: SetArgs,
}

#[derive(Debug, Args)]
struct ValidateArgs {
    /// The scenario file (TOML).
    file: PathBuf,
    #[command(flatten)]
    set: SetArgs,
}

impl Cli {
    /// The typed command to execute.
    pub fn into_command(self) -> Command {
        match self.command {
            Sub::Run(a) => {
                let mut overrides = a.set.set;
                if let Some(seed) = a.seed {
                    overrides.push(format!("simulation.seed={seed}"));
                }
                Command::Run(RunCommand {
                    file: a.file,
                    out_dir: a.out,
                    overrides,
                    options: RunOptions {
                        seeds: a.seeds,
                        threads: a.threads.map(|t| t as usize),
                        policies: a.policies,
                    },
                })
            }
            Sub::Validate(a) => Command::Validate(ValidateCommand { file: a.file, overrides: a.set.set }),
            Sub::Reference => Command::Reference,
            Sub::Calibrate(a) => Command::Calibrate(CalibrateCommand {
                locust: a.locust,
                out: a.out,
                json: a.json,
                ramp_s: a.ramp,
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
        let Command::Run(r) = parse(&[
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
        assert_eq!(r.overrides, vec!["service.timeout=10s", "simulation.seed=7"]);
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
            (c.locust, c.out, c.json, c.ramp_s),
            (PathBuf::from("h.csv"), Some(PathBuf::from("r.toml")), true, None)
        );
        assert!(Cli::try_parse_from(["scalesim", "calibrate"]).is_err());
        assert!(Cli::try_parse_from(["scalesim", "run", "x", "--seeds", "0"]).is_err());
    }
}
