"""Network + Topology → :class:`PerUnitCase`, with the index that maps every row back to CIM.

Bus ``k`` of the case is bus ``k`` of the topology; an EnergySource with an internal impedance adds
one internal bus behind it (appended after the topology's buses). Injections are taken in the load
sign convention as the file gives them (consumption positive, generation negative); sources become
slacks at their voltage set point. Every value that had to be assumed is reported as CF051.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cimflow.catalog import inputs as icodes
from cimflow.findings import Finding, Location, Outcome, make_finding
from cimflow.ids import MRID
from cimflow.model.base import CimObject
from cimflow.model.equipment import ACLineSegment, EquivalentBranch, PowerTransformerEnd, SeriesCompensator
from cimflow.model.network import Network
from cimflow.powerflow.arrays import PerUnitCase
from cimflow.powerflow.branches import BranchParams, line_params, series_params, transformer_params, winding_params
from cimflow.powerflow.injections import InjectionTable, collect_injections
from cimflow.powerflow.tanks import TankEquivalents, tank_equivalents
from cimflow.topology.model import Branch, BranchKind, Bus, Topology


@dataclass(frozen=True, slots=True, eq=False)
class CaseIndex:
    """How the case's rows map back to the CIM model.

    Attributes:
        n_topology_buses: Buses ``0 .. n-1`` are the topology's buses; later ones are internal buses.
        branch_mrid: ``(n_br,)`` equipment mRID of each case branch (a transformer's mRID for its windings).
        branch_kind: ``(n_br,)`` kind of each branch ("line", "transformer", "transformer-winding", "other",
            or "source-impedance" for the branch behind an EnergySource).
        branch_topology_index: ``(n_br,)`` index into ``Topology.branches`` (−1 for internal branches).
        i_max_a: ``(n_br,)`` permanent current limit at the from side (NaN when the file gives none).
        s_rated_mva: ``(n_br,)`` rated apparent power of transformers (NaN for other branches).
        slack_mrid: ``(n_slack,)`` the source equipment of each slack.
        injections: Per-bus injections by equipment, with their share of the case's load arrays.
    """

    n_topology_buses: int
    branch_mrid: tuple[MRID, ...]
    branch_kind: tuple[str, ...]
    branch_topology_index: NDArray[np.int64]
    i_max_a: NDArray[np.float64]
    s_rated_mva: NDArray[np.float64]
    slack_mrid: tuple[MRID, ...]
    injections: InjectionTable


@dataclass(frozen=True, slots=True, eq=False)
class CaseBuild:
    """A built case and its index."""

    case: PerUnitCase
    index: CaseIndex


def _assumed(obj: CimObject, attribute: str, value: str, reason: str) -> Finding:
    return make_finding(icodes.VALUE_ASSUMED, obj.location(attribute), ctx={"value": value, "reason": reason})


def _report_overruled(network: Network, topology: Topology, findings: list[Finding]) -> None:
    """One CF051 per TopologicalNode whose base voltage the VoltageLevel of its buses' nodes overruled."""
    overruled: dict[MRID, list[Bus]] = {}
    for bus in topology.buses:
        if bus.overruled_kv is not None and bus.topological_node and bus.base_voltage_kv:
            overruled.setdefault(bus.topological_node, []).append(bus)
    for tn, buses in overruled.items():
        node = network.get(tn)
        if node is None:
            continue
        taken = sorted({b.base_voltage_kv or 0.0 for b in buses})
        reason = (
            f"its BaseVoltage {buses[0].overruled_kv:g} kV disagrees with the VoltageLevel of the "
            f"ConnectivityNodes of {len(buses)} bus(es) mapped to it, which cimflow takes"
        )
        ctx = {"value": ", ".join(f"{k:g}" for k in taken) + " kV", "reason": reason}
        loc = node.location("base_voltage")
        findings.append(make_finding(icodes.VALUE_ASSUMED, loc, ctx=ctx, related=[b.mrid for b in buses]))


def base_voltages(network: Network, topology: Topology, findings: list[Finding]) -> NDArray[np.float64]:
    """Base voltage per bus; a bus without one takes its line neighbours' (reported), else 1 kV (reported).

    A bus whose TopologicalNode disagrees with the VoltageLevel of its ConnectivityNodes has the latter
    (:mod:`cimflow.topology.buses`); that is reported at the TopologicalNode.
    """
    n = len(topology.buses)
    vb = np.array([b.base_voltage_kv if b.base_voltage_kv else np.nan for b in topology.buses], dtype=float)
    _report_overruled(network, topology, findings)
    if np.isnan(vb).any():
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        lines = [b for b in topology.branches if b.kind is BranchKind.LINE]
        rows = np.array([b.from_bus for b in lines], dtype=np.int64)
        cols = np.array([b.to_bus for b in lines], dtype=np.int64)
        graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
        _n, label = connected_components(graph, directed=False)
        known = ~np.isnan(vb)
        by_label: dict[int, float] = {}
        for k in np.flatnonzero(known):
            by_label.setdefault(int(label[k]), float(vb[k]))
        for k in np.flatnonzero(~known):
            bus = topology.buses[k]
            value = by_label.get(int(label[k]))
            reason = "base voltage of the buses it is joined to by lines"
            if value is None:
                value, reason = 1.0, "no base voltage anywhere near: per-unit results of this bus are relative"
            vb[k] = value
            node = network.get(bus.topological_node or (bus.connectivity_nodes[0] if bus.connectivity_nodes else None))
            loc = node.location("base_voltage") if node else Location(mrid=bus.mrid, cim_class="Bus")
            findings.append(make_finding(icodes.VALUE_ASSUMED, loc, ctx={"value": f"{value:g} kV", "reason": reason}))
    return vb


class _Limits:
    """Permanent current limits of terminals and equipment; each OperationalLimitType is judged once.

    The smallest permanent limit and the smallest limit of any kind are gathered per owner (the terminal or
    equipment a limit set is attached to, as :attr:`Network.limits_of` groups them) in one pass.
    """

    def __init__(self, network: Network) -> None:
        from cimflow.model.limits import CurrentLimit, OperationalLimitSet, OperationalLimitType

        self._types = network.of(OperationalLimitType)
        self._permanent: dict[MRID | None, bool] = {}
        sets = network.of(OperationalLimitSet)
        best: dict[MRID, float] = {}
        smallest: dict[MRID, float] = {}
        inf, is_permanent = math.inf, self._is_permanent
        for lim in network.of(CurrentLimit).values():
            value = lim.limit_a
            if value is None or value <= 0 or lim.limit_set is None:
                continue
            ls = sets.get(lim.limit_set)
            owner = ls.owner if ls is not None else None
            if owner is None:
                continue
            if value < smallest.get(owner, inf):
                smallest[owner] = value
            if value < best.get(owner, inf) and is_permanent(lim.limit_type_ref):
                best[owner] = value
        self._best, self._smallest = best, smallest

    def _is_permanent(self, type_ref: MRID | None) -> bool:
        known = self._permanent.get(type_ref)
        if known is not None:
            return known
        kind = self._types.get(type_ref) if type_ref else None
        permanent = (
            kind is None
            or kind.limit_type in (None, "patl")
            or (kind.acceptable_duration_s is None and kind.limit_type not in ("tatl", "tc", "tct"))
        )
        self._permanent[type_ref] = permanent
        return permanent

    def current_a(self, *mrids: MRID | None) -> float:
        """The smallest permanent current limit on any of the given terminals or equipment (NaN if none).

        Without a permanent limit, the smallest limit of any kind.
        """
        best = fallback = math.inf
        for mrid in mrids:
            if mrid is None:
                continue
            b = self._best.get(mrid)
            if b is not None and b < best:
                best = b
            f = self._smallest.get(mrid)
            if f is not None and f < fallback:
                fallback = f
        value = best if math.isfinite(best) else fallback
        return float(value) if math.isfinite(value) else math.nan


def _fits(ends: tuple[PowerTransformerEnd, ...], bus_kv: tuple[float, ...]) -> bool:
    """Whether tank-derived ends are rated near their buses' voltage (an autotransformer's series and common
    windings are not: such a catalogue is not a ratio between its terminals, and takes the fallback)."""
    return all(e.rated_u_kv is not None and 0.7 <= e.rated_u_kv / v <= 1.3 for e, v in zip(ends, bus_kv, strict=True))


def _two_windings(
    network: Network, tanks: TankEquivalents, br: Branch, kv: tuple[float, float]
) -> tuple[PowerTransformerEnd, PowerTransformerEnd] | None:
    """The two ends of a two-winding transformer branch (from its ends, or its tanks), if cimflow reads them."""
    bank = tanks.by_transformer.get(br.mrid)
    if bank is not None:
        return (bank[0], bank[1]) if len(bank) == 2 and _fits(bank, kv) else None
    ends = network.transformer_ends
    if len(br.ends) == 2 and br.ends[0] in ends and br.ends[1] in ends:
        return ends[br.ends[0]], ends[br.ends[1]]
    return None


def _winding(
    network: Network, tanks: TankEquivalents, br: Branch, kv: tuple[float, float]
) -> tuple[PowerTransformerEnd, PowerTransformerEnd] | None:
    """(this winding's end, end 1) of a star-connected winding branch, if cimflow reads them."""
    if not br.ends:
        return None
    end = network.transformer_ends.get(br.ends[0])
    if end is not None:
        return end, (network.ends_of.get(br.mrid) or (end,))[0]
    end = tanks.by_tank_end.get(br.ends[0])
    bank = tanks.by_transformer.get(br.mrid)
    if end is not None and bank and _fits((end, bank[0]), kv):
        return end, bank[0]
    return None


def build_case(
    network: Network,
    topology: Topology,
    *,
    s_base_mva: float = 1.0,
    frequency_hz: float = 50.0,
    phase_angle_clock: bool = False,
) -> Outcome[CaseBuild]:
    """Build the per-unit case of every island (de-energised ones included, they stay at 0 V).

    ``phase_angle_clock`` applies the transformers' clock numbers as phase shifts; without it a transformer
    with a clock number other than 0 is reported once (CF051), with how many there are.
    """
    findings: list[Finding] = []
    n_top = len(topology.buses)
    vb = list(base_voltages(network, topology, findings))
    tanks = tank_equivalents(network)  # transformers described by tanks and catalogue data
    taps = {**network.tap_changers_of, **tanks.taps} if tanks.taps else None
    get = network.by_mrid.get
    limits = _Limits(network)
    br_from: list[int] = []
    br_to: list[int] = []
    params: list[BranchParams] = []
    mrids: list[MRID] = []
    kinds: list[str] = []
    top_index: list[int] = []
    i_max: list[float] = []
    s_rated: list[float] = []
    bus_shunt = np.zeros(n_top, dtype=complex)
    clocked: list[CimObject | None] = []  # transformers whose clock number is not applied
    for br in topology.branches:
        equipment = get(br.mrid)
        f, t = br.from_bus, br.to_bus
        if f == t:
            # every end on one node (an autotransformer drawn on one bus, a line from a node to itself):
            # a branch from a bus to itself carries no current, so it is left out of the case
            if equipment is not None:
                findings.append(
                    _assumed(equipment, "terminals", "no branch", "every end is on one bus, so it carries no current")
                )
            continue
        if br.kind is BranchKind.LINE and isinstance(equipment, ACLineSegment):
            p = line_params(network, equipment, vb[f], vb[t], s_base_mva, frequency_hz)
            rating = limits.current_a(br.from_terminal, br.to_terminal, br.mrid)
            s_nom = float("nan")
        elif isinstance(equipment, (SeriesCompensator, EquivalentBranch)):
            p = series_params(equipment, vb[f], vb[t], s_base_mva)
            rating = limits.current_a(br.from_terminal, br.to_terminal, br.mrid)
            s_nom = float("nan")
        elif br.kind is BranchKind.TRANSFORMER and (pair := _two_windings(network, tanks, br, (vb[f], vb[t]))):
            e1, e2 = pair
            p = transformer_params(network, e1, e2, vb[f], vb[t], s_base_mva, taps, clock=phase_angle_clock)
            if not phase_angle_clock and (e1.phase_angle_clock or e2.phase_angle_clock):
                clocked.append(equipment)
            rating = limits.current_a(br.from_terminal)
            s_nom = float(e1.rated_s_mva) if e1.rated_s_mva else float("nan")
        elif br.kind is BranchKind.TRANSFORMER_WINDING and (wound := _winding(network, tanks, br, (vb[f], vb[t]))):
            end, end1 = wound
            p = winding_params(network, end, end1, vb[f], vb[t], s_base_mva, taps, clock=phase_angle_clock)
            if not phase_angle_clock and (end.phase_angle_clock or end1.phase_angle_clock):
                clocked.append(equipment)
            rating = limits.current_a(br.from_terminal)
            s_nom = float(end.rated_s_mva) if end.rated_s_mva else float("nan")
        else:
            # no impedance cimflow can read (e.g. a CIM100 TransformerTank described only by catalogue
            # data, or two-terminal equipment of a class cimflow does not model): a near short circuit at
            # the nominal ratio of the two buses, reported as CF051
            transformer = (
                br.kind in (BranchKind.TRANSFORMER, BranchKind.TRANSFORMER_WINDING) or "Transformer" in br.cim_class
            )
            ratio = 1.0 if transformer else vb[t] / vb[f]
            p = BranchParams(1.0 / complex(0, 1e-6), 0j, 0j, complex(ratio), 0j, 0j,
                             (("r_ohm", "1e-06 pu", f"{br.cim_class} has no impedance cimflow reads"),))  # fmt: skip
            rating, s_nom = float("nan"), float("nan")
        obj = equipment
        for attribute, value, reason in p.assumptions:
            if obj is not None:
                findings.append(_assumed(obj, attribute, value, reason))
        bus_shunt[f] += p.shunt_at_from_bus
        bus_shunt[t] += p.shunt_at_to_bus
        br_from.append(f)
        br_to.append(t)
        params.append(p)
        mrids.append(br.mrid)
        kinds.append(br.kind.value)
        top_index.append(br.index)
        i_max.append(rating)
        s_rated.append(s_nom)
    unique = {e.mrid: e for e in clocked if e is not None}
    if unique:
        first = next(iter(unique.values()))
        findings.append(
            _assumed(
                first,
                "phase_angle_clock",
                "0 degrees",
                "CGMES lists the clock number with the short-circuit data, and PowSyBl and the ENTSO-E test models "
                f"solve without it; {len(unique)} transformer(s) have one, setting phase_angle_clock = true applies "
                "them as PowerFactory and pandapower do",
            )
        )
    table = collect_injections(network, topology, vb, s_base_mva, findings)
    # internal buses behind EnergySource impedances
    extra_vb = [vb_k for vb_k in table.internal_bus_vb]
    for k, (bus, z_pu) in enumerate(zip(table.internal_bus_of, table.internal_z_pu, strict=True)):
        br_from.append(n_top + k)
        br_to.append(bus)
        params.append(BranchParams(1.0 / z_pu, 0j, 0j, 1.0 + 0j, 0j, 0j))
        mrids.append(table.internal_mrid[k])
        kinds.append("source-impedance")
        top_index.append(-1)
        i_max.append(float("nan"))
        s_rated.append(float("nan"))
    n_bus = n_top + len(extra_vb)
    pad = np.zeros(n_bus - n_top, dtype=complex)
    case = PerUnitCase(
        s_base_mva=s_base_mva,
        v_base_kv=np.array(vb + extra_vb, dtype=float),
        branch_from=np.array(br_from, dtype=np.int64),
        branch_to=np.array(br_to, dtype=np.int64),
        y_series_pu=np.array([p.y_series for p in params], dtype=complex),
        y_shunt_from_pu=np.array([p.y_from for p in params], dtype=complex),
        y_shunt_to_pu=np.array([p.y_to for p in params], dtype=complex),
        tap_ratio=np.array([p.tap for p in params], dtype=complex),
        bus_shunt_pu=np.concatenate([bus_shunt + table.bus_shunt_pu, pad]),
        s_const_power_pu=np.concatenate([table.s_power_pu, pad]),
        s_const_current_pu=np.concatenate([table.s_current_pu, pad]),
        s_const_impedance_pu=np.concatenate([table.s_impedance_pu, pad]),
        slack_bus=np.array(table.slack_bus, dtype=np.int64),
        slack_v_pu=np.array(table.slack_v_pu, dtype=complex),
        pv_bus=np.array(table.pv_bus, dtype=np.int64),
        pv_regulated_bus=np.array(table.pv_regulated_bus, dtype=np.int64),
        pv_v_pu=np.array(table.pv_v_pu, dtype=float),
        pv_q_pu=np.array(table.pv_q_mvar, dtype=float) / s_base_mva,
        pv_q_min_pu=np.array(table.pv_q_min_mvar, dtype=float) / s_base_mva,
        pv_q_max_pu=np.array(table.pv_q_max_mvar, dtype=float) / s_base_mva,
    )
    index = CaseIndex(
        n_topology_buses=n_top,
        branch_mrid=tuple(mrids),
        branch_kind=tuple(kinds),
        branch_topology_index=np.array(top_index, dtype=np.int64),
        i_max_a=np.array(i_max, dtype=float),
        s_rated_mva=np.array(s_rated, dtype=float),
        slack_mrid=tuple(table.slack_mrid),
        injections=table,
    )
    return Outcome(CaseBuild(case, index), tuple(findings))


def bus_lookup(topology: Topology) -> Mapping[MRID, int]:
    """Bus index by bus id, ConnectivityNode or TopologicalNode mRID."""
    found = dict(topology.bus_of_node)
    found.update({b.mrid: b.index for b in topology.buses})
    return found
