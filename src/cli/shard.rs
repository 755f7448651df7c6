//! `--shard I/N` parts and `scalesim merge`: the part directory a shard writes (manifest.json
//! and results.bin, whole or not at all), the settings recorded in it, and the merge that checks
//! the parts belong together and hands every job's result to the single-machine writers of
//! `run` and `tune`.
//!
//! The settings recorded are those that change results (the scenario path, `--set`, `--seed`,
//! `--seeds`, `--policy`, `--no-oracle`, `--vary`, `--strategy`, …) and the files written
//! (`--report`, `--window`, `--charts`); `--threads`, `--out`, `--allow-large`, `--json` and
//! `--top` are not part of them. A part also records every file the scenario read (from
//! [`scalesim::config::Files::read`]) with its SHA-256. A merge reads every part file through
//! the guarded reader ([`scalesim::input`]), re-creates the command from the settings, loads
//! the scenario at the recorded path once to check that the files it reads now are the ones the
//! shards read, and runs the command's own output code.

use super::{ChartArgsCommand, CliError, RunCommand, TuneCommand};
use scalesim::experiment::RunOptions;
use scalesim::input::{FileRead, InputKind};
use scalesim::report::ChartsMode;
use scalesim::report::atomic::Staging;
use scalesim::report::sha256;
use scalesim::shard::{self, InputFile, JobEntry, Manifest, Shard};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What `scalesim merge` was asked to do.
#[derive(Debug, Clone)]
pub struct MergeCommand {
    /// The part directories, in any order.
    pub parts: Vec<PathBuf>,
    /// Output folder; `None` for the command's own default.
    pub out: Option<PathBuf>,
}

/// The settings of `run` a part records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunSettings {
    file: PathBuf,
    overrides: Vec<String>,
    oracle: bool,
    seed: Option<u64>,
    seeds: u32,
    policies: Vec<String>,
    window: Option<String>,
    charts: String,
    report: bool,
}

/// The settings of `tune` a part records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TuneSettings {
    file: PathBuf,
    policy: String,
    vary: Vec<String>,
    minimize: String,
    require: Vec<String>,
    strategy: String,
    budget: Option<u64>,
    eta: u32,
    /// As text, so that it reads back to the same bits.
    screen_horizon: String,
    seeds: u32,
    seed: Option<u64>,
    overrides: Vec<String>,
}

/// What `tune` prints (not hashed: it changes no file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TuneDisplay {
    json: bool,
    top: usize,
}

fn to_value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("settings are plain data")
}

/// The settings of a `run` command, as its parts record them.
pub(super) fn run_settings(cmd: &RunCommand) -> serde_json::Value {
    to_value(&RunSettings {
        file: cmd.file.clone(),
        overrides: cmd.overrides.clone(),
        oracle: cmd.oracle,
        seed: cmd.seed,
        seeds: cmd.options.seeds,
        policies: cmd.options.policies.clone(),
        window: cmd.charts.window.clone(),
        charts: match cmd.charts.mode {
            ChartsMode::Auto => "auto",
            ChartsMode::Overlay => "overlay",
            ChartsMode::Panels => "panels",
        }
        .into(),
        report: cmd.report,
    })
}

/// The settings and display options of a `tune` command, as its parts record them.
pub(super) fn tune_settings(cmd: &TuneCommand) -> (serde_json::Value, serde_json::Value) {
    let settings = TuneSettings {
        file: cmd.file.clone(),
        policy: cmd.policy.clone(),
        vary: cmd.vary.clone(),
        minimize: cmd.minimize.clone(),
        require: cmd.require.clone(),
        strategy: cmd.strategy.clone(),
        budget: cmd.budget,
        eta: cmd.eta,
        screen_horizon: cmd.screen_horizon.to_string(),
        seeds: cmd.seeds,
        seed: cmd.seed,
        overrides: cmd.overrides.clone(),
    };
    (to_value(&settings), to_value(&TuneDisplay { json: cmd.json, top: cmd.top }))
}

