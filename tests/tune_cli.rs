//! `scalesim tune` through the binary: the answer of a case known in closed form (Erlang C),
//! equality with plain runs, determinism across thread counts, halving against the grid,
//! best.toml and best.yaml (validated against the Kubernetes schema), and bad input.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[path = "common/schema.rs"]
mod schema;

fn bin() -> Command {
    let mut c = Command::cargo_bin("scalesim").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap()
}

/// Runs tune with `args` into a fresh folder; returns (folder guard, tune.json, stdout).
fn tune(args: &[&str]) -> (tempfile::TempDir, Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("t");
    let o = bin().arg("tune").args(args).arg("--out").arg(&out).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "tune {args:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    let json = read_json(&out.join("tune.json"));
    (tmp, json, stdout)
}

fn candidate<'a>(json: &'a Value, key: &str, value: &Value) -> &'a Value {
    json["candidates"].as_array().unwrap().iter().find(|c| &c["params"][key] == value).expect("candidate")
}

/// Erlang C: probability of waiting in M/M/c with offered load `a` = λ/μ.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let last = term * a / c as f64 * (c as f64 / (c as f64 - a));
    last / (sum + last)
}

#[test]
fn tune_finds_the_fewest_workers_that_erlang_c_says_meet_the_latency() {
    let (lambda, mu, limit) = (30.0, 10.0, 0.105);
    let w = |c: u32| erlang_c(c, lambda / mu) / (c as f64 * mu - lambda) + 1.0 / mu;
    // W(5) = 0.1118 s, W(6) = 0.1033 s: the limit sits between them, away from both.
    let want = (4..=9).find(|&c| w(c) <= limit).unwrap();
    assert_eq!(want, 6);
    let (_t, json, stdout) = tune(&[
        "tests/fixtures/tune/mmc.toml",
        "--policy",
        "one",
        "--vary",
        "service.workers=4..9:1",
        "--require",
        "latency_mean_s<=0.105",
    ]);
    println!("{stdout}");
    for c in 4..=9u32 {
        let cand = candidate(&json, "service.workers", &Value::from(c));
        let measured = cand["latency_mean_s"].as_f64().unwrap();
        println!("c = {c}: W measured {measured:.5} s, Erlang C {:.5} s", w(c));
        assert!((measured / w(c) - 1.0).abs() < 0.02, "c = {c}: {measured} vs {}", w(c));
        assert_eq!(cand["feasible"], Value::Bool(w(c) <= limit), "c = {c}");
    }
    // Every candidate costs the same (one replica), so the tie goes to the first in --vary order:
    // the fewest workers that meet the constraint.
    assert_eq!(json["best"]["params"]["service.workers"], Value::from(want));
    assert!(stdout.contains("best: service.workers=6"), "{stdout}");
}

