"""Newton-Raphson power flow in polar form with a sparse Jacobian, for meshed grids and several slacks.

Every slack is a fixed-voltage (Vθ) bus that holds its complex set point ``slack_v_pu`` and takes
whatever power balances its island. A PV bus (``pv_bus``) holds ``|V| = pv_v_pu`` at its regulated
bus (``pv_regulated_bus``, itself for a local control): the PV bus's reactive mismatch is no equation
(it is what its generators supply) and the regulated bus's ``|V|`` no unknown. With local control
that is the textbook PV bus, unknown ``θ`` only; with remote control the PV bus keeps ``θ`` and
``|V|``, and the regulated bus keeps its two equations but only ``θ``. All other energised buses
are PQ buses whose unknowns are ``θ`` and ``|V|``; islands without a slack are not energised and
left out, so several islands are solved in one block-diagonal system.

Reactive limits (as MATPOWER's and pandapower's ``enforce_q_lims``, PowSyBl's reactive limits):
after Newton converges, every PV bus whose generators' reactive injection lies outside
``[pv_q_min_pu, pv_q_max_pu]`` becomes a PQ bus at the limit it crossed, and a bus at a limit whose
regulated voltage went past the set point on the side the generators would pull it back from (above
it at the upper limit, below it at the lower) is held again; Newton restarts from the last voltages
until no bus switches (at most ``_MAX_SWITCH_ROUNDS`` rounds, else the result is not converged).

The mismatch at a PQ bus is ``ΔS = V·conj(Y·V) + S_P + S_I·|V|`` (power leaving the bus into the
grid plus the load, which must be zero; constant-impedance loads and shunts are inside ``Y``). The
Jacobian follows MATPOWER's ``dSbus_dV`` (Zimmerman et al., IEEE Trans. Power Syst. 26(1), 2011)
with the load's ``dS/d|V| = S_I`` added, and is assembled each step on the fixed sparsity pattern of
``Y_pq,pq``; each step is one SuperLU solve (COLAMD). The start is the no-load solution, which already
carries tap ratios and phase shifts, unless line charging lifts it out of 0.5-1.5 pu: then its angles
at 1 pu (from a start of several pu Newton can settle on a far-away solution). Convergence:
``max(|Re ΔS|, |Im ΔS|) < tolerance`` (pu).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from numpy.typing import NDArray

from cimflow.powerflow.arrays import (
    ComplexArray,
    FloatArray,
    IntArray,
    Islands,
    PerUnitCase,
    build_admittance,
    find_islands,
)
from cimflow.powerflow.result import Convergence, PowerFlowResult

SOLVER_NAME = "nr"
_MAX_SWITCH_ROUNDS = 20
_MIN_START_V_PU = 1e-3  # a no-load voltage below this means a (near) singular Y_pp: start flat instead
_START_BAND_PU = (0.5, 1.5)  # no-load magnitudes outside: start at 1 pu with the no-load angles


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
    """Return the no-load voltages ``Y_pp⁻¹·rhs``, or a flat 1 pu start if they are unusable.

    Where line charging and capacitors lift the no-load voltages out of ``_START_BAND_PU`` (a meshed
    high-voltage grid fed by one slack reaches several pu at no load), Newton can converge from there to
    a solution far from the operating point: the start then keeps the no-load angles (tap ratios' phase
    shifts) at 1 pu.
    """
    flat = np.ones(rhs.size, dtype=np.complex128)
    try:
        v = np.asarray(spla.splu(y_pp.tocsc(), permc_spec="COLAMD").solve(rhs), dtype=np.complex128)
    except RuntimeError:  # singular Y_pp; Newton will report it
        return flat
    with np.errstate(all="ignore"):
        magnitude = np.abs(v)
        usable = np.isfinite(v).all() and (magnitude > _MIN_START_V_PU).all()
    if not usable:
        return flat
    low, high = _START_BAND_PU
    if v.size and (magnitude.min() < low or magnitude.max() > high):
        return np.asarray(np.exp(1j * np.angle(v)), dtype=np.complex128)
    return v


def solve_nr(
    case: PerUnitCase, *, tolerance: float = 1e-8, max_iter: int = 100, islands: Islands | None = None
) -> PowerFlowResult:
    """Solve ``case`` by Newton-Raphson (see the module docstring for the model).

    Args:
        case: The case to solve.
        tolerance: Largest real or imaginary power mismatch at a PQ bus (pu) taken as converged; also
            the margin by which a PV bus's reactive power must pass a limit before it switches.
        max_iter: Most Newton steps before giving up (over all switching rounds).
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
    s_power, s_current = case.s_const_power_pu[pq], case.s_const_current_pu[pq]
    live = islands.energised[case.pv_bus]
    pv = _PvBuses(
        local=np.searchsorted(pq, case.pv_bus[live]),
        regulated=np.searchsorted(pq, case.pv_regulated_bus[live]),
        v_pu=case.pv_v_pu[live],
        q_pu=case.pv_q_pu[live],
        q_min_pu=case.pv_q_min_pu[live],
        q_max_pu=case.pv_q_max_pu[live],
    )
    at_limit = np.zeros(pv.local.size, dtype=np.int8)  # +1 at the upper limit, -1 at the lower, 0 held
    v: ComplexArray | None = None
    n_iter, rounds = 0, 0
    while True:
        loads = (s_power + 1j * pv.limit_shift(at_limit, s_power.size), s_current)
        held = at_limit == 0
        control = (pv.local[held], pv.regulated[held], pv.v_pu[held])
        v, converged, steps = _newton(y_pp, i_slack, loads, control, v, tolerance=tolerance, max_iter=max_iter - n_iter)
        n_iter += steps
        if not converged or pv.local.size == 0:
            break
        q_inject = np.imag(v * np.conj(y_pp @ v + i_slack) + s_power + s_current * np.abs(v))[pv.local] - pv.q_pu
        switched = pv.switch(at_limit, q_inject, np.abs(v[pv.regulated]), tolerance)
        if switched is None:
            break
        rounds += 1
        if rounds > _MAX_SWITCH_ROUNDS:
            converged = False
            break
        at_limit = switched
    v_full[pq] = v
    pv_state = np.zeros(case.n_pv, dtype=np.int8)
    pv_state[np.flatnonzero(live)] = at_limit
    status = Convergence(converged=converged, n_iterations=n_iter, solver=SOLVER_NAME)
    return PowerFlowResult.from_voltages(case, v_full, energised=islands.energised, status=status, pv_state=pv_state)


