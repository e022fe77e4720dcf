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
pub(crate) type FastResult = Result<Value, OverBudget>;

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
    /// Calls `func`, the export `index`, with arguments [`Self::convert`] made, and
    /// turns its result into JSON within `result_bytes`.
    fn call<'a>(
        &'static self,
        store: &'a mut Store<StoreState>,
        func: Func,
        index: ComponentExportIndex,
        args: FastArgs,
        result_bytes: u64,
    ) -> FastFuture<'a>;
    /// [`Self::call`] on the sync path (docs/design/0075).
    fn call_sync(
        &'static self,
        store: &mut Store<StoreState>,
        func: Func,
        index: ComponentExportIndex,
        args: FastArgs,
        result_bytes: u64,
    ) -> wasmtime::Result<FastResult>;
}

/// A result the typed path lifts as its Rust type.
trait Out: ComponentType + Lift + Send + Sync + 'static {
    /// Whether `ty` is this value's WIT type.
    fn is(ty: &Type) -> bool;
    /// The JSON form, charged to `budget` as [`json::from_val_within`] charges it.
    fn to_json(self, budget: &mut JsonBudget) -> Result<Value, OverBudget>;
}

/// A value the typed path carries as its Rust type, as a parameter or a result.
trait Leaf: Out + Lower {
    /// The value for `value`; `None` when it does not fit (the [`Val`] path then says why,
    /// in the same words as for any other signature).
    fn from_json(value: &Value) -> Option<Self>;
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
}

impl Out for String {
    fn is(ty: &Type) -> bool {
        *ty == Type::String
    }

    fn to_json(self, budget: &mut JsonBudget) -> Result<Value, OverBudget> {
        budget.string(self.len())?;
        Ok(Value::String(self))
    }
}

impl Leaf for String {
    fn from_json(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_string)
    }
}

impl Out for u32 {
    fn is(ty: &Type) -> bool {
        *ty == Type::U32
    }

    fn to_json(self, _: &mut JsonBudget) -> Result<Value, OverBudget> {
        Ok(Value::from(self))
    }
}

impl Leaf for u32 {
    fn from_json(value: &Value) -> Option<Self> {
        value.as_u64().and_then(|n| u32::try_from(n).ok())
    }
}

impl Out for bool {
    fn is(ty: &Type) -> bool {
        *ty == Type::Bool
    }

    fn to_json(self, _: &mut JsonBudget) -> Result<Value, OverBudget> {
        Ok(Value::Bool(self))
    }
}

impl Leaf for bool {
    fn from_json(value: &Value) -> Option<Self> {
        value.as_bool()
    }
}

/// The parameter tuples of [`SHAPES`].
trait Params: ComponentNamedList + Lower + Send + Sync + Sized + 'static {
    fn matches(params: &[Type]) -> bool;
    fn convert(args: &[Value], params: &[Type]) -> Result<Self, (usize, Mismatch)>;
}

/// The result tuples of [`SHAPES`].
trait Results: ComponentNamedList + Lift + Send + Sync + Sized + 'static {
    fn matches(results: &[Type]) -> bool;
    fn into_json(self, budget: &mut JsonBudget) -> Result<Value, OverBudget>;
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
}

impl<A: Leaf> Params for (A,) {
    fn matches(params: &[Type]) -> bool {
        matches!(params, [a] if A::is(a))
    }

    fn convert(args: &[Value], params: &[Type]) -> Result<Self, (usize, Mismatch)> {
        Ok((arg(args, params, 0)?,))
    }
}

impl<A: Leaf, B: Leaf> Params for (A, B) {
    fn matches(params: &[Type]) -> bool {
        matches!(params, [a, b] if A::is(a) && B::is(b))
    }

    fn convert(args: &[Value], params: &[Type]) -> Result<Self, (usize, Mismatch)> {
        Ok((arg(args, params, 0)?, arg(args, params, 1)?))
    }
}

impl Results for () {
    fn matches(results: &[Type]) -> bool {
        results.is_empty()
    }

    fn into_json(self, _: &mut JsonBudget) -> Result<Value, OverBudget> {
        Ok(Value::Null)
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

    fn call<'a>(
        &'static self,
        store: &'a mut Store<StoreState>,
        func: Func,
        index: ComponentExportIndex,
        args: FastArgs,
        result_bytes: u64,
    ) -> FastFuture<'a> {
        Box::pin(async move {
            let params = downcast::<P>(args)?;
            let typed = TypedFuncs::get::<P, R>(store, func, index)?;
            let results = typed.call_async(&mut *store, params).await?;
            Ok(results.into_json(&mut JsonBudget::new(result_bytes)))
        })
    }

    fn call_sync(
        &'static self,
        store: &mut Store<StoreState>,
        func: Func,
        index: ComponentExportIndex,
        args: FastArgs,
        result_bytes: u64,
    ) -> wasmtime::Result<FastResult> {
        let params = downcast::<P>(args)?;
        let typed = TypedFuncs::get::<P, R>(store, func, index)?;
        let results = typed.call(&mut *store, params)?;
        Ok(results.into_json(&mut JsonBudget::new(result_bytes)))
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
