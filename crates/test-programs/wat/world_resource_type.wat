;; world_resource_type: a reactor whose world `use`s a WASI resource type at world level,
;;
;;     world reactor {
;;         use wasi:io/streams@0.2.0.{output-stream};
;;         export answer: func() -> u32;
;;     }
;;
;; encoded as wit-component encodes it: the interface import, then a world-level type
;; import `output-stream` bounded `(eq …)` to the interface's resource. Wasmtime's linker
;; needs no definition for that alias; Plinth's import check must accept it too.
(component
  (import "wasi:io/streams@0.2.0" (instance $streams
    (export "output-stream" (type (sub resource)))))
  (alias export $streams "output-stream" (type $os))
  (import "output-stream" (type (eq $os)))
  (core module $m
    (func (export "answer") (result i32)
      i32.const 42))
  (core instance $i (instantiate $m))
  (func $answer (result u32) (canon lift (core func $i "answer")))
  (export "answer" (func $answer)))
