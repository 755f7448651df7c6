//! Recorded traces: parsers (pure functions over `&str`) and exact request replay.
//!
//! Every parser here turns one file's text into one of three representations, and knows nothing
//! of paths, globs or compression (the config layer reads files through [`crate::input`] and
//! merges several files of one trace):
//!
//! * a [`RateSeries`] (requests per second per interval), replayed under any arrival process:
//!   `rate_csv` below, Prometheus `query_range` JSON and Grafana CSV ([`prometheus`]);
//! * a [`RequestTrace`] (one timestamp per request, optional sizes), replayed exactly:
//!   `requests_csv` and `azure_llm` below, nginx/Apache and AWS ALB access logs ([`access_log`]);
//! * a [`counts::CountSeries`] (an exact number of requests per bin, placed at seeded random
//!   times inside each bin): the Azure Functions 2019 trace ([`azure_functions`]).
//!
//! [`summary::TraceInfo`] describes any of them (span, requests, mean and peak rate) for
//! `validate`. The CSV formats of this file:
//!
//! * **rate CSV** ([`parse_rate_csv`]): one row per interval with a start time and either a rate
//!   (requests per second) or a count per interval; each row lasts until the next row's time, the
//!   last row as long as the one before it. Replayed as a [`RateSeries`] under any arrival
//!   process (Poisson within each interval by default).
//! * **requests CSV** ([`parse_requests_csv`]): one row per request with its timestamp and up to
//!   [`MAX_SIZES`] numeric size columns, replayed exactly by [`ReplaySource`].
//! * **Azure LLM inference trace** ([`parse_azure_llm`]): a requests CSV with columns
//!   `TIMESTAMP` (`YYYY-MM-DD HH:MM:SS.fffffff`, UTC), `ContextTokens`, `GeneratedTokens`.
//!
//! Timestamps are seconds (a decimal number), RFC 3339 date-times, or `YYYY-MM-DD HH:MM:SS[.f]`
//! (read as UTC); every row of a file must use the same kind. Time 0 of a trace is its first
//! row. Timestamps must not decrease (rate series: must increase); a file that breaks this is an
//! error naming the line, not silently sorted. Errors carry the 1-based line (the header is line
//! 1) and column; the caller adds the file name. Nothing here panics on bad input.

pub mod access_log;
pub mod azure_functions;
pub mod counts;
pub mod prometheus;
pub mod summary;

use super::shape::RateSeries;
use super::{Arrival, ArrivalSource, MAX_SIZES};
use crate::rng::SimRng;
use crate::time::{Time, from_secs_f64};
use rand::Rng;
use std::fmt;
use std::sync::Arc;

/// The most requests one recorded trace may hold (10^12): the simulation generates every one of
/// them (about a day of CPU at 10^7 requests a second), so a larger count is a corrupt value or a
/// selection far wider than anything that can be simulated. Exact counts are summed in checked
/// `u64` arithmetic against this bound; a rate series' integral is held to it too.
pub const MAX_TRACE_REQUESTS: u64 = 1_000_000_000_000;

/// The limit as people read it, for messages.
pub(crate) const MAX_TRACE_REQUESTS_TEXT: &str = "1,000,000,000,000 (10^12)";

/// What to do about a trace above [`MAX_TRACE_REQUESTS`], for messages.
const TOO_MANY_HINT: &str = "every request is simulated, so this is beyond what a run can do; check the value, \
     or replay a part of the trace (fewer files, a narrower selection)";

/// The index of the first interval of `s` at whose end the expected requests (the integral of
/// the rate) pass [`MAX_TRACE_REQUESTS`], with that running total; `None` when the whole series
/// stays within it.
fn series_past_limit(s: &RateSeries) -> Option<(usize, f64)> {
    let n = s.starts.len();
    let mut total = 0.0f64;
    for i in 0..n {
        let end = if i + 1 < n { s.starts[i + 1] } else { s.end };
        total += s.rates[i] * (end - s.starts[i]);
        if total.is_nan() || total > MAX_TRACE_REQUESTS as f64 {
            return Some((i, total));
        }
    }
    None
}

