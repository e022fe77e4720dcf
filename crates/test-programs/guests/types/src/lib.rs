//! `types`: one echo export per WIT type kind, so tests can drive the JSON <-> WIT value
//! mapping of `plinth call` (DESIGN.md section 7) through every kind: primitives,
//! strings, lists, records (also nested), tuples, options, results, variants, enums,
//! flags, a resource (a resource-typed parameter is a usage error) and a world-level
//! function (`run`). `add` and `many` transform their input so a test can tell the call
//! really ran rather than being short-circuited.

use std::cell::Cell;

use exports::test::types::echo::{
    Color, CounterBorrow, Guest as Echo, GuestCounter, Perms, Point, Shape, V,
};

wit_bindgen::generate!({
    world: "types",
    path: "wit",
});

struct Types;

/// Backs the `counter` resource.
struct MyCounter(Cell<u32>);

impl GuestCounter for MyCounter {
    fn new(start: u32) -> Self {
        MyCounter(Cell::new(start))
    }

    fn bump(&self) -> u32 {
        let next = self.0.get().wrapping_add(1);
        self.0.set(next);
        next
    }
}

impl Echo for Types {
    type Counter = MyCounter;

    fn echo_bool(x: bool) -> bool {
        x
    }
    fn echo_u8(x: u8) -> u8 {
        x
    }
    fn echo_s8(x: i8) -> i8 {
        x
    }
    fn echo_u16(x: u16) -> u16 {
        x
    }
    fn echo_s16(x: i16) -> i16 {
        x
    }
    fn echo_u32(x: u32) -> u32 {
        x
    }
    fn echo_s32(x: i32) -> i32 {
        x
    }
    fn echo_u64(x: u64) -> u64 {
        x
    }
    fn echo_s64(x: i64) -> i64 {
        x
    }
    fn echo_f32(x: f32) -> f32 {
        x
    }
    fn echo_f64(x: f64) -> f64 {
        x
    }
    fn echo_char(x: char) -> char {
        x
    }
    fn echo_string(x: String) -> String {
        x
    }
    fn echo_bytes(x: Vec<u8>) -> Vec<u8> {
        x
    }
    fn echo_list(x: Vec<String>) -> Vec<String> {
        x
    }
    fn echo_record(x: Point) -> Point {
        x
    }
    fn echo_shape(x: Shape) -> Shape {
        x
    }
    fn echo_tuple(x: (u32, String, bool)) -> (u32, String, bool) {
        x
    }
    fn echo_option(x: Option<u32>) -> Option<u32> {
        x
    }
    fn echo_result(x: Result<String, u32>) -> Result<String, u32> {
        x
    }
    fn echo_result_empty(x: Result<(), ()>) -> Result<(), ()> {
        x
    }
    fn echo_variant(x: V) -> V {
        x
    }
    fn echo_enum(x: Color) -> Color {
        x
    }
    fn echo_flags(x: Perms) -> Perms {
        x
    }

    fn add(a: i64, b: i64) -> i64 {
        a.wrapping_add(b)
    }

    fn nothing() {}

    fn many(a: u8, b: String, c: Vec<u32>) -> (u8, String, u32) {
        let sum = c.iter().fold(0u32, |acc, n| acc.wrapping_add(*n));
        (a, b, sum)
    }

    fn take_counter(c: CounterBorrow<'_>) -> u32 {
        c.get::<MyCounter>().bump()
    }
}

/// The world-level `run` export.
impl Guest for Types {
    fn run() -> String {
        "types".to_string()
    }
}

export!(Types);
