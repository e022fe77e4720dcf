;; unserved_function: imports `plinth:host/log@0.1.0`, an interface the host serves, with a
;; function it does not (`shout`), as a plugin built against a later WIT would. Loading
;; must fail before anything runs, naming the function.
(component
  (import "plinth:host/log@0.1.0" (instance $log
    (export "shout" (func (result u32)))))
  (core func $shout (canon lower (func $log "shout")))
  (core module $m
    (import "log" "shout" (func $shout (result i32)))
    (func (export "run") (result i32)
      call $shout))
  (core instance $log_core (export "shout" (func $shout)))
  (core instance $i (instantiate $m (with "log" (instance $log_core))))
  (func $run (result u32) (canon lift (core func $i "run")))
  (export "run" (func $run)))
