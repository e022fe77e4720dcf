//! Helpers shared by the integration tests: plugin directories, hand-made archives, and a
//! listing of a home directory to prove a refusal changed nothing.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;
use plinth_manifest::Digest;

/// The smallest bytes the package format accepts as a component: the component header and
/// some payload.
pub fn component_bytes(payload: &[u8]) -> Vec<u8> {
    let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
    bytes.extend_from_slice(payload);
    bytes
}

pub fn manifest(id: &str, version: &str) -> String {
    format!(
        r#"[plugin]
id = "{id}"
version = "{version}"

[runtime]
kind = "wasm-component"
component = "hello.wasm"

[capabilities]
log = true
http = {{ allow = ["api.example.com"] }}

[settings]
schema = "settings.schema.json"
"#
    )
}

/// A plugin directory with a manifest, component, settings schema and README.
pub fn plugin_dir(id: &str, version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_plugin(dir.path(), id, version);
    dir
}

pub fn write_plugin(dir: &Path, id: &str, version: &str) {
    fs::write(dir.join("plugin.toml"), manifest(id, version)).unwrap();
    fs::write(dir.join("hello.wasm"), component_bytes(b"payload")).unwrap();
    fs::write(dir.join("settings.schema.json"), "{\"type\":\"object\"}").unwrap();
    fs::write(dir.join("README.md"), "# Hello\n").unwrap();
}

/// One hand-made tar entry.
pub struct Entry {
    pub path: Vec<u8>,
    pub kind: tar::EntryType,
    pub data: Vec<u8>,
    pub link: Option<&'static str>,
    /// Declared size, if different from the data length (only smaller makes sense).
    pub size: Option<u64>,
}

pub fn file(path: &str, data: impl Into<Vec<u8>>) -> Entry {
    Entry {
        path: path.as_bytes().to_vec(),
        kind: tar::EntryType::Regular,
        data: data.into(),
        link: None,
        size: None,
    }
}

pub fn special(path: &str, kind: tar::EntryType, link: Option<&'static str>) -> Entry {
    Entry {
        path: path.as_bytes().to_vec(),
        kind,
        data: Vec::new(),
        link,
        size: None,
    }
}

/// The entries of a valid package of `example.hello` 0.1.0.
pub fn valid_entries() -> Vec<Entry> {
    vec![
        file("plugin.toml", manifest("example.hello", "0.1.0")),
        file("hello.wasm", component_bytes(b"payload")),
        file("settings.schema.json", "{}"),
    ]
}

/// Writes entries into a gzip-compressed tar with raw headers, bypassing every check a tar
/// library would make, as a hostile packer would.
pub fn archive(entries: &[Entry]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    for entry in entries {
        write_entry(&mut gz, entry);
    }
    gz.write_all(&[0u8; 1024]).unwrap();
    gz.finish().unwrap()
}

pub fn write_entry(out: &mut impl Write, entry: &Entry) {
    let mut header = tar::Header::new_ustar();
    {
        let raw = header.as_ustar_mut().unwrap();
        raw.name[..entry.path.len()].copy_from_slice(&entry.path);
        if let Some(link) = entry.link {
            raw.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
    }
    header.set_entry_type(entry.kind);
    header.set_mode(0o644);
    header.set_size(entry.size.unwrap_or(entry.data.len() as u64));
    header.set_cksum();
    out.write_all(header.as_bytes()).unwrap();
    out.write_all(&entry.data).unwrap();
    let pad = (512 - entry.data.len() % 512) % 512;
    out.write_all(&vec![0u8; pad]).unwrap();
}

/// Every file and directory under `root` with a digest of each file's contents.
pub fn listing(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let entry = entry.unwrap();
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap().display().to_string();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            out.insert(rel, "dir".into());
            walk(root, &path, out);
        } else {
            out.insert(rel, Digest::of(&fs::read(&path).unwrap()).to_string());
        }
    }
}
