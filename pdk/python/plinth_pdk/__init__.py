"""Plinth plugin development kit for Python (componentize-py 0.25.1).

An author writes plain Python against this module, one helper per kind:

    from plinth_pdk import tool, log
    from plinth_pdk.exports import Lifecycle, Tool    # the component's exports

    @tool("word_count", "Counts words.", {"type": "object"})
    def word_count(input):
        return {"words": ...}

Thoth's kinds (`plinth_pdk.thoth`): `@file_loader(format)` (export `FileLoader`),
`@file_viewer(format)` (`FileViewer`), `@exporter(format)` (`Exporter`), `@data_source`
(`DataSource`) and `@theme_provider(name)` (`ThemeProvider`), with tables as `Column`s and
rows of plain values, and UI nodes as dicts.

BitVault's kinds (`plinth_pdk.bitvault`): `@event_handler` (export `EventHandler`, answering
`ok()`, `reject(reason)` or `retry(after_ms)`), `@auth_provider` (`AuthProvider`: an
`Identity`, or raise `Denied`/`Unavailable`), `@policy_hook` (`PolicyHook`: `allow()`,
`deny(reason)` or `add_attributes(...)`), `@search_analyzer(name)` (`SearchAnalyzer`: a list
of `Token`s; `words(text)`) and `@preview(media_type)` (`Preview`: text, or `png_gray(...)`).

Services (`plinth_pdk.services`): `@service` on a class with `handle(event)` answering
`Handled.ok()` (or `reject`, `retry`) with `.command(ServiceCommand.send_text(...))`,
`publish`, `close`, `http_request`, `post_json`, `action`, and `.respond(...)` for HTTP
routes (export `Service`).

The streaming kinds (`plinth_pdk.streams`): `@content_transform(media_type)` (export
`ContentTransform`: `transform(request, input, output)` answering a `TransformOutput`) and
`@storage_provider` on a class with `put`, `get`, `head`, `list`, `delete` (export
`StorageProvider`), over `Input`/`Output` wrappers of the host's `wasi:io` streams;
`output.forward(input)` has the host copy bytes without them entering the plugin. `items(s)`
iterates a stream an app-defined host function returns. Writes stay in linear memory until
the call ends (componentize-py 0.25.1): keep outputs small or forward them (0070).

`@hook("before-tool-call")` registers a hook (export `Hook`, answering with `allow()`,
`deny(reason)` or `modify(payload)`) and `@command` a command (export `Command`). A component
providing several kinds re-exports each kind's class. The export classes serve the kind
worlds (`plinth:tool/plugin`, `plinth:hook/plugin`, `plinth:command/plugin`) and, for the
0.1.0 form (`runtime.world`), `plinth:plugin`'s worlds: `Tools` and `Command`.

Host calls (`log`, `config`, `http`, `kv`, `events`) are thin typed wrappers over the
bindings componentize-py generates from Plinth's WIT (`wit_world`). A host error becomes
a `HostError` with the WIT variant's case (`kind`, e.g. "missing-grant") and message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from plinth_pdk.bitvault import (
    AddAttributes,
    Denied,
    Identity,
    ObjectEvent,
    Outcome,
    PolicyRequest,
    PreviewImage,
    Token,
    Unavailable,
    add_attributes,
    auth_provider,
    constant_time_eq,
    event_handler,
    ok,
    png_gray,
    policy_hook,
    preview,
    reject,
    retry,
    search_analyzer,
    words,
)
from plinth_pdk.services import (
    Handled,
    IngressEvent,
    Reply,
    ServiceCommand,
    service,
)
from plinth_pdk.streams import (
    Backend,
    BytesInput,
    BytesOutput,
    Conflict,
    Input,
    InvalidKey,
    ListPage,
    NotFound,
    ObjectMeta,
    Output,
    StorageError,
    StreamFailed,
    TooLarge,
    TransformOutput,
    TransformRequest,
    check_key,
    content_transform,
    items,
    page_of,
    storage_provider,
)
from plinth_pdk.thoth import (
    Column,
    InvalidData,
    Page,
    PluginError,
    Source,
    Table,
    TableInfo,
    UiEvent,
    UiOutput,
    Unsupported,
    csv_field,
    csv_fields,
    data_source,
    exporter,
    file_loader,
    file_viewer,
    read_lines,
    read_records,
    text_node,
    theme_provider,
)

__all__ = [
    "HostError",
    "InvalidInput",
    "ToolFailed",
    "ToolSpec",
    "Event",
    "HookEvent",
    "Decision",
    "tool",
    "hook",
    "allow",
    "deny",
    "modify",
    "command",
    "on_load",
    "on_setting_change",
    "on_close",
    "on_event",
    "log",
    "config",
    "http",
    "kv",
    "events",
    "Column",
    "TableInfo",
    "Page",
    "Table",
    "Source",
    "UiOutput",
    "UiEvent",
    "InvalidData",
    "Unsupported",
    "PluginError",
    "text_node",
    "read_lines",
    "read_records",
    "csv_fields",
    "csv_field",
    "file_loader",
    "file_viewer",
    "exporter",
    "theme_provider",
    "data_source",
    "ObjectEvent",
    "Outcome",
    "ok",
    "reject",
    "retry",
    "Identity",
    "Denied",
    "Unavailable",
    "constant_time_eq",
    "PolicyRequest",
    "AddAttributes",
    "add_attributes",
    "Token",
    "words",
    "PreviewImage",
    "png_gray",
    "event_handler",
    "auth_provider",
    "policy_hook",
    "search_analyzer",
    "Input",
    "Output",
    "BytesInput",
    "BytesOutput",
    "StreamFailed",
    "items",
    "TransformRequest",
    "TransformOutput",
    "content_transform",
    "StorageError",
    "NotFound",
    "InvalidKey",
    "TooLarge",
    "Conflict",
    "Backend",
    "ObjectMeta",
    "ListPage",
    "check_key",
    "page_of",
    "storage_provider",
    "preview",
    "IngressEvent",
    "Handled",
    "Reply",
    "ServiceCommand",
    "service",
]


class HostError(Exception):
    """A host call failed: `kind` is the WIT error case (kebab-case), `message` its text."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class InvalidInput(Exception):
    """Raise from a tool when its input does not fit: the call fails with `invalid-input`."""


