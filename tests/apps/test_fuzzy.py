"""The numpy Mamdani controller: membership shapes, hand-computed centroids, rule validation, scikit-fuzzy as oracle."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from cimflow.apps.fuzzy import (
    DEVIATION,
    OUTPUT,
    FuzzyConfig,
    FuzzyRule,
    FuzzySet,
    FuzzyVariable,
    infer,
    static_characteristic,
)


def test_trapezoid_membership_by_hand() -> None:
    s = FuzzySet(label="A", points=(0.0, 1.0, 2.0, 4.0))
    x = np.array([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0])
    assert s.membership(x).tolist() == [0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 0.5, 0.0, 0.0]


def test_vertical_edges_are_shoulders_at_the_universe_bounds() -> None:
    var = FuzzyVariable(low=0.0, high=1.0, sets=(FuzzySet(label="L", points=(0.0, 0.0, 0.2, 0.6)),))
    mu = var.memberships(np.array([-5.0, 0.0, 0.2, 0.4, 0.6, 9.0]))[:, 0]  # clamped to [0, 1]
    assert mu.tolist() == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.0, 0.0])


def _single_rule(output_points: tuple[float, float, float, float], n_grid: int = 1001) -> FuzzyConfig:
    one = FuzzyVariable(low=-1.0, high=1.0, sets=(FuzzySet(label="A", points=(-1.0, 0.0, 0.0, 1.0)),))
    out = FuzzyVariable(low=0.0, high=1.0, sets=(FuzzySet(label="O", points=output_points),))
    return FuzzyConfig(
        second_input="power", deviation=one, second=one, output=out,
        rules=(FuzzyRule(deviation="A", second="A", output="O"),), n_grid=n_grid,
    )  # fmt: skip


def test_centroid_of_a_ramp_by_hand() -> None:
    # mu(y) = y on [0, 1]: centroid = (1/3) / (1/2) = 2/3
    cfg = _single_rule((0.0, 1.0, 1.0, 1.0))
    assert infer(cfg, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(2.0 / 3.0, abs=1e-12)


def test_centroid_of_a_clipped_ramp_by_hand() -> None:
    # rule strength min(0.5, 0.75) = 0.5; mu(y) = min(y, 0.5):
    # area = 0.125 + 0.25 = 0.375, moment = 1/24 + 0.5 * 0.375 = 0.2291666..., centroid = 0.6111...
    cfg = _single_rule((0.0, 1.0, 1.0, 1.0))
    got = infer(cfg, np.array([-0.5]), np.array([0.25]))[0]
    assert got == pytest.approx((1.0 / 24.0 + 0.1875) / 0.375, abs=1e-12)


def test_no_rule_firing_gives_zero() -> None:
    cfg = _single_rule((0.0, 1.0, 1.0, 1.0))
    assert infer(cfg, np.array([1.0]), np.array([0.0]))[0] == 0.0


def test_default_controller_is_an_odd_decreasing_characteristic_within_the_universe() -> None:
    cfg = FuzzyConfig()
    v = np.linspace(0.85, 1.15, 301)
    out = static_characteristic(cfg, v)
    assert np.all(np.diff(out) <= 1e-12)  # higher voltage, never more injection
    assert out == pytest.approx(-out[::-1], abs=1e-12)  # symmetric sets and rules
    assert np.all(np.abs(out) <= 1.0)
    assert np.abs(static_characteristic(cfg, np.array([0.98, 1.0, 1.02]))).max() == pytest.approx(0.0, abs=1e-12)
    assert out[0] > 0.75
    assert out[-1] < -0.75  # close to the full available Q far outside the band


def test_trend_asks_for_more_absorption_when_the_voltage_rises() -> None:
    cfg = FuzzyConfig()
    got = infer(cfg, np.full(3, 0.05), np.array([-0.02, 0.0, 0.02]))
    assert got[0] > got[1] > got[2]


def test_power_input_has_its_own_default_sets_and_rules() -> None:
    cfg = FuzzyConfig(second_input="power")
    assert [s.label for s in cfg.second.sets] == ["L", "M", "H"]
    high_v = np.full(3, 0.06)
    got = infer(cfg, high_v, np.array([0.1, 0.5, 1.0]))
    assert got[0] > got[1] >= got[2]  # plants near full output absorb more


def test_rules_must_name_existing_sets() -> None:
    with pytest.raises(ValidationError, match="no output set 'XX'"):
        FuzzyConfig(rules=(FuzzyRule(deviation="Z", second="Z", output="XX"),))
    with pytest.raises(ValidationError, match="a <= b <= c <= d"):
        FuzzySet(label="bad", points=(0.0, 2.0, 1.0, 3.0))
    with pytest.raises(ValidationError, match="repeat"):
        FuzzyVariable(low=0, high=1, sets=(DEVIATION.sets[0], DEVIATION.sets[0]))


def test_rule_weights_scale_the_firing_strength() -> None:
    base = _single_rule((0.0, 1.0, 1.0, 1.0))
    weighted = base.model_copy(update={"rules": (FuzzyRule(deviation="A", second="A", output="O", weight=0.5),)})
    assert infer(weighted, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(
        infer(base, np.array([-0.5]), np.array([0.0]))[0], abs=1e-12
    )


def test_against_scikit_fuzzy() -> None:
    """Same sets, rules and grid in scikit-fuzzy's low-level API (min implication, max aggregation, centroid)."""
    fuzz = pytest.importorskip("skfuzzy")
    cfg = FuzzyConfig()
    rng = np.random.default_rng(7)
    dev = rng.uniform(-0.12, 0.12, 40)
    trend = rng.uniform(-0.025, 0.025, 40)
    ours = infer(cfg, dev, trend)
    grid = np.linspace(OUTPUT.low, OUTPUT.high, cfg.n_grid)
    for k in range(dev.size):
        d = float(np.clip(dev[k], cfg.deviation.low, cfg.deviation.high))
        t = float(np.clip(trend[k], cfg.second.low, cfg.second.high))
        agg = np.zeros_like(grid)
        for rule in cfg.rules:
            s_d = cfg.deviation.sets[cfg.deviation.index(rule.deviation)].points
            s_t = cfg.second.sets[cfg.second.index(rule.second)].points
            s_o = cfg.output.sets[cfg.output.index(rule.output)].points
            mu_d = _skfuzzy_membership(fuzz, s_d, d, cfg.deviation)
            mu_t = _skfuzzy_membership(fuzz, s_t, t, cfg.second)
            agg = np.fmax(agg, np.fmin(min(mu_d, mu_t), fuzz.trapmf(grid, list(s_o))))
        expected = fuzz.defuzz(grid, agg, "centroid") if agg.sum() > 0 else 0.0
        assert ours[k] == pytest.approx(expected, abs=1e-9), k


def _skfuzzy_membership(fuzz, points, x: float, var: FuzzyVariable) -> float:  # type: ignore[no-untyped-def]
    universe = np.linspace(var.low, var.high, 4001)
    universe = np.union1d(universe, np.clip(np.array(points), var.low, var.high))
    return float(fuzz.interp_membership(universe, fuzz.trapmf(universe, list(points)), x))
