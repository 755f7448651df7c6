//! PNG charts (plotters, bitmap backend) of replication 0 of every policy.
//!
//! Text is drawn with the DejaVu Sans font embedded in the binary, so charts render on machines
//! with no system fonts. The time axis is labelled in the scenario's local clock time with tick
//! marks on round local times; colours come from the Okabe–Ito colour-blind-safe palette.

use super::ReportError;
use crate::record::RunResult;
use crate::scenario::Scenario;
use crate::time::from_secs_f64;
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

pub(super) const FONT: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
pub(super) const SIZE: (u32, u32) = (1280, 720);

/// Okabe–Ito palette, reordered so the first colours contrast most on white.
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// Registers the embedded font once; false if it could not be parsed.
pub(super) fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok())
}

/// One policy's line, possibly broken into segments where the value is undefined.
struct Series {
    name: String,
    segments: Vec<Vec<(f64, f64)>>,
}

/// A y axis: range, tick values (in plot coordinates) and how to label them.
struct YAxis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    label: Box<dyn Fn(f64) -> String>,
    desc: String,
}

/// A chart to draw.
struct Chart<'a> {
    title: String,
    y: YAxis,
    series: Vec<Series>,
    /// Offered load on a right-hand axis, drawn as a grey area.
    secondary: Option<(YAxis, Vec<(f64, f64)>)>,
    scenario: &'a Scenario,
    end_s: f64,
}

/// Replication 0 of every policy, in order.
fn first_replications(runs: &[RunResult]) -> Vec<&RunResult> {
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

fn title(scenario: &Scenario, runs: &[RunResult], what: &str) -> String {
    let reps = super::replications(runs);
    if reps > 1 {
        format!("{}: {what} (replication 0 of {reps})", scenario.name)
    } else {
        format!("{}: {what}", scenario.name)
    }
}

fn end_s(scenario: &Scenario, runs: &[RunResult]) -> f64 {
    let last = runs.iter().filter_map(|r| r.intervals.last()).map(|i| i.end_s).fold(0.0, f64::max);
    let d = crate::time::to_secs_f64(scenario.duration).max(last);
    if d > 0.0 { d } else { 1.0 }
}

/// Series of `value(interval)` at each interval's `x(interval)`, split where `value` is `None`.
fn series_of(
    runs: &[&RunResult],
    x: impl Fn(&crate::record::IntervalRow) -> f64,
    value: impl Fn(&crate::record::IntervalRow) -> Option<f64>,
) -> Vec<Series> {
    runs.iter()
        .map(|r| {
            let mut segments = vec![Vec::new()];
            for iv in &r.intervals {
                match value(iv) {
                    Some(v) if v.is_finite() => segments.last_mut().expect("non-empty").push((x(iv), v)),
                    _ => {
                        if !segments.last().expect("non-empty").is_empty() {
                            segments.push(Vec::new());
                        }
                    }
                }
            }
            segments.retain(|s| !s.is_empty());
            Series { name: r.policy.clone(), segments }
        })
        .collect()
}

fn max_value(series: &[Series]) -> f64 {
    series.iter().flat_map(|s| s.segments.iter().flatten()).map(|p| p.1).fold(0.0, f64::max)
}

/// Round tick values in [lo, hi]: steps of 1, 2 or 5 × 10^k, at least `min_step`, about 6–10
/// ticks. Returns the ticks and the decimals their labels need.
fn nice_ticks(lo: f64, hi: f64, min_step: f64) -> (Vec<f64>, usize) {
    let span = (hi - lo).max(1e-12);
    let raw = span / 8.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag).max(min_step);
    let decimals = if step >= 1.0 { 0 } else { (-step.log10().floor()) as usize };
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    // Round away binary noise (3 × 0.2 = 0.6000000000000001).
    ((first..=last).map(|k| ((k as f64 * step) * 1e9).round() / 1e9).collect(), decimals)
}

