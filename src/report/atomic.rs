//! All-or-nothing output: every command that writes files (`run`, `report`, `compare`,
//! `capacity`, `recommend`, `calibrate`, `export`, `tune`, `merge` and the shard parts) writes
//! through a [`Staging`].
//!
//! Files are written into a temporary folder created inside the destination folder (the
//! `tempfile` crate, named `.partial-scalesim-<pid>-<random>`), so the final moves are renames
//! within one file system. [`Staging::commit`] moves them into place only when every one was
//! written; before replacing a previous output it moves that file aside into the staging
//! folder, so a failed rename puts back every file it had touched: the destination then holds
//! exactly the previous outputs. Dropping a `Staging` without committing removes it. Staging
//! folders left by a killed run are removed by the next [`Staging::new`] on the same
//! destination, once their process is gone (or, where that cannot be told, a day later).
//!
//! Two rules hold here, for every command:
//! - **Outputs never overwrite an input.** A command registers the files it reads
//!   ([`Staging::protect`]; [`check_outputs`] lets it refuse before simulating) and the commit
//!   refuses ([`ReportError::OverwritesInput`], bad input) when an output would land on one of
//!   them — the same file, told by device and inode, whatever the spelling of its path.
//! - **A folder holds one consistent set of outputs per command.** A folder output
//!   ([`Staging::new`]) records the names it wrote, per output set (`run`, `tune`, …), in
//!   [`RECORD`]; the next commit of the same set removes, with the commit, those it does not
//!   write again (a report.html of an earlier `run --report`, a best.toml of an earlier tune),
//!   and reports every other file it finds that no set wrote ([`Committed::unknown`]) for the
//!   command line to warn about. [`Staging::adding_to`] adds files to a set without replacing it
//!   (`report DIR`'s report.html joins the run's set, so the next run removes it); single files
//!   the user names ([`Staging::file`]: `export --out`, `calibrate --out`) are not recorded.
//!
//! ```no_run
//! # fn main() -> Result<(), scalesim::report::ReportError> {
//! use scalesim::report::atomic::Staging;
//! let mut out = Staging::new(std::path::Path::new("output/tune"), "tune")?;
//! out.protect(std::path::Path::new("scenario.toml"));
//! out.write("ranking.csv", b"policy,score\n")?;
//! let chart = out.path("chart.png"); // for writers that take a path
//! std::fs::write(&chart, b"...").map_err(|e| scalesim::report::ReportError::io(&chart, e))?;
//! out.add("chart.png");
//! let done = out.commit()?; // both files, or neither
//! # let _ = done; Ok(()) }
//! ```

use super::ReportError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Prefix of staging folder names.
pub const STAGING_PREFIX: &str = ".partial-scalesim-";

/// The record of the files each command wrote into a folder: one `<set>\t<name>` line each.
pub const RECORD: &str = ".scalesim-outputs";

/// How old a staging folder whose process cannot be checked must be to count as stale.
const STALE_AGE: Duration = Duration::from_secs(24 * 3600);

/// How a commit treats the folder's record.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// The files are the whole output set `set`: replaces its previous files.
    Set(String),
    /// The files join the output set `set`, which keeps its other files.
    AddTo(String),
    /// Single files the user named: not recorded, nothing removed, nothing reported.
    Files,
}

/// What a commit did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    /// The files written, in the order they were added.
    pub written: Vec<PathBuf>,
    /// Files of the same output set's previous write that this one did not write again,
    /// removed with the commit.
    pub removed: Vec<PathBuf>,
    /// Other files found in the folder that no recorded output set wrote (left alone; the
    /// command line warns about them).
    pub unknown: Vec<PathBuf>,
}

/// A set of output files being written into a temporary folder inside `dest`.
#[derive(Debug)]
pub struct Staging {
    dest: PathBuf,
    tmp: tempfile::TempDir,
    names: Vec<String>,
    mode: Mode,
    inputs: Vec<PathBuf>,
    /// Tests only: make the rename of the n-th file fail.
    fail_rename_at: Option<usize>,
}

