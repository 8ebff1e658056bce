"""The solve summary's lowest and highest voltage: gathered as arrays, the same buses as ``min``/``max`` pick."""

from __future__ import annotations

import math
import random

import pytest

from cimflow.cli.solve import _extremes
from cimflow.ids import MRID
from cimflow.powerflow.solution import BusResult


def _bus(k: int, v_pu: float, energised: bool) -> BusResult:
    return BusResult(k, MRID(f"b{k}"), None, None, (), 0, energised, 0.4, 0.4 * v_pu, v_pu, 0.0, None)


@pytest.mark.parametrize("seed", range(20))
def test_extremes_equal_min_and_max(seed: int) -> None:
    rng = random.Random(seed)
    levels = [0.95, 0.97, 1.0, 1.02, 1.05]  # few levels: ties, where the first bus must win as with min/max
    buses = [_bus(k, rng.choice(levels), rng.random() < 0.8) for k in range(rng.randint(1, 40))]
    on = [b for b in buses if b.energised]
    n, lo, hi = _extremes(buses)
    assert n == len(on)
    if on:
        assert lo is min(on, key=lambda b: b.v_pu)
        assert hi is max(on, key=lambda b: b.v_pu)
    else:
        assert lo is None
        assert hi is None


def test_a_voltage_that_is_not_a_number_is_no_extreme() -> None:
    buses = [_bus(0, math.nan, True), _bus(1, 0.98, True), _bus(2, 1.01, True), _bus(3, 0.5, False)]
    n, lo, hi = _extremes(buses)
    assert (n, lo, hi) == (3, buses[1], buses[2])
    assert _extremes([]) == (0, None, None)
