//! `[traffic.trace]`: the replay options every format shares, and each format's trace (read
//! through `trace_files`) built into a [`TrafficSpec`] — a rate series replayed under
//! the arrival process, a request trace replayed exactly, or exact counts per bin.

use super::checks::{TrafficConfigError, duration, fail, non_negative, positive};
use super::trace_files::{self, read, trace_error};
use crate::config::raw::traffic::{TraceConfig, TrafficConfig};
use crate::traffic::RateSeries;
use crate::traffic::noise::NoiseSpec;
use crate::traffic::trace::summary::TraceInfo;
use crate::traffic::trace::{self, RateColumns, ReplayOptions, RequestTrace};
use crate::traffic::{Process, Shape, TrafficSpec};
use std::path::Path;
use std::sync::Arc;

/// Checked replay options common to every trace format.
fn replay_options(
    speedup: f64,
    scale: f64,
    looping: bool,
    start_offset: &str,
) -> Result<ReplayOptions, TrafficConfigError> {
    Ok(ReplayOptions {
        speedup: positive(speedup, "traffic.trace.speedup", "a speed-up factor")?,
        scale: non_negative(scale, "traffic.trace.scale", "a traffic multiplier")?,
        looping,
        start_offset: duration(start_offset, "traffic.trace.start_offset")?,
    })
}

/// Refuses a speed-up that plays the whole trace (`span` seconds of trace time) in less than the
/// simulation's 1 µs time step: every request of a lap would land on one instant, so the replay
/// would no longer have the trace's shape (and a loop would repeat it astronomically often).
fn check_speedup(opts: &ReplayOptions, span: f64) -> Result<(), TrafficConfigError> {
    let lap = span / opts.speedup;
    if span > 0.0 && lap < 1e-6 {
        return fail(
            "traffic.trace.speedup",
            format!(
                "found {}, which plays the trace's {} s in {lap:.1e} s, less than the simulation's time step \
                 of 1 µs (every request would arrive at the same instant); expected a speed-up of at most {}",
                crate::time::fmt_big(opts.speedup),
                crate::time::fmt_big(span),
                crate::time::fmt_big((span * 1e6).floor())
            ),
        );
    }
    Ok(())
}

/// How many leading size columns must be whole token counts (an LLM service's prompt and
/// output tokens).
fn tokens(cfg: &TrafficConfig) -> usize {
    if cfg.tokens_required { 2 } else { 0 }
}

