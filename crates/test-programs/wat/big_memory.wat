;; big_memory: a valid component whose core module's memory starts at 8192 pages
;; (512 MiB), more than the host's default memory limit. Loading it must fail with
;; `memory-limit`, not be called an invalid component.
(component
  (core module $m
    (memory (export "memory") 8192)
    (func (export "run") (result i32)
      i32.const 1))
  (core instance $i (instantiate $m))
  (func $run (result u32) (canon lift (core func $i "run")))
  (export "run" (func $run)))
