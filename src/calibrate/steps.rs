//! From history rows to measured load steps: grouping, ramp dropping, per-step figures and the
//! load-generator check.
//!
//! A step is a maximal run of consecutive rows with the same (non-zero) user count. Its first
//! `ramp` seconds are dropped: Locust's `Requests/s` covers the 10 s ending 2 s before the row
//! and its windowed percentiles the last 10 s, so in window mode a row says something about
//! the step only 12 s after it began; in cumulative mode only the closed loop's settling matters
//! (a few seconds). What is left, from the *reference* row (the first one kept) to the step's
//! last row, gives:
//!
//! - throughput, failures: differences of the cumulative `Total Request Count` and
//!   `Total Failure Count` over the timestamps' difference (exact counts; the timestamps are
//!   whole seconds, so a 30 s step is good to about 2 %);
//! - mean response time: the difference of `Total Average Response Time × Total Request Count`;
//! - percentiles, window mode: the median over the kept rows of each row's windowed value;
//! - percentiles, cumulative mode: the cumulative distribution at the reference row and at the
//!   last row are rebuilt from their percentile columns (linear between the reported levels,
//!   from `Total Min Response Time` at level 0) and subtracted with their counts as weights,
//!   `G = (n₁F₁ − n₀F₀)/(n₁ − n₀)`, then inverted. The limits: nothing below the cumulative
//!   median is known except the minimum, so a step much faster than everything before it is
//!   blurred; the later the step, the smaller its weight and the larger the error; Locust rounds
//!   response times (to 10 ms between 100 ms and 1 s, to 100 ms above).
//!
//! Locust's percentiles include failed requests. The model's are of served requests only, so
//! the measured ones are converted assuming failures are faster than any success (true of
//! rejections by a full queue, Locust's 503s): served quantile q = overall quantile
//! `f + q(1 − f)`, with f the step's failure fraction.
//!
//! The load-generator check uses the closed loop: N users with think time Z and response time R
//! make N / (Z + R) requests per second (Little's law). Z is estimated as the smallest
//! `N/X − R` over the steps; a step whose throughput is under 80 % of `N / (Z + R)` with under
//! 1 % failures was held back by Locust itself (CPU-starved users), not by the replica, and is
//! flagged and left out of the fit.

use super::CalibrateError;
use super::locust::{HistoryRow, LocustHistory, PercentileMode};
use serde::Serialize;

/// Default ramp dropped in window mode, seconds (Locust's rps window plus its 2 s lag).
pub const RAMP_WINDOW_S: f64 = 12.0;
/// Default ramp dropped in cumulative mode, seconds.
pub const RAMP_CUMULATIVE_S: f64 = 4.0;
/// A step needs at least this many seconds after its ramp to count.
pub const MIN_KEPT_S: f64 = 4.0;
/// Throughput under this fraction of the closed loop's expectation (with no failures) flags a
/// step as held back by the load generator.
pub const GENERATOR_BOUND_RATIO: f64 = 0.8;

/// Percentiles of one step, seconds, served requests only.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50_s: f64,
    /// 95th percentile.
    pub p95_s: f64,
}

/// One load step as measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuredStep {
    /// Users running in the step.
    pub users: u32,
    /// File lines of the step's first and last rows.
    pub lines: (usize, usize),
    /// Seconds from the step's first row to its last.
    pub duration_s: f64,
    /// Seconds measured (after the ramp).
    pub kept_s: f64,
    /// Requests per second reaching the replica (failures included): the load offered to it.
    pub arrival_rps: f64,
    /// Successful requests per second.
    pub served_rps: f64,
    /// Failed fraction of requests.
    pub failure_rate: f64,
    /// Mean response time of all requests, seconds (from the cumulative mean).
    pub mean_s: Option<f64>,
    /// Percentiles of served requests; `None` when the step had no served requests.
    pub latency: Option<Percentiles>,
    /// Throughput the users would make if only the replica held them back, N / (Z + R).
    pub expected_rps: Option<f64>,
    /// Served well under `expected_rps` with no failures: Locust was the bottleneck.
    pub generator_bound: bool,
}

/// All steps of a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Steps {
    /// What the percentile columns meant.
    pub mode: PercentileMode,
    /// Seconds dropped at the start of each step.
    pub ramp_s: f64,
    /// Estimated think time of a Locust user, seconds.
    pub think_s: Option<f64>,
    /// The usable steps, in file order.
    pub steps: Vec<MeasuredStep>,
    /// Steps left out, with why.
    pub skipped: Vec<String>,
}

