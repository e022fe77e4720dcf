//! Ed25519 keys, detached signatures and the exact bytes a signature covers.
//!
//! Text forms (all hex is lowercase when written; upper case is accepted when read):
//!
//! - public key: `ed25519:<64 hex>`; a `NAME.pub` file holds that token, a space and the
//!   key's name: `ed25519:9a3f… alice`.
//! - secret key: `ed25519-secret:<64 hex>` (the 32-byte seed); a `NAME.key` file holds that
//!   token, a space and the name, and is created with mode 0600.
//! - signature file (`FILE.sig`), six lines: the signed subject, the key, the signature:
//!
//!   ```text
//!   plinth-signature-v1
//!   id example.hello
//!   version 0.1.0
//!   digest sha256:<64 hex>
//!   key ed25519:<64 hex>
//!   signature <128 hex>
//!   ```
//!
//!   Naming the subject lets a verifier refuse changed bytes (`bad-signature`) before it
//!   decompresses anything. A file holding only the 128 hex digits of the signature (the
//!   Stack Composer form) is accepted too; it names no key, so it is checked against every
//!   trusted key.
//!
//! The signed message is [`Subject::message`]: `plinth-signature-v1\n<id>\n<version>\n
//! sha256:<hex>\n`, so a signature binds the plugin id and version as well as the bytes and
//! cannot be moved to another package, plugin or version.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use plinth_manifest::{Digest, PluginId};

use crate::error::{PackageError, io_error};

/// The first line of a signature file, and the first line of every signed message.
pub const SIGNATURE_FORMAT: &str = "plinth-signature-v1";

const PUBLIC_PREFIX: &str = "ed25519:";
const SECRET_PREFIX: &str = "ed25519-secret:";

/// An Ed25519 public key (a valid curve point), written `ed25519:<64 hex>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// The key from its 32 bytes, if they encode a valid Ed25519 point.
    pub fn from_bytes(bytes: [u8; 32]) -> Option<PublicKey> {
        VerifyingKey::from_bytes(&bytes)
            .ok()
            .map(|_| PublicKey(bytes))
    }

    /// The raw 32 key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Whether `signature` is this key's signature of `subject` (strict verification: weak
    /// keys and malleable signatures are refused).
    pub fn verifies(&self, subject: &Subject, signature: &Signature) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        let sig = ed25519_dalek::Signature::from_bytes(&signature.bytes);
        key.verify_strict(&subject.message(), &sig).is_ok()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PUBLIC_PREFIX}{}", hex::encode(self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

/// Why a key or signature text does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(String);

impl FromStr for PublicKey {
    type Err = ParseError;

    /// Parses `ed25519:<64 hex>`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix(PUBLIC_PREFIX).ok_or_else(|| {
            ParseError(format!(
                "{:?} is not a public key: expected `ed25519:` followed by 64 hex digits",
                short(s)
            ))
        })?;
        let bytes = decode_32(digits).ok_or_else(|| {
            ParseError(format!(
                "{:?} is not a public key: expected 64 hex digits after `ed25519:`",
                short(s)
            ))
        })?;
        PublicKey::from_bytes(bytes)
            .ok_or_else(|| ParseError("the public key is not a valid Ed25519 point".into()))
    }
}

/// An Ed25519 signing key. Its `Debug` form never shows the secret.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<SecretKey, PackageError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| {
            PackageError::BadInput(format!("no random source to generate a key: {e}"))
        })?;
        Ok(SecretKey(SigningKey::from_bytes(&seed)))
    }

    /// The key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        SecretKey(SigningKey::from_bytes(&seed))
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `subject`; the signature names this key.
    pub fn sign(&self, subject: &Subject) -> Signature {
        Signature {
            key: Some(self.public_key()),
            subject: Some(subject.clone()),
            bytes: self.0.sign(&subject.message()).to_bytes(),
        }
    }

    /// The text form `ed25519-secret:<64 hex>`.
    pub fn to_text(&self) -> String {
        format!("{SECRET_PREFIX}{}", hex::encode(self.0.to_bytes()))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public {})", self.public_key())
    }
}

