//! The one reader of every input file: scenarios, service files, traces, manifests, explain
//! cases and Locust CSVs all come through [`read_text`].
//!
//! It refuses what would hang or exhaust memory before reading a byte: anything that is not a
//! regular file (`/dev/zero`, a FIFO, a directory) and files above a size cap
//! ([`InputKind::cap`]: 16 MiB for hand-written files, 512 MiB for data files). Text must be
//! UTF-8; a file that is not is refused with the byte offset (and line and column) of the first
//! invalid byte; a leading byte-order mark is dropped. [`check_nesting`] bounds how deeply a YAML
//! or JSON document nests, in one linear pass, before a parser whose cost grows faster than the
//! input sees it. [`expand`] turns a glob into the files to read (no symlink loops, each real
//! file once, anything but a directory kept so that the reader refuses it by name).

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What an input file is, which sets its size cap and how errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A scenario (or service-only) TOML file.
    Scenario,
    /// A Kubernetes manifest (YAML or JSON).
    Manifest,
    /// An `explain` case file (YAML or JSON).
    ExplainCase,
    /// A traffic trace (CSV).
    Trace,
    /// A Locust `*_stats_history.csv`.
    Locust,
    /// A file of an output folder read back (`report`, `compare`): summary.json,
    /// timeseries.csv, decisions.csv.
    Output,
    /// A shard's part manifest (`manifest.json`, read by `merge`).
    PartManifest,
    /// A shard's part results (`results.bin`, read by `merge`).
    PartResults,
}

/// Largest hand-written input (scenario, manifest, explain case): 16 MiB.
pub const MAX_TEXT_BYTES: u64 = 16 << 20;
/// Largest data input (trace, Locust CSV): 512 MiB.
pub const MAX_DATA_BYTES: u64 = 512 << 20;
/// Largest part manifest: 256 MiB. It lists at most `shard::MAX_JOBS` (1,000,000) jobs of about
/// 100 bytes each (index and label, pretty-printed), plus the settings and the input hashes.
pub const MAX_PART_MANIFEST_BYTES: u64 = 256 << 20;
/// Largest part results file: 1 GiB. A job's result is its per-interval aggregates, about 150
/// bytes per recording interval: 1 GiB holds some 5,000 day-long runs at 1-minute intervals. A
/// merge holds every part in memory, so a sweep larger than that is split into more shards.
pub const MAX_PART_RESULTS_BYTES: u64 = 1 << 30;
/// Deepest nesting accepted in a YAML or JSON input (manifests, explain cases).
pub const MAX_NESTING: usize = 64;

impl InputKind {
    /// The largest file of this kind that is read.
    pub fn cap(self) -> u64 {
        match self {
            InputKind::Scenario | InputKind::Manifest | InputKind::ExplainCase => MAX_TEXT_BYTES,
            InputKind::Trace | InputKind::Locust | InputKind::Output => MAX_DATA_BYTES,
            InputKind::PartManifest => MAX_PART_MANIFEST_BYTES,
            InputKind::PartResults => MAX_PART_RESULTS_BYTES,
        }
    }

    /// How messages name a file of this kind.
    pub fn noun(self) -> &'static str {
        match self {
            InputKind::Scenario => "scenario file",
            InputKind::Manifest => "manifest",
            InputKind::ExplainCase => "case file",
            InputKind::Trace => "trace file",
            InputKind::Locust => "Locust file",
            InputKind::Output => "output file",
            InputKind::PartManifest => "part manifest",
            InputKind::PartResults => "part results file",
        }
    }
}

/// An input that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong, e.g. "cannot read the trace file: …" (without the path).
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for InputError {}

/// Reads the UTF-8 text of the regular file at `path`, refusing devices, FIFOs, directories,
/// files above `kind`'s cap and invalid UTF-8 (naming the byte offset, line and column).
pub fn read_text(path: &Path, kind: InputKind) -> Result<String, InputError> {
    let bytes = read_bytes(path, kind)?;
    utf8(path, kind, bytes)
}

/// [`read_text`] for data files that may be gzip-compressed (`access.log.2.gz`, ALB logs): a
/// file that starts with the gzip magic bytes is decompressed (multi-member streams included),
/// and the decompressed text is held to the same cap as a plain file, so a small archive cannot
/// expand without bound.
pub fn read_text_gz(path: &Path, kind: InputKind) -> Result<String, InputError> {
    let bytes = read_maybe_gz(path, kind)?;
    utf8(path, kind, bytes)
}

