"""Newton-Raphson power flow in polar form with a sparse Jacobian, for meshed grids and several slacks.

Every slack is a fixed-voltage (Vθ) bus that holds its complex set point ``slack_v_pu`` and takes
whatever power balances its island; there are no PV buses (a regulating generator is modelled as
PQ, or as a slack by the case builder). All other energised buses are PQ buses whose unknowns are
``θ`` and ``|V|``; islands without a slack are not energised and left out, so several islands are
solved in one block-diagonal system.

The mismatch at a PQ bus is ``ΔS = V·conj(Y·V) + S_P + S_I·|V|`` (power leaving the bus into the
grid plus the load, which must be zero; constant-impedance loads and shunts are inside ``Y``). The
Jacobian follows MATPOWER's ``dSbus_dV`` (Zimmerman et al., IEEE Trans. Power Syst. 26(1), 2011)
with the load's ``dS/d|V| = S_I`` added, and is assembled each step on the fixed sparsity pattern of
``Y_pq,pq``; each step is one SuperLU solve (COLAMD). The start is the no-load solution, which already
carries tap ratios and phase shifts. Convergence: ``max(|Re ΔS|, |Im ΔS|) < tolerance`` (pu).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from cimflow.powerflow.arrays import ComplexArray, Islands, PerUnitCase, build_admittance, find_islands
from cimflow.powerflow.result import Convergence, PowerFlowResult

SOLVER_NAME = "nr"
_MIN_START_V_PU = 1e-3  # a no-load voltage below this means a (near) singular Y_pp: start flat instead


def _with_diagonal(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Return ``matrix`` in canonical CSR form with an explicit (possibly zero) diagonal entry per row."""
    coo = matrix.tocoo()
    n = matrix.shape[0]
    diag = np.arange(n)
    rows = np.concatenate([coo.row, diag])
    cols = np.concatenate([coo.col, diag])
    data = np.concatenate([coo.data, np.zeros(n, dtype=np.complex128)])
    out = sp.csr_matrix((data, (rows, cols)), shape=matrix.shape)
    out.sum_duplicates()
    out.sort_indices()
    return out


def _no_load_start(y_pp: sp.csr_matrix, rhs: ComplexArray) -> ComplexArray:
    """Return the no-load voltages ``Y_pp⁻¹·rhs``, or a flat 1 pu start if they are unusable."""
    flat = np.ones(rhs.size, dtype=np.complex128)
    try:
        v = np.asarray(spla.splu(y_pp.tocsc(), permc_spec="COLAMD").solve(rhs), dtype=np.complex128)
    except RuntimeError:  # singular Y_pp; Newton will report it
        return flat
    with np.errstate(all="ignore"):
        usable = np.isfinite(v).all() and (np.abs(v) > _MIN_START_V_PU).all()
    return v if usable else flat


def solve_nr(
    case: PerUnitCase, *, tolerance: float = 1e-8, max_iter: int = 100, islands: Islands | None = None
) -> PowerFlowResult:
    """Solve ``case`` by Newton-Raphson (see the module docstring for the model).

    Args:
        case: The case to solve.
        tolerance: Largest real or imaginary power mismatch at a PQ bus (pu) taken as converged.
        max_iter: Most Newton steps before giving up.
        islands: The case's islands, if already known.

    Returns:
        The result; ``converged=False`` (never an exception) when the mismatch does not fall below
        ``tolerance`` within ``max_iter`` steps, the Jacobian is singular or the voltages diverge.
    """
    islands = islands if islands is not None else find_islands(case)
    is_pq = islands.energised.copy()
    is_pq[case.slack_bus] = False
    pq = np.flatnonzero(is_pq)
    ybus_rows = build_admittance(case)[pq]
    y_pp = _with_diagonal(ybus_rows[:, pq])
    i_slack = np.asarray(ybus_rows[:, case.slack_bus] @ case.slack_v_pu, dtype=np.complex128)
    v_full = np.zeros(case.n_bus, dtype=np.complex128)
    v_full[case.slack_bus] = case.slack_v_pu
    loads = (case.s_const_power_pu[pq], case.s_const_current_pu[pq])
    v, converged, n_iter = _newton(y_pp, i_slack, loads, tolerance=tolerance, max_iter=max_iter)
    v_full[pq] = v
    status = Convergence(converged=converged, n_iterations=n_iter, solver=SOLVER_NAME)
    return PowerFlowResult.from_voltages(case, v_full, energised=islands.energised, status=status)


def _newton(
    y_pp: sp.csr_matrix,
    i_slack: ComplexArray,
    loads: tuple[ComplexArray, ComplexArray],
    *,
    tolerance: float,
    max_iter: int,
) -> tuple[ComplexArray, bool, int]:
    """Run the Newton steps on the PQ buses; return their voltages, convergence and step count.

    ``loads`` are the PQ buses' constant-power and constant-current parts.
    """
    s_power, s_current = loads
    n = y_pp.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.complex128), True, 0
    v = _no_load_start(y_pp, -i_slack)
    rows = np.repeat(np.arange(n), np.diff(y_pp.indptr))
    cols = y_pp.indices
    diag = np.flatnonzero(rows == cols)
    y_conj = y_pp.data.conj()
    jac_rows = np.concatenate([rows, rows, rows + n, rows + n])
    jac_cols = np.concatenate([cols, cols + n, cols, cols + n])
    # the Jacobian's CSC structure is fixed: build it once and only permute the values each step
    position = np.arange(1, jac_rows.size + 1, dtype=np.float64)
    pattern = sp.csc_matrix((position, (jac_rows, jac_cols)), shape=(2 * n, 2 * n))
    to_csc = pattern.data.astype(np.int64) - 1
    v_ang, v_abs = np.angle(v), np.abs(v)
    n_iter = 0
    with np.errstate(all="ignore"):
        while True:
            i_bus = y_pp @ v + i_slack
            mismatch = v * i_bus.conj() + s_power + s_current * v_abs
            worst = max(float(np.max(np.abs(mismatch.real))), float(np.max(np.abs(mismatch.imag))))
            if not np.isfinite(worst):
                return v, False, n_iter
            if worst < tolerance:
                return v, True, n_iter
            if n_iter >= max_iter:
                return v, False, n_iter
            # dS/dθ and dS/d|V| on the pattern of Y_pp (MATPOWER dSbus_dV), plus the load's dS/d|V|
            vr_y_vc = v[rows] * y_conj * v[cols].conj()
            d_ang = -1j * vr_y_vc
            d_ang[diag] += 1j * v * i_bus.conj()
            d_abs = vr_y_vc / v_abs[cols]
            d_abs[diag] += i_bus.conj() * v / v_abs + s_current
            data = np.concatenate([d_ang.real, d_abs.real, d_ang.imag, d_abs.imag])
            jac = sp.csc_matrix((data[to_csc], pattern.indices, pattern.indptr), shape=(2 * n, 2 * n))
            try:
                step = spla.splu(jac, permc_spec="COLAMD").solve(-np.concatenate([mismatch.real, mismatch.imag]))
            except RuntimeError:  # SuperLU: singular Jacobian (voltage collapse or isolated PQ bus)
                return v, False, n_iter
            n_iter += 1
            v_ang = v_ang + step[:n]
            v_abs = v_abs + step[n:]
            v = v_abs * np.exp(1j * v_ang)
