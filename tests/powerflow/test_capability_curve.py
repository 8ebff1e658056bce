"""Reactive limits from a ReactiveCapabilityCurve, by hand: interpolation at the machine's P, the ends held,
reversed ranges swapped, points at one P merged, and minQ/maxQ where the curve gives nothing."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from cimflow.model.injections import Curve
from cimflow.powerflow.regulation import curve_points_mw, curve_ranges, q_limits
from cimflow.units import Dialect


def _point(x: float | None, y1: float | None, y2: float | None) -> SimpleNamespace:
    return SimpleNamespace(x=x, y1=y1, y2=y2)


CURVE = [_point(0.0, -40.0, 60.0), _point(200.0, -100.0, 80.0), _point(400.0, -120.0, 90.0)]


def _machine(p_mw: float | None, curve: list[SimpleNamespace] | None, min_q: float | None = -7.0,
             max_q: float | None = 9.0) -> tuple[SimpleNamespace, SimpleNamespace]:  # fmt: skip
    eq = SimpleNamespace(p_mw=p_mw, min_q_mvar=min_q, max_q_mvar=max_q, capability_curve="c" if curve else None)
    network = SimpleNamespace(curve_points_of={"c": tuple(curve or ())}, of=lambda _cls: {}, documents=())
    return eq, network


@pytest.mark.parametrize(
    ("p_mw", "expected"),
    [
        (-100.0, (-70.0, 70.0)),  # generating 100 MW (load sign): halfway between the first two points
        (-300.0, (-110.0, 85.0)),
        (-200.0, (-100.0, 80.0)),  # on a point
        (50.0, (-40.0, 60.0)),  # motoring, below the curve's span: its first point
        (-900.0, (-120.0, 90.0)),  # beyond the span: its last point
        (None, (-40.0, 60.0)),  # no p: 0 MW
    ],
)
def test_limits_are_interpolated_at_the_machines_own_active_power(
    p_mw: float | None, expected: tuple[float, float]
) -> None:
    eq, network = _machine(p_mw, CURVE)
    got = q_limits(eq, network)  # type: ignore[arg-type]
    assert (got.q_min_mvar, got.q_max_mvar) == pytest.approx(expected)
    assert got.source == "curve"
    assert not got.swapped


def test_reversed_points_are_swapped_and_points_at_one_p_merged() -> None:
    points = [_point(0.0, 60.0, -40.0), _point(100.0, -50.0, 20.0), _point(100.0, -10.0, 30.0),
              _point(100.0, 40.0, 50.0), _point(math.nan, 1.0, 2.0), _point(300.0, None, 5.0)]  # fmt: skip
    ranges, swapped = curve_ranges(points)  # type: ignore[arg-type]
    # the overlapping range at 100 MW widens the first one; the disjoint one (40..50) is ignored;
    # the point without P and the one without minQ are dropped
    assert ranges == [(0.0, -40.0, 60.0), (100.0, -50.0, 30.0)]
    assert swapped
    eq, network = _machine(-50.0, points)
    got = q_limits(eq, network)  # type: ignore[arg-type]
    assert (got.q_min_mvar, got.q_max_mvar, got.swapped) == (pytest.approx(-45.0), pytest.approx(45.0), True)


def test_one_point_is_a_fixed_range_and_no_usable_point_falls_back_to_min_and_max_q() -> None:
    eq, network = _machine(-80.0, [_point(10.0, -5.0, 6.0)])
    got = q_limits(eq, network)  # type: ignore[arg-type]
    assert (got.q_min_mvar, got.q_max_mvar, got.source) == (-5.0, 6.0, "curve")
    eq, network = _machine(-80.0, [_point(None, -5.0, 6.0)])
    got = q_limits(eq, network)  # type: ignore[arg-type]
    assert (got.q_min_mvar, got.q_max_mvar, got.source) == (-7.0, 9.0, "minQ/maxQ")
    eq, network = _machine(-80.0, CURVE)
    assert q_limits(eq).source == "minQ/maxQ"  # type: ignore[arg-type]  # no network: the curve is not read


def test_min_and_max_q_reversed_are_swapped_and_missing_sides_unlimited() -> None:
    eq, _ = _machine(-80.0, None, min_q=30.0, max_q=-10.0)
    got = q_limits(eq)  # type: ignore[arg-type]
    assert (got.q_min_mvar, got.q_max_mvar, got.swapped) == (-10.0, 30.0, True)
    eq, _ = _machine(-80.0, None, min_q=None, max_q=None)
    got = q_limits(eq)  # type: ignore[arg-type]
    assert (got.q_min_mvar, got.q_max_mvar, got.source) == (-math.inf, math.inf, "none")


@pytest.mark.parametrize(("dialect", "factor"), [(Dialect.SI, 1e3), (Dialect.CGMES, 1.0)])
def test_curve_multipliers_count_in_si_documents_only(dialect: Dialect, factor: float) -> None:
    """A CIM100 (SI) document writes a curve in kW/kvar when its multipliers say k: the reader took the values
    for W (1e-6 MW each), so they count a thousand times more; in CGMES the values are MW whatever it says."""
    src = SimpleNamespace(file="grid.xml")
    stored = [SimpleNamespace(x=0.0, y1=-40e-6, y2=60e-6, source=src),
              SimpleNamespace(x=200e-6, y1=-100e-6, y2=80e-6, source=src)]  # fmt: skip
    curve = SimpleNamespace(x_multiplier="k", y1_multiplier="k", y2_multiplier="k")
    network = SimpleNamespace(
        curve_points_of={"c": tuple(stored)},
        of=lambda cls: {"c": curve} if cls is Curve else {},
        documents=(SimpleNamespace(name="grid.xml", dialect=dialect),),
    )
    got = curve_points_mw(network, "c")  # type: ignore[arg-type]
    assert [(p.x, p.y1, p.y2) for p in got] == [
        pytest.approx((0.0, -40e-6 * factor, 60e-6 * factor)),
        pytest.approx((200e-6 * factor, -100e-6 * factor, 80e-6 * factor)),
    ]
    eq = SimpleNamespace(p_mw=-100e-6 * factor, capability_curve="c", min_q_mvar=None, max_q_mvar=None)
    limits = q_limits(eq, network)  # type: ignore[arg-type]
    assert (limits.q_min_mvar, limits.q_max_mvar) == pytest.approx((-70e-6 * factor, 70e-6 * factor))
