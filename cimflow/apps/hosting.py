"""Hosting capacity per bus (PV, EV, load) by vectorised bisection, and the connection assessment built on it.

::

    study = prepare_hosting(network, topology, build, HostingConfig(kind="pv"))
    result = hosting_capacity(study)                  # every bus; or buses=[index, ...]
    answer = assess_connection(study, bus_index, 30.0)  # 30 kW PV at one bus: yes or no, and why

How it stays fast. The network is never changed: the base case (loads scaled to the study's level)
is split into islands once, each island factorised once, and every trial is a scenario value (one
column of a batch) solved on that factorisation (:mod:`cimflow.apps.hosting_sweep`). The buses of
an island are searched together, one batch of scenarios per step (:mod:`cimflow.apps.hosting_search`:
brackets placed by linear estimates of the margins, closed by bisection), so a bus costs at most
``O(log2(max_kw / tolerance_kw))`` scenarios and typically 8; ``workers > 1`` spreads an island's
buses over processes.

Generators that hold a voltage (PV buses) do so in the base case; in the scenarios they keep the
reactive power they have there (their control is not re-solved per trial), so the capacity is
what the grid takes before they react.

Limits judged are those of :mod:`cimflow.apps.hosting_criteria`. A bus in an island without a
source has no capacity (binding ``not-energised``); a bus whose base case already breaks a
criterion has capacity 0 with that criterion; one at the source bus, or where everything holds up
to ``max_kw``, reports ``max_kw`` (binding ``max-kw``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from types import MappingProxyType

import numpy as np

from cimflow.apps.hosting_criteria import Criterion, HostingConfig
from cimflow.apps.hosting_problem import IslandStudy, build_islands, capacity_from_search, scaled_case
from cimflow.apps.hosting_results import BusCapacity, Capacity, ConnectionAssessment, CriterionState, HostingResult
from cimflow.apps.hosting_search import SearchResult, concat_results, search_part
from cimflow.apps.hosting_sweep import IslandProblem, IslandSweep
from cimflow.apps.volt_var import ControlConfig, ControlMode
from cimflow.errors import ConfigError, InternalError
from cimflow.ids import MRID, normalise_mrid
from cimflow.model.network import Network
from cimflow.powerflow.arrays import PerUnitCase
from cimflow.powerflow.case import CaseBuild, bus_lookup
from cimflow.topology.model import Topology

Progress = Callable[[int, int], None]  # (buses searched so far, buses to search)
MIN_COLUMNS_PER_TASK = 64  # smaller tasks cost more in pickling than they gain in parallel


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class HostingStudy:
    """A prepared study: the base case, its islands and what maps them back to CIM.

    Attributes:
        network: The model.
        topology: Its topology.
        build: The case as built from the file (never changed).
        config: The study's options.
        base_case: The case at the study's load level (a new value; ``build.case`` is untouched).
        islands: One entry per island of the case, energised or not.
        island_of_bus: ``(n_bus,)`` island of every case bus.
        local_of_bus: ``(n_bus,)`` index of every case bus within its island.
        lookup: Bus index by bus id, ConnectivityNode or TopologicalNode mRID.
    """

    network: Network
    topology: Topology
    build: CaseBuild
    config: HostingConfig
    base_case: PerUnitCase
    islands: tuple[IslandStudy, ...]
    island_of_bus: np.ndarray
    local_of_bus: np.ndarray
    lookup: Mapping[MRID, int]

    def find_bus(self, text: str) -> int | None:
        """Index of a bus by its id, a ConnectivityNode or a TopologicalNode mRID (any spelling), else ``None``."""
        for key in (text, text.strip(), normalise_mrid(text)):
            found = self.lookup.get(MRID(key))
            if found is not None:
                return int(found)
        return None


def prepare_hosting(
    network: Network, topology: Topology, build: CaseBuild, config: HostingConfig | None = None
) -> HostingStudy:
    """Scale the loads to the study's level, split the islands and solve each base case once.

    Args:
        network: The model the case was built from.
        topology: Its topology (bus ids and names).
        build: The built case and index (``cimflow.solve(...).build``).
        config: The study's options (default: PV with the documented defaults).

    Returns:
        The study, ready for :func:`hosting_capacity` and :func:`assess_connection`.
    """
    cfg = config or HostingConfig()
    base = scaled_case(build, cfg.base_load_scale)
    islands, island_of_bus, local_of_bus = build_islands(network, topology, build, base, cfg)
    lookup = MappingProxyType(dict(bus_lookup(topology)))
    return HostingStudy(network, topology, build, cfg, base, islands, island_of_bus, local_of_bus, lookup)


def _tasks(study: HostingStudy, buses: np.ndarray, workers: int) -> list[tuple[int, np.ndarray]]:
    """(island, island-local buses) pieces to search; big islands are cut for the workers."""
    tasks: list[tuple[int, np.ndarray]] = []
    isl = study.island_of_bus[buses]
    order = np.argsort(isl, kind="stable")  # group the buses by island in O(N log N), not a mask per island
    labels, starts = np.unique(isl[order], return_index=True)
    for i, group in zip(labels.tolist(), np.split(order, starts[1:]), strict=True):
        if study.islands[i].problem is None:
            continue
        local = study.local_of_bus[buses[group]]
        n_parts = max(1, min(workers * 2, local.size // MIN_COLUMNS_PER_TASK)) if workers > 1 else 1
        tasks.extend((i, part) for part in np.array_split(local, n_parts) if part.size)
    return tasks


def _search(study: HostingStudy, buses: np.ndarray, workers: int, progress: Progress | None) -> dict[int, SearchResult]:
    """Run the searches, in this process or in ``workers`` processes; results by island."""
    tasks = _tasks(study, buses, workers)
    expected = sum(p.size for _, p in tasks)
    done = 0
    parts: dict[int, list[SearchResult]] = {}

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, expected), expected)

    if workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
            futures = [(i, pool.submit(search_part, _problem(study, i), part)) for i, part in tasks]
            for i, fut in futures:
                res = fut.result()
                parts.setdefault(i, []).append(res)
                tick(int(res.bus.size))
    else:
        for i, part in tasks:
            parts.setdefault(i, []).append(search_part(_problem(study, i), part, on_step=tick))
    if progress is not None:
        progress(expected, expected)
    return {i: _merge(p) for i, p in parts.items()}


def _problem(study: HostingStudy, island: int) -> IslandProblem:
    problem = study.islands[island].problem
    if problem is None:  # _tasks only hands out islands with a problem
        raise InternalError(f"island {island} has nothing to search")
    return problem


def _merge(parts: list[SearchResult]) -> SearchResult:
    return parts[0] if len(parts) == 1 else concat_results(parts)


def _bus_entry(study: HostingStudy, index: int, result: Capacity, controlled: Capacity | None) -> BusCapacity:
    bus = study.topology.buses[index]
    island = study.islands[int(study.island_of_bus[index])]
    return BusCapacity(
        index=index,
        bus=bus.mrid,
        name=bus.name,
        v_base_kv=float(study.base_case.v_base_kv[index]),
        island=int(study.topology.island_of_bus[index]),
        energised=island.energised,
        result=result,
        controlled=controlled,
    )


def hosting_capacity(
    study: HostingStudy,
    buses: Sequence[int] | None = None,
    *,
    workers: int = 1,
    progress: Progress | None = None,
    control: ControlSpec | None = None,
) -> HostingResult:
    """Find the hosting capacity of buses (default: every bus of the topology).

    Args:
        study: The prepared study.
        buses: Topology bus indices; duplicates are searched once and reported once.
        workers: Processes to search in (1: this process).
        progress: Called with (buses searched, buses to search) as the search advances.
        control: Also search with Volt-VAR control on (one bisection per bus, unbatched: slow for
            many buses).

    Returns:
        One result per bus, in the order asked.

    Raises:
        ConfigError: A bus index outside the topology, or ``workers < 1``.
    """
    if workers < 1:
        raise ConfigError(f"hosting_capacity: workers={workers}, must be >= 1")
    n_top = len(study.topology.buses)
    wanted = list(dict.fromkeys(range(n_top) if buses is None else (int(b) for b in buses)))
    bad = [b for b in wanted if not 0 <= b < n_top]
    if bad:
        raise ConfigError(f"hosting_capacity: bus index {bad[0]} is outside the topology's {n_top} buses")
    clock = time.perf_counter()
    index = np.array(wanted, dtype=np.int64)
    found = _search(study, index, workers, progress)
    capacities: dict[int, Capacity] = {}
    for i, res in found.items():
        island = study.islands[i]
        for col, cap in enumerate(capacity_from_search(island, res, study.config)):
            capacities[int(island.bus_index[res.bus[col]])] = cap
    controlled: dict[int, Capacity] = {}
    if control is not None:
        from cimflow.apps.hosting_control import controlled_capacities

        controlled = controlled_capacities(study, wanted, control, capacities, workers=workers)
    entries = []
    n_solves = 0
    for b in wanted:
        cap = capacities.get(b) or study.islands[int(study.island_of_bus[b])].no_capacity
        n_solves += cap.n_solves + (controlled[b].n_solves if b in controlled else 0)
        entries.append(_bus_entry(study, b, cap, controlled.get(b)))
    return HostingResult(
        config=study.config,
        criteria=study.config.active,
        load_scale=study.config.base_load_scale,
        control_mode=None if control is None else str(control.mode),
        buses=tuple(entries),
        n_solves=n_solves,
        elapsed_s=time.perf_counter() - clock,
    )


def assess_connection(
    study: HostingStudy, bus: int, p_kw: float, *, control: ControlSpec | None = None
) -> ConnectionAssessment:
    """Judge one unit of ``p_kw`` at ``bus``: every criterion with it connected, and the bus's capacity.

    Args:
        study: The prepared study (its kind and power factor describe the unit).
        bus: Topology bus index.
        p_kw: The unit's power (kW, > 0).
        control: Judge with Volt-VAR control on.

    Returns:
        The assessment; a bus without capacity (not energised) is never accepted.

    Raises:
        ConfigError: ``p_kw`` not positive or above the study's ``max_kw``, or a bad bus index.
    """
    if not (p_kw > 0 and np.isfinite(p_kw)):
        raise ConfigError(f"assess_connection: p_kw={p_kw}, must be > 0")
    if p_kw > study.config.max_kw:
        raise ConfigError(f"assess_connection: p_kw={p_kw} is above max_kw={study.config.max_kw}")
    hosted = hosting_capacity(study, [bus], control=control)
    kind, pf = study.config.kind.value, study.config.pf
    entry = hosted.buses[0]
    capacity = entry.controlled if control is not None and entry.controlled is not None else entry.result
    island = study.islands[int(study.island_of_bus[bus])]
    if island.problem is None:
        return ConnectionAssessment(
            entry,
            kind,
            pf,
            p_kw,
            False,
            (),
            False,
            None,
            None,
            capacity,
            None,
            hosted.control_mode,
            f"no: {capacity.reason}",
        )
    local = int(study.local_of_bus[bus])
    if control is not None:
        from cimflow.apps.hosting_control import controlled_states

        states, converged, v_bus = controlled_states(study, bus, p_kw, control)
    else:
        states, converged, v_bus = island.states_at(local, p_kw)
    accepted = converged and all(s.holds for s in states)
    first = None
    if capacity.binding.value in {c.value for c in Criterion}:
        first = next((s for s in states if s.criterion.value == capacity.binding.value), None)
    v_base = float(abs(island.problem.v_base_pu[local]))
    reason = _verdict(accepted, p_kw, capacity, states, converged)
    return ConnectionAssessment(
        entry, kind, pf, p_kw, accepted, states, converged, v_bus, v_base, capacity, first, hosted.control_mode, reason
    )


def _verdict(
    accepted: bool, p_kw: float, capacity: Capacity, states: tuple[CriterionState, ...], converged: bool
) -> str:
    """One sentence: yes with the headroom, or no with the limit that breaks first and by how much."""
    cap = capacity.capacity_kw
    if not converged:
        return f"no: the power flow has no solution with {p_kw:g} kW at this bus"
    if accepted:
        head = f"{cap - p_kw:.1f} kW of headroom up to {cap:.1f} kW" if cap is not None else "no capacity figure"
        return f"yes: every criterion holds ({head}; limited by {capacity.binding})"
    broken = [s for s in states if not s.holds]
    worst = next((s for s in broken if s.criterion.value == capacity.binding.value), broken[0] if broken else None)
    if worst is None:
        return f"no: {capacity.reason}"
    where = worst.element.label if worst.element else "?"
    return (
        f"no: {worst.criterion} breaks first at {where}: {worst.value:.4g} {worst.unit} against "
        f"{worst.limit:.4g} {worst.unit} ({-(worst.margin or 0.0):.3g} {worst.unit} over); "
        f"capacity {cap if cap is not None else 0:.1f} kW"
    )


@dataclasses.dataclass(frozen=True, slots=True)
class ControlSpec:
    """Volt-VAR control for the second search: the mode and its configuration (``None``: defaults)."""

    mode: ControlMode | str
    config: ControlConfig | None = None


__all__ = [
    "BusCapacity",
    "Capacity",
    "ConnectionAssessment",
    "ControlSpec",
    "CriterionState",
    "HostingConfig",
    "HostingResult",
    "HostingStudy",
    "IslandSweep",
    "assess_connection",
    "hosting_capacity",
    "prepare_hosting",
]
