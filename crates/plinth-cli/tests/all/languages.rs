//! The same test cases against the Rust, Python and JavaScript builds of the examples
//! (`count-vowels`, `hello`, `visits`; `examples/*-py`, `examples/*-js`). The kinds'
//! reference plugins use the same builds from `reference_kinds.rs`.
//!
//! The Python and JavaScript examples are built with the real `plinth build` (componentize-py,
//! componentize-js; `scripts/install-lang-tools` installs them) into
//! `$CARGO_TARGET_TMPDIR/languages/`, once per test binary, and only when their sources, the
//! PDKs or the WIT changed since the last run; their compiled code stays in the compile cache
//! there too. The Rust builds come from test-programs.
//!
//! Speed and memory figures of these builds come from the criterion bench
//! `benches/benches/languages.rs` (docs/performance.md), not from a test.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use plinth_host::log::{LogLevel, LogRecord, LogSink};
use plinth_host::{Host, Limits, LoadOptions, Plugin};
use plinth_manifest::grant::Grant;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Lang {
    Rust,
    Python,
    Js,
}

pub(crate) const LANGS: [Lang; 3] = [Lang::Rust, Lang::Python, Lang::Js];

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn work() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("languages")
}

fn records() -> &'static Mutex<Vec<LogRecord>> {
    static RECORDS: OnceLock<Mutex<Vec<LogRecord>>> = OnceLock::new();
    RECORDS.get_or_init(Default::default)
}

/// One host per test binary, with the compile cache `plinth build` filled.
pub(crate) fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| {
        let sink: LogSink = Arc::new(|record: &LogRecord| {
            records().lock().unwrap().push(record.clone());
        });
        Host::builder()
            .limits(Limits::default())
            .cache_dir(work().join("home/cache"))
            .log_sink(sink)
            .build()
            .expect("host")
    })
}

/// `examples/NAME` (Rust), `examples/NAME-py` or `examples/NAME-js` as a built plugin
/// directory. Python and JavaScript are built once per test binary, and reused across runs
/// while their inputs are unchanged.
pub(crate) fn built(name: &str, lang: Lang) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<(String, Lang), PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    // One build at a time: each compile takes ~300 MB and several seconds.
    let mut built = built.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(dir) = built.get(&(name.to_string(), lang)) {
        return dir.clone();
    }
    let (example, wasm) = match lang {
        Lang::Rust => (name.to_string(), None),
        Lang::Python => (format!("{name}-py"), Some("py")),
        Lang::Js => (format!("{name}-js"), Some("js")),
    };
    let source = repo().join("examples").join(&example);
    let stage = work().join(&example);
    let component = plinth_manifest::Manifest::load(&source)
        .unwrap()
        .manifest
        .runtime
        .unwrap()
        .component;
    match wasm {
        None => {
            std::fs::create_dir_all(&stage).unwrap();
            copy_files(&source, &stage);
            let rust = match name {
                "hello" => test_programs::HELLO,
                "visits" => test_programs::VISITS,
                "word-count" => test_programs::WORD_COUNT,
                "tool-guard" => test_programs::TOOL_GUARD,
                "greet" => test_programs::GREET,
                _ => test_programs::COUNT_VOWELS,
            };
            std::fs::copy(rust, stage.join(&component)).unwrap();
        }
        Some(_) => {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            test_programs::fingerprint(&source, &mut hasher);
            test_programs::fingerprint(&repo().join("pdk"), &mut hasher);
            test_programs::fingerprint(&repo().join("wit"), &mut hasher);
            let stamp = format!("{:016x}", hasher.finish());
            let stamp_file = stage.join(".inputs");
            let fresh = std::fs::read_to_string(&stamp_file).is_ok_and(|s| s == stamp)
                && stage.join(&component).is_file();
            if !fresh {
                let _ = std::fs::remove_dir_all(&stage);
                std::fs::create_dir_all(&stage).unwrap();
                copy_files(&source, &stage);
                let out = crate::common::plinth_command()
                    .arg("--home")
                    .arg(work().join("home"))
                    .arg("build")
                    .arg(&stage)
                    .env_remove("PLINTH_HOME")
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "`plinth build examples/{example}` failed; the CI installs the toolchains \
                     with `scripts/install-lang-tools`:\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                std::fs::write(&stamp_file, stamp).unwrap();
            }
        }
    }
    built.insert((name.to_string(), lang), stage.clone());
    stage
}

