//! `compare`: two output folders (a baseline and a what-if) side by side, policy by policy:
//! every summary figure of each, the difference, and — when both have replications — a 95 %
//! confidence interval for the difference (Welch: the two runs share no random numbers), plus
//! `compare.png`, each policy's ready replicas of both runs overlaid.

use super::ReportError;
use super::chart::{Axis, DASHES, Figure, Glyph, Layer, LegendItem, PALETTE, Panel, SIZE, render_png};
use super::read::{Loaded, aggregates};
use crate::record::aggregate::{Estimate, FIGURES, t_quantile};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// One figure of one policy in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureDiff {
    /// Figure name (one of [`FIGURES`]).
    pub figure: &'static str,
    /// Baseline mean.
    pub base: Option<f64>,
    /// Other mean.
    pub other: Option<f64>,
    /// other − base.
    pub diff: Option<f64>,
    /// 95 % confidence interval of the difference, when both have one.
    pub ci95: Option<(f64, f64)>,
}

/// Standard error and degrees of freedom of an estimate with a confidence interval.
fn se_df(e: &Estimate) -> Option<(f64, f64)> {
    let h = e.half_width()?;
    if e.n < 2 {
        return None;
    }
    let df = (e.n - 1) as f64;
    Some((h / t_quantile(0.975, df), df))
}

/// The 95 % interval of `b − a` (Welch–Satterthwaite), when both have intervals.
pub fn diff_ci(a: &Estimate, b: &Estimate) -> Option<(f64, f64)> {
    let (ma, mb) = (a.mean?, b.mean?);
    let ((sa, da), (sb, db)) = (se_df(a)?, se_df(b)?);
    let d = mb - ma;
    let var = sa * sa + sb * sb;
    if var == 0.0 {
        return Some((d, d));
    }
    let df = var * var / (sa.powi(4) / da + sb.powi(4) / db);
    let h = t_quantile(0.975, df) * var.sqrt();
    Some((d - h, d + h))
}

/// Per policy present in both runs (baseline order), every figure compared.
pub fn diffs(base: &Loaded, other: &Loaded) -> Vec<(String, Vec<FigureDiff>)> {
    let (a, b) = (aggregates(&base.summary), aggregates(&other.summary));
    a.iter()
        .filter_map(|pa| {
            let pb = b.iter().find(|x| x.policy == pa.policy)?;
            let rows = FIGURES
                .iter()
                .map(|f| {
                    let (ea, eb) = (pa.get(f), pb.get(f));
                    FigureDiff {
                        figure: f,
                        base: ea.mean,
                        other: eb.mean,
                        diff: ea.mean.zip(eb.mean).map(|(x, y)| y - x),
                        ci95: diff_ci(ea, eb),
                    }
                })
                .collect();
            Some((pa.policy.clone(), rows))
        })
        .collect()
}

fn label(l: &Loaded) -> String {
    match l.meta.overrides_text() {
        Some(o) => format!("{} (--set {o})", l.meta.name),
        None => l.meta.name.clone(),
    }
}

