//! App-defined host functions: an embedder's own WIT interface, implemented in Rust and
//! offered to plugins under a capability name of the app's own (`retrieval`, `llm`).
//!
//! Plinth wraps every function with the grant check, so the embedder's closure runs only
//! for a plugin whose effective grants (manifest request ∩ host grant) include the
//! capability. See `docs/design/0021-app-defined-host-functions.md`.

use std::future::Future;
use std::sync::Arc;

use plinth_manifest::Grant;
use wasmtime::StoreContextMut;
use wasmtime::component::{ComponentNamedList, Lift, LinkerInstance, Lower};

use super::gate::GrantGate;
use crate::error::HostError;
use crate::state::StoreState;

/// Defines one function in the interface's linker instance.
pub(super) type Definer = Arc<
    dyn Fn(&mut LinkerInstance<'_, StoreState>, &str, &Arc<str>) -> wasmtime::Result<()>
        + Send
        + Sync,
>;

/// An app-defined WIT interface and its Rust implementation, registered with
/// [`HostBuilder::host_interface`](crate::HostBuilder::host_interface).
///
/// ```
/// use plinth_host::{HostCallContext, HostFnError, HostInterface};
///
/// let retrieval = HostInterface::new("retrieval", "acme:composer/retrieval@0.1.0").func(
///     "search",
///     |cx: &HostCallContext, (query, k): (String, u32)| {
///         cx.require_scope("docs")?;
///         Ok::<_, HostFnError>((vec![format!("{query} ({k})")],))
///     },
/// );
/// assert_eq!(retrieval.capability(), "retrieval");
/// ```
#[derive(Clone)]
pub struct HostInterface {
    capability: String,
    interface: String,
    pub(super) funcs: Vec<(String, Definer)>,
}

impl std::fmt::Debug for HostInterface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostInterface")
            .field("capability", &self.capability)
            .field("interface", &self.interface)
            .field(
                "funcs",
                &self.funcs.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl HostInterface {
    /// The interface `interface` (`namespace:package/name@version`, as the plugin's WIT
    /// imports it) offered under the capability `capability` (the grant `retrieval`, or
    /// `retrieval:SCOPE`).
    pub fn new(capability: impl Into<String>, interface: impl Into<String>) -> Self {
        Self {
            capability: capability.into(),
            interface: interface.into(),
            funcs: Vec::new(),
        }
    }

    /// The capability name plugins need granted.
    pub fn capability(&self) -> &str {
        &self.capability
    }

    /// The WIT interface name.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Adds the function `name` (its WIT name, `search`). `P` and `R` are tuples of the
    /// parameter and result types, as in [`Plugin::call`](crate::Plugin::call).
    ///
    /// An ungranted call traps; the plugin's call fails with `missing-grant`.
    pub fn func<P, R, F>(self, name: &str, f: F) -> Self
    where
        P: ComponentNamedList + Lift + 'static,
        R: ComponentNamedList + Lower + 'static,
        F: Fn(&HostCallContext, P) -> Result<R, HostFnError> + Send + Sync + 'static,
    {
        self.func_or_denied(name, None::<fn(&HostCallContext, String) -> R>, f)
    }

    /// Like [`Self::func`], for functions whose WIT result has a case for a refusal
    /// (`result<T, E>` with a `missing-grant` case, say): an ungranted call gets the value
    /// `denied(cx, hint)` returns instead of a trap, so the plugin can handle it. The hint
    /// names the `plinth grant` command; the denial is logged after the call.
    pub fn func_with_denial<P, R, F, D>(self, name: &str, denied: D, f: F) -> Self
    where
        P: ComponentNamedList + Lift + 'static,
        R: ComponentNamedList + Lower + 'static,
        F: Fn(&HostCallContext, P) -> Result<R, HostFnError> + Send + Sync + 'static,
        D: Fn(&HostCallContext, String) -> R + Send + Sync + 'static,
    {
        self.func_or_denied(name, Some(denied), f)
    }

    fn func_or_denied<P, R, F, D>(mut self, name: &str, denied: Option<D>, f: F) -> Self
    where
        P: ComponentNamedList + Lift + 'static,
        R: ComponentNamedList + Lower + 'static,
        F: Fn(&HostCallContext, P) -> Result<R, HostFnError> + Send + Sync + 'static,
        D: Fn(&HostCallContext, String) -> R + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let denied = denied.map(Arc::new);
        let define: Definer = Arc::new(
            move |instance: &mut LinkerInstance<'_, StoreState>,
                  func: &str,
                  capability: &Arc<str>| {
                let (f, denied, capability) = (f.clone(), denied.clone(), capability.clone());
                instance.func_wrap(
                    func,
                    move |mut store: StoreContextMut<'_, StoreState>, params: P| match checked(
                        store.data_mut(),
                        &capability,
                    ) {
                        Ok(cx) => f(&cx, params).map_err(wasmtime::Error::new),
                        Err(denial) => match &denied {
                            Some(denied) => {
                                store.data_mut().denials.note(&denial.grant);
                                Ok(denied(&denial.cx, denial.hint))
                            }
                            None => Err(wasmtime::Error::new(denial.into_error())),
                        },
                    },
                )
            },
        );
        self.funcs.push((name.to_string(), define));
        self
    }

    /// Adds an async function: the future runs on Plinth's runtime while the guest waits,
    /// under the call's wall clock. An ungranted call traps with `missing-grant`.
    pub fn func_async<P, R, F, Fut>(mut self, name: &str, f: F) -> Self
    where
        P: ComponentNamedList + Lift + Send + 'static,
        R: ComponentNamedList + Lower + Send + 'static,
        F: Fn(HostCallContext, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, HostFnError>> + Send + 'static,
    {
        let f = Arc::new(f);
        let define: Definer = Arc::new(
            move |instance: &mut LinkerInstance<'_, StoreState>,
                  func: &str,
                  capability: &Arc<str>| {
                let (f, capability) = (f.clone(), capability.clone());
                instance.func_wrap_async(
                    func,
                    move |mut store: StoreContextMut<'_, StoreState>, params: P| {
                        let checked = checked(store.data_mut(), &capability);
                        let f = f.clone();
                        Box::new(async move {
                            let cx = checked.map_err(|d| wasmtime::Error::new(d.into_error()))?;
                            f(cx, params).await.map_err(wasmtime::Error::new)
                        })
                    },
                )
            },
        );
        self.funcs.push((name.to_string(), define));
        self
    }
}

