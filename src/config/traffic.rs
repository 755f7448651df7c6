//! The `[traffic]` section of a scenario file (serde types), turned into a [`TrafficSpec`].
//!
//! This module owns the traffic keys: their serde types (every table denies unknown keys, and
//! variants are internally tagged — `shape = "daily"`, `process = "bursty"`, `format =
//! "azure_llm"` — so serde names the unknown key and the expected ones), their checks (each error
//! names the dotted key), the only file I/O of the traffic subsystem (reading trace files relative
//! to the scenario's folder; parsing itself is pure, in [`crate::traffic::trace`]), and the key
//! reference [`key_docs`].

use super::files::Files;
use super::keys::KeyDoc;
use super::traces::{AccessLogTrace, AzureFunctionsTrace, GrafanaCsvTrace, PrometheusTrace};
use crate::time::{Clock, Time};
use crate::traffic::RateSeries;
use crate::traffic::noise::NoiseSpec;
use crate::traffic::trace::summary::TraceInfo;
use crate::traffic::trace::{self, RateColumns, ReplayOptions, RequestTrace, TraceError};
use crate::traffic::{Process, Shape, TrafficSpec};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, de::value::MapAccessDeserializer};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub(super) fn one() -> f64 {
    1.0
}

/// The `[traffic]` table as written. Exactly one of `rate` and `trace` must be given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficConfig {
    /// Multiplies all traffic (synthetic or recorded); default 1.
    #[serde(default = "one")]
    pub scale: f64,
    /// Arrival process over the rate; default Poisson.
    #[serde(default)]
    pub arrival: Option<ArrivalConfig>,
    /// The rate shape (a number is a constant rate).
    #[serde(default)]
    pub rate: Option<RateConfig>,
    /// Optional multiplicative random-walk noise on the rate.
    #[serde(default)]
    pub noise: Option<NoiseConfig>,
    /// A recorded trace instead of a rate shape.
    #[serde(default)]
    pub trace: Option<TraceConfig>,
}

/// `traffic.arrival`: a process name, or a table tagged by `process`.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrivalConfig {
    /// Non-homogeneous Poisson.
    Poisson,
    /// Evenly spaced in integrated-rate time.
    Uniform,
    /// Gamma renewal process with inter-arrival coefficient of variation `cv`.
    Bursty {
        /// Coefficient of variation (> 0).
        cv: f64,
    },
}

/// The largest `cv` of the bursty process: above it a gamma renewal process with a day's worth
/// of arrivals is dominated by a handful of gaps.
pub const MAX_BURSTY_CV: f64 = 10.0;

/// Default `cv` of the bursty process.
pub const DEFAULT_CV: f64 = 2.0;

fn default_cv() -> f64 {
    DEFAULT_CV
}

/// Table form of `traffic.arrival`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "process", rename_all = "snake_case")]
enum ArrivalTable {
    Poisson(EmptyTable),
    Uniform(EmptyTable),
    Bursty(BurstyTable),
}

/// A variant without keys of its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyTable {}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct BurstyTable {
    #[serde(default = "default_cv")]
    cv: f64,
}

impl<'de> Deserialize<'de> for ArrivalConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ArrivalConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    r#""poisson", "uniform", "bursty" or a table like { process = "bursty", cv = 2.0 }"#,
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ArrivalConfig, E> {
                match v {
                    "poisson" => Ok(ArrivalConfig::Poisson),
                    "uniform" => Ok(ArrivalConfig::Uniform),
                    "bursty" => Ok(ArrivalConfig::Bursty { cv: DEFAULT_CV }),
                    _ => Err(E::unknown_variant(v, &["poisson", "uniform", "bursty"])),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ArrivalConfig, A::Error> {
                Ok(match ArrivalTable::deserialize(MapAccessDeserializer::new(map))? {
                    ArrivalTable::Poisson(_) => ArrivalConfig::Poisson,
                    ArrivalTable::Uniform(_) => ArrivalConfig::Uniform,
                    ArrivalTable::Bursty(b) => ArrivalConfig::Bursty { cv: b.cv },
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A rate: a number (constant requests per second) or a shape table tagged by `shape`.
#[derive(Debug, Clone, PartialEq)]
pub enum RateConfig {
    /// A constant rate.
    Number(f64),
    /// A shape table.
    Shape(ShapeConfig),
}

impl<'de> Deserialize<'de> for RateConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RateConfig;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    r#"a number of requests per second or a shape table like { shape = "daily", ... }"#,
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RateConfig, E> {
                Ok(RateConfig::Number(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RateConfig, E> {
                Ok(RateConfig::Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RateConfig, E> {
                Ok(RateConfig::Number(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RateConfig, A::Error> {
                ShapeConfig::deserialize(MapAccessDeserializer::new(map)).map(RateConfig::Shape)
            }
        }
        d.deserialize_any(V)
    }
}

/// A shape table, tagged by `shape`. Durations are strings like `"30s"`, `"5m"`, `"24h"`,
/// measured from the start of the simulation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum ShapeConfig {
    /// `shape = "constant"`.
    Constant(ConstantShape),
    /// `shape = "steps"`.
    Steps(PointsShape),
    /// `shape = "piecewise"`.
    Piecewise(PointsShape),
    /// `shape = "ramp"`.
    Ramp(RampShape),
    /// `shape = "daily"`.
    Daily(DailyShape),
    /// `shape = "sine"`.
    Sine(SineShape),
    /// `shape = "spike"`.
    Spike(SpikeShape),
    /// `shape = "sum"`.
    Sum(SumShape),
    /// `shape = "scale"`.
    Scale(ScaleShape),
}

/// Keys of `shape = "constant"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstantShape {
    /// Requests per second.
    pub rate: f64,
}

/// Keys of `shape = "steps"` and `shape = "piecewise"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsShape {
    /// `[time, rate]` pairs, times increasing.
    pub points: Vec<(String, f64)>,
}

/// Keys of `shape = "ramp"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RampShape {
    /// Rate before `start`.
    pub from: f64,
    /// Rate after `end`.
    pub to: f64,
    /// When the ramp begins.
    pub start: String,
    /// When the ramp ends.
    pub end: String,
}

pub(super) fn zero_duration() -> String {
    "0s".into()
}

/// Keys of `shape = "daily"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailyShape {
    /// Lowest weekday rate.
    pub trough: f64,
    /// Highest weekday rate.
    pub peak: f64,
    /// Local hour of the peak.
    pub peak_hour: f64,
    /// Multiplier on Saturdays and Sundays.
    #[serde(default = "one")]
    pub weekend_factor: f64,
}

/// Keys of `shape = "sine"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SineShape {
    /// Mean rate.
    pub mean: f64,
    /// Amplitude (rates below 0 are clipped).
    pub amplitude: f64,
    /// Period.
    pub period: String,
    /// Time of the first peak.
    #[serde(default = "zero_duration")]
    pub phase: String,
}

/// Keys of `shape = "spike"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeShape {
    /// The shape the spike multiplies.
    pub base: Box<RateConfig>,
    /// When the spike begins.
    pub start: String,
    /// From `start` until the factor starts falling.
    pub length: String,
    /// Factor at full height.
    pub multiplier: f64,
    /// Time to reach full height.
    #[serde(default = "zero_duration")]
    pub rise: String,
    /// Time to return to 1 after `start + length`.
    #[serde(default = "zero_duration")]
    pub fall: String,
}

/// Keys of `shape = "sum"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SumShape {
    /// The shapes to add.
    pub of: Vec<RateConfig>,
}

/// Keys of `shape = "scale"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleShape {
    /// The factor.
    pub factor: f64,
    /// The scaled shape.
    pub base: Box<RateConfig>,
}

fn one_hour() -> String {
    "1h".into()
}

fn one_minute() -> String {
    "1m".into()
}

/// `[traffic.noise]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseConfig {
    /// Standard deviation of one step of the log-factor.
    pub sigma: f64,
    /// Time between changes of the factor.
    #[serde(default = "one_minute")]
    pub step: String,
    /// Mean-reversion time constant.
    #[serde(default = "one_hour")]
    pub reversion: String,
}

