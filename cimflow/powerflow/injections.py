"""Loads, generation, shunts and sources of the CIM model as per-bus arrays and slacks.

Load sign convention throughout: ``p_mw > 0`` is consumption, generation is negative, exactly as
CGMES writes ``EnergyConsumer.p``, ``RotatingMachine.p`` and ``PowerElectronicsConnection.p``.
Loads follow their LoadResponseCharacteristic (ZIP shares; an exponent model ``P0·|V|^e`` is exact
for e = 0, 1, 2 and otherwise the blend of the two nearest ZIP terms with the same value and slope at
1 pu, reported). A load without p/q takes the flow the SV
profile gives at its terminal, else 0 (both reported). The sources of an island
(:mod:`cimflow.topology.islands`: its ExternalNetworkInjections, else its EnergySources with a
voltageMagnitude or its first EnergySource, else its regulating SynchronousMachines) are slacks at
their voltage set point: the enabled RegulatingControl's targetValue, the EnergySource's
voltageMagnitude, else the nominal voltage (reported). Every other EnergySource is a PQ injection at
its activePower/reactivePower (reported). Of an island's sources, the first (its root), the sources
on its bus, EnergySources and sources that do not regulate voltage stay slacks; a further source
that regulates voltage is a generator like the others. A generator whose voltage control is enabled
(:mod:`cimflow.powerflow.regulation`) makes its bus a PV bus holding the voltage of the regulated bus
(its own, or another for a remote control); a control of a bus a slack or another generator holds
already leaves it PQ (reported).
"""

from __future__ import annotations

import cmath
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cimflow.catalog import inputs as icodes
from cimflow.findings import Finding, Location, make_finding
from cimflow.ids import MRID
from cimflow.model.base import CimObject
from cimflow.model.injections import (
    EnergyConsumer,
    EnergySource,
    EquivalentInjection,
    ExternalNetworkInjection,
    LinearShuntCompensator,
    PowerElectronicsConnection,
    RegulatingControl,
    StaticVarCompensator,
    SynchronousMachine,
)
from cimflow.model.network import Network
from cimflow.model.state import SvPowerFlow
from cimflow.powerflow.equivalents import NO_CURRENT, Points, equivalent_control, fixed_injection, svc_control
from cimflow.powerflow.load_response import Shares, zip_shares
from cimflow.powerflow.regulation import PvGenerator, QLimits, VoltageControl, q_limits, voltage_control
from cimflow.records import constructor
from cimflow.topology.model import Topology


@dataclass(frozen=True, slots=True)
class InjectionRecord:
    """One piece of single-terminal equipment as the case sees it (powers in MW/Mvar at 1 pu voltage)."""

    mrid: MRID
    cim_class: str
    bus: int
    role: str  # "load", "generation", "shunt", "slack", "ignored"
    p_mw: float
    q_mvar: float
    p_shares: tuple[float, float, float] = (1.0, 0.0, 0.0)  # constant power, current, impedance
    q_shares: tuple[float, float, float] = (1.0, 0.0, 0.0)

    def at_voltage(self, v_pu: float) -> tuple[float, float]:
        """(p_mw, q_mvar) the equipment draws at a voltage magnitude (load sign convention)."""
        if self.role == "shunt":
            return self.p_mw * v_pu**2, self.q_mvar * v_pu**2
        fp = self.p_shares[0] + self.p_shares[1] * v_pu + self.p_shares[2] * v_pu**2
        fq = self.q_shares[0] + self.q_shares[1] * v_pu + self.q_shares[2] * v_pu**2
        return self.p_mw * fp, self.q_mvar * fq


_new_record = constructor(InjectionRecord)  # positional, every field: see cimflow.records
_PQ = (1.0, 0.0, 0.0)  # InjectionRecord's default shares: constant power


