//! `hostile`: a guest that attacks the host in every way Plinth promises to contain
//! (DESIGN.md sections 1.3 and 5). Each export misbehaves in exactly one way, so a test
//! can map it to one diagnostic: `fuel-exhausted`/`timeout`, `memory-limit`,
//! `stack-overflow`, `trap`, log and stdout caps. `ok` shows the host still works after.

use std::hint::black_box;
use std::io::Write;

use exports::test::hostile::attacks::{Guest, Letters};
use plinth::host::log::{Level, log};

wit_bindgen::generate!({
    world: "hostile",
    path: "wit",
    // `plinth:host` comes from `wit/deps` (a link to the repository's WIT).
    generate_all,
});

const MIB: usize = 1 << 20;

struct Hostile;

impl Guest for Hostile {
    fn spin() {
        // No host calls and no memory traffic: only fuel metering or epoch
        // interruption can stop this. `black_box` keeps the loop body from being
        // optimised away (an empty `loop {}` is also kept, but this reads plainly).
        let mut n = 0u64;
        loop {
            n = black_box(n.wrapping_add(1));
        }
    }

    fn grow_memory(step_pages: u32) -> u32 {
        // Raw `memory.grow` on memory 0, bypassing the allocator, until the host's
        // resource limiter refuses (growth returns -1) or traps the store.
        let step = step_pages.max(1) as usize;
        while core::arch::wasm32::memory_grow(0, step) != usize::MAX {}
        core::arch::wasm32::memory_size(0) as u32
    }

    fn alloc_bomb(mib: u32) -> u32 {
        // `vec![1; n]` writes every byte, so the pages are really used. When the host
        // refuses growth the allocator fails and Rust aborts (a wasm trap).
        let bytes = (mib as usize).saturating_mul(MIB);
        let v = vec![1u8; bytes];
        let sampled: usize = v.iter().step_by(MIB).map(|&b| usize::from(b)).sum();
        black_box(sampled) as u32
    }

    fn recurse(depth: u64) -> u64 {
        heavy(depth)
    }

    fn panic(message: String) {
        panic!("{message}");
    }

    fn huge_string(mib: u32) -> String {
        // The host must copy this out of guest memory; tests use it for output caps.
        "x".repeat((mib as usize).saturating_mul(MIB))
    }

    fn flag_list(count: u32) -> Vec<Letters> {
        vec![Letters::A; count as usize]
    }

    fn byte_list(mib: u32) -> Vec<u8> {
        vec![7u8; (mib as usize).saturating_mul(MIB)]
    }

    fn log_long(kib: u32) {
        log(Level::Info, &"y".repeat((kib as usize).saturating_mul(1024)));
    }

    fn log_flood(lines: u32) {
        // More records than the host's per-call cap (1 000 by default).
        for i in 0..lines {
            log(Level::Info, &format!("flood line {i}"));
        }
    }

    fn print_flood(bytes: u32) {
        // Stdout is captured into the plugin's log; this checks it is bounded.
        const LINE: &[u8; 64] =
            b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n";
        let chunk: Vec<u8> = LINE.iter().copied().cycle().take(64 * 1024).collect();
        let mut out = std::io::stdout().lock();
        let mut left = bytes as usize;
        while left > 0 {
            let n = left.min(chunk.len());
            // A host that closes the stream ends the flood; that is not an error here.
            if out.write_all(&chunk[..n]).is_err() {
                return;
            }
            left -= n;
        }
        let _ = out.flush();
    }

    fn trap_unreachable() {
        core::arch::wasm32::unreachable()
    }

    fn ok() -> String {
        "ok".to_string()
    }
}

/// Non-tail recursion whose frames live on the *wasm* stack (the engine's native
/// stack), so a large `depth` ends in Wasmtime's `Trap::StackOverflow`, not in an
/// overrun of the guest's shadow stack in linear memory (that would be a plain
/// out-of-bounds trap).
///
/// Why the frame is heavy on the wasm stack: rustc keeps a local whose address is
/// never taken in a wasm local, not in linear memory. Each `black_box` result below is
/// an `i64.load` the compilers cannot recompute, and all of them are used only after
/// the recursive call, so Cranelift must keep 32 values alive across the call in
/// native spill slots (256+ bytes a frame). `black_box` itself takes one short-lived
/// shadow-stack slot per value, which LLVM reuses, so the shadow stack grows far more
/// slowly than the wasm stack. The mixing after the call depends on the call's result,
/// so it cannot be hoisted above the call, and the recursion cannot become a loop.
#[inline(never)]
fn heavy(depth: u64) -> u64 {
    if depth == 0 {
        return 0;
    }
    macro_rules! frame {
        ($($v:ident = $k:literal),* $(,)?) => {{
            $(let $v = black_box(depth.wrapping_mul($k));)*
            let below = heavy(black_box(depth - 1));
            let mut got = below;
            let mut want = below;
            $(
                got = got.wrapping_mul(31).wrapping_add($v);
                want = want.wrapping_mul(31).wrapping_add(depth.wrapping_mul($k));
            )*
            // Always true at run time; the optimiser cannot know that.
            below + u64::from(got == want)
        }};
    }
    frame!(
        v00 = 3, v01 = 5, v02 = 7, v03 = 11, v04 = 13, v05 = 17, v06 = 19, v07 = 23,
        v08 = 29, v09 = 31, v10 = 37, v11 = 41, v12 = 43, v13 = 47, v14 = 53, v15 = 59,
        v16 = 61, v17 = 67, v18 = 71, v19 = 73, v20 = 79, v21 = 83, v22 = 89, v23 = 97,
        v24 = 101, v25 = 103, v26 = 107, v27 = 109, v28 = 113, v29 = 127, v30 = 131,
        v31 = 137,
    )
}

export!(Hostile);
