//! `compare`: two output folders (a baseline and a what-if) side by side. First the summary:
//! each run's verdict ([`super::verdict`]) and, per policy, what changed beyond noise among
//! cost, SLO-violating minutes, failures and p99 latency ("unchanged" for the rest); then the
//! detail of the policies that changed: every figure that differs, the difference, and — when
//! both have replications — a 95 % confidence interval for it (Welch: the two runs share no
//! random numbers); plus `compare.png`, each policy's ready replicas of both runs overlaid.
//!
//! "Beyond noise" ([`FigureDiff::changed`]): with replications in both runs, the 95 % interval
//! of the difference excludes 0; otherwise the difference exceeds [`SINGLE_RUN_THRESHOLD`] of
//! the larger of the two values (so 0 → 3 failures is a change, 388 → 390 is not). Differences
//! of percentages are in percentage points; counts print as integers.

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

/// With a single replication in either run, a difference is beyond noise when it exceeds this
/// share of the larger of the two values (1 %).
pub const SINGLE_RUN_THRESHOLD: f64 = 0.01;

/// The figures the summary reports per policy.
pub const SUMMARY_FIGURES: [&str; 4] = ["cost", "slo_violation_minutes", "failed", "latency_p99_s"];

/// Whether a figure is a percentage (its differences are in percentage points).
pub fn is_percentage(figure: &str) -> bool {
    figure.ends_with("_pct")
}

/// Whether a figure is a count (printed as an integer when it is one).
pub fn is_count(figure: &str) -> bool {
    matches!(figure, "requests" | "served" | "failed" | "scaling_actions" | "peak_replicas")
        || (figure.starts_with("failed_") && !is_percentage(figure))
}

impl FigureDiff {
    /// Whether the difference is beyond noise: with intervals, the 95 % interval of the
    /// difference excludes 0; without, it exceeds [`SINGLE_RUN_THRESHOLD`] of the larger value.
    /// A figure defined in one run only has changed.
    pub fn changed(&self) -> bool {
        match (self.base, self.other) {
            (None, None) => false,
            (Some(_), None) | (None, Some(_)) => true,
            (Some(a), Some(b)) => match self.ci95 {
                Some((lo, hi)) => lo > 0.0 || hi < 0.0,
                None => (b - a).abs() > SINGLE_RUN_THRESHOLD * a.abs().max(b.abs()),
            },
        }
    }