@dataclass(slots=True)
class InjectionTable:
    """Per-bus arrays (per unit) and the records they were summed from."""

    s_power_pu: NDArray[np.complex128]
    s_current_pu: NDArray[np.complex128]
    s_impedance_pu: NDArray[np.complex128]
    bus_shunt_pu: NDArray[np.complex128]
    records: list[InjectionRecord] = field(default_factory=list)
    slack_bus: list[int] = field(default_factory=list)
    slack_v_pu: list[complex] = field(default_factory=list)
    slack_mrid: list[MRID] = field(default_factory=list)
    # further sources on the bus of slack k: one slack holds the bus, its power is shared equally
    slack_partners: dict[int, list[MRID]] = field(default_factory=dict)
    internal_bus_of: list[int] = field(default_factory=list)
    internal_z_pu: list[complex] = field(default_factory=list)
    internal_bus_vb: list[float] = field(default_factory=list)
    internal_mrid: list[MRID] = field(default_factory=list)
    # PV buses: the bus, its set point, its generators' reactive power as the file gives it (load sign)
    # and the sum of their limits (generator sense), and the generators holding it
    pv_bus: list[int] = field(default_factory=list)
    pv_regulated_bus: list[int] = field(default_factory=list)
    pv_v_pu: list[float] = field(default_factory=list)
    pv_q_mvar: list[float] = field(default_factory=list)
    pv_q_min_mvar: list[float] = field(default_factory=list)
    pv_q_max_mvar: list[float] = field(default_factory=list)
    pv_generators: list[PvGenerator] = field(default_factory=list)


def _note(findings: list[Finding], obj: CimObject, attribute: str, value: str, reason: str) -> None:
    findings.append(make_finding(icodes.VALUE_ASSUMED, obj.location(attribute), ctx={"value": value, "reason": reason}))


def _set_point(
    network: Network, topology: Topology, eq: CimObject, bus: int, vb: list[float], findings: list[Finding]
) -> complex:
    if isinstance(eq, EnergySource):
        if eq.voltage_magnitude_kv:
            return cmath.rect(eq.voltage_magnitude_kv / vb[bus], eq.voltage_angle_rad or 0.0)
        if eq.nominal_voltage_kv:
            _note(
                findings,
                eq,
                "voltage_magnitude_kv",
                f"{eq.nominal_voltage_kv:g} kV",
                "no voltageMagnitude: nominalVoltage",
            )
            return complex(eq.nominal_voltage_kv / vb[bus])
    rc_id = getattr(eq, "regulating_control", None)
    rc = network.of(RegulatingControl).get(rc_id) if rc_id else None
    if (
        rc is not None
        and rc.target_value is not None
        and rc.target_value > 0
        and rc.mode in (None, "voltage")
        and rc.enabled is not False
        and getattr(eq, "control_enabled", None) is not False
    ):
        ref_bus = topology.bus_of_terminal.get(rc.terminal, bus) if rc.terminal else bus
        return complex(rc.target_value / vb[ref_bus])
    _note(findings, eq, "voltage_set_point", "1.0 pu", "no enabled voltage RegulatingControl: nominal voltage")
    return 1.0 + 0j


def _sv_flow(network: Network, terminal: MRID) -> tuple[float | None, float | None]:
    for flow in network.of(SvPowerFlow).values():
        if flow.terminal == terminal:
            return flow.p_mw, flow.q_mvar
    return None, None


