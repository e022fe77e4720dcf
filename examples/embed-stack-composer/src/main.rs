//! Loads a Stack Composer tool plugin with the app's `retrieval` and `llm` host functions and
//! asks it a question.
//!
//! Usage: `embed-stack-composer PLUGIN_DIR QUESTION [GRANT…]` (grants default to
//! `log retrieval llm`).

use anyhow::{Context as _, bail};
use plinth_host::LoadOptions;
use plinth_host::manifest::Grant;
use plinth_host::manifest::diagnostic::ToDiagnostic;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(plugin_dir), Some(question)) = (args.next(), args.next()) else {
        bail!("usage: embed-stack-composer PLUGIN_DIR QUESTION [GRANT…]");
    };
    let mut grants: Vec<String> = args.collect();
    if grants.is_empty() {
        grants = ["log", "retrieval", "llm"].map(String::from).to_vec();
    }
    let grants = grants
        .iter()
        .map(|g| g.parse::<Grant>())
        .collect::<Result<Vec<_>, _>>()?;

    let host = embed_stack_composer::host_builder().build()?;
    let plugin = host
        .load_with(&plugin_dir, LoadOptions::default().with_grants(grants))
        .map_err(|e| anyhow::anyhow!("{}", e.to_diagnostic()))
        .with_context(|| format!("loading {plugin_dir}"))?;
    match embed_stack_composer::research(&plugin, &question) {
        Ok(output) => println!("{output:#}"),
        Err(embed_stack_composer::ResearchError::Call(e)) => bail!("{}", e.to_diagnostic()),
        Err(embed_stack_composer::ResearchError::Tool(e)) => bail!("the tool failed: {e:?}"),
    }
    Ok(())
}
