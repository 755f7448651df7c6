//! The edge of sharding that touches files: the part directory a shard writes ([`Part::stage`]:
//! manifest.json and results.bin, whole or not at all) and the parts a merge reads ([`read`]:
//! every file through the guarded reader, checked alone and together, and the scenario loaded
//! again to check that the files it reads now are the ones the shards read). The commands put
//! their own results back together (`run::merge`, `tune::command::merge`); this module knows no
//! command's results, only their jobs.

use super::{InputFile, JobEntry, Manifest, Shard};
use crate::command::{Error, invalid};
use crate::input::{FileRead, InputKind};
use crate::report::atomic::Staging;
use crate::report::sha256;
use std::path::{Path, PathBuf};

/// A part to write.
#[derive(Debug)]
pub struct Part {
    /// `run` or `tune`.
    pub command: &'static str,
    /// The scenario file (hashed).
    pub scenario: PathBuf,
    /// The command's settings (`RunRequest::settings`, `TuneRequest::settings`).
    pub settings: serde_json::Value,
    /// What changes only the printed output.
    pub display: serde_json::Value,
    /// Which shard.
    pub shard: Shard,
    /// Jobs of the whole command.
    pub total_jobs: u64,
    /// This shard's jobs.
    pub jobs: Vec<JobEntry>,
    /// The encoded results ([`super::encode`]).
    pub results: Vec<u8>,
    /// Every file the scenario's loads read ([`crate::config::Files::read`]); the scenario file
    /// is added if it is not among them.
    pub inputs: Vec<FileRead>,
}

impl Part {
    /// Stages manifest.json and results.bin in `dir` (both or neither, once the caller commits)
    /// and words what the part holds.
    pub fn stage(self, dir: &Path) -> Result<(Staging, String), Error> {
        let mut inputs: Vec<InputFile> = self.inputs.iter().map(InputFile::from).collect();
        let shown = self.scenario.display().to_string();
        if !inputs.iter().any(|f| f.path == shown) {
            let mut h = sha256::Sha256::new();
            let bytes = crate::input::read_bytes_with(&self.scenario, InputKind::Scenario, |b| h.update(b))
                .map_err(|e| invalid(e.to_string()))?;
            inputs.push(InputFile { path: shown, bytes: bytes.len() as u64, sha256: h.finish_hex() });
        }
        inputs.sort_by(|a, b| a.path.cmp(&b.path));
        inputs.dedup_by(|a, b| a.path == b.path);
        let jobs = self.jobs.len();
        let mut manifest = Manifest {
            format: super::FORMAT.into(),
            command: self.command.into(),
            version: super::VERSION.into(),
            commit: super::COMMIT.into(),
            inputs,
            settings_sha256: super::settings_hash(&self.settings),
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
        staging.protect(&self.scenario);
        staging.write(super::RESULTS_FILE, &self.results)?;
        staging.write(super::MANIFEST_FILE, text.as_bytes())?;
        let said = format!(
            "shard {}: {jobs} of {} jobs; merge every shard's folder with `scalesim merge`",
            self.shard, self.total_jobs
        );
        Ok((staging, said))
    }
}

/// The parts of a sharded command, read and checked: they belong together (one build, one
/// command with the same settings and inputs, every shard once), and the files the scenario
/// reads now are the ones the shards read. In shard order.
#[derive(Debug)]
pub struct Parts {
    /// The command that wrote them (`run` or `tune`).
    pub command: String,
    /// The settings the parts recorded.
    pub settings: serde_json::Value,
    /// What the parts recorded for the printed output only.
    pub display: serde_json::Value,
    /// The first part's folder, as given (named in messages).
    first_name: String,
    /// Every part's folder and manifest, in shard order.
    parts: Vec<(PathBuf, Manifest)>,
}

impl Parts {
    /// The refusal of settings a command cannot read back.
    pub fn bad_settings(&self, e: String) -> Error {
        invalid(format!(
            "{}: the recorded settings are not valid ({e}); re-run the shards with this scalesim",
            self.first_name
        ))
    }

    /// The refusal of parts of a command `merge` does not put together.
    pub fn not_mergeable(&self) -> Error {
        invalid(format!(
            "{}: the part was written by `scalesim {}`, and merge puts together parts of run or tune; re-run the shards with this scalesim",
            self.first_name, self.command
        ))
    }

    /// Every part's results, in shard order, each checked against its manifest (hash, and
    /// exactly the jobs it lists: `jobs` gives the jobs a result holds, in order).
    pub fn results<T: serde::de::DeserializeOwned>(
        &self,
        jobs: impl Fn(&T) -> Vec<u64>,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::with_capacity(self.parts.len());
        for (dir, m) in &self.parts {
            let r: T = read_results(dir, m)?;
            check_jobs(dir, m, jobs(&r).into_iter())?;
            out.push(r);
        }
        Ok(out)
    }
}

/// Reads a part directory's manifest (through the guarded reader) and checks it on its own.
fn read_manifest(dir: &Path) -> Result<Manifest, Error> {
    let shown = dir.display();
    let hint = "expected the --out folder of `scalesim run` or `scalesim tune` with --shard I/N";
    let meta = std::fs::metadata(dir)
        .map_err(|e| invalid(format!("{shown}: cannot open the part folder ({e}); {hint}")))?;
    if !meta.is_dir() {
        return Err(invalid(format!("{shown}: not a directory; {hint}")));
    }
    let path = dir.join(super::MANIFEST_FILE);
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(invalid(format!("{shown}: not a part directory (no {}); {hint}", super::MANIFEST_FILE)));
    }
    let text = crate::input::read_text(&path, InputKind::PartManifest).map_err(|e| invalid(e.to_string()))?;
    super::parse_manifest(&text, &path.display().to_string()).map_err(Error::Invalid)
}