impl FromStr for SecretKey {
    type Err = ParseError;

    /// Parses `ed25519-secret:<64 hex>`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let seed = s
            .strip_prefix(SECRET_PREFIX)
            .and_then(decode_32)
            .ok_or_else(|| {
                ParseError(
                    "not a secret key: expected `ed25519-secret:` followed by 64 hex digits".into(),
                )
            })?;
        Ok(SecretKey::from_seed(seed))
    }
}

/// What a signature covers: the plugin's identity and the digest of the signed bytes (a
/// `.plinth` package, or a component in the directory layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// The plugin id.
    pub id: PluginId,
    /// The plugin version.
    pub version: semver::Version,
    /// The sha256 of the signed bytes.
    pub digest: Digest,
}

impl Subject {
    /// The exact bytes that are signed:
    /// `plinth-signature-v1\n<id>\n<version>\nsha256:<64 hex>\n` (UTF-8, `\n` line ends,
    /// the version in semver's canonical form).
    pub fn message(&self) -> Vec<u8> {
        format!(
            "{SIGNATURE_FORMAT}\n{}\n{}\n{}\n",
            self.id.as_str(),
            self.version,
            self.digest
        )
        .into_bytes()
    }
}

/// A detached Ed25519 signature. The full form also names the key that made it and the
/// subject it covers, so a verifier can check it before reading the package at all.
#[derive(Clone, PartialEq, Eq)]
pub struct Signature {
    /// The signing key, as the file names it (`None` for the bare hex form).
    pub key: Option<PublicKey>,
    /// The id, version and digest the file says were signed (`None` for the bare hex form).
    /// Only the Ed25519 check against the actual package makes this claim count.
    pub subject: Option<Subject>,
    bytes: [u8; 64],
}

impl Signature {
    /// The 64 signature bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.bytes
    }

    /// The same signature in the bare form: the signature bytes alone.
    #[must_use]
    pub fn to_bare(&self) -> Signature {
        Signature {
            key: None,
            subject: None,
            bytes: self.bytes,
        }
    }

    /// Parses a signature file: the six-line `plinth-signature-v1` form or a bare line of 128
    /// hex digits. Surrounding blank space, a trailing newline and `\r\n` line ends are
    /// accepted; anything else is an error.
    pub fn parse(text: &str) -> Result<Signature, ParseError> {
        let text = text.trim();
        if !text.contains('\n') && text.len() == 128 {
            let bytes = decode_64(text)
                .ok_or_else(|| ParseError("a bare signature must be 128 hex digits".into()))?;
            return Ok(Signature {
                key: None,
                subject: None,
                bytes,
            });
        }
        let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
        if lines.next() != Some(SIGNATURE_FORMAT) {
            return Err(ParseError(format!(
                "not a signature file: the first line must be `{SIGNATURE_FORMAT}` (or the file holds just 128 hex digits)"
            )));
        }
        let id = PluginId::new(field(lines.next(), "id")?)
            .map_err(|e| ParseError(format!("signature file, `id` line: {e}")))?;
        let version = field(lines.next(), "version")?
            .parse::<semver::Version>()
            .map_err(|e| ParseError(format!("signature file, `version` line: {e}")))?;
        let digest = field(lines.next(), "digest")?
            .parse::<Digest>()
            .map_err(|e| ParseError(format!("signature file, `digest` line: {e}")))?;
        let key = field(lines.next(), "key")?
            .parse::<PublicKey>()
            .map_err(|e| ParseError(format!("signature file, `key` line: {e}")))?;
        let bytes = decode_64(field(lines.next(), "signature")?).ok_or_else(|| {
            ParseError("signature file, `signature` line: expected 128 hex digits".into())
        })?;
        if lines.next().is_some() {
            return Err(ParseError(
                "signature file: unexpected text after the `signature` line".into(),
            ));
        }
        Ok(Signature {
            key: Some(key),
            subject: Some(Subject {
                id,
                version,
                digest,
            }),
            bytes,
        })
    }

    /// The file text: the six-line form when key and subject are known, else the bare form.
    pub fn to_text(&self) -> String {
        match (&self.key, &self.subject) {
            (Some(key), Some(subject)) => format!(
                "{SIGNATURE_FORMAT}\nid {}\nversion {}\ndigest {}\nkey {key}\nsignature {}\n",
                subject.id.as_str(),
                subject.version,
                subject.digest,
                hex::encode(self.bytes)
            ),
            _ => format!("{}\n", hex::encode(self.bytes)),
        }
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signature")
            .field("key", &self.key)
            .field("subject", &self.subject)
            .field("bytes", &hex::encode(self.bytes))
            .finish()
    }
}

