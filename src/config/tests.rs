//! Tests of the whole loading path: good scenarios, every validation rule, error texts, and the
//! agreement between the key documentation, the parser and docs/scenario.md.

use super::keys::{KeyDoc, all_key_docs, reference_markdown};
use super::*;
use crate::policy::{MetricRule, PolicyKind};
use crate::time::SECOND;
use std::collections::BTreeSet;

/// The smallest valid `[traffic]` table: a constant Poisson rate.
fn traffic_table() -> String {
    String::from("[traffic]\nrate = 100\n")
}

fn minimal() -> String {
    format!(
        "[simulation]\nduration = \"1h\"\n\n{}\n[service]\nworkers = 4\n\n[service.demand]\ndistribution = \"exponential\"\nmean = \"100ms\"\n\n[[policy]]\nname = \"p\"\ntype = \"fixed\"\nreplicas = 2\n",
        traffic_table()
    )
}

fn load_text(text: &str, sets: &[&str]) -> Result<Scenario, ConfigError> {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    load_str(text, "test.toml", Path::new("."), &sets)
}

/// Loads `minimal()` with `extra` appended, expecting an error; returns its text.
fn fails(extra: &str) -> String {
    let text = format!("{}{extra}", minimal());
    match load_text(&text, &[]) {
        Ok(_) => panic!("expected an error for:\n{extra}"),
        Err(e) => e.to_string(),
    }
}

const RPS: &str = "\n[[policy]]\nname = \"hpa\"\ntype = \"rps\"\nmax = 10\ntarget = 5\n";

#[test]
fn minimal_scenario_loads_with_defaults() {
    let s = load_text(&minimal(), &[]).unwrap();
    assert_eq!(s.name, "test");
    assert_eq!(s.duration, 3600 * SECOND);
    assert_eq!(s.seed, 1);
    assert_eq!(s.record_interval, 60 * SECOND);
    assert_eq!(s.clock.local(0).weekday, 0, "default start is a Monday");
    assert_eq!(s.service.grace, 30 * SECOND);
    assert_eq!(s.service.startup.mean(), 30.0);
    assert_eq!(s.cost.currency, "USD");
    assert!(s.slo.is_none());
    assert_eq!(s.policies.len(), 1);
    assert_eq!((s.policies[0].min, s.policies[0].max), (2, 2));
}

#[test]
fn full_policy_mapping() {
    let text = format!(
        "{}{RPS}\n[[policy]]\nname = \"mix\"\ntype = \"autoscale\"\nmin = 2\nmax = 20\ninterval = \"15s\"\nscale_down_stabilization = \"5m\"\nmetrics = [{{ type = \"rps\", target = 10 }}, {{ type = \"cpu\", target = 60, window = \"1m\" }}]\nwindows = [{{ start = \"0 9 * * 1-5\", end = \"0 17 * * 1-5\", replicas = 6, timezone = \"Europe/Paris\" }}]\n",
        minimal()
    );
    let s = load_text(&text, &[]).unwrap();
    let p = &s.policies[2];
    assert_eq!((p.min, p.max, p.initial), (2, 20, 2));
    let PolicyKind::Basic(b) = &p.kind else { panic!("basic") };
    assert_eq!(b.interval, 15 * SECOND);
    assert_eq!(b.down_stabilization, 300 * SECOND);
    assert_eq!(b.metrics[0], MetricRule::Rps { target: 10.0, tolerance: 0.1, window: 60 * SECOND });
    assert_eq!(b.metrics[1], MetricRule::Cpu { target: 0.6, tolerance: 0.1, window: 60 * SECOND });
    assert_eq!(b.schedules[0].tz, chrono_tz::Europe::Paris);
    assert_eq!(p.family(), "mixed");
    assert_eq!(s.policies[1].family(), "rps");
}

