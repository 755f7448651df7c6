//! Policies read from the manifests users deploy, `manifest = "path"` relative to the scenario
//! file: `type = "hpa"` (a HorizontalPodAutoscaler, autoscaling/v2), `type = "keda"` (a KEDA
//! ScaledObject) and `type = "knative"` (a Knative `Service`). The manifest is the whole
//! description; the scenario only names it (and, for hpa and keda, may set the replicas the
//! workload starts with, `initial`).

use super::error::KeyError;
use super::raw::{PolicyType, RawPolicy};
use super::source::KeyPath;
use crate::policy::{PolicyKind, PolicySpec, hpa, keda, knative};
use chrono_tz::Tz;
use std::path::Path;

type R<T> = Result<T, KeyError>;

/// Whether policies of type `t` come from a manifest.
pub(super) fn is_family(t: PolicyType) -> bool {
    matches!(t, PolicyType::Knative | PolicyType::Hpa | PolicyType::Keda)
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
pub(super) fn build(path: &KeyPath, p: &RawPolicy, base_dir: &Path, sim_tz: Tz) -> R<PolicySpec> {
    let (shown, text) = read_manifest(path, p, base_dir)?;
    let bad = |m: String| KeyError::new(path.key("manifest"), m);
    let initial = |min: u32, max: u32, default: u32| -> R<u32> {
        let n = p.initial.unwrap_or(default);
        if n < min || n > max {
            return Err(KeyError::new(
                path.key("initial"),
                format!("found {n}, expected between the manifest's min ({min}) and max ({max})"),
            ));
        }
        Ok(n)
    };
    match p.kind {
        PolicyType::Hpa => {
            let m = hpa::parse_manifest(&text, &shown).map_err(|e| bad(e.to_string()))?;
            let spec = hpa::HpaPolicySpec::from_manifest(&m).map_err(|e| bad(format!("{shown}: {e}")))?;
            let (min, max) = spec.bounds();
            let initial = initial(min, max, min.max(1))?;
            Ok(PolicySpec {
                name: p.name.clone(),
                min,
                max,
                initial,
                kind: PolicyKind::Hpa(spec),
                activator: None,
            })
        }
        PolicyType::Keda => {
            let spec = keda::parse_manifest(&text, &shown, sim_tz).map_err(|e| bad(e.to_string()))?;
            let (min, max, default) = spec.keda.bounds();
            let initial = initial(min, max, default)?;
            Ok(PolicySpec {
                name: p.name.clone(),
                min,
                max,
                initial,
                kind: PolicyKind::Keda(Box::new(spec)),
                activator: None,
            })
        }
        PolicyType::Knative => {
            let spec = knative::parse_manifest(&text, &shown)
                .map_err(|e| KeyError::new(path.key("manifest"), e.to_string()))?;
            Ok(spec.policy_spec(&p.name))
        }
        other => unreachable!("`{}` is not a manifest family", other.name()),
    }
}
