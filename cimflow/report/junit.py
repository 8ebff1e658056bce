"""JUnit XML rendering of a validation for CI dashboards: one testcase per rule, one failure per finding."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from cimflow.findings import Finding
from cimflow.report.validation import ValidationReport

SUITE_NAME = "cimflow validate"


def _where(f: Finding) -> str:
    loc = f.location
    parts = []
    if loc.file:
        parts.append(f"{loc.file}:{loc.line}" if loc.line else loc.file)
    if loc.cim_class or loc.mrid:
        parts.append(" ".join(p for p in (loc.cim_class, loc.mrid) if p))
    if loc.attribute:
        parts.append(loc.attribute)
    return " | ".join(parts)


def render_junit(report: ValidationReport) -> str:
    """A ``<testsuites>`` document: each selected rule is a testcase of the suite.

    Findings at or above ``fail_on`` are ``<failure>`` elements of their rule's testcase (one per
    finding, ``type`` = severity); findings below it are listed in the testcase's ``<system-out>``,
    so that a dashboard shows them without turning red. A rule without findings passes.
    """
    by_code: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_code[f.code].append(f)
    metas = {m.code: m for m in report.rules}
    codes = sorted(set(metas) | set(by_code))
    n_failed = sum(1 for c in codes if any(report.failing(f) for f in by_code.get(c, ())))
    root = ET.Element("testsuites", name=SUITE_NAME, tests=str(len(codes)), failures=str(n_failed), errors="0")
    suite = ET.SubElement(
        root,
        "testsuite",
        name=SUITE_NAME,
        tests=str(len(codes)),
        failures=str(n_failed),
        errors="0",
        skipped="0",
        time="0",
    )
    props = ET.SubElement(suite, "properties")
    for path in report.inputs:
        ET.SubElement(props, "property", name="input", value=path)
    ET.SubElement(props, "property", name="fail-on", value=report.fail_on)
    for code in codes:
        meta = metas.get(code)
        name = f"{code} {meta.name}" if meta else code
        classname = f"cimflow.rules.{meta.category.value}" if meta else "cimflow.rules"
        case = ET.SubElement(suite, "testcase", classname=classname, name=name, time="0")
        quiet: list[str] = []
        for f in by_code.get(code, ()):
            if report.failing(f):
                failure = ET.SubElement(case, "failure", message=f.message, type=f.severity.label)
                failure.text = f"{_where(f)}\n{f.message}" + (f"\nfix: {meta.fix}" if meta else "")
            else:
                quiet.append(f"{f.severity.label}: {_where(f)}: {f.message}")
        if quiet:
            ET.SubElement(case, "system-out").text = "\n".join(quiet)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
