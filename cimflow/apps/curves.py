"""Volt-VAR control modes, their curves (VDE-AR-N 4105 cos φ(P), Q(U), IEEE 1547-2018) and the control settings.

Conventions. Curves are written as the standards write them, in generator sense: ``q_inject_pct``
is the reactive power the inverter *injects*, in % of its rated apparent power (> 0 overexcited,
capacitive; < 0 underexcited, absorbing). Everything the solver sees is then converted once to the
load sign convention of the rest of cimflow: ``q_mvar = -q_inject``, so an inverter absorbing
reactive power to pull the voltage down has ``q_mvar > 0``, while its generation has ``p_mw < 0``.

Modes (:class:`ControlMode`):

* ``none``: the reactive power the file gives (SSH ``q``), not controlled.
* ``fixed-cosphi``: a constant power factor, ``FixedCosPhi.cos_phi`` (0.95 underexcited by default).
* ``cosphi-p``: VDE-AR-N 4105:2018 cos φ(P): 1 up to 50 % of the rated active power, then linear
  to the plant-class limit at 100 % (0.95 for plants ≤ 4.6 kVA, else 0.90), underexcited.
* ``qu``: the grid operator's Q(U) curve; default :data:`VDE_QU`, a VDE-style curve with a
  dead band 0.97–1.03 pu and saturation at ±43.6 % (cos φ 0.90) at 0.93 and 1.07 pu.
* ``ieee1547-a`` / ``ieee1547-b``: the IEEE 1547-2018 default volt-var curves of Category A
  (0.90/+25 %, 1.00/0, 1.00/0, 1.10/−25 %) and B (0.92/+44 %, 0.98/0, 1.02/0, 1.08/−44 %).
* ``fuzzy``: the Mamdani controller of :mod:`cimflow.apps.fuzzy`.

Limits: every controlled set point is clipped to ``|Q| ≤ sqrt(S_rated² − P²)`` and, unless
``InverterLimits.enforce_cos_phi_limit`` is off, to ``|Q| ≤ |P|·tan(arccos(cos φ_limit))`` with the
plant-class limit of VDE-AR-N 4105 (a Q(U) curve that asks for more saturates there).
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cimflow.apps.fuzzy import FuzzyConfig
from cimflow.errors import ConfigError

FloatArray = NDArray[np.float64]
_MAX_CONFIG_BYTES = 1 << 20


class ControlMode(StrEnum):
    """Reactive power control of the inverters, per run or per unit."""

    NONE = "none"
    FIXED_COSPHI = "fixed-cosphi"
    COSPHI_P = "cosphi-p"
    QU = "qu"
    IEEE1547_A = "ieee1547-a"
    IEEE1547_B = "ieee1547-b"
    FUZZY = "fuzzy"


class QUCurve(BaseModel):
    """A piecewise-linear Q(U) characteristic: ``(v_pu, q_inject_pct)`` points, flat beyond the ends.

    Write it either as ``points`` or by its parameters (a symmetric curve around ``v_ref_pu``: zero
    within ``± dead_band_pu``, linear to ``∓ q_max_pct`` at ``± saturation_pu``, flat beyond).

    Attributes:
        points: Voltages strictly increasing; Q (generator sense, % of rated S) not increasing with
            voltage, so the characteristic counteracts the voltage change (a stable control).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    points: tuple[tuple[float, float], ...] = Field(min_length=2)

    @model_validator(mode="before")
    @classmethod
    def _from_parameters(cls, data: Any) -> Any:
        """Build the points from ``v_ref_pu``, ``dead_band_pu``, ``saturation_pu`` and ``q_max_pct``."""
        keys = ("v_ref_pu", "dead_band_pu", "saturation_pu", "q_max_pct")
        if isinstance(data, Mapping) and any(k in data for k in keys):
            if "points" in data:
                raise ValueError(f"give either points or {', '.join(keys)}, not both")
            unknown = set(data) - set(keys)
            if unknown:
                raise ValueError(f"unknown key(s) {sorted(unknown)}")
            v_ref = float(data.get("v_ref_pu", 1.0))
            band, sat = float(data.get("dead_band_pu", 0.03)), float(data.get("saturation_pu", 0.07))
            q_max = float(data.get("q_max_pct", 43.6))
            if not 0 <= band < sat:
                raise ValueError(f"need 0 <= dead_band_pu ({band}) < saturation_pu ({sat})")
            return {"points": ((v_ref - sat, q_max), (v_ref - band, 0.0), (v_ref + band, 0.0), (v_ref + sat, -q_max))}
        return data

    @model_validator(mode="after")
    def _shape(self) -> QUCurve:
        v = [p[0] for p in self.points]
        q = [p[1] for p in self.points]
        pairs = list(itertools.pairwise(self.points))
        if any(b[0] < a[0] or (b[0] == a[0] and b[1] != a[1]) for a, b in pairs):
            raise ValueError(f"voltages {v} must increase (a repeated voltage must repeat its Q too)")
        if any(b > a for a, b in itertools.pairwise(q)):
            raise ValueError(f"Q {q} must not increase with voltage")
        if any(not (0 < x < 2) for x in v) or any(abs(x) > 100 for x in q):
            raise ValueError("voltages must lie in (0, 2) pu and Q within ±100 % of rated S")
        return self

    def q_inject_pct(self, v_pu: FloatArray) -> FloatArray:
        """Q in % of rated S (generator sense) at each voltage; flat (saturated) beyond the end points.

        Two points at the same voltage (IEEE 1547 Category A's 1.00/0, 1.00/0) are a vertical step
        of zero height and read as one.
        """
        v = np.array([p[0] for p in self.points])
        q = np.array([p[1] for p in self.points])
        keep = np.concatenate([[True], np.diff(v) > 0])
        return np.asarray(np.interp(np.asarray(v_pu, dtype=np.float64), v[keep], q[keep]), dtype=np.float64)