def collect_injections(
    network: Network, topology: Topology, vb: list[float], s_base: float, findings: list[Finding]
) -> InjectionTable:
    """Sum every injection of the topology into per-bus arrays; sources become slacks."""
    n = len(topology.buses)
    # per-bus sums in Python lists (the same additions in the same order as on arrays, without a numpy
    # scalar round trip per injection), turned into the table's arrays at the end
    s_power, s_current, s_impedance, bus_shunt = [0j] * n, [0j] * n, [0j] * n, [0j] * n
    table = InjectionTable(
        s_power_pu=np.zeros(0, dtype=complex),
        s_current_pu=np.zeros(0, dtype=complex),
        s_impedance_pu=np.zeros(0, dtype=complex),
        bus_shunt_pu=np.zeros(0, dtype=complex),
    )
    records = table.records
    sources, slack_buses = _slack_sources(network, topology, vb)
    pv_index: tuple[dict[int, int], dict[int, int]] = ({}, {})  # PV entry by bus and by regulated bus
    sv_flows: dict[MRID, tuple[float | None, float | None]] | None = None
    get = network.by_mrid.get
    slack_of_bus: dict[int, int] = {}
    points = Points(network)
    lrc_memo: dict[MRID, Shares] = {}
    for inj in topology.injections:
        eq = get(inj.mrid)
        bus = inj.bus
        if inj.mrid in sources and eq is not None:
            v = _set_point(network, topology, eq, bus, vb, findings)
            z_pu = 0j
            if isinstance(eq, EnergySource) and (eq.r_ohm or eq.x_ohm):
                z_pu = complex(eq.r_ohm or 0.0, eq.x_ohm or 0.0) / (vb[bus] ** 2 / s_base)
            if abs(z_pu) > 1e-12:
                table.internal_bus_of.append(bus)
                table.internal_z_pu.append(z_pu)
                table.internal_bus_vb.append(vb[bus])
                table.internal_mrid.append(inj.mrid)
                bus = n + len(table.internal_bus_of) - 1
            k = slack_of_bus.get(bus)
            if k is not None:
                # a second source on a slack bus (two machines on one node): one slack holds the bus
                table.slack_partners.setdefault(k, []).append(inj.mrid)
                held = table.slack_v_pu[k]
                if abs(abs(v) - abs(held)) > 1e-6:
                    _note(
                        findings,
                        eq,
                        "voltage_set_point",
                        f"{abs(held):.6g} pu",
                        f"the bus is held by {table.slack_mrid[k]}, a source on the same node; they share its power",
                    )
            else:
                slack_of_bus[bus] = len(table.slack_bus)
                table.slack_bus.append(bus)
                table.slack_v_pu.append(v)
                table.slack_mrid.append(inj.mrid)
            records.append(InjectionRecord(inj.mrid, inj.cim_class, inj.bus, "slack", 0.0, 0.0))
            continue
        if isinstance(eq, EnergyConsumer):
            p, q = eq.p_mw, eq.q_mvar
            if p is None and q is None:
                if sv_flows is None:
                    sv_flows = {f.terminal: (f.p_mw, f.q_mvar) for f in network.of(SvPowerFlow).values() if f.terminal}
                p, q = sv_flows.get(inj.terminal, (None, None))
                if p is not None or q is not None:
                    _note(
                        findings,
                        eq,
                        "p_mw",
                        f"{p or 0:g} MW, {q or 0:g} Mvar",
                        "no p/q in SSH: the SV flow at its terminal",
                    )
            if p is None and q is None:
                _note(findings, eq, "p_mw", "0 MW, 0 Mvar", "no p/q anywhere in the inputs")
            p, q = p or 0.0, q or 0.0
            sp, sq = zip_shares(network, eq, findings, lrc_memo)
            s = complex(p, 0.0) / s_base, complex(0.0, q) / s_base
            s_power[bus] += s[0] * sp[0] + s[1] * sq[0]
            s_current[bus] += s[0] * sp[1] + s[1] * sq[1]
            s_impedance[bus] += s[0] * sp[2] + s[1] * sq[2]
            records.append(_new_record(inj.mrid, inj.cim_class, bus, "load", p, q, sp, sq))
        elif isinstance(eq, (SynchronousMachine, PowerElectronicsConnection, ExternalNetworkInjection, EnergySource)):
            p = getattr(eq, "p_mw", None)
            q = getattr(eq, "q_mvar", None)
            if p is None:
                _note(findings, eq, "p_mw", "0 MW", "no active power in the inputs")
            p, q = p or 0.0, q or 0.0
            if isinstance(eq, EnergySource):
                _energy_source_note(topology, eq, bus, findings)
            s_power[bus] += complex(p, q) / s_base
            records.append(_new_record(inj.mrid, inj.cim_class, bus, "generation", p, q, _PQ, _PQ))
            control = voltage_control(network, topology, eq, bus, vb)
            if control is not None:
                limits = q_limits(eq, network)
                _add_pv(table, pv_index, eq, bus, control, q, (topology, slack_buses), findings, limits=limits)
        elif isinstance(eq, LinearShuntCompensator):
            sections = eq.sections if eq.sections is not None else eq.normal_sections
            if sections is None:
                sections = 0
                _note(findings, eq, "sections", "0", "neither sections nor normalSections given")
            y = complex(eq.g_per_section_s or 0.0, eq.b_per_section_s or 0.0) * sections
            bus_shunt[bus] += y * vb[bus] ** 2 / s_base
            records.append(
                InjectionRecord(inj.mrid, inj.cim_class, bus, "shunt", y.real * vb[bus] ** 2, -y.imag * vb[bus] ** 2)
            )
        elif eq is not None and (fixed := fixed_injection(eq, points, findings)) is not None:
            if fixed.role == "shunt":
                bus_shunt[bus] += fixed.y_s * vb[bus] ** 2 / s_base
                p, q = fixed.p_mw * vb[bus] ** 2, fixed.q_mvar * vb[bus] ** 2
            else:
                p, q = fixed.p_mw, fixed.q_mvar
                s_power[bus] += complex(p, q) / s_base
            records.append(InjectionRecord(inj.mrid, inj.cim_class, bus, fixed.role, p, q))
            if isinstance(eq, EquivalentInjection) and (control := equivalent_control(eq, bus, vb, findings)):
                limits = q_limits(eq, network)
                _add_pv(table, pv_index, eq, bus, control, q, (topology, slack_buses), findings, limits=limits)
            elif isinstance(eq, StaticVarCompensator) and (
                svc := svc_control(network, topology, eq, bus, vb, findings)
            ):
                limits = QLimits(svc[1][0], svc[1][1], "ratings")
                _add_pv(table, pv_index, eq, bus, svc[0], q, (topology, slack_buses), findings, limits=limits)
        elif inj.cim_class not in NO_CURRENT:
            records.append(InjectionRecord(inj.mrid, inj.cim_class, bus, "ignored", 0.0, 0.0))
            _left_out(network, inj.mrid, inj.cim_class, findings)
    table.s_power_pu = np.array(s_power, dtype=complex)
    table.s_current_pu = np.array(s_current, dtype=complex)
    table.s_impedance_pu = np.array(s_impedance, dtype=complex)
    table.bus_shunt_pu = np.array(bus_shunt, dtype=complex)
    return table


