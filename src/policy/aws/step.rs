//! Step scaling arithmetic: step adjustments with bounds relative to the alarm threshold, the
//! three adjustment types, the documented rounding of percent changes and
//! `MinAdjustmentMagnitude`.
//!
//! Everything here is **documented** AWS behaviour (EC2 Auto Scaling user guide,
//! `as-scaling-simple-step.md`: "Step adjustments" and "Scaling adjustment types").

/// How a step adjustment changes capacity (`AdjustmentType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdjustmentType {
    /// Add (or, negative, remove) this many instances.
    ChangeInCapacity,
    /// Set the capacity to this value.
    ExactCapacity,
    /// Add (or remove) this percentage of the current capacity, rounded as documented.
    PercentChangeInCapacity,
}

/// One step adjustment: applies when `metric − threshold` lies within the bounds.
///
/// Documented: above the threshold the lower bound is inclusive and the upper exclusive; below
/// it, the lower bound is exclusive and the upper inclusive. `None` is an infinite bound.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepAdjustment {
    /// Lower bound relative to the threshold (`None`: −∞).
    pub lower: Option<f64>,
    /// Upper bound relative to the threshold (`None`: +∞).
    pub upper: Option<f64>,
    /// The adjustment (instances, a capacity, or percent, per the adjustment type).
    pub adjustment: f64,
}

impl StepAdjustment {
    /// Whether the step applies at `diff = metric − threshold`.
    pub fn contains(&self, diff: f64) -> bool {
        let (lo, hi) = (self.lower.unwrap_or(f64::NEG_INFINITY), self.upper.unwrap_or(f64::INFINITY));
        if diff >= 0.0 {
            // Above (or at) the threshold: [lower, upper).
            diff >= lo && diff < hi
        } else {
            // Below the threshold: (lower, upper].
            diff > lo && diff <= hi
        }
    }
}

/// Why a list of step adjustments is invalid (the documented rules).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// No steps at all.
    #[error("needs at least one step adjustment")]
    Empty,
    /// Both bounds infinite.
    #[error("step {0} has neither a lower nor an upper bound")]
    Unbounded(usize),
    /// lower ≥ upper.
    #[error("step {0} has its lower bound at or above its upper bound")]
    Inverted(usize),
    /// Ranges overlap or leave a gap.
    #[error(
        "steps {0} and {1} overlap or leave a gap (each step's upper bound must be the next one's lower bound)"
    )]
    GapOrOverlap(usize, usize),
}

/// Sorts `steps` by lower bound and checks the documented rules: no step unbounded on both
/// sides, no overlaps, no gaps.
pub fn check_steps(steps: &mut [StepAdjustment]) -> Result<(), StepError> {
    if steps.is_empty() {
        return Err(StepError::Empty);
    }
    for (i, s) in steps.iter().enumerate() {
        if s.lower.is_none() && s.upper.is_none() {
            return Err(StepError::Unbounded(i));
        }
        if let (Some(l), Some(u)) = (s.lower, s.upper)
            && l >= u
        {
            return Err(StepError::Inverted(i));
        }
    }
    steps.sort_by(|a, b| {
        a.lower.unwrap_or(f64::NEG_INFINITY).total_cmp(&b.lower.unwrap_or(f64::NEG_INFINITY))
    });
    for i in 1..steps.len() {
        if steps[i - 1].upper.is_none() || steps[i - 1].upper != steps[i].lower {
            return Err(StepError::GapOrOverlap(i - 1, i));
        }
    }
    Ok(())
}

/// The step that applies at `diff = metric − threshold`, if any.
pub fn find_step(steps: &[StepAdjustment], diff: f64) -> Option<&StepAdjustment> {
    steps.iter().find(|s| s.contains(diff))
}

/// Rounds a raw percent-change result in instances as documented: values above 1 round down,
/// between 0 and 1 round to 1, between 0 and −1 round to −1, below −1 round up (toward 0).
pub fn round_percent_change(raw: f64) -> i64 {
    if raw == 0.0 || !raw.is_finite() {
        0
    } else if raw >= 1.0 {
        raw.floor() as i64
    } else if raw > 0.0 {
        1
    } else if raw > -1.0 {
        -1
    } else {
        raw.ceil() as i64
    }
}