/// What an app-defined function knows about its caller.
#[derive(Debug, Clone)]
pub struct HostCallContext {
    gate: Arc<GrantGate>,
    capability: Arc<str>,
}

impl HostCallContext {
    /// The calling plugin's id.
    pub fn plugin_id(&self) -> &str {
        self.gate.plugin()
    }

    /// The embedder's tenant the plugin was loaded for
    /// ([`LoadOptions::with_tenant`](crate::LoadOptions::with_tenant)).
    pub fn tenant(&self) -> Option<&str> {
        self.gate.tenant()
    }

    /// The capability this function is offered under.
    pub fn capability(&self) -> &str {
        &self.capability
    }

    /// The granted scopes of the capability: `None` for the unscoped grant (which allows
    /// every scope), `Some("docs")` for `retrieval:docs`.
    pub fn granted_scopes(&self) -> Vec<Option<&str>> {
        self.gate
            .grants()
            .iter()
            .filter(|g| g.capability_name() == &*self.capability)
            .map(Grant::scope)
            .collect()
    }

    /// Whether the plugin may use `scope` of the capability (`retrieval:docs`, or the
    /// unscoped `retrieval`). Audited like every grant decision.
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.require_scope(scope).is_ok()
    }

    /// `Ok` when [`Self::allows_scope`]; else the `missing-grant` error to return, whose
    /// hint names `plinth grant ID CAPABILITY:SCOPE`.
    pub fn require_scope(&self, scope: &str) -> Result<(), HostFnError> {
        self.gate
            .check(self.scoped(scope))
            .map_err(|denial| HostFnError::MissingGrant {
                grant: denial.grant,
                hint: denial.hint,
            })
    }

    fn scoped(&self, scope: &str) -> Grant {
        Grant::Custom {
            name: self.capability.to_string(),
            scope: Some(scope.to_string()),
        }
    }
}

/// An app-defined function failed. The plugin's call fails with it: `missing-grant` for
/// [`HostFnError::MissingGrant`], `trap` otherwise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostFnError {
    /// The plugin lacks the grant (or the scope) the function needs.
    #[error("missing-grant: `{grant}` is not granted; {hint}")]
    MissingGrant {
        /// The grant that would allow the call.
        grant: Grant,
        /// What to run to grant it.
        hint: String,
    },
    /// The function failed; the message is the trap's.
    #[error("{0}")]
    Failed(String),
}

impl HostFnError {
    /// A failure with `message`.
    pub fn failed(message: impl Into<String>) -> Self {
        HostFnError::Failed(message.into())
    }
}

/// An ungranted call: the grant it needed and the context the denial value is made from.
pub(super) struct Denied {
    cx: HostCallContext,
    grant: Grant,
    hint: String,
}

impl Denied {
    pub(super) fn into_error(self) -> HostFnError {
        HostFnError::MissingGrant {
            grant: self.grant,
            hint: self.hint,
        }
    }
}

/// The grant check every app-defined function starts with: the plugin must hold the
/// capability, unscoped or with some scope (the function checks which with
/// [`HostCallContext::allows_scope`]).
pub(super) fn checked(
    state: &mut StoreState,
    capability: &Arc<str>,
) -> Result<HostCallContext, Denied> {
    let gate = &state.plugin.gate;
    let cx = HostCallContext {
        gate: gate.clone(),
        capability: capability.clone(),
    };
    match gate.check_any_scope(capability) {
        Ok(()) => Ok(cx),
        Err(denial) => Err(Denied {
            cx,
            grant: denial.grant,
            hint: denial.hint,
        }),
    }
}

/// The registered interfaces, checked at build: each name well-formed and not Plinth's,
/// each capability an app-defined one, no interface twice.
#[derive(Debug, Clone, Default)]
pub(crate) struct HostInterfaces {
    interfaces: Vec<HostInterface>,
}

