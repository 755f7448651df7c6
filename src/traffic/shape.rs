//! Rate shapes: the request rate (per second) as a function of simulated time.
//!
//! A [`Shape`] is a plain enum (enum dispatch, no trait objects) so evaluating it on the hot path
//! costs a match and some arithmetic. Times inside a shape are seconds from the start of the
//! simulation as `f64`; only the daily curve reads the scenario's civil time, through the fast
//! [`Clock::local`]. Besides the rate itself, every shape gives a true upper bound of its rate
//! over an interval ([`Shape::bound`]), which the Poisson thinning sampler relies on for
//! exactness, and its integral ([`Shape::integral`]) for expected request counts.

use crate::time::{Clock, from_secs_f64};
use std::f64::consts::TAU;
use std::sync::Arc;

const DAY: f64 = 86_400.0;

/// A recorded rate series (from a rate CSV trace): piecewise-constant rates.
#[derive(Debug, Clone, PartialEq)]
pub struct RateSeries {
    /// Start of each interval, seconds from the first row; strictly increasing, first is 0.
    pub starts: Vec<f64>,
    /// Requests per second during each interval (same length as `starts`).
    pub rates: Vec<f64>,
    /// End of the last interval, seconds from the first row (the series' length).
    pub end: f64,
}

impl RateSeries {
    /// Rate at trace time `tau` (seconds from the first row); 0 outside `[0, end)`.
    #[inline]
    pub fn at(&self, tau: f64) -> f64 {
        if !(0.0..self.end).contains(&tau) {
            return 0.0;
        }
        let i = self.starts.partition_point(|&s| s <= tau);
        self.rates[i.saturating_sub(1)]
    }

    /// Largest rate over trace times `[a, b]` (clipped to the series).
    fn max_over(&self, a: f64, b: f64) -> f64 {
        let a = a.max(0.0);
        let b = b.min(self.end);
        if a >= b {
            return if a < self.end && a >= 0.0 { self.at(a) } else { 0.0 };
        }
        let i0 = self.starts.partition_point(|&s| s <= a).saturating_sub(1);
        let i1 = self.starts.partition_point(|&s| s <= b);
        self.rates[i0..i1.max(i0 + 1)].iter().copied().fold(0.0, f64::max)
    }

    /// Integral of the rate over trace times `[a, b]`.
    fn integral(&self, a: f64, b: f64) -> f64 {
        let a = a.max(0.0);
        let b = b.min(self.end);
        if a >= b {
            return 0.0;
        }
        let mut i = self.starts.partition_point(|&s| s <= a).saturating_sub(1);
        let mut total = 0.0;
        while i < self.starts.len() && self.starts[i] < b {
            let lo = self.starts[i].max(a);
            let hi = self.starts.get(i + 1).copied().unwrap_or(self.end).min(b);
            total += self.rates[i] * (hi - lo).max(0.0);
            i += 1;
        }
        total
    }
}

