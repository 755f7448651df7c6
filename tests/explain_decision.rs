//! `scalesim explain decision` against the runs it explains: for every policy family, the
//! explained decision's `time_s` and `desired` equal the row of that run's `decisions.csv`
//! (the first decision of the policy and replication at or after `--at`), and the case file
//! written with `--case` replays to the same answer through `explain hpa` / `explain kpa`.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn config(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("configs").join(name)
}

fn bin() -> Command {
    Command::cargo_bin("scalesim").unwrap()
}

/// decisions.csv rows of `policy`, replication `rep`: (time_s, stabilized, desired).
fn rows(out: &Path, policy: &str, rep: u32) -> Vec<(f64, Option<u32>, u32)> {
    let mut r = csv::Reader::from_path(out.join("decisions.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (t, p, rp, st, d) =
        (col("time_s"), col("policy"), col("replication"), col("stabilized"), col("desired"));
    r.records()
        .map(|x| x.unwrap())
        .filter(|x| &x[p] == policy && x[rp].parse::<u32>().unwrap() == rep)
        .map(|x| (x[t].parse().unwrap(), x[st].parse().ok(), x[d].parse().unwrap()))
        .collect()
}

fn explain(
    file: &Path,
    set: &[&str],
    policy: &str,
    at: &str,
    rep: u32,
    case: Option<&Path>,
) -> serde_json::Value {
    let mut c = bin();
    c.args(["explain", "decision"]).arg(file).args(["--policy", policy, "--at", at, "--json"]);
    c.args(["--replication", &rep.to_string()]);
    for s in set {
        c.args(["--set", s]);
    }
    if let Some(p) = case {
        c.arg("--case").arg(p);
    }
    let out = c.assert().success().get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

/// Runs `policies` of `file` and checks the explanation at each of `times` (seconds).
fn check(file: &str, set: &[&str], policies: &[&str], times: &[f64], seeds: u32) {
    let dir = tempfile::tempdir().unwrap();
    let file = config(file);
    let mut c = bin();
    c.arg("run").arg(&file).arg("--out").arg(dir.path()).args(["--seeds", &seeds.to_string()]);
    for s in set {
        c.args(["--set", s]);
    }
    for p in policies {
        c.args(["--policy", p]);
    }
    c.assert().success();
    for p in policies {
        for rep in 0..seeds {
            let log = rows(dir.path(), p, rep);
            for &at in times {
                let want =
                    log.iter().find(|r| r.0 >= at).unwrap_or_else(|| panic!("{p}: no decision after {at}"));
                let case = dir.path().join(format!("case-{p}-{rep}-{at}.json"));
                let e = explain(
                    &file,
                    set,
                    p,
                    &at.to_string(),
                    rep,
                    Some(case.as_path()).filter(|_| has_case(p)),
                );
                assert_eq!(e["policy"], *p);
                assert_eq!(e["time_s"].as_f64().unwrap(), want.0, "{p} rep {rep} at {at}: {e}");
                assert_eq!(e["desired"].as_u64().unwrap() as u32, want.2, "{p} rep {rep} at {at}: {e}");
                assert!(!e["steps"].as_array().unwrap().is_empty(), "{e}");
                match e["case"].as_str() {
                    Some("hpa") => {
                        let out = bin().args(["explain", "hpa", "--json"]).arg(&case).assert().success();
                        let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
                        assert_eq!(v["desiredReplicas"].as_u64().unwrap() as u32, want.2, "{p} at {at}: {v}");
                    }
                    Some("kpa") => {
                        let out = bin().args(["explain", "kpa", "--json"]).arg(&case).assert().success();
                        let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
                        let last = v.as_array().unwrap().last().unwrap().clone();
                        assert_eq!(last["time"].as_f64().unwrap(), want.0, "{p} at {at}: {last}");
                        if let Some(st) = want.1 {
                            assert_eq!(
                                last["desiredReplicas"].as_u64().unwrap() as u32,
                                st,
                                "{p} at {at}: {last}"
                            );
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Whether the policy's family writes a case file (the test configs name them by family).
fn has_case(policy: &str) -> bool {
    policy.starts_with("hpa") || policy.starts_with("keda") || policy.starts_with("knative")
}

#[test]
fn kubernetes_families_match_their_decision_log() {
    check(
        "k8s-policies.toml",
        &["simulation.duration=2h"],
        &["hpa-cpu", "hpa-fast", "keda-rps", "keda-cron+rps", "knative-concurrency"],
        &[0.0, 61.5, 1800.0, 5417.0],
        1,
    );
}

#[test]
fn basic_and_aws_families_match_their_decision_log() {
    check(
        "flash-crowd.toml",
        &["simulation.duration=40m"],
        &["rps-10-30s", "concurrency-1"],
        &[0.0, 1234.0],
        2,
    );
    check(
        "quickstart.toml",
        &["simulation.duration=3h"],
        &["cpu-60", "office-hours+rps"],
        &[600.0, 9000.0],
        1,
    );
    check(
        "aws-target-tracking.toml",
        &["simulation.duration=3h"],
        &["tt-cpu-50", "tt-alb-600", "step-cpu"],
        &[1.0, 7000.0],
        1,
    );
}

#[test]
fn times_in_every_form_and_errors() {
    let file = config("k8s-policies.toml");
    let set = ["simulation.duration=2h"];
    // 00:30 local on the start day (Europe/London, GMT in March) is 1800 s.
    let a = explain(&file, &set, "hpa-cpu", "00:30:00", 0, None);
    assert_eq!(a["time_s"], 1800.0);
    assert_eq!(a["clock_time"], "00:30:00");
    for same in ["2025-03-04T00:30:00Z", "2025-03-04T00:30:00", "1800", "30m", "0h30m"] {
        assert_eq!(a, explain(&file, &set, "hpa-cpu", same, 0, None), "--at {same}");
    }
    bin()
        .args(["explain", "decision"])
        .arg(&file)
        .args(["--policy", "hpa-cpx", "--at", "10", "--set", set[0]])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("did you mean `hpa-cpu`"));
    bin()
        .args(["explain", "decision"])
        .arg(&file)
        .args(["--policy", "hpa-cpu", "--at", "3h", "--set", set[0]])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--at: found `3h`, which is 2025-03-04 03:00:00 (3h after the start), at or after the end of the run (2025-03-04 02:00:00, 2h after the start); expected a time within the run"));
    // Bad forms and times before the start: one message naming --at, what was found, the forms.
    for (bad, says) in [
        ("noon", "--at: found `noon`; expected an offset from the start (`2h`, `90m`, `1h30m`"),
        ("8h30", "--at: found `8h30`; expected"),
        ("25:00", "--at: found `25:00`; expected"),
        ("-60", "--at: found `-60`: an offset from the start must be a finite number of seconds ≥ 0"),
        (
            "2025-03-03T23:59:00",
            "--at: found `2025-03-03T23:59:00`, which is before the run starts (2025-03-04 00:00:00 GMT)",
        ),
    ] {
        let out = bin()
            .args(["explain", "decision"])
            .arg(&file)
            .args(["--policy", "hpa-cpu", &format!("--at={bad}"), "--set", set[0]])
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8(out).unwrap();
        assert!(err.contains(says), "--at {bad}: {err}");
        let forms = "a clock time (`08:22` or `08:22:30`, in the scenario's time zone) or a date and time";
        assert!(err.contains(forms) || err.contains("expected a time within the run"), "--at {bad}: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    bin()
        .args(["explain", "decision"])
        .arg(config("flash-crowd.toml"))
        .args(["--policy", "rps-10-30s", "--at", "60", "--set", "simulation.duration=10m", "--case"])
        .arg(dir.path().join("x.json"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no case-file format"));
}

/// decisions.csv rows of `policy`, replication 0: (time_s, current, desired, reason).
fn full_rows(out: &Path, policy: &str) -> Vec<(f64, u32, u32, String)> {
    let mut r = csv::Reader::from_path(out.join("decisions.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (t, p, rp, cu, d, why) =
        (col("time_s"), col("policy"), col("replication"), col("current"), col("desired"), col("reason"));
    r.records()
        .map(|x| x.unwrap())
        .filter(|x| &x[p] == policy && &x[rp] == "0")
        .map(|x| (x[t].parse().unwrap(), x[cu].parse().unwrap(), x[d].parse().unwrap(), x[why].to_string()))
        .collect()
}

/// k8s-policies.toml starts at 00:00 GMT: a time of day is the offset.
fn hms(t: f64) -> String {
    let s = t as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[test]
fn offsets_seconds_and_minutes_pick_the_decision_of_the_log() {
    let file = config("k8s-policies.toml");
    // Started at min, the first hours scale up, with actions off the minute to explain.
    let set = ["simulation.duration=3h", "simulation.initial=min"];
    let dir = tempfile::tempdir().unwrap();
    bin()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path())
        .args(["--set", set[0], "--set", set[1], "--policy", "hpa-cpu"])
        .assert()
        .success();
    let log = full_rows(dir.path(), "hpa-cpu");
    let changes = |r: &(f64, u32, u32, String)| r.1 != r.2;

    // `--at 2h` is an offset: the first decision at or after 7200 s, as `--at 7200`.
    let want = log.iter().find(|r| r.0 >= 7200.0).unwrap();
    let e = explain(&file, &set, "hpa-cpu", "2h", 0, None);
    assert_eq!(e["time_s"].as_f64().unwrap(), want.0);
    assert_eq!(e, explain(&file, &set, "hpa-cpu", "7200", 0, None));

    // HH:MM:SS explains exactly that decision: the row of decisions.csv, off the minute.
    let change =
        log.iter().find(|r| changes(r) && r.0 % 60.0 != 0.0).expect("a scaling action off the minute");
    let e = explain(&file, &set, "hpa-cpu", &hms(change.0), 0, None);
    assert_eq!(e["time_s"].as_f64().unwrap(), change.0, "{e}");
    assert_eq!(e["clock_time"], hms(change.0));
    assert_eq!(
        (e["current"].as_u64().unwrap() as u32, e["desired"].as_u64().unwrap() as u32),
        (change.1, change.2)
    );
    assert_eq!(e["reason"], change.3);

    // HH:MM: the decision of that minute that changed the count, not the minute's first one.
    let minute = |t: f64| (t / 60.0).floor();
    let in_minute = |m: f64| log.iter().filter(move |r| minute(r.0) == m).collect::<Vec<_>>();
    let one = log
        .iter()
        .filter(|r| changes(r))
        .find(|r| {
            let rows = in_minute(minute(r.0));
            rows.iter().filter(|x| changes(x)).count() == 1 && !changes(rows[0])
        })
        .expect("a minute whose first decision keeps the count and one other changes it");
    let hhmm = &hms(minute(one.0) * 60.0)[..5];
    let e = explain(&file, &set, "hpa-cpu", hhmm, 0, None);
    assert_eq!(e["time_s"].as_f64().unwrap(), one.0, "--at {hhmm}: {e}");
    assert_eq!(e["desired"].as_u64().unwrap() as u32, one.2);
    let text = bin()
        .args(["explain", "decision"])
        .arg(&file)
        .args(["--policy", "hpa-cpu", "--at", hhmm, "--set", set[0], "--set", set[1]])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains(&format!(
            "that changed the replica count ({} decisions",
            in_minute(minute(one.0)).len()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("decision at {} (Tue 2025-03-04 {} GMT", hms(one.0), hms(one.0))),
        "{text}"
    );

    // A minute where no decision changed the count: its decisions listed, exit 0.
    let quiet = (0..180)
        .map(|m| m as f64)
        .find(|&m| {
            let rows = in_minute(m);
            rows.len() > 1 && rows.iter().all(|r| !changes(r))
        })
        .expect("a quiet minute");
    let hhmm = &hms(quiet * 60.0)[..5];
    let out = bin()
        .args(["explain", "decision"])
        .arg(&file)
        .args(["--policy", "hpa-cpu", "--at", hhmm, "--set", set[0], "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["explained"], false, "{v}");
    let listed: Vec<(f64, String)> = v["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["time_s"].as_f64().unwrap(), d["at"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(f64, String)> = in_minute(quiet).iter().map(|r| (r.0, hms(r.0))).collect();
    assert_eq!(listed, expected);
    assert!(v["message"].as_str().unwrap().contains("none changed the replica count"), "{v}");
    let text = bin()
        .args(["explain", "decision"])
        .arg(&file)
        .args(["--policy", "hpa-cpu", "--at", hhmm, "--set", set[0], "--set", set[1]])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains(&format!("pick one with its seconds, e.g. --at {}", hms(quiet * 60.0))), "{text}");
}

/// The entries of a `4@-120s, 5@-60s (outside …)` list as printed: (age in seconds, marked
/// outside a window).
fn entries(list: &str) -> Vec<(f64, bool)> {
    list.split(", ")
        .map(|entry| {
            let (_, age) = entry.split_once("@-").unwrap_or_else(|| panic!("{entry} in {list}"));
            (age.split('s').next().unwrap().parse().unwrap(), entry.contains("(outside"))
        })
        .collect()
}

/// The number of seconds written right after `key` in `text` (`over 300s`).
fn secs_after(text: &str, key: &str) -> f64 {
    let rest = &text[text.find(key).unwrap_or_else(|| panic!("{key} in {text}")) + key.len()..];
    rest.split('s').next().unwrap().parse().unwrap()
}

#[test]
fn stabilisation_entries_are_oldest_first_with_those_outside_marked() {
    let file = config("k8s-policies.toml");
    let set = ["simulation.duration=3h"];
    // Late in the run the controller has reused its recommendation slots many times over (the
    // order it stores them in is no longer the order of time). hpa-cpu has no `behavior`: the
    // legacy window counts entries no older than it; hpa-fast's scaleDown window counts those
    // strictly younger (its scaleUp window is 0 s: not in use).
    for (policy, head, tail, window, strict) in [
        ("hpa-cpu", "stored recommendations: ", ") = ", "downscale stabilization over ", false),
        ("hpa-fast", "oldest first: ", "): min over", "max over scaleDown window ", true),
    ] {
        let e = explain(&file, &set, policy, "02:30:00", 0, None);
        let step = e["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .find(|s| s.contains(head))
            .unwrap_or_else(|| panic!("{policy}: no stabilisation step in {e}"));
        let list = entries(&step[step.find(head).unwrap() + head.len()..step.rfind(tail).unwrap()]);
        assert!(list.len() > 2, "{policy}: {step}");
        assert!(list.windows(2).all(|w| w[0].0 > w[1].0), "{policy}: not oldest first: {step}");
        let w = secs_after(step, window);
        for (age, marked) in &list {
            let outside = if strict { *age >= w } else { *age > w };
            assert_eq!(*marked, outside, "{policy}: the entry of age {age}s against {w}s: {step}");
        }
        assert!(list.iter().any(|x| x.1), "{policy}: nothing outside the window to mark: {step}");
    }
}
