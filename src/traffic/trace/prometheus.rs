//! Monitoring exports turned into a [`RateSeries`]: the JSON of Prometheus'
//! `/api/v1/query_range` ([`parse_prometheus`]) and a Grafana panel's CSV download
//! ([`parse_grafana_csv`]).
//!
//! Both are one or more series of values on a time grid. The step is the smallest gap between
//! timestamps, and every point must sit on the grid that the first timestamp starts (Prometheus
//! evaluates a range query at `start + k·step`). A point's value covers the step that *ends* at
//! its timestamp — `rate(x[1m])` and `increase(x[1m])` look back from the evaluation time — so
//! time 0 of the trace is the first timestamp minus one step. The selected series are summed.
//! Inside a series (from its first to its last point) a `NaN` value, an empty CSV cell or an
//! absent point (a scrape gap) is *missing*: an error naming the series and the time, or filled
//! with 0 or the series' last value ([`Missing`]). Outside that range a series adds 0 (a pod that
//! did not exist yet, or no longer).

use super::{TraceError, csv_error, err, lf, quote_list, series_limit_message, series_past_limit};
use crate::traffic::shape::RateSeries;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;

/// What the values of a series mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Values {
    /// Requests per second (`rate(...)`).
    #[default]
    Rate,
    /// Requests per step (`increase(...)` with a range equal to the step).
    Count,
}

/// What a missing point inside a series becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// An error naming the series and the time.
    #[default]
    Error,
    /// Zero.
    Zero,
    /// The series' last value (0 before its first value).
    Hold,
}

/// How a monitoring export is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GridOptions {
    /// What a value means.
    pub values: Values,
    /// What a missing point becomes.
    pub missing: Missing,
}

/// Most points of one time grid: a year at a 3 s step.
pub const MAX_GRID_POINTS: i64 = 10_000_000;

/// A monitoring export as a rate series.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricTrace {
    /// Requests per second per step; interval `k` is the step ending at the `k`-th grid time.
    pub series: RateSeries,
    /// Unix milliseconds of trace time 0 (the first timestamp minus one step).
    pub start_ms: i64,
    /// The step, milliseconds.
    pub step_ms: i64,
    /// How many series were summed.
    pub summed: usize,
    /// Missing points that were filled (`missing = "zero"` or `"hold"`).
    pub filled: u64,
}

/// A value as read.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Val {
    Num(f64),
    /// `NaN` (Prometheus), `NaN` or `null` (CSV).
    Nan,
    /// An empty CSV cell: missing inside the series, nothing outside it.
    Empty,
}

/// Where a point was read.
#[derive(Debug, Clone, Copy)]
enum Loc {
    Json { series: usize, index: usize },
    Csv { line: u64 },
}

#[derive(Debug)]
struct Point {
    ms: i64,
    val: Val,
    loc: Loc,
}

#[derive(Debug)]
struct Series {
    /// For messages: `{pod="web-a"}` or a CSV column name.
    name: String,
    /// CSV: 0-based column index and header name.
    column: Option<(usize, String)>,
    /// Strictly increasing times.
    points: Vec<Point>,
}

/// RFC 3339 (UTC) for messages.
pub fn format_ms(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(d) => d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        None => format!("{ms} ms"),
    }
}

fn format_step(ms: i64) -> String {
    humantime::format_duration(std::time::Duration::from_millis(ms.max(0) as u64)).to_string()
}

const MISSING_HINT: &str = "set missing = \"zero\" or \"hold\" to fill missing points";

fn at(s: &Series, p: &Point, message: String) -> TraceError {
    match p.loc {
        Loc::Json { series, index } => TraceError {
            line: 0,
            column: None,
            message: format!(
                "data.result[{series}].values[{index}] (series {}, time {}): {message}",
                s.name,
                format_ms(p.ms)
            ),
        },
        Loc::Csv { line } => {
            TraceError { line, column: s.column.as_ref().map(|(c, n)| (c + 1, n.clone())), message }
        }
    }
}

fn loc_text(l: Loc) -> String {
    match l {
        Loc::Json { series, index } => format!("data.result[{series}].values[{index}]"),
        Loc::Csv { line } => format!("line {line}"),
    }
}

/// The common time grid of some series: the first timestamp, the step (the smallest gap between
/// timestamps) and the number of grid points.
#[derive(Debug, Clone, Copy)]
struct Grid {
    t0: i64,
    step: i64,
    n: usize,
}

