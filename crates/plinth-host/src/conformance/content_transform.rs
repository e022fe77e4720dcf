//! The `content-transform` kit's steps (docs/design/0046): the examples of
//! `conformance.toml`, or generic content (`empty`, `binary:N`, `truncated`) as each
//! declared media type, streamed through `transform` or passed whole to
//! `transform-bytes`.
//!
//! "Answers" means output the host accepts or the plugin's own err
//! (`unsupported-media-type`, `invalid-input`, `failed`); not a trap, not a limit.

use super::fixtures::Fixtures;
use super::inputs::{Input, UNKNOWN_FORMAT, files};
use super::run::{Check, clean, fail, unknown};
use super::suite::Case;
use crate::kinds::{
    ContentTransform, ContentTransforms, KindError, SharedSink, TransformMeta, TransformRequest,
};
use crate::plugin::Plugin;

/// The media type the `unknown` format is offered as.
const UNKNOWN_MEDIA_TYPE: &str = "application/x-conformance-unknown";

pub(super) fn step(case: &Case, plugin: &Plugin, fixtures: &Fixtures) -> Check {
    let mut transforms = plugin
        .kind::<ContentTransform>()
        .map_err(|e| fail(e.to_string()))?;
    if let Some(limit) = case.output_limit {
        transforms = transforms.with_output_limit(limit);
    }
    let declared = transforms.media_types();
    let examples = fixtures.transforms();
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
    for input in &files(case, &examples, &declared)? {
        let label = format!("`{}` ({} bytes)", input.format, input.content.len());
        check(case, &transforms, input).map_err(|reason| fail(format!("{label}: {reason}")))?;
    }
    Ok(())
}

type Output = Result<(TransformMeta, Vec<u8>), KindError>;

fn streamed(transforms: &ContentTransforms<'_>, input: &Input) -> Output {
    let sink = SharedSink::default();
    let content = std::io::Cursor::new(input.content.clone());
    let meta = if input.format == UNKNOWN_FORMAT {
        let request = TransformRequest::new(UNKNOWN_MEDIA_TYPE);
        transforms.transform_guest(&request, content, sink.clone())?
    } else {
        let request = TransformRequest::new(&input.format).with_size(input.content.len() as u64);
        transforms.transform(&request, content, sink.clone())?
    };
    Ok((meta, sink.take()))
}

fn whole(transforms: &ContentTransforms<'_>, input: &Input) -> Output {
    let request = TransformRequest::new(&input.format).with_size(input.content.len() as u64);
    transforms.transform_bytes(&request, &input.content)
}

fn check(case: &Case, transforms: &ContentTransforms<'_>, input: &Input) -> Result<(), String> {
    let run = |step: &str| match step {
        "transform" => Ok(streamed(transforms, input)),
        "transform-bytes" => Ok(whole(transforms, input)),
        other => Err(format!("unknown `step = {other:?}` in the suite")),
    };
    let answer = run(&case.step)?;
    match case.expect.as_str() {
        "output" => answer.map(drop).map_err(|e| e.to_string()),
        "declared-output-type" => {
            let (meta, _) = answer.map_err(|e| e.to_string())?;
            let entry = transforms
                .entries()
                .iter()
                .find(|e| e.accepts(&input.format));
            match entry.and_then(|e| e.output_media_type.as_deref()) {
                Some(declared) if declared != meta.media_type => Err(format!(
                    "the output is `{}`; the manifest declares `{declared}`",
                    meta.media_type
                )),
                _ => Ok(()),
            }
        }
        "same-as-whole" => {
            let (meta, bytes) = answer.map_err(|e| e.to_string())?;
            let (whole_meta, whole_bytes) = whole(transforms, input).map_err(|e| e.to_string())?;
            if bytes != whole_bytes {
                Err(format!(
                    "streaming gave {} bytes, `transform-bytes` {} other bytes",
                    bytes.len(),
                    whole_bytes.len()
                ))
            } else if meta.media_type != whole_meta.media_type {
                Err("streaming and `transform-bytes` give other media types".into())
            } else if meta.entries != whole_meta.entries {
                Err("streaming and `transform-bytes` give other entries".into())
            } else {
                Ok(())
            }
        }
        "same-twice" => {
            let first = answer.map_err(|e| e.to_string())?;
            let second = run(&case.step)?.map_err(|e| e.to_string())?;
            if first == second {
                Ok(())
            } else {
                Err("gave two different outputs".into())
            }
        }
        "answers" => match answer {
            Ok(_) => Ok(()),
            Err(e) if clean(&e) => Ok(()),
            Err(e) => Err(e.to_string()),
        },
        "output-capped" => match answer {
            Err(KindError::OutputTooLarge { .. }) => Ok(()),
            Err(e) if clean(&e) => Ok(()),
            Ok((_, bytes)) if case.output_limit.is_some_and(|l| bytes.len() as u64 <= l) => Ok(()),
            Ok((_, bytes)) => Err(format!("wrote {} bytes past the cap", bytes.len())),
            Err(e) => Err(format!("a write refused at the cap is not answered: {e}")),
        },
        "error:unsupported-media-type" => match answer {
            Err(KindError::PluginFailed { code, .. }) if code == "unsupported-media-type" => Ok(()),
            Ok(_) => Err("transformed a media type it does not declare".into()),
            Err(e) => Err(format!("expected `unsupported-media-type`, got {e}")),
        },
        other => Err(format!("unknown `expect = {other:?}` for `{}`", case.step)),
    }
}
