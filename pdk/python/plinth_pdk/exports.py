"""The component's exports, for the app module to re-export:

    from plinth_pdk.exports import Lifecycle, Tool      # plinth:tool/plugin
    from plinth_pdk.exports import Lifecycle, Hook      # plinth:hook/plugin
    from plinth_pdk.exports import Lifecycle, Command   # plinth:command/plugin
    from plinth_pdk.exports import Lifecycle, Tool, Hook   # both kinds in one component

    from plinth_pdk.exports import Lifecycle, Tools     # 0.1.0: plinth:plugin/tool
    from plinth_pdk.exports import Lifecycle, Command   # 0.1.0: plinth:plugin/plugin

componentize-py looks these classes up by name in the app module. They dispatch to what
the app registered with `plinth_pdk`'s decorators.
"""

from __future__ import annotations

import json
from typing import List

from componentize_py_types import Err

import plinth_pdk as _pdk
from plinth_pdk import _schema


def _settings(text: str):
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return {}


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _parse(text: str):
    """Strict JSON: NaN and Infinity are refused as they are in Rust and JavaScript."""
    return json.loads(text, parse_constant=_reject_constant)


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


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


class Tool:
    """`plinth:tool/tool`: the tools registered with `@tool`. A name not registered is
    `unknown-tool`; input that is not JSON or does not fit the tool's input schema is
    `invalid-input`, before the tool runs."""

    def list_tools(self):
        from wit_world.exports import tool as wit

        return [
            wit.ToolInfo(spec.name, spec.description, _compact(spec.input_schema),
                         None if spec.output_schema is None else _compact(spec.output_schema))
            for spec in _pdk._tools.values()
        ]

    def call(self, name: str, input: str) -> str:
        from wit_world.exports import tool as wit

        spec = _pdk._tools.get(name)
        if spec is None:
            raise Err(wit.ToolError_UnknownTool(name))
        try:
            value = _parse(input)
        except Exception as e:  # noqa: BLE001 - any parse failure (deep nesting too)
            raise Err(wit.ToolError_InvalidInput(f"input is not valid JSON: {e}")) from None
        problem = _schema.check(spec.input_schema, value)
        if problem:
            raise Err(wit.ToolError_InvalidInput(problem))
        try:
            return _compact(spec.function(value))
        except _pdk.InvalidInput as e:
            raise Err(wit.ToolError_InvalidInput(str(e))) from None
        except Err:
            raise
        except Exception as e:  # noqa: BLE001 - every failure goes back to the host
            raise Err(wit.ToolError_Failed(str(e) or type(e).__name__)) from None


def _payload(text: str):
    try:
        return _parse(text)
    except Exception:  # noqa: BLE001 - not JSON: the hook sees None and the raw text
        return None


class Hook:
    """`plinth:hook/hook`: the functions registered with `@hook(point)`. Points nothing is
    registered for are allowed. A `deny` always carries a reason; a `modify` payload that is
    not a dict, or an exception in the hook, denies the event."""

    def handle(self, event):
        from wit_world.exports import hook as wit

        function = _pdk._hook_points.get(event.point)
        if function is None:
            return wit.Decision_Allow()
        typed = _pdk.HookEvent(event.point, event.subject, _payload(event.payload), event.payload)
        try:
            decision = function(typed)
        except Exception as e:  # noqa: BLE001 - a failing hook stops the event
            return wit.Decision_Deny(f"the hook failed: {str(e) or type(e).__name__}")
        if decision is None:
            return wit.Decision_Allow()
        if not isinstance(decision, _pdk.Decision):
            return wit.Decision_Deny(f"the hook answered {type(decision).__name__}, not a decision")
        if decision.kind == "deny":
            reason = decision.reason if decision.reason.strip() else \
                f"denied by a hook at `{event.point}`"
            return wit.Decision_Deny(reason)
        if decision.kind == "modify":
            if not isinstance(decision.payload, dict):
                return wit.Decision_Deny("the hook's modified payload is not an object")
            try:
                return wit.Decision_Modify(_compact(decision.payload))
            except Exception as e:  # noqa: BLE001 - not serializable as JSON
                return wit.Decision_Deny(f"the hook's modified payload is not JSON: {e}")
        return wit.Decision_Allow()


class Command:
    """`plinth:command/command`, and `plinth:plugin/command` (0.1.0): the function
    registered with `@command`."""

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
