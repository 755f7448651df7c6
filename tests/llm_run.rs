//! An LLM scenario through the binary (`tests/fixtures/llm/synthetic_chat.toml`: synthetic
//! tokens, an autoscaled policy that starts, drains and terminates replicas, and two fixed
//! ones): every request is accounted for once in requests.csv, the files agree with each other
//! (tokens, TTFT, outcomes), summary.json matches its schema, and the outputs are the same
//! bytes at any thread count.

#[path = "common/schema.rs"]
mod schema;

use assert_cmd::Command;
use schema::validate;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

fn run(out: &Path, threads: &str) {
    Command::cargo_bin("scalesim")
        .unwrap()
        .args([
            "run",
            "tests/fixtures/llm/synthetic_chat.toml",
            "--requests",
            "--quiet",
            "--threads",
            threads,
            "--out",
        ])
        .arg(out)
        .assert()
        .success();
}

type Row = HashMap<String, String>;

fn read(path: &Path) -> Vec<Row> {
    let mut rd = csv::Reader::from_path(path).unwrap();
    let h = rd.headers().unwrap().clone();
    rd.records()
        .map(|r| h.iter().zip(r.unwrap().iter()).map(|(k, v)| (k.into(), v.into())).collect())
        .collect()
}

#[test]
fn an_llm_run_accounts_for_every_request_and_its_files_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    run(&one, "1");
    run(&two, "2");
    for f in
        ["timeseries.csv", "summary.json", "summary.csv", "decisions.csv", "requests.csv", "replicas.png"]
    {
        assert!(
            std::fs::read(one.join(f)).unwrap() == std::fs::read(two.join(f)).unwrap(),
            "{f} differs by threads"
        );
    }
    let summary: Value = serde_json::from_slice(&std::fs::read(one.join("summary.json")).unwrap()).unwrap();
    let schema: Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/summary.schema.json")).unwrap(),
    )
    .unwrap();
    validate(&summary, &schema, &schema, "summary.json");
    let requests = read(&one.join("requests.csv"));
    let series = read(&one.join("timeseries.csv"));
    let mut terminated = 0;
    for p in summary["policies"].as_array().unwrap() {
        let name = p["policy"].as_str().unwrap();
        let mine: Vec<&Row> = requests.iter().filter(|r| r["policy"] == name).collect();
        // Every request once, in arrival order.
        for (i, r) in mine.iter().enumerate() {
            assert_eq!(r["id"], i.to_string(), "{name}: ids in arrival order");
        }
        let count = |o: &str| mine.iter().filter(|r| r["outcome"] == o).count() as f64;
        assert_eq!(mine.len() as f64, p["requests"].as_f64().unwrap(), "{name}: requests");
        assert_eq!(count("served"), p["served"].as_f64().unwrap(), "{name}: served");
        let failed: f64 =
            ["timeout", "queue_full", "no_replica", "terminated", "too_long"].iter().map(|o| count(o)).sum();
        assert_eq!(failed, p["failed"].as_f64().unwrap(), "{name}: failed");
        assert_eq!(count("served") + failed + count("in_flight"), mine.len() as f64, "{name}: conservation");
        terminated += count("terminated") as u64;
        // Tokens: requests.csv, the time series and the summary say the same.
        let tokens: u64 = mine.iter().map(|r| r["output_tokens"].parse::<u64>().unwrap()).sum();
        let per_interval: u64 = series
            .iter()
            .filter(|r| r["policy"] == name)
            .map(|r| r["output_tokens"].parse::<u64>().unwrap())
            .sum();
        assert_eq!(tokens, per_interval, "{name}: tokens, requests.csv vs timeseries.csv");
        assert_eq!(
            tokens as f64,
            p["llm"]["output_tokens"].as_f64().unwrap(),
            "{name}: tokens in summary.json"
        );
        // The median TTFT of the summary is within its histogram bucket (1/1024) of requests.csv's.
        let mut ttft: Vec<f64> = mine
            .iter()
            .filter(|r| !r["first_token_s"].is_empty())
            .map(|r| r["first_token_s"].parse::<f64>().unwrap() - r["arrival_s"].parse::<f64>().unwrap())
            .collect();
        ttft.sort_by(f64::total_cmp);
        let exact = ttft[(ttft.len() - 1) / 2];
        let reported = p["llm"]["ttft"]["p50_s"].as_f64().unwrap();
        assert!((reported - exact).abs() <= exact / 512.0 + 2e-6, "{name}: TTFT p50 {reported} vs {exact}");
        // Served requests emitted all their tokens and have a first token before their end.
        for r in mine.iter().filter(|r| r["outcome"] == "served") {
            let (f, e) = (r["first_token_s"].parse::<f64>().unwrap(), r["end_s"].parse::<f64>().unwrap());
            assert!(f <= e && r["output_tokens"] != "0", "{r:?}");
        }
    }
    assert!(terminated > 0, "the autoscaled policy drains replicas that still hold requests");
}
