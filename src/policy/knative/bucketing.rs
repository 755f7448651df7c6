//! Knative's metric aggregation (`pkg/autoscaler/aggregation/bucketing.go`,
//! `TimedFloat64Buckets`): a ring of 1 s buckets covering one window.
//!
//! * values recorded in the same bucket are summed;
//! * a record after a gap zeroes the buckets in between; a record after a full window of silence
//!   resets everything, including the first-write time;
//! * the window average divides the total by the number of buckets since the first write
//!   (inclusive), capped at the window length, and, when the last write is older than `now`,
//!   drops the buckets in between from both the total and the count;
//! * nothing written for more than a window: the average is 0 and the buckets are "empty"
//!   (the collector then reports `ErrNoData`);
//! * averages are floored to 6 decimal places (`roundToNDigits(6, …)`).
//!
//! Times are bucket indices (`t / granularity`), as Knative's `timeToIndex` uses Unix seconds.

use crate::time::Time;

/// Time-bucketed values over one window.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedBuckets {
    buckets: Vec<f64>,
    granularity: Time,
    first_write: Option<u64>,
    last_write: Option<u64>,
    total: f64,
    /// A steady start: the value of every bucket before the first (index 0), until a full
    /// window of silence resets the buckets.
    prior: Option<f64>,
}

fn round6(x: f64) -> f64 {
    (x * 1e6).floor() / 1e6
}

impl TimedBuckets {
    /// Buckets of `granularity` covering `window` (`ceil(window / granularity)` buckets).
    pub fn new(window: Time, granularity: Time) -> TimedBuckets {
        let g = granularity.max(1);
        let n = window.div_ceil(g).max(1) as usize;
        TimedBuckets {
            buckets: vec![0.0; n],
            granularity: g,
            first_write: None,
            last_write: None,
            total: 0.0,
            prior: None,
        }
    }

    fn len(&self) -> u64 {
        self.buckets.len() as u64
    }

    fn slot(&self, idx: u64) -> usize {
        (idx % self.len()) as usize
    }

    /// Adds `value` to the bucket of time `t`.
    pub fn record(&mut self, t: Time, value: f64) {
        let b = t / self.granularity;
        let n = self.len();
        if self.last_write != Some(b) {
            if let Some(lw) = self.last_write
                && b + n <= lw
            {
                return; // older than a window before the last write: ignored
            }
            if self.first_write.is_none_or(|f| f > b) {
                self.first_write = Some(b);
            }
            match self.last_write {
                Some(lw) if b <= lw => {} // inside the window, in the past: just add
                Some(lw) if b - lw < n => {
                    for i in lw + 1..=b {
                        let s = self.slot(i);
                        self.total -= self.buckets[s];
                        self.buckets[s] = 0.0;
                    }
                    self.last_write = Some(b);
                }
                _ => {
                    // First write, or a full window without writes: start over.
                    self.first_write = Some(b);
                    self.prior = self.prior.filter(|_| self.last_write.is_none());
                    self.buckets.iter_mut().for_each(|v| *v = 0.0);
                    self.total = 0.0;
                    self.last_write = Some(b);
                }
            }
        }
        let s = self.slot(b);
        self.buckets[s] += value;
        self.total += value;
    }

    /// A steady start: `value` recorded at time 0 and taken as the value of every bucket
    /// before it, so the window averages `value` until real records replace it. Call before
    /// any record.
    pub fn prefill(&mut self, value: f64) {
        self.record(0, value);
        self.prior = Some(value);
    }

    /// Whether nothing was written during the window ending at `now` (`IsEmpty`).
    pub fn is_empty(&self, now: Time) -> bool {
        let n = now / self.granularity;
        self.last_write.is_none_or(|lw| n.saturating_sub(lw) > self.len())
    }