#[test]
fn a_candidate_equals_a_plain_run_with_the_same_set_values() {
    let args = [
        "configs/quickstart.toml",
        "--policy",
        "rps-10",
        "--vary",
        "policy.rps-10.target=8,12",
        "--vary",
        "policy.rps-10.interval=15s,30s",
        "--seeds",
        "2",
        "--set",
        "simulation.duration=90m",
    ];
    let (_t, json, _) = tune(&args);
    let tmp = tempfile::tempdir().unwrap();
    bin()
        .args(["run", "configs/quickstart.toml", "--policy", "rps-10", "--seeds", "2"])
        .args(["--set", "simulation.duration=90m", "--set", "policy.rps-10.target=12"])
        .args(["--set", "policy.rps-10.interval=15s", "--out"])
        .arg(tmp.path())
        .assert()
        .success();
    let run = read_json(&tmp.path().join("summary.json"));
    let plain = &run["policies"][0];
    let cand = json["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["params"]["policy.rps-10.target"] == 12 && c["params"]["policy.rps-10.interval"] == "15s")
        .unwrap();
    let mut compared = 0;
    for (k, v) in plain.as_object().unwrap() {
        // (min_replicas / max_replicas are the policy's settings, not figures.)
        if v.is_number() && !["replications", "min_replicas", "max_replicas"].contains(&k.as_str()) {
            assert_eq!(&cand[k], v, "{k}");
            compared += 1;
            if let Some(iv) = plain.get("intervals").and_then(|i| i.get(k)) {
                assert_eq!(cand["ci95"][k][0], iv["ci95_low"], "{k} ci low");
                assert_eq!(cand["ci95"][k][1], iv["ci95_high"], "{k} ci high");
            }
        }
    }
    assert!(compared >= 14, "compared {compared} figures");
    // Same arrivals for every candidate (common random numbers).
    let reqs: Vec<&Value> = json["candidates"].as_array().unwrap().iter().map(|c| &c["requests"]).collect();
    assert!(reqs.windows(2).all(|w| w[0] == w[1]), "{reqs:?}");
}

#[test]
fn tune_outputs_are_identical_at_any_thread_count_and_match_the_schema() {
    let args = [
        "configs/quickstart.toml",
        "--policy",
        "rps-10",
        "--vary",
        "policy.rps-10.target=6..14:2",
        "--vary",
        "policy.rps-10.scale_down_stabilization=0s,5m",
        "--strategy",
        "halving",
        "--seeds",
        "2",
        "--set",
        "simulation.duration=1h",
    ];
    let names = ["tune.json", "tune.csv", "best.toml", "pareto.png", "sensitivity.png"];
    let tmp = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        // The same folder both times: best.toml's relative paths are relative to it.
        bin().arg("tune").args(args).args(["--threads", threads, "--out"]).arg(tmp.path()).assert().success();
        outs.push(names.map(|f| std::fs::read(tmp.path().join(f)).unwrap()));
    }
    for (i, name) in names.iter().enumerate() {
        assert!(outs[0][i] == outs[1][i], "{name} differs between 1 and 2 threads");
    }
    let json: Value = serde_json::from_slice(&outs[0][0]).unwrap();
    let schema_doc = read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/tune.schema.json"));
    schema::validate(&json, &schema_doc, &schema_doc, "$");
    if !json["best"].is_null() {
        schema::validate(&json["best"], &schema_doc["$defs"]["candidate"], &schema_doc, "$.best");
    }
    // The CSV has one row per candidate and a column per varied key.
    let csv = String::from_utf8(outs[0][1].clone()).unwrap();
    assert_eq!(csv.lines().count(), 1 + 10);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .starts_with("id,policy.rps-10.target,policy.rps-10.scale_down_stabilization,rank")
    );
}