impl HostInterfaces {
    pub(crate) fn push(&mut self, interface: HostInterface) {
        self.interfaces.push(interface);
    }

    /// Refuses a registration that would shadow Plinth or is malformed.
    pub(crate) fn check(&self) -> Result<(), HostError> {
        for (i, iface) in self.interfaces.iter().enumerate() {
            let refuse = |reason: String| HostError::HostInterface {
                interface: iface.interface.clone(),
                reason,
            };
            check_capability(&iface.capability).map_err(refuse)?;
            let (package, _, _) =
                crate::interface_name::split_name(&iface.interface).ok_or_else(|| {
                    refuse("the name must be `namespace:package/interface@version`".into())
                })?;
            let namespace = package.split(':').next().unwrap_or_default();
            if matches!(namespace, "wasi" | "plinth") {
                return Err(refuse(format!(
                    "the `{namespace}:` namespace is Plinth's own; use the app's namespace"
                )));
            }
            if self.interfaces[..i]
                .iter()
                .any(|other| other.interface == iface.interface)
            {
                return Err(refuse("registered twice".into()));
            }
        }
        Ok(())
    }

    /// Whether none is registered.
    pub(crate) fn is_empty(&self) -> bool {
        self.interfaces.is_empty()
    }

    /// Whether a registered interface matches the import `name` (semver-compatible, as
    /// Wasmtime's linker matches).
    pub(crate) fn provides(&self, name: &str) -> bool {
        let Some(wanted) = crate::interface_name::split_name(name) else {
            return false;
        };
        self.interfaces
            .iter()
            .filter_map(|i| crate::interface_name::split_name(&i.interface))
            .any(|have| have == wanted)
    }

    /// Defines every function in `linker`.
    pub(crate) fn define(
        &self,
        linker: &mut wasmtime::component::Linker<StoreState>,
    ) -> Result<(), HostError> {
        for iface in &self.interfaces {
            let capability: Arc<str> = iface.capability.as_str().into();
            let fail = |e: wasmtime::Error| HostError::HostInterface {
                interface: iface.interface.clone(),
                reason: format!("{e:#}"),
            };
            let mut instance = linker.instance(&iface.interface).map_err(fail)?;
            for (func, define) in &iface.funcs {
                define(&mut instance, func, &capability).map_err(fail)?;
            }
        }
        Ok(())
    }
}

/// An app capability name parses as an unscoped app-defined grant, so it cannot be one of
/// Plinth's (`kv`, `fs.read`) nor carry a scope.
fn check_capability(name: &str) -> Result<(), String> {
    match name.parse::<Grant>() {
        Ok(Grant::Custom { scope: None, .. }) => Ok(()),
        Ok(_) => Err(format!(
            "`{name}` is not an app capability name (it is Plinth's own, or has a scope)"
        )),
        Err(e) => Err(format!("capability `{name}`: {}", e.kind)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(interfaces: &[(&str, &str)]) -> HostInterfaces {
        let mut all = HostInterfaces::default();
        for (cap, iface) in interfaces {
            all.push(HostInterface::new(*cap, *iface));
        }
        all
    }

    #[test]
    fn refuses_clashes_and_malformed_names() {
        for (interfaces, refused) in [
            (&[("retrieval", "acme:composer/retrieval@0.1.0")][..], false),
            (&[("llm", "acme:composer/llm@1.2.0")][..], false),
            (&[("kv", "acme:composer/retrieval@0.1.0")][..], true),
            (&[("log", "acme:composer/retrieval@0.1.0")][..], true),
            (&[("fs.exec", "acme:composer/retrieval@0.1.0")][..], true),
            (
                &[("retrieval:docs", "acme:composer/retrieval@0.1.0")][..],
                true,
            ),
            (&[("retrieval", "plinth:host/kv@0.1.0")][..], true),
            (&[("retrieval", "wasi:cli/stdout@0.2.0")][..], true),
            (&[("retrieval", "acme:composer/retrieval")][..], true),
            (&[("retrieval", "retrieval")][..], true),
            (
                &[
                    ("retrieval", "acme:composer/retrieval@0.1.0"),
                    ("search", "acme:composer/retrieval@0.1.0"),
                ][..],
                true,
            ),
            (
                &[
                    ("llm", "acme:composer/llm@0.1.0"),
                    ("llm", "acme:composer/embed@0.1.0"),
                ][..],
                false,
            ),
        ] {
            assert_eq!(with(interfaces).check().is_err(), refused, "{interfaces:?}");
        }
    }

    #[test]
    fn provides_semver_compatible_imports() {
        let all = with(&[("retrieval", "acme:composer/retrieval@0.1.0")]);
        assert!(all.provides("acme:composer/retrieval@0.1.0"));
        assert!(all.provides("acme:composer/retrieval@0.1.3"));
        assert!(!all.provides("acme:composer/retrieval@0.2.0"));
        assert!(!all.provides("acme:composer/llm@0.1.0"));
        assert!(!all.provides("acme:other/retrieval@0.1.0"));
    }
}