impl Grid {
    /// The index of the grid point at `ms` (on the grid).
    fn index(&self, ms: i64) -> usize {
        ((ms - self.t0) / self.step) as usize
    }
}

/// Sums `series` on their common grid into a rate series.
fn build_grid(series: &[Series], opts: GridOptions) -> Result<MetricTrace, TraceError> {
    let grid = common_grid(series)?;
    let Grid { t0, step, n } = grid;
    let mut totals = vec![0.0f64; n];
    let mut filled = 0u64;
    for s in series {
        add_series(s, grid, opts, &mut totals, &mut filled)?;
    }
    let step_s = step as f64 / 1000.0;
    let rates = match opts.values {
        Values::Rate => totals,
        Values::Count => totals.into_iter().map(|c| c / step_s).collect(),
    };
    let starts = (0..n).map(|k| k as f64 * step_s).collect();
    let grid_series = RateSeries { starts, rates, end: n as f64 * step_s };
    if let Some((g, total)) = series_past_limit(&grid_series) {
        return Err(past_limit_error(series, grid, g, total));
    }
    Ok(MetricTrace { series: grid_series, start_ms: t0 - step, step_ms: step, summed: series.len(), filled })
}

/// The grid every timestamp of `series` sits on: at least two distinct timestamps, each at
/// `t0 + k·step`, and at most [`MAX_GRID_POINTS`] steps from the first to the last.
fn common_grid(series: &[Series]) -> Result<Grid, TraceError> {
    let mut times: Vec<i64> = series.iter().flat_map(|s| s.points.iter().map(|p| p.ms)).collect();
    times.sort_unstable();
    times.dedup();
    if times.len() < 2 {
        let message = format!(
            "found {} distinct timestamp(s), expected at least 2 (the step is the gap between them)",
            times.len()
        );
        return Err(TraceError { line: 0, column: None, message });
    }
    let t0 = times[0];
    let step = times.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(1).max(1);
    for &t in &times {
        if (t - t0) % step != 0 {
            let (s, p) = series
                .iter()
                .find_map(|s| s.points.iter().find(|p| p.ms == t).map(|p| (s, p)))
                .expect("the time came from a point");
            return Err(at(
                s,
                p,
                format!(
                    "found the time {}, which is off the grid of the first timestamp {} and the step {} \
                     (the smallest gap between timestamps); expected every timestamp at {} + k·{}",
                    format_ms(t),
                    format_ms(t0),
                    format_step(step),
                    format_ms(t0),
                    format_step(step)
                ),
            ));
        }
    }
    let last = *times.last().expect("two or more");
    let n = (last - t0) / step + 1;
    if n > MAX_GRID_POINTS {
        return Err(TraceError {
            line: 0,
            column: None,
            message: format!(
                "found {n} steps of {} from {} to {}, expected at most {MAX_GRID_POINTS}",
                format_step(step),
                format_ms(t0),
                format_ms(last)
            ),
        });
    }
    Ok(Grid { t0, step, n: n as usize })
}

/// Adds one series to `totals`, from its first to its last present point: its values, and its
/// missing points (absent, `NaN` or empty) as `opts.missing` says, counted in `filled`.
fn add_series(
    s: &Series,
    grid: Grid,
    opts: GridOptions,
    totals: &mut [f64],
    filled: &mut u64,
) -> Result<(), TraceError> {
    let present = |p: &&Point| p.val != Val::Empty;
    let (Some(a), Some(b)) =
        (s.points.iter().position(|p| present(&p)), s.points.iter().rposition(|p| present(&p)))
    else {
        return Ok(());
    };
    let mut held = 0.0;
    let mut expect = grid.index(s.points[a].ms);
    for j in a..=b {
        let p = &s.points[j];
        let g = grid.index(p.ms);
        if g > expect {
            match opts.missing {
                Missing::Error => return Err(gap_error(s, j, grid, expect)),
                Missing::Zero => {}
                Missing::Hold => {
                    for t in &mut totals[expect..g] {
                        *t += held;
                    }
                }
            }
            *filled += (g - expect) as u64;
        }
        match p.val {
            Val::Num(v) => {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(bad_value_error(s, p, v, opts.values));
                }
                totals[g] += v;
                held = v;
            }
            Val::Nan | Val::Empty => {
                match opts.missing {
                    Missing::Error => {
                        let found = if p.val == Val::Nan { "NaN" } else { "an empty value" };
                        return Err(at(s, p, format!("found {found}, expected a number; {MISSING_HINT}")));
                    }
                    Missing::Zero => {}
                    Missing::Hold => totals[g] += held,
                }
                *filled += 1;
            }
        }
        expect = g + 1;
    }
    Ok(())
}

