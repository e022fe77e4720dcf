;; start_trap: the core module's start function executes `unreachable`, so the
;; component traps during instantiation, before any export can be called. Shows limits
;; and trap reporting cover instantiation, and that `check` (instantiate_pre) passes it.
(component
  (core module $m
    (func $start
      unreachable)
    (start $start)
    (func (export "run") (result i32)
      i32.const 1))
  (core instance $i (instantiate $m))
  (func $run (result u32) (canon lift (core func $i "run")))
  (export "run" (func $run)))
