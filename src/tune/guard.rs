//! Guard rails of a search: the warnings `tune` gives when its answer may not be the one the
//! user is after, each with what to do about it.
//!
//! * **edge**: the best (or, with nothing feasible, the closest) candidate sits on the lowest
//!   or highest value of a numeric `--vary` (durations too), so the optimum may lie beyond the
//!   range; the warning suggests the range extended past it as a ready-to-paste `--vary`.
//! * **no_effect**: a varied key changed no figure — every pair of candidates that differ only
//!   in that key (measured on the same window and replications) has identical figures.
//! * **tie**: other feasible candidates have exactly the best's objective; the best was chosen by
//!   `--vary` order.
//! * **horizon**: the search's horizon (its `--set simulation.duration` / `start`) does not reach
//!   the scenario's busiest period, judged from expected arrivals per recording interval
//!   (`TrafficSpec::expected_between`, as halving's screen), so nothing is drawn.
//!
//! Pure: the CLI prints the warnings, `report::tune` writes them into tune.json and the report.

use super::space::{ParamValue, Vary, format_range, format_value, number_unit};
use super::{Candidate, CandidateResult, TuneOutcome, TuneSpec, Window, screen_window};
use crate::scenario::Scenario;
use crate::time::{SECOND, Time, to_secs_f64};
use std::collections::BTreeMap;

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WarningKind {
    /// The best sits on the edge of a varied range.
    Edge,
    /// A varied key changed no figure.
    NoEffect,
    /// Candidates tie with the best on the objective.
    Tie,
    /// The horizon does not reach the scenario's busiest period.
    Horizon,
}

impl WarningKind {
    /// Its name in tune.json.
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::Edge => "edge",
            WarningKind::NoEffect => "no_effect",
            WarningKind::Tie => "tie",
            WarningKind::Horizon => "horizon",
        }
    }
}

/// One warning about a search.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// What it is about.
    pub kind: WarningKind,
    /// The varied key it concerns, if one.
    pub key: Option<String>,
    /// One sentence: what was found and why it matters.
    pub message: String,
    /// What to type to act on it (a `--vary` or `--set` argument), when there is one thing.
    pub suggestion: Option<String>,
}

impl Warning {
    /// The line printed on stderr (without the `warning: ` prefix).
    pub fn text(&self) -> String {
        match &self.suggestion {
            Some(s) => format!("{} Try: {s}", self.message),
            None => self.message.clone(),
        }
    }
}

/// The warnings a finished search gives: edge, no-effect and tie (the horizon's is given before
/// the search, by [`horizon_warning`]).
pub fn outcome_warnings(spec: &TuneSpec, vary: &[Vary], out: &TuneOutcome) -> Vec<Warning> {
    let mut w = edge_warnings(vary, out);
    w.extend(no_effect_warnings(vary, out));
    w.extend(tie_warning(spec, out));
    w
}

/// The values of a varied key as numbers in one unit (`""` for plain numbers, else a duration
/// unit), in `--vary` order; `None` for a key with a value that is neither.
fn numeric_axis(values: &[ParamValue]) -> Option<(Vec<f64>, String)> {
    if values.iter().all(|v| v.as_f64().is_some()) {
        return Some((values.iter().filter_map(ParamValue::as_f64).collect(), String::new()));
    }
    let secs: Vec<f64> = values
        .iter()
        .map(|v| crate::config::values::parse_duration(&v.text).ok().map(|d| d.as_secs_f64()))
        .collect::<Option<_>>()?;
    // Durations: in their own unit when they share one (`10s..60s:10s`), else in seconds.
    let units: Vec<(f64, &str)> = values.iter().filter_map(|v| number_unit(&v.text)).collect();
    if units.len() == values.len() && units.iter().all(|u| u.1 == units[0].1) && !units[0].1.is_empty() {
        return Some((units.iter().map(|u| u.0).collect(), units[0].1.to_string()));
    }
    Some((secs, "s".into()))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1e-12)
}

/// How the values of a range step: by a constant difference, or by a constant factor.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stepping {
    Linear(f64),
    Geometric(f64),
}

