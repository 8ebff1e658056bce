"""What the tap changers of one transformer end do at their present step (IEC 61970-301, CGMES).

Every tap changer of an end is reduced to a complex off-nominal ratio ``n`` (the end's winding voltage at
the step over its ratedU, with the phase shift as its angle) and to factors on the transformer's series
r, x and magnetising g, b (tables give these corrections in % of the nominal values). The step is the
SSH ``TapChanger.step``, else ``normalStep``, else ``neutralStep``, as for the ratio.

- RatioTapChanger: ``|n| = neutralU/ratedU·(1 + (step - neutralStep)·stepVoltageIncrement/100)``; with a
  RatioTapChangerTable that has a point at the step, ``|n| = ratio`` of the point, and its r, x, g, b.
- PhaseTapChangerLinear: ``n = e^{jalpha}``, ``alpha = (step - neutralStep)·stepPhaseShiftIncrement``.
- PhaseTapChangerSymmetrical: ``du = (step - neutralStep)·voltageStepIncrement/100``, ``n = e^{j·2·atan(du/2)}``
  (IEC 61970-301: "twice the arctangent of half the total difference voltage"; both sides keep one magnitude).
- PhaseTapChangerAsymmetrical: ``n = 1 + du·e^{jtheta}``, theta = windingConnectionAngle: the difference voltage adds
  to the in-phase winding at the tapped end.
- PhaseTapChangerTabular: ``n = ratio·e^{j·angle}`` of the PhaseTapChangerTablePoint at the step, and its r, x,
  g, b corrections.

Sign convention: ``n`` multiplies the tapped end's rated voltage, ``U' = U·n``, so the voltage behind the
ideal transformer is ``V/n``; a positive angle makes the terminal lead the transformer's inside (the angle
PowSyBl reads from the same attributes, where it turns a CGMES angle alpha into an IIDM alpha of -alpha at end 1).

Reactance over the steps (Linear, Symmetrical, Asymmetrical with xMin < xMax, IEC 61970-301 "u"-shaped curve):
``x(alpha) = x + (xMax - xMin)·f²`` on the tapped end, with ``f = sin(alpha/2)/sin(alpha_max/2)`` (Linear,
Symmetrical) or ``f = tan(alpha)/tan(alpha_max)·(sin(theta) - tan(alpha_max)·cos(theta))/(sin(theta) -
tan(alpha)·cos(theta))`` (Asymmetrical), alpha_max the largest angle over lowStep..highStep. At the neutral step
the end keeps its own x: the RDFS says PowerTransformerEnd.x wins where it and xMin disagree (when they agree,
this is xMin + (xMax - xMin)·f², as PowSyBl computes it).
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cimflow.ids import MRID
from cimflow.model.equipment import PhaseTapChanger, RatioTapChanger, TapChangerBase, TapChangerTablePoint

Note = tuple[str, str, str]  # (attribute, value used, reason)


@dataclass(frozen=True, slots=True)
class EndTap:
    """The tap changers of one end at their step: ratio ``n`` and factors on the nominal r, x, g, b."""

    n: complex = 1.0 + 0j
    r_factor: float = 1.0
    x_factor: float = 1.0
    g_factor: float = 1.0
    b_factor: float = 1.0
    notes: tuple[Note, ...] = ()
    x_add_ohm: float = 0.0  # reactance added on the tapped end (ohm at its ratedU): a phase shifter's "u" curve


NO_TAP = EndTap()


def present_step(tap: TapChangerBase) -> float:
    """The step the tap changer is at: SSH ``step``, else ``normalStep``, else ``neutralStep`` (else 0)."""
    if tap.step is not None:
        return float(tap.step)
    if tap.normal_step is not None:
        return float(tap.normal_step)
    return float(tap.neutral_step or 0)


def tap_voltage_kv(tap: RatioTapChanger | None, rated_kv: float) -> float:
    """The end's winding voltage at the present tap: ``neutralU·(1 + (step - neutralStep)·svi/100)``."""
    if tap is None or tap.step_voltage_increment_pct is None:
        return rated_kv
    neutral_u = tap.neutral_u_kv if tap.neutral_u_kv else rated_kv
    return neutral_u * (1.0 + (present_step(tap) - (tap.neutral_step or 0)) * tap.step_voltage_increment_pct / 100.0)


