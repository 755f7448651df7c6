//! Scenario-side edits of a manifest-based policy (`type = "hpa" | "keda" | "knative"`), so that
//! `--set`, `scalesim tune --vary` and a scenario file can change what the manifest says without
//! copying it.
//!
//! One mechanism: every edit is a (YAML path, value) pair applied to the manifest's YAML before
//! it is parsed. Two ways to write them:
//! * `patch = { spec = { maxReplicas = 40 } }` (or `--set policy.NAME.patch.spec.maxReplicas=40`):
//!   a merge patch — tables merge key by key, anything else replaces — where a key that is a
//!   number addresses an element of a YAML list (`patch.spec.metrics.0.resource.target.
//!   averageUtilization = 70`). For a Knative `Service` it applies to the Service document.
//! * Short keys for the fields people tune, each a documented YAML path: `min_replicas`,
//!   `max_replicas` (aliases `min`, `max`), `target` (the one metric's / trigger's target),
//!   `polling_interval` and `cooldown_period` (keda), and for knative `annotations = { window =
//!   "30s" }` (an annotation name without a `/` means `autoscaling.knative.dev/<name>`).
//!
//! A value replacing a string stays a string (KEDA's `threshold: "10"`), so `target = 12`
//! writes `"12"` there.

use super::error::KeyError;
use super::raw::{PolicyType, RawPolicy};
use super::source::KeyPath;
use serde::Deserialize;
use serde_norway::{Mapping, Value};

type R<T> = Result<T, KeyError>;

/// One edit: where in the manifest, what value, and which scenario key asked for it.
#[derive(Debug, Clone)]
struct Edit {
    yaml: Vec<String>,
    value: Value,
    key: KeyPath,
}

/// Whether the policy carries any edit of its manifest.
pub(super) fn has_edits(p: &RawPolicy) -> bool {
    p.patch.is_some()
        || p.annotations.is_some()
        || p.min_replicas.is_some()
        || p.max_replicas.is_some()
        || p.min.is_some()
        || p.max.is_some()
        || p.target.is_some()
        || (p.kind == PolicyType::Keda && (p.polling_interval.is_some() || p.cooldown_period.is_some()))
}

/// The manifest text with the policy's edits applied (`text` itself when there are none).
pub(super) fn apply(path: &KeyPath, p: &RawPolicy, text: &str, shown: &str) -> R<String> {
    if !has_edits(p) {
        return Ok(text.to_string());
    }
    let at = path.key("manifest");
    let mut docs = Vec::new();
    for de in serde_norway::Deserializer::from_str(text) {
        let v = Value::deserialize(de)
            .map_err(|e| KeyError::new(at.clone(), format!("cannot read `{shown}` as YAML: {e}")))?;
        if !v.is_null() {
            docs.push(v);
        }
    }
    // The document the edits apply to: the Service for knative, the only document otherwise.
    let target = match p.kind {
        PolicyType::Knative => {
            docs.iter().position(|d| d.get("kind").and_then(Value::as_str) == Some("Service"))
        }
        _ => (!docs.is_empty()).then_some(0),
    }
    .ok_or_else(|| KeyError::new(at.clone(), format!("`{shown}` holds no manifest to edit")))?;
    let doc = &mut docs[target];
    for e in edits(path, p, doc)? {
        set(doc, &e.yaml, e.value).map_err(|m| KeyError::new(e.key.clone(), m))?;
    }
    let mut out = String::new();
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let s = serde_norway::to_string(d)
            .map_err(|e| KeyError::new(at.clone(), format!("cannot write the edited manifest: {e}")))?;
        out.push_str(&s);
    }
    Ok(out)
}

/// Converts a TOML value (from the scenario) into YAML.
fn yaml_of(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::Number((*i).into()),
        toml::Value::Float(f) => Value::Number((*f).into()),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Sequence(a.iter().map(yaml_of).collect()),
        toml::Value::Table(t) => {
            let mut m = Mapping::new();
            for (k, v) in t {
                m.insert(Value::String(k.clone()), yaml_of(v));
            }
            Value::Mapping(m)
        }
    }
}

fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::Number((x as i64).into())
    } else {
        Value::Number(x.into())
    }
}