fn copy_files(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && path.extension().is_none_or(|e| e != "wasm") {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
}

pub(crate) fn load(name: &str, lang: Lang, grants: &[Grant], settings: Value) -> Plugin {
    host()
        .load_with(
            built(name, lang),
            LoadOptions::default()
                .with_grants(grants.iter().cloned())
                .with_settings(settings),
        )
        .unwrap_or_else(|e| panic!("{name} ({lang:?}): {e}"))
}

#[test]
fn count_vowels_behaves_the_same_in_every_language() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("examples/count-vowels/count_vowels.schema.json"))
            .unwrap(),
    )
    .unwrap();
    // (input text, expected call result)
    let cases: Vec<(Value, Value)> = vec![
        (json!({"text": "Plinth"}), json!({"ok": "{\"count\":1}"})),
        (
            json!({"text": "Hello World"}),
            json!({"ok": "{\"count\":3}"}),
        ),
        (
            json!({"text": "AEIOU aeiou xyz"}),
            json!({"ok": "{\"count\":10}"}),
        ),
        (json!({"text": ""}), json!({"ok": "{\"count\":0}"})),
        // Only ASCII vowels count.
        (json!({"text": "Ünïcöde é"}), json!({"ok": "{\"count\":1}"})),
        (
            json!({"txt": 1}),
            json!({"err": {"invalid-input": "expected an object with a string `text`"}}),
        ),
        (
            json!([1]),
            json!({"err": {"invalid-input": "expected an object with a string `text`"}}),
        ),
        (
            json!({"text": 5}),
            json!({"err": {"invalid-input": "expected an object with a string `text`"}}),
        ),
    ];
    for lang in LANGS {
        // Zero grants: the plugin loads and runs; its log records are dropped.
        let plugin = load("count-vowels", lang, &[], Value::Null);
        let tools = plugin.call_json("list-tools", &[]).unwrap();
        assert_eq!(tools.as_array().unwrap().len(), 1, "{lang:?}: {tools}");
        assert_eq!(tools[0]["name"], json!("count_vowels"), "{lang:?}");
        let listed: Value =
            serde_json::from_str(tools[0]["input-schema"].as_str().unwrap()).unwrap();
        assert_eq!(listed, schema, "{lang:?}: the listed schema is the file's");
        for (input, expected) in &cases {
            let result = plugin
                .call_json("call", &[json!("count_vowels"), json!(input.to_string())])
                .unwrap();
            assert_eq!(&result, expected, "{lang:?}: count_vowels({input})");
        }
        let unknown = plugin
            .call_json("call", &[json!("count_consonants"), json!("{}")])
            .unwrap();
        assert_eq!(
            unknown,
            json!({"err": {"unknown-tool": "count_consonants"}}),
            "{lang:?}"
        );
        let not_json = plugin
            .call_json("call", &[json!("count_vowels"), json!("not json")])
            .unwrap();
        assert!(
            not_json["err"]["invalid-input"].is_string(),
            "{lang:?}: {not_json}"
        );
    }
}

#[test]
fn hello_behaves_the_same_in_every_language() {
    // (grants, settings, args, expected result; `null`: whatever the Rust build returns)
    let howdy = json!({"greeting": "Howdy"});
    let cases: Vec<(&[Grant], Value, Vec<&str>, Value)> = vec![
        (&[], Value::Null, vec![], json!({"ok": "Hello, world!"})),
        (&[], Value::Null, vec!["Ada"], json!({"ok": "Hello, Ada!"})),
        (
            &[],
            Value::Null,
            vec!["echo", "a", "b"],
            json!({"ok": "a b"}),
        ),
        (&[], Value::Null, vec!["echo"], json!({"ok": ""})),
        // Settings are read only with the `config` grant.
        (
            &[],
            howdy.clone(),
            vec!["Ada"],
            json!({"ok": "Hello, Ada!"}),
        ),
        (
            &[Grant::Config],
            howdy.clone(),
            vec!["Ada", "Lovelace"],
            Value::Null,
        ),
        (
            &[Grant::Config, Grant::Log],
            json!({}),
            vec!["Ada"],
            json!({"ok": "Hello, Ada!"}),
        ),
    ];
    let mut reference = HashMap::new();
    for lang in LANGS {
        for (i, (grants, settings, args, expected)) in cases.iter().enumerate() {
            let plugin = load("hello", lang, grants, settings.clone());
            // A live instance: `on-load` ran and read the settings.
            let mut live = plugin.instantiate().unwrap();
            let result = live.call_json("run", &[json!(args)]).unwrap();
            let expected = if expected.is_null() {
                reference.entry(i).or_insert_with(|| result.clone()).clone()
            } else {
                expected.clone()
            };
            assert!(result["ok"].is_string(), "{lang:?}: {result}");
            assert_eq!(
                result, expected,
                "{lang:?}: run({args:?}) with {grants:?} and {settings}"
            );
        }
    }
}

