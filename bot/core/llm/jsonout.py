"""Parse and check a model's JSON output against the JSON schema it was asked to follow."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


def _strip_fence(text: str) -> str:
    """Drop a Markdown code fence: a server without grammar support often wraps JSON in one."""
    text = text.strip()
    match = _FENCE.match(text)
    return match.group(1) if match else text


def parse_json(text: str) -> Any:
    """The JSON value in text; ValueError says whether it was cut off or not JSON at all."""
    body = _strip_fence(text)
    if not body:
        raise ValueError("The model's output is empty instead of JSON.")
    try:
        return json.loads(body, strict=False)  # a raw newline inside a string is harmless here
    except json.JSONDecodeError as exc:
        # An error at the very end means the text stopped mid-value: max_tokens ran out.
        if exc.pos >= len(body.rstrip()) or "Unterminated" in exc.msg:
            raise ValueError(f"The model's output was cut off before its JSON ended ({len(body)} characters).") \
                from None
        raise ValueError(f"The model's output is not valid JSON: {exc.msg} at character {exc.pos}.") from None


def _where(path: Any) -> str:
    """A JSON path such as improvements[1] for an error message."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the top level"


def validate_json(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The parsed object if it follows schema; a one-sentence ValueError otherwise."""
    value = parse_json(text)
    from jsonschema import Draft202012Validator  # imported here: it costs startup time
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(schema).iter_errors(value))
    if error is not None:
        raise ValueError(f"The model's JSON does not follow the schema at {_where(error.absolute_path)}: "
                         f"{error.message}.")
    if not isinstance(value, dict):
        raise ValueError(f"The model's JSON is a {type(value).__name__}, not an object.")
    return value
