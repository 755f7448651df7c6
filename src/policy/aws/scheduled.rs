//! Scheduled actions: at a time (once, or recurring by cron in a time zone) set the group's
//! minimum, maximum and/or desired capacity.
//!
//! Documented (EC2 Auto Scaling user guide, `ec2-auto-scaling-scheduled-scaling.md`): an action
//! sets any of min / max / desired; recurrence is a 5-field cron read in the action's time zone
//! (default `Etc/UTC`, DST-aware for IANA zones); a scheduled action is not subject to
//! cooldowns; actions may run up to two minutes after their scheduled time. The simulator
//! models that delay as an optional fixed `delay` (default 0, i.e. on time; the real delay
//! varies and is not specified beyond "up to 2 minutes").

use crate::time::{Clock, Time, resolve_local};
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use croner::Cron;
use std::str::FromStr;

/// When a scheduled action fires.
#[derive(Debug, Clone, PartialEq)]
pub enum When {
    /// Recurring: a cron expression (5 fields) read in `tz`.
    Recurrence {
        /// The expression, e.g. `0 8 * * 1-5`.
        cron: String,
        /// Time zone it is read in.
        tz: Tz,
    },
    /// Once, at a local date-time in `tz`.
    Once {
        /// Local date and time.
        at: NaiveDateTime,
        /// Time zone of `at`.
        tz: Tz,
    },
}

/// A checked scheduled action.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledAction {
    /// Name, shown in decision reasons (`scheduled action <name>`).
    pub name: String,
    /// When it fires.
    pub when: When,
    /// New minimum capacity, if set.
    pub min: Option<u32>,
    /// New maximum capacity, if set.
    pub max: Option<u32>,
    /// New desired capacity, if set.
    pub desired: Option<u32>,
}

/// Why a scheduled action cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduledError {
    /// The cron expression does not parse.
    #[error("invalid cron expression `{0}`: {1}")]
    Cron(String, String),
    /// Sets none of min, max, desired.
    #[error("sets none of `min`, `max`, `desired`")]
    Empty,
    /// min > max within the action.
    #[error("min ({0}) is greater than max ({1})")]
    MinAboveMax(u32, u32),
}

impl ScheduledAction {
    /// Checks the action (cron syntax, at least one capacity, min ≤ max).
    pub fn check(&self) -> Result<(), ScheduledError> {
        if let When::Recurrence { cron, .. } = &self.when {
            parse_cron(cron)?;
        }
        if self.min.is_none() && self.max.is_none() && self.desired.is_none() {
            return Err(ScheduledError::Empty);
        }
        if let (Some(lo), Some(hi)) = (self.min, self.max)
            && lo > hi
        {
            return Err(ScheduledError::MinAboveMax(lo, hi));
        }
        Ok(())
    }

    /// Simulated times at which the action fires, in `(0, horizon]`, plus `delay`.
    pub fn fire_times(&self, clock: &Clock, horizon: Time, delay: Time) -> Vec<Time> {
        let mut out = Vec::new();
        match &self.when {
            When::Once { at, tz } => {
                let dt = resolve_local(*tz, *at).with_timezone(&clock.tz());
                if dt > clock.start() {
                    out.push(clock.sim_time(&dt));
                }
            }
            When::Recurrence { cron, tz } => {
                let Ok(c) = parse_cron(cron) else { return out };
                let start = clock.start().with_timezone(tz);
                for dt in c.iter_after(start) {
                    let t = clock.sim_time(&dt.with_timezone(&clock.tz()));
                    if t > horizon || (dt - start).num_days() > 400 {
                        break;
                    }
                    out.push(t);
                }
            }
        }
        out.into_iter().map(|t| t + delay).filter(|&t| t > 0 && t <= horizon).collect()
    }
}

fn parse_cron(expr: &str) -> Result<Cron, ScheduledError> {
    Cron::from_str(expr).map_err(|e| ScheduledError::Cron(expr.to_string(), e.to_string()))
}

/// Applies an action to the group's (min, max, desired), as documented: the new bounds hold,
/// and desired is the action's value (or the old one) kept within them.
pub fn apply(a: &ScheduledAction, min: u32, max: u32, desired: u32) -> (u32, u32, u32) {
    let lo = a.min.unwrap_or(min);
    let hi = a.max.unwrap_or(max).max(lo);
    (lo, hi, a.desired.unwrap_or(desired).clamp(lo, hi))
}
