//! Stack Composer's `trusted_keys.toml` on Plinth's trust store.
//!
//! The seed names the file and the algorithm (Ed25519, signatures in hex) but not its
//! layout. The mapping, one table of named keys:
//!
//! ```toml
//! [keys]
//! jane = "ed25519:9a3f…"   # Plinth's form (`plinth keygen`, `plinth trust add`)
//! ops  = "9a3f…"           # 64 hex digits: the raw Ed25519 public key
//! ```
//!
//! Both forms name the same 32-byte key; [`translate`] writes them in Plinth's form, the file
//! the manager's signature check reads. A key that is not a valid Ed25519 point, or a name
//! Plinth refuses, fails the start with the file and the key named. What a key vouches for is
//! Plinth's signature subject (the component's digest, the plugin id and version of
//! `x.toml`), so a `.sig` made by Stack Composer's own signer over other bytes does not
//! verify: plugins are signed again with `plinth sign` (docs/stack-composer.md).

use std::collections::BTreeMap;
use std::path::Path;

use plinth_package::{PublicKey, TrustStore};
use serde::Deserialize;

/// The file as Stack Composer writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrustedKeys {
    #[serde(default)]
    keys: BTreeMap<String, String>,
}

/// `trusted_keys.toml` could not be read or holds a key Plinth cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct TrustError {
    /// The file.
    pub path: std::path::PathBuf,
    /// Why.
    pub reason: String,
}

/// Reads Stack Composer's `trusted_keys.toml` at `path` into Plinth's trust store; a missing
/// file trusts nobody (every signed plugin is then `untrusted-key`).
pub fn translate(path: &Path) -> Result<TrustStore, TrustError> {
    let error = |reason: String| TrustError {
        path: path.to_path_buf(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TrustStore::default()),
        Err(e) => return Err(error(e.to_string())),
    };
    let file: TrustedKeys = toml::from_str(&text).map_err(|e| error(e.message().to_owned()))?;
    let mut store = TrustStore::default();
    for (name, key) in file.keys {
        let key = parse_key(&key).map_err(|why| error(format!("keys.{name}: {why}")))?;
        store
            .add(&name, key)
            .map_err(|e| error(format!("keys.{name}: {e}")))?;
    }
    Ok(store)
}

/// `ed25519:<64 hex>` or the bare 64 hex digits.
fn parse_key(text: &str) -> Result<PublicKey, String> {
    let text = text.trim();
    let plinth_form = if text.starts_with("ed25519:") {
        text.to_owned()
    } else {
        format!("ed25519:{text}")
    };
    plinth_form.parse::<PublicKey>().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use plinth_package::SecretKey;

    use super::*;

    #[test]
    fn both_forms_name_the_same_key() {
        let key = SecretKey::from_seed([7; 32]).public_key();
        let plinth = key.to_string();
        let bare = plinth.trim_start_matches("ed25519:").to_uppercase();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("trusted_keys.toml");
        std::fs::write(&file, format!("[keys]\njane = \"{plinth}\"\n")).unwrap();
        let jane = translate(&file).unwrap();
        std::fs::write(&file, format!("[keys]\njane = \"{bare}\"\n")).unwrap();
        assert_eq!(translate(&file).unwrap(), jane);
        assert_eq!(jane.name_of(&key), Some("jane"));

        std::fs::write(&file, "[keys]\njane = \"12ab\"\n").unwrap();
        let err = translate(&file).unwrap_err().to_string();
        assert!(err.contains("keys.jane"), "{err}");
        assert!(
            translate(&dir.path().join("none.toml"))
                .unwrap()
                .keys()
                .next()
                .is_none()
        );
    }
}
