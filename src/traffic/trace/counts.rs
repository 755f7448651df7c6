//! Exact request counts per bin (the Azure Functions trace: invocations per minute), replayed
//! as exactly that many arrivals per bin at seeded random times inside it.
//!
//! The times inside a bin are the order statistics of `n` uniform draws, generated in
//! increasing order one at a time (the minimum of `m` uniforms on `(a, 1)` is
//! `a + (1 − a)(1 − V^{1/m})`), so a bin of a million requests costs no memory and the source
//! never materialises the arrivals. Everything comes from the run's arrival stream: the same seed
//! gives the same times.

use super::{Copies, ReplayOptions};
use crate::rng::SimRng;
use crate::time::{Time, from_secs_f64};
use crate::traffic::{Arrival, ArrivalSource};
use rand::Rng;
use std::sync::Arc;

/// Requests per bin of equal length, from trace time 0.
#[derive(Debug, Clone, PartialEq)]
pub struct CountSeries {
    /// Length of a bin, seconds (> 0).
    pub bin: f64,
    /// Requests in each bin.
    pub counts: Vec<u64>,
}

impl CountSeries {
    /// The trace's length (and its period when looping), seconds.
    pub fn span(&self) -> f64 {
        self.counts.len() as f64 * self.bin
    }

    /// Total requests (saturating: the readers hold a trace to
    /// [`super::MAX_TRACE_REQUESTS`], so this never wraps round).
    pub fn total(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, &c| a.saturating_add(c))
    }

    /// Expected requests in trace time `[0, tau)`, `0 <= tau <= span` (a partial bin counts in
    /// proportion, since its times are uniform).
    fn cumulative(&self, tau: f64) -> f64 {
        let tau = tau.clamp(0.0, self.span());
        let whole = ((tau / self.bin).floor() as usize).min(self.counts.len());
        let done = self.counts[..whole].iter().fold(0u64, |a, &c| a.saturating_add(c));
        let part = self.counts.get(whole).map_or(0.0, |&c| c as f64 * (tau / self.bin - whole as f64));
        done as f64 + part
    }
}

/// Replays a [`CountSeries`].
pub struct CountSource {
    data: Arc<CountSeries>,
    opts: ReplayOptions,
    offset: f64,
    horizon: Time,
    rng: SimRng,
    /// Current bin, counted from bin 0 of lap 0 (so the lap is `bin / counts.len()`).
    bin: u64,
    /// Indices of the bins with requests, so that empty stretches (nights, a function idle for
    /// days, a trace sped up a millionfold) are skipped in one step, not bin by bin.
    busy: Vec<u32>,
    /// Arrivals of the current bin not yet drawn.
    left: u64,
    /// Position in the current bin (0..1) of the last arrival drawn.
    u: f64,
    copies: Copies,
    pending: u32,
    current: Arrival,
    done: bool,
}

impl CountSource {
    /// A replay covering `[0, horizon)`.
    pub fn new(data: Arc<CountSeries>, opts: ReplayOptions, rng: SimRng, horizon: Time) -> CountSource {
        let period = data.span();
        let offset = if opts.looping && period > 0.0 {
            opts.start_offset.rem_euclid(period)
        } else {
            opts.start_offset
        };
        let first = (offset / data.bin).floor().max(0.0) as u64;
        let busy: Vec<u32> = (0..data.counts.len() as u32).filter(|&i| data.counts[i as usize] > 0).collect();
        let mut s = CountSource {
            done: busy.is_empty() || period <= 0.0,
            busy,
            data,
            opts,
            offset,
            horizon,
            rng,
            bin: first,
            left: 0,
            u: 0.0,
            copies: Copies::new(opts.scale),
            pending: 0,
            current: Arrival::default(),
        };
        s.enter_bin();
        s
    }

    fn enter_bin(&mut self) {
        let n = self.data.counts.len() as u64;
        if !self.opts.looping && self.bin >= n {
            self.done = true;
            return;
        }
        self.left = if n == 0 { 0 } else { self.data.counts[(self.bin % n) as usize] };
        self.u = 0.0;
    }

