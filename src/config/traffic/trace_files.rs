//! Reading trace files, the only file I/O of the traffic subsystem: one file of any format
//! (gzip decompressed transparently), and for the production-traffic formats `prometheus`,
//! `grafana_csv`, `access_log` and `azure_functions` the whole reading of their files.
//!
//! This is the I/O edge of those formats: paths relative to the scenario's folder, globs over
//! several files (`access_log`, `azure_functions`), transparent gzip and size caps (all through
//! [`crate::input`]), merging files in time or day order, and locating each parser error in its
//! file. The parsing itself is pure, in [`crate::traffic::trace`].

use super::checks::{TrafficConfigError, fail};
use crate::config::raw::traffic::{AccessLogTrace, AzureFunctionsTrace, GrafanaCsvTrace, PrometheusTrace};
use crate::traffic::trace::access_log::{self, LogFormat, ParsedLog};
use crate::traffic::trace::azure_functions::{self, Selection, TRIGGERS};
use crate::traffic::trace::counts::CountSeries;
use crate::traffic::trace::prometheus::{self, GridOptions, MetricTrace, Missing, Values};
use crate::traffic::trace::summary::TraceInfo;
use crate::traffic::trace::{RequestTrace, TraceError};
use std::path::{Path, PathBuf};

/// The text of the trace file at `path`, relative to `base_dir`, and its name for messages.
pub(super) fn read(base_dir: &Path, path: &str) -> Result<(String, String), TrafficConfigError> {
    read_path(&base_dir.join(path), false)
}

/// The text of the trace file `full` (gzip decompressed transparently) and its name for
/// messages; `lossy` replaces invalid UTF-8 instead of refusing it (logs).
pub(super) fn read_path(full: &Path, lossy: bool) -> Result<(String, String), TrafficConfigError> {
    let shown = full.display().to_string();
    let kind = crate::input::InputKind::Trace;
    let read = if lossy {
        crate::input::read_text_gz_lossy(full, kind)
    } else {
        crate::input::read_text_gz(full, kind)
    };
    match read {
        Ok(text) => Ok((text, shown)),
        Err(e) => fail("traffic.trace.path", format!("`{shown}`: {}", e.message)),
    }
}

/// A parser error, located as `file:line:column:` (or `file:` when it names a field instead).
pub(super) fn trace_error(file: &str, e: TraceError) -> TrafficConfigError {
    // The location once (`file:line:column`), then the column's name, then the message.
    let loc = match &e.column {
        _ if e.line == 0 => file.to_string(),
        Some((c, name)) => format!("{file}:{}:{c}: column `{name}`", e.line),
        None => format!("{file}:{}", e.line),
    };
    TrafficConfigError { key: "traffic.trace.path".into(), message: format!("{loc}: {}", e.message) }
}

/// The files `pattern` names (a glob is allowed), relative to `base_dir`, and a note for
/// `validate` when some matches were other names of files already read.
fn files(base_dir: &Path, pattern: &str) -> Result<(Vec<PathBuf>, Option<String>), TrafficConfigError> {
    let e = crate::input::expand(base_dir, pattern).map_err(|e| TrafficConfigError {
        key: "traffic.trace.path".into(),
        message: format!("`{}`: {}", e.path.display(), e.message),
    })?;
    let note = e.same_as.first().map(|(skipped, kept)| {
        let more = match e.same_as.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        format!("`{}`{more} read once: the same file as `{}` (a link)", skipped.display(), kept.display())
    });
    Ok((e.files, note))
}

fn values_note(values: Values) -> Option<String> {
    (values == Values::Count).then(|| "values are counts per step".to_string())
}

fn metric_info(format: &'static str, m: &MetricTrace, missing: Missing, values: Values) -> TraceInfo {
    let step = humantime::format_duration(std::time::Duration::from_millis(m.step_ms as u64)).to_string();
    let mut info = TraceInfo::of_series(format, &m.series, &format!("{step} step"));
    info.start_ms = Some(m.start_ms);
    let what = if format == "prometheus" { "series" } else { "column(s)" };
    info.notes.push(format!("{} {what} summed, step {step}", m.summed));
    if let Some(n) = values_note(values) {
        info.notes.push(n);
    }
    if m.filled > 0 {
        let how = if missing == Missing::Hold { "held at the last value" } else { "taken as 0" };
        info.notes.push(format!("{} missing point(s) {how}", m.filled));
    }
    info
}

/// Reads a `prometheus` trace.
pub(super) fn prometheus(
    base_dir: &Path,
    t: &PrometheusTrace,
) -> Result<(MetricTrace, TraceInfo), TrafficConfigError> {
    let (text, shown) = read_path(&base_dir.join(&t.path), false)?;
    if let Err((line, why)) = crate::input::check_nesting(&text) {
        return fail("traffic.trace.path", format!("{shown}:{line}: the JSON {why}"));
    }
    let opts = GridOptions { values: t.values, missing: t.missing };
    let m = prometheus::parse_prometheus(&text, &t.series, opts).map_err(|e| trace_error(&shown, e))?;
    let info = metric_info("prometheus", &m, t.missing, t.values);
    Ok((m, info))
}

