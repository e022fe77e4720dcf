//! The plan of a dynamic (JSON) call, made once per export at load (docs/design/0072).
//!
//! Wasmtime's dynamic API moves every value through a [`Val`]: a `list<u8>` of 1 MiB is a
//! million `Val::U8`s, each type-checked and stored one at a time, then a million JSON
//! numbers. Its typed API copies a `list<u8>` or a `string` as one block. So an export
//! whose signature is made of the common leaf types ([`Leaf`]: `list<u8>`, `string`,
//! `u32`, `bool`) is called through a typed function chosen at load from [`SHAPES`], its
//! JSON arguments converted straight to the Rust values the typed call lowers, and its
//! result converted straight to JSON. Every other signature takes the [`Val`] path of
//! [`crate::json`]. Both paths accept the same JSON, refuse it with the same messages and
//! charge the same result budget.
//!
//! A call may also take its arguments and give its result as JSON *text*
//! ([`Form::Text`], docs/design/0077): the typed path then parses the arguments straight
//! into the Rust values and writes the result straight to text, so no
//! [`serde_json::Value`] is built or dropped (a `list<u8>` of 16 bytes is otherwise 16
//! boxed-size nodes each way). Text it cannot take that way goes through the [`Value`]
//! path, which says what is wrong with it.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use serde_json::Value;
use wasmtime::Store;
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, ComponentType, Func, Lift, Lower, Type, TypedFunc,
    Val,
};

use crate::json::{self, Mismatch, mismatch};
use crate::json_text::{Scanner, write_bytes, write_string};
use crate::result_budget::{JsonBudget, OverBudget};
use crate::state::StoreState;

/// How a dynamic call of one export is made, decided at load.
pub(crate) struct JsonPlan {
    /// The parameter types, in order.
    pub(crate) params: Box<[Type]>,
    /// The typed path, when the signature is one of [`SHAPES`].
    pub(crate) fast: Option<&'static dyn FastShape>,
    /// How many results the export has (zero or one).
    pub(crate) result_count: usize,
    /// What an exit with status 0 returns ([`crate::exit::success_vals`]).
    pub(crate) exit_results: Option<Vec<Val>>,
}

impl JsonPlan {
    pub(crate) fn new(ty: &ComponentFunc) -> Self {
        let params: Box<[Type]> = ty.params().map(|(_, t)| t).collect();
        let results: Vec<Type> = ty.results().collect();
        Self {
            fast: SHAPES
                .iter()
                .copied()
                .find(|shape| shape.matches(&params, &results)),
            result_count: results.len(),
            exit_results: crate::exit::success_vals(&results),
            params,
        }
    }
}

/// Arguments converted for a typed call: the shape's parameter tuple.
pub(crate) type FastArgs = Box<dyn Any + Send + Sync>;

/// A typed call's first result as JSON (`null` without one), or over the result budget.
pub(crate) type FastResult = Result<Json, OverBudget>;

/// The form of JSON a dynamic call takes and gives: values, or text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    /// [`serde_json::Value`]s.
    Value,
    /// JSON text.
    Text,
}

/// A dynamic call's first result, in the form its caller asked for.
#[derive(Debug)]
pub(crate) enum Json {
    /// As a value.
    Value(Value),
    /// As JSON text.
    Text(String),
}

impl Json {
    /// `value` in `form`.
    pub(crate) fn of(value: Value, form: Form) -> Self {
        match form {
            Form::Value => Json::Value(value),
            Form::Text => Json::Text(value.to_string()),
        }
    }

    /// The result as a value.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Json::Value(value) => value,
            // Text this module wrote is JSON.
            Json::Text(text) => serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// The result as JSON text.
    pub(crate) fn into_text(self) -> String {
        match self {
            Json::Value(value) => value.to_string(),
            Json::Text(text) => text,
        }
    }
}

type FastFuture<'a> = Pin<Box<dyn Future<Output = wasmtime::Result<FastResult>> + Send + 'a>>;

