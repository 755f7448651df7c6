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
        // `us.round()` (half away from zero) without a call to libm's `round`, which the
        // baseline x86-64 has no instruction for: exact for 0 < us < 2^62, since `us - t` is
        // exact (Sterbenz) and an `us` of 2^52 or more is already whole.
        let t = us as i64;
        (t + (us - t as f64 >= 0.5) as i64) as Time
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

impl Clock {
    /// Simulated time `t` as a local clock time for people: `HH:MM:SS` (with `.mmm` when `t`
    /// is not a whole second), prefixed with the date (`2025-06-02 08:22:30`) when `with_date`
    /// is set — see [`spans_days`](Self::spans_days).
    pub fn clock_time(&self, t: Time, with_date: bool) -> String {
        let dt = self.datetime(t);
        let mut s = if with_date {
            dt.format("%Y-%m-%d %H:%M:%S").to_string()
        } else {
            dt.format("%H:%M:%S").to_string()
        };
        let ms = (t % SECOND) / MILLISECOND;
        if !t.is_multiple_of(SECOND) {
            s.push_str(&format!(".{ms:03}"));
        }
        s
    }

    /// Whether a run of length `horizon` from this clock's start covers more than one local
    /// date (then a clock time alone is ambiguous and [`clock_time`](Self::clock_time) needs the
    /// date).
    pub fn spans_days(&self, horizon: Time) -> bool {
        self.start.date_naive() != self.datetime(horizon.saturating_sub(1)).date_naive()
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

/// The forms a moment of a run may be written in ([`parse_moment`]), for messages.
pub const MOMENT_FORMS: &str = "an offset from the start (`2h`, `90m`, `1h30m`, `45s`, or seconds: `5400`), \
a clock time (`08:22` or `08:22:30`, in the scenario's time zone) or a date and time \
(`2025-06-02T08:22:30` in the scenario's time zone, or RFC 3339 such as `2025-06-02T08:22:30Z`)";

/// A moment of a run, as [`parse_moment`] read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    /// Simulated time.
    pub at: Time,
    /// Written to the minute (a clock time or date-time without seconds, `08:22`): it names the
    /// whole minute `[at, at + 60 s)`, not only its first instant.
    pub minute: bool,
}

/// Reads a moment of a run written by a person — one parser for every option that takes a time
/// (`explain decision --at`, both ends of `--window`):
///
/// * an offset from the start: `2h`, `90m`, `1h30m`, `45s`, `0`, or a number of seconds
///   (`5400`, `90.5`);
/// * a local clock time `HH:MM` or `HH:MM:SS[.fff]`: its first occurrence at or after `after`
///   (simulated time; 0 for the start), in the scenario's time zone;
/// * a local date and time `YYYY-MM-DDTHH:MM[:SS]` (or with a space for `T`) in the scenario's
///   time zone, or an RFC 3339 instant (`2025-03-04T14:05:00Z`, `…+01:00`).
///
/// A date and time before the start is an error. The error names what was found and the forms
/// expected ([`MOMENT_FORMS`]); callers prefix the option's name.
pub fn parse_moment(text: &str, clock: &Clock, after: Time) -> Result<Moment, String> {
    use chrono::{NaiveDate, NaiveTime};
    let t = text.trim();
    let bad = || format!("found `{text}`; expected {MOMENT_FORMS}");
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(s) = t.parse::<f64>() {
        if !(s.is_finite() && s >= 0.0) {
            return Err(format!(
                "found `{text}`: an offset from the start must be a finite number of seconds ≥ 0; expected {MOMENT_FORMS}"
            ));
        }
        return checked_from_secs(s)
            .map(|at| Moment { at, minute: false })
            .map_err(|e| format!("`{text}`: {e}"));
    }
    if let Ok(d) = humantime::parse_duration(t) {
        return checked_from_secs(d.as_secs_f64())
            .map(|at| Moment { at, minute: false })
            .map_err(|e| format!("`{text}`: {e}"));
    }
    let start = clock.start();
    let since_start = |at: DateTime<Tz>, minute: bool| -> Result<Moment, String> {
        if at < start {
            Err(format!(
                "found `{text}`, which is before the run starts ({}); expected a time within the run",
                start.format("%Y-%m-%d %H:%M:%S %Z")
            ))
        } else {
            Ok(Moment { at: clock.sim_time(&at), minute })
        }
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return since_start(at.with_timezone(&clock.tz()), false);
    }
    for (f, minute) in [
        ("%Y-%m-%dT%H:%M:%S%.f", false),
        ("%Y-%m-%d %H:%M:%S%.f", false),
        ("%Y-%m-%dT%H:%M", true),
        ("%Y-%m-%d %H:%M", true),
    ] {
        if let Ok(local) = NaiveDateTime::parse_from_str(t, f) {
            return since_start(resolve_local(clock.tz(), local), minute);
        }
    }
    for (f, minute) in [("%H:%M:%S%.f", false), ("%H:%M", true)] {
        if let Ok(tod) = NaiveTime::parse_from_str(t, f) {
            let from = clock.datetime(after);
            let day: NaiveDate = from.date_naive();
            let mut at = resolve_local(clock.tz(), day.and_time(tod));
            if at < from {
                at = resolve_local(clock.tz(), (day + chrono::Duration::days(1)).and_time(tod));
            }
            return Ok(Moment { at: clock.sim_time(&at), minute });
        }
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The inline rounding of `from_secs_f64` is `f64::round` (half away from zero), on halves,
    /// their neighbours, every binade and random values.
    #[test]
    fn from_secs_f64_rounds_as_round() {
        let reference = |s: f64| {
            let us = s * 1e6;
            if us >= MAX_SPAN as f64 {
                MAX_SPAN
            } else if us > 0.0 {
                us.round() as Time
            } else {
                0
            }
        };
        let mut cases = vec![0.0, -1.0, f64::NAN, 1e-7, 4.9999999e-7, 5e-7, 1.5e-6, 2.5e-6, 1e30];
        for k in 0..64 {
            let us = 2f64.powi(k) + 0.5;
            for x in [us, us.next_up(), us.next_down(), 2f64.powi(k), 2f64.powi(k).next_down()] {
                cases.push(x / 1e6);
            }
        }
        let mut z = 1u64;
        for _ in 0..100_000 {
            z = crate::rng::splitmix64(z);
            let x = f64::from_bits(0x3e00_0000_0000_0000 + z % 0x0700_0000_0000_0000);
            cases.push(x);
        }
        for s in cases {
            assert_eq!(from_secs_f64(s), reference(s), "{s:e}");
        }
    }

    fn london() -> Clock {
        let start = chrono::NaiveDate::from_ymd_opt(2025, 3, 4).unwrap().and_hms_opt(6, 0, 0).unwrap();
        Clock::new(start, chrono_tz::Europe::London, 3 * 86_400 * SECOND)
    }

    fn at(text: &str, c: &Clock) -> Result<(Time, bool), String> {
        parse_moment(text, c, 0).map(|m| (m.at, m.minute))
    }

    #[test]
    fn moments_parse_in_every_form() {
        let c = london();
        // Offsets.
        assert_eq!(at("90.5", &c), Ok((90_500_000, false)));
        assert_eq!(at("0", &c), Ok((0, false)));
        assert_eq!(at("5400", &c), Ok((5400 * SECOND, false)));
        assert_eq!(at("2h", &c), Ok((7200 * SECOND, false)));
        assert_eq!(at("90m", &c), Ok((5400 * SECOND, false)));
        assert_eq!(at("1h30m", &c), Ok((5400 * SECOND, false)));
        assert_eq!(at(" 45s ", &c), Ok((45 * SECOND, false)));
        // Clock times: with seconds exact, without them the whole minute.
        assert_eq!(at("07:00", &c), Ok((3600 * SECOND, true)));
        assert_eq!(at("08:22:30", &c), Ok(((2 * 3600 + 22 * 60 + 30) * SECOND, false)));
        assert_eq!(at("08:22:30.250", &c), Ok(((2 * 3600 + 22 * 60 + 30) * SECOND + 250_000, false)));
        assert_eq!(at("06:00", &c), Ok((0, true)), "the start itself");
        assert_eq!(at("05:00:30", &c), Ok(((23 * 3600 + 30) * SECOND, false)), "tomorrow");
        // Date-times, local or RFC 3339.
        assert_eq!(at("2025-03-04T08:22:30", &c), Ok(((2 * 3600 + 22 * 60 + 30) * SECOND, false)));
        assert_eq!(at("2025-03-05 08:22", &c), Ok(((26 * 3600 + 22 * 60) * SECOND, true)));
        assert_eq!(at("2025-03-04T08:00:00Z", &c), Ok((2 * 3600 * SECOND, false)));
        assert_eq!(at("2025-03-04T09:00:00+01:00", &c), Ok((2 * 3600 * SECOND, false)));
    }

    #[test]
    fn clock_times_count_from_after() {
        let c = london();
        // 09:00 at or after 07:00 local is today; at or after 10:00 it is tomorrow.
        assert_eq!(parse_moment("09:00", &c, 3600 * SECOND).unwrap().at, 3 * 3600 * SECOND);
        assert_eq!(parse_moment("09:00", &c, 4 * 3600 * SECOND).unwrap().at, 27 * 3600 * SECOND);
        // Offsets and date-times do not depend on it.
        assert_eq!(parse_moment("2h", &c, 4 * 3600 * SECOND).unwrap().at, 2 * 3600 * SECOND);
    }

    #[test]
    fn bad_moments_name_what_was_found_and_the_forms() {
        let c = london();
        for bad in ["noon", "", "25:00", "08:61", "8h30", "-5", "2025-13-01T00:00", "2h..3h", "1e400", "NaN"]
        {
            let e = at(bad, &c).unwrap_err();
            assert!(e.contains(&format!("`{bad}`")), "{bad}: {e}");
            assert!(e.contains("expected") || e.contains("3660 days"), "{bad}: {e}");
        }
        assert!(at("-5", &c).unwrap_err().contains("≥ 0"));
        assert!(at("noon", &c).unwrap_err().contains("`1h30m`"));
        let e = at("2025-03-03T08:00:00Z", &c).unwrap_err();
        assert!(e.contains("before the run starts (2025-03-04 06:00:00 GMT)"), "{e}");
        assert!(at("2025-03-04 05:59", &c).unwrap_err().contains("before"));
        assert!(at("100000d", &c).unwrap_err().contains("3660 days"));
    }

    #[test]
    fn clock_times_print_seconds_and_the_date_when_needed() {
        let c = london();
        let t = (2 * 3600 + 22 * 60 + 30) * SECOND;
        assert_eq!(c.clock_time(t, false), "08:22:30");
        assert_eq!(c.clock_time(t, true), "2025-03-04 08:22:30");
        assert_eq!(c.clock_time(t + 250_000, false), "08:22:30.250");
        assert!(!c.spans_days(18 * 3600 * SECOND), "06:00 to midnight is one date");
        assert!(c.spans_days(18 * 3600 * SECOND + 1));
        assert!(c.spans_days(86_400 * SECOND));
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
