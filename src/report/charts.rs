//! The charts: what each one shows, built as a [`Figure`] from the results and drawn by
//! [`super::chart`] as PNG (files) or SVG (`report.html`) — one definition, two backends.
//!
//! Charts show replication 0 of every policy. The time axis is the scenario's local clock on
//! round local times; a warm-up is shaded; `--window` zooms every chart. Series use the fixed
//! palette and dashes of [`super::chart`], the legend sits outside the plot, and a chart turns
//! into small multiples (one panel per policy, shared axes) when there are more than six
//! policies or when their lines coincide for most of the run (`--charts overlay|panels`
//! overrides that choice).

use super::chart::{
    Axis, Dash, Figure, GREY, Glyph, Layer, LegendItem, Panel, SIZE, THRESHOLD, series_style,
};
use super::meta::ReportMeta;
use super::ticks;
use crate::record::{FailReason, IntervalRow, RunResult};
use crate::time::from_secs_f64;
use plotters::style::{Color, RGBColor};

/// Overlay all policies on one plot, one panel per policy, or choose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChartsMode {
    /// Panels when there are more than [`MAX_OVERLAY`] policies or their lines coincide for
    /// most of the run; one plot otherwise.
    #[default]
    Auto,
    /// Always one plot.
    Overlay,
    /// Always one panel per policy.
    Panels,
}

/// Most policies drawn on one plot in [`ChartsMode::Auto`].
pub const MAX_OVERLAY: usize = 6;

/// How to draw the charts.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChartOptions {
    /// Show only `[start, end)` seconds since the simulation start.
    pub window: Option<(f64, f64)>,
    /// Overlay or panels.
    pub mode: ChartsMode,
}

/// Parses `--window START..END`: each end a moment as [`crate::time::parse_moment`] reads it
/// (the same forms as `explain decision --at`): an offset from the start (`90m`, `2h`, `0`), a
/// local clock time (`14:30`, `14:30:15`: the first at or after the start, or after START for
/// END), or a local date-time (`2025-01-07T09:00`); either end may be left out (`..2h`,
/// `13:00..`). Returns seconds since the start.
pub fn parse_window(text: &str, clock: &crate::time::Clock, duration_s: f64) -> Result<(f64, f64), String> {
    use crate::time::{parse_moment, to_secs_f64};
    let expected = "expected START..END, e.g. `2h..3h`, `09:00..12:30` or `..30m`";
    let Some((a, b)) = text.split_once("..") else {
        return Err(format!("found `{text}` with no `..`; {expected}"));
    };
    let at = |s: &str, after: f64, default: f64| -> Result<f64, String> {
        if s.trim().is_empty() {
            return Ok(default);
        }
        parse_moment(s, clock, from_secs_f64(after)).map(|m| to_secs_f64(m.at))
    };
    let lo = at(a, 0.0, 0.0)?;
    let hi = at(b, lo, duration_s)?;
    if hi <= lo || hi.is_nan() {
        return Err(format!("`{text}`: the window ends before it starts; {expected}"));
    }
    if lo >= duration_s {
        return Err(format!("`{text}`: the window starts after the run ends"));
    }
    Ok((lo.max(0.0), hi.min(duration_s)))
}

/// A chart ready to render, with its file stem.
pub(crate) struct Built {
    /// File stem (`replicas` for `replicas.png`).
    pub name: &'static str,
    /// What to draw.
    pub figure: Figure,
    /// Set when the chart has nothing to show (the figure then says so in one line).
    pub empty: Option<String>,
}

/// Replication 0 of every policy, in order.
pub(crate) fn first_replications(runs: &[RunResult]) -> Vec<&RunResult> {
    let mut seen: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for r in runs {
        if !seen.contains(&r.policy.as_str()) {
            seen.push(&r.policy);
            out.push(runs.iter().find(|x| x.policy == r.policy && x.replication == 0).unwrap_or(r));
        }
    }
    out
}

/// Context shared by the builders.
struct Ctx<'a> {
    meta: &'a ReportMeta,
    runs: Vec<&'a RunResult>,
    reps: usize,
    lo: f64,
    hi: f64,
    opts: ChartOptions,
}