/// The typed functions a Store has looked up, by export: a warm instance type-checks an
/// export once, not at every call.
#[derive(Default)]
pub(crate) struct TypedFuncs(Vec<(ComponentExportIndex, Box<dyn Any + Send + Sync>)>);

impl TypedFuncs {
    fn get<P, R>(
        store: &mut Store<StoreState>,
        func: Func,
        index: ComponentExportIndex,
    ) -> wasmtime::Result<TypedFunc<P, R>>
    where
        P: ComponentNamedList + Lower + Send + Sync + 'static,
        R: ComponentNamedList + Lift + Send + Sync + 'static,
    {
        let cached = store
            .data()
            .typed_funcs
            .0
            .iter()
            .find(|(i, _)| *i == index)
            .and_then(|(_, typed)| typed.downcast_ref::<TypedFunc<P, R>>());
        if let Some(typed) = cached {
            return Ok(*typed);
        }
        let typed = func.typed::<P, R>(&*store)?;
        store
            .data_mut()
            .typed_funcs
            .0
            .push((index, Box::new(typed)));
        Ok(typed)
    }
}

/// One signature called through Wasmtime's typed API.
pub(crate) trait FastShape: Send + Sync {
    /// Whether an export with these parameter and result types has this shape.
    fn matches(&self, params: &[Type], results: &[Type]) -> bool;
    /// Converts JSON arguments (one per parameter, already counted) of types `params`; a
    /// refused argument is its position and why.
    fn convert(&self, args: &[Value], params: &[Type]) -> Result<FastArgs, (usize, Mismatch)>;
    /// Converts the JSON text of the argument array; `None` when it is not exactly what
    /// the shape takes (the [`Value`] path then says why).
    fn convert_text(&self, args: &str) -> Option<FastArgs>;
    /// Calls `func`, the export `index`, with arguments [`Self::convert`] made, and
    /// turns its result into JSON of `form` within `result_bytes`.
    fn call<'a>(
        &'static self,
        store: &'a mut Store<StoreState>,
        func: Func,
        index: ComponentExportIndex,
        args: FastArgs,
        result: (Form, u64),
    ) -> FastFuture<'a>;
    /// [`Self::call`] on the sync path (docs/design/0075).
    fn call_sync(
        &'static self,
        store: &mut Store<StoreState>,
        func: Func,
        index: ComponentExportIndex,
        args: FastArgs,
        result: (Form, u64),
    ) -> wasmtime::Result<FastResult>;
}

/// A result the typed path lifts as its Rust type.
trait Out: ComponentType + Lift + Send + Sync + 'static {
    /// Whether `ty` is this value's WIT type.
    fn is(ty: &Type) -> bool;
    /// The JSON form, charged to `budget` as [`json::from_val_within`] charges it.
    fn to_json(self, budget: &mut JsonBudget) -> Result<Value, OverBudget>;
    /// The JSON text of [`Self::to_json`] written to `out`, charged the same.
    fn write_json(self, budget: &mut JsonBudget, out: &mut Vec<u8>) -> Result<(), OverBudget>;
}

/// A value the typed path carries as its Rust type, as a parameter or a result.
trait Leaf: Out + Lower {
    /// The value for `value`; `None` when it does not fit (the [`Val`] path then says why,
    /// in the same words as for any other signature).
    fn from_json(value: &Value) -> Option<Self>;
    /// The value read from JSON text; `None` for anything but its plainest form
    /// ([`crate::json_text`]), which [`Self::from_json`] takes with the same value.
    fn scan(text: &mut Scanner<'_>) -> Option<Self>;
}

/// `result<string, string>`, as `{"ok": …}` or `{"err": …}`.
impl Out for Result<String, String> {
    fn is(ty: &Type) -> bool {
        matches!(ty, Type::Result(r) if r.ok() == Some(Type::String) && r.err() == Some(Type::String))
    }

    fn to_json(self, budget: &mut JsonBudget) -> Result<Value, OverBudget> {
        let (key, payload) = match self {
            Ok(s) => ("ok", s),
            Err(s) => ("err", s),
        };
        budget.object(1, key.len())?;
        let payload = payload.to_json(budget)?;
        let mut map = serde_json::Map::new();
        map.insert(key.to_string(), payload);
        Ok(Value::Object(map))
    }

