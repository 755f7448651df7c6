//! Per-interval aggregation of one run.

/// Aggregates one run's events.
#[derive(Debug, Default)]
pub struct Recorder {}
