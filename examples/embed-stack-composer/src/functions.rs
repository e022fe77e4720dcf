//! Stack Composer's `plan_solve` and `network_fetch` host functions: the app's
//! `acme:composer/plan` (capability `plan`) and `acme:composer/network` (capability
//! `network`).

use std::sync::{Arc, Mutex};

use plinth_host::manifest::Grant;
use plinth_host::{HostCallContext, HostFnError, HostInterface, Plugin};
use wasmtime::component::{ComponentType, Lift, Lower};

/// The WIT name of the planner interface.
pub const PLAN: &str = "acme:composer/plan@0.1.0";
/// The WIT name of the network interface.
pub const NETWORK: &str = "acme:composer/network@0.1.0";

/// `acme:composer/plan` `plan-step`.
#[derive(Debug, Clone, PartialEq, Eq, ComponentType, Lift, Lower)]
#[component(record)]
pub struct PlanStep {
    /// Its position, from 1.
    pub index: u32,
    /// What to do.
    pub action: String,
}

/// The stand-in planner: one step per goal of `problem` (goals separated by `,` or `;`),
/// in order, each done in `domain`. Deterministic, so plans can be asserted; a real app
/// registers the same interface over its PDDL planner.
pub fn solve(domain: &str, problem: &str) -> Result<Vec<PlanStep>, String> {
    let goals: Vec<&str> = problem
        .split([',', ';'])
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .collect();
    if goals.is_empty() {
        return Err(format!("the problem {problem:?} states no goal"));
    }
    Ok(goals
        .into_iter()
        .zip(1..)
        .map(|(goal, index)| PlanStep {
            index,
            action: format!("{domain}: {goal}"),
        })
        .collect())
}

/// The `plan` interface over [`solve`].
pub fn plan_interface() -> HostInterface {
    HostInterface::new("plan", PLAN).func(
        "solve",
        |_cx: &HostCallContext, (domain, problem): (String, String)| {
            Ok::<_, HostFnError>((solve(&domain, &problem),))
        },
    )
}

/// Finds the serving [`Plugin`] of an id: the facade's manager, once it exists. Host
/// functions are registered before the manager is built, so they reach it through this.
pub type PluginLookup = Arc<Mutex<Option<Box<dyn Fn(&str) -> Option<Plugin> + Send + Sync>>>>;

/// The capability `network_fetch` needs.
pub fn network_grant() -> Grant {
    Grant::Custom {
        name: "network".into(),
        scope: None,
    }
}

/// The `network` interface: `fetch(url, body)` GETs `url` (POSTs `body`) as the calling
/// plugin through Plinth's HTTP stack (`Plugin::http_request_for`), so the host's network
/// mode and proxy, the SSRF guard, the rate limits and the body cap apply. The answer is
/// the body of a 2xx response, else `CODE: message` (`http-denied: … offline …`,
/// `status: 404 …`).
pub fn network_interface(lookup: PluginLookup) -> HostInterface {
    HostInterface::new("network", NETWORK).func_async(
        "fetch",
        move |cx: HostCallContext, (url, body): (String, Option<String>)| {
            let plugin = lookup
                .lock()
                .ok()
                .and_then(|find| find.as_ref().and_then(|find| find(cx.plugin_id())));
            async move {
                let Some(plugin) = plugin else {
                    return Ok((Err(format!("{} is not serving", cx.plugin_id())),));
                };
                Ok::<_, HostFnError>((fetch(&plugin, &url, body).await,))
            }
        },
    )
}

async fn fetch(plugin: &Plugin, url: &str, body: Option<String>) -> Result<String, String> {
    let method = if body.is_some() { "POST" } else { "GET" };
    let body = body.map(String::into_bytes).unwrap_or_default();
    let response = plugin
        .http_request_for(&network_grant(), method, url, Vec::new(), body)
        .await
        .map_err(|e| format!("{}: {}", e.code, e.message))?;
    let text = String::from_utf8_lossy(&response.body).into_owned();
    if (200..300).contains(&response.status) {
        Ok(text)
    } else {
        Err(format!("status: {} {text}", response.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_step_per_goal_in_order() {
        let steps = solve("kitchen", "boil water; brew tea, pour").unwrap();
        let actions: Vec<&str> = steps.iter().map(|s| s.action.as_str()).collect();
        assert_eq!(
            actions,
            ["kitchen: boil water", "kitchen: brew tea", "kitchen: pour"]
        );
        assert_eq!(steps[2].index, 3);
        assert!(solve("kitchen", " ; ").is_err());
    }
}
