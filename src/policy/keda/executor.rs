//! KEDA's own loop (`RequestScale` in `pkg/scaling/executor/scale_scaledobjects.go`): every
//! polling interval it looks at whether any trigger is active and moves the target between zero
//! (or `idleReplicaCount`) and `minReplicaCount`; everything between 1 and N is the HPA's job.
//!
//! The jump to idle/zero happens once `lastActiveTime + cooldownPeriod < now` (strictly), straight
//! from any N, bypassing the HPA's scale-down policy (kedacore/keda#7204). With no activity ever
//! seen, it waits until `creation + initialCooldownPeriod`.

use crate::time::Time;

/// What the executor does at one poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the replica count to the HPA.
    None,
    /// Set the target's replicas now, for the given reason.
    ScaleTo(u32, &'static str),
}

/// The executor's settings and state.
#[derive(Debug, Clone, PartialEq)]
pub struct Executor {
    /// `cooldownPeriod`.
    pub cooldown: Time,
    /// `initialCooldownPeriod`.
    pub initial_cooldown: Time,
    /// `minReplicaCount`.
    pub min: u32,
    /// `idleReplicaCount`.
    pub idle: Option<u32>,
    /// When the ScaledObject was created (simulated time).
    pub created: Time,
    /// `status.lastActiveTime`.
    pub last_active: Option<Time>,
}

impl Executor {
    /// A fresh executor, created at `created`.
    pub fn new(
        cooldown: Time,
        initial_cooldown: Time,
        min: u32,
        idle: Option<u32>,
        created: Time,
    ) -> Executor {
        Executor { cooldown, initial_cooldown, min, idle, created, last_active: None }
    }

    /// One `RequestScale` with the target at `current` replicas and the triggers' activity.
    pub fn request_scale(&mut self, now: Time, current: u32, active: bool) -> Action {
        if active {
            self.last_active = Some(now);
            let from_idle = self.idle.is_some() && current < self.min;
            if current == 0 || from_idle {
                return Action::ScaleTo(self.min.max(1), "activated");
            }
            return Action::None;
        }
        let to = self.idle.unwrap_or(0);
        let should_idle = match self.idle {
            Some(idle) => current > idle,
            None => current > 0 && self.min == 0,
        };
        if should_idle {
            let expired = match self.last_active {
                Some(t) => t + self.cooldown < now,
                None => self.created + self.initial_cooldown < now,
            };
            return if expired { Action::ScaleTo(to, "cooldown expired") } else { Action::None };
        }
        if self.idle.is_none() && current < self.min {
            return Action::ScaleTo(self.min, "below minReplicaCount");
        }
        Action::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    #[test]
    fn scales_to_zero_one_cooldown_after_last_activity_from_any_n() {
        // §2.7: minReplicaCount 0, every trigger inactive since t0, cooldown 300, polling 30.
        let mut e = Executor::new(300 * SECOND, 0, 0, None, 0);
        assert_eq!(e.request_scale(0, 7, true), Action::None);
        let mut t = 0;
        let mut zero_at = None;
        while t <= 600 * SECOND {
            t += 30 * SECOND;
            if let Action::ScaleTo(0, _) = e.request_scale(t, 7, false) {
                zero_at = Some(t);
                break;
            }
        }
        // 300 is not strictly after 0 + 300: the first poll past it is 330.
        assert_eq!(zero_at, Some(330 * SECOND));
    }

    #[test]
    fn activation_from_zero_goes_to_min_or_one() {
        let mut e = Executor::new(300 * SECOND, 0, 0, None, 0);
        assert_eq!(e.request_scale(30 * SECOND, 0, true), Action::ScaleTo(1, "activated"));
        let mut e = Executor::new(300 * SECOND, 0, 3, None, 0);
        assert_eq!(e.request_scale(30 * SECOND, 0, true), Action::ScaleTo(3, "activated"));
    }

    #[test]
    fn idle_replica_count_and_min() {
        let mut e = Executor::new(60 * SECOND, 0, 2, Some(0), 0);
        assert_eq!(e.request_scale(0, 5, true), Action::None);
        assert_eq!(e.request_scale(60 * SECOND, 5, false), Action::None);
        assert_eq!(e.request_scale(61 * SECOND, 5, false), Action::ScaleTo(0, "cooldown expired"));
        assert_eq!(e.request_scale(90 * SECOND, 0, true), Action::ScaleTo(2, "activated"));
        // Without idle, below min is raised to min at once.
        let mut e = Executor::new(60 * SECOND, 0, 2, None, 0);
        assert_eq!(e.request_scale(30 * SECOND, 1, false), Action::ScaleTo(2, "below minReplicaCount"));
    }

    #[test]
    fn never_active_waits_for_the_initial_cooldown() {
        let mut e = Executor::new(300 * SECOND, 120 * SECOND, 0, None, 0);
        assert_eq!(e.request_scale(120 * SECOND, 3, false), Action::None);
        assert_eq!(e.request_scale(150 * SECOND, 3, false), Action::ScaleTo(0, "cooldown expired"));
    }
}
