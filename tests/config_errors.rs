//! The real `scalesim` binary on malformed scenario files: it must fail with exit code 2 and a
//! message naming the file, the line, the key and (for misspellings) the likely intended word.

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;

fn scalesim() -> Command {
    Command::cargo_bin("scalesim").expect("binary built")
}

/// `scalesim validate` on `tests/fixtures/bad/<name>.toml` fails with exit code 2, and stderr
/// starts with `error: <file>:<line>:` and contains every one of `wanted`.
fn rejects(name: &str, line: usize, wanted: &[&str]) {
    let file = format!("tests/fixtures/bad/{name}.toml");
    let mut assert = scalesim()
        .args(["validate", &file])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::starts_with(format!("error: {file}:{line}:")));
    for w in wanted {
        assert = assert.stderr(contains(*w));
    }
}

#[test]
fn unknown_key_suggests_the_closest() {
    rejects(
        "unknown_key",
        8,
        &["service.wrokers", "unknown key `wrokers`", "did you mean `workers`?", "8 | wrokers = 4"],
    );
}

#[test]
fn unknown_policy_type_suggests_the_closest() {
    rejects(
        "unknown_policy_type",
        16,
        &[
            "policy[0].type (policy \"p\")",
            "found `autoscle`",
            "expected one of `fixed`",
            "did you mean `autoscale`?",
        ],
    );
}

#[test]
fn bad_duration_names_the_value() {
    rejects(
        "bad_duration",
        9,
        &["service.timeout", "invalid duration \"10 secz\"", "expected a duration such as"],
    );
}

#[test]
fn bad_time_zone_suggests_the_closest() {
    rejects(
        "bad_timezone",
        3,
        &["simulation.timezone", "unknown time zone \"Europe/Pari\"", "did you mean `Europe/Paris`?"],
    );
}

#[test]
fn bad_cron_names_the_window() {
    rejects(
        "bad_cron",
        17,
        &[
            "policy[0].windows[0].start (policy \"nightly\")",
            "invalid cron expression `0 25 * * *`",
            "expected a cron expression",
        ],
    );
}

#[test]
fn min_above_max() {
    rejects("min_gt_max", 18, &["policy[0].min (policy \"hpa\")", "min (5) is greater than max (3)"]);
}

#[test]
fn duplicate_policy_name() {
    rejects("duplicate_policy", 20, &["policy[1].name", "duplicate policy name \"a\"", "policy[0]"]);
}

#[test]
fn missing_required_key_points_at_its_table() {
    rejects("missing_key", 7, &["service.workers", "missing required key", "expected integer"]);
}

#[test]
fn wrong_type_says_found_and_expected() {
    rejects(
        "wrong_type",
        8,
        &["service.workers", "found string \"eight\"", "expected a non-negative integer"],
    );
}

#[test]
fn set_to_an_unknown_key_says_it_came_from_set() {
    scalesim()
        .args(["validate", "tests/fixtures/good.toml", "--set", "service.wrokers=3"])
        .assert()
        .code(2)
        .stderr(contains("error: tests/fixtures/good.toml: in --set service.wrokers=3: service.wrokers"))
        .stderr(contains("did you mean `workers`?"));
}

#[test]
fn set_to_an_unknown_policy_lists_the_names() {
    scalesim()
        .args(["validate", "tests/fixtures/good.toml", "--set", "policy.hap.max=3"])
        .assert()
        .code(2)
        .stderr(contains("in --set policy.hap.max=3"))
        .stderr(contains("did you mean `hpa`?"))
        .stderr(contains("names: fixed-3, hpa, office"));
}

#[test]
fn validate_describes_a_good_scenario() {
    scalesim()
        .args(["validate", "tests/fixtures/good.toml"])
        .assert()
        .success()
        .stdout(contains("scenario   good"))
        .stdout(contains("36000 requests expected, mean 10.00 req/s"))
        .stdout(contains(
            "saturation ≈ 33.33 req/s per replica (workers ÷ mean demand: the most it serves, SLO or not)",
        ))
        .stdout(contains("hpa      cpu"))
        .stdout(contains("baseline   an `oracle` policy with perfect foresight"))
        .stdout(contains("output/good/"));
}

#[test]
fn validate_applies_overrides() {
    scalesim()
        .args([
            "validate",
            "tests/fixtures/good.toml",
            "--set",
            "simulation.duration=2h",
            "--set",
            "traffic.rate=20",
        ])
        .assert()
        .success()
        .stdout(contains("144000 requests expected"))
        .stdout(contains("overhead").not());
}

/// `service.overhead` is shown with what it does (issue 10).
#[test]
fn validate_shows_the_overhead() {
    scalesim()
        .args([
            "validate",
            "tests/fixtures/good.toml",
            "--set",
            "service.overhead.distribution=deterministic",
            "--set",
            "service.overhead.value=0.07",
        ])
        .assert()
        .success()
        .stdout(contains("overhead deterministic 70ms outside the replica"))
        .stdout(contains("not counted toward the timeout"));
}

#[test]
fn missing_file_is_bad_input() {
    scalesim()
        .args(["validate", "tests/fixtures/does-not-exist.toml"])
        .assert()
        .code(2)
        .stderr(contains("error: tests/fixtures/does-not-exist.toml: cannot read the scenario file"));
}

#[test]
fn unknown_policy_filter_is_bad_input() {
    scalesim()
        .args(["run", "tests/fixtures/good.toml", "--policy", "hap"])
        .assert()
        .code(2)
        .stderr(contains("no policy named `hap`"))
        .stderr(contains("did you mean `hpa`?"));
}

#[test]
fn reference_prints_the_docs() {
    let doc = std::fs::read_to_string("docs/scenario.md").expect("docs/scenario.md");
    scalesim().arg("reference").assert().success().stdout(doc);
}

#[test]
fn usage_errors_exit_2() {
    scalesim().args(["run"]).assert().code(2);
    scalesim().args(["frobnicate"]).assert().code(2);
}
