"""Wire the stages: read, build, and (as they exist) topology, rules, power flow; collect the outcomes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cimflow.cim.build import build_network
from cimflow.cim.ingest import ingest
from cimflow.cim.source import SourceLimits
from cimflow.findings import Finding, Outcome, Severity, sort_findings
from cimflow.model.network import Network


@dataclass(frozen=True, slots=True)
class LoadResult:
    """A loaded network (``None`` when nothing could be read) and the findings of reading it."""

    network: Network | None
    findings: tuple[Finding, ...]

    @property
    def readable(self) -> bool:
        """Whether at least one input document could be read."""
        return self.network is not None

    def at_least(self, severity: Severity) -> list[Finding]:
        """Findings at or above a severity."""
        return [f for f in self.findings if f.severity >= severity]


def _as_list(paths: str | Path | Iterable[str | Path]) -> list[str | Path]:
    if isinstance(paths, (str, Path)):
        return [paths]
    return list(paths)


def load(paths: str | Path | Iterable[str | Path], *, limits: SourceLimits | None = None) -> LoadResult:
    """Read CIM files, folders or zips into a :class:`Network` with the findings of ingest and build.

    Never raises for bad data: unreadable input yields ``network=None`` and CF0xx findings.
    """
    ingested = ingest(_as_list(paths), limits=limits)
    if ingested.value is None:
        return LoadResult(None, tuple(sort_findings(ingested.findings)))
    built: Outcome[Network] = build_network(ingested.value)
    return LoadResult(built.value, tuple(sort_findings((*ingested.findings, *built.findings))))
