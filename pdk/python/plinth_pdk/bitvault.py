"""BitVault's small kinds: event handlers, auth providers, policy hooks, search analyzers
and previews (docs/design/0045), with the helpers their plugins need: a word tokenizer with
UTF-8 byte offsets, a PNG encoder and a constant-time comparison.

    from plinth_pdk import Identity, auth_provider, constant_time_eq
    from plinth_pdk.exports import AuthProvider, Lifecycle

    @auth_provider
    def authenticate(token):
        if constant_time_eq(token, "key-alice"):
            return Identity("alice", "acme").with_claim("role", "admin")
        raise Denied("unknown key")

Each decorator registers one function; export the kind's class from `plinth_pdk.exports`
(`EventHandler`, `AuthProvider`, `PolicyHook`, `SearchAnalyzer`, `Preview`). The PDK answers
an analyzer or media type nobody registered (`unknown-analyzer`, `unsupported`) without
calling the plugin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

Attributes = List[Tuple[str, str]]


def attribute(attributes: Attributes, name: str) -> Optional[str]:
    """The value of the first attribute called `name`, if any."""
    for key, value in attributes:
        if key == name:
            return value
    return None


# ----------------------------------------------------------------------------- event handler


@dataclass
class ObjectEvent:
    """One event about one object. `action` is "created", "updated" or "deleted"."""

    id: str
    action: str
    tenant: str
    path: str
    size: int
    media_type: str
    digest: str
    at_ms: int
    attributes: Attributes = field(default_factory=list)

    def attribute(self, name: str) -> Optional[str]:
        """The value of the object's attribute `name`, if any."""
        return attribute(self.attributes, name)


@dataclass
class Outcome:
    """A handler's answer; make one with `ok()`, `reject(reason)` or `retry(after_ms)`."""

    kind: str
    reason: str = ""
    after_ms: int = 0


def ok() -> Outcome:
    """Handled (a handler returning None answers `ok` too)."""
    return Outcome("ok")


def reject(reason: str) -> Outcome:
    """Refused for good; `reason` says why, for a person. Not delivered again."""
    return Outcome("reject", reason=str(reason))


def retry(after_ms: int) -> Outcome:
    """Not handled now: deliver again after `after_ms` milliseconds (0 to 4 294 967 295)."""
    return Outcome("retry", after_ms=min(max(int(after_ms), 0), 0xFFFF_FFFF))


# ----------------------------------------------------------------------------- auth provider


@dataclass
class Identity:
    """Who a token stands for: a subject and a tenant (never empty), and claims in order."""

    subject: str
    tenant: str
    claims: Attributes = field(default_factory=list)

    def with_claim(self, name: str, value: str) -> "Identity":
        """This identity with the claim `name` = `value` added."""
        self.claims.append((str(name), str(value)))
        return self


class Denied(Exception):
    """Raise from an auth provider: the token is not valid (the text is for the server's
    log, not for the client)."""


class Unavailable(Exception):
    """Raise from an auth provider that cannot decide now (its backend is unreachable)."""


def constant_time_eq(a: Union[str, bytes], b: Union[str, bytes]) -> bool:
    """Whether `a` and `b` are equal, in a time that depends on their lengths only: compare
    secrets with it, never with `==`."""
    x = a.encode("utf-8") if isinstance(a, str) else bytes(a)
    y = b.encode("utf-8") if isinstance(b, str) else bytes(b)
    if len(x) != len(y):
        return False
    diff = 0
    for p, q in zip(x, y):
        diff |= p ^ q
    return diff == 0


# ------------------------------------------------------------------------------- policy hook


@dataclass
class PolicyRequest:
    """A request the server is about to serve."""

    operation: str
    subject: str
    tenant: str
    path: str
    attributes: Attributes = field(default_factory=list)

    def attribute(self, name: str) -> Optional[str]:
        """The value of the request's attribute `name`, if any."""
        return attribute(self.attributes, name)


@dataclass
class AddAttributes:
    """Serve the request with these attributes added; make one with `add_attributes`."""

    attributes: Attributes


def add_attributes(attributes: Union[Dict[str, str], Attributes]) -> AddAttributes:
    """Serve the request with `attributes` (a dict or (name, value) pairs) added; a name
    given again replaces the value. Answer `allow()` or `deny(reason)` otherwise."""
    pairs = attributes.items() if isinstance(attributes, dict) else attributes
    return AddAttributes([(str(k), str(v)) for k, v in pairs])


# --------------------------------------------------------------------------- search analyzer


@dataclass(slots=True)
class Token:
    """One token: the term indexed, its position in the token stream, and the byte offsets
    of its source in the text (UTF-8)."""

    term: str
    position: int
    start: int
    end: int


# A run of letters and digits: `\w` without the underscore.
_WORD = re.compile(r"[^\W_]+")
# ASCII text, where characters are bytes, takes a cheaper path (a regex match costs more
# than the rest of a token): every character but a letter or digit becomes a space.
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})