impl<'a> Ctx<'a> {
    fn new(meta: &'a ReportMeta, runs: &'a [RunResult], opts: ChartOptions) -> Ctx<'a> {
        let last = runs.iter().filter_map(|r| r.intervals.last()).map(|i| i.end_s).fold(0.0, f64::max);
        let end = meta.duration_s.max(last);
        let end = if end > 0.0 { end } else { 1.0 };
        let (lo, hi) = match opts.window {
            Some((a, b)) if b > a => (a.max(0.0), b.min(end).max(a.max(0.0) + 1e-3)),
            _ => (0.0, end),
        };
        let reps = super::replications(runs);
        Ctx { meta, runs: first_replications(runs), reps, lo, hi, opts }
    }

    /// Intervals of `run` that overlap the window.
    fn rows(&self, run: &'a RunResult) -> impl Iterator<Item = &'a IntervalRow> + '_ {
        let (lo, hi) = (self.lo, self.hi);
        run.intervals.iter().filter(move |iv| iv.end_s > lo && iv.start_s < hi)
    }

    fn title(&self, what: &str) -> String {
        let mut t = format!("{}: {what}", self.meta.name);
        if self.reps > 1 {
            t.push_str(&format!(" (replication 0 of {})", self.reps));
        }
        t
    }

    /// The subtitle: overrides, window and warm-up.
    fn subtitle(&self, extra: Option<String>) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(o) = self.meta.overrides_text() {
            parts.push(format!("--set {o}"));
        }
        if self.opts.window.is_some() {
            let c = &self.meta.clock;
            let with_day = self.hi - self.lo > 86_400.0 || self.meta.duration_s > 86_400.0;
            parts.push(format!(
                "window {} – {}",
                c.label(from_secs_f64(self.lo), with_day),
                c.label(from_secs_f64(self.hi), with_day)
            ));
        }
        if let Some(e) = extra {
            parts.push(e);
        }
        (!parts.is_empty()).then(|| parts.join("   ·   "))
    }

    fn x_axis(&self) -> Axis {
        let (ticks, with_day) = time_ticks(self.meta, self.lo, self.hi);
        let clock = &self.meta.clock;
        Axis {
            lo: self.lo,
            hi: self.hi,
            ticks: ticks.into_iter().map(|t| (t, clock.label(from_secs_f64(t), with_day))).collect(),
            desc: format!("local time ({})", clock.tz().name()),
        }
    }

    /// The warm-up shading (empty when there is none in view).
    fn warmup_layers(&self) -> Vec<Layer> {
        let w = self.meta.warmup_s;
        if w > self.lo {
            vec![Layer::Shade { x0: self.lo, x1: w.min(self.hi), color: GREY.mix(0.13) }]
        } else {
            Vec::new()
        }
    }

    fn warmup_legend(&self, legend: &mut Vec<LegendItem>) {
        if self.meta.warmup_s > self.lo {
            legend.push(LegendItem {
                label: "warm-up (not in summary)".into(),
                glyph: Glyph::Box(GREY.mix(0.25)),
            });
        }
    }

    fn figure(
        &self,
        title: String,
        subtitle: Option<String>,
        y: Axis,
        panels: Vec<Panel>,
        legend: Vec<LegendItem>,
    ) -> Figure {
        let n = panels.len();
        let rows = if n > 12 { n.div_ceil(4) } else { 3 };
        let h = SIZE.1.max(120 + 200 * rows as u32);
        Figure {
            title,
            subtitle: self.subtitle(subtitle),
            x: self.x_axis(),
            y,
            panels,
            legend,
            size: (SIZE.0, h),
            note: None,
        }
    }

    fn empty(&self, name: &'static str, title: String, note: String) -> Built {
        let mut figure = self.figure(title, None, linear_axis(0.0, 1.0, false, ""), Vec::new(), Vec::new());
        figure.size = (SIZE.0, 300);
        figure.note = Some(note.clone());
        Built { name, figure, empty: Some(note) }
    }

    /// Whether to draw one panel per policy, given each policy's main series (per interval).
    fn panels(&self, main: &[Vec<Option<f64>>], span: f64) -> bool {
        match self.opts.mode {
            ChartsMode::Overlay => false,
            ChartsMode::Panels => main.len() > 1,
            ChartsMode::Auto => main.len() > MAX_OVERLAY || (main.len() > 1 && coincide(main, span)),
        }
    }
}

/// Whether two of `series` are within 1 % of `span` of each other in most (≥ 50 %) of the
/// intervals where both are defined — so one would hide the other.
fn coincide(series: &[Vec<Option<f64>>], span: f64) -> bool {
    let tol = 0.01 * span.max(1e-12);
    for i in 0..series.len() {
        for j in i + 1..series.len() {
            let (mut both, mut same) = (0usize, 0usize);
            for (a, b) in series[i].iter().zip(&series[j]) {
                if let (Some(a), Some(b)) = (a, b) {
                    both += 1;
                    if (a - b).abs() <= tol {
                        same += 1;
                    }
                }
            }
            if both > 0 && 2 * same >= both {
                return true;
            }
        }
    }
    false
}