/// A request rate as a function of time. All rates are requests per second; all times are
/// seconds from the start of the simulation unless stated otherwise.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// The same rate all the time.
    Constant(f64),
    /// `(time, rate)` pairs with increasing times: each rate holds from its time until the next;
    /// before the first time the first rate applies.
    Steps(Arc<[(f64, f64)]>),
    /// `(time, rate)` points with increasing times, linearly interpolated, constant beyond the
    /// first and last points.
    Piecewise(Arc<[(f64, f64)]>),
    /// `from` until `start`, then linearly to `to` at `end`, then `to`.
    Ramp {
        /// Rate before `start`.
        from: f64,
        /// Rate after `end`.
        to: f64,
        /// When the ramp begins.
        start: f64,
        /// When the ramp ends (`end >= start`).
        end: f64,
    },
    /// A daily curve in the scenario's local time: a raised cosine over 24 h from `trough`
    /// (12 h away from the peak) to `peak` (at `peak_hour`), times `weekend_factor` on local
    /// Saturdays and Sundays.
    Daily {
        /// Lowest weekday rate.
        trough: f64,
        /// Highest weekday rate.
        peak: f64,
        /// Local hour (0–24, fractional) of the peak.
        peak_hour: f64,
        /// Multiplier on Saturday and Sunday.
        weekend_factor: f64,
    },
    /// `mean + amplitude · cos(2π (t − phase) / period)`, clipped at 0: the first peak is at
    /// `phase`.
    Sine {
        /// Mean rate.
        mean: f64,
        /// Amplitude.
        amplitude: f64,
        /// Period, seconds (> 0).
        period: f64,
        /// Time of a peak, seconds.
        phase: f64,
    },
    /// `base` times a factor that is 1 before `start`, rises linearly to `multiplier` over
    /// `rise`, holds until `start + length`, then falls back to 1 over `fall`.
    Spike {
        /// The shape the spike multiplies.
        base: Arc<Shape>,
        /// When the spike begins.
        start: f64,
        /// From `start` to the beginning of the fall, seconds (`>= rise`).
        length: f64,
        /// The factor at full height.
        multiplier: f64,
        /// Seconds to reach full height (0 = a jump).
        rise: f64,
        /// Seconds to return to 1 after `start + length` (0 = a jump).
        fall: f64,
    },
    /// The sum of several shapes.
    Sum(Arc<[Shape]>),
    /// A shape times a constant factor.
    Scale {
        /// The factor (>= 0).
        factor: f64,
        /// The scaled shape.
        of: Arc<Shape>,
    },
    /// A recorded rate series replayed: simulated time `t` reads the series at trace time
    /// `offset + t · speedup` (modulo its length when `looping`); rates are multiplied by
    /// `speedup` (compressed time keeps the counts per trace interval).
    Series {
        /// The recorded data.
        data: Arc<RateSeries>,
        /// Trace time at simulated time 0, seconds.
        offset: f64,
        /// Time compression factor (> 0).
        speedup: f64,
        /// Repeat the series to fill the horizon.
        looping: bool,
    },
}

#[inline]
fn raised_cosine(sod: f64, peak_sod: f64) -> f64 {
    0.5 * (1.0 + (TAU * (sod - peak_sod) / DAY).cos())
}

/// `v` lowered by a margin against rounding in the rate's evaluation: relative (as the upper
/// bounds' `SLACK`) and absolute, on the scale of the shape's terms (a cosine near its trough is
/// evaluated to within a few ulps of 1, not of its small value).
fn with_margin(v: f64, scale: f64) -> f64 {
    v / (1.0 + 1e-9) - 1e-9 * scale
}

/// An interval `[a, b]` of a daily curve in local time: its start's second of the day and
/// weekday, and its end as seconds from that day's midnight (past `DAY` when it crosses
/// midnight). `None` for a quarter day or more, and across a UTC-offset change (daylight
/// saving), where callers fall back to a bound for the whole curve.
struct DayWindow {
    s0: f64,
    s1: f64,
    weekday: u32,
}

fn day_window(a: f64, b: f64, clock: &Clock) -> Option<DayWindow> {
    let d = b - a;
    if d >= DAY / 4.0 {
        return None;
    }
    let la = clock.local(from_secs_f64(a));
    let lb = clock.local(from_secs_f64(b));
    let s0 = la.seconds_of_day;
    let s1 = s0 + d;
    let drift = (s1 - lb.seconds_of_day).rem_euclid(DAY);
    (drift <= 1e-3 || drift >= DAY - 1e-3).then_some(DayWindow { s0, s1, weekday: la.weekday })
}

impl DayWindow {
    /// The least and greatest raised cosine (peak at second `p` of the day) over the window:
    /// 0 when its trough, half a day from the peak, is inside; 1 when its peak is.
    fn raised_cosine_range(&self, p: f64) -> (f64, f64) {
        let q = p + DAY / 2.0;
        let next_peak = ((self.s0 - p) / DAY).ceil() * DAY + p;
        let next_trough = ((self.s0 - q) / DAY).ceil() * DAY + q;
        let (c0, c1) = (raised_cosine(self.s0, p), raised_cosine(self.s1, p));
        let lo = if next_trough <= self.s1 { 0.0 } else { c0.min(c1) };
        let hi = if next_peak <= self.s1 { 1.0 } else { c0.max(c1) };
        (lo, hi)
    }

    /// The least and greatest weekday factor of the days the window covers.
    fn weekday_range(&self, weekend_factor: f64) -> (f64, f64) {
        let w = weekday_factor(self.weekday, weekend_factor);
        if self.s1 >= DAY {
            let next = weekday_factor((self.weekday + 1) % 7, weekend_factor);
            (w.min(next), w.max(next))
        } else {
            (w, w)
        }
    }
}

/// The next time at or after `a` of a point that recurs every `period` from `first`.
#[inline]
fn next_at_or_after(a: f64, first: f64, period: f64) -> f64 {
    ((a - first) / period).ceil() * period + first
}

