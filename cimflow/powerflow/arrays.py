"""Per-unit power-flow case: the validated, read-only arrays every solver takes.

The case is independent of CIM: ``cimflow/powerflow/case.py`` builds it from the model, tests and
benchmarks build it directly. Conventions (MATPOWER branch model, load sign convention):

* Buses are numbered ``0 .. n_bus-1``; ``v_base_kv`` is each bus's phase-to-phase base voltage and
  ``s_base_mva`` the three-phase power base shared by all buses.
* A branch is a pi section behind an ideal transformer at its from side::

      from ──(1/t)──┬── y_series ──┬── to          t = tap_ratio = |t|·e^{j·shift}
                    │              │               V_internal = V_from / t
               y_shunt_from   y_shunt_to

  so ``Y_ff = (y_series + y_shunt_from)/|t|²``, ``Y_ft = -y_series/conj(t)``,
  ``Y_tf = -y_series/t``, ``Y_tt = y_series + y_shunt_to``. A line has ``t = 1`` and half its
  charging on each side; a transformer's series admittance is in per unit of the to-side base, and a
  magnetising admittance given at the from (tap) side must be referred through ``t`` by the builder
  (or be put in ``bus_shunt_pu``). A positive shift makes the to-side voltage lag.
* Loads are ZIP in load sign convention (consumption positive, generation negative), each part
  given as the complex power it draws at ``|V| = 1`` pu: ``S(V) = S_P + S_I·|V| + S_Z·|V|²``.
* Slacks hold a fixed voltage phasor ``slack_v_pu``; every other energised bus is a PQ bus, except
  the PV buses ``pv_bus``: voltage-regulating generators there hold ``|V| = pv_v_pu`` at
  ``pv_regulated_bus`` (the PV bus itself, or another bus for a remote control) while their total
  reactive injection stays within ``[pv_q_min_pu, pv_q_max_pu]`` (generator sense, ±inf when
  unlimited). ``s_const_power_pu`` holds the generators' active power and, at PV buses, the reactive
  power the file gives them (``pv_q_pu``, load sign): a solver that cannot hold voltages (the sweep)
  solves them as PQ at that value, Newton-Raphson replaces it by the Q that holds the set point.
* A branch with ``y_series_pu == 0`` does not connect its buses (its shunts still count).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse import csgraph

from cimflow.errors import ConfigError

FloatArray = NDArray[np.float64]
ComplexArray = NDArray[np.complex128]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
G = TypeVar("G", bound=np.generic)

_BUS_COMPLEX = ("bus_shunt_pu", "s_const_power_pu", "s_const_current_pu", "s_const_impedance_pu")
_BRANCH_COMPLEX = ("y_series_pu", "y_shunt_from_pu", "y_shunt_to_pu", "tap_ratio")
_PV_FLOAT = ("pv_v_pu", "pv_q_pu", "pv_q_min_pu", "pv_q_max_pu")
# the fields that define the admittance matrix and the slack set (everything but loads and set points)
_NETWORK_FIELDS = (
    "v_base_kv",
    "branch_from",
    "branch_to",
    *_BRANCH_COMPLEX,
    "bus_shunt_pu",
    "s_const_impedance_pu",
    "slack_bus",
)


def _frozen(value: object, dtype: type[G], name: str) -> NDArray[G]:
    """Return ``value`` as a one-dimensional read-only array of ``dtype``, copying unless already so."""
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise ConfigError(f"PerUnitCase.{name}: expected a 1-D array, got shape {arr.shape}")
    if dtype is np.int64 and arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ConfigError(f"PerUnitCase.{name}: expected integers, got dtype {arr.dtype}")
    if arr.dtype != dtype or arr.flags.writeable:
        # a private copy: the caller's array stays writable and cannot change ours
        arr = np.array(arr, dtype=dtype)
        arr.setflags(write=False)
    return arr


def frozen_array(value: object, dtype: type[G]) -> NDArray[G]:
    """Return a read-only copy of ``value`` as ``dtype`` (any shape); helper for results."""
    arr = np.array(value, dtype=dtype)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, slots=True, eq=False)
class PerUnitCase:
    """Balanced positive-sequence power-flow case in per unit (see the module docstring).

    Attributes:
        s_base_mva: Three-phase power base of every per-unit quantity.
        v_base_kv: ``(n_bus,)`` phase-to-phase base voltage of each bus.
        branch_from: ``(n_br,)`` from-bus index of each branch (the tap side).
        branch_to: ``(n_br,)`` to-bus index of each branch.
        y_series_pu: ``(n_br,)`` series admittance; 0 means the branch does not connect.
        y_shunt_from_pu: ``(n_br,)`` total shunt admittance at the internal from side.
        y_shunt_to_pu: ``(n_br,)`` total shunt admittance at the to side.
        tap_ratio: ``(n_br,)`` complex off-nominal ratio ``|t|·e^{j·shift}``; 1 for lines.
        bus_shunt_pu: ``(n_bus,)`` admittance from each bus to ground (capacitor: ``+j·b``).
        s_const_power_pu: ``(n_bus,)`` constant-power part of the load (load sign convention).
        s_const_current_pu: ``(n_bus,)`` constant-current part, its power at ``|V| = 1``.
        s_const_impedance_pu: ``(n_bus,)`` constant-impedance part, its power at ``|V| = 1``.
        slack_bus: ``(n_slack,)`` distinct bus indices held at a fixed voltage (may be empty).
        slack_v_pu: ``(n_slack,)`` complex voltage set point of each slack.
        pv_bus: ``(n_pv,)`` distinct buses of voltage-regulating generators (not slacks).
        pv_v_pu: ``(n_pv,)`` voltage magnitude set point of each PV bus's control.
        pv_q_pu: ``(n_pv,)`` reactive power of the PV bus's generators inside ``s_const_power_pu``
            (load sign convention: the value a solver without voltage control keeps).
        pv_q_min_pu: ``(n_pv,)`` lower limit of the generators' total reactive injection (generator
            sense; ``-inf`` when unlimited).
        pv_q_max_pu: ``(n_pv,)`` upper limit (generator sense; ``+inf`` when unlimited).
        pv_regulated_bus: ``(n_pv,)`` distinct buses whose voltage each PV bus's generators hold (not
            slacks); empty means ``pv_bus`` (local control everywhere).

    Raises:
        ConfigError: On construction, when a shape, index or value is inconsistent or not finite.
    """

    s_base_mva: float
    v_base_kv: FloatArray
    branch_from: IntArray
    branch_to: IntArray
    y_series_pu: ComplexArray
    y_shunt_from_pu: ComplexArray
    y_shunt_to_pu: ComplexArray
    tap_ratio: ComplexArray
    bus_shunt_pu: ComplexArray
    s_const_power_pu: ComplexArray
    s_const_current_pu: ComplexArray
    s_const_impedance_pu: ComplexArray
    slack_bus: IntArray
    slack_v_pu: ComplexArray
    pv_bus: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pv_v_pu: FloatArray = field(default_factory=lambda: np.zeros(0))
    pv_q_pu: FloatArray = field(default_factory=lambda: np.zeros(0))
    pv_q_min_pu: FloatArray = field(default_factory=lambda: np.zeros(0))
    pv_q_max_pu: FloatArray = field(default_factory=lambda: np.zeros(0))
    pv_regulated_bus: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        """Coerce every array to its dtype, make it read-only and check shapes, indices and values."""
        fixed: dict[str, NDArray[np.generic]] = {"v_base_kv": _frozen(self.v_base_kv, np.float64, "v_base_kv")}
        if np.size(self.pv_regulated_bus) == 0:
            object.__setattr__(self, "pv_regulated_bus", self.pv_bus)  # local control
        for name in ("branch_from", "branch_to", "slack_bus", "pv_bus", "pv_regulated_bus"):
            fixed[name] = _frozen(getattr(self, name), np.int64, name)
        for name in (*_BRANCH_COMPLEX, *_BUS_COMPLEX, "slack_v_pu"):
            fixed[name] = _frozen(getattr(self, name), np.complex128, name)
        for name in _PV_FLOAT:
            fixed[name] = _frozen(getattr(self, name), np.float64, name)
        for name, arr in fixed.items():
            object.__setattr__(self, name, arr)
        s_base = float(self.s_base_mva)
        if not (np.isfinite(s_base) and s_base > 0):
            raise ConfigError(f"PerUnitCase.s_base_mva={self.s_base_mva}, must be finite and > 0")
        object.__setattr__(self, "s_base_mva", s_base)
        self._check_shapes(fixed)
        for name, arr in fixed.items():
            limit = name in ("pv_q_min_pu", "pv_q_max_pu")  # an unlimited side is ±inf, never NaN
            if arr.dtype.kind in "fc" and not (~np.isnan(arr) if limit else np.isfinite(arr)).all():
                bad = int(np.flatnonzero(~np.isfinite(arr))[0])
                raise ConfigError(f"PerUnitCase.{name}[{bad}]={arr[bad]}, must be finite")
        self._check_values()

    def _check_shapes(self, fixed: dict[str, NDArray[np.generic]]) -> None:
        groups = {
            "n_bus": ("v_base_kv", *_BUS_COMPLEX),
            "n_br": ("branch_from", "branch_to", *_BRANCH_COMPLEX),
            "n_slack": ("slack_bus", "slack_v_pu"),
            "n_pv": ("pv_bus", "pv_regulated_bus", *_PV_FLOAT),
        }
        for group, names in groups.items():
            sizes = {name: fixed[name].shape[0] for name in names}
            if len(set(sizes.values())) > 1:
                raise ConfigError(f"PerUnitCase: arrays of one {group} differ in length: {sizes}")

    def _check_values(self) -> None:
        n_bus = self.n_bus
        if (self.v_base_kv <= 0).any():
            bad = int(np.flatnonzero(self.v_base_kv <= 0)[0])
            raise ConfigError(f"PerUnitCase.v_base_kv[{bad}]={self.v_base_kv[bad]}, must be > 0")
        for name in ("branch_from", "branch_to", "slack_bus", "pv_bus", "pv_regulated_bus"):
            idx = getattr(self, name)
            if idx.size and (idx.min() < 0 or idx.max() >= n_bus):
                bad = int(np.flatnonzero((idx < 0) | (idx >= n_bus))[0])
                raise ConfigError(f"PerUnitCase.{name}[{bad}]={idx[bad]}, must be a bus index in [0, {n_bus})")
        loops = np.flatnonzero(self.branch_from == self.branch_to)
        if loops.size:
            raise ConfigError(
                f"PerUnitCase: branch {int(loops[0])} connects bus {self.branch_from[loops[0]]} to itself"
            )
        if (self.tap_ratio == 0).any():
            raise ConfigError(f"PerUnitCase.tap_ratio[{int(np.flatnonzero(self.tap_ratio == 0)[0])}]=0, must be != 0")
        if np.unique(self.slack_bus).size != self.slack_bus.size:
            raise ConfigError(f"PerUnitCase.slack_bus={self.slack_bus.tolist()[:10]} repeats a bus")
        if self.pv_bus.size:
            self._check_pv()

    def _check_pv(self) -> None:
        if np.unique(self.pv_bus).size != self.pv_bus.size:
            raise ConfigError(f"PerUnitCase.pv_bus={self.pv_bus.tolist()[:10]} repeats a bus")
        if np.unique(self.pv_regulated_bus).size != self.pv_regulated_bus.size:
            raise ConfigError(f"PerUnitCase.pv_regulated_bus={self.pv_regulated_bus.tolist()[:10]} repeats a bus")
        for name in ("pv_bus", "pv_regulated_bus"):
            both = np.intersect1d(getattr(self, name), self.slack_bus)
            if both.size:
                raise ConfigError(f"PerUnitCase: bus {int(both[0])} is both a slack and in {name}")
        if (self.pv_v_pu <= 0).any():
            bad = int(np.flatnonzero(self.pv_v_pu <= 0)[0])
            raise ConfigError(f"PerUnitCase.pv_v_pu[{bad}]={self.pv_v_pu[bad]}, must be > 0")
        if (self.pv_q_min_pu > self.pv_q_max_pu).any():
            bad = int(np.flatnonzero(self.pv_q_min_pu > self.pv_q_max_pu)[0])
            raise ConfigError(
                f"PerUnitCase: pv_q_min_pu[{bad}]={self.pv_q_min_pu[bad]} > pv_q_max_pu[{bad}]={self.pv_q_max_pu[bad]}"
            )

    @property
    def n_bus(self) -> int:
        """Number of buses."""
        return int(self.v_base_kv.shape[0])

    @property
    def n_pv(self) -> int:
        """Number of PV buses."""
        return int(self.pv_bus.shape[0])

    @property
    def n_branch(self) -> int:
        """Number of branches."""
        return int(self.branch_from.shape[0])

    def with_extra_power(self, delta_s_pu: ComplexArray) -> PerUnitCase:
        """Return a case whose constant-power load is increased by ``delta_s_pu`` (load sign convention).

        Every other array is shared, not copied, so a factorised solver of this case
        (:class:`cimflow.powerflow.fbs.FbsSolver`) accepts the new case without refactorising.
        A PV system exporting 5 kW at bus ``k`` is ``delta[k] = -0.005 / s_base_mva``.

        Args:
            delta_s_pu: ``(n_bus,)`` complex power to add at each bus.

        Returns:
            The new case.
        """
        delta = np.asarray(delta_s_pu, dtype=np.complex128)
        if delta.shape != (self.n_bus,):
            raise ConfigError(f"with_extra_power: delta_s_pu has shape {delta.shape}, expected ({self.n_bus},)")
        return dataclasses.replace(self, s_const_power_pu=self.s_const_power_pu + delta)

    def with_pv_as_pq(self, q_pv_pu: FloatArray) -> PerUnitCase:
        """Return the case without PV buses, their generators drawing ``q_pv_pu`` (load sign) instead.

        With a result's ``q_pv_pu`` this is the same grid at the same operating point, for studies
        that keep the generators' reactive power while they add power elsewhere (hosting capacity).
        """
        q = np.asarray(q_pv_pu, dtype=np.float64)
        if q.shape != (self.n_pv,):
            raise ConfigError(f"with_pv_as_pq: q_pv_pu has shape {q.shape}, expected ({self.n_pv},)")
        s_power = np.array(self.s_const_power_pu)
        s_power[self.pv_bus] += 1j * (q - self.pv_q_pu)
        empty = np.zeros(0)
        return dataclasses.replace(
            self,
            s_const_power_pu=s_power,
            pv_bus=np.zeros(0, dtype=np.int64),
            pv_regulated_bus=np.zeros(0, dtype=np.int64),
            pv_v_pu=empty,
            pv_q_pu=empty,
            pv_q_min_pu=empty,
            pv_q_max_pu=empty,
        )

    def with_slack_voltage(self, slack_v_pu: ComplexArray) -> PerUnitCase:
        """Return a case with new slack voltage set points, sharing every other array."""
        return dataclasses.replace(self, slack_v_pu=np.asarray(slack_v_pu, dtype=np.complex128))

    def same_network(self, other: PerUnitCase) -> bool:
        """Tell whether ``other`` has the same admittance matrix and slack buses (loads P, I may differ).

        Shared arrays (as :meth:`with_extra_power` makes) are recognised in O(1); otherwise compared.
        """
        if other is self:
            return True
        for name in _NETWORK_FIELDS:
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not theirs and not np.array_equal(mine, theirs):
                return False
        return True


def build_admittance(case: PerUnitCase) -> sp.csr_matrix:
    """Return the bus admittance matrix (branches, bus shunts and constant-impedance loads).

    A constant-impedance load drawing ``S_Z`` at 1 pu is the admittance ``conj(S_Z)``.
    """
    t = case.tap_ratio
    ys = case.y_series_pu
    y_ff = (ys + case.y_shunt_from_pu) / (t * t.conj()).real
    y_ft = -ys / t.conj()
    y_tf = -ys / t
    y_tt = ys + case.y_shunt_to_pu
    f, to = case.branch_from, case.branch_to
    diag = np.arange(case.n_bus)
    rows = np.concatenate([f, f, to, to, diag])
    cols = np.concatenate([f, to, f, to, diag])
    data = np.concatenate([y_ff, y_ft, y_tf, y_tt, case.bus_shunt_pu + case.s_const_impedance_pu.conj()])
    return sp.csr_matrix((data, (rows, cols)), shape=(case.n_bus, case.n_bus))


@dataclass(frozen=True, slots=True, eq=False)
class Islands:
    """Connected components of a case (through branches with ``y_series_pu != 0``).

    Attributes:
        island_of_bus: ``(n_bus,)`` island label of each bus, ``0 .. n_islands-1``.
        n_slack_of_island: ``(n_islands,)`` number of slacks in each island.
        energised: ``(n_bus,)`` True where the bus's island has at least one slack.
        radial: True when every energised island has exactly one slack and is a tree once parallel
            branches are merged: the forward-backward sweep then factorises without fill-in.
    """

    island_of_bus: IntArray
    n_slack_of_island: IntArray
    energised: BoolArray
    radial: bool

    @property
    def n_islands(self) -> int:
        """Number of islands, energised or not."""
        return int(self.n_slack_of_island.shape[0])


def connection_graph(case: PerUnitCase) -> sp.csr_matrix:
    """Return the symmetric bus adjacency (one entry per connected bus pair, parallel branches merged)."""
    live = case.y_series_pu != 0
    f, t = case.branch_from[live], case.branch_to[live]
    graph = sp.coo_matrix((np.ones(f.size), (np.minimum(f, t), np.maximum(f, t))), shape=(case.n_bus, case.n_bus))
    upper = graph.tocsr()
    upper.sum_duplicates()
    upper.data[:] = 1.0
    return (upper + upper.T).tocsr()


def find_islands(case: PerUnitCase) -> Islands:
    """Label the islands of ``case``, find which are energised and whether the energised part is radial."""
    graph = connection_graph(case)
    n_islands, labels = csgraph.connected_components(graph, directed=False)
    labels = labels.astype(np.int64)
    n_slack = np.bincount(labels[case.slack_bus], minlength=n_islands).astype(np.int64)
    energised = n_slack[labels] > 0
    pairs = sp.triu(graph, k=1).tocoo()
    n_pairs = int(np.count_nonzero(energised[pairs.row]))  # both ends of a pair lie in one island
    n_live_islands = int(np.count_nonzero(n_slack))
    radial = bool((n_slack <= 1).all()) and n_pairs == int(energised.sum()) - n_live_islands
    return Islands(
        island_of_bus=frozen_array(labels, np.int64),
        n_slack_of_island=frozen_array(n_slack, np.int64),
        energised=frozen_array(energised, np.bool_),
        radial=radial,
    )
