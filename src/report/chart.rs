//! The chart renderer: a backend-independent description of a figure ([`Figure`]) drawn by one
//! function onto any plotters backend — a PNG bitmap for the files, SVG for `report.html`.
//!
//! Plotters draws the frame (title, axes, ticks, grid); the data is rasterised here, in pixel
//! space, into axis-aligned rectangles clipped to the plot area. That is what keeps every
//! series inside its plot and within its data: a thick polyline is a square brush swept along
//! the pixel columns it covers, so there are no miter joins to spike past a corner, and a value
//! is drawn within half a line width of where it belongs. Rectangles of equal extent in
//! neighbouring columns are merged, which keeps the SVG small.
//!
//! Colours come from [`PALETTE`] (ten colour-blind-safe colours) combined with [`DASHES`]; the
//! legend sits to the right of the plot, never on the data.

use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::OnceLock;

/// Font family name under which the embedded font is registered.
pub(crate) const FONT: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
/// Default figure size in pixels.
pub(crate) const SIZE: (u32, u32) = (1280, 720);
/// Width reserved right of the plot for the legend.
const LEGEND_W: u32 = 250;

/// Ten colour-blind-safe colours: Okabe–Ito without its yellow (too pale on white), then three
/// of Paul Tol's "muted" scheme that stay distinct from them under the common colour-vision
/// deficiencies. Series `i` uses `PALETTE[i % 10]` and `DASHES[(i / 10) % 3]`.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(51, 34, 136),   // indigo (Tol)
    RGBColor(136, 34, 85),   // wine (Tol)
    RGBColor(153, 153, 51),  // olive (Tol)
];

/// Dash patterns (pixels on, pixels off; `(0, 0)` is solid), cycled every ten series.
pub(crate) const DASHES: [Dash; 3] = [Dash(0, 0), Dash(14, 6), Dash(4, 4)];

/// Grey used for reference layers (offered load, warm-up shading).
pub(crate) const GREY: RGBColor = RGBColor(120, 120, 120);
/// Red of threshold lines (the SLO).
pub(crate) const THRESHOLD: RGBColor = RGBColor(200, 0, 0);

/// A dash pattern along the x axis: `on` columns drawn, `off` skipped; `Dash(0, 0)` is solid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dash(pub u32, pub u32);

/// Colour and dash of series `i`.
pub(crate) fn series_style(i: usize) -> (RGBColor, Dash) {
    (PALETTE[i % PALETTE.len()], DASHES[(i / PALETTE.len()) % DASHES.len()])
}

/// Registers the embedded font once; false if it could not be parsed.
pub(crate) fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok())
}

/// An axis: range, tick positions with their labels, and a description.
#[derive(Debug, Clone)]
pub(crate) struct Axis {
    /// Lowest value shown.
    pub lo: f64,
    /// Highest value shown.
    pub hi: f64,
    /// Tick positions and labels.
    pub ticks: Vec<(f64, String)>,
    /// Axis title.
    pub desc: String,
}

/// What a layer draws.
#[derive(Debug, Clone)]
pub(crate) enum Layer {
    /// A vertical span across the whole plot height (warm-up, highlighted windows).
    Shade { x0: f64, x1: f64, color: RGBAColor },
    /// Filled spans `(x0, x1, lo, hi)`.
    Band { spans: Vec<(f64, f64, f64, f64)>, color: RGBAColor },
    /// Polylines (one per defined stretch) of `width` pixels.
    Line { segments: Vec<Vec<(f64, f64)>>, color: RGBColor, width: u32, dash: Dash },
    /// A horizontal line across the plot at `y`.
    HLine { y: f64, color: RGBColor, width: u32, dash: Dash },
    /// Marks `(x0, x1)` as a strip of 5 px just under the top edge of the plot, in row `row`.
    Strip { spans: Vec<(f64, f64)>, row: u32, color: RGBColor },
}

/// A legend entry.
#[derive(Debug, Clone)]
pub(crate) struct LegendItem {
    /// Text.
    pub label: String,
    /// How its swatch looks.
    pub glyph: Glyph,
}

/// A legend swatch.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Glyph {
    /// A line of a colour and dash.
    Line(RGBColor, Dash),
    /// A filled box.
    Box(RGBAColor),
}

/// One plot area with its layers (drawn in order).
#[derive(Debug, Clone, Default)]
pub(crate) struct Panel {
    /// Caption over the panel (small multiples), if any.
    pub title: Option<String>,
    /// Layers, back to front.
    pub layers: Vec<Layer>,
}