/// [`Shape::floor`] of a daily curve: the least level the raised cosine reaches over the
/// interval, times the least weekday factor of the days it covers; 0 (no bound) where
/// [`day_window`] gives none.
fn daily_floor(
    trough: f64,
    peak: f64,
    peak_hour: f64,
    weekend_factor: f64,
    a: f64,
    b: f64,
    clock: &Clock,
) -> f64 {
    let Some(w) = day_window(a, b, clock) else { return 0.0 };
    let (c_lo, c_hi) = w.raised_cosine_range(peak_hour * 3600.0);
    let level = |c: f64| trough + (peak - trough) * c;
    let (least, _) = w.weekday_range(weekend_factor);
    if least < 0.0 {
        return 0.0;
    }
    with_margin(level(c_lo).min(level(c_hi)) * least, (trough.abs() + peak.abs()) * least)
}

#[inline]
fn weekday_factor(weekday: u32, weekend_factor: f64) -> f64 {
    if weekday >= 5 { weekend_factor } else { 1.0 }
}

/// The factor of a spike at time `s`.
#[inline]
fn spike_factor(s: f64, start: f64, length: f64, m: f64, rise: f64, fall: f64) -> f64 {
    if s < start {
        1.0
    } else if s < start + rise {
        1.0 + (m - 1.0) * (s - start) / rise
    } else if s < start + length {
        m
    } else if s < start + length + fall {
        m + (1.0 - m) * (s - start - length) / fall
    } else {
        1.0
    }
}

impl Shape {
    /// The rate at `s` seconds after the start.
    #[inline]
    pub fn rate(&self, s: f64, clock: &Clock) -> f64 {
        match self {
            Shape::Constant(r) => *r,
            Shape::Steps(p) => {
                let i = p.partition_point(|&(t, _)| t <= s);
                p[i.saturating_sub(1)].1
            }
            Shape::Piecewise(p) => piecewise_at(p, s),
            Shape::Ramp { from, to, start, end } => ramp_at(*from, *to, *start, *end, s),
            Shape::Daily { trough, peak, peak_hour, weekend_factor } => {
                let lt = clock.local(from_secs_f64(s));
                let c = raised_cosine(lt.seconds_of_day, peak_hour * 3600.0);
                (trough + (peak - trough) * c) * weekday_factor(lt.weekday, *weekend_factor)
            }
            Shape::Sine { mean, amplitude, period, phase } => {
                (mean + amplitude * (TAU * (s - phase) / period).cos()).max(0.0)
            }
            Shape::Spike { base, start, length, multiplier, rise, fall } => {
                base.rate(s, clock) * spike_factor(s, *start, *length, *multiplier, *rise, *fall)
            }
            Shape::Sum(v) => v.iter().map(|x| x.rate(s, clock)).sum(),
            Shape::Scale { factor, of } => factor * of.rate(s, clock),
            Shape::Series { data, offset, speedup, looping } => {
                let mut tau = offset + s * speedup;
                if *looping {
                    tau = tau.rem_euclid(data.end);
                }
                data.at(tau) * speedup
            }
        }
    }