#[test]
fn log_records_carry_the_plugin_id_in_every_language() {
    for lang in LANGS {
        let plugin = load("hello", lang, &[Grant::Log], Value::Null);
        let id = plugin.id().to_string();
        plugin.call_json("run", &[json!(["Grace"])]).unwrap();
        let seen = records().lock().unwrap().clone();
        assert!(
            seen.iter().any(|r| r.plugin == id
                && r.message == "greeting Grace"
                && r.level == LogLevel::Info),
            "{lang:?}: {seen:?}"
        );
        let silent = load("hello", lang, &[], Value::Null);
        let silent_id = silent.id().to_string();
        silent.call_json("run", &[json!(["Linus"])]).unwrap();
        let seen = records().lock().unwrap().clone();
        assert!(
            !seen
                .iter()
                .any(|r| r.plugin == silent_id && r.message == "greeting Linus"),
            "{lang:?}: a record without the `log` grant"
        );
    }
}

/// A host like [`host`] with a key-value store of its own, fresh in every test run.
fn kv_host() -> &'static Host {
    static HOST: OnceLock<(tempfile::TempDir, Host)> = OnceLock::new();
    &HOST
        .get_or_init(|| {
            let data = tempfile::tempdir().expect("data dir");
            let sink: LogSink = Arc::new(|record: &LogRecord| {
                records().lock().unwrap().push(record.clone());
            });
            let host = Host::builder()
                .cache_dir(work().join("home/cache"))
                .data_dir(data.path())
                .log_sink(sink)
                .build()
                .expect("host");
            (data, host)
        })
        .1
}

/// The `missing-grant` text a plugin without `kv` answers with, in every language.
fn missing_kv(id: &str) -> String {
    format!(
        "missing-grant: grant `kv` to {id}: `plinth grant {id} kv` (or `plinth call --grant kv …`); its manifest must request it too"
    )
}

/// One row of the visits table: grants, settings, arguments, expected answer.
type VisitCase<'a> = (&'a [Grant], Value, Vec<&'a str>, Option<&'a str>);

#[test]
fn visits_behaves_the_same_in_every_language() {
    let welcome = json!({"greeting": "Welcome"});
    let all = [Grant::Kv, Grant::Config, Grant::Log];
    // (grants, settings, args, expected: `Some(text)`, or `None` for the missing-grant text)
    // Every row is a new load: the counts live in the store, not in an instance.
    let cases: Vec<VisitCase> = vec![
        (
            &[Grant::Kv],
            Value::Null,
            vec!["Ada"],
            Some("Hello, Ada! Visit 1."),
        ),
        (
            &[Grant::Kv],
            Value::Null,
            vec!["Ada"],
            Some("Hello, Ada! Visit 2."),
        ),
        (
            &all,
            welcome.clone(),
            vec!["Ada"],
            Some("Welcome, Ada! Visit 3."),
        ),
        (
            &all,
            welcome.clone(),
            vec!["Bob"],
            Some("Welcome, Bob! Visit 1."),
        ),
        // Settings are read only with `config`.
        (
            &[Grant::Kv],
            welcome.clone(),
            vec!["Bob"],
            Some("Hello, Bob! Visit 2."),
        ),
        (
            &[Grant::Kv],
            Value::Null,
            vec![],
            Some("Hello, world! Visit 1."),
        ),
        (
            &[Grant::Kv],
            Value::Null,
            vec!["Ada", "L."],
            Some("Hello, Ada L.! Visit 1."),
        ),
        // Without `kv` the call fails with the hint, and counts nothing; zero grants load.
        (&[Grant::Config, Grant::Log], Value::Null, vec!["Ada"], None),
        (&[], Value::Null, vec!["Ada"], None),
        (
            &[Grant::Kv],
            Value::Null,
            vec!["Ada"],
            Some("Hello, Ada! Visit 4."),
        ),
    ];
    for lang in LANGS {
        let dir = built("visits", lang);
        for (grants, settings, args, expected) in &cases {
            let plugin = kv_host()
                .load_with(
                    &dir,
                    LoadOptions::default()
                        .with_grants(grants.iter().cloned())
                        .with_settings(settings.clone()),
                )
                .unwrap_or_else(|e| panic!("visits ({lang:?}): {e}"));
            let expected = match expected {
                Some(text) => json!({ "ok": text }),
                None => json!({ "err": missing_kv(plugin.id()) }),
            };
            let result = plugin.call_json("run", &[json!(args)]).unwrap();
            assert_eq!(
                result, expected,
                "{lang:?}: run({args:?}) with {grants:?} and {settings}"
            );
        }
        let id = plinth_manifest::Manifest::load(&dir)
            .unwrap()
            .manifest
            .plugin
            .id
            .to_string();
        let seen = records().lock().unwrap().clone();
        assert!(
            seen.iter()
                .any(|r| r.plugin == id && r.message == "visit Bob 1" && r.level == LogLevel::Info),
            "{lang:?}: {seen:?}"
        );
        // The same settings schema refuses a bad greeting before any code runs.
        let refused = kv_host()
            .load_with(
                &dir,
                LoadOptions::default()
                    .with_grants(all.iter().cloned())
                    .with_settings(json!({"greeting": 5})),
            )
            .unwrap_err();
        let diagnostic = plinth_manifest::diagnostic::ToDiagnostic::to_diagnostic(&refused);
        assert_eq!(
            diagnostic.code,
            plinth_manifest::Code::RejectedSchema,
            "{lang:?}"
        );
        assert!(
            diagnostic.message.contains("`/greeting`"),
            "{lang:?}: {diagnostic:?}"
        );
    }
}

