"""The `service` kind (docs/design/0048): a long-lived instance the host feeds from its
ingress queue, one event at a time, in order.

    from plinth_pdk import Handled, ServiceCommand, service
    from plinth_pdk.exports import Lifecycle, Service

    @service
    class Echo:
        def handle(self, event):
            if event.source == "websocket" and event.kind == "message":
                return Handled.ok().command(
                    ServiceCommand.send_text(event.connection, "echo: " + event.text()))
            return Handled.ok()

A handler does not reach out itself: it answers with commands (send a WebSocket frame,
close a connection, publish, make an HTTP request, call an application action) that the
host checks against the plugin's grants before anything happens. State kept on the object
survives from event to event, and is gone when the host replaces a failed instance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, List, Optional, Tuple, Union

from plinth_pdk.bitvault import Outcome, ok, reject, retry

Headers = List[Tuple[str, str]]


@dataclass
class IngressEvent:
    """One event from the service's ingress queue.

    `source` is `app`, `websocket`, `http`, `http-client` or the application's own; `kind`
    is `message`, `open`, `close`, `request`, `response` or the application's own;
    `connection` is the WebSocket connection, HTTP route or `http-request` tag it belongs to
    (None for none). `meta` is the metadata parsed (None when it is not JSON), `raw_meta`
    its text."""

    sequence: int
    attempt: int
    source: str
    kind: str
    connection: Optional[str]
    connection_sequence: int
    meta: Any
    raw_meta: str
    body: bytes

    def text(self) -> str:
        """The body as text (invalid UTF-8 replaced)."""
        return self.body.decode("utf-8", errors="replace")


@dataclass
class SendFrame:
    """Send a frame (str: text, bytes: binary) on a host-owned WebSocket connection
    (grant `websocket:<endpoint>`)."""

    connection: str
    frame: Union[str, bytes]


@dataclass
class CloseConnection:
    """Close a host-owned WebSocket connection (grant `websocket:<endpoint>`)."""

    connection: str
    code: int = 1000
    reason: str = ""


@dataclass
class Publish:
    """Publish on an event channel (grant `events.publish:<channel>`)."""

    channel: str
    payload: str


@dataclass
class HttpRequest:
    """An HTTP request (grant `http:<host>`); the answer arrives as an event from
    `http-client` whose connection is `tag`."""

    tag: str
    method: str
    url: str
    headers: Headers = field(default_factory=list)
    body: bytes = b""


@dataclass
class Action:
    """Call an action the application defines (grant `<name>` or `<name>:<scope>`);
    `payload` is any JSON value."""

    name: str
    payload: Any = None
    scope: Optional[str] = None


class ServiceCommand:
    """The output commands a handler answers with, as in the Rust PDK's `ServiceCommand`."""

    SendFrame = SendFrame
    Close = CloseConnection
    Publish = Publish
    HttpRequest = HttpRequest
    Action = Action

    @staticmethod
    def send_text(connection: str, text: str) -> SendFrame:
        """A text frame on `connection`."""
        return SendFrame(str(connection), str(text))

    @staticmethod
    def send_binary(connection: str, data: bytes) -> SendFrame:
        """A binary frame on `connection`."""
        return SendFrame(str(connection), bytes(data))

    @staticmethod
    def close(connection: str, code: int = 1000, reason: str = "") -> CloseConnection:
        """Close `connection` with `code` and `reason`."""
        return CloseConnection(str(connection), int(code), str(reason))

    @staticmethod
    def publish(channel: str, payload: Any) -> Publish:
        """Publish `payload` (text as it is, anything else as JSON) on `channel`."""
        text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        return Publish(str(channel), text)

    @staticmethod
    def http_request(tag: str, method: str, url: str, headers: Optional[Headers] = None,
                     body: Union[bytes, str] = b"") -> HttpRequest:
        """A request of `method` to `url`, its answer tagged `tag`."""
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        return HttpRequest(str(tag), str(method), str(url), list(headers or []), data)

    @staticmethod
    def post_json(tag: str, url: str, value: Any) -> HttpRequest:
        """A `POST` of `value` as JSON to `url`, tagged `tag`."""
        body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return HttpRequest(str(tag), "POST", str(url), [("content-type", "application/json")],
                           body)

    @staticmethod
    def action(name: str, payload: Any = None, scope: Optional[str] = None) -> Action:
        """The application action `name` with `payload`, its grant checked for `scope`."""
        return Action(str(name), payload, scope)


@dataclass
class Reply:
    """The response to an event from an HTTP route."""

    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""


@dataclass
class Handled:
    """A handler's answer: an outcome, commands carried out in order, and for an HTTP
    route's event a reply (else the host answers 204)."""

    outcome: Outcome = field(default_factory=ok)
    commands: List[Any] = field(default_factory=list)
    reply: Optional[Reply] = None

    @staticmethod
    def ok() -> "Handled":
        """Done."""
        return Handled(ok())

    @staticmethod
    def reject(reason: str) -> "Handled":
        """Never processable: the host dead-letters the event with `reason`."""
        return Handled(reject(reason))

    @staticmethod
    def retry(after_ms: int) -> "Handled":
        """Deliver the event again after `after_ms` milliseconds (up to the service's
        `max_attempts`; then it is dead-lettered)."""
        return Handled(retry(after_ms))

    def command(self, command: Any) -> "Handled":
        """This answer with `command` (a `ServiceCommand`) added."""
        self.commands.append(command)
        return self

    def respond(self, status: int, content_type: str, body: Union[bytes, str]) -> "Handled":
        """This answer with an HTTP reply of `status` carrying `body` as `content_type`."""
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        self.reply = Reply(int(status), [("content-type", str(content_type))], data)
        return self


_services: List[Any] = []


def service(cls):
    """Registers the service (export `Service`): a class (made once, when the component is
    built) or an object with `handle(event: IngressEvent) -> Handled`, and optionally
    `start()` (raise to fail the start: the host tries again with backoff) and `stop()`.
    `handle` may also answer an `Outcome` (`ok()`, `reject(reason)`, `retry(after_ms)`) or
    None (`ok`); an exception rejects the event with its text."""
    _services[:] = [cls() if isinstance(cls, type) else cls]
    return cls
