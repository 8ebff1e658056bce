"""Volt-VAR control as a pipeline stage (:func:`run_control`) and its report sections, as JSON-ready values.

Load sign convention as everywhere in the report: an inverter generating has ``p_mw < 0``; one
absorbing reactive power (underexcited) has ``q_mvar > 0``. ``cos_phi`` is ``|P| / sqrt(P² + Q²)``;
the curves' axes are in generator sense (``q_inject_pct`` > 0 injects), as the standards draw them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cimflow.apps.curves import ControlConfig, ControlMode
from cimflow.apps.setpoints import AXES, curve_line
from cimflow.apps.volt_var import ControlledResult, Inverter, control_findings, inverters_of, solve_controlled
from cimflow.findings import Outcome
from cimflow.model.network import Network
from cimflow.powerflow.case import CaseBuild
from cimflow.powerflow.result import PowerFlowResult
from cimflow.powerflow.solve import Solver

SIGNIFICANT_DIGITS = 12
CURVE_POINTS = 49


def _num(value: float | None, digits: int = SIGNIFICANT_DIGITS) -> float | None:
    """Round to ``digits`` significant digits (byte-stable JSON); NaN and inf become ``None``."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{float(value):.{digits}g}") + 0.0


def _state(result: PowerFlowResult) -> dict[str, float | None]:
    """Extreme voltages and losses of one power flow, over the energised buses."""
    v = result.v_pu[result.energised]
    return {
        "v_max_pu": _num(float(v.max())) if v.size else None,
        "v_min_pu": _num(float(v.min())) if v.size else None,
        "losses_mw": _num(result.p_loss_mw),
        "losses_mvar": _num(result.q_loss_mvar),
    }


def _cos_phi(p_mw: float, q_mvar: float) -> float | None:
    s = math.hypot(p_mw, q_mvar)
    return abs(p_mw) / s if s > 0 else None