@dataclass(frozen=True, slots=True)
class _PvBuses:
    """The energised PV buses: positions among the non-slack buses, set points and reactive limits."""

    local: IntArray
    regulated: IntArray  # positions of the buses whose voltage they hold
    v_pu: FloatArray
    q_pu: FloatArray  # the generators' reactive power inside the case's load (load sign)
    q_min_pu: FloatArray  # limits of their reactive injection (generator sense)
    q_max_pu: FloatArray

    def limit_shift(self, at_limit: NDArray[np.int8], n: int) -> FloatArray:
        """Reactive load to add per non-slack bus so the buses at a limit draw exactly ``-limit``."""
        shift = np.zeros(n)
        q_limit = np.where(at_limit > 0, self.q_max_pu, self.q_min_pu)
        at = at_limit != 0
        shift[self.local[at]] = -q_limit[at] - self.q_pu[at]
        return shift

    def switch(
        self, at_limit: NDArray[np.int8], q_inject: FloatArray, v_abs: FloatArray, margin: float
    ) -> NDArray[np.int8] | None:
        """The next PV/PQ state, or ``None`` when no bus switches.

        A held bus whose injection ``q_inject`` (generator sense) passes a limit by more than
        ``margin`` goes to that limit; a bus at a limit whose voltage passed its set point on the
        side the limit pushes towards is held again.
        """
        new = at_limit.copy()
        held = at_limit == 0
        new[held & (q_inject > self.q_max_pu + margin)] = 1
        new[held & (q_inject < self.q_min_pu - margin)] = -1
        new[(at_limit > 0) & (v_abs > self.v_pu + margin)] = 0
        new[(at_limit < 0) & (v_abs < self.v_pu - margin)] = 0
        return None if np.array_equal(new, at_limit) else new


def _newton(
    y_pp: sp.csr_matrix,
    i_slack: ComplexArray,
    loads: tuple[ComplexArray, ComplexArray],
    control: tuple[IntArray, IntArray, FloatArray],
    start: ComplexArray | None,
    *,
    tolerance: float,
    max_iter: int,
) -> tuple[ComplexArray, bool, int]:
    """Run the Newton steps on the non-slack buses; return their voltages, convergence and step count.

    ``loads`` are the non-slack buses' constant-power and constant-current parts; ``control`` the
    positions of the held PV buses (their reactive mismatch is no equation), of the buses they
    regulate (their ``|V|`` is no unknown) and the set points; ``start`` the voltages to start from
    (default: the no-load solution).
    """
    s_power, s_current = loads
    q_free, v_fixed, v_set = control
    n = y_pp.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.complex128), True, 0
    v = _no_load_start(y_pp, -i_slack) if start is None else start
    v_ang, v_abs = np.angle(v), np.abs(v)
    if q_free.size:
        if start is None:
            # a grid held by generators has line charging and capacitors the one slack alone would
            # lift far above 1 pu at no load: keep the no-load angles (phase shifts), not magnitudes
            v_abs = np.ones(n)
        v_abs[v_fixed] = v_set
        v = v_abs * np.exp(1j * v_ang)
    q_rows = np.delete(np.arange(n), q_free)
    v_cols = np.delete(np.arange(n), v_fixed)
    # equations: ΔP at every non-slack bus, ΔQ where no PV bus frees it; unknowns: θ at every
    # non-slack bus, |V| where no control fixes it
    keep = (
        None
        if q_free.size == 0
        else (np.concatenate([np.arange(n), n + q_rows]), np.concatenate([np.arange(n), n + v_cols]))
    )
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
    n_iter = 0
    with np.errstate(all="ignore"):
        while True:
            i_bus = y_pp @ v + i_slack
            mismatch = v * i_bus.conj() + s_power + s_current * v_abs
            reactive = mismatch.imag if keep is None else mismatch.imag[q_rows]
            worst = max(float(np.max(np.abs(mismatch.real))), float(np.max(np.abs(reactive), initial=0.0)))
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
            if keep is not None:
                jac = jac[keep[0]][:, keep[1]].tocsc()
            try:
                step = spla.splu(jac, permc_spec="COLAMD").solve(-np.concatenate([mismatch.real, reactive]))
            except RuntimeError:  # SuperLU: singular Jacobian (voltage collapse or isolated PQ bus)
                return v, False, n_iter
            n_iter += 1
            v_ang = v_ang + step[:n]
            if keep is None:
                v_abs = v_abs + step[n:]
            else:
                v_abs = v_abs.copy()
                v_abs[v_cols] += step[n:]
            v = v_abs * np.exp(1j * v_ang)
