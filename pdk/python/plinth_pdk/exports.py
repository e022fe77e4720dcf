"""The component's exports, for the app module to re-export:

    from plinth_pdk.exports import Lifecycle, Tool      # plinth:tool/plugin
    from plinth_pdk.exports import Lifecycle, Hook      # plinth:hook/plugin
    from plinth_pdk.exports import Lifecycle, Command   # plinth:command/plugin
    from plinth_pdk.exports import Lifecycle, FileLoader   # plinth:file-loader/plugin
    (likewise FileViewer, Exporter, DataSource, ThemeProvider)
    from plinth_pdk.exports import Lifecycle, EventHandler   # plinth:event-handler/plugin
    (likewise AuthProvider, PolicyHook, SearchAnalyzer, Preview)
    from plinth_pdk.exports import Lifecycle, Service   # plinth:service/plugin
    from plinth_pdk.exports import Lifecycle, ContentTransform   # plinth:content-transform/plugin
    (likewise StorageProvider)
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


# ----------------------------------------------------------------------------- Thoth's kinds

_COLUMN_TYPES = ("string", "int", "float", "bool", "timestamp", "bytes")


def _source(src):
    from plinth_pdk.thoth import Source

    value = src.value
    if type(src).__name__.endswith("_Path"):
        return Source(path=value)
    return Source(data=bytes(value))


def _column_to_wit(wit, column):
    kind = column.type if column.type in _COLUMN_TYPES else "string"
    return wit.Column(column.name, getattr(wit.ColumnType, kind.upper()))


def _cell_to_wit(wit, value, kind: str):
    if value is None:
        return wit.Cell_Null()
    if kind == "int":
        return wit.Cell_Int(int(value))
    if kind == "float":
        return wit.Cell_Float(float(value))
    if kind == "bool":
        return wit.Cell_Bool(bool(value))
    if kind == "timestamp":
        return wit.Cell_Timestamp(int(value))
    if kind == "bytes":
        return wit.Cell_Bytes(bytes(value))
    return wit.Cell_String(str(value))


def _cell_from_wit(cell):
    name = type(cell).__name__
    if name.endswith("_Null"):
        return None
    if name.endswith("_Bytes"):
        return bytes(cell.value)
    return cell.value


def _table_info_to_wit(wit, info):
    return wit.TableInfo([_column_to_wit(wit, c) for c in info.columns], info.row_count)


def _page_to_wit(wit, columns, page):
    kinds = [c.type for c in columns]
    rows = [[_cell_to_wit(wit, v, k) for v, k in zip(row, kinds + ["string"] * len(row))]
            for row in page.rows]
    return wit.Page(rows, page.next)


def _node(wit, output):
    from plinth_pdk.thoth import UiOutput

    if not isinstance(output, UiOutput):
        output = UiOutput(output)
    return wit.UiOutput(_compact(output.node), int(output.height_hint))


def _message(e: Exception) -> str:
    return str(e) or type(e).__name__


class FileLoader:
    """`plinth:file-loader/file-loader`: the loader registered with `@file_loader`. A format
    nobody registered is `unknown-format`; InvalidData is `invalid-data`, an OSError `io`,
    any other exception `failed`."""

    def _loader(self, wit, format: str):
        from plinth_pdk import thoth

        loader = thoth._loaders.get(format)
        if loader is None:
            raise Err(wit.LoadError_UnknownFormat(f"no format `{format}`"))
        return loader

    def _fail(self, wit, e: Exception):
        from plinth_pdk import thoth

        if isinstance(e, thoth.InvalidData):
            return Err(wit.LoadError_InvalidData(_message(e)))
        if isinstance(e, OSError):
            return Err(wit.LoadError_Io(_message(e)))
        return Err(wit.LoadError_Failed(_message(e)))

    def open(self, format: str, src):
        from wit_world.exports import file_loader as wit

        loader = self._loader(wit, format)
        try:
            return _table_info_to_wit(wit, loader.open(format, _source(src)))
        except Err:
            raise
        except Exception as e:  # noqa: BLE001 - every failure goes back to the host
            raise self._fail(wit, e) from None

    def read_rows(self, format: str, src, cursor: int, max_rows: int):
        from wit_world.exports import file_loader as wit

        loader = self._loader(wit, format)
        try:
            source = _source(src)
            columns = loader.open(format, source).columns
            return _page_to_wit(wit, columns, loader.read_rows(format, source, cursor, max_rows))
        except Err:
            raise
        except Exception as e:  # noqa: BLE001
            raise self._fail(wit, e) from None


class FileViewer:
    """`plinth:file-viewer/file-viewer`: the viewer registered with `@file_viewer`."""

    def view(self, format: str, src):
        from wit_world.exports import file_viewer as wit

        from plinth_pdk import thoth

        function = thoth._viewers.get(format)
        if function is None:
            raise Err(wit.ViewError_UnknownFormat(f"no format `{format}`"))
        try:
            return _node(wit, function(format, _source(src)))
        except Err:
            raise
        except thoth.InvalidData as e:
            raise Err(wit.ViewError_InvalidData(_message(e))) from None
        except OSError as e:
            raise Err(wit.ViewError_Io(_message(e))) from None
        except Exception as e:  # noqa: BLE001
            raise Err(wit.ViewError_Failed(_message(e))) from None


class Exporter:
    """`plinth:exporter/exporter`: the exporter registered with `@exporter`."""

    def export(self, format: str, data) -> bytes:
        from wit_world.exports import exporter as wit

        from plinth_pdk import thoth

        function = thoth._exporters.get(format)
        if function is None:
            raise Err(wit.ExportError_UnknownFormat(f"no format `{format}`"))
        table = thoth.Table(
            [thoth.Column(c.name, c.type.name.lower()) for c in data.columns],
            [[_cell_from_wit(cell) for cell in row] for row in data.rows],
        )
        try:
            out = function(format, table)
        except Err:
            raise
        except thoth.Unsupported as e:
            raise Err(wit.ExportError_Unsupported(_message(e))) from None
        except Exception as e:  # noqa: BLE001
            raise Err(wit.ExportError_Failed(_message(e))) from None
        return out.encode("utf-8") if isinstance(out, str) else bytes(out)


class ThemeProvider:
    """`plinth:theme-provider/theme-provider`: the function registered with
    `@theme_provider`. The answer is written as JSON; an exception is the call's `err`."""

    def provide(self, name: str, context: str) -> str:
        from plinth_pdk import thoth

        function = thoth._themes.get(name)
        if function is None:
            raise Err(f"no theme `{name}`; this plugin provides {', '.join(thoth._themes)}")
        try:
            return _compact(function(name, _payload(context)))
        except Err:
            raise
        except Exception as e:  # noqa: BLE001
            raise Err(_message(e)) from None


