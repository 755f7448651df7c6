//! KEDA in full simulations, through scenario files and ScaledObject manifests: a cron window's
//! end takes effect about 5 minutes late (the HPA's downscale stabilisation), and KEDA goes from
//! N straight to 0 one cooldown after the last active poll.

use scalesim::engine::simulate;
use scalesim::record::RunResult;

/// Simulates one policy (a `[[policy]]` body) against `traffic` for `duration`; relative paths
/// in the policy are read from `dir`. The clock starts at 08:00 UTC.
/// Runs `policy` from its minimum (`simulation.initial = "min"`): these tests follow KEDA's
/// scale-up and activation steps from there.
fn simulate_policy(policy: &str, traffic: &str, duration: &str, dir: &std::path::Path) -> RunResult {
    let scenario = format!(
        r#"
[simulation]
duration = "{duration}"
start = "2025-03-04T08:00:00"
timezone = "UTC"
initial = "min"
[traffic]
{traffic}
[service]
workers = 4
[service.demand]
distribution = "exponential"
mean = "50ms"
[service.startup]
distribution = "deterministic"
value = "10s"
[[policy]]
{policy}
"#
    );
    let sc = scalesim::config::load_str(&scenario, "test.toml", dir, &[]).unwrap();
    simulate(&sc, &sc.policies[0], 1, 0, None)
}

/// A KEDA policy read from the ScaledObject `manifest`.
fn run(manifest: &str, traffic: &str, duration: &str) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("so.yaml"), manifest).unwrap();
    simulate_policy("name = \"keda\"\ntype = \"keda\"\nmanifest = \"so.yaml\"", traffic, duration, dir.path())
}

#[test]
fn cron_window_end_takes_effect_five_minutes_late() {
    let so = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: { name: office }
spec:
  scaleTargetRef: { name: web }
  minReplicaCount: 1
  maxReplicaCount: 20
  triggers:
    - type: cron
      metadata: { timezone: UTC, start: "0 9 * * *", end: "0 10 * * *", desiredReplicas: "10" }
"#;
    let r = run(so, "rate = 1", "3h");
    let changes: Vec<_> = r.decisions.iter().filter(|d| d.desired != d.current).collect();
    // Scale-up at 09:00 (t = 3600 s), limited to max(2 × current, 4) per 15 s sync: 1 → 4 → 8 → 10.
    let ups: Vec<u32> = changes.iter().filter(|d| d.desired > d.current).map(|d| d.desired).collect();
    assert_eq!(ups, [4, 8, 10], "{changes:?}");
    assert!((3600.0..3616.0).contains(&changes[0].time_s), "{changes:?}");
    // The window ends at 10:00 (t = 7200 s); the HPA holds 10 for its 300 s window.
    let down = changes.iter().find(|d| d.desired < d.current).expect("a scale-down");
    assert_eq!(down.desired, 1);
    assert!(down.time_s >= 7200.0 + 300.0 && down.time_s <= 7200.0 + 300.0 + 15.0, "{down:?}");
    assert!(
        r.decisions.iter().any(|d| d.time_s > 7200.0 && d.time_s < 7500.0 && d.reason.contains("stabilized"))
    );
}

#[test]
fn keda_goes_from_n_to_zero_one_cooldown_after_the_last_activity() {
    let so = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: { name: rps }
spec:
  scaleTargetRef: { name: web }
  minReplicaCount: 0
  maxReplicaCount: 20
  cooldownPeriod: 300
  pollingInterval: 30
  triggers:
    - type: prometheus
      metadata:
        serverAddress: http://prometheus:9090
        query: sum(rate(http_requests_total[1m]))
        threshold: "10"
"#;
    // 60 req/s for 20 minutes, then nothing.
    let r = run(so, "[traffic.rate]\nshape = \"steps\"\npoints = [[\"0s\", 60.0], [\"20m\", 0.0]]", "1h");
    let s = &r.summary;
    assert_eq!(s.requests, s.served + s.failed + s.in_flight_at_end);
    let peak = r.decisions.iter().map(|d| d.desired).max().unwrap();
    assert!(peak >= 6, "scaled up to about 60 / 10: {peak}");
    let zero = r.decisions.iter().find(|d| d.desired == 0 && d.current > 0).expect("scaled to zero");
    assert!(zero.current >= 2, "straight from N to 0, not one by one: {zero:?}");
    assert!(zero.reason.contains("cooldown"), "{zero:?}");
    // The rate over [1m] stays above 0 until one minute after the traffic stops (t = 1200 s),
    // so the last active poll is at 1260 s; zero comes at the first poll after 1260 + 300.
    assert!(zero.time_s > 1200.0 + 300.0 && zero.time_s <= 1260.0 + 300.0 + 30.0, "{zero:?}");
}

