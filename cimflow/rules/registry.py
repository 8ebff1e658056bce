"""The explicit rule registry (``ALL_RULES``) and how ``--select``, ``--ignore`` and severity overrides apply.

Every code of the catalogue can be selected, ignored and re-graded, whether a rule object of this
package checks it or ingest/build emits it (CF0xx, most CF1xx, the build-time CF2xx constraints).
A selector is a code (``CF201``), a prefix (``CF2``, ``CF``) or a rule name (``negative-impedance``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from cimflow import catalog
from cimflow.config import Settings
from cimflow.errors import ConfigError
from cimflow.findings import Finding, RuleMeta, Severity
from cimflow.rules import cim, control, electrical, solution, topology
from cimflow.rules.base import Rule

ALL_RULES: tuple[Rule, ...] = tuple(
    sorted(
        (*cim.RULES, *electrical.RULES, *control.RULES, *topology.RULES, *solution.SOLUTION_RULES),
        key=lambda r: r.meta.code,
    )
)
ALL_CODES: frozenset[str] = frozenset(m.code for m in catalog.ALL_META)


def resolve(selector: str) -> frozenset[str]:
    """The catalogue codes a selector stands for.

    Raises:
        ConfigError: the selector matches no code, prefix or rule name.
    """
    text = selector.strip()
    meta = catalog.lookup(text)
    if meta is not None:
        return frozenset({meta.code})
    upper = text.upper()
    if upper.startswith("CF") and (upper[2:].isdigit() or upper == "CF") and len(upper) < 5:
        codes = frozenset(c for c in ALL_CODES if c.startswith(upper))
        if codes:
            return codes
    if upper == "ALL":
        return ALL_CODES
    raise ConfigError(f"unknown rule {selector!r}: give a code (CF201), a prefix (CF2) or a name (negative-impedance)")


def _specificity(selector: str) -> int:
    """More specific selectors win: a name or full code over a prefix, a longer prefix over a shorter one."""
    upper = selector.strip().upper()
    return len(upper) if upper.startswith("CF") and upper[2:].isdigit() else 5


@dataclass(frozen=True, slots=True)
class Selection:
    """Which codes are reported, and at which severity."""

    codes: frozenset[str] = ALL_CODES
    severity: Mapping[str, Severity] = field(default_factory=lambda: MappingProxyType({}))

    def selected(self, code: str) -> bool:
        """Whether findings of ``code`` are reported (codes unknown to the catalogue always are)."""
        return code in self.codes or code not in ALL_CODES

    def severity_of(self, meta: RuleMeta) -> Severity:
        """Effective default severity of a rule."""
        return self.severity.get(meta.code, meta.default_severity)

    def apply(self, findings: Iterable[Finding]) -> list[Finding]:
        """Drop unselected findings and re-grade overridden ones."""
        out: list[Finding] = []
        for f in findings:
            if not self.selected(f.code):
                continue
            new = self.severity.get(f.code)
            out.append(replace(f, severity=new) if new is not None and new != f.severity else f)
        return out


def selection(settings: Settings) -> Selection:
    """Turn the select/ignore/severity settings into a :class:`Selection`.

    Raises:
        ConfigError: a selector or severity label is unknown.
    """
    codes = set(ALL_CODES)
    if settings.select:
        codes = set()
        for s in settings.select:
            codes |= resolve(s)
    for s in settings.ignore:
        codes -= resolve(s)
    overrides: dict[str, Severity] = {}
    for s in sorted(settings.severity, key=_specificity):
        level = Severity.parse(settings.severity[s])
        for code in resolve(s):
            overrides[code] = level
    return Selection(frozenset(codes), MappingProxyType(dict(sorted(overrides.items()))))


def rules_for(stage_rules: Iterable[Rule], chosen: Selection) -> list[Rule]:
    """The rules among ``stage_rules`` whose code is selected."""
    return [r for r in stage_rules if chosen.selected(r.meta.code)]
