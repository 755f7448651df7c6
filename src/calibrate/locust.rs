//! Reading Locust's `*_stats_history.csv`: the `Aggregated` rows, typed, with the percentile
//! mode detected.
//!
//! Locust appends one row per second. With `--csv-full-history` it writes a row per endpoint
//! plus the `Aggregated` row, and its percentile columns cover a recent window (about the last
//! 10 s); without it only the `Aggregated` row is written and the percentiles are cumulative
//! since the start. The `Total …` columns are cumulative in both modes. [`parse`] keeps the
//! `Aggregated` rows and decides the mode: per-endpoint rows mean full history; otherwise a
//! `50%` column that always equals `Total Median Response Time` means cumulative.

use super::CalibrateError;

/// How the percentile columns of a history file were computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PercentileMode {
    /// Over a recent window (`--csv-full-history`).
    Window,
    /// Since the start of the test (Locust's default).
    Cumulative,
}

impl PercentileMode {
    /// A short description for terminal output.
    pub fn describe(self) -> &'static str {
        match self {
            PercentileMode::Window => "recent window (--csv-full-history)",
            PercentileMode::Cumulative => "cumulative since the start",
        }
    }
}

/// One `Aggregated` row.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    /// 1-based line number in the file.
    pub line: usize,
    /// Unix time, whole seconds.
    pub timestamp: i64,
    /// Users running.
    pub users: u32,
    /// Locust's own recent requests per second (failures included).
    pub rps: Option<f64>,
    /// Percentile columns, in milliseconds, in the header's order; `None` for `N/A`.
    pub percentiles: Vec<Option<f64>>,
    /// Requests so far (failures included).
    pub total_requests: u64,
    /// Failures so far.
    pub total_failures: u64,
    /// Median response time since the start, ms.
    pub total_median_ms: Option<f64>,
    /// Mean response time since the start (all requests), ms.
    pub total_mean_ms: Option<f64>,
    /// Fastest response since the start, ms.
    pub total_min_ms: Option<f64>,
}

/// The parsed file.
#[derive(Debug, Clone, PartialEq)]
pub struct LocustHistory {
    /// The file name as given, for messages.
    pub origin: String,
    /// The percentile levels of the percentile columns, as fractions (0.5, 0.66, …, 1.0).
    pub levels: Vec<f64>,
    /// `Aggregated` rows in file order.
    pub rows: Vec<HistoryRow>,
    /// What the percentile columns mean.
    pub mode: PercentileMode,
}

impl LocustHistory {
    /// The index of the percentile column at `level` (e.g. 0.5), if the file has it.
    pub fn level_index(&self, level: f64) -> Option<usize> {
        self.levels.iter().position(|l| (l - level).abs() < 1e-9)
    }
}

/// Column names this parser needs.
const REQUIRED: [&str; 5] = ["Timestamp", "User Count", "Name", "Total Request Count", "Total Failure Count"];

/// Parses the text of a Locust stats-history file; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<LocustHistory, CalibrateError> {
    let err = |line: usize, column: Option<&str>, message: String| at(origin, line, column, message);
    if text.trim().is_empty() {
        return Err(CalibrateError {
            origin: origin.to_string(),
            line: None,
            column: None,
            message: "the file is empty; expected a Locust *_stats_history.csv".into(),
        });
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| err(1, None, format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let (levels, cols) = columns(&header, origin)?;
    let mut rows = Vec::new();
    let mut endpoint_rows = 0usize;
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(line, |p| p.line() as usize);
            err(line, None, format!("malformed CSV row: {e}"))
        })?;
        if rec.get(cols.name).unwrap_or("").trim() != "Aggregated" {
            endpoint_rows += 1;
            continue;
        }
        let row = aggregated_row(&rec, line, &header, &cols, rows.last(), origin)?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(CalibrateError {
            origin: origin.to_string(),
            line: None,
            column: Some("Name".into()),
            message: "no `Aggregated` rows: nothing to calibrate from".into(),
        });
    }
    let mode = detect_mode(&rows, endpoint_rows, levels.iter().position(|l| (l - 0.5).abs() < 1e-9));
    Ok(LocustHistory { origin: origin.to_string(), levels, rows, mode })
}

/// An error at `line` of the file `origin`, in `column` if one is at fault.
fn at(origin: &str, line: usize, column: Option<&str>, message: String) -> CalibrateError {
    CalibrateError {
        origin: origin.to_string(),
        line: Some(line),
        column: column.map(str::to_string),
        message,
    }
}

