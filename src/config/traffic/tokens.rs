//! `[traffic.tokens]`: the prompt and output token distributions of synthetic traffic, checked
//! and built into a [`TokenMix`].

use super::checks::{TrafficConfigError, fail};
use crate::config::raw::traffic::{TokenDistConfig, TokensConfig};
use crate::dist::Dist;
use crate::traffic::tokens::{TokenDist, TokenMix};

/// The largest token count a distribution may give.
const MAX_TOKENS: f64 = crate::service::llm::MAX_TOKENS as f64;

const KINDS: &str = "`lognormal`, `gamma`, `exponential`, `uniform`, `deterministic`, `empirical`";

/// Builds the mix of `[traffic.tokens]`.
pub(super) fn build(t: &TokensConfig) -> Result<TokenMix, TrafficConfigError> {
    Ok(TokenMix {
        prompt: build_one(&t.prompt, "traffic.tokens.prompt")?,
        output: build_one(&t.output, "traffic.tokens.output")?,
    })
}

fn build_one(c: &TokenDistConfig, key: &str) -> Result<TokenDist, TrafficConfigError> {
    let k = |name: &str| format!("{key}.{name}");
    let positive = |name: &str, v: Option<f64>| -> Result<f64, TrafficConfigError> {
        match v {
            None => fail(
                &k(name),
                "missing, expected a positive number (tokens) for this distribution".to_string(),
            ),
            Some(x) if x.is_finite() && x > 0.0 && x <= MAX_TOKENS => Ok(x),
            Some(x) => fail(
                &k(name),
                format!("found {x}, expected a positive number of tokens of at most {MAX_TOKENS}"),
            ),
        }
    };
    let Some(kind) = c.distribution.as_deref() else {
        return fail(&k("distribution"), format!("missing, expected one of {KINDS}"));
    };
    // Which keys each distribution takes (`max` caps any of them).
    let takes: &[&str] = match kind {
        "lognormal" => &["mean", "sigma", "p99"],
        "gamma" => &["mean", "cv"],
        "exponential" => &["mean"],
        "uniform" => &["min", "max"],
        "deterministic" => &["value"],
        "empirical" => &["samples"],
        other => return fail(&k("distribution"), format!("found `{other}`, expected one of {KINDS}")),
    };
    let given = [
        ("mean", c.mean.is_some()),
        ("sigma", c.sigma.is_some()),
        ("p99", c.p99.is_some()),
        ("cv", c.cv.is_some()),
        ("value", c.value.is_some()),
        ("min", c.min.is_some()),
        ("samples", c.samples.is_some()),
    ];
    if let Some((name, _)) = given.iter().find(|(n, on)| *on && !takes.contains(n)) {
        return fail(
            &k(name),
            format!("is not used by distribution `{kind}` (it takes {}, and `max`)", takes.join(", ")),
        );
    }
    let max = match c.max {
        None => MAX_TOKENS,
        Some(_) => positive("max", c.max)?.floor(),
    };
    if max < 1.0 {
        return fail(&k("max"), format!("found {}, expected at least 1 token", c.max.unwrap_or(0.0)));
    }
    let dist = match kind {
        "lognormal" => {
            let mean = positive("mean", c.mean)?;
            match (c.sigma, c.p99) {
                (Some(_), Some(_)) => return fail(&k("p99"), "give `sigma` or `p99`, not both".into()),
                (Some(s), None) if s.is_finite() && s > 0.0 && s <= 4.0 => {
                    Dist::lognormal_mean_sigma(mean, s)
                }
                (Some(s), None) => {
                    return fail(&k("sigma"), format!("found {s}, expected a number above 0 and at most 4"));
                }
                (None, Some(_)) => {
                    let p99 = positive("p99", c.p99)?;
                    Dist::lognormal_mean_p99(mean, p99).ok_or_else(|| TrafficConfigError {
                        key: k("p99"),
                        message: format!("found {p99}: no log-normal has mean {mean} and this p99 (it must exceed the mean)"),
                    })?
                }
                (None, None) => {
                    return fail(&k("sigma"), "missing, expected `sigma` or `p99` for a log-normal".into());
                }
            }
        }
        "gamma" => {
            let mean = positive("mean", c.mean)?;
            let cv = positive("cv", c.cv)?;
            Dist::gamma(1.0 / (cv * cv), mean * cv * cv).ok_or_else(|| TrafficConfigError {
                key: k("cv"),
                message: format!("found {cv}, no gamma has it"),
            })?
        }
        "exponential" => Dist::exponential(positive("mean", c.mean)?),
        "uniform" => {
            let lo = positive("min", c.min)?;
            let hi = positive("max", c.max)?;
            if lo > hi {
                return fail(&k("min"), format!("found {lo}, above max ({hi})"));
            }
            Dist::Uniform { low: lo, high: hi }
        }
        "deterministic" => Dist::Deterministic { value: positive("value", c.value)? },
        _ => {
            let samples = c.samples.clone().unwrap_or_default();
            if samples.is_empty() {
                return fail(&k("samples"), "missing or empty, expected observed token counts".into());
            }
            if let Some((i, x)) =
                samples.iter().enumerate().find(|(_, x)| !(x.is_finite() && **x >= 1.0 && **x <= MAX_TOKENS))
            {
                return fail(
                    &format!("{key}.samples[{i}]"),
                    format!("found {x}, expected a token count of at least 1"),
                );
            }
            Dist::Empirical { samples }
        }
    };
    Ok(TokenDist { dist, max: max as u32 })
}