#[test]
fn halving_screens_the_busy_end_and_finds_the_grids_best() {
    // The load comes in the last 40 minutes of two hours; the peak needs about 11 replicas.
    let common = [
        "tests/fixtures/tune/late-peak.toml",
        "--policy",
        "rps",
        "--vary",
        "policy.rps.max=4..15:1",
        "--vary",
        "policy.rps.interval=10s,30s",
        "--seeds",
        "3",
    ];
    let (_a, grid, _) = tune(&[&common[..], &["--strategy", "grid"]].concat());
    let (_b, halving, out) = tune(&[&common[..], &["--strategy", "halving"]].concat());
    println!("{out}");
    println!("{:#}", halving["strategy"]);
    // The screen measures the busiest quarter of the horizon — the first 30 minutes at the
    // peak — after a warm-up of half as long (the end of the ramp), with one replication.
    let screen = &halving["strategy"]["rungs"][0];
    assert_eq!(screen["candidates"], 24);
    assert_eq!(screen["replications"], 1);
    assert_eq!(screen["horizon_fraction"], 0.25);
    let w = &screen["window"];
    assert_eq!(
        (&w["start_s"], &w["end_s"], &w["warmup_s"]),
        (&Value::from(4800), &Value::from(6600), &Value::from(900))
    );
    assert_eq!(
        (w["start"].as_str().unwrap(), w["end"].as_str().unwrap()),
        ("2025-03-04T10:20:00+00:00", "2025-03-04T10:50:00+00:00")
    );
    let (g, h) =
        (grid["requests_simulated"].as_u64().unwrap(), halving["requests_simulated"].as_u64().unwrap());
    println!("requests simulated: grid {g}, halving {h} ({:.2}x fewer)", g as f64 / h as f64);
    assert!(g as f64 >= 2.0 * h as f64, "grid {g} vs halving {h}");
    let best = &halving["best"]["params"];
    assert!(!best.is_null(), "halving found nothing feasible: {}", halving["message"]);
    // The grid ranks halving's choice first, or cannot tell it from its own best.
    let same = grid["candidates"].as_array().unwrap().iter().find(|c| &c["params"] == best).unwrap();
    assert!(
        same["rank"] == 1 || same["indistinguishable_from_best"] == Value::Bool(true),
        "halving chose {best}, grid rank {} ({})",
        same["rank"],
        same["diff_to_best"]
    );
    // Only full-fidelity candidates are ranked; the others say which window they were
    // measured on.
    for c in halving["candidates"].as_array().unwrap() {
        let f = &c["fidelity"];
        assert_eq!(c["rank"].is_null(), !f["full"].as_bool().unwrap());
        let start = if f["rung"] == 0 { 4800 } else { 0 };
        assert_eq!(f["window"]["start_s"], start, "{c}");
    }
    // A screen of a prefix would have misled: over the first hour every candidate meets the
    // SLO, and the quarter of them ranked best there all fail the whole run.
    let (_c, prefix, _) = tune(&[&common[..7], &["--set", "simulation.duration=1h"]].concat());
    let mut firsts: Vec<&Value> = prefix["candidates"].as_array().unwrap().iter().collect();
    assert!(firsts.iter().all(|c| c["feasible"] == true));
    firsts.sort_by_key(|c| c["rank"].as_u64());
    for c in &firsts[..6] {
        let in_grid =
            grid["candidates"].as_array().unwrap().iter().find(|g| g["params"] == c["params"]).unwrap();
        assert_eq!(in_grid["feasible"], false, "{}", c["params"]);
    }
}

fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

#[test]
fn best_toml_runs_and_the_tuned_hpa_manifest_validates_against_the_kubernetes_schema() {
    let (t, json, _) = tune(&[
        "configs/k8s-policies.toml",
        "--policy",
        "hpa-fast",
        "--vary",
        "policy.hpa-fast.target=50..80:15",
        "--vary",
        "policy.hpa-fast.patch.spec.behavior.scaleDown.stabilizationWindowSeconds=60,300",
        "--set",
        "simulation.duration=1h",
    ]);
    let dir = t.path().join("t");
    let best = &json["best"];
    assert!(!best.is_null(), "{}", json["message"]);
    // best.toml runs where it was written (relative manifest paths rewritten, the search's
    // one-hour horizon applied) and its run line reproduces the best candidate's figures.
    let toml = std::fs::read_to_string(dir.join("best.toml")).unwrap();
    let line = toml.lines().find_map(|l| l.strip_prefix("#   scalesim run ")).expect("a run line");
    assert_eq!(line, "best.toml --policy hpa-fast");
    let run_out = t.path().join("run");
    bin().current_dir(&dir).arg("run").args(shell_words(line)).arg("--out").arg(&run_out).assert().success();
    let s = read_json(&run_out.join("summary.json"));
    for k in ["cost", "latency_p99_s", "failed_pct", "scaling_actions", "slo_violation_minutes"] {
        assert_eq!(s["policies"][0][k], best[k], "{k}");
    }
    let yaml = std::fs::read_to_string(dir.join("best.yaml")).unwrap();
    let target = best["params"]["policy.hpa-fast.target"].as_i64().unwrap();
    assert!(yaml.contains(&format!("averageUtilization: {target}")), "{yaml}");
    let window = best["params"]["policy.hpa-fast.patch.spec.behavior.scaleDown.stabilizationWindowSeconds"]
        .as_i64()
        .unwrap();
    assert!(yaml.contains(&format!("stabilizationWindowSeconds: {window}")), "{yaml}");
    match tool("kubernetes-validate") {
        Some(kv) => {
            let o =
                std::process::Command::new(kv).arg("--strict").arg(dir.join("best.yaml")).output().unwrap();
            let text =
                format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
            assert!(o.status.success() && text.contains("passed"), "kubernetes-validate: {text}");
        }
        None if std::env::var_os("SCALESIM_REQUIRE_TOOLS").is_some() => {
            panic!("kubernetes-validate is not installed (pip install kubernetes-validate)")
        }
        None => eprintln!(
            "SKIPPED the schema check: kubernetes-validate is not installed (pip install kubernetes-validate)"
        ),
    }
}