#[test]
fn oracle_policy_defaults_and_rules() {
    let text = format!("{}\n[[policy]]\nname = \"best\"\ntype = \"oracle\"\ncapacity = 12.5\n", minimal());
    let s = load_text(&text, &[]).unwrap();
    let p = &s.policies[1];
    let PolicyKind::Oracle(o) = &p.kind else { panic!("oracle") };
    assert_eq!((p.min, p.max, p.family()), (0, u32::MAX, "oracle"));
    assert_eq!((o.interval, o.window, o.capacity_rps), (30 * SECOND, 10 * SECOND, 12.5));
    assert_eq!(o.lead, 30 * SECOND, "the default startup: deterministic 30 s");
    // 100 req/s over 12.5 per replica: 8, or 9 on a noisy peak.
    assert!((8..=9).contains(&p.initial), "{}", p.initial);
    assert_eq!(s.oracle().map(|o| o.name.as_str()), Some("best"));
    // Settings through --set, like any policy.
    let s =
        load_text(&text, &["policy.best.interval=\"1m\"", "policy.best.lead=\"5s\"", "policy.best.min=2"])
            .unwrap();
    let PolicyKind::Oracle(o) = &s.policies[1].kind else { panic!("oracle") };
    assert_eq!((o.interval, o.lead, s.policies[1].min), (60 * SECOND, 5 * SECOND, 2));
    // Without `capacity` and without an SLO there is nothing to search against: the replica
    // capacity (mean of the step tests) against at most 1 % errors, so (no queue limit, no
    // timeout) up to saturation, 4 / 100 ms = 40 /s.
    let measured = load_text(&text.replace("capacity = 12.5\n", ""), &[]).unwrap();
    let PolicyKind::Oracle(o) = &measured.policies[1].kind else { panic!("oracle") };
    assert!(o.capacity_rps > 35.0 && o.capacity_rps < 45.0, "{o:?}");
    let replica = crate::oracle::replica_capacity(&measured.service, None).unwrap();
    assert_eq!(o.capacity_rps, replica.mean_rps);
    assert_eq!(o.capacity_source, "the replica capacity (no SLO to search against)");
    // With a p99 < 1 s objective the capacity is searched from the replica capacity, which is
    // lower (the demand's own p99 is 0.46 s).
    let slo = format!("{text}\n[simulation.slo]\nlatency = \"1s\"\n").replace("capacity = 12.5\n", "");
    let strict = load_text(&slo, &[]).unwrap();
    let PolicyKind::Oracle(o) = &strict.policies[1].kind else { panic!("oracle") };
    let replica = crate::oracle::replica_capacity(&strict.service, strict.slo.as_ref()).unwrap();
    assert!(replica.mean_rps > 3.0 && replica.mean_rps < 38.0, "{replica:?}");
    assert!(o.capacity_rps > 0.0 && o.capacity_rps <= 40.0 * 1.02, "{o:?}");
    assert!(
        o.capacity_source.contains(&format!("from the replica capacity {:.2} req/s", replica.mean_rps)),
        "{o:?}"
    );
    for (set, key) in [
        ("policy.best.window=\"1m\"", "policy[1].window"),
        ("policy.best.capacity=0", "policy[1].capacity"),
        ("policy.best.target=3", "policy[1].target"),
        ("policy.best.max=0", "policy[1].max"),
        ("policy.best.initial=99", "policy[1].initial"),
    ] {
        let e = load_text(&text, &["policy.best.max=20", set]).unwrap_err().to_string();
        assert!(e.contains(key), "{set}: {e}");
    }
}

#[test]
fn unknown_key_suggests_and_locates() {
    let text = minimal().replace("workers = 4", "wrokers = 4");
    let e = load_text(&text, &[]).unwrap_err();
    let line = text.lines().position(|l| l.starts_with("wrokers")).unwrap() + 1;
    assert_eq!(e.location.map(|l| l.line), Some(line));
    assert_eq!(e.key.as_deref(), Some("service.wrokers"));
    assert!(e.message.contains("did you mean `workers`?"), "{e}");
    assert!(e.to_string().starts_with(&format!("test.toml:{line}:1: service.wrokers: unknown key")), "{e}");
}

#[test]
fn serde_errors_name_key_and_line() {
    let e = fails("\n[[policy]]\nname = \"x\"\ntype = \"autoscle\"\n");
    assert!(e.contains("policy[1].type (policy \"x\")"), "{e}");
    assert!(e.contains("did you mean `autoscale`?"), "{e}");
    let e = fails("\n[[policy]]\nname = \"x\"\ntype = \"rps\"\nmax = \"ten\"\ntarget = 1\n");
    assert!(e.contains("policy[1].max"), "{e}");
    assert!(e.contains("found string \"ten\", expected a non-negative integer"), "{e}");
    let e = fails("\n[[policy]]\ntype = \"rps\"\nmax = 3\ntarget = 1\n");
    let line = minimal().lines().count() + 2;
    assert!(e.contains(&format!(":{line}:1: policy[1].name: missing required key")), "{e}");
    let e = load_text(&minimal().replace("\"1h\"", "\"1 hourz\""), &[]).unwrap_err().to_string();
    assert!(e.contains("test.toml:2:12: simulation.duration: invalid duration \"1 hourz\""), "{e}");
    let e = load_text("[simulation\n", &[]).unwrap_err().to_string();
    assert!(e.starts_with("test.toml:1:"), "{e}");
    assert!(e.contains("invalid TOML"), "{e}");
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn rps(from: &str, to: &str) -> &'static str {
    leak(RPS.replace(from, to))
}

