"""Which generators hold a bus voltage (PV buses), at what set point and within which reactive limits.

A generator (SynchronousMachine, PowerElectronicsConnection, or an ExternalNetworkInjection that is
not its island's slack) regulates voltage when CGMES says so: ``RegulatingCondEq.controlEnabled`` is
true (SSH), its ``RegulatingCondEq.RegulatingControl`` has mode ``voltage``, is not disabled
(``RegulatingControl.enabled``, SSH) and has a ``targetValue`` (kV, SSH) above 0. The regulated bus
is the bus of the RegulatingControl's Terminal: the generator's own (local control, also when the
control names no Terminal) or another one (remote control), whose voltage the generator's reactive
power then holds. Reactive limits are ``minQ`` / ``maxQ`` (generator sense,
Mvar; a missing side is unlimited); a ReactiveCapabilityCurve is not read. A generator whose
``minQ`` equals its ``maxQ`` has no range to regulate with and stays PQ (as in PowSyBl; exporters
write ``minQ = maxQ = 0`` beside a curve).

Several generators on one PV bus hold it together: their limits add up and they share the bus's
reactive power at the same position within each one's range, ``q_i = min_i + (Q - Σmin)·range_i /
Σrange`` (MATPOWER's rule), or equally when a range is unlimited or all ranges are zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from cimflow.ids import MRID
from cimflow.model.base import CimObject
from cimflow.model.injections import (
    ExternalNetworkInjection,
    PowerElectronicsConnection,
    RegulatingCondEq,
    RegulatingControl,
    SynchronousMachine,
)
from cimflow.model.network import Network
from cimflow.topology.model import Topology


@dataclass(frozen=True, slots=True)
class VoltageControl:
    """An enabled voltage control of one generator.

    Attributes:
        regulated_bus: Bus of the RegulatingControl's Terminal (the generator's own bus if none).
        v_pu: Set point in per unit of the regulated bus's base voltage.
        local: True when the regulated bus is the generator's own bus.
    """

    regulated_bus: int
    v_pu: float
    local: bool


@dataclass(frozen=True, slots=True)
class PvGenerator:
    """A generator holding the voltage of a PV bus (Mvar in generator sense; ±inf when unlimited)."""

    mrid: MRID
    pv: int  # index into the case's PV arrays
    q_min_mvar: float
    q_max_mvar: float


def voltage_control(
    network: Network, topology: Topology, eq: CimObject, bus: int, vb: list[float]
) -> VoltageControl | None:
    """The enabled voltage control of a generator, or ``None`` (see the module docstring)."""
    if not isinstance(eq, (SynchronousMachine, PowerElectronicsConnection, ExternalNetworkInjection)):
        return None
    if not isinstance(eq, RegulatingCondEq) or eq.control_enabled is not True or eq.regulating_control is None:
        return None
    rc = network.of(RegulatingControl).get(eq.regulating_control)
    if rc is None or rc.mode != "voltage" or rc.enabled is False or not rc.target_value or rc.target_value <= 0:
        return None
    regulated = topology.bus_of_terminal.get(rc.terminal, bus) if rc.terminal else bus
    return VoltageControl(regulated, rc.target_value / vb[regulated], regulated == bus)


def q_limits_mvar(eq: CimObject) -> tuple[float, float]:
    """(min, max) reactive injection of a generator in Mvar, generator sense; a missing side is ±inf."""
    low = getattr(eq, "min_q_mvar", None)
    high = getattr(eq, "max_q_mvar", None)
    return (-math.inf if low is None else float(low), math.inf if high is None else float(high))


def share_q_mvar(q_inject_mvar: float, generators: list[PvGenerator]) -> list[float]:
    """Split a PV bus's reactive injection (generator sense) between its generators (see the module)."""
    if len(generators) == 1:
        return [q_inject_mvar]
    ranges = [g.q_max_mvar - g.q_min_mvar for g in generators]
    total = sum(ranges)
    if not math.isfinite(total) or total <= 0:
        return [q_inject_mvar / len(generators)] * len(generators)
    low = sum(g.q_min_mvar for g in generators)
    return [g.q_min_mvar + (q_inject_mvar - low) * r / total for g, r in zip(generators, ranges, strict=True)]
