//! Documentation of every scenario-file key: type, default and meaning.
//!
//! The scenario reference (docs/scenario.md) is generated from these tables by
//! [`reference_markdown`], and tests keep the tables, the parser and the document in step:
//! every documented key parses when set to its example, and every key the parser accepts is
//! documented. Regenerate the document with `UPDATE_DOCS=1 cargo test reference_doc`.
//!
//! The tables of `[traffic]` and of `type = "aws"` live with their builders
//! ([`super::traffic::key_docs`], [`super::aws::key_docs`]); this file holds the rest and
//! gathers them all, so no builder imports it (their rows are [`KeyDoc`]s, from `shared`).

pub use super::shared::KeyDoc;

const fn k(
    key: &'static str,
    when: &'static str,
    ty: &'static str,
    default: &'static str,
    meaning: &'static str,
    example: &'static str,
) -> KeyDoc {
    KeyDoc { key, when, ty, default, meaning, example }
}

/// The keys of a distribution table at `$p` (without `linear`).
macro_rules! dist_docs {
    ($p:literal, $default:literal) => {
        [
            k(
                concat!($p, ".distribution"),
                "",
                "string",
                $default,
                "One of `exponential`, `deterministic`, `lognormal`, `gamma`, `uniform`, `empirical`.",
                "\"exponential\"",
            ),
            k(
                concat!($p, ".mean"),
                "distribution = \"exponential\" | \"lognormal\" | \"gamma\"",
                "duration or seconds",
                "required",
                "Mean. Gamma: give it with one of `cv`, `shape`, `scale`, or give `shape` with `scale` instead.",
                "\"120ms\"",
            ),
            k(
                concat!($p, ".value"),
                "distribution = \"deterministic\"",
                "duration or seconds",
                "required",
                "The constant value.",
                "\"45s\"",
            ),
            k(
                concat!($p, ".p99"),
                "distribution = \"lognormal\"",
                "duration or seconds",
                "`p99` or `sigma` required",
                "99th percentile; with `mean` it fixes the log-normal (must exceed the mean).",
                "\"400ms\"",
            ),
            k(
                concat!($p, ".sigma"),
                "distribution = \"lognormal\"",
                "float",
                "`p99` or `sigma` required",
                "Standard deviation of the underlying normal (instead of `p99`).",
                "0.8",
            ),
            k(
                concat!($p, ".cv"),
                "distribution = \"gamma\"",
                "float",
                "see `mean`",
                "Coefficient of variation (standard deviation / mean); shape = 1/cv².",
                "0.5",
            ),
            k(
                concat!($p, ".shape"),
                "distribution = \"gamma\"",
                "float",
                "see `mean`",
                "Shape k.",
                "4.0",
            ),
            k(
                concat!($p, ".scale"),
                "distribution = \"gamma\"",
                "duration or seconds",
                "see `mean`",
                "Scale θ (mean = k·θ).",
                "\"30ms\"",
            ),
            k(
                concat!($p, ".min"),
                "distribution = \"uniform\"",
                "duration or seconds",
                "required",
                "Lower bound.",
                "\"1s\"",
            ),
            k(
                concat!($p, ".max"),
                "distribution = \"uniform\"",
                "duration or seconds",
                "required",
                "Upper bound (at least `min`).",
                "\"3s\"",
            ),
            k(
                concat!($p, ".samples"),
                "distribution = \"empirical\"",
                "array of durations or seconds",
                "required",
                "Observed values, resampled uniformly.",
                "[\"80ms\", 0.1, \"250ms\"]",
            ),
        ]
    };
}

/// The policy types that take a `controller` table.
const CONTROLLER: &str = "type = \"hpa\" | \"keda\" | \"platform\"";

/// The policy types that take an `activator` table.
const ACTIVATOR: &str = "type = \"rps\" | \"cpu\" | \"concurrency\" | \"schedule\" | \"autoscale\" | \"hpa\" | \"keda\" | \"knative\" | \"platform\"";