def _qmax_pct(cos_phi: float) -> float:
    return 100.0 * math.sin(math.acos(cos_phi))


VDE_QU = QUCurve(points=((0.93, round(_qmax_pct(0.9), 1)), (0.97, 0.0), (1.03, 0.0), (1.07, -round(_qmax_pct(0.9), 1))))
IEEE1547_A = QUCurve(points=((0.90, 25.0), (1.00, 0.0), (1.00, 0.0), (1.10, -25.0)))
IEEE1547_B = QUCurve(points=((0.92, 44.0), (0.98, 0.0), (1.02, 0.0), (1.08, -44.0)))


class CosPhiPCurve(BaseModel):
    """cos φ(P) of VDE-AR-N 4105: 1 up to ``p_start_ratio`` of rated P, linear to ``cos_phi_end`` at ``p_end_ratio``.

    Attributes:
        p_start_ratio: Share of rated active power where the curve leaves cos φ = 1 (0.5).
        p_end_ratio: Share where it reaches ``cos_phi_end`` and stays (1.0).
        cos_phi_end: Underexcited power factor at full output; ``None``: the plant-class limit
            (0.95 for plants ≤ 4.6 kVA, else 0.90).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    p_start_ratio: float = Field(default=0.5, ge=0, lt=1)
    p_end_ratio: float = Field(default=1.0, gt=0, le=1)
    cos_phi_end: float | None = Field(default=None, gt=0, le=1)

    @model_validator(mode="after")
    def _order(self) -> CosPhiPCurve:
        if self.p_start_ratio >= self.p_end_ratio:
            raise ValueError(f"p_start_ratio={self.p_start_ratio} must be below p_end_ratio={self.p_end_ratio}")
        return self

    def cos_phi(self, p_ratio: FloatArray, cos_phi_limit: FloatArray) -> FloatArray:
        """Underexcited power factor at each output ``|P| / P_rated`` (``cos_phi_limit``: per inverter)."""
        end = np.asarray(cos_phi_limit, dtype=np.float64) if self.cos_phi_end is None else self.cos_phi_end
        x = (np.asarray(p_ratio, dtype=np.float64) - self.p_start_ratio) / (self.p_end_ratio - self.p_start_ratio)
        return 1.0 - np.clip(x, 0.0, 1.0) * (1.0 - end)


class FixedCosPhi(BaseModel):
    """A constant power factor, under- (absorbing Q) or overexcited (injecting Q)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cos_phi: float = Field(default=0.95, gt=0, le=1)
    excitation: Literal["underexcited", "overexcited"] = "underexcited"