    /// An upper bound of the rate over `[a, b]` (true for every point, not just on average).
    pub fn bound(&self, a: f64, b: f64, clock: &Clock) -> f64 {
        match self {
            Shape::Constant(r) => *r,
            Shape::Steps(p) => {
                let mut m = self.rate(a, clock);
                let i0 = p.partition_point(|&(t, _)| t <= a);
                for &(t, r) in &p[i0..] {
                    if t > b {
                        break;
                    }
                    m = m.max(r);
                }
                m
            }
            Shape::Piecewise(p) => {
                let mut m = piecewise_at(p, a).max(piecewise_at(p, b));
                for &(t, r) in p.iter() {
                    if t > a && t < b {
                        m = m.max(r);
                    }
                }
                m
            }
            Shape::Ramp { from, to, start, end } => {
                ramp_at(*from, *to, *start, *end, a).max(ramp_at(*from, *to, *start, *end, b))
            }
            Shape::Daily { trough, peak, peak_hour, weekend_factor } => {
                let global = peak.max(*trough) * weekend_factor.max(1.0);
                let Some(w) = day_window(a, b, clock) else { return global };
                let (_, c) = w.raised_cosine_range(peak_hour * 3600.0);
                let (_, most) = w.weekday_range(*weekend_factor);
                (trough + (peak - trough) * c).max(*trough) * most
            }
            Shape::Sine { mean, amplitude, period, phase } => {
                let amp = amplitude.abs();
                let first = if *amplitude >= 0.0 { *phase } else { phase + period / 2.0 };
                let crest = next_at_or_after(a, first, *period);
                if crest <= b { (mean + amp).max(0.0) } else { self.rate(a, clock).max(self.rate(b, clock)) }
            }
            Shape::Spike { base, start, length, multiplier, rise, fall } => {
                let f = |s| spike_factor(s, *start, *length, *multiplier, *rise, *fall);
                let mut m = f(a).max(f(b));
                // Between breakpoints the factor is linear; at a breakpoint its one-sided limits
                // are 1 or `multiplier`, so either may be reached inside the interval.
                for bp in [*start, start + rise, start + length, start + length + fall] {
                    if bp >= a && bp <= b {
                        m = m.max(1.0).max(*multiplier);
                    }
                }
                base.bound(a, b, clock) * m
            }
            Shape::Sum(v) => v.iter().map(|x| x.bound(a, b, clock)).sum(),
            Shape::Scale { factor, of } => factor * of.bound(a, b, clock),
            Shape::Series { data, offset, speedup, looping } => {
                let ta = offset + a * speedup;
                let tb = offset + b * speedup;
                let m = if *looping {
                    if tb - ta >= data.end {
                        data.rates.iter().copied().fold(0.0, f64::max)
                    } else {
                        let ra = ta.rem_euclid(data.end);
                        let rb = ra + (tb - ta);
                        if rb < data.end {
                            data.max_over(ra, rb)
                        } else {
                            data.max_over(ra, data.end).max(data.max_over(0.0, rb - data.end))
                        }
                    }
                } else {
                    data.max_over(ta, tb)
                };
                m * speedup
            }
        }
    }

    /// A lower bound of the rate over `[a, b]` (true for every point, as the rate is computed,
    /// with a margin for rounding), or 0 where no cheap bound is known. Thinning accepts a
    /// candidate whose acceptance level is below it without evaluating the rate: the same
    /// decision, fewer evaluations (a sine or a daily curve costs a cosine, and a daily curve a
    /// time-zone conversion, per candidate).
    pub fn floor(&self, a: f64, b: f64, clock: &Clock) -> f64 {
        let lo = match self {
            Shape::Constant(r) => with_margin(*r, r.abs()),
            Shape::Sine { mean, amplitude, period, phase } => {
                let amp = amplitude.abs();
                let first_trough = if *amplitude >= 0.0 { phase + period / 2.0 } else { *phase };
                let trough = next_at_or_after(a, first_trough, *period);
                let v = if trough <= b { mean - amp } else { self.rate(a, clock).min(self.rate(b, clock)) };
                with_margin(v, mean.abs() + amp)
            }
            Shape::Daily { trough, peak, peak_hour, weekend_factor } => {
                daily_floor(*trough, *peak, *peak_hour, *weekend_factor, a, b, clock)
            }
            // Steps are exact: the least step over the interval.
            Shape::Steps(p) => {
                let i0 = p.partition_point(|&(t, _)| t <= a);
                p[i0..].iter().take_while(|&&(t, _)| t <= b).fold(self.rate(a, clock), |m, &(_, r)| m.min(r))
            }
            // Linear between points: the least of the ends and the points inside.
            Shape::Piecewise(p) => {
                let (ra, rb) = (piecewise_at(p, a), piecewise_at(p, b));
                let (mut lo, mut scale) = (ra.min(rb), ra.abs().max(rb.abs()));
                for &(_, r) in p.iter().filter(|&&(t, _)| t > a && t < b) {
                    (lo, scale) = (lo.min(r), scale.max(r.abs()));
                }
                with_margin(lo, scale)
            }
            Shape::Ramp { from, to, start, end } => {
                let (ra, rb) = (ramp_at(*from, *to, *start, *end, a), ramp_at(*from, *to, *start, *end, b));
                with_margin(ra.min(rb), from.abs().max(to.abs()))
            }
            Shape::Scale { factor, of } if *factor >= 0.0 => factor * of.floor(a, b, clock),
            Shape::Sum(v) => v.iter().map(|x| x.floor(a, b, clock)).sum(),
            _ => 0.0,
        };
        lo.max(0.0)
    }

