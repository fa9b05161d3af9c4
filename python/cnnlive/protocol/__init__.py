"""The versioned panel protocol, defined once in ``schema.json``: the protocol
version, the panel's actions and the job states are read from it (the
TypeScript side is generated from it by ``scripts/gen_protocol.mjs``)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any



class ProtocolError(ValueError):
    """A message that does not follow the protocol."""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("schema.json").read_text())


PROTOCOL_VERSION: int = schema()["version"]
ACTIONS: tuple[str, ...] = tuple(schema()["$defs"]["Action"]["enum"])
FINISHED_STATES: tuple[str, ...] = tuple(schema()["$defs"]["FinishedState"]["enum"])


@lru_cache(maxsize=4)
def _validator(kind: str) -> Any:
    import jsonschema

    full = schema()
    root = {"$schema": full["$schema"], "$defs": full["$defs"], "$ref": f"#/$defs/{kind}"}
    return jsonschema.Draft202012Validator(root)


#: Cheap limits a panel message must keep before it is validated against the
#: schema (the largest valid one, a compare request naming 12 runs, is ~4 KB).
MAX_PANEL_BYTES = 64 * 1024   # strings, keys and numbers together, estimated as JSON
MAX_PANEL_DEPTH = 6           # nesting of objects and arrays
MAX_PANEL_ITEMS = 256         # values in all objects and arrays together


def check_limits(message: Any, max_bytes: int = MAX_PANEL_BYTES, max_depth: int = MAX_PANEL_DEPTH,
                 max_items: int = MAX_PANEL_ITEMS) -> None:
    """Raise ProtocolError as soon as ``message`` (parsed JSON) is larger,
    deeper or has more values than the limits. Stops at the first excess, so
    its cost is bounded by the limits, not by the message; the error names
    the limit, never the content."""
    size, items = 0, 0
    stack: list[tuple[Any, int]] = [(message, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > max_depth:
                raise ProtocolError(f"panel message nested deeper than {max_depth} levels")
            items += len(value)
            if items > max_items:
                raise ProtocolError(f"panel message has more than {max_items} values")
            size += 2 + len(value)
            children = value.items() if isinstance(value, dict) else enumerate(value)
            for key, child in children:
                if isinstance(key, str):
                    size += len(key) + 3
                stack.append((child, depth + 1))
        elif isinstance(value, str):
            size += len(value) + 2
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 20:
            raise ProtocolError("panel message holds an integer too large for the protocol")
        else:
            size += 8
        if size > max_bytes:
            raise ProtocolError(f"panel message larger than {max_bytes // 1024} KB")


def _where(error: Any) -> str:
    return "/".join(str(p)[:32] for p in list(error.absolute_path)[:MAX_PANEL_DEPTH]) or "message"


def _rule(error: Any) -> str:
    """The schema rule ``error`` breaks, in words taken from the schema only."""
    rule, value = error.validator, error.validator_value
    if rule == "enum":
        return "must be one of " + ", ".join(map(str, value))
    if rule == "const":
        return f"must be {value!r}"
    if rule == "type":
        return f"must be of type {value if isinstance(value, str) else ' or '.join(value)}"
    if rule == "required":
        missing = [k for k in value if isinstance(error.instance, dict) and k not in error.instance]
        return f"needs {', '.join(missing) or ', '.join(value)}"
    if rule == "additionalProperties":
        return "has a property the protocol does not define"
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return f"breaks {rule} {value}"[:120]
    return f"breaks the schema's {rule} rule"


def validate(message: Any, kind: str = "PanelMessage", limits: bool = True) -> dict[str, Any]:
    """Return ``message`` if it is a valid ``kind`` message, else raise
    ProtocolError. A panel message is first held to :func:`check_limits`
    (``limits=False``: the caller already did, e.g. the panel bridge, so it
    runs once per message), and its error is short: where and which rule,
    never its content."""
    if kind not in ("PanelMessage", "KernelMessage"):
        raise ValueError(f"kind must be PanelMessage or KernelMessage, not {kind!r}")
    part = kind
    if kind == "PanelMessage":
        if limits:
            check_limits(message)
        kind_of = message.get("type") if isinstance(message, dict) else None
        part = {"hello": "PanelHello", "request": "Request"}.get(kind_of) if isinstance(kind_of, str) else None
        if part is None:
            raise ProtocolError(f"invalid {kind}: must be an object whose type is 'hello' or 'request'")
    errors = sorted(_validator(part).iter_errors(message), key=lambda e: e.path)
    if errors:
        first = errors[0]
        if kind == "PanelMessage":  # the rule broken, without the value (no echo of the message)
            from jsonschema.exceptions import best_match

            first = best_match(errors) or first
            raise ProtocolError(f"invalid {kind} at {_where(first)}: {_rule(first)}")
        raise ProtocolError(f"invalid {kind} at {_where(first)}: {first.message}")
    return message


__all__ = ["ACTIONS", "FINISHED_STATES", "MAX_PANEL_BYTES", "PROTOCOL_VERSION", "ProtocolError", "check_limits",
           "schema", "validate"]
