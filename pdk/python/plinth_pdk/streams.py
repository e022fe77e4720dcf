"""The streaming kinds, `content-transform` and `storage-provider` (docs/design/0046 and
0070), and the items of a stream an app-defined host function returns (0065).

    from plinth_pdk import TransformOutput, content_transform
    from plinth_pdk.exports import ContentTransform, Lifecycle

    @content_transform("text/plain")
    def summarize(request, input, output):
        lines = total = 0
        for chunk in input:
            lines += chunk.count(b"\\n")
            total += len(chunk)
        output.write(f"{lines} lines, {total} bytes\\n".encode())
        return TransformOutput("text/plain").with_entry("bytes", total)

`input` reads the host's `wasi:io` input stream a chunk at a time (`read(n)`, or iterate
it); `output.write(data)` writes, and `output.forward(input)` has the host copy the rest of
the input to the output (`splice`): those bytes never enter the plugin's memory.

**Memory.** Reading is bounded: each chunk is freed once Python drops it. Writing is not,
with componentize-py 0.25.1: the bytes of every `list<u8>` argument of an import call
(`write`, `kv.set`) are copied into linear memory that is never freed, so a call's memory
grows by what it writes (docs/design/0070). Write small outputs (a summary, a thumbnail,
extracted text); pass large parts through with `forward`.

The items of an app-defined stream (`next: func() -> option<T>`):

    for delta in items(chat.stream_chat(messages)):
        ...

stops at `None` and drops the resource, so the host's producer stops too (also when the
loop is left early).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

#: The bytes asked of the host per read or splice.
CHUNK = 64 * 1024
#: The longest key a storage provider takes, in UTF-8 bytes.
MAX_KEY_BYTES = 1024


# ----------------------------------------------------------------------------------- streams


class StreamFailed(Exception):
    """The host refused a read or a write (its output cap, a closed sink): the text says
    why. A transform or provider that lets it escape answers `failed` / `backend`."""


def _drop(resource) -> None:
    """Drops a componentize-py resource now rather than when Python collects it."""
    exit_ = getattr(resource, "__exit__", None)
    if exit_ is not None:
        exit_(None, None, None)


def _closed(error) -> bool:
    return type(getattr(error, "value", None)).__name__.endswith("Closed")


def _describe(error) -> str:
    value = getattr(error, "value", error)
    inner = getattr(value, "value", None)
    if inner is not None and hasattr(inner, "to_debug_string"):
        try:
            return inner.to_debug_string()
        except Exception:  # noqa: BLE001 - the text is a courtesy
            pass
    return type(value).__name__


class Input:
    """The input the host lends for the call: `read(n)` gives up to `n` bytes, `b""` at the
    end; iterating gives chunks of up to `CHUNK` bytes."""

    def __init__(self, stream):
        self._stream = stream
        self._done = False

    def read(self, n: int = CHUNK) -> bytes:
        """Up to `n` bytes (at least one unless at the end), `b""` at the end."""
        from componentize_py_types import Err

        if self._done or n <= 0:
            return b""
        try:
            return bytes(self._stream.blocking_read(n))
        except Err as e:
            if _closed(e):
                self._done = True
                return b""
            raise StreamFailed(f"reading the input failed: {_describe(e)}") from None

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self.read(CHUNK)
            if not chunk:
                return
            yield chunk


class Output:
    """The output the host lends for the call. `write(data)` writes as fast as the host
    takes it; `forward(input)` has the host copy the input's rest without it passing
    through the plugin."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, data: bytes) -> None:
        """Writes all of `data` (its bytes stay in the plugin's memory until the call ends:
        see the module's note)."""
        from componentize_py_types import Err

        data = bytes(data)
        at = 0
        try:
            while at < len(data):
                permit = self._stream.check_write()
                if permit == 0:
                    pollable = self._stream.subscribe()
                    pollable.block()
                    _drop(pollable)
                    continue
                piece = data[at:at + min(permit, CHUNK)]
                self._stream.write(piece)
                at += len(piece)
        except Err as e:
            raise StreamFailed(f"writing the output failed: {_describe(e)}") from None

    def forward(self, input: "Input", limit: Optional[int] = None) -> int:
        """Copies the rest of `input` (at most `limit` bytes) to this output; returns the
        bytes copied. Between the host's streams the host copies them (`splice`): the
        plugin's memory does not grow, whatever the size."""
        if not isinstance(input, Input) or isinstance(input, BytesInput) or input._done:
            return _copy(input, self, limit)
        from componentize_py_types import Err

        moved = 0
        try:
            while limit is None or moved < limit:
                want = CHUNK if limit is None else min(CHUNK, limit - moved)
                moved += self._stream.blocking_splice(input._stream, want)
        except Err as e:
            if not _closed(e):
                raise StreamFailed(f"forwarding failed: {_describe(e)}") from None
            input._done = True
        return moved

    def flush(self) -> None:
        """Waits until the host has taken everything written."""
        from componentize_py_types import Err

        try:
            self._stream.blocking_flush()
        except Err as e:
            raise StreamFailed(f"flushing the output failed: {_describe(e)}") from None


class BytesInput(Input):
    """An input over bytes in memory: what `transform-bytes` hands the function."""

    def __init__(self, data: bytes):
        self._data = bytes(data)
        self._at = 0
        self._done = False

    def read(self, n: int = CHUNK) -> bytes:
        chunk = self._data[self._at:self._at + max(n, 0)]
        self._at += len(chunk)
        return chunk


