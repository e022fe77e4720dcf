;; tiny: the cheapest possible component. No imports, no memory; `run` returns 42.
;; Used by benchmarks to measure the host's own per-call overhead.
(component
  (core module $m
    (func (export "run") (result i32)
      i32.const 42))
  (core instance $i (instantiate $m))
  (func $run (result u32) (canon lift (core func $i "run")))
  (export "run" (func $run)))
