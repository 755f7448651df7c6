//! The KPA-class PodAutoscaler reconciler (`pkg/reconciler/autoscaling/kpa/kpa.go` and
//! `scaler.go`): what happens to the decider's desired scale before it reaches the Deployment.
//!
//! * min / max scale bounds, with min raised to the initial scale until the revision first
//!   reaches it (`scale`);
//! * scale to zero (`handleScaleToZero`): an Active PA keeps at least one pod until it has been
//!   active for a stable window, then is marked Inactive without scaling; an Inactive PA scales
//!   to zero once it has been inactive for max(grace period, pod retention), or — fast path —
//!   once the activator has been in the request path (SKS proxy mode) for the grace period; an
//!   Activating PA gives up after the progress deadline plus a buffer;
//! * the Active condition (`computeActiveCondition`) and the SKS mode: proxy (activator in the
//!   path) when want is 0, when the excess burst capacity is negative, or when the decider has no
//!   data for an inactive PA.
//!
//! Modelling choices: Knative reconciles on events and re-enqueues after computed delays; here
//! the reconciler runs after every decider tick (2 s) and on pokes, so waits resolve to the
//! next tick. The activator probe succeeds as soon as the SKS is in proxy mode (or TBC is −1).

use crate::time::Time;

/// The PodAutoscaler's Active condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaState {
    /// Active=True: serving.
    Active,
    /// Active=False: scaled (or scaling) to zero, the activator in the path.
    Inactive,
    /// Active=Unknown: pods requested, not yet ready.
    Activating,
}

/// The reconciler's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReconcilerSpec {
    /// min-scale.
    pub min_scale: u32,
    /// max-scale (0 = unbounded).
    pub max_scale: u32,
    /// initial-scale.
    pub initial_scale: u32,
    /// enable-scale-to-zero.
    pub enable_scale_to_zero: bool,
    /// Stable window.
    pub stable_window: Time,
    /// scale-to-zero-grace-period.
    pub grace_period: Time,
    /// scale-to-zero-pod-retention-period.
    pub pod_retention: Time,
    /// Progress deadline plus the activation timeout buffer.
    pub activation_timeout: Time,
    /// Target burst capacity is −1 (the activator is always in the path).
    pub tbc_unlimited: bool,
}

/// What one reconcile did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconciled {
    /// The scale the reconciler wants (−1: unknown, no metrics yet).
    pub want: i64,
    /// The replica count applied to the Deployment (unchanged when not applied).
    pub applied: u32,
    /// Whether the SKS is in proxy mode (activator in the request path).
    pub proxy: bool,
    /// Why, when the reconciler changed the decider's answer: `min scale`, `max scale`,
    /// `initial scale`, `scale-to-zero disabled`, `active < stable window`, `inactive: grace
    /// period`, `scale to zero after grace`, `activating`, `activation timeout`, `no data`.
    pub reason: Option<&'static str>,
}

/// The PodAutoscaler of one revision.
#[derive(Debug, Clone, PartialEq)]
pub struct PodAutoscaler {
    spec: ReconcilerSpec,
    state: PaState,
    /// Last transition of the Active condition.
    since: Time,
    initialized: bool,
    proxy_since: Option<Time>,
    applied: u32,
}

fn apply_bounds(min: i64, max: i64, x: i64) -> i64 {
    if x < min {
        min
    } else if max != 0 && x > max {
        max
    } else {
        x
    }
}

impl PodAutoscaler {
    /// A PA at time `now` whose Deployment runs `replicas` ready pods: Active (and initialized
    /// when `replicas` reaches the initial scale), or Inactive at zero.
    pub fn new(spec: ReconcilerSpec, replicas: u32, now: Time) -> PodAutoscaler {
        let state = if replicas > 0 { PaState::Active } else { PaState::Inactive };
        let initialized = replicas >= spec.initial_scale.max(spec.min_scale);
        PodAutoscaler { spec, state, since: now, initialized, proxy_since: None, applied: replicas }
    }

    /// A steady start: the revision was created long ago, so its initial scale is behind it.
    pub fn mark_initialized(&mut self) {
        self.initialized = true;
    }

    /// The Active condition.
    pub fn state(&self) -> PaState {
        self.state
    }

    /// The replica count last applied.
    pub fn applied(&self) -> u32 {
        self.applied
    }

    fn set_state(&mut self, s: PaState, now: Time) {
        if self.state != s {
            self.state = s;
            self.since = now;
        }
    }