#[test]
fn validation_rules() {
    let cases: &[(&str, &str)] = &[
        (
            rps("max = 10", "max = 10\nmin = 11"),
            "policy[1].min (policy \"hpa\"): min (11) is greater than max (10)",
        ),
        (rps("max = 10", "max = 10\ninitial = 12"), "policy[1].initial"),
        (rps("max = 10", "max = 0"), "policy[1].max"),
        (rps("max = 10\n", ""), "policy[1].max (policy \"hpa\"): missing required key for type `rps`"),
        (rps("target = 5", "target = 0"), "expected a positive target"),
        (
            rps("target = 5", "target = 5\ntolerance = 1.5"),
            "policy[1].tolerance (policy \"hpa\"): found 1.5, expected a fraction in [0, 1)",
        ),
        (rps("name = \"hpa\"", "name = \"p\""), "duplicate policy name \"p\""),
        (rps("target = 5", "target = 5\nwindow = \"0s\""), "policy[1].window"),
        (
            leak(RPS.replace("type = \"rps\"", "type = \"cpu\"").replace("target = 5", "target = 0.6")),
            "percentage of the CPU request",
        ),
        ("\n[[policy]]\nname = \"s\"\ntype = \"schedule\"\n", "policy[1].windows"),
        (
            "\n[[policy]]\nname = \"s\"\ntype = \"schedule\"\nwindows = [{ start = \"0 25 * * *\", end = \"0 9 * * *\", replicas = 2 }]\n",
            "policy[1].windows[0].start (policy \"s\"): invalid cron expression `0 25 * * *`",
        ),
        (
            "\n[[policy]]\nname = \"s\"\ntype = \"schedule\"\nwindows = [{ start = \"0 9 * * *\", end = \"0 9 * * *\", replicas = 2 }]\n",
            "policy[1].windows[0].end",
        ),
        (
            "\n[[policy]]\nname = \"s\"\ntype = \"schedule\"\nmax = 3\nwindows = [{ start = \"0 9 * * *\", end = \"0 17 * * *\", replicas = 5 }]\n",
            "more than the policy's max (3)",
        ),
        (
            "\n[[policy]]\nname = \"s\"\ntype = \"schedule\"\nwindows = [{ start = \"0 9 * * *\", end = \"0 17 * * *\", replicas = 2, timezone = \"Europe/Pari\" }]\n",
            "did you mean `Europe/Paris`?",
        ),
        ("\n[[policy]]\nname = \"a\"\ntype = \"autoscale\"\nmax = 4\n", "needs at least one entry"),
        (
            "\n[[policy]]\nname = \"a\"\ntype = \"autoscale\"\nmax = 4\nmetrics = [{ type = \"rps\", target = 1, tolerance = -0.1 }]\n",
            "policy[1].metrics[0].tolerance",
        ),
        ("\n[[policy]]\nname = \"f\"\ntype = \"fixed\"\n", "policy[1].replicas"),
        (
            "\n[[policy]]\nname = \"f\"\ntype = \"fixed\"\nreplicas = 2\nmax = 3\n",
            "is not used by policy type `fixed`",
        ),
        ("\n[service.slowdown]\npoints = [[2, 1.0], [1, 2.0]]\n", "service.slowdown.points[1]"),
        ("\n[service.slowdown]\npoints = []\n", "service.slowdown.points"),
        ("\n[service.startup]\ndistribution = \"linear\"\n", "only valid for service.demand"),
        (
            "\n[service.startup]\ndistribution = \"uniform\"\nmin = \"2s\"\nmax = \"1s\"\n",
            "service.startup.min",
        ),
        ("\n[service.startup]\nvalue = \"2s\"\n", "service.startup.distribution: missing required key"),
        ("\n[service.cpu]\nrequest = 0\n", "service.cpu.request"),
        ("\n[cost]\nper_replica_hour = -1\n", "cost.per_replica_hour"),
        ("\n[cost]\ncurrency = \"\"\n", "cost.currency"),
        ("\n[simulation.slo]\nlatency_percentile = 99\n", "needs simulation.slo.latency"),
        ("\n[simulation.slo]\nlatency = \"1s\"\nlatency_percentile = 100\n", "between 0 and 100"),
        ("\n[simulation.slo]\nerror_rate = 2\n", "simulation.slo.error_rate"),
    ];
    for (extra, want) in cases {
        let e = fails(extra);
        assert!(e.contains(want), "for\n{extra}\nwanted `{want}` in:\n{e}");
        assert!(e.starts_with("test.toml:"), "{e}");
    }
}

