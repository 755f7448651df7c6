//! Regression tests for issue 14 ("AWS family: three departures from AWS's documented
//! behaviour"): the real binary runs the issue's reproductions (tests/fixtures/aws/) and the
//! decisions it logs are checked against the ones AWS's documented rules give, worked out in
//! the comments.
//!
//! All three scenarios use evenly spaced arrivals, a deterministic 200 ms demand, 2 workers per
//! instance, a 60 s startup, a 120 s warm-up and CPU = 5 % + 45 % per busy worker, so with the
//! load spread over n ready instances at r req/s each instance has r × 0.2 / n busy workers and
//! CPU = 5 + 45 × r × 0.2 / n percent.

use assert_cmd::Command;
use std::path::Path;

/// One row of decisions.csv, with the fields of the AWS metrics note parsed.
#[derive(Debug, Clone)]
struct Row {
    t: u64,
    current: u32,
    metrics: String,
    proposal: Option<u32>,
    desired: u32,
    reason: String,
}

impl Row {
    /// The number after `key=` in the metrics note (`cpu=73.690977%` → 73.690977).
    fn num(&self, key: &str) -> Option<f64> {
        let at = self.metrics.find(&format!("{key}="))? + key.len() + 1;
        let rest = &self.metrics[at..];
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        rest[..end].parse().ok()
    }
    fn cpu(&self) -> f64 {
        self.num("cpu").unwrap_or_else(|| panic!("no cpu in {self:?}"))
    }
    fn warm(&self) -> u32 {
        self.num("warm").unwrap_or_else(|| panic!("no warm in {self:?}")) as u32
    }
    fn warming(&self) -> u32 {
        self.num("warming").unwrap_or_else(|| panic!("no warming in {self:?}")) as u32
    }
}

/// Runs the binary on `tests/fixtures/aws/<name>.toml`; the decisions and the number of failed
/// requests.
fn run(name: &str) -> (Vec<Row>, u64) {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/aws/{name}.toml"));
    let tmp = tempfile::tempdir().unwrap();
    Command::cargo_bin("scalesim")
        .unwrap()
        .arg("run")
        .arg(&config)
        .arg("--no-oracle")
        .arg("--out")
        .arg(tmp.path())
        .assert()
        .success();
    let mut rd = csv::Reader::from_path(tmp.path().join("decisions.csv")).unwrap();
    let h: Vec<String> = rd.headers().unwrap().iter().map(String::from).collect();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap_or_else(|| panic!("no column {n}"));
    let (t, cur, met, prop, des, why) =
        (col("time_s"), col("current"), col("metrics"), col("proposal"), col("desired"), col("reason"));
    let rows = rd
        .records()
        .map(|r| {
            let r = r.unwrap();
            Row {
                t: r[t].parse::<f64>().unwrap() as u64,
                current: r[cur].parse().unwrap(),
                metrics: r[met].to_string(),
                proposal: r[prop].parse().ok(),
                desired: r[des].parse().unwrap(),
                reason: r[why].to_string(),
            }
        })
        .collect();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("summary.json")).unwrap()).unwrap();
    (rows, summary["policies"][0]["failed"].as_u64().unwrap())
}

fn at(rows: &[Row], t: u64) -> &Row {
    rows.iter().find(|r| r.t == t).unwrap_or_else(|| panic!("no decision at {t} s"))
}

/// ceil(capacity × metric / target), as target tracking rounds a proposal.
fn tt_proposal(capacity: u32, metric: f64, target: f64) -> u32 {
    (capacity as f64 * metric / target - 1e-9).ceil() as u32
}

