//! Value types of the scenario file that need more than serde's defaults: durations
//! (`"250ms"`, `"24h"`), durations-or-seconds, and fractions written as `0.01` or `"1%"`.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::time::Duration;

/// Parses a duration such as `250ms`, `30s`, `5m`, `1h30m` or `24h`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if t.parse::<f64>().is_ok() {
        return Err(format!("`{t}` has no unit; write e.g. \"{t}s\" or \"{t}ms\""));
    }
    humantime::parse_duration(t).map_err(|e| e.to_string())
}

const DURATION_HINT: &str = "a duration such as \"250ms\", \"30s\", \"5m\" or \"24h\"";

/// A duration written as a string (`"30s"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dur(pub Duration);

impl Dur {
    /// In simulated time units.
    pub fn time(self) -> crate::time::Time {
        crate::time::from_duration(self.0)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(DURATION_HINT)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Dur, E> {
                let d = parse_duration(s).map_err(|e| {
                    E::custom(format!("invalid duration \"{s}\" ({e}); expected {DURATION_HINT}"))
                })?;
                if d.as_secs_f64() > crate::time::MAX_VALUE_SECS {
                    return Err(E::custom(format!(
                        "\"{s}\" is longer than the longest supported simulation (3660 days)"
                    )));
                }
                Ok(Dur(d))
            }
        }
        d.deserialize_any(V)
    }
}

/// A length of time in seconds, written as a duration string (`"120ms"`) or a plain number of
/// seconds (`0.12`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(pub f64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{DURATION_HINT}, or a non-negative number of seconds")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Seconds, E> {
                let d = parse_duration(s).map_err(|e| {
                    E::custom(format!(
                        "invalid duration \"{s}\" ({e}); expected {DURATION_HINT}, or a number of seconds"
                    ))
                })?;
                self.visit_f64(d.as_secs_f64())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seconds, E> {
                crate::time::checked_from_secs(v).map(|_| Seconds(v)).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V)
    }
}

/// A fraction in [0, 1], written as a number (`0.01`) or a percentage string (`"1%"`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fraction(pub f64);

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Fraction;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a fraction between 0 and 1 (0.01) or a percentage (\"1%\")")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Fraction, E> {
                if (0.0..=1.0).contains(&v) {
                    Ok(Fraction(v))
                } else {
                    Err(E::custom(format!(
                        "found {v}, expected a fraction between 0 and 1 (write \"{v}%\" for a percentage)"
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Fraction, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Fraction, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Fraction, E> {
                let bad = || {
                    E::custom(format!(
                        "found \"{s}\", expected a percentage such as \"1%\" or a fraction such as 0.01"
                    ))
                };
                let p: f64 = s.trim().strip_suffix('%').ok_or_else(bad)?.trim().parse().map_err(|_| bad())?;
                if (0.0..=100.0).contains(&p) { Ok(Fraction(p / 100.0)) } else { Err(bad()) }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        d: Option<Dur>,
        s: Option<Seconds>,
        f: Option<Fraction>,
    }

    fn t(src: &str) -> Result<T, String> {
        toml::from_str(src).map_err(|e| e.message().to_string())
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
        assert!(parse_duration("10 secs").is_ok());
        assert!(parse_duration("ten seconds").is_err());
        assert_eq!(t("d = \"5m\"").unwrap().d, Some(Dur(Duration::from_secs(300))));
        let e = t("d = 5").err().unwrap();
        assert!(e.contains("expected a duration"), "{e}");
        let e = t("d = \"5 parsecs\"").err().unwrap();
        assert!(e.contains("invalid duration \"5 parsecs\""), "{e}");
    }

    #[test]
    fn seconds_and_fractions() {
        assert_eq!(t("s = \"120ms\"").unwrap().s, Some(Seconds(0.12)));
        assert_eq!(t("s = 2").unwrap().s, Some(Seconds(2.0)));
        assert!(t("s = -1.0").is_err());
        assert_eq!(t("f = 0.01").unwrap().f, Some(Fraction(0.01)));
        assert_eq!(t("f = \"2.5%\"").unwrap().f, Some(Fraction(0.025)));
        assert!(t("f = 5").is_err());
        assert!(t("f = \"x\"").is_err());
    }
}

/// A size in bytes, written as a Kubernetes quantity (`"512Mi"`, `"1Gi"`, `"200M"`) or a number
/// of bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bytes(pub f64);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a size such as \"512Mi\" or a number of bytes")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Bytes, E> {
                Ok(Bytes(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Bytes, E> {
                Ok(Bytes(v as f64))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Bytes, E> {
                crate::policy::hpa::quantity::Quantity::parse(v)
                    .map(|q| Bytes(q.milli() as f64 / 1000.0))
                    .map_err(|e| {
                        E::custom(format!("invalid size \"{v}\" ({e}); expected a size such as \"512Mi\""))
                    })
            }
        }
        d.deserialize_any(V)
    }
}
