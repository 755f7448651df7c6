//! `scalesim export SCENARIO --policy NAME [--out FILE]`: the Kubernetes manifest a policy is
//! simulated from (a HorizontalPodAutoscaler, a KEDA ScaledObject or a Knative Service), so what
//! was tuned in the simulation is what gets deployed.

use super::{CliError, ExportCommand, check_policy_names, print_stdout};
use scalesim::config;

/// Writes the manifest of one policy.
pub fn export(cmd: ExportCommand) -> Result<(), CliError> {
    let scenario = config::load(&cmd.file, &cmd.overrides)?;
    check_policy_names(&scenario, std::slice::from_ref(&cmd.policy))?;
    let p = scenario.policies.iter().find(|p| p.name == cmd.policy).expect("checked above");
    let yaml = p.to_manifest().ok_or_else(|| {
        CliError::Usage(format!(
            "--policy {}: a `{}` policy has no Kubernetes manifest; export writes hpa, keda and knative policies",
            p.name,
            p.family()
        ))
    })?;
    match &cmd.out {
        Some(path) => super::write_file_atomic(path, yaml.as_bytes()),
        None => print_stdout(&yaml),
    }
}