/// A figure: a title, shared axes, one panel (overlay) or several (small multiples, sharing
/// both axes) and one legend.
#[derive(Debug, Clone)]
pub(crate) struct Figure {
    /// Title line.
    pub title: String,
    /// A second, smaller line under the title (overrides, notes), if any.
    pub subtitle: Option<String>,
    /// Time axis.
    pub x: Axis,
    /// Value axis.
    pub y: Axis,
    /// Panels.
    pub panels: Vec<Panel>,
    /// Legend entries.
    pub legend: Vec<LegendItem>,
    /// Size in pixels.
    pub size: (u32, u32),
    /// When there is nothing to plot: one line said in place of the axes.
    pub note: Option<String>,
}

/// A linear f64 axis with explicit ticks (plotters' own f64 axis cannot take custom labels):
/// the gridlines are drawn at exactly the tick values and [`tick_label`] labels each with its
/// own text.
#[derive(Clone)]
pub(crate) struct TickedRange {
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

impl TickedRange {
    /// The range and ticks of `axis` (every tick, or every `every`-th).
    pub(crate) fn of(axis: &Axis, every: usize) -> TickedRange {
        TickedRange {
            lo: axis.lo,
            hi: axis.hi,
            ticks: axis.ticks.iter().step_by(every.max(1)).map(|t| t.0).collect(),
        }
    }
}

/// A chart whose both axes carry explicit ticks.
pub(crate) type TickedChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<TickedRange, TickedRange>>;

/// Colour of the gridlines at the ticks.
pub(crate) fn grid_color() -> RGBAColor {
    BLACK.mix(0.12)
}

/// Draws the frame of `chart` (axes, gridlines at exactly the ticks of `x` and `y`, each
/// labelled with its text), in the style every chart shares.
pub(crate) fn draw_mesh<DB: DrawingBackend>(
    chart: &mut TickedChart<'_, DB>,
    x: &Axis,
    y: &Axis,
    (x_desc, y_desc): (&str, &str),
    (label_size, desc_size): (u32, u32),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let xlabel = |v: &f64| tick_label(x, *v);
    let ylabel = |v: &f64| tick_label(y, *v);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&xlabel)
        .y_label_formatter(&ylabel)
        .label_style((FONT, label_size))
        .axis_desc_style((FONT, desc_size))
        // Plotters centres a label's layout box (ascent and descent) on its tick, which puts
        // the digits' ink 0.22 em above the line: move it down by that much.
        .y_label_offset((label_size as f64 * 0.22).round() as i32)
        .bold_line_style(grid_color())
        .axis_style(BLACK.mix(0.6))
        .draw()?;
    Ok(())
}

/// The pixel geometry of `chart`, whose axes are `x` and `y`.
pub(crate) fn geom_of<DB: DrawingBackend>(chart: &TickedChart<'_, DB>, x: &Axis, y: &Axis) -> PlotGeom {
    let (pxr, pyr) = chart.plotting_area().get_pixel_range();
    let a = chart.backend_coord(&(x.lo, y.lo));
    let b = chart.backend_coord(&(x.hi, y.hi));
    PlotGeom {
        px: (a.0 as f64, b.0 as f64),
        py: (a.1 as f64, b.1 as f64),
        xr: (x.lo, x.hi),
        yr: (y.lo, y.hi),
        clip: (pxr.start, pyr.start, pxr.end - 1, pyr.end - 2),
    }
}

/// The label of the tick of `axis` at `v`.
pub(crate) fn tick_label(axis: &Axis, v: f64) -> String {
    axis.ticks
        .iter()
        .min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs()))
        .map(|t| t.1.clone())
        .unwrap_or_default()
}

/// Pixel geometry of one plot: float mapping from data to pixels and the clip rectangle
/// (inclusive pixel bounds).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlotGeom {
    /// Pixel x of `x.lo` and of `x.hi`.
    pub px: (f64, f64),
    /// Pixel y of `y.lo` and of `y.hi`.
    pub py: (f64, f64),
    /// Data ranges.
    pub xr: (f64, f64),
    /// Data ranges.
    pub yr: (f64, f64),
    /// Inclusive clip rectangle: x0, y0, x1, y1.
    pub clip: (i32, i32, i32, i32),
}

impl PlotGeom {
    /// Pixel x of data x.
    pub(crate) fn x(&self, x: f64) -> f64 {
        self.px.0 + (x - self.xr.0) / (self.xr.1 - self.xr.0) * (self.px.1 - self.px.0)
    }

