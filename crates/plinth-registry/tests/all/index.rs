//! The JSON index: parsing, search, resolution, and verified downloads from a static HTTP
//! server on 127.0.0.1 and from files.

use crate::support;

use std::collections::HashMap;
use std::sync::Mutex;

use crate::support::{StaticServer, make_package, sha256};
use plinth_manifest::Code;
use plinth_manifest::diagnostic::ToDiagnostic;
use plinth_registry::{
    Index, IndexLocation, PreReleases, Progress, RegistryClient, RegistryError, Silent, SizeCaps,
    Transport, parse_spec,
};
use semver::VersionReq;

const SIGNATURE: &str = "abcdef0123456789";

struct Fixture {
    server: StaticServer,
    packages: HashMap<&'static str, Vec<u8>>,
}

/// An index with two plugins; `hello` has 1.0.0, 1.1.0 and 2.0.0-beta.1.
fn fixture() -> Fixture {
    let mut packages = HashMap::new();
    for version in ["1.0.0", "1.1.0", "2.0.0-beta.1"] {
        packages.insert(
            version,
            make_package("example.hello", version, version.as_bytes()),
        );
    }
    let entry = |version: &str, extra: &str| {
        format!(
            r#"{{ "version": "{version}", "digest": "{}", "url": "pkgs/hello-{version}.plinth",
                 "capabilities": ["log", "http:api.example.com"] {extra} }}"#,
            sha256(&packages[version])
        )
    };
    let index = format!(
        r#"{{
          "schema_version": 1,
          "plugins": [
            {{ "id": "example.hello", "name": "Hello World", "description": "Greets PEOPLE",
               "versions": [
                 {},
                 {},
                 {}
               ] }},
            {{ "id": "acme.weather", "name": "Weather", "description": "Forecasts",
               "versions": [] }}
          ]
        }}"#,
        entry("1.0.0", &format!(r#", "signature": "{SIGNATURE}""#)),
        entry(
            "1.1.0",
            r#", "signature_url": "pkgs/hello-1.1.0.plinth.sig""#
        ),
        entry("2.0.0-beta.1", ""),
    );
    let mut files = HashMap::new();
    files.insert("/index.json".to_owned(), index.into_bytes());
    for (version, bytes) in &packages {
        files.insert(format!("/pkgs/hello-{version}.plinth"), bytes.clone());
    }
    files.insert(
        "/pkgs/hello-1.1.0.plinth.sig".to_owned(),
        format!("{SIGNATURE}\n").into_bytes(),
    );
    Fixture {
        server: StaticServer::start(files),
        packages,
    }
}

fn client() -> RegistryClient {
    RegistryClient::new(SizeCaps::default(), Transport::Auto).unwrap()
}

/// Records what the progress hook was told.
#[derive(Default)]
struct Recorder(Mutex<(Option<u64>, u64, u32)>);

impl Progress for Recorder {
    fn start(&self, _label: &str, total: Option<u64>) {
        self.0.lock().unwrap().0 = total;
    }
    fn advance(&self, bytes: u64) {
        self.0.lock().unwrap().1 += bytes;
    }
    fn finish(&self) {
        self.0.lock().unwrap().2 += 1;
    }
}

#[tokio::test]
async fn fetches_the_newest_matching_version_over_http_with_progress() {
    let f = fixture();
    let location = IndexLocation::parse(&f.server.url("index.json")).unwrap();
    let client = client();
    let index = client.load_index(&location).await.unwrap();
    assert!(index.parsed.warnings.is_empty());

    let recorder = Recorder::default();
    let fetched = client
        .fetch(
            &index,
            "example.hello",
            &VersionReq::STAR,
            PreReleases::Exclude,
            &recorder,
        )
        .await
        .unwrap();
    assert_eq!(fetched.version.to_string(), "1.1.0");
    assert_eq!(fetched.package, f.packages["1.1.0"]);
    assert_eq!(fetched.digest.to_string(), sha256(&f.packages["1.1.0"]));
    assert_eq!(
        fetched.signature.as_deref(),
        Some(SIGNATURE),
        "from signature_url"
    );
    assert_eq!(fetched.capabilities, ["log", "http:api.example.com"]);
    let (total, advanced, finished) = *recorder.0.lock().unwrap();
    assert_eq!(total, Some(f.packages["1.1.0"].len() as u64));
    assert_eq!(advanced, f.packages["1.1.0"].len() as u64);
    assert_eq!(finished, 1);

    let fetched = client
        .fetch(
            &index,
            "example.hello",
            &"~1.0".parse().unwrap(),
            PreReleases::Exclude,
            &Silent,
        )
        .await
        .unwrap();
    assert_eq!(fetched.version.to_string(), "1.0.0");
    assert_eq!(fetched.signature.as_deref(), Some(SIGNATURE), "inline");

    let fetched = client
        .fetch(
            &index,
            "example.hello",
            &VersionReq::STAR,
            PreReleases::Include,
            &Silent,
        )
        .await
        .unwrap();
    assert_eq!(fetched.version.to_string(), "2.0.0-beta.1");
    assert_eq!(fetched.package, f.packages["2.0.0-beta.1"]);
    assert_eq!(fetched.signature, None);
}

