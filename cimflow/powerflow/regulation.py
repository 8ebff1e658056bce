"""Which generators hold a bus voltage (PV buses), at what set point and within which reactive limits.

A generator (SynchronousMachine, PowerElectronicsConnection, or an ExternalNetworkInjection that is
not its island's slack) regulates voltage when CGMES says so: ``RegulatingCondEq.controlEnabled`` is
true (SSH), its ``RegulatingCondEq.RegulatingControl`` has mode ``voltage``, is not disabled
(``RegulatingControl.enabled``, SSH) and has a ``targetValue`` (kV, SSH) above 0. The regulated bus
is the bus of the RegulatingControl's Terminal: the generator's own (local control, also when the
control names no Terminal) or another one (remote control), whose voltage the generator's reactive
power then holds.

Reactive limits (generator sense, Mvar) come, as PowSyBl reads them, from the machine's
ReactiveCapabilityCurve (``SynchronousMachine.InitialReactiveCapabilityCurve``,
``EquivalentInjection.ReactiveCapabilityCurve``) where it has a point: each CurveData gives, at active
power ``xvalue`` (MW, generator sense), the range ``y1value`` .. ``y2value`` (swapped if reversed;
points with the same P merged into one range when their ranges overlap, else the later one ignored).
With two points or more the limits are interpolated linearly at the machine's own active power
(``-p``: the file's p is in the load sign) and held at the first or last point outside the curve's
span; one point is a fixed range. Without a curve (or without a usable point) they are ``minQ`` /
``maxQ``, swapped if reversed; a missing side is unlimited. A generator whose range is empty
(``minQ`` equals ``maxQ``) has nothing to regulate with and stays PQ (as in PowSyBl; exporters write
``minQ = maxQ = 0`` beside a curve).

Several generators on one PV bus hold it together: their limits add up and they share the bus's
reactive power at the same position within each one's range, ``q_i = min_i + (Q - Σmin)·range_i /
Σrange`` (MATPOWER's rule), or equally when a range is unlimited or all ranges are zero.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from cimflow.ids import MRID
from cimflow.model.base import CimObject
from cimflow.model.injections import (
    Curve,
    CurveData,
    ExternalNetworkInjection,
    PowerElectronicsConnection,
    RegulatingCondEq,
    RegulatingControl,
    SynchronousMachine,
)
from cimflow.model.network import Network
from cimflow.topology.model import Topology
from cimflow.units import MULTIPLIERS, Dialect


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


@dataclass(frozen=True, slots=True)
class QLimits:
    """A generator's reactive range (Mvar, generator sense; ±inf where unlimited) and where it comes from.

    Attributes:
        source: ``"curve"`` (interpolated on its ReactiveCapabilityCurve), ``"minQ/maxQ"`` or ``"none"``.
        swapped: The file gave the lower limit above the upper one (a point of the curve, or minQ/maxQ).
    """

    q_min_mvar: float
    q_max_mvar: float
    source: str
    swapped: bool = False


class _Point(NamedTuple):
    x: float | None
    y1: float | None
    y2: float | None


def curve_points_mw(network: Network, curve: MRID) -> list[_Point]:
    """The CurveData of a ReactiveCapabilityCurve in MW and Mvar.

    The reader took each value in its document's unit of power: MW in CGMES documents, W in CIM100
    (SI) ones. In an SI document the curve's unit multipliers (``Curve.xMultiplier``, ``y1Multiplier``,
    ``y2Multiplier``) say what the values count, kW or MW say, and are applied; CGMES fixes MW, and
    its multipliers are not read (as PowSyBl reads them).
    """
    points = network.curve_points_of.get(curve, ())
    owner = network.of(Curve).get(curve)
    if not points or owner is None:
        return [_Point(p.x, p.y1, p.y2) for p in points]
    si = {getattr(d, "name", None) for d in network.documents if getattr(d, "dialect", None) is Dialect.SI}
    multipliers = (owner.x_multiplier, owner.y1_multiplier, owner.y2_multiplier)
    scale = [MULTIPLIERS.get(m, 1.0) if m else 1.0 for m in multipliers]
    out = []
    for p in points:
        if p.source.file in si:
            x, y1, y2 = (v * f if v is not None else None for v, f in zip((p.x, p.y1, p.y2), scale, strict=True))
            out.append(_Point(x, y1, y2))
        else:
            out.append(_Point(p.x, p.y1, p.y2))
    return out


def curve_ranges(points: Iterable[CurveData | _Point]) -> tuple[list[tuple[float, float, float]], bool]:
    """The usable points of a ReactiveCapabilityCurve as (P, minQ, maxQ) sorted by P, and whether one
    was reversed: incomplete or non-finite points are dropped, reversed ranges swapped, and points at
    the same P merged into one range when their ranges overlap (the later one is ignored otherwise)."""
    by_p: dict[float, tuple[float, float]] = {}
    swapped = False
    for point in points:
        p, lo, hi = point.x, point.y1, point.y2
        if p is None or lo is None or hi is None or not all(map(math.isfinite, (p, lo, hi))):
            continue
        if lo > hi:
            lo, hi, swapped = hi, lo, True
        prev = by_p.get(p)
        if prev is None:
            by_p[p] = (lo, hi)
        elif lo <= prev[1] and prev[0] <= hi:
            by_p[p] = (min(lo, prev[0]), max(hi, prev[1]))
    return [(p, lo, hi) for p, (lo, hi) in sorted(by_p.items())], swapped


def _on_curve(ranges: list[tuple[float, float, float]], p: float) -> tuple[float, float]:
    """(minQ, maxQ) at active power ``p``: linear between points, the end point's outside the span."""
    if p <= ranges[0][0]:
        return ranges[0][1], ranges[0][2]
    if p >= ranges[-1][0]:
        return ranges[-1][1], ranges[-1][2]
    k = bisect_right([r[0] for r in ranges], p)
    (p0, lo0, hi0), (p1, lo1, hi1) = ranges[k - 1], ranges[k]
    t = (p - p0) / (p1 - p0)
    return lo0 + t * (lo1 - lo0), hi0 + t * (hi1 - hi0)


def q_limits(eq: CimObject, network: Network | None = None) -> QLimits:
    """The reactive range of a generator (see the module docstring); its curve is read from ``network``."""
    curve = getattr(eq, "capability_curve", None)
    if curve is not None and network is not None:
        ranges, swapped = curve_ranges(curve_points_mw(network, curve))
        if ranges:
            p_gen = -float(getattr(eq, "p_mw", None) or 0.0)
            p_gen = p_gen if math.isfinite(p_gen) else 0.0
            lo, hi = _on_curve(ranges, p_gen)
            return QLimits(lo, hi, "curve", swapped)
    low = getattr(eq, "min_q_mvar", None)
    high = getattr(eq, "max_q_mvar", None)
    q_min = -math.inf if low is None else float(low)
    q_max = math.inf if high is None else float(high)
    if q_min > q_max:
        return QLimits(q_max, q_min, "minQ/maxQ", True)
    return QLimits(q_min, q_max, "minQ/maxQ" if low is not None or high is not None else "none")


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
