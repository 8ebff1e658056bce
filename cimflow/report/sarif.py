"""SARIF 2.1.0 rendering of a validation, as GitHub code scanning accepts it (rules with help, physical locations)."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from cimflow import catalog
from cimflow.findings import Finding, RuleMeta, Severity
from cimflow.report.common import TOOL_NAME, dumps, tool_block
from cimflow.report.validation import ValidationReport

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://cimflow.readthedocs.io/"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _artifact(file: str) -> tuple[str, str | None]:
    """(artifact URI, zip member) of a finding's file; zip members point at their archive."""
    path, _, member = file.partition("!/")
    p = Path(path)
    if p.is_absolute():
        return p.as_uri(), member or None
    return quote(PurePosixPath(*p.parts).as_posix()), member or None


def _rule(meta: RuleMeta) -> dict[str, Any]:
    what = meta.doc.split("## What it checks\n", 1)[-1].split("\n\n", 1)[0].strip()
    return {
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": what},
        "fullDescription": {"text": f"{what} How to fix: {meta.fix}"},
        "help": {"text": meta.doc, "markdown": f"**{meta.code} {meta.name}**\n\n{meta.doc}"},
        "helpUri": meta.url,
        "defaultConfiguration": {"level": _LEVEL[meta.default_severity]},
        "properties": {"tags": ["cim", meta.category.value, meta.stage.value], "precision": "high"},
    }


def _fingerprint(f: Finding) -> str:
    loc = f.location
    key = "\x1f".join((f.code, loc.mrid or "", loc.attribute or "", loc.file or "", f.message if not loc.mrid else ""))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _result(f: Finding, index: int, fallback_file: str) -> dict[str, Any]:
    loc = f.location
    uri, member = _artifact(loc.file or fallback_file)
    text = f.message if member is None else f"{f.message} (in {member})"
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if loc.line and member is None:
        physical["region"] = {"startLine": loc.line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if loc.mrid:
        logical: dict[str, Any] = {"name": loc.mrid, "kind": "object"}
        if loc.cim_class:
            suffix = f".{loc.attribute}" if loc.attribute else ""
            logical["fullyQualifiedName"] = f"{loc.cim_class}/{loc.mrid}{suffix}"
        location["logicalLocations"] = [logical]
    result: dict[str, Any] = {
        "ruleId": f.code,
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {"cimflowFinding/v1": _fingerprint(f)},
    }
    if index >= 0:
        result["ruleIndex"] = index
    if f.related:
        result["properties"] = {"related": list(f.related)}
    return result


def sarif_document(report: ValidationReport) -> dict[str, Any]:
    """The SARIF log of a validation: one run, the selected rules, one result per finding."""
    rules = list(report.rules)
    codes = {m.code for m in rules}
    for f in report.findings:  # a finding of a rule outside the selection still needs its rule entry
        meta = catalog.lookup(f.code)
        if meta is not None and meta.code not in codes:
            rules.append(meta)
            codes.add(meta.code)
    rules.sort(key=lambda m: m.code)
    index = {m.code: i for i, m in enumerate(rules)}
    fallback = report.inputs[0] if report.inputs else "."
    tool = tool_block()
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": tool["version"],
                        "semanticVersion": tool["version"],
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(m) for m in rules],
                    }
                },
                "results": [_result(f, index.get(f.code, -1), fallback) for f in report.findings],
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def render_sarif(report: ValidationReport) -> str:
    """The SARIF log as byte-stable JSON text."""
    # the log, its runs, a run and its results are laid out; each result and rule takes one line
    return dumps(sarif_document(report), open_levels=4)