#[tokio::test]
async fn a_tampered_download_is_a_digest_mismatch() {
    let f = fixture();
    let mut tampered = f.packages["1.1.0"].clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    f.server.set("/pkgs/hello-1.1.0.plinth", tampered);

    let client = client();
    let location = IndexLocation::parse(&f.server.url("index.json")).unwrap();
    let index = client.load_index(&location).await.unwrap();
    let error = client
        .fetch(
            &index,
            "example.hello",
            &VersionReq::STAR,
            PreReleases::Exclude,
            &Silent,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, RegistryError::DigestMismatch { .. }),
        "{error}"
    );
    let diagnostic = error.to_diagnostic();
    assert_eq!(diagnostic.code, Code::DigestMismatch);
    assert_eq!(diagnostic.code.as_str(), "digest-mismatch");
}

#[tokio::test]
async fn downloads_over_the_cap_and_missing_files_are_refused() {
    let f = fixture();
    let location = IndexLocation::parse(&f.server.url("index.json")).unwrap();
    let small = RegistryClient::new(
        SizeCaps {
            package: 100,
            ..SizeCaps::default()
        },
        Transport::Auto,
    )
    .unwrap();
    let index = small.load_index(&location).await.unwrap();
    let error = small
        .fetch(
            &index,
            "example.hello",
            &VersionReq::STAR,
            PreReleases::Exclude,
            &Silent,
        )
        .await
        .unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::TooLarge, "{error}");

    f.server
        .files
        .lock()
        .unwrap()
        .remove("/pkgs/hello-1.1.0.plinth");
    let error = client()
        .fetch(
            &index,
            "example.hello",
            &VersionReq::STAR,
            PreReleases::Exclude,
            &Silent,
        )
        .await
        .unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::MissingPackage, "{error}");

    let tiny_index = RegistryClient::new(
        SizeCaps {
            index: 10,
            ..SizeCaps::default()
        },
        Transport::Auto,
    )
    .unwrap();
    let error = tiny_index.load_index(&location).await.unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::TooLarge, "{error}");

    let dead = IndexLocation::parse(&format!(
        "http://127.0.0.1:{}/index.json",
        support::free_port()
    ))
    .unwrap();
    let error = client().load_index(&dead).await.unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::RegistryError, "{error}");
}

#[tokio::test]
async fn a_file_index_resolves_paths_next_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let package = make_package("example.file", "0.1.0", b"wasm");
    std::fs::create_dir(dir.path().join("pkgs")).unwrap();
    std::fs::write(dir.path().join("pkgs/file.plinth"), &package).unwrap();
    let index = format!(
        r#"{{"schema_version": 1, "plugins": [{{"id": "example.file", "versions": [
            {{"version": "0.1.0", "digest": "{}", "url": "pkgs/file.plinth", "size": {}}}]}}]}}"#,
        sha256(&package),
        package.len()
    );
    std::fs::write(dir.path().join("index.json"), index).unwrap();

    let location = IndexLocation::parse(dir.path().join("index.json").to_str().unwrap()).unwrap();
    let client = client();
    let loaded = client.load_index(&location).await.unwrap();
    let fetched = client
        .fetch(
            &loaded,
            "example.file",
            &VersionReq::STAR,
            PreReleases::Exclude,
            &Silent,
        )
        .await
        .unwrap();
    assert_eq!(fetched.package, package);

    // A different package of the same size on disk: refused.
    let mut other = package.clone();
    other[10] ^= 0x55;
    std::fs::write(dir.path().join("pkgs/file.plinth"), &other).unwrap();
    let error = client
        .fetch(
            &loaded,
            "example.file",
            &VersionReq::STAR,
            PreReleases::Exclude,
            &Silent,
        )
        .await
        .unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::DigestMismatch);
}

#[test]
fn search_matches_id_name_and_description_case_insensitively() {
    let f = fixture();
    let json = f.server.files.lock().unwrap()["/index.json"].clone();
    let index = Index::parse(&json, "index.json").unwrap().index;
    let ids =
        |q: &str| -> Vec<String> { index.search(q).iter().map(|p| p.id.to_string()).collect() };
    assert_eq!(ids("hello"), ["example.hello"]);
    assert_eq!(ids("WORLD"), ["example.hello"]);
    assert_eq!(ids("people"), ["example.hello"]);
    assert_eq!(ids("forecast"), ["acme.weather"]);
    assert_eq!(ids(""), ["acme.weather", "example.hello"]);
    assert!(ids("nothing").is_empty());
}