fn run_command(settings: &serde_json::Value, out: Option<PathBuf>) -> Result<RunCommand, String> {
    let s: RunSettings = serde_json::from_value(settings.clone()).map_err(|e| e.to_string())?;
    let mode = match s.charts.as_str() {
        "auto" => ChartsMode::Auto,
        "overlay" => ChartsMode::Overlay,
        "panels" => ChartsMode::Panels,
        other => return Err(format!("charts `{other}` is not auto, overlay or panels")),
    };
    Ok(RunCommand {
        file: s.file,
        out_dir: out,
        overrides: s.overrides,
        oracle: s.oracle,
        seed: s.seed,
        options: RunOptions { seeds: s.seeds, threads: None, policies: s.policies },
        allow_large: true,
        charts: ChartArgsCommand { window: s.window, mode },
        report: s.report,
        check: false,
        shard: None,
    })
}

fn tune_command(
    settings: &serde_json::Value,
    display: &serde_json::Value,
    out: Option<PathBuf>,
) -> Result<TuneCommand, String> {
    let s: TuneSettings = serde_json::from_value(settings.clone()).map_err(|e| e.to_string())?;
    let d: TuneDisplay = serde_json::from_value(display.clone()).map_err(|e| e.to_string())?;
    let screen_horizon = s
        .screen_horizon
        .parse()
        .map_err(|_| format!("screen_horizon `{}` is not a number", s.screen_horizon))?;
    Ok(TuneCommand {
        file: s.file,
        policy: s.policy,
        vary: s.vary,
        minimize: s.minimize,
        require: s.require,
        strategy: s.strategy,
        budget: s.budget,
        eta: s.eta,
        screen_horizon,
        seeds: s.seeds,
        seed: s.seed,
        overrides: s.overrides,
        threads: None,
        out_dir: out,
        json: d.json,
        check: false,
        top: d.top,
        allow_large: true,
        shard: None,
    })
}

/// A part to write.
pub(super) struct Part<'a> {
    /// `run` or `tune`.
    pub command: &'static str,
    /// The scenario file (hashed).
    pub scenario: &'a Path,
    /// [`run_settings`] or [`tune_settings`].
    pub settings: serde_json::Value,
    /// What changes only the printed output.
    pub display: serde_json::Value,
    /// Which shard.
    pub shard: Shard,
    /// Jobs of the whole command.
    pub total_jobs: u64,
    /// This shard's jobs.
    pub jobs: Vec<JobEntry>,
    /// The encoded results ([`shard::encode`]).
    pub results: Vec<u8>,
    /// Every file the scenario's loads read ([`scalesim::config::Files::read`]); the scenario
    /// file is added if it is not among them.
    pub inputs: Vec<FileRead>,
}

impl Part<'_> {
    /// Writes manifest.json and results.bin into `dir`, both or neither.
    pub fn write(self, dir: &Path) -> Result<(), CliError> {
        let mut inputs: Vec<InputFile> = self.inputs.iter().map(InputFile::from).collect();
        let shown = self.scenario.display().to_string();
        if !inputs.iter().any(|f| f.path == shown) {
            let mut h = sha256::Sha256::new();
            let bytes = scalesim::input::read_bytes_with(self.scenario, InputKind::Scenario, |b| h.update(b))
                .map_err(|e| CliError::Usage(e.to_string()))?;
            inputs.push(InputFile { path: shown, bytes: bytes.len() as u64, sha256: h.finish_hex() });
        }
        inputs.sort_by(|a, b| a.path.cmp(&b.path));
        inputs.dedup_by(|a, b| a.path == b.path);
        let jobs = self.jobs.len();
        let mut manifest = Manifest {
            format: shard::FORMAT.into(),
            command: self.command.into(),
            version: shard::VERSION.into(),
            commit: shard::COMMIT.into(),
            inputs,
            settings_sha256: shard::settings_hash(&self.settings),
            shard: self.shard,
            total_jobs: self.total_jobs,
            jobs: self.jobs,
            results_sha256: sha256::hex(&self.results),
            settings: self.settings,
            display: self.display,
            manifest_sha256: String::new(),
        };
        manifest.manifest_sha256 = manifest.content_hash();
        let mut text = serde_json::to_string_pretty(&manifest).expect("a manifest is plain data");
        text.push('\n');
        let mut staging = Staging::new(dir, "part")?;
        staging.protect(self.scenario);
        staging.write(shard::RESULTS_FILE, &self.results)?;
        staging.write(shard::MANIFEST_FILE, text.as_bytes())?;
        let written = super::commit(staging)?;
        super::note(format_args!(
            "shard {}: {jobs} of {} jobs; merge every shard's folder with `scalesim merge`",
            self.shard, self.total_jobs
        ));
        for p in written {
            super::note(format_args!("wrote {}", p.display()));
        }
        Ok(())
    }
}

