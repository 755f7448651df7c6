//! Every manifest `scalesim export` writes validates against the real schema: HPAs against the
//! Kubernetes OpenAPI schema (`kubernetes-validate --strict`), KEDA ScaledObjects and Knative
//! Services against the openAPIV3Schema of their upstream CRDs (vendored in
//! tests/fixtures/crds/, see NOTICE there), with Python's `jsonschema` under the API server's
//! strict field validation (tests/fixtures/crds/validate_crd.py).
//!
//! The tools come from PyPI (`pip install kubernetes-validate jsonschema`, as .ci/run does).
//! With SCALESIM_REQUIRE_TOOLS set (CI) a missing tool fails the test; otherwise the check is
//! skipped with a message.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Whether the tools are there; `false` (after a message) means skip. Panics when they are
/// required.
fn have(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    let m = format!("{what} is not installed (python3 -m pip install kubernetes-validate jsonschema)");
    if std::env::var_os("SCALESIM_REQUIRE_TOOLS").is_some() {
        panic!("{m}");
    }
    eprintln!("SKIPPED the schema check: {m}");
    false
}

fn python_with_jsonschema() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "import jsonschema, yaml"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Exports `policy` of `scenario` into `dir`, returning the file.
fn export(dir: &Path, scenario: &str, policy: &str) -> PathBuf {
    let file = dir.join(format!("{}.yaml", scalesim::policy::k8s_name(policy)));
    let out = Command::cargo_bin("scalesim")
        .unwrap()
        .arg("export")
        .arg(root().join(scenario))
        .args(["--policy", policy, "--target", "api", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "export {policy}: {}", String::from_utf8_lossy(&out.stderr));
    file
}

fn run(cmd: &mut std::process::Command) -> (bool, String) {
    let o = cmd.output().unwrap();
    (
        o.status.success(),
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)),
    )
}

fn kubernetes_validate(file: &Path) -> (bool, String) {
    run(std::process::Command::new(tool("kubernetes-validate").unwrap()).arg("--strict").arg(file))
}

fn crd_validate(crd: &str, file: &Path) -> (bool, String) {
    run(std::process::Command::new("python3")
        .arg(root().join("tests/fixtures/crds/validate_crd.py"))
        .arg(root().join("tests/fixtures/crds").join(crd))
        .arg(file))
}

#[test]
fn exported_hpas_validate_against_the_kubernetes_schema() {
    if !have("kubernetes-validate", tool("kubernetes-validate").is_some()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("configs/k8s-policies.toml", "hpa-cpu"),
        ("configs/k8s-policies.toml", "hpa-fast"),
        ("tests/fixtures/manifests/prod.toml", "hpa-prod"),
        ("tests/fixtures/manifests/prod.toml", "hpa-v1"),
        ("tests/fixtures/manifests/prod.toml", "hpa-v1-plain"),
        ("configs/quickstart.toml", "cpu-60"),
    ];
    for (scenario, policy) in cases {
        let file = export(dir.path(), scenario, policy);
        let (ok, text) = kubernetes_validate(&file);
        assert!(ok && text.contains("passed"), "{policy}: kubernetes-validate: {text}");
    }
    // The check can fail: an unknown field is refused.
    let bad = dir.path().join("bad.yaml");
    let good = std::fs::read_to_string(dir.path().join("hpa-cpu.yaml")).unwrap();
    std::fs::write(&bad, good.replace("maxReplicas:", "maxReplica:")).unwrap();
    let (ok, text) = kubernetes_validate(&bad);
    assert!(!ok, "kubernetes-validate accepted maxReplica: {text}");
}

#[test]
fn exported_scaled_objects_and_services_validate_against_their_crds() {
    if !have("python3 with jsonschema and PyYAML", python_with_jsonschema()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keda = "keda.sh_scaledobjects.yaml";
    let knative = "serving.knative.dev_services.yaml";
    let cases = [
        ("configs/k8s-policies.toml", "keda-rps", keda),
        ("configs/k8s-policies.toml", "keda-cron+rps", keda),
        ("tests/fixtures/manifests/prod.toml", "keda-prod", keda),
        ("configs/quickstart.toml", "rps-10", keda),
        ("configs/quickstart.toml", "office-hours+rps", keda),
        ("configs/k8s-policies.toml", "knative-concurrency", knative),
        ("tests/fixtures/manifests/prod.toml", "knative-prod", knative),
    ];
    for (scenario, policy, crd) in cases {
        let file = export(dir.path(), scenario, policy);
        let (ok, text) = crd_validate(crd, &file);
        assert!(ok && text.contains("valid against"), "{policy}: {text}");
    }
    // The check can fail: a misspelt field and a wrong type are refused.
    let good = std::fs::read_to_string(dir.path().join("keda-rps.yaml")).unwrap();
    for (from, to) in
        [("pollingInterval:", "pollingIntervl:"), ("minReplicaCount: 5", "minReplicaCount: five")]
    {
        let bad = dir.path().join("bad.yaml");
        std::fs::write(&bad, good.replace(from, to)).unwrap();
        let (ok, text) = crd_validate(keda, &bad);
        assert!(!ok, "{to}: accepted: {text}");
    }
    let good = std::fs::read_to_string(dir.path().join("knative-prod.yaml")).unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, good.replace("containerConcurrency: 20", "containerConcurrency: lots")).unwrap();
    let (ok, text) = crd_validate(knative, &bad);
    assert!(!ok, "containerConcurrency: lots accepted: {text}");
}