/// The `VALUES` of a `--vary` that continues past `best`, an edge of `sorted` (distinct values
/// in increasing order), upwards or downwards: as many steps beyond it as the search had (at
/// least two), the step (or factor) of the search at that edge, never crossing zero when the
/// search did not (nor reaching it when every value was positive) and staying whole when every
/// value was. `None` when there is nowhere to go.
fn extension(sorted: &[f64], up: bool, unit: &str) -> Option<String> {
    let n = sorted.len();
    if n < 2 {
        return None;
    }
    let best = if up { sorted[n - 1] } else { sorted[0] };
    let diffs: Vec<f64> = sorted.windows(2).map(|w| w[1] - w[0]).collect();
    let even = diffs.iter().all(|d| close(*d, diffs[0]));
    let ratios: Vec<f64> = sorted.windows(2).map(|w| w[1] / w[0]).collect();
    let stepping = if n >= 3 && !even && sorted[0] > 0.0 && ratios.iter().all(|r| close(*r, ratios[0])) {
        Stepping::Geometric(ratios[0])
    } else if up {
        Stepping::Linear(diffs[n - 2])
    } else {
        Stepping::Linear(diffs[0])
    };
    let whole = sorted.iter().all(|x| x.fract() == 0.0);
    let lowest_allowed = if sorted[0] > 0.0 {
        Some(false) // stay positive
    } else if sorted[0] == 0.0 {
        Some(true) // zero allowed
    } else {
        None // negative values searched: no floor
    };
    // Zero, to the rounding of the range's arithmetic.
    let zero = 1e-9 * sorted.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    let ok = |x: f64| -> bool {
        let floor_ok = match lowest_allowed {
            Some(false) => x > zero,
            Some(true) => x >= -zero,
            None => true,
        };
        floor_ok && (!whole || close(x, x.round()))
    };
    let m = (n - 1).max(2);
    let mut steps = 0;
    let mut far = best;
    for j in 1..=m {
        let x = match (stepping, up) {
            (Stepping::Linear(s), true) => best + j as f64 * s,
            (Stepping::Linear(s), false) => best - j as f64 * s,
            (Stepping::Geometric(f), true) => best * f.powi(j as i32),
            (Stepping::Geometric(f), false) => best / f.powi(j as i32),
        };
        if !ok(x) {
            break;
        }
        steps = j;
        far = x;
    }
    if steps == 0 {
        return None;
    }
    let (lo, hi) = if up { (best, far) } else { (far, best) };
    Some(match stepping {
        Stepping::Linear(s) => format_range(lo, hi, &format_step(s, unit), unit),
        Stepping::Geometric(f) => format_range(lo, hi, &format!("x{}", trim_num(f)), unit),
    })
}

fn trim_num(x: f64) -> String {
    format_value(x, "")
}

fn format_step(s: f64, unit: &str) -> String {
    format!("{}{unit}", trim_num(s))
}

/// The candidate the edge check looks at: the best, else the closest.
fn anchor(out: &TuneOutcome) -> Option<(&CandidateResult, &'static str)> {
    match (out.best, &out.closest) {
        (Some(b), _) => Some((&out.candidates[b], "the best")),
        (None, Some((c, _))) => Some((&out.candidates[*c], "the closest candidate (none is feasible)")),
        _ => None,
    }
}

/// Edge warnings: for each numeric `--vary` (two values or more) whose value in the best
/// candidate (the closest, when none is feasible) is the lowest or highest searched.
pub fn edge_warnings(vary: &[Vary], out: &TuneOutcome) -> Vec<Warning> {
    let Some((c, who)) = anchor(out) else { return Vec::new() };
    let mut w = Vec::new();
    for (k, v) in vary.iter().enumerate() {
        let Some((xs, unit)) = numeric_axis(&v.values) else { continue };
        let Some(i) = v.values.iter().position(|x| *x == c.candidate.params[k].1) else { continue };
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup_by(|a, b| close(*a, *b));
        if sorted.len() < 2 {
            continue;
        }
        let x = xs[i];
        let up = close(x, sorted[sorted.len() - 1]);
        if !up && !close(x, sorted[0]) {
            continue;
        }
        let Some(values) = extension(&sorted, up, &unit) else { continue };
        let suggestion = format!("--vary {}={values}", v.key);
        w.push(Warning {
            kind: WarningKind::Edge,
            key: Some(v.key.clone()),
            message: format!(
                "{who} has {}={}, the {} value searched for {} (of {}); the optimum may lie beyond the range.",
                short(&v.key),
                c.candidate.params[k].1.text,
                if up { "highest" } else { "lowest" },
                v.key,
                v.values.iter().map(|x| x.text.as_str()).collect::<Vec<_>>().join(", "),
            ),
            suggestion: Some(suggestion),
        });
    }
    w
}