    fn write_json(self, budget: &mut JsonBudget, out: &mut Vec<u8>) -> Result<(), OverBudget> {
        let (key, payload) = match self {
            Ok(s) => ("ok", s),
            Err(s) => ("err", s),
        };
        budget.object(1, key.len())?;
        out.extend_from_slice(if key == "ok" {
            b"{\"ok\":"
        } else {
            b"{\"err\":"
        });
        payload.write_json(budget, out)?;
        out.push(b'}');
        Ok(())
    }
}

impl Out for Vec<u8> {
    fn is(ty: &Type) -> bool {
        matches!(ty, Type::List(list) if list.ty() == Type::U8)
    }

    fn to_json(self, budget: &mut JsonBudget) -> Result<Value, OverBudget> {
        budget.array(self.len())?;
        Ok(Value::Array(
            self.iter().map(|&b| Value::Number(b.into())).collect(),
        ))
    }

    fn write_json(self, budget: &mut JsonBudget, out: &mut Vec<u8>) -> Result<(), OverBudget> {
        budget.array(self.len())?;
        write_bytes(&self, out);
        Ok(())
    }
}

impl Leaf for Vec<u8> {
    fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::String(s) => Some(s.as_bytes().to_vec()),
            Value::Array(items) => {
                let mut bytes = Vec::with_capacity(items.len());
                for item in items {
                    let Value::Number(n) = item else {
                        return None;
                    };
                    bytes.push(u8::try_from(n.as_u64()?).ok()?);
                }
                Some(bytes)
            }
            _ => None,
        }
    }

    fn scan(text: &mut Scanner<'_>) -> Option<Self> {
        text.bytes()
    }
}

impl Out for String {
    fn is(ty: &Type) -> bool {
        *ty == Type::String
    }

    fn to_json(self, budget: &mut JsonBudget) -> Result<Value, OverBudget> {
        budget.string(self.len())?;
        Ok(Value::String(self))
    }

    fn write_json(self, budget: &mut JsonBudget, out: &mut Vec<u8>) -> Result<(), OverBudget> {
        budget.string(self.len())?;
        write_string(&self, out);
        Ok(())
    }
}

impl Leaf for String {
    fn from_json(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_string)
    }

    fn scan(text: &mut Scanner<'_>) -> Option<Self> {
        text.string()
    }
}

impl Out for u32 {
    fn is(ty: &Type) -> bool {
        *ty == Type::U32
    }

    fn to_json(self, _: &mut JsonBudget) -> Result<Value, OverBudget> {
        Ok(Value::from(self))
    }

    fn write_json(self, _: &mut JsonBudget, out: &mut Vec<u8>) -> Result<(), OverBudget> {
        out.extend_from_slice(self.to_string().as_bytes());
        Ok(())
    }
}

impl Leaf for u32 {
    fn from_json(value: &Value) -> Option<Self> {
        value.as_u64().and_then(|n| u32::try_from(n).ok())
    }

    fn scan(text: &mut Scanner<'_>) -> Option<Self> {
        text.uint(u64::from(u32::MAX))
            .and_then(|n| u32::try_from(n).ok())
    }
}

impl Out for bool {
    fn is(ty: &Type) -> bool {
        *ty == Type::Bool
    }

    fn to_json(self, _: &mut JsonBudget) -> Result<Value, OverBudget> {
        Ok(Value::Bool(self))
    }

    fn write_json(self, _: &mut JsonBudget, out: &mut Vec<u8>) -> Result<(), OverBudget> {
        out.extend_from_slice(if self { b"true" } else { b"false" });
        Ok(())
    }
}

impl Leaf for bool {
    fn from_json(value: &Value) -> Option<Self> {
        value.as_bool()
    }

    fn scan(text: &mut Scanner<'_>) -> Option<Self> {
        text.bool()
    }
}