    /// (scale, apply?, reason) for a bounded desired scale (`handleScaleToZero`).
    fn handle_scale_to_zero(&mut self, now: Time, desired: i64) -> (i64, bool, Option<&'static str>) {
        if desired != 0 {
            return (desired, true, None);
        }
        let s = self.spec;
        if !s.enable_scale_to_zero {
            return (1, true, Some("scale-to-zero disabled"));
        }
        let for_ = now.saturating_sub(self.since);
        match self.state {
            PaState::Activating => {
                if for_ > s.activation_timeout {
                    (0, true, Some("activation timeout"))
                } else {
                    (-1, false, Some("activating"))
                }
            }
            PaState::Active => {
                if for_ >= s.stable_window {
                    (0, false, Some("inactive: grace period"))
                } else {
                    (1, true, Some("active < stable window"))
                }
            }
            PaState::Inactive => {
                let probed = s.tbc_unlimited || self.proxy_since.is_some();
                if !probed {
                    return (0, false, Some("inactive: grace period"));
                }
                if for_ >= s.grace_period.max(s.pod_retention) {
                    return (0, true, Some("scale to zero after grace"));
                }
                if s.pod_retention > 0 && for_ < s.pod_retention {
                    return (0, false, Some("inactive: pod retention"));
                }
                let proxy_for = self.proxy_since.map_or(0, |p| now.saturating_sub(p));
                if proxy_for >= s.grace_period {
                    (0, true, Some("scale to zero after grace"))
                } else {
                    (0, false, Some("inactive: grace period"))
                }
            }
        }
    }