class DataSource:
    """`plinth:data-source/data-source`: the class registered with `@data_source`. A
    PluginError keeps its code; any other exception is `error`."""

    _KINDS = {"CLICK": "click", "CHANGE": "change", "HTTP_RESPONSE": "http-response",
              "NOTIFY": "notify"}

    def _call(self, method: str, *args):
        from wit_world.exports import data_source as wit

        from plinth_pdk import thoth

        if not thoth._sources:
            raise Err(wit.PluginError("error", "this plugin registered no @data_source"))
        function = getattr(thoth._sources[0], method, None)
        try:
            return wit, (None if function is None else function(*args))
        except Err:
            raise
        except thoth.PluginError as e:
            raise Err(wit.PluginError(e.code, e.message)) from None
        except Exception as e:  # noqa: BLE001
            raise Err(wit.PluginError("error", _message(e))) from None

    def _query(self, text: str):
        from wit_world.exports import data_source as wit

        try:
            return _parse(text)
        except Exception as e:  # noqa: BLE001
            raise Err(wit.PluginError("invalid-query", f"the query is not JSON: {e}")) from None

    def render_ui(self):
        wit, output = self._call("render_ui")
        return _node(wit, output)

    def handle_event(self, event):
        from plinth_pdk import thoth

        kind = self._KINDS.get(event.kind.name, event.kind.name.lower())
        wit, output = self._call("handle_event", thoth.UiEvent(event.widget_id, kind, event.value))
        return _node(wit, output)

    def render_sidebar(self):
        wit, output = self._call("render_sidebar")
        return None if output is None else _node(wit, output)

    def open(self, query: str):
        parsed = self._query(query)
        wit, info = self._call("open", parsed)
        return _table_info_to_wit(wit, info)

    def read_rows(self, query: str, cursor: int, max_rows: int):
        parsed = self._query(query)
        wit, info = self._call("open", parsed)
        wit, page = self._call("read_rows", parsed, cursor, max_rows)
        return _page_to_wit(wit, info.columns, page)


# -------------------------------------------------------------------------- BitVault's kinds


def _pairs(items) -> list:
    return [(str(k), str(v)) for k, v in items]


