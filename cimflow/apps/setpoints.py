"""Set points of the Volt-VAR modes at given voltages, within the inverter limits, vectorised per mode.

Load sign convention out (``q_mvar > 0`` absorbs), generator sense on the curves' axes (see
:mod:`cimflow.apps.curves`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from cimflow.apps.curves import ControlConfig, ControlMode, InverterLimits
from cimflow.apps.fuzzy import infer as _fuzzy_infer

FloatArray = NDArray[np.float64]

# what the x and y of each mode's curve are, for reports and plots (q_*_pct in generator sense)
AXES: Mapping[ControlMode, tuple[str, str]] = MappingProxyType(
    {
        ControlMode.NONE: ("v_pu", "q_inject_pct"),
        ControlMode.FIXED_COSPHI: ("p_ratio", "cos_phi"),
        ControlMode.COSPHI_P: ("p_ratio", "cos_phi"),
        ControlMode.QU: ("v_pu", "q_inject_pct"),
        ControlMode.IEEE1547_A: ("v_pu", "q_inject_pct"),
        ControlMode.IEEE1547_B: ("v_pu", "q_inject_pct"),
        ControlMode.FUZZY: ("v_pu", "q_available_pct"),
    }
)


@dataclass(frozen=True, slots=True, eq=False)
class PlantArrays:
    """Per-inverter arrays the set points need (load sign convention, MW/Mvar/MVA).

    Attributes:
        p_mw: Active power (< 0 while generating).
        q_file_mvar: Reactive power the file gives (mode ``none``).
        s_rated_mva: Rated apparent power used.
        p_rated_mw: Rated active power (the reference of cos φ(P) and of the fuzzy ``power`` input).
        cos_phi_limit: Plant-class power-factor limit.
    """

    p_mw: FloatArray
    q_file_mvar: FloatArray
    s_rated_mva: FloatArray
    p_rated_mw: FloatArray
    cos_phi_limit: FloatArray

    def q_limit_mvar(self, limits: InverterLimits) -> FloatArray:
        """Largest |Q| of each inverter: the S_rated circle, and the plant's cos φ limit if enforced."""
        p = np.abs(self.p_mw)
        q_max = np.sqrt(np.maximum(self.s_rated_mva**2 - p**2, 0.0))
        if limits.enforce_cos_phi_limit:
            q_max = np.minimum(q_max, p * np.tan(np.arccos(self.cos_phi_limit)))
        return np.asarray(q_max, dtype=np.float64)

    @property
    def p_ratio(self) -> FloatArray:
        """``|P| / P_rated`` (0 where P_rated is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.p_rated_mw > 0, np.abs(self.p_mw) / self.p_rated_mw, 0.0)


@dataclass(frozen=True, slots=True, eq=False)
class SetPoints:
    """What the controllers ask for at the present voltages.

    Attributes:
        q_mvar: Reactive power set point within the limits (load sign: > 0 absorbs).
        q_limit_mvar: Largest |Q| each inverter may give.
        curve_x: The point on the mode's x axis (:data:`AXES`) the curve was read at.
        curve_y: The curve's value there, before the limits, on the mode's y axis.
        limited: True where a limit cut the curve's set point.
    """

    q_mvar: FloatArray
    q_limit_mvar: FloatArray
    curve_x: FloatArray
    curve_y: FloatArray
    limited: NDArray[np.bool_]


def _tan(cos_phi: FloatArray | float) -> FloatArray:
    return np.asarray(np.tan(np.arccos(np.clip(cos_phi, 0.0, 1.0))), dtype=np.float64)


def set_points(
    config: ControlConfig, modes: tuple[ControlMode, ...], plants: PlantArrays, v_pu: FloatArray, trend_pu: FloatArray
) -> SetPoints:
    """Evaluate every inverter's control at its voltage (vectorised per mode).

    Args:
        config: Curves, fuzzy controller and limits.
        modes: Mode of each inverter.
        plants: Powers and ratings of the inverters.
        v_pu: Voltage magnitude at each inverter.
        trend_pu: Change of that voltage since the previous outer iteration (fuzzy ``trend`` input).

    Returns:
        The set points; mode ``none`` keeps the file's Q and is never limited.
    """
    mode_arr = np.array([str(m) for m in modes], dtype=object)
    s, p_abs, q_lim = plants.s_rated_mva, np.abs(plants.p_mw), plants.q_limit_mvar(config.limits)
    q_inject = -plants.q_file_mvar.copy()
    x = np.asarray(v_pu, dtype=np.float64).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(s > 0, 100.0 * q_inject / s, 0.0)
    for mode in set(modes) - {ControlMode.NONE}:
        m = mode_arr == str(mode)
        curve = config.curve(mode)
        if curve is not None:
            y[m] = curve.q_inject_pct(v_pu[m])
            q_inject[m] = y[m] / 100.0 * s[m]
        elif mode in (ControlMode.COSPHI_P, ControlMode.FIXED_COSPHI):
            x[m] = plants.p_ratio[m]
            if mode is ControlMode.COSPHI_P:
                y[m] = config.cosphi_p.cos_phi(x[m], plants.cos_phi_limit[m])
                sign = -1.0
            else:
                y[m] = config.fixed_cosphi.cos_phi
                sign = -1.0 if config.fixed_cosphi.excitation == "underexcited" else 1.0
            q_inject[m] = sign * p_abs[m] * _tan(y[m])
        else:  # fuzzy
            fz = config.fuzzy
            second = trend_pu[m] if fz.second_input == "trend" else plants.p_ratio[m]
            share = _fuzzy_infer(fz, v_pu[m] - fz.v_ref_pu, second)
            y[m] = 100.0 * share
            q_inject[m] = share * q_lim[m]
    controlled = mode_arr != str(ControlMode.NONE)
    clipped = np.clip(q_inject, -q_lim, q_lim)
    limited = controlled & (np.abs(clipped - q_inject) > 1e-12 * np.maximum(s, 1e-12))
    q_inject = np.where(controlled, clipped, q_inject)
    return SetPoints(q_mvar=-q_inject + 0.0, q_limit_mvar=q_lim, curve_x=x, curve_y=y, limited=limited)


def operating_y(mode: ControlMode, q_mvar: FloatArray, plants: PlantArrays, q_limit_mvar: FloatArray) -> FloatArray:
    """The y value (:data:`AXES`) of the actual operating points ``q_mvar`` of inverters in ``mode``."""
    kind = AXES[mode][1]
    q_inject = -np.asarray(q_mvar, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "cos_phi":
            s_abs = np.hypot(plants.p_mw, q_inject)
            return np.where(s_abs > 0, np.abs(plants.p_mw) / s_abs, 1.0)
        if kind == "q_available_pct":
            return np.where(q_limit_mvar > 0, 100.0 * q_inject / q_limit_mvar, 0.0)
        return np.where(plants.s_rated_mva > 0, 100.0 * q_inject / plants.s_rated_mva, 0.0)


def curve_line(
    mode: ControlMode, config: ControlConfig, *, cos_phi_limit: float = 0.9, n: int = 121
) -> tuple[FloatArray, FloatArray]:
    """Sample the curve of ``mode`` for a plot, on the axes of :data:`AXES` (fuzzy: at trend 0 / full power)."""
    if AXES[mode][0] == "p_ratio":
        x = np.linspace(0.0, 1.0, n)
        if mode is ControlMode.COSPHI_P:
            return x, config.cosphi_p.cos_phi(x, np.full(n, cos_phi_limit))
        return x, np.full(n, config.fixed_cosphi.cos_phi)
    x = np.linspace(0.88, 1.12, n)
    curve = config.curve(mode)
    if curve is not None:
        return x, curve.q_inject_pct(x)
    if mode is ControlMode.FUZZY:
        second = np.zeros(n) if config.fuzzy.second_input == "trend" else np.ones(n)
        return x, 100.0 * _fuzzy_infer(config.fuzzy, x - config.fuzzy.v_ref_pu, second)
    return x, np.zeros(n)