impl Staging {
    /// The output set `set` (the command's name: `run`, `tune`, `capacity`, …) in `dest`:
    /// creates `dest` (and its parents) if needed, removes stale staging folders in it, and
    /// starts a new staging folder there. The commit replaces the set's previous files.
    pub fn new(dest: &Path, set: &str) -> Result<Staging, ReportError> {
        Staging::with_mode(dest, Mode::Set(set.to_string()))
    }

    /// Files that join the output set `set` already in `dest` (its other files stay).
    pub fn adding_to(dest: &Path, set: &str) -> Result<Staging, ReportError> {
        Staging::with_mode(dest, Mode::AddTo(set.to_string()))
    }

    /// Single files the user named, in `dest`: not recorded in the folder.
    pub fn file(dest: &Path) -> Result<Staging, ReportError> {
        Staging::with_mode(dest, Mode::Files)
    }

    fn with_mode(dest: &Path, mode: Mode) -> Result<Staging, ReportError> {
        std::fs::create_dir_all(dest).map_err(|e| ReportError::io(dest, e))?;
        remove_stale(dest);
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
            .tempdir_in(dest)
            .map_err(|e| ReportError::io(dest, e))?;
        Ok(Staging {
            dest: dest.to_path_buf(),
            tmp,
            names: Vec::new(),
            mode,
            inputs: Vec::new(),
            fail_rename_at: None,
        })
    }

    /// The destination folder.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Registers a file the command read: the commit refuses to replace it.
    pub fn protect(&mut self, input: &Path) {
        self.inputs.push(input.to_path_buf());
    }

    /// Where a file called `name` is staged (for writers that take a path); call
    /// [`Staging::add`] once it is written.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Registers `name` (already written at [`Staging::path`]) as an output.
    pub fn add(&mut self, name: &str) {
        if !self.names.iter().any(|n| n == name) {
            self.names.push(name.to_string());
        }
    }

