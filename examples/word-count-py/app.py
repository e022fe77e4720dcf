"""The reference `tool` plugin in Python: one tool, `word_count`,
{"text": "one two  three"} -> {"words": 3}.

The twin of examples/word-count (Rust); the same tests run against both. Words are separated
by white space: the characters Rust's `char::is_whitespace` takes (Unicode White_Space).
"""

import re

from plinth_pdk import log, tool
from plinth_pdk.exports import Lifecycle, Tool  # noqa: F401 - the component's exports

# The same schemas as word_count.schema.json and word_count.output.json (plugin.toml).
INPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "word_count input",
    "type": "object",
    "properties": {
        "text": {
            "type": "string",
            "description": "The text whose words are counted; words are separated by white space.",
        }
    },
    "required": ["text"],
    "additionalProperties": False,
}

OUTPUT_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "word_count output",
    "type": "object",
    "properties": {
        "words": {
            "type": "integer",
            "minimum": 0,
            "description": "How many words `text` has.",
        }
    },
    "required": ["words"],
    "additionalProperties": False,
}

WHITE_SPACE = re.compile(
    "[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
)


def count_words(text: str) -> int:
    return sum(1 for word in WHITE_SPACE.split(text) if word)


@tool("word_count", "Counts the words in `text`.", INPUT_SCHEMA, output_schema=OUTPUT_SCHEMA)
def word_count(input):
    # The PDK checked the input against INPUT_SCHEMA: an object with a string `text`.
    text = input["text"]
    words = count_words(text)
    log.debug(f"word_count: {words} in {len(text)} characters")
    return {"words": words}
