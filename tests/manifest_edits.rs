//! `--set` (and `tune --vary`) on manifest-based policies: the short keys and `patch` edit the
//! manifest before it is read, so the simulated policy — and the manifest `export` writes —
//! follow them; bad edits are errors naming the key.

use scalesim::config;
use std::path::Path;

#[allow(clippy::result_large_err)]
fn load(sets: &[&str]) -> Result<scalesim::scenario::Scenario, config::ConfigError> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/k8s-policies.toml"), &sets)
}

fn manifest(sc: &scalesim::scenario::Scenario, name: &str) -> String {
    sc.policies.iter().find(|p| p.name == name).unwrap().to_manifest().unwrap()
}

fn bounds(sc: &scalesim::scenario::Scenario, name: &str) -> (u32, u32) {
    let p = sc.policies.iter().find(|p| p.name == name).unwrap();
    (p.min, p.max)
}

#[test]
fn short_keys_edit_each_family() {
    let base = load(&[]).unwrap();
    assert_eq!(bounds(&base, "knative-concurrency"), (2, 30));
    let sc = load(&[
        "policy.knative-concurrency.max=40",
        "policy.knative-concurrency.min_replicas=3",
        "policy.knative-concurrency.target=2.5",
        "policy.knative-concurrency.annotations.window=30s",
        "policy.hpa-fast.target=70",
        "policy.hpa-fast.max_replicas=12",
        "policy.keda-rps.target=12",
        "policy.keda-rps.polling_interval=10s",
        "policy.keda-rps.cooldown_period=2m",
        "policy.keda-rps.min=2",
    ])
    .unwrap();
    assert_eq!(bounds(&sc, "knative-concurrency"), (3, 40));
    let kn = manifest(&sc, "knative-concurrency");
    assert!(
        kn.contains("autoscaling.knative.dev/target: \"2.5\"")
            || kn.contains("autoscaling.knative.dev/target: '2.5'"),
        "{kn}"
    );
    assert!(
        ["window: 30s", "window: \"30s\"", "window: '30s'"]
            .iter()
            .any(|w| kn.contains(&format!("autoscaling.knative.dev/{w}"))),
        "{kn}"
    );
    assert_eq!(bounds(&sc, "hpa-fast"), (5, 12));
    let hpa = manifest(&sc, "hpa-fast");
    assert!(hpa.contains("averageUtilization: 70"), "{hpa}");
    assert_eq!(bounds(&sc, "keda-rps"), (2, 30));
    let keda = manifest(&sc, "keda-rps");
    assert!(keda.contains("pollingInterval: 10"), "{keda}");
    assert!(keda.contains("cooldownPeriod: 120"), "{keda}");
    assert!(keda.contains("threshold: '12'") || keda.contains("threshold: \"12\""), "{keda}");
    // The other policies are untouched.
    assert_eq!(manifest(&sc, "hpa-cpu"), manifest(&base, "hpa-cpu"));
}

#[test]
fn patch_reaches_any_field() {
    let sc = load(&[
        "policy.hpa-fast.patch.spec.behavior.scaleDown.stabilizationWindowSeconds=120",
        "policy.hpa-fast.patch.spec.behavior.scaleUp.policies.1.value=8",
        "policy.keda-cron+rps.patch.spec.triggers.0.metadata.desiredReplicas=12",
        // The one non-cron trigger is the target's.
        "policy.keda-cron+rps.target=8",
    ])
    .unwrap();
    let hpa = manifest(&sc, "hpa-fast");
    assert!(hpa.contains("stabilizationWindowSeconds: 120"), "{hpa}");
    assert!(hpa.contains("value: 8"), "{hpa}");
    let cron = manifest(&sc, "keda-cron+rps");
    assert!(cron.contains("desiredReplicas: '12'") || cron.contains("desiredReplicas: \"12\""), "{cron}");
    assert!(cron.contains("threshold: '8'") || cron.contains("threshold: \"8\""), "{cron}");
}

#[test]
fn bad_edits_name_the_key() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["policy.hpa-fast.patch.spec.metrics.3.resource.name=memory"],
            "index 3 is out of range: spec.metrics has 1 elements",
        ),
        (&["policy.hpa-fast.window=1m"], "is not used by policy type `hpa`"),
        (&["policy.knative-concurrency.annotations.window=[1, 2]"], "expected a string or a number"),
        (&["policy.keda-rps.polling_interval=1500ms"], "whole number of seconds"),
    ];
    for (sets, want) in cases {
        let e = load(sets).unwrap_err().to_string();
        assert!(e.contains(want), "{sets:?}: expected `{want}` in {e}");
        assert!(e.contains("--set"), "{sets:?}: the error should name the --set: {e}");
    }
}

/// Since the issue-9 merge, `--set` edits the spelling of a two-spelling key that is already
/// written: `min_replicas=4` after `min=3` edits that same `min`, so the last value wins instead
/// of the two being refused as one setting given twice.
#[test]
fn both_spellings_through_set_edit_one_setting() {
    let sc = load(&["policy.hpa-fast.min=3", "policy.hpa-fast.min_replicas=4"]).unwrap();
    assert_eq!(bounds(&sc, "hpa-fast").0, 4);
    assert!(manifest(&sc, "hpa-fast").contains("minReplicas: 4"), "{}", manifest(&sc, "hpa-fast"));
}
