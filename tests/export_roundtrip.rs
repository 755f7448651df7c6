//! `scalesim export` round trips, through the real binary:
//! * every manifest of configs/k8s/ and tests/fixtures/manifests/ is read as a policy, exported,
//!   and comes back semantically identical YAML (metadata, scaleTargetRef, images, unmodelled
//!   fields), and reading the export gives the same policy; an autoscaling/v1 HPA comes back as
//!   its autoscaling/v2 conversion;
//! * an edit (`--set`, as `tune` makes) rewrites the edited field and nothing else;
//! * the basic policies of configs/quickstart.toml export as an HPA or a KEDA ScaledObject that
//!   scalesim reads back with the same bounds and targets;
//! * fixed and aws keep a clear "no Kubernetes equivalent" error.

use assert_cmd::Command;
use predicates::prelude::*;
use scalesim::policy::{PolicyKind, PolicySpec, keda::KedaTrigger};
use serde_norway::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bin() -> Command {
    Command::cargo_bin("scalesim").unwrap()
}

fn docs(text: &str) -> Vec<Value> {
    scalesim::policy::export::yaml_docs(text).unwrap()
}

fn export(scenario: &Path, policy: &str, extra: &[&str]) -> String {
    let out = bin().arg("export").arg(scenario).args(["--policy", policy]).args(extra).output().unwrap();
    assert!(out.status.success(), "export {policy}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// (scenario, policy name, manifest path) of every manifest-based policy of the scenarios that
/// name the manifests under test.
fn manifest_policies() -> Vec<(PathBuf, String, PathBuf)> {
    let mut out = Vec::new();
    for scenario in ["configs/k8s-policies.toml", "tests/fixtures/manifests/prod.toml"] {
        let path = root().join(scenario);
        let raw: toml::Value = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for p in raw["policy"].as_array().unwrap() {
            if let Some(m) = p.get("manifest").and_then(toml::Value::as_str) {
                let name = p["name"].as_str().unwrap().to_string();
                out.push((path.clone(), name, path.parent().unwrap().join(m)));
            }
        }
    }
    out
}

#[test]
fn every_manifest_under_test_is_named_by_a_scenario() {
    let named: Vec<PathBuf> =
        manifest_policies().into_iter().map(|(_, _, m)| m.canonicalize().unwrap()).collect();
    for dir in ["configs/k8s", "tests/fixtures/manifests"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                assert!(
                    named.contains(&p.canonicalize().unwrap()),
                    "{} is in no round-trip scenario",
                    p.display()
                );
            }
        }
    }
}

fn load(scenario: &Path, set: &[String]) -> Vec<PolicySpec> {
    scalesim::config::load(scenario, set).unwrap().policies
}

#[test]
fn every_manifest_comes_back_as_it_was_read_and_reads_as_the_same_policy() {
    let dir = tempfile::tempdir().unwrap();
    for (scenario, name, manifest) in manifest_policies() {
        let input = std::fs::read_to_string(&manifest).unwrap();
        let out = export(&scenario, &name, &[]);
        let (want, got) = (docs(&input), docs(&out));
        if input.contains("autoscaling/v1") {
            // The API server's conversion: v2, the metrics annotation moved into spec.metrics,
            // the status annotations dropped, everything else as it was.
            assert_eq!(got[0]["apiVersion"], Value::from("autoscaling/v2"), "{name}");
            assert_eq!(got[0]["metadata"]["name"], want[0]["metadata"]["name"], "{name}");
            assert_eq!(got[0]["metadata"]["labels"], want[0]["metadata"]["labels"], "{name}");
            assert_eq!(got[0]["spec"]["scaleTargetRef"], want[0]["spec"]["scaleTargetRef"], "{name}");
            assert_eq!(got[0]["spec"]["maxReplicas"], want[0]["spec"]["maxReplicas"], "{name}");
            assert!(got[0]["spec"].get("targetCPUUtilizationPercentage").is_none(), "{out}");
            assert!(!out.contains("autoscaling.alpha.kubernetes.io"), "{out}");
        } else {
            assert_eq!(
                got,
                want,
                "{name}: export of an unchanged policy differs from {}:\n{out}",
                manifest.display()
            );
        }
        // Reading the export gives the same policy.
        let file = dir.path().join(format!("{}.yaml", scalesim::policy::k8s_name(&name)));
        std::fs::write(&file, &out).unwrap();
        let set = vec![format!("policy.{name}.manifest={:?}", file.to_str().unwrap())];
        let before = load(&scenario, &[]).into_iter().find(|p| p.name == name).unwrap();
        let after = load(&scenario, &set).into_iter().find(|p| p.name == name).unwrap();
        assert_eq!((after.min, after.max, after.initial), (before.min, before.max, before.initial), "{name}");
        assert_eq!(after.activator, before.activator, "{name}");
        assert_eq!(after.kind, before.kind, "{name}: the exported manifest simulates differently");
        // And exporting that again gives the same text.
        assert_eq!(after.to_manifest(), before.to_manifest(), "{name}");
    }
}