def inverter_records(
    controlled: ControlledResult, inverters: Iterable[Inverter], bus_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """One record per inverter: power, rating, voltage, cos φ, and the curve point it works at.

    Args:
        controlled: The controlled solve.
        inverters: The inverters it was run with, in the same order.
        bus_ids: Bus id of every case bus index (the report's bus ids).

    Returns:
        Records sorted by inverter id.
    """
    records = []
    for k, inv in enumerate(inverters):
        mode = controlled.modes[k]
        q = float(controlled.q_mvar[k])
        x_axis, y_axis = AXES[mode]
        records.append(
            {
                "id": inv.mrid,
                "name": inv.name,
                "cim_class": inv.cim_class,
                "bus": bus_ids[inv.bus] if 0 <= inv.bus < len(bus_ids) else None,
                "mode": str(mode),
                "p_mw": _num(inv.p_mw),
                "q_mvar": _num(q),
                "q_file_mvar": _num(inv.q_mvar),
                "q_limit_mvar": _num(float(controlled.q_limit_mvar[k])),
                "s_rated_mva": _num(inv.s_rated_mva),
                "rating_source": str(inv.rating_source),
                "v_pu": _num(float(controlled.v_pu[k])),
                "cos_phi": _num(_cos_phi(inv.p_mw, q)),
                "curve_point": {
                    "x_axis": x_axis,
                    "y_axis": y_axis,
                    "x": _num(float(controlled.curve_x[k])),
                    "curve_y": _num(float(controlled.curve_y[k])),
                    "y": _num(float(controlled.point_y[k])),
                    "limited": bool(controlled.limited[k]),
                },
            }
        )
    return sorted(records, key=lambda r: r["id"])


def curve_records(modes: Iterable[ControlMode], config: ControlConfig) -> list[dict[str, Any]]:
    """The curve of each mode in use, sampled for a plot; cos φ(P) has one line per plant class."""
    out = []
    lim = config.limits
    for mode in sorted(set(modes) - {ControlMode.NONE}, key=str):
        classes = [("", lim.cos_phi_limit_large)]
        if mode is ControlMode.COSPHI_P and config.cosphi_p.cos_phi_end is None:
            classes = [
                (f"plants up to {lim.small_plant_max_kva:g} kVA", lim.cos_phi_limit_small),
                (f"plants above {lim.small_plant_max_kva:g} kVA", lim.cos_phi_limit_large),
            ]
        lines = []
        for label, cos_phi_limit in classes:
            x, y = curve_line(mode, config, cos_phi_limit=cos_phi_limit, n=CURVE_POINTS)
            lines.append(
                {
                    "label": label or str(mode),
                    "x": [_num(float(a), 6) for a in x],
                    "y": [_num(float(b), 6) for b in y],
                }
            )
        x_axis, y_axis = AXES[mode]
        out.append({"mode": str(mode), "x_axis": x_axis, "y_axis": y_axis, "lines": lines})
    return out


def control_document(
    controlled: ControlledResult,
    inverters: Iterable[Inverter],
    config: ControlConfig,
    *,
    uncontrolled: PowerFlowResult,
    bus_ids: Sequence[str],
) -> dict[str, Any]:
    """The report's ``inverters`` list and ``control`` block.

    Args:
        controlled: The solve with control.
        inverters: Its inverters, in order.
        config: The control configuration (for the curves).
        uncontrolled: The same case solved with the file's reactive power (``none``).
        bus_ids: Bus id of every case bus index.

    Returns:
        ``{"inverters": [...], "control": {"mode", "iterations", "converged", "residual_ratio",
        "modes", "limited", "without", "with", "curves"}}``; ``without`` and ``with`` hold the
        extreme voltages and the losses side by side.
    """
    invs = tuple(inverters)
    counts: dict[str, int] = {}
    for m in controlled.modes:
        counts[str(m)] = counts.get(str(m), 0) + 1
    return {
        "inverters": inverter_records(controlled, invs, bus_ids),
        "control": {
            "mode": str(controlled.mode),
            "iterations": controlled.iterations,
            "converged": controlled.converged,
            "residual_ratio": _num(controlled.residual_ratio, 6),
            "modes": dict(sorted(counts.items())),
            "limited": int(np.count_nonzero(controlled.limited)),
            "without": _state(uncontrolled),
            "with": _state(controlled.result),
            "curves": curve_records(controlled.modes, config),
        },
    }


@dataclass(frozen=True, slots=True, eq=False)
class ControlRun:
    """What the Volt-VAR stage of ``cimflow solve`` produced.

    Attributes:
        config: The control configuration used.
        inverters: The inverters, in the order of the arrays of ``controlled``.
        controlled: The solve at the control equilibrium (its ``result`` is the solve's result).
        uncontrolled: The same case with the file's reactive power, for the comparison.
    """

    config: ControlConfig
    inverters: tuple[Inverter, ...]
    controlled: ControlledResult
    uncontrolled: PowerFlowResult

    def sections(self, bus_ids: Sequence[str]) -> dict[str, Any]:
        """The report's ``inverters`` and ``control`` (see :func:`control_document`)."""
        return control_document(
            self.controlled, self.inverters, self.config, uncontrolled=self.uncontrolled, bus_ids=bus_ids
        )


def run_control(
    network: Network,
    build: CaseBuild,
    uncontrolled: PowerFlowResult,
    mode: ControlMode,
    config: ControlConfig,
    *,
    solver: Solver | str = Solver.AUTO,
    tolerance: float = 1e-8,
    max_iter: int = 100,
) -> Outcome[ControlRun]:
    """Find the inverters and solve with their control, next to the uncontrolled result already solved.

    Returns:
        The run and its findings (CF411/CF412 on ratings, CF410 when the loop did not settle).
    """
    found = inverters_of(network, build, config=config)
    inverters = found.value or ()
    controlled = solve_controlled(
        build.case, inverters, mode, config, solver=solver, tolerance=tolerance, max_iter=max_iter, start=uncontrolled
    )
    findings = (*found.findings, *control_findings(controlled, inverters, config))
    return Outcome(ControlRun(config, inverters, controlled, uncontrolled), findings)


def controlled_build(build: CaseBuild, run: ControlRun) -> CaseBuild:
    """A new build whose case and inverter records carry the controlled reactive power.

    The solution, the SV write-back and the report then describe one state: the controlled one. The
    build passed in is not changed.
    """
    q_of = {inv.mrid: float(q) for inv, q in zip(run.inverters, run.controlled.q_mvar, strict=True)}
    table = build.index.injections
    records = [dataclasses.replace(r, q_mvar=q_of[r.mrid]) if r.mrid in q_of else r for r in table.records]
    index = dataclasses.replace(build.index, injections=dataclasses.replace(table, records=records))
    return CaseBuild(run.controlled.result.case, index)
