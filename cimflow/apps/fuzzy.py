"""A vectorised Mamdani fuzzy controller (trapezoid sets, min–max inference, centroid) for inverter Q set points.

Why not scikit-fuzzy: its ``control`` API evaluates one input vector per simulation through a graph
of Python objects, thousands of times too slow for one call per inverter per outer iteration on a
10,000-bus feeder, and the few low-level functions it has are one-liners here. This module evaluates
every inverter at once in numpy: memberships ``(n, n_sets)``, rule strengths ``(n, n_rules)``,
aggregated output ``(n, n_grid)``, centroids ``(n,)``.

The controller (defaults, all configurable through :class:`FuzzyConfig`):

* input 1, ``deviation``: the inverter's voltage minus ``v_ref_pu``, in pu, clamped to
  ``[-0.1, 0.1]``; five sets NB, NS, Z, PS, PB (Z is a trapezoid whose flat top is the dead band).
* input 2, either ``trend``: the change of the inverter's voltage since the previous outer iteration
  (pu, clamped to ``[-0.02, 0.02]``; sets N, Z, P; 0 at the first iteration and at the equilibrium),
  or ``power``: its active output as a share of its rated active power (``[0, 1]``; sets L, M, H).
* output: the reactive power to inject (generator sense: > 0 overexcited, < 0 underexcited) as a
  share of the inverter's available reactive power, universe ``[-1, 1]``; five sets NB .. PB.
* inference: a rule fires with the minimum of its two memberships (times its weight), clips its
  output set (Mamdani implication), the clipped sets are joined by maximum, and the output is the
  centroid of the union, piecewise linear through a grid of ``n_grid`` points; 0 when no rule fires.

Reference: E. H. Mamdani, S. Assilian, "An experiment in linguistic synthesis with a fuzzy logic
controller", Int. J. Man-Machine Studies 7 (1975); IEC 61131-7:2000 (fuzzy control programming).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

FloatArray = NDArray[np.float64]
SecondInput = Literal["trend", "power"]


class FuzzySet(BaseModel):
    """A trapezoid membership function ``a ≤ b ≤ c ≤ d`` (a triangle when ``b == c``).

    The membership rises linearly from 0 at ``a`` to 1 at ``b``, stays 1 up to ``c`` and falls to 0
    at ``d``. ``a == b`` (or ``c == d``) is a vertical edge: a shoulder when it lies on the universe's
    bound, since inputs are clamped to the universe.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1)
    points: tuple[float, float, float, float]

    @model_validator(mode="after")
    def _ordered(self) -> FuzzySet:
        a, b, c, d = self.points
        if not (a <= b <= c <= d) or a == d:
            raise ValueError(f"set {self.label!r}: points {self.points} must satisfy a <= b <= c <= d and a < d")
        return self

    def membership(self, x: FloatArray) -> FloatArray:
        """Degree of membership of every value of ``x`` (same shape), in [0, 1]."""
        a, b, c, d = self.points
        with np.errstate(divide="ignore", invalid="ignore"):
            rise = np.where(x >= b, 1.0, (x - a) / (b - a)) if b > a else np.where(x >= a, 1.0, 0.0)
            fall = np.where(x <= c, 1.0, (d - x) / (d - c)) if d > c else np.where(x <= d, 1.0, 0.0)
        return np.clip(np.minimum(rise, fall), 0.0, 1.0)


class FuzzyVariable(BaseModel):
    """A linguistic variable: its universe ``[low, high]`` and its sets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: float
    high: float
    sets: tuple[FuzzySet, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> FuzzyVariable:
        if not self.low < self.high:
            raise ValueError(f"universe [{self.low}, {self.high}] is empty")
        labels = [s.label for s in self.sets]
        if len(labels) != len(set(labels)):
            raise ValueError(f"set labels repeat: {labels}")
        return self

    def index(self, label: str) -> int:
        """Position of the set called ``label``."""
        return [s.label for s in self.sets].index(label)

    def memberships(self, x: FloatArray) -> FloatArray:
        """``(n, n_sets)`` memberships of the values ``x`` clamped to the universe."""
        xc = np.clip(np.asarray(x, dtype=np.float64), self.low, self.high)
        return np.stack([s.membership(xc) for s in self.sets], axis=-1)


class FuzzyRule(BaseModel):
    """``IF deviation IS <deviation> AND <second input> IS <second> THEN output IS <output>``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    deviation: str
    second: str
    output: str
    weight: float = Field(default=1.0, gt=0, le=1)


