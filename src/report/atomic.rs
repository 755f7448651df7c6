//! All-or-nothing output: every command that writes files (`run`, `capacity`, `recommend`,
//! `calibrate`, `export`, and `tune`/`report` as they come) writes through a [`Staging`].
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
//! ```no_run
//! # fn main() -> Result<(), scalesim::report::ReportError> {
//! use scalesim::report::atomic::Staging;
//! let mut out = Staging::new(std::path::Path::new("output/tune"))?;
//! out.write("ranking.csv", b"policy,score\n")?;
//! let chart = out.path("chart.png"); // for writers that take a path
//! std::fs::write(&chart, b"...").map_err(|e| scalesim::report::ReportError::io(&chart, e))?;
//! out.add("chart.png");
//! let written = out.commit()?; // both files, or neither
//! # let _ = written; Ok(()) }
//! ```

use super::ReportError;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Prefix of staging folder names.
pub const STAGING_PREFIX: &str = ".partial-scalesim-";

/// How old a staging folder whose process cannot be checked must be to count as stale.
const STALE_AGE: Duration = Duration::from_secs(24 * 3600);

/// A set of output files being written into a temporary folder inside `dest`.
#[derive(Debug)]
pub struct Staging {
    dest: PathBuf,
    tmp: tempfile::TempDir,
    names: Vec<String>,
    /// Tests only: make the rename of the n-th file fail.
    fail_rename_at: Option<usize>,
}

impl Staging {
    /// Creates `dest` (and its parents) if needed, removes stale staging folders in it, and
    /// starts a new staging folder there.
    pub fn new(dest: &Path) -> Result<Staging, ReportError> {
        std::fs::create_dir_all(dest).map_err(|e| ReportError::io(dest, e))?;
        remove_stale(dest);
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{STAGING_PREFIX}{}-", std::process::id()))
            .tempdir_in(dest)
            .map_err(|e| ReportError::io(dest, e))?;
        Ok(Staging { dest: dest.to_path_buf(), tmp, names: Vec::new(), fail_rename_at: None })
    }

    /// The destination folder.
    pub fn dest(&self) -> &Path {
        &self.dest
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

    /// Moves every staged file into the destination; on any failure, the destination is left
    /// as it was before (previous files restored, no new file) and the error names the file.
    /// Returns the destination paths, in the order the files were added.
    pub fn commit(self) -> Result<Vec<PathBuf>, ReportError> {
        for name in &self.names {
            let to = self.dest.join(name);
            if to.is_dir() {
                return Err(ReportError::io(&to, "a directory is in the way"));
            }
        }
        let aside = self.tmp.path().join(".previous");
        std::fs::create_dir(&aside).map_err(|e| ReportError::io(&aside, e))?;
        // (destination, staged path, where the previous file was moved, if there was one)
        let mut done: Vec<(PathBuf, PathBuf, Option<PathBuf>)> = Vec::new();
        for (i, name) in self.names.iter().enumerate() {
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
                Ok(moved) => done.push((to, from, moved)),
                Err(e) => {
                    for (to, from, moved) in done.iter().rev() {
                        let _ = std::fs::rename(to, from);
                        if let Some(o) = moved {
                            let _ = std::fs::rename(o, to);
                        }
                    }
                    return Err(ReportError::io(&to, e));
                }
            }
        }
        Ok(done.into_iter().map(|(to, _, _)| to).collect())
    }

    /// Tests only: the rename of the `i`-th file fails during [`Staging::commit`].
    #[doc(hidden)]
    pub fn fail_rename_at(&mut self, i: usize) {
        self.fail_rename_at = Some(i);
    }
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
        let mut s = Staging::new(&out).unwrap();
        s.write("a.csv", b"old a").unwrap();
        s.write("b.csv", b"old b").unwrap();
        assert_eq!(s.commit().unwrap(), vec![out.join("a.csv"), out.join("b.csv")]);
        let before = listing(&out);
        for k in 0..3 {
            let mut s = Staging::new(&out).unwrap();
            s.write("a.csv", b"new a").unwrap();
            s.write("b.csv", b"new b").unwrap();
            s.write("c.csv", b"new c").unwrap();
            s.fail_rename_at(k);
            let e = s.commit().unwrap_err();
            assert!(e.to_string().contains("injected"), "{e}");
            assert_eq!(listing(&out), before, "after a failure at file {k}");
        }
        let mut s = Staging::new(&out).unwrap();
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
        let s = Staging::new(dir.path()).unwrap();
        s.commit().unwrap();
        assert!(!dead.exists() && !legacy.exists());
        assert!(alive.exists(), "pid 1 is running");
    }
}
