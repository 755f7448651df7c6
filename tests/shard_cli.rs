//! `--shard I/N` and `scalesim merge` through the binary: merged outputs of `run` and `tune`
//! byte-identical to the single-machine outputs for N = 1, 2, 3 and more shards than jobs, with
//! the parts given in any order; and every bad input (exit 2, one clear error each).

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn bin() -> Command {
    let mut c = Command::cargo_bin("scalesim").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Every file of a folder (recursively), by relative path.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn ok(args: &[&str], extra: &[&Path]) -> String {
    let o = bin().args(args).args(extra).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{args:?} {extra:?} failed:\n{stdout}\n{stderr}");
    stdout.into_owned()
}

/// Runs `args` with `--shard i/n` for every i into `dir/part-i`, returns the part folders.
fn shards(args: &[&str], n: u32, dir: &Path) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let part = dir.join(format!("part-{i}"));
            let shard = format!("{i}/{n}");
            let mut a = args.to_vec();
            a.extend(["--shard", &shard, "--out"]);
            ok(&a, &[&part]);
            part
        })
        .collect()
}

/// The single-machine outputs of `args` equal, byte for byte, the merge of its shards for every
/// count in `counts`, with the parts given in reverse and in a rotated order; the merge also
/// prints the same table.
fn merged_equals_single(args: &[&str], counts: &[u32]) {
    let tmp = tempfile::tempdir().unwrap();
    let single = tmp.path().join("single");
    let mut a = args.to_vec();
    a.push("--out");
    let table = ok(&a, &[&single]);
    let want = files(&single);
    assert!(want.len() >= 3, "{want:?}");
    for &n in counts {
        let parts = shards(args, n, &tmp.path().join(format!("n{n}")));
        let mut orders = vec![parts.iter().rev().cloned().collect::<Vec<_>>()];
        let mut rotated = parts.clone();
        rotated.rotate_left(n as usize / 2);
        orders.push(rotated);
        for (k, order) in orders.iter().enumerate() {
            let out = tmp.path().join(format!("merged-{n}-{k}"));
            let mut m = bin();
            m.arg("merge").args(order).arg("--out").arg(&out);
            let o = m.output().unwrap();
            assert!(o.status.success(), "merge of {n} parts: {}", String::from_utf8_lossy(&o.stderr));
            assert_eq!(String::from_utf8_lossy(&o.stdout), table, "the printed table, {n} shards");
            let got = files(&out);
            assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "{n} shards");
            for (name, bytes) in &want {
                assert!(got[name] == *bytes, "{} differs after merging {n} shards", name.display());
            }
        }
    }
}

const RUN: &[&str] =
    &["run", "configs/quickstart.toml", "--set", "simulation.duration=30m", "--seeds", "2", "--report"];

#[test]
fn run_merged_from_shards_is_byte_identical() {
    // 4 policies and the oracle baseline × 2 replications: 10 jobs; 12 shards leave two empty.
    merged_equals_single(RUN, &[1, 2, 3, 12]);
}

#[test]
fn tune_merged_from_shards_is_byte_identical() {
    // Grid: 3 candidates × 2 replications, 6 jobs; 8 shards leave two empty.
    merged_equals_single(
        &[
            "tune",
            "tests/fixtures/tune/mmc.toml",
            "--policy",
            "one",
            "--vary",
            "service.workers=4..6:1",
            "--seeds",
            "2",
        ],
        &[1, 2, 3, 8],
    );
}

#[test]
fn tune_with_the_oracle_and_random_sampling_merges_identically() {
    // The oracle yardstick (cost above it, elasticity) is computed by every shard for the
    // replications its jobs use; random draws the same points on every shard.
    merged_equals_single(
        &[
            "tune",
            "configs/quickstart.toml",
            "--policy",
            "rps-10",
            "--vary",
            "policy.rps-10.target=6..14:2",
            "--strategy",
            "random",
            "--budget",
            "3",
            "--seeds",
            "2",
            "--set",
            "simulation.duration=30m",
        ],
        &[2, 3],
    );
}

/// Runs and expects exit 2 with every `needles` in stderr.
fn bad(args: &[&str], extra: &[&Path], needles: &[&str]) {
    let o = bin().args(args).args(extra).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?} {extra:?}: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{args:?}: expected `{n}` in:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

const TUNE: &[&str] =
    &["tune", "tests/fixtures/tune/mmc.toml", "--policy", "one", "--vary", "service.workers=4..5:1"];

