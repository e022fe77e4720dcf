//! The `file-viewer` kit's steps (docs/design/0041): the plugin's example files and
//! generic ones (empty, binary, truncated, large), each viewed through the host's check
//! of the UI node.
//!
//! "Answers" means a node that passed the UI-node schema, or the plugin's own
//! `view-error`; a trap, a limit or a refused node is not an answer.

use std::collections::BTreeSet;

use super::file_loader::each;
use super::fixtures::Fixtures;
use super::inputs::files;
use super::run::{Check, clean, fail, unknown};
use super::suite::Case;
use crate::kinds::{FileViewer, KindError, Source};
use crate::plugin::Plugin;

pub(super) fn step(case: &Case, plugin: &Plugin, fixtures: &Fixtures) -> Check {
    let viewers = plugin
        .kind::<FileViewer>()
        .map_err(|e| fail(e.to_string()))?;
    let examples = fixtures.viewers();
    let declared: Vec<&str> = viewers.formats().iter().map(|f| f.name.as_str()).collect();
    if (case.step.as_str(), case.expect.as_str()) == ("manifest", "examples-cover-formats") {
        return cover(&declared, examples.iter().map(|(format, _)| *format));
    }
    let inputs = files(case, &examples, &declared)?;
    let view = |format: &str, content: &[u8]| viewers.view(format, Source::Bytes(content.to_vec()));
    match (case.step.as_str(), case.expect.as_str()) {
        ("view", "valid-node") => each(&inputs, |input| {
            view(&input.format, &input.content)
                .map(drop)
                .map_err(|e| e.to_string())
        }),
        ("view", "same-twice") => each(&inputs, |input| {
            let first = view(&input.format, &input.content).map_err(|e| e.to_string())?;
            let second = view(&input.format, &input.content).map_err(|e| e.to_string())?;
            if first == second {
                Ok(())
            } else {
                Err(format!(
                    "drew {:.200} and then {:.200}",
                    first.node, second.node
                ))
            }
        }),
        ("view", "answers") => each(&inputs, |input| match view(&input.format, &input.content) {
            Ok(_) => Ok(()),
            Err(e) if clean(&e) => Ok(()),
            Err(e) => Err(e.to_string()),
        }),
        ("view-guest", "error:unknown-format") => each(&inputs, |input| {
            match viewers.view_guest(&input.format, Source::Bytes(input.content.clone())) {
                Err(KindError::Mismatch { .. }) => Ok(()),
                Ok(_) => Err("viewed a format nobody declared".into()),
                Err(e) => Err(format!("expected the guest's `unknown-format`, got {e}")),
            }
        }),
        (_, other) => Err(unknown(case, other)),
    }
}

/// Every declared format has at least one example.
pub(super) fn cover<'a>(declared: &[&str], examples: impl Iterator<Item = &'a str>) -> Check {
    let given: BTreeSet<&str> = examples.collect();
    let missing: Vec<&str> = declared
        .iter()
        .copied()
        .filter(|f| !given.contains(f))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(fail(format!(
            "conformance.toml has no example of the declared format(s) {}",
            missing.join(", ")
        )))
    }
}
