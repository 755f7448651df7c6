//! `scalesim export SCENARIO --policy NAME [--out FILE]` as a library call: the Kubernetes
//! manifest of a policy, so what was simulated (and tuned) is what gets deployed. A policy read
//! from a manifest comes back as that manifest (metadata, images and unmodelled fields
//! verbatim); a platform or basic policy is written as its closest HPA or KEDA ScaledObject, with
//! a header saying what is exact, what is approximate and what to fill in
//! ([`crate::policy::export`], pure; this module loads the scenario and stages the file).

use crate::command::{Error, invalid};
use crate::config;
use crate::policy::{ExportOptions, export::DEFAULT_PROMETHEUS};
use crate::report::atomic::Staging;
use crate::run::check_policy_names;
use std::path::{Path, PathBuf};

/// What `scalesim export` is asked to write.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// Scenario file.
    pub file: PathBuf,
    /// The policy to export.
    pub policy: String,
    /// Output file; `None` for standard output.
    pub out: Option<PathBuf>,
    /// `--set key=value` overrides.
    pub overrides: Vec<String>,
    /// `--target`: the Deployment of a manifest written from scratch.
    pub target: Option<String>,
    /// `--namespace` of a manifest written from scratch.
    pub namespace: Option<String>,
    /// `--prometheus`: the address of generated prometheus triggers.
    pub prometheus: Option<String>,
}

/// The manifest, and where it goes.
#[derive(Debug)]
pub struct Exported {
    /// The YAML.
    pub yaml: String,
    /// What the user must fill in or check before deploying.
    pub todo: Vec<String>,
    /// With `out`: the file, staged for the caller to commit.
    pub staging: Option<Staging>,
}

/// The manifest of one policy of the scenario, checked to parse back as YAML.
pub fn export(req: &ExportRequest) -> Result<Exported, Error> {
    let scenario = config::load(&req.file, &req.overrides)?;
    check_policy_names(&scenario, std::slice::from_ref(&req.policy))?;
    let p = scenario.policies.iter().find(|p| p.name == req.policy).expect("checked above");
    let opts = ExportOptions {
        namespace: req.namespace.clone(),
        prometheus: req.prometheus.clone().unwrap_or_else(|| DEFAULT_PROMETHEUS.to_string()),
        ..ExportOptions::for_scenario(&scenario.name, req.target.as_deref())
    };
    let exported = p.export(&opts).map_err(|e| invalid(e.to_string()))?;
    // What is written must parse back: names, addresses and queries go through the YAML
    // serializer, and the header comment escapes line breaks.
    if let Err(e) = crate::policy::export::yaml_docs(&exported.yaml) {
        return Err(Error::Report(crate::report::ReportError::io(
            req.out.as_deref().unwrap_or(Path::new("<stdout>")),
            format!(
                "the manifest of policy `{}` does not parse back as YAML ({e}); nothing was written; please report this",
                req.policy
            ),
        )));
    }
    let staging = match &req.out {
        Some(path) => Some(crate::command::stage_file(path, exported.yaml.as_bytes(), &[&req.file])?),
        None => None,
    };
    Ok(Exported { yaml: exported.yaml, todo: exported.todo, staging })
}