/// Where the columns the parser reads sit in the header (0-based).
struct Columns {
    ts: usize,
    users: usize,
    name: usize,
    req: usize,
    fail: usize,
    rps: Option<usize>,
    median: Option<usize>,
    mean: Option<usize>,
    min: Option<usize>,
    /// The percentile columns, in the header's order.
    pct: Vec<usize>,
}

/// The header checked (every [`REQUIRED`] column, and the `50%` and `95%` percentiles): the
/// percentile levels as fractions, and where each column sits.
fn columns(header: &[String], origin: &str) -> Result<(Vec<f64>, Columns), CalibrateError> {
    let col = |name: &str| header.iter().position(|h| h == name);
    for name in REQUIRED {
        if col(name).is_none() {
            return Err(at(
                origin,
                1,
                Some(name),
                format!(
                    "the header lacks the `{name}` column; is this a Locust *_stats_history.csv? (found: {})",
                    header.join(", ")
                ),
            ));
        }
    }
    let mut levels = Vec::new();
    let mut pct_cols = Vec::new();
    for (i, h) in header.iter().enumerate() {
        if let Some(p) = h.strip_suffix('%')
            && let Ok(v) = p.parse::<f64>()
        {
            levels.push(v / 100.0);
            pct_cols.push(i);
        }
    }
    for need in [0.5, 0.95] {
        if !levels.iter().any(|l| (l - need).abs() < 1e-9) {
            let name = format!("{}%", need * 100.0);
            return Err(at(
                origin,
                1,
                Some(&name),
                format!("the header lacks the `{name}` percentile column"),
            ));
        }
    }
    let [ts, users, name, req, fail] = REQUIRED.map(|n| col(n).expect("checked"));
    let cols = Columns {
        ts,
        users,
        name,
        req,
        fail,
        rps: col("Requests/s"),
        median: col("Total Median Response Time"),
        mean: col("Total Average Response Time"),
        min: col("Total Min Response Time"),
        pct: pct_cols,
    };
    Ok((levels, cols))
}

/// One `Aggregated` row at `line`, typed and checked against the row before (`prev`): times in
/// order, cumulative counts that never go down, no more failures than requests.
fn aggregated_row(
    rec: &csv::StringRecord,
    line: usize,
    header: &[String],
    cols: &Columns,
    prev: Option<&HistoryRow>,
    origin: &str,
) -> Result<HistoryRow, CalibrateError> {
    let err = |line: usize, column: Option<&str>, message: String| at(origin, line, column, message);
    let field = |c: usize| rec.get(c).unwrap_or("").trim();
    let num = |c: usize| -> Result<Option<f64>, CalibrateError> {
        let s = field(c);
        if s.is_empty() || s == "N/A" {
            return Ok(None);
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
            _ => Err(err(line, Some(&header[c]), format!("expected a non-negative number, found `{s}`"))),
        }
    };
    let int = |c: usize| -> Result<u64, CalibrateError> {
        let s = field(c);
        s.parse::<u64>()
            .map_err(|_| err(line, Some(&header[c]), format!("expected a whole number, found `{s}`")))
    };
    let timestamp = int(cols.ts)? as i64;
    if let Some(prev) = prev.map(|r| r.timestamp)
        && timestamp < prev
    {
        return Err(err(
            line,
            Some("Timestamp"),
            format!("timestamps go backwards ({timestamp} after {prev}); rows must be in time order"),
        ));
    }
    let row = HistoryRow {
        line,
        timestamp,
        users: u32::try_from(int(cols.users)?)
            .map_err(|_| err(line, Some("User Count"), "too many users".into()))?,
        rps: cols.rps.map(num).transpose()?.flatten(),
        percentiles: cols.pct.iter().map(|&c| num(c)).collect::<Result<_, _>>()?,
        total_requests: int(cols.req)?,
        total_failures: int(cols.fail)?,
        total_median_ms: cols.median.map(num).transpose()?.flatten(),
        total_mean_ms: cols.mean.map(num).transpose()?.flatten(),
        total_min_ms: cols.min.map(num).transpose()?.flatten(),
    };
    if let Some(prev) = prev
        && (row.total_requests < prev.total_requests || row.total_failures < prev.total_failures)
    {
        return Err(err(
            line,
            Some("Total Request Count"),
            "cumulative counts go down; is this one Locust run, in time order?".into(),
        ));
    }
    if row.total_failures > row.total_requests {
        return Err(err(line, Some("Total Failure Count"), "more failures than requests".into()));
    }
    Ok(row)
}

