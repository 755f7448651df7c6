//! The `[traffic]` section of a scenario file (as written in [`crate::config::raw::traffic`]),
//! checked and turned into a [`TrafficSpec`]. Each error names the dotted key.
//!
//! Split by what it builds: `shapes` (a rate shape), `noise` (the arrival process and the rate's
//! noise), `traces` (a recorded trace's spec) over `trace_files` (the only file I/O of the
//! traffic subsystem: reading trace files relative to the scenario's folder; parsing itself is
//! pure, in [`crate::traffic::trace`]); `checks` holds the error and the value checks they
//! share, `docs` the key reference [`key_docs`]. The files import one another in that one
//! direction only, and none imports this one.

mod checks;
mod docs;
mod noise;
mod shapes;
mod tokens;
mod trace_files;
mod traces;

pub use checks::TrafficConfigError;
pub use docs::key_docs;
pub use noise::MAX_BURSTY_CV;

use super::files::Files;
use super::raw::traffic::TrafficConfig;
use crate::time::{Clock, Time};
use crate::traffic::TrafficSpec;
use checks::{fail, non_negative};
use std::path::Path;

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
        let process = noise::process(self.arrival.as_ref())?;
        let noise = noise::noise(self.noise.as_ref())?;
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
            (Some(rate), None) => {
                TrafficSpec::from_shape(shapes::build_shape(rate, "traffic.rate")?, process, noise)
            }
            (None, Some(t)) => {
                // Everything the trace's traffic depends on, `traffic.scale` aside (applied below).
                let key = format!(
                    "{}\0{t:?}\0{:?}\0{:?}\0{}",
                    base_dir.display(),
                    self.arrival,
                    self.noise,
                    self.tokens_required
                );
                files.trace(key, || traces::trace_spec(&self, t, base_dir, process, noise))?
            }
        };
        let spec = match &self.tokens {
            None => spec,
            Some(t) => {
                if !spec.size_columns().is_empty() {
                    return fail(
                        "traffic.tokens",
                        format!(
                            "found a token mix, but the trace already gives each request its sizes ({}); \
                             remove [traffic.tokens] or use a trace without size columns",
                            spec.size_columns().join(", ")
                        ),
                    );
                }
                spec.with_tokens(tokens::build(t)?)
            }
        };
        Ok(spec.scaled(scale))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::raw::traffic::TraceConfig;
    use crate::config::shared::KeyDoc;
    use crate::time::SECOND;
    use crate::traffic::Process;
    use serde::Deserialize;

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
        if key.starts_with("traffic.tokens.") {
            return "[traffic]\nrate = 1\n[traffic.tokens]\nprompt = { distribution = \"deterministic\", value = 10 }\noutput = { distribution = \"deterministic\", value = 5 }";
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
            "[traffic]\nrate = 1\n[traffic.tokens]\nprompt = { distribution = \"lognormal\", mean = 100, sigma = 1, max = 900 }\noutput = { distribution = \"uniform\", min = 1, max = 9 }",
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
                // A token distribution's keys are documented with it.
                if let Some(sub) = v.as_table()
                    && k != "base"
                    && k != "series"
                    && prefix != "traffic.tokens"
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