/// Every key of the scenario file outside `[traffic]`.
pub fn scenario_key_docs() -> Vec<KeyDoc> {
    let mut v = vec![
        k(
            "simulation.name",
            "",
            "string",
            "the file name without extension",
            "Scenario name, used for the output folder and chart titles.",
            "\"checkout\"",
        ),
        k("simulation.duration", "", "duration", "required", "Simulated time span.", "\"24h\""),
        k(
            "simulation.start",
            "",
            "local date-time",
            "\"2025-01-06T00:00:00\" (a Monday)",
            "Local wall-clock time of simulated time 0, in `simulation.timezone`; a string or a TOML local date-time.",
            "\"2025-03-04T00:00:00\"",
        ),
        k(
            "simulation.timezone",
            "",
            "string",
            "\"UTC\"",
            "IANA time zone of the clock (daylight saving included).",
            "\"Europe/Paris\"",
        ),
        k(
            "simulation.seed",
            "",
            "integer",
            "1",
            "Base seed, 0 to 2^63 − 1: the same seed gives the same results.",
            "42",
        ),
        k(
            "simulation.record_interval",
            "",
            "duration",
            "\"1m\"",
            "Length of one recorded interval (time-series resolution).",
            "\"30s\"",
        ),
        k(
            "simulation.warmup",
            "",
            "duration",
            "\"0s\"",
            "Start-up transient excluded from every summary figure (still in the time series, shaded in charts); an interval boundary.",
            "\"10m\"",
        ),
        k(
            "simulation.initial",
            "",
            "string",
            "\"steady\"",
            "Where a policy without its own `initial` starts: `\"steady\"`, in steady state at the traffic's expected rate at time 0 (the policy's own decision on that rate with every replica ready, a fixed point for CPU and concurrency, clamped to [min, max], its metric windows and stabilisation history pre-filled with it; a schedule's count at time 0), or `\"min\"`, at its minimum with empty windows. `validate` shows what each policy starts with; fixed and oracle policies keep their own count.",
            "\"min\"",
        ),
        k(
            "simulation.slo.latency_percentile",
            "",
            "float",
            "99",
            "Which latency percentile `latency` bounds (needs `latency`).",
            "95",
        ),
        k(
            "simulation.slo.latency",
            "",
            "duration",
            "none",
            "Latency objective: the percentile must stay at or below this per interval.",
            "\"500ms\"",
        ),
        k(
            "simulation.slo.error_rate",
            "",
            "fraction or percentage",
            "none",
            "Highest acceptable fraction of failed requests per interval (`0.01` or `\"1%\"`).",
            "\"1%\"",
        ),
        k(
            "service.workers",
            "",
            "integer",
            "required (not with [service.llm])",
            "Requests one replica serves at once (at least 1).",
            "8",
        ),
        k(
            "service.queue_limit",
            "",
            "integer",
            "unbounded",
            "Requests that may wait per replica; more are rejected. 0: no queue.",
            "100",
        ),
        k(
            "service.timeout",
            "",
            "duration",
            "none",
            "Client timeout: a request not finished after this fails as a timeout.",
            "\"10s\"",
        ),
        k(
            "service.termination_grace",
            "",
            "duration",
            "\"30s\"",
            "How long a draining replica may finish its requests.",
            "\"60s\"",
        ),
        k(
            "service.load_balancer",
            "",
            "string",
            "\"round_robin\"",
            "One of `round_robin`, `random`, `least_outstanding`, `power_of_two`.",
            "\"least_outstanding\"",
        ),
    ];
    v.extend(dist_docs!("service.demand", "required"));
    if let Some(d) = v.iter_mut().find(|d| d.key == "service.demand.distribution") {
        d.meaning = "Work per request, seconds on an idle replica: one of `exponential`, `deterministic`, `lognormal`, `gamma`, `uniform`, `empirical`, or `linear` (needs traffic with size columns).";
    }
    v.extend([
        k(
            "service.demand.base",
            "distribution = \"linear\"",
            "duration or seconds",
            "0",
            "Fixed part of a linear demand: base + Σ per[column] × size[column].",
            "\"20ms\"",
        ),
        k(
            "service.demand.per",
            "distribution = \"linear\"",
            "table of durations or seconds",
            "required",
            "Seconds per unit of each of the traffic's size columns, by column name.",
            "{ tokens = 0.002 }",
        ),
        k(
            "service.demand.noise",
            "distribution = \"linear\"",
            "float",
            "none",
            "Coefficient of variation of a mean-1 gamma factor multiplying the linear demand.",
            "0.2",
        ),
        k(
            "service.slowdown.points",
            "",
            "array of [in_flight, factor]",
            "no slowdown",
            "Service-time factor by requests in service on the replica (linear between points, constant beyond).",
            "[[1, 1.0], [8, 1.5], [16, 3.0]]",
        ),
    ]);
    v.extend(dist_docs!("service.startup", "\"deterministic\" (value \"30s\")"));
    if let Some(d) = v.iter_mut().find(|d| d.key == "service.startup.distribution") {
        d.meaning = "Time from a scale-up decision until the replica is ready: same distributions as `service.demand` except `linear`.";
    }
    v.extend(dist_docs!("service.overhead", "none"));
    if let Some(d) = v.iter_mut().find(|d| d.key == "service.overhead.distribution") {
        d.meaning = "Latency outside the replica, per request (network, client and framework time): it occupies no worker and adds to every latency figure (percentiles, SLO, closed-loop users' response times), but does not count toward `service.timeout`, which bounds the time at the replica (queue and service). Same distributions as `service.startup`; `scalesim calibrate` fits a deterministic one.";
    }
    v.extend(dist_docs!("service.pending", "none (the pod runs at once)"));
    if let Some(d) = v.iter_mut().find(|d| d.key == "service.pending.distribution") {
        d.meaning = "Time from a scale-up decision until the pod runs (scheduled, image pulled; phase `Pending` before, which the HPA counts as unready), capped at the startup time: same distributions as `service.startup`.";
    }
    v.extend([
        k("service.cpu.request", "", "float", "1.0", "The pod's CPU request, cores: the denominator of CPU utilisation.", "0.5"),
        k("service.cpu.idle", "", "float", "0.05", "Cores an idle, ready replica uses.", "0.1"),
        k("service.cpu.per_request", "", "duration or seconds", "0", "CPU-seconds each request costs, charged when its service starts.", "\"5ms\""),
        k("service.cpu.per_busy_worker", "", "float", "0.25", "Cores each busy worker uses (CPU proportional to service time).", "0.5"),
        k("service.cpu.engine", "[service.llm]", "float", "1.0", "Cores an LLM replica's engine process uses while a batch step runs (a model of the host process: the GPU's work is not CPU); with `idle`, what a CPU-utilisation policy sees.", "1.0"),
        k("service.llm.gpu", "", "string", "none", "A bundled GPU (`H100`, `H200`, `A100-80GB`, `L40S`, `L4`): vLLM's batch defaults for it (1024 sequences and 8192 tokens on ≥ 70 GiB other than the A100; 256 and 2048 otherwise, and without `gpu`).", "\"H100\""),
        k("service.llm.max_num_seqs", "", "integer", "256 (1024 on H100/H200)", "Requests in the running list at most (vLLM's `max_num_seqs`).", "256"),
        k("service.llm.max_num_batched_tokens", "", "integer", "2048 (8192 on H100/H200)", "Tokens scheduled in one step at most (vLLM's `max_num_batched_tokens`); at least `max_num_seqs` and `block_size`.", "8192"),
        k("service.llm.block_size", "", "integer", "16", "Tokens per KV cache block.", "16"),
        k("service.llm.kv_blocks", "", "integer", "required (or kv_tokens)", "Usable KV cache blocks (vLLM's `num_gpu_blocks` − 1: one is the null block).", "28000"),
        k("service.llm.kv_tokens", "", "integer", "required (or kv_blocks)", "KV cache size as vLLM logs it (\"GPU KV cache size: N tokens\"): kv_blocks = floor(N / block_size) − 1.", "450000"),
        k("service.llm.max_model_len", "", "integer", "the KV capacity", "The longest sequence: a prompt of at least this many tokens is refused (`too_long`), an output is capped at max_model_len − prompt; at most kv_blocks × block_size.", "32768"),
        k("service.llm.step.base", "[service.llm]", "duration or seconds", "required", "Fixed time of one batch step (at least 1µs).", "\"6ms\""),
        k("service.llm.step.prefill_token", "[service.llm]", "duration or seconds", "required", "Time per prefill token scheduled in a step (prompt, chunk or recompute).", "0.00004"),
        k("service.llm.step.decode_token", "[service.llm]", "duration or seconds", "required", "Time per decoding request in a step.", "0.0001"),
        k("service.llm.step.context_token", "[service.llm]", "duration or seconds", "0", "Time per token of context (KV cached) of each decoding request in a step.", "0.00000002"),
        k(
            "service.memory.request",
            "",
            "size",
            "\"512Mi\"",
            "The pod's memory request (a Kubernetes quantity or a number of bytes): the denominator of memory utilisation.",
            "\"1Gi\"",
        ),
        k("service.memory.base", "", "size", "\"256Mi\"", "Working set of a running replica with nothing in flight.", "\"300Mi\""),
        k(
            "service.memory.per_in_flight",
            "",
            "size",
            "\"4Mi\"",
            "Extra working set per request in service or queued (what an HPA memory metric sees).",
            "\"10Mi\"",
        ),
        k("cost.per_replica_hour", "", "float", "0", "Price of one replica for one hour.", "0.12"),
        k("cost.currency", "", "string", "\"USD\"", "Currency label for reports.", "\"EUR\""),
        k("policy[].name", "", "string", "required", "Unique policy name (column and legend label; `--policy` and `--set policy.<name>.<key>` use it).", "\"hpa-cpu\""),
        k(
            "policy[].type",
            "",
            "string",
            "required",
            "One of `fixed`, `rps`, `cpu`, `concurrency`, `schedule`, `autoscale` (several metrics and windows; the largest proposal wins), `aws` (target tracking, step scaling, scheduled actions), a production autoscaler read from its manifest: `hpa`, `keda`, `knative`, or `platform` (min_replicas / max_replicas / polling_interval / one metric, run as a KEDA ScaledObject), or `oracle` (perfect foresight of the arrivals: the cost baseline, see docs/outputs.md; `scalesim run` adds one when there is none).",
            "\"rps\"",
        ),
        k("policy[].replicas", "type = \"fixed\"", "integer", "required", "The constant replica count.", "3"),
        k(
            "policy[].activator",
            ACTIVATOR,
            "table",
            "none (knative: Knative's activator)",
            "Hold requests that arrive while no replica is ready, instead of failing them as `no_replica`: `{ capacity, max_wait }`.",
            "{ capacity = 100, max_wait = \"30s\" }",
        ),
        k("policy[].activator.capacity", ACTIVATOR, "integer", "1000", "Requests held at most; more fail as `no_replica`.", "100"),
        k(
            "policy[].activator.max_wait",
            ACTIVATOR,
            "duration",
            "\"60s\"",
            "Longest a request waits for a ready replica (then `no_replica`, or `timeout` if the client timeout comes first).",
            "\"30s\"",
        ),
        k(
            "policy[].min_replicas",
            "type = \"rps\" | \"cpu\" | \"concurrency\" | \"schedule\" | \"autoscale\" | \"aws\" | \"oracle\" | \"platform\" | \"hpa\" | \"keda\" | \"knative\"",
            "integer",
            "1 (oracle: 0; hpa, keda, knative: the manifest's)",
            "Fewest replicas (aws: MinSize; platform, keda: KEDA minReplicaCount; hpa: spec.minReplicas; knative: the `min-scale` annotation). On hpa, keda and knative it edits the manifest. Every type but fixed also accepts the alias `min`.",
            "2",
        ),
        k(
            "policy[].max_replicas",
            "type = \"rps\" | \"cpu\" | \"concurrency\" | \"schedule\" | \"autoscale\" | \"aws\" | \"oracle\" | \"platform\" | \"hpa\" | \"keda\" | \"knative\"",
            "integer",
            "required (schedule: the largest window's replicas; oracle: unbounded; hpa, keda, knative: the manifest's)",
            "Most replicas, at least 1 and at least `min_replicas` (aws: MaxSize; platform, keda: KEDA maxReplicaCount; hpa: spec.maxReplicas; knative: the `max-scale` annotation). On hpa, keda and knative it edits the manifest. Every type but fixed also accepts the alias `max`.",
            "20",
        ),
        k(
            "policy[].polling_interval",
            "type = \"rps\" | \"cpu\" | \"concurrency\" | \"schedule\" | \"autoscale\" | \"oracle\" | \"platform\" | \"keda\"",
            "duration",
            "\"30s\" (keda: the manifest's)",
            "Time between decisions (oracle: the length of the intervals its demand is computed for). On platform and keda: how often each trigger is checked (KEDA pollingInterval; on keda an edit of the manifest in whole seconds); it only drives activation (scaling from and to zero), while scaling between 1 and max follows the HPA underneath, which syncs every `controller.sync_period` (15 s), so a shorter polling interval does not react faster: shorten the sync period or allow faster scale-up (see docs/metrics.md). The basic types and oracle also accept the alias `interval`.",
            "\"10s\"",
        ),
        k(
            "policy[].cooldown_period",
            "type = \"platform\" | \"keda\"",
            "duration",
            "\"300s\" (keda: the manifest's cooldownPeriod)",
            "Wait after the last active check before scaling to zero (only with min_replicas = 0).",
            "\"120s\"",
        ),
        k(
            "policy[].metric",
            "type = \"platform\"",
            "table",
            "required",
            "The one autoscaling metric: `cpu_utilization` (value: percent of the CPU request), `rps` (value: requests/s per replica) or `cron` (start, end, timezone, desired_replicas).",
            "{ type = \"rps\", value = 10 }",
        ),
        k("policy[].metric.type", "", "string", "required", "`cpu_utilization`, `rps` or `cron`.", "\"rps\""),
        k("policy[].metric.value", "", "float", "required (not cron)", "Target per replica: percent for cpu_utilization, requests/s for rps.", "10"),
        k("policy[].metric.start", "", "cron", "required (cron)", "Start of the window.", "\"0 9 * * 1-5\""),
        k("policy[].metric.end", "", "cron", "required (cron)", "End of the window.", "\"0 21 * * 1-5\""),
        k("policy[].metric.timezone", "", "string", "\"UTC\"", "IANA time zone of the cron expressions.", "\"Europe/London\""),
        k("policy[].metric.desired_replicas", "", "integer", "max_replicas", "Replicas inside the window.", "8"),
        k(
            "policy[].metrics_map",
            "type = \"hpa\" | \"keda\"",
            "table",
            "none",
            "Maps a metric of the manifest onto a metric the simulation supplies (`requests_per_second`: offered requests per second; `concurrency`: requests in flight). hpa: a Pods, Object or External metric name; keda: a prometheus trigger's query, as written (its `[W]`, else 60 s, is the rate window). A manifest metric the simulation cannot supply is an error naming these.",
            "{ http_requests_per_second = \"requests_per_second\" }",
        ),
        k(
            "policy[].controller",
            CONTROLLER,
            "table",
            "Kubernetes defaults",
            "The kube-controller-manager flags and the metrics pipeline of the HPA (for keda and platform: the HPA KEDA creates).",
            "{ sync_period = \"15s\", metrics_resolution = \"30s\" }",
        ),
        k("policy[].controller.sync_period", CONTROLLER, "duration", "\"15s\"", "`--horizontal-pod-autoscaler-sync-period`: time between HPA reconciles.", "\"30s\""),
        k("policy[].controller.sync_offset", CONTROLLER, "duration", "\"0s\"", "When the first reconcile happens (phase of the sync loop).", "\"5s\""),
        k("policy[].controller.tolerance", CONTROLLER, "float", "0.1", "`--horizontal-pod-autoscaler-tolerance` (the manifest's per-direction `behavior` tolerance wins).", "0.05"),
        k("policy[].controller.cpu_initialization_period", CONTROLLER, "duration", "\"5m\"", "`--horizontal-pod-autoscaler-cpu-initialization-period`.", "\"2m\""),
        k("policy[].controller.initial_readiness_delay", CONTROLLER, "duration", "\"30s\"", "`--horizontal-pod-autoscaler-initial-readiness-delay`.", "\"10s\""),
        k("policy[].controller.downscale_stabilization", CONTROLLER, "duration", "\"5m\"", "`--horizontal-pod-autoscaler-downscale-stabilization` (the path without `behavior`, and the default scale-down window with it).", "\"2m\""),
        k("policy[].controller.metrics_resolution", CONTROLLER, "duration", "\"15s\"", "metrics-server scrape interval, which is also the window of each CPU sample.", "\"60s\""),
        k("policy[].controller.metrics_delay", CONTROLLER, "duration", "\"10s\"", "Delay before a CPU sample reaches the HPA (kubelet measurement).", "\"0s\""),
        k("policy[].controller.custom_metrics_interval", CONTROLLER, "duration", "\"30s\"", "Refresh interval of custom and external metrics (`requests_per_second`, `concurrency`; KEDA triggers are read live instead).", "\"15s\""),
        k("policy[].controller.custom_metrics_lag", CONTROLLER, "duration", "\"0s\"", "Age of a custom or external value when it is refreshed.", "\"30s\""),
        k("policy[].controller.custom_metrics_window", CONTROLLER, "duration", "\"60s\"", "Averaging window of custom and external values (like `rate(…[1m])`).", "\"2m\""),
        k(
            "policy[].manifest",
            "type = \"knative\" | \"hpa\" | \"keda\"",
            "string",
            "required",
            "Path (relative to the scenario file) of the manifest to simulate: a HorizontalPodAutoscaler (autoscaling/v2, or autoscaling/v1, converted as the API server does) for `hpa`, a KEDA ScaledObject for `keda`, a Knative `Service` with `autoscaling.knative.dev/*` annotations (optionally followed by `config-autoscaler` / `config-deployment` ConfigMaps) for `knative`.",
            "\"configs/k8s/knative-concurrency.yaml\"",
        ),
        k(
            "policy[].patch",
            "type = \"knative\" | \"hpa\" | \"keda\"",
            "table",
            "none",
            "A merge patch of the manifest, applied before it is read: tables merge, other values replace, a numeric key picks a list element (for knative, the Service document). E.g. `--set policy.hpa-fast.patch.spec.behavior.scaleDown.stabilizationWindowSeconds=120`. A number replacing a string stays a string.",
            "{ spec = { metrics = { 0 = { resource = { target = { averageUtilization = 70 } } } } } }",
        ),
        k(
            "policy[].annotations",
            "type = \"knative\"",
            "table",
            "none",
            "Knative annotations to set on the revision template; a name without `/` means `autoscaling.knative.dev/<name>` (`window`, `panic-window-percentage`, `target-utilization-percentage`, …).",
            "{ window = \"30s\", target-utilization-percentage = 80 }",
        ),
    ]);
    const SCALING: &str = "type = \"rps\" | \"cpu\" | \"concurrency\" | \"schedule\" | \"autoscale\"";
    // min / max / initial also serve `type = "aws"` (MinSize, MaxSize, DesiredCapacity).
    const BOUNDS: &str =
        "type = \"rps\" | \"cpu\" | \"concurrency\" | \"schedule\" | \"autoscale\" | \"aws\" | \"oracle\"";
    v.extend([
        k("policy[].min", BOUNDS, "integer", "1 (oracle: 0)", "Alias of `min_replicas` (also on hpa, keda and knative).", "2"),
        k(
            "policy[].max",
            BOUNDS,
            "integer",
            "required (schedule: the largest window's replicas; oracle: unbounded)",
            "Alias of `max_replicas` (also on hpa, keda and knative).",
            "10",
        ),
        k(
            "policy[].initial",
            "type = \"rps\" | \"cpu\" | \"concurrency\" | \"schedule\" | \"autoscale\" | \"aws\" | \"hpa\" | \"keda\" | \"platform\" | \"oracle\"",
            "integer",
            "steady state (`simulation.initial`); with `simulation.initial = \"min\"`: min (hpa: minReplicas; keda, platform: max(1, minReplicaCount); knative: initial-scale); oracle: its schedule's value at time 0 for the scenario seed",
            "Replicas ready at time 0 (between `min_replicas` and `max_replicas`, or the manifest's bounds); without it the policy starts as `simulation.initial` says (steady state by default).",
            "3",
        ),
        k(
            "policy[].interval",
            "type = \"rps\" | \"cpu\" | \"concurrency\" | \"schedule\" | \"autoscale\" | \"oracle\"",
            "duration",
            "\"30s\"",
            "Alias of `polling_interval`.",
            "\"15s\"",
        ),
        k(
            "policy[].scale_down_stabilization",
            SCALING,
            "duration",
            "\"0s\"",
            "A scale-down takes the highest recommendation over this window (Kubernetes' downscale stabilization).",
            "\"5m\"",
        ),
        k(
            "policy[].scale_up_stabilization",
            SCALING,
            "duration",
            "\"0s\"",
            "A scale-up takes the lowest recommendation over this window.",
            "\"1m\"",
        ),
        k(
            "policy[].target",
            "type = \"rps\" | \"cpu\" | \"concurrency\" | \"hpa\" | \"keda\" | \"knative\"",
            "float",
            "required (hpa, keda, knative: the manifest's)",
            "Target per replica: requests per second (rps), percent of the CPU request (cpu, e.g. 60), requests in flight (concurrency). On hpa it edits the one metric's averageUtilization / averageValue / value, on keda the one non-cron trigger's threshold (cpu, memory: value), on knative the `target` annotation.",
            "60",
        ),
        k(
            "policy[].window",
            "type = \"rps\" | \"cpu\" | \"concurrency\" | \"oracle\"",
            "duration",
            "\"60s\" (cpu: `interval`; oracle: `10s`, at most `interval`)",
            "Averaging window of the metric (oracle: the sub-windows over which an interval's peak rate is measured).",
            "\"2m\"",
        ),
        k(
            "policy[].capacity",
            "type = \"oracle\"",
            "float",
            "measured: the step test of `scalesim capacity` against the scenario's SLO (without one: at most 1 % errors)",
            "Requests per second one replica serves within the SLO (requests without per-request sizes); the oracle demands ⌈peak rate / capacity⌉ replicas per interval.",
            "12.5",
        ),
        k(
            "policy[].lead",
            "type = \"oracle\"",
            "duration",
            "the startup time's maximum (uniform, deterministic, empirical) or 99th percentile",
            "How long before an interval the oracle requests its replicas.",
            "\"45s\"",
        ),
        k(
            "policy[].tolerance",
            "type = \"rps\" | \"cpu\" | \"concurrency\"",
            "float",
            "0.1",
            "No change while the metric is within this fraction of the target, like the HPA's tolerance: cpu |utilisation / target − 1|, rps and concurrency |value / (target × replicas) − 1|. 0 for the plain ceiling.",
            "0.05",
        ),
        k(
            "policy[].windows",
            "type = \"schedule\" | \"autoscale\"",
            "array of tables",
            "required for schedule",
            "Cron windows with a replica count inside each.",
            "[{ start = \"0 9 * * 1-5\", end = \"0 21 * * 1-5\", replicas = 4 }]",
        ),
        k(
            "policy[].windows[].start",
            "",
            "cron",
            "required",
            "Cron expression (minute hour day-of-month month day-of-week) of the window's start.",
            "\"0 8 * * 1-5\"",
        ),
        k("policy[].windows[].end", "", "cron", "required", "Cron expression of the window's end.", "\"30 20 * * 1-5\""),
        k("policy[].windows[].replicas", "", "integer", "required", "Replicas while the window is open (at most `max`).", "5"),
        k(
            "policy[].windows[].timezone",
            "",
            "string",
            "simulation.timezone",
            "IANA time zone the cron expressions are read in.",
            "\"America/New_York\"",
        ),
        k(
            "policy[].metrics",
            "type = \"autoscale\"",
            "array of tables",
            "none",
            "Metric rules; each proposes a replica count and the largest wins.",
            "[{ type = \"rps\", target = 10 }, { type = \"cpu\", target = 60 }]",
        ),
        k("policy[].metrics[].type", "", "string", "required", "One of `rps`, `cpu`, `concurrency`.", "\"concurrency\""),
        k("policy[].metrics[].target", "", "float", "required", "Target per replica, as for `policy[].target`.", "12"),
        k(
            "policy[].metrics[].window",
            "",
            "duration",
            "\"60s\" (cpu: `interval`)",
            "Averaging window of the metric.",
            "\"30s\"",
        ),
        k("policy[].metrics[].tolerance", "", "float", "0.1", "Tolerance of the rule (see `policy[].tolerance`).", "0.2"),
    ]);
    v.extend(super::aws::key_docs());
    v
}

