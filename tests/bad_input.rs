//! The bad-input catalogue: every class of input an adversarial user tried (issue 9), run
//! through the real binary. Each case checks the exit code (2 for bad input, 1 for a failure to
//! write), that stderr is one clear `error:` message naming what is wrong (and where), that
//! nothing was written, and that the previous outputs of the same folder are left exactly as
//! they were.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// A small valid scenario the cases edit.
const BASE: &str = r#"[simulation]
name = "base"
duration = "10m"
seed = 3

[traffic]
rate = 5

[service]
workers = 2
timeout = "5s"

[service.demand]
distribution = "exponential"
mean = "100ms"

[service.startup]
distribution = "deterministic"
value = "10s"

[[policy]]
name = "fixed-2"
type = "fixed"
replicas = 2

[[policy]]
name = "rps-5"
type = "rps"
target = 5
max = 6
"#;

/// A temporary folder with the scenario `text` as `s.toml` and an output folder `out/` that
/// already holds a previous run's file (`previous.txt`), for the "intact" check.
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new(text: &str) -> Case {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("s.toml"), text).expect("write scenario");
        std::fs::create_dir(dir.path().join("out")).expect("out dir");
        std::fs::write(dir.path().join("out/previous.txt"), "previous run\n").expect("previous");
        Case { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> &Case {
        std::fs::write(self.path(rel), text).expect("write file");
        self
    }

    /// Runs `scalesim args…` in the case folder (`{}` in an argument is the folder).
    fn run(&self, args: &[&str]) -> std::process::Output {
        let d = self.dir.path().display().to_string();
        let args: Vec<String> = args.iter().map(|a| a.replace("{}", &d)).collect();
        Command::cargo_bin("scalesim")
            .expect("binary")
            .current_dir(self.dir.path())
            .args(&args)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .expect("runs")
    }

    /// The command fails with `code`, one `error:` message containing every `wanted`, writes
    /// nothing to stdout, and `out/` still holds exactly the previous file.
    fn refuses(&self, args: &[&str], code: i32, wanted: &[&str]) {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: exit {:?}\n{stderr}", out.status.code());
        assert!(stderr.starts_with("error: "), "{args:?}: stderr does not start with `error:`:\n{stderr}");
        assert_eq!(stderr.matches("error:").count(), 1, "{args:?}: more than one error:\n{stderr}");
        for w in wanted {
            assert!(stderr.contains(w), "{args:?}: wanted `{w}` in:\n{stderr}");
        }
        assert!(
            out.stdout.is_empty(),
            "{args:?}: wrote to stdout:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        self.assert_out_intact();
        assert!(!self.path("output").exists(), "{args:?}: wrote the default output folder");
    }

    fn assert_out_intact(&self) {
        let names: Vec<String> = std::fs::read_dir(self.path("out"))
            .expect("out")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["previous.txt".to_string()], "out/ changed");
        assert_eq!(std::fs::read_to_string(self.path("out/previous.txt")).expect("read"), "previous run\n");
    }
}

/// `validate` and `run --out out` on the base scenario with `from` replaced by `to` fail with
/// exit 2 and a message holding `wanted` (file:line first).
fn scenario_refused(from: &str, to: &str, line: usize, wanted: &[&str]) {
    assert!(BASE.contains(from), "`{from}` not in the base scenario");
    let c = Case::new(&BASE.replacen(from, to, 1));
    let mut w = vec![format!("s.toml:{line}:")];
    w.extend(wanted.iter().map(|s| s.to_string()));
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    c.refuses(&["validate", "s.toml"], 2, &w);
    c.refuses(&["run", "s.toml", "--out", "out"], 2, &w);
}

// ---- numbers ----------------------------------------------------------------------------

#[test]
fn huge_deterministic_demand() {
    scenario_refused(
        "distribution = \"exponential\"\nmean = \"100ms\"",
        "distribution = \"deterministic\"\nvalue = 2e13",
        15,
        &["service.demand.value", "3660 days"],
    );
}

#[test]
fn huge_mean_demand() {
    scenario_refused("mean = \"100ms\"", "mean = 1e308", 15, &["service.demand.mean", "3660 days"]);
}

#[test]
fn huge_startup() {
    scenario_refused("value = \"10s\"", "value = 1e14", 19, &["service.startup.value", "3660 days"]);
}

#[test]
fn huge_duration_string() {
    scenario_refused("timeout = \"5s\"", "timeout = \"100000 years\"", 11, &["service.timeout", "3660 days"]);
}

#[test]
fn huge_gamma_mean_from_shape_and_scale() {
    scenario_refused(
        "distribution = \"exponential\"\nmean = \"100ms\"",
        "distribution = \"gamma\"\nshape = 1e300\nscale = 1000",
        14,
        &["service.demand.distribution", "3660 days"],
    );
}

#[test]
fn request_size_times_per_token_demand_overflows() {
    let text = BASE
        .replace(
            "[traffic]\nrate = 5",
            "[traffic.trace]\nformat = \"requests_csv\"\npath = \"r.csv\"\nsize_columns = [\"tokens\"]",
        )
        .replace(
            "distribution = \"exponential\"\nmean = \"100ms\"",
            "distribution = \"linear\"\nbase = \"10ms\"\nper = { tokens = 0.001 }",
        );
    let c = Case::new(&text);
    c.write("r.csv", "time,tokens\n0,10\n1,1e18\n");
    c.refuses(&["validate", "s.toml"], 2, &["service.demand.per.tokens", "1e18", "3660 days"]);
    c.refuses(&["run", "s.toml", "--out", "out"], 2, &["service.demand.per.tokens"]);
}

#[test]
fn azure_context_tokens_overflow_the_demand() {
    let text = BASE
        .replace("[traffic]\nrate = 5", "[traffic.trace]\nformat = \"azure_llm\"\npath = \"az.csv\"")
        .replace(
            "distribution = \"exponential\"\nmean = \"100ms\"",
            "distribution = \"linear\"\nbase = \"10ms\"\nper = { ContextTokens = 0.001 }",
        );
    let c = Case::new(&text);
    c.write(
        "az.csv",
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,1e18,10\n2023-11-16 18:15:50.0,10,10\n",
    );
    c.refuses(&["validate", "s.toml"], 2, &["service.demand.per.ContextTokens", "3660 days"]);
}

