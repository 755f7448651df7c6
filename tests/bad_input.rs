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
