//! `--set key=value` overrides, applied to the TOML document before it is parsed.
//!
//! A key is a dotted path (`service.timeout`, `traffic.scale`); in an array of tables, the
//! step after the array's key picks an element by its `name` (`policy.hpa.max`) or by index
//! (`policy.0.max`). The value is read as a TOML value (`2`, `true`, `[1, 2]`, `"x"`), and
//! anything that is not one is taken as a string (`10s`, `2h`). Whether the key exists is left
//! to the typed parser, so a misspelt key gets the same did-you-mean error as in the file.

use super::source::{KeyPath, Seg};
use toml_edit::{DocumentMut, InlineTable, Item, TableLike, Value};

/// One applied override: the path it set (indices resolved) and the argument as given.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// What was set.
    pub path: KeyPath,
    /// The `key=value` argument.
    pub arg: String,
}

/// An override that cannot be applied.
#[derive(Debug, Clone, PartialEq)]
pub struct SetError {
    /// The `key=value` argument.
    pub arg: String,
    /// The key path as far as it was understood.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Parses a `--set` value: a TOML value, or else a bare string.
pub fn parse_value(text: &str) -> Value {
    let t = text.trim();
    match t.parse::<Value>() {
        Ok(v) => v,
        Err(_) => Value::from(t),
    }
}

/// Applies every override in order.
pub fn apply(doc: &mut DocumentMut, overrides: &[String]) -> Result<Vec<Applied>, SetError> {
    let mut out = Vec::new();
    for arg in overrides {
        let fail = |key: Option<String>, message: String| SetError { arg: arg.clone(), key, message };
        let Some((key, value)) = arg.split_once('=') else {
            return Err(fail(None, "expected key=value, e.g. --set service.timeout=10s".into()));
        };
        let segs: Vec<&str> = key.trim().split('.').map(str::trim).collect();
        if segs.iter().any(|s| s.is_empty()) {
            return Err(fail(None, format!("`{}` is not a dotted key such as service.timeout", key.trim())));
        }
        let v = value.trim();
        if is_out_of_range_integer(v) {
            return Err(fail(
                Some(segs.join(".")),
                format!(
                    "found the integer {v}, outside the range a scenario file can hold ({} to {}); \
                     expected a number within it",
                    i64::MIN,
                    i64::MAX
                ),
            ));
        }
        let mut path = KeyPath::root();
        set_in(doc.as_table_mut(), &segs, parse_value(value), &mut path)
            .map_err(|m| fail(Some(path.to_string()).filter(|p| !p.is_empty() && p != "(top level)"), m))?;
        out.push(Applied { path, arg: arg.clone() });
    }
    Ok(out)
}

/// Whether `t` is written as a decimal integer (`-12`, `+3`, `1_000`, no leading zero) beyond
/// what a TOML integer holds: such a value is refused, not taken as the string of its digits.
fn is_out_of_range_integer(t: &str) -> bool {
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    !digits.is_empty()
        && !digits.starts_with('0')
        && body.chars().all(|c| c.is_ascii_digit() || c == '_')
        && t.parse::<Value>().is_err()
        && digits.len() >= 19
}

fn type_name(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Table(_) | Item::Value(Value::InlineTable(_)) => "a table",
        Item::ArrayOfTables(_) | Item::Value(Value::Array(_)) => "an array",
        Item::Value(v) => v.type_name(),
    }
}

/// Finds the element of an array addressed by `seg`: by `name`, else by index.
fn pick<'a>(
    seg: &str,
    names: impl Iterator<Item = Option<&'a str>>,
    what: &KeyPath,
) -> Result<usize, String> {
    let names: Vec<Option<&str>> = names.collect();
    if let Some(i) = names.iter().position(|n| *n == Some(seg)) {
        return Ok(i);
    }
    if let Ok(i) = seg.parse::<usize>() {
        if i < names.len() {
            return Ok(i);
        }
        return Err(format!("index {i} is out of range: {what} has {} entries", names.len()));
    }
    let known: Vec<&str> = names.iter().flatten().copied().collect();
    let mut m = format!("no entry of {what} is named `{seg}`");
    if let Some(s) = super::error::suggest(seg, known.iter().copied()) {
        m.push_str(&format!("; did you mean `{s}`?"));
    }
    if known.is_empty() {
        m.push_str(&format!(" (address entries by index, 0 to {})", names.len().saturating_sub(1)));
    } else {
        m.push_str(&format!(" (names: {})", known.join(", ")));
    }
    Err(m)
}

