//! The `auth-provider` kit's steps (docs/design/0045): the examples' tokens must stand
//! for their identities; tokens that are not exactly an example's (empty, garbage, one
//! character changed, another case, padded) must be denied.
//!
//! "Answers" means an identity the host accepts, a denial or `unavailable`; not a trap.

use super::fixtures::Fixtures;
use super::run::{Check, Verdict, clean, fail, unknown};
use super::suite::Case;
use crate::kinds::{AuthProvider, Authentication};
use crate::plugin::Plugin;

pub(super) fn step(case: &Case, plugin: &Plugin, fixtures: &Fixtures) -> Check {
    let providers = plugin
        .kind::<AuthProvider>()
        .map_err(|e| fail(e.to_string()))?;
    let examples = fixtures.tokens();
    let tokens = tokens(case, &examples)?;
    for (token, expected) in tokens {
        let shown = shown(&token);
        let answer = providers.authenticate(&token);
        let result = match (case.step.as_str(), case.expect.as_str()) {
            ("authenticate", "identity") => match (answer, expected) {
                (Ok(Authentication::Identified(identity)), Some((subject, tenant))) => {
                    if identity.subject == subject && identity.tenant == tenant {
                        Ok(())
                    } else {
                        Err(format!(
                            "stands for {}@{}, the example says {subject}@{tenant}",
                            identity.subject, identity.tenant
                        ))
                    }
                }
                (other, _) => Err(format!("expected an identity, got {}", describe(&other))),
            },
            ("authenticate", "denied") => match answer {
                Ok(Authentication::Denied(_)) => Ok(()),
                other => Err(format!("expected a denial, got {}", describe(&other))),
            },
            ("authenticate", "answers") => match answer {
                Ok(_) => Ok(()),
                Err(e) if clean(&e) => Ok(()),
                Err(e) => Err(e.to_string()),
            },
            ("authenticate", "same-twice") => {
                let second = providers.authenticate(&token);
                match (answer, second) {
                    (Ok(a), Ok(b)) if a == b => Ok(()),
                    (a, b) => Err(format!("answered {}, then {}", describe(&a), describe(&b))),
                }
            }
            (_, other) => return Err(unknown(case, other)),
        };
        result.map_err(|reason| fail(format!("token {shown}: {reason}")))?;
    }
    Ok(())
}

type Expected<'a> = Option<(&'a str, &'a str)>;

/// The tokens `case.token` names, each with the identity its example gives.
fn tokens<'a>(
    case: &Case,
    examples: &[(&'a str, &'a str, &'a str)],
) -> Result<Vec<(String, Expected<'a>)>, Verdict> {
    let spec = case.token.as_deref().unwrap_or("example");
    let from_examples = |change: &dyn Fn(&str) -> String| {
        if examples.is_empty() {
            return Err(Verdict::Skip(
                "conformance.toml has no auth-provider example".into(),
            ));
        }
        Ok(examples
            .iter()
            .map(|(token, subject, tenant)| (change(token), Some((*subject, *tenant))))
            .collect())
    };
    match spec {
        "example" => from_examples(&|t| t.to_string()),
        "example-tampered" => from_examples(&tampered),
        "example-uppercase" => from_examples(&|t| {
            let upper = t.to_uppercase();
            if upper == t { t.to_lowercase() } else { upper }
        }),
        "example-padded" => from_examples(&|t| format!(" {t} ")),
        other => match other.strip_prefix("large:").map(str::parse::<usize>) {
            Some(Ok(n)) => Ok(vec![("t".repeat(n), None)]),
            Some(Err(_)) => Err(fail(format!("unknown `token = {other:?}` in the suite"))),
            None => Ok(vec![(other.to_string(), None)]),
        },
    }
}

/// The token with its last character replaced by another.
fn tampered(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    match chars.last_mut() {
        Some(c) => *c = if *c == 'A' { 'B' } else { 'A' },
        None => chars.push('A'),
    }
    chars.into_iter().collect()
}

fn shown(token: &str) -> String {
    if token.len() > 40 {
        format!("of {} bytes", token.len())
    } else {
        format!("{token:?}")
    }
}

fn describe(answer: &Result<Authentication, crate::kinds::KindError>) -> String {
    match answer {
        Ok(Authentication::Identified(i)) => format!("the identity {}@{}", i.subject, i.tenant),
        Ok(Authentication::Denied(reason)) => format!("a denial ({reason})"),
        Ok(Authentication::Unavailable(reason)) => format!("`unavailable` ({reason})"),
        Err(e) => format!("`{}`: {e}", e.code()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tampered_token_differs_in_its_last_character_only() {
        assert_eq!(super::tampered("abc"), "abA");
        assert_eq!(super::tampered("abA"), "abB");
        assert_eq!(super::tampered(""), "A");
    }
}
