;; unsupported_import: imports an interface no Plinth host provides
;; (`acme:secret/vault@1.0.0`). Loading must fail with `unsupported-host-api` naming it,
;; checked against the component's type before instantiation.
(component
  (import "acme:secret/vault@1.0.0" (instance $vault
    (export "open" (func (result u32)))))
  (core func $open (canon lower (func $vault "open")))
  (core module $m
    (import "vault" "open" (func $open (result i32)))
    (func (export "run") (result i32)
      call $open))
  (core instance $vault_core (export "open" (func $open)))
  (core instance $i (instantiate $m (with "vault" (instance $vault_core))))
  (func $run (result u32) (canon lift (core func $i "run")))
  (export "run" (func $run)))