fn usage(m: impl Into<String>) -> CliError {
    CliError::Usage(m.into())
}

/// Reads a part directory's manifest (through the guarded reader) and checks it on its own.
fn read_manifest(dir: &Path) -> Result<Manifest, CliError> {
    let shown = dir.display();
    let hint = "expected the --out folder of `scalesim run` or `scalesim tune` with --shard I/N";
    let meta = std::fs::metadata(dir)
        .map_err(|e| usage(format!("{shown}: cannot open the part folder ({e}); {hint}")))?;
    if !meta.is_dir() {
        return Err(usage(format!("{shown}: not a directory; {hint}")));
    }
    let path = dir.join(shard::MANIFEST_FILE);
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(usage(format!("{shown}: not a part directory (no {}); {hint}", shard::MANIFEST_FILE)));
    }
    let text =
        scalesim::input::read_text(&path, InputKind::PartManifest).map_err(|e| usage(e.to_string()))?;
    shard::parse_manifest(&text, &path.display().to_string()).map_err(usage)
}

/// Reads a part's results through the guarded reader, hashing them as they are read (no second
/// copy), checks the hash against the manifest's and decodes them.
fn read_results<T: serde::de::DeserializeOwned>(dir: &Path, m: &Manifest) -> Result<T, CliError> {
    let path = dir.join(shard::RESULTS_FILE);
    let mut h = sha256::Sha256::new();
    let bytes = scalesim::input::read_bytes_with(&path, InputKind::PartResults, |b| h.update(b))
        .map_err(|e| usage(format!("{e}; re-run shard {} to write it again", m.shard)))?;
    if h.finish_hex() != m.results_sha256 {
        return Err(usage(format!(
            "{}: the results do not match the manifest's results_sha256: the file is damaged or comes from another part; re-run shard {} to write it again",
            path.display(),
            m.shard
        )));
    }
    shard::decode(&bytes).map_err(|e| usage(format!("{}: {e}; re-run shard {}", path.display(), m.shard)))
}

/// Loads the scenario as the shards did and checks that every file it reads now is the one the
/// shards read (`all`: and that it reads every file they read; a tune's candidates may read
/// files the base scenario does not).
fn check_inputs_now(
    file: &Path,
    overrides: &[String],
    recorded: &[InputFile],
    all: bool,
) -> Result<(), CliError> {
    let files = scalesim::config::Files::default();
    scalesim::config::load_with_files(file, overrides, &files)?;
    let now: Vec<InputFile> = files.read().iter().map(InputFile::from).collect();
    let todo = "merge against the files the shards read (restore them), or re-run every shard against the files as they are now";
    for f in &now {
        match recorded.iter().find(|r| r.path == f.path) {
            Some(r) if r.sha256 != f.sha256 || r.bytes != f.bytes => {
                return Err(usage(format!(
                    "`{}` changed since the shards ran (the shards read {} bytes, SHA-256 {}; it is now {} bytes, SHA-256 {}): {todo}",
                    f.path,
                    r.bytes,
                    &r.sha256[..r.sha256.len().min(12)],
                    f.bytes,
                    &f.sha256[..f.sha256.len().min(12)]
                )));
            }
            Some(_) => {}
            None => {
                return Err(usage(format!(
                    "the scenario now reads `{}`, which the shards did not read (a new file matching a glob?): {todo}",
                    f.path
                )));
            }
        }
    }
    if all && let Some(r) = recorded.iter().find(|r| !now.iter().any(|f| f.path == r.path)) {
        return Err(usage(format!(
            "the shards read `{}`, which the scenario no longer reads (moved, or no longer matching a glob): {todo}",
            r.path
        )));
    }
    Ok(())
}