fn short(k: &str) -> &str {
    super::short_key(k)
}

/// One figure bit for bit: mean, interval ends, count.
type FigureBits = (Option<u64>, Option<u64>, Option<u64>, usize);

/// Candidates measured alike (rung, replications, window start, end and warm-up) and equal in
/// every other varied key.
type GroupKey = (usize, u32, Time, Time, Time, Vec<String>);

/// A candidate's figures, bit for bit (means, interval ends and counts).
fn signature(c: &CandidateResult) -> Vec<FigureBits> {
    let b = |x: Option<f64>| x.map(f64::to_bits);
    c.figures.figures.iter().map(|e| (b(e.mean), b(e.ci95_low), b(e.ci95_high), e.n)).collect()
}

/// No-effect warnings: a varied key (two values or more) for which the candidates that differ
/// only in it, measured at the same fidelity (window and replications), all have identical
/// figures — and there was at least one such pair.
pub fn no_effect_warnings(vary: &[Vary], out: &TuneOutcome) -> Vec<Warning> {
    let mut w = Vec::new();
    for (k, v) in vary.iter().enumerate() {
        if v.values.len() < 2 {
            continue;
        }
        // Group by fidelity and the other keys' values.
        let mut groups: BTreeMap<GroupKey, Vec<&CandidateResult>> = BTreeMap::new();
        for c in &out.candidates {
            let f = &c.fidelity;
            let others: Vec<String> = c
                .candidate
                .params
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .map(|(_, (_, p))| p.text.clone())
                .collect();
            groups
                .entry((f.rung, f.seeds, f.window.start, f.window.end, f.window.warmup, others))
                .or_default()
                .push(c);
        }
        let mut pairs = 0usize;
        let mut example: Option<(&Candidate, &Candidate)> = None;
        let mut differs = false;
        for g in groups.values() {
            let distinct: std::collections::BTreeSet<&str> =
                g.iter().map(|c| c.candidate.params[k].1.text.as_str()).collect();
            if distinct.len() < 2 {
                continue;
            }
            pairs += g.len() - 1;
            let first = signature(g[0]);
            if g.iter().any(|c| signature(c) != first) {
                differs = true;
                break;
            }
            if example.is_none() {
                let other = g.iter().find(|c| c.candidate.params[k].1 != g[0].candidate.params[k].1);
                example = other.map(|o| (&g[0].candidate, &o.candidate));
            }
        }
        if differs || pairs == 0 {
            continue;
        }
        let (a, b) = example.expect("a group with two values gives an example");
        w.push(Warning {
            kind: WarningKind::NoEffect,
            key: Some(v.key.clone()),
            message: format!(
                "{} changed no figure: every candidate that differs from another only in it has identical results \
                 (e.g. {}={} and {}={}); the policy may ignore it, or it matters only outside what was measured.",
                v.key,
                short(&v.key),
                a.params[k].1.text,
                short(&v.key),
                b.params[k].1.text,
            ),
            suggestion: None,
        });
    }
    w
}

