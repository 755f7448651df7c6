//! Calibration: fit the replica model to a real Locust step test.
//!
//! Pure, text in and results out (the CLI reads the file and writes the outputs):
//! [`locust`] parses a `*_stats_history.csv` and detects its percentile mode, [`steps`] groups
//! rows into load steps and measures them, [`fit`] searches for the [`crate::service::ServiceModel`]
//! whose simulated step test reproduces them, and [`service_toml`] writes the result as the
//! `[service]` section of a scenario file.

pub mod command;
pub mod fit;
pub mod locust;
pub mod steps;

pub use fit::{Fit, ParamUncertainty, Params, SimulatedStep, StepComparison, simulate_step};
pub use locust::{LocustHistory, PercentileMode};
pub use steps::{MeasuredStep, Steps};

use std::fmt;

/// Why a file could not be calibrated from, with where.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrateError {
    /// The file, as given.
    pub origin: String,
    /// 1-based line, when one line is at fault.
    pub line: Option<usize>,
    /// The column at fault, by its header name.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CalibrateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(c) = &self.column {
            write!(f, ": column `{c}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for CalibrateError {}

/// Options of a calibration.
#[derive(Debug, Clone, Default)]
pub struct CalibrateOptions {
    /// Seconds to drop at the start of each step; `None` for the mode's default.
    pub ramp_s: Option<f64>,
    /// The overhead (latency outside the replica), seconds, when the user knows it: held at
    /// this value instead of fitted.
    pub overhead_s: Option<f64>,
}

/// Everything a calibration produced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Calibration {
    /// The file calibrated from.
    pub origin: String,
    /// The measured steps.
    pub measured: Steps,
    /// The fit.
    pub fit: Fit,
}

/// Calibrates from the text of a Locust stats-history file; `origin` names it in errors.
pub fn calibrate(
    text: &str,
    origin: &str,
    options: &CalibrateOptions,
) -> Result<Calibration, CalibrateError> {
    let history = locust::parse(text, origin)?;
    let measured = steps::measure(&history, options.ramp_s)?;
    if let Some(ov) = options.overhead_s {
        let lightest = measured
            .steps
            .iter()
            .filter(|s| !s.generator_bound && s.served_rps > 0.0)
            .filter_map(|s| s.latency.map(|l| (s.arrival_rps, l.p50_s)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, p50)) = lightest
            && !(ov >= 0.0 && ov < p50)
        {
            return Err(CalibrateError {
                origin: origin.to_string(),
                line: None,
                column: None,
                message: format!(
                    "--overhead {:.1} ms: the lightest step's median latency is {:.1} ms, and the overhead is part of \
                     it; expected an overhead below {:.1} ms",
                    ov * 1000.0,
                    p50 * 1000.0,
                    p50 * 1000.0
                ),
            });
        }
    }
    let fit = fit::fit(&measured, options.overhead_s).ok_or_else(|| CalibrateError {
        origin: origin.to_string(),
        line: None,
        column: None,
        message: format!(
            "too few steps to fit: {} of {} steps have served requests and were not held back by the load generator; \
             need at least 2",
            measured.steps.iter().filter(|s| !s.generator_bound && s.latency.is_some()).count(),
            measured.steps.len()
        ),
    })?;
    Ok(Calibration { origin: origin.to_string(), measured, fit })
}

/// The `[service]` section for `params`, in the scenario-file syntax (docs/scenario.md), with a
/// comment naming `origin`.
pub fn service_toml(params: &Params, origin: &str) -> String {
    let mut s = String::new();
    s.push_str(&format!("# Fitted by `scalesim calibrate` from {origin}.\n"));
    s.push_str("# A step test measures workers, queue and service time only: add timeout, startup and cpu yourself.\n");
    s.push_str("[service]\n");
    s.push_str(&format!("workers = {}\n", params.workers));
    if let Some(q) = params.queue_limit {
        s.push_str(&format!("queue_limit = {q}\n"));
    }
    s.push_str("\n[service.demand]\ndistribution = \"lognormal\"\n");
    s.push_str(&format!("mean = {:.6}  # seconds ({:.1} ms)\n", params.mean_s, params.mean_s * 1000.0));
    s.push_str(&format!("sigma = {:.4}\n", params.sigma));
    if let Some(points) = params.slowdown_points() {
        let pts: Vec<String> = points.iter().map(|(x, y)| format!("[{x}, {y:.3}]")).collect();
        s.push_str(&format!("\n[service.slowdown]\npoints = [{}]\n", pts.join(", ")));
    }
    if params.overhead_s > 0.0 {
        s.push_str(
            "\n# Latency outside the replica (network, client, framework): no worker is busy with it.\n",
        );
        s.push_str(&format!(
            "[service.overhead]\ndistribution = \"deterministic\"\nvalue = {:.6}  # seconds ({:.1} ms)\n",
            params.overhead_s,
            params.overhead_s * 1000.0
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn service_toml_is_accepted_by_a_scenario() {
        for p in [
            Params {
                workers: 4,
                mean_s: 0.0503,
                sigma: 0.49,
                queue_limit: Some(16),
                slowdown: None,
                overhead_s: 0.0,
            },
            Params {
                workers: 8,
                mean_s: 0.12,
                sigma: 0.8,
                queue_limit: None,
                slowdown: Some(1.4),
                overhead_s: 0.061,
            },
        ] {
            let text = format!(
                "[simulation]\nduration = \"1h\"\n\n[traffic]\nrate = 10\n\n{}\n[[policy]]\nname = \"p\"\ntype = \"fixed\"\nreplicas = 2\n",
                service_toml(&p, "x.csv")
            );
            let sc = crate::config::load_str(&text, "fitted.toml", Path::new("."), &[])
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(sc.service, p.service(), "{text}");
        }
    }

    #[test]
    fn error_display_names_file_line_column() {
        let e = CalibrateError {
            origin: "a.csv".into(),
            line: Some(3),
            column: Some("50%".into()),
            message: "bad".into(),
        };
        assert_eq!(e.to_string(), "a.csv:3: column `50%`: bad");
    }
}
