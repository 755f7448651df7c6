//! Per-request records (`run --requests` → requests.csv): one row per request that arrived, in
//! arrival order, saying where it went, when its first token and its end came, and how it
//! ended. Kept only when asked for (`engine::Extras::requests`); the engine fills them, the
//! report writes them.

use super::FailReason;
use crate::time::Time;
use serde::{Deserialize, Serialize};

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Served.
    Served,
    /// Failed for this reason.
    Failed(FailReason),
    /// Still queued or in service at the end of the run.
    InFlight,
}

impl Outcome {
    /// The name written in requests.csv.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Served => "served",
            Outcome::Failed(r) => r.name(),
            Outcome::InFlight => "in_flight",
        }
    }
}

/// "None" for the optional fields of a [`RequestRow`].
pub const NONE_TIME: Time = Time::MAX;
/// "None" for the optional counts of a [`RequestRow`].
pub const NONE_COUNT: u32 = u32::MAX;

/// One request's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRow {
    /// Index in arrival order.
    pub id: u64,
    /// When it arrived.
    pub arrival: Time,
    /// The replica it was routed to (0-based, in order of creation); [`NONE_COUNT`] if none.
    pub replica: u32,
    /// When its first token was emitted (LLM replicas); [`NONE_TIME`] if none.
    pub first_token: Time,
    /// When it ended: served (the client has the response), failed, or [`NONE_TIME`] in flight.
    pub end: Time,
    /// Prompt tokens (LLM replicas); [`NONE_COUNT`] otherwise.
    pub prompt_tokens: u32,
    /// Output tokens emitted by its end (LLM replicas); [`NONE_COUNT`] otherwise.
    pub output_tokens: u32,
    /// How it ended.
    pub outcome: Outcome,
    /// Times it was preempted (LLM replicas; 0 otherwise).
    pub preemptions: u32,
}

impl RequestRow {
    /// A request that did not reach a replica of the LLM kind (workers, or refused before).
    pub fn plain(id: u64, arrival: Time, replica: u32, end: Time, outcome: Outcome) -> Self {
        RequestRow {
            id,
            arrival,
            replica,
            first_token: NONE_TIME,
            end,
            prompt_tokens: NONE_COUNT,
            output_tokens: NONE_COUNT,
            outcome,
            preemptions: 0,
        }
    }
}
