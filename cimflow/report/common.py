"""Pieces every JSON document shares: the tool block and the finding record."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from cimflow import catalog
from cimflow.findings import Finding, sort_findings

TOOL_NAME = "cimflow"


def tool_block() -> dict[str, str]:
    """``{"name": "cimflow", "version": ...}``."""
    from cimflow import __version__

    return {"name": TOOL_NAME, "version": __version__}


def finding_record(f: Finding) -> dict[str, Any]:
    """A finding as the JSON object every cimflow report uses."""
    meta = catalog.lookup(f.code)
    loc = f.location
    return {
        "code": f.code,
        "name": meta.name if meta else f.code.lower(),
        "severity": f.severity.label,
        "message": f.message,
        "file": loc.file,
        "line": loc.line,
        "mrid": loc.mrid,
        "cim_class": loc.cim_class,
        "attribute": loc.attribute,
        "related": list(f.related),
        "ctx": {k: f.ctx[k] for k in sorted(f.ctx)},
        "url": meta.url if meta else None,
    }


def finding_records(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    """Findings in report order as JSON objects."""
    return [finding_record(f) for f in sort_findings(findings)]


_RECORD = json.JSONEncoder(sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
_KEY = json.JSONEncoder(ensure_ascii=False)
_OPEN_LEVELS = 2  # the document and its sections are laid out; each record below them takes one line


def dumps(document: dict[str, Any], *, open_levels: int = _OPEN_LEVELS) -> str:
    """Byte-stable JSON: sorted keys, trailing newline; the first ``open_levels`` levels (the document and its
    sections) indented by two spaces, one record (a bus, a branch, a finding) per line below them.

    One line per record keeps reports readable and diffable, and lets the C encoder write each record:
    an indented dump of a whole 10^5-bus report goes through Python's pure-Python encoder (measured: 0.78 s
    against 0.26 s to build the document, for a 10k-bus report with 15k findings).
    """
    return _layout(document, 0, open_levels) + "\n"


def _layout(value: Any, depth: int, open_levels: int) -> str:
    if depth >= open_levels or not isinstance(value, (dict, list, tuple)) or not value:
        return _RECORD.encode(value)
    pad = "  " * (depth + 1)
    if isinstance(value, dict):
        keys = sorted(value)
        if not all(isinstance(k, str) for k in keys):
            raise TypeError("report documents have string keys only")
        body = ",\n".join(f"{pad}{_KEY.encode(k)}: {_layout(value[k], depth + 1, open_levels)}" for k in keys)
        return "{\n" + body + "\n" + "  " * depth + "}"
    body = ",\n".join(pad + _layout(item, depth + 1, open_levels) for item in value)
    return "[\n" + body + "\n" + "  " * depth + "]"