/// The tie warning: the feasible full-fidelity candidates whose objective equals the best's
/// exactly (the best was chosen among them by `--vary` order).
pub fn tie_warning(spec: &TuneSpec, out: &TuneOutcome) -> Option<Warning> {
    let b = &out.candidates[out.best?];
    let obj = b.mean(&spec.objective)?;
    let tied: Vec<&CandidateResult> = out
        .candidates
        .iter()
        .filter(|c| {
            c.fidelity.full
                && c.feasible
                && c.candidate.point != b.candidate.point
                && c.mean(&spec.objective).map(f64::to_bits) == Some(obj.to_bits())
        })
        .collect();
    if tied.is_empty() {
        return None;
    }
    let same = tied.iter().filter(|c| signature(c) == signature(b)).count();
    let mut names: Vec<String> = tied.iter().take(5).map(|c| c.candidate.label()).collect();
    if tied.len() > 5 {
        names.push(format!("and {} more", tied.len() - 5));
    }
    Some(Warning {
        kind: WarningKind::Tie,
        key: None,
        message: format!(
            "the best, {}, ties on {} ({}) with {} other feasible candidate(s): {}; {} with identical figures. \
             It was chosen by --vary order (the earlier wins), not by its figures.",
            b.candidate.label(),
            spec.objective,
            crate::report::fmt_num(obj),
            tied.len(),
            names.join("; "),
            if same == tied.len() { "all".to_string() } else { format!("{same} of them") },
        ),
        suggestion: None,
    })
}

/// The share of the scenario's highest expected rate below which the horizon's highest is
/// said not to reach the busiest period.
pub const HORIZON_PEAK_SHARE: f64 = 0.95;

/// The highest expected arrival rate (per second) of a recording interval of `s`'s horizon
/// (whole seconds, as halving's screen cuts it) and the start of that interval.
pub fn peak_rate(s: &Scenario) -> (f64, Time) {
    let step = s.record_interval.max(1).div_ceil(SECOND) * SECOND;
    let mut best = (0.0, 0);
    let mut t = 0;
    while t < s.duration {
        let end = (t + step).min(s.duration);
        let r = s.traffic.expected_between(&s.clock, t, end) / to_secs_f64(end - t).max(1e-9);
        if r > best.0 * (1.0 + 1e-9) {
            best = (r, t);
        }
        t = end;
    }
    best
}

/// The busiest span of `full` as long as `tuned`'s horizon (the screen's choice:
/// [`screen_window`]), `None` when the horizon is not shorter than the scenario.
pub fn busiest_span(tuned: &Scenario, full: &Scenario) -> Option<Window> {
    (tuned.duration < full.duration)
        .then(|| screen_window(full, tuned.duration as f64 / full.duration.max(1) as f64))
}

