//! Packing is deterministic and complete; unpacking refuses every hostile archive with
//! `package-rejected` (naming the entry) and leaves the home as it was.

use std::fs;
use std::io::Write;

use crate::common::*;
use flate2::Compression;
use flate2::write::GzEncoder;
use plinth_manifest::Code;
use plinth_package::{
    Home, InstallOptions, Package, PackageError, SignaturePolicy, UnpackLimits, install_bytes,
    install_dir, pack, read_package_manifest, unpack, unpack_to_temp,
};
use tar::EntryType;

#[test]
fn pack_is_deterministic_and_holds_the_package_files() {
    let dir = plugin_dir("example.hello", "0.1.0");
    fs::write(dir.path().join("notes.txt"), "not packed").unwrap();
    fs::write(dir.path().join("icon.svg"), "<svg/>").unwrap();
    fs::create_dir(dir.path().join("target")).unwrap();
    let first = pack(dir.path()).unwrap();

    // Another copy made later, with other modes and times, packs to the same bytes.
    let copy = tempfile::tempdir().unwrap();
    for name in [
        "plugin.toml",
        "hello.wasm",
        "settings.schema.json",
        "README.md",
        "icon.svg",
    ] {
        fs::copy(dir.path().join(name), copy.path().join(name)).unwrap();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(
            copy.path().join("hello.wasm"),
            fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    let second = pack(copy.path()).unwrap();
    assert_eq!(first.bytes, second.bytes);
    // Gzip with no timestamp or file name, maximum compression, unknown OS.
    assert_eq!(first.bytes[..10], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 255]);
    assert_eq!(first.package.digest(), second.package.digest());
    assert_eq!(
        first.package.digest(),
        plinth_manifest::Digest::of(&first.bytes)
    );

    let names: Vec<&str> = first.package.members().map(|(p, _)| p).collect();
    assert_eq!(
        names,
        [
            "README.md",
            "hello.wasm",
            "icon.svg",
            "plugin.toml",
            "settings.schema.json"
        ]
    );
    assert_eq!(first.package.component(), component_bytes(b"payload"));

    // Unpacked and packed again: the same package.
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("example.hello");
    unpack(&first.bytes, &dest, &UnpackLimits::default()).unwrap();
    assert_eq!(pack(&dest).unwrap().bytes, first.bytes);

    // A changed byte in any member changes the digest.
    fs::write(copy.path().join("README.md"), "# Hello!\n").unwrap();
    assert_ne!(pack(copy.path()).unwrap().bytes, first.bytes);
}

#[test]
fn pack_refuses_bad_plugin_directories() {
    let symlinked = plugin_dir("example.hello", "0.1.0");
    #[cfg(unix)]
    {
        let target = symlinked.path().join("real.wasm");
        fs::rename(symlinked.path().join("hello.wasm"), &target).unwrap();
        std::os::unix::fs::symlink(&target, symlinked.path().join("hello.wasm")).unwrap();
    }
    let no_schema = plugin_dir("example.hello", "0.1.0");
    fs::remove_file(no_schema.path().join("settings.schema.json")).unwrap();
    let core = plugin_dir("example.hello", "0.1.0");
    fs::write(core.path().join("hello.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let bad_manifest = plugin_dir("example.hello", "0.1.0");
    fs::write(bad_manifest.path().join("plugin.toml"), "[plugin]\nid = 1").unwrap();
    let pinned = plugin_dir("example.hello", "0.1.0");
    let text = manifest("example.hello", "0.1.0").replace(
        "component = \"hello.wasm\"",
        &format!(
            "component = \"hello.wasm\"\ndigest = \"sha256:{}\"",
            "0".repeat(64)
        ),
    );
    fs::write(pinned.path().join("plugin.toml"), text).unwrap();
    let odd_name = plugin_dir("example.hello", "0.1.0");
    let text = manifest("example.hello", "0.1.0").replace("hello.wasm", "my hello.wasm");
    fs::write(odd_name.path().join("plugin.toml"), text).unwrap();
    fs::rename(
        odd_name.path().join("hello.wasm"),
        odd_name.path().join("my hello.wasm"),
    )
    .unwrap();

    let mut cases = vec![
        (no_schema.path(), Code::MissingPackage),
        (core.path(), Code::NotAComponent),
        (bad_manifest.path(), Code::InvalidManifest),
        (pinned.path(), Code::DigestMismatch),
        (odd_name.path(), Code::PackageRejected),
    ];
    if cfg!(unix) {
        cases.push((symlinked.path(), Code::PackageRejected));
    }
    for (dir, code) in cases {
        let err = pack(dir).unwrap_err();
        assert_eq!(err.code(), code, "{}: {err}", dir.display());
    }
}

/// A gzip stream of a tar whose one member is `size` zero bytes, written in chunks so the
/// test never holds it: a small file that decompresses huge.
fn bomb(size: u64) -> Vec<u8> {
    bomb_of(&[("README", size)])
}

/// A valid package plus members of the given names and sizes, all zeros.
fn bomb_of(members: &[(&str, u64)]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    for entry in valid_entries() {
        write_entry(&mut gz, &entry);
    }
    let chunk = vec![0u8; 1 << 20];
    for (name, size) in members {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_entry_type(EntryType::Regular);
        header.set_size(*size);
        header.set_cksum();
        gz.write_all(header.as_bytes()).unwrap();
        let mut left = *size;
        while left > 0 {
            let n = left.min(chunk.len() as u64);
            gz.write_all(&chunk[..n as usize]).unwrap();
            left -= n;
        }
        let pad = (512 - size % 512) % 512;
        gz.write_all(&vec![0u8; pad as usize]).unwrap();
    }
    gz.write_all(&[0u8; 1024]).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_bomb_of_members_each_under_the_cap_is_stopped_at_the_total_cap() {
    // Three 100 MiB members, each below the 128 MiB member cap, 300 MiB in all: caught by the
    // default 256 MiB total cap, measured on the decompressed bytes.
    let limits = UnpackLimits::default();
    let each = 100 << 20;
    assert!(each < limits.max_member_bytes && 3 * each > limits.max_total_bytes);
    let bytes = bomb_of(&[("LICENSE", each), ("README", each), ("icon.png", each)]);
    assert!(bytes.len() < 1 << 20, "the bomb is {} bytes", bytes.len());
    let err = Package::from_bytes(&bytes).unwrap_err();
    let PackageError::Rejected { entry, reason } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(entry, "icon.png", "{reason}");
    assert!(reason.contains("decompression bomb"), "{reason}");
}

fn with(extra: Vec<Entry>) -> Vec<u8> {
    let mut entries = valid_entries();
    entries.extend(extra);
    archive(&entries)
}

#[test]
fn hostile_archives_are_rejected_and_leave_the_home_unchanged() {
    let small = UnpackLimits {
        max_archive_bytes: 1 << 20,
        max_entries: 8,
        max_member_bytes: 64 << 10,
        max_total_bytes: 128 << 10,
    };
    let default = UnpackLimits::default();
    let big_bomb = bomb(default.max_total_bytes + (1 << 20));
    assert!(
        big_bomb.len() < 1 << 20,
        "the bomb is {} bytes",
        big_bomb.len()
    );
    let pax_bomb = {
        let mut entries = valid_entries();
        entries.push(Entry {
            path: b"pax".to_vec(),
            kind: EntryType::XHeader,
            data: vec![b'a'; 1 << 20],
            link: None,
            size: None,
        });
        entries.push(file("README", "x"));
        archive(&entries)
    };
    let mut dup_case = valid_entries();
    dup_case.push(file("HELLO.wasm", "again"));
    let dup_case = archive(&dup_case);
    let no_manifest = archive(&[file("hello.wasm", component_bytes(b""))]);
    let mut plain_tar = Vec::new();
    for entry in valid_entries() {
        write_entry(&mut plain_tar, &entry);
    }

    let cases: Vec<(&str, Vec<u8>, UnpackLimits, &str)> = vec![
        (
            "zip-slip",
            with(vec![file("../evil.sh", "x")]),
            default,
            "../evil.sh",
        ),
        (
            "zip-slip deep",
            with(vec![file("a/../../evil", "x")]),
            default,
            "a/../../evil",
        ),
        (
            "absolute path",
            with(vec![file("/etc/evil", "x")]),
            default,
            "/etc/evil",
        ),
        (
            "zip-slip through a GNU long name",
            with(vec![
                Entry {
                    path: b"././@LongLink".to_vec(),
                    kind: EntryType::GNULongName,
                    data: b"../../evil\0".to_vec(),
                    link: None,
                    size: None,
                },
                file("README", "x"),
            ]),
            default,
            "../../evil",
        ),
        (
            "zip-slip through a pax path",
            with(vec![
                Entry {
                    path: b"pax".to_vec(),
                    kind: EntryType::XHeader,
                    data: b"16 path=../evil\n".to_vec(),
                    link: None,
                    size: None,
                },
                file("README", "x"),
            ]),
            default,
            "../evil",
        ),
        (
            "symlink",
            with(vec![special(
                "README",
                EntryType::Symlink,
                Some("/etc/passwd"),
            )]),
            default,
            "README",
        ),
        (
            "hard link",
            with(vec![special(
                "README",
                EntryType::Link,
                Some("plugin.toml"),
            )]),
            default,
            "README",
        ),
        (
            "device",
            with(vec![special("README", EntryType::Char, None)]),
            default,
            "README",
        ),
        (
            "fifo",
            with(vec![special("README", EntryType::Fifo, None)]),
            default,
            "README",
        ),
        (
            "duplicate",
            with(vec![file("plugin.toml", "again")]),
            default,
            "plugin.toml",
        ),
        ("duplicate ignoring case", dup_case, default, "HELLO.wasm"),
        (
            "file as directory",
            with(vec![file("hello.wasm/x", "x")]),
            default,
            "hello.wasm/x",
        ),
        (
            "not a package file",
            with(vec![file("run.sh", "x")]),
            default,
            "run.sh",
        ),
        ("no plugin.toml", no_manifest, default, "plugin.toml"),
        ("not gzip", plain_tar, default, "<archive>"),
        ("bomb over the total cap", big_bomb, default, "README"),
        (
            "member over its cap",
            with(vec![file("README", vec![b'x'; 70 << 10])]),
            small,
            "README",
        ),
        (
            "members over the total cap",
            with(vec![
                file("README", vec![b'x'; 60 << 10]),
                file("LICENSE", vec![b'x'; 60 << 10]),
                file("icon.png", vec![b'x'; 60 << 10]),
            ]),
            small,
            "",
        ),
        ("extended header bomb", pax_bomb, small, "<archive>"),
        (
            "too many entries",
            with((0..6).map(|i| file(&format!("README{i}"), "x")).collect()),
            small,
            "<archive>",
        ),
        (
            "archive over its cap",
            vec![0x1f; (1 << 20) + 1],
            small,
            "<archive>",
        ),
    ];

    let home_dir = tempfile::tempdir().unwrap();
    let home = Home::new(home_dir.path());
    // A plugin is already installed, so there is something a bad install could disturb.
    let installed = plugin_dir("example.hello", "0.0.1");
    install_dir(
        &home,
        installed.path(),
        &InstallOptions::new(SignaturePolicy::AllowUnsigned),
    )
    .unwrap();
    let before = listing(home_dir.path());

    for (name, bytes, limits, entry) in cases {
        let err = Package::from_bytes_with(&bytes, &limits).unwrap_err();
        assert_eq!(err.code(), Code::PackageRejected, "{name}: {err}");
        let PackageError::Rejected { entry: got, .. } = &err else {
            panic!("{name}: {err:?}");
        };
        if !entry.is_empty() {
            assert_eq!(got, entry, "{name}: {err}");
        }
        let mut opts = InstallOptions::new(SignaturePolicy::AllowUnsigned);
        opts.limits = limits;
        let err = install_bytes(&home, &bytes, None, &opts).unwrap_err();
        assert_eq!(err.code(), Code::PackageRejected, "{name}: {err}");
        assert_eq!(listing(home_dir.path()), before, "{name} changed the home");
    }
}

#[test]
fn a_valid_hand_made_archive_is_accepted() {
    // The negative cases above differ from this one only by their hostile entry.
    let bytes = archive(&valid_entries());
    let package = Package::from_bytes(&bytes).unwrap();
    assert_eq!(package.id().as_str(), "example.hello");
    assert_eq!(package.component_path(), Some("hello.wasm"));
    let with_dir = with(vec![special("docs/", EntryType::Directory, None)]);
    assert!(Package::from_bytes(&with_dir).is_ok());
}

#[test]
fn unpack_refuses_a_package_naming_a_missing_or_core_component() {
    let missing = archive(&[
        file("plugin.toml", manifest("example.hello", "0.1.0")),
        file("settings.schema.json", "{}"),
    ]);
    assert_eq!(
        Package::from_bytes(&missing).unwrap_err().code(),
        Code::MissingPackage
    );
    let core = archive(&[
        file("plugin.toml", manifest("example.hello", "0.1.0")),
        file("hello.wasm", b"\0asm\x01\0\0\0".to_vec()),
        file("settings.schema.json", "{}"),
    ]);
    assert_eq!(
        Package::from_bytes(&core).unwrap_err().code(),
        Code::NotAComponent
    );
}

#[test]
fn read_package_manifest_reads_plugin_toml_only_and_unpack_to_temp_cleans_up() {
    // A package whose component is not WebAssembly: its manifest can still be read (push),
    // but it cannot be unpacked (run, show).
    let mut entries: Vec<Entry> = valid_entries()
        .into_iter()
        .filter(|e| e.path != b"hello.wasm")
        .collect();
    entries.push(file("hello.wasm", "not wasm"));
    let fake = archive(&entries);
    let limits = UnpackLimits::default();
    let (text, manifest) = read_package_manifest(&fake, &limits).unwrap();
    assert!(text.contains("example.hello"), "{text}");
    assert_eq!(manifest.plugin.id.as_str(), "example.hello");
    let err = unpack_to_temp(&fake, &limits).unwrap_err();
    assert_eq!(err.code(), Code::NotAComponent, "{err}");

    let junk = read_package_manifest(b"not an archive", &limits).unwrap_err();
    assert_eq!(junk.code(), Code::PackageRejected, "{junk}");

    let good = archive(&valid_entries());
    let unpacked = unpack_to_temp(&good, &limits).unwrap();
    let dir = unpacked.dir().to_path_buf();
    assert!(dir.join("plugin.toml").is_file());
    assert_eq!(unpacked.package().id().as_str(), "example.hello");
    drop(unpacked);
    assert!(!dir.exists());
}
