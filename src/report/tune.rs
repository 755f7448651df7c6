//! The outputs of `scalesim tune`: `tune.json` (schema in docs/tune.schema.json), `tune.csv`,
//! `pareto.png`, `sensitivity.png` and the terminal table. Rendering only: the search and its
//! statistics live in [`crate::tune`].

use super::chart::{Axis, FONT, PALETTE, PlotGeom, SIZE, TickedRange, draw_mesh, font_ready, geom_of};
use super::ticks;
use super::{ReportError, fmt_num, round6};
use crate::record::aggregate::{Estimate, FIGURES, PolicyAggregate};
use crate::scenario::Scenario;
use crate::time::to_secs_f64;
use crate::tune::guard::Warning;
use crate::tune::{CandidateResult, TuneOutcome, TuneSpec, Window, short_key, space::Space};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::{Map, Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// Version of the `tune.json` layout.
pub const TUNE_SCHEMA_VERSION: u32 = 1;

fn jnum(x: f64) -> Value {
    let r = round6(x);
    if r == r.trunc() && r.abs() < 9.0e15 { json!(r as i64) } else { json!(r) }
}

fn jopt(x: Option<f64>) -> Value {
    x.filter(|v| v.is_finite()).map(jnum).unwrap_or(Value::Null)
}

fn jest(e: &Estimate) -> Value {
    json!({ "mean": jopt(e.mean), "ci95_low": jopt(e.ci95_low), "ci95_high": jopt(e.ci95_high), "n": e.n })
}

/// Every figure's mean under its summary.json name, and the CIs under `ci95`.
fn figures_json(obj: &mut Map<String, Value>, a: &PolicyAggregate) {
    let mut ci = Map::new();
    for (f, e) in FIGURES.iter().zip(a.figures.iter()) {
        obj.insert(f.to_string(), jopt(e.mean));
        ci.insert(f.to_string(), json!([jopt(e.ci95_low), jopt(e.ci95_high)]));
    }
    obj.insert("ci95".into(), Value::Object(ci));
}

/// A measured window: simulated seconds and local date-times of its start and end, and the
/// warm-up simulated before it.
fn window_json(scenario: &Scenario, w: &Window) -> Value {
    let at = |t| scenario.clock.datetime(t).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
    json!({
        "start_s": jnum(to_secs_f64(w.start)),
        "end_s": jnum(to_secs_f64(w.end)),
        "start": at(w.start),
        "end": at(w.end),
        "warmup_s": jnum(to_secs_f64(w.warmup)),
    })
}

fn candidate_json(scenario: &Scenario, spec: &TuneSpec, c: &CandidateResult) -> Value {
    let mut obj = Map::new();
    obj.insert("id".into(), json!(c.candidate.point));
    let mut params = Map::new();
    for (k, v) in &c.candidate.params {
        params.insert(k.clone(), v.json.clone());
    }
    obj.insert("params".into(), Value::Object(params));
    obj.insert("rank".into(), json!(c.rank));
    obj.insert("feasible".into(), json!(c.feasible));
    obj.insert("pareto".into(), json!(c.pareto));
    obj.insert(
        "fidelity".into(),
        json!({
            "rung": c.fidelity.rung,
            "replications": c.fidelity.seeds,
            "horizon_fraction": jnum(c.fidelity.horizon),
            "window": window_json(scenario, &c.fidelity.window),
            "full": c.fidelity.full,
        }),
    );
    obj.insert("objective".into(), jopt(c.mean(&spec.objective)));
    let mut margins = Map::new();
    for k in &spec.constraints {
        margins.insert(k.text(), jopt(k.margin(c.mean(&k.figure))));
    }
    obj.insert("constraint_margins".into(), Value::Object(margins));
    obj.insert("diff_to_best".into(), c.diff_to_best.as_ref().map_or(Value::Null, jest));
    obj.insert("indistinguishable_from_best".into(), json!(c.indistinguishable));
    obj.insert("cost_above_oracle_pct".into(), jopt(c.cost_above_oracle_pct));
    figures_json(&mut obj, &c.figures);
    Value::Object(obj)
}

/// What tune.json records of the command.
#[derive(Debug, Clone)]
pub struct TuneContext<'a> {
    /// The scenario file as given.
    pub scenario_path: &'a str,
    /// The base `--set` arguments.
    pub overrides: &'a [String],
    /// The search space.
    pub space: &'a Space,
    /// Base seed.
    pub seed: u64,
    /// The search's warnings ([`crate::tune::guard`]), in the order they were given.
    pub warnings: &'a [Warning],
}

