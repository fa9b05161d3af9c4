"""Generate src/protocol.ts (TypeScript types) from the protocol's JSON Schema.

Run ``python scripts/gen_protocol_types.py``; ``--check`` exits 1 when the
committed file is stale (a test runs that).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "python" / "cnnlive" / "protocol" / "schema.json"
TARGET = ROOT / "src" / "protocol.ts"


def ts_type(spec: dict) -> str:
    if "$ref" in spec:
        return spec["$ref"].split("/")[-1]
    if "const" in spec:
        return json.dumps(spec["const"])
    if "enum" in spec:
        return " | ".join(json.dumps(v) for v in spec["enum"])
    if "oneOf" in spec:
        return " | ".join(ts_type(s) for s in spec["oneOf"])
    kind = spec.get("type")
    if isinstance(kind, list):
        return " | ".join(ts_type({**spec, "type": k}) for k in kind)
    if kind in ("integer", "number"):
        return "number"
    if kind == "string":
        return "string"
    if kind == "boolean":
        return "boolean"
    if kind == "null":
        return "null"
    if kind == "array":
        return f"Array<{ts_type(spec.get('items', {}))}>"
    if kind == "object":
        if "properties" in spec:
            return "{ " + " ".join(f"{k}: {ts_type(v)};" for k, v in spec["properties"].items()) + " }"
        extra = spec.get("additionalProperties")
        return f"Record<string, {ts_type(extra) if isinstance(extra, dict) else 'unknown'}>"
    return "unknown"


def render(schema: dict) -> str:
    out = [
        "// Generated from python/cnnlive/protocol/schema.json by",
        "// scripts/gen_protocol_types.py. Do not edit by hand.",
        "",
        f"export const PROTOCOL_VERSION = {schema['version']};",
        "",
    ]
    for name, spec in schema["$defs"].items():
        if spec.get("type") == "object" and "properties" in spec:
            required = set(spec.get("required", []))
            out.append(f"export interface {name} {{")
            for key, sub in spec["properties"].items():
                opt = "" if key in required else "?"
                out.append(f"  {key}{opt}: {ts_type(sub)};")
            out.append("}")
        else:
            out.append(f"export type {name} = {ts_type(spec)};")
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    text = render(json.loads(SCHEMA.read_text()))
    if "--check" in argv:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET} is stale: run python scripts/gen_protocol_types.py")
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