#[test]
fn nothing_feasible_names_the_closest_candidate() {
    let (t, json, stdout) = tune(&[
        "tests/fixtures/tune/mmc.toml",
        "--policy",
        "one",
        "--vary",
        "service.workers=4,5",
        "--require",
        "latency_mean_s<=0.101",
    ]);
    assert!(json["best"].is_null());
    let m = json["message"].as_str().unwrap();
    assert!(m.contains("service.workers=5") && m.contains("latency_mean_s<=0.101"), "{m}");
    assert!(stdout.contains("no candidate meets every constraint"), "{stdout}");
    assert!(!t.path().join("t/best.toml").exists());
}

#[test]
fn bad_input_is_refused_before_simulating() {
    let q = "configs/quickstart.toml";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--vary", "policy.rps-10.taget=1,2"], "did you mean `target`"),
        (vec!["--vary", "policy.rps-10.replicas=1,2"], "is not used by policy type `rps`"),
        (
            vec!["--vary", "policy.rps-10.target=14..6:2"],
            "--vary policy.rps-10.target=14..6:2: `14..6:2` is empty",
        ),
        (vec!["--vary", "policy.rps-10.target=6..14:0"], "step must be positive"),
        (
            vec!["--vary", "policy.rps-10.min=10..30:10"],
            "--vary policy.rps-10.min=10..30:10: the candidate min=30",
        ),
        (
            vec!["--vary", "policy.rps-10.target=1,2", "--require", "cots<=1"],
            "--require cots<=1: `cots` is not a summary figure; did you mean `cost`?",
        ),
        (vec!["--vary", "policy.rps-10.target=1,2", "--minimize", "latency"], "--minimize latency"),
        (
            vec!["--vary", "policy.rps-10.target=1..1000:1", "--vary", "policy.rps-10.max=1..1000:1"],
            "more than 100000",
        ),
        (vec!["--vary", "policy.rps-10.target=1,2", "--strategy", "random", "--budget", "0"], "--budget 0"),
        (vec!["--vary", "policy.cpu-60.target=50,60"], "the tuned policy is `rps-10`"),
        (vec!["--vary", "traffic.scale=1,2"], "use --set"),
        (vec!["--vary", "policy.rps-10.target=1,2", "--vary", "policy.rps-10.target=3"], "varied twice"),
        (vec!["--vary", "policy.rps-10.target=1,2", "--strategy", "random"], "needs --budget"),
    ];
    for (extra, want) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("o");
        let o = bin()
            .args(["tune", q, "--policy", "rps-10"])
            .args(&extra)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(want), "{extra:?}: expected `{want}` in:\n{err}");
        assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{err}");
        assert!(!out.exists(), "{extra:?} wrote {}", out.display());
    }
    let o = bin().args(["tune", q, "--policy", "nope", "--vary", "policy.nope.target=1"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no policy named `nope`"));
}

/// Runs tune with `args` into a fresh folder; returns (folder guard, tune.json, stderr).
fn tune_stderr(args: &[&str]) -> (tempfile::TempDir, Value, String) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("t");
    let o = bin().arg("tune").args(args).arg("--out").arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "tune {args:?} failed:\n{stderr}");
    (tmp, read_json(&out.join("tune.json")), stderr)
}

fn warnings_of<'a>(json: &'a Value, kind: &str) -> Vec<&'a Value> {
    json["warnings"].as_array().unwrap().iter().filter(|w| w["kind"] == kind).collect()
}