fn field<'a>(line: Option<&'a str>, name: &str) -> Result<&'a str, ParseError> {
    line.and_then(|l| l.strip_prefix(name))
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or_else(|| ParseError(format!("signature file: expected a `{name} …` line")))
}

fn decode_32(digits: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(digits, &mut out).ok().map(|()| out)
}

fn decode_64(digits: &str) -> Option<[u8; 64]> {
    let mut out = [0u8; 64];
    hex::decode_to_slice(digits, &mut out).ok().map(|()| out)
}

/// The start of `s`, for messages about text that may be long or hostile.
fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

/// A key file's contents: the key token and the name after it.
fn split_key_file(text: &str) -> (&str, Option<&str>) {
    let line = text.lines().next().unwrap_or_default().trim();
    match line.split_once(char::is_whitespace) {
        Some((token, name)) if !name.trim().is_empty() => (token, Some(name.trim())),
        _ => (line, None),
    }
}

/// Reads a `NAME.pub` file: the public key and the name written after it, if any.
pub fn read_public_key_file(path: &Path) -> Result<(PublicKey, Option<String>), PackageError> {
    let text = fs::read_to_string(path).map_err(|e| io_error("read", path, e))?;
    let (token, name) = split_key_file(&text);
    let key = token
        .parse::<PublicKey>()
        .map_err(|e| PackageError::BadInput(format!("{}: {e}", path.display())))?;
    Ok((key, name.map(str::to_owned)))
}

/// Reads a `NAME.key` file.
pub fn read_secret_key_file(path: &Path) -> Result<SecretKey, PackageError> {
    let text = fs::read_to_string(path).map_err(|e| io_error("read", path, e))?;
    let (token, _) = split_key_file(&text);
    token
        .parse::<SecretKey>()
        .map_err(|e| PackageError::BadInput(format!("{}: {e}", path.display())))
}

/// The files [`write_key_pair`] wrote.
#[derive(Debug, Clone)]
pub struct KeyPairFiles {
    /// `NAME.key`, mode 0600.
    pub secret: PathBuf,
    /// `NAME.pub`.
    pub public: PathBuf,
    /// The public key.
    pub key: PublicKey,
}

/// Generates a key pair and writes `DIR/NAME.key` (mode 0600, created with that mode so the
/// secret is never readable by others) and `DIR/NAME.pub`, creating `DIR` if needed. Refuses
/// to overwrite either file.
pub fn write_key_pair(dir: &Path, name: &str) -> Result<KeyPairFiles, PackageError> {
    crate::names::check_key_name(name)?;
    let secret_path = dir.join(format!("{name}.key"));
    let public_path = dir.join(format!("{name}.pub"));
    for path in [&secret_path, &public_path] {
        if path.exists() {
            return Err(PackageError::BadInput(format!(
                "{} already exists; choose another name or move it away",
                path.display()
            )));
        }
    }
    fs::create_dir_all(dir).map_err(|e| io_error("create directory", dir, e))?;
    let key = SecretKey::generate()?;
    let public = key.public_key();
    write_new(&secret_path, &format!("{} {name}\n", key.to_text()), 0o600)?;
    if let Err(e) = write_new(&public_path, &format!("{public} {name}\n"), 0o644) {
        let _ = fs::remove_file(&secret_path);
        return Err(e);
    }
    Ok(KeyPairFiles {
        secret: secret_path,
        public: public_path,
        key: public,
    })
}