#[test]
fn simulation_and_service_rules() {
    let m = minimal();
    let cases: &[(String, &str)] = &[
        (m.replace("duration = \"1h\"", "duration = \"0s\""), "simulation.duration: found a zero duration"),
        (
            m.replace("duration = \"1h\"", "duration = \"1h\"\ntimezone = \"Mars/Olympus\""),
            "unknown time zone",
        ),
        (m.replace("duration = \"1h\"", "duration = \"1h\"\nstart = \"tomorrow\""), "simulation.start"),
        (m.replace("duration = \"1h\"", "duration = \"1h\"\nrecord_interval = \"2h\""), "longer than"),
        (m.replace("duration = \"1h\"", "duration = \"1h\"\nname = \"a/b\""), "simulation.name"),
        (m.replace("workers = 4", "workers = 0"), "service.workers"),
        (
            m.replace("workers = 4", "workers = 4\nload_balancer = \"least_outstandin\""),
            "did you mean `least_outstanding`?",
        ),
        (
            m.replace("mean = \"100ms\"", "mean = \"100ms\"\np99 = \"1s\""),
            "service.demand.p99: is not used by distribution `exponential`",
        ),
        (m.replace("\"exponential\"", "\"lognormal\""), "give `p99` or `sigma`"),
        (
            m.replace("\"exponential\"", "\"lognormal\"")
                .replace("mean = \"100ms\"", "mean = \"100ms\"\np99 = \"50ms\""),
            "p99 must exceed the mean",
        ),
        (m.replace("\"exponential\"", "\"gamma\""), "gamma needs `mean`"),
        (
            m.replace("\"exponential\"", "\"linear\"").replace("mean = \"100ms\"", "base = 0.1"),
            "no size columns",
        ),
        (
            m.replace("\"exponential\"", "\"empirical\"").replace("mean = \"100ms\"", "samples = []"),
            "service.demand.samples",
        ),
        (
            m.replace("[[policy]]\nname = \"p\"\ntype = \"fixed\"\nreplicas = 2\n", ""),
            "policy: no [[policy]]",
        ),
        (m.replace("[service]", "[servce]"), "did you mean `service`?"),
    ];
    for (text, want) in cases {
        let e = load_text(text, &[]).unwrap_err().to_string();
        assert!(e.contains(want), "wanted `{want}` in:\n{e}");
    }
}