/// The edits a policy asks for, in a fixed order: short keys first, then `patch`.
fn edits(path: &KeyPath, p: &RawPolicy, doc: &Value) -> R<Vec<Edit>> {
    let mut out = Vec::new();
    let mut push = |yaml: &[&str], value: Value, key: KeyPath| {
        out.push(Edit { yaml: yaml.iter().map(|s| s.to_string()).collect(), value, key })
    };
    let both = |a: Option<u32>, b: Option<u32>, name: &str, alias: &str| -> R<Option<(u32, KeyPath)>> {
        match (a, b) {
            (Some(_), Some(_)) => Err(KeyError::new(
                path.key(alias),
                format!("`{alias}` and `{name}` are the same setting; give one"),
            )),
            (Some(v), None) => Ok(Some((v, path.key(name)))),
            (None, Some(v)) => Ok(Some((v, path.key(alias)))),
            (None, None) => Ok(None),
        }
    };
    let min = both(p.min_replicas, p.min, "min_replicas", "min")?;
    let max = both(p.max_replicas, p.max, "max_replicas", "max")?;
    let knative_annotation = |name: &str| -> String {
        if name.contains('/') { name.to_string() } else { format!("autoscaling.knative.dev/{name}") }
    };
    const ANN: [&str; 4] = ["spec", "template", "metadata", "annotations"];
    match p.kind {
        PolicyType::Hpa => {
            if let Some((v, k)) = min {
                push(&["spec", "minReplicas"], num(v as f64), k);
            }
            if let Some((v, k)) = max {
                push(&["spec", "maxReplicas"], num(v as f64), k);
            }
            if let Some(t) = p.target {
                let at = path.key("target");
                let yaml = hpa_target_path(doc).map_err(|m| KeyError::new(at.clone(), m))?;
                push(&yaml.iter().map(String::as_str).collect::<Vec<_>>(), num(t), at);
            }
        }
        PolicyType::Keda => {
            if let Some((v, k)) = min {
                push(&["spec", "minReplicaCount"], num(v as f64), k);
            }
            if let Some((v, k)) = max {
                push(&["spec", "maxReplicaCount"], num(v as f64), k);
            }
            let secs = |d: super::values::Dur, key: &str| -> R<Value> {
                let t = d.time();
                if t == 0 || !t.is_multiple_of(crate::time::SECOND) {
                    return Err(KeyError::new(
                        path.key(key),
                        "expected a positive whole number of seconds (KEDA counts in seconds)",
                    ));
                }
                Ok(num((t / crate::time::SECOND) as f64))
            };
            if let Some(d) = p.polling_interval {
                push(
                    &["spec", "pollingInterval"],
                    secs(d, "polling_interval")?,
                    path.key("polling_interval"),
                );
            }
            if let Some(d) = p.cooldown_period {
                push(&["spec", "cooldownPeriod"], secs(d, "cooldown_period")?, path.key("cooldown_period"));
            }
            if let Some(t) = p.target {
                let at = path.key("target");
                let yaml = keda_target_path(doc).map_err(|m| KeyError::new(at.clone(), m))?;
                push(&yaml.iter().map(String::as_str).collect::<Vec<_>>(), Value::String(fmt_num(t)), at);
            }
        }
        PolicyType::Knative => {
            let mut ann = |name: &str, v: Value, key: KeyPath| {
                let full = knative_annotation(name);
                let mut yaml: Vec<&str> = ANN.to_vec();
                yaml.push(&full);
                push(&yaml, v, key);
            };
            if let Some((v, k)) = min {
                ann("min-scale", Value::String(v.to_string()), k);
            }
            if let Some((v, k)) = max {
                ann("max-scale", Value::String(v.to_string()), k);
            }
            if let Some(t) = p.target {
                ann("target", Value::String(fmt_num(t)), path.key("target"));
            }
            if let Some(a) = &p.annotations {
                for (name, v) in a {
                    let s = match v {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Integer(i) => i.to_string(),
                        toml::Value::Float(f) => fmt_num(*f),
                        toml::Value::Boolean(b) => b.to_string(),
                        other => {
                            return Err(KeyError::new(
                                path.key("annotations").key(name),
                                format!("found {}, expected a string or a number", other.type_str()),
                            ));
                        }
                    };
                    ann(name, Value::String(s), path.key("annotations").key(name));
                }
            }
        }
        _ => {}
    }
    if let Some(t) = &p.patch {
        let mut leaves = Vec::new();
        flatten(t, &mut Vec::new(), &mut leaves);
        for (yaml, v) in leaves {
            let mut key = path.key("patch");
            for s in &yaml {
                key = key.key(s);
            }
            out.push(Edit { yaml, value: yaml_of(v), key });
        }
    }
    Ok(out)
}