/// The error for a series with no point at grid index `expect`, the gap before its point `j`.
fn gap_error(s: &Series, j: usize, grid: Grid, expect: usize) -> TraceError {
    let (p, prev) = (&s.points[j], &s.points[j - 1]);
    let missing_at = grid.t0 + expect as i64 * grid.step;
    let message = match p.loc {
        Loc::Json { .. } => format!(
            "series {} has no point at {} (between {} and {}); expected one every {}; {MISSING_HINT}",
            s.name,
            format_ms(missing_at),
            loc_text(prev.loc),
            loc_text(p.loc),
            format_step(grid.step)
        ),
        Loc::Csv { .. } => format!(
            "no row at {} (between {} and this line); expected one every {}; {MISSING_HINT}",
            format_ms(missing_at),
            loc_text(prev.loc),
            format_step(grid.step)
        ),
    };
    let line = match p.loc {
        Loc::Csv { line } => line,
        Loc::Json { .. } => 0,
    };
    TraceError { line, column: None, message }
}

/// The error for a value `v` at `p` that is not a finite non-negative number.
fn bad_value_error(s: &Series, p: &Point, v: f64, values: Values) -> TraceError {
    let shown = if v == f64::INFINITY {
        "+Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        v.to_string()
    };
    let what = match values {
        Values::Rate => "a non-negative rate per second",
        Values::Count => "a non-negative count per step",
    };
    at(s, p, format!("found {shown}, expected {what}"))
}

/// The error for a sum past the series limit at grid index `g`: it names the largest value read
/// at that step (a held value has no point of its own).
fn past_limit_error(series: &[Series], grid: Grid, g: usize, total: f64) -> TraceError {
    let ms = grid.t0 + g as i64 * grid.step;
    let biggest = series
        .iter()
        .filter_map(|s| s.points.iter().find(|p| p.ms == ms).map(|p| (s, p)))
        .filter_map(|(s, p)| match p.val {
            Val::Num(v) => Some((s, p, v)),
            _ => None,
        })
        .max_by(|a, b| a.2.total_cmp(&b.2));
    match biggest {
        Some((s, p, v)) => at(s, p, series_limit_message(&crate::time::fmt_big(v), total)),
        None => whole(series_limit_message(&format!("the held values at {}", format_ms(ms)), total)),
    }
}

// ---- Prometheus --------------------------------------------------------------------------

#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    status: Option<String>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    data: Option<HeadData>,
    /// A saved `data` object (`jq .data`) has these at the top.
    #[serde(default, rename = "resultType")]
    result_type: Option<String>,
}

#[derive(Deserialize)]
struct HeadData {
    #[serde(rename = "resultType")]
    result_type: String,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    data: Option<BodyData>,
    #[serde(default)]
    result: Option<Vec<PromSeries>>,
}

#[derive(Deserialize)]
struct BodyData {
    result: Vec<PromSeries>,
}

#[derive(Deserialize)]
struct PromSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Option<Vec<(f64, String)>>,
    #[serde(default)]
    histograms: Option<IgnoredAny>,
}

fn json_error(e: &serde_json::Error) -> TraceError {
    let text = e.to_string();
    let bare = text.split(" at line ").next().unwrap_or(&text);
    TraceError {
        line: e.line() as u64,
        column: None,
        message: format!(
            "cannot read the JSON at column {}: {bare}; expected the response of Prometheus' /api/v1/query_range",
            e.column()
        ),
    }
}

/// `name{k="v", …}` as Prometheus writes a series.
fn series_name(metric: &BTreeMap<String, String>) -> String {
    let name = metric.get("__name__").map_or("", String::as_str);
    let labels: Vec<String> =
        metric.iter().filter(|(k, _)| *k != "__name__").map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", labels.join(", "))
}

fn whole(msg: String) -> TraceError {
    TraceError { line: 0, column: None, message: msg }
}

/// The shape of a `/api/v1/query_range` response, for messages.
const QUERY_RANGE_SHAPE: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[…]}}"#;

