//! Helpers every layer of `config` may use — it imports only the other leaves (`error`,
//! `source`, `values`), never a builder: the [`KeyDoc`] rows the key reference is made of (each
//! family documents its own keys with them, and `keys` gathers the tables), IANA time-zone
//! names, and the positive-duration and positive-number checks.

use super::error::{KeyError, suggest};
use super::source::KeyPath;
use super::values::Dur;
use crate::time::Time;
use chrono_tz::Tz;

/// One documented key of the scenario file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyDoc {
    /// Dotted path, e.g. `service.workers` or `traffic.rate.peak`; `[]` marks an array of
    /// tables (`policy[].max`).
    pub key: &'static str,
    /// When the key applies, e.g. `shape = "daily"`; empty when always. Comma-separated
    /// conditions `name = value`, where `name` is a key of the same table (or of an enclosing
    /// one) and alternatives are separated by `|` (`type = "rps" | "cpu"`).
    pub when: &'static str,
    /// Type as a user writes it, e.g. `duration`, `integer`, `float`, `string`.
    pub ty: &'static str,
    /// Default, or `required`.
    pub default: &'static str,
    /// What it means, one or two sentences.
    pub meaning: &'static str,
    /// A valid TOML value for the key, e.g. `"30s"` or `4`.
    pub example: &'static str,
}

/// Parses an IANA time-zone name, suggesting the closest when it is unknown.
pub fn parse_tz(path: KeyPath, name: &str) -> Result<Tz, KeyError> {
    name.parse::<Tz>().map_err(|_| {
        let mut m = format!("unknown time zone \"{name}\", expected an IANA name such as \"Europe/Paris\"");
        if let Some(s) = suggest(name, chrono_tz::TZ_VARIANTS.iter().map(|t| t.name())) {
            m.push_str(&format!("; did you mean `{s}`?"));
        }
        KeyError::new(path, m)
    })
}

/// `d` as a [`Time`], refusing a zero duration.
pub fn positive(path: KeyPath, d: Dur) -> Result<Time, KeyError> {
    let t = d.time();
    if t == 0 {
        return Err(KeyError::new(path, "found a zero duration, expected a positive duration"));
    }
    Ok(t)
}

/// `v`, refusing a number that is not finite and above zero.
pub fn pos(path: KeyPath, v: f64) -> Result<f64, KeyError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(KeyError::new(path, format!("found {v}, expected a positive number")))
    }
}
