//! KEDA in full simulations, through scenario files and ScaledObject manifests: a cron window's
//! end takes effect about 5 minutes late (the HPA's downscale stabilisation), and KEDA goes from
//! N straight to 0 one cooldown after the last active poll.

use scalesim::engine::simulate;
use scalesim::record::RunResult;

fn run(manifest: &str, traffic: &str, duration: &str) -> RunResult {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("so.yaml"), manifest).unwrap();
    let scenario = format!(
        r#"
[simulation]
duration = "{duration}"
start = "2025-03-04T08:00:00"
timezone = "UTC"
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
name = "keda"
type = "keda"
manifest = "so.yaml"
"#
    );
    let sc = scalesim::config::load_str(&scenario, "test.toml", dir.path(), &[]).unwrap();
    simulate(&sc, &sc.policies[0], 1, 0, None)
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