/// The `tune.json` document.
pub fn tune_value(scenario: &Scenario, spec: &TuneSpec, ctx: &TuneContext, out: &TuneOutcome) -> Value {
    let best = out.best.map(|b| {
        let c = &out.candidates[b];
        let mut v = candidate_json(scenario, spec, c);
        if let Value::Object(m) = &mut v {
            m.insert("label".into(), json!(c.candidate.label()));
        }
        v
    });
    let message = match (&out.best, &out.closest) {
        (Some(_), _) => Value::Null,
        (None, Some((c, missed))) => json!(format!(
            "no candidate meets every constraint; the closest, {}, misses {missed}",
            out.candidates[*c].candidate.label()
        )),
        (None, None) => json!("no candidate reached full fidelity"),
    };
    let oracle = out.oracle.as_ref().map(|o| {
        let mut m = Map::new();
        m.insert("policy".into(), json!("oracle"));
        figures_json(&mut m, o);
        Value::Object(m)
    });
    let strategy = json!({
        "name": spec.strategy.name(),
        "rungs": out.rungs.iter().map(|r| json!({
            "candidates": r.candidates,
            "replications": r.seeds,
            "horizon_fraction": jnum(r.horizon),
            "window": window_json(scenario, &r.window),
            "refill": r.refill,
            "runs": r.runs,
            "requests": r.requests,
        })).collect::<Vec<_>>(),
    });
    json!({
        "schema_version": TUNE_SCHEMA_VERSION,
        "scenario": scenario.name,
        "scenario_path": ctx.scenario_path,
        "overrides": ctx.overrides,
        "policy": spec.policy,
        "seed": ctx.seed,
        "replications": spec.seeds,
        "vary": ctx.space.vary.iter().map(|v| json!({
            "key": v.key,
            "values": v.values.iter().map(|p| p.json.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "objective": { "minimize": spec.objective },
        "constraints": spec.constraints.iter().map(|k| json!({
            "text": k.text(), "figure": k.figure, "op": match k.op {
                crate::tune::Op::Le => "<=", crate::tune::Op::Lt => "<",
                crate::tune::Op::Ge => ">=", crate::tune::Op::Gt => ">",
            }, "limit": jnum(k.limit), "origin": k.origin,
        })).collect::<Vec<_>>(),
        "pareto_axes": [spec.objective, out.tradeoff],
        "strategy": strategy,
        "requests_simulated": out.requests_simulated,
        "runs_simulated": out.runs_simulated,
        "currency": scenario.cost.currency,
        "best": best,
        "message": message,
        "oracle": oracle,
        "warnings": ctx.warnings.iter().map(|w| json!({
            "kind": w.kind.name(),
            "key": w.key,
            "message": w.message,
            "suggestion": w.suggestion,
        })).collect::<Vec<_>>(),
        "candidates": out.candidates.iter().map(|c| candidate_json(scenario, spec, c)).collect::<Vec<_>>(),
    })
}

/// `tune.json`, pretty-printed with a final newline.
pub fn tune_json(scenario: &Scenario, spec: &TuneSpec, ctx: &TuneContext, out: &TuneOutcome) -> Vec<u8> {
    let mut s =
        serde_json::to_string_pretty(&tune_value(scenario, spec, ctx, out)).expect("JSON values serialise");
    s.push('\n');
    s.into_bytes()
}

/// `tune.csv`: one row per candidate (point order): id, one column per param, rank, feasible,
/// pareto, fidelity, cost above the oracle, then every figure's mean and CI bounds.
pub fn tune_csv(spec: &TuneSpec, space: &Space, out: &TuneOutcome) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    let mut header: Vec<String> = vec!["id".into()];
    header.extend(space.vary.iter().map(|v| v.key.clone()));
    header.extend(
        [
            "rank",
            "feasible",
            "pareto",
            "replications",
            "horizon_fraction",
            "window_start_s",
            "window_end_s",
            "objective",
            "diff_to_best",
            "diff_to_best_ci95_low",
            "diff_to_best_ci95_high",
            "indistinguishable_from_best",
            "cost_above_oracle_pct",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    for f in FIGURES {
        header.push(f.to_string());
        header.push(format!("{f}_ci95_low"));
        header.push(format!("{f}_ci95_high"));
    }
    let _ = spec;
    let opt = |x: Option<f64>| x.filter(|v| v.is_finite()).map(fmt_num).unwrap_or_default();
    w.write_record(&header).expect("CSV to memory");
    for c in &out.candidates {
        let mut r = vec![c.candidate.point.to_string()];
        r.extend(c.candidate.params.iter().map(|(_, v)| v.text.clone()));
        let d = c.diff_to_best.as_ref();
        r.extend([
            c.rank.map(|x| x.to_string()).unwrap_or_default(),
            c.feasible.to_string(),
            c.pareto.to_string(),
            c.fidelity.seeds.to_string(),
            fmt_num(c.fidelity.horizon),
            fmt_num(to_secs_f64(c.fidelity.window.start)),
            fmt_num(to_secs_f64(c.fidelity.window.end)),
            opt(c.mean(&spec.objective)),
            opt(d.and_then(|e| e.mean)),
            opt(d.and_then(|e| e.ci95_low)),
            opt(d.and_then(|e| e.ci95_high)),
            c.indistinguishable.map(|b| b.to_string()).unwrap_or_default(),
            opt(c.cost_above_oracle_pct),
        ]);
        for e in &c.figures.figures {
            r.extend([opt(e.mean), opt(e.ci95_low), opt(e.ci95_high)]);
        }
        w.write_record(&r).expect("CSV to memory");
    }
    w.into_inner().expect("CSV to memory")
}

fn short(x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(v) if v.abs() >= 1000.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{:.3}", v).trim_end_matches('0').trim_end_matches('.').to_string(),
    }
}

/// The terminal summary: the top candidates and the best with its margins.
pub fn table(scenario: &Scenario, spec: &TuneSpec, out: &TuneOutcome, top: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: tune {} ({}, {} candidates, {} runs, {} requests simulated)",
        scenario.name,
        spec.policy,
        spec.strategy.name(),
        out.candidates.len(),
        out.runs_simulated,
        out.requests_simulated
    );
    let cons: Vec<String> = spec.constraints.iter().map(|k| k.text()).collect();
    let _ = writeln!(
        s,
        "minimize {}{}",
        spec.objective,
        if cons.is_empty() { String::new() } else { format!(" subject to {}", cons.join(", ")) }
    );
    let mut ranked: Vec<&CandidateResult> = out.candidates.iter().filter(|c| c.rank.is_some()).collect();
    ranked.sort_by_key(|c| c.rank);
    let mut cols: Vec<String> = vec![spec.objective.clone()];
    for k in &spec.constraints {
        if !cols.contains(&k.figure) {
            cols.push(k.figure.clone());
        }
    }
    let label_w = ranked.iter().take(top).map(|c| c.candidate.label().len()).max().unwrap_or(6).max(6);
    let mut head = format!("{:>4}  {:<label_w$}  {:>8}", "rank", "params", "feasible");
    for c in &cols {
        let _ = write!(head, "  {:>w$}", c, w = c.len().max(9));
    }
    if out.oracle.is_some() {
        head.push_str("  vs oracle");
    }
    head.push_str("  vs best");
    let _ = writeln!(s, "{head}");
    let _ = writeln!(s, "{}", "-".repeat(head.chars().count()));
    for c in ranked.iter().take(top) {
        let mut line = format!(
            "{:>4}  {:<label_w$}  {:>8}",
            c.rank.unwrap_or(0),
            c.candidate.label(),
            if c.feasible { "yes" } else { "no" }
        );
        for f in &cols {
            let _ = write!(line, "  {:>w$}", short(c.mean(f)), w = f.len().max(9));
        }
        if out.oracle.is_some() {
            let _ =
                write!(line, "  {:>9}", c.cost_above_oracle_pct.map_or("–".into(), |p| format!("{p:+.1}%")));
        }
        let vs = match (c.rank, c.indistinguishable) {
            (Some(1), _) => "best".to_string(),
            (_, Some(true)) => "same".to_string(),
            (_, Some(false)) => "worse".to_string(),
            _ => "–".to_string(),
        };
        let _ = write!(line, "  {vs:>7}");
        let _ = writeln!(s, "{line}");
    }
    if ranked.len() > top {
        let _ = writeln!(s, "… {} more in tune.csv", ranked.len() - top);
    }
    match out.best {
        Some(b) => {
            let c = &out.candidates[b];
            let _ = writeln!(
                s,
                "\nbest: {} — {} {}",
                c.candidate.label(),
                spec.objective,
                short(c.mean(&spec.objective))
            );
            for k in &spec.constraints {
                let _ = writeln!(
                    s,
                    "  {:<32} value {:>10}  margin {:>10}",
                    k.text(),
                    short(c.mean(&k.figure)),
                    short(k.margin(c.mean(&k.figure)))
                );
            }
            if let (Some(o), Some(p)) = (&out.oracle, c.cost_above_oracle_pct) {
                let _ = writeln!(
                    s,
                    "  cost {:.2} {} is {:.1} % {} the oracle's {:.2} (perfect foresight of the arrivals; docs/outputs.md)",
                    c.mean("cost").unwrap_or(0.0),
                    scenario.cost.currency,
                    p.abs(),
                    if p < 0.0 { "below" } else { "above" },
                    o.get("cost").mean.unwrap_or(0.0)
                );
            }
            let same = out
                .candidates
                .iter()
                .filter(|x| {
                    x.rank.is_some() && x.rank != Some(1) && x.feasible && x.indistinguishable == Some(true)
                })
                .count();
            if same > 0 {
                let _ = writeln!(
                    s,
                    "  {same} other feasible candidate(s) are statistically indistinguishable on {} (paired 95 % CI)",
                    spec.objective
                );
            }
        }
        None => {
            if let Some((c, missed)) = &out.closest {
                let _ = writeln!(
                    s,
                    "\nno candidate meets every constraint; the closest, {}, misses {missed}",
                    out.candidates[*c].candidate.label()
                );
            }
        }
    }
    s
}

/// `pareto.png`: objective against the trade-off figure, one point per full-fidelity candidate,
/// the front joined, the best and the oracle marked.
pub fn pareto_chart(path: &Path, title: &str, spec: &TuneSpec, out: &TuneOutcome) -> Result<(), ReportError> {
    if !font_ready() {
        return Err(ReportError::io(path, "embedded chart font could not be loaded"));
    }
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    draw_pareto(&root, title, spec, out)
        .and_then(|_| root.present().map_err(Into::into))
        .map_err(|e| ReportError::io(path, e))
}

/// A drawn plot's geometry and its two axes (x, y), for the pixel tests.
type DrawnPlot = (PlotGeom, Axis, Axis);

/// Whether every value is a whole number (then the axis gets whole ticks only).
fn whole(values: impl IntoIterator<Item = f64>) -> bool {
    values.into_iter().all(|v| v.fract() == 0.0)
}

/// A value axis over data `[lo, hi]` padded by 8 %, with at most `max_ticks` nice ticks; a range
/// of non-negative figures stays non-negative, and a degenerate one is centred.
fn value_axis(lo: f64, hi: f64, integer: bool, max_ticks: usize) -> Axis {
    let (a, b) =
        if lo.is_finite() && hi.is_finite() { ticks::padded(lo, hi, integer, 0.08) } else { (0.0, 1.0) };
    ticks::axis(a, b, integer, max_ticks, "")
}

/// Draws `pareto.png` on `root`; returns the plot's geometry and axes (for the pixel tests).
fn draw_pareto<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    spec: &TuneSpec,
    out: &TuneOutcome,
) -> Result<DrawnPlot, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let y_fig = &out.tradeoff;
    let pts: Vec<(f64, f64, &CandidateResult)> = out
        .candidates
        .iter()
        .filter(|c| c.fidelity.full)
        .filter_map(|c| Some((c.mean(&spec.objective)?, c.mean(y_fig)?, c)))
        .collect();
    let oracle = out.oracle.as_ref().and_then(|o| Some((o.get(&spec.objective).mean?, o.get(y_fig).mean?)));
    let xs: Vec<f64> = pts.iter().map(|p| p.0).chain(oracle.map(|o| o.0)).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.1).chain(oracle.map(|o| o.1)).collect();
    let (x0, x1) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    let (y0, y1) = ys.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| (a.min(y), b.max(y)));
    let xa = value_axis(x0, x1, whole(xs.iter().copied()), 9);
    // The trade-off figure's axis includes zero.
    let ya = value_axis(y0.min(0.0), y1, whole(ys.iter().copied()), 9);
    root.fill(&WHITE)?;
    let mut c = ChartBuilder::on(root)
        .caption(title, (FONT, 24))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(TickedRange::of(&xa, 1), TickedRange::of(&ya, 1))?;
    draw_mesh(&mut c, &xa, &ya, (&format!("{} (minimised)", spec.objective), y_fig.as_str()), (16, 18))?;
    let geom = geom_of(&c, &xa, &ya);
    let grey = RGBColor(150, 150, 150);
    let feas = PALETTE[0];
    let infeas = PALETTE[1];
    c.draw_series(pts.iter().filter(|p| p.2.feasible).map(|p| Circle::new((p.0, p.1), 5, feas.filled())))?
        .label("feasible candidate")
        .legend(move |(x, y)| Circle::new((x + 10, y), 5, feas.filled()));
    c.draw_series(
        pts.iter().filter(|p| !p.2.feasible).map(|p| Circle::new((p.0, p.1), 5, infeas.stroke_width(2))),
    )?
    .label("infeasible candidate")
    .legend(move |(x, y)| Circle::new((x + 10, y), 5, infeas.stroke_width(2)));
    let mut front: Vec<(f64, f64)> = pts.iter().filter(|p| p.2.pareto).map(|p| (p.0, p.1)).collect();
    front.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    if front.len() > 1 {
        // A staircase: each front point holds until the next one improves the trade-off.
        let mut stairs = Vec::with_capacity(front.len() * 2);
        for w in front.windows(2) {
            stairs.push(w[0]);
            stairs.push((w[1].0, w[0].1));
        }
        stairs.push(*front.last().expect("non-empty"));
        c.draw_series(LineSeries::new(stairs, grey.stroke_width(2)))?
            .label("Pareto front")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], grey.stroke_width(2)));
    }
    if let Some(b) = out.best
        && let (Some(x), Some(y)) = (out.candidates[b].mean(&spec.objective), out.candidates[b].mean(y_fig))
    {
        let k = PALETTE[2];
        c.draw_series(std::iter::once(Circle::new((x, y), 11, k.stroke_width(3))))?
            .label(format!("best: {}", out.candidates[b].candidate.label()))
            .legend(move |(x, y)| Circle::new((x + 10, y), 8, k.stroke_width(3)));
    }
    if let Some((x, y)) = oracle {
        let k = PALETTE[6];
        c.draw_series(std::iter::once(TriangleMarker::new((x, y), 10, k.filled())))?
            .label("oracle (perfect foresight)")
            .legend(move |(x, y)| TriangleMarker::new((x + 10, y), 8, k.filled()));
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 16))
        .draw()?;
    Ok((geom, xa, ya))
}

