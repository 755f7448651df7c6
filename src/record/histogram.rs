//! The latency histogram: HDR buckets (1 µs to 10^12 µs, 3 significant digits), stored compactly.
//!
//! The buckets are those of an HDR histogram (`hdrhistogram`, `new_with_bounds(1, 10^12, 3)`):
//! values below 2048 µs are exact, and each doubling above is split into 1024 equal buckets, so a
//! bucket is never wider than 1/1024 of its values. Quantiles are computed as HDR computes them
//! (the highest value equivalent to the bucket where the cumulative count first reaches
//! ⌈q · count⌉), so every percentile is the one HDR would report; the tests check it against the
//! `hdrhistogram` crate on random data.
//!
//! Unlike HDR, which allocates all 31,744 counters (248 KiB) per histogram, this one keeps only
//! the window of buckets between the lowest and highest latency recorded so far, and remembers
//! it: recording is one index computation and one increment, and resetting, merging, cloning or
//! reading quantiles touch only that window. A run records each served request once, into its
//! interval's histogram, and merges the interval into the run's at the interval's end.

/// Highest latency recorded exactly, µs (about 11.5 days); longer ones count in its bucket.
pub const MAX_LATENCY_US: u64 = 1_000_000_000_000;

/// log2 of the buckets in half a doubling (1024).
const HALF_MAGNITUDE: u32 = 10;
const HALF: u64 = 1 << HALF_MAGNITUDE;
/// Values below this (2048 µs) have a bucket each.
const SUB_BUCKET_MASK: u64 = 2 * HALF - 1;
/// 64 − log2(2048): the leading zeros of a value in the first doubling above 2048.
const LEADING_ZERO_BASE: u32 = 53;

/// Which doubling `v` (≥ 1) falls in: 0 below 2048, then 1, 2, … per doubling.
#[inline]
fn bucket_of(v: u64) -> u32 {
    LEADING_ZERO_BASE - (v | SUB_BUCKET_MASK).leading_zeros()
}

/// The counter index of value `v`, as HDR numbers its counters.
#[inline]
fn index_of(v: u64) -> usize {
    let b = bucket_of(v);
    (((b as u64 + 1) << HALF_MAGNITUDE) + (v >> b) - HALF) as usize
}

/// The lowest value counted at `index` and the width of its bucket.
#[inline]
fn bucket_at(index: usize) -> (u64, u64) {
    let i = index as u64;
    let b = (i >> HALF_MAGNITUDE) as i64 - 1;
    let (b, sub) = if b < 0 { (0, i & (HALF - 1)) } else { (b as u32, (i & (HALF - 1)) + HALF) };
    (sub << b, 1 << b)
}

/// Latencies in microseconds, in HDR buckets over the window of buckets used so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// Index of `counts[0]`.
    offset: usize,
    /// Counts of the buckets `offset..offset + counts.len()`; zero outside.
    counts: Vec<u64>,
    /// Values recorded.
    total: u64,
}

impl LatencyHistogram {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one latency of `us` microseconds (below 1 µs counts as 1 µs, above
    /// [`MAX_LATENCY_US`] as that).
    #[inline]
    pub fn record(&mut self, us: u64) {
        let i = index_of(us.clamp(1, MAX_LATENCY_US));
        match self.counts.get_mut(i.wrapping_sub(self.offset)) {
            Some(c) => *c += 1,
            None => self.record_outside(i),
        }
        self.total += 1;
    }

    /// Widens the window to take index `i` and counts one there.
    #[cold]
    fn record_outside(&mut self, i: usize) {
        self.cover(i, i);
        self.counts[i - self.offset] += 1;
    }

    /// Widens the window to cover indices `lo..=hi`, with some room on each side so that a
    /// latency drifting slowly does not widen it every time.
    fn cover(&mut self, lo: usize, hi: usize) {
        if self.counts.is_empty() {
            let lo = lo.saturating_sub(64);
            self.offset = lo;
            self.counts = vec![0; hi + 64 - lo];
            return;
        }
        let (start, end) = (self.offset, self.offset + self.counts.len());
        if lo >= start && hi < end {
            return;
        }
        // A doubling's worth of buckets on the side that grows: latencies drift, they seldom jump.
        let room = HALF as usize;
        let new_start = if lo < start { lo.saturating_sub(room) } else { start };
        let new_end = if hi >= end { hi + 1 + room } else { end };
        let mut counts = vec![0; new_end - new_start];
        counts[start - new_start..end - new_start].copy_from_slice(&self.counts);
        self.offset = new_start;
        self.counts = counts;
    }

    /// Values recorded.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Forgets every value (the window stays, for the next interval's values).
    pub fn reset(&mut self) {
        if self.total > 0 {
            self.counts.fill(0);
            self.total = 0;
        }
    }

    /// Adds every value of `other`.
    pub fn add(&mut self, other: &LatencyHistogram) {
        if other.total == 0 {
            return;
        }
        let (lo, hi) = (other.offset, other.offset + other.counts.len() - 1);
        self.cover(lo, hi);
        let at = lo - self.offset;
        for (c, o) in self.counts[at..=at + hi - lo].iter_mut().zip(&other.counts) {
            *c += o;
        }
        self.total += other.total;
    }

    /// The first and last non-zero positions of `counts`, if any.
    fn used(&self) -> Option<(usize, usize)> {
        if self.total == 0 {
            return None;
        }
        let lo = self.counts.iter().position(|&c| c > 0)?;
        let hi = self.counts.iter().rposition(|&c| c > 0)?;
        Some((lo, hi))
    }

    /// The latencies at quantiles `qs` (each 0 to 1, in increasing order), µs, in one pass:
    /// each as [`LatencyHistogram::value_at_quantile`] gives it.
    pub fn values_at_quantiles<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        let mut out = [0; N];
        let ranks = qs.map(|q| self.rank(q));
        let (mut k, mut seen) = (0, 0u64);
        // Whole blocks of 8 while the next rank is not reached (a sum the compiler vectorises),
        // then bucket by bucket inside the block that reaches it.
        for (b, block) in self.counts.chunks(8).enumerate() {
            if k == N {
                break;
            }
            let sum: u64 = block.iter().sum();
            if seen + sum < ranks[k] {
                seen += sum;
                continue;
            }
            for (j, &c) in block.iter().enumerate() {
                seen += c;
                while k < N && seen >= ranks[k] {
                    out[k] = self.bucket_value(8 * b + j, qs[k]);
                    k += 1;
                }
            }
        }
        out
    }

