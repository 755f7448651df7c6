//! The one tick algorithm of every value axis (run charts, `compare.png`, `pareto.png`,
//! `sensitivity.png`, `capacity.png`): ticks at multiples of a "nice" step — 1, 2, 2.5 or 5 ×
//! 10ⁿ — labelled with exactly their value (never a rounded one), integer steps only on integer
//! axes (replicas, counts, integer tune keys), and a degenerate range (every value equal) widened
//! symmetrically around the value so that it sits in the middle of a readable axis.

use super::chart::Axis;

/// The mantissas of a nice step, in increasing order.
const MANTISSAS: [f64; 4] = [1.0, 2.0, 2.5, 5.0];

/// The smallest nice step (1, 2, 2.5, 5 × 10ⁿ) at least `raw`; on an integer axis, the
/// smallest such step that is a whole number (so at least 1, and 2.5 only from 25 up).
pub(crate) fn nice_step(raw: f64, integer: bool) -> f64 {
    let raw = if raw.is_finite() && raw > 0.0 { raw } else { 1.0 };
    let raw = if integer { raw.max(1.0) } else { raw };
    let mut mag = 10f64.powf(raw.log10().floor());
    loop {
        for m in MANTISSAS {
            // Round away binary noise (2.5 × 0.1 = 0.25000000000000006).
            let s = round_sig(m * mag);
            if s >= raw * (1.0 - 1e-12) && (!integer || s.fract() == 0.0) {
                return s;
            }
        }
        mag *= 10.0;
    }
}

fn round_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let p = 10f64.powi(12 - x.abs().log10().floor() as i32);
    (x * p).round() / p
}

/// Decimals a label needs to show multiples of `step` exactly (0 for whole steps).
pub(crate) fn decimals(step: f64) -> usize {
    (0..=9)
        .find(|d| {
            let s = step * 10f64.powi(*d as i32);
            (s - s.round()).abs() < 1e-6 * s.max(1.0)
        })
        .unwrap_or(9)
}

/// The ticks in `[lo, hi]`: multiples of the nice step that gives at most `max_ticks` of them
/// (and at least about `max_ticks / 2.5`), with the decimals their labels need.
pub(crate) fn ticks(lo: f64, hi: f64, integer: bool, max_ticks: usize) -> (Vec<f64>, usize) {
    let span = (hi - lo).max(1e-12);
    let mut step = nice_step(span / (max_ticks.max(2) - 1) as f64, integer);
    // Widen until the count fits (the first and last multiple may both land inside).
    while ((hi / step).floor() - (lo / step).ceil()) as usize + 1 > max_ticks.max(2) {
        step = nice_step(step * 1.0001, integer);
    }
    let d = decimals(step);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    let p = 10f64.powi(d as i32);
    // The value of each tick is the decimal its label shows (3 × 0.2 = 0.6000000000000001 → 0.6).
    ((first..=last).map(|k| (k as f64 * step * p).round() / p).collect(), d)
}

/// A readable range for data spanning `[min, max]`: unchanged when it has a width; when every
/// value is equal, centred on it: ±1 on an integer axis or around zero, else ± a nice tenth of
/// the value.
pub(crate) fn readable(min: f64, max: f64, integer: bool) -> (f64, f64) {
    if !(min.is_finite() && max.is_finite()) {
        return (0.0, 1.0);
    }
    if max - min > 1e-9 * max.abs().max(min.abs()).max(1e-300) {
        return (min, max);
    }
    let v = (min + max) / 2.0;
    let half = if integer || v == 0.0 { 1.0 } else { nice_step(v.abs() * 0.1, false) };
    (v - half, v + half)
}

/// Formats a tick value with `decimals` decimals and thousands separators; never `-0`.
pub(crate) fn label(v: f64, decimals: usize) -> String {
    let v = if v == 0.0 { 0.0 } else { v };
    let s = format!("{v:.decimals$}");
    let s = if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        s.trim_start_matches('-').to_string()
    } else {
        s
    };
    group_thousands(s)
}

