//! Simulated time and the scenario's wall clock.
//!
//! The engine counts time as an integer number of microseconds since the start of the
//! simulation ([`Time`]), so that windows compare exactly and nothing drifts. [`Clock`] maps
//! simulated time to the scenario's local civil time (IANA time zone, daylight saving included),
//! which schedules, daily traffic curves and chart axes need.

use chrono::{DateTime, Datelike, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;

/// Simulated time: microseconds since the start of the simulation.
pub type Time = u64;

/// One second in [`Time`] units.
pub const SECOND: Time = 1_000_000;
/// One millisecond in [`Time`] units.
pub const MILLISECOND: Time = 1_000;

/// The longest span any single conversion into [`Time`] yields: 2^62 µs (about 146 000
/// years). Adding it to any simulated instant (at most [`MAX_VALUE_SECS`] after the start) cannot
/// overflow a `u64`, so a sampled service time or startup from a heavy tail saturates here rather
/// than wrapping round to a small number.
pub const MAX_SPAN: Time = 1 << 62;

/// The largest number of seconds a scenario may write for anything that becomes [`Time`]
/// (durations, service demands, startup times, intervals): 3660 days, the longest supported
/// simulation. Checked at validation, with the key and its line.
pub const MAX_VALUE_SECS: f64 = 3660.0 * 86_400.0;

/// Converts seconds (possibly fractional, non-negative) to [`Time`], rounding to the
/// microsecond. Negative and NaN give 0; anything above [`MAX_SPAN`] saturates there (never
/// wraps). Values a user writes are range-checked before they get here ([`checked_from_secs`]).
#[inline]
pub fn from_secs_f64(s: f64) -> Time {
    let us = s * 1e6;
    if us >= MAX_SPAN as f64 {
        MAX_SPAN
    } else if us > 0.0 {
        us.round() as Time
    } else {
        0
    }
}

/// Converts a number of seconds a user wrote to [`Time`]: an error (for the caller to attach to
/// its key) when it is not a finite number in `0..=`[`MAX_VALUE_SECS`].
pub fn checked_from_secs(s: f64) -> Result<Time, String> {
    if !s.is_finite() || s < 0.0 {
        return Err(format!("found {s}, expected a non-negative number of seconds"));
    }
    if s > MAX_VALUE_SECS {
        return Err(format!(
            "found {} seconds, more than the longest supported time ({MAX_VALUE_SECS} s, 3660 days)",
            fmt_big(s)
        ));
    }
    Ok(from_secs_f64(s))
}

/// A number for a message: as written for ordinary sizes, in scientific notation (`1e308`) when
/// the digits would fill the line.
pub fn fmt_big(x: f64) -> String {
    if x.is_finite() && x.abs() >= 1e12 { format!("{x:e}") } else { format!("{x}") }
}

/// Converts whole seconds (e.g. a manifest's `pollingInterval`) to [`Time`], or `None` when
/// they exceed [`MAX_VALUE_SECS`].
pub fn checked_whole_secs(s: u64) -> Option<Time> {
    (s as f64 <= MAX_VALUE_SECS).then(|| s * SECOND)
}

/// Converts [`Time`] to seconds.
#[inline]
pub fn to_secs_f64(t: Time) -> f64 {
    t as f64 * 1e-6
}

/// Converts a [`std::time::Duration`] to [`Time`] (saturating at [`MAX_SPAN`]).
pub fn from_duration(d: std::time::Duration) -> Time {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).min(MAX_SPAN)
}

/// The scenario's clock: simulated time 0 is `start` in time zone `tz`.
///
/// Local-time queries on the hot path (daily traffic curves) use a precomputed table of UTC
/// offsets, so they cost a binary search and integer arithmetic, not a time-zone lookup.
#[derive(Debug, Clone)]
pub struct Clock {
    start: DateTime<Tz>,
    tz: Tz,
    start_epoch: i64,
    /// (simulated second from which the offset applies, UTC offset in seconds), ascending.
    offsets: Vec<(i64, i32)>,
}

/// A local civil time, broken down for fast time-of-day logic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalTime {
    /// Day of the week, Monday = 0 … Sunday = 6.
    pub weekday: u32,
    /// Seconds since local midnight, fractional.
    pub seconds_of_day: f64,
}

