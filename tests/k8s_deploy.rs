//! deploy/k8s: the manifests validate against the Kubernetes schema (kubernetes-validate), the
//! Indexed Job's command line maps JOB_COMPLETION_INDEX to `--shard I/N` (run here with `sh`,
//! one pod index at a time, as the pods run it), the merge Job's command puts the parts
//! together into the single-machine outputs, and the Dockerfile is the two-stage build the
//! README describes. (Images cannot be built here: no registry for base images.)

use serde_norway::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn manifest(name: &str) -> Value {
    let p = repo().join("deploy/k8s").join(name);
    serde_norway::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

#[test]
fn the_manifests_validate_against_the_kubernetes_schema() {
    let files = ["pvc.yaml", "shard-job.yaml", "merge-job.yaml"];
    match tool("kubernetes-validate") {
        Some(kv) => {
            for f in files {
                let o = Command::new(&kv)
                    .arg("--strict")
                    .arg(repo().join("deploy/k8s").join(f))
                    .output()
                    .unwrap();
                let text =
                    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
                assert!(o.status.success() && text.contains("passed"), "kubernetes-validate {f}: {text}");
            }
        }
        None if std::env::var_os("SCALESIM_REQUIRE_TOOLS").is_some() => {
            panic!("kubernetes-validate is not installed (pip install kubernetes-validate)")
        }
        None => eprintln!(
            "SKIPPED the schema check: kubernetes-validate is not installed (pip install kubernetes-validate)"
        ),
    }
}

/// The one container of a Job: (its command, its environment).
fn container(job: &Value) -> (Vec<String>, BTreeMap<String, String>) {
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    let command =
        c["command"].as_sequence().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
    let env = c["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e["value"].as_str().unwrap().to_string()))
        .collect();
    (command, env)
}

/// Runs a container's command here: `scalesim` on PATH is the binary under test, the working
/// directory is the repository (the image's /opt/scalesim holds its configs/).
fn run_pod(command: &[String], env: &BTreeMap<String, String>, bin_dir: &Path) -> std::process::Output {
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    Command::new(&command[0])
        .args(&command[1..])
        .envs(env)
        .env("PATH", path)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap())
        })
        .collect()
}

#[test]
fn the_indexed_job_maps_the_completion_index_to_the_shard_and_the_merge_job_puts_them_together() {
    let shard_job = manifest("shard-job.yaml");
    let spec = &shard_job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let n = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(n));
    let pvc = manifest("pvc.yaml");
    let claim = pvc["metadata"]["name"].as_str().unwrap();
    for job in [&shard_job, &manifest("merge-job.yaml")] {
        let vols = &job["spec"]["template"]["spec"]["volumes"][0];
        assert_eq!(vols["persistentVolumeClaim"]["claimName"].as_str(), Some(claim));
    }
    let (command, mut env) = container(&shard_job);
    assert_eq!(env["SHARDS"], n.to_string(), "SHARDS must equal completions");
    assert!(command.join(" ").contains("JOB_COMPLETION_INDEX"));
    // The manifest's own sweep is a day × 5 seeds; here a small one of the same kind.
    let args = "tune configs/quickstart.toml --policy rps-10 --vary policy.rps-10.target=6..12:3 --seeds 2 --set simulation.duration=30m";
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = tmp.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("scalesim"), bin_dir.join("scalesim")).unwrap();
    env.insert("SCALESIM_ARGS".into(), args.into());
    env.insert("RESULTS".into(), tmp.path().join("results").display().to_string());
    for i in 0..n {
        env.insert("JOB_COMPLETION_INDEX".into(), i.to_string());
        let o = run_pod(&command, &env, &bin_dir);
        assert!(o.status.success(), "pod {i}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let parts = tmp.path().join("results").join(&env["SWEEP"]).join("parts");
    for i in 0..n {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(parts.join(format!("part-{i}/manifest.json"))).unwrap())
                .unwrap();
        assert_eq!(m["shard"]["index"].as_u64(), Some(i), "pod {i} ran another shard");
        assert_eq!(m["shard"]["count"].as_u64(), Some(n));
    }
    // The merge Job, then the same tune on one machine.
    let (merge_cmd, mut merge_env) = container(&manifest("merge-job.yaml"));
    assert_eq!(merge_env["SWEEP"], env["SWEEP"], "the merge job must read the shard job's sweep");
    merge_env.insert("RESULTS".into(), env["RESULTS"].clone());
    let o = run_pod(&merge_cmd, &merge_env, &bin_dir);
    assert!(o.status.success(), "merge: {}", String::from_utf8_lossy(&o.stderr));
    let single = tmp.path().join("single");
    let o = Command::new(bin_dir.join("scalesim"))
        .args(args.split(' '))
        .arg("--out")
        .arg(&single)
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let merged = files(&tmp.path().join("results").join(&env["SWEEP"]).join("out"));
    let want = files(&single);
    assert_eq!(merged.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>());
    for (k, v) in &want {
        assert!(merged[k] == *v, "{k} differs");
    }
}

#[test]
fn the_dockerfile_builds_with_cargo_and_runs_on_slim_debian() {
    let text = std::fs::read_to_string(repo().join("deploy/k8s/Dockerfile")).unwrap();
    let froms: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "two stages: {froms:?}");
    assert!(froms[0].starts_with("FROM rust:") && froms[0].ends_with(" AS build"), "{}", froms[0]);
    assert!(froms[1].starts_with("FROM debian:") && froms[1].contains("-slim"), "{}", froms[1]);
    assert!(text.contains("RUN cargo build --release --locked --bin scalesim"));
    assert!(text.contains("COPY --from=build /src/target/release/scalesim /usr/local/bin/scalesim"));
    // The pods' working directory is the image's, where the scenarios are.
    let workdir = text.lines().rev().find_map(|l| l.strip_prefix("WORKDIR ")).unwrap();
    for job in ["shard-job.yaml", "merge-job.yaml"] {
        let m = manifest(job);
        assert_eq!(
            m["spec"]["template"]["spec"]["containers"][0]["workingDir"].as_str(),
            Some(workdir),
            "{job}"
        );
    }
    // build.rs (the commit a part records) is built in, and the commit can be passed in.
    assert!(text.contains("COPY Cargo.toml Cargo.lock build.rs ./"));
    assert!(text.contains("ARG SCALESIM_GIT_COMMIT"));
    // Everything the build stage copies exists in the repository.
    for l in text.lines().filter(|l| l.starts_with("COPY ") && !l.contains("--from")) {
        for src in l.split_whitespace().skip(1).collect::<Vec<_>>().split_last().unwrap().1 {
            assert!(repo().join(src).exists(), "{l}: {src} is not in the repository");
        }
    }
}
