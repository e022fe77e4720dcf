//! `export!` for the kind worlds, and `export_command!` and `export_tool!`, the 0.1.0 form.
//!
//! Each expands, in the plugin's crate, to the bindings of exactly the worlds it exports (so
//! the component's type describes only the exports it has), `Guest` impls that forward to
//! the PDK traits, and wit-bindgen's `export!`. They take a type name (an identifier), as
//! wit-bindgen's `export!` does, and need the dependency to be called `plinth-pdk`.

/// Exports a plugin type as a component providing one or more kinds.
///
/// `export!(T: tool)` makes a component of world `plinth:tool/plugin@0.1.0`, `export!(T:
/// hook)` of `plinth:hook/plugin@0.1.0`, `export!(T: command)` of
/// `plinth:command/plugin@0.1.0`, and likewise `file_loader`, `file_viewer`, `exporter`,
/// `data_source`, `theme_provider` and `service` (traits [`FileLoader`](crate::FileLoader),
/// [`FileViewer`](crate::FileViewer), [`Exporter`](crate::Exporter),
/// [`DataSource`](crate::DataSource), [`ThemeProvider`](crate::ThemeProvider)),
/// BitVault's `event_handler`, `auth_provider`, `policy_hook`, `search_analyzer` and
/// `preview` ([`EventHandler`](crate::EventHandler), [`AuthProvider`](crate::AuthProvider),
/// [`PolicyHook`](crate::PolicyHook), [`SearchAnalyzer`](crate::SearchAnalyzer),
/// [`Preview`](crate::Preview)), the streaming `content_transform` and `storage_provider`
/// ([`ContentTransform`](crate::ContentTransform),
/// [`StorageProvider`](crate::StorageProvider)), and `service` ([`Service`](crate::Service)); `export!(T: tool, hook)` exports `lifecycle` once and the
/// interface of every kind named, the kinds a manifest's `[[provides.tool]]` and
/// `[[provides.hook]]` entries declare. `T` implements [`Plugin`](crate::Plugin) and the
/// trait of each kind: [`Tool`](crate::Tool), [`Hook`](crate::Hook),
/// [`Command`](crate::Command).
///
/// Call it once per component, at module level.
///
/// ```no_run
/// use plinth_pdk::prelude::*;
///
/// struct Greeter;
///
/// impl Plugin for Greeter {}
///
/// impl Command for Greeter {
///     fn run(args: Vec<String>) -> Result<String, String> {
///         Ok(format!("Hello, {}!", args.join(" ")))
///     }
/// }
///
/// impl Hook for Greeter {
///     const POINTS: &'static [&'static str] = &["before-greeting"];
///
///     fn handle(_event: HookEvent) -> Decision {
///         Decision::Allow
///     }
/// }
///
/// plinth_pdk::export!(Greeter: command, hook);
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! export {
    ($plugin:ident : $first:ident $(, $rest:ident)* $(,)?) => {
        #[doc(hidden)]
        #[allow(unsafe_code, missing_docs, unreachable_pub, clippy::all)]
        mod __plinth_kinds {
            pub mod $first {
                $crate::__kind_bindings!($first, world);
            }
            $(
                pub mod $rest {
                    $crate::__kind_bindings!($rest, exports);
                }
            )*
        }

        #[doc(hidden)]
        #[allow(unsafe_code)]
        const _: () = {
            $crate::__impl_lifecycle!($plugin, __plinth_kinds::$first);
            $crate::__impl_kind!($first, $plugin, __plinth_kinds::$first);
            $( $crate::__impl_kind!($rest, $plugin, __plinth_kinds::$rest); )*

            __plinth_kinds::$first::export!($plugin with_types_in __plinth_kinds::$first);
            $( __plinth_kinds::$rest::export!($plugin with_types_in __plinth_kinds::$rest); )*
        };
    };
}