/// A step line through per-interval values: `(start, v), (end, v)` joined, broken where the
/// value is undefined.
fn step_segments<'a>(
    rows: impl Iterator<Item = &'a IntervalRow>,
    value: impl Fn(&IntervalRow) -> Option<f64>,
) -> Vec<Vec<(f64, f64)>> {
    let mut segs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for iv in rows {
        match value(iv) {
            Some(v) if v.is_finite() => {
                let s = segs.last_mut().expect("non-empty");
                s.push((iv.start_s, v));
                s.push((iv.end_s, v));
            }
            _ => {
                if !segs.last().expect("non-empty").is_empty() {
                    segs.push(Vec::new());
                }
            }
        }
    }
    segs.retain(|s| !s.is_empty());
    segs
}

fn line(segments: Vec<Vec<(f64, f64)>>, i: usize) -> Layer {
    let (color, dash) = series_style(i);
    Layer::Line { segments, color, width: 3, dash }
}

fn legend_line(label: &str, i: usize) -> LegendItem {
    let (c, d) = series_style(i);
    LegendItem { label: label.to_string(), glyph: Glyph::Line(c, d) }
}

/// A linear axis from `lo` to a little above `max`, ticks from [`super::ticks`]; every value
/// equal gives a range centred on it.
fn linear_axis(lo: f64, max: f64, integer: bool, desc: &str) -> Axis {
    let (lo, hi) = if max > lo { (lo, lo + (max - lo) * 1.06) } else { ticks::readable(lo, lo, integer) };
    ticks::axis(lo, hi, integer, 9, desc)
}

/// A log10 axis (values plotted as log10) with ticks at 1, 2, 5 × 10^k.
fn log_axis(min: f64, max: f64, desc: &str) -> Axis {
    let (lmin, lmax) = (min.log10(), max.log10());
    let span = (lmax - lmin).max(1e-9);
    let (lo, hi) = (lmin - 0.04 * span, lmax + 0.06 * span);
    let mut marks = Vec::new();
    let decades = (hi - lo).ceil() as i32;
    let mults: &[f64] = if decades > 5 { &[1.0] } else { &[1.0, 2.0, 5.0] };
    for k in (lo.floor() as i32)..=(hi.ceil() as i32) {
        for m in mults {
            let x = m * 10f64.powi(k);
            let t = x.log10();
            if t >= lo && t <= hi {
                let decimals = if x >= 1.0 { 0 } else { (-x.log10().floor()) as usize };
                marks.push((t, ticks::group_thousands(format!("{x:.decimals$}"))));
            }
        }
    }
    Axis { lo, hi, ticks: marks, desc: desc.to_string() }
}

/// Tick positions (seconds since start) on round local clock times within [lo, hi], and
/// whether labels need the weekday (spans longer than a day).
pub(crate) fn time_ticks(meta: &ReportMeta, lo: f64, hi: f64) -> (Vec<f64>, bool) {
    const STEPS: [f64; 19] = [
        5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 14400.0,
        21600.0, 43200.0, 86400.0, 172800.0, 604800.0,
    ];
    let span = hi - lo;
    let with_day = span > 86_400.0;
    let max_ticks = if with_day { 9.0 } else { 12.0 };
    let step = STEPS.iter().copied().find(|s| span / s <= max_ticks).unwrap_or(604800.0);
    let sod = meta.clock.local(from_secs_f64(lo)).seconds_of_day;
    let period = step.min(86_400.0);
    let phase = sod.rem_euclid(period);
    let mut t = if phase < 1e-6 { lo } else { lo + period - phase };
    let mut ticks = Vec::new();
    while t <= hi + 1e-9 {
        ticks.push(t);
        t += step;
    }
    (ticks, with_day)
}

/// Every chart, in file order.
pub(crate) fn build_all(meta: &ReportMeta, runs: &[RunResult], opts: ChartOptions) -> Vec<Built> {
    let ctx = Ctx::new(meta, runs, opts);
    vec![replicas(&ctx), failures(&ctx), cost(&ctx), latency(&ctx)]
}

