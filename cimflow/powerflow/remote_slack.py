"""Slacks that hold the voltage of another bus: a source whose RegulatingControl's Terminal is elsewhere.

A slack holds a fixed voltage at its own bus. When its enabled voltage RegulatingControl regulates another
bus (a generator behind its step-up transformer holding the high-voltage busbar, as in the ENTSO-E
MicroGrid), the set point is that bus's voltage, and the slack's own voltage is whatever holds it. The
case starts with the set point (in per unit of the regulated bus) at the slack's bus; after the first
solve the slack's magnitude is scaled by ``target / |V_regulated|`` (its angle kept), after later ones it
takes a secant step on the measured sensitivity of the regulated voltage to its own, and the case is
solved again until the regulated bus is within ``tolerance`` of its target, as OpenLoadFlow holds a
remote voltage with its slack. A step moves the slack by at most 0.1 pu. Where that does not settle, the
last converged solve stands and a CF051 says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from cimflow.catalog import inputs as icodes
from cimflow.findings import Finding, make_finding
from cimflow.model.injections import EnergySource, RegulatingControl
from cimflow.model.network import Network
from cimflow.powerflow.arrays import PerUnitCase
from cimflow.powerflow.result import PowerFlowResult
from cimflow.topology.model import Topology

MAX_ROUNDS = 30
MAX_STEP_PU = 0.1  # the most a slack's voltage moves between two solves


@dataclass(frozen=True, slots=True)
class RemoteTarget:
    """A slack (index into the case's slack arrays) holding bus ``bus`` at ``v_pu`` (that bus's base)."""

    slack: int
    bus: int
    v_pu: float


def remote_targets(
    network: Network, topology: Topology, case: PerUnitCase, slack_mrids: tuple[str, ...]
) -> list[RemoteTarget]:
    """The slacks whose enabled voltage control regulates another bus of their island."""
    controls = network.of(RegulatingControl)
    out: list[RemoteTarget] = []
    for k, mrid in enumerate(slack_mrids):
        eq = network.get(mrid)
        if eq is None or isinstance(eq, EnergySource) or getattr(eq, "control_enabled", None) is False:
            continue
        rc_id = getattr(eq, "regulating_control", None)
        rc = controls.get(rc_id) if rc_id else None
        if (
            rc is None
            or rc.terminal is None
            or rc.target_value is None
            or rc.target_value <= 0
            or rc.mode not in (None, "voltage")
            or rc.enabled is False
        ):
            continue
        bus = topology.bus_of_terminal.get(rc.terminal)
        own = int(case.slack_bus[k])
        if bus is None or bus == own or own >= len(topology.buses):
            continue
        if topology.island_of_bus[bus] != topology.island_of_bus[own]:
            continue
        out.append(RemoteTarget(k, int(bus), rc.target_value / float(case.v_base_kv[bus])))
    return out


def hold_remote(
    case: PerUnitCase,
    targets: list[RemoteTarget],
    solve: Callable[[PerUnitCase], PowerFlowResult],
    *,
    tolerance: float,
) -> tuple[PerUnitCase, PowerFlowResult, bool]:
    """Solve ``case``, scaling the slacks of ``targets`` until their regulated buses hold their set points.

    Returns the case with the slack voltages that hold them, its result, and whether they settled.
    """
    result = solve(case)
    if not targets:
        return case, result, True
    slack = np.array([t.slack for t in targets], dtype=np.int64)
    bus = np.array([t.bus for t in targets], dtype=np.int64)
    wanted = np.array([t.v_pu for t in targets])
    before: tuple[np.ndarray, np.ndarray] | None = None  # (|slack voltage|, |regulated voltage|) of the last solve
    last: tuple[PerUnitCase, PowerFlowResult] | None = None  # the last converged solve
    for _ in range(MAX_ROUNDS):
        if not result.converged:
            # a step too far for the solver: the last converged solve stands (reported as not settled)
            return (*last, False) if last is not None else (case, result, False)
        last = (case, result)
        held = np.abs(result.v_phasor_pu[bus])
        if np.all(held > 0) and np.max(np.abs(held - wanted)) <= tolerance:
            return case, result, True
        if not np.all(held > 0):
            return case, result, False
        v = case.slack_v_pu.copy()
        magnitude = np.abs(v[slack])
        new = magnitude * wanted / held  # the first step: as if the regulated bus followed the slack one to one
        if before is not None:
            # then secant steps on each slack's own sensitivity: a generator or a voltage-holding bus near the
            # regulated one makes it follow the slack only partly, and scaling alone would creep towards it
            d_slack, d_held = magnitude - before[0], held - before[1]
            with np.errstate(divide="ignore", invalid="ignore"):
                slope = d_held / d_slack
            usable = np.isfinite(slope) & (slope > 0.02) & (slope < 50.0) & (np.abs(d_slack) > 1e-14)
            secant = magnitude + (wanted - held) / np.where(usable, slope, 1.0)
            new = np.where(usable, secant, new)
        new = np.clip(new, magnitude - MAX_STEP_PU, magnitude + MAX_STEP_PU)  # a flat slope asks for a long jump
        before = (magnitude, held)
        v[slack] *= new / magnitude
        case = case.with_slack_voltage(v)
        result = solve(case)
    if not result.converged and last is not None:
        return (*last, False)
    return case, result, False


def not_held(network: Network, slack_mrids: tuple[str, ...], targets: list[RemoteTarget]) -> list[Finding]:
    """CF051 for each slack whose remote set point was not reached."""
    out = []
    for t in targets:
        eq = network.get(slack_mrids[t.slack])
        if eq is not None:
            out.append(
                make_finding(
                    icodes.VALUE_ASSUMED,
                    eq.location("regulating_control"),
                    ctx={
                        "value": "the last slack voltage tried",
                        "reason": f"the regulated bus did not settle at its set point in {MAX_ROUNDS} solves",
                    },
                )
            )
    return out