class BytesOutput(Output):
    """An output into memory: what `transform-bytes` collects."""

    def __init__(self):
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def forward(self, input: "Input", limit: Optional[int] = None) -> int:
        return _copy(input, self, limit)

    def flush(self) -> None:
        pass


def _copy(input: Input, output: Output, limit: Optional[int]) -> int:
    moved = 0
    while limit is None or moved < limit:
        chunk = input.read(CHUNK if limit is None else min(CHUNK, limit - moved))
        if not chunk:
            break
        output.write(chunk)
        moved += len(chunk)
    return moved


def items(stream, close: bool = True) -> Iterator[Any]:
    """The items of a stream an app-defined host function returned (a resource with
    `next() -> option<T>`), until `None`. The resource is dropped when the items end or the
    loop is left (`close=False` keeps it), which stops the host's producer."""
    try:
        while True:
            item = stream.next()
            if item is None:
                return
            yield item
    finally:
        if close:
            _drop(stream)


# ---------------------------------------------------------------------- content-transform


@dataclass
class TransformRequest:
    """What is transformed: the media type (lowercase, without parameters), the size when
    the host knows it, and the application's parameters."""

    media_type: str
    size: Optional[int] = None
    params: List[Tuple[str, str]] = field(default_factory=list)

    def param(self, name: str) -> Optional[str]:
        """The value of the parameter `name`, if any."""
        for key, value in self.params:
            if key == name:
                return value
        return None


@dataclass
class TransformOutput:
    """What a transform produced besides its bytes: the output's media type and facts."""

    media_type: str
    entries: List[Tuple[str, str]] = field(default_factory=list)

    def with_entry(self, key: str, value: Any) -> "TransformOutput":
        """Adds the fact `key = value`."""
        self.entries.append((str(key), str(value)))
        return self


_transforms: Dict[str, Callable[[TransformRequest, Input, Output], Any]] = {}


def content_transform(media_type: str, *media_types: str):
    """Registers `transform(request, input, output) -> TransformOutput` for the media types
    of the manifest's `[[provides.content-transform]]` entries (export `ContentTransform`).
    The same function serves `transform-bytes` over in-memory streams. Others are
    `unsupported-media-type`; `plinth_pdk.InvalidInput` is `invalid-input`, any other exception
    `failed`. The PDK flushes the output after the function returns."""

    def register(function):
        for name in (media_type, *media_types):
            _transforms[name] = function
        return function

    return register


# ----------------------------------------------------------------------- storage-provider


class StorageError(Exception):
    """A storage provider's error; raise a subclass. Any other exception is `backend`."""

    case = "backend"


class NotFound(StorageError):
    """No object has this key."""

    case = "not-found"


class InvalidKey(StorageError):
    """The key breaks the key rules."""

    case = "invalid-key"


class TooLarge(StorageError):
    """The object is over the provider's size limit."""

    case = "too-large"


class Conflict(StorageError):
    """Another writer changed the object during the operation."""

    case = "conflict"


class Backend(StorageError):
    """The backend failed."""

    case = "backend"


@dataclass
class ObjectMeta:
    """What a provider knows of one stored object."""

    key: str
    size: int


@dataclass
class ListPage:
    """One page of keys and the cursor of the next page (None on the last)."""

    keys: List[str]
    next_cursor: Optional[str] = None


def check_key(key: str) -> None:
    """Raises InvalidKey unless `key` follows the kind's rules: 1 to 1024 bytes of UTF-8,
    no control character, no backslash, no leading `/`, no empty, `.` or `..` segment."""
    if not key:
        raise InvalidKey("the key is empty")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKey("the key is over 1024 bytes")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in key):
        raise InvalidKey("the key holds a control character")
    if "\\" in key:
        raise InvalidKey("the key holds a backslash")
    if key.startswith("/"):
        raise InvalidKey("the key starts with `/`")
    if any(s in ("", ".", "..") for s in key.split("/")):
        raise InvalidKey("the key has an empty, `.` or `..` segment")


def page_of(sorted_keys, prefix: str, cursor: Optional[str], limit: int) -> ListPage:
    """The page of `sorted_keys` (distinct, in byte order) that start with `prefix` and come
    after `cursor`, at most `limit` long; the next page's cursor is its last key."""
    limit = max(int(limit), 1)
    after = None if cursor is None else cursor.encode("utf-8")
    keys: List[str] = []
    more = False
    for key in sorted_keys:
        if not key.startswith(prefix) or (after is not None and key.encode("utf-8") <= after):
            continue
        if len(keys) == limit:
            more = True
            break
        keys.append(key)
    return ListPage(keys, keys[-1] if more and keys else None)


_providers: List[Any] = []


def storage_provider(cls):
    """Registers a storage provider class (export `StorageProvider`), made once at module
    level, with the methods `put(key, size, input) -> ObjectMeta`, `get(key, output) ->
    ObjectMeta`, `head(key)`, `list(prefix, cursor, limit) -> ListPage` and `delete(key)`.
    Raise NotFound, InvalidKey, TooLarge, Conflict or Backend; any other exception is
    `backend`. The PDK flushes a get's output after the method returns."""
    _providers[:] = [cls()]
    return cls