// ---- files -------------------------------------------------------------------------------

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn mkfifo(path: &Path) {
    let ok = std::process::Command::new("mkfifo").arg(path).status().expect("mkfifo runs").success();
    assert!(ok, "mkfifo {}", path.display());
}

#[test]
fn scenario_from_a_device_fifo_or_directory() {
    let c = Case::new(BASE);
    mkfifo(&c.path("fifo.toml"));
    std::fs::create_dir(c.path("dir.toml")).expect("dir");
    for (file, want) in [
        ("/dev/zero", "not a regular file"),
        ("/dev/urandom", "not a regular file"),
        ("fifo.toml", "not a regular file"),
        ("dir.toml", "a directory"),
    ] {
        c.refuses(&["validate", file], 2, &[want]);
        c.refuses(&["run", file, "--out", "out"], 2, &[want]);
        c.refuses(&["capacity", file, "--out", "out"], 2, &[want]);
        c.refuses(&["recommend", file, "--out", "out"], 2, &[want]);
        c.refuses(&["export", file, "--policy", "x", "--out", "out/x.yaml"], 2, &[want]);
    }
}

#[test]
fn trace_from_a_device() {
    let c =
        Case::new(&BASE.replace(
            "[traffic]\nrate = 5",
            "[traffic.trace]\nformat = \"requests_csv\"\npath = \"/dev/zero\"",
        ));
    c.refuses(&["validate", "s.toml"], 2, &["traffic.trace.path", "not a regular file"]);
}

#[test]
fn explain_cases_and_locust_files_from_devices_and_fifos() {
    let c = Case::new(BASE);
    mkfifo(&c.path("case.yaml"));
    for file in ["/dev/zero", "case.yaml"] {
        c.refuses(&["explain", "hpa", file], 2, &["not a regular file"]);
        c.refuses(&["explain", "kpa", file], 2, &["not a regular file"]);
        c.refuses(&["calibrate", "--locust", file, "--out", "out/s.toml"], 2, &["not a regular file"]);
    }
}

#[test]
fn invalid_utf8_names_the_byte_offset() {
    let c = Case::new(BASE);
    std::fs::write(c.path("bad.toml"), b"[simulation]\nname = \"b\xffd\"\n").expect("write");
    c.refuses(&["validate", "bad.toml"], 2, &["not valid UTF-8", "byte offset 22 (line 2, column 10)"]);
    std::fs::write(c.path("case.yaml"), b"now: 1\xfe\n").expect("write");
    c.refuses(&["explain", "hpa", "case.yaml"], 2, &["byte offset 6"]);
}

#[test]
fn files_over_the_size_cap() {
    let c = Case::new(BASE);
    std::fs::File::create(c.path("big.toml")).expect("create").set_len(17 << 20).expect("size");
    c.refuses(&["validate", "big.toml"], 2, &["more than the 16 MiB"]);
}

#[test]
fn deeply_nested_manifest_and_case_are_refused_fast() {
    let deep = format!("spec: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let c = Case::new(&BASE.replace(
        "[[policy]]\nname = \"fixed-2\"\ntype = \"fixed\"\nreplicas = 2",
        "[[policy]]\nname = \"fixed-2\"\ntype = \"hpa\"\nmanifest = \"deep.yaml\"",
    ));
    c.write("deep.yaml", &deep).write("deep-case.yaml", &deep);
    let t = std::time::Instant::now();
    c.refuses(
        &["validate", "s.toml"],
        2,
        &["policy[0].manifest", "deep.yaml:1", "nests more than 64 levels"],
    );
    c.refuses(&["explain", "hpa", "deep-case.yaml"], 2, &["deep-case.yaml:1", "nests more than 64 levels"]);
    c.refuses(&["explain", "kpa", "deep-case.yaml"], 2, &["nests more than 64 levels"]);
    assert!(t.elapsed().as_secs() < 20, "took {:?}", t.elapsed());
}

#[test]
fn many_policies_with_a_late_duplicate_are_checked_fast() {
    let mut text = BASE.to_string();
    for i in 0..20_000 {
        text.push_str(&format!("\n[[policy]]\nname = \"f{i}\"\ntype = \"fixed\"\nreplicas = 1\n"));
    }
    text.push_str("\n[[policy]]\nname = \"f7\"\ntype = \"fixed\"\nreplicas = 1\n");
    let c = Case::new(&text);
    let t = std::time::Instant::now();
    c.refuses(&["validate", "s.toml"], 2, &["duplicate policy name \"f7\" (already used by policy[9])"]);
    assert!(t.elapsed().as_secs() < 30, "took {:?}", t.elapsed());
}

// ---- cost bounds ------------------------------------------------------------------------

fn set_refused(set: &str, wanted: &[&str]) {
    let c = Case::new(BASE);
    c.refuses(&["validate", "s.toml", "--set", set], 2, wanted);
    c.refuses(&["run", "s.toml", "--out", "out", "--set", set], 2, wanted);
}

#[test]
fn one_microsecond_policy_interval() {
    set_refused("policy.rps-5.interval=\"1us\"", &["decisions", "--allow-large"]);
}

#[test]
fn four_billion_fixed_replicas() {
    set_refused("policy.fixed-2.replicas=4000000000", &["replicas per run", "--allow-large"]);
}

#[test]
fn rps_target_tiny_with_a_huge_max() {
    let c = Case::new(&BASE.replace("target = 5\nmax = 6", "target = 1e-6\nmax = 4000000000"));
    c.refuses(&["validate", "s.toml"], 2, &["--allow-large"]);
}

#[test]
fn a_trillion_requests_per_second() {
    set_refused("traffic.rate=1e12", &["requests", "simulated events", "--allow-large"]);
}

#[test]
fn ten_years_of_a_trickle() {
    let c = Case::new(
        &BASE.replace("duration = \"10m\"", "duration = \"3650days\"").replace("rate = 5", "rate = 0.01"),
    );
    c.refuses(&["validate", "s.toml"], 2, &["recording intervals", "--allow-large"]);
    c.refuses(&["run", "s.toml", "--out", "out"], 2, &["--allow-large"]);
}

#[test]
fn too_many_threads_and_seeds() {
    let c = Case::new(BASE);
    c.refuses(&["run", "s.toml", "--out", "out", "--threads", "100000"], 2, &["--threads"]);
    c.refuses(
        &["run", "s.toml", "--out", "out", "--seeds", "100000"],
        2,
        &["--seeds 100000", "--allow-large"],
    );
}