    /// The difference as a percentage of the base, except for percentages (whose difference
    /// is in percentage points) and a zero base.
    pub fn diff_pct(&self) -> Option<f64> {
        match (self.base, self.diff) {
            (Some(b), Some(d)) if b != 0.0 && !is_percentage(self.figure) => Some(100.0 * d / b),
            _ => None,
        }
    }
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
        "verdict": { "base": verdict_of(base).headline(), "other": verdict_of(other).headline() },
        "policies": diffs(base, other).into_iter().map(|(p, rows)| json!({
            "policy": p,
            "changed": SUMMARY_FIGURES.iter().filter(|f| rows.iter().any(|r| r.figure == **f && r.changed())).collect::<Vec<_>>(),
            "figures": rows.iter().map(|r| json!({
                "figure": r.figure,
                "base": j(r.base),
                "other": j(r.other),
                "diff": j(r.diff),
                "diff_pct": j(r.diff_pct()),
                "diff_ci95_low": j(r.ci95.map(|c| c.0)),
                "diff_ci95_high": j(r.ci95.map(|c| c.1)),
                "changed": r.changed(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn verdict_of(l: &Loaded) -> super::verdict::Verdict {
    super::verdict::verdict(&l.meta, &aggregates(&l.summary))
}

/// A value as the detail prints it: counts as integers (one decimal for a fractional mean),
/// other figures with 2 to 4 decimals by magnitude.
fn cell(figure: &str, x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(v) if is_count(figure) => {
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        }
        Some(v) if v.abs() >= 1000.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.2}"),
        Some(v) => format!("{v:.4}"),
    }
}

/// A signed difference, with ` pp` for percentages.
fn signed(figure: &str, d: f64) -> String {
    let c = cell(figure, Some(d));
    let c = if d > 0.0 { format!("+{c}") } else { c };
    if is_percentage(figure) { format!("{c} pp") } else { c }
}

/// One summary figure's change, for the summary line: `cost 36.49 → 30.12 USD (-17.5 %)`.
fn summary_change(r: &FigureDiff, currency: &str) -> String {
    let (a, b) = (r.base.unwrap_or(0.0), r.other.unwrap_or(0.0));
    let pct = r.diff_pct().map(|p| format!(" ({p:+.1} %)")).unwrap_or_default();
    match r.figure {
        "cost" => format!("cost {a:.2} → {b:.2} {currency}{pct}"),
        "slo_violation_minutes" => format!("SLO-violating min {a:.1} → {b:.1}"),
        "failed" => format!("failures {} → {}", cell("failed", r.base), cell("failed", r.other)),
        "latency_p99_s" => match (r.base, r.other) {
            (Some(a), Some(b)) => format!("p99 {:.0} → {:.0} ms{pct}", a * 1000.0, b * 1000.0),
            _ => format!("p99 {} → {} s", cell("latency_p99_s", r.base), cell("latency_p99_s", r.other)),
        },
        f => format!("{f} {} → {}", cell(f, r.base), cell(f, r.other)),
    }
}

/// The comparison for the terminal: the summary (each run's verdict, what changed beyond noise
/// per policy, the unchanged policies in one line), then the detail of the changed policies
/// (the figures that differ at all).
pub fn compare_table(base: &Loaded, other: &Loaded) -> String {
    let mut out = format!("base:  {}\nother: {}\n", label(base), label(other));
    let (vb, vo) = (verdict_of(base), verdict_of(other));
    let (hb, ho) = (vb.headline(), vo.headline());
    if hb == ho {
        out.push_str(&format!("\nverdict (both): {hb}\n"));
    } else {
        out.push_str(&format!("\nverdict\n  base:  {hb}\n  other: {ho}\n"));
    }
    let reps = |l: &Loaded| aggregates(&l.summary).iter().map(|a| a.replications()).max().unwrap_or(0);
    let noise = if reps(base) > 1 && reps(other) > 1 {
        "the 95 % CI of the difference excludes 0".to_string()
    } else {
        format!("one replication: a difference above {} % of the larger value", 100.0 * SINGLE_RUN_THRESHOLD)
    };
    out.push_str("\nchanged beyond noise (cost, SLO-violating min, failures, p99):\n");
    let all = diffs(base, other);
    let currency = &base.meta.currency;
    let mut unchanged = Vec::new();
    let mut changed_any = Vec::new();
    let w = all.iter().map(|(p, _)| p.chars().count()).max().unwrap_or(0);
    for (p, rows) in &all {
        let changes: Vec<String> = SUMMARY_FIGURES
            .iter()
            .filter_map(|f| rows.iter().find(|r| r.figure == *f))
            .filter(|r| r.changed())
            .map(|r| summary_change(r, currency))
            .collect();
        if changes.is_empty() {
            unchanged.push(p.clone());
        } else {
            out.push_str(&format!("  {p:<w$}  {}\n", changes.join("; ")));
        }
        if rows.iter().any(|r| r.diff.is_some_and(|d| d != 0.0) || r.base.is_some() != r.other.is_some()) {
            changed_any.push(p.clone());
        }
    }
    if !unchanged.is_empty() {
        out.push_str(&format!(
            "  unchanged: {}\n",
            if unchanged.len() == all.len() { "every policy".to_string() } else { unchanged.join(", ") }
        ));
    }
    let only = |x: &Loaded, y: &Loaded| -> Vec<String> {
        x.meta.policies.iter().filter(|p| y.meta.policy(&p.name).is_none()).map(|p| p.name.clone()).collect()
    };
    for (who, list) in [("base", only(base, other)), ("other", only(other, base))] {
        if !list.is_empty() {
            out.push_str(&format!("  only in {who}: {}\n", list.join(", ")));
        }
    }
    out.push_str(&format!("  (beyond noise: {noise})\n"));
    // The detail: policies with any difference; figures identical in both runs left out.
    for (p, rows) in all.iter().filter(|(p, _)| changed_any.contains(p)) {
        out.push_str(&format!("\n{p} (figures that differ; * beyond noise)\n"));
        let mut grid = vec![vec![
            "figure".to_string(),
            "base".into(),
            "other".into(),
            "diff".into(),
            "diff %".into(),
            "95 % CI of diff".into(),
        ]];
        let mut same = 0;
        for r in rows {
            if r.diff == Some(0.0) || (r.base.is_none() && r.other.is_none()) {
                same += 1;
                continue;
            }
            grid.push(vec![
                format!("{}{}", r.figure, if r.changed() { " *" } else { "" }),
                cell(r.figure, r.base),
                cell(r.figure, r.other),
                r.diff.map_or("–".into(), |d| signed(r.figure, d)),
                r.diff_pct().map_or("–".into(), |p| format!("{p:+.1}")),
                r.ci95.map_or("–".into(), |(l, h)| {
                    let u = if is_percentage(r.figure) { " pp" } else { "" };
                    format!("[{}, {}]{u}", cell(r.figure, Some(l)), cell(r.figure, Some(h)))
                }),
            ]);
        }
        // The interval column only when some figure has one.
        if grid.iter().skip(1).all(|r| r[5] == "–") {
            for r in &mut grid {
                r.truncate(5);
            }
        }
        let n = grid[0].len();
        let w: Vec<usize> =
            (0..n).map(|i| grid.iter().map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
        for (k, r) in grid.iter().enumerate() {
            let mut line = format!("  {:<w0$}", r[0], w0 = w[0]);
            for (c, wi) in r.iter().zip(&w).skip(1) {
                line.push_str(&format!("  {c:>wi$}"));
            }
            out.push_str(line.trim_end());
            out.push('\n');
            if k == 0 {
                out.push_str(&format!("  {}\n", "-".repeat(w.iter().sum::<usize>() + 2 * (n - 1))));
            }
        }
        if same > 0 {
            out.push_str(&format!("  ({same} other figures identical)\n"));
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

/// What makes two output folders not like for like: the settings that change every policy's
/// figures at once — the scenario, the seeds, the horizon, the warm-up, the recording interval
/// and the traffic (the requests offered, the same for every policy of one run: common random
/// numbers) — each as "what: base vs other". Empty when they match. A what-if changes some on
/// purpose; the command line says which, so a difference is not read as the policies'.
pub fn differences(base: &Loaded, other: &Loaded) -> Vec<String> {
    let mut out = Vec::new();
    let s = |l: &Loaded, k: &str| l.summary.get(k).map(|v| v.to_string()).unwrap_or_else(|| "?".into());
    if base.meta.name != other.meta.name {
        out.push(format!("scenario {} vs {}", base.meta.name, other.meta.name));
    }
    for (key, what) in [("seeds", "seeds"), ("start", "start"), ("time_zone", "time zone")] {
        let (a, b) = (s(base, key), s(other, key));
        if a != b {
            out.push(format!("{what} {a} vs {b}"));
        }
    }
    let secs = |a: f64, b: f64, what: &str, out: &mut Vec<String>| {
        if (a - b).abs() > 1e-9 {
            out.push(format!("{what} {} vs {}", super::fmt_duration(a), super::fmt_duration(b)));
        }
    };
    secs(base.meta.duration_s, other.meta.duration_s, "duration", &mut out);
    secs(base.meta.warmup_s, other.meta.warmup_s, "warm-up", &mut out);
    secs(base.meta.record_interval_s, other.meta.record_interval_s, "recording interval", &mut out);
    let offered = |l: &Loaded| aggregates(&l.summary).first().and_then(|a| a.get("requests").mean);
    if let (Some(a), Some(b)) = (offered(base), offered(other))
        && (a - b).abs() > 0.5
    {
        out.push(format!("traffic {} vs {} requests offered", super::fmt_num(a), super::fmt_num(b)));
    }
    out
}

/// Writes `compare.json` and `compare.png` into `dir`, both or neither. Returns the paths.
pub fn write_compare(dir: &Path, base: &Loaded, other: &Loaded) -> Result<Vec<PathBuf>, ReportError> {
    let mut staging = super::atomic::Staging::new(dir, "compare")?;
    stage_compare(&mut staging, base, other)?;
    Ok(staging.commit()?.written)
}

/// Stages `compare.json` and `compare.png` into `staging`; the caller commits.
pub fn stage_compare(
    staging: &mut super::atomic::Staging,
    base: &Loaded,
    other: &Loaded,
) -> Result<(), ReportError> {
    let dir = staging.dest().to_path_buf();
    let mut s = serde_json::to_string_pretty(&compare_value(base, other)).expect("JSON values serialise");
    s.push('\n');
    staging.write("compare.json", s.as_bytes())?;
    let png =
        render_png(&compare_figure(base, other)).map_err(|e| ReportError::io(&dir.join("compare.png"), e))?;
    staging.write("compare.png", &png)
}

/// What `scalesim compare` is asked to do.
#[derive(Debug, Clone)]
pub struct CompareRequest {
    /// Baseline output folder.
    pub base: PathBuf,
    /// The other output folder.
    pub other: PathBuf,
    /// Where to write compare.json and compare.png; `None` for
    /// `output/compare/<base>--<other>`.
    pub out: Option<PathBuf>,
}

/// Two output folders read back for comparison.
#[derive(Debug)]
pub struct Compared {
    /// The request.
    pub request: CompareRequest,
    /// The baseline.
    pub base: Loaded,
    /// The other.
    pub other: Loaded,
    /// Why the two are not like for like (scenario, seed, horizon…), worded as a warning;
    /// `None` when they are.
    pub not_like_for_like: Option<String>,
}

/// `scalesim compare BASE OTHER` as a library call: both folders read back, and whether they
/// compare like for like.
pub fn compare_dirs(req: &CompareRequest) -> Result<Compared, crate::command::Error> {
    use crate::command::Error;
    let base = super::read::read_dir(&req.base).map_err(Error::Invalid)?;
    let other = super::read::read_dir(&req.other).map_err(Error::Invalid)?;
    let differ = differences(&base, &other);
    let not_like_for_like = (!differ.is_empty()).then(|| {
        format!(
            "{} and {} are not like for like: {}; every policy's figures move with these, so a \
             difference below is not the policies' alone (compare runs of one scenario, seed and \
             horizon to compare policies; a what-if changes one thing on purpose)",
            req.base.display(),
            req.other.display(),
            differ.join(", ")
        )
    });
    Ok(Compared { request: req.clone(), base, other, not_like_for_like })
}

impl Compared {
    /// compare.json and compare.png, staged in the output folder (the folders read are never
    /// replaced); the caller commits them.
    pub fn stage(&self) -> Result<super::atomic::Staging, crate::command::Error> {
        let req = &self.request;
        let name =
            |p: &PathBuf| p.file_name().map_or_else(|| "run".into(), |n| n.to_string_lossy().into_owned());
        let out = req.out.clone().unwrap_or_else(|| {
            PathBuf::from("output").join("compare").join(format!("{}--{}", name(&req.base), name(&req.other)))
        });
        let mut staging = super::atomic::Staging::new(&out, "compare")?;
        for dir in [&req.base, &req.other] {
            for name in super::read::FILES_READ {
                staging.protect(&dir.join(name));
            }
        }
        stage_compare(&mut staging, &self.base, &self.other)?;
        Ok(staging)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(mean: f64, half: f64, n: usize) -> Estimate {
        Estimate { mean: Some(mean), ci95_low: Some(mean - half), ci95_high: Some(mean + half), n }
    }

    fn fd(figure: &'static str, base: f64, other: f64, ci95: Option<(f64, f64)>) -> FigureDiff {
        FigureDiff { figure, base: Some(base), other: Some(other), diff: Some(other - base), ci95 }
    }

    #[test]
    fn beyond_noise_and_units() {
        // One replication: above 1 % of the larger value.
        assert!(fd("failed", 0.0, 3.0, None).changed());
        assert!(!fd("failed", 388.0, 390.0, None).changed());
        assert!(fd("cost", 3.68, 3.11, None).changed());
        // Replications: the interval of the difference excludes 0.
        assert!(!fd("cost", 3.0, 3.5, Some((-0.1, 1.1))).changed());
        assert!(fd("cost", 3.0, 3.5, Some((0.1, 0.9))).changed());
        // Percentages differ in percentage points, never a percentage of a percentage.
        let p = fd("cost_above_oracle_pct", 15.06, -2.65, None);
        assert_eq!((p.diff_pct(), signed(p.figure, p.diff.unwrap())), (None, "-17.71 pp".to_string()));
        assert_eq!(fd("cost", 4.0, 3.0, None).diff_pct(), Some(-25.0));
        // Counts print as integers.
        assert_eq!(cell("failed", Some(388.0)), "388");
        assert_eq!(cell("peak_replicas", Some(7.5)), "7.5");
        assert_eq!(cell("latency_p99_s", Some(0.3072)), "0.3072");
    }

    #[test]
    fn the_summary_comes_first_and_unchanged_policies_stay_out_of_the_detail() {
        let (s, mut runs) = crate::report::testdata::fixture(1);
        for r in &mut runs {
            r.summary.slo_violation_minutes = 0.0;
        }
        let mut changed = runs.clone();
        for r in changed.iter_mut().filter(|r| r.policy == "two") {
            r.summary.cost *= 0.5;
            r.summary.failed_by_reason[0] += 12;
            r.summary.failed += 12;
            r.summary.slo_violation_minutes = 3.0;
        }
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        crate::report::write_outputs(&a, &s, &runs).unwrap();
        crate::report::write_outputs(&b, &s, &changed).unwrap();
        let (la, lb) = (super::super::read::read_dir(&a).unwrap(), super::super::read::read_dir(&b).unwrap());
        let t = compare_table(&la, &lb);
        println!("{t}");
        assert!(t.contains("verdict\n  base:  cheapest meeting the SLO: two, 0.40 USD\n  other: cheapest meeting the SLO: four"), "{t}");
        assert!(
            t.contains(
                "  two   cost 0.40 → 0.20 USD (-50.0 %); SLO-violating min 0.0 → 3.0; failures 240 → 252\n"
            ),
            "{t}"
        );
        assert!(t.contains("  unchanged: four\n"), "{t}");
        assert!(t.contains("\ntwo (figures that differ; * beyond noise)") && !t.contains("\nfour ("), "{t}");
        assert!(t.contains("  failed *") && !t.contains("252.00") && !t.contains("95 % CI"), "{t}");
        assert!(t.lines().all(|l| l.chars().count() <= 100), "{t}");
        let same = compare_table(&la, &la);
        assert!(same.contains("verdict (both): ") && same.contains("unchanged: every policy"), "{same}");
        let v = compare_value(&la, &lb);
        assert_eq!(
            v["policies"][0]["changed"],
            serde_json::json!(["cost", "slo_violation_minutes", "failed"])
        );
        assert_eq!(v["policies"][1]["changed"], serde_json::json!([]));
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
