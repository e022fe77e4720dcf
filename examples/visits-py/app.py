"""A command plugin using granted host APIs: run(["Ada"]) counts Ada's visit in the
key-value store and answers "Hello, Ada! Visit 1.", then 2, 3, ... across calls and
processes.

The Python twin of examples/visits (Rust): `kv` (required) keeps the counter
`visits/NAME`; `config` (optional) supplies the `greeting` setting, read on every call;
`log` (optional) gets one record per visit. Without `kv` the call fails with the host's
`missing-grant` error, whose text names the `plinth grant` command.
"""

from plinth_pdk import HostError, command, config, kv, log
from plinth_pdk.exports import Command, Lifecycle  # noqa: F401 - the component's exports

DEFAULT_GREETING = "Hello"


def greeting():
    try:
        value = config.get("greeting")
    except HostError:
        return DEFAULT_GREETING  # `config` not granted
    return value if isinstance(value, str) and value else DEFAULT_GREETING


@command
def run(args):
    name = " ".join(args) if args else "world"
    try:
        count = kv.increment(f"visits/{name}")
    except HostError as e:
        raise RuntimeError(f"{e.kind}: {e.message}") from None
    log.info(f"visit {name} {count}")
    return f"{greeting()}, {name}! Visit {count}."
