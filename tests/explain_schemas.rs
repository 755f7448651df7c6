//! The case formats of `explain hpa` and `explain kpa` are documented by JSON schemas
//! (docs/explain-hpa.schema.json, docs/explain-kpa.schema.json): every case under
//! tests/explain/ and the cases `explain decision --case` writes validate against them.

#[path = "common/schema.rs"]
mod schema;

use serde_json::Value;
use std::path::Path;

fn load_schema(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn cases(dir: &str) -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain").join(dir);
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        // A manifest followed by the case (two documents) is the manifest form, described in
        // the schema's text; the schema covers the one-document form.
        if text.contains("\n---") {
            continue;
        }
        out.push((p.display().to_string(), serde_norway::from_str(&text).unwrap()));
    }
    assert!(!out.is_empty());
    out
}

#[test]
fn every_hpa_case_matches_the_schema() {
    let s = load_schema("explain-hpa.schema.json");
    for (name, case) in cases("hpa") {
        schema::validate(&case, &s, &s, &name);
    }
}

#[test]
fn every_kpa_case_matches_the_schema() {
    let s = load_schema("explain-kpa.schema.json");
    for (name, case) in cases("kpa") {
        schema::validate(&case, &s, &s, &name);
    }
}

#[test]
fn written_cases_match_the_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/k8s-policies.toml");
    for (policy, schema_name) in [
        ("hpa-fast", "explain-hpa.schema.json"),
        ("keda-rps", "explain-hpa.schema.json"),
        ("knative-concurrency", "explain-kpa.schema.json"),
    ] {
        let case = dir.path().join(format!("{policy}.json"));
        assert_cmd::Command::cargo_bin("scalesim")
            .unwrap()
            .args(["explain", "decision"])
            .arg(&file)
            .args(["--set", "simulation.duration=30m", "--policy", policy, "--at", "600", "--case"])
            .arg(&case)
            .assert()
            .success();
        let v: Value = serde_json::from_slice(&std::fs::read(&case).unwrap()).unwrap();
        let s = load_schema(schema_name);
        schema::validate(&v, &s, &s, policy);
    }
}