/// Inserts thousands separators into a formatted number ("1234567.5" → "1,234,567.5").
fn group_thousands(s: String) -> String {
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

/// A linear axis from 0 with headroom above `max` for the legend.
fn linear_axis(max: f64, min_step: f64, desc: &str) -> YAxis {
    let hi = if max > 0.0 { max * 1.35 } else { 1.0 };
    let (ticks, decimals) = nice_ticks(0.0, hi, min_step);
    YAxis {
        lo: 0.0,
        hi,
        ticks,
        label: Box::new(move |v| group_thousands(format!("{v:.decimals$}"))),
        desc: desc.to_string(),
    }
}

/// A log10 axis (values plotted as log10) with ticks at 1, 2, 5 × 10^k.
fn log_axis(min: f64, max: f64, desc: &str) -> YAxis {
    let (lmin, lmax) = (min.log10(), max.log10());
    let span = lmax - lmin;
    let (lo, hi) = (lmin - 0.05 * span, lmax + 0.4 * span);
    let mut ticks = Vec::new();
    let decades = (hi - lo).ceil() as i32;
    let mults: &[f64] = if decades > 5 { &[1.0] } else { &[1.0, 2.0, 5.0] };
    for k in (lo.floor() as i32)..=(hi.ceil() as i32) {
        for m in mults {
            let t = (m * 10f64.powi(k)).log10();
            if t >= lo && t <= hi {
                ticks.push(t);
            }
        }
    }
    let label = move |v: f64| {
        let x = 10f64.powf(v);
        let decimals = if x >= 1.0 { 0 } else { (-x.log10().floor()) as usize };
        group_thousands(format!("{x:.decimals$}"))
    };
    YAxis { lo, hi, ticks, label: Box::new(label), desc: desc.to_string() }
}

/// Tick positions (seconds since start) on round local clock times, and whether labels need
/// the weekday (runs longer than a day).
fn time_ticks(scenario: &Scenario, end_s: f64) -> (Vec<f64>, bool) {
    const STEPS: [f64; 16] = [
        60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 14400.0, 21600.0, 43200.0,
        86400.0, 172800.0, 604800.0, 2419200.0,
    ];
    let with_day = end_s > 86_400.0;
    let max_ticks = if with_day { 9.0 } else { 12.0 };
    let step = STEPS.iter().copied().find(|s| end_s / s <= max_ticks).unwrap_or(2419200.0);
    let sod = scenario.clock.local(0).seconds_of_day;
    let phase = sod.rem_euclid(step.min(86_400.0));
    let mut t = if phase == 0.0 { 0.0 } else { step.min(86_400.0) - phase };
    let mut ticks = Vec::new();
    while t <= end_s + 1e-9 {
        ticks.push(t);
        t += step;
    }
    (ticks, with_day)
}

/// A linear f64 axis with explicit tick positions (plotters' own f64 axis with key points
/// cannot take a custom label formatter).
#[derive(Clone)]
struct TickedRange {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for TickedRange {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let frac = (value - self.lo) / (self.hi - self.lo);
        let len = (limit.1 - limit.0) as f64;
        if !frac.is_finite() {
            return limit.0;
        }
        limit.0 + (len * frac).round() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

fn draw(path: &Path, c: &Chart) -> Result<(), ReportError> {
    if !font_ready() {
        return Err(ReportError::io(path, "embedded chart font could not be loaded"));
    }
    draw_inner(path, c).map_err(|e| ReportError::io(path, e))
}

fn draw_inner(path: &Path, c: &Chart) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (ticks, with_day) = time_ticks(c.scenario, c.end_s);
    let clock = &c.scenario.clock;
    let xlabel = |x: &f64| clock.label(from_secs_f64(*x), with_day);
    let x_desc = format!("local time ({})", clock.tz().name());
    let ylabel = |v: &f64| (c.y.label)(*v);
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(&c.title, (FONT, 30))
        .margin(20)
        .margin_right(if c.secondary.is_some() { 20 } else { 40 })
        .x_label_area_size(60)
        .y_label_area_size(115);
    if c.secondary.is_some() {
        builder.right_y_label_area_size(100);
    }
    let xr = TickedRange { lo: 0.0, hi: c.end_s, ticks: ticks.clone() };
    let yr = TickedRange { lo: c.y.lo, hi: c.y.hi, ticks: c.y.ticks.clone() };
    let chart = builder.build_cartesian_2d(xr.clone(), yr)?;

    // The same mesh, series and legend on a plain or a dual-axis chart; `$extra` runs between
    // the mesh and the policy lines.
    macro_rules! finish {
        ($chart:ident, $extra:block) => {{
            $chart
                .configure_mesh()
                .x_desc(&x_desc)
                .y_desc(&c.y.desc)
                .x_label_formatter(&xlabel)
                .y_label_formatter(&ylabel)
                .label_style((FONT, 16))
                .axis_desc_style((FONT, 18))
                .bold_line_style(BLACK.mix(0.12))
                .axis_style(BLACK.mix(0.6))
                .draw()?;
            $extra
            draw_series(&mut $chart, &c.series)?;
            $chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK.mix(0.4))
                .label_font((FONT, 17))
                .margin(12)
                .draw()?;
        }};
    }

    match &c.secondary {
        Some((axis, points)) => {
            // The secondary coordinates take over the right label area; set them up first.
            let yr2 = TickedRange { lo: axis.lo, hi: axis.hi, ticks: axis.ticks.clone() };
            let mut dual = chart.set_secondary_coord(xr, yr2);
            let ylabel2 = |v: &f64| (axis.label)(*v);
            let grey = RGBColor(150, 150, 150);
            finish!(dual, {
                dual.configure_secondary_axes()
                    .y_desc(&axis.desc)
                    .y_label_formatter(&ylabel2)
                    .label_style((FONT, 16))
                    .axis_desc_style((FONT, 18))
                    .axis_style(BLACK.mix(0.6))
                    .draw()?;
                dual.draw_secondary_series(
                    AreaSeries::new(points.iter().copied(), 0.0, grey.mix(0.22)).border_style(grey.mix(0.7)),
                )?
                .label("offered load (right axis)")
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 24, y + 6)], grey.mix(0.4).filled()));
            });
        }
        None => {
            let mut chart = chart;
            finish!(chart, {});
        }
    }
    root.present()?;
    Ok(())
}

