//! `scalesim explain hpa` on every case under tests/explain/hpa: the reference's golden cases
//! (A*, B*, C*, D*) and cases derived from the upstream tests (U*). Each file's header holds
//! `# expect: N`, the `desiredReplicas` upstream decides.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn cases() -> Vec<(PathBuf, u32)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain/hpa");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if !matches!(path.extension().and_then(|x| x.to_str()), Some("yaml" | "yml" | "json")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} has no `# expect: N` header", path.display()))
            .trim()
            .parse()
            .unwrap();
        out.push((path, expect));
    }
    out.sort();
    out
}

fn scalesim() -> Command {
    Command::cargo_bin("scalesim").unwrap()
}

#[test]
fn every_golden_case_is_present() {
    let names: Vec<String> =
        cases().iter().map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for id in [
        "A1", "A2", "A4", "A5", "A6", "A9", "A11", "A13", "A14", "A18", "A21", "A25", "B1", "B4", "B8", "B9",
        "C1", "C2", "C4", "C6", "C8", "C9", "C13", "D1", "D3", "D5",
    ] {
        assert!(names.iter().any(|n| n.starts_with(&format!("{id}-"))), "missing case {id}");
    }
    assert!(names.iter().filter(|n| n.starts_with('U')).count() >= 8, "at least 8 upstream-derived cases");
}

#[test]
fn text_output_ends_with_the_upstream_decision() {
    let mut failures = Vec::new();
    for (path, expect) in cases() {
        let out = scalesim().args(["explain", "hpa"]).arg(&path).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout.lines().last().unwrap_or("");
        if !out.status.success() || last != format!("desiredReplicas: {expect}") {
            failures.push(format!(
                "{}: expected {expect}, got `{last}`\n{stdout}{}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn json_output_has_the_decision_and_its_parts() {
    for (path, expect) in cases() {
        let out = scalesim().args(["explain", "hpa", "--json"]).arg(&path).output().unwrap();
        assert!(out.status.success(), "{}", path.display());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["desiredReplicas"], expect, "{}", path.display());
        assert!(v["metrics"].is_array() && v["reason"].is_string(), "{}", path.display());
        assert!(v.get("stabilized").is_some() && v.get("proposal").is_some());
    }
}

#[test]
fn a1_explains_its_arithmetic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain/hpa/A1-scale-up.yaml");
    let out = scalesim().args(["explain", "hpa"]).arg(&path).assert().success().get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("utilization 50% = 1500m used / 3 requested"), "{text}");
    assert!(text.contains("ceil(1.6667 × 3 ready) = 5"), "{text}");
    let out = scalesim()
        .args(["explain", "hpa", "--json"])
        .arg(&path)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!((v["metrics"][0]["proposal"].as_i64(), v["stabilized"].as_i64()), (Some(5), Some(5)));
}

#[test]
fn invalid_cases_name_the_field_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for (text, field) in [
        ("hpa: {maxReplicas: 3}\nnow: 0\n", "currentReplicas"),
        ("hpa: {maxReplicas: 0}\nnow: 0\ncurrentReplicas: 1\n", "hpa.maxReplicas"),
        (
            "hpa: {maxReplicas: 3, behavior: {scaleUp: {policies: [{type: Pods, value: 1, periodSeconds: 0}]}}}\nnow: 0\ncurrentReplicas: 1\n",
            "hpa.behavior.scaleUp.policies[0].periodSeconds: found 0, expected 1..=1800",
        ),
        (
            "hpa: {maxReplicas: 3}\nnow: 0\ncurrentReplicas: 1\npods: [{name: a, phase: Sleeping}]\n",
            "Sleeping",
        ),
        (
            "{\"hpa\": {\"maxReplicas\": 3}, \"now\": 0, \"currentReplicas\": 1, \"tolerance\": 1}",
            "tolerance",
        ),
    ] {
        let path = dir.path().join("case.yaml");
        std::fs::write(&path, text).unwrap();
        let out = scalesim().args(["explain", "hpa"]).arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field), "{text}: {err}");
    }
}

#[test]
fn json_cases_work_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.json");
    std::fs::write(
        &path,
        r#"{"hpa": {"minReplicas": 2, "maxReplicas": 6}, "now": 100, "currentReplicas": 1}"#,
    )
    .unwrap();
    scalesim()
        .args(["explain", "hpa"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicates::str::ends_with("desiredReplicas: 2\n"));
}