class EventHandler:
    """`plinth:event-handler/event-handler`: the function registered with `@event_handler`.
    None answers `ok`; an exception rejects the event with its text."""

    def handle(self, event):
        from wit_world.exports import event_handler as wit

        from plinth_pdk import bitvault

        if not bitvault._handlers:
            return wit.Outcome_Reject("this plugin registered no @event_handler")
        typed = bitvault.ObjectEvent(
            event.id, event.action.name.lower(), event.tenant, event.path, event.size,
            event.media_type, event.digest, event.at_ms, list(event.attributes))
        try:
            outcome = bitvault._handlers[0](typed)
        except Exception as e:  # noqa: BLE001 - a failing handler refuses the event
            return wit.Outcome_Reject(f"the handler failed: {_message(e)}")
        return _outcome(wit, outcome)


def _outcome(wit, outcome):
    from plinth_pdk import bitvault

    if outcome is None:
        return wit.Outcome_Ok()
    if not isinstance(outcome, bitvault.Outcome):
        return wit.Outcome_Reject(f"the handler answered {type(outcome).__name__}, not an outcome")
    if outcome.kind == "reject":
        return wit.Outcome_Reject(outcome.reason if outcome.reason.strip() else "rejected by the handler")
    if outcome.kind == "retry":
        return wit.Outcome_Retry(min(max(int(outcome.after_ms), 0), 0xFFFF_FFFF))
    return wit.Outcome_Ok()


class AuthProvider:
    """`plinth:auth-provider/auth-provider`: the function registered with `@auth_provider`.
    Denied is `denied`, Unavailable `unavailable`; None is `denied`, any other exception
    `unavailable`."""

    def authenticate(self, token: str):
        from wit_world.exports import auth_provider as wit

        from plinth_pdk import bitvault

        if not bitvault._authenticators:
            raise Err(wit.Denial_Unavailable("this plugin registered no @auth_provider"))
        try:
            identity = bitvault._authenticators[0](token)
        except bitvault.Denied as e:
            raise Err(wit.Denial_Denied(_message(e))) from None
        except bitvault.Unavailable as e:
            raise Err(wit.Denial_Unavailable(_message(e))) from None
        except Exception as e:  # noqa: BLE001 - a failing provider cannot decide
            raise Err(wit.Denial_Unavailable(f"the provider failed: {_message(e)}")) from None
        if identity is None:
            raise Err(wit.Denial_Denied("no identity for this token"))
        if not isinstance(identity, bitvault.Identity):
            raise Err(wit.Denial_Unavailable(
                f"the provider answered {type(identity).__name__}, not an Identity"))
        return wit.Identity(str(identity.subject), str(identity.tenant), _pairs(identity.claims))


class PolicyHook:
    """`plinth:policy-hook/policy-hook`: the function registered with `@policy_hook`,
    answering `allow()`, `deny(reason)` or `add_attributes(...)`. None allows; an exception
    denies."""

    def decide(self, request):
        from wit_world.exports import policy_hook as wit

        from plinth_pdk import bitvault

        if not bitvault._policies:
            return wit.Decision_Allow()
        typed = bitvault.PolicyRequest(request.operation, request.subject, request.tenant,
                                       request.path, list(request.attributes))
        try:
            decision = bitvault._policies[0](typed)
        except Exception as e:  # noqa: BLE001 - a failing hook stops the request
            return wit.Decision_Deny(f"the policy hook failed: {_message(e)}")
        if decision is None:
            return wit.Decision_Allow()
        if isinstance(decision, bitvault.AddAttributes):
            return wit.Decision_Add(_pairs(decision.attributes))
        if isinstance(decision, _pdk.Decision) and decision.kind == "allow":
            return wit.Decision_Allow()
        if isinstance(decision, _pdk.Decision) and decision.kind == "deny":
            return wit.Decision_Deny(decision.reason if decision.reason.strip()
                                     else f"denied by a policy hook: {request.operation}")
        return wit.Decision_Deny(f"the policy hook answered {type(decision).__name__}, "
                                 "not allow(), deny() or add_attributes()")


class SearchAnalyzer:
    """`plinth:search-analyzer/search-analyzer`: the functions registered with
    `@search_analyzer(name)`. A name nobody registered is `unknown-analyzer`; an exception
    is `failed`."""

    def analyze(self, analyzer: str, text: str):
        from wit_world.exports import search_analyzer as wit

        from plinth_pdk import bitvault

        function = bitvault._analyzers.get(analyzer)
        if function is None:
            raise Err(wit.AnalyzeError_UnknownAnalyzer(analyzer))
        try:
            # Lowered by attribute: `Token`s go as they are (a copy per token would cost as
            # much as making it).
            return list(function(analyzer, text))
        except Err:
            raise
        except Exception as e:  # noqa: BLE001
            raise Err(wit.AnalyzeError_Failed(_message(e))) from None