/// `sensitivity.png`: a grid of panels, one row per figure (the objective, then each constrained
/// figure) and one column per varied key; each full-fidelity candidate is a point at its value of
/// the key, the best is ringed, and a constraint's limit is a dashed line.
pub fn sensitivity_chart(
    path: &Path,
    title: &str,
    spec: &TuneSpec,
    space: &Space,
    out: &TuneOutcome,
) -> Result<(), ReportError> {
    if !font_ready() {
        return Err(ReportError::io(path, "embedded chart font could not be loaded"));
    }
    let root = BitMapBackend::new(path, sensitivity_size(spec, space)).into_drawing_area();
    draw_sensitivity(&root, title, spec, space, out)
        .and_then(|_| root.present().map_err(Into::into))
        .map_err(|e| ReportError::io(path, e))
}

/// The figures of `sensitivity.png`'s rows: the objective, then each constrained figure, with
/// the constraint's limit.
fn sensitivity_rows(spec: &TuneSpec) -> Vec<(String, Option<f64>)> {
    let mut figures: Vec<(String, Option<f64>)> = vec![(spec.objective.clone(), None)];
    for k in &spec.constraints {
        if k.figure == spec.objective {
            figures[0].1 = Some(k.limit);
        } else if !figures.iter().any(|f| f.0 == k.figure) {
            figures.push((k.figure.clone(), Some(k.limit)));
        }
    }
    figures
}