#[test]
fn capacity_with_an_endless_think_time() {
    let c = Case::new(BASE);
    c.refuses(
        &["capacity", "s.toml", "--mode", "closed", "--think", "1e300", "--out", "out"],
        2,
        &["--think"],
    );
}

// ---- meaningful input -------------------------------------------------------------------

#[test]
fn lognormal_sigma_huge() {
    scenario_refused(
        "distribution = \"exponential\"\nmean = \"100ms\"",
        "distribution = \"lognormal\"\nmean = \"100ms\"\nsigma = 1000",
        16,
        &["service.demand.sigma", "at most 4"],
    );
}

#[test]
fn bursty_cv_huge() {
    scenario_refused(
        "rate = 5",
        "rate = 5\narrival = { process = \"bursty\", cv = 1e6 }",
        8,
        &["traffic.arrival.cv"],
    );
}

#[test]
fn concurrency_policy_at_zero_without_activator() {
    scenario_refused(
        "type = \"rps\"\ntarget = 5\nmax = 6",
        "type = \"concurrency\"\ntarget = 5\nmin = 0\nmax = 6",
        30,
        &["policy[1].min", "no activator", "activator = {"],
    );
}

#[test]
fn cron_window_that_never_fires() {
    scenario_refused(
        "type = \"rps\"\ntarget = 5\nmax = 6",
        "type = \"schedule\"\nmax = 6\nwindows = [{ start = \"0 0 30 2 *\", end = \"0 1 30 2 *\", replicas = 2 }]",
        30,
        &["policy[1].windows[0].start", "never fires"],
    );
}

#[test]
fn explain_kpa_ticks_out_of_order() {
    let c = Case::new(BASE);
    c.write(
        "k.yaml",
        "config: {target: 10, totalValue: 100}\nticks:\n  - {time: 4, stableAverage: 1, panicAverage: 1, readyPods: 1}\n  - {time: 2, stableAverage: 1, panicAverage: 1, readyPods: 1}\n",
    );
    // The message points at the line and column the out-of-order time is written on.
    c.refuses(&["explain", "kpa", "k.yaml"], 2, &["k.yaml:4:6: ticks[1].time", "time order"]);
}

const HPA_CASE: &str = "hpa: {minReplicas: 1, maxReplicas: 10, metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 30}}}]}\nnow: 1000\ncurrentReplicas: 3\npods:\n- {name: a, requests: {cpu: 1}, metrics: {cpu: 300m}}\n";

#[test]
fn explain_hpa_nan_now_and_negative_cpu() {
    let c = Case::new(BASE);
    c.write("nan.yaml", &HPA_CASE.replace("now: 1000", "now: .nan"));
    c.refuses(&["explain", "hpa", "nan.yaml"], 2, &["nan.yaml:2:1: now", "expected seconds >= 0"]);
    c.write("neg.yaml", &HPA_CASE.replace("cpu: 300m}", "cpu: -300m}"));
    c.refuses(
        &["explain", "hpa", "neg.yaml"],
        2,
        &["neg.yaml:5:43: pods[0].metrics.cpu", "cannot be negative"],
    );
}