/// `replicas.png`.
fn replicas(ctx: &Ctx) -> Built {
    let title = ctx.title("ready replicas and replicas needed");
    let cap = ctx.meta.capacity.as_ref().filter(|c| c.rps > 0.0);
    // Every policy sees the same arrivals: the first policy's load.
    let needed: Vec<(f64, f64, f64, f64)> = match (cap, ctx.runs.first()) {
        (Some(c), Some(r)) => {
            ctx.rows(r).map(|iv| (iv.start_s, iv.end_s, 0.0, iv.offered_rps / c.rps)).collect()
        }
        _ => Vec::new(),
    };
    let need_max = needed.iter().map(|s| s.3).fold(0.0, f64::max);
    let main: Vec<Vec<Option<f64>>> =
        ctx.runs.iter().map(|r| ctx.rows(r).map(|iv| Some(iv.ready as f64)).collect()).collect();
    let top = ctx
        .runs
        .iter()
        .flat_map(|r| ctx.rows(r))
        .map(|iv| iv.ready_max.max(iv.ready) as f64)
        .fold(need_max, f64::max)
        .max(1.0);
    let y = linear_axis(0.0, top, true, "replicas");
    let panels_mode = ctx.panels(&main, y.hi - y.lo);
    let grey_fill = GREY.mix(0.22);
    let mut legend = Vec::new();
    let mut panels = Vec::new();
    let mut overlay = Panel::default();
    overlay.layers.extend(ctx.warmup_layers());
    if !needed.is_empty() {
        overlay.layers.push(Layer::Band { spans: needed.clone(), color: grey_fill });
    }
    let mut any_at_max = false;
    for (i, r) in ctx.runs.iter().enumerate() {
        let (color, _) = series_style(i);
        let band: Vec<(f64, f64, f64, f64)> = ctx
            .rows(r)
            .filter(|iv| iv.ready_min != iv.ready_max)
            .map(|iv| (iv.start_s, iv.end_s, iv.ready_min as f64, iv.ready_max as f64))
            .collect();
        let segs = step_segments(ctx.rows(r), |iv| Some(iv.ready as f64));
        let at_max: Vec<(f64, f64)> = ctx
            .rows(r)
            .filter(|iv| iv.at_max_s.is_some_and(|s| s > 0.0))
            .map(|iv| (iv.start_s, iv.end_s))
            .collect();
        any_at_max |= !at_max.is_empty();
        let mine = vec![
            Layer::Band { spans: band, color: color.mix(0.25) },
            line(segs, i),
            Layer::Strip { spans: at_max, row: if panels_mode { 0 } else { i as u32 }, color },
        ];
        if panels_mode {
            let mut p = Panel { title: Some(r.policy.clone()), layers: ctx.warmup_layers() };
            if !needed.is_empty() {
                p.layers.push(Layer::Band { spans: needed.clone(), color: grey_fill });
            }
            p.layers.extend(mine);
            panels.push(p);
        } else {
            overlay.layers.extend(mine);
        }
        legend.push(legend_line(&r.policy, i));
    }
    if !panels_mode {
        panels.push(overlay);
    }
    legend.push(LegendItem { label: "lowest–highest ready".into(), glyph: Glyph::Box(GREY.mix(0.35)) });
    let sub = match cap {
        Some(c) => {
            legend.push(LegendItem { label: "replicas needed".into(), glyph: Glyph::Box(grey_fill) });
            Some(match c.ci95 {
                Some((lo, hi)) => format!(
                    "replicas needed = offered load ÷ {} req/s per replica (95 % CI {}–{}; {})",
                    fmt_short(c.rps),
                    fmt_short(lo),
                    fmt_short(hi),
                    c.method
                ),
                None => format!(
                    "replicas needed = offered load ÷ {} req/s per replica ({})",
                    fmt_short(c.rps),
                    c.method
                ),
            })
        }
        None => Some("replica capacity unknown: replicas needed not shown".to_string()),
    };
    if any_at_max {
        legend.push(LegendItem { label: "top strip: at max".into(), glyph: Glyph::Box(GREY.to_rgba()) });
    }
    ctx.warmup_legend(&mut legend);
    Built { name: "replicas", figure: ctx.figure(title, sub, y, panels, legend), empty: None }
}

fn fmt_short(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Colours of the failure reasons (stacked in [`FailReason::ALL`] order).
const REASON_COLORS: [RGBColor; 4] =
    [RGBColor(213, 94, 0), RGBColor(230, 159, 0), RGBColor(204, 121, 167), RGBColor(0, 114, 178)];

/// Per-interval rows of `run` in the window, grouped into bins of `k` intervals: (start, end,
/// failures per second by reason).
fn failure_bins<'a>(rows: impl Iterator<Item = &'a IntervalRow>, k: usize) -> Vec<(f64, f64, [f64; 4])> {
    let rows: Vec<&IntervalRow> = rows.collect();
    rows.chunks(k.max(1))
        .map(|c| {
            let (s, e) = (c[0].start_s, c[c.len() - 1].end_s);
            let len = (e - s).max(1e-9);
            let mut f = [0.0; 4];
            for iv in c {
                for (x, n) in f.iter_mut().zip(iv.failed) {
                    *x += n as f64;
                }
            }
            (s, e, f.map(|x| x / len))
        })
        .collect()
}