def words(text: str, limit: Optional[int] = None) -> List[Token]:
    """The words of `text` (runs of letters and digits), lowercased, numbered from 0, with
    their UTF-8 byte offsets: the same tokens as the Rust PDK's `words`. With `limit`, at
    most that many."""
    if text.isascii():
        tokens: List[Token] = []
        append = tokens.append
        offset = 0
        for piece in text.lower().translate(_ASCII_SEPARATORS).split(" "):
            if piece:
                if len(tokens) == limit:
                    break
                append(Token(piece, len(tokens), offset, offset + len(piece)))
            offset += len(piece) + 1
        return tokens
    tokens = []
    chars = 0  # where the previous word ended, in characters and in bytes
    offset = 0
    for match in _WORD.finditer(text):
        if len(tokens) == limit:
            break
        start, end = match.span()
        word = match.group()
        first = offset + len(text[chars:start].encode("utf-8"))
        offset = first + len(word.encode("utf-8"))
        chars = end
        tokens.append(Token(word.lower(), len(tokens), first, offset))
    return tokens


# ----------------------------------------------------------------------------------- preview


@dataclass
class PreviewImage:
    """An image preview: the encoded PNG and its size in pixels."""

    data: bytes
    width: int
    height: int
    media_type: str = "image/png"


def png_gray(width: int, height: int, pixels: bytes) -> Optional[PreviewImage]:
    """A greyscale PNG of `width` × `height` pixels, one byte each, row by row (stored, not
    compressed); None when the sizes do not match the pixels."""
    pixels = bytes(pixels)
    if width <= 0 or height <= 0 or width * height != len(pixels):
        return None
    raw = bytearray()
    for row in range(height):
        raw.append(0)
        raw += pixels[row * width:(row + 1) * width]
    zlib = bytearray(b"\x78\x01")
    blocks = [raw[i:i + 65535] for i in range(0, len(raw), 65535)]
    for i, block in enumerate(blocks):
        zlib.append(1 if i + 1 == len(blocks) else 0)
        zlib += len(block).to_bytes(2, "little") + (len(block) ^ 0xFFFF).to_bytes(2, "little")
        zlib += block
    zlib += _adler32(raw).to_bytes(4, "big")
    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    png = bytearray(b"\x89PNG\r\n\x1a\n")
    for kind, body in ((b"IHDR", ihdr), (b"IDAT", bytes(zlib)), (b"IEND", b"")):
        png += len(body).to_bytes(4, "big")
        chunk = kind + body
        png += chunk + _crc32(chunk).to_bytes(4, "big")
    return PreviewImage(bytes(png), width, height)


def _adler32(data: bytes) -> int:
    a, b = 1, 0
    for byte in data:
        a = (a + byte) % 65521
        b = (b + a) % 65521
    return (b << 16) | a


_CRC_TABLE: List[int] = []


def _crc32(data: bytes) -> int:
    if not _CRC_TABLE:
        for n in range(256):
            c = n
            for _ in range(8):
                c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
            _CRC_TABLE.append(c)
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


# ---------------------------------------------------------------------------------- registry

_handlers: List[Callable[[ObjectEvent], Any]] = []
_authenticators: List[Callable[[str], Any]] = []
_policies: List[Callable[[PolicyRequest], Any]] = []
_analyzers: Dict[str, Callable[[str, str], Any]] = {}
_previews: Dict[str, Callable[[str, bytes], Any]] = {}


def event_handler(function: Callable[[ObjectEvent], Any]):
    """Registers `handle(event: ObjectEvent) -> Outcome` (export `EventHandler`): answer
    `ok()`, `reject(reason)` or `retry(after_ms)`. None answers `ok`; an exception rejects
    the event with its text."""
    _handlers[:] = [function]
    return function


def auth_provider(function: Callable[[str], Any]):
    """Registers `authenticate(token) -> Identity` (export `AuthProvider`). Raise
    `Denied(reason)` or `Unavailable(reason)`; None is `denied`, any other exception is
    `unavailable` with its text."""
    _authenticators[:] = [function]
    return function


def policy_hook(function: Callable[[PolicyRequest], Any]):
    """Registers `decide(request: PolicyRequest)` (export `PolicyHook`), answering `allow()`,
    `deny(reason)` (the hook helpers) or `add_attributes(...)`. None allows; an exception
    denies the request."""
    _policies[:] = [function]
    return function


def search_analyzer(name: str, *names: str):
    """Registers `analyze(analyzer, text) -> list[Token]` for the analyzers of the manifest's
    `[[provides.search-analyzer]]` entries (export `SearchAnalyzer`); `words(text)` gives
    lowercased words with their offsets. An exception is `failed`."""

    def register(function):
        for analyzer in (name, *names):
            _analyzers[analyzer] = function
        return function

    return register


def preview(media_type: str, *media_types: str):
    """Registers `render(media_type, data: bytes) -> str | PreviewImage` for the media types
    of the manifest's `[[provides.preview]]` entries (export `Preview`). A str is a text
    preview (plain text: the host escapes it for HTML); `png_gray` makes an image. Raise
    InvalidData for bytes not valid in the format; any other exception is `failed`."""

    def register(function):
        for name in (media_type, *media_types):
            _previews[name] = function
        return function

    return register
