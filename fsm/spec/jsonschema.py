"""The JSON Schema of the spec format, shipped as package data (``spec.schema.json``).

Editors and CI use it to validate spec files without running ``fsm``; the parser stays the
authority and reports what a schema cannot (references, write types, guards, flow).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMA_FILE = "spec.schema.json"


def spec_json_schema() -> dict[str, Any]:
    """A fresh copy of the spec's JSON Schema (draft 2020-12); callers may modify it."""
    text = resources.files("fsm.spec").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
