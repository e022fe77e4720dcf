//! The input check the PDK makes before a tool runs: a subset of JSON Schema.
//!
//! The host validates every input against the full schema before it calls a tool, so this
//! is the second line: it keeps a tool called directly (by a test, another host, or a host
//! that skipped validation) from seeing input of the wrong shape. It checks `type`, `enum`,
//! `const`, `properties`, `required`, `additionalProperties`, `items`, `minItems`,
//! `maxItems`, `minLength`, `maxLength`, `minimum`, `maximum`, `exclusiveMinimum` and
//! `exclusiveMaximum`, and lets every other keyword pass. The Python and JavaScript PDKs
//! check the same subset.

use serde_json::{Map, Value};

/// `Err` names the first place where `value` does not fit `schema`, as a JSON pointer.
pub(crate) fn check(schema: &Value, value: &Value) -> Result<(), String> {
    check_at(schema, value, &mut String::new())
}

fn check_at(schema: &Value, value: &Value, at: &mut String) -> Result<(), String> {
    let schema = match schema {
        Value::Bool(true) => return Ok(()),
        Value::Bool(false) => return Err(fail(at, "no value is allowed here")),
        Value::Object(schema) => schema,
        // Not a schema: nothing to check against.
        _ => return Ok(()),
    };
    check_type(schema, value, at)?;
    if let Some(expected) = schema.get("const")
        && !same(expected, value)
    {
        return Err(fail(at, &format!("expected {expected}")));
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.iter().any(|item| same(item, value))
    {
        return Err(fail(at, "not one of the allowed values"));
    }
    match value {
        Value::String(text) => check_string(schema, text, at),
        Value::Number(_) => check_number(schema, value, at),
        Value::Object(object) => check_object(schema, object, at),
        Value::Array(items) => check_array(schema, items, at),
        Value::Bool(_) | Value::Null => Ok(()),
    }
}

fn check_type(schema: &Map<String, Value>, value: &Value, at: &str) -> Result<(), String> {
    let names: Vec<&str> = match schema.get("type") {
        Some(Value::String(name)) => vec![name],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    if names.iter().any(|name| has_type(value, name)) {
        Ok(())
    } else {
        Err(fail(
            at,
            &format!("expected {}, got {}", names.join(" or "), type_name(value)),
        ))
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value
            .as_f64()
            .is_some_and(|number| number.fract() == 0.0 && number.is_finite()),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Object(_) => "object",
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Null => "null",
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn check_string(schema: &Map<String, Value>, text: &str, at: &str) -> Result<(), String> {
    let length = text.chars().count() as f64;
    if let Some(min) = number(schema, "minLength")
        && length < min
    {
        return Err(fail(at, &format!("shorter than {min} characters")));
    }
    if let Some(max) = number(schema, "maxLength")
        && length > max
    {
        return Err(fail(at, &format!("longer than {max} characters")));
    }
    Ok(())
}

fn check_number(schema: &Map<String, Value>, value: &Value, at: &str) -> Result<(), String> {
    let Some(n) = value.as_f64() else {
        return Ok(());
    };
    let bounds: [(&str, fn(f64, f64) -> bool, &str); 4] = [
        ("minimum", |n, b| n >= b, "less than"),
        ("maximum", |n, b| n <= b, "greater than"),
        ("exclusiveMinimum", |n, b| n > b, "not greater than"),
        ("exclusiveMaximum", |n, b| n < b, "not less than"),
    ];
    for (keyword, holds, words) in bounds {
        if let Some(bound) = number(schema, keyword)
            && !holds(n, bound)
        {
            return Err(fail(at, &format!("{words} {}", schema[keyword])));
        }
    }
    Ok(())
}

fn check_object(
    schema: &Map<String, Value>,
    object: &Map<String, Value>,
    at: &mut String,
) -> Result<(), String> {
    if let Some(Value::Array(required)) = schema.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                return Err(fail(at, &format!("missing property `{name}`")));
            }
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, item) in object {
        let item_schema = match properties.and_then(|p| p.get(name)) {
            Some(declared) => declared,
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    return Err(fail(at, &format!("unexpected property `{name}`")));
                }
                Some(additional) => additional,
                None => continue,
            },
        };
        within(at, name, |at| check_at(item_schema, item, at))?;
    }
    Ok(())
}