/// Inserts thousands separators into a formatted number ("12345.5" → "12,345.5"); four-digit
/// numbers stay as they are.
pub(crate) fn group_thousands(s: String) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s.as_str()), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
    if int.len() <= 4 {
        return s;
    }
    let mut out = String::from(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// A linear axis over `[lo, hi]` with nice ticks (at most `max_ticks`) labelled exactly.
pub(crate) fn axis(lo: f64, hi: f64, integer: bool, max_ticks: usize, desc: &str) -> Axis {
    let (t, d) = ticks(lo, hi, integer, max_ticks);
    Axis { lo, hi, ticks: t.into_iter().map(|v| (v, label(v, d))).collect(), desc: desc.to_string() }
}

/// `[lo, hi]` widened by `frac` of its width on both sides (after [`readable`]); a range that
/// starts at or above zero does not go below zero (figures that cannot be negative), unless
/// every value is zero (then the axis is centred on it).
pub(crate) fn padded(min: f64, max: f64, integer: bool, frac: f64) -> (f64, f64) {
    let degenerate = readable(min, max, integer) != (min, max);
    let (a, b) = readable(min, max, integer);
    if degenerate {
        return (a, b);
    }
    let p = (b - a) * frac;
    let lo = if a >= 0.0 && a - p < 0.0 { 0.0 } else { a - p };
    (lo, b + p)
}

/// The value a tick label states ("1,250.5" → 1250.5), if it is a number.
#[cfg(test)]
pub(crate) fn parse_label(s: &str) -> Option<f64> {
    s.replace(',', "").trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_one_two_two_and_a_half_or_five() {
        assert_eq!(nice_step(0.9, false), 1.0);
        assert_eq!(nice_step(1.1, false), 2.0);
        assert_eq!(nice_step(2.1, false), 2.5);
        assert_eq!(nice_step(2.6, false), 5.0);
        assert_eq!(nice_step(0.23, false), 0.25);
        assert_eq!(nice_step(5.5, false), 10.0);
        // Integer axes: whole steps only.
        assert_eq!(nice_step(0.3, true), 1.0);
        assert_eq!(nice_step(2.1, true), 5.0);
        assert_eq!(nice_step(21.0, true), 25.0);
    }

    #[test]
    fn ticks_are_exact_multiples_with_exact_labels() {
        let (t, d) = ticks(0.0, 13.5, true, 8);
        assert_eq!(t, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
        assert_eq!(d, 0);
        let (t, d) = ticks(0.0, 0.9, false, 8);
        assert_eq!(t, vec![0.0, 0.2, 0.4, 0.6, 0.8]);
        assert_eq!(d, 1);
        // A small replica range still gets integer ticks.
        assert_eq!(ticks(0.0, 2.7, true, 8).0, vec![0.0, 1.0, 2.0]);
        // The range of the old compare.png (0–19 replicas): no 2.75 steps.
        assert_eq!(ticks(0.0, 19.0, true, 9).0, vec![0.0, 5.0, 10.0, 15.0]);
        assert_eq!(ticks(0.0, 19.0, true, 12).0, (0..=9).map(|k| 2.0 * k as f64).collect::<Vec<_>>());
        let (t, d) = ticks(0.0, 0.7, false, 4);
        assert_eq!(t, vec![0.0, 0.25, 0.5]);
        assert_eq!(d, 2);
        for (lo, hi, int) in [(0.0, 17.3, true), (-3.7, 41.0, false), (13.09, 33.09, false), (0.0, 1e6, true)]
        {
            let a = axis(lo, hi, int, 8, "");
            assert!(a.ticks.len() >= 3 && a.ticks.len() <= 8, "{lo}..{hi}: {:?}", a.ticks);
            for (v, l) in &a.ticks {
                assert_eq!(parse_label(l), Some(*v), "label {l} of {v}");
                assert!(*v >= lo && *v <= hi);
                assert!(!int || v.fract() == 0.0);
            }
        }
    }

    #[test]
    fn a_degenerate_range_is_centred() {
        assert_eq!(readable(0.0, 0.0, false), (-1.0, 1.0));
        assert_eq!(readable(17.0, 17.0, true), (16.0, 18.0));
        assert_eq!(readable(23.0, 23.0, false), (20.5, 25.5));
        assert_eq!(padded(0.0, 0.0, false, 0.08), (-1.0, 1.0));
        assert_eq!(padded(0.0, 10.0, false, 0.1), (0.0, 11.0));
        let a = axis(-1.0, 1.0, false, 8, "");
        let labels: Vec<&str> = a.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels, ["-1.0", "-0.5", "0.0", "0.5", "1.0"]);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands("1000".into()), "1000");
        assert_eq!(group_thousands("10000".into()), "10,000");
        assert_eq!(group_thousands("-1234567.25".into()), "-1,234,567.25");
        assert_eq!(label(-0.0, 1), "0.0");
    }
}