    /// The integral of the rate over `[a, b]`: the expected number of requests there.
    ///
    /// Exact for constant rates and recorded series; composite Simpson with steps of at most one
    /// second otherwise (negligible error for the smooth and piecewise-linear shapes).
    pub fn integral(&self, a: f64, b: f64, clock: &Clock) -> f64 {
        if b <= a {
            return 0.0;
        }
        match self {
            Shape::Constant(r) => r * (b - a),
            Shape::Sum(v) => v.iter().map(|x| x.integral(a, b, clock)).sum(),
            Shape::Scale { factor, of } => factor * of.integral(a, b, clock),
            Shape::Series { data, offset, speedup, looping } => {
                let ta = offset + a * speedup;
                let tb = offset + b * speedup;
                if !*looping {
                    return data.integral(ta, tb);
                }
                let total = data.integral(0.0, data.end);
                let laps_a = (ta / data.end).floor();
                let laps_b = (tb / data.end).floor();
                let ra = ta - laps_a * data.end;
                let rb = tb - laps_b * data.end;
                (laps_b - laps_a) * total - data.integral(0.0, ra) + data.integral(0.0, rb)
            }
            _ => {
                // Split at the shape's kinks and jumps so Simpson only sees smooth pieces.
                let mut cuts = vec![a, b];
                self.breakpoints(a, b, clock, &mut cuts);
                cuts.retain(|&x| x >= a && x <= b);
                cuts.sort_by(f64::total_cmp);
                cuts.dedup();
                cuts.windows(2).map(|w| self.simpson(w[0], w[1], clock)).sum()
            }
        }
    }

    fn simpson(&self, a: f64, b: f64, clock: &Clock) -> f64 {
        if b <= a {
            return 0.0;
        }
        let n = ((b - a).ceil() as usize).clamp(2, 50_000_000);
        let n = n + n % 2;
        let h = (b - a) / n as f64;
        // Evaluate just inside the ends so a jump exactly at a cut belongs to the right piece.
        let eps = h * 1e-9;
        let mut sum = self.rate(a + eps, clock) + self.rate(b - eps, clock);
        for i in 1..n {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            sum += w * self.rate(a + h * i as f64, clock);
        }
        sum * h / 3.0
    }

    /// Times in `[a, b]` where the rate may jump or bend (for integration).
    fn breakpoints(&self, a: f64, b: f64, clock: &Clock, out: &mut Vec<f64>) {
        match self {
            Shape::Steps(p) | Shape::Piecewise(p) => out.extend(p.iter().map(|&(t, _)| t)),
            Shape::Ramp { start, end, .. } => out.extend([*start, *end]),
            Shape::Daily { .. } => {
                // Local midnights (weekend factor jumps), approximately; DST shifts are small.
                let sod = clock.local(from_secs_f64(a)).seconds_of_day;
                let mut m = a + (DAY - sod);
                while m < b {
                    out.push(m);
                    m += DAY;
                }
            }
            Shape::Spike { base, start, length, rise, fall, .. } => {
                out.extend([*start, start + rise, start + length, start + length + fall]);
                base.breakpoints(a, b, clock, out);
            }
            Shape::Sum(v) => v.iter().for_each(|x| x.breakpoints(a, b, clock, out)),
            Shape::Scale { of, .. } => of.breakpoints(a, b, clock, out),
            Shape::Constant(_) | Shape::Sine { .. } | Shape::Series { .. } => {}
        }
    }

    /// The rates the shape's own parameters name: a daily curve's trough and peak (and both
    /// times its weekend factor), a ramp's `from` and `to`, a sine's crest and trough (clipped at
    /// 0), the rates of steps, points and recorded series, and those of the parts of a spike or a
    /// scaled shape. A sum names none (its extremes are not its parts'). Sampling the rate on a
    /// grid falls a hair short of an extreme between grid points (50.0000001 for a trough of 50);
    /// these are the values to read such a sample as.
    pub fn levels(&self) -> Vec<f64> {
        match self {
            Shape::Constant(r) => vec![*r],
            Shape::Steps(p) | Shape::Piecewise(p) => p.iter().map(|&(_, r)| r).collect(),
            Shape::Ramp { from, to, .. } => vec![*from, *to],
            Shape::Daily { trough, peak, weekend_factor, .. } => {
                vec![*trough, *peak, trough * weekend_factor, peak * weekend_factor]
            }
            Shape::Sine { mean, amplitude, .. } => {
                vec![(mean + amplitude.abs()).max(0.0), (mean - amplitude.abs()).max(0.0)]
            }
            Shape::Spike { base, multiplier, .. } => {
                let b = base.levels();
                b.iter().copied().chain(b.iter().map(|x| x * multiplier)).collect()
            }
            Shape::Sum(_) => Vec::new(),
            Shape::Scale { factor, of } => of.levels().into_iter().map(|x| factor * x).collect(),
            Shape::Series { data, speedup, .. } => data.rates.iter().map(|r| r * speedup).collect(),
        }
    }

