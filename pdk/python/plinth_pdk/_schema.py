"""The input check the PDK makes before a tool runs: a subset of JSON Schema.

The host validates every input against the full schema before it calls a tool; this keeps a
tool called directly from seeing input of the wrong shape. It checks `type`, `enum`, `const`,
`properties`, `required`, `additionalProperties`, `items`, `minItems`, `maxItems`,
`minLength`, `maxLength`, `minimum`, `maximum`, `exclusiveMinimum` and `exclusiveMaximum`,
and lets every other keyword pass: the same subset as the Rust and JavaScript PDKs, with the
same messages.
"""

from __future__ import annotations

import json
import math
from typing import Any, List, Optional

__all__ = ["check"]


def check(schema: Any, value: Any) -> Optional[str]:
    """The first place where `value` does not fit `schema`, as a message; None when it fits."""
    return _check(schema, value, "")


def _check(schema: Any, value: Any, at: str) -> Optional[str]:
    if schema is True:
        return None
    if schema is False:
        return _fail(at, "no value is allowed here")
    if not isinstance(schema, dict):
        return None
    problem = _check_type(schema, value, at)
    if problem:
        return problem
    if "const" in schema and not _same(schema["const"], value):
        return _fail(at, f"expected {_text(schema['const'])}")
    allowed = schema.get("enum")
    if isinstance(allowed, list) and not any(_same(item, value) for item in allowed):
        return _fail(at, "not one of the allowed values")
    if isinstance(value, str):
        return _check_string(schema, value, at)
    if _is_number(value):
        return _check_number(schema, value, at)
    if isinstance(value, dict):
        return _check_object(schema, value, at)
    if isinstance(value, list):
        return _check_array(schema, value, at)
    return None


def _check_type(schema: dict, value: Any, at: str) -> Optional[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        names: List[str] = [declared]
    elif isinstance(declared, list):
        names = [name for name in declared if isinstance(name, str)]
    else:
        return None
    if any(_has_type(value, name) for name in names):
        return None
    return _fail(at, f"expected {' or '.join(names)}, got {_type_name(value)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _has_type(value: Any, name: str) -> bool:
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "string":
        return isinstance(value, str)
    if name == "number":
        return _is_number(value)
    if name == "integer":
        return _is_number(value) and math.isfinite(value) and float(value).is_integer()
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    return True


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def _same(a: Any, b: Any) -> bool:
    """JSON equality, numbers compared by value (1 equals 1.0), booleans never numbers."""
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    return type(a) is type(b) and a == b


def _number(schema: dict, keyword: str) -> Optional[float]:
    value = schema.get(keyword)
    return value if _is_number(value) else None


def _check_string(schema: dict, text: str, at: str) -> Optional[str]:
    low = _number(schema, "minLength")
    if low is not None and len(text) < low:
        return _fail(at, f"shorter than {_text(low)} characters")
    high = _number(schema, "maxLength")
    if high is not None and len(text) > high:
        return _fail(at, f"longer than {_text(high)} characters")
    return None


_BOUNDS = (
    ("minimum", lambda n, b: n >= b, "less than"),
    ("maximum", lambda n, b: n <= b, "greater than"),
    ("exclusiveMinimum", lambda n, b: n > b, "not greater than"),
    ("exclusiveMaximum", lambda n, b: n < b, "not less than"),
)


def _check_number(schema: dict, number: float, at: str) -> Optional[str]:
    for keyword, holds, words in _BOUNDS:
        bound = _number(schema, keyword)
        if bound is not None and not holds(number, bound):
            return _fail(at, f"{words} {_text(bound)}")
    return None


def _check_object(schema: dict, value: dict, at: str) -> Optional[str]:
    required = schema.get("required")
    if isinstance(required, list):
        for name in required:
            if isinstance(name, str) and name not in value:
                return _fail(at, f"missing property `{name}`")
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    for name, item in value.items():
        if name in properties:
            item_schema = properties[name]
        elif "additionalProperties" in schema:
            item_schema = schema["additionalProperties"]
            if item_schema is False:
                return _fail(at, f"unexpected property `{name}`")
        else:
            continue
        problem = _check(item_schema, item, _within(at, name))
        if problem:
            return problem
    return None


def _check_array(schema: dict, items: list, at: str) -> Optional[str]:
    low = _number(schema, "minItems")
    if low is not None and len(items) < low:
        return _fail(at, f"fewer than {_text(low)} items")
    high = _number(schema, "maxItems")
    if high is not None and len(items) > high:
        return _fail(at, f"more than {_text(high)} items")
    if "items" in schema:
        for index, item in enumerate(items):
            problem = _check(schema["items"], item, _within(at, str(index)))
            if problem:
                return problem
    return None


def _within(at: str, segment: str) -> str:
    return at + "/" + segment.replace("~", "~0").replace("/", "~1")


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _fail(at: str, what: str) -> str:
    return f"the input: {what}" if not at else f"`{at}`: {what}"