    /// The count the cumulative count must reach for quantile `q`: ⌈q · count⌉, at least 1.
    #[inline]
    fn rank(&self, q: f64) -> u64 {
        ((q.min(1.0) * self.total as f64).ceil() as u64).max(1)
    }

    /// The value HDR reports for quantile `q` found at `counts[j]`.
    #[inline]
    fn bucket_value(&self, j: usize, q: f64) -> u64 {
        let (low, width) = bucket_at(self.offset + j);
        if q == 0.0 { low } else { low + (width - 1) }
    }

    /// The latency at quantile `q` (0 to 1), µs, as HDR reports it: the highest value in the
    /// bucket where the cumulative count first reaches ⌈q · count⌉ (at least 1); for `q` = 0 the
    /// lowest value of the first bucket. 0 when empty.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        self.values_at_quantiles([q])[0]
    }

    /// The lowest recorded value's bucket's lowest value, µs (0 when empty), as HDR's `min`.
    pub fn min(&self) -> u64 {
        self.used().map_or(0, |(lo, _)| bucket_at(self.offset + lo).0)
    }

    /// The highest recorded value's bucket's highest value, µs (0 when empty), as HDR's `max`.
    pub fn max(&self) -> u64 {
        self.used().map_or(0, |(_, hi)| {
            let (low, width) = bucket_at(self.offset + hi);
            low + (width - 1)
        })
    }

    /// Each non-empty bucket as (its highest value µs, count), in increasing order: what HDR's
    /// `iter_recorded` gives as (`value_iterated_to`, `count_at_value`).
    pub fn recorded(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(j, &c)| {
            let (low, width) = bucket_at(self.offset + j);
            (low + (width - 1), c)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::Histogram;
    use proptest::prelude::*;

    fn hdr() -> Histogram<u64> {
        Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("bounds")
    }

    #[test]
    fn buckets_are_hdr_buckets() {
        let h = hdr();
        let mut v = 1u64;
        while v <= MAX_LATENCY_US {
            for x in [v, v + 1, v * 3 / 2, v.saturating_mul(2) - 1] {
                let x = x.min(MAX_LATENCY_US);
                let (low, width) = bucket_at(index_of(x));
                assert_eq!(low, h.lowest_equivalent(x), "lowest of {x}");
                assert_eq!(low + width - 1, h.highest_equivalent(x), "highest of {x}");
            }
            v *= 2;
        }
    }

    #[test]
    fn empty_and_merged() {
        let mut a = LatencyHistogram::new();
        assert!(a.is_empty());
        assert_eq!(a.value_at_quantile(0.99), 0);
        assert_eq!((a.min(), a.max()), (0, 0));
        a.record(0);
        a.record(5_000_000);
        let mut b = LatencyHistogram::new();
        b.record(3);
        b.record(MAX_LATENCY_US * 10);
        b.add(&a);
        assert_eq!(b.len(), 4);
        assert_eq!(b.min(), 1);
        assert_eq!(b.max(), hdr().highest_equivalent(MAX_LATENCY_US));
        a.reset();
        assert!(a.is_empty());
        assert_eq!(a.value_at_quantile(0.5), 0);
        a.add(&LatencyHistogram::new());
        assert!(a.is_empty());
    }

    proptest! {
        /// Every quantile, min, max and bucket list agrees with `hdrhistogram` on the same
        /// values, however they are split between histograms that are then merged.
        #[test]
        fn agrees_with_hdrhistogram(
            values in prop::collection::vec(
                prop_oneof![0u64..3000, 1u64..2_000_000, 1u64..=MAX_LATENCY_US * 2], 1..400),
            split in 0usize..400,
            qs in prop::collection::vec(0.0f64..=1.0, 1..8),
        ) {
            let mut reference = hdr();
            let (mut a, mut b) = (LatencyHistogram::new(), LatencyHistogram::new());
            for (k, &v) in values.iter().enumerate() {
                reference.record(v.clamp(1, MAX_LATENCY_US)).expect("in range");
                if k < split { a.record(v) } else { b.record(v) }
            }
            a.add(&b);
            prop_assert_eq!(a.len(), reference.len());
            for q in qs.iter().copied().chain([0.0, 0.5, 0.95, 0.99, 1.0]) {
                prop_assert_eq!(a.value_at_quantile(q), reference.value_at_quantile(q), "q = {}", q);
            }
            let [p50, p95, p99] = a.values_at_quantiles([0.5, 0.95, 0.99]);
            prop_assert_eq!(
                [p50, p95, p99],
                [reference.value_at_quantile(0.5), reference.value_at_quantile(0.95), reference.value_at_quantile(0.99)]
            );
            prop_assert_eq!(a.min(), reference.min());
            prop_assert_eq!(a.max(), reference.max());
            let ours: Vec<_> = a.recorded().collect();
            let theirs: Vec<_> =
                reference.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
            prop_assert_eq!(ours, theirs);
        }
    }
}