/// [`read_text_gz`] without the UTF-8 check: invalid bytes become U+FFFD. For logs, where a
/// stray byte in a user agent must not hide the timestamp next to it.
pub fn read_text_gz_lossy(path: &Path, kind: InputKind) -> Result<String, InputError> {
    let bytes = read_maybe_gz(path, kind)?;
    Ok(without_bom(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}

/// `text` without a leading byte-order mark (U+FEFF, which Windows editors write at the start
/// of UTF-8 files): no parser here expects one, and a YAML parser would take it for content
/// (a BOM before `---` reads as a second document). Lines and columns are unchanged.
fn without_bom(mut text: String) -> String {
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    text
}

fn read_maybe_gz(path: &Path, kind: InputKind) -> Result<Vec<u8>, InputError> {
    let bytes = read_bytes(path, kind)?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let fail = |m: String| InputError { path: path.to_path_buf(), message: m };
    let noun = kind.noun();
    let cap = kind.cap();
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(cap as usize));
    flate2::read::MultiGzDecoder::new(bytes.as_slice())
        .take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| fail(format!("cannot decompress the {noun} (it starts like gzip): {e}")))?;
    if out.len() as u64 > cap {
        return Err(fail(format!(
            "the {noun} decompresses to more than the {} MiB accepted for a {noun}",
            cap >> 20
        )));
    }
    Ok(out)
}

/// The bytes of the regular file at `path`, refusing devices, FIFOs, directories and files above
/// `kind`'s cap; `each` sees every piece as it is read (to hash a file without a second pass or
/// a second copy).
pub fn read_bytes_with(
    path: &Path,
    kind: InputKind,
    mut each: impl FnMut(&[u8]),
) -> Result<Vec<u8>, InputError> {
    let fail = |m: String| InputError { path: path.to_path_buf(), message: m };
    let noun = kind.noun();
    // `metadata` does not open the file: opening a FIFO would block until a writer comes.
    let meta = std::fs::metadata(path).map_err(|e| match std::fs::read_link(path) {
        // A dangling link: say so, rather than "No such file" for a name that is listed.
        Ok(target) if e.kind() == std::io::ErrorKind::NotFound => fail(format!(
            "cannot read the {noun}: it is a symbolic link to `{}`, which does not exist; expected a \
             regular file (fix or remove the link)",
            target.display()
        )),
        _ => fail(format!("cannot read the {noun}: {e}")),
    })?;
    if !meta.is_file() {
        let what =
            if meta.is_dir() { "a directory" } else { "not a regular file (a device, FIFO or socket)" };
        return Err(fail(format!("cannot read the {noun}: it is {what}; expected a regular file")));
    }
    let cap = kind.cap();
    let too_big = || format!("more than the {} MiB accepted for a {noun}", cap >> 20);
    if meta.len() > cap {
        return Err(fail(format!("the {noun} is {} bytes, {}", meta.len(), too_big())));
    }
    let file = std::fs::File::open(path).map_err(|e| fail(format!("cannot read the {noun}: {e}")))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // Read at most one byte past the cap, in case the file grows while being read.
    let mut reader = file.take(cap + 1);
    let mut piece = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut piece) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(format!("cannot read the {noun}: {e}"))),
        };
        if bytes.len() as u64 + n as u64 > cap {
            return Err(fail(format!("the {noun} is {}", too_big())));
        }
        each(&piece[..n]);
        bytes.extend_from_slice(&piece[..n]);
    }
    record(path, &bytes);
    Ok(bytes)
}

fn read_bytes(path: &Path, kind: InputKind) -> Result<Vec<u8>, InputError> {
    read_bytes_with(path, kind, |_| {})
}

/// A file read through this module while [`recording`] was on: its path (as given), size and
/// SHA-256 (of its bytes as stored, before any decompression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRead {
    /// The path, as the reader was given it.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

thread_local! {
    static RECORDING: std::cell::RefCell<Option<Vec<FileRead>>> = const { std::cell::RefCell::new(None) };
}

fn record(path: &Path, bytes: &[u8]) {
    RECORDING.with(|r| {
        if let Some(log) = r.borrow_mut().as_mut() {
            let sha256 = crate::report::sha256::hex(bytes);
            log.push(FileRead { path: path.to_path_buf(), bytes: bytes.len() as u64, sha256 });
        }
    });
}