class InverterLimits(BaseModel):
    """Plant classes, rating fallbacks and the limits every controlled set point respects.

    Attributes:
        small_plant_max_kva: Plants rated at most this are the small class (VDE-AR-N 4105: 4.6 kVA).
        cos_phi_limit_small: Lowest power factor of small plants (0.95).
        cos_phi_limit_large: Lowest power factor of larger plants (0.90).
        enforce_cos_phi_limit: Also clip ``|Q| ≤ |P|·tan(arccos(limit))`` (not only the ``S_rated`` circle).
        placeholder_rating_mva: A ratedS at or above this is an exporter's placeholder (9999 MVA
            on a rooftop unit), not a rating (CF411).
        rating_fallback_ratio: A missing, placeholder or too small rating is taken as this times the
            unit's rated active power (its maxP, else its output |p|) (CF411, CF412).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    small_plant_max_kva: float = Field(default=4.6, ge=0)
    cos_phi_limit_small: float = Field(default=0.95, gt=0, le=1)
    cos_phi_limit_large: float = Field(default=0.90, gt=0, le=1)
    enforce_cos_phi_limit: bool = True
    placeholder_rating_mva: float = Field(default=999.0, gt=0)
    rating_fallback_ratio: float = Field(default=1.1, ge=1)

    def cos_phi_limit(self, s_rated_mva: float) -> float:
        """Plant-class power-factor limit of a plant rated ``s_rated_mva``."""
        small = s_rated_mva * 1000.0 <= self.small_plant_max_kva
        return self.cos_phi_limit_small if small else self.cos_phi_limit_large


class ControlConfig(BaseModel):
    """Everything a grid operator can set about Volt-VAR control; frozen, part of the scenario value.

    Attributes:
        qu: Curve of mode ``qu`` (default :data:`VDE_QU`).
        ieee1547_a: Curve of mode ``ieee1547-a`` (default :data:`IEEE1547_A`).
        ieee1547_b: Curve of mode ``ieee1547-b`` (default :data:`IEEE1547_B`).
        cosphi_p: Curve of mode ``cosphi-p``.
        fixed_cosphi: Power factor of mode ``fixed-cosphi``.
        fuzzy: Sets and rules of mode ``fuzzy``.
        limits: Plant classes, rating fallbacks and limits.
        per_unit: Mode of single inverters by mRID, overriding the run's mode.
        damping: Share of the step from the present Q to the curve's Q taken each outer iteration.
        damping_min: Floor of the damping the oscillation guard halves towards.
        tolerance_ratio: Converged when every inverter's Q is within this share of its rated S of
            its curve at its solved voltage.
        v_tolerance_pu: ... and (for the fuzzy trend input) its voltage moved less than this.
        max_iter: Most outer iterations (power flows) before giving up (CF410).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    qu: QUCurve = VDE_QU
    ieee1547_a: QUCurve = IEEE1547_A
    ieee1547_b: QUCurve = IEEE1547_B
    cosphi_p: CosPhiPCurve = CosPhiPCurve()
    fixed_cosphi: FixedCosPhi = FixedCosPhi()
    fuzzy: FuzzyConfig = FuzzyConfig()
    limits: InverterLimits = InverterLimits()
    per_unit: Mapping[str, ControlMode] = Field(default_factory=dict)
    damping: float = Field(default=0.7, gt=0, le=1)
    damping_min: float = Field(default=0.02, gt=0, le=1)
    tolerance_ratio: float = Field(default=1e-4, gt=0, lt=1)
    v_tolerance_pu: float = Field(default=1e-5, gt=0, lt=1)
    max_iter: int = Field(default=100, ge=1, le=10000)

    @model_validator(mode="after")
    def _damping_order(self) -> ControlConfig:
        if self.damping_min > self.damping:
            raise ValueError(f"damping_min={self.damping_min} must not exceed damping={self.damping}")
        return self

    def curve(self, mode: ControlMode) -> QUCurve | None:
        """The Q(U) curve of ``mode`` (``None`` for modes without one)."""
        curves = {
            ControlMode.QU: self.qu,
            ControlMode.IEEE1547_A: self.ieee1547_a,
            ControlMode.IEEE1547_B: self.ieee1547_b,
        }
        return curves.get(mode)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "control config") -> ControlConfig:
        """Build from a mapping (kebab-case keys allowed except in ``per_unit``); ConfigError if invalid."""
        try:
            return cls.model_validate(_snake(values))
        except ValidationError as err:
            e = err.errors()[0]
            where = ".".join(str(p) for p in e["loc"]) or "control config"
            raise ConfigError(f"{source}: {where}: {str(e['msg']).removeprefix('Value error, ')}") from err

    @classmethod
    def from_toml(cls, path: str | Path) -> ControlConfig:
        """Read a control configuration file: its ``[tool.cimflow.control]`` table if any, else its top level.

        Example::

            damping = 0.5
            [qu]
            points = [[0.94, 40.0], [0.98, 0.0], [1.02, 0.0], [1.06, -40.0]]
            [per_unit]
            "pv-17" = "cosphi-p"

        Raises:
            ConfigError: Missing, unreadable or invalid file, or an unknown key or bad value.
        """
        p = Path(path)
        try:
            if p.stat().st_size > _MAX_CONFIG_BYTES:
                raise ConfigError(f"{p}: control configuration larger than {_MAX_CONFIG_BYTES} bytes")
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{p}: not valid TOML: {err}") from err
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"{p}: cannot be read: {getattr(err, 'strerror', None) or err}") from err
        table = data.get("tool", {}).get("cimflow", {}).get("control") if isinstance(data.get("tool"), dict) else None
        return cls.from_mapping(table if isinstance(table, Mapping) else data, source=str(p))


def _snake(values: Any, *, keep_keys: bool = False) -> Any:
    """Turn kebab-case keys into snake_case, recursively (``per_unit`` keys are mRIDs and stay)."""
    if isinstance(values, Mapping):
        return {
            (str(k) if keep_keys else str(k).replace("-", "_")): _snake(
                v, keep_keys=str(k).replace("-", "_") == "per_unit"
            )
            for k, v in values.items()
        }
    if isinstance(values, list):
        return [_snake(v) for v in values]
    return values
