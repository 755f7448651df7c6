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
    bad(&["merge"], &[&p[0], &p[2]], &["shard 1/3 is missing"]);
    bad(&["merge"], &[&p[0], &p[1], &p[2], &p[1]], &["shard 1/3 is given twice"]);
    // Different N.
    let two = shards(TUNE, 2, &t.join("b"));
    bad(&["merge"], &[&p[0], &p[1], &p[2], &two[1]], &["the shard count is 2 and 3"]);
    // Different settings.
    let seeds = shards(&[TUNE, &["--seeds", "2"]].concat(), 3, &t.join("c"));
    bad(&["merge"], &[&p[0], &p[1], &seeds[2]], &["settings' SHA-256"]);
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
    bad(&["merge"], &[&o[0], &o[1], &o[2]], &["the scenario file changed since the parts were written"]);
    // Another version.
    let v = t.join("v");
    copy_dir(&p[2], &v);
    let m = v.join("manifest.json");
    let edited = std::fs::read_to_string(&m).unwrap().replace("\"version\": \"", "\"version\": \"9.9.9-");
    std::fs::write(&m, edited).unwrap();
    bad(&["merge"], &[&p[0], &p[1], &v], &["written by scalesim 9.9.9-"]);
    // Every part of another version: this binary merges only its own.
    let vs: Vec<PathBuf> = (0..3)
        .map(|i| {
            let d = t.join(format!("v{i}"));
            copy_dir(&p[i], &d);
            let m = d.join("manifest.json");
            let e = std::fs::read_to_string(&m).unwrap().replace("\"version\": \"", "\"version\": \"9.9.9-");
            std::fs::write(&m, e).unwrap();
            d
        })
        .collect();
    bad(&["merge"], &[&vs[0], &vs[1], &vs[2]], &["merges only its own"]);
    // Damaged results.
    let r = t.join("r");
    copy_dir(&p[1], &r);
    std::fs::write(r.join("results.bin"), b"\x01\x02").unwrap();
    bad(&["merge"], &[&p[0], &r, &p[2]], &["results.bin", "do not hash"]);
    // Folders that are not parts.
    let empty = t.join("empty");
    std::fs::create_dir(&empty).unwrap();
    bad(&["merge"], &[&p[0], &empty], &["empty: not a part directory (no manifest.json)"]);
    bad(&["merge"], &[&t.join("nowhere")], &["nowhere: no such directory"]);
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