/// Runs `f` and returns, with its value, every file this thread read through this module
/// meanwhile (hashed as read: the content the caller saw). How `config::Files` learns every
/// file a scenario load reads, trace globs included, without each reader reporting it.
pub fn recording<T>(f: impl FnOnce() -> T) -> (T, Vec<FileRead>) {
    /// Restores the outer recording (if any) even if `f` unwinds, and hands it the inner reads.
    struct Restore(Option<Vec<FileRead>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            RECORDING.with(|r| {
                let mut r = r.borrow_mut();
                let inner = r.take().unwrap_or_default();
                *r = outer.map(|mut o| {
                    o.extend(inner);
                    o
                });
            });
        }
    }
    let outer = RECORDING.with(|r| r.borrow_mut().replace(Vec::new()));
    let restore = Restore(outer);
    let value = f();
    let reads = RECORDING.with(|r| r.borrow().clone().unwrap_or_default());
    drop(restore);
    (value, reads)
}

fn utf8(path: &Path, kind: InputKind, bytes: Vec<u8>) -> Result<String, InputError> {
    String::from_utf8(bytes).map(without_bom).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let ok = &e.as_bytes()[..at];
        let line = ok.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = ok.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let col = String::from_utf8_lossy(&ok[line_start..]).chars().count() + 1;
        InputError {
            path: path.to_path_buf(),
            message: format!(
                "the {} is not valid UTF-8: invalid byte 0x{:02x} at byte offset {at} (line {line}, column {col})",
                kind.noun(),
                e.as_bytes()[at]
            ),
        }
    })
}

/// Most files one glob may name (ALB writes one per node per 5 minutes: a week of 4 nodes is
/// about 8,000).
pub const MAX_GLOB_FILES: usize = 100_000;

/// Whether `pattern` holds glob metacharacters (`*`, `?`, `[`).
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// Most directory entries one glob may examine while it walks (a pattern like `/**/*.log`
/// would otherwise list a whole disk).
pub const MAX_GLOB_ENTRIES: usize = 10 * MAX_GLOB_FILES;

/// What a glob names: its files, sorted by path, each real file once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// The paths to read, sorted. Matches that are not directories are all here — FIFOs,
    /// devices, dangling links included — so that reading them gives the same error as naming
    /// them directly.
    pub files: Vec<PathBuf>,
    /// Matches left out because they are another name (a symbolic or hard link) of a file in
    /// `files`: (the name left out, the name read).
    pub same_as: Vec<(PathBuf, PathBuf)>,
}

