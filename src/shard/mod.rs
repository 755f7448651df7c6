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
//! for the checks of [`parse_manifest`] and [`check_parts`]: it records the scalesim version and
//! git commit that wrote it ([`COMMIT`]), the size and SHA-256 of every file the scenario read
//! (scenario, traces — every match of a glob —, manifests), the SHA-256 of the results, and the
//! SHA-256 of everything it says (`manifest_sha256`), so that parts of different builds or of
//! different input files are refused, and an edited or damaged manifest is refused before any
//! figure in it is trusted (shard counts and job lists are bounded: [`MAX_SHARDS`],
//! [`MAX_JOBS`]). Pure, except [`parts`], the edge that writes a part directory and reads the
//! parts of a merge (through [`crate::input`] and [`crate::report::atomic`]).

pub mod parts;

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// The `format` of a part manifest; a different one is not a part this version can merge.
pub const FORMAT: &str = "scalesim-part/2";

/// The scalesim version that writes and merges parts.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit this binary was built from (`git rev-parse HEAD` at build time, see build.rs),
/// or `unknown commit` when it was built outside a git checkout.
pub const COMMIT: &str = env!("SCALESIM_GIT_COMMIT");

/// Most jobs one command may split into shards (a tune of 100,000 candidates × 10 seeds); a part
/// manifest listing more is refused before anything is allocated for them.
pub const MAX_JOBS: u64 = 1_000_000;

/// Most input files a part may list.
pub const MAX_INPUTS: usize = 1_000_000;

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
            return Err(format!(
                "`{text}`: the shard count is above the limit of {MAX_SHARDS}; use fewer shards"
            ));
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

    /// This shard's jobs among `total`, in order; refuses more than [`MAX_JOBS`] in all.
    pub fn jobs(&self, total: u64) -> Result<Vec<u64>, String> {
        if total > MAX_JOBS {
            return Err(format!(
                "--shard {self}: the command has {total} jobs, more than the {MAX_JOBS} a sharded sweep may have; \
                 split it into several commands (e.g. fewer --vary values or --seeds per command)"
            ));
        }
        Ok((self.index as u64..total).step_by(self.count.max(1) as usize).collect())
    }

    /// How many of `total` jobs this shard owns.
    pub fn owned(&self, total: u64) -> u64 {
        total.saturating_sub(self.index as u64).div_ceil(self.count.max(1) as u64)
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

/// A file the scenario read, as a part records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFile {
    /// The path, as the shard opened it (relative to the folder it ran in, unless absolute).
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

impl From<&crate::input::FileRead> for InputFile {
    fn from(r: &crate::input::FileRead) -> Self {
        InputFile { path: r.path.display().to_string(), bytes: r.bytes, sha256: r.sha256.clone() }
    }
}

/// The manifest of a part directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The command that wrote it: `run` or `tune`.
    pub command: String,
    /// The scalesim version that wrote it.
    pub version: String,
    /// The git commit of the binary that wrote it ([`COMMIT`]).
    pub commit: String,
    /// Every file the scenario read (the scenario included), sorted by path.
    #[serde(deserialize_with = "bounded_inputs")]
    pub inputs: Vec<InputFile>,
    /// SHA-256 of the command's settings (everything that changes results), hex.
    pub settings_sha256: String,
    /// Which shard this is.
    pub shard: Shard,
    /// Jobs of the whole command.
    pub total_jobs: u64,
    /// The jobs this part holds, in order.
    #[serde(deserialize_with = "bounded_jobs")]
    pub jobs: Vec<JobEntry>,
    /// SHA-256 of [`RESULTS_FILE`], hex.
    pub results_sha256: String,
    /// The command's settings, as hashed (merge re-creates the command from them).
    pub settings: serde_json::Value,
    /// Settings that change only what is printed (not in `settings_sha256`).
    pub display: serde_json::Value,
    /// SHA-256 of everything above ([`Manifest::content_hash`]), hex.
    pub manifest_sha256: String,
}