class ToolFailed(Exception):
    """Raise from a tool when it ran and failed: the call fails with `failed`."""


def _kebab(name: str) -> str:
    out = []
    for i, c in enumerate(name):
        if c.isupper() and i:
            out.append("-")
        out.append(c.lower())
    return "".join(out)


def _host_error(err: Any) -> HostError:
    """Turns the payload of a generated `Err` (a `Xxx_Case(value=...)`) into a HostError."""
    value = getattr(err, "value", err)
    case = type(value).__name__.split("_", 1)[-1]
    return HostError(_kebab(case), str(getattr(value, "value", value)))


def _call(function: Callable[..., Any], *args: Any) -> Any:
    from componentize_py_types import Err

    try:
        return function(*args)
    except Err as err:
        raise _host_error(err) from None


# ----------------------------------------------------------------------------- registry


@dataclass
class ToolSpec:
    """One registered tool."""

    name: str
    description: str
    input_schema: Dict[str, Any]
    function: Callable[[Any], Any]
    output_schema: Optional[Dict[str, Any]] = None


@dataclass
class Event:
    """An event delivered to the instance (`kind`, `subject`, `payload` as text)."""

    kind: str
    subject: str
    payload: str


@dataclass
class HookEvent:
    """What happens at a hook point. `payload` is the payload parsed (a dict from a
    well-behaved application), None when the text is not JSON; `raw_payload` is the text."""

    point: str
    subject: str
    payload: Any
    raw_payload: str


