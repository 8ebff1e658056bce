"""A solved grid in CIM terms: per-bus voltages and per-branch flows under their CIM identifiers.

Everything is in engineering units (kV, MW, Mvar, A) and the load sign convention: ``p_from_mw`` is
the power flowing from the branch's from bus into the branch; a slack's ``p_mw`` is the power flowing
from its bus into the source, negative while it supplies the grid (``p_inject_mw`` gives the
generator sense).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cimflow.ids import MRID
from cimflow.model.network import Network
from cimflow.powerflow.case import CaseBuild
from cimflow.powerflow.regulation import PvGenerator, share_q_mvar
from cimflow.powerflow.result import PowerFlowResult
from cimflow.records import constructor
from cimflow.topology.model import Topology


@dataclass(frozen=True, slots=True)
class BusResult:
    """Voltage of one bus."""

    index: int
    id: MRID
    name: str | None
    topological_node: MRID | None
    connectivity_nodes: tuple[MRID, ...]
    island: int
    energised: bool
    v_base_kv: float
    v_kv: float
    v_pu: float
    angle_deg: float
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class BranchResult:
    """Flows of one branch (a line, a transformer, or one winding of a 3-winding transformer)."""

    index: int
    id: MRID
    equipment: MRID
    name: str | None
    cim_class: str
    kind: str
    from_bus: MRID
    to_bus: MRID
    p_from_mw: float
    q_from_mvar: float
    p_to_mw: float
    q_to_mvar: float
    i_from_a: float
    i_to_a: float
    i_a: float
    i_max_a: float | None
    s_rated_mva: float | None
    loading_pct: float | None
    p_loss_mw: float


@dataclass(frozen=True, slots=True)
class SlackResult:
    """Power of one source (slack)."""

    id: MRID
    name: str | None
    cim_class: str
    bus: MRID
    p_mw: float
    q_mvar: float

    @property
    def p_inject_mw(self) -> float:
        """Active power the source injects into the grid (generator sense)."""
        return -self.p_mw

    @property
    def q_inject_mvar(self) -> float:
        """Reactive power the source injects into the grid (generator sense)."""
        return -self.q_mvar


@dataclass(frozen=True, slots=True)
class GeneratorResult:
    """A voltage-regulating generator holding a PV bus: its solved reactive power (load sign convention).

    ``held`` is False when the bus's generators reached a reactive limit (the bus is then PQ at the
    limit and the regulated bus's voltage is not ``v_set_pu``) or the solver could not hold voltages.
    """

    id: MRID
    name: str | None
    cim_class: str
    bus: MRID
    regulated_bus: MRID  # the bus whose voltage it holds: ``bus`` itself, or another for a remote control
    p_mw: float
    q_mvar: float
    q_min_mvar: float | None  # limits in generator sense, as the file gives them (None: unlimited)
    q_max_mvar: float | None
    v_set_pu: float
    held: bool


@dataclass(frozen=True, slots=True, eq=False)
class Solution:
    """The solved grid; ``buses`` and ``branches`` are ordered as in the topology and the case."""

    converged: bool
    solver: str
    iterations: int
    max_mismatch_mva: float
    buses: tuple[BusResult, ...]
    branches: tuple[BranchResult, ...]
    slacks: tuple[SlackResult, ...]
    losses_mw: float
    losses_mvar: float
    load_mw: float  # consumption of the loads at nominal voltage, as the file gives it
    load_mvar: float
    generation_mw: float  # generation of machines and inverters that are not slacks (generator sense)
    generation_mvar: float
    generators: tuple[GeneratorResult, ...] = ()  # the voltage-regulating generators (PV buses)

    def bus(self, bus_id: str) -> BusResult | None:
        """A bus result by bus id."""
        return next((b for b in self.buses if b.id == bus_id), None)


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def generator_q_mvar(build: CaseBuild, result: PowerFlowResult) -> dict[MRID, float]:
    """Solved reactive power (Mvar, load sign convention) of every generator holding a PV bus.

    Empty when the solver did not control the PV buses (the generators then keep the file's Q).
    """
    if not result.pv_controlled:
        return {}
    by_pv: dict[int, list[PvGenerator]] = {}
    for g in build.index.injections.pv_generators:
        by_pv.setdefault(g.pv, []).append(g)
    q_pv = result.q_pv_mvar.tolist()
    out: dict[MRID, float] = {}
    for k, members in by_pv.items():
        for g, q_inject in zip(members, share_q_mvar(-q_pv[k], members), strict=True):
            out[g.mrid] = -q_inject
    return out


def _generators(
    network: Network, build: CaseBuild, result: PowerFlowResult, bus_id: list[MRID]
) -> list[GeneratorResult]:
    q_of = generator_q_mvar(build, result)
    p_of = {r.mrid: r for r in build.index.injections.records if r.role == "generation"}
    case = build.case
    out = []
    for g in build.index.injections.pv_generators:
        obj = network.get(g.mrid)
        rec = p_of[g.mrid]
        out.append(
            GeneratorResult(
                id=g.mrid,
                name=obj.name if obj else None,
                cim_class=rec.cim_class,
                bus=bus_id[rec.bus],
                regulated_bus=bus_id[int(case.pv_regulated_bus[g.pv])],
                p_mw=rec.p_mw,
                q_mvar=q_of.get(g.mrid, rec.q_mvar),
                q_min_mvar=_finite(g.q_min_mvar),
                q_max_mvar=_finite(g.q_max_mvar),
                v_set_pu=float(case.pv_v_pu[g.pv]),
                held=bool(result.pv_held[g.pv]),
            )
        )
    return out


_new_bus = constructor(BusResult)  # positional, every field: see cimflow.records
_new_branch = constructor(BranchResult)


def make_solution(network: Network, topology: Topology, build: CaseBuild, result: PowerFlowResult) -> Solution:
    """Map a power-flow result back to the CIM identifiers of buses, branches and sources."""
    case, index = build.case, build.index
    distance = np.full(len(topology.buses), np.nan)
    for tree in topology.feeders:
        distance[tree.order] = tree.distance_km
    # whole columns as Python floats at once (``tolist`` gives the same values as ``float(a[k])``)
    v_kv = result.v_kv.tolist()
    v_pu = result.v_pu.tolist()
    angle = np.degrees(result.v_angle_rad).tolist()
    island_of = topology.island_of_bus.tolist()
    energised = result.energised.tolist()
    v_base = case.v_base_kv.tolist()
    dist = distance.tolist()
    isfinite = math.isfinite
    buses = []
    for b in topology.buses:
        k = b.index
        d = dist[k]
        buses.append(
            _new_bus(  # positional, in field order
                k,  # index
                b.mrid,  # id
                b.name,  # name
                b.topological_node,  # topological_node
                b.connectivity_nodes,  # connectivity_nodes
                int(island_of[k]),  # island
                bool(energised[k]),  # energised
                v_base[k],  # v_base_kv
                v_kv[k],  # v_kv
                v_pu[k],  # v_pu
                angle[k],  # angle_deg
                d if isfinite(d) else None,  # distance_km
            )
        )
    p_from, q_from = result.p_from_mw.tolist(), result.q_from_mvar.tolist()
    p_to, q_to = result.p_to_mw.tolist(), result.q_to_mvar.tolist()
    i_from, i_to = result.i_from_a.tolist(), result.i_to_a.tolist()
    i_max_a, s_rated_mva = index.i_max_a.tolist(), index.s_rated_mva.tolist()
    top_index = index.branch_topology_index.tolist()
    br_from, br_to = case.branch_from.tolist(), case.branch_to.tolist()
    get = network.by_mrid.get
    top_branches = topology.branches
    bus_id: list[MRID] = [b.mrid for b in topology.buses]
    bus_id += [MRID(f"{m}#internal") for m in index.injections.internal_mrid]
    hypot = math.hypot
    branches = []
    for k in range(case.n_branch):
        ti = top_index[k]
        top = top_branches[ti] if ti >= 0 else None
        equipment = index.branch_mrid[k]
        branch_id = top.ends[0] if top is not None and top.kind.value == "transformer-winding" else equipment
        obj = get(equipment) if equipment is not None else None
        pf, qf, pt, qt, i_f = p_from[k], q_from[k], p_to[k], q_to[k], i_from[k]
        i_max = i_max_a[k] if isfinite(i_max_a[k]) else None
        s_rated = s_rated_mva[k] if isfinite(s_rated_mva[k]) else None
        loading = None
        if s_rated:
            loading = 100.0 * max(hypot(pf, qf), hypot(pt, qt)) / s_rated
        elif i_max:
            loading = 100.0 * i_f / i_max
        branches.append(
            _new_branch(  # positional, in field order
                k,  # index
                branch_id,  # id
                equipment,  # equipment
                obj.name if obj else None,  # name
                top.cim_class if top else "EnergySource",  # cim_class
                index.branch_kind[k],  # kind
                bus_id[br_from[k]],  # from_bus
                bus_id[br_to[k]],  # to_bus
                pf,  # p_from_mw
                qf,  # q_from_mvar
                pt,  # p_to_mw
                qt,  # q_to_mvar
                i_f,  # i_from_a
                i_to[k],  # i_to_a
                max(i_f, i_to[k]),  # i_a
                i_max,  # i_max_a
                s_rated,  # s_rated_mva
                loading,  # loading_pct
                pf + pt,  # p_loss_mw
            )
        )
    slacks = []
    partners = index.injections.slack_partners
    for k, first in enumerate(index.slack_mrid):
        bus = int(case.slack_bus[k])
        sharing = (first, *partners.get(k, ()))  # sources on one node share its slack power equally
        for mrid in sharing:
            obj = network.get(mrid)
            slacks.append(
                SlackResult(
                    id=mrid,
                    name=obj.name if obj else None,
                    cim_class=obj.cim_class if obj else "?",
                    bus=MRID(bus_id[bus]),
                    p_mw=float(result.p_slack_mw[k]) / len(sharing),
                    q_mvar=float(result.q_slack_mvar[k]) / len(sharing),
                )
            )
    records = index.injections.records
    load = [r for r in records if r.role == "load"]
    gen = [r for r in records if r.role == "generation"]
    generators = _generators(network, build, result, bus_id)
    q_solved = {g.id: g.q_mvar for g in generators}
    return Solution(
        converged=result.converged,
        solver=result.solver,
        iterations=result.n_iterations,
        max_mismatch_mva=float(result.max_mismatch_pu * case.s_base_mva),
        buses=tuple(buses),
        branches=tuple(branches),
        slacks=tuple(slacks),
        losses_mw=float(result.p_loss_mw),
        losses_mvar=float(result.q_loss_mvar),
        load_mw=float(sum(r.p_mw for r in load)),
        load_mvar=float(sum(r.q_mvar for r in load)),
        generation_mw=float(-sum(r.p_mw for r in gen)),
        generation_mvar=float(-sum(q_solved.get(r.mrid, r.q_mvar) for r in gen)),
        generators=tuple(generators),
    )