/// `scalesim merge PART_DIR… [--out DIR]`.
pub fn merge(cmd: MergeCommand) -> Result<(), CliError> {
    let mut parts = Vec::with_capacity(cmd.parts.len());
    for dir in &cmd.parts {
        parts.push((dir.display().to_string(), read_manifest(dir)?));
    }
    let order = shard::check_parts(&parts).map_err(CliError::Usage)?;
    let (first_name, first) = (&parts[order[0]].0, &parts[order[0]].1);
    if first.version != shard::VERSION || first.commit != shard::COMMIT {
        return Err(usage(format!(
            "{first_name}: the parts were written by {}; this is {}, which merges only parts of its own build: \
             merge with the scalesim that ran the shards, or re-run the shards with this one",
            first.build(),
            shard::build_name(shard::VERSION, shard::COMMIT)
        )));
    }
    let recorded = |key: &str| first.settings.get(key);
    let file = recorded("file").and_then(|f| f.as_str()).map(PathBuf::from).ok_or_else(|| {
        usage(format!(
            "{first_name}: the settings name no scenario file; re-run the shards with this scalesim"
        ))
    })?;
    let overrides: Vec<String> =
        recorded("overrides").and_then(|o| serde_json::from_value(o.clone()).ok()).unwrap_or_default();
    if std::fs::symlink_metadata(&file).is_err() {
        return Err(usage(format!(
            "{}: the scenario file the shards ran is not there; run merge from the folder the shards ran in",
            file.display()
        )));
    }
    check_inputs_now(&file, &overrides, &first.inputs, first.command == "run")?;
    let dirs: Vec<&Path> = order.iter().map(|&k| cmd.parts[k].as_path()).collect();
    let manifests: Vec<&Manifest> = order.iter().map(|&k| &parts[k].1).collect();
    let bad_settings = |e: String| {
        usage(format!(
            "{first_name}: the recorded settings are not valid ({e}); re-run the shards with this scalesim"
        ))
    };
    match first.command.as_str() {
        "run" => {
            let run = run_command(&first.settings, cmd.out.clone()).map_err(bad_settings)?;
            let mut results = Vec::with_capacity(dirs.len());
            for (dir, m) in dirs.iter().zip(&manifests) {
                let r: Vec<(u64, scalesim::record::RunResult)> = read_results(dir, m)?;
                check_jobs(dir, m, r.iter().map(|x| x.0))?;
                results.push(r);
            }
            super::run::merge(&run, results)
        }
        "tune" => {
            let tune =
                tune_command(&first.settings, &first.display, cmd.out.clone()).map_err(bad_settings)?;
            let mut results = Vec::with_capacity(dirs.len());
            for (dir, m) in dirs.iter().zip(&manifests) {
                let r: scalesim::tune::ShardRuns = read_results(dir, m)?;
                check_jobs(dir, m, r.runs.iter().map(|x| x.0))?;
                results.push(r);
            }
            super::tune::merge(&tune, results)
        }
        other => Err(usage(format!(
            "{first_name}: the part was written by `scalesim {other}`, and merge puts together parts of run or tune; re-run the shards with this scalesim"
        ))),
    }
}

/// The results hold exactly the jobs the manifest lists.
fn check_jobs(dir: &Path, m: &Manifest, held: impl Iterator<Item = u64>) -> Result<(), CliError> {
    let mut listed = m.jobs.iter().map(|j| j.job);
    let mut held = held;
    let mut k = 0usize;
    loop {
        match (held.next(), listed.next()) {
            (None, None) => return Ok(()),
            (h, l) if h == l => k += 1,
            (h, l) => {
                let say = |x: Option<u64>| x.map_or_else(|| "nothing".to_string(), |j| format!("job {j}"));
                return Err(usage(format!(
                    "{}: entry {k} of {} is {}, but the manifest lists {} there: the part is damaged; re-run shard {} to write it again",
                    dir.display(),
                    shard::RESULTS_FILE,
                    say(h),
                    say(l),
                    m.shard
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_leave_out_what_changes_no_result_and_read_back() {
        let cmd = |threads: Option<usize>, out: Option<&str>| RunCommand {
            file: "s.toml".into(),
            out_dir: out.map(PathBuf::from),
            overrides: vec!["a=1".into()],
            oracle: true,
            seed: Some(u64::MAX),
            options: RunOptions { seeds: 3, threads, policies: vec![] },
            allow_large: false,
            charts: ChartArgsCommand::default(),
            report: false,
            check: false,
            shard: None,
        };
        let a = run_settings(&cmd(None, None));
        assert_eq!(a, run_settings(&cmd(Some(2), Some("elsewhere"))));
        let back = run_command(&a, None).unwrap();
        assert_eq!(run_settings(&back), a);
        let mut other = cmd(None, None);
        other.options.seeds = 4;
        assert_ne!(shard::settings_hash(&run_settings(&other)), shard::settings_hash(&a));
    }
}