/// The message for a rate series whose integral passes [`MAX_TRACE_REQUESTS`] at a value `shown`.
fn series_limit_message(shown: &str, total: f64) -> String {
    let total =
        if total.is_finite() { crate::time::fmt_big(total.round()) } else { "unboundedly many".into() };
    format!(
        "found {shown}, which brings the trace to {total} requests (the integral of the rate), more than \
         the {MAX_TRACE_REQUESTS_TEXT} a trace may hold; {TOO_MANY_HINT}"
    )
}

/// A problem in a trace file, located by line and column.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceError {
    /// 1-based line; the header is line 1. 0 when the format has no useful line (a JSON
    /// document on one line): the message then names the field instead.
    pub line: u64,
    /// 1-based column (field number) and its header name, when the problem is in one field.
    pub column: Option<(usize, String)>,
    /// What was found and what was expected.
    pub message: String,
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            _ if self.line == 0 => f.write_str(&self.message),
            Some((c, name)) => write!(f, "line {}, column {} (`{}`): {}", self.line, c, name, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

impl std::error::Error for TraceError {}

fn err(line: u64, column: Option<(usize, &str)>, message: String) -> TraceError {
    TraceError { line, column: column.map(|(c, n)| (c + 1, n.to_string())), message }
}

/// A parsed timestamp.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stamp {
    /// Seconds (relative to anything).
    Secs(f64),
    /// Microseconds since the Unix epoch.
    Micros(i64),
}

fn parse_stamp(s: &str) -> Option<Stamp> {
    if let Ok(x) = s.parse::<f64>() {
        return x.is_finite().then_some(Stamp::Secs(x));
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(Stamp::Micros(d.timestamp_micros()));
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(Stamp::Micros(d.and_utc().timestamp_micros()));
        }
    }
    None
}

const STAMP_EXPECTED: &str = "expected seconds (e.g. `12.5`), an RFC 3339 date-time (e.g. `2023-11-16T18:17:03Z`) or \
     `YYYY-MM-DD HH:MM:SS.fff` (UTC)";

/// Reads timestamps relative to the first one, checking they are all of one kind.
struct StampReader {
    first: Option<Stamp>,
}

impl StampReader {
    fn relative(&mut self, s: &str, line: u64, col: (usize, &str)) -> Result<f64, TraceError> {
        let Some(st) = parse_stamp(s) else {
            return Err(err(line, Some(col), format!("found `{s}`, {STAMP_EXPECTED}")));
        };
        let first = *self.first.get_or_insert(st);
        let rel = match (first, st) {
            (Stamp::Secs(a), Stamp::Secs(b)) => b - a,
            // In i128: two date-times of chrono's range (±262,000 years) differ by more than
            // an i64 holds in microseconds.
            (Stamp::Micros(a), Stamp::Micros(b)) => (i128::from(b) - i128::from(a)) as f64 * 1e-6,
            (Stamp::Secs(_), Stamp::Micros(_)) => {
                return Err(err(
                    line,
                    Some(col),
                    format!("found the date-time `{s}`, expected seconds like the first data row"),
                ));
            }
            (Stamp::Micros(_), Stamp::Secs(_)) => {
                return Err(err(
                    line,
                    Some(col),
                    format!("found the number `{s}`, expected a date-time like the first data row"),
                ));
            }
        };
        if rel.is_nan() || rel.abs() > crate::time::MAX_VALUE_SECS {
            return Err(err(
                line,
                Some(col),
                format!(
                    "found `{s}`, {} s from the first data row; expected a trace spanning at most 3660 days \
                     (the longest simulation): check the timestamp",
                    crate::time::fmt_big(rel)
                ),
            ));
        }
        Ok(rel)
    }
}

/// `text` with CRLF line ends turned into LF: the csv crate counts a CRLF file's lines one
/// short, and errors must name the right line.
fn lf(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains("\r\n") { text.replace("\r\n", "\n").into() } else { text.into() }
}

/// Opens `text` as a CSV with a header and finds the named columns (by exact name).
/// An open CSV reader, the indices of the wanted columns, and the header names.
type Opened<'t> = (csv::Reader<&'t [u8]>, Vec<usize>, Vec<String>);

