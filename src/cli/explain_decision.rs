//! `scalesim explain decision` on the terminal: the library's [`scalesim::explain::decision`]
//! call, its case file committed (`--case`), its account printed.

use super::{CliError, Terminal, commit, print_stdout, terminal_safe};
use scalesim::explain::{self, ExplainRequest};

/// What `scalesim explain decision` was asked to explain.
pub type ExplainDecisionCommand = ExplainRequest;

/// Runs `scalesim explain decision`.
pub fn explain_decision(c: ExplainDecisionCommand) -> Result<(), CliError> {
    let answer = explain::decision(&c, &Terminal)?;
    if let Some((_, staging, said)) = answer.case {
        commit(staging)?;
        eprintln!("{}", terminal_safe(&said));
    }
    print_stdout(&answer.output)
}