/// The `Guest` impl of one kind's interface, forwarding to the kind's PDK trait.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_kind {
    (command, $plugin:ident, $($bindings:ident)::+) => {
        impl $($bindings)::+::exports::plinth::command::command::Guest for $plugin {
            fn run(
                args: ::std::vec::Vec<::std::string::String>,
            ) -> ::std::result::Result<::std::string::String, ::std::string::String> {
                <$plugin as $crate::Command>::run(args)
            }
        }
    };
    (tool, $plugin:ident, $($bindings:ident)::+) => {
        impl $($bindings)::+::exports::plinth::tool::tool::Guest for $plugin {
            fn list_tools() -> ::std::vec::Vec<$($bindings)::+::exports::plinth::tool::tool::ToolInfo> {
                $crate::__rt::tool_rows::<$plugin>()
                    .into_iter()
                    .map(|(name, description, input_schema, output_schema)| {
                        $($bindings)::+::exports::plinth::tool::tool::ToolInfo {
                            name,
                            description,
                            input_schema,
                            output_schema,
                        }
                    })
                    .collect()
            }

            fn call(
                name: ::std::string::String,
                input: ::std::string::String,
            ) -> ::std::result::Result<
                ::std::string::String,
                $($bindings)::+::exports::plinth::tool::tool::ToolError,
            > {
                use $($bindings)::+::exports::plinth::tool::tool::ToolError as Wire;
                $crate::__rt::call_listed_tool::<$plugin>(&name, &input).map_err(|err| match err {
                    $crate::ToolError::UnknownTool(why) => Wire::UnknownTool(why),
                    $crate::ToolError::InvalidInput(why) => Wire::InvalidInput(why),
                    $crate::ToolError::Failed(why) => Wire::Failed(why),
                })
            }
        }
    };
    (hook, $plugin:ident, $($bindings:ident)::+) => {
        impl $($bindings)::+::exports::plinth::hook::hook::Guest for $plugin {
            fn handle(
                event: $($bindings)::+::exports::plinth::hook::hook::HookEvent,
            ) -> $($bindings)::+::exports::plinth::hook::hook::Decision {
                use $($bindings)::+::exports::plinth::hook::hook::Decision as Wire;
                match $crate::__rt::handle_hook::<$plugin>(event.point, event.subject, event.payload) {
                    $crate::__rt::HookAnswer::Allow => Wire::Allow,
                    $crate::__rt::HookAnswer::Deny(reason) => Wire::Deny(reason),
                    $crate::__rt::HookAnswer::Modify(payload) => Wire::Modify(payload),
                }
            }
        }
    };
    (file_loader, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::file_loader::file_loader as wire;
            $crate::__table_wire!(wire);

            fn source(src: wire::Source) -> $crate::Source {
                match src {
                    wire::Source::Bytes(bytes) => $crate::Source::Bytes(bytes),
                    wire::Source::Path(path) => $crate::Source::Path(path),
                }
            }

            fn error(err: $crate::LoadError) -> wire::LoadError {
                match err {
                    $crate::LoadError::UnknownFormat(why) => wire::LoadError::UnknownFormat(why),
                    $crate::LoadError::InvalidData(why) => wire::LoadError::InvalidData(why),
                    $crate::LoadError::Io(why) => wire::LoadError::Io(why),
                    $crate::LoadError::Failed(why) => wire::LoadError::Failed(why),
                }
            }

            impl wire::Guest for $plugin {
                fn open(
                    format: ::std::string::String,
                    src: wire::Source,
                ) -> ::std::result::Result<wire::TableInfo, wire::LoadError> {
                    $crate::__rt::loader_open::<$plugin>(&format, source(src))
                        .map(|info| wire::TableInfo {
                            columns: info.columns.into_iter().map(column_to_wire).collect(),
                            row_count: info.row_count,
                        })
                        .map_err(error)
                }

                fn read_rows(
                    format: ::std::string::String,
                    src: wire::Source,
                    cursor: u64,
                    max_rows: u32,
                ) -> ::std::result::Result<wire::Page, wire::LoadError> {
                    $crate::__rt::loader_read_rows::<$plugin>(&format, source(src), cursor, max_rows)
                        .map(|page| wire::Page {
                            rows: page
                                .rows
                                .into_iter()
                                .map(|row| row.into_iter().map(cell_to_wire).collect())
                                .collect(),
                            next: page.next,
                        })
                        .map_err(error)
                }
            }
        };
    };
    (file_viewer, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::file_viewer::file_viewer as wire;

            impl wire::Guest for $plugin {
                fn view(
                    format: ::std::string::String,
                    src: wire::Source,
                ) -> ::std::result::Result<wire::UiOutput, wire::ViewError> {
                    let source = match src {
                        wire::Source::Bytes(bytes) => $crate::Source::Bytes(bytes),
                        wire::Source::Path(path) => $crate::Source::Path(path),
                    };
                    $crate::__rt::viewer_view::<$plugin>(&format, source)
                        .map(|(node_json, height_hint)| wire::UiOutput { node_json, height_hint })
                        .map_err(|err| match err {
                            $crate::ViewError::UnknownFormat(why) => wire::ViewError::UnknownFormat(why),
                            $crate::ViewError::InvalidData(why) => wire::ViewError::InvalidData(why),
                            $crate::ViewError::Io(why) => wire::ViewError::Io(why),
                            $crate::ViewError::Failed(why) => wire::ViewError::Failed(why),
                        })
                }
            }
        };
    };
    (exporter, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::exporter::exporter as wire;
            $crate::__table_wire!(wire);

            impl wire::Guest for $plugin {
                fn export(
                    format: ::std::string::String,
                    data: wire::Table,
                ) -> ::std::result::Result<::std::vec::Vec<u8>, wire::ExportError> {
                    let table = $crate::Table {
                        columns: data.columns.into_iter().map(column_from_wire).collect(),
                        rows: data
                            .rows
                            .into_iter()
                            .map(|row| row.into_iter().map(cell_from_wire).collect())
                            .collect(),
                    };
                    $crate::__rt::exporter_export::<$plugin>(&format, table).map_err(|err| match err {
                        $crate::ExportError::UnknownFormat(why) => wire::ExportError::UnknownFormat(why),
                        $crate::ExportError::Unsupported(why) => wire::ExportError::Unsupported(why),
                        $crate::ExportError::Failed(why) => wire::ExportError::Failed(why),
                    })
                }
            }
        };
    };
    (data_source, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::data_source::data_source as wire;
            $crate::__table_wire!(wire);

            fn error(err: $crate::PluginError) -> wire::PluginError {
                wire::PluginError { code: err.code, message: err.message }
            }

            fn output((node_json, height_hint): (::std::string::String, u32)) -> wire::UiOutput {
                wire::UiOutput { node_json, height_hint }
            }

            impl wire::Guest for $plugin {
                fn render_ui() -> ::std::result::Result<wire::UiOutput, wire::PluginError> {
                    $crate::__rt::source_render_ui::<$plugin>().map(output).map_err(error)
                }

                fn handle_event(
                    event: wire::UiEvent,
                ) -> ::std::result::Result<wire::UiOutput, wire::PluginError> {
                    let event = $crate::UiEvent {
                        widget_id: event.widget_id,
                        kind: match event.kind {
                            wire::EventKind::Click => $crate::UiEventKind::Click,
                            wire::EventKind::Change => $crate::UiEventKind::Change,
                            wire::EventKind::HttpResponse => $crate::UiEventKind::HttpResponse,
                            wire::EventKind::Notify => $crate::UiEventKind::Notify,
                        },
                        value: event.value,
                    };
                    $crate::__rt::source_handle_event::<$plugin>(event).map(output).map_err(error)
                }

                fn render_sidebar(
                ) -> ::std::result::Result<::std::option::Option<wire::UiOutput>, wire::PluginError> {
                    $crate::__rt::source_render_sidebar::<$plugin>()
                        .map(|node| node.map(output))
                        .map_err(error)
                }

                fn open(
                    query: ::std::string::String,
                ) -> ::std::result::Result<wire::TableInfo, wire::PluginError> {
                    $crate::__rt::source_open::<$plugin>(&query)
                        .map(|info| wire::TableInfo {
                            columns: info.columns.into_iter().map(column_to_wire).collect(),
                            row_count: info.row_count,
                        })
                        .map_err(error)
                }

                fn read_rows(
                    query: ::std::string::String,
                    cursor: u64,
                    max_rows: u32,
                ) -> ::std::result::Result<wire::Page, wire::PluginError> {
                    $crate::__rt::source_read_rows::<$plugin>(&query, cursor, max_rows)
                        .map(|page| wire::Page {
                            rows: page
                                .rows
                                .into_iter()
                                .map(|row| row.into_iter().map(cell_to_wire).collect())
                                .collect(),
                            next: page.next,
                        })
                        .map_err(error)
                }
            }
        };
    };
    (theme_provider, $plugin:ident, $($bindings:ident)::+) => {
        impl $($bindings)::+::exports::plinth::theme_provider::theme_provider::Guest for $plugin {
            fn provide(
                name: ::std::string::String,
                context: ::std::string::String,
            ) -> ::std::result::Result<::std::string::String, ::std::string::String> {
                $crate::__rt::theme_provide::<$plugin>(&name, &context)
            }
        }
    };
    (service, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::service::service as wire;

            fn headers(list: ::std::vec::Vec<(::std::string::String, ::std::string::String)>) -> ::std::vec::Vec<wire::Header> {
                list.into_iter().map(|(name, value)| wire::Header { name, value }).collect()
            }

            fn frame(frame: $crate::Frame) -> wire::Frame {
                match frame {
                    $crate::Frame::Text(text) => wire::Frame::Text(text),
                    $crate::Frame::Binary(bytes) => wire::Frame::Binary(bytes),
                }
            }

            fn command(command: $crate::ServiceCommand) -> wire::Command {
                match command {
                    $crate::ServiceCommand::SendFrame { connection, frame: f } => {
                        wire::Command::SendFrame(wire::SendFrame { connection, frame: frame(f) })
                    }
                    $crate::ServiceCommand::Close { connection, code, reason } => {
                        wire::Command::Close(wire::CloseConnection { connection, code, reason })
                    }
                    $crate::ServiceCommand::Publish { channel, payload } => {
                        wire::Command::Publish(wire::Publish { channel, payload })
                    }
                    $crate::ServiceCommand::HttpRequest { tag, method, url, headers: h, body } => {
                        wire::Command::HttpRequest(wire::HttpRequest {
                            tag,
                            method,
                            url,
                            headers: headers(h),
                            body,
                        })
                    }
                    $crate::ServiceCommand::Action { name, scope, payload } => {
                        wire::Command::Action(wire::Action {
                            name,
                            scope,
                            payload: payload.to_string(),
                        })
                    }
                }
            }

            impl wire::Guest for $plugin {
                fn start() -> ::std::result::Result<(), ::std::string::String> {
                    <$plugin as $crate::Service>::start()
                }

                fn handle(event: wire::IngressEvent) -> wire::Handled {
                    let event = $crate::IngressEvent {
                        sequence: event.sequence,
                        attempt: event.attempt,
                        source: event.source,
                        kind: event.kind,
                        connection: event.connection,
                        connection_sequence: event.connection_sequence,
                        meta: $crate::serde_json::from_str(&event.meta)
                            .unwrap_or($crate::serde_json::Value::Null),
                        body: event.body,
                    };
                    let handled = <$plugin as $crate::Service>::handle(event);
                    wire::Handled {
                        outcome: match handled.outcome {
                            $crate::Outcome::Ok => wire::Outcome::Ok,
                            $crate::Outcome::Reject(reason) => wire::Outcome::Reject(reason),
                            $crate::Outcome::Retry(ms) => wire::Outcome::Retry(ms),
                        },
                        commands: handled.commands.into_iter().map(command).collect(),
                        reply: handled.reply.map(|reply| wire::Reply {
                            status: reply.status,
                            headers: headers(reply.headers),
                            body: reply.body,
                        }),
                    }
                }

                fn stop() {
                    <$plugin as $crate::Service>::stop()
                }
            }
        };
    };
    (event_handler, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::event_handler::event_handler as wire;
            impl wire::Guest for $plugin {
                fn handle(event: wire::ObjectEvent) -> wire::Outcome {
                    let event = $crate::ObjectEvent {
                        id: event.id,
                        action: match event.action {
                            wire::Action::Created => $crate::ObjectAction::Created,
                            wire::Action::Updated => $crate::ObjectAction::Updated,
                            wire::Action::Deleted => $crate::ObjectAction::Deleted,
                        },
                        tenant: event.tenant,
                        path: event.path,
                        size: event.size,
                        media_type: event.media_type,
                        digest: event.digest,
                        at_ms: event.at_ms,
                        attributes: event.attributes,
                    };
                    match <$plugin as $crate::EventHandler>::handle(event) {
                        $crate::EventOutcome::Ok => wire::Outcome::Ok,
                        $crate::EventOutcome::Reject(reason) => wire::Outcome::Reject(reason),
                        $crate::EventOutcome::Retry(ms) => wire::Outcome::Retry(ms),
                    }
                }
            }
        };
    };
    (auth_provider, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::auth_provider::auth_provider as wire;
            impl wire::Guest for $plugin {
                fn authenticate(
                    token: ::std::string::String,
                ) -> ::std::result::Result<wire::Identity, wire::Denial> {
                    match <$plugin as $crate::AuthProvider>::authenticate(&token) {
                        Ok(identity) => Ok(wire::Identity {
                            subject: identity.subject,
                            tenant: identity.tenant,
                            claims: identity.claims,
                        }),
                        Err($crate::AuthDenial::Denied(why)) => Err(wire::Denial::Denied(why)),
                        Err($crate::AuthDenial::Unavailable(why)) => {
                            Err(wire::Denial::Unavailable(why))
                        }
                    }
                }
            }
        };
    };
    (policy_hook, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::policy_hook::policy_hook as wire;
            impl wire::Guest for $plugin {
                fn decide(request: wire::Request) -> wire::Decision {
                    let request = $crate::PolicyRequest {
                        operation: request.operation,
                        subject: request.subject,
                        tenant: request.tenant,
                        path: request.path,
                        attributes: request.attributes,
                    };
                    match <$plugin as $crate::PolicyHook>::decide(request) {
                        $crate::PolicyDecision::Allow => wire::Decision::Allow,
                        $crate::PolicyDecision::Deny(why) => wire::Decision::Deny(why),
                        $crate::PolicyDecision::Add(attributes) => wire::Decision::Add(attributes),
                    }
                }
            }
        };
    };
    (search_analyzer, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::search_analyzer::search_analyzer as wire;
            impl wire::Guest for $plugin {
                fn analyze(
                    analyzer: ::std::string::String,
                    text: ::std::string::String,
                ) -> ::std::result::Result<::std::vec::Vec<wire::Token>, wire::AnalyzeError> {
                    match $crate::__rt::analyzer_analyze::<$plugin>(&analyzer, &text) {
                        Ok(tokens) => Ok(tokens
                            .into_iter()
                            .map(|t| wire::Token {
                                term: t.term,
                                position: t.position,
                                start: t.start,
                                end: t.end,
                            })
                            .collect()),
                        Err(None) => Err(wire::AnalyzeError::UnknownAnalyzer(analyzer)),
                        Err(Some(why)) => Err(wire::AnalyzeError::Failed(why)),
                    }
                }
            }
        };
    };
    (preview, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::preview::preview as wire;
            impl wire::Guest for $plugin {
                fn render(
                    media_type: ::std::string::String,
                    data: ::std::vec::Vec<u8>,
                ) -> ::std::result::Result<wire::Preview, wire::PreviewError> {
                    match $crate::__rt::preview_render::<$plugin>(&media_type, &data) {
                        Ok($crate::PreviewOutput::Png { data, width, height }) => {
                            Ok(wire::Preview::Image(wire::Image {
                                media_type: "image/png".into(),
                                data,
                                width,
                                height,
                            }))
                        }
                        Ok($crate::PreviewOutput::Text(text)) => Ok(wire::Preview::Text(text)),
                        Err(None) => Err(wire::PreviewError::Unsupported(::std::format!(
                            "no preview of `{media_type}`"
                        ))),
                        Err(Some($crate::PreviewError::InvalidData(why))) => {
                            Err(wire::PreviewError::InvalidData(why))
                        }
                        Err(Some($crate::PreviewError::Failed(why))) => {
                            Err(wire::PreviewError::Failed(why))
                        }
                    }
                }
            }
        };
    };
    (content_transform, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::content_transform::content_transform as wire;
            fn request(request: wire::Request) -> $crate::TransformRequest {
                $crate::TransformRequest {
                    media_type: request.media_type,
                    size: request.size,
                    params: request.params.into_iter().map(|e| (e.key, e.value)).collect(),
                }
            }
            fn answer<T>(
                media_type: &str,
                result: ::std::result::Result<T, ::std::option::Option<$crate::TransformError>>,
            ) -> ::std::result::Result<T, wire::TransformError> {
                result.map_err(|error| match error {
                    None => wire::TransformError::UnsupportedMediaType(::std::format!(
                        "no transform of `{media_type}`"
                    )),
                    Some($crate::TransformError::InvalidInput(why)) => {
                        wire::TransformError::InvalidInput(why)
                    }
                    Some($crate::TransformError::Failed(why)) => wire::TransformError::Failed(why),
                })
            }
            fn meta(output: $crate::TransformOutput) -> wire::OutputMeta {
                wire::OutputMeta {
                    media_type: output.media_type,
                    entries: output
                        .entries
                        .into_iter()
                        .map(|(key, value)| wire::Entry { key, value })
                        .collect(),
                }
            }
            impl wire::Guest for $plugin {
                fn transform(
                    request_: wire::Request,
                    input: &$crate::__rt::io::streams::InputStream,
                    output: &$crate::__rt::io::streams::OutputStream,
                ) -> ::std::result::Result<wire::OutputMeta, wire::TransformError> {
                    let request = request(request_);
                    let result = $crate::__rt::transform_stream::<$plugin>(&request, input, output);
                    answer(&request.media_type, result).map(meta)
                }

                fn transform_bytes(
                    request_: wire::Request,
                    input: ::std::vec::Vec<u8>,
                ) -> ::std::result::Result<(wire::OutputMeta, ::std::vec::Vec<u8>), wire::TransformError> {
                    let request = request(request_);
                    let result = $crate::__rt::transform_bytes::<$plugin>(&request, &input);
                    answer(&request.media_type, result).map(|(m, bytes)| (meta(m), bytes))
                }
            }
        };
    };
    (storage_provider, $plugin:ident, $($bindings:ident)::+) => {
        const _: () = {
            use $($bindings)::+::exports::plinth::storage_provider::storage_provider as wire;
            fn error(error: $crate::StorageError) -> wire::StorageError {
                match error {
                    $crate::StorageError::NotFound(why) => wire::StorageError::NotFound(why),
                    $crate::StorageError::InvalidKey(why) => wire::StorageError::InvalidKey(why),
                    $crate::StorageError::TooLarge(why) => wire::StorageError::TooLarge(why),
                    $crate::StorageError::Conflict(why) => wire::StorageError::Conflict(why),
                    $crate::StorageError::Backend(why) => wire::StorageError::Backend(why),
                }
            }
            fn meta(meta: $crate::ObjectMeta) -> wire::ObjectMeta {
                wire::ObjectMeta {
                    key: meta.key,
                    size: meta.size,
                }
            }
            impl wire::Guest for $plugin {
                fn put(
                    key: ::std::string::String,
                    size: ::std::option::Option<u64>,
                    input: &$crate::__rt::io::streams::InputStream,
                ) -> ::std::result::Result<wire::ObjectMeta, wire::StorageError> {
                    $crate::__rt::storage_put::<$plugin>(&key, size, input)
                        .map(meta)
                        .map_err(error)
                }

                fn get(
                    key: ::std::string::String,
                    output: &$crate::__rt::io::streams::OutputStream,
                ) -> ::std::result::Result<wire::ObjectMeta, wire::StorageError> {
                    $crate::__rt::storage_get::<$plugin>(&key, output)
                        .map(meta)
                        .map_err(error)
                }

                fn head(
                    key: ::std::string::String,
                ) -> ::std::result::Result<wire::ObjectMeta, wire::StorageError> {
                    <$plugin as $crate::StorageProvider>::head(&key)
                        .map(meta)
                        .map_err(error)
                }

                fn list(
                    prefix: ::std::string::String,
                    cursor: ::std::option::Option<::std::string::String>,
                    limit: u32,
                ) -> ::std::result::Result<wire::ListPage, wire::StorageError> {
                    <$plugin as $crate::StorageProvider>::list(&prefix, cursor.as_deref(), limit)
                        .map(|page| wire::ListPage {
                            keys: page.keys,
                            next_cursor: page.next_cursor,
                        })
                        .map_err(error)
                }

                fn delete(
                    key: ::std::string::String,
                ) -> ::std::result::Result<(), wire::StorageError> {
                    <$plugin as $crate::StorageProvider>::delete(&key).map_err(error)
                }
            }
        };
    };
    ($other:ident, $plugin:ident, $($bindings:ident)::+) => {};
}

