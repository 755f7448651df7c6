//! The subcommands as library calls, without the binary: `recommend` and `tune` driven through
//! `scalesim::capacity::command` and `scalesim::tune::command` with [`Collect`] feedback, their
//! answers read from the returned data, and their files — committed by the caller — the same
//! bytes the binary writes for the same request.

use assert_cmd::Command;
use scalesim::capacity::command::{self as capacity, RecommendRequest};
use scalesim::command::{Collect, Error, Silent};
use scalesim::tune::command::{self as tune, TuneRequest};
use std::path::{Path, PathBuf};

fn bin() -> Command {
    let mut c = Command::cargo_bin("scalesim").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// quickstart.toml shortened to `duration`, in `dir`.
fn short_quickstart(dir: &Path, duration: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo("configs/quickstart.toml")).unwrap();
    let text = text.replace("duration = \"24h\"", &format!("duration = \"{duration}\""));
    let p = dir.join("qs.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn recommend_request(file: &Path, out: &Path) -> RecommendRequest {
    RecommendRequest {
        file: file.to_path_buf(),
        traffic: None,
        range: Some((50.0, 200.0)),
        slo: None,
        max_errors: None,
        out_dir: Some(out.to_path_buf()),
        capacity_rps: Some(10.0),
        closed: false,
        think_s: None,
        min_replicas: 2,
        allow_large: false,
    }
}

#[test]
fn recommend_through_the_library_gives_the_guides_answer_and_the_binarys_file() {
    let dir = tempfile::tempdir().unwrap();
    let f = short_quickstart(dir.path(), "1h");
    let out = dir.path().join("lib");
    let fb = Collect::default();
    let rec = capacity::recommend(&recommend_request(&f, &out), &fb).unwrap();
    // The guide's example: 10 req/s per replica, 50 to 200 req/s.
    let r = &rec.recommendation;
    assert_eq!((r.min_replicas, r.max_replicas, r.rps_target), (5, 20, 10.0));
    assert!(rec.report.contains("recommended: min 5, max 20, rps target 10\n"), "{}", rec.report);
    assert!(!rec.meets.is_empty() && rec.meets[0].0 == "rec-rps", "{:?}", rec.meets);
    // Nothing is written until the caller commits.
    assert!(!out.join("recommended.toml").exists());
    for s in rec.searches {
        s.staging.commit().unwrap();
    }
    rec.staging.commit().unwrap();
    let lib = std::fs::read_to_string(out.join("recommended.toml")).unwrap();
    assert_eq!(lib, rec.toml);
    // The binary, asked the same, writes the same file.
    let cli_out = dir.path().join("cli");
    bin()
        .arg("recommend")
        .arg(&f)
        .args(["--capacity-rps", "10", "--min-rps", "50", "--max-rps", "200", "--out"])
        .arg(&cli_out)
        .assert()
        .success();
    let cli = std::fs::read_to_string(cli_out.join("recommended.toml")).unwrap();
    // The files differ only where they name their own folder.
    assert_eq!(
        lib.replace(&out.display().to_string(), "OUT"),
        cli.replace(&cli_out.display().to_string(), "OUT")
    );
}

#[test]
fn recommend_refuses_bad_input_as_data_not_as_an_exit() {
    let dir = tempfile::tempdir().unwrap();
    let f = short_quickstart(dir.path(), "1h");
    let mut req = recommend_request(&f, &dir.path().join("x"));
    req.range = Some((300.0, 200.0));
    let e = capacity::recommend(&req, &Silent).unwrap_err();
    assert!(matches!(e, Error::Invalid(_)) && e.is_bad_input(), "{e:?}");
    assert!(e.to_string().contains("--min-rps 300 --max-rps 200"), "{e}");
}

fn tune_request(out: &Path) -> TuneRequest {
    TuneRequest {
        file: repo("tests/fixtures/tune/mmc.toml"),
        policy: "one".into(),
        vary: vec!["service.workers=4..7:1".into()],
        minimize: "cost".into(),
        require: vec!["latency_mean_s<=0.105".into()],
        strategy: "grid".into(),
        budget: None,
        eta: 3,
        screen_horizon: 0.25,
        seeds: 1,
        seed: None,
        overrides: vec![],
        threads: Some(1),
        out_dir: Some(out.to_path_buf()),
        check: false,
        allow_large: false,
        shard: None,
    }
}

#[test]
fn tune_through_the_library_finds_the_erlang_c_answer_and_writes_the_binarys_tune_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lib");
    let fb = Collect::default();
    let req = tune_request(&out);
    let plan = tune::plan(&req, true, &fb).unwrap();
    assert_eq!(plan.candidates.len(), 4);
    let outcome = tune::search(&plan, &fb).unwrap();
    // M/M/c at λ = 30, μ = 10: W(5) = 0.1118 s, W(6) = 0.1033 s; the fewest workers within
    // 0.105 s is 6 (tests/tune_cli.rs checks the Erlang C figures themselves).
    let best = &outcome.candidates[outcome.best.expect("a feasible candidate")].candidate;
    assert_eq!(best.overrides(), ["service.workers=6"]);
    let staged = tune::stage_outputs(&plan, &outcome, &fb).unwrap();
    assert!(staged.check_failure.is_none() || !req.check);
    staged.staging.commit().unwrap();
    let lib = std::fs::read(out.join("tune.json")).unwrap();
    assert_eq!(String::from_utf8_lossy(&lib), staged.json);
    let cli_out = dir.path().join("cli");
    bin()
        .args(["tune", "tests/fixtures/tune/mmc.toml", "--policy", "one", "--vary", "service.workers=4..7:1"])
        .args(["--require", "latency_mean_s<=0.105", "--threads", "1", "--out"])
        .arg(&cli_out)
        .assert()
        .success();
    let cli = std::fs::read_to_string(cli_out.join("tune.json")).unwrap();
    // tune.json names the scenario as given: an absolute path here, a relative one there.
    let lib = String::from_utf8(lib)
        .unwrap()
        .replace(&repo("tests/fixtures/tune/mmc.toml").display().to_string(), "tests/fixtures/tune/mmc.toml");
    assert_eq!(lib, cli);
    for f in ["tune.csv", "pareto.png", "sensitivity.png", "best.toml"] {
        assert!(out.join(f).is_file(), "{f}");
    }
}

#[test]
fn tune_refuses_a_search_without_vary_before_simulating() {
    let dir = tempfile::tempdir().unwrap();
    let mut req = tune_request(dir.path());
    req.vary.clear();
    let e = tune::plan(&req, true, &Silent).unwrap_err();
    assert!(e.is_bad_input() && e.to_string().contains("at least one --vary"), "{e}");
}
