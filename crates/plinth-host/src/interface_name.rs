//! Interface names as the component model spells them: `wasi:cli/stdout@0.2.3`.

/// The version track of `version`: `major` for 1.0 and later, `0.minor` before.
fn track(version: &semver::Version) -> String {
    if version.major == 0 {
        format!("0.{}", version.minor)
    } else {
        version.major.to_string()
    }
}

/// `wasi:cli/stdout@0.2.3` → (`wasi:cli`, `stdout`, `0.2`): package, interface and the
/// version track; `None` for a name without a package path or a semver version.
pub(crate) fn split_name(name: &str) -> Option<(&str, &str, String)> {
    let (path, version) = name.split_once('@')?;
    let (package, interface) = path.split_once('/')?;
    if !package.contains(':') || interface.is_empty() {
        return None;
    }
    let version = semver::Version::parse(version).ok()?;
    Some((package, interface, track(&version)))
}
