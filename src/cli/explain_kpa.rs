//! `scalesim explain kpa CASE [--json]`: replay the ticks of a case file through Knative's
//! decider and print one line per tick (or a JSON list). The logic lives in
//! `scalesim::policy::knative::explain`; this file reads the file and prints.

use super::{CliError, ExplainKpaCommand, print_stdout};
use scalesim::policy::knative::explain;

/// Runs the case and prints the decisions.
pub fn explain_kpa(cmd: ExplainKpaCommand) -> Result<(), CliError> {
    let name = cmd.case.display().to_string();
    let text = scalesim::input::read_case(&cmd.case).map_err(CliError::Invalid)?;
    let case = explain::parse_case(&text)
        .map_err(|e| CliError::Invalid(scalesim::yaml_pos::at_field(&text, &name, &e.to_string())))?;
    let results = explain::run_case(&case);
    let out = if cmd.json { explain::format_json(&results) } else { explain::format_text(&results) };
    print_stdout(&out)
}