/// The comparison as JSON.
pub fn compare_value(base: &Loaded, other: &Loaded) -> Value {
    let j = |x: Option<f64>| x.map(|v| json!(super::round6(v))).unwrap_or(Value::Null);
    let only = |x: &Loaded, y: &Loaded| -> Vec<String> {
        x.meta.policies.iter().filter(|p| y.meta.policy(&p.name).is_none()).map(|p| p.name.clone()).collect()
    };
    json!({
        "base": { "label": label(base), "scenario": base.meta.name, "overrides": base.meta.provenance.overrides, "sha256": base.meta.provenance.sha256 },
        "other": { "label": label(other), "scenario": other.meta.name, "overrides": other.meta.provenance.overrides, "sha256": other.meta.provenance.sha256 },
        "only_in_base": only(base, other),
        "only_in_other": only(other, base),
        "policies": diffs(base, other).into_iter().map(|(p, rows)| json!({
            "policy": p,
            "figures": rows.iter().map(|r| json!({
                "figure": r.figure,
                "base": j(r.base),
                "other": j(r.other),
                "diff": j(r.diff),
                "diff_pct": j(match (r.base, r.diff) { (Some(b), Some(d)) if b != 0.0 => Some(100.0 * d / b), _ => None }),
                "diff_ci95_low": j(r.ci95.map(|c| c.0)),
                "diff_ci95_high": j(r.ci95.map(|c| c.1)),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn cell(x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(v) if v.abs() >= 1000.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// The comparison as a terminal table: per policy, one line per figure.
pub fn compare_table(base: &Loaded, other: &Loaded) -> String {
    let mut out = format!("base:  {}\nother: {}\n", label(base), label(other));
    for (p, rows) in diffs(base, other) {
        out.push_str(&format!("\n{p}\n"));
        let mut grid = vec![vec![
            "figure".to_string(),
            "base".into(),
            "other".into(),
            "diff".into(),
            "diff %".into(),
            "95 % CI of diff".into(),
        ]];
        for r in rows {
            let pct = match (r.base, r.diff) {
                (Some(b), Some(d)) if b != 0.0 => format!("{:+.1}", 100.0 * d / b),
                _ => "–".into(),
            };
            grid.push(vec![
                r.figure.to_string(),
                cell(r.base),
                cell(r.other),
                r.diff.map_or("–".into(), |d| {
                    if d > 0.0 { format!("+{}", cell(Some(d))) } else { cell(Some(d)) }
                }),
                pct,
                r.ci95.map_or("–".into(), |(l, h)| format!("[{}, {}]", cell(Some(l)), cell(Some(h)))),
            ]);
        }
        let w: Vec<usize> =
            (0..6).map(|i| grid.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
        for (k, r) in grid.iter().enumerate() {
            let mut line = format!("  {:<w0$}", r[0], w0 = w[0]);
            for (c, wi) in r.iter().zip(&w).skip(1) {
                line.push_str(&format!("  {c:>wi$}"));
            }
            out.push_str(line.trim_end());
            out.push('\n');
            if k == 0 {
                out.push_str(&format!("  {}\n", "-".repeat(w.iter().sum::<usize>() + 10)));
            }
        }
    }
    out
}

/// `compare.png`: per policy present in both, ready replicas of the baseline (solid) and the
/// other run (dashed), replication 0, on shared axes.
pub(crate) fn compare_figure(base: &Loaded, other: &Loaded) -> Figure {
    let first = |l: &Loaded, p: &str| l.runs.iter().find(|r| r.policy == p && r.replication == 0).cloned();
    let common: Vec<String> = diffs(base, other).into_iter().map(|d| d.0).collect();
    let end = base.meta.duration_s.max(other.meta.duration_s).max(1.0);
    let mut top: f64 = 1.0;
    let mut panels = Vec::new();
    for p in &common {
        let mut layers = Vec::new();
        for (k, l) in [base, other].iter().enumerate() {
            if let Some(r) = first(l, p) {
                let mut seg = Vec::new();
                for iv in &r.intervals {
                    seg.push((iv.start_s, iv.ready as f64));
                    seg.push((iv.end_s, iv.ready as f64));
                    top = top.max(iv.ready as f64);
                }
                layers.push(Layer::Line {
                    segments: vec![seg],
                    color: PALETTE[k],
                    width: 3,
                    dash: DASHES[k],
                });
            }
        }
        panels.push(Panel { title: (common.len() > 1).then(|| p.clone()), layers });
    }
    let clock = &base.meta.clock;
    let (xt, with_day) = super::charts::time_ticks(&base.meta, 0.0, end);
    let xt: Vec<(f64, String)> =
        xt.into_iter().map(|t| (t, clock.label(crate::time::from_secs_f64(t), with_day))).collect();
    Figure {
        title: format!("compare: {} vs {}", base.meta.name, other.meta.name),
        subtitle: Some(format!("solid: {}   ·   dashed: {}", label(base), label(other))),
        x: Axis {
            lo: 0.0,
            hi: end,
            ticks: xt,
            desc: format!("local time ({}) of the baseline", clock.tz().name()),
        },
        y: super::ticks::axis(0.0, top * 1.06, true, 9, "ready replicas"),
        panels,
        legend: vec![
            LegendItem { label: "base".into(), glyph: Glyph::Line(PALETTE[0], DASHES[0]) },
            LegendItem { label: "other".into(), glyph: Glyph::Line(PALETTE[1], DASHES[1]) },
        ],
        size: SIZE,
        note: common.is_empty().then(|| "No policy is in both runs.".to_string()),
    }
}

/// Writes `compare.json` and `compare.png` into `dir`. Returns the paths.
pub fn write_compare(dir: &Path, base: &Loaded, other: &Loaded) -> Result<Vec<PathBuf>, ReportError> {
    // Both files or neither ([`super::atomic::Staging`]).
    let mut staging = super::atomic::Staging::new(dir)?;
    let mut s = serde_json::to_string_pretty(&compare_value(base, other)).expect("JSON values serialise");
    s.push('\n');
    staging.write("compare.json", s.as_bytes())?;
    let png =
        render_png(&compare_figure(base, other)).map_err(|e| ReportError::io(&dir.join("compare.png"), e))?;
    staging.write("compare.png", &png)?;
    staging.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(mean: f64, half: f64, n: usize) -> Estimate {
        Estimate { mean: Some(mean), ci95_low: Some(mean - half), ci95_high: Some(mean + half), n }
    }

    #[test]
    fn welch_interval_of_a_difference() {
        // Equal n and spread: df = 2(n-1); se each = half / t(0.975, n-1).
        let t4 = t_quantile(0.975, 4.0);
        let (a, b) = (est(10.0, t4 * 1.0, 5), est(13.0, t4 * 1.0, 5));
        let (lo, hi) = diff_ci(&a, &b).unwrap();
        let h = t_quantile(0.975, 8.0) * 2f64.sqrt();
        assert!((lo - (3.0 - h)).abs() < 1e-9 && (hi - (3.0 + h)).abs() < 1e-9, "{lo} {hi}");
        let single = Estimate { mean: Some(1.0), ci95_low: None, ci95_high: None, n: 1 };
        assert_eq!(diff_ci(&a, &single), None);
    }

    #[test]
    fn compare_png_ticks_sit_on_their_gridlines() {
        let (s, runs) = crate::report::testdata::fixture(1);
        let meta = crate::report::meta::ReportMeta::from_scenario(&s);
        let load = |runs: Vec<crate::record::RunResult>| Loaded {
            summary: crate::report::files::summary_value(&meta, &runs),
            meta: meta.clone(),
            runs,
        };
        let mut plateau = runs.clone();
        for r in &mut plateau {
            for iv in &mut r.intervals {
                iv.ready = 17;
            }
        }
        let fig = compare_figure(&load(runs), &load(plateau));
        assert!(fig.y.ticks.iter().all(|t| t.0.fract() == 0.0), "{:?}", fig.y.ticks);
        let stated = crate::report::charts::tests::clock_stated(&meta);
        crate::report::chart::tests::check_figure_ticks(&fig, &stated);
    }
}
