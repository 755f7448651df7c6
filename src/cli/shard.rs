//! `--shard I/N` parts and `scalesim merge`: the part directory a shard writes (manifest.json
//! and results.bin, whole or not at all), the settings recorded in it, and the merge that checks
//! the parts belong together and hands every job's result to the single-machine writers of
//! `run` and `tune`.
//!
//! The settings recorded are those that change results (the scenario path, `--set`, `--seed`,
//! `--seeds`, `--policy`, `--no-oracle`, `--vary`, `--strategy`, …) and the files written
//! (`--report`, `--window`, `--charts`); `--threads`, `--out`, `--allow-large`, `--json` and
//! `--top` are not part of them. A merge re-creates the command from them, re-reads the
//! scenario at the recorded path (its SHA-256 must still be the recorded one) and runs the
//! command's own output code.

use super::{ChartArgsCommand, CliError, RunCommand, TuneCommand};
use scalesim::experiment::RunOptions;
use scalesim::report::ChartsMode;
use scalesim::report::atomic::Staging;
use scalesim::report::sha256;
use scalesim::shard::{self, JobEntry, Manifest, Shard};
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
}

impl Part<'_> {
    /// Writes manifest.json and results.bin into `dir`, both or neither.
    pub fn write(self, dir: &Path) -> Result<(), CliError> {
        let bytes = std::fs::read(self.scenario).map_err(|e| {
            CliError::Usage(format!("{}: cannot read the scenario file: {e}", self.scenario.display()))
        })?;
        let jobs = self.jobs.len();
        let manifest = Manifest {
            format: shard::FORMAT.into(),
            command: self.command.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            scenario_sha256: sha256::hex(&bytes),
            settings_sha256: shard::settings_hash(&self.settings),
            shard: self.shard,
            total_jobs: self.total_jobs,
            jobs: self.jobs,
            results_sha256: sha256::hex(&self.results),
            settings: self.settings,
            display: self.display,
        };
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

/// Reads a part directory's manifest.
fn read_manifest(dir: &Path) -> Result<Manifest, CliError> {
    let shown = dir.display();
    let hint = "a part directory is the --out folder of `scalesim run` or `scalesim tune` with --shard I/N";
    if !dir.exists() {
        return Err(usage(format!("{shown}: no such directory; {hint}")));
    }
    if !dir.is_dir() {
        return Err(usage(format!("{shown}: not a directory; {hint}")));
    }
    let path = dir.join(shard::MANIFEST_FILE);
    if !path.is_file() {
        return Err(usage(format!("{shown}: not a part directory (no {}); {hint}", shard::MANIFEST_FILE)));
    }
    let text = scalesim::input::read_text(&path, scalesim::input::InputKind::Output)
        .map_err(|e| usage(e.to_string()))?;
    let m: Manifest = serde_json::from_str(&text)
        .map_err(|e| usage(format!("{}: not a part manifest: {e}", path.display())))?;
    if m.format != shard::FORMAT {
        return Err(usage(format!(
            "{}: the format is `{}`, expected `{}`",
            path.display(),
            m.format,
            shard::FORMAT
        )));
    }
    if shard::settings_hash(&m.settings) != m.settings_sha256 {
        return Err(usage(format!(
            "{}: the settings do not hash to the recorded settings_sha256 (was the manifest edited?)",
            path.display()
        )));
    }
    Ok(m)
}

/// Reads and decodes a part's results, checked against the manifest's hash.
fn read_results<T: serde::de::DeserializeOwned>(dir: &Path, m: &Manifest) -> Result<T, CliError> {
    let path = dir.join(shard::RESULTS_FILE);
    let bytes = std::fs::read(&path)
        .map_err(|e| usage(format!("{}: cannot read the results: {e}", path.display())))?;
    if sha256::hex(&bytes) != m.results_sha256 {
        return Err(usage(format!(
            "{}: the results do not hash to the manifest's results_sha256 (damaged, or from another part)",
            path.display()
        )));
    }
    shard::decode(&bytes).map_err(|e| usage(format!("{}: {e}", path.display())))
}

/// `scalesim merge PART_DIR… [--out DIR]`.
pub fn merge(cmd: MergeCommand) -> Result<(), CliError> {
    let mut parts = Vec::with_capacity(cmd.parts.len());
    for dir in &cmd.parts {
        parts.push((dir.display().to_string(), read_manifest(dir)?));
    }
    let order = shard::check_parts(&parts).map_err(CliError::Usage)?;
    let first = &parts[order[0]].1;
    let ours = env!("CARGO_PKG_VERSION");
    if first.version != ours {
        return Err(usage(format!(
            "{}: the parts were written by scalesim {}; this is scalesim {ours}, which merges only its own",
            parts[order[0]].0, first.version
        )));
    }
    let file = first
        .settings
        .get("file")
        .and_then(|f| f.as_str())
        .map(PathBuf::from)
        .ok_or_else(|| usage(format!("{}: the settings name no scenario file", parts[order[0]].0)))?;
    let bytes = std::fs::read(&file).map_err(|e| {
        usage(format!(
            "{}: cannot read the scenario file the parts were made from ({e}); run merge from the folder the shards ran in",
            file.display()
        ))
    })?;
    if sha256::hex(&bytes) != first.scenario_sha256 {
        return Err(usage(format!(
            "{}: the scenario file changed since the parts were written (its SHA-256 is {}, the parts' {})",
            file.display(),
            sha256::hex(&bytes),
            first.scenario_sha256
        )));
    }
    let dirs: Vec<&Path> = order.iter().map(|&k| cmd.parts[k].as_path()).collect();
    let manifests: Vec<&Manifest> = order.iter().map(|&k| &parts[k].1).collect();
    let bad_settings =
        |e: String| usage(format!("{}: the recorded settings are not valid: {e}", parts[order[0]].0));
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
        other => Err(usage(format!("{}: the command `{other}` is not run or tune", parts[order[0]].0))),
    }
}

/// The results hold exactly the jobs the manifest lists.
fn check_jobs(dir: &Path, m: &Manifest, held: impl Iterator<Item = u64>) -> Result<(), CliError> {
    let held: Vec<u64> = held.collect();
    let listed: Vec<u64> = m.jobs.iter().map(|j| j.job).collect();
    if held != listed {
        return Err(usage(format!(
            "{}: the results hold {} jobs, not the {} the manifest lists",
            dir.display(),
            held.len(),
            listed.len()
        )));
    }
    Ok(())
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