#[test]
fn an_edit_rewrites_the_edited_field_and_nothing_else() {
    let scenario = root().join("tests/fixtures/manifests/prod.toml");
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "keda-prod",
            &["policy.keda-prod.target=20", "policy.keda-prod.max=50"],
            &["spec.triggers.0.metadata.threshold", "spec.maxReplicaCount"],
        ),
        (
            "hpa-prod",
            &["policy.hpa-prod.patch.spec.behavior.scaleDown.stabilizationWindowSeconds=300"],
            &["spec.behavior.scaleDown.stabilizationWindowSeconds"],
        ),
        (
            "knative-prod",
            &["policy.knative-prod.annotations.window=30s"],
            &["spec.template.metadata.annotations.autoscaling.knative.dev/window"],
        ),
    ];
    for (name, sets, changed) in cases {
        let mut args = Vec::new();
        for s in *sets {
            args.extend(["--set", s]);
        }
        let plain = docs(&export(&scenario, name, &[]));
        let edited = docs(&export(&scenario, name, &args));
        let mut diffs = Vec::new();
        for (a, b) in plain.iter().zip(&edited) {
            diff(a, b, "", &mut diffs);
        }
        let mut changed: Vec<String> = changed.iter().map(|s| s.to_string()).collect();
        changed.sort();
        diffs.sort();
        assert_eq!(diffs, changed, "{name}");
    }
}

