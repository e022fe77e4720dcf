//! Empty: a package's build dependencies are resolved only if it has a build script, and
//! this package's only purpose is the features of those dependencies (see Cargo.toml).

fn main() {}
