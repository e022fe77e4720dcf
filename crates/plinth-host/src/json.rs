//! The JSON ↔ WIT value mapping of DESIGN §7, used by dynamic calls.
//!
//! Conversion is driven by the export's type, which is known at load time, so a value
//! of the wrong shape is refused before the guest runs (a bad enum or case name reaching
//! `Func::call` would otherwise look like a trap).

use serde_json::{Map, Number, Value};
use wasmtime::component::{Type, Val};

use crate::result_budget::{JsonBudget, OverBudget};

/// Why a JSON value does not fit a WIT type. `path` locates the offending part inside
/// the parameter (`.points[1].x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Where inside the value, empty for the value itself.
    pub path: String,
    /// What was expected and what was found.
    pub reason: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "at {}: {}", self.path, self.reason)
        }
    }
}

type Converted = Result<Val, Mismatch>;

/// A mismatch of the value itself (no path inside it).
pub(crate) fn mismatch(reason: impl Into<String>) -> Mismatch {
    Mismatch {
        path: String::new(),
        reason: reason.into(),
    }
}

/// Prefixes the location of a nested mismatch with the step into it. The step is only
/// formatted on a mismatch: a list converted without error allocates nothing per element.
fn within(step: impl FnOnce() -> String) -> impl FnOnce(Mismatch) -> Mismatch {
    move |mut m| {
        m.path = format!("{}{}", step(), m.path);
        m
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A short name of a WIT type for messages.
pub fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::S8 => "s8".into(),
        Type::U8 => "u8".into(),
        Type::S16 => "s16".into(),
        Type::U16 => "u16".into(),
        Type::S32 => "s32".into(),
        Type::U32 => "u32".into(),
        Type::S64 => "s64".into(),
        Type::U64 => "u64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "string".into(),
        Type::List(list) => format!("list<{}>", type_name(&list.ty())),
        Type::Record(_) => "record".into(),
        Type::Tuple(_) => "tuple".into(),
        Type::Variant(_) => "variant".into(),
        Type::Enum(_) => "enum".into(),
        Type::Option(o) => format!("option<{}>", type_name(&o.ty())),
        Type::Result(_) => "result".into(),
        Type::Flags(_) => "flags".into(),
        Type::Own(_) => "own<resource>".into(),
        Type::Borrow(_) => "borrow<resource>".into(),
        Type::Map(_) => "map".into(),
        Type::Future(_) => "future".into(),
        Type::Stream(_) => "stream".into(),
        Type::ErrorContext => "error-context".into(),
        Type::FixedLengthList(_) => "fixed-length list".into(),
    }
}

fn expected(ty: &Type, got: &Value) -> Mismatch {
    mismatch(format!("expected {}, got {}", type_name(ty), kind_of(got)))
}

fn int<T: TryFrom<i64> + TryFrom<u64>>(ty: &Type, value: &Value) -> Result<T, Mismatch> {
    let Value::Number(n) = value else {
        return Err(expected(ty, value));
    };
    let fits = if let Some(u) = n.as_u64() {
        T::try_from(u).ok()
    } else if let Some(i) = n.as_i64() {
        T::try_from(i).ok()
    } else {
        return Err(mismatch(format!(
            "expected {}, got the non-integer {n}",
            type_name(ty)
        )));
    };
    fits.ok_or_else(|| mismatch(format!("{n} is out of range for {}", type_name(ty))))
}

fn float(ty: &Type, value: &Value) -> Result<f64, Mismatch> {
    match value {
        Value::Number(n) => n.as_f64().ok_or_else(|| expected(ty, value)),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => Err(expected(ty, value)),
        },
        _ => Err(expected(ty, value)),
    }
}