    /// The same shape seen from `by` seconds later: its rate at `s` is this shape's at `by + s`
    /// (the daily curve reads the clock, which the caller shifts with [`Clock::shifted`]).
    pub fn shifted(&self, by: f64) -> Shape {
        let times =
            |p: &Arc<[(f64, f64)]>| -> Arc<[(f64, f64)]> { p.iter().map(|&(t, r)| (t - by, r)).collect() };
        match self {
            Shape::Constant(_) | Shape::Daily { .. } => self.clone(),
            Shape::Steps(p) => Shape::Steps(times(p)),
            Shape::Piecewise(p) => Shape::Piecewise(times(p)),
            Shape::Ramp { from, to, start, end } => {
                Shape::Ramp { from: *from, to: *to, start: start - by, end: end - by }
            }
            Shape::Sine { mean, amplitude, period, phase } => {
                Shape::Sine { mean: *mean, amplitude: *amplitude, period: *period, phase: phase - by }
            }
            Shape::Spike { base, start, length, multiplier, rise, fall } => Shape::Spike {
                base: Arc::new(base.shifted(by)),
                start: start - by,
                length: *length,
                multiplier: *multiplier,
                rise: *rise,
                fall: *fall,
            },
            Shape::Sum(v) => Shape::Sum(v.iter().map(|x| x.shifted(by)).collect()),
            Shape::Scale { factor, of } => Shape::Scale { factor: *factor, of: Arc::new(of.shifted(by)) },
            Shape::Series { data, offset, speedup, looping } => Shape::Series {
                data: data.clone(),
                offset: offset + by * speedup,
                speedup: *speedup,
                looping: *looping,
            },
        }
    }

    /// When the shape ends: after this time (seconds) its rate is 0 for good; `None` when it
    /// never ends. Only non-looping recorded series end.
    pub fn end(&self) -> Option<f64> {
        match self {
            Shape::Series { data, offset, speedup, looping: false } => {
                Some(((data.end - offset) / speedup).max(0.0))
            }
            Shape::Scale { of, .. } => of.end(),
            Shape::Spike { base, .. } => base.end(),
            Shape::Sum(v) => {
                let mut m: f64 = 0.0;
                for s in v.iter() {
                    m = m.max(s.end()?);
                }
                Some(m)
            }
            _ => None,
        }
    }
}

#[inline]
fn piecewise_at(p: &[(f64, f64)], s: f64) -> f64 {
    if s <= p[0].0 {
        return p[0].1;
    }
    let last = p[p.len() - 1];
    if s >= last.0 {
        return last.1;
    }
    let i = p.partition_point(|&(t, _)| t <= s);
    let (t0, r0) = p[i - 1];
    let (t1, r1) = p[i];
    r0 + (r1 - r0) * (s - t0) / (t1 - t0)
}

