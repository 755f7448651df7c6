//! The files a scenario reads besides itself — traces and manifests — read (and a trace
//! parsed) once per path and shared by every load given the same [`Files`]: `tune` checks each
//! candidate as a whole scenario, and the candidates would otherwise read and parse every trace
//! once each. A `Files` lives as long as one command; it is not a cache across runs.

use crate::traffic::RateSeries;
use crate::traffic::trace::RequestTrace;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Files read so far, by full path (and for a trace, the way it was parsed).
#[derive(Debug, Default)]
pub struct Files {
    texts: Mutex<HashMap<PathBuf, Arc<str>>>,
    rates: Mutex<HashMap<String, Arc<RateSeries>>>,
    requests: Mutex<HashMap<String, Arc<RequestTrace>>>,
}

/// Looks `key` up in `map`, else makes it (outside the lock) and keeps it when it succeeds.
fn memo<T, E>(
    map: &Mutex<HashMap<String, Arc<T>>>,
    key: String,
    make: impl FnOnce() -> Result<T, E>,
) -> Result<Arc<T>, E> {
    if let Some(v) = map.lock().expect("not poisoned").get(&key) {
        return Ok(v.clone());
    }
    let v = Arc::new(make()?);
    map.lock().expect("not poisoned").insert(key, v.clone());
    Ok(v)
}

impl Files {
    /// The text of the file at `path`.
    pub fn text(&self, path: &Path) -> std::io::Result<Arc<str>> {
        if let Some(t) = self.texts.lock().expect("not poisoned").get(path) {
            return Ok(t.clone());
        }
        let t: Arc<str> = std::fs::read_to_string(path)?.into();
        self.texts.lock().expect("not poisoned").insert(path.to_path_buf(), t.clone());
        Ok(t)
    }

    /// A rate series parsed by `parse` and known by `key` (the path and the parsing options).
    pub fn rate_series<E>(
        &self,
        key: String,
        parse: impl FnOnce() -> Result<RateSeries, E>,
    ) -> Result<Arc<RateSeries>, E> {
        memo(&self.rates, key, parse)
    }

    /// A request trace parsed by `parse` and known by `key` (the path and the parsing options).
    pub fn request_trace<E>(
        &self,
        key: String,
        parse: impl FnOnce() -> Result<RequestTrace, E>,
    ) -> Result<Arc<RequestTrace>, E> {
        memo(&self.requests, key, parse)
    }

    /// How many distinct files were read (for tests).
    pub fn reads(&self) -> usize {
        self.texts.lock().expect("not poisoned").len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_and_a_trace_parsed_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "x").unwrap();
        let files = Files::default();
        let a = files.text(&p).unwrap();
        std::fs::write(&p, "changed").unwrap();
        assert_eq!(&*files.text(&p).unwrap(), "x");
        assert!(Arc::ptr_eq(&a, &files.text(&p).unwrap()));
        assert_eq!(files.reads(), 1);
        let mut parses = 0;
        let series = || RateSeries { starts: vec![0.0], rates: vec![1.0], end: 60.0 };
        for _ in 0..3 {
            files
                .rate_series("k".into(), || {
                    parses += 1;
                    Ok::<_, ()>(series())
                })
                .unwrap();
        }
        assert_eq!(parses, 1);
        assert!(files.rate_series("bad".into(), || Err::<RateSeries, _>("no")).is_err());
        assert!(files.rate_series("bad".into(), || Ok::<_, ()>(series())).is_ok(), "errors are not kept");
        assert!(files.text(&dir.path().join("missing")).is_err());
    }
}
