//! What a trace holds, as read (before speed-up, scale, loop or offset): its span, how many
//! requests (exact, or the integral of a rate), and its mean and peak rates. `validate` prints it.

use super::RequestTrace;
use super::counts::CountSeries;
use crate::traffic::shape::RateSeries;

/// A description of one trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceInfo {
    /// The `format` value, e.g. `prometheus`.
    pub format: &'static str,
    /// How many files were read.
    pub files: usize,
    /// Format-specific facts, e.g. `3 series summed`, `step 15s`.
    pub notes: Vec<String>,
    /// Unix milliseconds (UTC) of trace time 0, when the format records wall-clock time.
    pub start_ms: Option<i64>,
    /// Seconds from trace time 0 to the end of the trace.
    pub span: f64,
    /// Requests in the trace: exact for request and count traces, the rate's integral otherwise.
    pub requests: f64,
    /// Whether `requests` is an exact count.
    pub exact: bool,
    /// Peak rates (requests per second) and the window each is measured over, e.g.
    /// `("minute", 41.2)`.
    pub peaks: Vec<(String, f64)>,
    /// Malformed lines skipped (`skip_malformed`), and where the first one was.
    pub skipped: u64,
    /// `file:line: why` of the first skipped line.
    pub first_skipped: Option<String>,
}

impl TraceInfo {
    fn new(format: &'static str, span: f64, requests: f64, exact: bool) -> TraceInfo {
        TraceInfo {
            format,
            files: 1,
            notes: Vec::new(),
            start_ms: None,
            span,
            requests,
            exact,
            peaks: Vec::new(),
            skipped: 0,
            first_skipped: None,
        }
    }

    /// Mean requests per second over the span.
    pub fn mean(&self) -> Option<f64> {
        (self.span > 0.0).then(|| self.requests / self.span)
    }

    /// A rate series; `window` names its intervals (e.g. `15s step`).
    pub fn of_series(format: &'static str, s: &RateSeries, window: &str) -> TraceInfo {
        let n = s.starts.len();
        let len = |i: usize| if i + 1 < n { s.starts[i + 1] - s.starts[i] } else { s.end - s.starts[i] };
        let requests = (0..n).map(|i| s.rates[i] * len(i)).sum();
        let mut info = TraceInfo::new(format, s.end, requests, false);
        info.peaks.push((window.to_string(), s.rates.iter().copied().fold(0.0, f64::max)));
        info
    }

    /// A request trace: peaks over the busiest second and minute (counted from trace time 0).
    pub fn of_requests(format: &'static str, t: &RequestTrace) -> TraceInfo {
        let span = match (t.times.first(), t.times.last()) {
            (Some(a), Some(b)) => b - a,
            _ => 0.0,
        };
        let mut info = TraceInfo::new(format, span, t.times.len() as f64, true);
        for (name, w) in [("second", 1.0), ("minute", 60.0)] {
            info.peaks.push((name.to_string(), busiest(&t.times, w) as f64 / w));
        }
        info
    }

    /// A count series: the peak over the busiest bin (`window` names it, e.g. `minute`).
    pub fn of_counts(format: &'static str, c: &CountSeries, window: &str) -> TraceInfo {
        let mut info = TraceInfo::new(format, c.span(), c.total() as f64, true);
        let peak = c.counts.iter().copied().max().unwrap_or(0) as f64 / c.bin;
        info.peaks.push((window.to_string(), peak));
        info
    }
}

/// The most of the sorted `times` in one bin `[k·w, (k+1)·w)`.
fn busiest(times: &[f64], w: f64) -> usize {
    let mut best = 0;
    let mut i = 0;
    while i < times.len() {
        let bin = (times[i] / w).floor();
        let j = i + times[i..].iter().take_while(|&&t| (t / w).floor() == bin).count();
        best = best.max(j - i);
        i = j;
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_of_each_kind() {
        let s = RateSeries { starts: vec![0.0, 60.0], rates: vec![2.0, 5.0], end: 120.0 };
        let i = TraceInfo::of_series("rate_csv", &s, "interval");
        assert_eq!((i.span, i.requests, i.exact), (120.0, 420.0, false));
        assert_eq!(i.mean(), Some(3.5));
        assert_eq!(i.peaks, vec![("interval".to_string(), 5.0)]);
        let t = RequestTrace { times: vec![0.0, 0.2, 0.4, 1.5, 61.0], sizes: vec![], size_columns: vec![] };
        let i = TraceInfo::of_requests("access_log", &t);
        assert_eq!((i.span, i.requests), (61.0, 5.0));
        assert_eq!(i.peaks, vec![("second".to_string(), 3.0), ("minute".to_string(), 4.0 / 60.0)]);
        let c = CountSeries { bin: 60.0, counts: vec![60, 120, 0] };
        let i = TraceInfo::of_counts("azure_functions", &c, "minute");
        assert_eq!((i.span, i.requests, i.mean()), (180.0, 180.0, Some(1.0)));
        assert_eq!(i.peaks, vec![("minute".to_string(), 2.0)]);
    }
}