/// Bins of a whole number of recording intervals that make round durations (with 10 s
/// intervals: 10 s, 20 s, 30 s, 1 min, …).
const BIN_INTERVALS: [usize; 20] =
    [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 40, 60, 90, 120, 180, 240, 360, 720, 1440];

/// How many recording intervals go into one bar of `failures.png`: the fewest of
/// [`BIN_INTERVALS`] that keep every bar at least 4 pixels wide in a panel of a figure with
/// `panels` panels, so that a bar at either edge of the plot shows beside the axis.
fn failure_bin_intervals(rows: usize, panels: usize) -> usize {
    let cols = match panels {
        0 | 1 => 1,
        2..=4 => 2,
        5..=9 => 3,
        _ => 4,
    };
    // Plot width: the figure less the legend column and margins, per column less the y labels.
    let width = (SIZE.0 as usize - 290) / cols - if cols == 1 { 140 } else { 95 };
    let max_bars = (width / 4).max(1);
    BIN_INTERVALS.iter().copied().find(|k| rows.div_ceil(*k) <= max_bars).unwrap_or(rows.div_ceil(max_bars))
}

/// `failures.png`: failed requests per second stacked by reason, one panel per policy that
/// failed; the policies with no failure are named in the subtitle.
fn failures(ctx: &Ctx) -> Built {
    let title = ctx.title("failed requests by reason");
    let failed: Vec<(usize, &RunResult)> = ctx
        .runs
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, r)| ctx.rows(r).any(|iv| iv.failed_total() > 0))
        .collect();
    if failed.is_empty() {
        return ctx.empty("failures", title, "No request failed under any policy: nothing to chart.".into());
    }
    let clean: Vec<&str> = ctx
        .runs
        .iter()
        .filter(|r| !failed.iter().any(|(_, f)| f.policy == r.policy))
        .map(|r| r.policy.as_str())
        .collect();
    let overlay = ctx.opts.mode == ChartsMode::Overlay && failed.len() > 1;
    let n = failed.iter().map(|(_, r)| ctx.rows(r).count()).max().unwrap_or(1);
    let k = failure_bin_intervals(n, if overlay { 1 } else { failed.len() });
    let bins: Vec<Vec<(f64, f64, [f64; 4])>> =
        failed.iter().map(|(_, r)| failure_bins(ctx.rows(r), k)).collect();
    let present: Vec<bool> = (0..4).map(|j| bins.iter().flatten().any(|b| b.2[j] > 0.0)).collect();
    let top = bins.iter().flatten().map(|b| b.2.iter().sum::<f64>()).fold(0.0, f64::max);
    let y = linear_axis(0.0, top, false, "failed requests/s");
    let mut legend = Vec::new();
    let mut panels = Vec::new();
    if overlay {
        let mut p = Panel { title: None, layers: ctx.warmup_layers() };
        for ((i, r), b) in failed.iter().zip(&bins) {
            let segs =
                vec![b.iter().flat_map(|(s, e, f)| [(*s, f.iter().sum()), (*e, f.iter().sum())]).collect()];
            p.layers.push(line(segs, *i));
            legend.push(legend_line(&r.policy, *i));
        }
        panels.push(p);
    } else {
        for ((_, r), b) in failed.iter().zip(&bins) {
            let mut p =
                Panel { title: (ctx.runs.len() > 1).then(|| r.policy.clone()), layers: ctx.warmup_layers() };
            for (j, &on) in present.iter().enumerate() {
                if !on {
                    continue;
                }
                let spans: Vec<(f64, f64, f64, f64)> = b
                    .iter()
                    .filter(|x| x.2[j] > 0.0)
                    .map(|(s, e, f)| {
                        let below: f64 = f[..j].iter().sum();
                        (*s, *e, below, below + f[j])
                    })
                    .collect();
                p.layers.push(Layer::Band { spans, color: REASON_COLORS[j].mix(0.85) });
            }
            panels.push(p);
        }
        for ((on, reason), color) in present.iter().zip(FailReason::ALL).zip(REASON_COLORS) {
            if *on {
                legend.push(LegendItem {
                    label: reason.name().to_string(),
                    glyph: Glyph::Box(color.mix(0.85)),
                });
            }
        }
    }
    ctx.warmup_legend(&mut legend);
    let mut notes = Vec::new();
    if k > 1 {
        let len =
            failed.first().and_then(|(_, r)| ctx.rows(r).next()).map_or(0.0, |iv| iv.end_s - iv.start_s);
        notes.push(format!("each bar: {} ({k} recording intervals)", super::fmt_duration(len * k as f64)));
    }
    if !clean.is_empty() {
        notes.push(format!("no failures: {}", clean.join(", ")));
    }
    let sub = (!notes.is_empty()).then(|| notes.join("   ·   "));
    Built { name: "failures", figure: ctx.figure(title, sub, y, panels, legend), empty: None }
}