/// A number as a manifest string: `12`, `0.5`.
fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
}

fn flatten<'a>(t: &'a toml::Table, prefix: &mut Vec<String>, out: &mut Vec<(Vec<String>, &'a toml::Value)>) {
    for (k, v) in t {
        prefix.push(k.clone());
        match v {
            toml::Value::Table(inner) if !inner.is_empty() => flatten(inner, prefix, out),
            _ => out.push((prefix.clone(), v)),
        }
        prefix.pop();
    }
}

/// Where the target of an HPA's one metric lives: `spec.metrics.0.<source>.target.<field>`.
fn hpa_target_path(doc: &Value) -> Result<Vec<String>, String> {
    let metrics = doc.get("spec").and_then(|s| s.get("metrics")).and_then(Value::as_sequence);
    let Some(metrics) = metrics.filter(|m| !m.is_empty()) else {
        return Err("the manifest has no spec.metrics to set the target of".into());
    };
    if metrics.len() > 1 {
        return Err(format!(
            "the manifest has {} metrics, so `target` is ambiguous; set one with patch.spec.metrics.<index>.<source>.target.<field>",
            metrics.len()
        ));
    }
    let m = &metrics[0];
    let source = match m.get("type").and_then(Value::as_str) {
        Some("Resource") => "resource",
        Some("Pods") => "pods",
        Some("Object") => "object",
        Some("External") => "external",
        Some("ContainerResource") => "containerResource",
        other => {
            return Err(format!(
                "spec.metrics[0].type is {other:?}, expected Resource, Pods, Object, External or ContainerResource"
            ));
        }
    };
    let target = m.get(source).and_then(|s| s.get("target"));
    let field = ["averageUtilization", "averageValue", "value"]
        .into_iter()
        .find(|f| target.and_then(|t| t.get(*f)).is_some())
        .ok_or_else(|| {
            format!("spec.metrics[0].{source}.target has none of averageUtilization, averageValue, value")
        })?;
    Ok(["spec", "metrics", "0", source, "target", field].iter().map(|s| s.to_string()).collect())
}

/// Where the target of a ScaledObject's one scaling trigger lives: its `metadata.threshold`
/// (or `metadata.value` for cpu and memory). Cron triggers set replicas, not a target.
fn keda_target_path(doc: &Value) -> Result<Vec<String>, String> {
    let triggers = doc.get("spec").and_then(|s| s.get("triggers")).and_then(Value::as_sequence);
    let Some(triggers) = triggers else { return Err("the manifest has no spec.triggers".into()) };
    let scaling: Vec<usize> = (0..triggers.len())
        .filter(|&i| triggers[i].get("type").and_then(Value::as_str) != Some("cron"))
        .collect();
    let i = match scaling.as_slice() {
        [i] => *i,
        [] => return Err("the manifest has only cron triggers, which have no target".into()),
        many => {
            return Err(format!(
                "the manifest has {} non-cron triggers, so `target` is ambiguous; set one with patch.spec.triggers.<index>.metadata.threshold",
                many.len()
            ));
        }
    };
    let md = triggers[i].get("metadata");
    let field = ["threshold", "value"]
        .into_iter()
        .find(|f| md.and_then(|m| m.get(*f)).is_some())
        .ok_or_else(|| format!("spec.triggers[{i}].metadata has neither `threshold` nor `value`"))?;
    Ok(vec!["spec".into(), "triggers".into(), i.to_string(), "metadata".into(), field.into()])
}

