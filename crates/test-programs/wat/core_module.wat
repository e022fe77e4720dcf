;; core_module: a plain core module, not a component. The host must reject it with
;; `not-a-component` and never run it.
(module
  (func (export "run") (result i32)
    i32.const 42))