/// Per-endpoint rows exist only with `--csv-full-history` (window percentiles). Without them, a
/// cumulative file's `50%` always equals its `Total Median Response Time` (both are the median
/// since the start); a windowed one drifts away from it as load changes.
fn detect_mode(rows: &[HistoryRow], endpoint_rows: usize, p50: Option<usize>) -> PercentileMode {
    if endpoint_rows > 0 {
        return PercentileMode::Window;
    }
    let Some(p50) = p50 else { return PercentileMode::Cumulative };
    let differ = rows
        .iter()
        .filter(|r| match (r.percentiles[p50], r.total_median_ms) {
            (Some(a), Some(b)) => (a - b).abs() > 0.5,
            _ => false,
        })
        .count();
    if differ > 0 { PercentileMode::Window } else { PercentileMode::Cumulative }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const HEADER: &str = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size";

    fn agg(ts: i64, users: u32, p50: &str, total: u64, fails: u64, median: &str) -> String {
        format!(
            "{ts},{users},,Aggregated,10.0,0.0,{p50},60,70,80,90,100,110,120,130,140,150,{total},{fails},{median},50.0,10,150,3"
        )
    }

    #[test]
    fn reads_aggregated_rows_and_detects_cumulative() {
        let text = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            agg(100, 0, "N/A", 0, 0, "0"),
            agg(101, 10, "48", 10, 0, "48"),
            agg(102, 10, "49", 20, 1, "49")
        );
        let h = parse(&text, "x.csv").unwrap();
        assert_eq!(h.rows.len(), 3);
        assert_eq!(h.mode, PercentileMode::Cumulative);
        assert_eq!(h.levels.len(), 11);
        assert_eq!(h.rows[0].percentiles[0], None);
        assert_eq!(h.rows[2].percentiles[h.level_index(0.5).unwrap()], Some(49.0));
        assert_eq!(h.rows[2].line, 4);
        assert_eq!((h.rows[2].total_requests, h.rows[2].total_failures), (20, 1));
    }

    #[test]
    fn endpoint_rows_or_drifting_median_mean_window() {
        let endpoint =
            "101,10,GET,/work,10.0,0.0,48,60,70,80,90,100,110,120,130,140,150,10,0,48,50.0,10,150,3";
        let text = format!("{HEADER}\n{endpoint}\n{}\n", agg(101, 10, "48", 10, 0, "48"));
        assert_eq!(parse(&text, "x.csv").unwrap().mode, PercentileMode::Window);
        let text =
            format!("{HEADER}\n{}\n{}\n", agg(101, 10, "48", 10, 0, "48"), agg(102, 10, "90", 20, 0, "50"));
        assert_eq!(parse(&text, "x.csv").unwrap().mode, PercentileMode::Window);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = parse("", "empty.csv").unwrap_err().to_string();
        assert!(e.contains("empty.csv") && e.contains("empty"), "{e}");
        let e = parse("a,b,c\n1,2,3\n", "other.csv").unwrap_err().to_string();
        assert!(e.contains("other.csv:1") && e.contains("Timestamp"), "{e}");
        let bad = agg(101, 10, "fast", 10, 0, "48");
        let e = parse(&format!("{HEADER}\n{}\n{bad}\n", agg(100, 10, "48", 5, 0, "48")), "b.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("b.csv:3") && e.contains("`50%`") && e.contains("fast"), "{e}");
        let e = parse(
            &format!("{HEADER}\n{}\n{}\n", agg(101, 10, "48", 10, 0, "48"), agg(100, 10, "48", 20, 0, "48")),
            "t.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("t.csv:3") && e.contains("Timestamp"), "{e}");
        let e = parse(&format!("{HEADER}\n1,2,3\n"), "short.csv").unwrap_err().to_string();
        assert!(e.contains("short.csv:2") && e.contains("malformed"), "{e}");
        let e = parse(&format!("{HEADER}\n"), "none.csv").unwrap_err().to_string();
        assert!(e.contains("none.csv") && e.contains("Aggregated"), "{e}");
    }
}