    /// The first bin at or after `from` that has requests (in a later lap when looping; past
    /// the end otherwise).
    fn next_busy(&self, from: u64) -> u64 {
        let n = self.data.counts.len() as u64;
        let (lap, i) = (from / n, from % n);
        let k = self.busy.partition_point(|&b| u64::from(b) < i);
        match self.busy.get(k) {
            Some(&b) => lap * n + u64::from(b),
            None if self.opts.looping => (lap + 1) * n + u64::from(self.busy[0]),
            None => n,
        }
    }

    /// Trace time of the next arrival, before scaling copies; `None` at the end.
    fn next_time(&mut self) -> Option<f64> {
        loop {
            if self.done {
                return None;
            }
            if self.left == 0 {
                self.bin = self.next_busy(self.bin + 1);
                // Stop when the next bin starts at or past the horizon.
                let start = self.bin as f64 * self.data.bin - self.offset;
                if from_secs_f64(start / self.opts.speedup) >= self.horizon {
                    self.done = true;
                    return None;
                }
                self.enter_bin();
                continue;
            }
            let v: f64 = self.rng.random();
            self.u += (1.0 - self.u) * (1.0 - v.powf(1.0 / self.left as f64));
            self.left -= 1;
            let tau = (self.bin as f64 + self.u) * self.data.bin;
            if tau < self.offset {
                continue;
            }
            return Some(tau - self.offset);
        }
    }
}

impl ArrivalSource for CountSource {
    #[inline]
    fn next_arrival(&mut self) -> Option<Arrival> {
        if self.pending > 0 {
            self.pending -= 1;
            return Some(self.current);
        }
        loop {
            let tau = self.next_time()?;
            let time = from_secs_f64(tau / self.opts.speedup);
            if time >= self.horizon {
                self.done = true;
                return None;
            }
            let copies = self.copies.draw(&mut self.rng);
            if copies == 0 {
                continue;
            }
            self.pending = copies - 1;
            self.current = Arrival { time, sizes: Default::default() };
            return Some(self.current);
        }
    }
}