/// Converts `value` to a [`Val`] of type `ty`.
pub fn to_val(value: &Value, ty: &Type) -> Converted {
    Ok(match ty {
        Type::Bool => Val::Bool(value.as_bool().ok_or_else(|| expected(ty, value))?),
        Type::S8 => Val::S8(int(ty, value)?),
        Type::U8 => Val::U8(int(ty, value)?),
        Type::S16 => Val::S16(int(ty, value)?),
        Type::U16 => Val::U16(int(ty, value)?),
        Type::S32 => Val::S32(int(ty, value)?),
        Type::U32 => Val::U32(int(ty, value)?),
        Type::S64 => Val::S64(int(ty, value)?),
        Type::U64 => Val::U64(int(ty, value)?),
        Type::Float32 => Val::Float32(float(ty, value)? as f32),
        Type::Float64 => Val::Float64(float(ty, value)?),
        Type::Char => {
            let s = value.as_str().ok_or_else(|| expected(ty, value))?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return Err(mismatch(format!("expected one character, got {s:?}"))),
            }
        }
        Type::String => Val::String(value.as_str().ok_or_else(|| expected(ty, value))?.into()),
        Type::List(list) => {
            let elem = list.ty();
            match (value, &elem) {
                (Value::String(s), Type::U8) => Val::List(s.bytes().map(Val::U8).collect()),
                (Value::Array(items), _) => Val::List(elements(items, &elem)?),
                _ => return Err(expected(ty, value)),
            }
        }
        Type::FixedLengthList(list) => {
            let Value::Array(items) = value else {
                return Err(expected(ty, value));
            };
            Val::FixedLengthList(elements(items, &list.ty())?)
        }
        Type::Record(record) => {
            let Value::Object(map) = value else {
                return Err(expected(ty, value));
            };
            let mut fields = Vec::with_capacity(map.len());
            for field in record.fields() {
                let v = map
                    .get(field.name)
                    .ok_or_else(|| mismatch(format!("missing field `{}`", field.name)))?;
                let val = to_val(v, &field.ty).map_err(within(|| format!(".{}", field.name)))?;
                fields.push((field.name.to_string(), val));
            }
            if let Some(extra) = map
                .keys()
                .find(|k| !record.fields().any(|f| f.name == k.as_str()))
            {
                let known: Vec<_> = record.fields().map(|f| f.name).collect();
                return Err(mismatch(format!(
                    "unknown field `{extra}` (fields: {})",
                    known.join(", ")
                )));
            }
            Val::Record(fields)
        }
        Type::Tuple(tuple) => {
            let Value::Array(items) = value else {
                return Err(expected(ty, value));
            };
            let types: Vec<Type> = tuple.types().collect();
            if items.len() != types.len() {
                return Err(mismatch(format!(
                    "expected a tuple of {} elements, got {}",
                    types.len(),
                    items.len()
                )));
            }
            let mut vals = Vec::with_capacity(items.len());
            for (i, (item, t)) in items.iter().zip(&types).enumerate() {
                vals.push(to_val(item, t).map_err(within(|| format!("[{i}]")))?);
            }
            Val::Tuple(vals)
        }
        Type::Option(option) => match value {
            Value::Null => Val::Option(None),
            v => Val::Option(Some(Box::new(to_val(v, &option.ty())?))),
        },
        Type::Result(result) => {
            let (case, payload) = single_entry(value, ty)?;
            let payload_ty = match case {
                "ok" => result.ok(),
                "err" => result.err(),
                other => {
                    return Err(mismatch(format!(
                        "expected {{\"ok\": …}} or {{\"err\": …}}, got key `{other}`"
                    )));
                }
            };
            let inner = case_payload(payload, payload_ty.as_ref(), case)?;
            Val::Result(if case == "ok" { Ok(inner) } else { Err(inner) })
        }
        Type::Variant(variant) => {
            let (case, payload) = match value {
                Value::String(name) => (name.as_str(), &Value::Null),
                _ => single_entry(value, ty)?,
            };
            let Some(found) = variant.cases().find(|c| c.name == case) else {
                let names: Vec<_> = variant.cases().map(|c| c.name).collect();
                return Err(mismatch(format!(
                    "unknown case `{case}` (cases: {})",
                    names.join(", ")
                )));
            };
            let inner = case_payload(payload, found.ty.as_ref(), case)?;
            Val::Variant(case.to_string(), inner)
        }
        Type::Enum(en) => {
            let name = value.as_str().ok_or_else(|| expected(ty, value))?;
            if !en.names().any(|n| n == name) {
                let names: Vec<_> = en.names().collect();
                return Err(mismatch(format!(
                    "unknown enum value `{name}` (values: {})",
                    names.join(", ")
                )));
            }
            Val::Enum(name.to_string())
        }
        Type::Flags(flags) => {
            let Value::Array(items) = value else {
                return Err(expected(ty, value));
            };
            let mut set = Vec::with_capacity(items.len());
            for item in items {
                let name = item.as_str().ok_or_else(|| expected(ty, item))?;
                if !flags.names().any(|n| n == name) {
                    let names: Vec<_> = flags.names().collect();
                    return Err(mismatch(format!(
                        "unknown flag `{name}` (flags: {})",
                        names.join(", ")
                    )));
                }
                set.push(name.to_string());
            }
            Val::Flags(set)
        }
        Type::Map(map) => {
            let (key_ty, value_ty) = (map.key(), map.value());
            let pairs: Vec<(Value, &Value)> = match value {
                Value::Object(obj) => obj
                    .iter()
                    .map(|(k, v)| (Value::String(k.clone()), v))
                    .collect(),
                Value::Array(items) => items
                    .iter()
                    .map(|item| match item {
                        Value::Array(kv) if kv.len() == 2 => Ok((kv[0].clone(), &kv[1])),
                        other => Err(mismatch(format!(
                            "expected a [key, value] pair, got {}",
                            kind_of(other)
                        ))),
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(expected(ty, value)),
            };
            let mut out = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                out.push((to_val(&k, &key_ty)?, to_val(v, &value_ty)?));
            }
            Val::Map(out)
        }
        Type::Own(_) | Type::Borrow(_) => {
            return Err(mismatch(format!(
                "a {} cannot be passed from JSON",
                type_name(ty)
            )));
        }
        Type::Future(_) | Type::Stream(_) | Type::ErrorContext => {
            return Err(mismatch(format!(
                "{} values cannot be passed from JSON",
                type_name(ty)
            )));
        }
    })
}

