//! The `[traffic]` section of a scenario file (serde types), turned into a [`TrafficSpec`].

use super::keys::KeyDoc;
use crate::time::{Clock, Time};
use crate::traffic::TrafficSpec;
use serde::Deserialize;
use std::path::Path;

/// The `[traffic]` table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficConfig {
    /// Constant Poisson rate, requests per second.
    pub rate: f64,
}

/// A traffic setting that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct TrafficConfigError {
    /// Dotted key, e.g. `traffic.trace.path`.
    pub key: String,
    /// What was found and what was expected.
    pub message: String,
}

impl TrafficConfig {
    /// Checks the section and builds the spec; trace paths are relative to `base_dir`.
    pub fn into_spec(
        self,
        _base_dir: &Path,
        _clock: &Clock,
        _horizon: Time,
    ) -> Result<TrafficSpec, TrafficConfigError> {
        if !(self.rate.is_finite() && self.rate >= 0.0) {
            return Err(TrafficConfigError {
                key: "traffic.rate".into(),
                message: format!(
                    "found {}, expected a non-negative number of requests per second",
                    self.rate
                ),
            });
        }
        Ok(TrafficSpec::constant_poisson(self.rate))
    }
}

/// Every key of the `[traffic]` section.
pub fn key_docs() -> Vec<KeyDoc> {
    vec![KeyDoc {
        key: "traffic.rate",
        when: "",
        ty: "float",
        default: "required",
        meaning: "Constant Poisson arrival rate, requests per second.",
        example: "100",
    }]
}