    /// Reconciles at `now` with the decider's desired scale (`None`: no data), its excess
    /// burst capacity and the ready pod count.
    pub fn reconcile(&mut self, now: Time, desired: Option<u32>, ebc: i64, ready: u32) -> Reconciled {
        let s = self.spec;
        let mut reason = None;
        let want: i64 = if desired.is_none() && self.state != PaState::Activating {
            reason = Some("no data");
            -1
        } else {
            let d = desired.map_or(-1, i64::from);
            let mut min = s.min_scale as i64;
            let initial = s.initial_scale as i64;
            if initial > 1 && !self.initialized && min < initial {
                min = initial;
            }
            let bounded = apply_bounds(min, s.max_scale as i64, d);
            if bounded != d && d >= 0 {
                reason = Some(if bounded > d {
                    if min > s.min_scale as i64 { "initial scale" } else { "min scale" }
                } else {
                    "max scale"
                });
            }
            let (scale, apply, why) = self.handle_scale_to_zero(now, bounded);
            if why.is_some() {
                reason = why;
            }
            if apply && scale >= 0 {
                self.applied = scale as u32;
            }
            scale
        };
        let proxy = want == 0 || ebc < 0 || (want == -1 && self.state == PaState::Inactive);
        match (proxy, self.proxy_since) {
            (true, None) => self.proxy_since = Some(now),
            (false, Some(_)) => self.proxy_since = None,
            _ => {}
        }
        // computeActiveCondition.
        let min_ready = if self.initialized { s.min_scale.max(1) } else { s.min_scale.max(s.initial_scale) };
        if ready >= min_ready {
            self.initialized = true;
        }
        if want == 0 || min_ready == 0 {
            self.set_state(PaState::Inactive, now);
        } else if ready < min_ready {
            if want > 0 || self.state != PaState::Inactive {
                self.set_state(PaState::Activating, now);
            }
        } else if want > 0 || self.state != PaState::Inactive {
            self.set_state(PaState::Active, now);
        }
        Reconciled { want, applied: self.applied, proxy, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    const S: Time = SECOND;

    fn spec() -> ReconcilerSpec {
        ReconcilerSpec {
            min_scale: 0,
            max_scale: 0,
            initial_scale: 1,
            enable_scale_to_zero: true,
            stable_window: 60 * S,
            grace_period: 30 * S,
            pod_retention: 0,
            activation_timeout: 630 * S,
            tbc_unlimited: false,
        }
    }

    #[test]
    fn active_then_inactive_then_zero_after_the_grace_period() {
        let mut pa = PodAutoscaler::new(spec(), 1, 0);
        // Serving with spare capacity (EBC ≥ 0): serve mode.
        let r = pa.reconcile(100 * S, Some(1), 10, 1);
        assert_eq!((r.applied, r.proxy, pa.state()), (1, false, PaState::Active));
        // Desired 0 after a long activity: marked inactive, the pod stays.
        let r = pa.reconcile(160 * S, Some(0), 10, 1);
        assert_eq!((r.want, r.applied, pa.state()), (0, 1, PaState::Inactive));
        assert!(r.proxy);
        // Within the grace period: still 1.
        assert_eq!(pa.reconcile(188 * S, Some(0), 10, 1).applied, 1);
        // After it: zero.
        let r = pa.reconcile(190 * S, Some(0), 10, 1);
        assert_eq!((r.applied, r.reason), (0, Some("scale to zero after grace")));
    }

    #[test]
    fn activator_already_in_the_path_takes_the_fast_path() {
        let mut pa = PodAutoscaler::new(spec(), 1, 0);
        // Negative EBC (default TBC on one pod): proxy mode for a long time.
        pa.reconcile(10 * S, Some(1), -120, 1);
        pa.reconcile(100 * S, Some(0), -120, 1);
        assert_eq!(pa.state(), PaState::Inactive);
        assert_eq!(pa.reconcile(102 * S, Some(0), -120, 1).applied, 0);
    }

    #[test]
    fn recently_active_keeps_one_pod_for_a_stable_window() {
        let mut pa = PodAutoscaler::new(spec(), 0, 0);
        assert_eq!(pa.state(), PaState::Inactive);
        // A request arrives: want 1, not ready yet → activating.
        let r = pa.reconcile(10 * S, Some(1), -1, 0);
        assert_eq!((r.applied, pa.state()), (1, PaState::Activating));
        // Ready: active from t = 14.
        pa.reconcile(14 * S, Some(1), -1, 1);
        assert_eq!(pa.state(), PaState::Active);
        let r = pa.reconcile(40 * S, Some(0), -1, 1);
        assert_eq!((r.applied, r.reason), (1, Some("active < stable window")));
        let r = pa.reconcile(74 * S, Some(0), -1, 1);
        assert_eq!((r.want, r.applied, pa.state()), (0, 1, PaState::Inactive));
    }

    #[test]
    fn bounds_and_initial_scale() {
        let mut s = spec();
        s.min_scale = 2;
        s.max_scale = 5;
        s.initial_scale = 4;
        let mut pa = PodAutoscaler { initialized: false, ..PodAutoscaler::new(s, 0, 0) };
        let r = pa.reconcile(2 * S, Some(1), 0, 0);
        assert_eq!((r.applied, r.reason), (4, Some("initial scale")));
        pa.reconcile(4 * S, Some(1), 0, 4);
        let r = pa.reconcile(6 * S, Some(1), 0, 4);
        assert_eq!((r.applied, r.reason), (2, Some("min scale")));
        let r = pa.reconcile(8 * S, Some(9), 0, 2);
        assert_eq!((r.applied, r.reason), (5, Some("max scale")));
    }

    #[test]
    fn no_data_keeps_the_scale_and_disabled_scale_to_zero_keeps_one() {
        let mut pa = PodAutoscaler::new(spec(), 3, 0);
        let r = pa.reconcile(2 * S, None, 0, 3);
        assert_eq!((r.want, r.applied), (-1, 3));
        let mut s = spec();
        s.enable_scale_to_zero = false;
        let mut pa = PodAutoscaler::new(s, 1, 0);
        assert_eq!(pa.reconcile(500 * S, Some(0), 0, 1).applied, 1);
    }

    #[test]
    fn pod_retention_holds_the_last_pod() {
        let mut s = spec();
        s.pod_retention = 120 * S;
        let mut pa = PodAutoscaler::new(s, 1, 0);
        pa.reconcile(100 * S, Some(0), -5, 1);
        assert_eq!(pa.reconcile(200 * S, Some(0), -5, 1).applied, 1);
        assert_eq!(pa.reconcile(220 * S, Some(0), -5, 1).applied, 0);
    }

    #[test]
    fn stuck_activation_times_out() {
        let mut pa = PodAutoscaler::new(spec(), 0, 0);
        pa.reconcile(2 * S, Some(1), -1, 0);
        assert_eq!(pa.state(), PaState::Activating);
        assert_eq!(pa.reconcile(300 * S, Some(0), -1, 0).applied, 1);
        let r = pa.reconcile(700 * S, Some(0), -1, 0);
        assert_eq!((r.applied, r.reason), (0, Some("activation timeout")));
        assert_eq!(pa.state(), PaState::Inactive);
    }
}