#[test]
fn bad_shard_arguments_exit_2() {
    for cmd in [RUN, TUNE] {
        bad(&[cmd, &["--shard", "3/2"]].concat(), &[], &["--shard", "3/2", "below the count"]);
        bad(&[cmd, &["--shard", "0/0"]].concat(), &[], &["0/0", "at least 1"]);
        bad(&[cmd, &["--shard", "x"]].concat(), &[], &["`x` is not I/N"]);
    }
    bad(
        &[TUNE, &["--strategy", "halving", "--shard", "0/2"]].concat(),
        &[],
        &["--shard: halving runs on one machine"],
    );
}

#[test]
fn merging_parts_that_do_not_belong_together_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let p = shards(TUNE, 3, &t.join("a"));
    // A missing shard and a duplicated one, named.
    bad(&["merge"], &[&p[0], &p[2]], &["1 of 3 shards is missing: 1/3", "run the missing ones"]);
    bad(&["merge"], &[&p[0], &p[1], &p[2], &p[1]], &["shard 1/3 is given twice"]);
    // Different N.
    let two = shards(TUNE, 2, &t.join("b"));
    bad(&["merge"], &[&p[0], &p[1], &p[2], &two[1]], &["the shard count is 2 (", "with the same N"]);
    // Different settings.
    let seeds = shards(&[TUNE, &["--seeds", "2"]].concat(), 3, &t.join("c"));
    bad(&["merge"], &[&p[0], &p[1], &seeds[2]], &["the settings (scenario path, --set, --seed"]);
    // A different scenario (the same settings, another file's content).
    let copy = t.join("mmc.toml");
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tune/mmc.toml"))
            .unwrap();
    std::fs::write(&copy, text.replace("seed = 11", "seed = 12")).unwrap();
    let copy_s = copy.display().to_string();
    let other: Vec<&str> =
        TUNE.iter().map(|a| if a.ends_with("mmc.toml") { copy_s.as_str() } else { a }).collect();
    let o = shards(&other, 3, &t.join("d"));
    bad(&["merge"], &[&p[0], &p[1], &o[2]], &["not parts of the same command"]);
    // The scenario edited after the parts were written.
    std::fs::write(&copy, text.replace("seed = 11", "seed = 13")).unwrap();
    bad(
        &["merge"],
        &[&o[0], &o[1], &o[2]],
        &["mmc.toml` changed since the shards ran", "re-run every shard"],
    );
    // Another version.
    let v = t.join("v");
    copy_dir(&p[2], &v);
    edit_manifest(&v, |m| m.version = format!("9.9.9-{}", m.version));
    bad(&["merge"], &[&p[0], &p[1], &v], &["written by scalesim 9.9.9-"]);
    // Edited without its hash: refused before any figure in it is used.
    let raw = t.join("raw");
    copy_dir(&p[2], &raw);
    let m = raw.join("manifest.json");
    let edited = std::fs::read_to_string(&m).unwrap().replace("\"version\": \"", "\"version\": \"9.9.9-");
    std::fs::write(&m, edited).unwrap();
    bad(&["merge"], &[&p[0], &p[1], &raw], &["does not match its manifest_sha256", "re-run this shard"]);
    // Every part of another version: this binary merges only its own.
    let vs: Vec<PathBuf> = (0..3)
        .map(|i| {
            let d = t.join(format!("v{i}"));
            copy_dir(&p[i], &d);
            edit_manifest(&d, |m| m.version = format!("9.9.9-{}", m.version));
            d
        })
        .collect();
    bad(&["merge"], &[&vs[0], &vs[1], &vs[2]], &["which merges only parts of its own build"]);
    // Damaged results.
    let r = t.join("r");
    copy_dir(&p[1], &r);
    std::fs::write(r.join("results.bin"), b"\x01\x02").unwrap();
    bad(
        &["merge"],
        &[&p[0], &r, &p[2]],
        &["results.bin: the results do not match the manifest's results_sha256"],
    );
    // Folders that are not parts.
    let empty = t.join("empty");
    std::fs::create_dir(&empty).unwrap();
    bad(&["merge"], &[&p[0], &empty], &["empty: not a part directory (no manifest.json)"]);
    bad(&["merge"], &[&t.join("nowhere")], &["nowhere: cannot open the part folder"]);
    bad(&["merge"], &[&copy], &["mmc.toml: not a directory"]);
    let junk = t.join("junk");
    std::fs::create_dir(&junk).unwrap();
    std::fs::write(junk.join("manifest.json"), "{\"format\": 1}").unwrap();
    bad(&["merge"], &[&junk], &["junk/manifest.json: not a part manifest"]);
    // Run parts and tune parts together.
    let r = shards(RUN, 3, &t.join("run"));
    bad(&["merge"], &[&p[0], &p[1], &r[2]], &["not parts of the same command: the command is run and tune"]);
    // The same parts, all there, merge.
    ok(&["merge"], &[&p[2], &p[0], &p[1], Path::new("--out"), &t.join("merged")]);
    assert!(t.join("merged/tune.json").is_file());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

