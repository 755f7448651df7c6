//! `scalesim calibrate` as a library call: the edge of the pure calibration — reads the Locust
//! file through the guarded reader, checks the options, fits, and words the `[service]` section.

use super::{CalibrateError, CalibrateOptions, Calibration, service_toml};
use crate::command::{Error, invalid};
use std::path::PathBuf;

/// What `scalesim calibrate` is asked to fit.
#[derive(Debug, Clone)]
pub struct CalibrateRequest {
    /// The Locust `*_stats_history.csv`.
    pub locust: PathBuf,
    /// Seconds dropped at the start of each step; `None` for the default.
    pub ramp_s: Option<f64>,
    /// The overhead as the user knows it (`--overhead`), unparsed; `None` fits it.
    pub overhead: Option<String>,
}

/// The fit and the `[service]` section it gives.
#[derive(Debug)]
pub struct Calibrated {
    /// Measured steps, fit and uncertainty.
    pub calibration: Calibration,
    /// The `[service]` section of a scenario file.
    pub toml: String,
}

/// Reads the Locust file, fits the replica model, and words it as a `[service]` section.
pub fn calibrate(req: &CalibrateRequest) -> Result<Calibrated, Error> {
    let origin = req.locust.display().to_string();
    let text = crate::input::read_text(&req.locust, crate::input::InputKind::Locust).map_err(|e| {
        Error::Calibrate(CalibrateError {
            origin: origin.clone(),
            line: None,
            column: None,
            message: e.message,
        })
    })?;
    if let Some(r) = req.ramp_s
        && !(r.is_finite() && r >= 0.0)
    {
        return Err(invalid(format!("--ramp {r}: expected a non-negative number of seconds")));
    }
    let overhead_s = match &req.overhead {
        None => None,
        Some(s) => Some(
            crate::config::values::parse_duration(s)
                .map_err(|e| invalid(format!("--overhead {s}: {e}; expected a duration such as 70ms")))?
                .as_secs_f64(),
        ),
    };
    let calibration = super::calibrate(&text, &origin, &CalibrateOptions { ramp_s: req.ramp_s, overhead_s })?;
    let toml = service_toml(&calibration.fit.params, &origin);
    Ok(Calibrated { calibration, toml })
}
