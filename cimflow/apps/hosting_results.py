"""Result types of hosting capacity and connection assessment, in CIM terms (mRIDs, names, kW)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from cimflow.apps.hosting_criteria import Binding, Criterion, HostingConfig
from cimflow.ids import MRID


@dataclass(frozen=True, slots=True)
class Element:
    """A bus or a branch a criterion points at.

    Attributes:
        mrid: Bus id (as in the solve report) or equipment mRID.
        name: Its name, if any.
        kind: ``bus``, or the branch kind (``line``, ``transformer``, ``transformer-winding``).
    """

    mrid: MRID
    name: str | None
    kind: str

    @property
    def label(self) -> str:
        """Name, else mRID."""
        return self.name or self.mrid


@dataclass(frozen=True, slots=True)
class CriterionState:
    """One criterion in one scenario: the worst value, its limit and the margin (positive = holds).

    Attributes:
        criterion: The criterion.
        value: The quantity at the worst element: voltage (pu), rise (pu), loading (%), P (MW).
        limit: The limit it is compared with.
        margin: ``None`` when there is nothing to check (no rated element, no supplying transformer).
        unit: Unit of ``value``, ``limit`` and ``margin``.
        element: The worst element.
    """

    criterion: Criterion
    value: float | None
    limit: float | None
    margin: float | None
    unit: str
    element: Element | None

    @property
    def holds(self) -> bool:
        """True when the margin is not negative (or there is nothing to check)."""
        return self.margin is None or self.margin >= 0


@dataclass(frozen=True, slots=True)
class Capacity:
    """The capacity of one bus in one scenario (without or with Volt-VAR control).

    Attributes:
        capacity_kw: Largest added power at which every criterion holds; ``None`` when the bus has
            no capacity to speak of (not energised, base case without solution).
        binding: What limits it.
        element: Where the binding criterion breaks first.
        reason: One sentence for people.
        margins: Every active criterion at ``capacity_kw`` (the base case when 0).
        hi_kw: The smallest power found to break a criterion (``None`` when none was).
        n_solves: Power flows the search took for this bus.
        converged: False when the control loop did not settle at the capacity (control only).
    """

    capacity_kw: float | None
    binding: Binding
    element: Element | None
    reason: str
    margins: tuple[CriterionState, ...]
    hi_kw: float | None
    n_solves: int
    converged: bool = True

    def state(self, criterion: Criterion) -> CriterionState | None:
        """The state of one criterion, if active."""
        return next((m for m in self.margins if m.criterion is criterion), None)


@dataclass(frozen=True, slots=True)
class BusCapacity:
    """Hosting capacity of one bus.

    Attributes:
        index: Bus index in the topology.
        bus: Bus id, as in the solve report (TopologicalNode mRID, or first ConnectivityNode mRID).
        name: Bus name.
        v_base_kv: Nominal voltage.
        island: Island index in the topology.
        energised: Whether the island has a source.
        result: The capacity without control.
        controlled: The capacity with Volt-VAR control (when asked for).
    """

    index: int
    bus: MRID
    name: str | None
    v_base_kv: float | None
    island: int
    energised: bool
    result: Capacity
    controlled: Capacity | None = None

    @property
    def capacity_kw(self) -> float | None:
        """Capacity without control."""
        return self.result.capacity_kw

    @property
    def binding(self) -> Binding:
        """What limits the capacity without control."""
        return self.result.binding


@dataclass(frozen=True, slots=True, eq=False)
class HostingResult:
    """A hosting-capacity study of some or all buses.

    Attributes:
        config: The study's options.
        criteria: The criteria checked.
        load_scale: Load factor of the base case.
        control_mode: The Volt-VAR mode of the second search, if any.
        buses: One result per bus asked for, in the order asked.
        n_solves: Power flows solved in total.
        elapsed_s: Wall time of the searches.
    """

    config: HostingConfig
    criteria: tuple[Criterion, ...]
    load_scale: float
    control_mode: str | None
    buses: tuple[BusCapacity, ...]
    n_solves: int
    elapsed_s: float

    def by_capacity(self) -> list[BusCapacity]:
        """Buses by capacity, smallest first; those without capacity last, then by bus id."""
        return sorted(
            self.buses,
            key=lambda b: (b.capacity_kw is None, b.capacity_kw if b.capacity_kw is not None else 0.0, b.bus),
        )

    @property
    def solves_per_s(self) -> float:
        """Power flows per second of wall time."""
        return self.n_solves / self.elapsed_s if self.elapsed_s > 0 else math.inf


@dataclass(frozen=True, slots=True)
class ConnectionAssessment:
    """Answer to "can I connect this unit at this bus?".

    Attributes:
        bus: The bus.
        kind: What is added (``pv``, ``ev``, ``load``).
        pf: Its power factor.
        p_kw: Power asked for.
        accepted: True when every criterion holds with the unit connected (and the flow converges).
        states: Every active criterion with the unit connected.
        converged: Whether the power flow with the unit converged.
        v_bus_pu: Voltage at the bus with the unit (``None`` if not solved).
        v_bus_base_pu: Voltage at the bus in the base case.
        capacity: The bus's hosting capacity: ``p_kw`` minus it is how far the request is above it.
        first_broken: The criterion that breaks first as power rises (``None`` when accepted and
            below every limit in the range).
        control_mode: The Volt-VAR mode the assessment ran with, if any.
        reason: One sentence for people.
    """

    bus: BusCapacity
    kind: str
    pf: float
    p_kw: float
    accepted: bool
    states: tuple[CriterionState, ...]
    converged: bool
    v_bus_pu: float | None
    v_bus_base_pu: float | None
    capacity: Capacity
    first_broken: CriterionState | None
    control_mode: str | None
    reason: str

    @property
    def headroom_kw(self) -> float | None:
        """Capacity minus the power asked for (negative: how far above the capacity)."""
        cap = self.capacity.capacity_kw
        return None if cap is None else cap - self.p_kw
