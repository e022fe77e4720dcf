//! What `plinth new` writes for each kind, in each language: the templates under
//! `templates/`, embedded in the binary.

use clap::ValueEnum;

/// The kind of plugin a new project provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Kind {
    /// A tool with JSON input and output (`[[provides.tool]]`, world `plinth:tool/plugin`).
    Tool,
    /// A hook that allows, denies or modifies events at a hook point (`[[provides.hook]]`).
    Hook,
    /// A command: arguments in, text out (`[[provides.command]]`).
    Command,
    /// A command on the 0.1.0 world `plinth:plugin/plugin` (`runtime.world`).
    Plugin,
    /// A file loader: a file in, a typed table out, a page at a time
    /// (`[[provides.file-loader]]`).
    FileLoader,
    /// A file viewer: a file in, a UI node out (`[[provides.file-viewer]]`).
    FileViewer,
    /// An exporter: a table in, bytes in a declared format out (`[[provides.exporter]]`).
    Exporter,
    /// A data source: a panel of UI nodes, and tables a query selects
    /// (`[[provides.data-source]]`).
    DataSource,
    /// A theme provider: themes computed from the application's context
    /// (`[[provides.theme-provider]]`).
    ThemeProvider,
    /// A theme: a `theme.json` colour-token map with no component and no code
    /// (`[[provides.theme]]`); `--lang` does not apply.
    Theme,
    /// An event handler: object events in, ok / reject / retry out
    /// (`[[provides.event-handler]]`).
    EventHandler,
    /// An auth provider: a token in, an identity or a denial out
    /// (`[[provides.auth-provider]]`).
    AuthProvider,
    /// A policy hook: a request in, allow / deny / attributes to add out
    /// (`[[provides.policy-hook]]`).
    PolicyHook,
    /// A search analyzer: text in, tokens with positions and offsets out
    /// (`[[provides.search-analyzer]]`).
    SearchAnalyzer,
    /// A preview: bytes of a declared media type in, a PNG or text out
    /// (`[[provides.preview]]`).
    Preview,
    /// A content transform: an object streamed in, another streamed out with metadata
    /// (`[[provides.content-transform]]`).
    ContentTransform,
    /// A storage provider: objects put, got, listed and deleted by key over streams
    /// (`[[provides.storage-provider]]`).
    StorageProvider,
    /// A service: a long-lived instance fed from an ingress queue, answering with output
    /// commands (`[[provides.service]]`).
    Service,
}

/// The files and words of one kind's project.
#[derive(Debug)]
pub(super) struct KindFiles {
    /// `src/lib.rs` of a Rust project.
    pub rust: &'static str,
    /// `app.py` of a Python project.
    pub python: &'static str,
    /// `app.js` of a JavaScript project.
    pub js: &'static str,
    /// `plugin.toml`.
    pub manifest: &'static str,
    /// Files written as they are, in every language: (path, text).
    pub data: &'static [(&'static str, &'static str)],
    /// The Cargo dependencies besides `plinth-pdk`.
    pub rust_dependencies: &'static str,
    /// The command that tries the built template, with `{target}` for the project: the
    /// kind's own command (`plinth tool`, `plinth hook`) or `plinth call`. The templates log
    /// (their manifests request `log`), so it grants `log`: without the grant it would end
    /// with a `missing-grant` warning.
    pub try_it: &'static str,
    /// The WIT package folder the Python and JavaScript builds read.
    pub wit_package: &'static str,
    /// The README's first words: what the project is.
    pub summary: &'static str,
    /// The README's section on the kind.
    pub readme_section: &'static str,
}

const TRY_TOOL: &str = r#"plinth tool --grant log {target} word_count '{"text": "one two three"}'"#;
const TRY_HOOK: &str = r#"plinth hook --grant log --subject delete_file {target} before-tool-call '{"path": "/tmp/notes.txt"}'"#;
const TRY_COMMAND: &str = r#"plinth call --grant log {target} run '["you"]'"#;

const SERDE: &str = r#"serde = { version = "1", features = ["derive"] }"#;

const TOOL_SECTION: &str = "
## Test

