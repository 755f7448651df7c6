//! Documentation of every scenario-file key: type, default and meaning.
//!
//! The scenario reference (docs/scenario.md) is generated from these tables, and a test keeps
//! the tables, the parser and the document in step.

/// One documented key of the scenario file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDoc {
    /// Dotted path, e.g. `service.workers` or `traffic.rate.peak`.
    pub key: &'static str,
    /// When the key applies, e.g. `shape = "daily"`; empty when always.
    pub when: &'static str,
    /// Type as a user writes it, e.g. `duration`, `integer`, `float`, `string`.
    pub ty: &'static str,
    /// Default, or `required`.
    pub default: &'static str,
    /// What it means, one or two sentences.
    pub meaning: &'static str,
    /// A valid TOML value for the key, e.g. `"30s"` or `4`.
    pub example: &'static str,
}