def _trap(label: str, a: float, b: float, c: float, d: float) -> FuzzySet:
    return FuzzySet(label=label, points=(a, b, c, d))


DEVIATION = FuzzyVariable(
    low=-0.1,
    high=0.1,
    sets=(
        _trap("NB", -0.1, -0.1, -0.08, -0.05),
        _trap("NS", -0.08, -0.05, -0.05, -0.02),
        _trap("Z", -0.05, -0.02, 0.02, 0.05),
        _trap("PS", 0.02, 0.05, 0.05, 0.08),
        _trap("PB", 0.05, 0.08, 0.1, 0.1),
    ),
)
TREND = FuzzyVariable(
    low=-0.02,
    high=0.02,
    sets=(_trap("N", -0.02, -0.02, -0.01, 0.0), _trap("Z", -0.01, 0.0, 0.0, 0.01), _trap("P", 0.0, 0.01, 0.02, 0.02)),
)
POWER = FuzzyVariable(
    low=0.0,
    high=1.0,
    sets=(_trap("L", 0.0, 0.0, 0.2, 0.5), _trap("M", 0.2, 0.5, 0.5, 0.8), _trap("H", 0.5, 0.8, 1.0, 1.0)),
)
OUTPUT = FuzzyVariable(
    low=-1.0,
    high=1.0,
    sets=(
        _trap("NB", -1.0, -1.0, -0.9, -0.5),
        _trap("NS", -0.9, -0.5, -0.5, 0.0),
        _trap("Z", -0.3, 0.0, 0.0, 0.3),
        _trap("PS", 0.0, 0.5, 0.5, 0.9),
        _trap("PB", 0.5, 0.9, 1.0, 1.0),
    ),
)


def _rules(table: dict[str, tuple[str, ...]], seconds: tuple[str, ...]) -> tuple[FuzzyRule, ...]:
    return tuple(
        FuzzyRule(deviation=dev, second=sec, output=out)
        for dev, outs in table.items()
        for sec, out in zip(seconds, outs, strict=True)
    )


# rows: deviation; columns: the second input's sets in order. High voltage → absorb (N*), low → inject.
# trend: a rising voltage asks for a little more absorption; at the equilibrium (trend Z) the middle
# column is the static characteristic, comparable with a Q(U) curve.
TREND_RULES = _rules(
    {
        "NB": ("PB", "PB", "PB"),
        "NS": ("PB", "PS", "Z"),
        "Z": ("PS", "Z", "NS"),
        "PS": ("Z", "NS", "NB"),
        "PB": ("NB", "NB", "NB"),
    },
    ("N", "Z", "P"),
)
# power: plants near full output raise the voltage most and are asked for more.
POWER_RULES = _rules(
    {
        "NB": ("PS", "PB", "PB"),
        "NS": ("Z", "PS", "PS"),
        "Z": ("Z", "Z", "Z"),
        "PS": ("Z", "NS", "NB"),
        "PB": ("NS", "NB", "NB"),
    },
    ("L", "M", "H"),
)
_DEFAULT_SECOND: dict[str, tuple[FuzzyVariable, tuple[FuzzyRule, ...]]] = {
    "trend": (TREND, TREND_RULES),
    "power": (POWER, POWER_RULES),
}


