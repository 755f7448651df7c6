//! Time-of-day schedules: cron windows such as `0 9 * * 1-5` to `0 21 * * 1-5`.
//!
//! A window is active, as KEDA's cron scaler decides, when the next end time comes before the
//! next start time. Cron times are evaluated in the window's own IANA time zone. Fire times are
//! precomputed for the simulated horizon, so a query is a binary search.

use crate::time::{Clock, Time};
use chrono_tz::Tz;
use croner::Cron;
use std::str::FromStr;

/// A checked cron window: replicas between a start and an end cron time.
#[derive(Debug, Clone, PartialEq)]
pub struct CronWindow {
    /// Cron expression (5 fields, or 6 with seconds) of the window's start.
    pub start: String,
    /// Cron expression of the window's end.
    pub end: String,
    /// Time zone the expressions are read in.
    pub tz: Tz,
    /// Replicas inside the window.
    pub replicas: u32,
    start_cron: Cron,
    end_cron: Cron,
}

/// Why a cron window cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    /// The expression does not parse.
    #[error("invalid cron expression `{expr}`: {message}")]
    Invalid {
        /// The expression.
        expr: String,
        /// The parser's complaint.
        message: String,
    },
}

impl CronWindow {
    /// A window from `start` to `end` (cron expressions read in `tz`) with `replicas` inside.
    pub fn new(start: &str, end: &str, tz: Tz, replicas: u32) -> Result<CronWindow, ScheduleError> {
        Ok(CronWindow {
            start_cron: parse(start)?,
            end_cron: parse(end)?,
            start: start.to_string(),
            end: end.to_string(),
            tz,
            replicas,
        })
    }
}

impl CronWindow {
    /// The first time the window's start (or, with `end`, its end) fires strictly after
    /// `after`; `None` when it never does (e.g. `0 0 30 2 *`, February 30th).
    pub fn next_fire(&self, end: bool, after: &chrono::DateTime<Tz>) -> Option<chrono::DateTime<Tz>> {
        let cron = if end { &self.end_cron } else { &self.start_cron };
        cron.find_next_occurrence(&after.with_timezone(&self.tz), false).ok()
    }
}

fn parse(expr: &str) -> Result<Cron, ScheduleError> {
    Cron::from_str(expr)
        .map_err(|e| ScheduleError::Invalid { expr: expr.to_string(), message: e.to_string() })
}

/// A window with its fire times resolved over a horizon.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Replicas while active.
    pub replicas: u32,
    starts: Vec<Time>,
    ends: Vec<Time>,
}

/// Fire times of `cron` strictly after the clock's start, up to and including the first one past
/// `horizon`, as simulated times.
fn fires(cron: &Cron, clock: &Clock, tz: Tz, horizon: Time) -> Vec<Time> {
    let start = clock.start().with_timezone(&tz);
    let mut out = Vec::new();
    // 400 days bounds the search for crons that fire rarely or never.
    for dt in cron.iter_after(start) {
        let t = clock.sim_time(&dt.with_timezone(&clock.tz()));
        out.push(t);
        if t > horizon || (dt - start).num_days() > 400 {
            break;
        }
    }
    out
}

impl Schedule {
    /// Resolves `w` for a run of length `horizon` on `clock`.
    pub fn resolve(w: &CronWindow, clock: &Clock, horizon: Time) -> Schedule {
        Schedule {
            replicas: w.replicas,
            starts: fires(&w.start_cron, clock, w.tz, horizon),
            ends: fires(&w.end_cron, clock, w.tz, horizon),
        }
    }

    /// Whether the window is active at `t`: the next end comes before the next start
    /// (both strictly after `t`). At time 0 this also sees a window that began before the start.
    pub fn active(&self, t: Time) -> bool {
        let next = |v: &[Time]| v.get(v.partition_point(|&x| x <= t)).copied();
        match (next(&self.ends), next(&self.starts)) {
            (Some(e), Some(s)) => e < s,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    #[test]
    fn office_hours_in_zone() {
        // Monday 2025-01-06 00:00 in New York.
        let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let clock = Clock::new(start, chrono_tz::America::New_York, 8 * 86_400 * SECOND);
        let w = CronWindow::new("0 9 * * 1-5", "0 21 * * 1-5", chrono_tz::America::New_York, 5).unwrap();
        let s = Schedule::resolve(&w, &clock, 8 * 86_400 * SECOND);
        let h = |x: u64| x * 3600 * SECOND;
        assert!(!s.active(h(8)));
        assert!(s.active(h(9)));
        assert!(s.active(h(20)));
        assert!(!s.active(h(21)));
        // Saturday (day 5) and Sunday stay off.
        assert!(!s.active(h(5 * 24 + 12)));
        assert!(!s.active(h(6 * 24 + 12)));
        assert!(s.active(h(7 * 24 + 12)));
    }

    #[test]
    fn window_already_open_at_start() {
        let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 6).unwrap().and_hms_opt(12, 0, 0).unwrap();
        let clock = Clock::new(start, chrono_tz::UTC, 86_400 * SECOND);
        let w = CronWindow::new("0 9 * * *", "0 21 * * *", chrono_tz::UTC, 3).unwrap();
        let s = Schedule::resolve(&w, &clock, 86_400 * SECOND);
        assert!(s.active(0));
        assert!(!s.active(9 * 3600 * SECOND));
    }

    #[test]
    fn bad_expression_is_an_error() {
        assert!(CronWindow::new("0 25 * * *", "0 21 * * *", chrono_tz::UTC, 3).is_err());
    }
}
