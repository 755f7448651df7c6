//! Configuration errors that say where, what and what instead.
//!
//! Every [`ConfigError`] names the file, the line and column (when the key is written in the
//! file), the key, what was found and what was expected. Serde's terse messages ("unknown field
//! `wrokers`, expected one of …") are rewritten here into suggestions ("did you mean
//! `workers`?").

use super::source::{KeyPath, LineCol};
use std::fmt;

/// A scenario that cannot be loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The file (or other origin) the scenario came from.
    pub origin: String,
    /// Where the offending key is written, when it is.
    pub location: Option<LineCol>,
    /// The line of the file at `location`, for context.
    pub source_line: Option<String>,
    /// The key at fault (dotted path), when known.
    pub key: Option<String>,
    /// The `--set key=value` argument the key came from, when it did.
    pub from_set: Option<String>,
    /// What was found and what was expected.
    pub message: String,
}

impl ConfigError {
    /// An error about the file as a whole (cannot read it, …).
    pub fn file(origin: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            origin: origin.to_string(),
            location: None,
            source_line: None,
            key: None,
            from_set: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(l) = self.location {
            write!(f, ":{}:{}", l.line, l.col)?;
        }
        if let Some(s) = &self.from_set {
            write!(f, ": in --set {s}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": {k}")?;
        }
        write!(f, ": {}", self.message)?;
        if let (Some(l), Some(text)) = (self.location, &self.source_line) {
            let n = l.line.to_string();
            write!(
                f,
                "\n {n} | {text}\n {} | {}^",
                " ".repeat(n.len()),
                " ".repeat(l.col.saturating_sub(1))
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// An error found while checking the parsed scenario: the key and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyError {
    /// The key at fault.
    pub path: KeyPath,
    /// What was found and what was expected.
    pub message: String,
}

impl KeyError {
    /// An error about `path`.
    pub fn new(path: KeyPath, message: impl Into<String>) -> KeyError {
        KeyError { path, message: message.into() }
    }
}

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let w = word.to_lowercase();
    let mut best: Option<(&str, f64)> = None;
    for c in candidates {
        let cl = c.to_lowercase();
        let mut score = strsim::normalized_damerau_levenshtein(&w, &cl);
        if w.len() >= 3 && (cl.starts_with(&w) || w.starts_with(&cl)) {
            score = score.max(0.75);
        }
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((c, score));
        }
    }
    best.filter(|&(_, s)| s >= 0.6).map(|(c, _)| c)
}

/// A YAML/JSON (serde) error message with a did-you-mean added to an unknown field or variant
/// (`unknown field `minReplica`, expected one of …` gets "did you mean `minReplicas`?"); other
/// messages are returned unchanged. The rest of the message (path, line) is kept.
pub fn with_did_you_mean(msg: &str) -> String {
    for lead in ["unknown field `", "unknown variant `"] {
        let Some(i) = msg.find(lead) else { continue };
        let rest = &msg[i..];
        // The list ends where serde_norway appends the position.
        let end = rest.find(" at line ").unwrap_or(rest.len());
        let q = quoted(&rest[..end]);
        if let Some((found, expected)) = q.split_first()
            && let Some(s) = suggest(found, expected.iter().copied())
        {
            return format!("{}; did you mean `{s}`?{}", &msg[..i + end], &rest[end..]);
        }
    }
    msg.to_string()
}

/// Backquoted words in a serde message, in order.
fn quoted(msg: &str) -> Vec<&str> {
    msg.split('`').skip(1).step_by(2).collect()
}

/// A serde/toml message, rewritten for people, with the key it concerns relative to the
/// location serde pointed at.
#[derive(Debug, Clone, PartialEq)]
pub struct Rewritten {
    /// Key to append to the located path (an unknown or missing key's name), if any.
    pub child: Option<String>,
    /// The message.
    pub message: String,
}

/// Rewrites serde's messages: unknown fields and variants get a did-you-mean, `missing field`
/// becomes `missing required key`, `invalid type: X, expected Y` becomes `found X, expected Y`.
pub fn rewrite_serde_message(msg: &str) -> Rewritten {
    let msg = msg.trim();
    let expected_list =
        |words: &[&str]| words.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ");
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let q = quoted(rest);
        if let Some((found, expected)) = q.split_first() {
            let mut m = format!("unknown key `{found}`");
            if let Some(s) = suggest(found, expected.iter().copied()) {
                m.push_str(&format!("; did you mean `{s}`?"));
            }
            if expected.is_empty() {
                m.push_str(" (this table takes no keys)");
            } else {
                m.push_str(&format!(" (valid keys here: {})", expected_list(expected)));
            }
            return Rewritten { child: Some(found.to_string()), message: m };
        }
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        let q = quoted(rest);
        if let Some((found, expected)) = q.split_first() {
            let mut m = format!("found `{found}`, expected one of {}", expected_list(expected));
            if let Some(s) = suggest(found, expected.iter().copied()) {
                m.push_str(&format!("; did you mean `{s}`?"));
            }
            return Rewritten { child: None, message: m };
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field ")
        && let Some(field) = quoted(rest).first()
    {
        return Rewritten { child: Some(field.to_string()), message: "missing required key".into() };
    }
    if let Some(rest) = msg.strip_prefix("invalid type: ").or_else(|| msg.strip_prefix("invalid value: ")) {
        let rest = rest
            .replace("expected u32", "expected a non-negative integer")
            .replace("expected u64", "expected a non-negative integer")
            .replace("expected f64", "expected a number")
            .replace("expected usize", "expected a non-negative integer");
        return Rewritten { child: None, message: format!("found {rest}") };
    }
    if msg.starts_with("duplicate key") {
        return Rewritten { child: None, message: format!("{msg} (each key may appear once per table)") };
    }
    Rewritten { child: None, message: msg.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        let keys = ["workers", "queue_limit", "timeout", "demand"];
        assert_eq!(suggest("wrokers", keys), Some("workers"));
        assert_eq!(suggest("timout", keys), Some("timeout"));
        assert_eq!(suggest("queue", keys), Some("queue_limit"));
        assert_eq!(suggest("colour", keys), None);
        assert_eq!(suggest("autoscle", ["fixed", "rps", "autoscale"]), Some("autoscale"));
    }

    #[test]
    fn rewrites_unknown_field() {
        let r = rewrite_serde_message("unknown field `wrokers`, expected one of `workers`, `timeout`");
        assert_eq!(r.child.as_deref(), Some("wrokers"));
        assert!(r.message.contains("did you mean `workers`?"), "{}", r.message);
        let r = rewrite_serde_message("unknown field `zz`, expected `workers`");
        assert!(!r.message.contains("did you mean"));
        assert!(r.message.contains("`workers`"));
    }

    #[test]
    fn yaml_messages_get_did_you_mean() {
        let m = with_did_you_mean(
            "spec: unknown field `minReplica`, expected one of `minReplicas`, `maxReplicas` at line 5 column 3",
        );
        assert_eq!(
            m,
            "spec: unknown field `minReplica`, expected one of `minReplicas`, `maxReplicas`; did you mean \
             `minReplicas`? at line 5 column 3"
        );
        assert_eq!(with_did_you_mean("invalid type"), "invalid type");
    }

    #[test]
    fn rewrites_unknown_variant_missing_and_type() {
        let r = rewrite_serde_message("unknown variant `autoscle`, expected one of `fixed`, `autoscale`");
        assert!(r.message.contains("found `autoscle`"));
        assert!(r.message.contains("did you mean `autoscale`?"));
        let r = rewrite_serde_message("missing field `max`");
        assert_eq!(r.child.as_deref(), Some("max"));
        let r = rewrite_serde_message("invalid type: string \"x\", expected u32");
        assert_eq!(r.message, "found string \"x\", expected a non-negative integer");
    }
}