/// Conversions between the PDK's table types and one kind package's copy of them
/// (`column_to_wire`, `column_from_wire`, `cell_to_wire`, `cell_from_wire`), in the scope
/// of the calling `__impl_kind!` arm.
#[doc(hidden)]
#[macro_export]
macro_rules! __table_wire {
    ($wire:ident) => {
        #[allow(dead_code)]
        fn column_to_wire(column: $crate::Column) -> $wire::Column {
            $wire::Column {
                name: column.name,
                type_: match column.ty {
                    $crate::ColumnType::String => $wire::ColumnType::String,
                    $crate::ColumnType::Int => $wire::ColumnType::Int,
                    $crate::ColumnType::Float => $wire::ColumnType::Float,
                    $crate::ColumnType::Bool => $wire::ColumnType::Bool,
                    $crate::ColumnType::Timestamp => $wire::ColumnType::Timestamp,
                    $crate::ColumnType::Bytes => $wire::ColumnType::Bytes,
                },
            }
        }

        #[allow(dead_code)]
        fn column_from_wire(column: $wire::Column) -> $crate::Column {
            $crate::Column {
                name: column.name,
                ty: match column.type_ {
                    $wire::ColumnType::String => $crate::ColumnType::String,
                    $wire::ColumnType::Int => $crate::ColumnType::Int,
                    $wire::ColumnType::Float => $crate::ColumnType::Float,
                    $wire::ColumnType::Bool => $crate::ColumnType::Bool,
                    $wire::ColumnType::Timestamp => $crate::ColumnType::Timestamp,
                    $wire::ColumnType::Bytes => $crate::ColumnType::Bytes,
                },
            }
        }

        #[allow(dead_code)]
        fn cell_to_wire(cell: $crate::Cell) -> $wire::Cell {
            match cell {
                $crate::Cell::Null => $wire::Cell::Null,
                $crate::Cell::String(s) => $wire::Cell::String(s),
                $crate::Cell::Int(n) => $wire::Cell::Int(n),
                $crate::Cell::Float(x) => $wire::Cell::Float(x),
                $crate::Cell::Bool(b) => $wire::Cell::Bool(b),
                $crate::Cell::Timestamp(n) => $wire::Cell::Timestamp(n),
                $crate::Cell::Bytes(b) => $wire::Cell::Bytes(b),
            }
        }

        #[allow(dead_code)]
        fn cell_from_wire(cell: $wire::Cell) -> $crate::Cell {
            match cell {
                $wire::Cell::Null => $crate::Cell::Null,
                $wire::Cell::String(s) => $crate::Cell::String(s),
                $wire::Cell::Int(n) => $crate::Cell::Int(n),
                $wire::Cell::Float(x) => $crate::Cell::Float(x),
                $wire::Cell::Bool(b) => $crate::Cell::Bool(b),
                $wire::Cell::Timestamp(n) => $crate::Cell::Timestamp(n),
                $wire::Cell::Bytes(b) => $crate::Cell::Bytes(b),
            }
        }
    };
}