/// Rewrites a part's manifest with `edit` and a manifest hash that matches again (as a
/// deliberate edit would), so that the check under test is the one that fires.
fn edit_manifest(dir: &Path, edit: impl FnOnce(&mut scalesim::shard::Manifest)) {
    let path = dir.join("manifest.json");
    let mut m: scalesim::shard::Manifest = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut m);
    m.settings_sha256 = scalesim::shard::settings_hash(&m.settings);
    m.manifest_sha256 = m.content_hash();
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
}

/// Runs `args` (a command on a scenario in `dir`) from `dir`.
fn in_dir(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut c = bin();
    c.current_dir(dir).args(args);
    c.output().unwrap()
}

fn ok_in(dir: &Path, args: &[&str]) {
    let o = in_dir(dir, args);
    assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

fn bad_in(dir: &Path, args: &[&str], needles: &[&str]) {
    let o = in_dir(dir, args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "{args:?}: expected `{n}` in:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// The Prometheus backtest, 20 minutes of it, with its trace beside it in `dir`.
fn prometheus_scenario(dir: &Path) {
    std::fs::create_dir_all(dir.join("traces")).unwrap();
    std::fs::copy(repo("traces/production-formats/prometheus/query_range.json"), dir.join("traces/q.json"))
        .unwrap();
    let text = std::fs::read_to_string(repo("configs/replay-prometheus.toml")).unwrap();
    let text = text
        .replace("../traces/production-formats/prometheus/query_range.json", "traces/q.json")
        .replace("duration = \"2h\"", "duration = \"20m\"");
    std::fs::write(dir.join("s.toml"), text).unwrap();
}

// ---- issue 21: shards and merge ----

#[test]
fn merge_refuses_shards_run_against_two_versions_of_a_prometheus_export() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    prometheus_scenario(d);
    let trace = d.join("traces/q.json");
    let original = std::fs::read_to_string(&trace).unwrap();
    ok_in(d, &["run", "s.toml", "--shard", "0/2", "--out", "a"]);
    // The export saved again, with more traffic, before the second shard ran.
    std::fs::write(&trace, original.replace("\"0.7\"", "\"2.7\"")).unwrap();
    ok_in(d, &["run", "s.toml", "--shard", "1/2", "--out", "b"]);
    bad_in(
        d,
        &["merge", "a", "b", "--out", "m"],
        &[
            "traces/q.json` differs between shard 1/2 (b)",
            "and shard 0/2 (a)",
            "re-run the shards against the same files",
        ],
    );
    assert!(!d.join("m").exists(), "nothing written");
    // The shards agree, but the export changed after they ran: the merge would load other traffic.
    std::fs::write(&trace, &original).unwrap();
    ok_in(d, &["run", "s.toml", "--shard", "1/2", "--out", "b"]);
    std::fs::write(&trace, original.replace("\"0.7\"", "\"2.7\"")).unwrap();
    bad_in(d, &["merge", "a", "b", "--out", "m"], &["traces/q.json` changed since the shards ran"]);
    std::fs::write(&trace, &original).unwrap();
    ok_in(d, &["merge", "a", "b", "--out", "m"]);
}

#[test]
fn merge_refuses_shards_whose_trace_glob_matched_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let logs = d.join("logs");
    copy_tree(&repo("traces/production-formats/alb"), &logs);
    let text = std::fs::read_to_string(repo("configs/replay-access-log.toml"))
        .unwrap()
        .replace("../traces/production-formats/alb/AWSLogs/**/*.log.gz", "logs/**/*.log.gz");
    std::fs::write(d.join("s.toml"), text).unwrap();
    let run = ["run", "s.toml", "--no-oracle", "--policy", "fixed-2", "--out"];
    ok_in(d, &[&run[..], &["a", "--shard", "0/2"]].concat());
    // A log delivered late, before the other shard ran: the glob now matches one more file.
    let one = walk(&logs).into_iter().next().unwrap();
    std::fs::copy(&one, logs.join("late.log.gz")).unwrap();
    ok_in(d, &[&run[..], &["b", "--shard", "1/2"]].concat());
    bad_in(
        d,
        &["merge", "a", "b", "--out", "m"],
        &[
            "shard 1/2 (b) read `logs/late.log.gz` and shard 0/2 (a) did not",
            "re-run the shards against the same files",
        ],
    );
}

/// Every file under `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = files(dir).into_keys().map(|p| dir.join(p)).collect();
    v.sort();
    v
}