/// The parameter tuples of [`SHAPES`].
trait Params: ComponentNamedList + Lower + Send + Sync + Sized + 'static {
    fn matches(params: &[Type]) -> bool;
    fn convert(args: &[Value], params: &[Type]) -> Result<Self, (usize, Mismatch)>;
    fn from_text(args: &str) -> Option<Self>;
}

/// The result tuples of [`SHAPES`].
trait Results: ComponentNamedList + Lift + Send + Sync + Sized + 'static {
    fn matches(results: &[Type]) -> bool;
    fn into_json(self, budget: &mut JsonBudget) -> Result<Value, OverBudget>;
    fn write_json(self, budget: &mut JsonBudget, out: &mut Vec<u8>) -> Result<(), OverBudget>;

    /// The result in `form`, within a budget of `bytes`.
    fn into_form(self, form: Form, bytes: u64) -> FastResult {
        let mut budget = JsonBudget::new(bytes);
        match form {
            Form::Value => self.into_json(&mut budget).map(Json::Value),
            Form::Text => {
                let mut out = Vec::new();
                self.write_json(&mut budget, &mut out)?;
                // Only ASCII and serde_json's strings were written.
                Ok(Json::Text(String::from_utf8(out).unwrap_or_else(|e| {
                    String::from_utf8_lossy(e.as_bytes()).into_owned()
                })))
            }
        }
    }
}

/// Argument `i` as `T`; when it does not fit, the [`Val`] path's reason.
fn arg<T: Leaf>(args: &[Value], params: &[Type], i: usize) -> Result<T, (usize, Mismatch)> {
    let (Some(value), Some(ty)) = (args.get(i), params.get(i)) else {
        return Err((i, mismatch("missing argument")));
    };
    T::from_json(value).ok_or_else(|| {
        let reason = json::to_val(value, ty)
            .err()
            .unwrap_or_else(|| mismatch(format!("expected {}", json::type_name(ty))));
        (i, reason)
    })
}

impl Params for () {
    fn matches(params: &[Type]) -> bool {
        params.is_empty()
    }

    fn convert(_: &[Value], _: &[Type]) -> Result<Self, (usize, Mismatch)> {
        Ok(())
    }

    fn from_text(args: &str) -> Option<Self> {
        let mut text = Scanner::new(args);
        text.eat(b'[')?;
        text.eat(b']')?;
        text.end()
    }
}

impl<A: Leaf> Params for (A,) {
    fn matches(params: &[Type]) -> bool {
        matches!(params, [a] if A::is(a))
    }

    fn convert(args: &[Value], params: &[Type]) -> Result<Self, (usize, Mismatch)> {
        Ok((arg(args, params, 0)?,))
    }

    fn from_text(args: &str) -> Option<Self> {
        let mut text = Scanner::new(args);
        text.eat(b'[')?;
        let a = A::scan(&mut text)?;
        text.eat(b']')?;
        text.end()?;
        Some((a,))
    }
}

impl<A: Leaf, B: Leaf> Params for (A, B) {
    fn matches(params: &[Type]) -> bool {
        matches!(params, [a, b] if A::is(a) && B::is(b))
    }

    fn convert(args: &[Value], params: &[Type]) -> Result<Self, (usize, Mismatch)> {
        Ok((arg(args, params, 0)?, arg(args, params, 1)?))
    }

    fn from_text(args: &str) -> Option<Self> {
        let mut text = Scanner::new(args);
        text.eat(b'[')?;
        let a = A::scan(&mut text)?;
        text.eat(b',')?;
        let b = B::scan(&mut text)?;
        text.eat(b']')?;
        text.end()?;
        Some((a, b))
    }
}

impl Results for () {
    fn matches(results: &[Type]) -> bool {
        results.is_empty()
    }

    fn into_json(self, _: &mut JsonBudget) -> Result<Value, OverBudget> {
        Ok(Value::Null)
    }

    fn write_json(self, _: &mut JsonBudget, out: &mut Vec<u8>) -> Result<(), OverBudget> {
        out.extend_from_slice(b"null");
        Ok(())
    }
}