def _table_point(
    points: Mapping[MRID, Mapping[int, TapChangerTablePoint]], table: MRID | None, step: float
) -> TapChangerTablePoint | None:
    if table is None or not float(step).is_integer():
        return None
    return points.get(table, {}).get(int(step))


def _pct(value: float | None) -> float:
    return 1.0 + (value or 0.0) / 100.0


def _with_point(state: EndTap, point: TapChangerTablePoint, n: complex) -> EndTap:
    return EndTap(
        state.n * n,
        state.r_factor * _pct(point.r_pct),
        state.x_factor * _pct(point.x_pct),
        state.g_factor * _pct(point.g_pct),
        state.b_factor * _pct(point.b_pct),
        state.notes,
    )


def _ratio_state(
    tap: RatioTapChanger, rated_kv: float, points: Mapping[MRID, Mapping[int, TapChangerTablePoint]]
) -> EndTap:
    step = present_step(tap)
    point = _table_point(points, tap.table, step)
    if point is not None:
        return _with_point(NO_TAP, point, complex(point.ratio if point.ratio is not None else 1.0))
    notes: tuple[Note, ...] = ()
    if tap.table is not None:
        notes = (("RatioTapChanger.RatioTapChangerTable", f"step {step:g} by stepVoltageIncrement",
                  "the table has no point at the step"),)  # fmt: skip
    return EndTap(complex(tap_voltage_kv(tap, rated_kv) / rated_kv), notes=notes)


def _tabular(tap: PhaseTapChanger, _offset: float, points: Mapping[MRID, Mapping[int, TapChangerTablePoint]]) -> EndTap:
    step = present_step(tap)
    point = _table_point(points, tap.table, step)
    if point is None:
        return EndTap(notes=(("PhaseTapChangerTabular.PhaseTapChangerTable", "no phase shift",
                              f"the table has no point at step {step:g}"),))  # fmt: skip
    n = cmath.rect(point.ratio if point.ratio is not None else 1.0, math.radians(point.angle_deg or 0.0))
    return _with_point(NO_TAP, point, n)


def _linear_angle(tap: PhaseTapChanger, offset: float) -> float:
    return math.radians(offset * (tap.step_phase_shift_increment_deg or 0.0))


def _symmetrical_angle(tap: PhaseTapChanger, offset: float) -> float:
    return 2.0 * math.atan(offset * (tap.voltage_step_increment_pct or 0.0) / 200.0)


def _asymmetrical_n(tap: PhaseTapChanger, offset: float) -> complex:
    du = offset * (tap.voltage_step_increment_pct or 0.0) / 100.0
    return 1.0 + du * cmath.rect(1.0, math.radians(tap.winding_connection_angle_deg or 0.0))


def _u_curve(tap: PhaseTapChanger, alpha: float, alpha_of: Callable[[float], float]) -> tuple[float, tuple[Note, ...]]:
    """Reactance added at angle ``alpha`` (rad) by the tap changer's xMin..xMax curve, and a note if it cannot."""
    x_min, x_max = tap.x_min_ohm, tap.x_max_ohm
    if x_min is None or x_max is None or x_min < 0 or x_max <= x_min:
        return 0.0, ()
    neutral = tap.neutral_step or 0
    ends = [alpha_of(step - neutral) for step in (tap.low_step, tap.high_step) if step is not None]
    alpha_max = max(ends, default=0.0)
    if alpha_max <= 0:
        return 0.0, (("xMax", "the ends' x at every step", "no positive angle over lowStep..highStep"),)
    if tap.cim_class == "PhaseTapChangerAsymmetrical":
        theta = math.radians(tap.winding_connection_angle_deg or 0.0)
        num = math.sin(theta) - math.tan(alpha_max) * math.cos(theta)
        den = math.sin(theta) - math.tan(alpha) * math.cos(theta)
        f = math.tan(alpha) / math.tan(alpha_max) * num / den if den else 1.0
    else:
        f = math.sin(alpha / 2.0) / math.sin(alpha_max / 2.0)
    return (x_max - x_min) * f * f, ()