/// Splits a shell line as `shell_word` quotes it: words separated by spaces, `'…'` quoted.
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut cur, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[test]
fn a_search_of_the_night_warns_and_best_toml_is_the_original_scenario_with_a_run_line_that_reproduces_it() {
    // One hour from midnight: the night's 50-odd req/s, not the 200 req/s at 14:00. Two seeds and
    // a base seed of 5, so the run line must carry --seeds and best.toml the seed.
    let (t, json, stderr) = tune_stderr(&[
        "configs/quickstart.toml",
        "--policy",
        "rps-10",
        "--vary",
        "policy.rps-10.target=8,12",
        "--seeds",
        "2",
        "--seed",
        "5",
        "--set",
        "simulation.duration=1h",
    ]);
    let dir = t.path().join("t");
    println!("{stderr}");
    let best = &json["best"];
    assert!(!best.is_null(), "{}", json["message"]);
    // The horizon misses the peak; the move to the busiest hour is suggested.
    let h = warnings_of(&json, "horizon");
    assert_eq!(h.len(), 1, "{:#}", json["warnings"]);
    let m = h[0]["message"].as_str().unwrap();
    assert!(m.contains("does not reach the scenario's busiest period") && m.contains("200.0 req/s"), "{m}");
    assert!(m.contains("busiest 1h are 2025-03-04 13:30 to 2025-03-04 14:30"), "{m}");
    assert_eq!(h[0]["suggestion"], "--set simulation.start=2025-03-04T13:30:00");
    assert!(stderr.contains(&format!("warning: {m}")), "{stderr}");
    // The cheapest is the highest target searched: an edge, with the range extended past it.
    assert_eq!(best["params"]["policy.rps-10.target"], 12);
    let e = warnings_of(&json, "edge");
    assert_eq!(e.len(), 1, "{:#}", json["warnings"]);
    assert_eq!(e[0]["key"], "policy.rps-10.target");
    assert_eq!(e[0]["suggestion"], "--vary policy.rps-10.target=12..20:4");
    assert!(stderr.contains("Try: --vary policy.rps-10.target=12..20:4"), "{stderr}");
    let schema_doc = read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/tune.schema.json"));
    schema::validate(&json, &schema_doc, &schema_doc, "$");
    // The report shows them too.
    bin().arg("report").arg(&dir).assert().success();
    let page = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(page.contains("id=\"tune-warnings\"") && page.contains("12..20:4"), "no warnings in report.html");

    // best.toml: the original file (its comments), with the search's one-hour horizon, the
    // tuned target and the seed applied: the scenario the search ranked, exactly.
    let toml = std::fs::read_to_string(dir.join("best.toml")).unwrap();
    let original = std::fs::read_to_string("configs/quickstart.toml").unwrap();
    assert!(toml.contains(original.lines().next().unwrap()), "{toml}");
    assert!(toml.contains("duration = \"1h\""), "{toml}");
    assert!(toml.contains("seed = 5"), "{toml}");
    assert!(toml.contains("#   the search's --set: simulation.duration=1h"), "{toml}");
    assert!(
        toml.contains("#   scalesim run configs/quickstart.toml --set policy.rps-10.target=12 --seed 5"),
        "{toml}"
    );
    let doc: toml::Value = toml::from_str(&toml).unwrap();
    let pol =
        doc["policy"].as_array().unwrap().iter().find(|p| p["name"].as_str() == Some("rps-10")).unwrap();
    assert_eq!(pol["target"].as_integer(), Some(12));
    // The run line reproduces the best candidate's figures exactly.
    let line = toml
        .lines()
        .find_map(|l| l.strip_prefix("#   scalesim run "))
        .unwrap_or_else(|| panic!("no run line in\n{toml}"));
    assert_eq!(line, "best.toml --policy rps-10 --seeds 2");
    let run_out = t.path().join("run");
    bin().current_dir(&dir).arg("run").args(shell_words(line)).arg("--out").arg(&run_out).assert().success();
    let s = read_json(&run_out.join("summary.json"));
    let plain = &s["policies"][0];
    let mut compared = 0;
    for (k, v) in plain.as_object().unwrap() {
        if v.is_number() && !["replications", "min_replicas", "max_replicas"].contains(&k.as_str()) {
            assert_eq!(&best[k], v, "{k}");
            compared += 1;
        }
    }
    assert!(compared >= 14, "compared {compared} figures");
    // best.yaml is what `scalesim export` writes: the Deployment named after the scenario.
    let yaml = std::fs::read_to_string(dir.join("best.yaml")).unwrap();
    let exported = bin()
        .args(["export", "configs/quickstart.toml", "--policy", "rps-10", "--set", "policy.rps-10.target=12"])
        .output()
        .unwrap();
    assert_eq!(yaml, String::from_utf8_lossy(&exported.stdout));
    assert!(yaml.contains("scaleTargetRef:\n    name: quickstart"), "{yaml}");
}