/// `cost.png`: cumulative cost per policy.
fn cost(ctx: &Ctx) -> Built {
    let title = ctx.title("cumulative cost");
    let series: Vec<Vec<(f64, f64)>> = ctx
        .runs
        .iter()
        .map(|r| {
            let mut pts: Vec<(f64, f64)> = Vec::new();
            if ctx.lo <= 0.0 {
                pts.push((0.0, 0.0));
            }
            pts.extend(ctx.rows(r).map(|iv| (iv.end_s, iv.cost_cumulative)));
            pts
        })
        .collect();
    let main: Vec<Vec<Option<f64>>> = series.iter().map(|s| s.iter().map(|p| Some(p.1)).collect()).collect();
    let top = series.iter().flatten().map(|p| p.1).fold(0.0, f64::max);
    let lo = if ctx.lo > 0.0 {
        series.iter().flatten().map(|p| p.1).fold(f64::INFINITY, f64::min).min(top)
    } else {
        0.0
    };
    let lo = if lo.is_finite() { (lo * 0.95).max(0.0) } else { 0.0 };
    let y = linear_axis(lo, top, false, &format!("cumulative cost ({})", ctx.meta.currency));
    let panels_mode = ctx.panels(&main, y.hi - y.lo);
    let mut legend = Vec::new();
    let mut panels = Vec::new();
    let mut overlay = Panel { title: None, layers: ctx.warmup_layers() };
    for (i, (r, pts)) in ctx.runs.iter().zip(series).enumerate() {
        let l = line(vec![pts], i);
        if panels_mode {
            let mut p = Panel { title: Some(r.policy.clone()), layers: ctx.warmup_layers() };
            p.layers.push(l);
            panels.push(p);
        } else {
            overlay.layers.push(l);
        }
        legend.push(legend_line(&r.policy, i));
    }
    if !panels_mode {
        panels.push(overlay);
    }
    ctx.warmup_legend(&mut legend);
    Built { name: "cost", figure: ctx.figure(title, None, y, panels, legend), empty: None }
}

/// Which per-interval percentile the latency chart shows: the SLO's when it is one the time
/// series has (95 or 99), else 99.
fn latency_percentile(meta: &ReportMeta) -> f64 {
    if meta.slo.as_ref().and_then(|s| s.latency).is_some_and(|(p, _)| p == 95.0) { 95.0 } else { 99.0 }
}

fn pick(iv: &IntervalRow, p: f64) -> Option<f64> {
    if p == 95.0 { iv.latency_p95_s } else { iv.latency_p99_s }
}