def _left_out(network: Network, mrid: MRID, cim_class: str, findings: list[Finding]) -> None:
    """Report single-terminal equipment the case leaves out (modelled class or not)."""
    eq = network.by_mrid.get(mrid)
    opaque = network.opaque.get(mrid)
    if eq is not None:
        loc = eq.location("terminals")
    else:
        file, line = (opaque.file, opaque.line) if opaque is not None else (None, None)
        loc = Location(mrid=mrid, cim_class=cim_class, attribute="terminals", file=file, line=line)
    ctx = {"value": "nothing", "reason": f"cimflow does not model {cim_class} in the power flow: left out"}
    findings.append(make_finding(icodes.VALUE_ASSUMED, loc, ctx=ctx))


def _energy_source_note(topology: Topology, eq: EnergySource, bus: int, findings: list[Finding]) -> None:
    """Report an EnergySource that is not its island's slack (the choice of the source rule)."""
    isl = topology.islands[int(topology.island_of_bus[bus])]
    root = isl.sources[0] if isl.sources else None
    if root is None:
        return
    why = (
        "the island is fed by ExternalNetworkInjection"
        if root.cim_class == "ExternalNetworkInjection"
        else "the island's slack is EnergySource"
    )
    held = f"; its voltageMagnitude {eq.voltage_magnitude_kv:g} kV is not held" if eq.voltage_magnitude_kv else ""
    _note(findings, eq, "p_mw", f"{eq.p_mw or 0:g} MW, {eq.q_mvar or 0:g} Mvar",
          f"{why} {root.mrid}: a PQ injection at activePower/reactivePower{held}")  # fmt: skip


