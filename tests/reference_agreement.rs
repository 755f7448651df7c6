//! scalesim against its SimPy twin on the reference workload (../shared/bench/README.md):
//! means over seeds 1–3 of mean latency and replica-seconds within 3 %, failures and p99 within
//! 8 %. The SimPy figures are a fixture produced by `tools/bench_reference.py`.

use scalesim::engine::simulate;
use std::path::Path;

#[test]
fn agrees_with_simpy_reference() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/fixtures/simpy_reference.json")).unwrap(),
    )
    .unwrap();
    let mut sc = scalesim::config::load(&root.join("configs/bench/reference.toml"), &[]).unwrap();
    let seeds: Vec<u64> = fixture["seeds"].as_array().unwrap().iter().map(|s| s.as_u64().unwrap()).collect();
    let mut ours = [0.0f64; 4];
    for &seed in &seeds {
        sc.seed = seed;
        let r = simulate(&sc, &sc.policies[0], seed, 0, None);
        let s = &r.summary;
        assert_eq!(s.requests, s.served + s.failed + s.in_flight_at_end);
        for (o, v) in ours.iter_mut().zip([
            s.latency_mean_s.unwrap(),
            s.replica_seconds,
            s.failed as f64,
            s.latency_p99_s.unwrap(),
        ]) {
            *o += v / seeds.len() as f64;
        }
    }
    let runs = fixture["runs"].as_array().unwrap();
    let mean = |k: &str| runs.iter().map(|r| r[k].as_f64().unwrap()).sum::<f64>() / runs.len() as f64;
    let theirs = [mean("latency_mean_s"), mean("replica_seconds"), mean("failed"), mean("latency_p99_s")];
    let names = ["mean latency", "replica-seconds", "failures", "p99 latency"];
    let tol = [0.03, 0.03, 0.08, 0.08];
    for i in 0..4 {
        let d = ours[i] / theirs[i] - 1.0;
        assert!(
            d.abs() <= tol[i],
            "{}: scalesim {} vs SimPy {} ({:+.2}%)",
            names[i],
            ours[i],
            theirs[i],
            d * 100.0
        );
    }
}