/// Reads a `grafana_csv` trace.
pub(super) fn grafana_csv(
    base_dir: &Path,
    t: &GrafanaCsvTrace,
) -> Result<(MetricTrace, TraceInfo), TrafficConfigError> {
    let (text, shown) = read_path(&base_dir.join(&t.path), false)?;
    let opts = GridOptions { values: t.values, missing: t.missing };
    let m = prometheus::parse_grafana_csv(&text, &t.time_column, &t.columns, opts)
        .map_err(|e| trace_error(&shown, e))?;
    let info = metric_info("grafana_csv", &m, t.missing, t.values);
    Ok((m, info))
}

/// Reads an `access_log` trace: every file of the glob, merged in arrival order.
pub(super) fn access_log(
    base_dir: &Path,
    t: &AccessLogTrace,
) -> Result<(RequestTrace, TraceInfo), TrafficConfigError> {
    let mut size_fields = Vec::new();
    for (i, name) in t.size_columns.iter().enumerate() {
        let key = format!("traffic.trace.size_columns[{i}]");
        match t.log_format.size_field(name) {
            Some(fi) => size_fields.push((name.clone(), fi)),
            None => {
                let known: Vec<String> =
                    t.log_format.size_fields().iter().map(|n| format!("\"{n}\"")).collect();
                return fail(
                    &key,
                    format!(
                        "found \"{name}\", expected a numeric field of the {} log: {}",
                        format_name(t.log_format),
                        known.join(", ")
                    ),
                );
            }
        }
    }
    if size_fields.len() > crate::traffic::MAX_SIZES {
        return fail(
            "traffic.trace.size_columns",
            format!("found {} columns, expected at most {}", size_fields.len(), crate::traffic::MAX_SIZES),
        );
    }
    let (paths, same_note) = files(base_dir, &t.path)?;
    let mut parts: Vec<ParsedLog> = Vec::with_capacity(paths.len());
    let (mut skipped, mut first_skipped, mut undefined) = (0u64, None, 0u64);
    for p in &paths {
        let (text, shown) = read_path(p, true)?;
        let part = access_log::parse_log(&text, t.log_format, &size_fields, t.skip_malformed)
            .map_err(|e| trace_error(&shown, e))?;
        skipped += part.skipped;
        undefined += part.undefined_sizes;
        if first_skipped.is_none()
            && let Some((line, why)) = &part.first_skipped
        {
            first_skipped = Some(format!("{shown}:{line}: {why}"));
        }
        parts.push(part);
    }
    let requests: usize = parts.iter().map(|p| p.micros.len()).sum();
    if requests == 0 {
        let why = if skipped > 0 { format!(" ({skipped} malformed lines skipped)") } else { String::new() };
        return fail(
            "traffic.trace.path",
            format!(
                "`{}`: found no requests in {} file(s){why}, expected at least one line",
                base_dir.join(&t.path).display(),
                paths.len()
            ),
        );
    }
    // The span, checked before the merge: a corrupt year in one line must not become a trace
    // of millennia (every later figure is in seconds from the first request).
    let ends = |pick: fn(&ParsedLog) -> Option<i64>, later: bool| {
        parts
            .iter()
            .zip(&paths)
            .filter_map(|(p, path)| pick(p).map(|t| (t, path)))
            .reduce(|a, b| if (b.0 > a.0) == later { b } else { a })
    };
    if let (Some((lo, lo_file)), Some((hi, hi_file))) =
        (ends(|p| p.micros.iter().copied().min(), false), ends(|p| p.micros.iter().copied().max(), true))
    {
        let span = (i128::from(hi) - i128::from(lo)) as f64 * 1e-6;
        if span > crate::time::MAX_VALUE_SECS {
            let when = |us: i64| {
                chrono::DateTime::from_timestamp_micros(us)
                    .map_or(format!("{us} µs"), |d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            };
            return fail(
                "traffic.trace.path",
                format!(
                    "found requests from {} (`{}`) to {} (`{}`), {:.0} days apart; expected a trace spanning \
                     at most 3660 days (the longest simulation): check those files' timestamps",
                    when(lo),
                    lo_file.display(),
                    when(hi),
                    hi_file.display(),
                    span / 86_400.0
                ),
            );
        }
    }
    let (trace, first) = access_log::assemble(parts, t.log_format, t.size_columns.clone());
    let mut info = TraceInfo::of_requests("access_log", &trace);
    info.files = paths.len();
    info.start_ms = Some(first.div_euclid(1000));
    let merged = if paths.len() == 1 { "" } else { ", files merged in time order" };
    info.notes.push(format!("{} log{merged}", format_name(t.log_format)));
    if t.log_format == LogFormat::Combined {
        info.notes.push("1 s timestamps spread evenly within their second".into());
    }
    info.notes.extend(same_note);
    if undefined > 0 {
        let fields: Vec<&str> = t.size_columns.iter().map(String::as_str).collect();
        info.notes
            .push(format!("{undefined} size value(s) of {} were -1 or `-` (taken as 0)", fields.join(", ")));
    }
    info.skipped = skipped;
    info.first_skipped = first_skipped;
    Ok((trace, info))
}

fn format_name(f: LogFormat) -> &'static str {
    match f {
        LogFormat::Combined => "combined",
        LogFormat::Alb => "ALB",
    }
}