/// `[traffic.trace]`, tagged by `format`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum TraceConfig {
    /// A rate series CSV.
    RateCsv(RateCsvTrace),
    /// A CSV of per-request timestamps.
    RequestsCsv(RequestsCsvTrace),
    /// The Azure LLM inference trace.
    AzureLlm(AzureLlmTrace),
    /// The JSON of Prometheus' `/api/v1/query_range`.
    Prometheus(PrometheusTrace),
    /// A Grafana panel's CSV download.
    GrafanaCsv(GrafanaCsvTrace),
    /// nginx/Apache combined or AWS ALB access logs.
    AccessLog(AccessLogTrace),
    /// The Azure Functions 2019 invocation counts.
    AzureFunctions(AzureFunctionsTrace),
}

fn time_column() -> String {
    "time".into()
}

/// Keys of `format = "rate_csv"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateCsvTrace {
    /// File, relative to the scenario file.
    pub path: String,
    /// Time compression factor.
    #[serde(default = "one")]
    pub speedup: f64,
    /// Rate multiplier.
    #[serde(default = "one")]
    pub scale: f64,
    /// Repeat the trace to fill the horizon.
    #[serde(default, rename = "loop")]
    pub looping: bool,
    /// Trace time at simulated time 0.
    #[serde(default = "zero_duration")]
    pub start_offset: String,
    /// Column with each interval's start time.
    #[serde(default = "time_column")]
    pub time_column: String,
    /// Column with requests per second (default `rate` unless `count_column` is set).
    #[serde(default)]
    pub rate_column: Option<String>,
    /// Column with requests per interval (instead of a rate).
    #[serde(default)]
    pub count_column: Option<String>,
}

/// Keys of `format = "requests_csv"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestsCsvTrace {
    /// File, relative to the scenario file.
    pub path: String,
    /// Time compression factor.
    #[serde(default = "one")]
    pub speedup: f64,
    /// Traffic multiplier (requests replicated or thinned).
    #[serde(default = "one")]
    pub scale: f64,
    /// Repeat the trace to fill the horizon.
    #[serde(default, rename = "loop")]
    pub looping: bool,
    /// Trace time at simulated time 0.
    #[serde(default = "zero_duration")]
    pub start_offset: String,
    /// Column with each request's timestamp.
    #[serde(default = "time_column")]
    pub time_column: String,
    /// Numeric per-request size columns (at most 3), in `Arrival::sizes` order.
    #[serde(default)]
    pub size_columns: Vec<String>,
}

/// Keys of `format = "azure_llm"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureLlmTrace {
    /// File, relative to the scenario file.
    pub path: String,
    /// Time compression factor.
    #[serde(default = "one")]
    pub speedup: f64,
    /// Traffic multiplier (requests replicated or thinned).
    #[serde(default = "one")]
    pub scale: f64,
    /// Repeat the trace to fill the horizon.
    #[serde(default, rename = "loop")]
    pub looping: bool,
    /// Trace time at simulated time 0.
    #[serde(default = "zero_duration")]
    pub start_offset: String,
}

/// A traffic setting that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct TrafficConfigError {
    /// Dotted key, e.g. `traffic.trace.path`.
    pub key: String,
    /// What was found and what was expected.
    pub message: String,
}

pub(super) fn fail<T>(key: &str, message: String) -> Result<T, TrafficConfigError> {
    Err(TrafficConfigError { key: key.to_string(), message })
}

/// A duration string in seconds.
fn duration(s: &str, key: &str) -> Result<f64, TrafficConfigError> {
    match humantime::parse_duration(s.trim()) {
        Ok(d) => Ok(d.as_secs_f64()),
        Err(e) => fail(
            key,
            format!("found \"{s}\", expected a duration like \"250ms\", \"30s\", \"5m\" or \"24h\" ({e})"),
        ),
    }
}

fn positive_duration(s: &str, key: &str) -> Result<f64, TrafficConfigError> {
    let d = duration(s, key)?;
    if d > 0.0 { Ok(d) } else { fail(key, format!("found \"{s}\", expected a duration above zero")) }
}

fn non_negative(x: f64, key: &str, what: &str) -> Result<f64, TrafficConfigError> {
    if x.is_finite() && x >= 0.0 {
        Ok(x)
    } else {
        fail(key, format!("found {x}, expected {what} (0 or more)"))
    }
}

fn positive(x: f64, key: &str, what: &str) -> Result<f64, TrafficConfigError> {
    if x.is_finite() && x > 0.0 { Ok(x) } else { fail(key, format!("found {x}, expected {what} above 0")) }
}

