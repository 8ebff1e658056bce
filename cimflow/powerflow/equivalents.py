"""Single-terminal equipment besides loads, generators and linear shunts: what the case makes of each.

Load sign convention (positive ``p_mw`` flows from the node into the equipment), as CGMES SSH writes
every one of these:

* EquivalentInjection: ``p``, ``q`` as a constant-power injection; when ``regulationStatus`` is true
  (and ``regulationCapability`` not false) it holds ``regulationTarget`` (kV) at its own bus within
  ``minQ``/``maxQ`` like a voltage-regulating generator (a PV bus, see
  :mod:`cimflow.powerflow.regulation`). A missing ``regulationCapability`` beside a true
  ``regulationStatus`` is taken as capable (reported).
* AsynchronousMachine: ``RotatingMachine.p``, ``q`` as a constant-power load (a motor draws p > 0).
* StaticVarCompensator: ``q`` as a constant reactive power, or, with ``controlEnabled`` and an enabled
  voltage RegulatingControl (else ``voltageSetPoint``), a PV bus at the set point within the range its
  ratings give at that voltage: ``V²/capacitiveRating`` capacitive, ``V²/inductiveRating`` inductive
  (Mvar from kV and Ω; OpenLoadFlow takes ``b·V²`` at the solved voltage: the same at the set point).
* CsConverter, VsConverter: ``ACDCConverter.p``, ``q`` at the AC terminal as a constant-power
  injection; the DC side is not modelled (reported).
* EquivalentShunt: the admittance ``g + jb`` (S).
* NonlinearShuntCompensator: ``y = Σ (g + jb)`` over its NonlinearShuntCompensatorPoints with
  ``sectionNumber ≤ sections`` (each point gives what its section adds, as PowSyBl reads them).

A value missing from the file is 0 and reported (CF051).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from cimflow.catalog import inputs as icodes
from cimflow.findings import Finding, make_finding
from cimflow.ids import MRID
from cimflow.model.base import CimObject
from cimflow.model.injections import (
    AcDcConverter,
    AsynchronousMachine,
    EquivalentInjection,
    EquivalentShunt,
    NonlinearShuntCompensator,
    NonlinearShuntCompensatorPoint,
    RegulatingControl,
    StaticVarCompensator,
)
from cimflow.model.network import Network
from cimflow.powerflow.regulation import VoltageControl
from cimflow.topology.model import Topology

FIXED_CLASSES = (
    EquivalentInjection,
    AsynchronousMachine,
    StaticVarCompensator,
    AcDcConverter,
    EquivalentShunt,
    NonlinearShuntCompensator,
)
# single-terminal classes that carry no positive-sequence current in a balanced power flow
NO_CURRENT = frozenset({"BusbarSection", "Junction", "Ground", "Connector", "FaultIndicator", "Clamp",
                        "PetersenCoil", "GroundingImpedance"})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Fixed:
    """What the case takes from one piece of equipment.

    Attributes:
        role: "load", "generation" (a fixed injection) or "shunt".
        p_mw: Active power (load sign); for a shunt, what it draws at 1 pu.
        q_mvar: Reactive power (load sign); for a shunt, what it draws at 1 pu.
        y_s: Shunt admittance in S (shunts only).
    """

    role: str
    p_mw: float
    q_mvar: float
    y_s: complex = 0j


def _note(findings: list[Finding], obj: CimObject, attribute: str, value: str, reason: str) -> None:
    findings.append(make_finding(icodes.VALUE_ASSUMED, obj.location(attribute), ctx={"value": value, "reason": reason}))


def _power(findings: list[Finding], eq: CimObject, p: float | None, q: float | None, what: str) -> tuple[float, float]:
    if p is None and q is None:
        _note(findings, eq, "p_mw", "0 MW, 0 Mvar", f"no {what} in the inputs")
    elif p is None or q is None:
        missing = "p_mw" if p is None else "q_mvar"
        _note(findings, eq, missing, "0", f"no {what} {missing.split('_')[0]} in the inputs")
    return p or 0.0, q or 0.0


class Points:
    """NonlinearShuntCompensatorPoints by compensator, grouped once."""

    def __init__(self, network: Network) -> None:
        self._network = network
        self._of: Mapping[MRID, list[NonlinearShuntCompensatorPoint]] | None = None

    def of(self, compensator: MRID) -> list[NonlinearShuntCompensatorPoint]:
        """The points of one compensator."""
        if self._of is None:
            grouped: dict[MRID, list[NonlinearShuntCompensatorPoint]] = defaultdict(list)
            for point in self._network.of(NonlinearShuntCompensatorPoint).values():
                if point.compensator:
                    grouped[point.compensator].append(point)
            self._of = grouped
        return self._of.get(compensator, [])


def _nonlinear(eq: NonlinearShuntCompensator, points: Points, findings: list[Finding]) -> complex:
    given = eq.sections if eq.sections is not None else eq.normal_sections
    if given is None:
        _note(findings, eq, "sections", "0", "neither sections nor normalSections given")
    sections = float(given or 0)
    mine = points.of(eq.mrid)
    if not mine and sections:
        _note(findings, eq, "sections", "0 S", "no NonlinearShuntCompensatorPoint describes its sections")
    return sum(
        (
            complex(p.g_s or 0.0, p.b_s or 0.0)
            for p in mine
            if p.section_number is not None and p.section_number <= sections
        ),
        0j,
    )


def fixed_injection(eq: CimObject, points: Points, findings: list[Finding]) -> Fixed | None:
    """The case's view of ``eq`` (see the module docstring), or ``None`` for another class."""
    if isinstance(eq, EquivalentInjection):
        return Fixed("generation", *_power(findings, eq, eq.p_mw, eq.q_mvar, "p/q"))
    if isinstance(eq, AsynchronousMachine):
        return Fixed("load", *_power(findings, eq, eq.p_mw, eq.q_mvar, "RotatingMachine p/q"))
    if isinstance(eq, AcDcConverter):
        p, q = _power(findings, eq, eq.p_mw, eq.q_mvar, "p/q")
        _note(findings, eq, "p_mw", f"{p:g} MW, {q:g} Mvar", "the DC side is not modelled: PQ at the AC terminal")
        return Fixed("generation", p, q)
    if isinstance(eq, StaticVarCompensator):
        q_svc = eq.q_mvar
        if q_svc is None:
            _note(findings, eq, "q_mvar", "0 Mvar", "no q in the inputs")
        return Fixed("generation", 0.0, q_svc or 0.0)
    if isinstance(eq, (EquivalentShunt, NonlinearShuntCompensator)):
        if isinstance(eq, EquivalentShunt):
            if eq.g_s is None and eq.b_s is None:
                _note(findings, eq, "b_s", "0 S", "neither g nor b given")
            y = complex(eq.g_s or 0.0, eq.b_s or 0.0)
        else:
            y = _nonlinear(eq, points, findings)
        return Fixed("shunt", y.real, -y.imag, y)
    return None