/// Draws each policy's segments (legend entry on the first only) on a chart context.
fn draw_series<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error>>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate<From = (f64, f64)>,
{
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let style = color.stroke_width(3);
        let mut labelled = false;
        for seg in &s.segments {
            let ann = if seg.len() == 1 {
                chart.draw_series(std::iter::once(Circle::new(seg[0], 3, color.filled())))?
            } else {
                chart.draw_series(LineSeries::new(seg.iter().copied(), style))?
            };
            if !labelled {
                ann.label(s.name.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(4)));
                labelled = true;
            }
        }
        if !labelled {
            // No data at all: still list the policy in the legend.
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label(format!("{} (no data)", s.name))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], color.stroke_width(4)));
        }
    }
    Ok(())
}

/// `replicas.png`: ready replicas per policy, offered load on the right axis.
pub fn replicas(path: &Path, scenario: &Scenario, runs: &[RunResult]) -> Result<(), ReportError> {
    let firsts = first_replications(runs);
    let series = series_of(&firsts, |iv| iv.end_s, |iv| Some(iv.ready as f64));
    let y = linear_axis(max_value(&series).max(1.0), 1.0, "ready replicas");
    // Every policy sees the same arrivals; show the first policy's.
    let load: Vec<(f64, f64)> = firsts
        .first()
        .map(|r| {
            r.intervals
                .iter()
                .flat_map(|iv| [(iv.start_s, iv.offered_rps), (iv.end_s, iv.offered_rps)])
                .collect()
        })
        .unwrap_or_default();
    let load_max = load.iter().map(|p| p.1).fold(0.0, f64::max);
    let y2 = linear_axis(load_max, 0.0, "offered load (requests/s)");
    let chart = Chart {
        title: title(scenario, runs, "ready replicas and offered load"),
        y,
        series,
        secondary: Some((y2, load)),
        scenario,
        end_s: end_s(scenario, runs),
    };
    draw(path, &chart)
}

