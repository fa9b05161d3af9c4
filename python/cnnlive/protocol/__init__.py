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


@lru_cache(maxsize=2)
def _validator(kind: str) -> Any:
    import jsonschema

    full = schema()
    root = {"$schema": full["$schema"], "$defs": full["$defs"], "$ref": f"#/$defs/{kind}"}
    return jsonschema.Draft202012Validator(root)


def validate(message: Any, kind: str = "PanelMessage") -> dict[str, Any]:
    """Return ``message`` if it is a valid ``kind`` message, else raise ProtocolError."""
    if kind not in ("PanelMessage", "KernelMessage"):
        raise ValueError(f"kind must be PanelMessage or KernelMessage, not {kind!r}")
    errors = sorted(_validator(kind).iter_errors(message), key=lambda e: e.path)
    if errors:
        first = errors[0]
        where = "/".join(map(str, first.absolute_path)) or "message"
        raise ProtocolError(f"invalid {kind} at {where}: {first.message}")
    return message


__all__ = ["ACTIONS", "FINISHED_STATES", "PROTOCOL_VERSION", "ProtocolError", "schema", "validate"]
