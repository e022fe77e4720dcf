//! Plugin kinds: the typed extension points a plugin provides (docs/design/0037).
//!
//! Each kind has its own WIT package, versioned on its own (`plinth:tool@0.1.0`, ...), with
//! one interface the plugin exports and one world `plugin` that imports `plinth:host`. The
//! manifest declares the kinds a plugin provides in `[[provides.KIND]]` entries; this module
//! names the kinds and their WIT, so every crate agrees on them without running anything.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A kind of extension point this version of Plinth knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Arguments in, text out: `plinth:command/command`.
    Command,
    /// Named tools with a JSON Schema input: `plinth:tool/tool`.
    Tool,
    /// Decisions at the application's hook points: `plinth:hook/hook`.
    Hook,
    /// A file in, a typed table out, read a page at a time: `plinth:file-loader/file-loader`.
    FileLoader,
    /// A file in, a UI node out: `plinth:file-viewer/file-viewer`.
    FileViewer,
    /// A table in, bytes in a declared format out: `plinth:exporter/exporter`.
    Exporter,
    /// Data with its own UI panel (Thoth's `ui-component`): `plinth:data-source/data-source`.
    DataSource,
    /// A colour-token map in a `theme.json`: data alone, no component and no WIT.
    Theme,
    /// Themes a plugin computes: `plinth:theme-provider/theme-provider`.
    ThemeProvider,
    /// A long-lived instance fed from an ingress queue: `plinth:service/service`.
    Service,
    /// Object events (created, updated, deleted) in, ok / reject / retry out:
    /// `plinth:event-handler/event-handler`.
    EventHandler,
    /// A token in, an identity or a denial out: `plinth:auth-provider/auth-provider`.
    AuthProvider,
    /// A request's attributes in, allow / deny / attributes to add out, under a deadline:
    /// `plinth:policy-hook/policy-hook`.
    PolicyHook,
    /// Text in, tokens with positions and offsets out:
    /// `plinth:search-analyzer/search-analyzer`.
    SearchAnalyzer,
    /// Bytes of a declared media type in, a PNG or plain text out: `plinth:preview/preview`.
    Preview,
    /// Bytes of a declared media type streamed in, other bytes and metadata streamed out:
    /// `plinth:content-transform/content-transform`.
    ContentTransform,
    /// Objects put, got, listed and deleted by key over streams:
    /// `plinth:storage-provider/storage-provider`.
    StorageProvider,
}

