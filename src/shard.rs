//! Sweeps beyond one machine: which jobs a shard owns, the manifest of the part it writes, the
//! exact encoding of its results, and the checks `merge` makes before putting parts together.
//!
//! A command's jobs (`run`: policy × replication; `tune`: candidate × replication) are numbered
//! in the order the single-machine command keeps their results; shard `I` of `N` owns the jobs
//! `j` with `j % N == I` ([`Shard::owns`]). Every job's result depends only on the inputs and the
//! job's identity (its random streams derive from the seed and the replication), so a merge that
//! puts every job's result back in its place and hands the collection to the single-machine
//! writers writes the very same bytes.
//!
//! Results travel in postcard ([`encode`], [`decode`]): exact bytes for every `f64` (NaN and
//! infinities included), so nothing is rounded on the way. The manifest is JSON, for people and
//! for the checks of [`check_parts`]. Pure: the CLI reads and writes the files.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The `format` of a part manifest; a different one is not a part this version can merge.
pub const FORMAT: &str = "scalesim-part/1";

/// Name of the manifest file in a part directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Name of the results file in a part directory.
pub const RESULTS_FILE: &str = "results.bin";

/// Most shards a command may be split into.
pub const MAX_SHARDS: u32 = 100_000;

/// Shard `index` of `count` (`--shard I/N`, `0 <= I < N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Shard {
    /// This shard's index, from 0.
    pub index: u32,
    /// How many shards the jobs are split into.
    pub count: u32,
}

