//! A small JSON Schema validator shared by the tests of summary.json, tune.json and the explain
//! schemas, for the keyword subset the checked-in schemas use (`type`, `enum`, `required`,
//! `properties`, `additionalProperties`, `items`, `minimum`, local `$ref`s).
#![allow(dead_code)]

use serde_json::Value;

/// A small JSON Schema validator for the keywords `docs/summary.schema.json` uses: `type`,
/// `required`, `properties`, `additionalProperties`, `items`, `minimum` and local `$ref`s.
/// Panics with the JSON path of the first violation.
pub fn validate(v: &Value, schema: &Value, root: &Value, at: &str) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let target = r.strip_prefix("#/").expect("local $ref").split('/').fold(root, |s, k| &s[k]);
        assert!(!target.is_null(), "dangling $ref {r}");
        return validate(v, target, root, at);
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(|x| x.as_str().unwrap()).collect(),
            _ => panic!("bad type keyword"),
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "number" => v.is_number(),
            "integer" => v.is_i64() || v.is_u64(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            other => panic!("unknown type {other}"),
        });
        assert!(ok, "{at}: {v} is not {types:?}");
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        assert!(allowed.contains(v), "{at}: {v} is not one of {allowed:?}");
    }
    if let (Some(min), Some(x)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        assert!(x >= min, "{at}: {x} < {min}");
    }
    if let Some(obj) = v.as_object() {
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for k in req {
                assert!(obj.contains_key(k.as_str().unwrap()), "{at}: missing {k}");
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (k, val) in obj {
            let sub = format!("{at}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(val, s, root, &sub),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => panic!("{sub}: not allowed by the schema"),
                    Some(s @ Value::Object(_)) => validate(val, s, root, &sub),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(x, items, root, &format!("{at}[{i}]"));
        }
    }
}
