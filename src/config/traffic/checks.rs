//! The error of the traffic builders and the value checks they share (each error names the dotted
//! key it is about).

/// A traffic setting that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct TrafficConfigError {
    /// Dotted key, e.g. `traffic.trace.path`.
    pub key: String,
    /// What was found and what was expected.
    pub message: String,
}

pub(super) fn fail<T>(key: &str, message: String) -> Result<T, TrafficConfigError> {
    Err(TrafficConfigError { key: key.to_string(), message })
}

/// A duration string in seconds.
pub(super) fn duration(s: &str, key: &str) -> Result<f64, TrafficConfigError> {
    match humantime::parse_duration(s.trim()) {
        Ok(d) => Ok(d.as_secs_f64()),
        Err(e) => fail(
            key,
            format!("found \"{s}\", expected a duration like \"250ms\", \"30s\", \"5m\" or \"24h\" ({e})"),
        ),
    }
}

pub(super) fn positive_duration(s: &str, key: &str) -> Result<f64, TrafficConfigError> {
    let d = duration(s, key)?;
    if d > 0.0 { Ok(d) } else { fail(key, format!("found \"{s}\", expected a duration above zero")) }
}

pub(super) fn non_negative(x: f64, key: &str, what: &str) -> Result<f64, TrafficConfigError> {
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        fail(key, format!("found {x}, expected {what} (0 or more)"))
    }
}

pub(super) fn positive(x: f64, key: &str, what: &str) -> Result<f64, TrafficConfigError> {
    if x.is_finite() && x > 0.0 { Ok(x) } else { fail(key, format!("found {x}, expected {what} above 0")) }
}