/// Groups `history` into steps and measures each; `ramp_s` overrides the mode's default ramp.
pub fn measure(history: &LocustHistory, ramp_s: Option<f64>) -> Result<Steps, CalibrateError> {
    let mode = history.mode;
    let ramp = ramp_s.unwrap_or(match mode {
        PercentileMode::Window => RAMP_WINDOW_S,
        PercentileMode::Cumulative => RAMP_CUMULATIVE_S,
    });
    let rows = &history.rows;
    let mut steps = Vec::new();
    let mut skipped = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let mut j = i;
        while j + 1 < rows.len() && rows[j + 1].users == rows[i].users {
            j += 1;
        }
        let group = &rows[i..=j];
        i = j + 1;
        if group[0].users == 0 {
            continue;
        }
        let start = group[0].timestamp;
        let last = &group[group.len() - 1];
        let Some(reference) = group.iter().find(|r| (r.timestamp - start) as f64 >= ramp) else {
            skipped.push(format!(
                "{} users (lines {}–{}): shorter than the {ramp} s ramp",
                group[0].users, group[0].line, last.line
            ));
            continue;
        };
        let kept = (last.timestamp - reference.timestamp) as f64;
        if kept < MIN_KEPT_S {
            skipped.push(format!(
                "{} users (lines {}–{}): only {kept} s after the ramp",
                group[0].users, group[0].line, last.line
            ));
            continue;
        }
        let n = (last.total_requests - reference.total_requests) as f64;
        if n == 0.0 {
            skipped.push(format!(
                "{} users (lines {}–{}): no requests",
                group[0].users, group[0].line, last.line
            ));
            continue;
        }
        let fails = (last.total_failures - reference.total_failures) as f64;
        let failure_rate = fails / n;
        let mean_s = match (reference.total_mean_ms, last.total_mean_ms) {
            (Some(m0), Some(m1)) => {
                let s = (m1 * last.total_requests as f64 - m0 * reference.total_requests as f64) / n;
                (s >= 0.0).then_some(s / 1000.0)
            }
            _ => None,
        };
        let kept_rows: Vec<&HistoryRow> =
            group.iter().filter(|r| r.timestamp >= reference.timestamp).collect();
        let latency = if fails >= n {
            None
        } else {
            match mode {
                PercentileMode::Window => window_percentiles(history, &kept_rows, failure_rate),
                PercentileMode::Cumulative => cumulative_percentiles(history, reference, last, failure_rate),
            }
        };
        steps.push(MeasuredStep {
            users: group[0].users,
            lines: (group[0].line, last.line),
            duration_s: (last.timestamp - start) as f64,
            kept_s: kept,
            arrival_rps: n / kept,
            served_rps: (n - fails) / kept,
            failure_rate,
            mean_s,
            latency,
            expected_rps: None,
            generator_bound: false,
        });
    }
    if steps.len() < 2 {
        return Err(CalibrateError {
            origin: history.origin.clone(),
            line: rows.last().map(|r| r.line),
            column: Some("User Count".into()),
            message: format!(
                "too short: {} usable load step(s), need at least 2 (a step is a run of rows with the same user count, \
                 at least {} s long after its {ramp} s ramp){}",
                steps.len(),
                MIN_KEPT_S,
                if skipped.is_empty() { String::new() } else { format!("; skipped: {}", skipped.join("; ")) }
            ),
        });
    }
    let think_s = flag_generator_bound(&mut steps);
    Ok(Steps { mode, ramp_s: ramp, think_s, steps, skipped })
}

/// Estimates the think time and flags steps held back by the load generator.
fn flag_generator_bound(steps: &mut [MeasuredStep]) -> Option<f64> {
    let think = steps
        .iter()
        .filter_map(|s| s.mean_s.map(|r| s.users as f64 / s.arrival_rps - r))
        .min_by(f64::total_cmp)?
        .max(0.0);
    for s in steps.iter_mut() {
        if let Some(r) = s.mean_s
            && think + r > 0.0
        {
            let expected = s.users as f64 / (think + r);
            s.expected_rps = Some(expected);
            s.generator_bound = s.arrival_rps < GENERATOR_BOUND_RATIO * expected && s.failure_rate < 0.01;
        }
    }
    Some(think)
}

/// Served-only quantile `q` from a quantile function over all requests with failure fraction `f`.
fn served_level(q: f64, f: f64) -> f64 {
    (f + q * (1.0 - f)).min(1.0)
}

/// Linear interpolation of a quantile function given as (level, value) points sorted by level.
fn quantile_at(points: &[(f64, f64)], level: f64) -> Option<f64> {
    let first = points.first()?;
    if level <= first.0 {
        return Some(first.1);
    }
    for w in points.windows(2) {
        let ((l0, v0), (l1, v1)) = (w[0], w[1]);
        if level <= l1 {
            return Some(if l1 > l0 { v0 + (v1 - v0) * (level - l0) / (l1 - l0) } else { v1 });
        }
    }
    Some(points[points.len() - 1].1)
}

