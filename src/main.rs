//! The `scalesim` command: parse the command line, call the library, map errors to exit codes.
//!
//! Exit codes: 0 on success, 2 for bad input (usage, scenario file, unknown policy), 1 for
//! failures while running or writing outputs, 3 when `run --check` or `tune --check` finds a
//! policy that misses the SLO (the outputs are written).

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::args::Cli::parse();
    cli::set_quiet(args.quiet());
    match cli::execute(args.into_command()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::terminal_safe(&e.to_string()));
            ExitCode::from(cli::exit_code(&e))
        }
    }
}
