//! Scenario files: parse, default, validate into a [`crate::scenario::Scenario`].
//!
//! The path through this module: the text is parsed as a TOML document (`toml_edit`, which
//! keeps spans), `--set` overrides edit that document ([`overrides`]), serde reads it into the
//! as-written types ([`raw`], unknown keys rejected), and [`build`] checks cross-key rules and
//! converts into the library's types. Every failure becomes a [`ConfigError`] that names the
//! file, line, column and key ([`source`] maps spans to key paths and back), with a
//! did-you-mean for misspellings ([`error`]). [`keys`] documents every key.
//!
//! The files import one another in one direction only (no two import each other, directly or
//! through a loop), from the leaves up:
//! * leaves: [`source`], [`values`], [`error`], [`files`], [`overrides`], and [`shared`] (what
//!   every layer may use: [`shared::KeyDoc`], time-zone names, positive-value checks);
//! * [`raw`], the serde tables, which imports only `values`;
//! * the family builders, each from `raw` to the library's types: [`traffic`], [`service`],
//!   `basic` (rps, cpu, concurrency, schedule, autoscale), `families` (manifests and platform,
//!   with `manifest_edit`), [`aws`], and `activator` (which basic and manifest policies share);
//! * [`build`], which assembles the [`Scenario`], and [`keys`], which gathers the families' key
//!   tables into the reference;
//! * this file, the entry points ([`load`], [`load_str`], …): the only one that may import any
//!   of them, and none imports it back.

// A `ConfigError` carries the file, line, key and message by value for callers to inspect;
// it is built once per failed load, so its size does not matter.
#![allow(clippy::result_large_err)]

mod activator;
pub mod aws;
mod basic;
pub mod build;
pub mod error;
mod families;
pub mod files;
pub mod keys;
mod manifest_edit;
pub mod overrides;
pub mod raw;
pub mod service;
pub mod shared;
pub mod source;
pub mod traffic;
pub mod values;

pub use error::ConfigError;
pub use files::Files;
pub use keys::reference_markdown;

use crate::scenario::Scenario;
use overrides::Applied;
use source::{KeyPath, Locator, Seg, line_col, line_text};
use std::path::Path;

/// Loads the scenario file at `path`, applying `--set key=value` overrides first.
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ConfigError> {
    load_with_warnings(path, overrides).map(|(s, _)| s)
}

/// [`load`], with the warnings about suspicious but runnable settings, one line each
/// (`warning: file:line:col: key: message`).
pub fn load_with_warnings(path: &Path, overrides: &[String]) -> Result<(Scenario, Vec<String>), ConfigError> {
    load_with_files(path, overrides, &Files::default())
}

/// [`load_with_warnings`], reading the scenario and every file it names through `files`, which
/// then lists them all ([`Files::read`]).
pub fn load_with_files(
    path: &Path,
    overrides: &[String],
    files: &Files,
) -> Result<(Scenario, Vec<String>), ConfigError> {
    let text = read_scenario_via(path, files)?;
    load_str_with_files(&text, &path.display().to_string(), &base_dir(path), overrides, files)
}

/// The text of the scenario file at `path`, read through the guarded reader
/// ([`crate::input::read_text`]: a regular file of at most 16 MiB of UTF-8), for a command that
/// loads it with [`load_str`] & co and keeps the text (to hash it, or to edit it into another
/// file) — read once, so what is hashed or edited is what was loaded.
pub fn read_scenario(path: &Path) -> Result<String, ConfigError> {
    read_scenario_via(path, &Files::default()).map(|t| t.to_string())
}

/// [`read_scenario`] through `files`, which records it (and hands the same text to a later
/// load of the same path).
pub fn read_scenario_via(path: &Path, files: &Files) -> Result<std::sync::Arc<str>, ConfigError> {
    files
        .text(path, crate::input::InputKind::Scenario)
        .map_err(|e| ConfigError::file(&path.display().to_string(), e.message))
}

/// The folder relative paths in the scenario file at `path` resolve from: its own.
pub fn base_dir(path: &Path) -> std::path::PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}

/// The scenario text with `--set` overrides applied (as the run saw it), or why they cannot be.
pub fn apply_overrides_text(text: &str, overrides: &[String]) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| e.to_string())?;
    overrides::apply(&mut doc, overrides).map_err(|e| format!("--set {}: {}", e.arg, e.message))?;
    Ok(doc.to_string())
}

/// What [`load_service`] found: the replica model, and the whole scenario when the file was one.
#[derive(Debug, Clone)]
pub struct LoadedService {
    /// The `[service]` section, checked.
    pub service: crate::service::ServiceModel,
    /// The scenario, when the file is a whole scenario (not a service-only file).
    pub scenario: Option<Scenario>,
}

