"""The reference `command` plugin in Python: `greet [--shout] [NAME...]`.

run(["Ada"]) answers "Hello, Ada!", run([]) "Hello, world!", `--shout` upper-cases the
answer and `--help` prints the usage. Any other argument starting with `-` is an `err` with
the usage. The greeting word comes from the `greeting` setting, read through `config` when
granted ("Hello" otherwise).

The twin of examples/greet (Rust); the same tests run against both.
"""

from plinth_pdk import HostError, command, config
from plinth_pdk.exports import Command, Lifecycle  # noqa: F401 - the component's exports

USAGE = "usage: greet [--shout] [NAME...]"
DEFAULT_GREETING = "Hello"


class UsageError(Exception):
    """An argument the command does not know: the call's `err`."""


def greeting() -> str:
    """The `greeting` setting, or the default when it is unset, not a string, or `config` is
    not granted."""
    try:
        value = config.get("greeting")
    except HostError:
        return DEFAULT_GREETING
    return value if isinstance(value, str) else DEFAULT_GREETING


def greet(args, word: str) -> str:
    shout = False
    names = []
    for arg in args:
        if arg == "--shout":
            shout = True
        elif arg == "--help":
            return USAGE
        elif arg.startswith("-"):
            raise UsageError(f"unknown option `{arg}`; {USAGE}")
        else:
            names.append(arg)
    answer = f"{word}, {' '.join(names) if names else 'world'}!"
    return answer.upper() if shout else answer


@command
def run(args):
    return greet(args, greeting())
