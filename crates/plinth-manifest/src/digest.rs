//! Content digests: the sha256 that pins a component (`runtime.digest`), keys the compile
//! cache and fills the lockfile, always written `sha256:<64 lowercase hex>`.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// The algorithm prefix of the textual form. Only sha256 exists today; naming it in the text
/// leaves room for another algorithm without ambiguity.
const PREFIX: &str = "sha256:";

/// A sha256 digest of some bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The sha256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// The digest of a plugin without a component (docs/design/0044): sha256 over each file
    /// the manifest names, as `path NUL length NUL bytes`, in manifest order. What a
    /// signature of such a plugin covers, and its identity at load.
    pub fn of_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Digest {
        let mut hasher = Sha256::new();
        for (path, bytes) in files {
            hasher.update(path.as_bytes());
            hasher.update([0]);
            hasher.update(bytes.len().to_string().as_bytes());
            hasher.update([0]);
            hasher.update(bytes);
        }
        Digest(hasher.finalize().into())
    }

    /// The sha256 of a file's contents, read in chunks so a large component is never held in
    /// memory just to be hashed.
    pub fn of_file(path: impl AsRef<Path>) -> io::Result<Digest> {
        let mut file = File::open(path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.update(&buf[..n]);
        }
        Ok(Digest(hasher.finalize().into()))
    }

    /// Wraps raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Digest {
        Digest(bytes)
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lowercase hex digits, without the `sha256:` prefix.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestParseError {
    /// The text lacks an `algorithm:` prefix.
    #[error("{0:?} is not a digest: expected `sha256:` followed by 64 hex digits")]
    MissingAlgorithm(String),
    /// The algorithm is not sha256.
    #[error("unsupported digest algorithm `{0}`: only sha256 is supported")]
    UnsupportedAlgorithm(String),
    /// The part after `sha256:` is not 64 hex digits.
    #[error("{0:?} is not a sha256 digest: expected 64 hex digits after `sha256:`")]
    BadHex(String),
}

impl FromStr for Digest {
    type Err = DigestParseError;

    /// Parses `sha256:<64 hex>`. Upper-case hex is accepted (it is the same digest);
    /// [`Display`](fmt::Display) always writes lower case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((algorithm, hex_digits)) = s.split_once(':') else {
            return Err(DigestParseError::MissingAlgorithm(s.to_owned()));
        };
        if algorithm != "sha256" {
            return Err(DigestParseError::UnsupportedAlgorithm(algorithm.to_owned()));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_digits, &mut bytes)
            .map_err(|_| DigestParseError::BadHex(s.to_owned()))?;
        Ok(Digest(bytes))
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn digest_of_empty_input_is_the_known_value() {
        assert_eq!(Digest::of(b"").to_string(), EMPTY);
    }

    #[test]
    fn file_digest_equals_bytes_digest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        // Larger than one read buffer, so the streaming loop runs more than once.
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(Digest::of_file(&path).unwrap(), Digest::of(&bytes));
        assert!(Digest::of_file(dir.path().join("absent")).is_err());
    }

    #[test]
    fn parse_table() {
        let upper = EMPTY.replace("e3b0", "E3B0");
        let cases: &[(&str, Result<(), DigestParseError>)] = &[
            (EMPTY, Ok(())),
            (&upper, Ok(())),
            (
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Err(DigestParseError::MissingAlgorithm(
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
                )),
            ),
            (
                "sha512:00",
                Err(DigestParseError::UnsupportedAlgorithm("sha512".into())),
            ),
            ("sha256:", Err(DigestParseError::BadHex("sha256:".into()))),
            (
                "sha256:abc",
                Err(DigestParseError::BadHex("sha256:abc".into())),
            ),
        ];
        for (text, expected) in cases {
            let got = text.parse::<Digest>().map(|_| ());
            assert_eq!(&got, expected, "{text}");
        }
        let zz = format!("sha256:{}", "zz".repeat(32));
        assert!(matches!(
            zz.parse::<Digest>(),
            Err(DigestParseError::BadHex(_))
        ));
        assert_eq!(upper.parse::<Digest>().unwrap().to_string(), EMPTY);
    }

    #[test]
    fn serde_and_hex_forms() {
        let d = Digest::of(b"plinth");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{d}\""));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
        assert_eq!(d.to_hex().len(), 64);
        assert_eq!(Digest::from_bytes(*d.as_bytes()), d);
        assert_eq!(format!("{d:?}"), format!("Digest({d})"));
    }
}