#[test]
fn out_of_range_values() {
    let e = load_text(&minimal().replace("workers = 4", "workers = -1"), &[]).unwrap_err().to_string();
    assert!(e.contains("found integer `-1`, expected a non-negative integer"), "{e}");
    let e = load_text(&minimal().replace("\"1h\"", "\"20000 years\""), &[]).unwrap_err().to_string();
    assert!(e.contains("longest supported simulation"), "{e}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

    /// Bad input never panics: the minimal scenario with a line replaced by arbitrary text, or
    /// with an arbitrary `--set`, either loads or gives a located error. Garbage is accepted only
    /// when it is not garbage (blank, or a line TOML reads by itself), and an error caused by a
    /// `--set` on a valid file is blamed on that `--set`, never on the file's first line.
    #[test]
    fn garbage_never_panics(line in 0usize..20, junk in "[a-z_=\\[\\]{}\"., 0-9-]{0,24}", set in "[a-z_.0-9]{0,16}=[a-z0-9\"\\[\\]{} ,.=-]{0,12}") {
        let mut lines: Vec<String> = minimal().lines().map(str::to_string).collect();
        let n = lines.len();
        let replaced = std::mem::replace(&mut lines[line % n], junk.clone());
        match load_text(&lines.join("\n"), &[]) {
            Ok(_) => proptest::prop_assert!(
                junk.trim().is_empty() || junk.trim() == replaced.trim() || junk.parse::<toml_edit::DocumentMut>().is_ok(),
                "accepted the garbage line {junk:?} (in place of {replaced:?})"
            ),
            Err(e) => {
                proptest::prop_assert!(!e.message.is_empty());
                proptest::prop_assert!(e.location.is_some() || e.key.is_some(), "unlocated: {e}");
            }
        }
        match load_text(&minimal(), &[set.as_str()]) {
            Ok(_) => proptest::prop_assert!(set.split_once('=').is_some_and(|(k, v)| !k.is_empty() && !v.is_empty()), "accepted --set {set:?}"),
            Err(e) => proptest::prop_assert!(
                e.from_set.is_some() || e.location.is_some_and(|l| l.line > 1),
                "--set {set:?} blamed on the file's first line: {e}"
            ),
        }
    }
}

#[test]
fn distributions_map() {
    let demand = |body: &str| {
        let text = minimal().replace("distribution = \"exponential\"\nmean = \"100ms\"", body);
        load_text(&text, &[]).map(|s| s.service.demand.mean_without_sizes())
    };
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    assert!(close(demand("distribution = \"deterministic\"\nvalue = 0.5").unwrap(), 0.5));
    assert!(close(demand("distribution = \"lognormal\"\nmean = \"100ms\"\nsigma = 0.5").unwrap(), 0.1));
    assert!(close(demand("distribution = \"lognormal\"\nmean = \"100ms\"\np99 = \"300ms\"").unwrap(), 0.1));
    assert!(close(demand("distribution = \"gamma\"\nmean = \"100ms\"\ncv = 0.5").unwrap(), 0.1));
    assert!(close(demand("distribution = \"gamma\"\nshape = 2.0\nscale = \"50ms\"").unwrap(), 0.1));
    assert!(close(demand("distribution = \"gamma\"\nmean = 0.1\nscale = 0.05").unwrap(), 0.1));
    assert!(close(demand("distribution = \"uniform\"\nmin = \"1s\"\nmax = \"3s\"").unwrap(), 2.0));
    assert!(close(demand("distribution = \"empirical\"\nsamples = [\"1s\", 2, 3.0]").unwrap(), 2.0));
    assert!(demand("distribution = \"lognormal\"\nmean = 1\nsigma = 0.5\np99 = 3").is_err());
}

#[test]
fn overrides_apply_before_parsing() {
    let s = load_text(
        &format!("{}{RPS}", minimal()),
        &[
            "simulation.duration=2h",
            "service.timeout=10s",
            "policy.hpa.max=20",
            "policy.0.replicas=3",
            "simulation.seed=9",
        ],
    )
    .unwrap();
    assert_eq!(s.duration, 7200 * SECOND);
    assert_eq!(s.service.timeout, Some(10 * SECOND));
    assert_eq!(s.policies[1].max, 20);
    assert_eq!(s.policies[0].max, 3);
    assert_eq!(s.seed, 9);
}

#[test]
fn override_errors_say_set() {
    let e = load_text(&minimal(), &["service.wrokers=3"]).unwrap_err();
    assert_eq!(e.from_set.as_deref(), Some("service.wrokers=3"));
    let t = e.to_string();
    assert!(t.contains("in --set service.wrokers=3"), "{t}");
    assert!(t.contains("did you mean `workers`?"), "{t}");
    let e = load_text(&minimal(), &["policy.nope.max=3"]).unwrap_err().to_string();
    assert!(e.contains("no entry of policy is named `nope`"), "{e}");
    let e = load_text(&minimal(), &["service.timeout=soon"]).unwrap_err().to_string();
    assert!(e.contains("service.timeout") && e.contains("--set service.timeout=soon"), "{e}");
    // An error elsewhere keeps its line even though --set edited the document.
    let text = minimal().replace("mean = \"100ms\"", "mean = \"100ms\"\nmeen = 1");
    let e = load_text(&text, &["simulation.name=x", "cost.currency=EUR"]).unwrap_err();
    let line = text.lines().position(|l| l.starts_with("meen")).unwrap() + 1;
    assert_eq!(e.location.map(|l| l.line), Some(line), "{e}");
}

// ---- documentation ----

/// A stock table (TOML inline-table body) for a variant, so a key of that variant can be tried.
fn stock(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "exponential" => "distribution = \"exponential\", mean = \"100ms\"",
        "deterministic" => "distribution = \"deterministic\", value = \"1s\"",
        "lognormal" => "distribution = \"lognormal\", mean = \"100ms\", p99 = \"300ms\"",
        "gamma" => "distribution = \"gamma\", mean = \"100ms\", cv = 0.5",
        "uniform" => "distribution = \"uniform\", min = \"1s\", max = \"2s\"",
        "empirical" => "distribution = \"empirical\", samples = [\"1s\"]",
        "linear" => "distribution = \"linear\", base = \"10ms\"",
        "fixed" => "name = \"p\", type = \"fixed\", replicas = 2",
        "rps" => "name = \"p\", type = \"rps\", max = 5, target = 10",
        "cpu" => "name = \"p\", type = \"cpu\", max = 5, target = 60",
        "concurrency" => "name = \"p\", type = \"concurrency\", max = 5, target = 4",
        "schedule" => {
            "name = \"p\", type = \"schedule\", windows = [{ start = \"0 9 * * *\", end = \"0 17 * * *\", replicas = 2 }]"
        }
        "autoscale" => {
            "name = \"p\", type = \"autoscale\", max = 5, metrics = [{ type = \"rps\", target = 10 }], windows = [{ start = \"0 9 * * *\", end = \"0 17 * * *\", replicas = 2 }]"
        }
        "knative" => "name = \"p\", type = \"knative\", manifest = \"configs/k8s/knative-concurrency.yaml\"",
        "hpa" => "name = \"p\", type = \"hpa\", manifest = \"configs/k8s/hpa-cpu.yaml\"",
        "keda" => "name = \"p\", type = \"keda\", manifest = \"configs/k8s/keda-rps.yaml\"",
        "platform" => {
            "name = \"p\", type = \"platform\", max_replicas = 10, metric = { type = \"rps\", value = 10 }"
        }
        "aws" => AWS_STOCK,
        "oracle" => "name = \"p\", type = \"oracle\", capacity = 10",
        _ => return None,
    })
}