/// Loads the replica model from `path`: either a whole scenario (its `[service]`) or a file
/// holding only a `[service]` section (as `calibrate` writes). A service-only file is checked as
/// if it were a scenario with a minimal `[simulation]` and `[traffic]` appended after its own
/// text, so errors name its own lines and keys exactly as for a scenario.
pub fn load_service(path: &Path) -> Result<LoadedService, ConfigError> {
    let origin = path.display().to_string();
    let text = crate::input::read_text(path, crate::input::InputKind::Scenario)
        .map_err(|e| ConfigError::file(&origin, e.message.replace("scenario file", "service file")))?;
    let base_dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let doc: Option<toml_edit::DocumentMut> = text.parse().ok();
    let has = |k: &str| doc.as_ref().is_some_and(|d| d.contains_key(k));
    if !has("service") && doc.is_some() {
        return Err(ConfigError::file(
            &origin,
            "no [service] section; expected a scenario file or a file holding a [service] section",
        ));
    }
    if has("simulation") || has("traffic") || doc.is_none() {
        let scenario = load_str(&text, &origin, base_dir, &[])?;
        return Ok(LoadedService { service: scenario.service.clone(), scenario: Some(scenario) });
    }
    let mut full = text.clone();
    full.push_str(
        "\n[simulation]\nduration = \"1h\"\n\n[traffic]\nrate = 1.0\n\n[[policy]]\nname = \"one\"\ntype = \"fixed\"\nreplicas = 1\n",
    );
    let scenario = load_str(&full, &origin, base_dir, &[])?;
    Ok(LoadedService { service: scenario.service, scenario: None })
}

/// Loads a scenario from `text`; `origin` names it in errors (and, through its file stem,
/// gives the default scenario name); relative paths in it are relative to `base_dir`.
pub fn load_str(
    text: &str,
    origin: &str,
    base_dir: &Path,
    overrides: &[String],
) -> Result<Scenario, ConfigError> {
    load_str_with_warnings(text, origin, base_dir, overrides).map(|(s, _)| s)
}

/// [`load_str`], reading trace and manifest files through `files`: loads that share it read
/// each file (and build each trace's traffic) once, and their scenarios share the parsed traces.
pub fn load_str_with(
    text: &str,
    origin: &str,
    base_dir: &Path,
    overrides: &[String],
    files: &Files,
) -> Result<Scenario, ConfigError> {
    load_str_with_files(text, origin, base_dir, overrides, files).map(|(s, _)| s)
}

/// [`load_str`], with the warnings (see [`load_with_warnings`]).
pub fn load_str_with_warnings(
    text: &str,
    origin: &str,
    base_dir: &Path,
    overrides: &[String],
) -> Result<(Scenario, Vec<String>), ConfigError> {
    load_str_with_files(text, origin, base_dir, overrides, &Files::default())
}

/// [`load_str_with_warnings`], reading every file the scenario names through `files`, which
/// then lists them all ([`Files::read`]).
pub fn load_str_with_files(
    text: &str,
    origin: &str,
    base_dir: &Path,
    overrides: &[String],
    files: &Files,
) -> Result<(Scenario, Vec<String>), ConfigError> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let mut err = ConfigError::file(origin, format!("invalid TOML: {}", e.message().trim()));
        if let Some(span) = e.span() {
            let lc = line_col(text, span.start);
            err.location = Some(lc);
            err.source_line = line_text(text, lc.line).map(str::to_string);
        }
        err
    })?;
    let ctx = Context {
        origin,
        text,
        locator: Locator::new(text),
        applied: Vec::new(),
        policy_names: Vec::new(),
        policy_types: Vec::new(),
    };
    let applied = overrides::apply(&mut doc, overrides).map_err(|e| ConfigError {
        origin: origin.to_string(),
        location: None,
        source_line: None,
        key: e.key,
        from_set: Some(e.arg),
        message: e.message,
    })?;
    let policy_field = |key: &str| -> Vec<Option<String>> {
        match doc.get("policy") {
            Some(toml_edit::Item::ArrayOfTables(a)) => {
                a.iter().map(|t| t.get(key).and_then(|n| n.as_str()).map(str::to_string)).collect()
            }
            _ => Vec::new(),
        }
    };
    let (policy_names, policy_types) = (policy_field("name"), policy_field("type"));
    let ctx = Context { applied, policy_names, policy_types, ..ctx };
    let edited = if overrides.is_empty() { text.to_string() } else { doc.to_string() };
    let raw: raw::RawScenario = toml::from_str(&edited).map_err(|e| ctx.serde_error(&edited, &e))?;
    let default_name = Path::new(origin)
        .file_stem()
        .map_or_else(|| "scenario".to_string(), |s| s.to_string_lossy().into_owned());
    let mut warnings = Vec::new();
    let scenario = build::build_with_warnings(raw, &default_name, base_dir, files, &mut warnings)
        .map_err(|e| ctx.key_error(e.path, e.message))?;
    let warnings = warnings
        .into_iter()
        .map(|w| {
            let e = ctx.key_error(w.path, w.message);
            let mut s = format!("warning: {}", e.origin);
            if let Some(l) = e.location {
                s.push_str(&format!(":{}:{}", l.line, l.col));
            }
            if let Some(a) = &e.from_set {
                s.push_str(&format!(": in --set {a}"));
            }
            if let Some(k) = &e.key {
                s.push_str(&format!(": {k}"));
            }
            s.push_str(&format!(": {}", e.message));
            s
        })
        .collect();
    Ok((scenario, warnings))
}

