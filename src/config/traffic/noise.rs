//! The randomness laid over a rate: the arrival process (`traffic.arrival`) and the rate's
//! random-walk noise (`[traffic.noise]`), checked.

use super::checks::{TrafficConfigError, fail, non_negative, positive, positive_duration};
use crate::config::raw::traffic::{ArrivalConfig, NoiseConfig};
use crate::traffic::Process;
use crate::traffic::noise::NoiseSpec;

/// The largest `cv` of the bursty process: above it a gamma renewal process with a day's worth
/// of arrivals is dominated by a handful of gaps.
pub const MAX_BURSTY_CV: f64 = 10.0;

/// The arrival process of `traffic.arrival` (Poisson when it is not given).
pub(super) fn process(arrival: Option<&ArrivalConfig>) -> Result<Process, TrafficConfigError> {
    let process = match arrival {
        None | Some(ArrivalConfig::Poisson) => Process::Poisson,
        Some(ArrivalConfig::Uniform) => Process::Uniform,
        Some(ArrivalConfig::Bursty { cv }) => {
            let cv = positive(*cv, "traffic.arrival.cv", "a coefficient of variation")?;
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
    Ok(process)
}

/// The noise of `[traffic.noise]`, if the section has one.
pub(super) fn noise(noise: Option<&NoiseConfig>) -> Result<Option<NoiseSpec>, TrafficConfigError> {
    let noise = match noise {
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
    Ok(noise)
}