const HPA_MANIFEST: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 1\n  maxReplicas: 10\n  metrics:\n    - type: Pods\n      pods:\n        metric: {name: http_requests_per_second}\n        target: {type: AverageValue, averageValue: \"10\"}\n";

fn with_hpa(extra: &str) -> String {
    BASE.replace(
        "[[policy]]\nname = \"fixed-2\"\ntype = \"fixed\"\nreplicas = 2",
        &format!("[[policy]]\nname = \"hpa\"\ntype = \"hpa\"\nmanifest = \"hpa.yaml\"\n{extra}"),
    )
}

#[test]
fn hpa_metric_the_simulation_cannot_supply() {
    let c = Case::new(&with_hpa(""));
    c.write("hpa.yaml", HPA_MANIFEST);
    c.refuses(
        &["validate", "s.toml"],
        2,
        &["hpa.yaml:12", "http_requests_per_second", "requests_per_second", "concurrency", "metrics_map"],
    );
    // Mapped onto a supplied metric, it validates and scales.
    let ok = Case::new(&with_hpa("metrics_map = { http_requests_per_second = \"requests_per_second\" }"));
    ok.write("hpa.yaml", HPA_MANIFEST);
    let out = ok.run(&["validate", "s.toml"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

const KEDA_MANIFEST: &str = "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata:\n  name: web\nspec:\n  scaleTargetRef: {name: web}\n  pollingInterval: 15\n  minReplicaCount: 1\n  maxReplicaCount: 10\n  triggers:\n    - type: prometheus\n      metadata:\n        serverAddress: http://prometheus:9090\n        query: sum(app_load_total)\n        threshold: \"1\"\n";

fn with_keda(extra: &str) -> String {
    BASE.replace(
        "[[policy]]\nname = \"fixed-2\"\ntype = \"fixed\"\nreplicas = 2",
        &format!("[[policy]]\nname = \"keda\"\ntype = \"keda\"\nmanifest = \"keda.yaml\"\n{extra}"),
    )
}

#[test]
fn keda_query_the_simulation_cannot_supply() {
    let c = Case::new(&with_keda(""));
    c.write("keda.yaml", KEDA_MANIFEST);
    c.refuses(
        &["validate", "s.toml"],
        2,
        &["keda.yaml", "spec.triggers[0].metadata.query", "sum(app_load_total)", "metrics_map"],
    );
    // A map onto something that is not supplied is refused, naming what is.
    let bad = Case::new(&with_keda("metrics_map = { \"sum(app_load_total)\" = \"queue_depth\" }"));
    bad.write("keda.yaml", KEDA_MANIFEST);
    bad.refuses(&["validate", "s.toml"], 2, &["queue_depth", "requests_per_second", "concurrency"]);
    // Mapped onto the request rate (5 req/s against a threshold of 1 per replica), it scales up.
    let ok = Case::new(&with_keda("metrics_map = { \"sum(app_load_total)\" = \"requests_per_second\" }"));
    ok.write("keda.yaml", KEDA_MANIFEST);
    let out = ok.run(&["run", "s.toml", "--out", "out", "--no-oracle", "--policy", "keda"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ok.dir.path().join("out/summary.json")).unwrap())
            .unwrap();
    let keda = &summary["policies"][0];
    assert!(keda["peak_replicas"].as_f64().unwrap() >= 4.0, "{keda}");
}

// ---- messages ---------------------------------------------------------------------------

#[test]
fn bad_set_is_blamed_on_the_set() {
    let c = Case::new(BASE);
    c.refuses(&["validate", "s.toml", "--set", "foo.bar=1"], 2, &["in --set foo.bar=1", "unknown key `foo`"]);
    let out = c.run(&["validate", "s.toml", "--set", "foo.bar=1"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("s.toml:1:1"));
}

#[test]
fn missing_traffic_table() {
    let c = Case::new(&BASE.replace("[traffic]\nrate = 5\n", ""));
    c.refuses(&["validate", "s.toml"], 2, &["s.toml:1:1", "traffic: missing required table [traffic]"]);
}

#[test]
fn scenario_name_with_nul_or_too_long() {
    scenario_refused(
        "name = \"base\"",
        "name = \"a\\u0000b\"",
        2,
        &["simulation.name", "control characters"],
    );
    let long = format!("name = \"{}\"", "n".repeat(300));
    scenario_refused("name = \"base\"", &long, 2, &["simulation.name", "at most 200"]);
}

#[test]
fn manifest_field_typo_gets_did_you_mean() {
    let c = Case::new(&with_hpa(""));
    c.write("hpa.yaml", &HPA_MANIFEST.replace("minReplicas", "minReplica"));
    c.refuses(&["validate", "s.toml"], 2, &["unknown field `minReplica`", "did you mean `minReplicas`?"]);
}

#[test]
fn knative_annotation_typo_gets_did_you_mean() {
    let c = Case::new(&BASE.replace(
        "[[policy]]\nname = \"fixed-2\"\ntype = \"fixed\"\nreplicas = 2",
        "[[policy]]\nname = \"kn\"\ntype = \"knative\"\nmanifest = \"kn.yaml\"",
    ));
    c.write(
        "kn.yaml",
        "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  template:\n    metadata:\n      annotations:\n        autoscaling.knative.dev/min-scal: \"1\"\n",
    );
    c.refuses(&["validate", "s.toml"], 2, &["min-scal", "did you mean `autoscaling.knative.dev/min-scale`?"]);
}

#[test]
fn explain_case_field_typo_gets_did_you_mean() {
    let c = Case::new(BASE);
    c.write("c.yaml", &HPA_CASE.replace("currentReplicas", "currentReplica"));
    c.refuses(
        &["explain", "hpa", "c.yaml"],
        2,
        &["unknown field `currentReplica`", "did you mean `currentReplicas`?"],
    );
}

#[test]
fn unknown_policy_key_lists_only_that_types_keys() {
    let c = Case::new(&BASE.replace("target = 5\nmax = 6", "target = 5\nmax = 6\ntargett = 3"));
    c.refuses(&["validate", "s.toml"], 2, &["did you mean `target`?", "keys of a `rps` policy"]);
    let out = c.run(&["validate", "s.toml"]);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(!e.contains("`replicas`") && !e.contains("`manifest`"), "lists other types' keys:\n{e}");
}

#[test]
fn both_spellings_of_one_setting() {
    scenario_refused("max = 6", "max = 6\nmax_replicas = 6", 30, &["give `max_replicas` or `max`"]);
}

// ---- exit codes: 1 for write failures, 2 for bad input, every command --------------------

#[test]
fn write_failures_exit_1() {
    let c = Case::new(BASE);
    c.write("file", "a regular file\n");
    let locust = format!("{FIXTURES}/locust/step_stats_history.csv");
    c.write("kn.yaml", "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  template:\n    metadata:\n      annotations:\n        autoscaling.knative.dev/min-scale: \"1\"\n");
    c.write(
        "k.toml",
        &BASE.replace(
            "[[policy]]\nname = \"fixed-2\"\ntype = \"fixed\"\nreplicas = 2",
            "[[policy]]\nname = \"kn\"\ntype = \"knative\"\nmanifest = \"kn.yaml\"",
        ),
    );
    c.refuses(&["run", "s.toml", "--out", "file/out"], 1, &["file/out"]);
    c.refuses(&["capacity", "s.toml", "--out", "file/out"], 1, &["file/out"]);
    c.refuses(&["recommend", "s.toml", "--out", "file/out"], 1, &["file/out"]);
    c.refuses(&["calibrate", "--locust", &locust, "--out", "file/s.toml"], 1, &["file"]);
    c.refuses(&["export", "k.toml", "--policy", "kn", "--out", "file/kn.yaml"], 1, &["file"]);
}

#[test]
fn bad_input_exits_2_for_every_command() {
    let c = Case::new(BASE);
    c.write("bad.csv", "not,a,locust,file\n1,2,3,4\n");
    c.refuses(&["validate", "missing.toml"], 2, &["missing.toml"]);
    c.refuses(&["run", "s.toml", "--out", "out", "--policy", "nope"], 2, &["--policy nope"]);
    c.refuses(
        &["export", "s.toml", "--policy", "fixed-2", "--out", "out/x.yaml"],
        2,
        &["no Kubernetes equivalent"],
    );
    c.refuses(&["capacity", "s.toml", "--slo", "p99<", "--out", "out"], 2, &["--slo"]);
    c.refuses(&["recommend", "s.toml", "--capacity-rps=-1", "--out", "out"], 2, &["--capacity-rps"]);
    c.refuses(&["calibrate", "--locust", "bad.csv", "--out", "out/s.toml"], 2, &["bad.csv"]);
    c.refuses(&["explain", "hpa", "missing.yaml"], 2, &["missing.yaml"]);
    c.refuses(&["explain", "kpa", "missing.yaml"], 2, &["missing.yaml"]);
}

#[test]
fn recommend_writes_paths_that_resolve_from_its_folder() {
    let c = Case::new(&BASE.replace(
        "[traffic]\nrate = 5",
        "[traffic.trace]\nformat = \"requests_csv\"\npath = \"traces/r.csv\"",
    ));
    std::fs::create_dir(c.path("traces")).expect("dir");
    let mut csv = String::from("time\n");
    for i in 0..600 {
        csv.push_str(&format!("{}\n", i as f64 * 0.2));
    }
    c.write("traces/r.csv", &csv);
    let out = c.run(&["recommend", "s.toml", "--out", "rec/here"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(c.path("rec/here/recommended.toml")).expect("written");
    assert!(text.contains("path = \"../../traces/r.csv\""), "{text}");
    let v = c.run(&["validate", "rec/here/recommended.toml"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}

// ---- issue 21: traces and globs ----

/// The base scenario with `trace` (the lines of a `[traffic.trace]` section) as its traffic.
fn with_trace(trace: &str) -> String {
    BASE.replace("[traffic]\nrate = 5", &format!("[traffic.trace]\n{trace}"))
}

/// An Azure Functions day file: one `http` row with `count(minute)` invocations a minute.
fn azure_day(count: impl Fn(usize) -> String) -> String {
    let mut text = String::from("HashOwner,HashApp,HashFunction,Trigger");
    for m in 1..=1440 {
        text.push_str(&format!(",{m}"));
    }
    text.push_str("\no1,a1,f1,http");
    for m in 0..1440 {
        text.push_str(&format!(",{}", count(m)));
    }
    text.push('\n');
    text
}

/// `validate` succeeds; its stdout.
fn validates(c: &Case, file: &str) -> String {
    let out = c.run(&["validate", file]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn azure_count_of_u64_max_is_refused() {
    let c = Case::new(&with_trace(
        "format = \"azure_functions\"\npath = \"invocations_per_function_md.anon.d*.csv\"",
    ));
    // 2^64 − 1 plus 29 more wrapped round to "28 requests expected"; run then aborted.
    let day = azure_day(|m| match m {
        10 => u64::MAX.to_string(),
        20 => "29".into(),
        _ => "0".into(),
    });
    c.write("invocations_per_function_md.anon.d01.csv", &day);
    let want = [
        "invocations_per_function_md.anon.d01.csv:2:15: column `11`",
        "found `18446744073709551615` invocations in minute 11",
        "more than the 1,000,000,000,000 (10^12) requests a trace may hold",
        "select fewer rows with function, app or trigger",
    ];
    c.refuses(&["validate", "s.toml"], 2, &want);
    c.refuses(&["run", "s.toml", "--out", "out"], 2, &want);
    // Past u64 altogether, and as a float.
    for big in ["18446744073709551616", "1e300"] {
        c.write(
            "invocations_per_function_md.anon.d01.csv",
            &azure_day(|m| if m == 3 { big.into() } else { "1".into() }),
        );
        c.refuses(
            &["validate", "s.toml"],
            2,
            &[":2:8: column `4`", &format!("found `{big}` invocations in minute 4")],
        );
    }
}

#[test]
fn azure_counts_summed_over_days_past_the_limit_are_refused() {
    let c = Case::new(&with_trace(
        "format = \"azure_functions\"\npath = \"invocations_per_function_md.anon.d*.csv\"",
    ));
    // 600 G in each day: each day alone is within 10^12, the two together are not.
    let day = azure_day(|m| if m == 0 { "600000000000".into() } else { "0".into() });
    c.write("invocations_per_function_md.anon.d01.csv", &day);
    c.write("invocations_per_function_md.anon.d02.csv", &day);
    c.refuses(
        &["validate", "s.toml"],
        2,
        &[
            "invocations_per_function_md.anon.d02.csv:2:5: column `1`",
            "found `600000000000` invocations in minute 1",
        ],
    );
}

#[test]
fn rate_trace_past_the_request_limit_is_refused() {
    let c = Case::new(&with_trace("format = \"rate_csv\"\npath = \"r.csv\""));
    c.write("r.csv", "time,rate\n0,5\n60,1e300\n120,5\n");
    c.refuses(
        &["validate", "s.toml"],
        2,
        &[
            "r.csv:3:2: column `rate`",
            "found `1e300`",
            "more than the 1,000,000,000,000 (10^12) a trace may hold",
        ],
    );
}

/// A requests CSV of 2000 requests every 0.5 s (a period of 1000 s when looped) at `speedup`.
fn looped(speedup: &str) -> Case {
    let c = Case::new(&with_trace(&format!(
        "format = \"requests_csv\"\npath = \"r.csv\"\nloop = true\nspeedup = {speedup}"
    )));
    let mut csv = String::from("time\n");
    for i in 0..2000 {
        csv.push_str(&format!("{}\n", f64::from(i) * 0.5));
    }
    c.write("r.csv", &csv);
    c
}

#[test]
fn looped_trace_estimate_does_not_walk_every_loop() {
    // 10 minutes at 1000× is 600 laps of 2000 requests, counted exactly.
    let out = validates(&looped("1e3"), "s.toml");
    assert!(out.contains("traffic    1200000 requests expected"), "{out}");
    // At 1e8 (3.6 G laps) the estimate walked every lap (4.8 s in a release build, minutes in
    // a debug one); now it is one multiplication and the cost check refuses at once.
    let c = looped("1e8");
    let t = std::time::Instant::now();
    c.refuses(&["validate", "s.toml"], 2, &["this would take more than", "240G requests", "--allow-large"]);
    assert!(t.elapsed().as_secs() < 10, "validate took {:?}", t.elapsed());
}

#[test]
fn speedup_that_plays_a_trace_in_under_a_microsecond_is_refused() {
    // At 1e12 even `validate` was still estimating after 30 s.
    let c = looped("1e12");
    let t = std::time::Instant::now();
    let want = [
        "traffic.trace.speedup",
        "found 1e12",
        "less than the simulation's time step of 1 µs",
        "at most 1000000000",
    ];
    c.refuses(&["validate", "s.toml"], 2, &want);
    c.refuses(&["run", "s.toml", "--out", "out", "--allow-large"], 2, &want);
    assert!(t.elapsed().as_secs() < 10, "took {:?}", t.elapsed());
}

/// A folder `logs/` holding one combined log of `n` requests, and a scenario reading `pattern`.
fn logs(pattern: &str, n: usize) -> Case {
    let c = Case::new(&with_trace(&format!(
        "format = \"access_log\"\nlog_format = \"combined\"\npath = \"{pattern}\""
    )));
    std::fs::create_dir(c.path("logs")).expect("logs");
    let mut log = String::new();
    for i in 0..n {
        log.push_str(&format!(
            "10.0.0.1 - - [30/Nov/2024:10:{:02}:{:02} +0000] \"GET / HTTP/1.1\" 200 12 \"-\" \"t\"\n",
            i / 60,
            i % 60
        ));
    }
    c.write("logs/a.log", &log);
    c
}

fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

#[test]
fn globstar_does_not_follow_symlink_loops() {
    let c = logs("logs/**/*.log", 300);
    // One link to `..` read the same log 41 times; two made the walk exponential (a hang).
    symlink("..", &c.path("logs/up"));
    symlink(".", &c.path("logs/self"));
    let t = std::time::Instant::now();
    let out = validates(&c, "s.toml");
    assert!(t.elapsed().as_secs() < 20, "validate took {:?}", t.elapsed());
    assert!(out.contains("trace      access_log (1 file)"), "{out}");
    assert!(out.contains(", 300 requests,"), "{out}");
    // A real subfolder is still searched, and a link the pattern names is followed.
    std::fs::create_dir(c.path("logs/old")).expect("dir");
    std::fs::copy(c.path("logs/a.log"), c.path("logs/old/b.log")).expect("copy");
    assert!(validates(&c, "s.toml").contains("access_log (2 files)"));
}

#[test]
fn glob_reads_a_file_behind_two_names_once() {
    let c = logs("logs/*.log", 300);
    symlink("a.log", &c.path("logs/latest.log"));
    let out = validates(&c, "s.toml");
    assert!(out.contains("access_log (1 file)"), "{out}");
    assert!(out.contains("latest.log` read once: the same file as"), "{out}");
    assert!(out.contains(", 300 requests,"), "{out}");
}

#[test]
fn glob_matching_a_fifo_dangling_link_or_device_is_refused() {
    // Each was dropped silently ("(1 file)", exit 0) while naming it directly is exit 2.
    type Make = fn(&Path);
    let cases: [(&str, Make, &str); 3] = [
        ("b.log", |p| mkfifo(p), "it is not a regular file (a device, FIFO or socket)"),
        (
            "c.log",
            |p| symlink("/nonexistent/c.log", p),
            "it is a symbolic link to `/nonexistent/c.log`, which does not exist",
        ),
        ("d.log", |p| symlink("/dev/zero", p), "it is not a regular file (a device, FIFO or socket)"),
    ];
    for (name, make, why) in cases {
        let c = logs("logs/*.log", 10);
        make(&c.path(&format!("logs/{name}")));
        let shown = format!("logs/{name}`: cannot read the trace file: {why}");
        c.refuses(&["validate", "s.toml"], 2, &["traffic.trace.path", &shown]);
        c.refuses(&["run", "s.toml", "--out", "out"], 2, &[&shown]);
        // The same as naming it directly.
        let direct = Case::new(&with_trace(&format!(
            "format = \"access_log\"\nlog_format = \"combined\"\npath = \"logs/{name}\""
        )));
        std::fs::create_dir(direct.path("logs")).expect("logs");
        make(&direct.path(&format!("logs/{name}")));
        direct.refuses(&["validate", "s.toml"], 2, &[&shown]);
    }
}

#[test]
fn byte_order_mark_before_a_yaml_manifest_is_ignored() {
    // Read as content, the BOM made `---` a string: "invalid type: string \"---\"".
    let hpa = "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n\
               spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 1\n  \
               maxReplicas: 5\n  metrics:\n  - type: Resource\n    resource:\n      name: cpu\n      \
               target: {type: Utilization, averageUtilization: 60}\n";
    let c = Case::new(&BASE.replace(
        "[[policy]]\nname = \"fixed-2\"",
        "[[policy]]\nname = \"h\"\ntype = \"hpa\"\nmanifest = \"hpa.yaml\"\n\n[[policy]]\nname = \"fixed-2\"",
    ));
    c.write("hpa.yaml", &format!("\u{feff}{hpa}"));
    assert!(validates(&c, "s.toml").contains("HPA every 15s: Resource cpu"));
    // A scenario and an explain case with a BOM too.
    c.write("bom.toml", &format!("\u{feff}{}", std::fs::read_to_string(c.path("s.toml")).expect("read")));
    validates(&c, "bom.toml");
    // An explain case: the same answer with and without a BOM.
    let case =
        std::fs::read_to_string(format!("{FIXTURES}/../explain/hpa/A1-scale-up.yaml")).expect("a case");
    let case = if case.starts_with("---") { case } else { format!("---\n{case}") };
    c.write("case.yaml", &case);
    c.write("bom.yaml", &format!("\u{feff}{case}"));
    let (plain, bom) = (c.run(&["explain", "hpa", "case.yaml"]), c.run(&["explain", "hpa", "bom.yaml"]));
    assert_eq!(plain.status.code(), bom.status.code(), "{}", String::from_utf8_lossy(&bom.stderr));
    assert_eq!(plain.stdout, bom.stdout);
}

#[test]
fn trace_timestamps_far_apart_are_refused() {
    let c = Case::new(&with_trace("format = \"requests_csv\"\npath = \"r.csv\""));
    c.write("r.csv", "time\n-1e308\n1e308\n");
    c.refuses(
        &["validate", "s.toml"],
        2,
        &["r.csv:3:1: column `time`", "found `1e308`", "at most 3660 days"],
    );
    // Date-times 400,000 years apart differ by more microseconds than an i64 holds.
    c.write("r.csv", "time\n-200000-01-01 00:00:00\n+200000-01-01 00:00:00\n");
    c.refuses(&["validate", "s.toml"], 2, &["r.csv:3:1: column `time`", "at most 3660 days"]);
}

// ---- issue 21: outputs and report ----------------------------------------------------------

/// Names in `dir` (sorted).
fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn ok(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn currency_with_markup_is_escaped_in_report_html() {
    let c = Case::new(&format!("{BASE}\n[cost]\ncurrency = \"<img src=x onerror=alert(1)>\"\n"));
    ok(&c.run(&["run", "s.toml", "--report", "--out", "out"]), "run --report");
    let page = std::fs::read_to_string(c.path("out/report.html")).expect("report.html");
    assert!(!page.contains("<img"), "a live <img> in report.html");
    let verdict = page.split("id=\"verdict-text\">").nth(1).expect("the verdict");
    assert!(verdict.contains("&lt;img src=x onerror=alert(1)&gt;"), "{}", &verdict[..verdict.len().min(300)]);
    // `report DIR` writes the page again through the same path.
    std::fs::remove_file(c.path("out/report.html")).expect("rm");
    ok(&c.run(&["report", "out"]), "report");
    let again = std::fs::read_to_string(c.path("out/report.html")).expect("report.html");
    assert!(!again.contains("<img") && again.contains("&lt;img src=x"), "report DIR");
}

#[test]
fn scenario_named_scenario_toml_run_with_out_dot_is_refused() {
    let c = Case::new(BASE);
    c.write("scenario.toml", BASE);
    for out in [".", "./", c.dir.path().to_str().expect("utf-8 path")] {
        let o = c.run(&["run", "scenario.toml", "--set", "simulation.duration=5m", "--out", out]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "--out {out}: {err}");
        assert!(err.starts_with("error: "), "{err}");
        for want in ["scenario.toml", "input", "--out"] {
            assert!(err.contains(want), "--out {out}: wanted `{want}` in {err}");
        }
        assert_eq!(
            std::fs::read_to_string(c.path("scenario.toml")).expect("read"),
            BASE,
            "the scenario changed"
        );
        assert!(!c.path("summary.json").exists(), "--out {out}: simulated and wrote outputs");
    }
    // The same through a symbolic link to the scenario's folder.
    std::os::unix::fs::symlink(c.dir.path(), c.path("link")).expect("symlink");
    let o = c.run(&["run", "scenario.toml", "--out", "link"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(c.path("scenario.toml")).expect("read"), BASE);
    // export and tune refuse to replace their scenario too.
    let o = c.run(&["export", "scenario.toml", "--policy", "rps-5", "--out", "scenario.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_to_string(c.path("scenario.toml")).expect("read"), BASE);
}

#[test]
fn stale_report_html_is_removed_by_a_later_run() {
    let c = Case::new(BASE);
    ok(&c.run(&["run", "s.toml", "--report", "--out", "out"]), "run --report");
    assert!(c.path("out/report.html").exists());
    // A later run without --report: the page of the earlier run goes, with the commit.
    let o = c.run(&["run", "s.toml", "--set", "traffic.rate=9", "--out", "out"]);
    ok(&o, "second run");
    assert!(
        !c.path("out/report.html").exists(),
        "a stale report.html survived: {:?}",
        listing(&c.path("out"))
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("removed") && err.contains("report.html"), "{err}");
    // The file it did not write is left, with a warning naming it.
    assert!(err.contains("warning:") && err.contains("previous.txt"), "{err}");
    assert_eq!(std::fs::read_to_string(c.path("out/previous.txt")).expect("kept"), "previous run\n");
    // A page written by `report DIR` joins the run's outputs: the next run removes it too.
    ok(&c.run(&["report", "out"]), "report");
    assert!(c.path("out/report.html").exists());
    ok(&c.run(&["run", "s.toml", "--out", "out"]), "third run");
    assert!(!c.path("out/report.html").exists(), "report DIR's page survived a later run");
    let mut want: Vec<String> =
        scalesim::report::OUTPUT_FILES.iter().map(|s| s.to_string()).chain(["previous.txt".into()]).collect();
    want.push(scalesim::report::atomic::RECORD.into());
    want.sort();
    assert_eq!(listing(&c.path("out")), want);
}

#[test]
fn stale_report_html_is_removed_by_a_later_tune() {
    let c = Case::new(BASE);
    let tune = |target: &str| c.run(&["tune", "s.toml", "--policy", "rps-5", "--vary", target, "--out", "t"]);
    ok(&tune("policy.rps-5.target=4,5"), "tune");
    ok(&c.run(&["report", "t"]), "report");
    assert!(c.path("t/report.html").exists() && c.path("t/best.toml").exists());
    // A tune where no candidate is feasible writes no best.*, and the old page goes with them.
    let o = c.run(&[
        "tune",
        "s.toml",
        "--policy",
        "rps-5",
        "--vary",
        "policy.rps-5.target=4,5",
        "--require",
        "cost<0",
        "--out",
        "t",
    ]);
    assert!(matches!(o.status.code(), Some(0) | Some(3)), "{}", String::from_utf8_lossy(&o.stderr));
    let names = listing(&c.path("t"));
    assert!(!names.contains(&"report.html".to_string()), "a stale report.html survived a tune: {names:?}");
    assert!(!names.contains(&"best.toml".to_string()), "a stale best.toml survived: {names:?}");
    assert!(names.contains(&"tune.json".to_string()), "{names:?}");
}

#[test]
fn report_on_a_half_deleted_folder_names_the_missing_file() {
    let c = Case::new(BASE);
    ok(&c.run(&["run", "s.toml", "--out", "r"]), "run");
    std::fs::remove_file(c.path("r/timeseries.csv")).expect("rm");
    for args in [&["report", "r"][..], &["compare", "r", "r", "--out", "out"][..]] {
        let o = c.run(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("timeseries.csv") && err.contains("missing"), "{args:?}: {err}");
        assert!(!err.contains("No request was served"), "{err}");
    }
    assert!(!c.path("r/report.html").exists());
    c.assert_out_intact();
}

#[test]
fn terminal_escape_codes_in_policy_names_are_not_printed_raw() {
    let c = Case::new(
        &BASE.replace("name = \"fixed-2\"", "name = \"fixed-\\u001b[31mRED\\u001b]0;pwned\\u0007\""),
    );
    let o = c.run(&["run", "s.toml", "--out", "out"]);
    ok(&o, "run");
    for (what, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        assert!(!bytes.contains(&0x1b) && !bytes.contains(&0x07), "{what} holds raw control characters");
    }
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("fixed-\\u{1b}[31mRED"), "{out}");
    let v = c.run(&["validate", "s.toml"]);
    assert!(!v.stdout.contains(&0x1b) && !v.stderr.contains(&0x1b), "validate printed raw escapes");
}

#[test]
fn compare_of_unrelated_folders_warns() {
    let c = Case::new(BASE);
    c.write("other.toml", &BASE.replace("seed = 3", "seed = 9").replace("rate = 5", "rate = 8"));
    ok(&c.run(&["run", "s.toml", "--out", "a"]), "run a");
    ok(&c.run(&["run", "s.toml", "--out", "a2"]), "run a2");
    ok(&c.run(&["run", "other.toml", "--out", "b"]), "run b");
    let o = c.run(&["compare", "a", "b", "--out", "cmp"]);
    ok(&o, "compare");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("warning:") && err.contains("not like for like"), "{err}");
    assert!(err.contains("seeds [3] vs [9]") && err.contains("requests offered"), "{err}");
    // Two runs of one scenario: no such warning.
    let o = c.run(&["compare", "a", "a2", "--out", "cmp2"]);
    ok(&o, "compare like for like");
    assert!(!String::from_utf8_lossy(&o.stderr).contains("not like for like"));
}

#[test]
fn export_prometheus_with_a_newline_writes_yaml_that_parses() {
    let c = Case::new(&BASE.replace("name = \"rps-5\"", "name = \"rps-5\\nevil: 1\""));
    let o = c.run(&[
        "export",
        "s.toml",
        "--policy",
        "rps-5\nevil: 1",
        "--prometheus",
        "http://prom:9090\nfoo: bar",
        "--target",
        "web\nx: 1",
        "--out",
        "out/m.yaml",
    ]);
    ok(&o, "export");
    let text = std::fs::read_to_string(c.path("out/m.yaml")).expect("written");
    let docs = scalesim::policy::export::yaml_docs(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(docs.len(), 1, "{text}");
    let trigger = &docs[0]["spec"]["triggers"][0]["metadata"];
    assert_eq!(trigger["serverAddress"].as_str(), Some("http://prom:9090\nfoo: bar"), "{text}");
    assert!(docs[0].get("foo").is_none() && docs[0].get("evil").is_none(), "{text}");
    // The header's comments stay comments: no line of it starts a key.
    for line in text.lines().take_while(|l| !l.starts_with("apiVersion")) {
        assert!(line.starts_with('#'), "a header line is not a comment: {line}\n{text}");
    }
}

// ---- issue 21: tune and seeds ----------------------------------------------------------------

/// `tune` of `file` with a small search over the base scenario's `rps-5`, into `out/`.
fn tune_args<'a>(file: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["tune", file, "--policy", "rps-5", "--vary", "policy.rps-5.target=4,5", "--out", "out"];
    a.extend_from_slice(extra);
    a
}

#[test]
fn tune_skips_the_guarded_input_reader() {
    // A FIFO hung tune (run refused it); /dev/zero cost 2.1 GB before failing; a 200 MB scenario
    // was accepted and copied into a 200 MB best.toml. Every one is refused unread, as by run.
    let c = Case::new(BASE);
    mkfifo(&c.path("fifo.toml"));
    std::fs::File::create(c.path("big.toml")).expect("create").set_len(200 << 20).expect("sparse file");
    for (file, want) in [
        ("fifo.toml", "not a regular file"),
        ("/dev/zero", "not a regular file"),
        ("big.toml", "more than the 16 MiB accepted for a scenario file"),
    ] {
        c.refuses(&tune_args(file, &[]), 2, &[file, want]);
        c.refuses(&["run", file, "--out", "out"], 2, &[file, want]);
    }
}

#[test]
fn seeds_of_2_to_the_63_and_above_are_refused_at_every_entry_point() {
    // `run --seed 18446744073709551615` wrote `seed = "18446744073709551615"` (a string) into
    // scenario.toml, which then failed to load. Seeds are 0..=2^63-1 everywhere, the integers a
    // scenario file holds.
    let c = Case::new(BASE);
    let range = "expected a seed from 0 to 9223372036854775807";
    for seed in ["9223372036854775808", "18446744073709551615"] {
        c.refuses(&["run", "s.toml", "--seed", seed, "--out", "out"], 2, &["--seed", seed, range]);
        c.refuses(&tune_args("s.toml", &["--seed", seed]), 2, &["--seed", seed, range]);
    }
    c.refuses(&["run", "s.toml", "--seed", "1e3", "--out", "out"], 2, &["--seed", "found `1e3`"]);
    // Through --set and the file: refused as an integer out of range, not read as a string.
    let set = "simulation.seed=18446744073709551615";
    let want =
        ["in --set simulation.seed=18446744073709551615", "outside the range a scenario file can hold"];
    c.refuses(&["run", "s.toml", "--set", set, "--out", "out"], 2, &want);
    c.refuses(&tune_args("s.toml", &["--set", set]), 2, &want);
    c.write("big-seed.toml", &BASE.replace("seed = 3", "seed = 18446744073709551615"));
    c.refuses(&["validate", "big-seed.toml"], 2, &["big-seed.toml:4:8", "invalid TOML"]);
}

#[test]
fn explain_decision_blames_a_set_the_user_never_typed() {
    // `explain decision --seed N` passed the seed on as `--set simulation.seed=N`, and its errors
    // said "in --set simulation.seed=…" to a user who typed no --set.
    let c = Case::new(BASE);
    let args = ["explain", "decision", "s.toml", "--policy", "rps-5", "--at", "5m", "--seed"];
    let out = c.run(&[&args[..], &["18446744073709551615"]].concat());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--seed") && stderr.contains("9223372036854775807"), "{stderr}");
    assert!(!stderr.contains("--set"), "blames a --set never typed:\n{stderr}");
    // A valid --seed is the seed the decision is explained for, as `run --seed` sets it.
    let out = c.run(&[&args[..], &["9223372036854775807", "--json"]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["seed"].as_u64(), Some(9_223_372_036_854_775_807), "{v}");
}

#[test]
fn a_run_at_the_largest_seed_reproduces_byte_for_byte_from_its_scenario_toml() {
    // The round trip run -> scenario.toml -> run at the top of the seed range.
    let c = Case::new(BASE);
    let first = c.run(&["run", "s.toml", "--seed", "9223372036854775807", "--out", "a"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let copy = std::fs::read_to_string(c.path("a/scenario.toml")).expect("scenario.toml");
    assert!(copy.contains("seed = 9223372036854775807"), "{copy}");
    let again = c.run(&["run", "a/scenario.toml", "--out", "b"]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    for f in ["timeseries.csv", "decisions.csv", "summary.csv"] {
        let (x, y) = (std::fs::read(c.path(&format!("a/{f}"))), std::fs::read(c.path(&format!("b/{f}"))));
        assert!(x.expect("a") == y.expect("b"), "{f} differs");
    }
    let policies = |d: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(c.path(&format!("{d}/summary.json"))).expect("summary.json");
        serde_json::from_str::<serde_json::Value>(&text).expect("json")["policies"].clone()
    };
    assert_eq!(policies("a"), policies("b"));
}

#[test]
fn tune_ignores_the_seeds_limit_that_run_enforces() {
    let c = Case::new(BASE);
    let want = ["--seeds 10001: more than 10000 replications", "--allow-large"];
    c.refuses(&["run", "s.toml", "--seeds", "10001", "--out", "out"], 2, &want);
    c.refuses(&tune_args("s.toml", &["--seeds", "10001"]), 2, &want);
}