fn open<'t>(text: &'t str, wanted: &[&str]) -> Result<Opened<'t>, TraceError> {
    if text.trim().is_empty() {
        return Err(err(
            1,
            None,
            format!("the file is empty, expected a header line naming the columns {}", quote_list(wanted)),
        ));
    }
    let mut rdr =
        csv::ReaderBuilder::new().has_headers(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers: Vec<String> = match rdr.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => return Err(csv_error(&e)),
    };
    let mut idx = Vec::with_capacity(wanted.len());
    for w in wanted {
        match headers.iter().position(|h| h == w) {
            Some(i) => idx.push(i),
            None => {
                let found: Vec<&str> = headers.iter().map(String::as_str).collect();
                return Err(err(
                    1,
                    None,
                    format!("no column `{w}` in the header; found {}", quote_list(&found)),
                ));
            }
        }
    }
    Ok((rdr, idx, headers))
}

fn quote_list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

fn csv_error(e: &csv::Error) -> TraceError {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { pos, expected_len, len } => err(
            pos.as_ref().map_or(0, |p| p.line()),
            None,
            format!("found {len} fields, expected {expected_len} (as many as the header has)"),
        ),
        csv::ErrorKind::Utf8 { pos, .. } => {
            err(pos.as_ref().map_or(0, |p| p.line()), None, "found invalid UTF-8, expected text".into())
        }
        _ => err(e.position().map_or(0, |p| p.line()), None, format!("cannot read the CSV: {e}")),
    }
}

/// A whole number of tokens of at least 1 (a size column an LLM replica reads).
fn tokens(s: &str, line: u64, col: (usize, &str)) -> Result<f64, TraceError> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.fract() == 0.0 && (1.0..=(crate::service::llm::MAX_TOKENS as f64)).contains(&x) => Ok(x),
        _ => Err(err(
            line,
            Some(col),
            format!(
                "found `{s}`, expected a whole number of tokens from 1 to {} (an LLM replica's prompt and output \
                 tokens)",
                (crate::service::llm::MAX_TOKENS as f64) as u64
            ),
        )),
    }
}

fn number(s: &str, line: u64, col: (usize, &str), what: &str) -> Result<f64, TraceError> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        _ => Err(err(line, Some(col), format!("found `{s}`, expected {what}"))),
    }
}

/// Column names of a rate CSV.
#[derive(Debug, Clone, Copy)]
pub struct RateColumns<'a> {
    /// The interval start time column.
    pub time: &'a str,
    /// The value column.
    pub value: &'a str,
    /// Whether `value` holds a count per interval (else a rate per second).
    pub is_count: bool,
}

/// Parses a rate CSV into a [`RateSeries`].
pub fn parse_rate_csv(text: &str, cols: RateColumns<'_>) -> Result<RateSeries, TraceError> {
    let text = lf(text);
    let (mut rdr, idx, headers) = open(&text, &[cols.time, cols.value])?;
    let (ti, vi) = (idx[0], idx[1]);
    let mut stamps = StampReader { first: None };
    let mut starts = Vec::new();
    let mut values = Vec::new();
    let mut lines = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(&e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let t = stamps.relative(&rec[ti], line, (ti, &headers[ti]))?;
        let what = if cols.is_count { "a non-negative count" } else { "a non-negative rate per second" };
        let v = number(&rec[vi], line, (vi, &headers[vi]), what)?;
        if let Some(&prev) = starts.last()
            && t <= prev
        {
            return Err(err(
                line,
                Some((ti, &headers[ti])),
                format!(
                    "found `{}`, which is not after the previous row (line {}); expected rows in \
                         strictly increasing time order",
                    &rec[ti],
                    lines.last().copied().unwrap_or(0)
                ),
            ));
        }
        starts.push(t);
        values.push(v);
        lines.push(line);
    }
    if starts.len() < 2 {
        return Err(err(
            lines.first().copied().unwrap_or(1),
            None,
            format!(
                "found {} data row(s), expected at least 2 (the interval length is the gap between rows)",
                starts.len()
            ),
        ));
    }
    let n = starts.len();
    let last_len = starts[n - 1] - starts[n - 2];
    let end = starts[n - 1] + last_len;
    let rates = if cols.is_count {
        (0..n)
            .map(|i| {
                let len = if i + 1 < n { starts[i + 1] - starts[i] } else { last_len };
                values[i] / len
            })
            .collect()
    } else {
        std::mem::take(&mut values)
    };
    let series = RateSeries { starts, rates, end };
    if let Some((i, total)) = series_past_limit(&series) {
        let value = if cols.is_count { values[i] } else { series.rates[i] };
        let shown = format!("`{}`", crate::time::fmt_big(value));
        return Err(err(lines[i], Some((vi, &headers[vi])), series_limit_message(&shown, total)));
    }
    Ok(series)
}