/// Reads an `azure_functions` trace: the day files of the glob, in day order.
pub(super) fn azure_functions(
    base_dir: &Path,
    t: &AzureFunctionsTrace,
) -> Result<(CountSeries, TraceInfo), TrafficConfigError> {
    if let Some(tr) = &t.trigger
        && !TRIGGERS.contains(&tr.as_str())
    {
        let known: Vec<String> = TRIGGERS.iter().map(|n| format!("\"{n}\"")).collect();
        return fail(
            "traffic.trace.trigger",
            format!("found \"{tr}\", expected one of {}", known.join(", ")),
        );
    }
    for (key, v) in [("function", &t.function), ("app", &t.app)] {
        if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return fail(
                &format!("traffic.trace.{key}"),
                "found an empty string, expected a hash from the trace".into(),
            );
        }
    }
    let (paths, same_note) = files(base_dir, &t.path)?;
    let mut days: Vec<(u32, &PathBuf)> = Vec::with_capacity(paths.len());
    let single_day = paths.len() == 1;
    if single_day {
        days.push((azure_functions::day_number(&file_name(&paths[0])).unwrap_or(0), &paths[0]));
    } else {
        for p in &paths {
            let Some(d) = azure_functions::day_number(&file_name(p)) else {
                return fail(
                    "traffic.trace.path",
                    format!(
                        "`{}`: cannot tell which day this file is, expected a name ending in .dNN.csv (like invocations_per_function_md.anon.d01.csv) when the path matches several files",
                        p.display()
                    ),
                );
            };
            days.push((d, p));
        }
        days.sort_by_key(|(d, _)| *d);
        for w in days.windows(2) {
            if w[1].0 == w[0].0 {
                return fail(
                    "traffic.trace.path",
                    format!(
                        "found day {} twice (`{}` and `{}`), expected one file per day",
                        w[0].0,
                        w[0].1.display(),
                        w[1].1.display()
                    ),
                );
            }
            if w[1].0 != w[0].0 + 1 {
                return fail(
                    "traffic.trace.path",
                    format!(
                        "found days {} and {} but none between (`{}`, `{}`), expected consecutive days",
                        w[0].0,
                        w[1].0,
                        w[0].1.display(),
                        w[1].1.display()
                    ),
                );
            }
        }
    }
    let sel =
        Selection { function: t.function.as_deref(), app: t.app.as_deref(), trigger: t.trigger.as_deref() };
    let mut counts = Vec::with_capacity(days.len() * azure_functions::MINUTES);
    let (mut rows, mut matched, mut total) = (0u64, 0u64, 0u64);
    for (_, p) in &days {
        let (text, shown) = read_path(p, false)?;
        // The days before count toward the trace's limit on requests (checked in the parser).
        let day = azure_functions::parse_day(&text, sel, total).map_err(|e| trace_error(&shown, e))?;
        rows = rows.saturating_add(day.rows);
        matched = matched.saturating_add(day.matched);
        total = total.saturating_add(day.total);
        counts.extend_from_slice(&day.counts);
    }
    let mut wanted = Vec::new();
    for (k, v) in [("function", &t.function), ("app", &t.app), ("trigger", &t.trigger)] {
        if let Some(v) = v {
            wanted.push(format!("{k} = \"{v}\""));
        }
    }
    if matched == 0 {
        return fail(
            "traffic.trace.path",
            format!(
                "`{}`: no row of {} file(s) ({rows} rows) has {}, expected at least one",
                base_dir.join(&t.path).display(),
                days.len(),
                if wanted.is_empty() { "any data".to_string() } else { wanted.join(" and ") }
            ),
        );
    }
    let data = CountSeries { bin: 60.0, counts };
    let mut info = TraceInfo::of_counts("azure_functions", &data, "minute");
    info.files = days.len();
    let span = match (days.first(), days.last()) {
        (Some(a), Some(b)) if !single_day => format!("days d{:02}–d{:02}", a.0, b.0),
        (Some((d, _)), _) if *d > 0 => format!("day d{d:02}"),
        _ => "1 day".to_string(),
    };
    let selection = if wanted.is_empty() { "all rows".to_string() } else { wanted.join(", ") };
    info.notes.push(format!("{span}: {matched} of {rows} rows summed ({selection})"));
    info.notes.push("exact counts per minute at seeded uniform times within each minute".into());
    info.notes.extend(same_note);
    Ok((data, info))
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}