fn check_array(
    schema: &Map<String, Value>,
    items: &[Value],
    at: &mut String,
) -> Result<(), String> {
    let count = items.len() as f64;
    if let Some(min) = number(schema, "minItems")
        && count < min
    {
        return Err(fail(at, &format!("fewer than {min} items")));
    }
    if let Some(max) = number(schema, "maxItems")
        && count > max
    {
        return Err(fail(at, &format!("more than {max} items")));
    }
    if let Some(item_schema) = schema.get("items") {
        for (index, item) in items.iter().enumerate() {
            within(at, &index.to_string(), |at| check_at(item_schema, item, at))?;
        }
    }
    Ok(())
}

/// Runs `check` with `segment` appended to the pointer `at`, escaped as RFC 6901 says.
fn within(
    at: &mut String,
    segment: &str,
    check: impl FnOnce(&mut String) -> Result<(), String>,
) -> Result<(), String> {
    let length = at.len();
    at.push('/');
    at.push_str(&segment.replace('~', "~0").replace('/', "~1"));
    let result = check(at);
    at.truncate(length);
    result
}

fn number(schema: &Map<String, Value>, keyword: &str) -> Option<f64> {
    schema.get(keyword).and_then(Value::as_f64)
}

fn fail(at: &str, what: &str) -> String {
    if at.is_empty() {
        format!("the input: {what}")
    } else {
        format!("`{at}`: {what}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn word_count() -> Value {
        json!({
            "type": "object",
            "properties": {
                "text": {"type": "string", "maxLength": 5},
                "mode": {"enum": ["words", "lines"]},
                "limit": {"type": "integer", "minimum": 1},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
            },
            "required": ["text"],
            "additionalProperties": false,
        })
    }

    #[test]
    fn accepts_what_fits() {
        let schema = word_count();
        for input in [
            json!({"text": "a b"}),
            json!({"text": "", "mode": "lines", "limit": 2.0, "tags": ["x"]}),
        ] {
            assert_eq!(check(&schema, &input), Ok(()), "{input}");
        }
        assert_eq!(check(&json!(true), &json!(1)), Ok(()));
        assert_eq!(check(&json!({"pattern": "x"}), &json!("y")), Ok(()));
    }

    #[test]
    fn names_the_first_misfit_by_pointer() {
        let schema = word_count();
        let cases = [
            (json!([1]), "the input: expected object, got array"),
            (json!({}), "the input: missing property `text`"),
            (json!({"text": 5}), "`/text`: expected string, got number"),
            (
                json!({"text": "abcdef"}),
                "`/text`: longer than 5 characters",
            ),
            (
                json!({"text": "", "x/y": 1}),
                "the input: unexpected property `x/y`",
            ),
            (
                json!({"text": "", "mode": "bytes"}),
                "`/mode`: not one of the allowed values",
            ),
            (
                json!({"text": "", "limit": 1.5}),
                "`/limit`: expected integer, got number",
            ),
            (json!({"text": "", "limit": 0}), "`/limit`: less than 1"),
            (
                json!({"text": "", "tags": ["a", 1]}),
                "`/tags/1`: expected string, got number",
            ),
            (
                json!({"text": "", "tags": ["a", "b", "c"]}),
                "`/tags`: more than 2 items",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(check(&schema, &input), Err(expected.to_string()), "{input}");
        }
        assert_eq!(
            check(&json!(false), &json!(null)),
            Err("the input: no value is allowed here".into())
        );
    }

    #[test]
    fn numbers_compare_by_value_and_bounds_by_kind() {
        assert_eq!(check(&json!({"const": 1}), &json!(1.0)), Ok(()));
        assert!(check(&json!({"exclusiveMaximum": 3}), &json!(3)).is_err());
        assert!(check(&json!({"type": "integer"}), &json!(true)).is_err());
        assert!(
            check(
                &json!({"additionalProperties": {"type": "string"}}),
                &json!({"a": 1})
            )
            .is_err()
        );
    }
}
