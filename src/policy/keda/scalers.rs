//! KEDA scalers as scalesim simulates them: what each trigger reports and when it is active.
//!
//! * `prometheus`: scalesim has no Prometheus, so the trigger's `query` is matched to a series
//!   the simulation produces: a query that takes a `rate(…[W])` of a requests counter reads the
//!   service's total offered requests per second over W; a query naming in-flight or concurrent
//!   requests reads the mean total concurrency (over `[W]` if given, else the polling interval).
//!   Like KEDA, the value is a total and the HPA divides it by `threshold` (AverageValue).
//!   Active ⇔ value > `activationThreshold` (strictly), as `prometheus_scaler.go` decides.
//! * `cron`: inside the window (the next end fires no later than the next start, as
//!   `cron_scaler.go` decides) the metric is `desiredReplicas` and the trigger is active; outside
//!   it is 0 (KEDA ≥ 2.18) and inactive. Its HPA target is AverageValue 1.
//! * `cpu`: a Resource metric handled by the HPA itself; KEDA treats an object whose triggers are
//!   all cpu/memory as always active.

use crate::metrics::MetricsView;
use crate::policy::schedule::Schedule;
use crate::time::{SECOND, Time};

/// A simulated series a Prometheus query can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Series {
    /// Total offered requests per second, over a rate window.
    Rps {
        /// The `[W]` of `rate(…[W])`.
        window: Time,
    },
    /// Total requests in flight (service + queues + activator), averaged over a window.
    Concurrency {
        /// The averaging window; `None` for the polling interval.
        window: Option<Time>,
    },
}

/// Why a Prometheus query cannot be simulated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "query `{query}`: scalesim cannot run PromQL; expected a query of the service's request rate \
     (e.g. `sum(rate(http_requests_total[1m]))`) or of its in-flight requests (e.g. \
     `sum(http_requests_in_flight)`), or map this query onto one of them in the policy: \
     metrics_map = {{ \"{query}\" = \"requests_per_second\" }} (or \"concurrency\")"
)]
pub struct QueryError {
    /// The query.
    pub query: String,
}

/// Parses a Prometheus range like `1m`, `30s`, `2h`, `90` (seconds).
fn parse_range(r: &str) -> Option<Time> {
    let r = r.trim();
    let (num, unit) = r.split_at(r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len()));
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    crate::time::checked_whole_secs(n.checked_mul(mult)?)
}

/// The `[W]` range of a (lower-cased) query, when it has one.
fn query_range(q: &str) -> Option<Time> {
    q.find('[').and_then(|i| q[i + 1..].find(']').map(|j| &q[i + 1..i + 1 + j])).and_then(parse_range)
}

impl Series {
    /// The series of a supplied metric name (`requests_per_second`, `concurrency`) that a
    /// scenario's `metrics_map` maps `query` onto; the query's `[W]` is the window when it has
    /// one (rates: 60 s otherwise).
    pub fn supplied(name: &str, query: &str) -> Option<Series> {
        let range = query_range(&query.to_ascii_lowercase());
        match name {
            "requests_per_second" => Some(Series::Rps { window: range.unwrap_or(60 * SECOND) }),
            "concurrency" => Some(Series::Concurrency { window: range }),
            _ => None,
        }
    }

    /// Maps a query onto a simulated series.
    pub fn from_query(query: &str) -> Result<Series, QueryError> {
        let q = query.to_ascii_lowercase();
        let range = query_range(&q);
        let concurrent = ["in_flight", "inflight", "concurren", "active_requests", "requests_active"];
        if concurrent.iter().any(|w| q.contains(w)) {
            return Ok(Series::Concurrency { window: range });
        }
        if (q.contains("rate(") || q.contains("irate(") || q.contains("increase(")) && q.contains("request") {
            let window = range.ok_or_else(|| QueryError { query: query.to_string() })?;
            return Ok(Series::Rps { window });
        }
        Err(QueryError { query: query.to_string() })
    }

    /// The series' value at the observation, if the metrics have data.
    pub fn value(&self, metrics: &MetricsView, polling: Time) -> Option<f64> {
        match *self {
            Series::Rps { window } => metrics.rps(window),
            Series::Concurrency { window } => {
                metrics.concurrency_total(window.unwrap_or(polling).max(SECOND))
            }
        }
    }
}

/// A trigger's reading at one poll.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// The metric value handed to the HPA (a total for AverageValue targets).
    pub value: f64,
    /// Whether the trigger counts as active.
    pub active: bool,
}

/// The reading of a cron trigger at `now`.
pub fn cron_reading(schedule: &Schedule, now: Time) -> Reading {
    if schedule.active(now) {
        Reading { value: schedule.replicas as f64, active: true }
    } else {
        Reading { value: 0.0, active: false }
    }
}

/// The reading of a Prometheus trigger: a missing value reads as 0 (`ignoreNullValues`
/// defaults to true).
pub fn prometheus_reading(value: Option<f64>, activation_threshold: f64) -> Reading {
    let v = value.filter(|v| v.is_finite()).unwrap_or(0.0);
    Reading { value: v, active: v > activation_threshold }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_map_to_series() {
        assert_eq!(
            Series::from_query("sum(rate(http_requests_total{service=\"web\"}[1m]))").unwrap(),
            Series::Rps { window: 60 * SECOND }
        );
        assert_eq!(
            Series::from_query("sum(irate(nginx_ingress_controller_requests[30s]))").unwrap(),
            Series::Rps { window: 30 * SECOND }
        );
        assert_eq!(
            Series::from_query("sum(http_requests_in_flight)").unwrap(),
            Series::Concurrency { window: None }
        );
        assert_eq!(
            Series::from_query("avg_over_time(sum(concurrency)[2m:])").unwrap(),
            Series::Concurrency { window: None },
            "a subquery range does not parse as a plain range"
        );
        assert!(Series::from_query("sum(kafka_consumergroup_lag)").is_err());
        assert!(Series::from_query("sum(rate(http_requests_total))").is_err(), "rate needs a range");
    }

    #[test]
    fn activation_is_strict() {
        assert!(!prometheus_reading(Some(5.0), 5.0).active);
        assert!(prometheus_reading(Some(5.1), 5.0).active);
        assert_eq!(prometheus_reading(None, 0.0), Reading { value: 0.0, active: false });
        assert_eq!(prometheus_reading(Some(f64::NAN), 0.0).value, 0.0);
    }
}