/// `latency.png`: per policy the p50–pNN band and the pNN line (NN the SLO's percentile, else
/// 99), the SLO bound as a red dashed line, in ms or s by range, logarithmic when wide.
fn latency(ctx: &Ctx) -> Built {
    let p = latency_percentile(ctx.meta);
    let bound = ctx.meta.slo.as_ref().and_then(|s| s.latency).filter(|l| l.0 == p).map(|l| l.1);
    let title = ctx.title(&format!("latency of served requests, p50–p{p}"));
    let values: Vec<f64> = ctx
        .runs
        .iter()
        .flat_map(|r| ctx.rows(r))
        .flat_map(|iv| [iv.latency_p50_s, pick(iv, p)])
        .flatten()
        .filter(|v| *v > 0.0)
        .chain(bound)
        .collect();
    if ctx.runs.iter().flat_map(|r| ctx.rows(r)).all(|iv| pick(iv, p).is_none()) {
        return ctx.empty("latency", title, "No request was served: no latency to chart.".into());
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(0.0, f64::max);
    let (scale, unit) = if max < 1.0 { (1000.0, "ms") } else { (1.0, "s") };
    let wide = max / min > 20.0;
    let tf = move |v: f64| if wide { (v * scale).log10() } else { v * scale };
    let y = if wide {
        log_axis(min * scale, max * scale, &format!("latency ({unit}, log scale)"))
    } else {
        linear_axis(0.0, max * scale, false, &format!("latency ({unit})"))
    };
    let main: Vec<Vec<Option<f64>>> =
        ctx.runs.iter().map(|r| ctx.rows(r).map(|iv| pick(iv, p).map(tf)).collect()).collect();
    let panels_mode = ctx.panels(&main, y.hi - y.lo);
    let mut legend = Vec::new();
    let mut panels = Vec::new();
    let slo_layer = bound.map(|b| Layer::HLine { y: tf(b), color: THRESHOLD, width: 2, dash: Dash(10, 6) });
    let mut overlay = Panel { title: None, layers: ctx.warmup_layers() };
    for (i, r) in ctx.runs.iter().enumerate() {
        let (color, _) = series_style(i);
        let band: Vec<(f64, f64, f64, f64)> = ctx
            .rows(r)
            .filter_map(|iv| {
                let (a, b) = (iv.latency_p50_s?, pick(iv, p)?);
                (a > 0.0 && b > 0.0).then(|| (iv.start_s, iv.end_s, tf(a), tf(b)))
            })
            .collect();
        let segs = step_segments(ctx.rows(r), |iv| pick(iv, p).filter(|v| *v > 0.0).map(tf));
        let mine = vec![Layer::Band { spans: band, color: color.mix(0.2) }, line(segs, i)];
        if panels_mode {
            let mut pl = Panel { title: Some(r.policy.clone()), layers: ctx.warmup_layers() };
            pl.layers.extend(mine);
            pl.layers.extend(slo_layer.clone());
            panels.push(pl);
        } else {
            overlay.layers.extend(mine);
        }
        legend.push(legend_line(&format!("{} p{p}", r.policy), i));
    }
    if !panels_mode {
        overlay.layers.extend(slo_layer.clone());
        panels.push(overlay);
    }
    // The band's key in the band's own colour; with several policies, each band is in its
    // policy's colour and the key says so.
    legend.push(if ctx.runs.len() == 1 {
        LegendItem { label: format!("band: p50 to p{p}"), glyph: Glyph::Box(series_style(0).0.mix(0.2)) }
    } else {
        LegendItem { label: format!("colour shade: p50–p{p}"), glyph: Glyph::Box(GREY.mix(0.3)) }
    });
    if let Some(b) = bound {
        let text =
            if b < 1.0 { format!("{} ms", fmt_short(b * 1000.0)) } else { format!("{} s", fmt_short(b)) };
        legend.push(LegendItem {
            label: format!("SLO p{p} < {text}"),
            glyph: Glyph::Line(THRESHOLD, Dash(10, 6)),
        });
    }
    ctx.warmup_legend(&mut legend);
    Built { name: "latency", figure: ctx.figure(title, None, y, panels, legend), empty: None }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The time a clock label (`08:20`, `Tue 08:20`) states, near the tick at `t`.
    pub(crate) fn clock_stated(meta: &ReportMeta) -> impl Fn(f64, &str) -> Option<f64> + '_ {
        move |t: f64, text: &str| {
            let hm = text.rsplit(' ').next()?;
            let (h, m) = hm.split_once(':')?;
            let said = h.parse::<f64>().ok()? * 3600.0 + m.parse::<f64>().ok()? * 60.0;
            let sod = meta.clock.local(from_secs_f64(t)).seconds_of_day;
            let off = (sod - said + 43_200.0).rem_euclid(86_400.0) - 43_200.0;
            Some(t - off)
        }
    }

    #[test]
    fn every_run_chart_has_its_tick_labels_on_their_gridlines() {
        let (s, mut runs) = crate::report::testdata::fixture(1);
        let meta = ReportMeta::from_scenario(&s);
        // A 17-replica plateau (the compare.png case) and failures only in the first interval
        // of one policy.
        for r in &mut runs {
            for (i, iv) in r.intervals.iter_mut().enumerate() {
                if r.policy == "four" {
                    iv.ready = 17;
                    iv.ready_min = 17;
                    iv.ready_max = 17;
                }
                iv.failed = if r.policy == "two" && (i == 0 || i == 40) { [368, 0, 0, 0, 0] } else { [0; 5] };
            }
        }
        let stated = clock_stated(&meta);
        for mode in [ChartsMode::Auto, ChartsMode::Panels, ChartsMode::Overlay] {
            for window in [None, Some((1000.0, 5000.0))] {
                for b in build_all(&meta, &runs, ChartOptions { window, mode }) {
                    assert!(b.empty.is_none(), "{}", b.name);
                    crate::report::chart::tests::check_figure_ticks(&b.figure, &stated);
                }
            }
        }
    }

    #[test]
    fn integer_axes_get_integer_ticks_and_a_flat_axis_is_centred() {
        for top in [1.0, 2.0, 3.0, 7.0, 17.0, 33.0, 250.0] {
            let a = linear_axis(0.0, top, true, "replicas");
            assert!(a.ticks.iter().all(|t| t.0.fract() == 0.0), "{top}: {:?}", a.ticks);
            assert!(a.ticks.len() >= 2, "{top}: {:?}", a.ticks);
        }
        let a = linear_axis(0.0, 0.0, false, "cost");
        assert_eq!((a.lo, a.hi), (-1.0, 1.0));
    }

    #[test]
    fn failures_panel_only_the_policies_that_failed() {
        let (s, mut runs) = crate::report::testdata::fixture(1);
        let meta = ReportMeta::from_scenario(&s);
        for r in &mut runs {
            for (i, iv) in r.intervals.iter_mut().enumerate() {
                iv.failed = if r.policy == "two" && i == 0 { [368, 0, 0, 0, 0] } else { [0; 5] };
            }
        }
        let b = failures(&Ctx::new(&meta, &runs, ChartOptions::default()));
        assert_eq!(b.figure.panels.len(), 1);
        assert_eq!(b.figure.panels[0].title.as_deref(), Some("two"));
        assert!(
            b.figure.subtitle.as_deref().unwrap_or("").contains("no failures: four"),
            "{:?}",
            b.figure.subtitle
        );
        // The bar at the left edge is drawn in its colour from the plot's first columns, at
        // least 3 px wide (it was a single column beside the axis line).
        let (rgb, geoms) = crate::report::chart::render_rgb(&b.figure).unwrap();
        let g = geoms[0];
        let c = REASON_COLORS[0];
        let w = b.figure.size.0;
        let cols: Vec<i32> = (g.clip.0..=g.clip.2)
            .filter(|&x| {
                (g.clip.1..=g.clip.3).any(|y| {
                    let i = ((y as u32 * w + x as u32) * 3) as usize;
                    let p = &rgb[i..i + 3];
                    // The bar's colour at 85 % over white.
                    (p[0] as i32 - (c.0 as f64 * 0.85 + 255.0 * 0.15) as i32).abs() <= 2
                        && (p[1] as i32 - (c.1 as f64 * 0.85 + 255.0 * 0.15) as i32).abs() <= 2
                })
            })
            .collect();
        assert!(cols.len() >= 3, "bar columns {cols:?}");
        // Its first column is the axis line's (blended with it); the next ones show the bar.
        assert!(cols[0] <= g.x(0.0).round() as i32 + 1, "the bar starts at the plot's left edge: {cols:?}");
    }

    #[test]
    fn time_ticks_follow_local_clock() {
        let (s, _) = crate::report::testdata::fixture(1);
        let meta = ReportMeta::from_scenario(&s);
        let (t, day) = time_ticks(&meta, 0.0, 7200.0);
        assert!(!day);
        assert_eq!(t.first(), Some(&0.0));
        assert_eq!(t[1] - t[0], 600.0);
        let (t, day) = time_ticks(&meta, 0.0, 3.0 * 86400.0);
        assert!(day);
        assert_eq!(t[1] - t[0], 43200.0);
        // A window starting off the grid ticks on round times.
        let (t, _) = time_ticks(&meta, 1000.0, 2000.0);
        assert!(t.iter().all(|x| x.rem_euclid(60.0) == 0.0), "{t:?}");
    }

    #[test]
    fn windows_parse_offsets_and_clock_times() {
        let c = crate::time::Clock::utc_monday(86_400 * crate::time::SECOND);
        assert_eq!(parse_window("2h..3h", &c, 86_400.0), Ok((7200.0, 10800.0)));
        assert_eq!(parse_window("..30m", &c, 86_400.0), Ok((0.0, 1800.0)));
        assert_eq!(parse_window("09:00..12:30", &c, 86_400.0), Ok((32_400.0, 45_000.0)));
        assert_eq!(parse_window("23:00..01:00", &c, 172_800.0), Ok((82_800.0, 90_000.0)));
        assert_eq!(parse_window("2025-01-06T01:00..", &c, 86_400.0), Ok((3600.0, 86_400.0)));
        assert!(parse_window("3h..2h", &c, 86_400.0).is_err());
        assert!(parse_window("soon", &c, 86_400.0).unwrap_err().contains("found `soon`"));
        // The forms of `explain decision --at`: seconds, clock times with seconds, RFC 3339.
        assert_eq!(parse_window("3600..1h30m", &c, 86_400.0), Ok((3600.0, 5400.0)));
        assert_eq!(parse_window("09:00:30..2025-01-06T10:00:00Z", &c, 86_400.0), Ok((32_430.0, 36_000.0)));
    }

    #[test]
    fn coincidence_is_most_of_the_run() {
        let a = vec![Some(1.0), Some(2.0), Some(3.0), Some(4.0)];
        let b = vec![Some(1.0), Some(2.0), Some(5.0), None];
        let c = vec![Some(9.0), Some(9.0), Some(9.0), Some(9.0)];
        assert!(coincide(&[a.clone(), b], 10.0));
        assert!(!coincide(&[a, c], 10.0));
    }
}
