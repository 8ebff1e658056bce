"""The library face of ``cimflow solve``: validate, build the per-unit case, solve, check limits.

::

    import cimflow
    result = cimflow.solve(["feeder_EQ.xml", "feeder_SSH.xml", "feeder_TP.xml"])
    if result.converged:
        for bus in result.solution.buses:
            print(bus.id, bus.v_pu)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cimflow.apps.control_report import ControlRun, controlled_build, run_control
from cimflow.apps.volt_var import ControlConfig, ControlMode
from cimflow.catalog import inputs as icodes
from cimflow.cim.source import SourceLimits
from cimflow.config import Settings
from cimflow.errors import ConfigError
from cimflow.findings import Finding, Location, Severity, Stage, make_finding, sort_findings
from cimflow.gcpause import gc_paused
from cimflow.model.network import Network
from cimflow.powerflow import PowerFlowResult, Solver, solve_case
from cimflow.powerflow.case import CaseBuild, build_case
from cimflow.powerflow.remote_slack import hold_remote, not_held, remote_targets
from cimflow.powerflow.solution import Solution, make_solution
from cimflow.rules.base import CheckContext
from cimflow.rules.engine import run_stage
from cimflow.rules.registry import selection
from cimflow.validate import ValidationResult, validate


@dataclass(frozen=True, slots=True)
class SolveOptions:
    """How to solve: method, tolerance (pu), iteration cap and Volt-VAR control.

    ``control=None`` takes ``Settings.control`` (default ``none``); ``control_config=None`` reads
    ``Settings.control_config`` if set, else uses the defaults of :class:`ControlConfig`.
    """

    solver: Solver = Solver.AUTO
    tolerance: float = 1e-8
    max_iter: int = 100
    control: ControlMode | None = None
    control_config: ControlConfig | None = None

    def __post_init__(self) -> None:
        """Check the options (a bad value is the caller's fault: ConfigError)."""
        try:
            object.__setattr__(self, "solver", Solver(self.solver))
        except ValueError as err:
            raise ConfigError(f"solver={self.solver!r}, must be auto, fbs or nr") from err
        if not (self.tolerance > 0):
            raise ConfigError(f"tolerance={self.tolerance}, must be > 0")
        if self.max_iter < 1:
            raise ConfigError(f"max_iter={self.max_iter}, must be >= 1")
        if self.control is not None:
            try:
                object.__setattr__(self, "control", ControlMode(self.control))
            except ValueError as err:
                known = [m.value for m in ControlMode]
                raise ConfigError(f"control={self.control!r}, must be one of {known}") from err


@dataclass(frozen=True, slots=True)
class SolveResult:
    """Validation, the case, the raw result and the solution in CIM terms, with every finding.

    Attributes:
        validation: The validation that ran first (its network and topology are reused).
        build: The per-unit case and its index (``None`` when the input could not be modelled).
        result: The power-flow result in per unit (``None`` if no case).
        solution: The result under CIM identifiers (``None`` if no case).
        findings: Validation findings, the case's assumptions (CF051) and the post-solve checks (CF4xx).
        timings_s: Seconds per stage (parse, build, topology, rules, case, solve, control, checks).
        control: The Volt-VAR run when a control mode was on (``build``, ``result`` and ``solution``
            are then the controlled state, inverter records with their controlled Q;
            ``control.uncontrolled`` is the file's).
    """

    validation: ValidationResult
    build: CaseBuild | None
    result: PowerFlowResult | None
    solution: Solution | None
    findings: tuple[Finding, ...]
    options: SolveOptions = field(default_factory=SolveOptions)
    timings_s: Mapping[str, float] = field(default_factory=dict, compare=False)
    control: ControlRun | None = None

    @property
    def uncontrolled(self) -> PowerFlowResult | None:
        """The power flow with the reactive power the file gives (the same as ``result`` without control)."""
        return self.control.uncontrolled if self.control is not None else self.result

    def control_sections(self) -> dict[str, Any] | None:
        """The report's ``inverters`` and ``control`` (``None`` without control or solution)."""
        if self.control is None or self.solution is None:
            return None
        return self.control.sections([b.id for b in self.solution.buses])

    @property
    def converged(self) -> bool:
        """Whether a power flow ran and converged."""
        return self.solution is not None and self.solution.converged

    @property
    def failed(self) -> bool:
        """``cimflow solve`` exits 1: not converged, or an error finding."""
        return not self.converged or any(f.severity >= Severity.ERROR for f in self.findings)


def solve(
    paths: str | Path | Iterable[str | Path],
    *,
    settings: Settings | None = None,
    options: SolveOptions | None = None,
    limits: SourceLimits | None = None,
) -> SolveResult:
    """Validate the inputs, solve the power flow of every energised island and check the limits.

    Never raises for bad data: an unreadable input or a grid that cannot be modelled gives a result
    without solution and with the findings that say why.
    """
    with gc_paused():  # millions of acyclic objects: the cyclic collector would only cost time
        return _solve(paths, settings or Settings(), options or SolveOptions(), limits)


def _solve(
    paths: str | Path | Iterable[str | Path], st: Settings, opts: SolveOptions, limits: SourceLimits | None
) -> SolveResult:
    validation = validate(paths, settings=st, limits=limits)
    timings = dict(validation.timings_s)
    findings = list(validation.findings)
    network, topology = validation.network, validation.topology
    if network is None or topology is None or not topology.buses:
        if network is not None and topology is not None and not any(f.code == icodes.MISSING_EQ.code for f in findings):
            detail = "the equipment documents hold no conducting equipment on a node (boundary or reference data only?)"
            findings.extend(selection(st).apply([make_finding(icodes.MISSING_EQ, Location(), ctx={"detail": detail})]))
        return SolveResult(
            validation, None, None, None, tuple(sort_findings(findings)), opts, MappingProxyType(timings)
        )
    chosen = selection(st)
    clock = time.perf_counter()
    built = build_case(
        network,
        topology,
        s_base_mva=st.s_base_mva,
        frequency_hz=st.frequency_hz,
        phase_angle_clock=st.phase_angle_clock,
    )
    findings.extend(chosen.apply(built.findings))
    timings["case"] = time.perf_counter() - clock
    if built.value is None:
        return SolveResult(
            validation, None, None, None, tuple(sort_findings(findings)), opts, MappingProxyType(timings)
        )
    build = built.value
    clock = time.perf_counter()
    # a slack whose control regulates another bus holds that bus: its own voltage is scaled between solves
    targets = remote_targets(network, topology, build.case, build.index.slack_mrid)
    case, result, settled = hold_remote(
        build.case,
        targets,
        lambda c: solve_case(c, solver=opts.solver, tolerance=opts.tolerance, max_iter=opts.max_iter),
        tolerance=max(opts.tolerance, 1e-10),
    )
    if case is not build.case:
        build = dataclasses.replace(build, case=case)
    if not settled and result.converged:
        findings.extend(chosen.apply(not_held(network, build.index.slack_mrid, targets)))
    timings["solve"] = time.perf_counter() - clock
    if opts.solver is Solver.FBS and result.solver != Solver.FBS.value:
        findings.extend(chosen.apply(_fbs_overridden(network, build)))
    control: ControlRun | None = None
    mode = opts.control if opts.control is not None else ControlMode(st.control)
    if mode is not ControlMode.NONE:
        clock = time.perf_counter()
        cfg = opts.control_config
        if cfg is None:
            cfg = ControlConfig.from_toml(st.control_config) if st.control_config else ControlConfig()
        ran = run_control(network, build, result, mode, cfg, solver=opts.solver, tolerance=opts.tolerance,
                          max_iter=opts.max_iter)  # fmt: skip
        findings.extend(chosen.apply(ran.findings))
        control = ran.value
        if control is not None:
            result = control.controlled.result
            build = controlled_build(build, control)
        timings["control"] = time.perf_counter() - clock
    clock = time.perf_counter()
    solution = make_solution(network, topology, build, result)
    ctx = dataclasses.replace(CheckContext(network, topology, st), solution=solution)
    findings.extend(chosen.apply(run_stage(Stage.SOLVE, ctx, selection=chosen)))
    timings["checks"] = time.perf_counter() - clock
    return SolveResult(
        validation, build, result, solution, tuple(sort_findings(findings)), opts, MappingProxyType(timings),
        control=control,
    )  # fmt: skip


def _fbs_overridden(network: Network, build: CaseBuild) -> list[Finding]:
    """CF051 at the first generator holding a bus voltage: ``--solver fbs`` was solved by Newton-Raphson."""
    generators = build.index.injections.pv_generators
    obj = network.get(generators[0].mrid) if generators else None
    if obj is None:
        return []
    reason = f"--solver fbs cannot hold the voltage of the {build.case.n_pv} PV bus(es) of regulating generators"
    return [make_finding(icodes.VALUE_ASSUMED, obj.location("solver"),
                         ctx={"value": "Newton-Raphson", "reason": reason})]  # fmt: skip