#[test]
fn regression_issue14_scheduled_desired_is_not_undone_in_the_same_evaluation() {
    let (rows, failed) = run("sched-desired");
    // Before 00:30: 6 req/s on 2 instances, CPU = 5 + 45 × 6 × 0.2 / 2 = 32 % < 0.9 × 50 = 45 %,
    // so from the 15th datapoint the scale-in alarm is in ALARM; ceil(2 × 32 / 50) = 2 = min.
    for r in rows.iter().filter(|r| r.t < 1800) {
        assert_eq!(r.desired, 2, "{r:?}");
    }
    let r = at(&rows, 1740);
    assert!((r.cpu() - 32.0).abs() < 1e-6 && r.metrics.contains("alarm_low 15/15"), "{r:?}");
    // 00:30: the action sets desired 6 first; its 4 launches are pending (then warming), and
    // pending/warming instances block scale-in, so the alarm's ceil(2 × 32 / 50) = 2 does not
    // apply. (scalesim used to evaluate as if nothing were launching and kept 2.)
    let r = at(&rows, 1800);
    assert_eq!((r.current, r.desired), (2, 6), "{r:?}");
    assert_eq!(r.reason, "scheduled action prewarm; warm-up cpu50");
    assert_eq!((r.warm(), r.warming()), (2, 4), "{r:?}");
    // Ready at 00:31, warm from 00:31 + 120 s = 00:33: still blocked at 00:31 and 00:32.
    for t in [1860, 1920] {
        let r = at(&rows, t);
        assert_eq!((r.desired, r.warming()), (6, 4), "{r:?}");
        assert!(r.reason.contains("warm-up"), "{r:?}");
    }
    // 00:33: the load stepped to 30 req/s at 00:32; on 6 instances CPU = 5 + 45 × 30 × 0.2 / 6
    // = 50 %: not above the target, not below 45 %, and the 00:33 datapoint ends the run of 15
    // low ones. Nothing changes for the rest of the hour.
    let r = at(&rows, 1980);
    assert_eq!((r.warm(), r.warming()), (6, 0), "{r:?}");
    assert!(r.metrics.contains("alarm_low 14/15"), "{r:?}");
    for r in rows.iter().filter(|r| r.t >= 1800) {
        assert_eq!(r.desired, 6, "{r:?}");
    }
    // 6 instances serve up to 6 × 2 / 0.2 = 60 req/s: no request fails (3 314 of 61 920 did).
    assert_eq!(failed, 0);
}

#[test]
fn regression_issue14_scale_in_counts_every_instance_past_its_warm_up() {
    let (rows, failed) = run("scalein-base");
    // 00:30: min = 5 launches 3 (ready 00:31, warm from 00:33); warming blocks the scale-in
    // alarm (2 instances at 32 %) at 00:30, 00:31 (where min drops to 1) and 00:32.
    let r = at(&rows, 1800);
    assert_eq!((r.desired, r.warm(), r.warming()), (5, 2, 3), "{r:?}");
    assert_eq!(r.reason, "scheduled action raise; warm-up cpu50");
    assert_eq!(at(&rows, 1860).reason, "scheduled action lower; warm-up cpu50");
    assert_eq!(at(&rows, 1920).desired, 5);
    // 00:33: 5 instances share 6 req/s, CPU = 5 + 45 × 6 × 0.2 / 5 = 15.8 %. The CPU datapoint
    // still covers only the 2 old instances (the new ones were not warm for the whole minute),
    // but the current capacity without warming instances is 5:
    // ceil(5 × 15.8 / 50) = ceil(1.58) = 2. (scalesim used the 2 in the datapoint: ceil(0.632)
    // = 1, then scaled back to 2 at 00:36 once the lone instance ran at 59 %.)
    let r = at(&rows, 1980);
    assert!((r.cpu() - 15.8).abs() < 1e-6, "{r:?}");
    assert_eq!((r.warm(), r.warming()), (5, 0), "{r:?}");
    assert_eq!(r.desired, tt_proposal(5, r.cpu(), 50.0));
    assert_eq!(r.desired, 2);
    assert!(r.reason.starts_with("alarm low cpu50"), "{r:?}");
    // Then 2 instances at 32 %: ceil(2 × 32 / 50) = 2, stable; never 1.
    for r in rows.iter().filter(|r| r.t > 1980) {
        assert_eq!(r.desired, 2, "{r:?}");
    }
    assert!(rows.iter().all(|r| r.desired >= 2));
    assert_eq!(failed, 0);
}