/// Expected number of replayed requests in `[0, horizon_s)` seconds of simulated time.
pub fn expected_counts(data: &CountSeries, opts: &ReplayOptions, horizon_s: f64) -> f64 {
    let period = data.span();
    if period <= 0.0 {
        return 0.0;
    }
    let offset = if opts.looping { opts.start_offset.rem_euclid(period) } else { opts.start_offset };
    let limit = offset + horizon_s * opts.speedup;
    let count = if opts.looping {
        let total = data.total() as f64;
        let at = |x: f64| (x / period).floor() * total + data.cumulative(x.rem_euclid(period));
        at(limit) - at(offset)
    } else {
        data.cumulative(limit) - data.cumulative(offset)
    };
    count * opts.scale.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};
    use crate::time::{SECOND, to_secs_f64};

    fn run(data: &CountSeries, opts: ReplayOptions, horizon: Time, seed: u64) -> Vec<f64> {
        let mut s = CountSource::new(Arc::new(data.clone()), opts, stream(seed, Stream::Arrivals), horizon);
        let mut v = Vec::new();
        while let Some(a) = s.next_arrival() {
            v.push(to_secs_f64(a.time));
        }
        v
    }

    #[test]
    fn exact_counts_per_bin_at_seeded_times() {
        let data = CountSeries { bin: 60.0, counts: vec![3, 0, 1000, 1] };
        let v = run(&data, ReplayOptions::default(), 3600 * SECOND, 7);
        assert_eq!(v.len(), 1004);
        assert!(v.windows(2).all(|w| w[0] <= w[1]), "sorted");
        let per_bin = |b: f64| v.iter().filter(|&&t| t >= b * 60.0 && t < (b + 1.0) * 60.0).count();
        assert_eq!([per_bin(0.0), per_bin(1.0), per_bin(2.0), per_bin(3.0)], [3, 0, 1000, 1]);
        // Uniform inside the bin: the mean of the 1000 is near the middle.
        let mean: f64 = v[3..1003].iter().sum::<f64>() / 1000.0;
        assert!((mean - 150.0).abs() < 3.0, "{mean}");
        assert_eq!(v, run(&data, ReplayOptions::default(), 3600 * SECOND, 7));
        assert_ne!(v, run(&data, ReplayOptions::default(), 3600 * SECOND, 8));
        assert_eq!(expected_counts(&data, &ReplayOptions::default(), 3600.0), 1004.0);
    }

    #[test]
    fn empty_stretches_are_skipped_at_once() {
        // One request a fortnight, looped at a millionfold speed for 1000 simulated seconds:
        // 1e9 s of trace, about 827 laps of 20,160 bins, one arrival each.
        let mut counts = vec![0; 14 * 1440];
        counts[700] = 1;
        let data = CountSeries { bin: 60.0, counts };
        let o = ReplayOptions { looping: true, speedup: 1e6, ..Default::default() };
        let t = std::time::Instant::now();
        let v = run(&data, o, 1000 * SECOND, 1);
        assert!(t.elapsed().as_secs() < 2);
        assert_eq!(v.len() as f64, expected_counts(&data, &o, 1000.0).round());
        // No requests at all: nothing, at once.
        let zero = CountSeries { bin: 60.0, counts: vec![0; 1440] };
        assert!(run(&zero, o, 1000 * SECOND, 1).is_empty());
    }

    #[test]
    fn offset_speedup_loop_and_horizon() {
        let data = CountSeries { bin: 60.0, counts: vec![10, 20] };
        // Start half-way into bin 1: about 10 of its 20 remain.
        let o = ReplayOptions { start_offset: 90.0, ..Default::default() };
        let v = run(&data, o, 3600 * SECOND, 1);
        assert!(v.iter().all(|&t| t < 30.0));
        assert!((5..=15).contains(&v.len()), "{}", v.len());
        assert_eq!(expected_counts(&data, &o, 3600.0), 10.0);
        // Looping twice and a bit, twice as fast.
        let o = ReplayOptions { looping: true, speedup: 2.0, ..Default::default() };
        let v = run(&data, o, 150 * SECOND, 1);
        // 300 s of trace time = 2.5 laps: 60 + bin 0 of the third lap (10) + ... exactly.
        assert_eq!(v.len(), 70);
        assert_eq!(expected_counts(&data, &o, 150.0), 70.0);
        assert!(v.iter().all(|&t| t < 150.0));
        // Scale 2 doubles every arrival.
        let o = ReplayOptions { scale: 2.0, ..Default::default() };
        assert_eq!(run(&data, o, 3600 * SECOND, 1).len(), 60);
        assert_eq!(expected_counts(&data, &o, 3600.0), 60.0);
        // The horizon cuts inside a bin.
        let v = run(&data, ReplayOptions::default(), 30 * SECOND, 1);
        assert!(v.len() <= 10 && v.iter().all(|&t| t < 30.0));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(crate::traffic::trace::fuzz::CASES))]

        /// Any counts, offset, speed-up and loop replay without a panic, in time order, within
        /// the horizon, and as many as expected when nothing is cut or thinned.
        #[test]
        fn replay_of_any_counts(
            counts in proptest::collection::vec(0u64..50, 1..40),
            offset in 0.0..5000.0f64,
            speedup in 0.1..100.0f64,
            looping: bool,
        ) {
            let data = CountSeries { bin: 60.0, counts };
            let o = ReplayOptions { looping, speedup, start_offset: offset, ..Default::default() };
            let v = run(&data, o, 600 * SECOND, 3);
            proptest::prop_assert!(v.windows(2).all(|w| w[0] <= w[1]));
            proptest::prop_assert!(v.iter().all(|&t| t < 600.0));
            let expect = expected_counts(&data, &o, 600.0);
            proptest::prop_assert!(expect >= 0.0 && expect.is_finite());
            // Whole bins inside the horizon are exact; only the cut bins are random.
            let cut = 2.0 * (*data.counts.iter().max().unwrap_or(&0) as f64) + 1.0;
            proptest::prop_assert!((v.len() as f64 - expect).abs() <= cut, "{} vs {expect}", v.len());
        }
    }
}