def _slack_sources(network: Network, topology: Topology, vb: list[float]) -> tuple[set[MRID], set[int]]:
    """The sources that stay slacks (see the module docstring) and the buses they hold."""
    get = network.by_mrid.get
    kept: set[MRID] = set()
    buses: set[int] = set()
    demoted = []
    for isl in topology.islands:
        for k, src in enumerate(isl.sources):
            eq = get(src.mrid)
            if (
                k == 0
                or eq is None
                or isinstance(eq, EnergySource)
                or voltage_control(network, topology, eq, src.bus, vb) is None
            ):
                kept.add(src.mrid)
                # an EnergySource behind an impedance holds its internal bus, not the bus it connects to
                if not (isinstance(eq, EnergySource) and (eq.r_ohm or eq.x_ohm)):
                    buses.add(src.bus)
            else:
                demoted.append(src)
    kept.update(src.mrid for src in demoted if src.bus in buses)  # on a slack's bus: shares its power
    return kept, buses


def _add_pv(
    table: InjectionTable,
    index: tuple[dict[int, int], dict[int, int]],
    eq: CimObject,
    bus: int,
    control: VoltageControl,
    q_mvar: float,
    context: tuple[Topology, set[int]],
    findings: list[Finding],
    *,
    limits: QLimits,
) -> None:
    """Make ``bus`` a PV bus held by ``eq`` (or report why the generator stays PQ).

    ``index`` maps a bus to its PV entry, and a regulated bus to the entry that holds it; ``context``
    is the topology and the buses held by slacks; ``limits`` the reactive range (Mvar, generator sense).
    """
    by_bus, by_regulated = index
    topology, slack_buses = context
    regulated = control.regulated_bus
    k = by_bus.get(bus)
    holder = by_regulated.get(regulated)
    reason = None
    if bus in slack_buses or regulated in slack_buses:
        reason = "the bus it regulates is held by a slack" if bus not in slack_buses else "its bus is held by a slack"
    elif topology.island_of_bus[regulated] != topology.island_of_bus[bus]:
        reason = "the RegulatingControl's Terminal is in another island"
    elif k is None and holder is not None:
        reason = f"the voltage it regulates is held by {_first(table, holder)} already"
    elif k is not None and table.pv_regulated_bus[k] != regulated:
        reason = f"{_first(table, k)} on the same node holds the voltage of another bus"
    q_min, q_max = limits.q_min_mvar, limits.q_max_mvar
    if reason is None and abs(q_max - q_min) < 1e-9:
        # as PowSyBl: no reactive range, no voltage control (files give minQ = maxQ = 0 beside a curve)
        reason = (
            f"its ReactiveCapabilityCurve leaves no reactive range at its active power ({q_min:g} Mvar)"
            if limits.source == "curve"
            else f"minQ = maxQ = {q_min:g} Mvar leaves no reactive range"
        )
    if reason is not None:
        _note(findings, eq, "regulating_control", f"{q_mvar:g} Mvar", f"{reason}: PQ at the file's q")
        return
    if limits.swapped:
        where = "a point of its ReactiveCapabilityCurve" if limits.source == "curve" else "minQ and maxQ"
        _note(findings, eq, "min_q_mvar", f"{q_min:g} .. {q_max:g} Mvar",
              f"{where} give the lower reactive limit above the upper one: swapped, as PowSyBl reads them")  # fmt: skip
    if k is None:
        k = by_bus[bus] = by_regulated[regulated] = len(table.pv_bus)
        table.pv_bus.append(bus)
        table.pv_regulated_bus.append(regulated)
        table.pv_v_pu.append(control.v_pu)
        table.pv_q_mvar.append(0.0)
        table.pv_q_min_mvar.append(0.0)
        table.pv_q_max_mvar.append(0.0)
    elif abs(control.v_pu - table.pv_v_pu[k]) > 1e-6:
        held_by = _first(table, k)
        _note(findings, eq, "regulating_control", f"{table.pv_v_pu[k]:.6g} pu",
              f"the voltage is held by {held_by}, a generator on the same node with another set point")  # fmt: skip
    table.pv_q_mvar[k] += q_mvar
    table.pv_q_min_mvar[k] += q_min
    table.pv_q_max_mvar[k] += q_max
    table.pv_generators.append(PvGenerator(eq.mrid, k, q_min, q_max))


def _first(table: InjectionTable, k: int) -> MRID:
    """The first generator of PV entry ``k``."""
    return next(g.mrid for g in table.pv_generators if g.pv == k)