#[test]
fn regression_issue14_ramp_scale_out_counts_instances_that_finished_warming() {
    let (rows, _) = run("ramp-cpu");
    // The ramp: r(t) = 8 + 52 × (t − 1200) / 900 req/s between 00:20 and 00:35, 60 after.
    // 00:24 (1440 s): 2 instances, datapoints 64.4 %, 80.0 %, 93.3 % > 50 %: the third fires the
    // alarm, ceil(2 × 93.3 / 50) = 4; the 2 new instances are ready at 1500 and warm at 1620.
    let r = at(&rows, 1440);
    assert_eq!((r.current, r.desired), (2, tt_proposal(2, r.cpu(), 50.0)), "{r:?}");
    assert_eq!(r.desired, 4);
    // 00:27 (1620 s): all 4 instances are past their warm-up. The datapoint (1560–1620 s) is the
    // 2 old instances with 4 sharing r(1590) = 8 + 52 × 390 / 900 = 30.53 req/s:
    // CPU = 5 + 45 × 30.53 × 0.2 / 4 = 73.7 %. AWS: ceil(4 × 73.7 / 50) = ceil(5.9) = 6.
    // (scalesim used the 2 instances in the datapoint: ceil(2.95) = 3 ≤ 4, "ok".)
    let r = at(&rows, 1620);
    assert!((r.cpu() - 73.7).abs() < 0.05, "{r:?}");
    assert!(r.metrics.contains("alarm_high 3/3"), "{r:?}");
    assert_eq!((r.warm(), r.warming()), (4, 0), "{r:?}");
    assert_eq!((r.current, r.desired), (4, 6), "{r:?}");
    assert!(r.reason.starts_with("alarm high cpu50"), "{r:?}");
    // Every scale-out evaluation of the run follows the rule: with the scale-out alarm in ALARM
    // (3 of 3 datapoints above 50 %), desired = max(current, ceil(warm × cpu / 50)) within max
    // 20, and warming instances never add to the capacity.
    let mut outs = 0;
    for r in rows.iter().filter(|r| r.metrics.contains("alarm_high 3/3")) {
        let p = tt_proposal(r.warm(), r.cpu(), 50.0);
        assert_eq!(r.desired, p.max(r.current).min(20), "{r:?}");
        if r.desired > r.current {
            outs += 1;
            assert_eq!(r.proposal, Some(p), "{r:?}");
        } else {
            assert!(r.warming() > 0 || p <= r.current, "{r:?}");
        }
    }
    assert!(outs >= 5, "{outs} scale-outs");
    // It never scales in on the way up.
    assert!(rows.iter().all(|r| r.desired >= r.current));
}

#[test]
fn validate_says_where_scalesims_aws_defaults_differ_from_aws() {
    let validate = |file: &str, extra: &[&str]| -> String {
        let out =
            Command::cargo_bin("scalesim").unwrap().arg("validate").arg(file).args(extra).assert().success();
        String::from_utf8(out.get_output().stdout.clone()).unwrap()
    };
    // A scheduled action without `timezone` is read in simulation.timezone; AWS uses UTC.
    let paris =
        validate("tests/fixtures/aws/sched-desired.toml", &["--set", "simulation.timezone=Europe/Paris"]);
    assert!(paris.contains("instance warm-up 2m (EC2 model)"), "{paris}");
    assert!(
        paris.contains("scheduled actions without `timezone` are read in simulation.timezone (Europe/Paris), where AWS uses UTC"),
        "{paris}"
    );
    let utc = validate("tests/fixtures/aws/sched-desired.toml", &[]);
    assert!(utc.contains("read in simulation.timezone (UTC), as AWS does"), "{utc}");
    // Unset instance_warmup: the Application Auto Scaling model, not an EC2 group's fallback.
    let replay = validate("tests/fixtures/aws/replay-2days.toml", &[]);
    assert!(
        replay.contains("no instance_warmup: Application Auto Scaling model (cooldowns, no warm-up), where an EC2 group without a default warm-up warms instances for its default cooldown (300s)"),
        "{replay}"
    );
}