impl Kind {
    /// Every kind, in the order they are listed to people.
    pub const ALL: &'static [Kind] = &[
        Kind::Command,
        Kind::Tool,
        Kind::Hook,
        Kind::FileLoader,
        Kind::FileViewer,
        Kind::Exporter,
        Kind::DataSource,
        Kind::Theme,
        Kind::ThemeProvider,
        Kind::Service,
        Kind::EventHandler,
        Kind::AuthProvider,
        Kind::PolicyHook,
        Kind::SearchAnalyzer,
        Kind::Preview,
        Kind::ContentTransform,
        Kind::StorageProvider,
    ];

    /// The kind's name in manifests and on the command line, e.g. `"tool"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Command => "command",
            Kind::Tool => "tool",
            Kind::Hook => "hook",
            Kind::FileLoader => "file-loader",
            Kind::FileViewer => "file-viewer",
            Kind::Exporter => "exporter",
            Kind::DataSource => "data-source",
            Kind::Theme => "theme",
            Kind::ThemeProvider => "theme-provider",
            Kind::Service => "service",
            Kind::EventHandler => "event-handler",
            Kind::AuthProvider => "auth-provider",
            Kind::PolicyHook => "policy-hook",
            Kind::SearchAnalyzer => "search-analyzer",
            Kind::Preview => "preview",
            Kind::ContentTransform => "content-transform",
            Kind::StorageProvider => "storage-provider",
        }
    }

    /// The kind's WIT package without version, e.g. `"plinth:tool"`; `None` for a kind
    /// that is data alone ([`Kind::Theme`]).
    pub fn package(self) -> Option<&'static str> {
        Some(match self {
            Kind::Command => "plinth:command",
            Kind::Tool => "plinth:tool",
            Kind::Hook => "plinth:hook",
            Kind::FileLoader => "plinth:file-loader",
            Kind::FileViewer => "plinth:file-viewer",
            Kind::Exporter => "plinth:exporter",
            Kind::DataSource => "plinth:data-source",
            Kind::ThemeProvider => "plinth:theme-provider",
            Kind::Service => "plinth:service",
            Kind::EventHandler => "plinth:event-handler",
            Kind::AuthProvider => "plinth:auth-provider",
            Kind::PolicyHook => "plinth:policy-hook",
            Kind::SearchAnalyzer => "plinth:search-analyzer",
            Kind::Preview => "plinth:preview",
            Kind::ContentTransform => "plinth:content-transform",
            Kind::StorageProvider => "plinth:storage-provider",
            Kind::Theme => return None,
        })
    }

    /// The interface a component exports to provide the kind, without version, e.g.
    /// `"plinth:tool/tool"`; `None` for a kind that is data alone ([`Kind::Theme`]).
    pub fn interface(self) -> Option<&'static str> {
        Some(match self {
            Kind::Command => "plinth:command/command",
            Kind::Tool => "plinth:tool/tool",
            Kind::Hook => "plinth:hook/hook",
            Kind::FileLoader => "plinth:file-loader/file-loader",
            Kind::FileViewer => "plinth:file-viewer/file-viewer",
            Kind::Exporter => "plinth:exporter/exporter",
            Kind::DataSource => "plinth:data-source/data-source",
            Kind::ThemeProvider => "plinth:theme-provider/theme-provider",
            Kind::Service => "plinth:service/service",
            Kind::EventHandler => "plinth:event-handler/event-handler",
            Kind::AuthProvider => "plinth:auth-provider/auth-provider",
            Kind::PolicyHook => "plinth:policy-hook/policy-hook",
            Kind::SearchAnalyzer => "plinth:search-analyzer/search-analyzer",
            Kind::Preview => "plinth:preview/preview",
            Kind::ContentTransform => "plinth:content-transform/content-transform",
            Kind::StorageProvider => "plinth:storage-provider/storage-provider",
            Kind::Theme => return None,
        })
    }

    /// The interface with its newest served version, e.g. `"plinth:tool/tool@0.1.0"`.
    pub fn versioned_interface(self) -> Option<String> {
        self.interface()
            .map(|interface| format!("{interface}@{}", self.latest()))
    }

    /// The newest version of the kind's WIT package this version of Plinth serves.
    pub fn latest(self) -> semver::Version {
        semver::Version::new(0, 1, 0)
    }

    /// The interface of the frozen `plinth:plugin@0.1.0` package that served this kind
    /// before kinds had packages of their own, if any; the host still serves it through an
    /// adapter.
    pub fn legacy_interface(self) -> Option<&'static str> {
        match self {
            Kind::Command => Some("plinth:plugin/command@0.1.0"),
            Kind::Tool => Some("plinth:plugin/tools@0.1.0"),
            _ => None,
        }
    }

    /// Whether a plugin providing this kind needs a component: every kind but
    /// [`Kind::Theme`], which is a `theme.json` alone.
    pub fn needs_component(self) -> bool {
        self != Kind::Theme
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name this version of Plinth does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown plugin kind {0:?}: this host knows {known}", known = Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "))]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_interfaces_live_in_the_kind_package() {
        for &kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
            let (Some(package), Some(interface)) = (kind.package(), kind.interface()) else {
                assert_eq!(kind, Kind::Theme);
                assert!(!kind.needs_component());
                continue;
            };
            assert!(kind.needs_component());
            assert!(interface.starts_with(package));
            assert!(interface.ends_with(kind.as_str()));
            assert_eq!(package, format!("plinth:{kind}"));
        }
        let err = "palette".parse::<Kind>().unwrap_err();
        assert!(
            err.to_string().contains("command, tool, hook, file-loader"),
            "{err}"
        );
    }
}