/// The files `pattern` names, relative to `base_dir` unless absolute, sorted by path (see
/// [`expand`]).
pub fn expand_paths(base_dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, InputError> {
    expand(base_dir, pattern).map(|e| e.files)
}

/// The files `pattern` names, relative to `base_dir` unless absolute. A pattern without
/// metacharacters names one path (checked when it is read). A glob (`*`, `?`, `[a-z]` within a
/// path component, `**` for any number of directories) must match at least one file and at
/// most [`MAX_GLOB_FILES`]:
///
/// * a directory is never a match; anything else is (a FIFO, a device or a dangling link
///   too), so that reading it is the same error as naming it directly;
/// * `**` does not descend into symbolic links to directories (as bash's `globstar` since 4.3),
///   so a link to `..` cannot make the walk loop; a link named by the pattern's other
///   components (`logs/*/access.log` with `logs/current -> 2024-11`) is followed;
/// * a file reached under two names (a link to a file also matched) is read once, under the
///   first name in path order ([`Expansion::same_as`] lists the others).
///
/// Metacharacters in `base_dir` itself are taken literally.
pub fn expand(base_dir: &Path, pattern: &str) -> Result<Expansion, InputError> {
    let joined = tidy(base_dir.join(pattern));
    if !is_glob(pattern) {
        return Ok(Expansion { files: vec![joined], same_as: Vec::new() });
    }
    let fail = |m: String| InputError { path: joined.clone(), message: m };
    glob::Pattern::new(pattern)
        .map_err(|e| fail(format!("found an invalid glob pattern ({e}); expected e.g. `logs/*.log.gz`")))?;
    let (root, rest) = match pattern.strip_prefix('/') {
        Some(rest) => (PathBuf::from("/"), rest),
        None => (base_dir.to_path_buf(), pattern),
    };
    let mut parts = Vec::new();
    for c in rest.split('/').filter(|c| !c.is_empty()) {
        parts.push(match c {
            "**" => Part::AnyDirs,
            _ if !is_glob(c) => Part::Literal(c),
            _ => Part::Glob(glob::Pattern::new(c).map_err(|e| {
                fail(format!("found an invalid glob pattern ({e}); expected e.g. `logs/*.log.gz`"))
            })?),
        });
    }
    let mut walk = Walk { found: Vec::new(), examined: 0 };
    walk.visit(&root, &parts).map_err(fail)?;
    let mut found: Vec<_> = walk.found.into_iter().map(|(p, id)| (tidy(p), id)).collect();
    found.sort();
    let mut seen: std::collections::HashMap<(u64, u64), usize> = std::collections::HashMap::new();
    let mut out = Expansion::default();
    for (path, id) in found {
        if let Some(id) = id {
            if let Some(&i) = seen.get(&id) {
                out.same_as.push((path, out.files[i].clone()));
                continue;
            }
            seen.insert(id, out.files.len());
        }
        out.files.push(path);
    }
    if out.files.is_empty() {
        return Err(fail("no file matches the pattern; expected at least one".into()));
    }
    Ok(out)
}

/// `path` without a leading `./` (a scenario in the working directory has the base `.`): the
/// name the user wrote, in messages and in what a part records.
fn tidy(path: PathBuf) -> PathBuf {
    match path.strip_prefix(".") {
        Ok(rest) if !rest.as_os_str().is_empty() => rest.to_path_buf(),
        _ => path,
    }
}

/// One `/`-separated component of a glob.
enum Part<'p> {
    /// `**`: any number of directories (none included).
    AnyDirs,
    /// A name without metacharacters.
    Literal(&'p str),
    /// A name with metacharacters.
    Glob(glob::Pattern),
}

/// The state of one glob walk: the matches so far (with their file identity, when known) and
/// how many directory entries were examined.
struct Walk {
    found: Vec<(PathBuf, Option<(u64, u64)>)>,
    examined: usize,
}

impl Walk {
    /// Matches `parts` below `dir`.
    fn visit(&mut self, dir: &Path, parts: &[Part<'_>]) -> Result<(), String> {
        let Some((part, rest)) = parts.split_first() else {
            return Ok(());
        };
        match part {
            Part::AnyDirs => {
                if rest.is_empty() {
                    // A trailing `**`: every file below.
                    self.each_entry(dir, |w, path, kind| {
                        if kind.is_dir() { w.visit(&path, parts) } else { w.candidate(path) }
                    })
                } else {
                    self.visit(dir, rest)?;
                    // Real directories only: `file_type` does not follow symbolic links.
                    self.each_entry(
                        dir,
                        |w, path, kind| if kind.is_dir() { w.visit(&path, parts) } else { Ok(()) },
                    )
                }
            }
            Part::Literal(name) => {
                let path = dir.join(name);
                if rest.is_empty() {
                    if std::fs::symlink_metadata(&path).is_ok() {
                        self.candidate(path)?;
                    }
                    Ok(())
                } else if path.is_dir() {
                    self.visit(&path, rest)
                } else {
                    Ok(())
                }
            }
            Part::Glob(pat) => {
                let opts = glob::MatchOptions {
                    case_sensitive: true,
                    require_literal_separator: true,
                    require_literal_leading_dot: false,
                };
                self.each_entry(dir, |w, path, _| {
                    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
                    if !pat.matches_with(&name, opts) {
                        Ok(())
                    } else if rest.is_empty() {
                        w.candidate(path)
                    } else if path.is_dir() {
                        // Named by the pattern, so a link is followed: the depth is the pattern's.
                        w.visit(&path, rest)
                    } else {
                        Ok(())
                    }
                })
            }
        }
    }

    /// Calls `f` on each entry of `dir` (its path and its own type, links not followed); a
    /// directory that does not exist (or is not one) has no entries.
    fn each_entry(
        &mut self,
        dir: &Path,
        mut f: impl FnMut(&mut Walk, PathBuf, std::fs::FileType) -> Result<(), String>,
    ) -> Result<(), String> {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e)
                if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) =>
            {
                return Ok(());
            }
            Err(e) => return Err(format!("cannot list the folder `{}`: {e}", dir.display())),
        };
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list the folder `{}`: {e}", dir.display()))?;
            self.examined += 1;
            if self.examined > MAX_GLOB_ENTRIES {
                return Err(format!(
                    "the pattern makes the search look at more than {MAX_GLOB_ENTRIES} files and folders; \
                     expected a narrower pattern (fewer `**`, or a folder closer to the files)"
                ));
            }
            let kind =
                entry.file_type().map_err(|e| format!("cannot read `{}`: {e}", entry.path().display()))?;
            f(self, entry.path(), kind)?;
        }
        Ok(())
    }

    /// Keeps a match unless it is a directory (following links).
    fn candidate(&mut self, path: PathBuf) -> Result<(), String> {
        let id = match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(m) => file_id(&m),
            // A dangling link, or no permission: kept, so that reading it says which.
            Err(_) => None,
        };
        self.found.push((path, id));
        if self.found.len() > MAX_GLOB_FILES {
            return Err(format!(
                "the pattern matches more than {MAX_GLOB_FILES} files; expected a narrower pattern"
            ));
        }
        Ok(())
    }
}