/// A list of at most `max` items, refused as soon as it holds more (nothing is allocated for
/// what a file merely claims).
fn bounded<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    max: usize,
    what: &'static str,
) -> Result<Vec<T>, D::Error> {
    struct V<T> {
        max: usize,
        what: &'static str,
        t: std::marker::PhantomData<T>,
    }
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "a list of at most {} {}", self.max, self.what)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut v = Vec::new();
            while let Some(x) = seq.next_element()? {
                if v.len() >= self.max {
                    return Err(serde::de::Error::custom(format!(
                        "more than {} {}, the most a part may list",
                        self.max, self.what
                    )));
                }
                v.push(x);
            }
            Ok(v)
        }
    }
    d.deserialize_seq(V { max, what, t: std::marker::PhantomData })
}

fn bounded_jobs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<JobEntry>, D::Error> {
    bounded(d, MAX_JOBS as usize, "jobs")
}

fn bounded_inputs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<InputFile>, D::Error> {
    bounded(d, MAX_INPUTS, "input files")
}

/// Feeds what is written into a SHA-256.
struct HashWriter(crate::report::sha256::Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Manifest {
    /// SHA-256, hex, of the manifest's JSON without `manifest_sha256` (computed as it is
    /// serialised: no copy of the job list).
    pub fn content_hash(&self) -> String {
        #[derive(Serialize)]
        struct Body<'a> {
            format: &'a str,
            command: &'a str,
            version: &'a str,
            commit: &'a str,
            inputs: &'a [InputFile],
            settings_sha256: &'a str,
            shard: Shard,
            total_jobs: u64,
            jobs: &'a [JobEntry],
            results_sha256: &'a str,
            settings: &'a serde_json::Value,
            display: &'a serde_json::Value,
        }
        let body = Body {
            format: &self.format,
            command: &self.command,
            version: &self.version,
            commit: &self.commit,
            inputs: &self.inputs,
            settings_sha256: &self.settings_sha256,
            shard: self.shard,
            total_jobs: self.total_jobs,
            jobs: &self.jobs,
            results_sha256: &self.results_sha256,
            settings: &self.settings,
            display: &self.display,
        };
        let mut w = HashWriter(crate::report::sha256::Sha256::new());
        serde_json::to_writer(&mut w, &body).expect("a manifest is plain data");
        w.0.finish_hex()
    }

    /// "scalesim VERSION (commit …)", as messages name a build.
    pub fn build(&self) -> String {
        build_name(&self.version, &self.commit)
    }

    /// Checks the manifest on its own: its own hash, its settings' hash, the shard's bounds and
    /// that it lists exactly the jobs its shard owns. `name` names it in errors. Allocates
    /// nothing in proportion to what the manifest claims.
    pub fn check(&self, name: &str) -> Result<(), String> {
        let redo = "re-run this shard to write it again";
        if self.content_hash() != self.manifest_sha256 {
            return Err(format!(
                "{name}: the manifest does not match its manifest_sha256: it was edited or damaged after the shard wrote it; {redo}"
            ));
        }
        if settings_hash(&self.settings) != self.settings_sha256 {
            return Err(format!(
                "{name}: the recorded settings do not match their settings_sha256: the manifest was edited; {redo}"
            ));
        }
        let Shard { index: i, count: n } = self.shard;
        if n == 0 || n > MAX_SHARDS {
            return Err(format!(
                "{name}: the manifest says shard {i}/{n}, but a shard count is 1 to {MAX_SHARDS}; {redo}"
            ));
        }
        if i >= n {
            return Err(format!(
                "{name}: the manifest says shard {i}/{n}, but the index of {n} shards is 0 to {}; {redo}",
                n - 1
            ));
        }
        if self.total_jobs > MAX_JOBS {
            return Err(format!(
                "{name}: the manifest says the command has {} jobs, more than the {MAX_JOBS} a sharded sweep may have; {redo}",
                self.total_jobs
            ));
        }
        let owned = self.shard.owned(self.total_jobs);
        let listed_ok = self.jobs.len() as u64 == owned
            && self.jobs.iter().enumerate().all(|(k, j)| {
                (k as u64).checked_mul(n as u64).and_then(|x| x.checked_add(i as u64)) == Some(j.job)
            });
        if !listed_ok {
            return Err(format!(
                "{name}: shard {i}/{n} of {} jobs owns the {owned} jobs j with j mod {n} = {i}, but its manifest lists {} jobs, not exactly those; {redo}",
                self.total_jobs,
                self.jobs.len()
            ));
        }
        Ok(())
    }
}