    /// The average over the window ending at `now` (`WindowAverage`).
    pub fn window_average(&self, now: Time) -> f64 {
        let n = now / self.granularity;
        let (Some(lw), Some(fw)) = (self.last_write, self.first_write) else { return 0.0 };
        let len = self.len();
        let since_first = lw - fw + 1;
        // With a prior, the buckets of the window before the first write hold it.
        let with_prior = |total: f64, count: u64, span: u64| match self.prior {
            Some(p) if fw == 0 && count < span => (total + p * (span - count) as f64) / span as f64,
            _ => total / count as f64,
        };
        if n <= lw {
            return round6(with_prior(self.total, since_first.min(len), len));
        }
        let d = n - lw;
        if d < len {
            let mut total = self.total;
            for i in lw + 1..=n {
                total -= self.buckets[self.slot(i)];
            }
            round6(with_prior(total, since_first.min(len - d), len - d))
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    const S: Time = SECOND;

    #[test]
    fn a_prefilled_window_averages_the_prior_until_replaced() {
        let mut b = TimedBuckets::new(60 * S, S);
        b.prefill(10.0);
        assert!(!b.is_empty(0));
        assert_eq!(b.window_average(0), 10.0);
        // 30 one-second records of 20 after it: (bucket 0: 10, 30 × 20, 29 prior buckets × 10) / 60.
        for t in 1..=30 {
            b.record(t * S, 20.0);
        }
        assert_eq!(b.window_average(30 * S), (10.0 + 600.0 + 290.0) / 60.0);
        // A full window later only real records count.
        for t in 31..=90 {
            b.record(t * S, 20.0);
        }
        assert_eq!(b.window_average(90 * S), 20.0);
    }

    #[test]
    fn partial_window_averages_over_buckets_since_first_write() {
        let mut b = TimedBuckets::new(60 * S, S);
        assert!(b.is_empty(0));
        b.record(10 * S, 5.0);
        b.record(11 * S, 7.0);
        // Two buckets since the first write.
        assert_eq!(b.window_average(11 * S), 6.0);
        assert!(!b.is_empty(11 * S));
    }

    #[test]
    fn same_second_records_are_summed() {
        let mut b = TimedBuckets::new(6 * S, S);
        b.record(3 * S, 1.0);
        b.record(3 * S + 500_000, 2.0);
        assert_eq!(b.window_average(3 * S), 3.0);
    }

    #[test]
    fn full_window_averages_and_gaps_count_as_zero() {
        let mut b = TimedBuckets::new(4 * S, S);
        for t in 0..4 {
            b.record(t * S, 4.0);
        }
        assert_eq!(b.window_average(3 * S), 4.0);
        // A gap of one second, then a write: the skipped bucket is zero.
        b.record(5 * S, 8.0);
        // Buckets 2, 3, (4 = 0), 5: (4 + 4 + 0 + 8) / 4.
        assert_eq!(b.window_average(5 * S), 4.0);
    }

    #[test]
    fn stale_data_drops_out_of_the_total_and_the_count() {
        // Upstream TestTimedFloat64BucketsWindowAverage-style: last write 2 s ago.
        let mut b = TimedBuckets::new(5 * S, S);
        for t in 0..5 {
            b.record(t * S, (t + 1) as f64); // 1..5
        }
        // Now = 6: buckets 5 and 6 are empty; the window keeps 2, 3, 4 → (3 + 4 + 5) / 3.
        assert_eq!(b.window_average(6 * S), 4.0);
        // Five seconds after the last write: still within the window bound, all dropped.
        assert_eq!(b.window_average(9 * S), 0.0);
    }

    #[test]
    fn empty_after_a_full_window_and_reset_on_the_next_write() {
        let mut b = TimedBuckets::new(5 * S, S);
        b.record(0, 10.0);
        assert!(!b.is_empty(5 * S));
        assert!(b.is_empty(6 * S));
        assert_eq!(b.window_average(6 * S), 0.0);
        b.record(20 * S, 1.0);
        // Reset: first write is now 20, one bucket.
        assert_eq!(b.window_average(20 * S), 1.0);
    }

    #[test]
    fn averages_are_floored_to_six_decimals() {
        let mut b = TimedBuckets::new(3 * S, S);
        b.record(0, 1.0);
        b.record(S, 0.0);
        b.record(2 * S, 0.0);
        assert_eq!(b.window_average(2 * S), 0.333333);
    }

    #[test]
    fn old_records_are_ignored() {
        let mut b = TimedBuckets::new(3 * S, S);
        b.record(10 * S, 1.0);
        b.record(5 * S, 100.0);
        assert_eq!(b.window_average(10 * S), 1.0);
    }
}