/// Every key of the scenario file, `[traffic]` included, in reference order.
pub fn all_key_docs() -> Vec<KeyDoc> {
    let mine = scenario_key_docs();
    let split = mine.iter().position(|d| d.key.starts_with("service.")).unwrap_or(mine.len());
    let mut v: Vec<KeyDoc> = mine[..split].to_vec();
    v.extend(super::traffic::key_docs());
    v.extend_from_slice(&mine[split..]);
    v
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn code(s: &str) -> String {
    if s.is_empty() { String::new() } else { format!("`{}`", s.replace('|', "\\|")) }
}

const INTRO: &str = "# Scenario file reference

<!-- Generated from src/config/keys.rs by `scalesim reference`; do not edit by hand.
     Regenerate with `UPDATE_DOCS=1 cargo test reference_doc`. -->

A scenario is a TOML file with the tables `[simulation]`, `[traffic]`, `[service]`, `[cost]`
and one `[[policy]]` per autoscaling policy to compare. Unknown keys are errors (with a
suggestion for the closest valid key).

Value types:

- **duration**: a string with a unit, e.g. `\"250ms\"`, `\"30s\"`, `\"5m\"`, `\"1h30m\"`, `\"24h\"`.
- **duration or seconds**: a duration string or a plain number of seconds (`0.25`).
- **cron**: five fields (minute hour day-of-month month day-of-week), or six with seconds first.
- **fraction or percentage**: `0.01` or `\"1%\"`.

`[]` in a key marks an array of tables: `policy[].max` is the `max` key of each `[[policy]]`.
*When* says which `type` or `distribution` a key belongs to; using it with another one is an
error.

Any key can be overridden from the command line, before the file is checked:
`--set service.timeout=10s`, `--set traffic.rate=200`, `--set policy.<name>.max=20` (or
`policy.<index>.max`). The value is read as TOML, falling back to a plain string.
";

/// A complete scenario using most keys (shown at the end of the reference; a test loads it).
pub const EXAMPLE: &str = r#"[simulation]
name = "checkout"
duration = "24h"
start = "2025-03-03T00:00:00"      # a Monday
timezone = "Europe/Paris"
seed = 42
record_interval = "1m"

[simulation.slo]
latency_percentile = 99
latency = "500ms"
error_rate = "1%"

[traffic]
rate = 100

[service]
workers = 8
queue_limit = 200
timeout = "10s"
termination_grace = "30s"
load_balancer = "least_outstanding"

[service.demand]
distribution = "lognormal"
mean = "120ms"
p99 = "600ms"

[service.slowdown]
points = [[1, 1.0], [8, 1.4], [16, 2.5]]

[service.startup]
distribution = "gamma"
mean = "40s"
cv = 0.3

[service.cpu]
request = 1.0
idle = 0.05
per_request = "5ms"
per_busy_worker = 0.5

[cost]
per_replica_hour = 0.12
currency = "EUR"

[[policy]]
name = "fixed-12"
type = "fixed"
replicas = 12

[[policy]]
name = "hpa-cpu"
type = "cpu"
target = 60
tolerance = 0.1
min_replicas = 2
max_replicas = 30
polling_interval = "15s"
scale_down_stabilization = "5m"

[[policy]]
name = "rps"
type = "rps"
target = 12
window = "1m"
min_replicas = 2
max_replicas = 30
initial = 4

[[policy]]
name = "office-hours"
type = "schedule"
min_replicas = 2
windows = [
  { start = "0 8 * * 1-5", end = "0 20 * * 1-5", replicas = 14 },
  { start = "0 10 * * 6", end = "0 16 * * 6", replicas = 6, timezone = "Europe/London" },
]

[[policy]]
name = "combined"
type = "autoscale"
min_replicas = 2
max_replicas = 30
scale_up_stabilization = "30s"
scale_down_stabilization = "5m"
metrics = [
  { type = "rps", target = 12 },
  { type = "cpu", target = 60, window = "2m" },
  { type = "concurrency", target = 6 },
]
windows = [{ start = "0 8 * * 1-5", end = "0 20 * * 1-5", replicas = 10 }]
"#;

/// The scenario reference, in Markdown (the text of docs/scenario.md).
pub fn reference_markdown() -> String {
    let docs = all_key_docs();
    let mut out = String::from(INTRO);
    let mut section = "";
    for d in &docs {
        let top = d.key.split(['.', '[']).next().unwrap_or(d.key);
        if top != section {
            section = top;
            let header = if top == "policy" { "[[policy]]".to_string() } else { format!("[{top}]") };
            out.push_str(&format!(
                "\n## {header}\n\n| Key | Type | Default | When | Meaning | Example |\n|---|---|---|---|---|---|\n"
            ));
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            d.key,
            cell(d.ty),
            cell(d.default),
            code(d.when),
            cell(d.meaning),
            code(d.example)
        ));
    }
    out.push_str("\n## How `type = \"aws\"` policies decide\n\n");
    out.push_str(super::aws::NOTES);
    out.push_str("\n## A complete example\n\n```toml\n");
    out.push_str(EXAMPLE);
    out.push_str("```\n");
    out
}