/// Per-request data of a recorded trace.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTrace {
    /// Arrival times, seconds from the first request, nondecreasing.
    pub times: Vec<f64>,
    /// Per-request sizes, in `size_columns` order (unused slots are 0); empty when the trace
    /// has no size columns (every request then has size 0), which saves 24 bytes a request.
    pub sizes: Vec<[f64; MAX_SIZES]>,
    /// Names of the size columns.
    pub size_columns: Vec<String>,
}

impl RequestTrace {
    /// The replay period when looping: the span of the trace plus one mean gap, so the last
    /// request of a lap and the first of the next are spaced like the others. `None` when the
    /// trace spans no time (it cannot loop).
    pub fn period(&self) -> Option<f64> {
        let n = self.times.len();
        if n < 2 {
            return None;
        }
        let span = self.times[n - 1] - self.times[0];
        (span > 0.0).then(|| span + span / (n - 1) as f64)
    }
}

/// Parses a CSV of per-request timestamps with optional numeric size columns.
pub fn parse_requests_csv(
    text: &str,
    time_column: &str,
    size_columns: &[String],
    token_columns: usize,
) -> Result<RequestTrace, TraceError> {
    if size_columns.len() > MAX_SIZES {
        return Err(err(
            1,
            None,
            format!("found {} size columns, expected at most {MAX_SIZES}", size_columns.len()),
        ));
    }
    let mut wanted: Vec<&str> = vec![time_column];
    wanted.extend(size_columns.iter().map(String::as_str));
    let text = lf(text);
    let (mut rdr, idx, headers) = open(&text, &wanted)?;
    let mut stamps = StampReader { first: None };
    let mut times = Vec::new();
    let mut sizes = Vec::new();
    let mut prev_line = 0;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_error(&e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let ti = idx[0];
        let t = stamps.relative(&rec[ti], line, (ti, &headers[ti]))?;
        if let Some(&prev) = times.last()
            && t < prev
        {
            return Err(err(
                line,
                Some((ti, &headers[ti])),
                format!(
                    "found `{}`, which is before the previous request (line {prev_line}); expected \
                         timestamps in nondecreasing order",
                    &rec[ti]
                ),
            ));
        }
        let mut sz = [0.0; MAX_SIZES];
        for (k, &ci) in idx[1..].iter().enumerate() {
            sz[k] = if k < token_columns {
                tokens(&rec[ci], line, (ci, &headers[ci]))?
            } else {
                number(&rec[ci], line, (ci, &headers[ci]), "a non-negative number")?
            };
        }
        times.push(t);
        sizes.push(sz);
        prev_line = line;
    }
    if times.is_empty() {
        return Err(err(1, None, "found a header but no data rows, expected at least one request".into()));
    }
    // A seconds trace whose first row is not 0 still starts at 0; negative relative times
    // cannot occur because the order was checked.
    Ok(RequestTrace { times, sizes, size_columns: size_columns.to_vec() })
}

/// Column names of the Azure LLM inference trace.
pub const AZURE_COLUMNS: [&str; 3] = ["TIMESTAMP", "ContextTokens", "GeneratedTokens"];

/// Parses the Azure LLM inference trace (sizes = [ContextTokens, GeneratedTokens]).
pub fn parse_azure_llm(text: &str, token_columns: usize) -> Result<RequestTrace, TraceError> {
    parse_requests_csv(
        text,
        AZURE_COLUMNS[0],
        &[AZURE_COLUMNS[1].to_string(), AZURE_COLUMNS[2].to_string()],
        token_columns,
    )
}

/// How a request trace is replayed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayOptions {
    /// Time compression: trace time / speedup = simulated time (> 0).
    pub speedup: f64,
    /// Traffic multiplier (>= 0): each request is replayed ⌊scale⌋ times, plus once more with
    /// probability `scale − ⌊scale⌋` (drawn from the arrivals stream, so deterministic per seed);
    /// scale < 1 therefore thins the trace. Copies arrive at the same instant.
    pub scale: f64,
    /// Repeat the trace (period [`RequestTrace::period`]) to fill the horizon.
    pub looping: bool,
    /// Trace time (seconds) at simulated time 0.
    pub start_offset: f64,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions { speedup: 1.0, scale: 1.0, looping: false, start_offset: 0.0 }
    }
}