fn sensitivity_size(spec: &TuneSpec, space: &Space) -> (u32, u32) {
    let rows = sensitivity_rows(spec).len();
    let cols = space.vary.len().max(1);
    (SIZE.0.max(440 * cols as u32), (SIZE.1 / 2).max(260 * rows as u32) + 60)
}

/// Draws `sensitivity.png` on `root`; returns each panel's geometry and axes (for the pixel
/// tests).
fn draw_sensitivity<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    spec: &TuneSpec,
    space: &Space,
    out: &TuneOutcome,
) -> Result<Vec<DrawnPlot>, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let figures = sensitivity_rows(spec);
    let rows = figures.len();
    let cols = space.vary.len().max(1);
    root.fill(&WHITE)?;
    let root = root.titled(
        &format!("{title}: filled = feasible, hollow = infeasible, ringed = best, dashed = limit"),
        (FONT, 20),
    )?;
    let panels = root.split_evenly((rows, cols));
    let full: Vec<&CandidateResult> = out.candidates.iter().filter(|c| c.fidelity.full).collect();
    let mut geoms = Vec::new();
    for (r, (fig, limit)) in figures.iter().enumerate() {
        for (k, vary) in space.vary.iter().enumerate() {
            let area = &panels[r * cols + k];
            let numeric = vary.values.iter().all(|v| v.as_f64().is_some());
            let x_of = |c: &CandidateResult| -> Option<f64> {
                let v = &c.candidate.params[k].1;
                if numeric { v.as_f64() } else { vary.values.iter().position(|x| x == v).map(|i| i as f64) }
            };
            let pts: Vec<(f64, f64, bool, bool)> = full
                .iter()
                .filter_map(|c| {
                    Some((x_of(c)?, c.mean(fig)?, c.feasible, Some(c.rank) == Some(Some(1)) && c.feasible))
                })
                .collect();
            // A numeric key: nice ticks (whole ones when every value is whole); a list of words:
            // one tick per value, labelled with it.
            let xa = if numeric {
                let xs: Vec<f64> = vary.values.iter().filter_map(|v| v.as_f64()).collect();
                let (a, b) =
                    xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
                value_axis(a, b, whole(xs.iter().copied()), 7)
            } else {
                Axis {
                    lo: -0.5,
                    hi: vary.values.len() as f64 - 0.5,
                    ticks: vary.values.iter().enumerate().map(|(i, v)| (i as f64, v.text.clone())).collect(),
                    desc: String::new(),
                }
            };
            let ys: Vec<f64> = pts.iter().map(|p| p.1).chain(*limit).collect();
            let (yl, yh) =
                ys.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &y| (a.min(y), b.max(y)));
            let ya = value_axis(yl.min(0.0), yh, whole(ys.iter().copied()), 6);
            let mut c = ChartBuilder::on(area)
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(70)
                .build_cartesian_2d(TickedRange::of(&xa, 1), TickedRange::of(&ya, 1))?;
            draw_mesh(&mut c, &xa, &ya, (short_key(&vary.key), fig.as_str()), (14, 15))?;
            geoms.push((geom_of(&c, &xa, &ya), xa.clone(), ya.clone()));
            if let Some(l) = limit {
                let g = RGBColor(120, 120, 120);
                c.draw_series(DashedLineSeries::new(
                    vec![(xa.lo, *l), (xa.hi, *l)],
                    8,
                    5,
                    g.stroke_width(2),
                ))?;
            }
            c.draw_series(pts.iter().map(|p| {
                let col = if p.2 { PALETTE[0] } else { PALETTE[1] };
                Circle::new((p.0, p.1), 4, if p.2 { col.filled() } else { col.stroke_width(2) })
            }))?;
            c.draw_series(
                pts.iter().filter(|p| p.3).map(|p| Circle::new((p.0, p.1), 9, PALETTE[2].stroke_width(3))),
            )?;
        }
    }
    Ok(geoms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::aggregate::N_FIGURES;
    use crate::report::chart::pixels::{Dir, Image, check_ticks, number};
    use crate::tune::space::{ParamValue, Vary};
    use crate::tune::{Candidate, Constraint, Fidelity, Op, Strategy};

    /// Candidates of `policy.p.target` = each of `targets`, with cost and failed figures.
    fn outcome(points: &[(f64, f64, f64)]) -> (TuneSpec, Space, TuneOutcome) {
        let window = Window { start: 0, end: 1, warmup: 0 };
        let candidates: Vec<CandidateResult> = points
            .iter()
            .enumerate()
            .map(|(i, &(target, cost, failed))| {
                let mut figures =
                    [Estimate { mean: Some(0.0), ci95_low: None, ci95_high: None, n: 1 }; N_FIGURES];
                for (f, v) in [("cost", cost), ("failed", failed)] {
                    figures[FIGURES.iter().position(|x| *x == f).unwrap()].mean = Some(v);
                }
                CandidateResult {
                    candidate: Candidate {
                        point: i as u64,
                        params: vec![("policy.p.target".into(), ParamValue::new(&format!("{target}")))],
                    },
                    figures: PolicyAggregate { policy: "p".into(), seeds: vec![1], figures },
                    fidelity: Fidelity { rung: 0, seeds: 1, horizon: 1.0, window, full: true },
                    feasible: true,
                    pareto: i == 0,
                    rank: Some(i + 1),
                    diff_to_best: None,
                    indistinguishable: None,
                    cost_above_oracle_pct: None,
                    violation: 0.0,
                }
            })
            .collect();
        let spec = TuneSpec {
            policy: "p".into(),
            objective: "cost".into(),
            constraints: vec![Constraint {
                figure: "failed".into(),
                op: Op::Le,
                limit: 0.0,
                origin: "--require".into(),
            }],
            seeds: 1,
            strategy: Strategy::Grid,
        };
        let space = Space {
            vary: vec![Vary {
                key: "policy.p.target".into(),
                values: points.iter().map(|p| ParamValue::new(&format!("{}", p.0))).collect(),
            }],
        };
        let out = TuneOutcome {
            candidates,
            best: Some(0),
            closest: None,
            tradeoff: "failed".into(),
            oracle: None,
            rungs: Vec::new(),
            requests_simulated: 0,
            runs_simulated: 0,
        };
        (spec, space, out)
    }

    fn check(rgb: &[u8], (w, h): (u32, u32), panels: &[(PlotGeom, Axis, Axis)]) {
        let img = Image { rgb, w, h };
        for (g, x, y) in panels {
            check_ticks(&img, g, y, Dir::Y, true, &number);
            check_ticks(&img, g, x, Dir::X, true, &number);
        }
    }

    #[test]
    fn pareto_and_sensitivity_ticks_sit_on_their_gridlines() {
        assert!(font_ready());
        // Every candidate has 0 failures (the flat axis that was labelled "0.0" throughout),
        // and integer targets 6..14.
        let (spec, space, out) = outcome(&[
            (6.0, 23.09, 0.0),
            (8.0, 24.5, 0.0),
            (10.0, 26.2, 0.0),
            (12.0, 29.9, 0.0),
            (14.0, 31.0, 0.0),
        ]);
        let mut buf = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
        let (g, x, y) = {
            let root = BitMapBackend::with_buffer(&mut buf, SIZE).into_drawing_area();
            let r = draw_pareto(&root, "t", &spec, &out).unwrap();
            root.present().unwrap();
            r
        };
        // The flat axis is centred on 0 with distinct labels.
        assert_eq!((y.lo + y.hi) / 2.0, 0.0, "{y:?}");
        let labels: std::collections::HashSet<&str> = y.ticks.iter().map(|t| t.1.as_str()).collect();
        assert_eq!(labels.len(), y.ticks.len(), "{:?}", y.ticks);
        check(&buf, SIZE, &[(g, x, y)]);

        let size = sensitivity_size(&spec, &space);
        let mut buf = vec![255u8; (size.0 * size.1 * 3) as usize];
        let panels = {
            let root = BitMapBackend::with_buffer(&mut buf, size).into_drawing_area();
            let r = draw_sensitivity(&root, "t", &spec, &space, &out).unwrap();
            root.present().unwrap();
            r
        };
        assert_eq!(panels.len(), 2);
        for (_, x, _) in &panels {
            assert!(
                x.ticks.iter().all(|t| t.0.fract() == 0.0),
                "integer key, fractional tick: {:?}",
                x.ticks
            );
        }
        check(&buf, size, &panels);
    }
}