/// Parses the JSON of `/api/v1/query_range`, keeping the series whose labels include every
/// pair of `select` (all series when it is empty), summed.
pub fn parse_prometheus(
    text: &str,
    select: &BTreeMap<String, String>,
    opts: GridOptions,
) -> Result<MetricTrace, TraceError> {
    if text.trim().is_empty() {
        return Err(err(
            1,
            None,
            "the file is empty, expected the JSON response of /api/v1/query_range".into(),
        ));
    }
    let head: Head = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    let result_type = match (&head.status, &head.data, &head.result_type) {
        (Some(s), _, _) if s != "success" => {
            return Err(whole(format!(
                "found status \"{s}\" ({}: {}), expected \"success\": the query failed",
                head.error_type.as_deref().unwrap_or("no errorType"),
                head.error.as_deref().unwrap_or("no error message")
            )));
        }
        (_, Some(d), _) => d.result_type.clone(),
        (None, None, Some(t)) => t.clone(),
        _ => {
            return Err(whole(format!(
                "found JSON without `data.resultType`, expected the response of /api/v1/query_range \
                 ({QUERY_RANGE_SHAPE})"
            )));
        }
    };
    if result_type != "matrix" {
        let hint = if result_type == "vector" {
            " (an instant query: use /api/v1/query_range with start, end and step)"
        } else {
            ""
        };
        return Err(whole(format!("found resultType \"{result_type}\"{hint}, expected \"matrix\"")));
    }
    let body: Body = serde_json::from_str(text).map_err(|e| json_error(&e))?;
    let all = body.data.map(|d| d.result).or(body.result).unwrap_or_default();
    if all.is_empty() {
        return Err(whole(
            "found an empty result (the query matched no series), expected one or more series".into(),
        ));
    }
    let mut series = Vec::new();
    let mut names = Vec::new();
    for (i, s) in all.into_iter().enumerate() {
        let name = series_name(&s.metric);
        let keep = select.iter().all(|(k, v)| s.metric.get(k) == Some(v));
        names.push(name.clone());
        if !keep {
            continue;
        }
        let Some(values) = s.values else {
            let what = if s.histograms.is_some() { "native histograms" } else { "no `values`" };
            return Err(whole(format!(
                "data.result[{i}] (series {name}) has {what}, expected `values`: [time, \"value\"] pairs"
            )));
        };
        let mut points = Vec::with_capacity(values.len());
        for (j, (t, v)) in values.into_iter().enumerate() {
            let loc = Loc::Json { series: i, index: j };
            if !(t.is_finite() && (0.0..1e11).contains(&t)) {
                return Err(whole(format!(
                    "data.result[{i}].values[{j}] (series {name}): found the time {t}, expected Unix seconds"
                )));
            }
            let ms = (t * 1000.0).round() as i64;
            let val = match v.as_str() {
                "NaN" => Val::Nan,
                "+Inf" | "Inf" => Val::Num(f64::INFINITY),
                "-Inf" => Val::Num(f64::NEG_INFINITY),
                _ => match v.parse::<f64>() {
                    Ok(x) if x.is_nan() => Val::Nan,
                    Ok(x) => Val::Num(x),
                    Err(_) => {
                        return Err(whole(format!(
                            "data.result[{i}].values[{j}] (series {name}, time {}): found \"{v}\", expected a number in a string",
                            format_ms(ms)
                        )));
                    }
                },
            };
            if let Some(prev) = points.last().map(|p: &Point| p.ms)
                && ms <= prev
            {
                return Err(whole(format!(
                    "data.result[{i}].values[{j}] (series {name}): found the time {}, which is not after the previous point's {}; expected increasing times",
                    format_ms(ms),
                    format_ms(prev)
                )));
            }
            points.push(Point { ms, val, loc });
        }
        series.push(Series { name, column: None, points });
    }
    if series.is_empty() {
        let wanted: Vec<String> = select.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let shown: Vec<&str> = names.iter().take(8).map(String::as_str).collect();
        return Err(whole(format!(
            "no series has {}; found {} series: {}{}",
            wanted.join(", "),
            names.len(),
            shown.join(", "),
            if names.len() > shown.len() { ", …" } else { "" }
        )));
    }
    build_grid(&series, opts)
}

// ---- Grafana CSV ---------------------------------------------------------------------------

