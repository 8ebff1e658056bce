"""Forward-backward sweep for radial grids, as triangular solves of a fill-free sparse LU.

Why a sparse LU *is* the sweep. Number the non-slack buses of a tree leaves first: the reverse of a
breadth-first order from the slack. Gaussian elimination of ``Y_nn`` (the admittance matrix of the
non-slack buses) in that order eliminates each bus while only its parent is left uneliminated, so the
LU factors have exactly the pattern of the branches (no fill-in) and

* the forward substitution ``L·w = b`` runs from the leaves to the root and adds each bus's
  (scaled) current into its parent: the *backward sweep* (current summation);
* the back substitution ``U·v = w`` runs from the root to the leaves and gets each voltage from its
  parent's voltage minus the drop across the branch: the *forward sweep*.

One iteration of the classical FBS is therefore ``V = Y_nn⁻¹·(I_load(V) - Y_ns·V_s)``, with
``I_load = -conj(S(V)/V)`` from the constant-power and constant-current parts of the ZIP loads
(constant-impedance loads and shunts sit inside ``Y_nn``, so they are exact at every iteration). The
factorisation is done once (SuperLU, ``permc_spec="NATURAL"`` and diagonal pivots so it keeps our
order); both sweeps are compiled loops, so no Python loop runs over buses and depth is no limit
(a 200,000-bus chain is 200,000 levels deep). The start is the no-load solution ``-Y_nn⁻¹·Y_ns·V_s``,
which already carries tap ratios and phase shifts. Iteration stops when ``max |ΔV| < tolerance``.

The same fixed point also works on meshed grids and with several slacks (it is then the implicit
Z-bus Gauss method): :class:`FbsSolver` uses a fill-reducing COLAMD order for them, with fill-in.
``cimflow.powerflow.solve.solve_case`` only picks it for radial grids.

Scenarios reuse the factorisation: ``FbsSolver(case).solve(case.with_extra_power(delta))``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.sparse import csgraph

from cimflow.errors import ConfigError
from cimflow.powerflow.arrays import (
    ComplexArray,
    IntArray,
    Islands,
    PerUnitCase,
    build_admittance,
    connection_graph,
    find_islands,
    frozen_array,
)
from cimflow.powerflow.result import Convergence, PowerFlowResult

SOLVER_NAME = "fbs"


def sweep_order(case: PerUnitCase) -> IntArray:
    """Return the energised non-slack buses leaves first (reverse breadth-first order from the slacks).

    A virtual root joined to every slack starts one breadth-first search for all islands.
    """
    graph = connection_graph(case).tocoo()
    root = case.n_bus
    n_slack = case.slack_bus.size
    rows = np.concatenate([graph.row, np.full(n_slack, root), case.slack_bus])
    cols = np.concatenate([graph.col, case.slack_bus, np.full(n_slack, root)])
    extended = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(root + 1, root + 1))
    order = csgraph.breadth_first_order(extended, root, directed=True, return_predecessors=False)
    is_slack = np.zeros(root + 1, dtype=bool)
    is_slack[case.slack_bus] = True
    is_slack[root] = True
    return np.asarray(order[~is_slack[order]][::-1], dtype=np.int64)


class FbsSolver:
    """A case's factorised non-slack admittance matrix, ready for repeated sweeps.

    Args:
        case: The case to factorise; its constant-power and constant-current loads and slack set
            points are only read by :meth:`solve`.
        islands: The case's islands, if already known (saves one graph search).
    """

    __slots__ = ("_case", "_energised", "_fill_in", "_lu", "_order", "_radial", "_y_ns")

    def __init__(self, case: PerUnitCase, *, islands: Islands | None = None) -> None:
        """Order the buses and factorise ``Y_nn`` (a singular matrix is kept as :attr:`singular`)."""
        islands = islands if islands is not None else find_islands(case)
        self._case = case
        self._energised = islands.energised
        self._radial = islands.radial
        if islands.radial:
            order = sweep_order(case)
        else:
            non_slack = islands.energised.copy()
            non_slack[case.slack_bus] = False
            order = np.flatnonzero(non_slack).astype(np.int64)
        self._order = frozen_array(order, np.int64)
        rows = build_admittance(case)[order]
        self._y_ns = rows[:, case.slack_bus].tocsr()
        y_nn = rows[:, order].tocsc()
        self._lu: spla.SuperLU | None = None
        self._fill_in = 0
        if order.size:
            try:
                if islands.radial:
                    self._lu = spla.splu(y_nn, permc_spec="NATURAL", diag_pivot_thresh=0.0)
                else:
                    self._lu = spla.splu(y_nn, permc_spec="COLAMD")
            except RuntimeError:  # SuperLU: "Factor is exactly singular"; the data, not a bug
                self._lu = None
            else:
                self._fill_in = int(self._lu.L.nnz + self._lu.U.nnz - order.size - y_nn.nnz)

    @property
    def case(self) -> PerUnitCase:
        """The factorised case."""
        return self._case

    @property
    def order(self) -> IntArray:
        """Energised non-slack buses in elimination order (leaves first when radial)."""
        return self._order

    @property
    def radial(self) -> bool:
        """True when the factorisation is the fill-free sweep of a radial grid."""
        return self._radial

    @property
    def fill_in(self) -> int:
        """Entries the LU factors hold beyond the pattern of ``Y_nn`` (0 for a radial grid)."""
        return self._fill_in

    @property
    def singular(self) -> bool:
        """True when ``Y_nn`` could not be factorised; :meth:`solve` then reports no convergence."""
        return self._lu is None and self._order.size > 0

    def solve(
        self, case: PerUnitCase | None = None, *, tolerance: float = 1e-8, max_iter: int = 100
    ) -> PowerFlowResult:
        """Sweep until ``max |ΔV| < tolerance`` or ``max_iter`` sweeps.

        Args:
            case: A case with the same network as the factorised one (for example made by
                ``with_extra_power`` or ``with_slack_voltage``); default: the factorised case.
            tolerance: Largest voltage change between sweeps, in pu, taken as converged.
            max_iter: Most sweeps before giving up (``converged=False``).

        Returns:
            The result; ``converged=False`` (never an exception) when the sweeps do not settle, the
            voltages leave the finite numbers or ``Y_nn`` is singular.

        Raises:
            ConfigError: If ``case`` has a different network than the factorised case.
        """
        if case is None:
            case = self._case
        elif not case.same_network(self._case):
            raise ConfigError("FbsSolver.solve: the case's network differs from the factorised one")
        v_full = np.zeros(case.n_bus, dtype=np.complex128)
        v_full[case.slack_bus] = case.slack_v_pu
        converged, n_iter = self._order.size == 0, 0
        if self._lu is not None:
            v, converged, n_iter = self._iterate(self._lu, case, tolerance=tolerance, max_iter=max_iter)
            v_full[self._order] = v
        status = Convergence(converged=converged, n_iterations=n_iter, solver=SOLVER_NAME)
        return PowerFlowResult.from_voltages(case, v_full, energised=self._energised, status=status)

    def _iterate(
        self, lu: spla.SuperLU, case: PerUnitCase, *, tolerance: float, max_iter: int
    ) -> tuple[ComplexArray, bool, int]:
        order = self._order
        s_power = case.s_const_power_pu[order]
        s_current = case.s_const_current_pu[order]
        rhs_slack = np.asarray(-(self._y_ns @ case.slack_v_pu), dtype=np.complex128)
        v = lu.solve(rhs_slack)
        n_iter = 0
        with np.errstate(all="ignore"):
            while n_iter < max_iter:
                n_iter += 1
                i_load = -np.conj((s_power + s_current * np.abs(v)) / v)
                v_new = lu.solve(rhs_slack + i_load)
                dv = float(np.max(np.abs(v_new - v)))
                v = v_new
                if not np.isfinite(dv):
                    return v, False, n_iter
                if dv < tolerance:
                    return v, True, n_iter
        return v, False, n_iter


def solve_fbs(case: PerUnitCase, *, tolerance: float = 1e-8, max_iter: int = 100) -> PowerFlowResult:
    """Factorise ``case`` and sweep it once (see :class:`FbsSolver` to reuse the factorisation)."""
    return FbsSolver(case).solve(tolerance=tolerance, max_iter=max_iter)
