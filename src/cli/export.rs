//! `scalesim export SCENARIO --policy NAME [--out FILE]`: the Kubernetes manifest of a policy,
//! so what was simulated (and tuned) is what gets deployed. A policy read from a manifest comes
//! back as that manifest (metadata, images and unmodelled fields verbatim); a platform or basic
//! policy is written as its closest HPA or KEDA ScaledObject, with a header saying what is
//! exact, what is approximate and what to fill in ([`scalesim::policy::export`]).

use super::{CliError, ExportCommand, note, print_stdout};
use scalesim::config;
use scalesim::policy::{ExportOptions, export::DEFAULT_PROMETHEUS};
use scalesim::run::check_policy_names;

/// Writes the manifest of one policy.
pub fn export(cmd: ExportCommand) -> Result<(), CliError> {
    let scenario = config::load(&cmd.file, &cmd.overrides)?;
    check_policy_names(&scenario, std::slice::from_ref(&cmd.policy))?;
    let p = scenario.policies.iter().find(|p| p.name == cmd.policy).expect("checked above");
    let opts = ExportOptions {
        namespace: cmd.namespace.clone(),
        prometheus: cmd.prometheus.clone().unwrap_or_else(|| DEFAULT_PROMETHEUS.to_string()),
        ..ExportOptions::for_scenario(&scenario.name, cmd.target.as_deref())
    };
    let exported = p.export(&opts).map_err(|e| CliError::Invalid(e.to_string()))?;
    // What is written must parse back: names, addresses and queries go through the YAML
    // serializer, and the header comment escapes line breaks.
    if let Err(e) = scalesim::policy::export::yaml_docs(&exported.yaml) {
        return Err(CliError::Report(scalesim::report::ReportError::io(
            cmd.out.as_deref().unwrap_or(std::path::Path::new("<stdout>")),
            format!(
                "the manifest of policy `{}` does not parse back as YAML ({e}); nothing was written; please report this",
                cmd.policy
            ),
        )));
    }
    match &cmd.out {
        Some(path) => {
            super::write_file_atomic(path, exported.yaml.as_bytes(), &[&cmd.file])?;
            note(format_args!("wrote {}", path.display()));
        }
        None => print_stdout(&exported.yaml)?,
    }
    for t in &exported.todo {
        note(format_args!("todo: {t}"));
    }
    Ok(())
}