/// Exports a [`Command`](crate::Command) as a component of world `plinth:plugin/plugin@0.1.0`
/// (exports `lifecycle` and `command`): the 0.1.0 form, for manifests with
/// `runtime.world = "plugin"`. New plugins use [`export!`](crate::export)`(T: command)`.
///
/// Call it once per component, at module level, with the name of a type that implements
/// [`Plugin`](crate::Plugin) and [`Command`](crate::Command).
#[macro_export]
macro_rules! export_command {
    ($plugin:ident) => {
        #[doc(hidden)]
        #[allow(unsafe_code, missing_docs, unreachable_pub, clippy::all)]
        mod __plinth_command_bindings {
            $crate::__world_bindings!("plinth:plugin/plugin@0.1.0");
        }

        #[doc(hidden)]
        #[allow(unsafe_code)]
        const _: () = {
            use __plinth_command_bindings::exports::plinth::plugin::command;

            $crate::__impl_lifecycle!($plugin, __plinth_command_bindings);

            impl command::Guest for $plugin {
                fn run(
                    args: ::std::vec::Vec<::std::string::String>,
                ) -> ::std::result::Result<::std::string::String, ::std::string::String> {
                    <$plugin as $crate::Command>::run(args)
                }
            }

    __plinth_command_bindings::export!($plugin with_types_in __plinth_command_bindings);
        };
    };
}