fn row_quantiles(history: &LocustHistory, row: &HistoryRow) -> Vec<(f64, f64)> {
    history.levels.iter().zip(&row.percentiles).filter_map(|(&l, v)| v.map(|v| (l, v))).collect()
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 })
}

fn window_percentiles(history: &LocustHistory, rows: &[&HistoryRow], f: f64) -> Option<Percentiles> {
    let at = |q: f64| {
        median(
            rows.iter().filter_map(|r| quantile_at(&row_quantiles(history, r), served_level(q, f))).collect(),
        )
    };
    Some(Percentiles { p50_s: at(0.5)? / 1000.0, p95_s: at(0.95)? / 1000.0 })
}

/// The cumulative distribution function of a row, as (x ms, F) breakpoints, non-decreasing.
fn row_cdf(history: &LocustHistory, row: &HistoryRow) -> Vec<(f64, f64)> {
    let mut pts = Vec::new();
    if let Some(min) = row.total_min_ms {
        pts.push((min, 0.0));
    }
    for (l, v) in row_quantiles(history, row) {
        pts.push((v, l));
    }
    pts
}

/// F(x) of a breakpoint list: the highest level reached at or below x, linear in between.
fn cdf_at(pts: &[(f64, f64)], x: f64) -> f64 {
    let Some(i) = pts.iter().rposition(|p| p.0 <= x) else { return 0.0 };
    let (x0, y0) = pts[i];
    match pts.get(i + 1) {
        Some(&(x1, y1)) if x1 > x0 => y0 + (y1 - y0) * (x - x0) / (x1 - x0),
        Some(_) => y0,
        None => 1.0f64.max(y0),
    }
}