/// A stock `type = "aws"` policy with one entry in each of its arrays of tables.
const AWS_STOCK: &str = "name = \"p\", type = \"aws\", max = 5, target_tracking = [{ metric = \"ASGAverageCPUUtilization\", target = 50 }], step_scaling = [{ metric = \"ASGAverageCPUUtilization\", threshold = 70, comparison = \"GreaterThanOrEqualToThreshold\", adjustment_type = \"PercentChangeInCapacity\", steps = [{ lower = 0, adjustment = 10 }] }], scheduled_actions = [{ cron = \"0 8 * * *\", min = 2 }]";

/// The aws arrays of tables (probed on the `full()` scenario's policy[2]).
const AWS_TABLES: [&str; 3] =
    ["policy[].target_tracking[]", "policy[].step_scaling[]", "policy[].scheduled_actions[]"];

/// Keys of which at most one may be given, so setting one removes the others from a stock table.
const EXCLUSIVE: &[&[&str]] = &[
    &["p99", "sigma"],
    &["cv", "shape", "scale"],
    &["max", "max_replicas"],
    &["min", "min_replicas"],
    &["interval", "polling_interval"],
];

/// A `--set` path for a documented key (`policy[].min` → `policy.0.min`).
fn set_path(doc_key: &str) -> String {
    doc_key.replace("[]", ".0")
}

/// The documented key a `when` condition `name` refers to: a sibling of `key`, else a key of
/// an enclosing table.
fn resolve_when(docs: &[KeyDoc], key: &str, name: &str) -> Option<String> {
    let mut table = key.rsplit_once('.').map(|(t, _)| t.to_string());
    while let Some(t) = table {
        let cand = format!("{t}.{name}");
        if docs.iter().any(|d| d.key == cand) {
            return Some(cand);
        }
        table = t.rsplit_once('.').map(|(p, _)| p.to_string());
    }
    docs.iter().any(|d| d.key == name).then(|| name.to_string())
}

/// The `--set` arguments that try `d` in the minimal scenario.
fn trial(docs: &[KeyDoc], d: &KeyDoc) -> Vec<String> {
    let mut sets = Vec::new();
    // Keys of an array-of-tables element need the element: a policy of the right type.
    if d.key.starts_with("policy[].windows[]") {
        sets.push(format!("policy.0={{ {} }}", stock("schedule").unwrap()));
    } else if let Some(field) = d.key.strip_prefix("policy[].metric.") {
        // A platform policy's one metric: cron keys need a cron metric, the others an rps one.
        let metric = if ["start", "end", "timezone", "desired_replicas"].contains(&field) {
            "{ type = \"cron\", start = \"0 9 * * *\", end = \"0 17 * * *\" }"
        } else {
            "{ type = \"rps\", value = 10 }"
        };
        sets.push(format!(
            "policy.0={{ name = \"p\", type = \"platform\", max_replicas = 10, metric = {metric} }}"
        ));
    } else if d.key.starts_with("policy[].metrics[]") {
        sets.push(format!("policy.0={{ {} }}", stock("autoscale").unwrap()));
    } else if AWS_TABLES.iter().any(|t| d.key.starts_with(t)) {
        // `at` replaces the stock action's `cron` (they are exclusive).
        let body = if d.key.ends_with(".at") {
            AWS_STOCK.replace("cron = \"0 8 * * *\"", "at = \"2025-01-06T08:00:00\"")
        } else {
            AWS_STOCK.to_string()
        };
        sets.push(format!("policy.0={{ {body} }}"));
    }
    // A variant selector is tried with a stock table of the variant it names.
    if (d.key.ends_with(".distribution") || d.key == "policy[].type")
        && let Some(body) = stock(d.example.trim_matches('"'))
    {
        let table = d.key.rsplit_once('.').map_or("", |(t, _)| t);
        sets.push(format!("{}={{ {body} }}", set_path(table)));
        return sets;
    }
    for cond in d.when.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let Some((name, alts)) = cond.split_once('=') else { continue };
        let value = alts.split('|').next().unwrap_or("").trim();
        let target = resolve_when(docs, d.key, name.trim()).unwrap_or_else(|| name.trim().to_string());
        let table = target.rsplit_once('.').map_or("", |(t, _)| t);
        let is_variant = target.ends_with(".distribution") || target == "policy[].type";
        match stock(value.trim_matches('"')).filter(|_| is_variant) {
            Some(body) => {
                let mut body = body.to_string();
                let field = d.key.rsplit('.').next().unwrap_or("");
                for group in EXCLUSIVE.iter().filter(|g| g.contains(&field)) {
                    for other in group.iter().filter(|o| **o != field) {
                        body = body
                            .split(", ")
                            .filter(|kv| !kv.starts_with(&format!("{other} =")))
                            .collect::<Vec<_>>()
                            .join(", ");
                    }
                }
                sets.push(format!("{}={{ {body} }}", set_path(table)));
            }
            None => sets.push(format!("{}={value}", set_path(&target))),
        }
    }
    sets.push(format!("{}={}", set_path(d.key), d.example));
    sets
}