/// The horizon warning: `tuned` (the search's scenario, its horizon overridden) reaches less than
/// [`HORIZON_PEAK_SHARE`] of the highest expected rate of `full` (the same scenario without the
/// horizon overrides). `overrides` names the horizon overrides; `moved`, when given, is `tuned`
/// moved to start at the busiest span of `full` (the CLI loads it with `--set
/// simulation.start=…`): it is suggested when it does reach the peak.
pub fn horizon_warning(
    tuned: &Scenario,
    full: &Scenario,
    overrides: &[String],
    moved: Option<(&Scenario, &str)>,
) -> Option<Warning> {
    let (peak, at) = peak_rate(full);
    let (here, here_at) = peak_rate(tuned);
    let step = |s: &Scenario| s.record_interval.max(1).div_ceil(SECOND) * SECOND;
    let span = |s: &Scenario, t: Time| {
        format!("{}–{}", s.clock.label(t, false), s.clock.label((t + step(s)).min(s.duration), false))
    };
    if peak <= 0.0 || here >= HORIZON_PEAK_SHARE * peak {
        return None;
    }
    let fmt_t = |s: &Scenario, t: Time| s.clock.datetime(t).format("%Y-%m-%d %H:%M").to_string();
    let mut message = format!(
        "the horizon ({} to {}, {}) does not reach the scenario's busiest period: its highest expected rate \
         is {here:.1} req/s ({} {}), {:.0} % of the whole scenario's {peak:.1} req/s ({} {})",
        fmt_t(tuned, 0),
        fmt_t(tuned, tuned.duration),
        overrides.iter().map(|o| format!("--set {o}")).collect::<Vec<_>>().join(" "),
        tuned.clock.datetime(here_at).format("%Y-%m-%d"),
        span(tuned, here_at),
        100.0 * here / peak,
        full.clock.datetime(at).format("%Y-%m-%d"),
        span(full, at),
    );
    if let Some(w) = busiest_span(tuned, full) {
        message.push_str(&format!(
            "; its busiest {} are {} to {}",
            crate::report::fmt_duration(to_secs_f64(tuned.duration)),
            fmt_t(full, w.start),
            fmt_t(full, w.end)
        ));
    }
    message.push_str(
        ". Settings tuned here may not hold at the peak: search the whole scenario (--strategy halving screens its busiest part cheaply)",
    );
    let suggestion =
        moved.filter(|(m, _)| peak_rate(m).0 >= HORIZON_PEAK_SHARE * peak).map(|(_, s)| s.to_string());
    if suggestion.is_some() {
        message.push_str(", or move the horizon there");
    }
    message.push('.');
    Some(Warning { kind: WarningKind::Horizon, key: None, message, suggestion })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::aggregate::{Estimate, N_FIGURES, PolicyAggregate};
    use crate::tune::space::parse_vary;
    use crate::tune::{Fidelity, Strategy};

    fn ext(values: &[f64], up: bool, unit: &str) -> Option<String> {
        extension(values, up, unit)
    }

    #[test]
    fn extensions_continue_the_range_past_its_edge() {
        assert_eq!(ext(&[8.0, 9.0, 10.0, 11.0, 12.0], true, "").as_deref(), Some("12..16:1"));
        assert_eq!(ext(&[8.0, 9.0, 10.0, 11.0, 12.0], false, "").as_deref(), Some("4..8:1"));
        // Never to zero when every value was positive; not at all from the lowest whole value.
        assert_eq!(ext(&[2.0, 4.0, 6.0], false, "").as_deref(), None);
        assert_eq!(ext(&[3.0, 5.0, 7.0], false, "").as_deref(), Some("1..3:2"));
        assert_eq!(ext(&[0.0, 300.0], false, "s"), None);
        assert_eq!(ext(&[0.0, 300.0], true, "s").as_deref(), Some("300s..900s:300s"));
        assert_eq!(ext(&[10.0, 20.0, 30.0], true, "s").as_deref(), Some("30s..50s:10s"));
        assert_eq!(ext(&[1.0, 2.0, 4.0, 8.0], true, "").as_deref(), Some("8..64:x2"));
        assert_eq!(ext(&[2.0, 4.0, 8.0], false, "").as_deref(), Some("1..2:x2"));
        assert_eq!(ext(&[0.1, 0.2, 0.3], false, "").as_deref(), None);
        assert_eq!(ext(&[0.2, 0.3, 0.4], false, "").as_deref(), Some("0.1..0.2:0.1"));
        // Every suggestion parses as a --vary and starts (or ends) at the edge.
        for (vals, up, unit) in
            [(&[8.0, 12.0][..], true, ""), (&[2.0, 4.0, 8.0], false, ""), (&[10.0, 20.0], true, "m")]
        {
            let s = ext(vals, up, unit).unwrap();
            let v = parse_vary(&format!("k={s}")).unwrap();
            let edge = if up { vals[vals.len() - 1] } else { vals[0] };
            let end = if up { &v.values[0] } else { v.values.last().unwrap() };
            assert_eq!(end.text, format!("{}{unit}", trim_num(edge)), "{s}");
        }
    }

    fn agg(cost: f64, other: f64) -> PolicyAggregate {
        let figures: [Estimate; N_FIGURES] = std::array::from_fn(|i| {
            let m = if crate::record::aggregate::FIGURES[i] == "cost" { cost } else { other };
            Estimate { mean: Some(m), ci95_low: None, ci95_high: None, n: 1 }
        });
        PolicyAggregate { policy: "c".into(), seeds: vec![1], figures }
    }

    /// A grid over `vary` whose figures come from `f(values)`; the best is the cheapest.
    fn outcome(vary: &[Vary], f: impl Fn(&[&ParamValue]) -> (f64, f64)) -> TuneOutcome {
        let space = crate::tune::space::Space { vary: vary.to_vec() };
        let w = Window { start: 0, end: 3600, warmup: 0 };
        let candidates: Vec<CandidateResult> = (0..space.size())
            .map(|p| {
                let values = space.point(p);
                let (cost, other) = f(&values);
                CandidateResult {
                    candidate: Candidate {
                        point: p,
                        params: vary
                            .iter()
                            .zip(&values)
                            .map(|(v, x)| (v.key.clone(), (*x).clone()))
                            .collect(),
                    },
                    figures: agg(cost, other),
                    fidelity: Fidelity { rung: 0, seeds: 1, horizon: 1.0, window: w, full: true },
                    feasible: true,
                    pareto: false,
                    rank: None,
                    diff_to_best: None,
                    indistinguishable: None,
                    cost_above_oracle_pct: None,
                    violation: 0.0,
                }
            })
            .collect();
        let best = (0..candidates.len())
            .min_by(|&a, &b| {
                candidates[a]
                    .mean("cost")
                    .unwrap()
                    .total_cmp(&candidates[b].mean("cost").unwrap())
                    .then(a.cmp(&b))
            })
            .unwrap();
        TuneOutcome {
            candidates,
            best: Some(best),
            closest: None,
            tradeoff: "failed_pct".into(),
            oracle: None,
            rungs: Vec::new(),
            requests_simulated: 0,
            runs_simulated: 0,
        }
    }

    fn spec() -> TuneSpec {
        TuneSpec {
            policy: "p".into(),
            objective: "cost".into(),
            constraints: Vec::new(),
            seeds: 1,
            strategy: Strategy::Grid,
        }
    }

    #[test]
    fn the_best_on_an_edge_is_flagged_with_the_extended_range() {
        let vary = vec![
            parse_vary("policy.p.target=8..12:1").unwrap(),
            parse_vary("policy.p.window=30s,1m,2m").unwrap(),
            parse_vary("policy.p.mode=a,b").unwrap(),
        ];
        // Cheaper with a higher target; the window's middle value is best; the mode matters.
        let out = outcome(&vary, |v| {
            let t = v[0].as_f64().unwrap();
            let w = if v[1].text == "1m" { 0.0 } else { 1.0 };
            let m = if v[2].text == "a" { 0.0 } else { 0.5 };
            (100.0 - t + w + m, t)
        });
        let w = edge_warnings(&vary, &out);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].key.as_deref(), Some("policy.p.target"));
        assert_eq!(w[0].suggestion.as_deref(), Some("--vary policy.p.target=12..16:1"));
        assert!(w[0].message.contains("target=12, the highest value searched"), "{}", w[0].message);
        // Durations: the lowest of a mixed-unit list (30s, 60s, 120s: a factor of 2), in seconds.
        let out = outcome(&vary, |v| {
            let w = crate::config::values::parse_duration(&v[1].text).unwrap().as_secs_f64();
            (w + if v[0].text == "10" { 0.0 } else { 10.0 }, 0.0)
        });
        let w = edge_warnings(&vary, &out);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].message.contains("window=30s, the lowest"), "{}", w[0].message);
        assert_eq!(w[0].suggestion.as_deref(), Some("--vary policy.p.window=15s..30s:x2"));
        // Nothing on an edge: nothing said.
        let out = outcome(&vary, |v| ((v[0].as_f64().unwrap() - 10.0).abs(), 0.0));
        assert!(edge_warnings(&vary, &out).iter().all(|w| w.key.as_deref() != Some("policy.p.target")));
    }

    #[test]
    fn a_key_that_changes_nothing_is_flagged_and_ties_are_named() {
        let vary = vec![
            parse_vary("policy.p.target=8..10:1").unwrap(),
            parse_vary("policy.p.window=1m,2m").unwrap(),
        ];
        let out = outcome(&vary, |v| (20.0 - v[0].as_f64().unwrap(), 1.0));
        let w = no_effect_warnings(&vary, &out);
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].key.as_deref(), Some("policy.p.window"));
        assert!(w[0].message.contains("window=1m and window=2m"), "{}", w[0].message);
        let t = tie_warning(&spec(), &out).expect("a tie");
        assert!(t.message.contains("target=10 window=1m, ties on cost (10) with 1 other"), "{}", t.message);
        assert!(t.message.contains("target=10 window=2m; all with identical figures"), "{}", t.message);
        // A window that changes one figure but not the cost: no no-effect warning, still a tie.
        let out =
            outcome(&vary, |v| (20.0 - v[0].as_f64().unwrap(), if v[1].text == "1m" { 1.0 } else { 2.0 }));
        assert!(no_effect_warnings(&vary, &out).is_empty());
        let t = tie_warning(&spec(), &out).expect("a tie");
        assert!(t.message.contains("0 of them with identical figures"), "{}", t.message);
        // Everything differs: neither.
        let out = outcome(&vary, |v| {
            (20.0 - v[0].as_f64().unwrap() + if v[1].text == "1m" { 0.0 } else { 0.5 }, 1.0)
        });
        assert!(no_effect_warnings(&vary, &out).is_empty());
        assert!(tie_warning(&spec(), &out).is_none());
        // A key with one value is never compared.
        let one = vec![parse_vary("policy.p.target=8").unwrap()];
        assert!(no_effect_warnings(&one, &outcome(&one, |_| (1.0, 1.0))).is_empty());
    }

    fn scenario(start: &str, duration: &str) -> Scenario {
        let toml = format!(
            "[simulation]\nduration = \"{duration}\"\nstart = \"{start}\"\ntimezone = \"UTC\"\nrecord_interval = \"1m\"\n\
             [traffic]\nrate = {{ shape = \"daily\", trough = 50.0, peak = 200.0, peak_hour = 14.0 }}\n\
             [service]\nworkers = 1\n[service.demand]\ndistribution = \"exponential\"\n\
             mean = \"100ms\"\n[[policy]]\nname = \"f\"\ntype = \"fixed\"\nreplicas = 1\n"
        );
        crate::config::load_str(&toml, "t.toml", std::path::Path::new("."), &[]).unwrap()
    }

    #[test]
    fn a_horizon_short_of_the_peak_is_flagged() {
        let full = scenario("2025-03-04T00:00:00", "24h");
        let night = scenario("2025-03-04T00:00:00", "6h");
        let (peak, at) = peak_rate(&full);
        assert!((peak - 200.0).abs() < 0.1, "{peak}");
        let h = 3600 * SECOND;
        assert!(at.abs_diff(14 * h) <= 60 * SECOND, "{at}");
        assert_eq!(
            busiest_span(&night, &full),
            Some(Window { start: 11 * h, end: 17 * h, warmup: 30 * 60 * SECOND })
        );
        let over = ["simulation.duration=6h".to_string()];
        let afternoon = scenario("2025-03-04T11:00:00", "6h");
        let w = horizon_warning(
            &night,
            &full,
            &over,
            Some((&afternoon, "--set simulation.start=2025-03-04T11:00:00")),
        )
        .expect("the night misses the peak");
        assert!(
            w.message.contains("2025-03-04 00:00 to 2025-03-04 06:00, --set simulation.duration=6h"),
            "{}",
            w.message
        );
        assert!(w.message.contains("busiest 6h are 2025-03-04 11:00 to 2025-03-04 17:00"), "{}", w.message);
        assert_eq!(w.suggestion.as_deref(), Some("--set simulation.start=2025-03-04T11:00:00"));
        // A move that would not reach the peak either is not suggested.
        let w = horizon_warning(&night, &full, &over, Some((&night, "--set simulation.start=x"))).unwrap();
        assert_eq!(w.suggestion, None);
        // Horizons that reach the peak: nothing.
        assert!(horizon_warning(&afternoon, &full, &over, None).is_none());
        assert!(horizon_warning(&full, &full, &[], None).is_none());
        let morning = scenario("2025-03-04T08:00:00", "6h");
        assert!(horizon_warning(&morning, &full, &over, None).is_none(), "08:00-14:00 ends at the peak");
    }
}