fn copy_tree(from: &Path, to: &Path) {
    for (rel, bytes) in files(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

#[test]
fn merge_refuses_a_tune_whose_manifest_min_replicas_changed_between_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let hpa = std::fs::read_to_string(repo("configs/k8s/hpa-cpu.yaml")).unwrap();
    std::fs::write(d.join("hpa.yaml"), hpa.replace("minReplicas: 5", "minReplicas: 2")).unwrap();
    std::fs::write(
        d.join("s.toml"),
        "[simulation]\nduration = \"30m\"\nseed = 1\nrecord_interval = \"5m\"\n\n[traffic]\nrate = 20\n\n\
         [service]\nworkers = 4\n\n[service.demand]\ndistribution = \"exponential\"\nmean = \"100ms\"\n\n\
         [service.cpu]\nrequest = 0.5\nidle = 0.02\nper_busy_worker = 0.4\n\n\
         [[policy]]\nname = \"web\"\ntype = \"hpa\"\nmanifest = \"hpa.yaml\"\n",
    )
    .unwrap();
    let tune = ["tune", "s.toml", "--policy", "web", "--vary", "policy.web.target=50..60:10", "--out"];
    ok_in(d, &[&tune[..], &["a", "--shard", "0/2"]].concat());
    std::fs::write(d.join("hpa.yaml"), hpa.replace("minReplicas: 5", "minReplicas: 9")).unwrap();
    ok_in(d, &[&tune[..], &["b", "--shard", "1/2"]].concat());
    bad_in(
        d,
        &["merge", "a", "b", "--out", "m"],
        &[
            "hpa.yaml` differs between shard 1/2 (b)",
            "and shard 0/2 (a)",
            "re-run the shards against the same files",
        ],
    );
    assert!(!d.join("m/best.yaml").exists());
}

#[test]
fn merge_of_a_part_claiming_0_or_50_million_shards_is_refused_without_allocating() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let p = shards(TUNE, 2, &t.join("p"));
    for (count, needle) in [(0, "a shard count is 1 to 100000"), (50_000_000, "a shard count is 1 to 100000")]
    {
        let d = t.join(format!("c{count}"));
        copy_dir(&p[0], &d);
        edit_manifest(&d, |m| m.shard.count = count);
        bad(&["merge"], &[&d], &[&format!("shard 0/{count}"), needle, "re-run this shard"]);
    }
    // The most shards there may be, only one of them given: the missing ones in a few ranges.
    let d = t.join("max");
    copy_dir(&p[0], &d);
    edit_manifest(&d, |m| {
        m.shard.count = scalesim::shard::MAX_SHARDS;
        m.jobs.truncate(1);
    });
    bad(&["merge"], &[&d], &["99999 of 100000 shards are missing: 1/100000 to 99999/100000;"]);
    // A claimed total of jobs beyond the limit.
    let d = t.join("jobs");
    copy_dir(&p[0], &d);
    edit_manifest(&d, |m| m.total_jobs = 50_000_000);
    bad(&["merge"], &[&d], &["says the command has 50000000 jobs, more than the 1000000"]);
    // A job list that is not the shard's.
    let d = t.join("list");
    copy_dir(&p[1], &d);
    edit_manifest(&d, |m| m.jobs[0].job = 7);
    bad(&["merge"], &[&p[0], &d], &["shard 1/2 of 2 jobs owns the 1 jobs j with j mod 2 = 1"]);
}