/// Creates `path` (which must not exist) with `mode` and writes `text`.
fn write_new(path: &Path, text: &str, mode: u32) -> Result<(), PackageError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options
        .open(path)
        .map_err(|e| io_error("create", path, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error("write", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(id: &str, version: &str, bytes: &[u8]) -> Subject {
        Subject {
            id: PluginId::new(id).unwrap(),
            version: version.parse().unwrap(),
            digest: Digest::of(bytes),
        }
    }

    #[test]
    fn message_bytes_are_the_documented_ones() {
        let s = subject("example.hello", "0.1.0", b"");
        assert_eq!(
            String::from_utf8(s.message()).unwrap(),
            "plinth-signature-v1\nexample.hello\n0.1.0\nsha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        );
    }

    #[test]
    fn signature_binds_bytes_id_and_version() {
        let key = SecretKey::from_seed([7; 32]);
        let signed = subject("example.hello", "0.1.0", b"bytes");
        let sig = key.sign(&signed);
        let public = key.public_key();
        assert!(public.verifies(&signed, &sig));
        for other in [
            subject("example.hello", "0.1.0", b"bytez"),
            subject("example.other", "0.1.0", b"bytes"),
            subject("example.hello", "0.1.1", b"bytes"),
        ] {
            assert!(!public.verifies(&other, &sig), "{other:?}");
        }
        let stranger = SecretKey::from_seed([8; 32]).public_key();
        assert!(!stranger.verifies(&signed, &sig));
    }

    #[test]
    fn text_forms_round_trip() {
        let key = SecretKey::from_seed([1; 32]);
        assert_eq!(
            key.to_text().parse::<SecretKey>().unwrap().public_key(),
            key.public_key()
        );
        let public = key.public_key();
        assert_eq!(public.to_string().parse::<PublicKey>().unwrap(), public);
        let sig = key.sign(&subject("a", "1.0.0", b"x"));
        assert_eq!(Signature::parse(&sig.to_text()).unwrap(), sig);
        let bare = sig.to_bare();
        assert_eq!(Signature::parse(&bare.to_text()).unwrap(), bare);
        assert!(format!("{key:?}").starts_with("SecretKey(public ed25519:"));
    }

    #[test]
    fn malformed_signature_files_are_refused() {
        let sig = SecretKey::from_seed([1; 32]).sign(&subject("a", "1.0.0", b"x"));
        let good = sig.to_text();
        let cases = [
            String::new(),
            "plinth-signature-v2\nkey x\nsignature y".into(),
            good.replace("key ", "kee "),
            good.replace("id a\n", ""),
            good.replace("id a", "id A"),
            good.replace("version 1.0.0", "version 1"),
            good.replace("digest sha256:", "digest sha1:"),
            good.replace("signature ", "signature  "),
            format!("{good}extra\n"),
            good.replace("ed25519:", "ed448:"),
            "zz".repeat(64),
            "ab".repeat(63),
            good.lines().take(2).collect::<Vec<_>>().join("\n"),
        ];
        for case in cases {
            assert!(Signature::parse(&case).is_err(), "{case:?}");
        }
        assert!(Signature::parse(&good.replace('\n', "\r\n")).is_ok());
    }

    #[test]
    fn key_files_are_written_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_key_pair(dir.path(), "alice").unwrap();
        let (public, name) = read_public_key_file(&files.public).unwrap();
        assert_eq!(public, files.key);
        assert_eq!(name.as_deref(), Some("alice"));
        let secret = read_secret_key_file(&files.secret).unwrap();
        assert_eq!(secret.public_key(), public);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&files.secret).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let before = fs::read(&files.secret).unwrap();
        assert!(matches!(
            write_key_pair(dir.path(), "alice"),
            Err(PackageError::BadInput(_))
        ));
        assert_eq!(fs::read(&files.secret).unwrap(), before);
        assert!(read_public_key_file(&files.secret).is_err());
        assert!(read_secret_key_file(&files.public).is_err());
    }
}
