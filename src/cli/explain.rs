//! `scalesim explain`: read a case file, run one decision of the named controller family, print
//! the reasoning (text or JSON). The reasoning itself lives in the library
//! (`scalesim::policy::hpa::explain`).

use super::{CliError, print_stdout};
use std::path::PathBuf;

/// Which controller family to explain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainFamily {
    /// The Kubernetes HorizontalPodAutoscaler.
    Hpa,
}

/// What `scalesim explain` was asked to do.
#[derive(Debug, Clone)]
pub struct ExplainCommand {
    /// The controller family.
    pub family: ExplainFamily,
    /// The case file (YAML or JSON).
    pub case: PathBuf,
    /// Print one JSON object instead of text.
    pub json: bool,
}

/// Runs `scalesim explain`.
pub fn explain(c: ExplainCommand) -> Result<(), CliError> {
    let origin = c.case.display().to_string();
    let text = scalesim::input::read_case(&c.case).map_err(CliError::Invalid)?;
    match c.family {
        ExplainFamily::Hpa => {
            let e = scalesim::policy::hpa::explain::explain(&text, &origin)
                .map_err(|e| CliError::Invalid(e.to_string()))?;
            if c.json {
                let mut s = serde_json::to_string_pretty(&e.to_json()).expect("JSON values serialize");
                s.push('\n');
                print_stdout(&s)
            } else {
                print_stdout(&e.to_text())
            }
        }
    }
}