class FuzzyConfig(BaseModel):
    """Membership functions and rule base of the fuzzy Volt-VAR controller (see the module docstring).

    Attributes:
        v_ref_pu: Voltage at which the deviation is 0.
        second_input: ``trend`` (voltage change between outer iterations) or ``power`` (P / P_rated).
        deviation: Sets of the voltage deviation (pu).
        second: Sets of the second input; defaults depend on ``second_input``.
        output: Sets of the output, a share of the available reactive power (> 0: inject).
        rules: The rule base; the defaults depend on ``second_input``.
        n_grid: Points of the output grid on which the centroid is taken.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    v_ref_pu: float = Field(default=1.0, gt=0)
    second_input: SecondInput = "trend"
    deviation: FuzzyVariable = DEVIATION
    second: FuzzyVariable = TREND
    output: FuzzyVariable = OUTPUT
    rules: tuple[FuzzyRule, ...] = TREND_RULES
    n_grid: int = Field(default=101, ge=11, le=10001)

    @model_validator(mode="before")
    @classmethod
    def _defaults_for_input(cls, data: Any) -> Any:
        """Take the default sets and rules of the chosen second input where the user gave none."""
        if isinstance(data, dict) and data.get("second_input") in _DEFAULT_SECOND:
            variable, rules = _DEFAULT_SECOND[data["second_input"]]
            data = dict(data)
            data.setdefault("second", variable)
            data.setdefault("rules", rules)
        return data

    @model_validator(mode="after")
    def _labels_exist(self) -> FuzzyConfig:
        if not self.rules:
            raise ValueError("the rule base is empty")
        for rule in self.rules:
            for label, var, name in (
                (rule.deviation, self.deviation, "deviation"),
                (rule.second, self.second, self.second_input),
                (rule.output, self.output, "output"),
            ):
                if label not in [s.label for s in var.sets]:
                    raise ValueError(f"rule {rule.deviation}/{rule.second}->{rule.output}: no {name} set {label!r}")
        return self


def infer(config: FuzzyConfig, deviation_pu: FloatArray, second: FloatArray) -> FloatArray:
    """Evaluate the controller for every inverter at once.

    Args:
        config: Sets and rules.
        deviation_pu: ``(n,)`` voltage deviation ``V - v_ref_pu`` of each inverter.
        second: ``(n,)`` value of the second input (trend in pu, or P / P_rated).

    Returns:
        ``(n,)`` output in the output universe (default: share of available Q, > 0 inject); 0 where
        no rule fires.
    """
    dev = np.atleast_1d(np.asarray(deviation_pu, dtype=np.float64))
    sec = np.atleast_1d(np.asarray(second, dtype=np.float64))
    mu_dev = config.deviation.memberships(dev)
    mu_sec = config.second.memberships(sec)
    out_sets = config.output.sets
    grid = np.linspace(config.output.low, config.output.high, config.n_grid)
    shapes = np.stack([s.membership(grid) for s in out_sets])  # (n_sets, n_grid)
    clip = np.zeros((dev.size, len(out_sets)))
    for rule in config.rules:
        strength = np.minimum(
            mu_dev[:, config.deviation.index(rule.deviation)], mu_sec[:, config.second.index(rule.second)]
        )
        k = config.output.index(rule.output)
        clip[:, k] = np.maximum(clip[:, k], rule.weight * strength)
    # inverters whose rules fire alike (all those in the dead band, say) share one defuzzification
    levels, back = np.unique(clip, axis=0, return_inverse=True)
    union = np.zeros((levels.shape[0], grid.size))
    for j in np.flatnonzero(levels.max(axis=0) > 0):
        np.maximum(union, np.minimum(levels[:, j : j + 1], shapes[j]), out=union)
    # exact centroid of the piecewise-linear union through the grid points (as scikit-fuzzy's "centroid"):
    # area and first moment are linear in the grid values (einsum: no BLAS call for a thin product)
    w_area, w_moment = _weights(grid)
    area = np.einsum("ij,j->i", union, w_area)
    moment = np.einsum("ij,j->i", union, w_moment)
    with np.errstate(divide="ignore", invalid="ignore"):
        centroid = np.where(area > 0, moment / np.where(area > 0, area, 1.0), 0.0)
    return np.asarray(centroid[back.reshape(-1)], dtype=np.float64)


def _weights(grid: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Weights ``w_a``, ``w_m`` with ``∫μ = μ·w_a`` and ``∫y·μ = μ·w_m`` for μ linear between grid points."""
    y0, y1, h = grid[:-1], grid[1:], np.diff(grid)
    w_area = np.zeros(grid.size)
    w_moment = np.zeros(grid.size)
    w_area[:-1] += h / 2.0
    w_area[1:] += h / 2.0
    w_moment[:-1] += h * (2.0 * y0 + y1) / 6.0
    w_moment[1:] += h * (y0 + 2.0 * y1) / 6.0
    return w_area, w_moment


def static_characteristic(config: FuzzyConfig, v_pu: FloatArray, *, power_ratio: float = 1.0) -> FloatArray:
    """The controller's output against voltage at its equilibrium (trend 0, or the given power ratio).

    This is the curve the fuzzy controller settles on, to plot and compare with the Q(U) curves.
    """
    v = np.asarray(v_pu, dtype=np.float64)
    second = np.zeros_like(v) if config.second_input == "trend" else np.full_like(v, power_ratio)
    return infer(config, v - config.v_ref_pu, second)
