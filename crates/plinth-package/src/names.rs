//! Names that become file names and bare TOML keys (trust-store key names, tenant ids).
//! Their own module so that `signature` (key files) and `trust` (the trust store) both use
//! them without depending on each other.

use crate::error::PackageError;

/// Key names: 1–64 of `A-Za-z0-9._-`, not starting with `.` or `-`, so a name is also a safe
/// file name and a bare TOML key.
pub fn check_key_name(name: &str) -> Result<(), PackageError> {
    if is_plain_name(name) {
        Ok(())
    } else {
        Err(PackageError::BadInput(format!(
            "{:?} is not a key name: use 1-64 letters, digits, '.', '_' or '-', not starting with '.' or '-'",
            name.chars().take(80).collect::<String>()
        )))
    }
}

/// 1-64 ASCII letters, digits, `.`, `_` or `-`, not starting with `.` or `-`: safe as a file
/// name and a TOML bare key (trust-store key names, tenant ids).
pub(crate) fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}
