//! `scalesim export`: manifest → policy → manifest keeps every field the simulation uses. Each
//! manifest-based policy of configs/k8s-policies.toml is exported through the real binary, read
//! back as a policy, and compared with the original.

use assert_cmd::Command;
use std::path::PathBuf;

#[test]
fn exported_manifests_simulate_exactly_like_the_originals() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scenario = root.join("configs/k8s-policies.toml");
    let original = scalesim::config::load(&scenario, &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for p in &original.policies {
        let out = dir.path().join(format!("{}.yaml", scalesim::policy::k8s_name(&p.name)));
        Command::cargo_bin("scalesim")
            .unwrap()
            .args(["export"])
            .arg(&scenario)
            .args(["--policy", &p.name, "--out"])
            .arg(&out)
            .assert()
            .success();
        // Point the policy at the exported manifest and load the scenario again.
        let rel = out.to_str().unwrap().to_string();
        let set = format!("policy.{}.manifest={rel:?}", p.name);
        let again = scalesim::config::load(&scenario, &[set]).unwrap();
        let q = again.policies.iter().find(|q| q.name == p.name).unwrap();
        assert_eq!((q.min, q.max, q.initial), (p.min, p.max, p.initial), "{}", p.name);
        assert_eq!(q.kind, p.kind, "{}: the exported manifest simulates differently", p.name);
        assert_eq!(q.activator, p.activator, "{}", p.name);
        // And exporting it again gives the same text.
        assert_eq!(q.to_manifest(), p.to_manifest(), "{}", p.name);
    }
}

#[test]
fn export_refuses_policies_without_a_manifest_form() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Command::cargo_bin("scalesim")
        .unwrap()
        .arg("export")
        .arg(root.join("configs/quickstart.toml"))
        .args(["--policy", "rps-10"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no Kubernetes manifest"));
    Command::cargo_bin("scalesim")
        .unwrap()
        .arg("export")
        .arg(root.join("configs/k8s-policies.toml"))
        .args(["--policy", "hpa-cpux"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("did you mean `hpa-cpu`"));
}