    /// Writes `bytes` as the output `name`.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), ReportError> {
        let p = self.path(name);
        std::fs::write(&p, bytes).map_err(|e| ReportError::io(&self.dest.join(name), e))?;
        self.add(name);
        Ok(())
    }

    /// Moves every staged file into the destination, and removes the files of the output set's
    /// previous write that were not written again; on any failure, the destination is left as
    /// it was before (previous files restored, no new file) and the error names the file.
    /// Refuses, before touching anything, when an output would replace a protected input.
    pub fn commit(self) -> Result<Committed, ReportError> {
        let names: Vec<&str> = self.names.iter().map(String::as_str).collect();
        check_outputs(&self.dest, &names, &self.inputs)?;
        for name in &self.names {
            let to = self.dest.join(name);
            if to.is_dir() {
                return Err(ReportError::io(&to, "a folder of that name is in the way; remove or rename it"));
            }
        }
        // The record: what this commit removes, what it leaves unknown, what it writes.
        let (mut renames, mut stale, mut unknown) = (self.names.clone(), Vec::new(), Vec::new());
        if self.mode != Mode::Files {
            let mut record = read_record(&self.dest);
            let (set, replace) = match &self.mode {
                Mode::Set(s) => (s.clone(), true),
                Mode::AddTo(s) => (s.clone(), false),
                Mode::Files => unreachable!("handled above"),
            };
            for (s, files) in record.iter_mut() {
                if s != &set {
                    files.retain(|f| !self.names.contains(f));
                }
            }
            let mine = record.entry(set).or_default();
            if replace {
                stale = mine.iter().filter(|f| !self.names.contains(f)).cloned().collect();
                stale.retain(|f| self.dest.join(f).symlink_metadata().is_ok_and(|m| m.is_file()));
                *mine = self.names.clone();
            } else {
                for n in &self.names {
                    if !mine.contains(n) {
                        mine.push(n.clone());
                    }
                }
            }
            record.retain(|_, files| !files.is_empty());
            unknown = unknown_files(&self.dest, &record, &self.names, &stale);
            std::fs::write(self.path(RECORD), record_text(&record))
                .map_err(|e| ReportError::io(&self.dest.join(RECORD), e))?;
            renames.push(RECORD.to_string());
        }
        let aside = self.tmp.path().join(".previous");
        std::fs::create_dir(&aside).map_err(|e| ReportError::io(&aside, e))?;
        // (destination, staged path or None for a removal, where the previous file was moved)
        let mut done: Vec<(PathBuf, Option<PathBuf>, Option<PathBuf>)> = Vec::new();
        let undo = |done: &[(PathBuf, Option<PathBuf>, Option<PathBuf>)]| {
            for (to, from, moved) in done.iter().rev() {
                if let Some(from) = from {
                    let _ = std::fs::rename(to, from);
                }
                if let Some(o) = moved {
                    let _ = std::fs::rename(o, to);
                }
            }
        };
        for (i, name) in renames.iter().enumerate() {
            let (from, to) = (self.path(name), self.dest.join(name));
            let old = aside.join(name);
            let step = || -> std::io::Result<Option<PathBuf>> {
                let moved = match std::fs::symlink_metadata(&to) {
                    Ok(_) => {
                        std::fs::rename(&to, &old)?;
                        Some(old.clone())
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(e),
                };
                let placed = if self.fail_rename_at == Some(i) {
                    Err(std::io::Error::other("injected rename failure"))
                } else {
                    std::fs::rename(&from, &to)
                };
                if let Err(e) = placed {
                    if let Some(o) = &moved {
                        let _ = std::fs::rename(o, &to);
                    }
                    return Err(e);
                }
                Ok(moved)
            };
            match step() {
                Ok(moved) => done.push((to, Some(from), moved)),
                Err(e) => {
                    undo(&done);
                    return Err(ReportError::io(&to, e));
                }
            }
        }
        // The previous write's files that this one did not write again: moved aside with the
        // rest (removed with the staging folder), put back if a move fails.
        for name in &stale {
            let (to, old) = (self.dest.join(name), aside.join(name));
            if let Err(e) = std::fs::rename(&to, &old) {
                undo(&done);
                return Err(ReportError::io(&to, e));
            }
            done.push((to, None, Some(old)));
        }
        let written = self.names.iter().map(|n| self.dest.join(n)).collect();
        Ok(Committed { written, removed: stale.iter().map(|n| self.dest.join(n)).collect(), unknown })
    }

    /// Tests only: the rename of the `i`-th file fails during [`Staging::commit`].
    #[doc(hidden)]
    pub fn fail_rename_at(&mut self, i: usize) {
        self.fail_rename_at = Some(i);
    }
}

