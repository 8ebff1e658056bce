"""Forward-backward sweep: fill-free sweep order, factorisation reuse, long chains, failure modes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csgraph

from cimflow.errors import ConfigError
from cimflow.powerflow import FbsSolver, build_admittance, find_islands, solve_case, solve_fbs, solve_nr
from cimflow.powerflow.arrays import connection_graph

from .cases import chain_case, make_case, random_tree_case


def test_sweep_order_is_leaves_first_and_fill_free() -> None:
    case = random_tree_case(np.random.default_rng(7), 300)
    solver = FbsSolver(case)
    assert solver.radial
    assert solver.fill_in == 0
    # every bus comes before its parent (towards the slack): the LU forward pass sums currents leaves to root
    _, parent = csgraph.breadth_first_order(connection_graph(case), int(case.slack_bus[0]), directed=False)
    position = np.full(case.n_bus, case.n_bus)  # the slack is "after" everything
    position[solver.order] = np.arange(solver.order.size)
    children = solver.order
    assert (position[children] < position[parent[children]]).all()
    assert sorted(solver.order.tolist() + case.slack_bus.tolist()) == list(range(case.n_bus))


def test_breadth_first_order_would_fill_in() -> None:
    # the reason for leaves first: root-first elimination of the same tree does fill in (guards sweep_order)
    import scipy.sparse.linalg as spla

    case = random_tree_case(np.random.default_rng(8), 300)
    order = FbsSolver(case).order[::-1]
    y_nn = build_admittance(case)[order][:, order].tocsc()
    lu = spla.splu(y_nn, permc_spec="NATURAL", diag_pivot_thresh=0.0)
    assert lu.L.nnz + lu.U.nnz - order.size - y_nn.nnz > 0


def test_meshed_case_uses_colamd_and_still_converges() -> None:
    ring = make_case(
        4,
        [(0, 1, 0.01 + 0.02j), (1, 2, 0.01 + 0.02j), (2, 3, 0.01 + 0.02j), (3, 0, 0.01 + 0.02j)],
        loads={1: 0.3 + 0.1j, 2: 0.2, 3: 0.1j},
    )
    solver = FbsSolver(ring)
    assert not solver.radial
    fbs = solver.solve(tolerance=1e-12)
    nr = solve_nr(ring, tolerance=1e-12)
    assert fbs.converged
    np.testing.assert_allclose(fbs.v_phasor_pu, nr.v_phasor_pu, atol=1e-10)


def test_factorisation_is_reused_for_scenarios() -> None:
    case = random_tree_case(np.random.default_rng(3), 200)
    solver = FbsSolver(case)
    rng = np.random.default_rng(4)
    for _ in range(3):
        delta = -0.01 * rng.uniform(size=case.n_bus) + 0j
        scenario = case.with_extra_power(delta)
        reused = solver.solve(scenario, tolerance=1e-11)
        fresh = solve_nr(scenario, tolerance=1e-11)
        assert reused.converged
        assert reused.case is scenario
        np.testing.assert_allclose(reused.v_phasor_pu, fresh.v_phasor_pu, atol=1e-9)
    raised = case.with_slack_voltage(case.slack_v_pu * 1.03)
    np.testing.assert_allclose(solver.solve(raised).v_pu[case.slack_bus], 1.02 * 1.03)


def test_solving_another_network_is_refused() -> None:
    case = random_tree_case(np.random.default_rng(3), 20)
    other = random_tree_case(np.random.default_rng(5), 20)
    with pytest.raises(ConfigError, match="network differs"):
        FbsSolver(case).solve(other)


def test_chain_of_200000_buses() -> None:
    n = 200_000
    case = chain_case(n)
    islands = find_islands(case)
    assert islands.radial
    result = solve_case(case)
    assert result.solver == "fbs"
    assert result.converged
    assert result.max_mismatch_pu < 1e-8
    v = result.v_pu
    assert (np.diff(v) < 0).all()  # every load pulls the voltage down further along the chain
    # the drop to the end is about Σ_k |Z|·k·|s| ≈ Re(Z·conj(S))·n²/2 for small drops
    s, z = 1e-9 + 3e-10j, 1e-3 + 5e-4j
    assert 1 - v[-1] == pytest.approx((z * np.conj(s)).real * n * n / 2, rel=0.05)
    balance = result.s_slack_inject_pu.sum() - result.s_load_pu.sum() - result.losses_pu
    assert abs(balance) < 1e-8


@pytest.mark.parametrize("solver", ["fbs", "nr"])
def test_absurd_load_does_not_converge(solver: str) -> None:
    # a 1 pu source behind |Z| can deliver at most about 1/(2|Z|) ≈ 11 pu through |Z| = 0.045; 100 pu cannot flow
    case = make_case(3, [(0, 1, 0.02 + 0.04j), (1, 2, 0.02 + 0.04j)], loads={1: 50 + 20j, 2: 50})
    result = solve_case(case, solver=solver, max_iter=30)
    assert not result.converged
    assert result.n_iterations <= 30
    assert result.max_mismatch_pu > 1e-3


def test_singular_admittance_matrix_gives_no_convergence() -> None:
    # bus 1 hangs on a pure reactance and a shunt that exactly cancels it: Y_11 = 0 (resonance)
    case = make_case(2, [(0, 1, 0.1j)], shunts={1: 10j}, loads={1: 0.1})
    solver = FbsSolver(case)
    assert solver.singular
    result = solver.solve()
    assert not result.converged
    assert not solve_nr(case).converged


def test_slack_only_case_is_trivially_converged() -> None:
    case = make_case(1, [], loads={0: 0.2 + 0.1j})
    result = solve_fbs(case)
    assert result.converged
    assert result.n_iterations == 0
    assert result.s_slack_inject_pu[0] == pytest.approx(0.2 + 0.1j)
    assert solve_nr(case).converged
