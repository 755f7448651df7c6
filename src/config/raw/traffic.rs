//! The `[traffic]` table as written: serde types only (the checks and the building of a
//! [`crate::traffic::TrafficSpec`] are in `config::traffic`). Every table denies unknown keys, and
//! variants are internally tagged — `shape = "daily"`, `process = "bursty"`, `format =
//! "azure_llm"` — so serde names the unknown key and the expected ones.

use crate::traffic::trace::access_log::LogFormat;
use crate::traffic::trace::prometheus::{Missing, Values};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, de::value::MapAccessDeserializer};
use std::collections::BTreeMap;
use std::fmt;

fn one() -> f64 {
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
    /// `[traffic.tokens]`: prompt and output tokens drawn per request.
    #[serde(default)]
    pub tokens: Option<TokensConfig>,
    /// Set by the scenario builder (not a key): the service is an LLM replica, so a trace's
    /// first two size columns must be whole token counts of at least 1.
    #[serde(skip)]
    pub tokens_required: bool,
}

/// `[traffic.tokens]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensConfig {
    /// `[traffic.tokens.prompt]`.
    pub prompt: TokenDistConfig,
    /// `[traffic.tokens.output]`.
    pub output: TokenDistConfig,
}

/// A token-count distribution: `distribution` and its parameters, in tokens.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenDistConfig {
    /// `lognormal`, `gamma`, `exponential`, `uniform`, `deterministic` or `empirical`.
    pub distribution: Option<String>,
    /// Mean.
    pub mean: Option<f64>,
    /// Sigma of the underlying normal (log-normal).
    pub sigma: Option<f64>,
    /// 99th percentile (log-normal).
    pub p99: Option<f64>,
    /// Coefficient of variation (gamma).
    pub cv: Option<f64>,
    /// Constant value.
    pub value: Option<f64>,
    /// Lower bound (uniform).
    pub min: Option<f64>,
    /// The largest count: a draw above is capped (uniform: the range's top).
    pub max: Option<f64>,
    /// Observed counts (empirical).
    pub samples: Option<Vec<f64>>,
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

fn zero_duration() -> String {
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

fn grafana_time_column() -> String {
    "Time".into()
}

/// Keys of `format = "prometheus"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrometheusTrace {
    /// The saved JSON of `/api/v1/query_range`, relative to the scenario file.
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
    /// Label values a series must have to be kept (all series when empty).
    #[serde(default)]
    pub series: BTreeMap<String, String>,
    /// What a value means.
    #[serde(default)]
    pub values: Values,
    /// What a missing point becomes.
    #[serde(default)]
    pub missing: Missing,
}

/// Keys of `format = "grafana_csv"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrafanaCsvTrace {
    /// The CSV Grafana downloads, relative to the scenario file.
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
    /// The time column.
    #[serde(default = "grafana_time_column")]
    pub time_column: String,
    /// The series columns to sum (all but the time column when empty).
    #[serde(default)]
    pub columns: Vec<String>,
    /// What a value means.
    #[serde(default)]
    pub values: Values,
    /// What a missing value becomes.
    #[serde(default)]
    pub missing: Missing,
}

/// Keys of `format = "access_log"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogTrace {
    /// A file or a glob over several (`logs/*.log.gz`), relative to the scenario file.
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
    /// `combined` or `alb`.
    pub log_format: LogFormat,
    /// Skip and count malformed lines instead of failing.
    #[serde(default)]
    pub skip_malformed: bool,
    /// Numeric fields carried as request sizes.
    #[serde(default)]
    pub size_columns: Vec<String>,
}

/// Keys of `format = "azure_functions"`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzureFunctionsTrace {
    /// A day file or a glob over several, relative to the scenario file.
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
    /// Keep the rows of this `HashFunction`.
    #[serde(default)]
    pub function: Option<String>,
    /// Keep the rows of this `HashApp`.
    #[serde(default)]
    pub app: Option<String>,
    /// Keep the rows with this `Trigger`.
    #[serde(default)]
    pub trigger: Option<String>,
}