/// `failures.png`: failed requests per second per policy.
pub fn failures(path: &Path, scenario: &Scenario, runs: &[RunResult]) -> Result<(), ReportError> {
    let firsts = first_replications(runs);
    let series = series_of(
        &firsts,
        |iv| 0.5 * (iv.start_s + iv.end_s),
        |iv| {
            let len = iv.end_s - iv.start_s;
            (len > 0.0).then(|| iv.failed_total() as f64 / len)
        },
    );
    let y = linear_axis(max_value(&series), 0.0, "failed requests/s");
    let chart = Chart {
        title: title(scenario, runs, "failed requests"),
        y,
        series,
        secondary: None,
        scenario,
        end_s: end_s(scenario, runs),
    };
    draw(path, &chart)
}

/// `cost.png`: cumulative cost per policy.
pub fn cost(path: &Path, scenario: &Scenario, runs: &[RunResult]) -> Result<(), ReportError> {
    let firsts = first_replications(runs);
    let mut series = series_of(&firsts, |iv| iv.end_s, |iv| Some(iv.cost_cumulative));
    for s in &mut series {
        if let Some(seg) = s.segments.first_mut() {
            seg.insert(0, (0.0, 0.0));
        }
    }
    let desc = format!("cumulative cost ({})", scenario.cost.currency);
    let y = linear_axis(max_value(&series), 0.0, &desc);
    let chart = Chart {
        title: title(scenario, runs, "cumulative cost"),
        y,
        series,
        secondary: None,
        scenario,
        end_s: end_s(scenario, runs),
    };
    draw(path, &chart)
}

/// `latency_p99.png`: p99 latency per policy in milliseconds, log scale when the range is wide.
pub fn latency_p99(path: &Path, scenario: &Scenario, runs: &[RunResult]) -> Result<(), ReportError> {
    let firsts = first_replications(runs);
    let mut series =
        series_of(&firsts, |iv| 0.5 * (iv.start_s + iv.end_s), |iv| iv.latency_p99_s.map(|s| s * 1000.0));
    let positive: Vec<f64> =
        series.iter().flat_map(|s| s.segments.iter().flatten()).map(|p| p.1).filter(|v| *v > 0.0).collect();
    let min = positive.iter().copied().fold(f64::INFINITY, f64::min);
    let max = positive.iter().copied().fold(0.0, f64::max);
    let wide = !positive.is_empty() && max / min > 20.0;
    let y = if wide {
        for s in &mut series {
            for seg in &mut s.segments {
                seg.retain(|p| p.1 > 0.0);
                for p in seg.iter_mut() {
                    p.1 = p.1.log10();
                }
            }
            s.segments.retain(|seg| !seg.is_empty());
        }
        log_axis(min, max, "p99 latency (ms, log scale)")
    } else {
        linear_axis(max, 0.0, "p99 latency (ms)")
    };
    let chart = Chart {
        title: title(scenario, runs, "p99 latency of served requests"),
        y,
        series,
        secondary: None,
        scenario,
        end_s: end_s(scenario, runs),
    };
    draw(path, &chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        let (t, d) = nice_ticks(0.0, 13.5, 1.0);
        assert_eq!(t, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
        assert_eq!(d, 0);
        let (t, d) = nice_ticks(0.0, 0.9, 0.0);
        assert_eq!(t, vec![0.0, 0.2, 0.4, 0.6, 0.8]);
        assert_eq!(d, 1);
        // A small replica range still gets integer ticks.
        let (t, _) = nice_ticks(0.0, 2.7, 1.0);
        assert_eq!(t, vec![0.0, 1.0, 2.0]);
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands("1000".into()), "1000");
        assert_eq!(group_thousands("10000".into()), "10,000");
        assert_eq!(group_thousands("-1234567.25".into()), "-1,234,567.25");
    }

    #[test]
    fn time_ticks_follow_local_clock() {
        let (s, _) = crate::report::testdata::fixture(1);
        let (t, day) = time_ticks(&s, 7200.0);
        assert!(!day);
        assert_eq!(t.first(), Some(&0.0));
        assert_eq!(t[1] - t[0], 600.0);
        let (t, day) = time_ticks(&s, 3.0 * 86400.0);
        assert!(day);
        assert_eq!(t[1] - t[0], 43200.0);
    }
}