fn run_policy(policy: &str, traffic: &str, duration: &str) -> RunResult {
    simulate_policy(policy, traffic, duration, std::path::Path::new("."))
}

#[test]
fn platform_settings_run_as_a_keda_scaled_object() {
    // The guide's example: min 5, max 20, rps target 10; 137 req/s → ceil(137 / 10) = 14.
    let r = run_policy(
        "name = \"tfy\"\ntype = \"platform\"\nmin_replicas = 5\nmax_replicas = 20\npolling_interval = \"30s\"\nmetric = { type = \"rps\", value = 10 }",
        "rate = 137",
        "30m",
    );
    let last = r.intervals.last().unwrap();
    assert_eq!(last.desired, 14, "{:?}", r.decisions.last());
    // KEDA's HPA without behavior: 5 → 10 (max(2 × 5, 4)) → 14.
    let ups: Vec<u32> = r.decisions.iter().filter(|d| d.desired > d.current).map(|d| d.desired).collect();
    assert_eq!(ups, [10, 14]);
    assert!(r.decisions.iter().any(|d| d.metrics.contains("s0-prometheus=")));
}

#[test]
fn activator_holds_requests_at_zero_replicas() {
    let policy = |activator: &str| {
        format!(
            "name = \"rps\"\ntype = \"rps\"\ntarget = 10\nmin = 0\nmax = 5\ninterval = \"10s\"\nwindow = \"10s\"\n{activator}"
        )
    };
    let with = run_policy(&policy("activator = { capacity = 500, max_wait = \"60s\" }"), "rate = 5", "10m");
    let without = run_policy(&policy(""), "rate = 5", "10m");
    let no_replica =
        |r: &RunResult| r.summary.failed_by_reason[scalesim::record::FailReason::NoReplica as usize];
    assert!(no_replica(&without) > 0, "without an activator the first requests find no replica");
    assert_eq!(no_replica(&with), 0, "the activator holds them until the replica is ready");
    assert_eq!(
        with.summary.requests,
        with.summary.served + with.summary.failed + with.summary.in_flight_at_end
    );
    // Held requests wait for the cold start: the slowest is about 10 s (poll) + 10 s (startup).
    assert!(with.intervals[0].latency_p99_s.unwrap() > 5.0);
}

#[test]
fn controller_settings_change_the_hpa_underneath() {
    let base = "name = \"tfy\"\ntype = \"platform\"\nmin_replicas = 5\nmax_replicas = 20\nmetric = { type = \"rps\", value = 10 }";
    let slow = run_policy(&format!("{base}\ncontroller = {{ sync_period = \"60s\" }}"), "rate = 137", "30m");
    // KEDA polls every 30 s and the HPA syncs every 60 s: no decision falls between (a 15 s
    // sync would decide at 15 s, 45 s, …).
    assert!(slow.decisions.iter().all(|d| (d.time_s as u64).is_multiple_of(30)));
    // With a 60 s sync the second step up (10 → 14) comes a sync later than with 15 s.
    let fast = run_policy(base, "rate = 137", "30m");
    let reach = |r: &RunResult| r.decisions.iter().find(|d| d.desired == 14).map(|d| d.time_s).unwrap();
    assert!(reach(&slow) > reach(&fast), "{} vs {}", reach(&slow), reach(&fast));
}

#[test]
fn regression_activator_on_an_hpa_manifest_policy_was_ignored() {
    // `activator = {…}` is documented for hpa policies; it must reach the PolicySpec.
    let scenario = r#"
[simulation]
duration = "1m"
[traffic]
rate = 1
[service]
workers = 1
[service.demand]
distribution = "exponential"
mean = "50ms"
[[policy]]
name = "hpa"
type = "hpa"
manifest = "configs/k8s/hpa-cpu.yaml"
activator = { capacity = 7, max_wait = "5s" }
"#;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let sc = scalesim::config::load_str(scenario, "test.toml", root, &[]).unwrap();
    let a = sc.policies[0].activator.expect("activator kept");
    assert_eq!((a.capacity, a.max_wait), (7, 5 * scalesim::time::SECOND));
}