    /// Pixel y of data y (clamped to a plot height beyond the axis).
    pub(crate) fn y(&self, y: f64) -> f64 {
        let f = (y - self.yr.0) / (self.yr.1 - self.yr.0);
        let f = if f.is_finite() { f.clamp(-1.0, 2.0) } else { 0.0 };
        self.py.0 + f * (self.py.1 - self.py.0)
    }
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws `fig` on `root` (which it fills white first). Returns the geometry of every panel.
pub(crate) fn draw_figure<DB>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
) -> Result<Vec<PlotGeom>, Box<dyn std::error::Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (w, h) = root.dim_in_pixel();
    // Title and subtitle.
    root.draw(&Text::new(fig.title.clone(), (20, 14), (FONT, 28).into_font().color(&BLACK)))?;
    let mut top = 54;
    if let Some(sub) = &fig.subtitle {
        root.draw(&Text::new(sub.clone(), (20, 48), (FONT, 17).into_font().color(&BLACK.mix(0.75))))?;
        top = 76;
    }
    if let Some(note) = &fig.note {
        let style =
            (FONT, 24).into_font().color(&BLACK.mix(0.7)).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Center,
            ));
        root.draw(&Text::new(note.clone(), (w as i32 / 2, h as i32 / 2), style))?;
        return Ok(Vec::new());
    }
    let body = root.margin(top, 10, 10, 10);
    let (plots_area, legend_area) = body.split_horizontally(w as i32 - 20 - LEGEND_W as i32);
    let n = fig.panels.len().max(1);
    let cols = match n {
        1 => 1,
        2..=4 => 2,
        5..=9 => 3,
        _ => 4,
    };
    let rows = n.div_ceil(cols);
    let small = n > 1;
    let areas = plots_area.split_evenly((rows, cols));
    let mut geoms = Vec::new();
    for (k, panel) in fig.panels.iter().enumerate() {
        let area = &areas[k];
        let first_col = k % cols == 0;
        let last_row = k / cols == rows - 1 || k + cols >= n;
        let g = draw_panel(area, fig, panel, small, first_col, last_row)?;
        geoms.push(g);
    }
    draw_legend(&legend_area, &fig.legend, h)?;
    Ok(geoms)
}

fn draw_panel<DB>(
    area: &DrawingArea<DB, Shift>,
    fig: &Figure,
    panel: &Panel,
    small: bool,
    first_col: bool,
    last_row: bool,
) -> Result<PlotGeom, Box<dyn std::error::Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let (label_size, desc_size) = if small { (13, 14) } else { (16, 18) };
    let mut builder = ChartBuilder::on(area);
    if let Some(t) = &panel.title {
        builder.caption(t, (FONT, 16));
    }
    builder
        .margin(if small { 6 } else { 10 })
        .margin_right(if small { 10 } else { 20 })
        .x_label_area_size(if small { if last_row { 44 } else { 22 } } else { 60 })
        .y_label_area_size(if small { if first_col { 76 } else { 52 } } else { 110 });
    // Small panels take every k-th time tick, so that labels do not run into each other.
    let every = if small { fig.x.ticks.len().div_ceil(6).max(1) } else { 1 };
    let mut chart = builder.build_cartesian_2d(TickedRange::of(&fig.x, every), TickedRange::of(&fig.y, 1))?;
    let x_desc = if !small || last_row { fig.x.desc.as_str() } else { "" };
    let y_desc = if !small || first_col { fig.y.desc.as_str() } else { "" };
    draw_mesh(&mut chart, &fig.x, &fig.y, (x_desc, y_desc), (label_size, desc_size))?;
    let geom = geom_of(&chart, &fig.x, &fig.y);
    // Data layers go on the root coordinates (absolute pixels).
    let root = area.clone().strip_coord_spec();
    let (ox, oy) = root.get_base_pixel();
    for layer in &panel.layers {
        draw_layer(&root, (ox, oy), &geom, layer)?;
    }
    Ok(geom)
}

/// Draws a rectangle given in absolute pixels (inclusive) on `area`, whose origin is at `o`.
fn rect<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    o: (i32, i32),
    (x0, y0, x1, y1): (i32, i32, i32, i32),
    color: RGBAColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if x1 < x0 || y1 < y0 {
        return Ok(());
    }
    // A filled rectangle covers [x0, x1) × [y0, y1) on both backends: pass the far corner + 1.
    area.draw(&Rectangle::new([(x0 - o.0, y0 - o.1), (x1 + 1 - o.0, y1 + 1 - o.1)], color.filled()))?;
    Ok(())
}

/// Per pixel column of the clip rectangle, the covered y span (inclusive), if any.
type Columns = Vec<Option<(i32, i32)>>;

fn union(a: Option<(i32, i32)>, b: (i32, i32)) -> Option<(i32, i32)> {
    Some(match a {
        Some((lo, hi)) => (lo.min(b.0), hi.max(b.1)),
        None => b,
    })
}

/// Emits `cols` as rectangles, merging runs of equal spans.
fn emit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    o: (i32, i32),
    g: &PlotGeom,
    cols: &Columns,
    color: RGBAColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut i = 0;
    while i < cols.len() {
        let Some(span) = cols[i] else {
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < cols.len() && cols[j] == Some(span) {
            j += 1;
        }
        let (y0, y1) = (span.0.max(g.clip.1), span.1.min(g.clip.3));
        rect(area, o, (g.clip.0 + i as i32, y0, g.clip.0 + j as i32 - 1, y1), color)?;
        i = j;
    }
    Ok(())
}