/// Checks a rate config (at dotted `key`) and builds its shape.
fn build_shape(cfg: &RateConfig, key: &str) -> Result<Shape, TrafficConfigError> {
    let k = |name: &str| format!("{key}.{name}");
    let rate = |x: f64, name: &str| non_negative(x, &k(name), "a rate in requests per second");
    let shape = match cfg {
        RateConfig::Number(r) => Shape::Constant(non_negative(*r, key, "a rate in requests per second")?),
        RateConfig::Shape(s) => match s {
            ShapeConfig::Constant(c) => Shape::Constant(rate(c.rate, "rate")?),
            ShapeConfig::Steps(p) | ShapeConfig::Piecewise(p) => {
                let key = k("points");
                if p.points.is_empty() {
                    return fail(
                        &key,
                        "found an empty list, expected [time, rate] pairs like [\"0s\", 50.0]".into(),
                    );
                }
                let mut pts = Vec::with_capacity(p.points.len());
                for (i, (t, r)) in p.points.iter().enumerate() {
                    let ik = format!("{key}[{i}]");
                    let t = duration(t, &ik)?;
                    let r = non_negative(*r, &ik, "a rate in requests per second")?;
                    if let Some(&(prev, _)) = pts.last()
                        && t <= prev
                    {
                        return fail(
                            &ik,
                            format!("found time {t} s, expected a time after the previous point's {prev} s"),
                        );
                    }
                    pts.push((t, r));
                }
                if matches!(s, ShapeConfig::Steps(_)) {
                    Shape::Steps(pts.into())
                } else {
                    Shape::Piecewise(pts.into())
                }
            }
            ShapeConfig::Ramp(r) => {
                let start = duration(&r.start, &k("start"))?;
                let end = duration(&r.end, &k("end"))?;
                if end < start {
                    return fail(
                        &k("end"),
                        format!("found \"{}\", expected a time no earlier than start \"{}\"", r.end, r.start),
                    );
                }
                Shape::Ramp { from: rate(r.from, "from")?, to: rate(r.to, "to")?, start, end }
            }
            ShapeConfig::Daily(d) => {
                let trough = rate(d.trough, "trough")?;
                let peak = rate(d.peak, "peak")?;
                if peak < trough {
                    return fail(
                        &k("peak"),
                        format!("found {peak}, expected at least the trough ({trough})"),
                    );
                }
                if !(d.peak_hour.is_finite() && (0.0..24.0).contains(&d.peak_hour)) {
                    return fail(
                        &k("peak_hour"),
                        format!("found {}, expected an hour from 0 to below 24", d.peak_hour),
                    );
                }
                let weekend_factor = non_negative(d.weekend_factor, &k("weekend_factor"), "a factor")?;
                Shape::Daily { trough, peak, peak_hour: d.peak_hour, weekend_factor }
            }
            ShapeConfig::Sine(s) => Shape::Sine {
                mean: rate(s.mean, "mean")?,
                amplitude: non_negative(s.amplitude, &k("amplitude"), "an amplitude")?,
                period: positive_duration(&s.period, &k("period"))?,
                phase: duration(&s.phase, &k("phase"))?,
            },
            ShapeConfig::Spike(s) => {
                let length = duration(&s.length, &k("length"))?;
                let rise = duration(&s.rise, &k("rise"))?;
                if rise > length {
                    return fail(
                        &k("rise"),
                        format!("found \"{}\", expected at most the length \"{}\"", s.rise, s.length),
                    );
                }
                Shape::Spike {
                    base: Arc::new(build_shape(&s.base, &k("base"))?),
                    start: duration(&s.start, &k("start"))?,
                    length,
                    multiplier: non_negative(s.multiplier, &k("multiplier"), "a factor")?,
                    rise,
                    fall: duration(&s.fall, &k("fall"))?,
                }
            }
            ShapeConfig::Sum(s) => {
                if s.of.is_empty() {
                    return fail(&k("of"), "found an empty list, expected one or more shapes".into());
                }
                let parts: Result<Vec<Shape>, _> =
                    s.of.iter().enumerate().map(|(i, c)| build_shape(c, &format!("{key}.of[{i}]"))).collect();
                Shape::Sum(parts?.into())
            }
            ShapeConfig::Scale(s) => Shape::Scale {
                factor: non_negative(s.factor, &k("factor"), "a factor")?,
                of: Arc::new(build_shape(&s.base, &k("base"))?),
            },
        },
    };
    Ok(shape)
}