/// A regular file's identity (device, inode), which two names of one file share.
#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    m.is_file().then(|| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Checks, in one linear pass, that a YAML or JSON document nests at most [`MAX_NESTING`]
/// levels (flow brackets, block indentation and compact `- ` entries counted together); on
/// failure, the 1-based line where the limit is passed.
pub fn check_nesting(text: &str) -> Result<(), (usize, String)> {
    let mut flow = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        let mut block = 0;
        if flow == 0 && !body.is_empty() && !body.starts_with('#') {
            while indents.last().is_some_and(|&i| i > indent) {
                indents.pop();
            }
            if indents.last() != Some(&indent) {
                indents.push(indent);
            }
            let mut rest = body;
            while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
                block += 1;
                rest = r.trim_start_matches(' ');
            }
        }
        let mut quote: Option<char> = None;
        let mut deepest = flow;
        let mut prev = ' ';
        for c in body.chars() {
            match (quote, c) {
                (Some('"'), '"') if prev != '\\' => quote = None,
                (Some('\''), '\'') => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if prev == ' ' => break,
                (None, '[' | '{') => {
                    flow += 1;
                    deepest = deepest.max(flow);
                }
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
        let depth = indents.len() + block + deepest;
        if depth > MAX_NESTING {
            return Err((
                n + 1,
                format!("nests more than {MAX_NESTING} levels deep; expected a flatter document"),
            ));
        }
    }
    Ok(())
}