#[test]
fn visits_counts_persist_across_processes_in_every_language() {
    for lang in LANGS {
        let dir = built("visits", lang);
        let home = tempfile::tempdir().unwrap();
        let call = |grants: &[&str]| -> Value {
            let mut command = crate::common::plinth_command();
            command
                .arg("--home")
                .arg(home.path())
                .arg("--json")
                .arg("call");
            for grant in grants {
                command.args(["--grant", grant]);
            }
            let out = command
                .arg(&dir)
                .args(["run", r#"["Ada"]"#])
                .env_remove("PLINTH_HOME")
                .output()
                .unwrap();
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{lang:?}: {e}: {out:?}"))
        };
        for n in 1..=3 {
            let doc = call(&["kv"]);
            assert_eq!(
                doc["result"],
                json!({"ok": format!("Hello, Ada! Visit {n}.")}),
                "{lang:?}: process {n}: {doc}"
            );
        }
        let doc = call(&[]);
        let err = doc["result"]["err"].as_str().unwrap_or_default();
        assert!(
            err.starts_with("missing-grant: ") && err.contains(" kv`"),
            "{lang:?}: {doc}"
        );
    }
}

#[test]
fn new_writes_a_python_or_js_project_and_a_missing_toolchain_is_a_coded_error() {
    let root = tempfile::tempdir().unwrap();
    for (lang, entry, pdk, variable, install) in [
        (
            "python",
            "app.py",
            "plinth_pdk/__init__.py",
            "PLINTH_COMPONENTIZE_PY",
            "pip install componentize-py==0.25.1",
        ),
        (
            "js",
            "app.js",
            "plinth-pdk.js",
            "PLINTH_COMPONENTIZE_JS",
            "@bytecodealliance/componentize-js@0.23.0",
        ),
    ] {
        let name = format!("x-{lang}");
        let out = crate::common::plinth_command()
            .args(["new", &name, "--lang", lang, "--kind", "plugin"])
            .current_dir(root.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let project = root.path().join(&name);
        for file in [
            entry,
            pdk,
            "plugin.toml",
            "wit/plinth-plugin@0.1.0/plugin.wit",
        ] {
            assert!(project.join(file).is_file(), "{lang}: {file}");
        }
        let manifest = std::fs::read_to_string(project.join("plugin.toml")).unwrap();
        assert!(manifest.contains("world = \"plugin\""), "{manifest}");

        let out = crate::common::plinth_command()
            .args(["--json", "build"])
            .arg(&project)
            .env(variable, root.path().join("no-such-tool"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{lang}: {out:?}");
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let diagnostic = &doc["diagnostics"][0];
        // A missing toolchain is a failed build, not a missing package.
        assert_eq!(diagnostic["code"], json!("build-failed"), "{doc}");
        assert!(
            diagnostic["hint"].as_str().unwrap().contains(install),
            "{lang}: {doc}"
        );
        assert!(!project.join(format!("x_{lang}.wasm")).exists());
    }
}
