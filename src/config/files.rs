//! The files a scenario reads besides itself — traces and manifests — read once per path (and a
//! trace's traffic built once per `[traffic.trace]` section) and shared by every load given the
//! same [`Files`]: `tune` checks each candidate as a whole scenario, and the candidates would
//! otherwise read and parse every trace once each. A `Files` lives as long as one command; it is
//! not a cache across runs.
//!
//! It also keeps the list of every file read through it, with its size and SHA-256 as read
//! ([`Files::read`]): a shard's part records it, and `merge` refuses parts whose inputs differ.
//! Trace readers need not report their files: every read under [`Files::text`] and
//! [`Files::trace`] is seen by [`crate::input::recording`].

use crate::input::{FileRead, InputError, InputKind};
use crate::traffic::TrafficSpec;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Files read so far, by full path, and trace traffic built so far, by its section's key.
#[derive(Debug, Default)]
pub struct Files {
    texts: Mutex<HashMap<PathBuf, Arc<str>>>,
    traces: Mutex<HashMap<String, TrafficSpec>>,
    read: Mutex<BTreeMap<PathBuf, FileRead>>,
}

impl Files {
    /// The text of the file at `path`, read through the input caps of `kind`.
    pub fn text(&self, path: &Path, kind: InputKind) -> Result<Arc<str>, InputError> {
        if let Some(t) = self.texts.lock().expect("not poisoned").get(path) {
            return Ok(t.clone());
        }
        let (t, read) = crate::input::recording(|| crate::input::read_text(path, kind));
        self.note(read);
        let t: Arc<str> = t?.into();
        self.texts.lock().expect("not poisoned").insert(path.to_path_buf(), t.clone());
        Ok(t)
    }

    /// The traffic of a trace section known by `key` (its folder and every setting that shapes
    /// it), built by `build` the first time; errors are not kept.
    pub fn trace<E>(
        &self,
        key: String,
        build: impl FnOnce() -> Result<TrafficSpec, E>,
    ) -> Result<TrafficSpec, E> {
        if let Some(v) = self.traces.lock().expect("not poisoned").get(&key) {
            return Ok(v.clone());
        }
        let (v, read) = crate::input::recording(build);
        self.note(read);
        let v = v?;
        self.traces.lock().expect("not poisoned").insert(key, v.clone());
        Ok(v)
    }

    fn note(&self, read: Vec<FileRead>) {
        let mut log = self.read.lock().expect("not poisoned");
        for r in read {
            log.entry(r.path.clone()).or_insert(r);
        }
    }

    /// Every file read so far (the first read of each path), sorted by path.
    pub fn read(&self) -> Vec<FileRead> {
        self.read.lock().expect("not poisoned").values().cloned().collect()
    }

    /// How many distinct files and trace sections were read (for tests).
    pub fn reads(&self) -> usize {
        self.texts.lock().expect("not poisoned").len() + self.traces.lock().expect("not poisoned").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::traffic::{Process, Shape};

    #[test]
    fn a_file_is_read_and_a_trace_built_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(&p, "x").unwrap();
        let files = Files::default();
        let a = files.text(&p, InputKind::Manifest).unwrap();
        std::fs::write(&p, "changed").unwrap();
        assert_eq!(&*files.text(&p, InputKind::Manifest).unwrap(), "x");
        assert!(Arc::ptr_eq(&a, &files.text(&p, InputKind::Manifest).unwrap()));
        assert_eq!(files.reads(), 1);
        let mut builds = 0;
        for _ in 0..3 {
            files
                .trace("k".into(), || {
                    builds += 1;
                    Ok::<_, ()>(TrafficSpec::from_shape(Shape::Constant(1.0), Process::Poisson, None))
                })
                .unwrap();
        }
        assert_eq!(builds, 1);
        assert!(files.trace("bad".into(), || Err::<TrafficSpec, _>("no")).is_err());
        let ok = files.trace("bad".into(), || {
            Ok::<_, ()>(TrafficSpec::from_shape(Shape::Constant(2.0), Process::Poisson, None))
        });
        assert!(ok.is_ok(), "errors are not kept");
        assert_eq!(files.reads(), 3);
        assert!(files.text(&dir.path().join("missing"), InputKind::Manifest).is_err());
        // Every file read is listed once, with the hash of what was read.
        let t = dir.path().join("t.csv");
        std::fs::write(&t, "time,rate\n0,1\n").unwrap();
        files
            .trace("t".into(), || {
                crate::input::read_text(&t, InputKind::Trace).unwrap();
                crate::input::read_text(&t, InputKind::Trace).unwrap();
                Ok::<_, ()>(TrafficSpec::from_shape(Shape::Constant(1.0), Process::Poisson, None))
            })
            .unwrap();
        let read = files.read();
        assert_eq!(read.iter().map(|r| r.path.clone()).collect::<Vec<_>>(), vec![p, t]);
        assert_eq!(read[0].sha256, crate::report::sha256::hex(b"x"));
        assert_eq!(read[1].bytes, 14);
    }
}