/// The policy keys with two spellings (see `config::build::policy_keys`).
const POLICY_ALIASES: [(&str, &str); 3] =
    [("min", "min_replicas"), ("max", "max_replicas"), ("interval", "polling_interval")];

fn set_in(t: &mut dyn TableLike, segs: &[&str], mut value: Value, path: &mut KeyPath) -> Result<(), String> {
    let Some((&first, rest)) = segs.split_first() else {
        return Err("empty key".into());
    };
    // A policy key with two spellings (`min` / `min_replicas`, …) edits the one already written.
    let first = match (path.0.as_slice(), rest.is_empty()) {
        ([Seg::Key(k), Seg::Index(_)], true) if k == "policy" && t.get(first).is_none() => POLICY_ALIASES
            .iter()
            .find_map(|&(a, b)| {
                if first == a {
                    Some(b)
                } else if first == b {
                    Some(a)
                } else {
                    None
                }
            })
            .filter(|other| t.get(other).is_some())
            .unwrap_or(first),
        _ => first,
    };
    path.0.push(Seg::Key(first.to_string()));
    if rest.is_empty() {
        if let Some(Item::Value(old)) = t.get(first) {
            *value.decor_mut() = old.decor().clone();
        }
        if let Some(item @ (Item::Table(_) | Item::ArrayOfTables(_))) = t.get(first)
            && !value.is_inline_table()
        {
            return Err(format!(
                "{path} is {}; set one of its keys (or give an inline table)",
                type_name(item)
            ));
        }
        t.insert(first, Item::Value(value));
        return Ok(());
    }
    if t.get(first).is_none() {
        t.insert(first, Item::Value(Value::InlineTable(InlineTable::new())));
    }
    let here = path.clone();
    let item = t.get_mut(first).ok_or("cannot insert")?;
    match item {
        Item::Table(tt) => set_in(tt, rest, value, path),
        Item::Value(Value::InlineTable(it)) => set_in(it, rest, value, path),
        Item::ArrayOfTables(a) => {
            let i = pick(rest[0], a.iter().map(|t| t.get("name").and_then(|n| n.as_str())), &here)?;
            path.0.push(Seg::Index(i));
            let tt = a.get_mut(i).ok_or("index out of range")?;
            if rest.len() == 1 {
                return match value {
                    Value::InlineTable(it) => {
                        *tt = it.into_table();
                        Ok(())
                    }
                    _ => Err(format!("{path} is a table; set one of its keys (or give an inline table)")),
                };
            }
            set_in(tt, &rest[1..], value, path)
        }
        Item::Value(Value::Array(arr)) => {
            let names =
                arr.iter().map(|v| v.as_inline_table().and_then(|t| t.get("name")).and_then(|n| n.as_str()));
            let i = pick(rest[0], names, &here)?;
            path.0.push(Seg::Index(i));
            let el = arr.get_mut(i).ok_or("index out of range")?;
            if rest.len() == 1 {
                *value.decor_mut() = el.decor().clone();
                *el = value;
                return Ok(());
            }
            match el {
                Value::InlineTable(it) => set_in(it, &rest[1..], value, path),
                other => Err(format!("{path} is {}, not a table", type_name(&Item::Value(other.clone())))),
            }
        }
        other => Err(format!("{here} is {}, not a table", type_name(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "[simulation]\nduration = \"1h\" # one hour\n\n[service]\nworkers = 4\n\n[[policy]]\nname = \"fixed\"\ntype = \"fixed\"\n\n[[policy]]\nname = \"hpa\"\ntype = \"rps\"\nmax = 10\nwindows = [{ start = \"a\" }]\n";

    fn set(args: &[&str]) -> Result<(String, Vec<Applied>), SetError> {
        let mut doc: DocumentMut = DOC.parse().unwrap();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let a = apply(&mut doc, &args)?;
        Ok((doc.to_string(), a))
    }

    #[test]
    fn a_policy_key_edits_the_spelling_already_written() {
        let mut doc: DocumentMut =
            "[[policy]]\nname = \"a\"\nmin_replicas = 2\ninterval = \"30s\"\n".parse().unwrap();
        let a = apply(&mut doc, &["policy.a.min=3".into(), "policy.a.polling_interval=10s".into()]).unwrap();
        let text = doc.to_string();
        assert!(text.contains("min_replicas = 3") && !text.contains("min = "), "{text}");
        assert!(text.contains("interval = \"10s\"") && !text.contains("polling_interval"), "{text}");
        assert_eq!(a[0].path.to_string(), "policy[0].min_replicas");
        // A key written in neither spelling is added as given.
        apply(&mut doc, &["policy.a.max=9".into()]).unwrap();
        assert!(doc.to_string().contains("max = 9"));
    }

    #[test]
    fn values_are_toml_or_strings() {
        assert_eq!(parse_value("2").as_integer(), Some(2));
        assert_eq!(parse_value("2.5").as_float(), Some(2.5));
        assert_eq!(parse_value("10s").as_str(), Some("10s"));
        assert_eq!(parse_value("\"x y\"").as_str(), Some("x y"));
        assert!(parse_value("[1, 2]").is_array());
    }

    #[test]
    fn an_integer_beyond_toml_is_refused_not_taken_as_a_string() {
        let e = set(&["simulation.seed=18446744073709551615"]).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("simulation.seed"));
        assert!(e.message.contains("found the integer 18446744073709551615, outside the range"), "{e:?}");
        assert!(set(&["simulation.seed=-9223372036854775809"]).is_err());
        // In range, or not an integer: as before.
        assert!(set(&["simulation.seed=9223372036854775807"]).is_ok());
        let (doc, _) = set(&["simulation.name=007"]).unwrap();
        assert!(doc.contains("name = \"007\""), "{doc}");
    }

    #[test]
    fn sets_existing_and_new_keys() {
        let (text, a) =
            set(&["simulation.duration=2h", "service.timeout=10s", "cost.per_replica_hour=0.5"]).unwrap();
        assert!(text.contains("duration = \"2h\" # one hour"), "{text}");
        assert!(text.contains("timeout = \"10s\""), "{text}");
        let v: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(v["cost"]["per_replica_hour"].as_float(), Some(0.5));
        assert_eq!(v["service"]["workers"].as_integer(), Some(4));
        assert_eq!(a[1].path.to_string(), "service.timeout");
    }

    #[test]
    fn addresses_policies_by_name_and_index() {
        let (text, a) =
            set(&["policy.hpa.max=20", "policy.0.type=rps", "policy.hpa.windows.0.start=b"]).unwrap();
        let v: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(v["policy"][1]["max"].as_integer(), Some(20));
        assert_eq!(v["policy"][0]["type"].as_str(), Some("rps"));
        assert_eq!(v["policy"][1]["windows"][0]["start"].as_str(), Some("b"));
        assert_eq!(a[0].path.to_string(), "policy[1].max");
        assert_eq!(a[2].path.to_string(), "policy[1].windows[0].start");
    }

    #[test]
    fn reports_bad_addresses() {
        let e = set(&["policy.hap.max=3"]).unwrap_err();
        assert!(e.message.contains("did you mean `hpa`?"), "{}", e.message);
        assert!(e.message.contains("names: fixed, hpa"), "{}", e.message);
        assert!(set(&["policy.7.max=3"]).unwrap_err().message.contains("out of range"));
        assert!(set(&["service.workers.x=3"]).unwrap_err().message.contains("not a table"));
        assert!(set(&["service"]).unwrap_err().message.contains("key=value"));
        assert!(set(&["service=3"]).unwrap_err().message.contains("is a table"));
        assert!(set(&["a..b=3"]).is_err());
        let (text, _) =
            set(&["policy.0={ name = \"f\", type = \"fixed\", replicas = 3 }", "service={ workers = 2 }"])
                .unwrap();
        let v: toml::Value = toml::from_str(&text).unwrap();
        assert_eq!(v["policy"][0]["replicas"].as_integer(), Some(3));
        assert_eq!(v["service"]["workers"].as_integer(), Some(2));
    }
}