/// `scalesim 0.1.0 (commit 0123456789ab)`, or `scalesim 0.1.0 (unknown commit)`: a build as
/// messages name it.
pub fn build_name(version: &str, commit: &str) -> String {
    let commit = if commit.len() >= 12 && commit.chars().all(|c| c.is_ascii_hexdigit()) {
        format!("commit {}", &commit[..12])
    } else {
        commit.chars().take(64).collect()
    };
    format!("scalesim {version} ({commit})")
}

/// Reads a part manifest's text (`name` names it in errors) and checks it ([`Manifest::check`]).
pub fn parse_manifest(text: &str, name: &str) -> Result<Manifest, String> {
    let redo = "re-run this shard to write it again";
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("{name}: not a part manifest, the JSON does not parse ({e}); {redo}"))?;
    match v.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(f) if f.starts_with("scalesim-part/") => {
            return Err(format!(
                "{name}: the part's format is `{f}`, this scalesim ({VERSION}) merges `{FORMAT}`: re-run the shards with this scalesim"
            ));
        }
        _ => {
            return Err(format!(
                "{name}: not a part manifest (no \"format\": \"{FORMAT}\"); expected the manifest.json a shard wrote"
            ));
        }
    }
    let m: Manifest =
        serde_json::from_value(v).map_err(|e| format!("{name}: not a part manifest ({e}); {redo}"))?;
    m.check(name)?;
    Ok(m)
}

/// A command's settings as the JSON value a part records.
pub fn to_value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("settings are plain data")
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

/// Decodes results written by [`encode`]; the error says why they do not decode. Allocates at
/// most in proportion to `bytes` (a length prefix is not trusted with an allocation).
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| {
        format!("the results do not decode ({e}): the file is damaged or was not written by this scalesim")
    })
}

/// Shards listed compactly: `1/8, 3/8 to 5/8`, at most the first `FIRST` runs, then how many
/// more. `missing` is sorted.
fn ranges(missing: &[(u32, u32)], n: u32) -> String {
    const FIRST: usize = 5;
    let mut out: Vec<String> = missing
        .iter()
        .take(FIRST)
        .map(|&(a, b)| if a == b { format!("{a}/{n}") } else { format!("{a}/{n} to {b}/{n}") })
        .collect();
    if missing.len() > FIRST {
        let rest: u64 = missing[FIRST..].iter().map(|&(a, b)| (b - a) as u64 + 1).sum();
        out.push(format!("and {rest} more"));
    }
    out.join(", ")
}