/// The delimiter of a CSV header line: the most frequent of `,` `;` and tab outside quotes
/// (Grafana uses the browser locale's list separator), `,` when none.
fn sniff_delimiter(header: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    if counts[best] == 0 { b',' } else { [b',', b';', b'\t'][best] }
}

/// A Grafana time cell in Unix milliseconds: epoch milliseconds (Grafana's unformatted export;
/// a number below 10^11 is read as seconds), RFC 3339, or `YYYY-MM-DD HH:MM:SS[.fff]` (the
/// formatted export, in the dashboard's time zone, read as UTC: only differences matter).
fn grafana_time(s: &str) -> Option<i64> {
    // 1970 to the year 5138, like Prometheus' timestamps: differences then never overflow.
    grafana_time_any(s).filter(|ms| (0..=100_000_000_000_000).contains(ms))
}

fn grafana_time_any(s: &str) -> Option<i64> {
    if let Ok(x) = s.parse::<f64>() {
        if !x.is_finite() {
            return None;
        }
        return Some(if x.abs() >= 1e11 { x.round() as i64 } else { (x * 1000.0).round() as i64 });
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.timestamp_millis());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d.and_utc().timestamp_millis());
        }
    }
    None
}

/// Parses a Grafana panel CSV ("Inspect → Data → Download CSV", series joined by time): the
/// `time_column` and the `columns` to sum (all others when empty). A `sep=` first line (the
/// Excel option) and a byte-order mark are accepted.
pub fn parse_grafana_csv(
    text: &str,
    time_column: &str,
    columns: &[String],
    opts: GridOptions,
) -> Result<MetricTrace, TraceError> {
    let text = lf(text.strip_prefix('\u{feff}').unwrap_or(text));
    let text = text.as_ref();
    let first = text.lines().next().unwrap_or("");
    let (body, offset, delim) = match first.trim().strip_prefix("sep=") {
        Some(d) if d.len() == 1 => (text.split_once('\n').map_or("", |(_, rest)| rest), 1, d.as_bytes()[0]),
        _ => (text, 0, sniff_delimiter(first)),
    };
    let shift = |mut e: TraceError| {
        if e.line > 0 {
            e.line += offset;
        }
        e
    };
    if body.trim().is_empty() {
        return Err(err(
            1 + offset,
            None,
            format!(
                "the file is empty, expected a header line with the column `{time_column}` and one or more series"
            ),
        ));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(delim)
        .trim(csv::Trim::All)
        .from_reader(body.as_bytes());
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => return Err(shift(csv_error(&e))),
    };
    let found = || quote_list(&headers.iter().map(String::as_str).collect::<Vec<_>>());
    let Some(ti) = headers.iter().position(|h| h == time_column) else {
        return Err(err(
            1 + offset,
            None,
            format!("no column `{time_column}` in the header; found {}", found()),
        ));
    };
    let picked = pick_columns(&headers, ti, time_column, columns, offset)?;
    let mut series: Vec<Series> = picked
        .iter()
        .map(|&i| Series {
            name: format!("`{}`", headers[i]),
            column: Some((i, headers[i].clone())),
            points: Vec::new(),
        })
        .collect();
    let mut prev: Option<(i64, u64)> = None;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| shift(csv_error(&e)))?;
        let line = rec.position().map_or(0, |p| p.line()) + offset;
        let cell = &rec[ti];
        let Some(ms) = grafana_time(cell) else {
            let hint = if cell == time_column {
                "; this looks like a second table: download with \"Series joined by time\""
            } else {
                ""
            };
            return Err(err(
                line,
                Some((ti, &headers[ti])),
                format!(
                    "found `{cell}`, expected a time (epoch milliseconds, RFC 3339 or YYYY-MM-DD HH:MM:SS){hint}"
                ),
            ));
        };
        if let Some((p, pl)) = prev
            && ms <= p
        {
            return Err(err(
                line,
                Some((ti, &headers[ti])),
                format!(
                    "found `{cell}`, which is not after the previous row (line {pl}); expected increasing times"
                ),
            ));
        }
        prev = Some((ms, line));
        for (s, &ci) in series.iter_mut().zip(&picked) {
            let v = &rec[ci];
            let val = csv_val(v, line, ci, &headers[ci])?;
            s.points.push(Point { ms, val, loc: Loc::Csv { line } });
        }
    }
    if prev.is_none() {
        return Err(err(1 + offset, None, "found a header but no data rows, expected at least two".into()));
    }
    build_grid(&series, opts)
}

