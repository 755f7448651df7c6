//! Policies read from the manifests users deploy: `type = "knative"` (a Knative `Service`)
//! with `manifest = "path"`, relative to the scenario file. The manifest is the whole
//! description; the scenario only names it.

use super::error::KeyError;
use super::raw::{PolicyType, RawPolicy};
use super::source::KeyPath;
use crate::policy::PolicySpec;
use crate::policy::knative;
use chrono_tz::Tz;
use std::path::Path;

type R<T> = Result<T, KeyError>;

/// Whether policies of type `t` come from a manifest.
pub(super) fn is_family(t: PolicyType) -> bool {
    matches!(t, PolicyType::Knative)
}

/// Reads the manifest a policy names: (display path, text).
fn read_manifest(path: &KeyPath, p: &RawPolicy, base_dir: &Path) -> R<(String, String)> {
    let rel = p.manifest.as_deref().ok_or_else(|| {
        KeyError::new(
            path.key("manifest"),
            format!("missing required key for type `{}`, expected the path of its manifest", p.kind.name()),
        )
    })?;
    let file = base_dir.join(rel);
    let shown = file.display().to_string();
    let text = std::fs::read_to_string(&file)
        .map_err(|e| KeyError::new(path.key("manifest"), format!("cannot read `{shown}`: {e}")))?;
    Ok((shown, text))
}

/// Builds a manifest-based policy.
pub(super) fn build(path: &KeyPath, p: &RawPolicy, base_dir: &Path, _sim_tz: Tz) -> R<PolicySpec> {
    let (shown, text) = read_manifest(path, p, base_dir)?;
    match p.kind {
        PolicyType::Knative => {
            let spec = knative::parse_manifest(&text, &shown)
                .map_err(|e| KeyError::new(path.key("manifest"), e.to_string()))?;
            Ok(spec.policy_spec(&p.name))
        }
        other => unreachable!("`{}` is not a manifest family", other.name()),
    }
}