`plinth test --conformance tool .` runs the `tool` kind's conformance cases against the
built component, and the examples of `conformance.toml` (each input with its exact output).
`list-tools` must report the tools of `plugin.toml`'s `[[provides.tool]]` entries, with the
same descriptions and the schemas of their files. See docs/authoring/tool.md.
";

const HOOK_SECTION: &str = "
## Test

`plinth test --conformance hook .` runs the `hook` kind's conformance cases against the
built component, and the examples of `conformance.toml` (each event with its decision).
The hook answers only at the points of `plugin.toml`'s `[[provides.hook]]` entries; the PDK
allows the others. See docs/authoring/hook.md.
";

const COMMAND_SECTION: &str = "
## Test

`plinth test --conformance command .` runs the `command` kind's conformance cases against
the built component, and the examples of `conformance.toml` (each argument list with its
output). See docs/authoring/command.md.
";

const PLUGIN_SECTION: &str = "
## The 0.1.0 form

This project implements the world `plinth:plugin/plugin@0.1.0`, named by `runtime.world`
in `plugin.toml`, which hosts keep serving. `plinth new --kind command` makes a command on
the `command` kind (`[[provides.command]]`), which `plinth test --conformance` checks.
";

/// The `plinth test` run that tries a Thoth kind's template: its conformance kit.
const TRY_FILE_LOADER: &str = "plinth test --conformance file-loader {target}";
const TRY_FILE_VIEWER: &str = "plinth test --conformance file-viewer {target}";
const TRY_EXPORTER: &str = "plinth test --conformance exporter {target}";
const TRY_DATA_SOURCE: &str = "plinth test --conformance data-source {target}";
const TRY_THEME_PROVIDER: &str = "plinth test --conformance theme-provider {target}";
const TRY_EVENT_HANDLER: &str = "plinth test --conformance event-handler {target}";
const TRY_AUTH_PROVIDER: &str = "plinth test --conformance auth-provider {target}";
const TRY_POLICY_HOOK: &str = "plinth test --conformance policy-hook {target}";
const TRY_SEARCH_ANALYZER: &str = "plinth test --conformance search-analyzer {target}";
const TRY_PREVIEW: &str = "plinth test --conformance preview {target}";
const TRY_CONTENT_TRANSFORM: &str = "plinth test --conformance content-transform {target}";
const TRY_STORAGE_PROVIDER: &str = "plinth test --conformance storage-provider {target}";
/// A service has no kit: `plinth show` prints its queue, overflow policy and attempts.
const TRY_SERVICE: &str = "plinth show {target}";

const SERVICE_SECTION: &str = "
## Run