#[inline]
fn ramp_at(from: f64, to: f64, start: f64, end: f64, s: f64) -> f64 {
    if s <= start {
        from
    } else if s >= end {
        to
    } else {
        from + (to - from) * (s - start) / (end - start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn shapes() -> Vec<Shape> {
        let daily = Shape::Daily { trough: 50.0, peak: 200.0, peak_hour: 14.0, weekend_factor: 0.5 };
        let daily_we = Shape::Daily { trough: 10.0, peak: 20.0, peak_hour: 23.5, weekend_factor: 3.0 };
        let series = Arc::new(RateSeries {
            starts: vec![0.0, 60.0, 120.0, 180.0],
            rates: vec![5.0, 50.0, 0.0, 20.0],
            end: 240.0,
        });
        vec![
            Shape::Constant(7.0),
            Shape::Steps(vec![(0.0, 5.0), (100.0, 50.0), (250.5, 1.0)].into()),
            Shape::Piecewise(vec![(10.0, 5.0), (100.0, 50.0), (250.5, 1.0)].into()),
            Shape::Ramp { from: 1.0, to: 9.0, start: 30.0, end: 330.0 },
            daily.clone(),
            daily_we,
            Shape::Sine { mean: 10.0, amplitude: 12.0, period: 97.0, phase: 13.0 },
            Shape::Sine { mean: 10.0, amplitude: -4.0, period: 50.0, phase: 0.0 },
            Shape::Spike {
                base: Arc::new(daily.clone()),
                start: 100.0,
                length: 200.0,
                multiplier: 10.0,
                rise: 60.0,
                fall: 0.0,
            },
            Shape::Spike {
                base: Arc::new(Shape::Constant(3.0)),
                start: 100.0,
                length: 50.0,
                multiplier: 0.1,
                rise: 0.0,
                fall: 30.0,
            },
            Shape::Sum(vec![Shape::Constant(1.0), daily.clone()].into()),
            Shape::Scale { factor: 2.5, of: Arc::new(daily) },
            Shape::Series { data: series.clone(), offset: 30.0, speedup: 2.0, looping: true },
            Shape::Series { data: series, offset: 0.0, speedup: 1.0, looping: false },
        ]
    }

    #[test]
    fn a_shifted_shape_is_the_same_curve_later() {
        let clock = Clock::utc_monday(8 * 86_400 * crate::time::SECOND);
        for by in [0.0, 45.0, 100.0, 3600.0 * 13.0] {
            let later = clock.shifted(from_secs_f64(by));
            for shape in shapes() {
                let s2 = shape.shifted(by);
                for s in [0.0, 1.5, 20.0, 99.0, 130.0, 251.0, 400.0, 7200.0] {
                    let (a, b) = (shape.rate(by + s, &clock), s2.rate(s, &later));
                    assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{shape:?} +{by} at {s}: {a} vs {b}");
                }
                let (a, b) =
                    (shape.integral(by + 10.0, by + 500.0, &clock), s2.integral(10.0, 500.0, &later));
                assert!((a - b).abs() <= 1e-6 * a.abs().max(1.0), "{shape:?} +{by}: {a} vs {b}");
                assert_eq!(shape.end().map(|e| (e - by).max(0.0)), s2.end(), "{shape:?} +{by}");
            }
        }
    }

    #[test]
    fn bound_is_a_true_upper_bound() {
        let clock = Clock::utc_monday(8 * 86_400 * crate::time::SECOND);
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        for shape in shapes() {
            for _ in 0..3000 {
                let a: f64 = rng.random_range(0.0..7.0 * DAY);
                let a = if rng.random_bool(0.5) { a } else { rng.random_range(0.0..500.0) };
                let len: f64 = [0.5, 10.0, 61.0, 7200.0][rng.random_range(0..4)];
                let b = a + len;
                let bound = shape.bound(a, b, &clock);
                for k in 0..=20 {
                    let s = a + (b - a) * k as f64 / 20.0;
                    let r = shape.rate(s, &clock);
                    assert!(
                        r <= bound * (1.0 + 1e-9) + 1e-12,
                        "{shape:?} at {s} in [{a},{b}]: {r} > {bound}"
                    );
                }
            }
        }
    }

    #[test]
    fn floor_is_a_true_lower_bound_and_tight_where_known() {
        let clocks = [
            Clock::utc_monday(8 * 86_400 * crate::time::SECOND),
            // A zone with daylight saving, across its spring change.
            Clock::new(
                chrono::NaiveDate::from_ymd_opt(2025, 3, 28).unwrap().and_hms_opt(0, 0, 0).unwrap(),
                "Europe/Berlin".parse().unwrap(),
                8 * 86_400 * crate::time::SECOND,
            ),
        ];
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let mut extra = shapes();
        extra.push(Shape::Sine { mean: 150.0, amplitude: 150.0, period: 600.0, phase: 0.0 });
        extra.push(Shape::Sine { mean: 100.0, amplitude: -80.0, period: 90.0, phase: 7.0 });
        extra.push(Shape::Daily { trough: 300.0, peak: 20.0, peak_hour: 3.0, weekend_factor: 1.7 });
        for clock in &clocks {
            for shape in &extra {
                for _ in 0..3000 {
                    let a: f64 = rng.random_range(0.0..7.0 * DAY);
                    let a = if rng.random_bool(0.5) { a } else { rng.random_range(0.0..500.0) };
                    let len: f64 = [0.5, 10.0, 61.0, 7200.0][rng.random_range(0..4)];
                    let b = a + len;
                    let floor = shape.floor(a, b, clock);
                    let mut least = f64::INFINITY;
                    for k in 0..=40 {
                        let s = a + (b - a) * k as f64 / 40.0;
                        let r = shape.rate(s, clock);
                        least = least.min(r);
                        assert!(floor <= r, "{shape:?} at {s} in [{a},{b}]: floor {floor} > rate {r}");
                    }
                    // Where a floor is known, over a 10 s chunk it is within 1e-6 of the least
                    // rate (up to the sampling of the interval).
                    if floor > 0.0 && len <= 10.0 {
                        let slope_room = 1e-6 * least.abs().max(1.0) + 0.5 * len;
                        assert!(
                            least - floor <= slope_room,
                            "{shape:?} [{a},{b}]: floor {floor}, least {least}"
                        );
                    }
                }
            }
        }
        // Known floors: a constant is its own (less the margin), a sine's trough, a daily
        // curve's weekend trough.
        let c = &clocks[0];
        assert!((Shape::Constant(40.0).floor(0.0, 10.0, c) - 40.0).abs() < 1e-6);
        let sine = Shape::Sine { mean: 200.0, amplitude: 150.0, period: 3600.0, phase: 900.0 };
        assert!((sine.floor(0.0, 3600.0, c) - 50.0).abs() < 1e-6);
        let daily = Shape::Daily { trough: 50.0, peak: 200.0, peak_hour: 14.0, weekend_factor: 0.5 };
        assert!((daily.floor(5.0 * DAY, 5.0 * DAY + 5.0 * 3600.0, c) - 25.0).abs() < 1e-3);
    }

    #[test]
    fn daily_curve_peaks_and_weekend() {
        let clock = Clock::utc_monday(8 * 86_400 * crate::time::SECOND);
        let d = Shape::Daily { trough: 50.0, peak: 200.0, peak_hour: 14.0, weekend_factor: 0.5 };
        assert!((d.rate(14.0 * 3600.0, &clock) - 200.0).abs() < 1e-9);
        assert!((d.rate(2.0 * 3600.0, &clock) - 50.0).abs() < 1e-9);
        // Saturday 14:00.
        assert!((d.rate(5.0 * DAY + 14.0 * 3600.0, &clock) - 100.0).abs() < 1e-9);
        // Weekday mean is (trough + peak) / 2.
        let mean = d.integral(0.0, DAY, &clock) / DAY;
        assert!((mean - 125.0).abs() < 1e-6, "{mean}");
    }

    #[test]
    fn spike_reaches_multiplier_after_rise() {
        let clock = Clock::utc_monday(crate::time::SECOND);
        let s = Shape::Spike {
            base: Arc::new(Shape::Constant(10.0)),
            start: 60.0,
            length: 120.0,
            multiplier: 10.0,
            rise: 60.0,
            fall: 0.0,
        };
        assert_eq!(s.rate(59.0, &clock), 10.0);
        assert!((s.rate(90.0, &clock) - 55.0).abs() < 1e-9);
        assert_eq!(s.rate(120.0, &clock), 100.0);
        assert_eq!(s.rate(180.0, &clock), 10.0);
        let area = s.integral(0.0, 300.0, &clock);
        assert!((area - (300.0 * 10.0 + 90.0 * 30.0 + 90.0 * 60.0)).abs() < 1e-6, "{area}");
    }

    #[test]
    fn series_integral_and_loop() {
        let clock = Clock::utc_monday(crate::time::SECOND);
        let data = Arc::new(RateSeries { starts: vec![0.0, 10.0], rates: vec![1.0, 3.0], end: 20.0 });
        let s = Shape::Series { data: data.clone(), offset: 5.0, speedup: 1.0, looping: true };
        assert_eq!(s.rate(0.0, &clock), 1.0);
        assert_eq!(s.rate(5.0, &clock), 3.0);
        assert_eq!(s.rate(15.0, &clock), 1.0);
        assert!((s.integral(0.0, 40.0, &clock) - 80.0).abs() < 1e-9);
        assert!((s.integral(0.0, 7.0, &clock) - (5.0 + 6.0)).abs() < 1e-9);
        let fast = Shape::Series { data, offset: 0.0, speedup: 2.0, looping: false };
        assert_eq!(fast.rate(6.0, &clock), 6.0);
        assert!((fast.integral(0.0, 100.0, &clock) - 40.0).abs() < 1e-9);
        assert_eq!(fast.end(), Some(10.0));
    }
}