struct Context<'a> {
    origin: &'a str,
    text: &'a str,
    locator: Locator,
    applied: Vec<Applied>,
    policy_names: Vec<Option<String>>,
    policy_types: Vec<Option<String>>,
}

impl Context<'_> {
    fn serde_error(&self, edited: &str, e: &toml::de::Error) -> ConfigError {
        let mut rw = error::rewrite_serde_message(e.message());
        let located = if edited == self.text { &self.locator } else { &Locator::new(edited) };
        let mut path = e.span().map_or_else(KeyPath::root, |s| located.path_at(s.start));
        // A span over the whole document is about the document itself (a missing top-level
        // table), not about the first key written in it.
        if e.span().is_some_and(|s| s.start == 0 && s.end >= edited.trim_end().len()) {
            path = KeyPath::root();
        }
        // An unknown key in a policy lists only the keys of that policy's type.
        if let (Some(child), [Seg::Key(p), Seg::Index(i), ..]) = (&rw.child, path.0.as_slice())
            && p == "policy"
            && rw.message.starts_with("unknown key")
            && let Some(Some(t)) = self.policy_types.get(*i)
            && let Ok(kind) = toml::Value::String(t.clone()).try_into::<raw::PolicyType>()
        {
            let mut keys = vec!["name", "type"];
            keys.extend(build::policy_keys(kind));
            let mut m = format!("unknown key `{child}`");
            if let Some(s) = error::suggest(child, keys.iter().copied()) {
                m.push_str(&format!("; did you mean `{s}`?"));
            }
            let list = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
            m.push_str(&format!(" (keys of a `{t}` policy: {list})"));
            rw.message = m;
        }
        if let Some(child) = rw.child
            && path.0.last() != Some(&Seg::Key(child.clone()))
        {
            // A missing table that is not documented where serde pointed (`simulation.traffic`)
            // is missing from the document itself (`[traffic]`).
            let inside = path.key(&child).doc_form();
            let documented = |k: &str| {
                keys::all_key_docs().iter().any(|d| d.key == k || d.key.starts_with(&format!("{k}.")))
            };
            if rw.message == "missing required key"
                && !path.is_root()
                && !documented(&inside)
                && documented(&child)
            {
                path = KeyPath::root();
            }
            path = path.key(&child);
        }
        // Without overrides the edited text is the file, and serde's span is the most precise
        // location (the value, for a bad value).
        let exact = e.span().filter(|_| edited == self.text).map(|s| s.start);
        self.locate(path, rw.message, exact)
    }

    fn key_error(&self, path: KeyPath, message: String) -> ConfigError {
        self.locate(path, message, None)
    }

    fn locate(&self, path: KeyPath, message: String, exact: Option<usize>) -> ConfigError {
        let mut key = path.to_string();
        if let [Seg::Key(p), Seg::Index(i), ..] = path.0.as_slice()
            && p == "policy"
            && let Some(Some(name)) = self.policy_names.get(*i)
        {
            key.push_str(&format!(" (policy \"{name}\")"));
        }
        let mut message = message;
        if message == "missing required key" && path.0.len() == 1 {
            message = format!("missing required table [{key}]");
        } else if message == "missing required key"
            && let Some(d) = keys::all_key_docs().into_iter().find(|d| d.key == path.doc_form())
        {
            message = format!("missing required key; expected {}, e.g. {} ({})", d.ty, d.example, d.meaning);
        }
        let mut err = ConfigError {
            origin: self.origin.to_string(),
            location: None,
            source_line: None,
            key: (!path.is_root()).then_some(key),
            from_set: None,
            message,
        };
        // The `--set` that wrote this key, or (for a table the file does not have) the one that
        // created it.
        let created = |a: &&Applied| {
            !path.is_root() && a.path.starts_with(&path) && self.locator.offset_of(&path).is_none()
        };
        if let Some(a) = self
            .applied
            .iter()
            .rev()
            .find(|a| path.starts_with(&a.path))
            .or_else(|| self.applied.iter().rev().find(created))
        {
            err.from_set = Some(a.arg.clone());
            return err;
        }
        if let Some(offset) = exact.or_else(|| self.locator.nearest_offset(&path).map(|(o, _)| o)) {
            let lc = line_col(self.text, offset);
            err.location = Some(lc);
            err.source_line = line_text(self.text, lc.line).map(str::to_string);
        } else {
            // A missing top-level table: point at the start of the file.
            err.location = Some(source::LineCol { line: 1, col: 1 });
        }
        err
    }
}

#[cfg(test)]
mod tests;
