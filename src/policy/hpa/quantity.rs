//! Kubernetes resource quantities (`500m`, `100Mi`, `1.5`, `2k`, `1e3`): parsing into exact
//! milli-values, as `resource.Quantity.MilliValue()` gives them (rounded up), and back to text.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A quantity as written, with its exact value in thousandths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    text: String,
    milli: i64,
}

/// Why a quantity does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityError(pub String);

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QuantityError {}

impl Quantity {
    /// Parses Kubernetes quantity syntax: a signed decimal number, optionally with an exponent
    /// (`1e3`), then an optional suffix: `n u m k M G T P E` (powers of ten) or
    /// `Ki Mi Gi Ti Pi Ei` (powers of two).
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let milli = parse_milli(text.trim())?;
        Ok(Quantity { text: text.trim().to_string(), milli })
    }

    /// A quantity of `milli` thousandths, written canonically (`500m`, `2`, `1500m`).
    pub fn from_milli(milli: i64) -> Quantity {
        let text = if milli % 1000 == 0 { format!("{}", milli / 1000) } else { format!("{milli}m") };
        Quantity { text, milli }
    }

    /// The value in thousandths, rounded up (`MilliValue`).
    pub fn milli(&self) -> i64 {
        self.milli
    }

    /// The value as a float.
    pub fn as_f64(&self) -> f64 {
        self.milli as f64 / 1000.0
    }

    /// The text as written.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn parse_milli(s: &str) -> Result<i64, QuantityError> {
    let err = |why: &str| QuantityError(format!("`{s}` is not a Kubernetes quantity: {why}"));
    if s.is_empty() {
        return Err(err("empty"));
    }
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let num_end = body.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(body.len());
    let (num, mut rest) = body.split_at(num_end);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return Err(err("expected a number"));
    }
    let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 30 {
        return Err(err("too many digits"));
    }
    let mantissa: i128 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| err("bad digits"))? };
    let mut exp10: i32 = -(frac_part.len() as i32);
    let mut exp2: i32 = 0;
    if let Some(e) = rest.strip_prefix(['e', 'E']).filter(|r| !r.is_empty() && r != &"i") {
        // Decimal exponent (`1e3`); `E` alone is the exa suffix.
        let e: i32 = e.parse().map_err(|_| err("bad exponent"))?;
        exp10 += e;
        rest = "";
    }
    match rest {
        "" => {}
        "n" => exp10 -= 9,
        "u" => exp10 -= 6,
        "m" => exp10 -= 3,
        "k" => exp10 += 3,
        "M" => exp10 += 6,
        "G" => exp10 += 9,
        "T" => exp10 += 12,
        "P" => exp10 += 15,
        "E" => exp10 += 18,
        "Ki" => exp2 += 10,
        "Mi" => exp2 += 20,
        "Gi" => exp2 += 30,
        "Ti" => exp2 += 40,
        "Pi" => exp2 += 50,
        "Ei" => exp2 += 60,
        other => return Err(err(&format!("unknown suffix `{other}`"))),
    }
    // milli = ceil(mantissa × 10^(exp10 + 3) × 2^exp2)
    exp10 += 3;
    let too_big = || err("out of range");
    let mut num: i128 = mantissa;
    let mut den: i128 = 1;
    if exp10 >= 0 {
        num = num.checked_mul(10i128.checked_pow(exp10 as u32).ok_or_else(too_big)?).ok_or_else(too_big)?;
    } else {
        den = 10i128.checked_pow((-exp10) as u32).ok_or_else(too_big)?;
    }
    num = num.checked_mul(1i128 << exp2).ok_or_else(too_big)?;
    let mut v = (num + den - 1) / den;
    if neg {
        // MilliValue rounds toward +infinity: ceil(-x) = -floor(x).
        v = -(num / den);
    }
    i64::try_from(v).map_err(|_| too_big())
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Float(f64),
            Text(String),
        }
        let text = match Raw::deserialize(d)? {
            Raw::Int(i) => i.to_string(),
            Raw::Float(f) => format!("{f}"),
            Raw::Text(t) => t,
        };
        Quantity::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> i64 {
        Quantity::parse(s).unwrap().milli()
    }

    #[test]
    fn decimal_suffixes() {
        assert_eq!(m("500m"), 500);
        assert_eq!(m("1"), 1000);
        assert_eq!(m("1.5"), 1500);
        assert_eq!(m("2k"), 2_000_000);
        assert_eq!(m("0.1"), 100);
        assert_eq!(m("8.6"), 8600);
        assert_eq!(m("2.15"), 2150);
        assert_eq!(m("1e3"), 1_000_000);
        assert_eq!(m("1E3"), 1_000_000);
        assert_eq!(m("3M"), 3_000_000_000);
        assert_eq!(m(".5"), 500);
    }

    #[test]
    fn binary_suffixes() {
        assert_eq!(m("1Ki"), 1024 * 1000);
        assert_eq!(m("100Mi"), 100 * 1024 * 1024 * 1000);
        assert_eq!(m("1Gi"), (1i64 << 30) * 1000);
    }

    #[test]
    fn milli_value_rounds_up() {
        assert_eq!(m("1500u"), 2);
        assert_eq!(m("1n"), 1);
        assert_eq!(m("-1500u"), -1);
    }

    #[test]
    fn errors() {
        for bad in ["", "abc", "1.2.3", "5x", "1Zi", "m"] {
            assert!(Quantity::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_accepts_numbers_and_strings() {
        let q: Quantity = serde_norway::from_str("1.5").unwrap();
        assert_eq!(q.milli(), 1500);
        let q: Quantity = serde_norway::from_str("\"100Mi\"").unwrap();
        assert_eq!(q.text(), "100Mi");
        assert_eq!(serde_norway::to_string(&Quantity::from_milli(500)).unwrap().trim(), "500m");
    }
}