class Preview:
    """`plinth:preview/preview`: the functions registered with `@preview(media_type)`. A
    media type nobody registered is `unsupported`; InvalidData is `invalid-data`, any other
    exception `failed`."""

    def render(self, media_type: str, data: bytes):
        from wit_world.exports import preview as wit

        from plinth_pdk import bitvault, thoth

        function = bitvault._previews.get(media_type)
        if function is None:
            raise Err(wit.PreviewError_Unsupported(f"no preview of `{media_type}`"))
        try:
            out = function(media_type, bytes(data))
        except Err:
            raise
        except thoth.InvalidData as e:
            raise Err(wit.PreviewError_InvalidData(_message(e))) from None
        except Exception as e:  # noqa: BLE001
            raise Err(wit.PreviewError_Failed(_message(e))) from None
        if isinstance(out, bitvault.PreviewImage):
            return wit.Preview_Image(wit.Image(out.media_type, bytes(out.data), int(out.width),
                                               int(out.height)))
        if isinstance(out, str):
            return wit.Preview_Text(out)
        raise Err(wit.PreviewError_Failed(
            f"the preview is {type(out).__name__}, not a str or a PreviewImage"))


# ----------------------------------------------------------------------------------- service


def _service_call(method: str, *args):
    from plinth_pdk import services

    impl = services._services[0] if services._services else None
    function = getattr(impl, method, None)
    return None if function is None else function(*args)


def _command(wit, command):
    from plinth_pdk import services as s

    def headers(pairs):
        return [wit.Header(str(k), str(v)) for k, v in pairs]

    if isinstance(command, s.SendFrame):
        frame = (wit.Frame_Text(command.frame) if isinstance(command.frame, str)
                 else wit.Frame_Binary(bytes(command.frame)))
        return wit.Command_SendFrame(wit.SendFrame(str(command.connection), frame))
    if isinstance(command, s.CloseConnection):
        return wit.Command_Close(wit.CloseConnection(str(command.connection), int(command.code),
                                                     str(command.reason)))
    if isinstance(command, s.Publish):
        return wit.Command_Publish(wit.Publish(str(command.channel), str(command.payload)))
    if isinstance(command, s.HttpRequest):
        return wit.Command_HttpRequest(wit.HttpRequest(
            str(command.tag), str(command.method), str(command.url), headers(command.headers),
            bytes(command.body)))
    if isinstance(command, s.Action):
        return wit.Command_Action(wit.Action(str(command.name), command.scope,
                                             _compact(command.payload)))
    raise TypeError(f"{type(command).__name__} is not a ServiceCommand")


class Service:
    """`plinth:service/service`: the service registered with `@service`. `handle` may answer
    a `Handled`, an `Outcome` or None (`ok`); an exception, or an answer that is neither,
    rejects the event with its text (the event goes to the dead-letter channel)."""

    def start(self) -> None:
        try:
            _service_call("start")
        except Err:
            raise
        except Exception as e:  # noqa: BLE001 - the host retries the start with backoff
            raise Err(_message(e)) from None

    def handle(self, event):
        from wit_world.exports import service as wit

        from plinth_pdk import bitvault, services

        typed = services.IngressEvent(
            event.sequence, event.attempt, event.source, event.kind, event.connection,
            event.connection_sequence, _payload(event.meta), event.meta, bytes(event.body))
        try:
            answer = _service_call("handle", typed)
            if answer is None or isinstance(answer, bitvault.Outcome):
                answer = services.Handled(answer or bitvault.ok())
            if not isinstance(answer, services.Handled):
                raise TypeError(f"the handler answered {type(answer).__name__}, not Handled")
            commands = [_command(wit, c) for c in answer.commands]
            reply = None
            if answer.reply is not None:
                r = answer.reply
                reply = wit.Reply(int(r.status), [wit.Header(str(k), str(v)) for k, v in r.headers],
                                  bytes(r.body))
            return wit.Handled(_outcome(wit, answer.outcome), commands, reply)
        except Exception as e:  # noqa: BLE001 - a failing handler refuses the event
            return wit.Handled(wit.Outcome_Reject(f"the handler failed: {_message(e)}"), [], None)

    def stop(self) -> None:
        try:
            _service_call("stop")
        except Exception:  # noqa: BLE001, S110 - the host stops the service anyway
            pass


