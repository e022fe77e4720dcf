//! Reading a streaming host function's result (docs/design/0065): an app's function that
//! returns a resource with `next: func() -> option<T>` (Stack Composer's `stream-chat`
//! deltas, say) reads as an iterator.
//!
//! ```ignore
//! let deltas = llm::stream_chat(&messages);
//! for delta in plinth_pdk::stream::items(|| deltas.next()).take(100) {
//!     print!("{delta}");
//! }
//! drop(deltas); // the app's producer stops at once
//! ```
//!
//! Each `next` waits for the app's next item under the call's wall clock. Stopping early is
//! dropping the resource: the app's producer learns of it at its next send.

/// The items `next` returns, until it returns `None`.
pub fn items<T, F: FnMut() -> Option<T>>(next: F) -> Items<F> {
    Items { next, done: false }
}

/// An iterator over a stream's items; see [`items`]. It is fused: after the stream's end
/// it never calls `next` again.
#[derive(Debug)]
pub struct Items<F> {
    next: F,
    done: bool,
}

impl<T, F: FnMut() -> Option<T>> Iterator for Items<F> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.done {
            return None;
        }
        let item = (self.next)();
        self.done = item.is_none();
        item
    }
}

impl<T, F: FnMut() -> Option<T>> std::iter::FusedIterator for Items<F> {}
