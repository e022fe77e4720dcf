"""A command plugin: run(["Ada"]) greets Ada, run(["echo", ...]) echoes the rest.

The Python twin of examples/hello (Rust). The greeting word comes from the optional
`greeting` setting, read through the `config` host API when the operator granted it.
"""

import json

from plinth_pdk import HostError, command, config, log, on_load
from plinth_pdk.exports import Command, Lifecycle  # noqa: F401 - the component's exports

DEFAULT_GREETING = "Hello"
greeting = None


@on_load
def load(settings):
    global greeting
    try:
        value = config.get("greeting")
    except HostError:
        value = None  # `config` not granted: keep the default
    if value is not None and not isinstance(value, str):
        raise ValueError(
            f"setting `greeting` must be a string, got {json.dumps(value, separators=(',', ':'))}"
        )
    greeting = value


def greet(name):
    log.info(f"greeting {name}")
    return f"{greeting or DEFAULT_GREETING}, {name}!"


@command
def run(args):
    if args and args[0] == "echo":
        log.info(f"echoing {len(args) - 1} words")
        return " ".join(args[1:])
    return greet(" ".join(args) if args else "world")