/// Checks that `parts` (each with the name it is known by, e.g. its directory; each already
/// checked on its own by [`parse_manifest`]) belong together: one format, command, build,
/// settings, input files and shard count; every shard exactly once. Returns the parts'
/// positions in shard order. Every error names the parts concerned and says what to do; nothing
/// is allocated in proportion to the shard count.
pub fn check_parts(parts: &[(String, Manifest)]) -> Result<Vec<usize>, String> {
    let Some((first_name, first)) = parts.first() else {
        return Err("no part directories given; expected the --out folder of every shard".into());
    };
    for (name, m) in parts {
        if m.format != FORMAT {
            return Err(format!(
                "{name}: the part's format is `{}`, this scalesim merges `{FORMAT}`: re-run the shards with this scalesim",
                m.format
            ));
        }
    }
    let of = |name: &str, m: &Manifest| format!("{name} (shard {})", m.shard);
    let differ = |what: &str, name: &str, m: &Manifest, a: String, b: String, todo: &str| {
        format!(
            "{} and {} are not parts of the same command: {what} {a} and {b}; {todo}",
            of(name, m),
            of(first_name, first)
        )
    };
    let rerun = "run every shard with the same command line and merge the parts of one sweep";
    for (name, m) in parts {
        if m.command != first.command {
            return Err(differ("the command is", name, m, m.command.clone(), first.command.clone(), rerun));
        }
        if m.version != first.version || m.commit != first.commit {
            return Err(differ(
                "they were written by",
                name,
                m,
                m.build(),
                first.build(),
                "re-run the shards with one build of scalesim (the same version and commit on every machine)",
            ));
        }
        if m.settings_sha256 != first.settings_sha256 {
            return Err(differ(
                "the settings (scenario path, --set, --seed, --seeds, --policy, --vary, …) differ: their SHA-256 is",
                name,
                m,
                short(&m.settings_sha256),
                short(&first.settings_sha256),
                rerun,
            ));
        }
        if m.shard.count != first.shard.count || m.total_jobs != first.total_jobs {
            return Err(differ(
                "the shard count is",
                name,
                m,
                format!("{} ({} jobs)", m.shard.count, m.total_jobs),
                format!("{} ({} jobs)", first.shard.count, first.total_jobs),
                "merge the parts of one --shard I/N sweep, all with the same N",
            ));
        }
        if let Some(e) = inputs_differ(first_name, first, name, m) {
            return Err(e);
        }
    }
    let n = first.shard.count;
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&k| parts[k].1.shard.index);
    for w in order.windows(2) {
        let (a, b) = (&parts[w[0]], &parts[w[1]]);
        if a.1.shard.index == b.1.shard.index {
            return Err(format!(
                "shard {} is given twice: {} and {}; give each shard's folder once",
                a.1.shard, a.0, b.0
            ));
        }
    }
    // Gaps between the given indices (sorted, distinct, each below n).
    let mut missing: Vec<(u32, u32)> = Vec::new();
    let mut next = 0u32;
    for &k in &order {
        let i = parts[k].1.shard.index;
        if i > next {
            missing.push((next, i - 1));
        }
        next = i.saturating_add(1);
    }
    if next < n {
        missing.push((next, n - 1));
    }
    if !missing.is_empty() {
        let count: u64 = missing.iter().map(|&(a, b)| (b - a) as u64 + 1).sum();
        return Err(format!(
            "{count} of {n} shards {} missing: {}; merge needs every shard 0/{n} to {}/{n} once (run the missing ones, or check the folders given)",
            if count == 1 { "is" } else { "are" },
            ranges(&missing, n),
            n - 1
        ));
    }
    Ok(order)
}

fn short(hash: &str) -> String {
    hash.get(..12).map_or_else(|| hash.to_string(), |h| format!("{h}…"))
}