/// How many copies of each recorded arrival a replay scaled by `scale` emits: the whole part
/// of `scale` always, one more with probability its fractional part (so `scale = 1.5` gives
/// one or two copies, 1.5 on average). Shared by the request and count replays.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Copies {
    whole: u32,
    frac: f64,
}

impl Copies {
    /// The copies of `scale` (a negative scale counts as 0).
    pub(crate) fn new(scale: f64) -> Copies {
        let scale = scale.max(0.0);
        Copies { whole: scale.floor().min(u32::MAX as f64) as u32, frac: scale - scale.floor() }
    }

    /// The copies of one arrival; draws from `rng` only when `scale` has a fractional part.
    pub(crate) fn draw(&self, rng: &mut SimRng) -> u32 {
        let mut copies = self.whole;
        if self.frac > 0.0 {
            let u: f64 = rng.random();
            if u < self.frac {
                copies += 1;
            }
        }
        copies
    }
}

/// Replays a [`RequestTrace`] exactly.
pub struct ReplaySource {
    trace: Arc<RequestTrace>,
    opts: ReplayOptions,
    period: f64,
    offset: f64,
    i: usize,
    lap: u64,
    copies: Copies,
    pending: u32,
    current: Arrival,
    horizon: Time,
    rng: SimRng,
}

impl ReplaySource {
    /// A replay covering `[0, horizon)`. With `looping`, the trace must have a period.
    pub fn new(trace: Arc<RequestTrace>, opts: ReplayOptions, rng: SimRng, horizon: Time) -> ReplaySource {
        let period = if opts.looping { trace.period().unwrap_or(0.0) } else { 0.0 };
        let offset = if period > 0.0 { opts.start_offset.rem_euclid(period) } else { opts.start_offset };
        let i = trace.times.partition_point(|&t| t < offset);
        ReplaySource {
            copies: Copies::new(opts.scale),
            trace,
            opts,
            period,
            offset,
            i,
            lap: 0,
            pending: 0,
            current: Arrival::default(),
            horizon,
            rng,
        }
    }
}

impl ArrivalSource for ReplaySource {
    #[inline]
    fn next_arrival(&mut self) -> Option<Arrival> {
        if self.pending > 0 {
            self.pending -= 1;
            return Some(self.current);
        }
        loop {
            if self.i >= self.trace.times.len() {
                if !self.opts.looping || self.period <= 0.0 {
                    return None;
                }
                self.i = 0;
                self.lap += 1;
            }
            let i = self.i;
            self.i += 1;
            let tau = self.trace.times[i] + self.lap as f64 * self.period - self.offset;
            let time = from_secs_f64(tau / self.opts.speedup);
            if time >= self.horizon {
                return None;
            }
            let copies = self.copies.draw(&mut self.rng);
            if copies == 0 {
                continue;
            }
            self.pending = copies - 1;
            self.current = Arrival { time, sizes: self.trace.sizes.get(i).copied().unwrap_or_default() };
            return Some(self.current);
        }
    }
}

/// Expected number of replayed requests in `[0, horizon_s)` seconds of simulated time.
pub fn expected_replay(trace: &RequestTrace, opts: &ReplayOptions, horizon_s: f64) -> f64 {
    let period = if opts.looping { trace.period().unwrap_or(0.0) } else { 0.0 };
    let offset = if period > 0.0 { opts.start_offset.rem_euclid(period) } else { opts.start_offset };
    // Trace time reached at the horizon (exclusive).
    let limit = offset + horizon_s * opts.speedup;
    let t = &trace.times;
    let below = |x: f64| t.partition_point(|&v| v < x);
    let mut count = below(limit).saturating_sub(below(offset)) as f64;
    if period > 0.0 && !t.is_empty() {
        // Lap k >= 1 adds the requests with times[i] + k·period < limit. The laps that end
        // before `limit` add the whole trace; count them in one step (a speed-up of 10^12 makes
        // astronomically many), then the few partial laps one by one: times lie within
        // [t[0], t[0] + span] and period > span, so at most two laps are partial.
        let (first, last) = (t[0], t[t.len() - 1]);
        // Whole laps: k >= 1 with limit − k·period > last.
        let whole = (((limit - last) / period).ceil() - 1.0).max(0.0);
        count += whole * t.len() as f64;
        for j in 1..=3 {
            let k = whole + f64::from(j);
            if limit - k * period <= first {
                break;
            }
            count += below(limit - k * period) as f64;
        }
    }
    count * opts.scale.max(0.0)
}