/// Rasterises polylines (pixel coordinates) into column spans, before thickening.
fn rasterise_lines(g: &PlotGeom, segments: &[Vec<(f64, f64)>]) -> Columns {
    let ncols = (g.clip.2 - g.clip.0 + 1).max(0) as usize;
    let mut cols: Columns = vec![None; ncols];
    let mut put = |c: i64, ya: f64, yb: f64| {
        let i = c - g.clip.0 as i64;
        if i < 0 || i >= ncols as i64 {
            return;
        }
        let (lo, hi) = (ya.min(yb).round() as i32, ya.max(yb).round() as i32);
        cols[i as usize] = union(cols[i as usize], (lo, hi));
    };
    for seg in segments {
        let pts: Vec<(f64, f64)> = seg.iter().map(|&(x, y)| (g.x(x), g.y(y))).collect();
        if pts.len() == 1 {
            put(pts[0].0.round() as i64, pts[0].1, pts[0].1);
        }
        for w in pts.windows(2) {
            let ((ax, ay), (bx, by)) = if w[0].0 <= w[1].0 { (w[0], w[1]) } else { (w[1], w[0]) };
            let (c0, c1) = (ax.round() as i64, bx.round() as i64);
            for c in c0..=c1 {
                let (sx0, sx1) = ((c as f64 - 0.5).max(ax), (c as f64 + 0.5).min(bx));
                let at =
                    |x: f64| if bx - ax < 1e-9 { None } else { Some(ay + (by - ay) * (x - ax) / (bx - ax)) };
                match (at(sx0), at(sx1)) {
                    (Some(y0), Some(y1)) => put(c, y0, y1),
                    _ => put(c, ay, by),
                }
            }
        }
    }
    cols
}

/// Keeps `on` columns in every `on + off`, counted from the left edge of the plot.
fn dash(cols: &mut Columns, d: Dash) {
    if d.0 == 0 {
        return;
    }
    let period = (d.0 + d.1) as usize;
    for (i, c) in cols.iter_mut().enumerate() {
        if i % period >= d.0 as usize {
            *c = None;
        }
    }
}

/// Thickens spans with a square brush of half-size `h` pixels.
fn thicken(cols: &Columns, h: i32) -> Columns {
    let n = cols.len() as i32;
    (0..n)
        .map(|i| {
            let mut acc = None;
            for k in (i - h).max(0)..=(i + h).min(n - 1) {
                if let Some((lo, hi)) = cols[k as usize] {
                    acc = union(acc, (lo - h, hi + h));
                }
            }
            acc
        })
        .collect()
}

fn draw_layer<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    o: (i32, i32),
    g: &PlotGeom,
    layer: &Layer,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let ncols = (g.clip.2 - g.clip.0 + 1).max(0) as usize;
    match layer {
        Layer::Shade { x0, x1, color } => {
            let (a, b) = (g.x(*x0).round() as i32, g.x(*x1).round() as i32);
            let (a, b) = (a.max(g.clip.0), b.min(g.clip.2));
            rect(area, o, (a, g.clip.1, b, g.clip.3), *color)?;
        }
        Layer::Band { spans, color } => {
            let mut cols: Columns = vec![None; ncols];
            for &(x0, x1, lo, hi) in spans {
                if !(lo.is_finite() && hi.is_finite()) || x1 < g.xr.0 || x0 > g.xr.1 {
                    continue;
                }
                let (a, b) = (g.x(x0).round() as i64, g.x(x1).round() as i64);
                let (ylo, yhi) = (g.y(lo).round() as i32, g.y(hi).round() as i32);
                let span = (ylo.min(yhi), ylo.max(yhi));
                // The pixel column at the end belongs to the next span, unless the span is thin.
                let b = if b > a { b - 1 } else { b };
                for c in a..=b {
                    let i = c - g.clip.0 as i64;
                    if i >= 0 && i < ncols as i64 {
                        cols[i as usize] = union(cols[i as usize], span);
                    }
                }
            }
            emit(area, o, g, &cols, *color)?;
        }
        Layer::Line { segments, color, width, dash: d } => {
            let mut cols = rasterise_lines(g, segments);
            dash(&mut cols, *d);
            let cols = thicken(&cols, (*width as i32 - 1) / 2);
            emit(area, o, g, &cols, color.to_rgba())?;
        }
        Layer::HLine { y, color, width, dash: d } => {
            let py = g.y(*y).round() as i32;
            if py < g.clip.1 || py > g.clip.3 {
                return Ok(());
            }
            let mut cols: Columns = vec![Some((py, py)); ncols];
            dash(&mut cols, *d);
            let h = (*width as i32 - 1) / 2;
            let cols: Columns = cols.into_iter().map(|c| c.map(|(a, b)| (a - h, b + h))).collect();
            emit(area, o, g, &cols, color.to_rgba())?;
        }
        Layer::Strip { spans, row, color } => {
            let y0 = g.clip.1 + 2 + *row as i32 * 7;
            let mut cols: Columns = vec![None; ncols];
            for &(x0, x1) in spans {
                let (a, b) = (g.x(x0).round() as i64, g.x(x1).round() as i64);
                for c in a..=b.max(a) {
                    let i = c - g.clip.0 as i64;
                    if i >= 0 && i < ncols as i64 {
                        cols[i as usize] = Some((y0, y0 + 4));
                    }
                }
            }
            emit(area, o, g, &cols, color.to_rgba())?;
        }
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, items: &[LegendItem], _h: u32) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let mut y = 20;
    for item in items {
        match item.glyph {
            Glyph::Line(c, d) => {
                let mut x = 10;
                while x < 40 {
                    let len = if d.0 == 0 { 30 } else { d.0 as i32 }.min(40 - x);
                    area.draw(&Rectangle::new([(x, y + 7), (x + len, y + 11)], c.filled()))?;
                    x += len + d.1 as i32;
                }
            }
            Glyph::Box(c) => {
                area.draw(&Rectangle::new([(10, y + 1), (40, y + 17)], c.filled()))?;
            }
        }
        let label: String = if item.label.chars().count() > 24 {
            item.label.chars().take(23).chain(std::iter::once('…')).collect()
        } else {
            item.label.clone()
        };
        area.draw(&Text::new(label, (48, y), (FONT, 16).into_font().color(&BLACK)))?;
        y += 26;
    }
    Ok(())
}