@dataclass
class Decision:
    """A hook's answer; make one with `allow()`, `deny(reason)` or `modify(payload)`."""

    kind: str
    reason: str = ""
    payload: Optional[Dict[str, Any]] = None


def allow() -> Decision:
    """Go on with the payload as it is (a hook returning None allows too)."""
    return Decision("allow")


def deny(reason: str) -> Decision:
    """Stop: the application does not go on; `reason` is for a person."""
    return Decision("deny", reason=str(reason))


def modify(payload: Dict[str, Any]) -> Decision:
    """Go on with `payload` (a dict) instead."""
    return Decision("modify", payload=payload)


_tools: Dict[str, ToolSpec] = {}
_hooks: Dict[str, Callable[..., Any]] = {}
_hook_points: Dict[str, Callable[[HookEvent], Any]] = {}


def tool(name: str, description: str, input_schema: Optional[Dict[str, Any]] = None,
         output_schema: Optional[Dict[str, Any]] = None):
    """Registers `function(input) -> output` as tool `name` (input and output are JSON values).

    With the `plinth:tool` world (export `Tool`), a call reaches `function` only with input
    that is JSON and fits `input_schema` (the subset of JSON Schema `plinth_pdk._schema`
    checks); otherwise the call fails with `invalid-input`. Raise `InvalidInput` or
    `ToolFailed` to fail it yourself; any other exception is `failed`.
    """

    def register(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
        _tools[name] = ToolSpec(name, description, input_schema or {"type": "object"}, function,
                                output_schema)
        return function

    return register


def hook(point: str, *points: str):
    """Registers `function(event: HookEvent) -> Decision | None` for hook point `point` (and
    any further `points`): the points of the manifest's `[[provides.hook]]` entries. Events
    at other points are allowed without calling it. An exception denies the event, with the
    exception as the reason."""

    def register(function: Callable[[HookEvent], Any]) -> Callable[[HookEvent], Any]:
        for name in (point, *points):
            _hook_points[name] = function
        return function

    return register


def _hook(key: str):
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        _hooks[key] = function
        return function

    return register


def command(function: Callable[[List[str]], str]) -> Callable[[List[str]], str]:
    """Registers `function(args) -> str` as the command's `run` (export `Command`). An
    exception is the call's `err`, with the exception's text."""
    return _hook("run")(function)


def on_load(function: Callable[[Dict[str, Any]], None]):
    """Registers `function(settings: dict)`, called once after instantiation."""
    return _hook("on_load")(function)


def on_setting_change(function: Callable[[Dict[str, Any]], None]):
    """Registers `function(settings: dict)`, called when the operator changed the settings."""
    return _hook("on_setting_change")(function)


def on_close(function: Callable[[], None]):
    """Registers `function()`, called before the instance is dropped."""
    return _hook("on_close")(function)


def on_event(function: Callable[[Event], None]):
    """Registers `function(event: Event)`, called for each delivered event."""
    return _hook("on_event")(function)


def _run_hook(key: str, *args: Any) -> None:
    """Runs a lifecycle hook; an exception becomes the WIT `result`'s error string."""
    from componentize_py_types import Err

    function = _hooks.get(key)
    if function is None:
        return
    try:
        function(*args)
    except Err:
        raise
    except Exception as e:  # noqa: BLE001 - every failure goes back to the host as text
        raise Err(str(e)) from None


# ----------------------------------------------------------------------------- host APIs


class log:  # noqa: N801 - used like a module: log.info("...")
    """Structured logging (needs the `log` grant; without it records are dropped)."""

    @staticmethod
    def _write(level: str, message: str) -> None:
        from wit_world.imports import log as wit

        wit.log(getattr(wit.Level, level), str(message))

    @staticmethod
    def enabled(level: str) -> bool:
        """Whether a record at `level` ("trace".."error") would be kept."""
        from wit_world.imports import log as wit

        return wit.enabled(getattr(wit.Level, level.upper()))

    @staticmethod
    def trace(message: str) -> None:
        log._write("TRACE", message)

    @staticmethod
    def debug(message: str) -> None:
        log._write("DEBUG", message)

    @staticmethod
    def info(message: str) -> None:
        log._write("INFO", message)

    @staticmethod
    def warn(message: str) -> None:
        log._write("WARN", message)

    @staticmethod
    def error(message: str) -> None:
        log._write("ERROR", message)


class config:  # noqa: N801
    """The plugin's settings (needs the `config` grant)."""

    @staticmethod
    def get_all() -> Dict[str, Any]:
        from wit_world.imports import config as wit

        return json.loads(_call(wit.get_all))

    @staticmethod
    def get(key: str, default: Any = None) -> Any:
        """One setting as a JSON value, or `default` when it is not set."""
        from wit_world.imports import config as wit

        text = _call(wit.get, key)
        return default if text is None else json.loads(text)


@dataclass
class Response:
    """An HTTP response."""

    status: int
    headers: List[Tuple[str, str]]
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class http:  # noqa: N801
    """Outgoing HTTP (needs an `http:<host-pattern>` grant)."""

    @staticmethod
    def _request(method: str, url: str, headers: Optional[List[Tuple[str, str]]],
                 body: Optional[bytes], timeout_ms: Optional[int]):
        from wit_world.imports import http as wit

        if isinstance(body, str):
            body = body.encode("utf-8")
        return wit.Request(getattr(wit.Method, method.upper()), url, list(headers or []),
                           body, timeout_ms)

    @staticmethod
    def fetch(url: str, method: str = "GET", headers: Optional[List[Tuple[str, str]]] = None,
              body: Optional[bytes] = None, timeout_ms: Optional[int] = None) -> Response:
        """Sends a request and waits for the whole response."""
        from wit_world.imports import http as wit

        r = _call(wit.fetch, http._request(method, url, headers, body, timeout_ms))
        return Response(r.status, list(r.headers), bytes(r.body))

    @staticmethod
    def submit(url: str, method: str = "GET", headers: Optional[List[Tuple[str, str]]] = None,
               body: Optional[bytes] = None, timeout_ms: Optional[int] = None) -> int:
        """Sends a request in the background; the response arrives as an `http-response` event."""
        from wit_world.imports import http as wit

        return _call(wit.submit, http._request(method, url, headers, body, timeout_ms))


class kv:  # noqa: N801
    """The plugin's durable key-value store (needs the `kv` grant)."""

    @staticmethod
    def get(key: str) -> Optional[bytes]:
        from wit_world.imports import kv as wit

        value = _call(wit.get, key)
        return None if value is None else bytes(value)

    @staticmethod
    def get_text(key: str) -> Optional[str]:
        value = kv.get(key)
        return None if value is None else value.decode("utf-8")

    @staticmethod
    def set(key: str, value: bytes | str) -> None:
        from wit_world.imports import kv as wit

        if isinstance(value, str):
            value = value.encode("utf-8")
        _call(wit.set, key, value)

    @staticmethod
    def delete(key: str) -> bool:
        from wit_world.imports import kv as wit

        return _call(wit.delete, key)

    @staticmethod
    def list_keys(prefix: str = "", limit: int = 1000) -> List[str]:
        from wit_world.imports import kv as wit

        return list(_call(wit.list_keys, prefix, limit))

    @staticmethod
    def increment(key: str, delta: int = 1) -> int:
        from wit_world.imports import kv as wit

        return _call(wit.increment, key, delta)


class events:  # noqa: N801
    """Publishing events to the embedding application (needs an `events` grant)."""

    @staticmethod
    def publish(channel: str, payload: Any) -> None:
        """Publishes `payload` (text as is, anything else as JSON) on `channel`."""
        from wit_world.imports import events as wit

        text = payload if isinstance(payload, str) else json.dumps(payload)
        _call(wit.publish, channel, text)