/// Refuses (bad input: [`ReportError::OverwritesInput`]) when a file called one of `names` in
/// `dest` is one of `inputs` — the same file (device and inode), however either path is
/// spelled. Commands call it before simulating; [`Staging::commit`] calls it again.
pub fn check_outputs(dest: &Path, names: &[&str], inputs: &[PathBuf]) -> Result<(), ReportError> {
    for name in names {
        let out = dest.join(name);
        let Ok(o) = std::fs::metadata(&out) else { continue };
        for input in inputs {
            if std::fs::metadata(input).is_ok_and(|i| same_file(&o, &i, &out, input)) {
                return Err(ReportError::OverwritesInput { output: out, input: input.clone() });
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata, _: &Path, _: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata, a: &Path, b: &Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// The folder's record: output set → the names it wrote. A missing or unreadable record is
/// empty; lines that do not name a plain file in the folder are ignored.
fn read_record(dest: &Path) -> BTreeMap<String, Vec<String>> {
    let mut record: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Ok(text) = crate::input::read_text(&dest.join(RECORD), crate::input::InputKind::Output) else {
        return record;
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((set, name)) = line.split_once('\t') else { continue };
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && name != RECORD
            && !name.contains(['/', '\\'])
            && !name.starts_with(STAGING_PREFIX);
        if plain && !set.is_empty() {
            let files = record.entry(set.to_string()).or_default();
            if !files.iter().any(|f| f == name) {
                files.push(name.to_string());
            }
        }
    }
    record
}

fn record_text(record: &BTreeMap<String, Vec<String>>) -> String {
    let mut s = String::from(
        "# The files scalesim wrote into this folder, per command (output set <TAB> file name).\n\
         # The next write of a set removes the files of its previous write that it does not write again.\n",
    );
    for (set, files) in record {
        for f in files {
            s.push_str(&format!("{set}\t{f}\n"));
        }
    }
    s
}

/// Entries of `dest` that no output set of `record` names, other than the files being written
/// or removed, the record and staging folders.
fn unknown_files(
    dest: &Path,
    record: &BTreeMap<String, Vec<String>>,
    writing: &[String],
    removing: &[String],
) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dest) else { return Vec::new() };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let known = name == RECORD
                || name.starts_with(STAGING_PREFIX)
                || writing.contains(&name)
                || removing.contains(&name)
                || record.values().any(|files| files.contains(&name));
            (!known).then(|| e.path())
        })
        .collect();
    out.sort();
    out
}

/// Removes staging folders in `dest` left by runs that are no longer running.
fn remove_stale(dest: &Path) {
    let Ok(entries) = std::fs::read_dir(dest) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(STAGING_PREFIX) else { continue };
        if !e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
        let stale = match pid {
            Some(p) if p == std::process::id() => false,
            Some(p) if Path::new("/proc/self").exists() => !Path::new(&format!("/proc/{p}")).exists(),
            _ => e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| SystemTime::now().duration_since(t).is_ok_and(|age| age > STALE_AGE)),
        };
        if stale {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(e.path()).unwrap_or_else(|_| "<dir>".into());
                (name, text)
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_replaces_all_and_failure_restores_all() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let mut s = Staging::new(&out, "t").unwrap();
        s.write("a.csv", b"old a").unwrap();
        s.write("b.csv", b"old b").unwrap();
        assert_eq!(s.commit().unwrap().written, vec![out.join("a.csv"), out.join("b.csv")]);
        let before = listing(&out);
        for k in 0..3 {
            let mut s = Staging::new(&out, "t").unwrap();
            s.write("a.csv", b"new a").unwrap();
            s.write("b.csv", b"new b").unwrap();
            s.write("c.csv", b"new c").unwrap();
            s.fail_rename_at(k);
            let e = s.commit().unwrap_err();
            assert!(e.to_string().contains("injected"), "{e}");
            assert_eq!(listing(&out), before, "after a failure at file {k}");
        }
        let mut s = Staging::new(&out, "t").unwrap();
        s.write("a.csv", b"new a").unwrap();
        drop(s);
        assert_eq!(listing(&out), before, "dropped without commit");
    }

    #[test]
    fn stale_staging_folders_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        // A pid that cannot be running (above the kernel's pid_max of 2^22).
        let dead = dir.path().join(format!("{STAGING_PREFIX}4194399-abc"));
        let legacy = dir.path().join(format!("{STAGING_PREFIX}4194398"));
        let alive = dir.path().join(format!("{STAGING_PREFIX}1-xyz"));
        for d in [&dead, &legacy, &alive] {
            std::fs::create_dir(d).unwrap();
            std::fs::write(d.join("summary.csv"), "x").unwrap();
        }
        let s = Staging::new(dir.path(), "t").unwrap();
        s.commit().unwrap();
        assert!(!dead.exists() && !legacy.exists());
        assert!(alive.exists(), "pid 1 is running");
    }
}