#[test]
fn resolution_errors_name_the_plugin() {
    let f = fixture();
    let json = f.server.files.lock().unwrap()["/index.json"].clone();
    let index = Index::parse(&json, "index.json").unwrap().index;
    let error = index
        .resolve("example.nope", &VersionReq::STAR, PreReleases::Exclude)
        .unwrap_err();
    let diagnostic = error.to_diagnostic();
    assert_eq!(diagnostic.code, Code::MissingPackage);
    assert_eq!(diagnostic.plugin.as_deref(), Some("example.nope"));
    let error = index
        .resolve(
            "example.hello",
            &"^3".parse().unwrap(),
            PreReleases::Include,
        )
        .unwrap_err();
    assert!(
        error.to_string().contains("1.0.0, 1.1.0, 2.0.0-beta.1"),
        "{error}"
    );
    let error = index
        .resolve("acme.weather", &VersionReq::STAR, PreReleases::Exclude)
        .unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::MissingPackage);

    let (id, request) = parse_spec("example.hello@^1.1").unwrap();
    assert_eq!(id, "example.hello");
    assert_eq!(request, "^1.1".parse().unwrap());
    assert_eq!(parse_spec("example.hello").unwrap().1, VersionReq::STAR);
    assert_eq!(
        parse_spec("Bad Id@1").unwrap_err().to_diagnostic().code,
        Code::BadArgument
    );
}

const DIGEST: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

fn one_version(version_fields: &str) -> String {
    format!(
        r#"{{"schema_version": 1, "plugins": [{{"id": "a.b", "versions": [{{{version_fields}}}]}}]}}"#
    )
}

#[test]
fn malformed_indexes_are_invalid_index() {
    let ok = format!(r#""version": "1.0.0", "digest": "{DIGEST}", "url": "a.plinth""#);
    let cases = [
        "not json".to_owned(),
        r#"{"plugins": []}"#.to_owned(),
        r#"{"schema_version": 2, "plugins": []}"#.to_owned(),
        r#"{"schema_version": "1", "plugins": []}"#.to_owned(),
        r#"{"schema_version": 1, "plugins": {}}"#.to_owned(),
        one_version(r#""version": "1.0", "digest": "DIGEST", "url": "a""#),
        one_version(r#""version": "1.0.0", "digest": "sha256:12", "url": "a""#),
        one_version(&format!(
            r#""version": "1.0.0", "digest": "{DIGEST}", "url": 7"#
        )),
        one_version(&format!(
            r#""version": "1.0.0", "digest": "{DIGEST}", "url": " ""#
        )),
        one_version(&format!(r#"{ok}, "signature": "not hex""#)),
        one_version(&format!(
            r#"{ok}, "signature": "ab", "signature_url": "a.sig""#
        )),
        one_version(&format!(r#"{ok}, "capabilities": ["http"]"#)),
        one_version(&format!(r#"{ok}, "capabilities": "log""#)),
        one_version(&format!(r#"{ok}}}, {{{ok}"#)),
        r#"{"schema_version": 1, "plugins": [{"id": "a.b", "versions": []}, {"id": "a.b", "versions": []}]}"#
            .to_owned(),
        r#"{"schema_version": 1, "plugins": [{"id": "A B", "versions": []}]}"#.to_owned(),
        r#"{"schema_version": 1, "plugins": []} trailing"#.to_owned(),
    ];
    for case in &cases {
        let error = Index::parse(case.as_bytes(), "index.json").unwrap_err();
        assert!(
            matches!(error, RegistryError::InvalidIndex { .. }),
            "{case}: {error}"
        );
        assert_eq!(error.to_diagnostic().code, Code::InvalidIndex, "{case}");
    }
    assert!(Index::parse(one_version(&ok).as_bytes(), "index.json").is_ok());
}

#[test]
fn unknown_fields_are_warnings() {
    let json = format!(
        r#"{{"schema_version": 1, "generated": "today", "plugins": [{{"id": "a.b", "homepage": "x",
            "versions": [{{"version": "1.0.0", "digest": "{DIGEST}", "url": "a", "yanked": false}}]}}]}}"#
    );
    let parsed = Index::parse(json.as_bytes(), "index.json").unwrap();
    let messages: Vec<String> = parsed.warnings.iter().map(|w| w.message.clone()).collect();
    assert_eq!(parsed.warnings.len(), 3, "{messages:?}");
    assert!(parsed.warnings.iter().all(|w| w.code == Code::UnknownKey));
    assert!(messages.iter().any(|m| m.contains("generated")));
    assert!(
        messages.iter().any(|m| m.contains("plugins.0.homepage")),
        "{messages:?}"
    );
    assert!(messages.iter().any(|m| m.contains("yanked")));
}

#[test]
fn index_locations() {
    assert!(matches!(
        IndexLocation::parse("https://plugins.example.org/index.json").unwrap(),
        IndexLocation::Url(_)
    ));
    assert!(matches!(
        IndexLocation::parse("./index.json").unwrap(),
        IndexLocation::File(_)
    ));
    assert!(matches!(
        IndexLocation::parse("file:///srv/index.json").unwrap(),
        IndexLocation::File(p) if p.to_str() == Some("/srv/index.json")
    ));
    let error = IndexLocation::parse("ftp://x/index.json").unwrap_err();
    assert_eq!(error.to_diagnostic().code, Code::BadArgument);
}
