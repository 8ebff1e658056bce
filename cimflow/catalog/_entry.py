"""Helper that assembles a catalogue entry and its ruff-style documentation."""

from __future__ import annotations

from cimflow.findings import Category, RuleMeta, Severity, Stage


def entry(
    code: str,
    name: str,
    category: Category,
    severity: Severity,
    stage: Stage,
    template: str,
    *,
    fix: str,
    what: str,
    why: str,
    example: str,
    options: str = "None.",
    references: str,
) -> RuleMeta:
    """Return a :class:`RuleMeta` whose doc has the sections What it checks / Why it matters / Example / ..."""
    doc = (
        f"## What it checks\n{what}\n\n## Why it matters\n{why}\n\n## Example\n{example}\n\n"
        f"## How to fix\n{fix}\n\n## Options\n{options}\n\n## References\n{references}\n"
    )
    return RuleMeta(
        code=code,
        name=name,
        category=category,
        default_severity=severity,
        stage=stage,
        template=template,
        fix=fix,
        doc=doc,
    )
