"""Markdown rendering of a validation report: a summary table, then the findings grouped by severity."""

from __future__ import annotations

from cimflow import catalog
from cimflow.findings import Finding, Severity
from cimflow.report.validation import ValidationReport

_TITLES = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.INFO: "Infos"}


def _cell(text: str) -> str:
    """Escape a table cell: pipes, newlines, backticks inside code spans."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _code(text: str) -> str:
    return f"`{_cell(text).replace('`', chr(39))}`" if text else ""


def _location(f: Finding) -> str:
    loc = f.location
    if not loc.file:
        return ""
    return _code(f"{loc.file}:{loc.line}" if loc.line else loc.file)


def _object(f: Finding) -> str:
    loc = f.location
    parts = [_cell(loc.cim_class)] if loc.cim_class else []
    if loc.mrid:
        parts.append(_code(loc.mrid))
    if loc.attribute:
        parts.append(f"({_cell(loc.attribute)})")
    return " ".join(parts)


def _yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def render_markdown(report: ValidationReport) -> str:
    """The validation report as GitHub-flavoured Markdown (byte-stable: no timestamp, sorted findings)."""
    s = report.summary
    lines = ["# cimflow validation report", ""]
    if report.inputs:
        lines += ["Inputs: " + ", ".join(_code(p) for p in report.inputs), ""]
    lines += [
        "| errors | warnings | infos | radial | islands | buses |",
        "| ---: | ---: | ---: | :---: | ---: | ---: |",
        f"| {s.errors} | {s.warnings} | {s.infos} | {_yes_no(s.radial)} | {s.islands} | {s.buses} |",
        "",
    ]
    if not report.findings:
        lines += ["No findings.", ""]
    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        group = [f for f in report.findings if f.severity == severity]
        if not group:
            continue
        lines += [
            f"## {_TITLES[severity]} ({len(group)})",
            "",
            "| location | code | rule | object | message |",
            "| --- | --- | --- | --- | --- |",
        ]
        for f in group:
            meta = catalog.lookup(f.code)
            rule = f"[{meta.name}]({meta.url})" if meta else ""
            lines.append(f"| {_location(f)} | {f.code} | {rule} | {_object(f)} | {_cell(f.message)} |")
        lines.append("")
    return "\n".join(lines)
