//! How much host memory a call's result may take (docs/capabilities.md, "Host memory a
//! plugin causes").
//!
//! A result is built twice on the host for a dynamic (JSON) call: Wasmtime lifts it out
//! of guest memory into [`Val`]s, then [`crate::json`] turns those into a
//! [`serde_json::Value`]. Both can be many times larger than the guest bytes they come
//! from (one `list<u8>` byte becomes a whole `Val`; one bit of a `flags` value becomes a
//! `String`), so the guest's memory limit does not bound them. Two budgets do, each of
//! [`crate::Limits::result_bytes`]:
//!
//! - **Lifting.** Wasmtime charges "hostcall fuel" while it lifts (a `Val` slot per list
//!   element, the bytes of each name it copies) and fails once the store's fuel is spent.
//!   It charges a name's bytes but not the `String` holding them, nor the allocator's
//!   rounding, so a list of `flags` values allocates several times what it is charged.
//!   [`lift_ratio`] is, for a result type, the most host bytes one unit of fuel can stand
//!   for; the call gets `result_bytes / lift_ratio` fuel, so whatever the guest returns,
//!   lifting allocates at most about `result_bytes`.
//! - **JSON.** [`JsonBudget`] counts what each JSON node takes while the result is
//!   converted, and stops the conversion with `too-large` when it would pass the budget.
//!
//! The model of an allocation (at least [`BLOCK_MIN`] bytes plus [`BLOCK_OVERHEAD`]) is
//! glibc's malloc, rounded up; it errs on the side of charging more.

use std::mem::size_of;

use wasmtime::component::{Type, Val};

/// The least a heap block holds, in bytes.
const BLOCK_MIN: f64 = 16.0;
/// What the allocator adds to every heap block, in bytes.
const BLOCK_OVERHEAD: f64 = 16.0;
/// The first capacity a `Vec` grows to when one element is pushed.
const FIRST_VEC_CAPACITY: f64 = 4.0;

fn block(bytes: f64) -> f64 {
    bytes.max(BLOCK_MIN) + BLOCK_OVERHEAD
}

fn val_slot() -> f64 {
    size_of::<Val>() as f64
}

fn string_header() -> f64 {
    size_of::<String>() as f64
}

/// The most host bytes that Wasmtime allocates per unit of hostcall fuel it charges when
/// it lifts a value of type `ty` (at least 1).
///
/// Every lifted value sits in a `Val` slot its parent was charged for (a list element, a
/// record field, a boxed payload); a node's ratio is (slot + what it allocates) over
/// (slot + what it is charged), and a value's ratio is the largest of its nodes'.
pub(crate) fn lift_ratio(ty: &Type) -> f64 {
    let slot = val_slot();
    let node = |real: f64, charged: f64| (slot + real) / (slot + charged);
    let shortest = |names: &mut dyn Iterator<Item = &str>| {
        names.map(str::len).min().unwrap_or(1).max(1) as f64
    };
    match ty {
        Type::String => node(block(1.0), 1.0),
        Type::List(list) => node(block(slot), slot).max(lift_ratio(&list.ty())),
        Type::FixedLengthList(list) => node(block(slot), slot).max(lift_ratio(&list.ty())),
        Type::Tuple(tuple) => {
            let types: Vec<Type> = tuple.types().collect();
            let n = types.len() as f64;
            types
                .iter()
                .map(lift_ratio)
                .fold(node(block(n * slot), n * slot), f64::max)
        }
        Type::Record(record) => {
            let (mut real, mut charged, mut inner) = (0.0, 0.0, 1.0_f64);
            let mut n = 0.0;
            for field in record.fields() {
                n += 1.0;
                real += block(field.name.len() as f64);
                charged += field.name.len() as f64;
                inner = inner.max(lift_ratio(&field.ty));
            }
            real += block(n * (string_header() + slot));
            charged += n * slot;
            node(real, charged).max(inner)
        }
        Type::Variant(variant) => variant
            .cases()
            .map(|case| {
                let name = case.name.len().max(1) as f64;
                match &case.ty {
                    Some(payload) => {
                        node(block(name) + block(slot), name + slot).max(lift_ratio(payload))
                    }
                    None => node(block(name), name),
                }
            })
            .fold(1.0, f64::max),
        Type::Enum(names) => {
            let len = shortest(&mut names.names());
            node(block(len), len)
        }
        Type::Option(option) => node(block(slot), slot).max(lift_ratio(&option.ty())),
        Type::Result(result) => {
            let payloads = [result.ok(), result.err()];
            payloads
                .iter()
                .flatten()
                .map(lift_ratio)
                .fold(node(block(slot), slot), f64::max)
        }
        Type::Flags(flags) => {
            let names: Vec<&str> = flags.names().collect();
            let len = shortest(&mut names.iter().copied());
            // One flag set, the shortest: the `Vec<String>` is allocated for four.
            let one = node(
                block(FIRST_VEC_CAPACITY * string_header()) + block(len),
                len,
            );
            // Every flag set.
            let n = names.len() as f64;
            let capacity = (n.max(FIRST_VEC_CAPACITY)).log2().ceil().exp2();
            let all_real = block(capacity * string_header())
                + names.iter().map(|s| block(s.len() as f64)).sum::<f64>();
            let all_charged = names.iter().map(|s| s.len() as f64).sum::<f64>();
            one.max(node(all_real, all_charged))
        }
        Type::Map(map) => node(block(2.0 * slot), 2.0 * slot)
            .max(lift_ratio(&map.key()))
            .max(lift_ratio(&map.value())),
        _ => 1.0,
    }
}