/// Exports a [`Tool`](crate::Tool) provider as a component of world
/// `plinth:plugin/tool@0.1.0` (exports `lifecycle` and `tools`): the 0.1.0 form, for
/// manifests with `runtime.world = "tool"` and top-level `[[tools]]`. New plugins use
/// [`export!`](crate::export)`(T: tool)`, which also checks names and inputs before `call`.
///
/// Call it once per component, at module level, with the name of a type that implements
/// [`Plugin`](crate::Plugin) and [`Tool`](crate::Tool).
#[macro_export]
macro_rules! export_tool {
    ($plugin:ident) => {
        #[doc(hidden)]
        #[allow(unsafe_code, missing_docs, unreachable_pub, clippy::all)]
        mod __plinth_tool_bindings {
            $crate::__world_bindings!("plinth:plugin/tool@0.1.0");
        }

        #[doc(hidden)]
        #[allow(unsafe_code)]
        const _: () = {
            use __plinth_tool_bindings::exports::plinth::plugin::tools;

            $crate::__impl_lifecycle!($plugin, __plinth_tool_bindings);

            impl tools::Guest for $plugin {
                fn list_tools() -> ::std::vec::Vec<tools::ToolInfo> {
                    $crate::__rt::list_tools::<$plugin>()
                        .into_iter()
                        .map(|(name, description, input_schema)| tools::ToolInfo {
                            name,
                            description,
                            input_schema,
                        })
                        .collect()
                }

                fn call(
                    name: ::std::string::String,
                    input: ::std::string::String,
                ) -> ::std::result::Result<::std::string::String, tools::ToolError> {
                    $crate::__rt::call_tool::<$plugin>(&name, &input).map_err(|err| match err {
                        $crate::ToolError::UnknownTool(why) => tools::ToolError::UnknownTool(why),
                        $crate::ToolError::InvalidInput(why) => tools::ToolError::InvalidInput(why),
                        $crate::ToolError::Failed(why) => tools::ToolError::Failed(why),
                    })
                }
            }

    __plinth_tool_bindings::export!($plugin with_types_in __plinth_tool_bindings);
        };
    };
}

/// The `lifecycle` impl shared by all worlds.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_lifecycle {
    ($plugin:ident, $($bindings:ident)::+) => {
        impl $($bindings)::+::exports::plinth::plugin::lifecycle::Guest for $plugin {
            fn on_load(
                settings: ::std::string::String,
            ) -> ::std::result::Result<(), ::std::string::String> {
                $crate::__rt::on_load::<$plugin>(&settings)
            }

            fn on_setting_change(
                settings: ::std::string::String,
            ) -> ::std::result::Result<(), ::std::string::String> {
                $crate::__rt::on_setting_change::<$plugin>(&settings)
            }

            fn on_close() {
                <$plugin as $crate::Plugin>::on_close()
            }

            fn handle_event(
                event: $($bindings)::+::exports::plinth::plugin::lifecycle::Event,
            ) -> ::std::result::Result<(), ::std::string::String> {
                $crate::__rt::handle_event::<$plugin>(event.kind, event.subject, event.payload)
            }
        }
    };
}