#[test]
fn a_key_that_changes_nothing_and_a_tie_are_named() {
    // One replica of an M/M/c queue: a timeout of an hour or two is never reached, so the
    // timeout changes nothing, and every candidate costs the same (ties on cost).
    let (_t, json, stderr) = tune_stderr(&[
        "tests/fixtures/tune/mmc.toml",
        "--policy",
        "one",
        "--vary",
        "service.workers=5,6",
        "--vary",
        "service.timeout=1h,2h",
        "--require",
        "latency_mean_s<=0.105",
        "--set",
        "simulation.duration=1h",
    ]);
    println!("{stderr}");
    let n = warnings_of(&json, "no_effect");
    assert_eq!(n.len(), 1, "{:#}", json["warnings"]);
    assert_eq!(n[0]["key"], "service.timeout");
    assert!(n[0]["message"].as_str().unwrap().contains("service.timeout=1h and service.timeout=2h"));
    assert_eq!(json["best"]["label"], "service.workers=6 service.timeout=1h");
    let t = warnings_of(&json, "tie");
    assert_eq!(t.len(), 1, "{:#}", json["warnings"]);
    let m = t[0]["message"].as_str().unwrap();
    assert!(m.contains("ties on cost") && m.contains("service.workers=6 service.timeout=2h"), "{m}");
    assert!(stderr.contains("warning: service.timeout changed no figure"), "{stderr}");
    // No horizon warning: the load is flat.
    assert!(warnings_of(&json, "horizon").is_empty());
    let schema_doc = read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/tune.schema.json"));
    schema::validate(&json, &schema_doc, &schema_doc, "$");
}

