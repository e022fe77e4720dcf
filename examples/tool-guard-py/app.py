"""The reference `hook` plugin in Python: at `before-tool-call` it

1. denies a tool the operator listed in the `deny_subjects` setting (read through `config`
   when granted; without the grant the list is empty);
2. denies a call whose payload mentions a path under /etc: a string, or a word of one (split
   at ASCII white space), that is an absolute path whose first component is `etc` once `.`
   and `..` are resolved;
3. modifies a payload whose `text` string has leading or trailing ASCII white space,
   trimming it;
4. allows everything else, and every other hook point.

The twin of examples/tool-guard (Rust): the same events get the same decisions and reasons.
"""

import re

from plinth_pdk import HostError, config, deny, hook, modify
from plinth_pdk.exports import Hook, Lifecycle  # noqa: F401 - the component's exports

ASCII_SPACE = " \t\n\r\x0c"
WORDS = re.compile("[ \t\n\r\x0c]")


def denied_subjects():
    """The `deny_subjects` setting, or nothing when it is unset or `config` is not granted."""
    try:
        items = config.get("deny_subjects", [])
    except HostError:
        return []
    return [item for item in items if isinstance(item, str)] if isinstance(items, list) else []


def is_under_etc(word: str) -> bool:
    if not word.startswith("/"):
        return False
    components = []
    for component in word.split("/"):
        if component in ("", "."):
            continue
        if component == "..":
            if components:
                components.pop()
        else:
            components.append(component)
    return bool(components) and components[0] == "etc"


def etc_paths(value, paths):
    if isinstance(value, str):
        paths.extend(word for word in WORDS.split(value) if is_under_etc(word))
    elif isinstance(value, list):
        for item in value:
            etc_paths(item, paths)
    elif isinstance(value, dict):
        for item in value.values():
            etc_paths(item, paths)


def decide(event, deny_subjects):
    if event.subject in deny_subjects:
        return deny(f"`{event.subject}` is denied by the operator's settings (`deny_subjects`)")
    payload = event.payload
    if not isinstance(payload, dict):
        return None
    paths = []
    for value in payload.values():
        etc_paths(value, paths)
    if paths:
        return deny(f"`{event.subject}` would touch `{min(paths)}`, which is under /etc")
    text = payload.get("text")
    if isinstance(text, str) and text.strip(ASCII_SPACE) != text:
        return modify({**payload, "text": text.strip(ASCII_SPACE)})
    return None


@hook("before-tool-call")
def guard(event):
    return decide(event, denied_subjects())