#[test]
fn merge_refuses_results_that_are_oversized_special_or_from_another_part() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let p = shards(TUNE, 2, &t.join("p"));
    // Above the cap (a sparse file: nothing is written to disk, nothing is read).
    let big = t.join("big");
    copy_dir(&p[1], &big);
    let f = std::fs::OpenOptions::new().write(true).open(big.join("results.bin")).unwrap();
    f.set_len(scalesim::input::MAX_PART_RESULTS_BYTES + 1).unwrap();
    drop(f);
    bad(&["merge"], &[&p[0], &big], &["results.bin: the part results file is", "more than the 1024 MiB"]);
    // A FIFO and a directory in its place.
    let fifo = t.join("fifo");
    copy_dir(&p[1], &fifo);
    std::fs::remove_file(fifo.join("results.bin")).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(fifo.join("results.bin")).status().unwrap().success());
    bad(
        &["merge"],
        &[&p[0], &fifo],
        &["results.bin: cannot read the part results file: it is not a regular file"],
    );
    let dir = t.join("dir");
    copy_dir(&p[1], &dir);
    std::fs::remove_file(dir.join("results.bin")).unwrap();
    std::fs::create_dir(dir.join("results.bin")).unwrap();
    bad(&["merge"], &[&p[0], &dir], &["it is a directory"]);
    // Another part's results under this part's manifest.
    let swapped = t.join("swapped");
    copy_dir(&p[1], &swapped);
    std::fs::copy(p[0].join("results.bin"), swapped.join("results.bin")).unwrap();
    bad(&["merge"], &[&p[0], &swapped], &["do not match the manifest's results_sha256", "re-run shard 1/2"]);
    // The manifest.json a FIFO.
    let m = t.join("mfifo");
    std::fs::create_dir(&m).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(m.join("manifest.json")).status().unwrap().success());
    bad(
        &["merge"],
        &[&p[0], &m],
        &["manifest.json: cannot read the part manifest: it is not a regular file"],
    );
}

#[test]
fn merge_refuses_parts_written_by_different_commits() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let p = shards(TUNE, 2, &t.join("p"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p[0].join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["commit"].as_str(), Some(scalesim::shard::COMMIT));
    let other = t.join("other");
    copy_dir(&p[1], &other);
    edit_manifest(&other, |m| m.commit = "0123456789abcdef0123456789abcdef01234567".into());
    bad(
        &["merge"],
        &[&p[0], &other],
        &[
            "are not parts of the same command: they were written by scalesim",
            "(commit 0123456789ab)",
            "the same version and commit on every machine",
        ],
    );
    // Every part of another build: this binary merges only its own.
    let both: Vec<PathBuf> = (0..2)
        .map(|i| {
            let d = t.join(format!("o{i}"));
            copy_dir(&p[i], &d);
            edit_manifest(&d, |m| m.commit = "0123456789abcdef0123456789abcdef01234567".into());
            d
        })
        .collect();
    bad(&["merge"], &[&both[0], &both[1]], &["which merges only parts of its own build"]);
}

#[test]
fn merge_reads_the_scenario_through_the_guarded_reader() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::copy(repo("tests/fixtures/tune/mmc.toml"), d.join("s.toml")).unwrap();
    let args = [
        "tune",
        "s.toml",
        "--policy",
        "one",
        "--vary",
        "service.workers=4..5:1",
        "--shard",
        "0/1",
        "--out",
        "p",
    ];
    ok_in(d, &args);
    std::fs::rename(d.join("s.toml"), d.join("kept.toml")).unwrap();
    // A FIFO: refused at once (it used to wait for a writer for ever).
    assert!(std::process::Command::new("mkfifo").arg(d.join("s.toml")).status().unwrap().success());
    let t0 = std::time::Instant::now();
    bad_in(
        d,
        &["merge", "p", "--out", "m"],
        &["s.toml: cannot read the scenario file: it is not a regular file"],
    );
    assert!(t0.elapsed().as_secs() < 30);
    std::fs::remove_file(d.join("s.toml")).unwrap();
    // /dev/zero behind a link, a directory, a file above the cap.
    std::os::unix::fs::symlink("/dev/zero", d.join("s.toml")).unwrap();
    bad_in(
        d,
        &["merge", "p", "--out", "m"],
        &["s.toml: cannot read the scenario file: it is not a regular file"],
    );
    std::fs::remove_file(d.join("s.toml")).unwrap();
    std::fs::create_dir(d.join("s.toml")).unwrap();
    bad_in(d, &["merge", "p", "--out", "m"], &["s.toml: cannot read the scenario file: it is a directory"]);
    std::fs::remove_dir(d.join("s.toml")).unwrap();
    let f = std::fs::File::create(d.join("s.toml")).unwrap();
    f.set_len(scalesim::input::MAX_TEXT_BYTES + 1).unwrap();
    drop(f);
    bad_in(
        d,
        &["merge", "p", "--out", "m"],
        &["s.toml: the scenario file is 16777217 bytes, more than the 16 MiB"],
    );
    // Gone: say where to run merge from.
    std::fs::remove_file(d.join("s.toml")).unwrap();
    bad_in(d, &["merge", "p", "--out", "m"], &["s.toml: the scenario file the shards ran is not there"]);
    std::fs::rename(d.join("kept.toml"), d.join("s.toml")).unwrap();
    ok_in(d, &["merge", "p", "--out", "m"]);
}