def _linear(tap: PhaseTapChanger, offset: float, _points: object) -> EndTap:
    if tap.step_phase_shift_increment_deg is None:
        return EndTap(notes=(("PhaseTapChangerLinear.stepPhaseShiftIncrement", "no phase shift", "missing"),))
    alpha = _linear_angle(tap, offset)
    x_add, notes = _u_curve(tap, alpha, lambda k: _linear_angle(tap, k))
    return EndTap(cmath.rect(1.0, alpha), notes=notes, x_add_ohm=x_add)


def _symmetrical(tap: PhaseTapChanger, offset: float, _points: object) -> EndTap:
    if tap.voltage_step_increment_pct is None:
        return EndTap(notes=(("PhaseTapChangerNonLinear.voltageStepIncrement", "no phase shift", "missing"),))
    alpha = _symmetrical_angle(tap, offset)
    x_add, notes = _u_curve(tap, alpha, lambda k: _symmetrical_angle(tap, k))
    return EndTap(cmath.rect(1.0, alpha), notes=notes, x_add_ohm=x_add)


def _asymmetrical(tap: PhaseTapChanger, offset: float, _points: object) -> EndTap:
    if tap.voltage_step_increment_pct is None or tap.winding_connection_angle_deg is None:
        return EndTap(notes=(("PhaseTapChangerAsymmetrical.windingConnectionAngle", "no phase shift",
                              "voltageStepIncrement or windingConnectionAngle missing"),))  # fmt: skip
    n = _asymmetrical_n(tap, offset)
    x_add, notes = _u_curve(tap, cmath.phase(n), lambda k: cmath.phase(_asymmetrical_n(tap, k)))
    return EndTap(n, notes=notes, x_add_ohm=x_add)


_PHASE_MODELS = {
    "PhaseTapChangerTabular": _tabular,
    "PhaseTapChangerLinear": _linear,
    "PhaseTapChangerSymmetrical": _symmetrical,
    "PhaseTapChangerAsymmetrical": _asymmetrical,
}


def _phase_state(tap: PhaseTapChanger, points: Mapping[MRID, Mapping[int, TapChangerTablePoint]]) -> EndTap:
    model = _PHASE_MODELS.get(tap.cim_class)
    if model is None:
        return EndTap(notes=(("PhaseTapChanger", "no phase shift",
                              f"{tap.cim_class} is abstract: no model of the phase shift"),))  # fmt: skip
    return model(tap, present_step(tap) - (tap.neutral_step or 0), points)


def end_tap(
    end: MRID,
    rated_kv: float,
    ratio_taps: Mapping[MRID, RatioTapChanger],
    phase_taps: Mapping[MRID, PhaseTapChanger],
    points: Mapping[MRID, Mapping[int, TapChangerTablePoint]],
) -> EndTap:
    """Combine the ratio and the phase tap changer of one end (either may be absent) at their steps."""
    state = NO_TAP
    ratio = ratio_taps.get(end)
    if ratio is not None:
        state = _ratio_state(ratio, rated_kv, points)
    phase = phase_taps.get(end)
    if phase is not None:
        p = _phase_state(phase, points)
        state = EndTap(
            state.n * p.n,
            state.r_factor * p.r_factor,
            state.x_factor * p.x_factor,
            state.g_factor * p.g_factor,
            state.b_factor * p.b_factor,
            state.notes + p.notes,
            state.x_add_ohm + p.x_add_ohm,
        )
    return state