/// The series columns to sum: the `columns` named, or every column but the time column `ti`;
/// at least one.
fn pick_columns(
    headers: &[String],
    ti: usize,
    time_column: &str,
    columns: &[String],
    offset: u64,
) -> Result<Vec<usize>, TraceError> {
    let found = || quote_list(&headers.iter().map(String::as_str).collect::<Vec<_>>());
    let picked: Vec<usize> = if columns.is_empty() {
        (0..headers.len()).filter(|&i| i != ti).collect()
    } else {
        let mut v = Vec::new();
        for c in columns {
            match headers.iter().position(|h| h == c) {
                Some(i) if i != ti => v.push(i),
                _ => {
                    return Err(err(
                        1 + offset,
                        None,
                        format!("no series column `{c}` in the header; found {}", found()),
                    ));
                }
            }
        }
        v
    };
    if picked.is_empty() {
        return Err(err(
            1 + offset,
            None,
            format!("found only the time column `{time_column}`, expected one or more series columns"),
        ));
    }
    Ok(picked)
}

/// A Grafana value cell `v` (column `ci`, named `header`, at `line`): empty, `NaN`/`null`, or a
/// number without units.
fn csv_val(v: &str, line: u64, ci: usize, header: &str) -> Result<Val, TraceError> {
    let val = if v.is_empty() {
        Val::Empty
    } else if v.eq_ignore_ascii_case("nan") || v == "null" {
        Val::Nan
    } else {
        match v.parse::<f64>() {
            Ok(x) if x.is_nan() => Val::Nan,
            Ok(x) => Val::Num(x),
            Err(_) => {
                return Err(err(
                    line,
                    Some((ci, header)),
                    format!(
                        "found `{v}`, expected a number (download the CSV with \"Formatted data\" off, so values carry no units)"
                    ),
                ));
            }
        }
    };
    Ok(val)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prom(series: &[(&str, &[(f64, &str)])]) -> String {
        let parts: Vec<String> = series
            .iter()
            .map(|(labels, vals)| {
                let v: Vec<String> = vals.iter().map(|(t, x)| format!("[{t},\"{x}\"]")).collect();
                format!("{{\"metric\":{{{labels}}},\"values\":[{}]}}", v.join(","))
            })
            .collect();
        format!(
            "{{\"status\":\"success\",\"data\":{{\"resultType\":\"matrix\",\"result\":[{}]}}}}",
            parts.join(",")
        )
    }

    const T: f64 = 1732960800.0;

    #[test]
    fn sums_series_on_their_grid() {
        let text = prom(&[
            ("\"pod\":\"a\"", &[(T, "1"), (T + 15.0, "2"), (T + 30.0, "3")]),
            // Starts later (a pod created mid-way): adds 0 before its first point.
            ("\"pod\":\"b\"", &[(T + 15.0, "10"), (T + 30.0, "10.5")]),
        ]);
        let m = parse_prometheus(&text, &BTreeMap::new(), GridOptions::default()).unwrap();
        assert_eq!(m.step_ms, 15_000);
        assert_eq!(m.start_ms, (T as i64 - 15) * 1000);
        assert_eq!(m.series.starts, vec![0.0, 15.0, 30.0]);
        assert_eq!(m.series.rates, vec![1.0, 12.0, 13.5]);
        assert_eq!(m.series.end, 45.0);
        assert_eq!((m.summed, m.filled), (2, 0));
        let sel = BTreeMap::from([("pod".to_string(), "b".to_string())]);
        // The grid is the selected series' own: time 0 is one step before its first point.
        let m = parse_prometheus(&text, &sel, GridOptions::default()).unwrap();
        assert_eq!(m.series.rates, vec![10.0, 10.5]);
        assert_eq!(m.start_ms, T as i64 * 1000);
        let counts = GridOptions { values: Values::Count, ..Default::default() };
        let m = parse_prometheus(&text, &sel, counts).unwrap();
        assert_eq!(m.series.rates, vec![10.0 / 15.0, 10.5 / 15.0]);
    }

    #[test]
    fn missing_points_error_or_fill() {
        // A NaN and a gap (no point at T+30) inside the series.
        let text = prom(&[("\"pod\":\"a\"", &[(T, "4"), (T + 15.0, "NaN"), (T + 45.0, "6")])]);
        let e = parse_prometheus(&text, &BTreeMap::new(), GridOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "data.result[0].values[1] (series {pod=\"a\"}, time 2024-11-30T10:00:15Z): found NaN, \
             expected a number; set missing = \"zero\" or \"hold\" to fill missing points"
        );
        let zero = GridOptions { missing: Missing::Zero, ..Default::default() };
        let m = parse_prometheus(&text, &BTreeMap::new(), zero).unwrap();
        assert_eq!(m.series.rates, vec![4.0, 0.0, 0.0, 6.0]);
        assert_eq!(m.filled, 2);
        let hold = GridOptions { missing: Missing::Hold, ..Default::default() };
        let m = parse_prometheus(&text, &BTreeMap::new(), hold).unwrap();
        assert_eq!(m.series.rates, vec![4.0, 4.0, 4.0, 6.0]);
        let gap = prom(&[("\"pod\":\"a\"", &[(T, "4"), (T + 15.0, "5"), (T + 45.0, "6")])]);
        let e = parse_prometheus(&gap, &BTreeMap::new(), GridOptions::default()).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "series {pod=\"a\"} has no point at 2024-11-30T10:00:30Z (between data.result[0].values[1] and data.result[0].values[2]); expected one every 15s"
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_responses_are_explained() {
        let none = BTreeMap::new();
        let o = GridOptions::default();
        let e = parse_prometheus(
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\""}"#,
            &none,
            o,
        )
        .unwrap_err();
        assert!(e.to_string().contains("found status \"error\" (bad_data: invalid parameter"), "{e}");
        let e = parse_prometheus(
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2"]}]}}"#,
            &none,
            o,
        )
        .unwrap_err();
        assert!(e.to_string().contains("found resultType \"vector\" (an instant query"), "{e}");
        let e = parse_prometheus("{\"status\":\"success\",\n\"data\":{\"resultType\":\"matrix\",\"result\":[{\"values\":[[1,2]]}]}}", &none, o).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("invalid type: integer `2`, expected a string"), "{e}");
        let text = prom(&[("\"pod\":\"a\"", &[(T, "+Inf"), (T + 15.0, "1")])]);
        let e = parse_prometheus(&text, &none, o).unwrap_err();
        assert!(e.to_string().contains("found +Inf, expected a non-negative rate"), "{e}");
        let text = prom(&[("\"pod\":\"a\"", &[(T, "1"), (T + 10.0, "1"), (T + 25.0, "1")])]);
        let e = parse_prometheus(&text, &none, o).unwrap_err();
        assert!(e.to_string().contains("values[2]") && e.to_string().contains("off the grid"), "{e}");
        let sel = BTreeMap::from([("pod".to_string(), "z".to_string())]);
        let text = prom(&[("\"pod\":\"a\"", &[(T, "1"), (T + 15.0, "1")])]);
        let e = parse_prometheus(&text, &sel, o).unwrap_err();
        assert_eq!(e.to_string(), "no series has pod=\"z\"; found 1 series: {pod=\"a\"}");
        let e = parse_prometheus(r#"{"status":"success"}"#, &none, o).unwrap_err();
        assert_eq!(
            e.message,
            "found JSON without `data.resultType`, expected the response of /api/v1/query_range \
             ({\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[…]}})"
        );
        // A saved `data` object is accepted too.
        let data = r#"{"resultType":"matrix","result":[{"metric":{},"values":[[10,"1"],[20,"3"]]}]}"#;
        let m = parse_prometheus(data, &none, o).unwrap();
        assert_eq!(m.series.rates, vec![1.0, 3.0]);
    }

    #[test]
    fn grafana_csv_joined_series() {
        // An empty cell inside a series is missing; at its ends, the series did not exist yet.
        let csv = "\u{feff}\"Time\",\"web-a\",\"web-b\"\r\n1732960800000,1.5,\r\n1732960815000,,3\r\n1732960830000,2,4\r\n1732960845000,,4";
        let e = parse_grafana_csv(csv, "Time", &[], GridOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3, column 2 (`web-a`): found an empty value, expected a number; set missing = \"zero\" or \"hold\" to fill missing points"
        );
        let hold = GridOptions { missing: Missing::Hold, ..Default::default() };
        let m = parse_grafana_csv(csv, "Time", &[], hold).unwrap();
        assert_eq!(m.series.rates, vec![1.5, 4.5, 6.0, 4.0]);
        assert_eq!(m.filled, 1);
        let csv =
            "\"Time\",\"web-a\",\"web-b\"\r\n1732960800000,1.5,\r\n1732960815000,2,3\r\n1732960830000,2.5,4";
        let m = parse_grafana_csv(csv, "Time", &[], GridOptions::default()).unwrap();
        assert_eq!(m.series.rates, vec![1.5, 5.0, 6.5]);
        assert_eq!(m.step_ms, 15_000);
        let m = parse_grafana_csv(csv, "Time", &["web-b".into()], GridOptions::default()).unwrap();
        assert_eq!(m.series.rates, vec![0.0, 3.0, 4.0]);
        // Formatted export, semicolons, Excel's sep= line.
        let csv = "sep=;\n\"Time\";\"total\"\n2024-11-30 10:00:00;3\n2024-11-30 10:01:00;4 req/s\n";
        let e = parse_grafana_csv(csv, "Time", &[], GridOptions::default()).unwrap_err();
        assert!(
            e.to_string().starts_with("line 4, column 2 (`total`): found `4 req/s`, expected a number"),
            "{e}"
        );
        let e = parse_grafana_csv("Time,a\n0,1\n60,2,3\n", "Time", &[], GridOptions::default()).unwrap_err();
        assert_eq!(e.to_string(), "line 3: found 3 fields, expected 2 (as many as the header has)");
        let e =
            parse_grafana_csv("Time,a\n0,1\n120,2\n60,2\n", "Time", &[], GridOptions::default()).unwrap_err();
        assert!(
            e.to_string().starts_with("line 4, column 1 (`Time`): found `60`, which is not after"),
            "{e}"
        );
        let e = parse_grafana_csv("Time,a\n1e300,1\n", "Time", &[], GridOptions::default()).unwrap_err();
        assert!(
            e.to_string().starts_with("line 2, column 1 (`Time`): found `1e300`, expected a time"),
            "{e}"
        );
        let e = parse_grafana_csv("t,a\n0,1\n", "Time", &[], GridOptions::default()).unwrap_err();
        assert_eq!(e.to_string(), "line 1: no column `Time` in the header; found `t`, `a`");
        // A missing row inside a series.
        let e =
            parse_grafana_csv("Time,a\n0,1\n60,2\n180,2\n", "Time", &[], GridOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("line 4: no row at 1970-01-01T00:02:00Z (between line 3 and this line)"),
            "{e}"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(crate::traffic::trace::fuzz::CASES))]

        /// Prometheus JSON and Grafana CSV never panic on arbitrary bytes or a mutated export.
        /// A CSV error has a line; a JSON error has a line or names the place in the document
        /// (`data.result[i]…`, a series) or the document as a whole (its status, result type,
        /// timestamps).
        #[test]
        fn exports_fuzz(noise in crate::traffic::trace::fuzz::bytes(), edits in crate::traffic::trace::fuzz::edits()) {
            use crate::traffic::trace::fuzz;
            let json = prom(&[
                ("\"pod\":\"a\"", &[(T, "1"), (T + 15.0, "2.5"), (T + 30.0, "3")]),
                ("\"pod\":\"b\"", &[(T + 15.0, "NaN"), (T + 30.0, "10")]),
            ]);
            let csv = "Time,a,b\n2024-11-30 10:00:00,1,2\n2024-11-30 10:00:15,,3\n2024-11-30 10:00:30,4,5\n";
            for missing in [Missing::Error, Missing::Zero, Missing::Hold] {
                for values in [Values::Rate, Values::Count] {
                    let opts = GridOptions { values, missing };
                    for text in [noise.clone(), fuzz::mutate(&json, &edits)] {
                        if let Err(e) = parse_prometheus(&text, &BTreeMap::new(), opts) {
                            proptest::prop_assert!(
                                fuzz::located(&e) || e.message.starts_with("data.result[") || e.message.starts_with("series ")
                                    || e.message.starts_with("found") || e.message.starts_with("no series"),
                                "{e:?}"
                            );
                        }
                    }
                    for text in [noise.clone(), fuzz::mutate(csv, &edits)] {
                        if let Err(e) = parse_grafana_csv(&text, "Time", &[], opts) {
                            proptest::prop_assert!(fuzz::located(&e) || e.message.starts_with("found"), "{e:?}");
                        }
                    }
                }
            }
        }
    }
}