/// Fuzz-style helpers shared by the parsers' tests: arbitrary bytes, and valid files with a few
/// bytes replaced, inserted or removed (which reach far deeper into a parser than noise does).
#[cfg(test)]
pub(crate) mod fuzz {
    use super::TraceError;
    use proptest::prelude::*;

    /// Cases per fuzz test: enough to find the shallow holes, brief enough for every push.
    pub(crate) const CASES: u32 = 256;

    /// Up to 600 arbitrary bytes, as the lossy text the reader hands a parser.
    pub(crate) fn bytes() -> impl Strategy<Value = String> {
        prop::collection::vec(any::<u8>(), 0..600).prop_map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// Edits of a file: (where, as a fraction of its length; replace, insert or remove; the byte).
    pub(crate) fn edits() -> impl Strategy<Value = Vec<(f64, u8, u8)>> {
        let bytes = b",;\n\r\t\" -+.:0123456789eE[]{}TZx\xff".to_vec();
        prop::collection::vec((0.0..1.0f64, 0u8..3, prop::sample::select(bytes)), 1..6)
    }

    /// `text` with `edits` applied.
    pub(crate) fn mutate(text: &str, edits: &[(f64, u8, u8)]) -> String {
        let mut b = text.as_bytes().to_vec();
        for &(at, kind, byte) in edits {
            let i = ((b.len() as f64 * at) as usize).min(b.len());
            match kind {
                0 if i < b.len() => b[i] = byte,
                1 => b.insert(i, byte),
                _ if i < b.len() => {
                    b.remove(i);
                }
                _ => {}
            }
        }
        String::from_utf8_lossy(&b).into_owned()
    }

    /// An error says where: a line (1-based) and a message saying what was found.
    pub(crate) fn located(e: &TraceError) -> bool {
        e.line >= 1 && !e.message.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};
    use crate::time::SECOND;

    const REQS: &str = "time,ctx,gen\n0.5,10,1\n1.0,20,2\n1.0,30,3\n2.5,40,4\n";

    fn replay(trace: &RequestTrace, opts: ReplayOptions, horizon: Time, seed: u64) -> Vec<Arrival> {
        let mut s = ReplaySource::new(Arc::new(trace.clone()), opts, stream(seed, Stream::Arrivals), horizon);
        let mut v = Vec::new();
        while let Some(a) = s.next_arrival() {
            v.push(a);
        }
        v
    }

    fn secs(v: &[Arrival]) -> Vec<f64> {
        v.iter().map(|a| crate::time::to_secs_f64(a.time)).collect()
    }

    #[test]
    fn requests_csv_parses_and_replays_exactly() {
        let tr = parse_requests_csv(REQS, "time", &["ctx".into(), "gen".into()], 0).unwrap();
        assert_eq!(tr.times, vec![0.0, 0.5, 0.5, 2.0]);
        assert_eq!(tr.sizes[2], [30.0, 3.0, 0.0]);
        let v = replay(&tr, ReplayOptions::default(), 100 * SECOND, 1);
        assert_eq!(secs(&v), vec![0.0, 0.5, 0.5, 2.0]);
        assert_eq!(v[3].sizes, [40.0, 4.0, 0.0]);
        assert_eq!(expected_replay(&tr, &ReplayOptions::default(), 100.0), 4.0);
        // Horizon cuts the replay.
        assert_eq!(replay(&tr, ReplayOptions::default(), 2 * SECOND, 1).len(), 3);
    }

    #[test]
    fn replay_speedup_offset_and_loop() {
        let tr = parse_requests_csv(REQS, "time", &[], 0).unwrap();
        let fast = ReplayOptions { speedup: 2.0, ..Default::default() };
        assert_eq!(secs(&replay(&tr, fast, 100 * SECOND, 1)), vec![0.0, 0.25, 0.25, 1.0]);
        let off = ReplayOptions { start_offset: 0.5, ..Default::default() };
        assert_eq!(secs(&replay(&tr, off, 100 * SECOND, 1)), vec![0.0, 0.0, 1.5]);
        // Period = span 2.0 + mean gap 2/3.
        let lp = ReplayOptions { looping: true, ..Default::default() };
        let p = tr.period().unwrap();
        assert!((p - 8.0 / 3.0).abs() < 1e-12);
        let v = secs(&replay(&tr, lp, 6 * SECOND, 1));
        let want: Vec<f64> =
            [0.0, 0.5, 0.5, 2.0, p, p + 0.5, p + 0.5, p + 2.0, 2.0 * p, 2.0 * p + 0.5, 2.0 * p + 0.5]
                .iter()
                .map(|&x| crate::time::to_secs_f64(from_secs_f64(x)))
                .collect();
        assert_eq!(v, want);
        assert_eq!(expected_replay(&tr, &lp, 6.0), 11.0);
        // Loop with an offset: starts mid-trace, wraps around.
        let lo = ReplayOptions { looping: true, start_offset: 1.0, ..Default::default() };
        let v = secs(&replay(&tr, lo, 3 * SECOND, 1));
        assert_eq!(v.len(), 4);
        assert!((v[0] - 1.0).abs() < 1e-6 && (v[1] - (p - 1.0)).abs() < 1e-6);
        assert!((v[3] - (p - 0.5)).abs() < 1e-6);
        assert_eq!(expected_replay(&tr, &lo, 3.0), 4.0);
    }

    #[test]
    fn replay_scale_replicates_and_thins() {
        let times: Vec<f64> = (0..20_000).map(|i| i as f64 * 0.01).collect();
        let tr = RequestTrace { sizes: vec![[0.0; MAX_SIZES]; times.len()], times, size_columns: vec![] };
        let two = ReplayOptions { scale: 2.0, ..Default::default() };
        let v = replay(&tr, two, 1000 * SECOND, 1);
        assert_eq!(v.len(), 40_000);
        assert_eq!(v[0].time, v[1].time);
        for (scale, seed) in [(2.5, 1), (0.3, 2)] {
            let o = ReplayOptions { scale, ..Default::default() };
            let n = replay(&tr, o, 1000 * SECOND, seed).len() as f64;
            let expect = expected_replay(&tr, &o, 1000.0);
            assert!((expect - 20_000.0 * scale).abs() < 1e-9);
            let sd = (20_000.0 * 0.25f64).sqrt();
            assert!((n - expect).abs() < 4.0 * sd, "scale {scale}: {n} vs {expect}");
            // Deterministic per seed.
            assert_eq!(replay(&tr, o, 1000 * SECOND, seed).len() as f64, n);
        }
    }

    #[test]
    fn rfc3339_and_azure_timestamps() {
        let t = "at,n\n2024-01-01T00:00:00Z,1\n2024-01-01T00:00:01.250+00:00,2\n";
        let tr = parse_requests_csv(t, "at", &["n".into()], 0).unwrap();
        assert_eq!(tr.times, vec![0.0, 1.25]);
        let az = "TIMESTAMP,ContextTokens,GeneratedTokens\n\
                  2023-11-16 18:17:03.9799600,4808,10\n2023-11-16 18:17:04.0319600,3180,8\n";
        let tr = parse_azure_llm(az, 0).unwrap();
        assert!((tr.times[1] - 0.052).abs() < 1e-9);
        assert_eq!(tr.sizes[0], [4808.0, 10.0, 0.0]);
        assert_eq!(tr.size_columns, vec!["ContextTokens", "GeneratedTokens"]);
    }

    #[test]
    fn malformed_inputs_name_line_and_column() {
        let e = parse_requests_csv("time,ctx\n1,2\n2,x\n", "time", &["ctx".into()], 0).unwrap_err();
        assert_eq!(e.to_string(), "line 3, column 2 (`ctx`): found `x`, expected a non-negative number");
        let e = parse_requests_csv("time\n1\n0.5\n", "time", &[], 0).unwrap_err();
        assert!(e.to_string().starts_with("line 3, column 1 (`time`): found `0.5`, which is before"), "{e}");
        let e = parse_requests_csv("", "time", &[], 0).unwrap_err();
        assert!(e.to_string().contains("line 1: the file is empty"), "{e}");
        let e = parse_requests_csv("time\n", "time", &[], 0).unwrap_err();
        assert!(e.to_string().contains("no data rows"), "{e}");
        let e = parse_requests_csv("t,ctx\n1,2\n", "time", &[], 0).unwrap_err();
        assert_eq!(e.to_string(), "line 1: no column `time` in the header; found `t`, `ctx`");
        let e = parse_requests_csv("time,ctx\n1,2\n2\n", "time", &["ctx".into()], 0).unwrap_err();
        assert_eq!(e.to_string(), "line 3: found 1 fields, expected 2 (as many as the header has)");
        let e = parse_requests_csv("time\n1\n2024-01-01T00:00:00Z\n", "time", &[], 0).unwrap_err();
        assert!(e.to_string().starts_with("line 3, column 1 (`time`): found the date-time"), "{e}");
        let e = parse_requests_csv("a,time\n1,yesterday\n", "time", &[], 0).unwrap_err();
        assert!(
            e.to_string().starts_with("line 2, column 2 (`time`): found `yesterday`, expected seconds"),
            "{e}"
        );
        let e = parse_azure_llm("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.97,-4,1\n", 0)
            .unwrap_err();
        assert!(e.to_string().starts_with("line 2, column 2 (`ContextTokens`): found `-4`"), "{e}");
    }

    #[test]
    fn rate_csv_rates_and_counts() {
        let cols = RateColumns { time: "time", value: "rate", is_count: false };
        let s = parse_rate_csv("time,rate\n0,5\n60,10\n120,0\n", cols).unwrap();
        assert_eq!(s.starts, vec![0.0, 60.0, 120.0]);
        assert_eq!(s.rates, vec![5.0, 10.0, 0.0]);
        assert_eq!(s.end, 180.0);
        let cols = RateColumns { time: "minute", value: "requests", is_count: true };
        let s =
            parse_rate_csv("minute,requests\n2024-01-01T00:00:00Z,600\n2024-01-01T00:01:00Z,1200\n", cols)
                .unwrap();
        assert_eq!(s.rates, vec![10.0, 20.0]);
        assert_eq!(s.end, 120.0);
        let e = parse_rate_csv("minute,requests\n0,1\n0,2\n", cols).unwrap_err();
        assert!(
            e.to_string().starts_with("line 3, column 1 (`minute`): found `0`, which is not after"),
            "{e}"
        );
        let e = parse_rate_csv("minute,requests\n0,1\n", cols).unwrap_err();
        assert!(e.to_string().contains("expected at least 2"), "{e}");
        let e = parse_rate_csv("minute,requests\n0,1\n60,lots\n", cols).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3, column 2 (`requests`): found `lots`, expected a non-negative count"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(fuzz::CASES))]

        /// The CSV formats of this file never panic on arbitrary bytes or a mutated valid
        /// file; every error has a line.
        #[test]
        fn csv_formats_fuzz(noise in fuzz::bytes(), edits in fuzz::edits()) {
            let rate = "time,rate\n0,5\n60,10.5\n120,0\n";
            let reqs = "time,ctx,gen\n2024-01-01T00:00:00Z,10,1\n2024-01-01T00:00:01.5Z,20,2\n";
            let az = "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,4808,10\n\
                      2023-11-16 18:17:04.0319600,3180,8\n";
            for text in [noise.clone(), fuzz::mutate(rate, &edits)] {
                for is_count in [false, true] {
                    let cols = RateColumns { time: "time", value: "rate", is_count };
                    if let Err(e) = parse_rate_csv(&text, cols) {
                        proptest::prop_assert!(fuzz::located(&e), "{e:?}");
                    }
                }
            }
            for text in [noise.clone(), fuzz::mutate(reqs, &edits)] {
                if let Err(e) = parse_requests_csv(&text, "time", &["ctx".into(), "gen".into()], 0) {
                    proptest::prop_assert!(fuzz::located(&e), "{e:?}");
                }
            }
            for text in [noise, fuzz::mutate(az, &edits)] {
                match parse_azure_llm(&text, 0) {
                    Err(e) => proptest::prop_assert!(fuzz::located(&e), "{e:?}"),
                    Ok(t) => proptest::prop_assert!(t.times.iter().all(|x| x.abs() <= crate::time::MAX_VALUE_SECS)),
                }
            }
        }
    }
}