impl Clock {
    /// A clock whose simulated time 0 is `start` (a local date-time in `tz`), covering at least
    /// `horizon` of simulated time for fast offset lookups (later times fall back to the last
    /// known offset). A local time that does not exist (inside a DST gap) is moved forward.
    pub fn new(start: NaiveDateTime, tz: Tz, horizon: Time) -> Clock {
        let start = resolve_local(tz, start);
        let start_epoch = start.timestamp();
        let mut offsets = Vec::new();
        let horizon_s = (horizon / SECOND) as i64 + 2 * 86_400;
        let mut last: Option<i32> = None;
        // DST transitions fall on quarter hours in every zone of the IANA database.
        let step = 900;
        let mut s = 0i64;
        while s <= horizon_s {
            let utc = DateTime::from_timestamp(start_epoch + s, 0).expect("timestamp in range");
            let off = tz.offset_from_utc_datetime(&utc.naive_utc()).fix().local_minus_utc();
            if last != Some(off) {
                // Refine the transition to the exact second by bisection.
                let from = if let Some(prev) = last {
                    let (mut lo, mut hi) = (s - step, s);
                    while hi - lo > 1 {
                        let mid = (lo + hi) / 2;
                        let u = DateTime::from_timestamp(start_epoch + mid, 0).expect("in range");
                        let o = tz.offset_from_utc_datetime(&u.naive_utc()).fix().local_minus_utc();
                        if o == prev { lo = mid } else { hi = mid }
                    }
                    hi
                } else {
                    0
                };
                offsets.push((from, off));
                last = Some(off);
            }
            s += step;
        }
        Clock { start, tz, start_epoch, offsets }
    }

    /// The same clock with simulated time 0 moved `by` later (whole seconds; a fraction is
    /// dropped): its time `t` is this clock's `by + t`.
    pub fn shifted(&self, by: Time) -> Clock {
        let s = (by / SECOND) as i64;
        let idx = self.offsets.partition_point(|&(from, _)| from <= s);
        let mut offsets = vec![(0, self.offsets[idx.saturating_sub(1)].1)];
        offsets.extend(self.offsets[idx..].iter().map(|&(from, off)| (from - s, off)));
        Clock {
            start: self.datetime(by - by % SECOND),
            tz: self.tz,
            start_epoch: self.start_epoch + s,
            offsets,
        }
    }

    /// A UTC clock starting at 2025-01-06 00:00 (a Monday), for tests and defaults.
    pub fn utc_monday(horizon: Time) -> Clock {
        let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 6)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("valid date");
        Clock::new(start, chrono_tz::UTC, horizon)
    }

    /// The start instant, in the scenario's time zone.
    pub fn start(&self) -> DateTime<Tz> {
        self.start
    }

    /// The scenario's time zone.
    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// Unix epoch seconds of simulated time 0.
    pub fn start_epoch(&self) -> i64 {
        self.start_epoch
    }

    /// The instant at simulated time `t`, in the scenario's time zone.
    pub fn datetime(&self, t: Time) -> DateTime<Tz> {
        let micros = (t % SECOND) as u32 * 1000;
        let utc = DateTime::from_timestamp(self.start_epoch + (t / SECOND) as i64, micros)
            .expect("timestamp in range");
        utc.with_timezone(&self.tz)
    }

    /// Simulated time of an instant (saturating at 0 for instants before the start).
    pub fn sim_time(&self, at: &DateTime<Tz>) -> Time {
        let d = at.timestamp_micros() - self.start_epoch * 1_000_000;
        if d <= 0 { 0 } else { d as Time }
    }

    /// Local weekday and time of day at simulated time `t` (fast path).
    #[inline]
    pub fn local(&self, t: Time) -> LocalTime {
        let secs = (t / SECOND) as i64;
        let idx = self.offsets.partition_point(|&(from, _)| from <= secs);
        let off = self.offsets[idx.saturating_sub(1)].1 as i64;
        let local = self.start_epoch + secs + off;
        let day = local.div_euclid(86_400);
        let sod = local.rem_euclid(86_400) as f64 + (t % SECOND) as f64 * 1e-6;
        // 1970-01-01 was a Thursday (weekday 3 with Monday = 0).
        let weekday = (day + 3).rem_euclid(7) as u32;
        LocalTime { weekday, seconds_of_day: sod }
    }

    /// Formats simulated time `t` as local clock time, `HH:MM`, prefixed with the weekday
    /// when `with_day` is set (chart axes).
    pub fn label(&self, t: Time, with_day: bool) -> String {
        let dt = self.datetime(t);
        if with_day {
            format!("{} {:02}:{:02}", dt.weekday(), dt.hour(), dt.minute())
        } else {
            format!("{:02}:{:02}", dt.hour(), dt.minute())
        }
    }
}

/// Resolves a local date-time in `tz`, moving a nonexistent time (DST gap) forward.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Tz> {
    let mut l = local;
    for _ in 0..240 {
        match tz.from_local_datetime(&l) {
            chrono::LocalResult::Single(d) => return d,
            chrono::LocalResult::Ambiguous(a, _) => return a,
            chrono::LocalResult::None => l += chrono::Duration::minutes(1),
        }
    }
    tz.from_utc_datetime(&local)
}

