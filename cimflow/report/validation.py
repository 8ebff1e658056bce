"""The validation report: a value every renderer takes, and its JSON document (``schemas/validation-report``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cimflow import catalog
from cimflow.findings import Finding, RuleMeta, Severity, sort_findings
from cimflow.report.common import dumps, finding_records, tool_block

VALIDATION_SCHEMA_VERSION = "1.0"
FAIL_LEVELS: dict[str, Severity | None] = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
    "never": None,
}


@dataclass(frozen=True, slots=True)
class ValidationSummary:
    """Counts of a validation: findings per severity and what topology found.

    Attributes:
        errors: Findings of severity error.
        warnings: Findings of severity warning.
        infos: Findings of severity info.
        radial: Whether every island holding a branch is radial (``None`` without topology or branches).
        islands: Number of islands (0 without topology).
        buses: Number of buses (0 without topology).
    """

    errors: int = 0
    warnings: int = 0
    infos: int = 0
    radial: bool | None = None
    islands: int = 0
    buses: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The ``summary`` object of the JSON document."""
        return {
            "errors": self.errors,
            "warnings": self.warnings,
            "infos": self.infos,
            "radial": self.radial,
            "islands": self.islands,
            "buses": self.buses,
        }


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What the validation renderers (JSON, SARIF, JUnit, Markdown, text) take.

    Attributes:
        inputs: The input paths as given.
        findings: Findings with their effective severity, in report order.
        summary: Counts and topology facts.
        rules: Catalogue entries of the codes that were selected (the rules that ran), by code.
        fail_on: Lowest severity that fails the run (``error``, ``warning``, ``info`` or ``never``).
    """

    inputs: tuple[str, ...]
    findings: tuple[Finding, ...]
    summary: ValidationSummary
    rules: tuple[RuleMeta, ...] = field(default=catalog.ALL_META)
    fail_on: str = "error"

    def failing(self, finding: Finding) -> bool:
        """Whether a finding is at or above ``fail_on``."""
        level = FAIL_LEVELS.get(self.fail_on)
        return level is not None and finding.severity >= level


def make_report(
    inputs: Iterable[str],
    findings: Iterable[Finding],
    summary: ValidationSummary,
    *,
    codes: Iterable[str] | None = None,
    fail_on: str = "error",
) -> ValidationReport:
    """Assemble a :class:`ValidationReport`; ``codes`` limits the rule list (default: whole catalogue)."""
    wanted = set(codes) if codes is not None else None
    rules = tuple(m for m in catalog.ALL_META if wanted is None or m.code in wanted)
    return ValidationReport(tuple(inputs), tuple(sort_findings(findings)), summary, rules, fail_on)


def validation_document(report: ValidationReport) -> dict[str, Any]:
    """The JSON document of a validation (see ``schemas/validation-report.schema.json``)."""
    return {
        "schema_version": VALIDATION_SCHEMA_VERSION,
        "tool": tool_block(),
        "inputs": list(report.inputs),
        "summary": report.summary.as_dict(),
        "findings": finding_records(report.findings),
    }


def render_json(report: ValidationReport) -> str:
    """The validation JSON document, byte-stable (sorted keys and findings, no timestamp)."""
    return dumps(validation_document(report))
