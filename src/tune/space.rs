//! The search space of `scalesim tune`: `--vary KEY=VALUES` parsed into value lists, and the
//! candidates (points of their cross product) addressed by index, so a random sample of a huge
//! grid never materialises the grid.
//!
//! VALUES is a comma list (`10s,30s`), an inclusive linear range (`6..14:2`, also with a unit:
//! `10s..60s:10s`) or a geometric range (`1..64:x2`). Each value is kept as the text handed to
//! `--set` and as a JSON value (a number when it reads as one) for the outputs.

use serde_json::Value as Json;

/// One value of a varied key.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamValue {
    /// The text given to `--set KEY=<text>`.
    pub text: String,
    /// The value for tune.json: a number when the text is one, else a string.
    pub json: Json,
}

impl ParamValue {
    /// A value from its text.
    pub fn new(text: &str) -> ParamValue {
        let t = text.trim();
        let json = match t.parse::<f64>() {
            Ok(x) if x.is_finite() => number_json(x),
            _ => Json::String(t.to_string()),
        };
        ParamValue { text: t.to_string(), json }
    }

    /// The value as a number, when it is one (for charts).
    pub fn as_f64(&self) -> Option<f64> {
        self.json.as_f64()
    }
}

fn number_json(x: f64) -> Json {
    if x.fract() == 0.0 && x.abs() < 9.0e15 { Json::from(x as i64) } else { Json::from(x) }
}

/// One `--vary`: a key and its values, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub struct Vary {
    /// The `--set` key, e.g. `policy.rps-10.target`.
    pub key: String,
    /// Its values (at least one, no duplicates).
    pub values: Vec<ParamValue>,
}

/// Most values one range may expand to.
pub const MAX_VALUES_PER_KEY: usize = 10_000;

