//! In-process memos of pure, deterministic computations that several places of one command
//! ask for (one replica's capacity estimate, the oracle's capacity search): each is computed
//! once per process. Keys are a hash of the inputs' `Debug` text, written straight into the
//! hasher, so a large input is never copied into a key.

use std::collections::HashMap;
use std::fmt::{self, Write};
use std::hash::Hasher;
use std::sync::{Mutex, OnceLock};

/// A memo of values of type `V`, for a `static`.
pub struct Memo<V>(OnceLock<Mutex<HashMap<u64, V>>>);

impl<V: Clone> Memo<V> {
    /// An empty memo.
    pub const fn new() -> Memo<V> {
        Memo(OnceLock::new())
    }

    /// The value memoised under `key` (the inputs, formatted), or `compute`'s, then memoised.
    /// `compute` runs outside the lock, so computations of other keys go on meanwhile.
    pub fn get_or(&self, key: fmt::Arguments, compute: impl FnOnce() -> V) -> V {
        let key = hash(key);
        let map = self.0.get_or_init(|| Mutex::new(HashMap::new()));
        if let Some(hit) = map.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return hit.clone();
        }
        let value = compute();
        map.lock().unwrap_or_else(|e| e.into_inner()).insert(key, value.clone());
        value
    }
}

impl<V: Clone> Default for Memo<V> {
    fn default() -> Memo<V> {
        Memo::new()
    }
}

/// A [`fmt::Write`] that hashes what is written.
struct HashWriter(std::collections::hash_map::DefaultHasher);

impl Write for HashWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

fn hash(text: fmt::Arguments) -> u64 {
    let mut w = HashWriter(Default::default());
    let _ = w.write_fmt(text);
    w.0.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_computed_once_and_other_keys_apart() {
        static M: Memo<u32> = Memo::new();
        let mut calls = 0;
        assert_eq!(
            M.get_or(format_args!("{:?}", (1, "a")), || {
                calls += 1;
                10
            }),
            10
        );
        assert_eq!(
            M.get_or(format_args!("{:?}", (1, "a")), || {
                calls += 1;
                11
            }),
            10
        );
        assert_eq!(
            M.get_or(format_args!("{:?}", (2, "a")), || {
                calls += 1;
                12
            }),
            12
        );
        assert_eq!(calls, 2);
    }
}