fn cumulative_percentiles(
    history: &LocustHistory,
    reference: &HistoryRow,
    last: &HistoryRow,
    f: f64,
) -> Option<Percentiles> {
    let (n0, n1) = (reference.total_requests as f64, last.total_requests as f64);
    let c0 = row_cdf(history, reference);
    let c1 = row_cdf(history, last);
    if c1.is_empty() || n1 <= n0 {
        return None;
    }
    let mut xs: Vec<f64> = c0.iter().chain(&c1).map(|p| p.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let mut g = Vec::with_capacity(xs.len());
    let mut running: f64 = 0.0;
    for &x in &xs {
        let f0 = if c0.is_empty() { 0.0 } else { cdf_at(&c0, x) };
        let v = ((n1 * cdf_at(&c1, x) - n0 * f0) / (n1 - n0)).clamp(0.0, 1.0);
        running = running.max(v);
        g.push((x, running));
    }
    let inverse = |level: f64| -> Option<f64> {
        let i = g.iter().position(|p| p.1 >= level)?;
        if i == 0 {
            return Some(g[0].0);
        }
        let ((x0, y0), (x1, y1)) = (g[i - 1], g[i]);
        Some(if y1 > y0 { x0 + (x1 - x0) * (level - y0) / (y1 - y0) } else { x1 })
    };
    let p50 = inverse(served_level(0.5, f))?;
    let p95 = inverse(served_level(0.95, f)).unwrap_or(g[g.len() - 1].0);
    Some(Percentiles { p50_s: p50 / 1000.0, p95_s: p95 / 1000.0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::locust::parse;

    const HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time";

    /// A window-mode file: per step `secs` rows at `rps` each, p50/p95 per step, optional fails.
    fn window_file(steps: &[(u32, u32, f64, f64, f64, f64)]) -> String {
        let mut out = String::from(HEADER);
        out.push('\n');
        let (mut t, mut n, mut nf, mut sum) = (1000i64, 0u64, 0u64, 0.0f64);
        for &(users, secs, rps, p50, p95, fail) in steps {
            for k in 0..secs {
                n += rps as u64;
                nf += (rps * fail) as u64;
                sum += rps * p50;
                // The first 12 s show the previous step's percentiles (the window lags).
                let (a, b) = if k < 12 { (p50 * 3.0, p95 * 3.0) } else { (p50, p95) };
                out.push_str(&format!(
                    "{t},{users},GET,/x,{rps},0,{a},{b},{b},{n},{nf},{a},{},1,{b}\n",
                    sum / n as f64
                ));
                out.push_str(&format!(
                    "{t},{users},,Aggregated,{rps},0,{a},{b},{b},{n},{nf},{a},{},1,{b}\n",
                    sum / n as f64
                ));
                t += 1;
            }
        }
        out
    }

    #[test]
    fn groups_steps_and_drops_the_ramp() {
        let text = window_file(&[(10, 30, 10.0, 50.0, 100.0, 0.0), (20, 30, 20.0, 60.0, 120.0, 0.0)]);
        let h = parse(&text, "w.csv").unwrap();
        assert_eq!(h.mode, PercentileMode::Window);
        let s = measure(&h, None).unwrap();
        assert_eq!(s.steps.len(), 2);
        let a = &s.steps[0];
        assert_eq!(a.users, 10);
        assert_eq!(a.kept_s, 17.0); // rows 12..29 of the step
        assert!((a.served_rps - 10.0).abs() < 1e-9);
        // The ramp rows (3× latency) are gone.
        assert_eq!(a.latency.unwrap().p50_s, 0.05);
        assert_eq!(s.steps[1].latency.unwrap().p95_s, 0.12);
        // Without dropping the ramp every row counts.
        let s0 = measure(&h, Some(0.0)).unwrap();
        assert_eq!(s0.steps[1].kept_s, 29.0);
    }

    #[test]
    fn generator_bound_steps_are_flagged() {
        // Users think ~1 s: 10 users make ~10 rps, 20 make ~20; the third step makes 12 with
        // 40 users and no failures and no extra latency: Locust held back.
        let text = window_file(&[
            (10, 30, 10.0, 50.0, 100.0, 0.0),
            (20, 30, 19.0, 50.0, 100.0, 0.0),
            (40, 30, 12.0, 50.0, 100.0, 0.0),
        ]);
        let s = measure(&parse(&text, "g.csv").unwrap(), None).unwrap();
        let flags: Vec<bool> = s.steps.iter().map(|s| s.generator_bound).collect();
        assert_eq!(flags, [false, false, true]);
        assert!(s.think_s.unwrap() > 0.9 && s.think_s.unwrap() < 1.0, "{:?}", s.think_s);
    }

    #[test]
    fn failures_shift_percentiles_to_served_requests() {
        // Half the requests fail fast: the served median is the overall 75th percentile.
        let q = [(0.5, 2.0), (0.75, 200.0), (0.95, 300.0), (1.0, 400.0)];
        assert_eq!(quantile_at(&q, served_level(0.5, 0.5)), Some(200.0));
        assert_eq!(quantile_at(&q, served_level(0.5, 0.0)), Some(2.0));
    }

    #[test]
    fn cumulative_mode_recovers_step_percentiles() {
        // Step 1: 100 requests, uniform on [40, 60] ms; step 2: 300 more, uniform on [80, 120].
        // Cumulative quantiles at the end of step 2: 25 % below 60, the rest on [80, 120].
        let header = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time";
        let mut text = format!("{header}\n");
        for t in 0..10 {
            let n = 10 * (t + 1);
            text.push_str(&format!("{t},10,,Aggregated,10,0,50,59,60,{n},0,50,50,40,60\n"));
        }
        // Ramp reference at t = 4 (n = 50) and the end at t = 9 (n = 100), same distribution.
        for t in 10..20 {
            let n = 100 + 30 * (t - 9);
            // Mix of 100 (old) and 30·k (new) requests.
            let new = (n - 100) as f64;
            let w_old = 100.0 / n as f64;
            // Median of the mixture: solve w_old·F_old(x) + (1 − w_old)·F_new(x) = 0.5.
            let med = if w_old >= 0.5 {
                40.0 + 20.0 * 0.5 / w_old
            } else {
                80.0 + 40.0 * (0.5 - w_old) / (1.0 - w_old)
            };
            let p95 = 80.0 + 40.0 * (0.95 - w_old) / (1.0 - w_old);
            let _ = new;
            text.push_str(&format!("{t},40,,Aggregated,30,0,{med},{p95},120,{n},0,{med},70,40,120\n"));
        }
        let h = parse(&text, "c.csv").unwrap();
        assert_eq!(h.mode, PercentileMode::Cumulative);
        let s = measure(&h, None).unwrap();
        assert_eq!(s.steps.len(), 2);
        let l1 = s.steps[0].latency.unwrap();
        assert!((l1.p50_s - 0.050).abs() < 0.002, "{l1:?}");
        let l2 = s.steps[1].latency.unwrap();
        assert!((l2.p50_s - 0.100).abs() < 0.004, "{l2:?}");
        assert!((l2.p95_s - 0.118).abs() < 0.004, "{l2:?}");
        assert!((s.steps[1].served_rps - 30.0).abs() < 1e-9);
    }

    #[test]
    fn too_short_names_the_file() {
        let text = window_file(&[(10, 14, 10.0, 50.0, 100.0, 0.0)]);
        let e = measure(&parse(&text, "short.csv").unwrap(), None).unwrap_err().to_string();
        assert!(e.contains("short.csv") && e.contains("too short"), "{e}");
    }
}