impl Shard {
    /// Parses `I/N`; the error says what was found and what is expected.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let expected = "expected I/N, the shard index from 0 and the shard count, e.g. 0/4";
        let (i, n) = text.split_once('/').ok_or_else(|| format!("`{text}` is not I/N; {expected}"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| format!("`{text}`: the index `{i}` is not a whole number; {expected}"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{text}`: the count `{n}` is not a whole number; {expected}"))?;
        if count == 0 {
            return Err(format!("`{text}`: the shard count must be at least 1"));
        }
        if count > MAX_SHARDS {
            return Err(format!("`{text}`: the shard count is above the limit of {MAX_SHARDS}"));
        }
        if index >= count {
            return Err(format!(
                "`{text}`: the shard index must be below the count (0 to {} for {count} shards)",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether job `j` (in the single-machine order) is this shard's.
    pub fn owns(&self, j: u64) -> bool {
        j % self.count as u64 == self.index as u64
    }

    /// This shard's jobs among `total`, in order.
    pub fn jobs(&self, total: u64) -> Vec<u64> {
        (self.index as u64..total).step_by(self.count as usize).collect()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One job a part holds: its index in the single-machine order and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobEntry {
    /// Index in the single-machine order.
    pub job: u64,
    /// What it is, e.g. `policy hpa, replication 0`.
    pub label: String,
}

/// The manifest of a part directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The command that wrote it: `run` or `tune`.
    pub command: String,
    /// The scalesim version that wrote it.
    pub version: String,
    /// SHA-256 of the scenario file's bytes, hex.
    pub scenario_sha256: String,
    /// SHA-256 of the command's settings (everything that changes results), hex.
    pub settings_sha256: String,
    /// Which shard this is.
    pub shard: Shard,
    /// Jobs of the whole command.
    pub total_jobs: u64,
    /// The jobs this part holds, in order.
    pub jobs: Vec<JobEntry>,
    /// SHA-256 of [`RESULTS_FILE`], hex.
    pub results_sha256: String,
    /// The command's settings, as hashed (merge re-creates the command from them).
    pub settings: serde_json::Value,
    /// Settings that change only what is printed (not hashed).
    pub display: serde_json::Value,
}

/// The SHA-256, hex, of a settings value's JSON text (object keys sorted, so the same settings
/// always give the same text).
pub fn settings_hash(settings: &serde_json::Value) -> String {
    crate::report::sha256::hex(settings.to_string().as_bytes())
}

/// Encodes results exactly (postcard).
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    postcard::to_stdvec(value).expect("postcard encodes any value of plain data types into memory")
}

/// Decodes results written by [`encode`]; the error says why they do not decode.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| format!("the results do not decode ({e})"))
}

/// Checks that `parts` (each with the name it is known by, e.g. its directory) belong together:
/// one format, command, version, scenario hash, settings hash and shard count; every shard
/// exactly once; each part holding exactly its shard's jobs. Returns the parts' positions in
/// shard order. Every error names the parts concerned.
pub fn check_parts(parts: &[(String, Manifest)]) -> Result<Vec<usize>, String> {
    let Some((first_name, first)) = parts.first() else {
        return Err("no part directories given".into());
    };
    for (name, m) in parts {
        if m.format != FORMAT {
            return Err(format!("{name}: the manifest's format is `{}`, expected `{FORMAT}`", m.format));
        }
    }
    let same = |what: &str, get: &dyn Fn(&Manifest) -> String| -> Result<(), String> {
        let want = get(first);
        match parts.iter().find(|(_, m)| get(m) != want) {
            Some((name, m)) => Err(format!(
                "{name} and {first_name} are not parts of the same command: {what} {} and {want}",
                get(m)
            )),
            None => Ok(()),
        }
    };
    same("the command is", &|m| m.command.clone())?;
    same("written by scalesim", &|m| m.version.clone())?;
    same("the scenario file's SHA-256 is", &|m| m.scenario_sha256.clone())?;
    same("the settings' SHA-256 is", &|m| m.settings_sha256.clone())?;
    same("the shard count is", &|m| m.shard.count.to_string())?;
    same("the total of jobs is", &|m| m.total_jobs.to_string())?;
    let n = first.shard.count;
    let mut by_index: Vec<Option<usize>> = vec![None; n as usize];
    for (k, (name, m)) in parts.iter().enumerate() {
        let i = m.shard.index;
        if i >= n {
            return Err(format!("{name}: shard {i}/{n} is out of range (0 to {})", n - 1));
        }
        if let Some(prev) = by_index[i as usize] {
            return Err(format!("shard {i}/{n} is given twice: {} and {name}", parts[prev].0));
        }
        // (Compared lazily: a manifest's total is not trusted with an allocation.)
        let owned = m.total_jobs.saturating_sub(i as u64).div_ceil(n as u64);
        let listed_ok = m.jobs.len() as u64 == owned
            && m.jobs.iter().enumerate().all(|(k, j)| j.job == i as u64 + k as u64 * n as u64);
        if !listed_ok {
            return Err(format!(
                "{name}: shard {i}/{n} lists {} jobs, not the {owned} it owns of {}",
                m.jobs.len(),
                m.total_jobs
            ));
        }
        by_index[i as usize] = Some(k);
    }
    let missing: Vec<String> =
        (0..n).filter(|&i| by_index[i as usize].is_none()).map(|i| format!("{i}/{n}")).collect();
    if !missing.is_empty() {
        return Err(format!(
            "shard{} {} {} missing (every shard 0/{n} to {}/{n} must be given once)",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" },
            n - 1
        ));
    }
    Ok(by_index.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_split_the_jobs() {
        assert_eq!(Shard::parse("1/3"), Ok(Shard { index: 1, count: 3 }));
        assert!(Shard::parse("3/2").unwrap_err().contains("below the count (0 to 1 for 2 shards)"));
        assert!(Shard::parse("0/0").unwrap_err().contains("at least 1"));
        assert!(Shard::parse("x").unwrap_err().contains("not I/N"));
        assert!(Shard::parse("a/2").unwrap_err().contains("`a` is not a whole number"));
        assert!(Shard::parse("-1/2").is_err());
        let all: Vec<Vec<u64>> = (0..3).map(|i| Shard { index: i, count: 3 }.jobs(7)).collect();
        assert_eq!(all, [vec![0, 3, 6], vec![1, 4], vec![2, 5]]);
        assert!(Shard { index: 4, count: 5 }.jobs(2).is_empty());
        assert!(Shard { index: 1, count: 3 }.owns(4) && !Shard { index: 1, count: 3 }.owns(5));
    }

    #[test]
    fn results_round_trip_exactly() {
        let v = vec![0.1 + 0.2, f64::NAN, f64::INFINITY, -0.0, 1e-310, f64::MAX];
        let back: Vec<f64> = decode(&encode(&v)).unwrap();
        assert_eq!(
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            back.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
        assert!(decode::<Vec<f64>>(&[9, 1]).unwrap_err().contains("do not decode"));
    }

    fn manifest(i: u32, n: u32, total: u64) -> Manifest {
        let s = Shard { index: i, count: n };
        Manifest {
            format: FORMAT.into(),
            command: "run".into(),
            version: "1".into(),
            scenario_sha256: "a".into(),
            settings_sha256: "b".into(),
            shard: s,
            total_jobs: total,
            jobs: s.jobs(total).into_iter().map(|job| JobEntry { job, label: String::new() }).collect(),
            results_sha256: String::new(),
            settings: serde_json::Value::Null,
            display: serde_json::Value::Null,
        }
    }

    #[test]
    fn parts_must_belong_together_and_cover_every_shard_once() {
        let p = |name: &str, m: Manifest| (name.to_string(), m);
        let ok = [p("b", manifest(1, 2, 5)), p("a", manifest(0, 2, 5))];
        assert_eq!(check_parts(&ok), Ok(vec![1, 0]));
        let e = check_parts(&[p("a", manifest(0, 3, 5)), p("c", manifest(2, 3, 5))]).unwrap_err();
        assert!(e.contains("shard 1/3 is missing"), "{e}");
        let e = check_parts(&[p("a", manifest(0, 2, 5)), p("b", manifest(0, 2, 5))]).unwrap_err();
        assert!(e.contains("shard 0/2 is given twice: a and b"), "{e}");
        let e = check_parts(&[p("a", manifest(0, 2, 5)), p("b", manifest(1, 3, 5))]).unwrap_err();
        assert!(e.contains("b and a are not parts of the same command: the shard count is 3 and 2"), "{e}");
        let mut other = manifest(1, 2, 5);
        other.scenario_sha256 = "z".into();
        let e = check_parts(&[p("a", manifest(0, 2, 5)), p("b", other)]).unwrap_err();
        assert!(e.contains("scenario file's SHA-256 is z and a"), "{e}");
        let mut other = manifest(1, 2, 5);
        other.version = "2".into();
        assert!(
            check_parts(&[p("a", manifest(0, 2, 5)), p("b", other)])
                .unwrap_err()
                .contains("scalesim 2 and 1")
        );
        let mut short = manifest(1, 2, 5);
        short.jobs.pop();
        assert!(
            check_parts(&[p("a", manifest(0, 2, 5)), p("b", short)]).unwrap_err().contains("lists 1 jobs")
        );
    }
}