A service runs inside an application that embeds Plinth: the host starts it, feeds it
ingress events (the application's own, WebSocket frames, HTTP requests) from a bounded
queue, one at a time, and carries out the commands it answers with once the plugin's
grants allow them. `plinth show .` prints the queue, its overflow policy and the attempts
before an event is dead-lettered. See docs/authoring/service.md.
";

/// The README section of a Thoth kind: its kit and its authoring page.
macro_rules! kit_section {
    ($kind:literal, $examples:literal) => {
        concat!(
            "\n## Test\n\n`plinth test --conformance ",
            $kind,
            " .` runs the `",
            $kind,
            "` kind's conformance cases against the\nbuilt component",
            $examples,
            ". See docs/authoring/",
            $kind,
            ".md.\n"
        )
    };
}

const FILE_LOADER_DATA: &[(&str, &str)] = &[(
    "conformance.toml",
    include_str!("../../../templates/kinds/file-loader/conformance.toml"),
)];

const FILE_VIEWER_DATA: &[(&str, &str)] = &[(
    "conformance.toml",
    include_str!("../../../templates/kinds/file-viewer/conformance.toml"),
)];

const EXPORTER_DATA: &[(&str, &str)] = &[(
    "conformance.toml",
    include_str!("../../../templates/kinds/exporter/conformance.toml"),
)];

const AUTH_PROVIDER_DATA: &[(&str, &str)] = &[(
    "conformance.toml",
    include_str!("../../../templates/kinds/auth-provider/conformance.toml"),
)];

const PREVIEW_DATA: &[(&str, &str)] = &[(
    "conformance.toml",
    include_str!("../../../templates/kinds/preview/conformance.toml"),
)];

const CONTENT_TRANSFORM_DATA: &[(&str, &str)] = &[(
    "conformance.toml",
    include_str!("../../../templates/kinds/content-transform/conformance.toml"),
)];

const TOOL_DATA: &[(&str, &str)] = &[
    (
        "word_count.schema.json",
        include_str!("../../../templates/kinds/tool/word_count.schema.json"),
    ),
    (
        "conformance.toml",
        include_str!("../../../templates/kinds/tool/conformance.toml"),
    ),
];

const HOOK_DATA: &[(&str, &str)] = &[(
    "conformance.toml",
    include_str!("../../../templates/kinds/hook/conformance.toml"),
)];

const COMMAND_DATA: &[(&str, &str)] = &[(
    "conformance.toml",
    include_str!("../../../templates/kinds/command/conformance.toml"),
)];

impl Kind {
    /// The `plugin.toml` of a Python or JavaScript project, when it is not the Rust one's:
    /// their content transform summarises its input instead of uppercasing it, since what
    /// those plugins write stays in their memory for the call (docs/design/0070).
    pub(super) fn script_manifest(self) -> Option<&'static str> {
        match self {
            Kind::ContentTransform => Some(include_str!(
                "../../../templates/kinds/content-transform/plugin-scripted.toml.tmpl"
            )),
            _ => None,
        }
    }

    /// The kind's templates.
    pub(super) fn files(self) -> KindFiles {
        match self {
            Kind::Tool => KindFiles {
                rust: include_str!("../../../templates/rust/lib-tool.rs.tmpl"),
                python: include_str!("../../../templates/python/app-tool.py.tmpl"),
                js: include_str!("../../../templates/js/app-tool.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/tool/plugin.toml.tmpl"),
                data: TOOL_DATA,
                rust_dependencies: SERDE,
                try_it: TRY_TOOL,
                wit_package: "plinth-tool@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) tool",
                readme_section: TOOL_SECTION,
            },
            Kind::Hook => KindFiles {
                rust: include_str!("../../../templates/rust/lib-hook.rs.tmpl"),
                python: include_str!("../../../templates/python/app-hook.py.tmpl"),
                js: include_str!("../../../templates/js/app-hook.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/hook/plugin.toml.tmpl"),
                data: HOOK_DATA,
                rust_dependencies: "",
                try_it: TRY_HOOK,
                wit_package: "plinth-hook@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) hook",
                readme_section: HOOK_SECTION,
            },
            Kind::Command => KindFiles {
                rust: include_str!("../../../templates/rust/lib-command.rs.tmpl"),
                python: include_str!("../../../templates/python/app-command.py.tmpl"),
                js: include_str!("../../../templates/js/app-command.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/command/plugin.toml.tmpl"),
                data: COMMAND_DATA,
                rust_dependencies: "",
                try_it: TRY_COMMAND,
                wit_package: "plinth-command@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) command",
                readme_section: COMMAND_SECTION,
            },
            Kind::Plugin => KindFiles {
                rust: include_str!("../../../templates/rust/lib-plugin.rs.tmpl"),
                python: include_str!("../../../templates/python/app-plugin.py.tmpl"),
                js: include_str!("../../../templates/js/app-plugin.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/plugin/plugin.toml.tmpl"),
                data: &[],
                rust_dependencies: "",
                try_it: TRY_COMMAND,
                wit_package: "plinth-plugin@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) command plugin (0.1.0 form)",
                readme_section: PLUGIN_SECTION,
            },
            Kind::FileLoader => KindFiles {
                rust: include_str!("../../../templates/rust/lib-file-loader.rs.tmpl"),
                python: include_str!("../../../templates/python/app-file-loader.py.tmpl"),
                js: include_str!("../../../templates/js/app-file-loader.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/file-loader/plugin.toml.tmpl"),
                data: FILE_LOADER_DATA,
                rust_dependencies: "",
                try_it: TRY_FILE_LOADER,
                wit_package: "plinth-file-loader@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) file loader",
                readme_section: kit_section!(
                    "file-loader",
                    ", and the examples of `conformance.toml` (each file with its columns, row count and first row)"
                ),
            },
            Kind::FileViewer => KindFiles {
                rust: include_str!("../../../templates/rust/lib-file-viewer.rs.tmpl"),
                python: include_str!("../../../templates/python/app-file-viewer.py.tmpl"),
                js: include_str!("../../../templates/js/app-file-viewer.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/file-viewer/plugin.toml.tmpl"),
                data: FILE_VIEWER_DATA,
                rust_dependencies: "",
                try_it: TRY_FILE_VIEWER,
                wit_package: "plinth-file-viewer@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) file viewer",
                readme_section: kit_section!(
                    "file-viewer",
                    ", and the examples of `conformance.toml` (a file of each declared format)"
                ),
            },
            Kind::Exporter => KindFiles {
                rust: include_str!("../../../templates/rust/lib-exporter.rs.tmpl"),
                python: include_str!("../../../templates/python/app-exporter.py.tmpl"),
                js: include_str!("../../../templates/js/app-exporter.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/exporter/plugin.toml.tmpl"),
                data: EXPORTER_DATA,
                rust_dependencies: "",
                try_it: TRY_EXPORTER,
                wit_package: "plinth-exporter@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) exporter",
                readme_section: kit_section!(
                    "exporter",
                    ", and the examples of `conformance.toml` (a table in each declared format, with its exact output)"
                ),
            },
            Kind::DataSource => KindFiles {
                rust: include_str!("../../../templates/rust/lib-data-source.rs.tmpl"),
                python: include_str!("../../../templates/python/app-data-source.py.tmpl"),
                js: include_str!("../../../templates/js/app-data-source.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/data-source/plugin.toml.tmpl"),
                data: &[],
                rust_dependencies: "",
                try_it: TRY_DATA_SOURCE,
                wit_package: "plinth-data-source@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) data source",
                readme_section: kit_section!(
                    "data-source",
                    " (its inputs are generic: no examples)"
                ),
            },
            Kind::Theme => KindFiles {
                rust: "",
                python: "",
                js: "",
                manifest: include_str!("../../../templates/kinds/theme/plugin.toml.tmpl"),
                data: &[(
                    "theme.json",
                    include_str!("../../../templates/kinds/theme/theme.json"),
                )],
                rust_dependencies: "",
                try_it: "plinth check {target}",
                wit_package: "",
                summary: "A [Plinth](https://example.org/plinth) theme",
                readme_section: "",
            },
            Kind::ThemeProvider => KindFiles {
                rust: include_str!("../../../templates/rust/lib-theme-provider.rs.tmpl"),
                python: include_str!("../../../templates/python/app-theme-provider.py.tmpl"),
                js: include_str!("../../../templates/js/app-theme-provider.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/theme-provider/plugin.toml.tmpl"),
                data: &[],
                rust_dependencies: "",
                try_it: TRY_THEME_PROVIDER,
                wit_package: "plinth-theme-provider@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) theme provider",
                readme_section: kit_section!(
                    "theme-provider",
                    " (its inputs are generic: no examples)"
                ),
            },
            Kind::EventHandler => KindFiles {
                rust: include_str!("../../../templates/rust/lib-event-handler.rs.tmpl"),
                python: include_str!("../../../templates/python/app-event-handler.py.tmpl"),
                js: include_str!("../../../templates/js/app-event-handler.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/event-handler/plugin.toml.tmpl"),
                data: &[],
                rust_dependencies: "",
                try_it: TRY_EVENT_HANDLER,
                wit_package: "plinth-event-handler@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) event handler",
                readme_section: kit_section!(
                    "event-handler",
                    " (its inputs are generic: no examples)"
                ),
            },
            Kind::AuthProvider => KindFiles {
                rust: include_str!("../../../templates/rust/lib-auth-provider.rs.tmpl"),
                python: include_str!("../../../templates/python/app-auth-provider.py.tmpl"),
                js: include_str!("../../../templates/js/app-auth-provider.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/auth-provider/plugin.toml.tmpl"),
                data: AUTH_PROVIDER_DATA,
                rust_dependencies: "",
                try_it: TRY_AUTH_PROVIDER,
                wit_package: "plinth-auth-provider@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) auth provider",
                readme_section: kit_section!(
                    "auth-provider",
                    ", and the examples of `conformance.toml` (tokens it accepts, with their identities)"
                ),
            },
            Kind::PolicyHook => KindFiles {
                rust: include_str!("../../../templates/rust/lib-policy-hook.rs.tmpl"),
                python: include_str!("../../../templates/python/app-policy-hook.py.tmpl"),
                js: include_str!("../../../templates/js/app-policy-hook.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/policy-hook/plugin.toml.tmpl"),
                data: &[],
                rust_dependencies: "",
                try_it: TRY_POLICY_HOOK,
                wit_package: "plinth-policy-hook@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) policy hook",
                readme_section: kit_section!(
                    "policy-hook",
                    " (its inputs are generic: no examples)"
                ),
            },
            Kind::SearchAnalyzer => KindFiles {
                rust: include_str!("../../../templates/rust/lib-search-analyzer.rs.tmpl"),
                python: include_str!("../../../templates/python/app-search-analyzer.py.tmpl"),
                js: include_str!("../../../templates/js/app-search-analyzer.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/search-analyzer/plugin.toml.tmpl"),
                data: &[],
                rust_dependencies: "",
                try_it: TRY_SEARCH_ANALYZER,
                wit_package: "plinth-search-analyzer@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) search analyzer",
                readme_section: kit_section!(
                    "search-analyzer",
                    " (its inputs are generic: no examples)"
                ),
            },
            Kind::Preview => KindFiles {
                rust: include_str!("../../../templates/rust/lib-preview.rs.tmpl"),
                python: include_str!("../../../templates/python/app-preview.py.tmpl"),
                js: include_str!("../../../templates/js/app-preview.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/preview/plugin.toml.tmpl"),
                data: PREVIEW_DATA,
                rust_dependencies: "",
                try_it: TRY_PREVIEW,
                wit_package: "plinth-preview@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) preview plugin",
                readme_section: kit_section!(
                    "preview",
                    ", and the examples of `conformance.toml` (content of each declared media type)"
                ),
            },
            Kind::ContentTransform => KindFiles {
                rust: include_str!("../../../templates/rust/lib-content-transform.rs.tmpl"),
                python: include_str!("../../../templates/python/app-content-transform.py.tmpl"),
                js: include_str!("../../../templates/js/app-content-transform.js.tmpl"),
                manifest: include_str!(
                    "../../../templates/kinds/content-transform/plugin.toml.tmpl"
                ),
                data: CONTENT_TRANSFORM_DATA,
                rust_dependencies: "",
                try_it: TRY_CONTENT_TRANSFORM,
                wit_package: "plinth-content-transform@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) content transform",
                readme_section: kit_section!(
                    "content-transform",
                    ", and the examples of `conformance.toml` (content of each declared media type)"
                ),
            },
            Kind::StorageProvider => KindFiles {
                rust: include_str!("../../../templates/rust/lib-storage-provider.rs.tmpl"),
                python: include_str!("../../../templates/python/app-storage-provider.py.tmpl"),
                js: include_str!("../../../templates/js/app-storage-provider.js.tmpl"),
                manifest: include_str!(
                    "../../../templates/kinds/storage-provider/plugin.toml.tmpl"
                ),
                data: &[],
                rust_dependencies: "",
                try_it: TRY_STORAGE_PROVIDER,
                wit_package: "plinth-storage-provider@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) storage provider",
                readme_section: kit_section!(
                    "storage-provider",
                    " (its inputs are generic: no examples)"
                ),
            },
            Kind::Service => KindFiles {
                rust: include_str!("../../../templates/rust/lib-service.rs.tmpl"),
                python: include_str!("../../../templates/python/app-service.py.tmpl"),
                js: include_str!("../../../templates/js/app-service.js.tmpl"),
                manifest: include_str!("../../../templates/kinds/service/plugin.toml.tmpl"),
                data: &[],
                rust_dependencies: "",
                try_it: TRY_SERVICE,
                wit_package: "plinth-service@0.1.0",
                summary: "A [Plinth](https://example.org/plinth) service",
                readme_section: SERVICE_SECTION,
            },
        }
    }
}