def equivalent_control(
    eq: EquivalentInjection, bus: int, vb: list[float], findings: list[Finding]
) -> VoltageControl | None:
    """The voltage an EquivalentInjection holds at its own bus (through no RegulatingControl), or ``None``."""
    if eq.regulation_status is not True:
        return None
    target = eq.regulation_target_kv
    if eq.regulation_capability is False:
        _note(findings, eq, "regulation_status", "PQ", "regulationStatus is true but regulationCapability false")
        return None
    if target is None or not math.isfinite(target) or target <= 0:
        _note(findings, eq, "regulation_target_kv", "PQ", "regulationStatus is true but no regulationTarget above 0")
        return None
    if eq.regulation_capability is None:
        _note(findings, eq, "regulation_capability", "true", "regulationStatus is true: taken as capable")
    return VoltageControl(bus, target / vb[bus], True)


def svc_control(
    network: Network, topology: Topology, eq: StaticVarCompensator, bus: int, vb: list[float], findings: list[Finding]
) -> tuple[VoltageControl, tuple[float, float]] | None:
    """The voltage a StaticVarCompensator holds and its reactive range at that voltage (Mvar, generator sense),
    or ``None`` (PQ at its q; reported when its control is enabled but unusable)."""
    if eq.control_enabled is not True:
        return None
    rc = network.of(RegulatingControl).get(eq.regulating_control) if eq.regulating_control else None
    regulated, v_kv = bus, None
    if rc is not None and rc.mode == "voltage" and rc.enabled is not False and rc.target_value and rc.target_value > 0:
        regulated = topology.bus_of_terminal.get(rc.terminal, bus) if rc.terminal else bus
        v_kv = rc.target_value
    elif rc is None and eq.voltage_set_point_kv and eq.voltage_set_point_kv > 0:
        v_kv = eq.voltage_set_point_kv
    if v_kv is None:
        _note(findings, eq, "regulating_control", f"{eq.q_mvar or 0:g} Mvar",
              "controlEnabled, but no enabled voltage RegulatingControl or voltageSetPoint: PQ at its q")  # fmt: skip
        return None
    cap, ind = eq.capacitive_rating_ohm, eq.inductive_rating_ohm
    q_max = v_kv * v_kv / abs(cap) if cap else math.inf
    q_min = -v_kv * v_kv / abs(ind) if ind else -math.inf
    return VoltageControl(regulated, v_kv / vb[regulated], regulated == bus), (q_min, q_max)