/// `(N runs, X requests` of a budget message: N, and X in requests.
fn runs_and_requests(msg: &str) -> (u64, f64) {
    let at = msg.find(" runs, ").unwrap_or_else(|| panic!("{msg}"));
    let runs = msg[..at].rsplit(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap();
    let rest = &msg[at + 7..];
    let figure = rest.split(' ').next().unwrap();
    let (num, mult) = match figure.chars().last().unwrap() {
        'G' => (&figure[..figure.len() - 1], 1e9),
        'M' => (&figure[..figure.len() - 1], 1e6),
        'k' => (&figure[..figure.len() - 1], 1e3),
        _ => (figure, 1.0),
    };
    (runs, num.parse::<f64>().unwrap() * mult)
}

#[test]
fn the_halving_budget_message_states_the_runs_halving_plans() {
    // A flat load for 100 days: too large either way (refused before simulating), so the
    // messages give the estimates. Halving: 48 screens of the first quarter (a flat load's
    // busiest window is the earliest, without warm-up), the best 12 once over the whole
    // horizon, the best 3 four more times, and the oracle's 5 runs; the grid: 48 × 5 + 5.
    let args = |strategy: &str| -> String {
        let o = bin()
            .args(["tune", "tests/fixtures/tune/mmc.toml", "--policy", "one"])
            .args(["--vary", "service.queue_limit=1..48:1", "--seeds", "5", "--strategy", strategy])
            .args(["--set", "simulation.duration=2400h", "--out", "/nonexistent/never-written"])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let (grid, halving) = (args("grid"), args("halving"));
    println!("{grid}\n{halving}");
    assert!(
        halving.contains(
            "halving plans 48 screen(s) of 2025-01-06 00:00–2025-01-31 00:00, 12 × 1 run(s) of the whole horizon, \
             3 × 4 run(s) of the whole horizon at full fidelity, 5 oracle run(s)"
        ),
        "{halving}"
    );
    let (gr, gq) = runs_and_requests(&grid);
    let (hr, hq) = runs_and_requests(&halving);
    assert_eq!((gr, hr), (48 * 5 + 5, 48 + 12 + 12 + 5));
    // In whole horizons: 245 for the grid, 48 / 4 + 12 + 12 + 5 = 41 for halving.
    let ratio = hq / gq;
    assert!((ratio / (41.0 / 245.0) - 1.0).abs() < 0.01, "halving {hq} vs grid {gq}");
}

#[test]
fn tune_seed_7_writes_best_toml_that_a_plain_run_reproduces() {
    // `tune --seed 7` wrote best.toml with the file's seed, and the search's other --set only
    // named in its header: `run best.toml` gave other figures than the best tune reported.
    // best.toml is the ranked scenario exactly; its run line adds only the policy and --seeds.
    let (t, json, _) = tune(&[
        "tests/fixtures/tune/mmc.toml",
        "--policy",
        "one",
        "--vary",
        "service.workers=4,5",
        "--seed",
        "7",
        "--seeds",
        "2",
        "--set",
        "simulation.duration=20m",
    ]);
    let dir = t.path().join("t");
    let best = &json["best"];
    assert!(!best.is_null(), "{}", json["message"]);
    let toml = std::fs::read_to_string(dir.join("best.toml")).unwrap();
    let doc: toml::Value = toml::from_str(&toml).unwrap();
    assert_eq!(doc["simulation"]["seed"].as_integer(), Some(7), "{toml}");
    assert_eq!(doc["simulation"]["duration"].as_str(), Some("20m"), "{toml}");
    let line = toml.lines().find_map(|l| l.strip_prefix("#   scalesim run ")).expect("a run line");
    assert_eq!(line, "best.toml --policy one --seeds 2");
    let run_out = t.path().join("run");
    bin().current_dir(&dir).arg("run").args(shell_words(line)).arg("--out").arg(&run_out).assert().success();
    let s = read_json(&run_out.join("summary.json"));
    let plain = &s["policies"][0];
    assert_eq!(plain["seeds"][0], 7);
    let mut compared = 0;
    for (k, v) in plain.as_object().unwrap() {
        if v.is_number() && !["replications", "min_replicas", "max_replicas"].contains(&k.as_str()) {
            assert_eq!(&best[k], v, "{k}");
            compared += 1;
        }
    }
    assert!(compared >= 14, "compared {compared} figures");
}

#[test]
fn without_an_slo_tune_treats_the_undefined_slo_minutes_as_0() {
    // mmc.toml has no [simulation.slo]: run reports slo_violation_minutes as null, and so must
    // tune; a constraint or objective on it is refused before anything is simulated.
    let (_t, json, _) = tune(&[
        "tests/fixtures/tune/mmc.toml",
        "--policy",
        "one",
        "--vary",
        "service.workers=4,5",
        "--set",
        "simulation.duration=10m",
    ]);
    for c in json["candidates"].as_array().unwrap() {
        assert!(c["slo_violation_minutes"].is_null(), "{c:#}");
    }
    assert!(json["best"]["slo_violation_minutes"].is_null(), "{:#}", json["best"]);
    let tmp = tempfile::tempdir().unwrap();
    let q = "tests/fixtures/tune/mmc.toml";
    for extra in [["--require", "slo_violation_minutes<=0"], ["--minimize", "slo_violation_minutes"]] {
        let o = bin()
            .args(["tune", q, "--policy", "one", "--vary", "service.workers=4,5"])
            .args(extra)
            .arg("--out")
            .arg(tmp.path().join("r"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {stderr}");
        assert!(
            stderr.contains(&format!("{} {}: {q}: the scenario has no [simulation.slo]", extra[0], extra[1])),
            "{stderr}"
        );
        assert!(stderr.contains("add an SLO to the scenario"), "{stderr}");
        assert!(!tmp.path().join("r").exists(), "{extra:?} wrote outputs");
    }
}