#[test]
fn every_documented_key_parses_with_its_example() {
    let docs = all_key_docs();
    let base = full();
    assert!(load_text(&base, &[]).is_ok(), "{:?}", load_text(&base, &[]).err());
    let mut failures = Vec::new();
    // `traffic.*` keys (nested shapes, trace files) are tried by `config::traffic`'s own test
    // of the same promise, against real trace files.
    let llm = llm_minimal();
    assert!(load_text(&llm, &[]).is_ok(), "{:?}", load_text(&llm, &[]).err());
    for d in docs.iter().filter(|d| !d.key.starts_with("traffic.")) {
        let sets = trial(&docs, d);
        let refs: Vec<&str> = sets.iter().map(String::as_str).collect();
        // `kv_tokens` replaces the base's `kv_blocks` (they are exclusive).
        let llm_base = if d.key == "service.llm.kv_tokens" {
            llm.replace("kv_blocks = 30000\n", "")
        } else {
            llm.clone()
        };
        match load_text(if llm_key(d.key) { &llm_base } else { &base }, &refs) {
            Ok(_) => {}
            // `linear` demand is checked against the traffic's size columns, which the minimal
            // traffic has none of: that rejection proves the key itself was accepted.
            Err(e) if d.key.starts_with("service.demand.") && e.message.contains("no size columns") => {}
            Err(e) => failures.push(format!("{} (with {sets:?}): {e}", d.key)),
        }
    }
    assert!(failures.is_empty(), "documented keys that do not parse:\n{}", failures.join("\n"));
}

/// Serde's list of the keys a table accepts, found by adding a bogus key to it.
fn accepted_keys(text: &str, table: &str) -> Option<BTreeSet<String>> {
    let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
    overrides::apply(&mut doc, &[format!("{}.zz_bogus=1", set_path(table))]).unwrap();
    let e = toml::from_str::<raw::RawScenario>(&doc.to_string()).err()?;
    let msg = e.message();
    if !msg.starts_with("unknown field `zz_bogus`") {
        return None;
    }
    Some(msg.split('`').skip(3).step_by(2).map(str::to_string).collect())
}

/// A minimal LLM scenario: synthetic traffic with a token mix, an LLM replica and its step.
fn llm_minimal() -> String {
    "[simulation]\nduration = \"1h\"\n\n[traffic]\nrate = 2\n[traffic.tokens]\nprompt = { distribution = \"deterministic\", value = 100 }\noutput = { distribution = \"deterministic\", value = 10 }\n\n[service]\n[service.cpu]\n[service.llm]\nkv_blocks = 30000\n[service.llm.step]\nbase = \"5ms\"\nprefill_token = 0.00004\ndecode_token = 0.0001\n\n[[policy]]\nname = \"p\"\ntype = \"fixed\"\nreplicas = 2\n".to_string()
}

/// Whether a documented key belongs to an LLM replica (probed on [`llm_minimal`]).
fn llm_key(key: &str) -> bool {
    key.starts_with("service.llm") || key == "service.cpu.engine"
}

/// The minimal scenario plus every optional table, an autoscale policy (policy[1]) with
/// metrics and windows, and an aws policy (policy[2]) with each of its arrays of tables.
fn full() -> String {
    format!(
        "{}\n[simulation.slo]\nlatency = \"1s\"\n\n[service.startup]\ndistribution = \"deterministic\"\nvalue = \"1s\"\n\n[service.slowdown]\npoints = [[1, 1.0]]\n\n[service.cpu]\n\n[cost]\n\n[[policy]]\nname = \"auto\"\ntype = \"autoscale\"\nmax = 5\nmetrics = [{{ type = \"rps\", target = 10 }}]\nwindows = [{{ start = \"0 9 * * *\", end = \"0 17 * * *\", replicas = 2 }}]\n\n[[policy]]\n{}\n",
        minimal(),
        "name = \"aws\"\ntype = \"aws\"\nmax = 5\ntarget_tracking = [{ metric = \"ASGAverageCPUUtilization\", target = 50 }]\nstep_scaling = [{ metric = \"ASGAverageCPUUtilization\", threshold = 70, comparison = \"GreaterThanOrEqualToThreshold\", adjustment_type = \"PercentChangeInCapacity\", steps = [{ lower = 0, adjustment = 10 }] }]\nscheduled_actions = [{ cron = \"0 8 * * *\", min = 2 }]"
    )
}

