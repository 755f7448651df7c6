//! `scalesim validate` on the terminal: the scenario loaded and checked by the library, its
//! cost bound applied, and its description ([`scalesim::report::describe`]) printed.

use super::{CliError, Terminal, ValidateCommand, print_stdout};
use scalesim::config;
use scalesim::report::describe::describe;

/// Checks the file and prints a description of the scenario.
pub fn validate(cmd: ValidateCommand) -> Result<(), CliError> {
    let (scenario, warnings) = config::load_with_warnings(&cmd.file, &cmd.overrides)?;
    for w in &warnings {
        scalesim::command::Feedback::warn(&Terminal, w);
    }
    let all: Vec<_> = scenario.policies.iter().collect();
    let estimate = scalesim::budget::estimate(&scenario, &all, 1);
    scalesim::command::allow(&Terminal, &estimate, cmd.allow_large, None)?;
    let mut text = describe(&scenario, &cmd.file.display().to_string(), &cmd.overrides);
    let ok = text.rfind("ok: ").unwrap_or(text.len());
    text.insert_str(ok, &format!("cost       {} (one seed)\n", estimate.describe()));
    print_stdout(&text)
}