/// Renders `fig` to RGB pixels (3 bytes per pixel, row-major).
pub(crate) fn render_rgb(fig: &Figure) -> Result<(Vec<u8>, Vec<PlotGeom>), String> {
    if !font_ready() {
        return Err("embedded chart font could not be loaded".into());
    }
    let (w, h) = fig.size;
    let mut buf = vec![255u8; (w * h * 3) as usize];
    let geoms = {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let g = draw_figure(&root, fig).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
        g
    };
    Ok((buf, geoms))
}

/// Renders `fig` as a PNG file's bytes (deterministic encoding).
pub(crate) fn render_png(fig: &Figure) -> Result<Vec<u8>, String> {
    let (rgb, _) = render_rgb(fig)?;
    encode_png(&rgb, fig.size)
}

/// Encodes RGB pixels as PNG.
pub(crate) fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Default);
        let mut wr = enc.write_header().map_err(|e| e.to_string())?;
        wr.write_image_data(rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// Renders `fig` as an SVG document (for inlining in HTML).
pub(crate) fn render_svg(fig: &Figure) -> Result<String, String> {
    if !font_ready() {
        return Err("embedded chart font could not be loaded".into());
    }
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, fig.size).into_drawing_area();
        draw_figure(&root, fig).map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(s)
}

/// Pixel checks of drawn axes, shared by the tests of every chart.
#[cfg(test)]
pub(crate) mod pixels {
    use super::{Axis, PlotGeom};