/// The largest [`lift_ratio`] of a function's results (at least 1).
pub(crate) fn results_ratio(results: impl Iterator<Item = Type>) -> f64 {
    results.map(|ty| lift_ratio(&ty)).fold(1.0, f64::max)
}

/// The hostcall fuel a call whose results weigh `ratio` ([`results_ratio`]) gets for a
/// result budget of `budget` bytes.
pub(crate) fn lift_fuel(ratio: f64, budget: u64) -> usize {
    // `as` saturates: a budget past usize's range is usize::MAX.
    (budget as f64 / ratio) as usize
}

/// Host bytes left for the JSON form of a result; each node converted is charged what it
/// allocates.
#[derive(Debug)]
pub(crate) struct JsonBudget {
    left: u64,
}

/// The JSON form of a result would take more than its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OverBudget;

impl JsonBudget {
    pub(crate) fn new(bytes: u64) -> Self {
        Self { left: bytes }
    }

    fn take(&mut self, bytes: f64) -> Result<(), OverBudget> {
        let bytes = bytes.ceil() as u64;
        self.left = self.left.checked_sub(bytes).ok_or(OverBudget)?;
        Ok(())
    }

    /// The top-level JSON node (every other node is in its parent's allocation).
    pub(crate) fn node(&mut self) -> Result<(), OverBudget> {
        self.take(size_of::<serde_json::Value>() as f64)
    }

    /// A string of `len` bytes.
    pub(crate) fn string(&mut self, len: usize) -> Result<(), OverBudget> {
        if len == 0 {
            return Ok(());
        }
        self.take(block(len as f64))
    }

    /// An array of `len` elements (their nodes are charged as they are converted).
    pub(crate) fn array(&mut self, len: usize) -> Result<(), OverBudget> {
        if len == 0 {
            return Ok(());
        }
        self.take(block(len as f64 * size_of::<serde_json::Value>() as f64))
    }

    /// An object of `len` entries whose keys are `key_bytes` long together: the entries
    /// (hash, key, value) and the hash index of an insertion-ordered map.
    pub(crate) fn object(&mut self, len: usize, key_bytes: usize) -> Result<(), OverBudget> {
        let len = len as f64;
        let entry = 8.0 + string_header() + size_of::<serde_json::Value>() as f64;
        let index = len.max(FIRST_VEC_CAPACITY).log2().ceil().exp2() * 9.0;
        self.take(block(len * entry) + block(index) + key_bytes as f64 + len * BLOCK_OVERHEAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_runs_out() {
        let mut budget = JsonBudget::new(100);
        assert!(budget.string(40).is_ok());
        assert_eq!(budget.string(60), Err(OverBudget));
    }

    #[test]
    fn plain_data_lifts_at_about_its_charge() {
        assert_eq!(lift_ratio(&Type::U8), 1.0);
        let string = lift_ratio(&Type::String);
        assert!(string > 1.0 && string < 2.0, "{string}");
    }
}