/// Parses `KEY=VALUES`. Errors name what is wrong (the caller adds the `--vary` argument).
pub fn parse_vary(arg: &str) -> Result<Vary, String> {
    let Some((key, values)) = arg.split_once('=') else {
        return Err("expected KEY=VALUES, e.g. --vary policy.rps-10.target=6..14:2".into());
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(|s| s.trim().is_empty()) {
        return Err(format!("`{key}` is not a dotted key such as policy.rps-10.target"));
    }
    let values = values.trim();
    if values.is_empty() {
        return Err("no values after `=`; expected a list (10s,30s) or a range (6..14:2, 1..64:x2)".into());
    }
    let list = if values.contains("..") { range(values)? } else { list(values)? };
    let mut seen = std::collections::HashSet::new();
    for v in &list {
        if !seen.insert(v.text.clone()) {
            return Err(format!("the value `{}` is listed twice", v.text));
        }
    }
    Ok(Vary { key: key.to_string(), values: list })
}

fn list(values: &str) -> Result<Vec<ParamValue>, String> {
    let parts: Vec<&str> = values.split(',').map(str::trim).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{values}` has an empty item; expected comma-separated values such as 10s,30s"));
    }
    Ok(parts.into_iter().map(ParamValue::new).collect())
}

/// Splits `10s` into (10, "s"); a bare number has an empty unit.
pub(crate) fn number_unit(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    let cut = t.find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E').unwrap_or(t.len());
    // `1e3s`: the exponent's `e` is part of the number; a unit never starts with `e`.
    let (n, u) = t.split_at(cut);
    let x: f64 = n.trim().parse().ok()?;
    x.is_finite().then_some((x, u.trim()))
}

fn range(values: &str) -> Result<Vec<ParamValue>, String> {
    let form = "expected START..END:STEP (e.g. 6..14:2, 10s..60s:10s) or START..END:xFACTOR (e.g. 1..64:x2)";
    let (span, step) = values.split_once(':').ok_or_else(|| format!("`{values}` has no step; {form}"))?;
    let (a, b) = span.split_once("..").ok_or_else(|| format!("`{values}`: {form}"))?;
    let (start, ua) = number_unit(a).ok_or_else(|| format!("`{}` is not a number; {form}", a.trim()))?;
    let (end, ub) = number_unit(b).ok_or_else(|| format!("`{}` is not a number; {form}", b.trim()))?;
    if ua != ub {
        return Err(format!("`{values}`: the start and end have different units (`{ua}` and `{ub}`)"));
    }
    if start > end {
        return Err(format!("`{values}` is empty: the start ({}) is above the end ({})", a.trim(), b.trim()));
    }
    let step = step.trim();
    let mut out = Vec::new();
    let fmt = |x: f64| format_value(x, ua);
    if let Some(f) = step.strip_prefix('x') {
        let factor: f64 = f.trim().parse().map_err(|_| format!("`x{f}` is not a factor; {form}"))?;
        if !(factor.is_finite() && factor > 1.0) {
            return Err(format!("the factor x{f} must be greater than 1"));
        }
        if start <= 0.0 {
            return Err(format!("a geometric range needs a positive start, found {}", a.trim()));
        }
        let mut x = start;
        while x <= end * (1.0 + 1e-9) {
            out.push(ParamValue::new(&fmt(x)));
            if out.len() > MAX_VALUES_PER_KEY {
                return Err(format!("`{values}` expands to more than {MAX_VALUES_PER_KEY} values"));
            }
            x *= factor;
        }
    } else {
        let (s, us) = number_unit(step).ok_or_else(|| format!("`{step}` is not a step; {form}"))?;
        if us != ua {
            return Err(format!("the step `{step}` has unit `{us}`, the range has `{ua}`"));
        }
        if s <= 0.0 {
            return Err(format!("the step must be positive, found {step}"));
        }
        let n = ((end - start) / s + 1e-9).floor();
        if n + 1.0 > MAX_VALUES_PER_KEY as f64 {
            return Err(format!("`{values}` expands to more than {MAX_VALUES_PER_KEY} values"));
        }
        for i in 0..=(n as usize) {
            out.push(ParamValue::new(&fmt(start + i as f64 * s)));
        }
    }
    Ok(out)
}

/// A value of a range as its text: rounded to 9 decimals, whole numbers without a point, then
/// the unit.
pub(crate) fn format_value(x: f64, unit: &str) -> String {
    let r = (x * 1e9).round() / 1e9;
    let s = if r.fract() == 0.0 && r.abs() < 9.0e15 { format!("{}", r as i64) } else { format!("{r}") };
    format!("{s}{unit}")
}

/// `START..END:STEP` in the syntax [`parse_vary`] reads, `step` written out (`2`, `10s`, `x2`).
pub(crate) fn format_range(start: f64, end: f64, step: &str, unit: &str) -> String {
    format!("{}..{}:{step}", format_value(start, unit), format_value(end, unit))
}

/// The cross product of several `--vary`, addressed by index (the last key varies fastest).
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    /// The varied keys, in the order given.
    pub vary: Vec<Vary>,
}

impl Space {
    /// Number of points (saturating at `u64::MAX`).
    pub fn size(&self) -> u64 {
        self.vary.iter().fold(1u64, |n, v| n.saturating_mul(v.values.len() as u64))
    }

    /// The values of point `index` (`index < size()`), one per key.
    pub fn point(&self, mut index: u64) -> Vec<&ParamValue> {
        let mut out = vec![None; self.vary.len()];
        for (k, v) in self.vary.iter().enumerate().rev() {
            let n = v.values.len() as u64;
            out[k] = Some(&v.values[(index % n) as usize]);
            index /= n;
        }
        out.into_iter().map(|v| v.expect("every key gets a value")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(arg: &str) -> Vec<String> {
        parse_vary(arg).unwrap().values.into_iter().map(|v| v.text).collect()
    }

    #[test]
    fn lists_and_ranges() {
        assert_eq!(texts("k=10s,30s"), ["10s", "30s"]);
        assert_eq!(texts("k=6..14:2"), ["6", "8", "10", "12", "14"]);
        assert_eq!(texts("k=6..13:2"), ["6", "8", "10", "12"]);
        assert_eq!(texts("k=1..64:x2"), ["1", "2", "4", "8", "16", "32", "64"]);
        assert_eq!(texts("k=0.1..0.3:0.1"), ["0.1", "0.2", "0.3"]);
        assert_eq!(texts("k=10s..30s:10s"), ["10s", "20s", "30s"]);
        assert_eq!(texts("k=5..5:1"), ["5"]);
        let v = parse_vary("policy.a.target=8").unwrap();
        assert_eq!(v.key, "policy.a.target");
        assert_eq!(v.values[0].json, serde_json::json!(8));
        assert_eq!(parse_vary("k=30s").unwrap().values[0].json, serde_json::json!("30s"));
    }

    #[test]
    fn bad_ranges_are_refused() {
        for (arg, want) in [
            ("k=14..6:2", "is empty"),
            ("k=1..5:0", "step must be positive"),
            ("k=1..5:-1", "step must be positive"),
            ("k=1..5", "has no step"),
            ("k=a..5:1", "not a number"),
            ("k=1..64:x1", "greater than 1"),
            ("k=0..64:x2", "positive start"),
            ("k=10s..1m:10s", "different units"),
            ("k=1..2:1s", "has unit"),
            ("k=", "no values"),
            ("k", "KEY=VALUES"),
            ("k=1,,2", "empty item"),
            ("k=1,1", "listed twice"),
            ("a..b=1", "dotted key"),
            ("k=0..1000000:1", "more than"),
        ] {
            let e = parse_vary(arg).unwrap_err();
            assert!(e.contains(want), "{arg}: {e}");
        }
    }

    #[test]
    fn points_enumerate_the_cross_product() {
        let s = Space { vary: vec![parse_vary("a=1,2").unwrap(), parse_vary("b=x,y,z").unwrap()] };
        assert_eq!(s.size(), 6);
        let all: Vec<String> =
            (0..6).map(|i| s.point(i).iter().map(|v| v.text.clone()).collect::<Vec<_>>().join("/")).collect();
        assert_eq!(all, ["1/x", "1/y", "1/z", "2/x", "2/y", "2/z"]);
    }
}
