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


def dumps(document: dict[str, Any]) -> str:
    """Byte-stable JSON: sorted keys, two-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"