/// The capacity after applying `adjustment` of `kind` to `current`, with
/// `min_magnitude` (`MinAdjustmentMagnitude`, percent changes only) enforced. Not clamped to
/// the group's bounds.
pub fn apply(kind: AdjustmentType, adjustment: f64, current: u32, min_magnitude: Option<u32>) -> u32 {
    let cur = current as i64;
    let next = match kind {
        AdjustmentType::ExactCapacity => adjustment.round() as i64,
        AdjustmentType::ChangeInCapacity => cur + adjustment.round() as i64,
        AdjustmentType::PercentChangeInCapacity => {
            let mut delta = round_percent_change(current as f64 * adjustment / 100.0);
            if let Some(m) = min_magnitude
                && delta != 0
                && delta.unsigned_abs() < m as u64
            {
                delta = delta.signum() * m as i64;
            }
            cur + delta
        }
    };
    next.clamp(0, u32::MAX as i64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(lower: Option<f64>, upper: Option<f64>, adjustment: f64) -> StepAdjustment {
        StepAdjustment { lower, upper, adjustment }
    }

    /// The user guide's example: threshold 50 %, scale-out steps [0,10) 0, [10,20) +10 %,
    /// [20,∞) +30 %; scale-in steps (−10,0] 0, (−20,−10] −10 %, (−∞,−20] −30 %.
    fn out_steps() -> Vec<StepAdjustment> {
        vec![s(Some(0.0), Some(10.0), 0.0), s(Some(10.0), Some(20.0), 10.0), s(Some(20.0), None, 30.0)]
    }
    fn in_steps() -> Vec<StepAdjustment> {
        vec![s(Some(-10.0), Some(0.0), 0.0), s(Some(-20.0), Some(-10.0), -10.0), s(None, Some(-20.0), -30.0)]
    }

    fn step_at(steps: &[StepAdjustment], metric: f64, current: u32) -> u32 {
        let st = find_step(steps, metric - 50.0).expect("a step applies");
        apply(AdjustmentType::PercentChangeInCapacity, st.adjustment, current, None)
    }

    #[test]
    fn documented_worked_example() {
        let (mut up, mut down) = (out_steps(), in_steps());
        check_steps(&mut up).unwrap();
        check_steps(&mut down).unwrap();
        // 60 % → +10 % of 10 → 11.
        assert_eq!(step_at(&up, 60.0, 10), 11);
        // 70 % → +30 % of 11 = 3.3 → 3 → 14.
        assert_eq!(step_at(&up, 70.0, 11), 14);
        // 40 % → −10 % of 14 = −1.4 → −1 → 13.
        assert_eq!(step_at(&down, 40.0, 14), 13);
        // 30 % → −30 % of 13 = −3.9 → −3 → 10.
        assert_eq!(step_at(&down, 30.0, 13), 10);
        // Between 40 and 60 exclusive: unchanged.
        assert_eq!(step_at(&up, 59.9, 10), 10);
        assert_eq!(step_at(&down, 40.1, 10), 10);
    }

    #[test]
    fn bounds_inclusive_above_exclusive_below() {
        let up = out_steps();
        // Exactly at 10 above the threshold: the [10, 20) step, not [0, 10).
        assert_eq!(find_step(&up, 10.0).unwrap().adjustment, 10.0);
        let down = in_steps();
        // Exactly at −10: the (−10, 0] step excludes it, (−20, −10] includes it.
        assert_eq!(find_step(&down, -10.0).unwrap().adjustment, -10.0);
        assert_eq!(find_step(&down, -20.0).unwrap().adjustment, -30.0);
    }

    #[test]
    fn percent_rounding_table() {
        assert_eq!(round_percent_change(12.7), 12);
        assert_eq!(round_percent_change(1.4), 1);
        assert_eq!(round_percent_change(0.67), 1);
        assert_eq!(round_percent_change(0.5), 1);
        assert_eq!(round_percent_change(-0.58), -1);
        assert_eq!(round_percent_change(-0.5), -1);
        assert_eq!(round_percent_change(-1.4), -1);
        assert_eq!(round_percent_change(-6.67), -6);
        assert_eq!(round_percent_change(0.0), 0);
    }

    #[test]
    fn min_adjustment_magnitude() {
        // Documented: +25 % of 4 is 1, with MinAdjustmentMagnitude 2 → +2.
        assert_eq!(apply(AdjustmentType::PercentChangeInCapacity, 25.0, 4, Some(2)), 6);
        assert_eq!(apply(AdjustmentType::PercentChangeInCapacity, 25.0, 4, None), 5);
        // Applies to removals too.
        assert_eq!(apply(AdjustmentType::PercentChangeInCapacity, -25.0, 4, Some(2)), 2);
    }

    #[test]
    fn other_adjustment_types() {
        // Documented: capacity 3, adjustment 5 → 8 (change) or 5 (exact).
        assert_eq!(apply(AdjustmentType::ChangeInCapacity, 5.0, 3, None), 8);
        assert_eq!(apply(AdjustmentType::ExactCapacity, 5.0, 3, None), 5);
        assert_eq!(apply(AdjustmentType::ChangeInCapacity, -5.0, 3, None), 0);
    }

    #[test]
    fn invalid_step_lists() {
        assert_eq!(check_steps(&mut []), Err(StepError::Empty));
        assert_eq!(check_steps(&mut [s(None, None, 1.0)]), Err(StepError::Unbounded(0)));
        assert_eq!(check_steps(&mut [s(Some(5.0), Some(1.0), 1.0)]), Err(StepError::Inverted(0)));
        let mut gap = [s(Some(0.0), Some(10.0), 1.0), s(Some(15.0), None, 2.0)];
        assert_eq!(check_steps(&mut gap), Err(StepError::GapOrOverlap(0, 1)));
    }
}
