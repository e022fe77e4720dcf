//! The metadata of BitVault's kinds (docs/design/0045): event handlers and the actions
//! they take, auth providers, policy hooks, search analyzers and previews with the media
//! types they accept.

use serde::Serialize;

use super::error::ManifestError;
use super::formats::{media_type, named_entries};
use super::reader::{Ctx, Section};

/// What happened to an object, as an `event-handler` declares the actions it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ObjectAction {
    /// A new object was stored.
    Created,
    /// An existing object was replaced or its metadata changed.
    Updated,
    /// The object was removed.
    Deleted,
}

impl ObjectAction {
    /// Every action, in WIT order.
    pub const ALL: &'static [ObjectAction] = &[
        ObjectAction::Created,
        ObjectAction::Updated,
        ObjectAction::Deleted,
    ];

    /// The action's name in manifests and WIT, e.g. `"created"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectAction::Created => "created",
            ObjectAction::Updated => "updated",
            ObjectAction::Deleted => "deleted",
        }
    }
}

impl std::fmt::Display for ObjectAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One `[[provides.event-handler]]` entry: a handler of object events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventHandlerDecl {
    /// The handler's name, unique in the plugin.
    pub name: String,
    /// What it does, for people.
    pub description: Option<String>,
    /// The actions it takes, in [`ObjectAction::ALL`] order; every action when the entry
    /// names none.
    pub actions: Vec<ObjectAction>,
}

/// An entry of a kind whose functions take a name: `[[provides.auth-provider]]`,
/// `[[provides.policy-hook]]`, `[[provides.search-analyzer]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedDecl {
    /// The name, unique among the kind's entries.
    pub name: String,
    /// What it does, for people.
    pub description: Option<String>,
}

/// One `[[provides.preview]]` entry: media types the plugin previews.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MediaTypesDecl {
    /// The entry's name, unique among the kind's entries.
    pub name: String,
    /// What it does, for people.
    pub description: Option<String>,
    /// The media types accepted, lowercase, without parameters; at least one.
    pub media_types: Vec<String>,
}

impl MediaTypesDecl {
    /// Whether `media_type` (parameters and case ignored) is one of the entry's.
    pub fn accepts(&self, media_type: &str) -> bool {
        let essence = essence(media_type);
        self.media_types.contains(&essence)
    }
}

/// One `[[provides.content-transform]]` entry: the media types a transform takes and the
/// one it produces (docs/design/0046).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransformDecl {
    /// The entry's name, unique among the kind's entries.
    pub name: String,
    /// What it does, for people.
    pub description: Option<String>,
    /// The media types accepted, lowercase, without parameters; at least one.
    pub media_types: Vec<String>,
    /// The media type of the output, when the entry states it (`output_media_type`).
    pub output_media_type: Option<String>,
}

impl TransformDecl {
    /// Whether `media_type` (parameters and case ignored) is one of the entry's.
    pub fn accepts(&self, media_type: &str) -> bool {
        let essence = essence(media_type);
        self.media_types.contains(&essence)
    }
}

/// A media type without its parameters, lowercase: `Text/Plain; charset=utf-8` is
/// `text/plain`.
pub fn essence(media_type: &str) -> String {
    media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// `[[provides.event-handler]]` entries.
pub(super) fn event_handlers(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
) -> Result<Vec<EventHandlerDecl>, ManifestError> {
    named_entries(ctx, entries, "event handler", |ctx, section, name| {
        let description = section.string(ctx, "description")?.map(str::to_owned);
        let key = section.key("actions");
        let written = section.strings(ctx, "actions")?;
        let mut actions = Vec::new();
        for (i, text) in written.iter().enumerate() {
            let action = ObjectAction::ALL
                .iter()
                .copied()
                .find(|a| a.as_str() == text)
                .ok_or_else(|| {
                    ctx.invalid(
                        &format!("{key}[{i}]"),
                        format!("{text:?} is not an object action: write `created`, `updated` or `deleted`"),
                    )
                })?;
            if !actions.contains(&action) {
                actions.push(action);
            }
        }
        if actions.is_empty() {
            actions = ObjectAction::ALL.to_vec();
        }
        actions.sort();
        Ok(EventHandlerDecl {
            name,
            description,
            actions,
        })
    })
}

/// Entries of a kind whose functions take a name (`what` names them in errors).
pub(super) fn named(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
    what: &str,
) -> Result<Vec<NamedDecl>, ManifestError> {
    named_entries(ctx, entries, what, |ctx, section, name| {
        let description = section.string(ctx, "description")?.map(str::to_owned);
        Ok(NamedDecl { name, description })
    })
}

/// Entries that declare the media types they accept (`[[provides.preview]]`).
pub(super) fn media_types(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
) -> Result<Vec<MediaTypesDecl>, ManifestError> {
    named_entries(ctx, entries, "entry", |ctx, section, name| {
        let description = section.string(ctx, "description")?.map(str::to_owned);
        let media_types = accepted_media_types(ctx, section, &name)?;
        Ok(MediaTypesDecl {
            name,
            description,
            media_types,
        })
    })
}

/// The required, non-empty `media_types` of an entry.
fn accepted_media_types(
    ctx: &mut Ctx<'_>,
    section: &mut Section<'_>,
    name: &str,
) -> Result<Vec<String>, ManifestError> {
    let key = section.key("media_types");
    let media_types = section
        .strings(ctx, "media_types")?
        .iter()
        .enumerate()
        .map(|(i, m)| media_type(ctx, &format!("{key}[{i}]"), m))
        .collect::<Result<Vec<_>, _>>()?;
    if media_types.is_empty() {
        return Err(ctx.invalid(
            section.path(),
            format!(
                "{name:?} declares no `media_types`: an application could never call it; list the media types it accepts, e.g. [\"image/png\"]"
            ),
        ));
    }
    Ok(media_types)
}

/// `[[provides.content-transform]]` entries.
pub(super) fn transforms(
    ctx: &mut Ctx<'_>,
    entries: Vec<(String, &toml::Table)>,
) -> Result<Vec<TransformDecl>, ManifestError> {
    named_entries(ctx, entries, "transform", |ctx, section, name| {
        let description = section.string(ctx, "description")?.map(str::to_owned);
        let media_types = accepted_media_types(ctx, section, &name)?;
        let key = section.key("output_media_type");
        let output_media_type = match section.string(ctx, "output_media_type")? {
            Some(text) => Some(media_type(ctx, &key, text)?),
            None => None,
        };
        Ok(TransformDecl {
            name,
            description,
            media_types,
            output_media_type,
        })
    })
}