/// A moment of a run written by a person: seconds from the start (`3600`, `90.5`), a local
/// time of day `HH:MM[:SS]` (its first occurrence at or after the start, in the scenario's time
/// zone), a local date and time `YYYY-MM-DD HH:MM[:SS]` (or with `T`), or an RFC 3339 instant
/// (`2025-03-04T14:05:00Z`, `…+01:00`).
pub fn parse_moment(text: &str, clock: &Clock) -> Result<Time, String> {
    use chrono::{NaiveDate, NaiveTime};
    let t = text.trim();
    if let Ok(s) = t.parse::<f64>() {
        if !(s.is_finite() && s >= 0.0) {
            return Err(format!("`{text}`: seconds from the start must be ≥ 0"));
        }
        return Ok(from_secs_f64(s));
    }
    let start = clock.start();
    let since_start = |at: DateTime<Tz>| -> Result<Time, String> {
        if at < start {
            Err(format!("`{text}` is before the scenario starts ({})", start.to_rfc3339()))
        } else {
            Ok(clock.sim_time(&at))
        }
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return since_start(at.with_timezone(&clock.tz()));
    }
    for f in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(t, f) {
            return since_start(resolve_local(clock.tz(), local));
        }
    }
    for f in ["%H:%M:%S", "%H:%M"] {
        if let Ok(tod) = NaiveTime::parse_from_str(t, f) {
            let day: NaiveDate = start.date_naive();
            let mut at = resolve_local(clock.tz(), day.and_time(tod));
            if at < start {
                at = resolve_local(clock.tz(), (day + chrono::Duration::days(1)).and_time(tod));
            }
            return Ok(clock.sim_time(&at));
        }
    }
    Err(format!(
        "`{text}`: expected seconds from the start, a local time HH:MM[:SS], a local date and time YYYY-MM-DD HH:MM[:SS], or RFC 3339"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_parse_in_every_form() {
        let start = chrono::NaiveDate::from_ymd_opt(2025, 3, 4).unwrap().and_hms_opt(6, 0, 0).unwrap();
        let c = Clock::new(start, chrono_tz::Europe::London, 3 * 86_400 * SECOND);
        assert_eq!(parse_moment("90.5", &c), Ok(90_500_000));
        assert_eq!(parse_moment("07:00", &c), Ok(3600 * SECOND));
        assert_eq!(parse_moment("05:00:30", &c), Ok((23 * 3600 + 30) * SECOND), "tomorrow");
        assert_eq!(parse_moment("2025-03-04T08:00:00Z", &c), Ok(2 * 3600 * SECOND));
        assert_eq!(parse_moment("2025-03-04 09:00", &c), Ok(3 * 3600 * SECOND));
        assert!(parse_moment("2025-03-03T08:00:00Z", &c).unwrap_err().contains("before"));
        assert!(parse_moment("noon", &c).is_err());
    }

    #[test]
    fn local_time_follows_dst() {
        // 2025-03-30 01:00 UTC: Europe/London goes from GMT to BST.
        let start = chrono::NaiveDate::from_ymd_opt(2025, 3, 29).unwrap().and_hms_opt(12, 0, 0).unwrap();
        let c = Clock::new(start, chrono_tz::Europe::London, 3 * 86_400 * SECOND);
        assert_eq!(c.local(0).seconds_of_day, 12.0 * 3600.0);
        assert_eq!(c.local(0).weekday, 5); // Saturday
        // 24 h later it is 13:00 local (clocks went forward).
        let l = c.local(86_400 * SECOND);
        assert_eq!(l.seconds_of_day, 13.0 * 3600.0);
        assert_eq!(l.weekday, 6);
        assert_eq!(c.label(86_400 * SECOND, false), "13:00");
    }

    #[test]
    fn conversions_saturate_and_check() {
        assert_eq!(from_secs_f64(1.5), 1_500_000);
        assert_eq!(from_secs_f64(-1.0), 0);
        assert_eq!(from_secs_f64(f64::NAN), 0);
        assert_eq!(from_secs_f64(2e13), MAX_SPAN);
        assert_eq!(from_secs_f64(f64::INFINITY), MAX_SPAN);
        assert!(MAX_SPAN.checked_add(from_secs_f64(MAX_VALUE_SECS)).is_some());
        assert_eq!(checked_from_secs(2.0), Ok(2 * SECOND));
        assert!(checked_from_secs(1e14).unwrap_err().contains("3660 days"));
        assert!(checked_from_secs(f64::NAN).is_err());
        assert_eq!(checked_whole_secs(30), Some(30 * SECOND));
        assert_eq!(checked_whole_secs(u64::MAX), None);
    }

    #[test]
    fn a_shifted_clock_reads_the_same_local_times() {
        let start = chrono::NaiveDate::from_ymd_opt(2025, 3, 29).unwrap().and_hms_opt(12, 0, 0).unwrap();
        let c = Clock::new(start, chrono_tz::Europe::London, 3 * 86_400 * SECOND);
        for by_h in [0, 5, 13, 14, 30] {
            let by = by_h * 3600 * SECOND;
            let d = c.shifted(by);
            assert_eq!(d.start(), c.datetime(by));
            for t_h in [0, 1, 12, 13, 20] {
                let t = t_h * 3600 * SECOND + 250_000;
                assert_eq!(d.local(t), c.local(by + t), "shift {by_h} h, t {t_h} h");
                assert_eq!(d.label(t, true), c.label(by + t, true));
            }
        }
    }

    #[test]
    fn utc_monday_is_monday() {
        let c = Clock::utc_monday(SECOND);
        assert_eq!(c.local(0).weekday, 0);
        assert_eq!(c.local(SECOND / 2).seconds_of_day, 0.5);
    }
}
