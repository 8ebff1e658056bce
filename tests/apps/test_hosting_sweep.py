"""Hosting-capacity building blocks at the array level: batched sweeps, tree intervals, binding, options."""

from __future__ import annotations

import numpy as np
import pytest

from cimflow.apps.hosting_criteria import Criterion, HostingConfig, HostingKind, tree_intervals
from cimflow.apps.hosting_margins import Margins
from cimflow.apps.hosting_problem import scaled_case
from cimflow.apps.hosting_search import SearchResult, binding_rows
from cimflow.apps.hosting_sweep import IslandSweep, Outcome, columns_per_batch
from cimflow.errors import ConfigError
from cimflow.powerflow.arrays import PerUnitCase
from cimflow.powerflow.solve import solve_case
from cimflow.solve import solve
from tests.apps.test_hosting import SIMBENCH
from tests.powerflow.cases import make_case, random_tree_case


def _batched(case: PerUnitCase, buses: np.ndarray, s_added: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sweep = IslandSweep(case)
    base = solve_case(case, tolerance=1e-12)
    v0 = np.repeat(base.v_phasor_pu[sweep.order][:, None], buses.size, axis=1)
    v, ok = sweep.solve(v0, sweep.position[buses], s_added, tolerance=1e-12, max_iter=200)
    return sweep.full(v), ok


def _reference(case: PerUnitCase, bus: int, s: complex) -> np.ndarray:
    delta = np.zeros(case.n_bus, dtype=complex)
    delta[bus] = s
    return np.asarray(solve_case(case.with_extra_power(delta), solver="nr", tolerance=1e-12).v_phasor_pu)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batched_sweep_matches_one_newton_solve_per_scenario_on_random_trees(seed: int) -> None:
    rng = np.random.default_rng(seed)
    case = random_tree_case(rng, 80)
    buses = rng.choice(np.arange(1, 80), size=12, replace=False)
    s = (rng.uniform(-0.05, 0.05, 12) + 1j * rng.uniform(-0.02, 0.02, 12)).astype(complex)
    v, ok = _batched(case, buses, s)
    assert ok.all()
    for j, bus in enumerate(buses):
        np.testing.assert_allclose(v[:, j], _reference(case, int(bus), s[j]), atol=1e-9)


def test_batched_sweep_on_a_meshed_grid() -> None:
    # a ring of five buses plus a spur: not radial, so the factorisation is the COLAMD one
    case = make_case(
        6,
        [
            (0, 1, 0.01 + 0.02j),
            (1, 2, 0.01 + 0.02j),
            (2, 3, 0.01 + 0.02j),
            (3, 4, 0.01 + 0.02j),
            (4, 0, 0.01 + 0.02j),
            (2, 5, 0.02 + 0.01j),
        ],
        loads={1: 0.1 + 0.03j, 3: 0.2 + 0.05j, 5: 0.05j},
    )
    buses = np.array([1, 2, 5, 5])
    s = np.array([-0.3, 0.2 + 0.1j, -0.1, 0.15], dtype=complex)
    v, ok = _batched(case, buses, s)
    assert ok.all()
    for j, bus in enumerate(buses):
        np.testing.assert_allclose(v[:, j], _reference(case, int(bus), s[j]), atol=1e-9)


def test_a_scenario_without_solution_is_not_converged_and_leaves_its_start() -> None:
    case = make_case(3, [(0, 1, 0.05 + 0.05j), (1, 2, 0.05 + 0.05j)], loads={2: 0.1})
    sweep = IslandSweep(case)
    v0 = np.repeat(solve_case(case).v_phasor_pu[sweep.order][:, None], 2, axis=1)
    with np.errstate(all="raise"):  # the sweep must contain its own overflow, not leak warnings
        v, ok = sweep.solve(
            v0, sweep.position[np.array([2, 2])], np.array([50.0, 0.01 + 0j]), tolerance=1e-10, max_iter=100
        )
    assert ok.tolist() == [False, True]
    np.testing.assert_array_equal(v[:, 0], v0[:, 0])


def test_tree_intervals_encode_the_ancestors() -> None:
    rng = np.random.default_rng(7)
    n = 300
    parent = np.full(n, -1, dtype=np.int64)
    for k in range(1, n):
        parent[k] = rng.integers(0, k)
    depth = np.zeros(n, dtype=np.int64)
    for k in range(1, n):
        depth[k] = depth[parent[k]] + 1
    order = np.argsort(depth, kind="stable")
    tin, tout = tree_intervals(parent, order)
    for b in rng.choice(n, 40, replace=False):
        ancestors = set()
        a = int(b)
        while a >= 0:
            ancestors.add(a)
            a = int(parent[a])
        found = {a for a in range(n) if tin[a] <= tin[b] < tout[a]}
        assert found == ancestors


def _search(m_lo: list[float], m_hi: list[float], outcome: int = Outcome.SEARCHED) -> SearchResult:
    lo = np.array(m_lo, dtype=float)[:, None]
    hi = np.array(m_hi, dtype=float)[:, None]
    empty = np.zeros_like(lo)
    el = np.zeros(lo.shape, dtype=np.int64)
    return SearchResult(
        np.array([0]),
        np.array([outcome]),
        np.array([1.0]),
        np.array([1.1]),
        np.array([True]),
        Margins(lo, empty, empty, el),
        Margins(hi, empty, empty, el),
        np.array([3]),
    )


def test_binding_is_the_criterion_whose_margin_crosses_zero_first() -> None:
    # both fail at hi; the second crosses at 1/3 of the step, the first at 1/2
    assert binding_rows(_search([1.0, 1.0, 5.0], [-1.0, -2.0, 4.0])).tolist() == [1]
    assert binding_rows(_search([1.0, 1.0], [np.nan, np.nan])).tolist() == [-1]  # no solution above: convergence
    assert binding_rows(_search([0.5, -1.0, -2.0], [0, 0, 0], Outcome.BASE_VIOLATION)).tolist() == [1]


def test_options_are_checked_and_defaults_depend_on_the_kind() -> None:
    with pytest.raises(ConfigError, match="pf"):
        HostingConfig(pf=0.0)
    with pytest.raises(ConfigError, match="v_min_pu"):
        HostingConfig(v_min_pu=1.1, v_max_pu=1.0)
    with pytest.raises(ConfigError, match="max_kw"):
        HostingConfig(max_kw=0.05, tolerance_kw=0.1)
    with pytest.raises(ConfigError):
        HostingConfig(kind="wind")  # type: ignore[arg-type]
    pv, ev = HostingConfig(kind=HostingKind.PV), HostingConfig(kind="ev")  # type: ignore[arg-type]
    assert pv.active == (Criterion.BAND, Criterion.RISE, Criterion.LINES, Criterion.TRANSFORMERS)
    assert ev.active == (Criterion.BAND, Criterion.LINES, Criterion.TRANSFORMERS)
    assert HostingConfig(kind="load", criteria=frozenset({"rise", "band"})).active == (Criterion.BAND,)  # type: ignore[arg-type]
    assert (pv.base_load_scale, ev.base_load_scale) == (0.25, 1.0)
    s_pv = HostingConfig(pf=0.8).power_pu_per_kw(1.0)
    s_ev = HostingConfig(kind="ev", pf=0.8).power_pu_per_kw(1.0)  # type: ignore[arg-type]
    assert s_pv == pytest.approx(complex(-1e-3, 0.75e-3))
    assert s_ev == pytest.approx(complex(1e-3, 0.75e-3))


def test_scaled_case_scales_loads_only_and_returns_a_new_value() -> None:
    solved = solve(SIMBENCH)
    build = solved.build
    assert build is not None
    records = build.index.injections.records
    load = sum(r.p_mw for r in records if r.role == "load")
    generation = sum(r.p_mw for r in records if r.role == "generation")
    half = scaled_case(build, 0.5)
    assert half is not build.case
    total = (half.s_const_power_pu + half.s_const_current_pu + half.s_const_impedance_pu).real.sum() * half.s_base_mva
    assert total == pytest.approx(0.5 * load + generation, rel=1e-9)
    assert scaled_case(build, 1.0) is build.case


def test_batches_stay_small_enough_for_the_cache() -> None:
    assert columns_per_batch(1000) == 32
    assert columns_per_batch(200_000) == 1
    assert columns_per_batch(10) == 32