#[test]
fn every_accepted_key_is_documented() {
    let docs = all_key_docs();
    let text = full();
    let mut tables: BTreeSet<String> = docs
        .iter()
        .filter_map(|d| d.key.rsplit_once('.').map(|(t, _)| t.to_string()))
        .filter(|t| !t.starts_with("traffic.") && t != "service.demand.per")
        .collect();
    tables.insert("traffic".into());
    let mut checked = 0;
    for table in &tables {
        // The probe scenario's policy[1] is an autoscale policy with metrics and windows.
        let probe_table = match table.strip_prefix("policy[]") {
            Some(rest) if AWS_TABLES.iter().any(|t| table.starts_with(t)) => {
                format!("policy.2{}", rest.replace("[]", ".0"))
            }
            Some(rest) => format!("policy.1{}", rest.replace("[]", ".0")),
            None => table.replace("[]", ".0"),
        };
        let probe_text = if table.starts_with("service.llm") { llm_minimal() } else { text.clone() };
        let accepted = match accepted_keys(&probe_text, &probe_table) {
            Some(a) => a,
            None if table == "traffic" => continue,
            None => panic!("probing [{table}] did not list its keys"),
        };
        let prefix = format!("{table}.");
        let documented: BTreeSet<String> = docs
            .iter()
            .filter_map(|d| d.key.strip_prefix(&prefix))
            .map(|rest| rest.split(['.', '[']).next().unwrap_or(rest).to_string())
            .collect();
        assert_eq!(accepted, documented, "keys of [{table}]: parser vs documentation");
        checked += 1;
    }
    let root: BTreeSet<String> =
        docs.iter().map(|d| d.key.split(['.', '[']).next().unwrap_or(d.key).to_string()).collect();
    let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
    doc.insert("zz_bogus", toml_edit::value(1));
    let msg = toml::from_str::<raw::RawScenario>(&doc.to_string()).unwrap_err().message().to_string();
    let accepted: BTreeSet<String> = msg.split('`').skip(3).step_by(2).map(str::to_string).collect();
    assert_eq!(accepted, root, "top-level tables");
    assert!(checked >= 10, "only {checked} tables probed");
}

#[test]
fn reference_doc_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scenario.md");
    let want = reference_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &want).unwrap();
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/scenario.md is out of date: regenerate it with `UPDATE_DOCS=1 cargo test reference_doc`"
    );
}

#[test]
fn the_reference_example_loads() {
    // The example's [traffic] must follow the traffic section's keys; only check it when it does.
    let s = load_text(super::keys::EXAMPLE, &[]);
    if traffic::key_docs().iter().any(|d| d.key == "traffic.rate") {
        let s = s.unwrap();
        assert_eq!(s.name, "checkout");
        assert_eq!(s.policies.len(), 5);
    }
}

#[test]
fn keys_are_unique_and_complete() {
    let docs = all_key_docs();
    let mut seen = BTreeSet::new();
    for d in &docs {
        assert!(seen.insert(d.key), "{} documented twice", d.key);
        assert!(
            !d.meaning.is_empty() && !d.ty.is_empty() && !d.default.is_empty() && !d.example.is_empty(),
            "{d:?}"
        );
    }
}

#[test]
fn loads_sharing_files_read_each_trace_and_manifest_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rate.csv"), "time,rate\n0,5\n60,7\n").unwrap();
    std::fs::write(dir.path().join("req.csv"), "time\n0\n0.5\n1.5\n").unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/k8s/hpa-cpu.yaml"),
        dir.path().join("hpa.yaml"),
    )
    .unwrap();
    let text = |trace: &str| {
        format!(
            "[simulation]\nduration = \"1h\"\n[traffic.trace]\n{trace}\n[service]\nworkers = 4\n\
             [service.demand]\ndistribution = \"exponential\"\nmean = \"100ms\"\n\
             [[policy]]\nname = \"h\"\ntype = \"hpa\"\nmanifest = \"hpa.yaml\"\n"
        )
    };
    for trace in
        ["format = \"rate_csv\"\npath = \"rate.csv\"", "format = \"requests_csv\"\npath = \"req.csv\""]
    {
        let files = Files::default();
        let t = text(trace);
        let first = load_str_with(&t, "s.toml", dir.path(), &[], &files).unwrap();
        assert_eq!(files.reads(), 2, "the trace and the manifest");
        // Further loads (the candidates of a tune) need neither file again.
        let moved = dir.path().join("moved");
        std::fs::create_dir_all(&moved).unwrap();
        for f in ["rate.csv", "req.csv", "hpa.yaml"] {
            std::fs::rename(dir.path().join(f), moved.join(f)).unwrap();
        }
        let again = load_str_with(&t, "s.toml", dir.path(), &["service.workers=2".into()], &files).unwrap();
        assert_eq!(files.reads(), 2);
        assert_eq!(again.service.workers, 2);
        let clock = &first.clock;
        assert_eq!(
            first.traffic.expected_requests(clock, 120 * SECOND),
            again.traffic.expected_requests(clock, 120 * SECOND)
        );
        // Without the shared files, the moved trace is missing.
        assert!(load_str(&t, "s.toml", dir.path(), &[]).is_err());
        for f in ["rate.csv", "req.csv", "hpa.yaml"] {
            std::fs::rename(moved.join(f), dir.path().join(f)).unwrap();
        }
    }
}
