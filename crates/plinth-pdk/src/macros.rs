//! `export_command!` and `export_tool!`.
//!
//! Each expands, in the plugin's crate, to the bindings of exactly one world (so the
//! component's type describes only the exports it has), `Guest` impls that forward to the
//! PDK traits, and wit-bindgen's `export!`. Both take a type name (an identifier), as
//! wit-bindgen's `export!` does, and need the dependency to be called `plinth-pdk`.

/// Exports a [`Command`](crate::Command) as a component of world `plinth:plugin/plugin@0.1.0`
/// (exports `lifecycle` and `command`).
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
/// `plinth:plugin/tool@0.1.0` (exports `lifecycle` and `tools`).
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

/// The `lifecycle` impl shared by both worlds.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_lifecycle {
    ($plugin:ident, $bindings:ident) => {
        impl $bindings::exports::plinth::plugin::lifecycle::Guest for $plugin {
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
                event: $bindings::exports::plinth::plugin::lifecycle::Event,
            ) -> ::std::result::Result<(), ::std::string::String> {
                $crate::__rt::handle_event::<$plugin>(event.kind, event.subject, event.payload)
            }
        }
    };
}