fn elements(items: &[Value], elem: &Type) -> Result<Vec<Val>, Mismatch> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| to_val(item, elem).map_err(within(|| format!("[{i}]"))))
        .collect()
}

/// `{"name": payload}` → (name, payload).
fn single_entry<'v>(value: &'v Value, ty: &Type) -> Result<(&'v str, &'v Value), Mismatch> {
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (k, v) = map.iter().next().ok_or_else(|| expected(ty, value))?;
            Ok((k.as_str(), v))
        }
        _ => Err(mismatch(format!(
            "expected an object with one key for {}, got {}",
            type_name(ty),
            kind_of(value)
        ))),
    }
}

fn case_payload(
    payload: &Value,
    ty: Option<&Type>,
    case: &str,
) -> Result<Option<Box<Val>>, Mismatch> {
    match (ty, payload) {
        (None, Value::Null) => Ok(None),
        (None, other) => Err(mismatch(format!(
            "case `{case}` has no payload, got {}",
            kind_of(other)
        ))),
        (Some(t), v) => Ok(Some(Box::new(
            to_val(v, t).map_err(within(|| format!(".{case}")))?,
        ))),
    }
}

fn float_json(f: f64) -> Value {
    if f.is_nan() {
        Value::String("NaN".into())
    } else if f.is_infinite() {
        Value::String(if f > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// Converts a [`Val`] returned by a guest to JSON.
pub fn from_val(val: &Val) -> Value {
    match val {
        Val::Bool(b) => Value::Bool(*b),
        Val::S8(n) => Value::from(*n),
        Val::U8(n) => Value::from(*n),
        Val::S16(n) => Value::from(*n),
        Val::U16(n) => Value::from(*n),
        Val::S32(n) => Value::from(*n),
        Val::U32(n) => Value::from(*n),
        Val::S64(n) => Value::from(*n),
        Val::U64(n) => Value::from(*n),
        // Widening f32 → f64 would print 0.1f32 as 0.10000000149011612; go through the
        // f32's own shortest decimal form instead.
        Val::Float32(f) => {
            if f.is_finite() {
                f.to_string()
                    .parse::<f64>()
                    .ok()
                    .and_then(Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            } else {
                float_json(f64::from(*f))
            }
        }
        Val::Float64(f) => float_json(*f),
        Val::Char(c) => Value::String(c.to_string()),
        Val::String(s) => Value::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Value::Array(items.iter().map(from_val).collect())
        }
        Val::Record(fields) => Value::Object(
            fields
                .iter()
                .map(|(name, v)| (name.clone(), from_val(v)))
                .collect::<Map<_, _>>(),
        ),
        Val::Variant(case, None) => Value::String(case.clone()),
        Val::Variant(case, Some(payload)) => single(case, from_val(payload)),
        Val::Enum(name) => Value::String(name.clone()),
        Val::Option(None) => Value::Null,
        Val::Option(Some(v)) => from_val(v),
        Val::Result(Ok(v)) => single("ok", v.as_deref().map_or(Value::Null, from_val)),
        Val::Result(Err(v)) => single("err", v.as_deref().map_or(Value::Null, from_val)),
        Val::Flags(names) => Value::Array(names.iter().cloned().map(Value::String).collect()),
        Val::Map(pairs) => Value::Array(
            pairs
                .iter()
                .map(|(k, v)| Value::Array(vec![from_val(k), from_val(v)]))
                .collect(),
        ),
        Val::Resource(_) => Value::String("<resource>".into()),
        Val::Future(_) => Value::String("<future>".into()),
        Val::Stream(_) => Value::String("<stream>".into()),
        Val::ErrorContext(_) => Value::String("<error-context>".into()),
    }
}

/// Converts a [`Val`] returned by a guest to JSON, consuming it (each part is freed once
/// converted) and charging what each node allocates to `budget` (its slot is its
/// parent's, or the caller's for the top level); stops when the budget runs out.
pub(crate) fn from_val_within(val: Val, budget: &mut JsonBudget) -> Result<Value, OverBudget> {
    Ok(match val {
        Val::String(s) => {
            budget.string(s.len())?;
            Value::String(s)
        }
        Val::Char(c) => {
            budget.string(c.len_utf8())?;
            Value::String(c.to_string())
        }
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            budget.array(items.len())?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(from_val_within(item, budget)?);
            }
            Value::Array(out)
        }
        Val::Record(fields) => {
            let keys = fields.iter().map(|(name, _)| name.len()).sum();
            budget.object(fields.len(), keys)?;
            let mut map = Map::with_capacity(fields.len());
            for (name, v) in fields {
                let v = from_val_within(v, budget)?;
                map.insert(name, v);
            }
            Value::Object(map)
        }
        Val::Variant(case, None) | Val::Enum(case) => {
            budget.string(case.len())?;
            Value::String(case)
        }
        Val::Variant(case, Some(payload)) => {
            budget.object(1, case.len())?;
            single(&case, from_val_within(*payload, budget)?)
        }
        Val::Option(None) => Value::Null,
        Val::Option(Some(v)) => from_val_within(*v, budget)?,
        Val::Result(Ok(v)) => result_within("ok", v, budget)?,
        Val::Result(Err(v)) => result_within("err", v, budget)?,
        Val::Flags(names) => {
            budget.array(names.len())?;
            let mut out = Vec::with_capacity(names.len());
            for name in names {
                budget.string(name.len())?;
                out.push(Value::String(name));
            }
            Value::Array(out)
        }
        Val::Map(pairs) => {
            budget.array(pairs.len())?;
            let mut out = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                budget.array(2)?;
                let pair = vec![from_val_within(k, budget)?, from_val_within(v, budget)?];
                out.push(Value::Array(pair));
            }
            Value::Array(out)
        }
        other => from_val(&other),
    })
}

fn result_within(
    key: &str,
    payload: Option<Box<Val>>,
    budget: &mut JsonBudget,
) -> Result<Value, OverBudget> {
    budget.object(1, key.len())?;
    let value = match payload {
        Some(v) => from_val_within(*v, budget)?,
        None => Value::Null,
    };
    Ok(single(key, value))
}

fn single(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    Value::Object(map)
}
