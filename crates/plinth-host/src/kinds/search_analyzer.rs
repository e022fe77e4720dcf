//! The `search-analyzer` kind (docs/design/0045): text in, tokens with positions and byte
//! offsets out, each checked by the host against the text.

use plinth_manifest::{Kind, NamedDecl};

use super::{Binding, Checker, KindError, block};
use crate::bindings::search_analyzer_v0_1::exports::plinth::search_analyzer::search_analyzer as v1;
use crate::error::HostError;
use crate::plugin::Plugin;

/// The longest text the host hands an analyzer: 16 MiB (`too-large` beyond).
pub const MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;

pub(super) fn typecheck(checker: &Checker<'_>) -> Result<(), HostError> {
    checker.func::<(String, String), (Result<Vec<v1::Token>, v1::AnalyzeError>,)>(
        "analyze",
        "func(analyzer: string, text: string) -> result<list<token>, analyze-error>",
    )
}

/// One token of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The term indexed; never empty.
    pub term: String,
    /// Its position in the token stream; never decreasing.
    pub position: u32,
    /// The byte offset of its source in the text (a char boundary).
    pub start: u32,
    /// The byte offset just past its source (a char boundary, not before `start`).
    pub end: u32,
}

impl Token {
    /// The part of `text` the token comes from.
    pub fn source<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// Why `tokens` do not fit `text`, if they do not: the first offence.
pub fn token_violation(text: &str, tokens: &[Token]) -> Option<String> {
    let mut last_position = 0u32;
    for (i, token) in tokens.iter().enumerate() {
        let (start, end) = (token.start as usize, token.end as usize);
        if token.term.is_empty() {
            return Some(format!("token {i} has an empty term"));
        }
        if start > end || end > text.len() {
            return Some(format!(
                "token {i} ({:?}) spans bytes {start}..{end} of a text of {} bytes",
                token.term,
                text.len()
            ));
        }
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            return Some(format!(
                "token {i} ({:?}) spans bytes {start}..{end}, which cut a character: offsets are in UTF-8 bytes",
                token.term
            ));
        }
        if token.position < last_position {
            return Some(format!(
                "token {i} ({:?}) has position {} after position {last_position}: positions never decrease",
                token.term, token.position
            ));
        }
        last_position = token.position;
    }
    None
}

/// The `search-analyzer` kind of one plugin:
/// [`Plugin::kind`]`::<`[`SearchAnalyzer`](super::SearchAnalyzer)`>()`.
#[derive(Debug, Clone, Copy)]
pub struct SearchAnalyzers<'p> {
    plugin: &'p Plugin,
    binding: &'p Binding,
}

impl<'p> SearchAnalyzers<'p> {
    pub(super) fn new(plugin: &'p Plugin, binding: &'p Binding) -> Self {
        Self { plugin, binding }
    }

