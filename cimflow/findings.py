"""Findings: everything wrong in the user's grid data, as values (never logs or exceptions).

Every stage returns findings beside its value (:class:`Outcome`). A finding names its rule code, its
effective severity, one sentence of message and where the problem is (file, line, mRID, class,
attribute). These types live in the base layer because every stage, from ingest to post-solve rules,
produces them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Generic, TypeVar

from cimflow.ids import MRID

T = TypeVar("T")


class Severity(IntEnum):
    """How bad a finding is; ordered, so ``>=`` compares with ``--fail-on``."""

    INFO = 10
    WARNING = 20
    ERROR = 30

    @property
    def label(self) -> str:
        """Lower-case name used in reports and configuration (``error``, ``warning``, ``info``)."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read ``error``/``warning``/``info`` (any case)."""
        return cls[text.strip().upper()]


class Category(StrEnum):
    """Rule family; the first digit of the code."""

    INPUT = "input"  # CF0xx
    DATA = "data"  # CF1xx
    ELECTRICAL = "electrical"  # CF2xx
    TOPOLOGY = "topology"  # CF3xx
    SOLUTION = "solution"  # CF4xx


class Stage(StrEnum):
    """Pipeline stage at which a rule runs."""

    INGEST = "ingest"
    BUILD = "build"
    TOPOLOGY = "topology"
    SOLVE = "solve"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding points: the object and the place in the source file."""

    mrid: MRID | None = None
    cim_class: str | None = None
    attribute: str | None = None
    file: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """Catalogue entry of one rule code (see ``cimflow rules``)."""

    code: str
    name: str
    category: Category
    default_severity: Severity
    stage: Stage
    template: str
    fix: str
    doc: str

    @property
    def url(self) -> str:
        """Documentation anchor of the rule in the shipped docs."""
        return f"https://cimflow.readthedocs.io/en/latest/rules/#{self.code.lower()}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in the grid data, at one place."""

    code: str
    severity: Severity
    message: str
    location: Location
    ctx: Mapping[str, float | int | str] = field(default_factory=dict, hash=False, compare=False)
    related: tuple[str, ...] = ()

    def sort_key(self) -> tuple[int, str, str, str, int]:
        """Order used by every report: severity descending, code, mRID, file, line."""
        loc = self.location
        return (-int(self.severity), self.code, loc.mrid or "", loc.file or "", loc.line or 0)


def make_finding(
    meta: RuleMeta,
    location: Location,
    *,
    ctx: Mapping[str, float | int | str] | None = None,
    related: Iterable[str] = (),
    severity: Severity | None = None,
) -> Finding:
    """Build a finding from a rule's message template filled with ``ctx`` and the location."""
    values: dict[str, object] = {
        "mrid": location.mrid or "?",
        "cim_class": location.cim_class or "object",
        "attribute": location.attribute or "",
    }
    context = dict(ctx or {})
    values.update(context)
    try:
        message = meta.template.format(**values)
    except (KeyError, IndexError, ValueError):
        message = meta.template
    return Finding(
        code=meta.code,
        severity=severity if severity is not None else meta.default_severity,
        message=message,
        location=location,
        ctx=context,
        related=tuple(related),
    )


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What a stage returns: its value (``None`` when an error made it unusable) and its findings."""

    value: T | None
    findings: tuple[Finding, ...] = ()


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Return findings in report order (severity desc, code, mRID, file, line)."""
    return sorted(findings, key=Finding.sort_key)