fn read(base_dir: &Path, path: &str) -> Result<(String, String), TrafficConfigError> {
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

impl TrafficConfig {
    /// Checks the section and builds the spec; trace paths are relative to `base_dir`, and a
    /// trace's traffic is built through `files` (once per section for every load sharing it).
    pub fn into_spec(
        self,
        base_dir: &Path,
        files: &Files,
        _clock: &Clock,
        _horizon: Time,
    ) -> Result<TrafficSpec, TrafficConfigError> {
        let scale = non_negative(self.scale, "traffic.scale", "a traffic multiplier")?;
        let process = match self.arrival {
            None | Some(ArrivalConfig::Poisson) => Process::Poisson,
            Some(ArrivalConfig::Uniform) => Process::Uniform,
            Some(ArrivalConfig::Bursty { cv }) => {
                let cv = positive(cv, "traffic.arrival.cv", "a coefficient of variation")?;
                if cv > MAX_BURSTY_CV {
                    return fail(
                        "traffic.arrival.cv",
                        format!(
                            "found {cv}, expected at most {MAX_BURSTY_CV}: gaps this irregular put almost all \
                             arrivals into a few bursts (or none into the run), so the traffic would not \
                             have the rate it declares"
                        ),
                    );
                }
                Process::Bursty { cv }
            }
        };
        let noise = match &self.noise {
            None => None,
            Some(n) => {
                let sigma = non_negative(n.sigma, "traffic.noise.sigma", "a standard deviation")?;
                if sigma > 2.0 {
                    return fail(
                        "traffic.noise.sigma",
                        format!("found {sigma}, expected at most 2 (log-space step)"),
                    );
                }
                Some(NoiseSpec {
                    sigma,
                    step: positive_duration(&n.step, "traffic.noise.step")?,
                    reversion: positive_duration(&n.reversion, "traffic.noise.reversion")?,
                })
            }
        };
        let spec = match (&self.rate, &self.trace) {
            (Some(_), Some(_)) => {
                return fail(
                    "traffic.trace",
                    "found both traffic.rate and traffic.trace, expected only one".into(),
                );
            }
            (None, None) => {
                return fail(
                    "traffic",
                    "found neither traffic.rate nor traffic.trace, expected one (e.g. rate = 100)".into(),
                );
            }
            (Some(rate), None) => TrafficSpec::from_shape(build_shape(rate, "traffic.rate")?, process, noise),
            (None, Some(t)) => {
                // Everything the trace's traffic depends on, `traffic.scale` aside (applied below).
                let key = format!("{}\0{t:?}\0{:?}\0{:?}", base_dir.display(), self.arrival, self.noise);
                files.trace(key, || self.trace_spec(t, base_dir, process, noise))?
            }
        };
        Ok(spec.scaled(scale))
    }
    /// Reads the trace of `[traffic.trace]` and builds its spec (scaled by `traffic.scale` later).
    fn trace_spec(
        &self,
        t: &TraceConfig,
        base_dir: &Path,
        process: Process,
        noise: Option<NoiseSpec>,
    ) -> Result<TrafficSpec, TrafficConfigError> {
        let rate_series =
            matches!(t, TraceConfig::RateCsv(_) | TraceConfig::Prometheus(_) | TraceConfig::GrafanaCsv(_));
        if !rate_series {
            if self.arrival.is_some() {
                return fail(
                    "traffic.arrival",
                    "found an arrival process, but this trace's requests are replayed exactly; remove traffic.arrival"
                        .into(),
                );
            }
            if self.noise.is_some() {
                return fail(
                    "traffic.noise",
                    "found noise, but this trace's requests are replayed exactly; remove traffic.noise"
                        .into(),
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
                let (m, info) = super::traces::prometheus(base_dir, p)?;
                series_spec(m.series, opts, &p.start_offset, process, noise)?.with_info(info)
            }
            TraceConfig::GrafanaCsv(g) => {
                let opts = replay_options(g.speedup, g.scale, g.looping, &g.start_offset)?;
                let (m, info) = super::traces::grafana_csv(base_dir, g)?;
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
                let parsed = trace::parse_requests_csv(&text, &r.time_column, &r.size_columns)
                    .map_err(|e| trace_error(&shown, e))?;
                let info = TraceInfo::of_requests("requests_csv", &parsed);
                replay_spec(&r.path, parsed, opts)?.with_info(info)
            }
            TraceConfig::AzureLlm(r) => {
                let opts = replay_options(r.speedup, r.scale, r.looping, &r.start_offset)?;
                let (text, shown) = read(base_dir, &r.path)?;
                let parsed = trace::parse_azure_llm(&text).map_err(|e| trace_error(&shown, e))?;
                let info = TraceInfo::of_requests("azure_llm", &parsed);
                replay_spec(&r.path, parsed, opts)?.with_info(info)
            }
            TraceConfig::AccessLog(a) => {
                let opts = replay_options(a.speedup, a.scale, a.looping, &a.start_offset)?;
                let (parsed, info) = super::traces::access_log(base_dir, a)?;
                replay_spec(&a.path, parsed, opts)?.with_info(info)
            }
            TraceConfig::AzureFunctions(a) => {
                let opts = replay_options(a.speedup, a.scale, a.looping, &a.start_offset)?;
                let (data, info) = super::traces::azure_functions(base_dir, a)?;
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

const SHAPE_EX: &str = r#"{ shape = "constant", rate = 50.0 }"#;

/// Every key of the `[traffic]` section.
pub fn key_docs() -> Vec<KeyDoc> {
    let d = |key, when, ty, default, meaning, example| KeyDoc { key, when, ty, default, meaning, example };
    vec![
        d(
            "traffic.scale",
            "",
            "float",
            "1.0",
            "Multiplies all traffic, synthetic or recorded (the what-if knob: 2 = twice the traffic). For request traces, see traffic.trace.scale for how requests are replicated.",
            "2.0",
        ),
        d(
            "traffic.arrival",
            "",
            "string or table",
            "\"poisson\"",
            "Arrival process over the rate: \"poisson\" (exact non-homogeneous Poisson), \"uniform\" (evenly spaced: one arrival each time the integrated rate grows by 1) or \"bursty\" (gamma renewal, cv 2), or a table tagged by `process`. Not allowed with a request trace.",
            "\"uniform\"",
        ),
        d(
            "traffic.arrival.process",
            "arrival is a table",
            "string",
            "required",
            "\"poisson\", \"uniform\" or \"bursty\".",
            "\"bursty\"",
        ),
        d(
            "traffic.arrival.cv",
            "process = \"bursty\"",
            "float",
            "2.0",
            "Coefficient of variation of inter-arrival times (gamma renewal in integrated-rate time); 1 is Poisson-like, above 1 is burstier.",
            "3.0",
        ),
        d(
            "traffic.rate",
            "",
            "float or table",
            "required unless traffic.trace",
            "The request rate: a number (constant requests per second) or a shape table tagged by `shape`. Shapes nest (spike and scale `base`, sum `of`) with the same keys.",
            "100.0",
        ),
        d(
            "traffic.rate.shape",
            "rate is a table",
            "string",
            "required",
            "One of \"constant\", \"steps\", \"piecewise\", \"ramp\", \"daily\", \"sine\", \"spike\", \"sum\", \"scale\".",
            "\"constant\"",
        ),
        d("traffic.rate.rate", "shape = \"constant\"", "float", "required", "Requests per second.", "50.0"),
        d(
            "traffic.rate.points",
            "shape = \"steps\" or \"piecewise\"",
            "array of [duration, float]",
            "required",
            "[time from start, rate] pairs with increasing times. steps: each rate holds until the next time (the first rate also before its time); piecewise: linear interpolation, constant beyond the ends.",
            "[[\"0s\", 50.0], [\"1h\", 120.0]]",
        ),
        d("traffic.rate.from", "shape = \"ramp\"", "float", "required", "Rate before `start`.", "10.0"),
        d(
            "traffic.rate.to",
            "shape = \"ramp\"",
            "float",
            "required",
            "Rate after `end`; linear in between.",
            "100.0",
        ),
        d(
            "traffic.rate.start",
            "shape = \"ramp\" or \"spike\"",
            "duration",
            "required",
            "Time from the start of the simulation when the ramp or spike begins.",
            "\"10m\"",
        ),
        d(
            "traffic.rate.end",
            "shape = \"ramp\"",
            "duration",
            "required",
            "Time from the start when the ramp reaches `to` (not before `start`).",
            "\"40m\"",
        ),
        d(
            "traffic.rate.trough",
            "shape = \"daily\"",
            "float",
            "required",
            "Lowest weekday rate, 12 hours from the peak (raised-cosine daily curve in the scenario's local time).",
            "50.0",
        ),
        d(
            "traffic.rate.peak",
            "shape = \"daily\"",
            "float",
            "required",
            "Highest weekday rate (at least the trough).",
            "200.0",
        ),
        d(
            "traffic.rate.peak_hour",
            "shape = \"daily\"",
            "float",
            "required",
            "Local hour of the peak, 0 to below 24 (fractional allowed).",
            "14.0",
        ),
        d(
            "traffic.rate.weekend_factor",
            "shape = \"daily\"",
            "float",
            "1.0",
            "Multiplies the rate on local Saturdays and Sundays.",
            "0.5",
        ),
        d(
            "traffic.rate.mean",
            "shape = \"sine\"",
            "float",
            "required",
            "Mean rate of mean + amplitude·cos(2π(t − phase)/period); negative values are clipped to 0.",
            "100.0",
        ),
        d(
            "traffic.rate.amplitude",
            "shape = \"sine\"",
            "float",
            "required",
            "Amplitude of the oscillation (0 or more).",
            "40.0",
        ),
        d(
            "traffic.rate.period",
            "shape = \"sine\"",
            "duration",
            "required",
            "Period of the oscillation.",
            "\"1h\"",
        ),
        d(
            "traffic.rate.phase",
            "shape = \"sine\"",
            "duration",
            "\"0s\"",
            "Time of the first peak.",
            "\"15m\"",
        ),
        d(
            "traffic.rate.base",
            "shape = \"spike\" or \"scale\"",
            "float or table",
            "required",
            "The shape that the spike or scale multiplies: a number or a shape table with the same keys as traffic.rate.",
            SHAPE_EX,
        ),
        d(
            "traffic.rate.length",
            "shape = \"spike\"",
            "duration",
            "required",
            "From `start` until the factor begins to fall back (includes `rise`).",
            "\"10m\"",
        ),
        d(
            "traffic.rate.multiplier",
            "shape = \"spike\"",
            "float",
            "required",
            "Factor on the base at full height (below 1 is a dip).",
            "10.0",
        ),
        d(
            "traffic.rate.rise",
            "shape = \"spike\"",
            "duration",
            "\"0s\"",
            "Time to climb linearly from 1 to the multiplier (\"1m\": ×10 within a minute); at most `length`.",
            "\"1m\"",
        ),
        d(
            "traffic.rate.fall",
            "shape = \"spike\"",
            "duration",
            "\"0s\"",
            "Time to return linearly to 1 after start + length.",
            "\"5m\"",
        ),
        d(
            "traffic.rate.of",
            "shape = \"sum\"",
            "array of float or table",
            "required",
            "The shapes to add (numbers or shape tables with the same keys as traffic.rate).",
            "[50.0, { shape = \"sine\", mean = 20.0, amplitude = 10.0, period = \"1h\" }]",
        ),
        d(
            "traffic.rate.factor",
            "shape = \"scale\"",
            "float",
            "required",
            "Multiplies the `base` shape.",
            "1.5",
        ),
        d(
            "traffic.noise",
            "",
            "table",
            "none",
            "Multiplicative noise on the rate: a mean-reverting random walk in log space (mean factor 1), from the seed's noise stream. Not allowed with a request trace.",
            "{ sigma = 0.05 }",
        ),
        d(
            "traffic.noise.sigma",
            "noise is set",
            "float",
            "required",
            "Standard deviation of one step of the log-factor (0 to 2).",
            "0.05",
        ),
        d(
            "traffic.noise.step",
            "noise is set",
            "duration",
            "\"1m\"",
            "Time between changes of the factor.",
            "\"30s\"",
        ),
        d(
            "traffic.noise.reversion",
            "noise is set",
            "duration",
            "\"1h\"",
            "Mean-reversion time: a deviation decays by 1/e over this time, which keeps the walk bounded.",
            "\"2h\"",
        ),
        d(
            "traffic.trace",
            "",
            "table",
            "none",
            "A recorded trace instead of traffic.rate, tagged by `format`.",
            "{ format = \"azure_llm\", path = \"trace.csv\" }",
        ),
        d(
            "traffic.trace.format",
            "trace is set",
            "string",
            "required",
            "Rate series (arrivals drawn by traffic.arrival): \"rate_csv\" (rate or count per interval), \"prometheus\" (the JSON of /api/v1/query_range), \"grafana_csv\" (a Grafana panel's CSV download). Replayed exactly: \"requests_csv\" (one row per request), \"azure_llm\" (Azure LLM inference trace; sizes = [ContextTokens, GeneratedTokens]), \"access_log\" (nginx/Apache combined or AWS ALB logs), \"azure_functions\" (Azure Functions 2019 per-minute invocation counts). See docs/traffic.md.",
            "\"requests_csv\"",
        ),
        d(
            "traffic.trace.path",
            "trace is set",
            "string",
            "required",
            "The trace file, relative to the scenario file's folder; gzip-compressed files are read transparently. access_log and azure_functions: a glob (`*`, `?`, `[…]`, `**`) may name several files, merged in time (day) order.",
            "\"../traces/azure-llm-2023/AzureLLMInferenceTrace_code.csv\"",
        ),
        d(
            "traffic.trace.speedup",
            "trace is set",
            "float",
            "1.0",
            "Time compression: the trace plays this many times faster (rate series: rates multiplied accordingly).",
            "2.0",
        ),
        d(
            "traffic.trace.scale",
            "trace is set",
            "float",
            "1.0",
            "Traffic multiplier. rate_csv: multiplies the rates. Request traces: each request is replayed ⌊scale⌋ times at its instant plus once more with probability scale − ⌊scale⌋ (from the seed), so scale < 1 thins the trace.",
            "1.5",
        ),
        d(
            "traffic.trace.loop",
            "trace is set",
            "boolean",
            "false",
            "Repeat the trace to fill the simulation. The period of a request trace is its span plus one mean gap.",
            "true",
        ),
        d(
            "traffic.trace.start_offset",
            "trace is set",
            "duration",
            "\"0s\"",
            "Skip this far into the trace. Time 0 of a trace is its first row or request; prometheus and grafana_csv: one step before the first timestamp; azure_functions: midnight starting the first day.",
            "\"10m\"",
        ),
        d(
            "traffic.trace.time_column",
            "format = \"rate_csv\" | \"requests_csv\" | \"grafana_csv\"",
            "string",
            "\"time\" (\"Time\" for grafana_csv)",
            "Column with the time: seconds, an RFC 3339 date-time, or YYYY-MM-DD HH:MM:SS[.f] (UTC); rate_csv: the start of each interval (an interval lasts until the next row; the last as long as the one before). grafana_csv: epoch milliseconds (the export with \"Formatted data\" off), RFC 3339 or YYYY-MM-DD HH:MM:SS; each value covers the step ending at its time.",
            "\"timestamp\"",
        ),
        d(
            "traffic.trace.rate_column",
            "format = \"rate_csv\"",
            "string",
            "\"rate\" (unless count_column)",
            "Column with requests per second.",
            "\"rps\"",
        ),
        d(
            "traffic.trace.count_column",
            "format = \"rate_csv\"",
            "string",
            "none",
            "Column with the number of requests in each interval (instead of rate_column).",
            "\"requests\"",
        ),
        d(
            "traffic.trace.size_columns",
            "format = \"requests_csv\" | \"access_log\"",
            "array of string",
            "[]",
            "Numeric per-request size columns (at most 3), carried in each arrival in this order (for a `linear` service.demand). access_log: fields by name — alb: \"target_processing_time\", \"request_processing_time\", \"response_processing_time\", \"received_bytes\", \"sent_bytes\" (-1 is taken as 0); combined: \"body_bytes_sent\".",
            "[\"prompt_tokens\", \"output_tokens\"]",
        ),
        d(
            "traffic.trace.series",
            "format = \"prometheus\"",
            "table of string",
            "{} (every series)",
            "Keep only the series whose labels include all these label = \"value\" pairs; the kept series are summed.",
            "{ pod = \"web-a\" }",
        ),
        d(
            "traffic.trace.values",
            "format = \"prometheus\" | \"grafana_csv\"",
            "string",
            "\"rate\"",
            "\"rate\": values are requests per second (rate(...)); \"count\": requests per step (increase(...) over the step).",
            "\"count\"",
        ),
        d(
            "traffic.trace.missing",
            "format = \"prometheus\" | \"grafana_csv\"",
            "string",
            "\"error\"",
            "A NaN, empty or absent point inside a series: \"error\" (naming the series and the time), \"zero\", or \"hold\" (the series' last value).",
            "\"hold\"",
        ),
        d(
            "traffic.trace.columns",
            "format = \"grafana_csv\"",
            "array of string",
            "[] (every column but the time)",
            "The series columns to sum.",
            "[\"web-a\", \"web-b\"]",
        ),
        d(
            "traffic.trace.log_format",
            "format = \"access_log\"",
            "string",
            "required",
            "\"combined\" (nginx/Apache, [10/Oct/2000:13:55:36 -0700], any UTC offset; requests of one second spread evenly over it) or \"alb\" (AWS Application Load Balancer; arrivals at request_creation_time, sorted).",
            "\"alb\"",
        ),
        d(
            "traffic.trace.skip_malformed",
            "format = \"access_log\"",
            "boolean",
            "false",
            "Skip malformed lines and count them (validate and run print the count and the first one) instead of failing on the first.",
            "true",
        ),
        d(
            "traffic.trace.function",
            "format = \"azure_functions\"",
            "string",
            "none (every row)",
            "Keep the rows of this HashFunction.",
            "\"4c9d2b8a0e5d6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a\"",
        ),
        d(
            "traffic.trace.app",
            "format = \"azure_functions\"",
            "string",
            "none (every row)",
            "Keep the rows of this HashApp.",
            "\"7e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f\"",
        ),
        d(
            "traffic.trace.trigger",
            "format = \"azure_functions\"",
            "string",
            "none (every row)",
            "Keep the rows with this Trigger: \"http\", \"timer\", \"event\", \"queue\", \"storage\", \"orchestration\" or \"others\". Selections combine; the kept rows are summed.",
            "\"http\"",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SECOND;

    fn parse(text: &str) -> Result<TrafficConfig, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Doc {
            traffic: TrafficConfig,
        }
        toml::from_str::<Doc>(text).map(|d| d.traffic).map_err(|e| e.to_string())
    }

    fn spec(text: &str) -> Result<TrafficSpec, TrafficConfigError> {
        let base = Path::new(env!("CARGO_MANIFEST_DIR"));
        let clock = Clock::utc_monday(86_400 * SECOND);
        parse(text).expect("parses").into_spec(base, &Files::default(), &clock, 86_400 * SECOND)
    }

    #[test]
    fn daily_example_parses() {
        let s = spec(
            r#"
            [traffic]
            scale = 1.0
            arrival = "poisson"
            [traffic.rate]
            shape = "daily"
            trough = 50.0
            peak = 200
            peak_hour = 14.0
            weekend_factor = 0.5
            [traffic.noise]
            sigma = 0.05
            step = "1m"
            "#,
        )
        .unwrap();
        let clock = Clock::utc_monday(SECOND);
        assert_eq!(s.rate_at(&clock, 14 * 3600 * SECOND), Some(200.0));
    }

    #[test]
    fn composite_shapes_and_arrival_tables() {
        let s = spec(
            r#"
            [traffic]
            scale = 2
            arrival = { process = "bursty", cv = 3.0 }
            [traffic.rate]
            shape = "sum"
            of = [
              { shape = "constant", rate = 50 },
              { shape = "spike", base = 10, start = "1m", length = "2m", multiplier = 10, rise = "1m" },
              { shape = "scale", factor = 0.5, base = { shape = "steps", points = [["0s", 2.0], ["1h", 4.0]] } },
            ]
            "#,
        )
        .unwrap();
        let clock = Clock::utc_monday(SECOND);
        assert_eq!(s.rate_at(&clock, 0), Some(2.0 * (50.0 + 10.0 + 1.0)));
        assert_eq!(s.rate_at(&clock, 120 * SECOND), Some(2.0 * (50.0 + 100.0 + 1.0)));
        assert_eq!(s.process(), Some(Process::Bursty { cv: 3.0 }));
        let s = spec("[traffic]\nrate = 100\narrival = \"uniform\"").unwrap();
        assert_eq!(s.process(), Some(Process::Uniform));
    }

    #[test]
    fn unknown_keys_are_named() {
        let e =
            parse("[traffic.rate]\nshape = \"daily\"\ntrough = 1\npeak = 2\npeak_hour = 3\nweekend = 1\n")
                .unwrap_err();
        assert!(e.contains("unknown field `weekend`, expected one of"), "{e}");
        let e = parse("[traffic]\nrate = { shape = \"sum\", of = [ { shape = \"constant\", rat = 1 } ] }")
            .unwrap_err();
        assert!(e.contains("unknown field `rat`"), "{e}");
        let e = parse("[traffic]\nrate = { shape = \"dayly\" }").unwrap_err();
        assert!(e.contains("unknown variant `dayly`"), "{e}");
        let e = parse("[traffic]\nrate = 1\narrival = { process = \"bursty\", cvv = 1 }").unwrap_err();
        assert!(e.contains("unknown field `cvv`"), "{e}");
        let e = parse("[traffic]\nrate = 1\narrival = \"burst\"").unwrap_err();
        assert!(e.contains("unknown variant `burst`"), "{e}");
        let e = parse("[traffic]\nrates = 1").unwrap_err();
        assert!(e.contains("unknown field `rates`"), "{e}");
        let e = parse("[traffic.trace]\nformat = \"azure_llm\"\npath = \"x\"\nlooping = true").unwrap_err();
        assert!(e.contains("unknown field `looping`"), "{e}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = spec("[traffic.rate]\nshape = \"sine\"\nmean = 1\namplitude = 1\nperiod = \"5 parsecs\"")
            .unwrap_err();
        assert_eq!(e.key, "traffic.rate.period");
        assert!(e.message.contains("found \"5 parsecs\", expected a duration"), "{}", e.message);
        let e = spec("[traffic]\nrate = { shape = \"sum\", of = [1, { shape = \"constant\", rate = -1 }] }")
            .unwrap_err();
        assert_eq!(e.key, "traffic.rate.of[1].rate");
        let e = spec("[traffic]\nrate = -3").unwrap_err();
        assert_eq!(e.key, "traffic.rate");
        let e = spec("[traffic]\nscale = 1").unwrap_err();
        assert_eq!(e.key, "traffic");
        let e = spec("[traffic.trace]\nformat = \"azure_llm\"\npath = \"no/such.csv\"").unwrap_err();
        assert_eq!(e.key, "traffic.trace.path");
        assert!(e.message.contains("no/such.csv"), "{}", e.message);
    }

    #[test]
    fn trace_file_errors_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.csv"), "time,n\n0,1\n1,oops\n").unwrap();
        let cfg =
            parse("[traffic.trace]\nformat = \"requests_csv\"\npath = \"bad.csv\"\nsize_columns = [\"n\"]")
                .unwrap();
        let e = cfg.into_spec(dir.path(), &Files::default(), &Clock::utc_monday(SECOND), SECOND).unwrap_err();
        assert_eq!(e.key, "traffic.trace.path");
        let want = format!(
            "{}:3:2: column `n`: found `oops`, expected a non-negative number",
            dir.path().join("bad.csv").display()
        );
        assert_eq!(e.message, want);
    }

    #[test]
    fn shipped_traces_load() {
        let clock = Clock::utc_monday(86_400 * SECOND);
        let az = spec(
            "[traffic.trace]\nformat = \"azure_llm\"\npath = \"traces/azure-llm-2023/AzureLLMInferenceTrace_code.csv\"\nloop = true",
        )
        .unwrap();
        assert_eq!(az.size_columns(), vec!["ContextTokens", "GeneratedTokens"]);
        let h = 2 * 3600 * SECOND;
        let mut src = az.source(1, &clock, h);
        let mut n = 0;
        let mut last = 0;
        while let Some(a) = src.next_arrival() {
            assert!(a.time >= last && a.time < h);
            last = a.time;
            n += 1;
        }
        assert_eq!(n as f64, az.expected_requests(&clock, h));
        assert!(n > 2 * 8000, "{n}");
        let day = spec(
            "[traffic]\nscale = 0.5\n[traffic.trace]\nformat = \"rate_csv\"\npath = \"traces/synthetic-day/rate_per_minute.csv\"",
        )
        .unwrap();
        let e = day.expected_requests(&clock, 86_400 * SECOND);
        assert!(e > 1000.0, "{e}");
    }

    #[test]
    fn request_trace_rejects_arrival_and_noise() {
        let e = spec(
            "[traffic]\narrival = \"uniform\"\n[traffic.trace]\nformat = \"azure_llm\"\npath = \"x.csv\"",
        )
        .unwrap_err();
        assert_eq!(e.key, "traffic.arrival");
    }

    /// Sets `path` (dotted, below the root table) to `value` in `root`, creating tables.
    fn set(root: &mut toml::Table, path: &[&str], value: toml::Value) {
        let mut t = root;
        for p in &path[..path.len() - 1] {
            t = t
                .entry(p.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .unwrap();
        }
        t.insert(path[path.len() - 1].to_string(), value);
    }

    /// A base document in which `key` applies (without the key itself).
    fn base_for(doc: &KeyDoc) -> &'static str {
        let key = doc.key;
        if key.starts_with("traffic.trace") {
            let w = doc.when;
            return if w.contains("prometheus") {
                "[traffic.trace]\nformat = \"prometheus\"\npath = \"p.json\""
            } else if w.contains("grafana_csv") && !w.contains("requests_csv") {
                "[traffic.trace]\nformat = \"grafana_csv\"\npath = \"p.csv\""
            } else if w.contains("access_log") && !w.contains("requests_csv") {
                "[traffic.trace]\nformat = \"access_log\"\npath = \"logs/*.log\"\nlog_format = \"combined\""
            } else if w.contains("azure_functions") {
                "[traffic.trace]\nformat = \"azure_functions\"\npath = \"d*.csv\""
            } else if doc.when.contains("rate_csv") && !doc.when.contains("requests_csv") {
                "[traffic.trace]\nformat = \"rate_csv\"\npath = \"p.csv\""
            } else if doc.when.contains("requests_csv") {
                "[traffic.trace]\nformat = \"requests_csv\"\npath = \"p.csv\""
            } else {
                "[traffic.trace]\nformat = \"azure_llm\"\npath = \"p.csv\""
            };
        }
        if key.starts_with("traffic.noise.") {
            return "[traffic]\nrate = 1\n[traffic.noise]\nsigma = 0.1";
        }
        if key.starts_with("traffic.arrival.") {
            return "[traffic]\nrate = 1\n[traffic.arrival]\nprocess = \"bursty\"";
        }
        let w = doc.when;
        if w.contains("\"constant\"") {
            "[traffic.rate]\nshape = \"constant\"\nrate = 1"
        } else if w.contains("\"steps\"") {
            "[traffic.rate]\nshape = \"steps\"\npoints = [[\"0s\", 1.0]]"
        } else if w.contains("\"ramp\"") {
            "[traffic.rate]\nshape = \"ramp\"\nfrom = 1\nto = 2\nstart = \"0s\"\nend = \"1h\""
        } else if w.contains("\"daily\"") {
            "[traffic.rate]\nshape = \"daily\"\ntrough = 1\npeak = 1000\npeak_hour = 12"
        } else if w.contains("\"sine\"") {
            "[traffic.rate]\nshape = \"sine\"\nmean = 1\namplitude = 1\nperiod = \"1h\""
        } else if w.contains("\"spike\"") {
            "[traffic.rate]\nshape = \"spike\"\nbase = 1\nstart = \"0s\"\nlength = \"1h\"\nmultiplier = 2"
        } else if w.contains("\"sum\"") {
            "[traffic.rate]\nshape = \"sum\"\nof = [1]"
        } else if w.contains("\"scale\"") {
            "[traffic.rate]\nshape = \"scale\"\nfactor = 1\nbase = 1"
        } else if key == "traffic.rate.shape" {
            "[traffic.rate]\nrate = 1"
        } else {
            "[traffic]\nrate = 1"
        }
    }

    #[test]
    fn every_documented_key_parses_with_its_example() {
        for doc in key_docs() {
            let mut root: toml::Table = toml::from_str(base_for(&doc)).unwrap();
            let value: toml::Table = toml::from_str(&format!("v = {}", doc.example))
                .unwrap_or_else(|e| panic!("{}: example {} is not TOML: {e}", doc.key, doc.example));
            let path: Vec<&str> = doc.key.split('.').collect();
            if doc.key == "traffic.rate" || doc.key == "traffic.trace" {
                root = toml::Table::new();
            }
            set(&mut root, &path, value["v"].clone());
            let text = toml::to_string(&root).unwrap();
            let cfg = parse(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", doc.key));
            // Values must also pass the checks (trace files do not exist here, so stop at I/O).
            let clock = Clock::utc_monday(SECOND);
            if let Err(e) = cfg.into_spec(Path::new("/nonexistent"), &Files::default(), &clock, SECOND)
                && e.key != "traffic.trace.path"
            {
                panic!("{}: {e}\n{text}", doc.key);
            }
        }
    }

    #[test]
    fn every_accepted_key_is_documented() {
        let documented: Vec<&str> = key_docs().iter().map(|d| d.key).collect();
        let examples = [
            FULL_DAILY,
            FULL_COMPOSITE,
            "[traffic.rate]\nshape = \"piecewise\"\npoints = [[\"0s\", 1.0]]",
            "[traffic.rate]\nshape = \"ramp\"\nfrom = 1\nto = 2\nstart = \"0s\"\nend = \"1h\"",
            "[traffic.rate]\nshape = \"sine\"\nmean = 1\namplitude = 1\nperiod = \"1h\"\nphase = \"1m\"",
            FULL_RATE_CSV,
            FULL_REQUESTS_CSV,
            FULL_AZURE,
            FULL_PROMETHEUS,
            FULL_GRAFANA,
            FULL_ACCESS_LOG,
            FULL_AZURE_FUNCTIONS,
        ];
        fn walk(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
            for (k, v) in t {
                let key = format!("{prefix}.{k}");
                out.push(key.clone());
                // Nested shapes (base, of) reuse the traffic.rate keys; arrival tables too.
                // `series` holds the user's label names.
                if let Some(sub) = v.as_table()
                    && k != "base"
                    && k != "series"
                {
                    walk(&key, sub, out);
                }
            }
        }
        for ex in examples {
            parse(ex).unwrap_or_else(|e| panic!("{e}\n{ex}"));
            let root: toml::Table = toml::from_str(ex).unwrap();
            let mut keys = Vec::new();
            walk("traffic", root["traffic"].as_table().unwrap(), &mut keys);
            for k in keys {
                assert!(documented.contains(&k.as_str()), "{k} is accepted but not documented");
            }
        }
    }

    const FULL_DAILY: &str = r#"
[traffic]
scale = 1.0
arrival = { process = "bursty", cv = 2.0 }
[traffic.rate]
shape = "daily"
trough = 50.0
peak = 200.0
peak_hour = 14.0
weekend_factor = 0.5
[traffic.noise]
sigma = 0.05
step = "1m"
reversion = "1h"
"#;

    const FULL_COMPOSITE: &str = r#"
[traffic]
arrival = "poisson"
[traffic.rate]
shape = "sum"
of = [
  { shape = "constant", rate = 50.0 },
  { shape = "spike", base = 20.0, start = "2h", length = "10m", multiplier = 10.0, rise = "1m", fall = "5m" },
  { shape = "scale", factor = 0.5, base = { shape = "steps", points = [["0s", 10.0], ["3h", 30.0]] } },
]
"#;

    const FULL_RATE_CSV: &str = r#"
[traffic]
arrival = "poisson"
[traffic.trace]
format = "rate_csv"
path = "../traces/synthetic-day/rate_per_minute.csv"
time_column = "time"
rate_column = "rate"
speedup = 1.0
scale = 1.0
loop = true
start_offset = "6h"
"#;

    const FULL_REQUESTS_CSV: &str = r#"
[traffic.trace]
format = "requests_csv"
path = "requests.csv"
time_column = "timestamp"
size_columns = ["prompt_tokens", "output_tokens"]
speedup = 2.0
scale = 1.5
loop = false
start_offset = "0s"
"#;

    const FULL_AZURE: &str = r#"
[traffic.trace]
format = "azure_llm"
path = "../traces/azure-llm-2023/AzureLLMInferenceTrace_code.csv"
speedup = 1.0
scale = 1.0
loop = true
start_offset = "0s"
"#;

    const FULL_PROMETHEUS: &str = r#"
[traffic]
arrival = "uniform"
[traffic.trace]
format = "prometheus"
path = "query_range.json"
series = { job = "web", code = "200" }
values = "count"
missing = "hold"
speedup = 1.0
scale = 1.0
loop = true
start_offset = "0s"
"#;

    const FULL_GRAFANA: &str = r#"
[traffic.trace]
format = "grafana_csv"
path = "panel.csv"
time_column = "Time"
columns = ["web-a", "web-b"]
values = "rate"
missing = "zero"
speedup = 1.0
scale = 1.0
loop = false
start_offset = "0s"
"#;

    const FULL_ACCESS_LOG: &str = r#"
[traffic.trace]
format = "access_log"
path = "logs/*.log.gz"
log_format = "alb"
skip_malformed = true
size_columns = ["target_processing_time"]
speedup = 1.0
scale = 1.0
loop = false
start_offset = "0s"
"#;

    const FULL_AZURE_FUNCTIONS: &str = r#"
[traffic.trace]
format = "azure_functions"
path = "invocations_per_function_md.anon.d*.csv"
function = "f"
app = "a"
trigger = "http"
speedup = 1.0
scale = 1.0
loop = false
start_offset = "0s"
"#;

    #[test]
    fn rate_csv_counts_option() {
        let cfg =
            parse("[traffic.trace]\nformat = \"rate_csv\"\npath = \"x\"\ncount_column = \"n\"").unwrap();
        match cfg.trace {
            Some(TraceConfig::RateCsv(r)) => assert_eq!(r.count_column.as_deref(), Some("n")),
            other => panic!("{other:?}"),
        }
    }
}
