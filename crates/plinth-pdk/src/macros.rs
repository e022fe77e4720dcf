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
/// `plinth:command/plugin@0.1.0`; `export!(T: tool, hook)` exports `lifecycle` once and the
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
    ($other:ident, $plugin:ident, $($bindings:ident)::+) => {};
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