/// The dotted paths at which `a` and `b` differ.
fn diff(a: &Value, b: &Value, at: &str, out: &mut Vec<String>) {
    let join = |k: &str| if at.is_empty() { k.to_string() } else { format!("{at}.{k}") };
    match (a, b) {
        (Value::Mapping(x), Value::Mapping(y)) => {
            for (k, v) in x {
                let key = k.as_str().unwrap();
                match y.get(k) {
                    Some(w) => diff(v, w, &join(key), out),
                    None => out.push(join(key)),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(join(k.as_str().unwrap()));
            }
        }
        (Value::Sequence(x), Value::Sequence(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                diff(v, w, &join(&i.to_string()), out);
            }
        }
        _ if a != b => out.push(at.to_string()),
        _ => {}
    }
}

/// A scenario with one policy read from `manifest`.
fn scenario_reading(kind: &str, manifest: &Path) -> String {
    format!(
        "[simulation]\nname = \"x\"\nduration = \"1h\"\ntimezone = \"Europe/London\"\n[traffic]\nrate = 10.0\n\
         [service]\nworkers = 2\n[service.demand]\ndistribution = \"exponential\"\nmean = \"100ms\"\n\
         [[policy]]\nname = \"p\"\ntype = \"{kind}\"\nmanifest = {:?}\n",
        manifest.to_str().unwrap()
    )
}

#[test]
fn basic_policies_export_as_an_hpa_or_a_scaled_object_that_reads_back() {
    let quickstart = root().join("configs/quickstart.toml");
    let policies = load(&quickstart, &[]);
    let dir = tempfile::tempdir().unwrap();
    for (name, kind) in [("cpu-60", "hpa"), ("rps-10", "keda"), ("office-hours+rps", "keda")] {
        let out = export(&quickstart, name, &["--target", "api", "--namespace", "prod"]);
        assert!(out.starts_with("# "), "a header says what is exact and approximate: {out}");
        assert!(out.contains("# Exact:") && out.contains("# Approximations"), "{out}");
        let d = docs(&out);
        assert_eq!(d[0]["metadata"]["namespace"], Value::from("prod"), "{out}");
        assert_eq!(d[0]["spec"]["scaleTargetRef"]["name"], Value::from("api"), "{out}");
        let file = dir.path().join(format!("{}.yaml", scalesim::policy::k8s_name(name)));
        std::fs::write(&file, &out).unwrap();
        let text = scenario_reading(kind, &file);
        let sc = scalesim::config::load_str(&text, "x.toml", dir.path(), &[])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (orig, back) = (policies.iter().find(|p| p.name == name).unwrap(), &sc.policies[0]);
        assert_eq!((back.min, back.max), (orig.min, orig.max), "{name}");
        let PolicyKind::Basic(b) = &orig.kind else { panic!("{name} is basic") };
        match &back.kind {
            PolicyKind::Hpa(h) => {
                let m = &h.hpa.metrics[0].resource.as_ref().unwrap().target;
                assert_eq!(m.average_utilization, Some(60));
                let down = h.hpa.behavior.as_ref().unwrap().scale_down.as_ref().unwrap();
                assert_eq!(down.stabilization_window_seconds, Some(300), "scale_down_stabilization 5m");
            }
            PolicyKind::Keda(k) => {
                assert_eq!(k.keda.polling_interval, b.interval, "{name}");
                let thresholds: Vec<f64> = k
                    .keda
                    .triggers
                    .iter()
                    .filter_map(|t| match t {
                        KedaTrigger::Prometheus { threshold, .. } => Some(*threshold),
                        _ => None,
                    })
                    .collect();
                assert_eq!(thresholds, vec![10.0], "{name}");
                let crons: Vec<_> = k
                    .keda
                    .triggers
                    .iter()
                    .filter_map(|t| match t {
                        KedaTrigger::Cron { window } => Some(window.as_ref().clone()),
                        _ => None,
                    })
                    .collect();
                assert_eq!(crons, b.schedules, "{name}");
            }
            other => panic!("{name}: read back as {other:?}"),
        }
    }
}

#[test]
fn export_refuses_policies_without_a_kubernetes_equivalent() {
    bin()
        .arg("export")
        .arg(root().join("configs/quickstart.toml"))
        .args(["--policy", "fixed-20"])
        .assert()
        .code(2)
        .stderr(
            predicates::str::contains("no Kubernetes equivalent")
                .and(predicates::str::contains("spec.replicas: 20")),
        );
    bin()
        .arg("export")
        .arg(root().join("configs/aws-target-tracking.toml"))
        .args(["--policy", "tt-cpu-50"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no Kubernetes equivalent"));
    bin()
        .arg("export")
        .arg(root().join("configs/k8s-policies.toml"))
        .args(["--policy", "hpa-cpux"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("did you mean `hpa-cpu`"));
}

#[test]
fn quiet_silences_the_wrote_lines_but_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.yaml");
    let scenario = root().join("configs/k8s-policies.toml");
    bin()
        .arg("export")
        .arg(&scenario)
        .args(["--policy", "hpa-cpu", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr(predicates::str::contains("wrote"));
    bin()
        .args(["export", "--quiet"])
        .arg(&scenario)
        .args(["--policy", "hpa-cpu", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stderr("");
    bin()
        .args(["--quiet", "export"])
        .arg(&scenario)
        .args(["--policy", "nope"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("error:"));
}