    /// The analyzers the manifest declares; nothing runs.
    pub fn analyzers(&self) -> &'p [NamedDecl] {
        self.plugin
            .manifest()
            .map_or(&[], |m| m.provides.search_analyzer.as_slice())
    }

    /// The tokens of `text` by `analyzer`, in a fresh instance. An undeclared analyzer is
    /// `unknown-format` and a text over [`MAX_TEXT_BYTES`] is `too-large`, neither running
    /// the plugin; tokens that do not fit the text are `invalid-output`.
    pub async fn analyze_async(&self, analyzer: &str, text: &str) -> Result<Vec<Token>, KindError> {
        let declared = self.analyzers();
        if !declared.is_empty() && !declared.iter().any(|a| a.name == analyzer) {
            return Err(KindError::UnknownFormat {
                plugin: self.plugin.id().into(),
                kind: Kind::SearchAnalyzer,
                format: analyzer.into(),
                known: declared.iter().map(|a| a.name.clone()).collect(),
            });
        }
        self.analyze_guest_async(analyzer, text).await
    }

    /// [`Self::analyze_async`] without the manifest's check: what the guest does with any
    /// analyzer name (the kit asks it about one nobody declared).
    pub(crate) async fn analyze_guest_async(
        &self,
        analyzer: &str,
        text: &str,
    ) -> Result<Vec<Token>, KindError> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(KindError::InputTooLarge {
                plugin: self.plugin.id().into(),
                what: "the text".into(),
                size: text.len() as u64,
                limit: MAX_TEXT_BYTES as u64,
            });
        }
        let what = format!("analyzer `{analyzer}`");
        let (answer,): (Result<Vec<v1::Token>, v1::AnalyzeError>,) = self
            .plugin
            .call_async(
                &self.binding.func("analyze"),
                (analyzer.to_owned(), text.to_owned()),
            )
            .await?;
        let tokens: Vec<Token> = match answer {
            Ok(tokens) => tokens
                .into_iter()
                .map(|t| Token {
                    term: t.term,
                    position: t.position,
                    start: t.start,
                    end: t.end,
                })
                .collect(),
            Err(v1::AnalyzeError::UnknownAnalyzer(_)) if !self.analyzers().is_empty() => {
                let declared = self.analyzers().iter().any(|a| a.name == analyzer);
                return Err(if declared {
                    KindError::Mismatch {
                        plugin: self.plugin.id().into(),
                        kind: Kind::SearchAnalyzer,
                        reason: format!(
                            "the manifest declares the analyzer `{analyzer}` but the component does not know it"
                        ),
                    }
                } else {
                    self.failed(
                        &what,
                        "unknown-analyzer",
                        format!("no analyzer `{analyzer}`"),
                    )
                });
            }
            Err(v1::AnalyzeError::UnknownAnalyzer(reason)) => {
                return Err(self.failed(&what, "unknown-analyzer", reason));
            }
            Err(v1::AnalyzeError::Failed(reason)) => {
                return Err(self.failed(&what, "failed", reason));
            }
        };
        match token_violation(text, &tokens) {
            None => Ok(tokens),
            Some(reason) => Err(KindError::InvalidOutput {
                plugin: self.plugin.id().into(),
                what,
                reason,
            }),
        }
    }

    fn failed(&self, what: &str, code: &str, reason: String) -> KindError {
        KindError::PluginFailed {
            plugin: self.plugin.id().into(),
            what: what.into(),
            code: code.into(),
            reason,
        }
    }

    /// Blocking [`Self::analyze_async`].
    pub fn analyze(&self, analyzer: &str, text: &str) -> Result<Vec<Token>, KindError> {
        block(
            self.plugin,
            &self.binding.func("analyze"),
            self.analyze_async(analyzer, text),
        )
    }

    /// Blocking [`Self::analyze_guest_async`].
    pub(crate) fn analyze_guest(
        &self,
        analyzer: &str,
        text: &str,
    ) -> Result<Vec<Token>, KindError> {
        block(
            self.plugin,
            &self.binding.func("analyze"),
            self.analyze_guest_async(analyzer, text),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(term: &str, position: u32, start: u32, end: u32) -> Token {
        Token {
            term: term.into(),
            position,
            start,
            end,
        }
    }

    #[test]
    fn tokens_must_fit_their_text() {
        let text = "Größe café";
        assert_eq!(
            token_violation(text, &[token("größe", 0, 0, 7), token("cafe", 1, 8, 13)]),
            None
        );
        assert!(token_violation(text, &[token("", 0, 0, 1)]).is_some());
        assert!(token_violation(text, &[token("x", 0, 0, 14)]).is_some());
        assert!(token_violation(text, &[token("x", 0, 3, 2)]).is_some());
        // `ö` is bytes 2 and 3: an end at 3 cuts it.
        assert!(token_violation(text, &[token("x", 0, 0, 3)]).is_some());
        assert!(token_violation(text, &[token("a", 1, 0, 1), token("b", 0, 1, 2)]).is_some());
        assert_eq!(token("größe", 0, 0, 7).source(text), "Größe");
    }
}