/// Reads the trace `t` of `[traffic.trace]` (in `cfg`, the whole section) and builds its spec
/// (scaled by `traffic.scale` later).
pub(super) fn trace_spec(
    cfg: &TrafficConfig,
    t: &TraceConfig,
    base_dir: &Path,
    process: Process,
    noise: Option<NoiseSpec>,
) -> Result<TrafficSpec, TrafficConfigError> {
    let rate_series =
        matches!(t, TraceConfig::RateCsv(_) | TraceConfig::Prometheus(_) | TraceConfig::GrafanaCsv(_));
    if !rate_series {
        if cfg.arrival.is_some() {
            return fail(
                "traffic.arrival",
                "found an arrival process, but this trace's requests are replayed exactly; remove traffic.arrival"
                    .into(),
            );
        }
        if cfg.noise.is_some() {
            return fail(
                "traffic.noise",
                "found noise, but this trace's requests are replayed exactly; remove traffic.noise".into(),
            );
        }
    }
    let spec = match t {
        TraceConfig::RateCsv(r) => {
            let opts = replay_options(r.speedup, r.scale, r.looping, &r.start_offset)?;
            let (value, is_count) = match (&r.rate_column, &r.count_column) {
                (Some(_), Some(_)) => {
                    return fail(
                        "traffic.trace.count_column",
                        "found both rate_column and count_column, expected one".into(),
                    );
                }
                (Some(c), None) => (c.as_str(), false),
                (None, Some(c)) => (c.as_str(), true),
                (None, None) => ("rate", false),
            };
            let (text, shown) = read(base_dir, &r.path)?;
            let cols = RateColumns { time: &r.time_column, value, is_count };
            let data = trace::parse_rate_csv(&text, cols).map_err(|e| trace_error(&shown, e))?;
            let info = TraceInfo::of_series("rate_csv", &data, "interval");
            series_spec(data, opts, &r.start_offset, process, noise)?.with_info(info)
        }
        TraceConfig::Prometheus(p) => {
            let opts = replay_options(p.speedup, p.scale, p.looping, &p.start_offset)?;
            let (m, info) = trace_files::prometheus(base_dir, p)?;
            series_spec(m.series, opts, &p.start_offset, process, noise)?.with_info(info)
        }
        TraceConfig::GrafanaCsv(g) => {
            let opts = replay_options(g.speedup, g.scale, g.looping, &g.start_offset)?;
            let (m, info) = trace_files::grafana_csv(base_dir, g)?;
            series_spec(m.series, opts, &g.start_offset, process, noise)?.with_info(info)
        }
        TraceConfig::RequestsCsv(r) => {
            if r.size_columns.len() > crate::traffic::MAX_SIZES {
                return fail(
                    "traffic.trace.size_columns",
                    format!(
                        "found {} columns, expected at most {}",
                        r.size_columns.len(),
                        crate::traffic::MAX_SIZES
                    ),
                );
            }
            let opts = replay_options(r.speedup, r.scale, r.looping, &r.start_offset)?;
            let (text, shown) = read(base_dir, &r.path)?;
            let parsed = trace::parse_requests_csv(&text, &r.time_column, &r.size_columns, tokens(cfg))
                .map_err(|e| trace_error(&shown, e))?;
            let info = TraceInfo::of_requests("requests_csv", &parsed);
            replay_spec(&r.path, parsed, opts)?.with_info(info)
        }
        TraceConfig::AzureLlm(r) => {
            let opts = replay_options(r.speedup, r.scale, r.looping, &r.start_offset)?;
            let (text, shown) = read(base_dir, &r.path)?;
            let parsed = trace::parse_azure_llm(&text, tokens(cfg)).map_err(|e| trace_error(&shown, e))?;
            let info = TraceInfo::of_requests("azure_llm", &parsed);
            replay_spec(&r.path, parsed, opts)?.with_info(info)
        }
        TraceConfig::AccessLog(a) => {
            let opts = replay_options(a.speedup, a.scale, a.looping, &a.start_offset)?;
            let (parsed, info) = trace_files::access_log(base_dir, a)?;
            replay_spec(&a.path, parsed, opts)?.with_info(info)
        }
        TraceConfig::AzureFunctions(a) => {
            let opts = replay_options(a.speedup, a.scale, a.looping, &a.start_offset)?;
            let (data, info) = trace_files::azure_functions(base_dir, a)?;
            let span = data.span();
            check_speedup(&opts, span)?;
            if !opts.looping && opts.start_offset >= span {
                return fail(
                    "traffic.trace.start_offset",
                    format!(
                        "found \"{}\", expected less than the trace's length ({span} s) unless loop = true",
                        a.start_offset
                    ),
                );
            }
            TrafficSpec::counts(Arc::new(data), opts).with_info(info)
        }
    };
    Ok(spec)
}

/// A rate series replayed under `process` (with `noise`), offset, sped up, scaled and looped.
fn series_spec(
    data: RateSeries,
    opts: ReplayOptions,
    start_offset: &str,
    process: Process,
    noise: Option<NoiseSpec>,
) -> Result<TrafficSpec, TrafficConfigError> {
    check_speedup(&opts, data.end - data.starts.first().copied().unwrap_or(0.0))?;
    if !opts.looping && opts.start_offset >= data.end {
        return fail(
            "traffic.trace.start_offset",
            format!(
                "found \"{start_offset}\", expected less than the trace's length ({} s) unless loop = true",
                data.end
            ),
        );
    }
    let shape = Shape::Series {
        data: Arc::new(data),
        offset: opts.start_offset,
        speedup: opts.speedup,
        looping: opts.looping,
    };
    let shape =
        if opts.scale == 1.0 { shape } else { Shape::Scale { factor: opts.scale, of: Arc::new(shape) } };
    Ok(TrafficSpec::from_shape(shape, process, noise))
}

/// A request trace replayed exactly; `path` names it in messages.
fn replay_spec(
    path: &str,
    parsed: RequestTrace,
    opts: ReplayOptions,
) -> Result<TrafficSpec, TrafficConfigError> {
    check_speedup(&opts, parsed.period().unwrap_or(0.0))?;
    if opts.looping && parsed.period().is_none() {
        return fail(
            "traffic.trace.loop",
            format!("found loop = true, but `{path}` spans no time, so it cannot repeat"),
        );
    }
    let last = parsed.times.last().copied().unwrap_or(0.0);
    if !opts.looping && opts.start_offset > last {
        return fail(
            "traffic.trace.start_offset",
            format!(
                "found a start offset past the trace's last request ({last} s), expected less unless loop = true"
            ),
        );
    }
    Ok(TrafficSpec::replay(Arc::new(parsed), opts))
}
