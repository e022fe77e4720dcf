"""Thoth's kinds: file loaders, file viewers, exporters, data sources, theme providers.

Tables are plain Python: a `Column` has a `name` and a `type` ("string", "int", "float",
"bool", "timestamp", "bytes"); a row is a list of values, one per column, each of its
column's type or None. A UI node is a dict (checked by the host against the UI-node
schema); a theme is a dict in the shape of a `theme.json`.

    from plinth_pdk import exporter
    from plinth_pdk.exports import Exporter, Lifecycle

    @exporter("json")
    def export(format, table):
        return json.dumps(table.rows_as_dicts())

The PDK answers a format (or theme) nobody registered with `unknown-format` without
calling the plugin.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

COLUMN_TYPES = ("string", "int", "float", "bool", "timestamp", "bytes")

# The most characters a `text` node holds (the UI-node schema's maxLength).
TEXT_MAX_CHARS = 65536


@dataclass
class Column:
    """One column: its name and the type of its values."""

    name: str
    type: str = "string"


@dataclass
class TableInfo:
    """What a loader says before any row is read: the columns, and the row count when
    known without reading the rows."""

    columns: List[Column]
    row_count: Optional[int] = None


@dataclass
class Page:
    """At most the rows asked for, and where the next page starts (None after the last)."""

    rows: List[List[Any]] = field(default_factory=list)
    next: Optional[int] = None


@dataclass
class Table:
    """A whole table, as an exporter gets it."""

    columns: List[Column]
    rows: List[List[Any]]

    def rows_as_dicts(self) -> List[Dict[str, Any]]:
        """The rows as dicts keyed by column name (bytes as lists of numbers)."""
        def plain(value):
            return list(value) if isinstance(value, (bytes, bytearray)) else value

        return [{c.name: plain(v) for c, v in zip(self.columns, row)} for row in self.rows]


class Source:
    """A file handed to a loader or a viewer: its bytes, or a path in a granted directory
    (`/NAME/...` for `fs.read:NAME`)."""

    def __init__(self, data: Optional[bytes] = None, path: Optional[str] = None) -> None:
        self.data = data
        self.path = path

    def open(self):
        """A binary file object that seeks; a path is opened, never read whole."""
        if self.data is not None:
            return io.BytesIO(self.data)
        return open(self.path, "rb")  # noqa: SIM115 - the caller closes it

    def read_all(self) -> bytes:
        """The whole content (for small files)."""
        with self.open() as f:
            return f.read()


@dataclass
class UiOutput:
    """A UI node (a dict) and the height it would like (0: no preference)."""

    node: Dict[str, Any]
    height_hint: int = 0


def text_node(text: str, height_hint: int = 0) -> UiOutput:
    """A `text` node, cut to the schema's 65 536 characters."""
    return UiOutput({"type": "text", "text": text[:TEXT_MAX_CHARS]}, height_hint)


@dataclass
class UiEvent:
    """What the user did: the widget's id, the kind ("click", "change", "http-response",
    "notify") and the value."""

    widget_id: str
    kind: str
    value: str


class InvalidData(Exception):
    """Raise from a loader or viewer when the content is not valid for the format."""


class Unsupported(Exception):
    """Raise from an exporter when the format cannot hold the table."""


class PluginError(Exception):
    """Raise from a data source: the application sees `{code, message}`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def read_lines(source: Source, offset: int, max_lines: int):
    """At most `max_lines` lines of `source` from byte `offset`, without their line breaks,
    and the byte offset of the next line (None when the file ends after them). Only those
    lines are read. A line that is not UTF-8 raises InvalidData."""
    return _read_page(source, offset, max_lines, lambda line: True)


def read_records(source: Source, offset: int, max_records: int):
    """`read_lines` for formats of one record a line (CSV, TSV, JSON Lines): blank lines are
    skipped and not counted."""
    return _read_page(source, offset, max_records, lambda line: line.strip() != "")


def _read_page(source: Source, offset: int, max_lines: int, keep):
    lines: List[str] = []
    with source.open() as f:
        f.seek(offset)
        pos = offset
        while len(lines) < max_lines:
            raw = f.readline()
            if not raw:
                return lines, None
            pos += len(raw)
            try:
                line = raw.rstrip(b"\r\n").decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidData(f"the line ending at byte {pos} is not UTF-8") from None
            if keep(line):
                lines.append(line)
        more = f.read(1) != b""
    return lines, (pos if more else None)


def csv_fields(line: str) -> List[str]:
    """One CSV line's fields: separated by commas, `"quoted, with "" escapes"`."""
    out, fld, quoted, i = [], [], False, 0
    while i < len(line):
        c = line[i]
        if c == '"' and quoted and i + 1 < len(line) and line[i + 1] == '"':
            fld.append('"')
            i += 1
        elif c == '"':
            quoted = not quoted
        elif c == "," and not quoted:
            out.append("".join(fld))
            fld = []
        else:
            fld.append(c)
        i += 1
    out.append("".join(fld))
    return out


def csv_field(text: str) -> str:
    """One CSV field, quoted when it holds a comma, a quote or a line break."""
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


_loaders: Dict[str, Any] = {}
_viewers: Dict[str, Callable[..., Any]] = {}
_exporters: Dict[str, Callable[..., Any]] = {}
_themes: Dict[str, Callable[..., Any]] = {}
_sources: List[Any] = []


def file_loader(format: str, *formats: str):
    """Registers a class (or object) with `open(format, source) -> TableInfo` and
    `read_rows(format, source, cursor, max_rows) -> Page` for the formats of the manifest's
    `[[provides.file-loader]]` entries (export `FileLoader`). Each call runs in a fresh
    instance: the cursor (0, then the previous page's `next`) is all that carries over.
    Raise InvalidData for bad content; an OSError is `io`, any other exception `failed`."""

    def register(loader):
        for name in (format, *formats):
            _loaders[name] = loader
        return loader

    return register


def file_viewer(format: str, *formats: str):
    """Registers `view(format, source) -> UiOutput | dict` (export `FileViewer`)."""

    def register(function):
        for name in (format, *formats):
            _viewers[name] = function
        return function

    return register


def exporter(format: str, *formats: str):
    """Registers `export(format, table: Table) -> bytes | str` (export `Exporter`). Raise
    Unsupported for a table the format cannot hold."""

    def register(function):
        for name in (format, *formats):
            _exporters[name] = function
        return function

    return register


def theme_provider(name: str, *names: str):
    """Registers `provide(name, context) -> dict` (export `ThemeProvider`): `context` is the
    application's JSON parsed (None when it is not JSON); the answer is a theme dict."""

    def register(function):
        for theme in (name, *names):
            _themes[theme] = function
        return function

    return register


def data_source(cls):
    """Registers a class (or object) with `render_ui() -> UiOutput | dict`,
    `handle_event(event: UiEvent) -> UiOutput | dict`, optionally `render_sidebar()`, and
    `open(query) -> TableInfo`, `read_rows(query, cursor, max_rows) -> Page` (the query
    parsed from JSON; text that is not JSON is answered with `invalid-query`). Export
    `DataSource`. Raise PluginError(code, message) to fail a call."""
    _sources[:] = [cls]
    return cls