/// Sets `value` at `path` in `doc`, creating mappings on the way; a numeric step indexes a list.
fn set(doc: &mut Value, path: &[String], value: Value) -> Result<(), String> {
    let mut here = doc;
    let mut walked = String::new();
    for (i, step) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        let shown = if walked.is_empty() { "the manifest".to_string() } else { walked.clone() };
        here = match here {
            Value::Sequence(seq) => {
                let n = step.parse::<usize>().map_err(|_| {
                    format!(
                        "{shown} is a list; address its elements by index (0 to {})",
                        seq.len().saturating_sub(1)
                    )
                })?;
                let len = seq.len();
                seq.get_mut(n)
                    .ok_or_else(|| format!("index {n} is out of range: {shown} has {len} elements"))?
            }
            Value::Mapping(m) => {
                let k = Value::String(step.clone());
                if !m.contains_key(&k) {
                    m.insert(k.clone(), if last { Value::Null } else { Value::Mapping(Mapping::new()) });
                }
                m.get_mut(&k).ok_or("cannot insert")?
            }
            Value::Null => {
                *here = Value::Mapping(Mapping::new());
                let Value::Mapping(m) = here else { unreachable!() };
                let k = Value::String(step.clone());
                m.insert(k.clone(), if last { Value::Null } else { Value::Mapping(Mapping::new()) });
                m.get_mut(&k).ok_or("cannot insert")?
            }
            other => {
                return Err(format!("{shown} is {}, not a mapping or list", kind(other)));
            }
        };
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(step);
    }
    *here = match (&*here, value) {
        // Keep a string a string: KEDA and Knative read their numbers from strings.
        (Value::String(_), Value::Number(n)) => Value::String(n.to_string()),
        (_, v) => v,
    };
    Ok(())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(y: &str) -> Value {
        serde_norway::from_str(y).unwrap()
    }

    #[test]
    fn set_creates_mappings_and_indexes_lists() {
        let mut d = doc("spec:\n  metrics:\n    - type: Resource\n      resource: {name: cpu}\n");
        set(
            &mut d,
            &["spec".into(), "behavior".into(), "scaleDown".into(), "stabilizationWindowSeconds".into()],
            num(60.0),
        )
        .unwrap();
        set(
            &mut d,
            &["spec".into(), "metrics".into(), "0".into(), "resource".into(), "name".into()],
            Value::String("memory".into()),
        )
        .unwrap();
        let s = serde_norway::to_string(&d).unwrap();
        assert!(s.contains("stabilizationWindowSeconds: 60"), "{s}");
        assert!(s.contains("name: memory"), "{s}");
        let e =
            set(&mut d, &["spec".into(), "metrics".into(), "3".into(), "x".into()], num(1.0)).unwrap_err();
        assert!(e.contains("index 3 is out of range: spec.metrics has 1 elements"), "{e}");
        let e = set(&mut d, &["spec".into(), "metrics".into(), "x".into()], num(1.0)).unwrap_err();
        assert!(e.contains("is a list"), "{e}");
    }

    #[test]
    fn strings_stay_strings() {
        let mut d = doc("metadata: {threshold: \"10\"}\n");
        set(&mut d, &["metadata".into(), "threshold".into()], num(12.0)).unwrap();
        assert_eq!(d["metadata"]["threshold"], Value::String("12".into()));
    }

    #[test]
    fn targets_are_found_or_refused() {
        let hpa = doc(
            "spec:\n  metrics:\n    - type: Pods\n      pods:\n        metric: {name: x}\n        target: {type: AverageValue, averageValue: \"5\"}\n",
        );
        assert_eq!(hpa_target_path(&hpa).unwrap().join("."), "spec.metrics.0.pods.target.averageValue");
        let two = doc("spec:\n  metrics:\n    - type: Resource\n    - type: Resource\n");
        assert!(hpa_target_path(&two).unwrap_err().contains("ambiguous"));
        let keda = doc(
            "spec:\n  triggers:\n    - type: cron\n      metadata: {start: x}\n    - type: cpu\n      metadata: {value: \"60\"}\n",
        );
        assert_eq!(keda_target_path(&keda).unwrap().join("."), "spec.triggers.1.metadata.value");
    }
}
