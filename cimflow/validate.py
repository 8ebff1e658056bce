"""The library face of ``cimflow validate``: read, build, topology, rules; every finding in one pass.

::

    import cimflow
    result = cimflow.validate(["feeder_EQ.xml", "feeder_SSH.xml"])
    for f in result.findings:
        print(f.severity.label, f.code, f.location.file, f.location.line, f.message)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from cimflow import catalog
from cimflow.cim.build import build_network
from cimflow.cim.ingest import ingest
from cimflow.cim.source import SourceLimits
from cimflow.config import Settings
from cimflow.findings import Finding, Severity, Stage, sort_findings
from cimflow.gcpause import gc_paused
from cimflow.model.network import Network
from cimflow.report.validation import FAIL_LEVELS, ValidationReport, ValidationSummary, make_report
from cimflow.rules.base import CheckContext
from cimflow.rules.engine import run_stage
from cimflow.rules.registry import Selection, selection
from cimflow.topology import Topology, build_topology

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """What :func:`validate` returns: findings in report order, the summary, and the stages' values.

    Attributes:
        inputs: The paths as given.
        findings: Selected findings with their effective severity, sorted (severity desc, code, mRID).
        summary: Counts and topology facts.
        network: The built network (``None`` when no input could be read).
        topology: The :class:`cimflow.topology.Topology` (``None`` if it could not be built).
        settings: The settings used.
        selected: The rule codes that were selected.
        timings_s: Seconds spent per stage: ``parse`` (read and XML), ``build`` (model), ``topology``, ``rules``.
    """

    inputs: tuple[str, ...]
    findings: tuple[Finding, ...]
    summary: ValidationSummary
    network: Network | None
    topology: Topology | None
    settings: Settings
    selected: frozenset[str] = frozenset()
    timings_s: Mapping[str, float] = field(default_factory=dict, compare=False)

    @property
    def readable(self) -> bool:
        """Whether at least one input document could be read."""
        return self.network is not None

    def report(self, *, fail_on: str | None = None) -> ValidationReport:
        """The report the renderers take: rules limited to the selected codes that validation runs (no CF4xx)."""
        codes = {c for c in self.selected if (m := catalog.BY_CODE.get(c)) is not None and m.stage is not Stage.SOLVE}
        return make_report(
            self.inputs, self.findings, self.summary, codes=codes, fail_on=fail_on or self.settings.fail_on
        )

    def failed(self, fail_on: str | None = None) -> bool:
        """Whether a finding reaches ``fail_on`` (default: the settings' ``fail_on``; ``never`` never fails)."""
        level = FAIL_LEVELS[(fail_on or self.settings.fail_on).lower()]
        return level is not None and any(f.severity >= level for f in self.findings)


def _radial(topology: Topology | None) -> bool | None:
    """Whether every island that holds a branch is radial; ``None`` without topology or branches.

    De-energised islands count too (unlike :attr:`Topology.radial`): a GIS export of one LV feeder
    without its supply is still a radial feeder, and a loop in a dead island is still a loop.
    """
    if topology is None:
        return None
    with_branches = [i for i in topology.islands if i.branches.size]
    return all(i.radial for i in with_branches) if with_branches else None


def _summarise(findings: Iterable[Finding], topology: Topology | None) -> ValidationSummary:
    counts = {Severity.ERROR: 0, Severity.WARNING: 0, Severity.INFO: 0}
    for f in findings:
        counts[f.severity] += 1
    return ValidationSummary(
        errors=counts[Severity.ERROR],
        warnings=counts[Severity.WARNING],
        infos=counts[Severity.INFO],
        radial=_radial(topology),
        islands=len(topology.islands) if topology is not None else 0,
        buses=len(topology.buses) if topology is not None else 0,
    )


def validate(
    paths: str | Path | Iterable[str | Path],
    *,
    settings: Settings | None = None,
    limits: SourceLimits | None = None,
) -> ValidationResult:
    """Validate CIM inputs: every finding of ingest, build, topology and the rules, selected and graded.

    Never raises for bad data: unreadable input gives ``network=None`` and CF0xx findings.

    Args:
        paths: Files, folders or zip archives (one or many).
        settings: Selection, severity overrides and thresholds (default :class:`Settings`).
        limits: Safety limits of the reader.

    Raises:
        ConfigError: a selector in ``settings`` names no rule.
    """
    st = settings or Settings()
    chosen = selection(st)
    with gc_paused():
        return _validate(paths, st, chosen, limits)


def _validate(
    paths: str | Path | Iterable[str | Path], st: Settings, chosen: Selection, limits: SourceLimits | None
) -> ValidationResult:
    inputs = (str(paths),) if isinstance(paths, (str, Path)) else tuple(str(p) for p in paths)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + now - clock
        clock = now

    ingested = ingest(list(inputs), limits=limits)
    lap("parse")
    found: list[Finding] = list(ingested.findings)
    network: Network | None = None
    topology: Topology | None = None
    if ingested.value is not None:
        built = build_network(ingested.value)
        network = built.value
        found.extend(built.findings)
        lap("build")
    if network is not None:
        ctx = CheckContext(network, None, st)
        found.extend(run_stage(Stage.BUILD, ctx, selection=chosen))
        lap("rules")
        topo = build_topology(network)
        topology = topo.value
        found.extend(topo.findings)
        lap("topology")
        if topology is not None:
            found.extend(run_stage(Stage.TOPOLOGY, ctx.with_topology(topology), selection=chosen))
            lap("rules")
    findings = tuple(sort_findings(chosen.apply(found)))
    log.debug("validated %s: %d findings", ", ".join(inputs), len(findings))
    return ValidationResult(
        inputs=inputs,
        findings=findings,
        summary=_summarise(findings, topology),
        network=network,
        topology=topology,
        settings=st,
        selected=chosen.codes,
        timings_s=MappingProxyType(timings),
    )
