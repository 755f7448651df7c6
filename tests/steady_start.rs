//! Starting in steady state (`simulation.initial`, issue 20 item 5): an HPA and an rps policy
//! with min 3 facing 73 req/s at midnight start at the 8 replicas the rate needs, so the first
//! minute has no SLO violation and no `queue_full` failure; with `simulation.initial = "min"`
//! they start at 3 and the first minute shows both. `validate` says what each starts with and
//! why.

use assert_cmd::Command;
use predicates::str::contains;
use std::path::Path;

const HPA: &str = "apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 3
  maxReplicas: 20
  metrics:
    - type: Pods
      pods:
        metric:
          name: requests_per_second
        target:
          type: AverageValue
          averageValue: \"10\"
";

/// 73 req/s from midnight; replicas of 2 workers at 100 ms (20 req/s at saturation), a short
/// queue, 20–40 s to start.
fn scenario(initial: Option<&str>) -> String {
    let initial = initial.map_or(String::new(), |i| format!("initial = \"{i}\"\n"));
    format!(
        "[simulation]
name = \"steady\"
duration = \"10m\"
start = \"2025-03-04T00:00:00\"
seed = 3
{initial}
[simulation.slo]
latency_percentile = 99
latency = \"500ms\"
error_rate = \"1%\"

[traffic]
rate = 73

[service]
workers = 2
queue_limit = 10
timeout = \"10s\"

[service.demand]
distribution = \"lognormal\"
mean = \"100ms\"
p99 = \"300ms\"

[service.startup]
distribution = \"uniform\"
min = \"20s\"
max = \"40s\"

[[policy]]
name = \"rps-10\"
type = \"rps\"
target = 10
window = \"1m\"
min = 3
max = 20
interval = \"30s\"

[[policy]]
name = \"hpa\"
type = \"hpa\"
manifest = \"hpa.yaml\"
"
    )
}

fn write(dir: &Path, initial: Option<&str>) -> std::path::PathBuf {
    std::fs::write(dir.join("hpa.yaml"), HPA).unwrap();
    let p = dir.join("s.toml");
    std::fs::write(&p, scenario(initial)).unwrap();
    p
}

/// Per policy: (SLO-violating minutes, queue_full failures in the first minute, replicas ready
/// in the first minute's row).
fn first_minute(dir: &Path, initial: Option<&str>) -> Vec<(String, f64, u64, u64)> {
    let config = write(dir, initial);
    let out = dir.join("out");
    Command::cargo_bin("scalesim")
        .unwrap()
        .args(["-q", "run", "--no-oracle"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let ts = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    let mut lines = ts.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (policy, start, qf, ready) =
        (col("policy"), col("start_s"), col("failed_queue_full"), col("replicas_ready_min"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    summary["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let name = p["policy"].as_str().unwrap().to_string();
            let row = rows.iter().find(|r| r[policy] == name && r[start] == "0").expect("first minute");
            (
                name,
                p["slo_violation_minutes"].as_f64().unwrap(),
                row[qf].parse().unwrap(),
                row[ready].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn steady_start_has_no_start_up_artefact() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = first_minute(tmp.path(), None);
    assert_eq!(runs.len(), 2);
    for (name, slo_min, queue_full, ready) in runs {
        assert_eq!(ready, 8, "{name} starts at ceil(73 / 10) ready replicas");
        assert_eq!(queue_full, 0, "{name}: no queue_full in the first minute");
        assert_eq!(slo_min, 0.0, "{name}: no SLO-violating minute");
    }
}

#[test]
fn starting_at_min_shows_the_artefact() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = first_minute(tmp.path(), Some("min"));
    for (name, slo_min, queue_full, ready) in runs {
        assert_eq!(ready, 3, "{name} starts at its min");
        assert!(queue_full > 0, "{name}: 73 req/s on 3 replicas of 20 req/s overflow their queues");
        assert!(slo_min >= 1.0, "{name}: the first minute violates the SLO ({slo_min})");
    }
}

#[test]
fn validate_says_what_each_policy_starts_with() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write(tmp.path(), None);
    Command::cargo_bin("scalesim")
        .unwrap()
        .arg("validate")
        .arg(&config)
        .assert()
        .success()
        .stdout(contains("starts with 8 replicas: steady state at λ(0) = 73.00 req/s"));
    let config = write(tmp.path(), Some("min"));
    Command::cargo_bin("scalesim")
        .unwrap()
        .arg("validate")
        .arg(&config)
        .assert()
        .success()
        .stdout(contains("starts with 3 replicas: its min (simulation.initial = \"min\")"));
    // A fixed policy is fixed, whatever the mode.
    Command::cargo_bin("scalesim")
        .unwrap()
        .args(["validate", "configs/quickstart.toml"])
        .assert()
        .success()
        .stdout(contains("starts with 20 replicas: fixed"))
        .stdout(contains("starts with 7 replicas: steady state at λ(0) = 60.05 req/s"));
}

#[test]
fn a_policy_initial_wins_and_a_bad_mode_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write(tmp.path(), None);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("interval = \"30s\"", "interval = \"30s\"\ninitial = 5");
    std::fs::write(&config, text).unwrap();
    Command::cargo_bin("scalesim")
        .unwrap()
        .arg("validate")
        .arg(&config)
        .assert()
        .success()
        .stdout(contains("starts with 5 replicas: its `initial`"));
    let config = write(tmp.path(), Some("steddy"));
    Command::cargo_bin("scalesim")
        .unwrap()
        .arg("validate")
        .arg(&config)
        .assert()
        .code(2)
        .stderr(contains("simulation.initial: found `steddy`, expected one of `steady`, `min`"));
}