/// The first input file that differs between two parts, as an error saying what to do.
fn inputs_differ(a_name: &str, a: &Manifest, b_name: &str, b: &Manifest) -> Option<String> {
    let describe = |f: &InputFile| format!("{} bytes, SHA-256 {}", f.bytes, short(&f.sha256));
    let redo =
        "re-run the shards against the same files (copy them to every machine, then run every shard again)";
    let todo = format!("the shards read different versions of it, so their results cannot be merged: {redo}");
    let other = format!(
        "the shards read different files (did a glob match other files?), so their results cannot be merged: {redo}"
    );
    let (sa, sb) = (format!("shard {} ({a_name})", a.shard), format!("shard {} ({b_name})", b.shard));
    let mut ia = a.inputs.iter().peekable();
    let mut ib = b.inputs.iter().peekable();
    loop {
        match (ia.peek(), ib.peek()) {
            (None, None) => return None,
            (Some(x), Some(y)) if x.path == y.path => {
                if x.sha256 != y.sha256 || x.bytes != y.bytes {
                    return Some(format!(
                        "`{}` differs between {sb} ({}) and {sa} ({}): {todo}",
                        x.path,
                        describe(y),
                        describe(x)
                    ));
                }
                ia.next();
                ib.next();
            }
            (Some(x), None) => return Some(format!("{sa} read `{}` and {sb} did not: {other}", x.path)),
            (Some(x), Some(y)) if x.path < y.path => {
                return Some(format!("{sa} read `{}` and {sb} did not: {other}", x.path));
            }
            (_, Some(y)) => return Some(format!("{sb} read `{}` and {sa} did not: {other}", y.path)),
        }
    }
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
        let all: Vec<Vec<u64>> = (0..3).map(|i| Shard { index: i, count: 3 }.jobs(7).unwrap()).collect();
        assert_eq!(all, [vec![0, 3, 6], vec![1, 4], vec![2, 5]]);
        assert!(Shard { index: 4, count: 5 }.jobs(2).unwrap().is_empty());
        assert!(Shard { index: 1, count: 3 }.owns(4) && !Shard { index: 1, count: 3 }.owns(5));
        let e = Shard { index: 0, count: 2 }.jobs(MAX_JOBS + 1).unwrap_err();
        assert!(e.contains("more than the 1000000"), "{e}");
        // A count of 0 (only a hand-made manifest can hold one) owns nothing and does not panic.
        assert_eq!(Shard { index: 0, count: 0 }.owned(5), 5);
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
        let settings = serde_json::json!({"file": "s.toml"});
        let mut m = Manifest {
            format: FORMAT.into(),
            command: "run".into(),
            version: "1".into(),
            commit: "c".into(),
            inputs: vec![InputFile { path: "s.toml".into(), bytes: 3, sha256: "a".into() }],
            settings_sha256: settings_hash(&settings),
            shard: s,
            total_jobs: total,
            jobs: s
                .jobs(total)
                .unwrap()
                .into_iter()
                .map(|job| JobEntry { job, label: String::new() })
                .collect(),
            results_sha256: String::new(),
            settings,
            display: serde_json::Value::Null,
            manifest_sha256: String::new(),
        };
        m.manifest_sha256 = m.content_hash();
        m
    }

    fn rehash(mut m: Manifest) -> Manifest {
        m.manifest_sha256 = m.content_hash();
        m
    }

    #[test]
    fn parts_must_belong_together_and_cover_every_shard_once() {
        let p = |name: &str, m: Manifest| (name.to_string(), m);
        let ok = [p("b", manifest(1, 2, 5)), p("a", manifest(0, 2, 5))];
        assert_eq!(check_parts(&ok), Ok(vec![1, 0]));
        let e = check_parts(&[p("a", manifest(0, 3, 5)), p("c", manifest(2, 3, 5))]).unwrap_err();
        assert!(e.contains("1 of 3 shards is missing: 1/3;"), "{e}");
        let e = check_parts(&[p("a", manifest(0, 2, 5)), p("b", manifest(0, 2, 5))]).unwrap_err();
        assert!(e.contains("shard 0/2 is given twice: a and b"), "{e}");
        let e = check_parts(&[p("a", manifest(0, 2, 5)), p("b", manifest(1, 3, 5))]).unwrap_err();
        assert!(
            e.contains(
                "b (shard 1/3) and a (shard 0/2) are not parts of the same command: the shard count is 3"
            ),
            "{e}"
        );
        let mut other = manifest(1, 2, 5);
        other.inputs[0].sha256 = "z".into();
        let e = check_parts(&[p("a", manifest(0, 2, 5)), p("b", rehash(other))]).unwrap_err();
        assert!(
            e.contains("`s.toml` differs between shard 1/2 (b) (3 bytes, SHA-256 z) and shard 0/2 (a)"),
            "{e}"
        );
        assert!(e.contains("re-run the shards against the same files"), "{e}");
        let mut other = manifest(1, 2, 5);
        other.inputs.push(InputFile { path: "t.csv".into(), bytes: 1, sha256: "b".into() });
        let e = check_parts(&[p("a", manifest(0, 2, 5)), p("b", rehash(other))]).unwrap_err();
        assert!(e.contains("shard 1/2 (b) read `t.csv` and shard 0/2 (a) did not"), "{e}");
        let mut other = manifest(1, 2, 5);
        other.commit = "d".into();
        let e = check_parts(&[p("a", manifest(0, 2, 5)), p("b", rehash(other))]).unwrap_err();
        assert!(e.contains("written by scalesim 1 (d) and scalesim 1 (c)"), "{e}");
        assert!(e.contains("the same version and commit on every machine"), "{e}");
    }

    #[test]
    fn missing_shards_are_listed_as_ranges_without_allocating_per_shard() {
        let p = |name: &str, m: Manifest| (name.to_string(), m);
        let n = MAX_SHARDS;
        let parts: Vec<_> =
            [0, 2, 7, 9, 11, 13, 20].iter().map(|&i| p(&format!("p{i}"), manifest(i, n, 30))).collect();
        let e = check_parts(&parts).unwrap_err();
        assert!(
            e.starts_with(&format!(
                "{} of {n} shards are missing: 1/{n}, 3/{n} to 6/{n}, 8/{n}, 10/{n}, 12/{n}, and ",
                n - 7
            )),
            "{e}"
        );
        assert!(e.len() < 400, "{e}");
    }

    #[test]
    fn a_manifest_is_checked_before_its_figures_are_trusted() {
        let text = |m: &Manifest| serde_json::to_string_pretty(m).unwrap();
        let good = manifest(1, 3, 7);
        assert_eq!(parse_manifest(&text(&good), "m").unwrap(), good);
        // Edited without rehashing: refused, whatever was edited.
        let mut edited = good.clone();
        edited.total_jobs = 50_000_000;
        let e = parse_manifest(&text(&edited), "m").unwrap_err();
        assert!(e.contains("m: the manifest does not match its manifest_sha256"), "{e}");
        // Rehashed, the bounds still hold: a count of 0, of 50 million, an index past it.
        for (i, n, want) in [
            (0, 0, "a shard count is 1 to 100000"),
            (0, 50_000_000, "a shard count is 1 to 100000"),
            (3, 3, "the index of 3 shards is 0 to 2"),
        ] {
            let mut m = good.clone();
            m.shard = Shard { index: i, count: n };
            let e = parse_manifest(&text(&rehash(m)), "m").unwrap_err();
            assert!(e.contains(want), "{e}");
        }
        let mut m = good.clone();
        m.total_jobs = MAX_JOBS + 1;
        assert!(parse_manifest(&text(&rehash(m)), "m").unwrap_err().contains("more than the 1000000"));
        let mut m = good.clone();
        m.jobs.pop();
        let e = parse_manifest(&text(&rehash(m)), "m").unwrap_err();
        assert!(
            e.contains("shard 1/3 of 7 jobs owns the 2 jobs j with j mod 3 = 1, but its manifest lists 1 jobs, not exactly those"),
            "{e}"
        );
        let mut m = good.clone();
        m.settings = serde_json::json!({"file": "other.toml"});
        let e = parse_manifest(&text(&rehash(m)), "m").unwrap_err();
        assert!(e.contains("settings do not match their settings_sha256"), "{e}");
        let e = parse_manifest(&text(&good).replace(FORMAT, "scalesim-part/1"), "m").unwrap_err();
        assert!(e.contains("format is `scalesim-part/1`, this scalesim"), "{e}");
        assert!(parse_manifest("{", "m").unwrap_err().contains("m: not a part manifest"));
    }

    #[test]
    fn job_lists_are_bounded_while_they_are_read() {
        // A list longer than MAX_JOBS is refused at entry MAX_JOBS + 1 (not read whole first).
        let mut text = String::from("[");
        for k in 0..=MAX_JOBS {
            text.push_str(&format!("{{\"job\":{k},\"label\":\"\"}},"));
        }
        text.pop();
        text.push(']');
        let mut d = serde_json::Deserializer::from_str(&text);
        let e = bounded_jobs(&mut d).unwrap_err().to_string();
        assert!(e.contains("more than 1000000 jobs"), "{e}");
    }

    /// A real part's results: a short run of a small scenario.
    fn real_results() -> Vec<u8> {
        let toml = "[simulation]\nduration = \"10m\"\nseed = 3\n[traffic]\nrate = 5\n[service]\nworkers = 2\n\
                    [service.demand]\ndistribution = \"exponential\"\nmean = \"200ms\"\n\
                    [[policy]]\nname = \"rps\"\ntype = \"rps\"\ntarget = 2\nmax = 5\n";
        let sc = crate::config::load_str(toml, "f.toml", std::path::Path::new("."), &[]).unwrap();
        let opts =
            crate::experiment::RunOptions { seeds: 1, threads: Some(1), policies: vec![], requests: false };
        let runs = crate::experiment::run(&sc, &opts, &crate::experiment::Progress::default()).unwrap();
        let held: Vec<(u64, crate::record::RunResult)> =
            runs.into_iter().enumerate().map(|(k, r)| (k as u64, r)).collect();
        encode(&held)
    }

    use proptest::prelude::*;

    fn valid_manifest_text() -> String {
        serde_json::to_string_pretty(&manifest(1, 3, 7)).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary bytes as results: an error naming what went wrong, never a panic or a huge
        /// allocation (postcard's length prefixes are not trusted with memory).
        #[test]
        fn arbitrary_results_bytes_are_refused_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Err(e) = decode::<Vec<(u64, crate::record::RunResult)>>(&bytes) {
                prop_assert!(e.contains("do not decode"), "{}", e);
            }
            if let Err(e) = decode::<crate::tune::ShardRuns>(&bytes) {
                prop_assert!(e.contains("do not decode"), "{}", e);
            }
        }

        /// A real part's results, with bytes flipped, cut short or extended: decoded or refused.
        #[test]
        fn mutated_results_are_refused_cleanly(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
            cut in any::<prop::sample::Index>(),
            tail in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            let mut bytes = REAL.with(|r| r.clone());
            for (at, b) in flips {
                let i = at.index(bytes.len());
                bytes[i] ^= b;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            bytes.extend(tail);
            if let Err(e) = decode::<Vec<(u64, crate::record::RunResult)>>(&bytes) {
                prop_assert!(e.contains("do not decode"), "{}", e);
            }
        }

        /// Arbitrary text as a manifest: refused with the file's name.
        #[test]
        fn arbitrary_manifest_text_is_refused_cleanly(text in "\\PC{0,400}") {
            let e = parse_manifest(&text, "p/manifest.json").unwrap_err();
            prop_assert!(e.starts_with("p/manifest.json: "), "{}", e);
        }

        /// A valid manifest with bytes changed: accepted only if unchanged in meaning, else
        /// refused naming the file (the count, the jobs and every figure are covered by its hash).
        #[test]
        fn mutated_manifests_are_refused_cleanly(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), proptest::char::range('0', '}')), 1..4),
        ) {
            let mut chars: Vec<char> = valid_manifest_text().chars().collect();
            for (at, c) in edits {
                let i = at.index(chars.len());
                chars[i] = c;
            }
            let text: String = chars.into_iter().collect();
            match parse_manifest(&text, "p/manifest.json") {
                Ok(m) => prop_assert_eq!(m, manifest(1, 3, 7)),
                Err(e) => prop_assert!(e.starts_with("p/manifest.json: "), "{}", e),
            }
        }
    }

    thread_local! {
        static REAL: Vec<u8> = real_results();
    }
}
