//! The `preview` kit's steps (docs/design/0045): the examples of `conformance.toml`, or
//! generic content (`empty`, `binary:N`, `truncated`) as each declared media type. The
//! host checks every image is the PNG it says and escapes every text.
//!
//! "Answers" means a preview the host accepts or the plugin's own err
//! (`invalid-data`, `unsupported`); not a trap, not a limit.

use super::fixtures::Fixtures;
use super::inputs::{Input, UNKNOWN_FORMAT, files};
use super::run::{Check, clean, fail, unknown};
use super::suite::Case;
use crate::kinds::{KindError, Preview, PreviewKind};
use crate::plugin::Plugin;

/// The largest preview the kit accepts: 1 MiB of image, 64 KiB of text (the host's caps
/// are higher).
const KIT_MAX_IMAGE: usize = 1024 * 1024;
const KIT_MAX_TEXT: usize = 64 * 1024;

pub(super) fn step(case: &Case, plugin: &Plugin, fixtures: &Fixtures) -> Check {
    let previews = plugin
        .kind::<PreviewKind>()
        .map_err(|e| fail(e.to_string()))?;
    let declared = previews.media_types();
    let examples = fixtures.previews();
    if case.step == "formats" {
        return match case.expect.as_str() {
            "media-types-have-examples" => {
                let missing: Vec<&&str> = declared
                    .iter()
                    .filter(|m| !examples.iter().any(|(e, _)| e == *m))
                    .collect();
                if missing.is_empty() {
                    Ok(())
                } else {
                    Err(fail(format!(
                        "conformance.toml has no example of {missing:?}"
                    )))
                }
            }
            other => Err(unknown(case, other)),
        };
    }
    let inputs = files(case, &examples, &declared)?;
    let render = |input: &Input| {
        if input.format == UNKNOWN_FORMAT {
            previews.render_guest("application/x-conformance-unknown", &input.content)
        } else {
            previews.render(&input.format, &input.content)
        }
    };
    for input in &inputs {
        let label = format!("`{}` ({} bytes)", input.format, input.content.len());
        let result = match (case.step.as_str(), case.expect.as_str()) {
            ("render", "preview") => render(input).map(drop).map_err(|e| e.to_string()),
            ("render", "small-preview") => match render(input) {
                Ok(Preview::Image { data, .. }) if data.len() > KIT_MAX_IMAGE => Err(format!(
                    "an image of {} bytes, over {KIT_MAX_IMAGE}",
                    data.len()
                )),
                Ok(Preview::Text { text, .. }) if text.len() > KIT_MAX_TEXT => Err(format!(
                    "a text of {} bytes, over {KIT_MAX_TEXT}",
                    text.len()
                )),
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            },
            ("render", "answers") => match render(input) {
                Ok(_) => Ok(()),
                Err(e) if clean(&e) => Ok(()),
                Err(e) => Err(e.to_string()),
            },
            ("render", "same-twice") => {
                let first = render(input).map_err(|e| e.to_string());
                let second = render(input).map_err(|e| e.to_string());
                match (first, second) {
                    (Ok(a), Ok(b)) if a == b => Ok(()),
                    (Ok(_), Ok(_)) => Err("gave two different previews".into()),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                }
            }
            ("render", "error") => match render(input) {
                Err(KindError::PluginFailed { .. }) => Ok(()),
                Ok(_) => Err("gave a preview of a media type it does not declare".into()),
                Err(e) => Err(format!("expected the plugin's `unsupported`, got {e}")),
            },
            (_, other) => return Err(unknown(case, other)),
        };
        result.map_err(|reason| fail(format!("{label}: {reason}")))?;
    }
    Ok(())
}