impl<A: Out> Results for (A,) {
    fn matches(results: &[Type]) -> bool {
        matches!(results, [a] if A::is(a))
    }

    fn into_json(self, budget: &mut JsonBudget) -> Result<Value, OverBudget> {
        budget.node()?;
        self.0.to_json(budget)
    }

    fn write_json(self, budget: &mut JsonBudget, out: &mut Vec<u8>) -> Result<(), OverBudget> {
        budget.node()?;
        self.0.write_json(budget, out)
    }
}

/// The signature `P -> R`.
struct Shape<P, R>(PhantomData<fn() -> (P, R)>);

impl<P, R> Shape<P, R> {
    const NEW: Self = Self(PhantomData);
}

impl<P: Params, R: Results> FastShape for Shape<P, R> {
    fn matches(&self, params: &[Type], results: &[Type]) -> bool {
        P::matches(params) && R::matches(results)
    }

    fn convert(&self, args: &[Value], params: &[Type]) -> Result<FastArgs, (usize, Mismatch)> {
        Ok(Box::new(P::convert(args, params)?))
    }

    fn convert_text(&self, args: &str) -> Option<FastArgs> {
        P::from_text(args).map(|params| Box::new(params) as FastArgs)
    }

    fn call<'a>(
        &'static self,
        store: &'a mut Store<StoreState>,
        func: Func,
        index: ComponentExportIndex,
        args: FastArgs,
        (form, bytes): (Form, u64),
    ) -> FastFuture<'a> {
        Box::pin(async move {
            let params = downcast::<P>(args)?;
            let typed = TypedFuncs::get::<P, R>(store, func, index)?;
            let results = typed.call_async(&mut *store, params).await?;
            Ok(results.into_form(form, bytes))
        })
    }

    fn call_sync(
        &'static self,
        store: &mut Store<StoreState>,
        func: Func,
        index: ComponentExportIndex,
        args: FastArgs,
        (form, bytes): (Form, u64),
    ) -> wasmtime::Result<FastResult> {
        let params = downcast::<P>(args)?;
        let typed = TypedFuncs::get::<P, R>(store, func, index)?;
        let results = typed.call(&mut *store, params)?;
        Ok(results.into_form(form, bytes))
    }
}

/// The parameter tuple [`FastShape::convert`] made.
fn downcast<P: Params>(args: FastArgs) -> wasmtime::Result<P> {
    args.downcast::<P>()
        .map(|params| *params)
        .map_err(|_| wasmtime::format_err!("arguments of another signature"))
}

type Bytes = Vec<u8>;