# ------------------------------------------------------------------------ streaming kinds


def _transform_error(wit, e: Exception):
    if isinstance(e, _pdk.InvalidInput):
        return wit.TransformError_InvalidInput(_message(e))
    return wit.TransformError_Failed(_message(e))


class ContentTransform:
    """`plinth:content-transform/content-transform`: the function registered with
    `@content_transform(media_type)`, over the host's streams (`transform`) or over bytes
    in memory (`transform-bytes`). A media type nobody registered is
    `unsupported-media-type`; InvalidInput is `invalid-input`, any other exception
    `failed`."""

    def _run(self, request, input, output):
        from wit_world.exports import content_transform as wit

        from plinth_pdk import streams

        function = streams._transforms.get(request.media_type)
        if function is None:
            raise Err(wit.TransformError_UnsupportedMediaType(
                f"no transform of `{request.media_type}`"))
        typed = streams.TransformRequest(request.media_type, request.size,
                                         [(p.key, p.value) for p in request.params])
        try:
            out = function(typed, input, output)
            output.flush()
        except Err:
            raise
        except Exception as e:  # noqa: BLE001 - a failing transform answers `failed`
            raise Err(_transform_error(wit, e)) from None
        if not isinstance(out, streams.TransformOutput):
            raise Err(wit.TransformError_Failed(
                f"the transform answered {type(out).__name__}, not a TransformOutput"))
        return wit.OutputMeta(str(out.media_type),
                              [wit.Entry(str(k), str(v)) for k, v in out.entries])

    def transform(self, request, input, output):
        from plinth_pdk import streams

        return self._run(request, streams.Input(input), streams.Output(output))

    def transform_bytes(self, request, input: bytes):
        from plinth_pdk import streams

        output = streams.BytesOutput()
        meta = self._run(request, streams.BytesInput(input), output)
        return (meta, bytes(output.data))


def _storage_call(method: str, *args):
    from wit_world.exports import storage_provider as wit

    from plinth_pdk import streams

    if not streams._providers:
        raise Err(wit.StorageError_Backend("this plugin registered no @storage_provider"))
    try:
        return getattr(streams._providers[0], method)(*args)
    except Err:
        raise
    except streams.StorageError as e:
        case = {
            "not-found": wit.StorageError_NotFound,
            "invalid-key": wit.StorageError_InvalidKey,
            "too-large": wit.StorageError_TooLarge,
            "conflict": wit.StorageError_Conflict,
        }.get(e.case, wit.StorageError_Backend)
        raise Err(case(_message(e))) from None
    except Exception as e:  # noqa: BLE001 - a failing provider answers `backend`
        raise Err(wit.StorageError_Backend(_message(e))) from None


def _meta(meta):
    from wit_world.exports import storage_provider as wit

    from plinth_pdk import streams

    if not isinstance(meta, streams.ObjectMeta):
        raise Err(wit.StorageError_Backend(
            f"the provider answered {type(meta).__name__}, not an ObjectMeta"))
    return wit.ObjectMeta(str(meta.key), int(meta.size))


class StorageProvider:
    """`plinth:storage-provider/storage-provider`: the class registered with
    `@storage_provider`. NotFound, InvalidKey, TooLarge, Conflict and Backend are their
    cases; any other exception is `backend`."""

    def put(self, key: str, size, input):
        from plinth_pdk import streams

        return _meta(_storage_call("put", key, size, streams.Input(input)))

    def get(self, key: str, output):
        from plinth_pdk import streams

        out = streams.Output(output)
        meta = _storage_call("get", key, out)
        _storage_call_flush(out)
        return _meta(meta)

    def head(self, key: str):
        return _meta(_storage_call("head", key))

    def list(self, prefix: str, cursor, limit: int):
        from wit_world.exports import storage_provider as wit

        from plinth_pdk import streams

        page = _storage_call("list", prefix, cursor, limit)
        if not isinstance(page, streams.ListPage):
            raise Err(wit.StorageError_Backend(
                f"the provider answered {type(page).__name__}, not a ListPage"))
        return wit.ListPage([str(k) for k in page.keys], page.next_cursor)

    def delete(self, key: str) -> None:
        _storage_call("delete", key)


def _storage_call_flush(output) -> None:
    from wit_world.exports import storage_provider as wit

    try:
        output.flush()
    except Exception as e:  # noqa: BLE001 - a refused flush is the backend's failure
        raise Err(wit.StorageError_Backend(_message(e))) from None
