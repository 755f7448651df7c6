//! The `scalesim` command: parse the command line, call the library, map errors to exit codes.
//!
//! Exit codes: 0 on success, 2 for bad input (usage, scenario file, unknown policy), 1 for
//! failures while running or writing outputs.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::args::Cli::parse();
    cli::set_quiet(args.quiet());
    match cli::execute(args.into_command()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
