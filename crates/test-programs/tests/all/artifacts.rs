//! Every generated constant names a built file of the right kind.

use std::fs;
use std::path::Path;

/// Magic and version of a binary component: `\0asm`, version 0x0d, layer 1.
const COMPONENT_HEADER: [u8; 8] = *b"\0asm\x0d\x00\x01\x00";
/// Magic and version of a binary core module: `\0asm`, version 1.
const CORE_MODULE_HEADER: [u8; 8] = *b"\0asm\x01\x00\x00\x00";

fn header(path: &str) -> [u8; 8] {
    let bytes = fs::read(path).unwrap_or_else(|err| panic!("read {path}: {err}"));
    bytes
        .get(..8)
        .and_then(|head| head.try_into().ok())
        .unwrap_or_else(|| panic!("{path} is shorter than a wasm header"))
}

#[test]
fn every_artifact_is_a_component_except_core_fixtures() {
    for (name, path) in test_programs::ALL {
        assert!(
            Path::new(path).is_absolute(),
            "{name}: {path} is not absolute"
        );
        let expected = if name.starts_with("CORE_") {
            CORE_MODULE_HEADER
        } else {
            COMPONENT_HEADER
        };
        assert_eq!(
            header(path),
            expected,
            "{name} ({path}) has the wrong header"
        );
    }
}

#[test]
fn all_is_sorted_and_holds_the_pdk_guests() {
    let names: Vec<&str> = test_programs::ALL.iter().map(|(name, _)| *name).collect();
    assert!(names.windows(2).all(|pair| pair[0] < pair[1]), "{names:?}");
    for expected in ["HELLO", "COUNT_VOWELS", "PDK_PLUGIN"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(
        Path::new(test_programs::HELLO).file_name(),
        Some("hello.wasm".as_ref())
    );
}

#[test]
fn foreach_guest_visits_every_artifact() {
    let mut visited = Vec::new();
    macro_rules! visit {
        ($name:ident, $constant:ident) => {
            visited.push((stringify!($name), test_programs::$constant));
        };
    }
    test_programs::foreach_guest!(visit);

    assert_eq!(visited.len(), test_programs::ALL.len());
    for ((name, path), (constant, expected)) in visited.iter().zip(test_programs::ALL) {
        assert_eq!(name.trim_start_matches("r#").to_uppercase(), *constant);
        assert_eq!(path, expected);
    }
}

#[test]
fn example_dirs_hold_their_manifests() {
    for example in ["hello", "count-vowels"] {
        let dir = test_programs::example_dir(example);
        assert!(dir.is_absolute());
        assert!(dir.join("plugin.toml").is_file(), "{}", dir.display());
    }
    let schema = test_programs::example_dir("count-vowels").join("count_vowels.schema.json");
    assert!(schema.is_file());
}
