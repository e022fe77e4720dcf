"""The component's exports, for the app module to re-export:

    from plinth_pdk.exports import Lifecycle, Tools     # `tool` world
    from plinth_pdk.exports import Lifecycle, Command   # `plugin` world

componentize-py looks these classes up by name in the app module. They dispatch to what
the app registered with `plinth_pdk`'s decorators.
"""

from __future__ import annotations

import json
from typing import List

from componentize_py_types import Err

import plinth_pdk as _pdk


def _settings(text: str):
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


class Lifecycle:
    """`plinth:plugin/lifecycle`: each hook defaults to doing nothing."""

    def on_load(self, settings: str) -> None:
        _pdk._run_hook("on_load", _settings(settings))

    def on_setting_change(self, settings: str) -> None:
        _pdk._run_hook("on_setting_change", _settings(settings))

    def on_close(self) -> None:
        try:
            _pdk._run_hook("on_close")
        except Err:
            pass

    def handle_event(self, event) -> None:
        _pdk._run_hook("on_event", _pdk.Event(event.kind, event.subject, event.payload))


class Tools:
    """`plinth:plugin/tools`: the tools registered with `@tool`."""

    def list_tools(self):
        from wit_world.exports import tools as wit

        return [
            wit.ToolInfo(spec.name, spec.description,
                         json.dumps(spec.input_schema, separators=(",", ":")))
            for spec in _pdk._tools.values()
        ]

    def call(self, name: str, input: str) -> str:
        from wit_world.exports import tools as wit

        spec = _pdk._tools.get(name)
        if spec is None:
            raise Err(wit.ToolError_UnknownTool(name))
        try:
            value = json.loads(input)
        except ValueError as e:
            raise Err(wit.ToolError_InvalidInput(f"input is not JSON: {e}")) from None
        try:
            output = spec.function(value)
        except _pdk.InvalidInput as e:
            raise Err(wit.ToolError_InvalidInput(str(e))) from None
        except Err:
            raise
        except Exception as e:  # noqa: BLE001 - every failure goes back to the host
            raise Err(wit.ToolError_Failed(str(e) or type(e).__name__)) from None
        return json.dumps(output, separators=(",", ":"), ensure_ascii=False)


class Command:
    """`plinth:plugin/command`: the function registered with `@command`."""

    def run(self, args: List[str]) -> str:
        function = _pdk._hooks.get("run")
        if function is None:
            raise Err("this plugin registered no @command")
        try:
            return str(function(list(args)))
        except Err:
            raise
        except Exception as e:  # noqa: BLE001
            raise Err(str(e) or type(e).__name__) from None