/// An explain case file (YAML or JSON) read through [`read_text`] with its nesting checked
/// ([`check_nesting`]) before a parser sees it; the message names the file (and the line).
pub fn read_case(path: &Path) -> Result<String, String> {
    let text = read_text(path, InputKind::ExplainCase).map_err(|e| e.to_string())?;
    if let Err((line, m)) = check_nesting(&text) {
        return Err(format!("{}:{line}: the case file {m}", path.display()));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_directories_and_big_files() {
        let e = read_text(Path::new("/dev/zero"), InputKind::Scenario).unwrap_err();
        assert!(e.message.contains("not a regular file"), "{e}");
        let e = read_text(Path::new("/"), InputKind::Trace).unwrap_err();
        assert!(e.message.contains("a directory"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.toml");
        std::fs::File::create(&big).unwrap().set_len(MAX_TEXT_BYTES + 1).unwrap();
        let e = read_text(&big, InputKind::Scenario).unwrap_err();
        assert!(e.message.contains("16 MiB"), "{e}");
    }

    #[test]
    fn invalid_utf8_names_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.toml");
        std::fs::write(&p, b"a = 1\nbc\xffd\n").unwrap();
        let e = read_text(&p, InputKind::Scenario).unwrap_err();
        assert!(e.message.contains("byte offset 8 (line 2, column 3)"), "{e}");
        std::fs::write(&p, "é = 1\n").unwrap();
        assert_eq!(read_text(&p, InputKind::Scenario).unwrap(), "é = 1\n");
    }

    #[test]
    fn gzip_is_read_transparently() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("access.log.2.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"line one\nline two\n").unwrap();
        let mut bytes = enc.finish().unwrap();
        // A second gzip member (as `cat a.gz b.gz` makes) is read too.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"line three\n").unwrap();
        bytes.extend(enc.finish().unwrap());
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(read_text_gz(&p, InputKind::Trace).unwrap(), "line one\nline two\nline three\n");
        // Plain text passes through; a truncated archive is an error naming the file.
        let plain = dir.path().join("access.log");
        std::fs::write(&plain, "plain\n").unwrap();
        assert_eq!(read_text_gz(&plain, InputKind::Trace).unwrap(), "plain\n");
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let e = read_text_gz(&p, InputKind::Trace).unwrap_err();
        assert!(e.to_string().contains("access.log.2.gz: cannot decompress the trace file"), "{e}");
        // Invalid UTF-8: refused, or replaced when lossy.
        std::fs::write(&plain, b"ok \xff here\n").unwrap();
        assert!(read_text_gz(&plain, InputKind::Trace).is_err());
        assert_eq!(read_text_gz_lossy(&plain, InputKind::Trace).unwrap(), "ok \u{fffd} here\n");
    }

    #[test]
    fn globs_expand_sorted_and_literal_base_dirs() {
        let dir = tempfile::tempdir().unwrap();
        // A base folder whose name holds glob metacharacters is taken literally.
        let base = dir.path().join("logs [prod]");
        std::fs::create_dir_all(base.join("b")).unwrap();
        for f in ["b/x.log.gz", "a.log", "c.log", "notes.txt"] {
            std::fs::write(base.join(f), "x").unwrap();
        }
        std::fs::create_dir(base.join("d.log")).unwrap(); // a folder is not a match
        let names = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter().map(|p| p.strip_prefix(&base).unwrap().to_string_lossy().into_owned()).collect()
        };
        assert_eq!(names(expand_paths(&base, "*.log").unwrap()), vec!["a.log", "c.log"]);
        assert_eq!(names(expand_paths(&base, "**/*.log*").unwrap()), vec!["a.log", "b/x.log.gz", "c.log"]);
        assert_eq!(expand_paths(&base, "plain.csv").unwrap(), vec![base.join("plain.csv")]);
        let e = expand_paths(&base, "*.json").unwrap_err();
        assert!(e.message.contains("no file matches the pattern"), "{e}");
        let e = expand_paths(&base, "[*.log").unwrap_err();
        assert!(e.message.contains("invalid glob pattern"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn globstar_skips_linked_folders_and_keeps_what_is_not_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path();
        std::fs::create_dir_all(base.join("logs/real")).unwrap();
        std::fs::write(base.join("logs/a.log"), "a").unwrap();
        std::fs::write(base.join("logs/real/b.log"), "b").unwrap();
        // Loops under `**`: not followed, and no hang.
        std::os::unix::fs::symlink("..", base.join("logs/up")).unwrap();
        std::os::unix::fs::symlink(".", base.join("logs/real/self")).unwrap();
        // A second name of a file: read once.
        std::os::unix::fs::symlink("a.log", base.join("logs/z.log")).unwrap();
        // Not regular files, but matches: the reader refuses them by name.
        std::os::unix::fs::symlink("/nowhere", base.join("logs/gone.log")).unwrap();
        std::os::unix::fs::symlink("/dev/null", base.join("logs/null.log")).unwrap();
        let e = expand(base, "logs/**/*.log").unwrap();
        let names: Vec<String> =
            e.files.iter().map(|p| p.strip_prefix(base).unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, vec!["logs/a.log", "logs/gone.log", "logs/null.log", "logs/real/b.log"]);
        assert_eq!(e.same_as, vec![(base.join("logs/z.log"), base.join("logs/a.log"))]);
        let err = read_text(&base.join("logs/gone.log"), InputKind::Trace).unwrap_err();
        assert!(err.message.contains("symbolic link to `/nowhere`, which does not exist"), "{err}");
        // A link the pattern names explicitly is followed (its depth is the pattern's).
        std::os::unix::fs::symlink("real", base.join("logs/current")).unwrap();
        let e = expand(base, "logs/c*/b.log").unwrap();
        assert_eq!(e.files, vec![base.join("logs/current/b.log")]);
        // A trailing `**`: every file below, links to folders not followed.
        assert_eq!(expand(base, "logs/real/**").unwrap().files, vec![base.join("logs/real/b.log")]);
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.yaml");
        std::fs::write(&p, "\u{feff}---\na: 1\n").unwrap();
        assert_eq!(read_text(&p, InputKind::Manifest).unwrap(), "---\na: 1\n");
        assert_eq!(read_text_gz_lossy(&p, InputKind::Trace).unwrap(), "---\na: 1\n");
    }

    #[test]
    fn nesting_is_bounded_linearly() {
        assert!(check_nesting("a:\n  b:\n    - c: [1, {d: 2}]\n").is_ok());
        let deep = format!("x: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let t = std::time::Instant::now();
        assert_eq!(check_nesting(&deep).unwrap_err().0, 1);
        assert!(t.elapsed().as_secs() < 1);
        let dashes = format!("{}x\n", "- ".repeat(70));
        assert!(check_nesting(&dashes).is_err());
        let mut block = String::new();
        for i in 0..70 {
            block.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert_eq!(check_nesting(&block).unwrap_err().0, 65);
        assert!(
            check_nesting("s: \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"")
                .is_ok()
        );
    }
}