    /// An RGB image.
    pub(crate) struct Image<'a> {
        /// Pixels, 3 bytes each, row-major.
        pub rgb: &'a [u8],
        /// Width in pixels.
        pub w: u32,
        /// Height in pixels.
        pub h: u32,
    }

    impl Image<'_> {
        fn px(&self, x: i32, y: i32) -> [u8; 3] {
            if x < 0 || y < 0 || x >= self.w as i32 || y >= self.h as i32 {
                return [255; 3];
            }
            let i = ((y as u32 * self.w + x as u32) * 3) as usize;
            [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
        }

        /// A pixel of a gridline (or of the axis line, where a tick sits on the axis).
        fn line(&self, x: i32, y: i32) -> bool {
            let [r, g, b] = self.px(x, y);
            r == g && g == b && [224u8, 102].iter().any(|c| r.abs_diff(*c) <= 2)
        }

        /// A pixel of text.
        fn ink(&self, x: i32, y: i32) -> bool {
            let [r, g, b] = self.px(x, y);
            r < 140 && g < 140 && b < 140
        }
    }

    /// Which way an axis runs.
    #[derive(Clone, Copy, PartialEq)]
    pub(crate) enum Dir {
        /// Horizontal axis: vertical gridlines, labels under the plot.
        X,
        /// Vertical axis: horizontal gridlines, labels left of the plot.
        Y,
    }

    /// For every tick of `axis` in the plot `g`: `stated(value, label)` is the value the label
    /// says (None fails the test); the gridline must be drawn within one pixel of where the
    /// value→pixel mapping puts that stated value, and — when `labels` — the label's ink must
    /// be centred on the gridline (within 1.5 pixels: a label's ink has a whole number of rows).
    pub(crate) fn check_ticks(
        img: &Image,
        g: &PlotGeom,
        axis: &Axis,
        dir: Dir,
        labels: bool,
        stated: &dyn Fn(f64, &str) -> Option<f64>,
    ) {
        assert!(!axis.ticks.is_empty(), "axis `{}` has no ticks", axis.desc);
        let (c0, r0, c1, r1) = g.clip;
        for (v, text) in &axis.ticks {
            let s = stated(*v, text).unwrap_or_else(|| panic!("tick label `{text}` at {v} states no value"));
            let want = if dir == Dir::Y { g.y(s) } else { g.x(s) };
            // The line nearest `want`: the position within 6 px with most gridline pixels.
            let (lo, hi) = if dir == Dir::Y { (r0 - 1, r1 + 2) } else { (c0 - 1, c1 + 1) };
            let mut best: Option<(i32, usize)> = None;
            for at in (want.round() as i32 - 6).max(lo)..=(want.round() as i32 + 6).min(hi) {
                let n = if dir == Dir::Y {
                    (c0..=c1).filter(|&x| img.line(x, at)).count()
                } else {
                    (r0..=r1).filter(|&y| img.line(at, y)).count()
                };
                if best.is_none_or(|b| n > b.1) {
                    best = Some((at, n));
                }
            }
            let length = if dir == Dir::Y { c1 - c0 + 1 } else { r1 - r0 + 1 } as usize;
            let (at, n) = best.unwrap_or((i32::MIN, 0));
            assert!(
                n * 5 >= length,
                "tick `{text}` ({} axis `{}`): no gridline within 6 px of {want:.1} (best {n} px of {length} at {at})",
                if dir == Dir::Y { "y" } else { "x" },
                axis.desc
            );
            assert!(
                (at as f64 - want).abs() <= 1.0,
                "tick `{text}` ({} axis `{}`): gridline at {at}, its value {s} belongs at {want:.1}",
                if dir == Dir::Y { "y" } else { "x" },
                axis.desc
            );
            if !labels {
                continue;
            }
            // The label's ink: a run of text rows (y) or columns (x) around the line.
            let centre = if dir == Dir::Y {
                let cols = (c0 - 60)..(c0 - 9);
                let rows: Vec<i32> =
                    ((at - 14)..=(at + 14)).filter(|&y| cols.clone().any(|x| img.ink(x, y))).collect();
                run_centre(&rows, at, 1)
            } else {
                let rows = (r1 + 8)..(r1 + 30);
                let cols: Vec<i32> =
                    ((at - 45)..=(at + 45)).filter(|&x| rows.clone().any(|y| img.ink(x, y))).collect();
                run_centre(&cols, at, 6)
            };
            let centre =
                centre.unwrap_or_else(|| panic!("tick `{text}`: no label ink by its gridline at {at}"));
            assert!(
                (centre - at as f64).abs() <= 1.5,
                "tick `{text}`: label centred at {centre:.1}, its gridline at {at}"
            );
        }
    }

    /// The centre of the run of positions (gaps up to `gap` px joined) nearest `at`.
    fn run_centre(pos: &[i32], at: i32, gap: i32) -> Option<f64> {
        let mut runs: Vec<(i32, i32)> = Vec::new();
        for &p in pos {
            match runs.last_mut() {
                Some(r) if p - r.1 <= gap + 1 => r.1 = p,
                _ => runs.push((p, p)),
            }
        }
        runs.into_iter()
            .map(|(a, b)| (a + b) as f64 / 2.0)
            .min_by(|a, b| (a - at as f64).abs().total_cmp(&(b - at as f64).abs()))
    }

    /// The value a plain number label states.
    pub(crate) fn number(_: f64, text: &str) -> Option<f64> {
        crate::report::ticks::parse_label(text)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn axis(lo: f64, hi: f64, desc: &str) -> Axis {
        let ticks =
            (0..=4).map(|k| lo + (hi - lo) * k as f64 / 4.0).map(|v| (v, format!("{v:.0}"))).collect();
        Axis { lo, hi, ticks, desc: desc.into() }
    }

    /// A zigzag step series between `lo` and `hi` every `dt` seconds from 0 to `end`.
    fn zigzag(lo: f64, hi: f64, dt: f64, end: f64) -> Vec<(f64, f64)> {
        let mut pts = Vec::new();
        let mut t = 0.0;
        let mut k = 0;
        while t < end {
            let v = if k % 2 == 0 { lo } else { hi };
            pts.push((t, v));
            pts.push((t + dt, v));
            t += dt;
            k += 1;
        }
        pts
    }

    fn is_colour(p: &[u8]) -> bool {
        let (r, g, b) = (p[0] as i32, p[1] as i32, p[2] as i32);
        (r - g).abs() > 12 || (g - b).abs() > 12 || (r - b).abs() > 12
    }

    /// Renders `fig` and checks: no coloured pixel outside the plot areas and the legend column;
    /// for each `(colour, data min, data max)`, the pixels of exactly that colour span the
    /// data's range to within two pixels (plus half the line width).
    fn check(fig: &Figure, lines: &[(RGBColor, f64, f64, u32)]) {
        let (rgb, geoms) = render_rgb(fig).unwrap();
        let (w, h) = fig.size;
        let legend_x0 = w as i32 - 10 - LEGEND_W as i32;
        let inside = |x: i32, y: i32| {
            geoms.iter().any(|g| x >= g.clip.0 && x <= g.clip.2 && y >= g.clip.1 && y <= g.clip.3)
        };
        for y in 0..h as i32 {
            for x in 0..legend_x0 {
                let p = &rgb[((y as u32 * w + x as u32) * 3) as usize..][..3];
                assert!(
                    inside(x, y) || !is_colour(p),
                    "coloured pixel {p:?} at ({x}, {y}) outside every plot"
                );
            }
        }
        let g = geoms[0];
        for &(c, lo, hi, width) in lines {
            let (mut top, mut bottom) = (i32::MAX, i32::MIN);
            for y in 0..h as i32 {
                for x in 0..legend_x0 {
                    let p = &rgb[((y as u32 * w + x as u32) * 3) as usize..][..3];
                    if p == [c.0, c.1, c.2] && inside(x, y) {
                        top = top.min(y);
                        bottom = bottom.max(y);
                    }
                }
            }
            let half = (width as i32 - 1) / 2;
            let want_top = g.y(hi.min(g.yr.1)).round() as i32 - half;
            let want_bottom = g.y(lo.max(g.yr.0)).round() as i32 + half;
            assert!((top - want_top.max(g.clip.1)).abs() <= 2, "{c:?}: top {top}, data max at {want_top}");
            assert!(
                (bottom - want_bottom.min(g.clip.3)).abs() <= 2,
                "{c:?}: bottom {bottom}, data min at {want_bottom}"
            );
        }
    }

    fn figure(panels: Vec<Panel>, x: Axis, y: Axis) -> Figure {
        Figure {
            title: "pixel test".into(),
            subtitle: Some("known data".into()),
            x,
            y,
            panels,
            legend: vec![LegendItem { label: "a".into(), glyph: Glyph::Line(PALETTE[0], DASHES[0]) }],
            size: SIZE,
            note: None,
        }
    }

    #[test]
    fn series_stay_in_the_plot_and_within_their_data() {
        // Sharp zigzags (the shape that gave miter spikes), a sloped line, a band, an SLO line,
        // data beyond the y axis (clipped) and before the x window (clipped).
        let a = zigzag(18.0, 20.0, 60.0, 7200.0);
        let b = zigzag(0.0, 100.0, 30.0, 7200.0);
        let slope = vec![(0.0, 10.0), (3600.0, 60.0), (7200.0, 30.0)];
        let over = vec![(0.0, 150.0), (7200.0, 150.0)];
        let layers = vec![
            Layer::Shade { x0: 0.0, x1: 600.0, color: GREY.mix(0.13) },
            Layer::Band {
                spans: vec![(0.0, 3600.0, 5.0, 15.0), (3600.0, 7200.0, 40.0, 300.0)],
                color: PALETTE[3].mix(0.3),
            },
            Layer::Line { segments: vec![a], color: PALETTE[0], width: 3, dash: DASHES[0] },
            Layer::Line { segments: vec![b], color: PALETTE[1], width: 3, dash: DASHES[1] },
            Layer::Line { segments: vec![slope], color: PALETTE[2], width: 3, dash: DASHES[0] },
            Layer::Line { segments: vec![over], color: PALETTE[4], width: 3, dash: DASHES[2] },
            Layer::HLine { y: 90.0, color: THRESHOLD, width: 2, dash: Dash(10, 6) },
            Layer::Strip { spans: vec![(0.0, 900.0)], row: 0, color: PALETTE[5] },
        ];
        let fig =
            figure(vec![Panel { title: None, layers }], axis(0.0, 7200.0, "time"), axis(0.0, 106.0, "value"));
        check(&fig, &[(PALETTE[0], 18.0, 20.0, 3), (PALETTE[1], 0.0, 100.0, 3), (PALETTE[2], 10.0, 60.0, 3)]);
        // Zoomed: the x window cuts every series at both ends.
        let mut zoom = fig.clone();
        zoom.x = axis(1000.0, 2000.0, "time");
        check(&zoom, &[(PALETTE[0], 18.0, 20.0, 3), (PALETTE[1], 0.0, 100.0, 3)]);
    }

    #[test]
    fn panels_stay_in_their_plots() {
        let panels: Vec<Panel> = (0..8)
            .map(|i| Panel {
                title: Some(format!("policy {i}")),
                layers: vec![
                    Layer::Band { spans: vec![(0.0, 7200.0, 2.0, 25.0)], color: PALETTE[i].mix(0.25) },
                    Layer::Line {
                        segments: vec![zigzag(1.0, 30.0, 45.0, 7200.0)],
                        color: PALETTE[i],
                        width: 3,
                        dash: DASHES[0],
                    },
                ],
            })
            .collect();
        let fig = figure(panels, axis(0.0, 7200.0, "time"), axis(0.0, 31.8, "replicas"));
        check(&fig, &[(PALETTE[0], 1.0, 30.0, 3)]);
    }

    #[test]
    fn rendering_is_deterministic_and_svg_has_the_same_layers() {
        let layers = vec![Layer::Line {
            segments: vec![zigzag(1.0, 3.0, 60.0, 3600.0)],
            color: PALETTE[0],
            width: 3,
            dash: DASHES[0],
        }];
        let fig = figure(vec![Panel { title: None, layers }], axis(0.0, 3600.0, "t"), axis(0.0, 4.0, "v"));
        assert_eq!(render_png(&fig).unwrap(), render_png(&fig).unwrap());
        let svg = render_svg(&fig).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..60.min(svg.len())]);
        assert!(svg.contains("pixel test"));
        assert!(svg.contains("#0072B2") || svg.to_lowercase().contains("#0072b2"));
    }

    /// Checks every tick of both axes of every panel of `fig` (y labels on the first panel, x
    /// labels on the last). The frame is drawn without the data layers, which would hide
    /// stretches of gridline; the data's own placement is checked by [`check`].
    pub(crate) fn check_figure_ticks(fig: &Figure, x_stated: &dyn Fn(f64, &str) -> Option<f64>) {
        use pixels::{Dir, Image, check_ticks, number};
        let mut frame = fig.clone();
        for p in &mut frame.panels {
            p.layers.clear();
        }
        let (rgb, geoms) = render_rgb(&frame).unwrap();
        let img = Image { rgb: &rgb, w: fig.size.0, h: fig.size.1 };
        assert!(!geoms.is_empty());
        let every = if geoms.len() > 1 { fig.x.ticks.len().div_ceil(6).max(1) } else { 1 };
        let x = Axis { ticks: fig.x.ticks.iter().step_by(every).cloned().collect(), ..fig.x.clone() };
        for (k, g) in geoms.iter().enumerate() {
            check_ticks(&img, g, &fig.y, Dir::Y, k == 0, &number);
            check_ticks(&img, g, &x, Dir::X, k + 1 == geoms.len(), x_stated);
        }
    }

    #[test]
    fn tick_labels_sit_on_their_gridlines() {
        let layers = vec![Layer::Line {
            segments: vec![zigzag(1.0, 17.0, 300.0, 7200.0)],
            color: PALETTE[0],
            width: 3,
            dash: DASHES[0],
        }];
        let y = crate::report::ticks::axis(0.0, 18.4, true, 9, "replicas");
        let x = crate::report::ticks::axis(0.0, 7200.0, false, 9, "seconds");
        let fig = figure(vec![Panel { title: None, layers: layers.clone() }], x.clone(), y.clone());
        check_figure_ticks(&fig, &pixels::number);
        let panels = (0..5).map(|_| Panel { title: Some("p".into()), layers: layers.clone() }).collect();
        check_figure_ticks(&figure(panels, x.clone(), y.clone()), &pixels::number);
    }

    #[test]
    fn the_tick_check_fails_on_rounded_labels() {
        // The old compare.png: ticks at multiples of 19/8 = 2.375 labelled with the rounded
        // value ("2", "5", "7", …): each label is off its gridline by up to half a replica.
        let ticks = (0..=8).map(|k| 19.0 * k as f64 / 8.0).map(|v| (v, format!("{}", v.round()))).collect();
        let y = Axis { lo: 0.0, hi: 19.0, ticks, desc: "ready replicas".into() };
        let x = crate::report::ticks::axis(0.0, 7200.0, false, 9, "seconds");
        let fig = figure(vec![Panel::default()], x, y);
        let failed = std::panic::catch_unwind(|| check_figure_ticks(&fig, &pixels::number));
        assert!(failed.is_err(), "rounded labels must fail the check");
        // Labels at their values but gridlines drawn elsewhere fail too.
        let mut shifted = figure(
            vec![Panel::default()],
            fig.x.clone(),
            crate::report::ticks::axis(0.0, 19.0, true, 9, "r"),
        );
        shifted.y.ticks = shifted.y.ticks.iter().map(|(v, l)| (v + 0.3, l.clone())).collect();
        assert!(std::panic::catch_unwind(|| check_figure_ticks(&shifted, &pixels::number)).is_err());
    }

    #[test]
    fn a_note_replaces_an_empty_chart() {
        let mut fig = figure(vec![], axis(0.0, 1.0, "t"), axis(0.0, 1.0, "v"));
        fig.note = Some("Nothing failed.".into());
        let (rgb, geoms) = render_rgb(&fig).unwrap();
        assert!(geoms.is_empty());
        assert!(rgb.iter().any(|&b| b < 128), "the note is drawn");
    }
}
