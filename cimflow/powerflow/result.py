"""Power-flow result: bus voltages, branch flows, slack power and losses, with SI views."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cimflow.powerflow.arrays import BoolArray, ComplexArray, FloatArray, PerUnitCase, frozen_array

_SQRT3 = float(np.sqrt(3.0))


def _bus_sum(index: np.ndarray, values: ComplexArray, n_bus: int) -> ComplexArray:
    """Sum complex ``values`` per bus ``index`` in O(n)."""
    real = np.bincount(index, weights=values.real, minlength=n_bus)
    imag = np.bincount(index, weights=values.imag, minlength=n_bus)
    return real + 1j * imag


def load_power(case: PerUnitCase, v_abs_pu: FloatArray) -> ComplexArray:
    """Return the ZIP load power ``S_P + S_I·|V| + S_Z·|V|²`` at voltage magnitudes ``v_abs_pu``."""
    return case.s_const_power_pu + v_abs_pu * (case.s_const_current_pu + v_abs_pu * case.s_const_impedance_pu)


@dataclass(frozen=True, slots=True)
class Convergence:
    """How a solver ended: whether it met its tolerance, after how many iterations, and its name."""

    converged: bool
    n_iterations: int
    solver: str


@dataclass(frozen=True, slots=True, eq=False)
class PowerFlowResult:
    """Solution of one :class:`PerUnitCase`; every array is read-only.

    Powers follow the load sign convention: ``s_from_pu`` is the power flowing from the from-bus into
    the branch, ``s_to_pu`` from the to-bus into the branch, and ``s_slack_pu`` the power flowing from
    the slack bus into its source (negative while the source supplies the grid; see
    :attr:`s_slack_inject_pu`). Buses of islands without a slack are not energised: their voltage is
    exactly 0 and their load, shunt and branch flows are 0.

    Attributes:
        case: The solved case.
        v_phasor_pu: ``(n_bus,)`` complex bus voltages.
        energised: ``(n_bus,)`` True for buses in an island with a slack.
        converged: True when the solver met its tolerance (see the solver for its criterion).
        n_iterations: Iterations (sweeps or Newton steps) the solver took.
        max_mismatch_pu: Largest ``|ΔS|`` of Kirchhoff's law at a non-slack energised bus, recomputed
            from the branch flows, shunts and loads (the same check for every solver); ``inf`` if the
            voltages are not finite.
        solver: Name of the method that produced the voltages ("fbs" or "nr").
        s_from_pu: ``(n_br,)`` complex power into each branch at its from side.
        s_to_pu: ``(n_br,)`` complex power into each branch at its to side.
        i_from_pu: ``(n_br,)`` complex current into each branch at its from side (from-bus base).
        i_to_pu: ``(n_br,)`` complex current into each branch at its to side (to-bus base).
        s_slack_pu: ``(n_slack,)`` power from each slack bus into its source (load sign convention).
        q_pv_pu: ``(n_pv,)`` reactive power of each PV bus's generators, load sign convention (negative
            while they supply reactive power): the value in the case plus what the bus lacks.
        pv_held: ``(n_pv,)`` True where the solver held the PV bus at its set point; False where
            the generators reached a reactive limit (PQ at the limit), the solver cannot hold
            voltages (the sweep: PQ at the file's Q) or the bus is not energised.
        pv_controlled: True when the solver controlled the PV buses (held them or put them at a
            limit); False when their generators kept the file's Q (the sweep).
    """

    case: PerUnitCase
    v_phasor_pu: ComplexArray
    energised: BoolArray
    converged: bool
    n_iterations: int
    max_mismatch_pu: float
    solver: str
    s_from_pu: ComplexArray
    s_to_pu: ComplexArray
    i_from_pu: ComplexArray
    i_to_pu: ComplexArray
    s_slack_pu: ComplexArray
    q_pv_pu: FloatArray
    pv_held: BoolArray
    pv_controlled: bool

    @classmethod
    def from_voltages(
        cls,
        case: PerUnitCase,
        v_phasor_pu: ComplexArray,
        *,
        energised: BoolArray,
        status: Convergence,
        pv_state: NDArray[np.int8] | None = None,
    ) -> PowerFlowResult:
        """Compute branch flows, slack power and the mismatch check from the bus voltages.

        Args:
            case: The solved case.
            v_phasor_pu: ``(n_bus,)`` voltages; entries of de-energised buses are set to 0.
            energised: ``(n_bus,)`` mask of buses in islands with a slack.
            status: How the solver ended (``converged`` is cleared if the voltages are not finite).
            pv_state: ``(n_pv,)`` how a solver with voltage control left each PV bus: 0 held at its
                set point, +1 / -1 at its upper / lower reactive limit; ``None`` (the sweep) when
                the generators kept the file's Q. A held bus's reactive mismatch is the generators'
                Q, so only its active mismatch is checked; at a limit, the generators' Q must be it.

        Returns:
            The result, with every array read-only.
        """
        v = np.where(energised, v_phasor_pu, 0.0).astype(np.complex128)
        converged = status.converged
        f, t = case.branch_from, case.branch_to
        ratio = case.tap_ratio
        ys = case.y_series_pu
        with np.errstate(all="ignore"):
            v_f, v_t = v[f], v[t]
            i_from = (ys + case.y_shunt_from_pu) / (ratio * ratio.conj()).real * v_f - ys / ratio.conj() * v_t
            i_to = -ys / ratio * v_f + (ys + case.y_shunt_to_pu) * v_t
            s_from = v_f * i_from.conj()
            s_to = v_t * i_to.conj()
            v_abs = np.abs(v)
            s_out = _bus_sum(f, s_from, case.n_bus) + _bus_sum(t, s_to, case.n_bus)
            s_out += v_abs**2 * case.bus_shunt_pu.conj() + np.where(energised, load_power(case, v_abs), 0.0)
        s_slack = -s_out[case.slack_bus]
        live = energised[case.pv_bus]
        q_pv = np.where(live, case.pv_q_pu - s_out[case.pv_bus].imag, 0.0)
        check = energised.copy()
        check[case.slack_bus] = False
        if pv_state is None:
            held = np.zeros(case.n_pv, dtype=bool)
            mismatch = np.abs(s_out[check])
        else:
            state = np.asarray(pv_state, dtype=np.int8)
            held = live & (state == 0)
            at_limit = live & (state != 0)
            check[case.pv_bus[live]] = False
            q_limit = np.where(state > 0, case.pv_q_max_pu, case.pv_q_min_pu)[at_limit]
            mismatch = np.concatenate(
                [
                    np.abs(s_out[check]),
                    np.abs(s_out[case.pv_bus[live]].real),
                    np.abs(q_pv[at_limit] + q_limit),
                ]
            )
        max_mismatch = float(mismatch.max()) if mismatch.size else 0.0
        if not (np.isfinite(max_mismatch) and np.isfinite(v).all()):
            max_mismatch = float("inf")
            converged = False
        return cls(
            case=case,
            v_phasor_pu=frozen_array(v, np.complex128),
            energised=frozen_array(energised, np.bool_),
            converged=bool(converged),
            n_iterations=int(status.n_iterations),
            max_mismatch_pu=max_mismatch,
            solver=str(status.solver),
            s_from_pu=frozen_array(s_from, np.complex128),
            s_to_pu=frozen_array(s_to, np.complex128),
            i_from_pu=frozen_array(i_from, np.complex128),
            i_to_pu=frozen_array(i_to, np.complex128),
            s_slack_pu=frozen_array(s_slack, np.complex128),
            q_pv_pu=frozen_array(q_pv, np.float64),
            pv_held=frozen_array(held, np.bool_),
            pv_controlled=pv_state is not None,
        )

    # per-unit views
    @property
    def v_pu(self) -> FloatArray:
        """``(n_bus,)`` voltage magnitudes."""
        return np.abs(self.v_phasor_pu)

    @property
    def v_angle_rad(self) -> FloatArray:
        """``(n_bus,)`` voltage angles."""
        return np.angle(self.v_phasor_pu)

    @property
    def s_load_pu(self) -> ComplexArray:
        """``(n_bus,)`` power the ZIP loads draw at the solved voltages (0 where not energised)."""
        return np.where(self.energised, load_power(self.case, self.v_pu), 0.0)

    @property
    def s_bus_shunt_pu(self) -> ComplexArray:
        """``(n_bus,)`` power the bus shunts draw, ``|V|²·conj(y)``."""
        return self.v_pu**2 * self.case.bus_shunt_pu.conj()

    @property
    def s_slack_inject_pu(self) -> ComplexArray:
        """``(n_slack,)`` power each slack injects into the grid (generator sense)."""
        return -self.s_slack_pu

    @property
    def losses_pu(self) -> complex:
        """Total branch losses, series and branch shunts (real part: active losses)."""
        return complex(np.sum(self.s_from_pu + self.s_to_pu))

    @property
    def i_from_abs_pu(self) -> FloatArray:
        """``(n_br,)`` current magnitude at the from side."""
        return np.abs(self.i_from_pu)

    @property
    def i_to_abs_pu(self) -> FloatArray:
        """``(n_br,)`` current magnitude at the to side."""
        return np.abs(self.i_to_pu)

    # SI views
    @property
    def v_kv(self) -> FloatArray:
        """``(n_bus,)`` phase-to-phase voltage magnitudes."""
        return self.v_pu * self.case.v_base_kv

    @property
    def p_from_mw(self) -> FloatArray:
        """``(n_br,)`` active power into each branch at its from side."""
        return self.s_from_pu.real * self.case.s_base_mva

    @property
    def q_from_mvar(self) -> FloatArray:
        """``(n_br,)`` reactive power into each branch at its from side."""
        return self.s_from_pu.imag * self.case.s_base_mva

    @property
    def p_to_mw(self) -> FloatArray:
        """``(n_br,)`` active power into each branch at its to side."""
        return self.s_to_pu.real * self.case.s_base_mva

    @property
    def q_to_mvar(self) -> FloatArray:
        """``(n_br,)`` reactive power into each branch at its to side."""
        return self.s_to_pu.imag * self.case.s_base_mva

    @property
    def i_from_a(self) -> FloatArray:
        """``(n_br,)`` current magnitude at the from side, ``I_base = S_base / (√3·V_base)``."""
        i_base_a = 1e3 * self.case.s_base_mva / (_SQRT3 * self.case.v_base_kv[self.case.branch_from])
        return self.i_from_abs_pu * i_base_a

    @property
    def i_to_a(self) -> FloatArray:
        """``(n_br,)`` current magnitude at the to side."""
        i_base_a = 1e3 * self.case.s_base_mva / (_SQRT3 * self.case.v_base_kv[self.case.branch_to])
        return self.i_to_abs_pu * i_base_a

    @property
    def p_slack_mw(self) -> FloatArray:
        """``(n_slack,)`` active power into each slack's source (load sign: negative when supplying)."""
        return self.s_slack_pu.real * self.case.s_base_mva

    @property
    def q_slack_mvar(self) -> FloatArray:
        """``(n_slack,)`` reactive power into each slack's source (load sign convention)."""
        return self.s_slack_pu.imag * self.case.s_base_mva

    @property
    def q_pv_mvar(self) -> FloatArray:
        """``(n_pv,)`` reactive power of each PV bus's generators (load sign convention)."""
        return self.q_pv_pu * self.case.s_base_mva

    @property
    def p_loss_mw(self) -> float:
        """Total active branch losses."""
        return self.losses_pu.real * self.case.s_base_mva

    @property
    def q_loss_mvar(self) -> float:
        """Total reactive branch losses (negative where line charging dominates)."""
        return self.losses_pu.imag * self.case.s_base_mva