/// The signatures called through the typed API: parameters `()`, one or two of
/// `list<u8>` and `string`; results none, `list<u8>`, `string`, `u32`, `bool` or
/// `result<string, string>` (a tool's).
static SHAPES: &[&dyn FastShape] = &[
    &Shape::<(Bytes,), (Bytes,)>::NEW,
    &Shape::<(Bytes,), (String,)>::NEW,
    &Shape::<(Bytes,), ()>::NEW,
    &Shape::<(Bytes,), (u32,)>::NEW,
    &Shape::<(Bytes,), (bool,)>::NEW,
    &Shape::<(String,), (Bytes,)>::NEW,
    &Shape::<(String,), (String,)>::NEW,
    &Shape::<(String,), ()>::NEW,
    &Shape::<(String,), (u32,)>::NEW,
    &Shape::<(String,), (bool,)>::NEW,
    &Shape::<(Bytes, String), (Bytes,)>::NEW,
    &Shape::<(String, Bytes), (Bytes,)>::NEW,
    &Shape::<(Bytes, Bytes), (Bytes,)>::NEW,
    &Shape::<(String, String), (String,)>::NEW,
    &Shape::<(String, String), (Result<String, String>,)>::NEW,
    &Shape::<(String,), (Result<String, String>,)>::NEW,
    &Shape::<(), (Bytes,)>::NEW,
    &Shape::<(), (String,)>::NEW,
    &Shape::<(), ()>::NEW,
    &Shape::<(), (u32,)>::NEW,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_accept_what_the_val_path_accepts() {
        assert_eq!(
            Vec::<u8>::from_json(&serde_json::json!([1, 2, 255])),
            Some(vec![1, 2, 255])
        );
        assert_eq!(
            Vec::<u8>::from_json(&serde_json::json!("hi")),
            Some(b"hi".to_vec())
        );
        assert_eq!(Vec::<u8>::from_json(&serde_json::json!([256])), None);
        assert_eq!(Vec::<u8>::from_json(&serde_json::json!([-1])), None);
        assert_eq!(Vec::<u8>::from_json(&serde_json::json!([1.5])), None);
        assert_eq!(u32::from_json(&serde_json::json!(4_294_967_296u64)), None);
    }

    /// `result` written as text is its value form's text, charged the same.
    fn same_text<R: Results + Clone>(result: R) {
        let mut by_value = JsonBudget::new(1 << 20);
        let value = result.clone().into_json(&mut by_value).unwrap();
        let mut by_text = JsonBudget::new(1 << 20);
        let mut text = Vec::new();
        result.write_json(&mut by_text, &mut text).unwrap();
        assert_eq!(String::from_utf8(text).unwrap(), value.to_string());
        assert_eq!(format!("{by_text:?}"), format!("{by_value:?}"));
    }

    #[test]
    fn text_results_are_the_values_written_and_charged_the_same() {
        same_text((vec![0u8, 9, 10, 99, 100, 255],));
        same_text((Vec::<u8>::new(),));
        same_text((String::from("a \"quote\"\n é \u{1}"),));
        same_text((7u32,));
        same_text((u32::MAX,));
        same_text((true,));
        same_text((Ok::<String, String>("fine".into()),));
        same_text((Err::<String, String>("bad".into()),));
        same_text(());
        // Over the budget as text exactly where the value form is.
        let big = (vec![1u8; 1000],);
        let (mut a, mut b) = (JsonBudget::new(2000), JsonBudget::new(2000));
        assert!(big.clone().into_json(&mut a).is_err());
        assert!(big.write_json(&mut b, &mut Vec::new()).is_err());
    }

    #[test]
    fn text_arguments_taken_are_taken_the_same_as_values() {
        let cases = [
            "[[1, 2, 3]]",
            "[\"text\"]",
            " [ [] ] ",
            "[[256]]",
            "[[1.0]]",
            "[[1], [2]]",
            "[]",
            "[[1]] x",
            "{\"a\": 1}",
        ];
        for text in cases {
            let by_value = serde_json::from_str::<Vec<Value>>(text)
                .ok()
                .filter(|args| args.len() == 1)
                .and_then(|args| Vec::<u8>::from_json(&args[0]));
            if let Some((bytes,)) = <(Vec<u8>,)>::from_text(text) {
                assert_eq!(Some(bytes), by_value, "{text}");
            }
        }
        assert_eq!(
            <(Vec<u8>,)>::from_text("[[1, 2, 3]]"),
            Some((vec![1, 2, 3],))
        );
        assert_eq!(
            <(String, Vec<u8>)>::from_text("[\"k\", \"v\"]"),
            Some(("k".into(), b"v".to_vec()))
        );
        assert_eq!(<()>::from_text(" [ ] "), Some(()));
        assert_eq!(<()>::from_text("[1]"), None);
        assert_eq!(<(u32,)>::from_text("[4294967296]"), None);
        assert_eq!(<(bool,)>::from_text("[true]"), Some((true,)));
    }

    #[test]
    fn results_are_charged_like_the_val_path() {
        let bytes = vec![7u8; 100];
        let mut typed = JsonBudget::new(1 << 20);
        let mut dynamic = JsonBudget::new(1 << 20);
        let a = (bytes.clone(),).into_json(&mut typed).unwrap();
        dynamic.node().unwrap();
        let b = json::from_val_within(
            Val::List(bytes.into_iter().map(Val::U8).collect()),
            &mut dynamic,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(format!("{typed:?}"), format!("{dynamic:?}"));
    }
}