/// Reads a part's results through the guarded reader, hashing them as they are read (no second
/// copy), checks the hash against the manifest's and decodes them.
fn read_results<T: serde::de::DeserializeOwned>(dir: &Path, m: &Manifest) -> Result<T, Error> {
    let path = dir.join(super::RESULTS_FILE);
    let mut h = sha256::Sha256::new();
    let bytes = crate::input::read_bytes_with(&path, InputKind::PartResults, |b| h.update(b))
        .map_err(|e| invalid(format!("{e}; re-run shard {} to write it again", m.shard)))?;
    if h.finish_hex() != m.results_sha256 {
        return Err(invalid(format!(
            "{}: the results do not match the manifest's results_sha256: the file is damaged or comes from another part; re-run shard {} to write it again",
            path.display(),
            m.shard
        )));
    }
    super::decode(&bytes).map_err(|e| invalid(format!("{}: {e}; re-run shard {}", path.display(), m.shard)))
}

/// Loads the scenario as the shards did and checks that every file it reads now is the one the
/// shards read (`all`: and that it reads every file they read; a tune's candidates may read
/// files the base scenario does not).
fn check_inputs_now(
    file: &Path,
    overrides: &[String],
    recorded: &[InputFile],
    all: bool,
) -> Result<(), Error> {
    let files = crate::config::Files::default();
    crate::config::load_with_files(file, overrides, &files)?;
    let now: Vec<InputFile> = files.read().iter().map(InputFile::from).collect();
    let todo = "merge against the files the shards read (restore them), or re-run every shard against the files as they are now";
    for f in &now {
        match recorded.iter().find(|r| r.path == f.path) {
            Some(r) if r.sha256 != f.sha256 || r.bytes != f.bytes => {
                return Err(invalid(format!(
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
                return Err(invalid(format!(
                    "the scenario now reads `{}`, which the shards did not read (a new file matching a glob?): {todo}",
                    f.path
                )));
            }
        }
    }
    if all && let Some(r) = recorded.iter().find(|r| !now.iter().any(|f| f.path == r.path)) {
        return Err(invalid(format!(
            "the shards read `{}`, which the scenario no longer reads (moved, or no longer matching a glob): {todo}",
            r.path
        )));
    }
    Ok(())
}

/// Reads and checks the part directories of a merge, in any order (`scalesim merge PART_DIR…`).
pub fn read(dirs: &[PathBuf]) -> Result<Parts, Error> {
    let mut parts = Vec::with_capacity(dirs.len());
    for dir in dirs {
        parts.push((dir.display().to_string(), read_manifest(dir)?));
    }
    let order = super::check_parts(&parts).map_err(Error::Invalid)?;
    let (first_name, first) = (&parts[order[0]].0, &parts[order[0]].1);
    if first.version != super::VERSION || first.commit != super::COMMIT {
        return Err(invalid(format!(
            "{first_name}: the parts were written by {}; this is {}, which merges only parts of its own build: \
             merge with the scalesim that ran the shards, or re-run the shards with this one",
            first.build(),
            super::build_name(super::VERSION, super::COMMIT)
        )));
    }
    let recorded = |key: &str| first.settings.get(key);
    let file = recorded("file").and_then(|f| f.as_str()).map(PathBuf::from).ok_or_else(|| {
        invalid(format!(
            "{first_name}: the settings name no scenario file; re-run the shards with this scalesim"
        ))
    })?;
    let overrides: Vec<String> =
        recorded("overrides").and_then(|o| serde_json::from_value(o.clone()).ok()).unwrap_or_default();
    if std::fs::symlink_metadata(&file).is_err() {
        return Err(invalid(format!(
            "{}: the scenario file the shards ran is not there; run merge from the folder the shards ran in",
            file.display()
        )));
    }
    check_inputs_now(&file, &overrides, &first.inputs, first.command == "run")?;
    let (command, settings, display, first_name) =
        (first.command.clone(), first.settings.clone(), first.display.clone(), first_name.clone());
    let mut by_index: Vec<Option<(String, Manifest)>> = parts.into_iter().map(Some).collect();
    let parts = order
        .iter()
        .map(|&k| {
            let (_, m) = by_index[k].take().expect("check_parts lists every part once");
            (dirs[k].clone(), m)
        })
        .collect();
    Ok(Parts { command, settings, display, first_name, parts })
}

/// The results hold exactly the jobs the manifest lists.
fn check_jobs(dir: &Path, m: &Manifest, held: impl Iterator<Item = u64>) -> Result<(), Error> {
    let mut listed = m.jobs.iter().map(|j| j.job);
    let mut held = held;
    let mut k = 0usize;
    loop {
        match (held.next(), listed.next()) {
            (None, None) => return Ok(()),
            (h, l) if h == l => k += 1,
            (h, l) => {
                let say = |x: Option<u64>| x.map_or_else(|| "nothing".to_string(), |j| format!("job {j}"));
                return Err(invalid(format!(
                    "{}: entry {k} of {} is {}, but the manifest lists {} there: the part is damaged; re-run shard {} to write it again",
                    dir.display(),
                    super::RESULTS_FILE,
                    say(h),
                    say(l),
                    m.shard
                )));
            }
        }
    }
}
