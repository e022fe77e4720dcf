"""A tool provider with one tool, `count_vowels`: {"text": "Plinth"} -> {"count": 1}.

The Python twin of examples/count-vowels (Rust); the same tests run against both.
"""

from plinth_pdk import InvalidInput, log, tool
from plinth_pdk.exports import Lifecycle, Tools  # noqa: F401 - the component's exports

# The same schema as count_vowels.schema.json (plugin.toml's [[tools]] entry).
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "count_vowels input",
    "type": "object",
    "properties": {
        "text": {
            "type": "string",
            "description": "The text whose vowels (a, e, i, o, u, either case) are counted.",
        }
    },
    "required": ["text"],
    "additionalProperties": False,
}

VOWELS = frozenset("aeiouAEIOU")


def count(text: str) -> int:
    return sum(1 for c in text if c in VOWELS)


@tool("count_vowels", "Counts the vowels (a, e, i, o, u, either case) in `text`.", SCHEMA)
def count_vowels(input):
    text = input.get("text") if isinstance(input, dict) else None
    if not isinstance(text, str):
        raise InvalidInput("expected an object with a string `text`")
    n = count(text)
    log.debug(f"count_vowels: {n} in {len(text)} characters")
    return {"count": n}
