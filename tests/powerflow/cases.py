"""Builders of small per-unit cases for the power-flow tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cimflow.powerflow import PerUnitCase


def make_case(
    n_bus: int,
    branches: Sequence[tuple[int, int, complex]],
    *,
    loads: dict[int, complex] | None = None,
    i_loads: dict[int, complex] | None = None,
    z_loads: dict[int, complex] | None = None,
    shunts: dict[int, complex] | None = None,
    slacks: dict[int, complex] | None = None,
    y_shunt_from: Sequence[complex] | None = None,
    y_shunt_to: Sequence[complex] | None = None,
    taps: Sequence[complex] | None = None,
    v_base_kv: float | Sequence[float] = 0.4,
    s_base_mva: float = 1.0,
) -> PerUnitCase:
    """Build a case from ``(from, to, z_series_pu)`` branches and per-bus dicts (default slack: bus 0 at 1 pu)."""

    def per_bus(values: dict[int, complex] | None) -> np.ndarray:
        out = np.zeros(n_bus, dtype=complex)
        for bus, value in (values or {}).items():
            out[bus] = value
        return out

    n_br = len(branches)
    slacks = {0: 1.0 + 0j} if slacks is None else slacks
    return PerUnitCase(
        s_base_mva=s_base_mva,
        v_base_kv=np.broadcast_to(np.asarray(v_base_kv, dtype=float), (n_bus,)),
        branch_from=np.array([b[0] for b in branches], dtype=np.int64),
        branch_to=np.array([b[1] for b in branches], dtype=np.int64),
        y_series_pu=np.array([1 / b[2] for b in branches], dtype=complex),
        y_shunt_from_pu=np.zeros(n_br, dtype=complex) if y_shunt_from is None else np.asarray(y_shunt_from),
        y_shunt_to_pu=np.zeros(n_br, dtype=complex) if y_shunt_to is None else np.asarray(y_shunt_to),
        tap_ratio=np.ones(n_br, dtype=complex) if taps is None else np.asarray(taps, dtype=complex),
        bus_shunt_pu=per_bus(shunts),
        s_const_power_pu=per_bus(loads),
        s_const_current_pu=per_bus(i_loads),
        s_const_impedance_pu=per_bus(z_loads),
        slack_bus=np.array(list(slacks), dtype=np.int64),
        slack_v_pu=np.array(list(slacks.values()), dtype=complex),
    )


def random_tree_case(
    rng: np.random.Generator, n_bus: int, *, load_scale: float = 0.02, zip_mix: bool = True, with_taps: bool = True
) -> PerUnitCase:
    """Build a random radial feeder rooted at bus 0 (the slack), with random buses order and ZIP loads."""
    perm = rng.permutation(n_bus)  # bus numbers unrelated to the tree order
    perm = np.concatenate([[0], perm[perm != 0]])
    parent = np.array([rng.integers(max(0, k - 4), k) for k in range(1, n_bus)], dtype=np.int64)
    child = np.arange(1, n_bus)
    n_br = n_bus - 1
    z = rng.uniform(0.002, 0.02, n_br) + 1j * rng.uniform(0.001, 0.02, n_br)
    b_half = 1j * rng.uniform(0.0, 1e-3, n_br)
    tap = np.ones(n_br, dtype=complex)
    if with_taps and n_br:
        k = rng.integers(0, n_br)
        tap[k] = rng.uniform(0.95, 1.05) * np.exp(1j * rng.uniform(-0.6, 0.6))
    load = load_scale * (rng.uniform(0, 1, n_bus) + 1j * rng.uniform(-0.2, 0.5, n_bus))
    load[0] = 0
    split = rng.dirichlet(np.ones(3), n_bus) if zip_mix else np.tile([1.0, 0, 0], (n_bus, 1))
    # some buses generate (negative load)
    load[rng.uniform(size=n_bus) < 0.2] *= -1.5
    return PerUnitCase(
        s_base_mva=1.0,
        v_base_kv=np.full(n_bus, 0.4),
        branch_from=perm[parent],
        branch_to=perm[child],
        y_series_pu=1 / z,
        y_shunt_from_pu=b_half,
        y_shunt_to_pu=b_half,
        tap_ratio=tap,
        bus_shunt_pu=np.where(rng.uniform(size=n_bus) < 0.1, 0.01j, 0)[np.argsort(perm)],
        s_const_power_pu=(load * split[:, 0])[np.argsort(perm)],
        s_const_current_pu=(load * split[:, 1])[np.argsort(perm)],
        s_const_impedance_pu=(load * split[:, 2])[np.argsort(perm)],
        slack_bus=np.array([perm[0]]),
        slack_v_pu=np.array([1.02 * np.exp(0.1j)]),
    )


def chain_case(n_bus: int, *, s_load_pu: complex = 1e-9 + 3e-10j, z_pu: complex = 1e-3 + 5e-4j) -> PerUnitCase:
    """Build a chain ``0 - 1 - ... - n-1`` fed at bus 0 with the same load at every other bus."""
    return PerUnitCase(
        s_base_mva=1.0,
        v_base_kv=np.full(n_bus, 20.0),
        branch_from=np.arange(n_bus - 1),
        branch_to=np.arange(1, n_bus),
        y_series_pu=np.full(n_bus - 1, 1 / z_pu),
        y_shunt_from_pu=np.zeros(n_bus - 1, dtype=complex),
        y_shunt_to_pu=np.zeros(n_bus - 1, dtype=complex),
        tap_ratio=np.ones(n_bus - 1, dtype=complex),
        bus_shunt_pu=np.zeros(n_bus, dtype=complex),
        s_const_power_pu=np.concatenate([[0], np.full(n_bus - 1, s_load_pu)]),
        s_const_current_pu=np.zeros(n_bus, dtype=complex),
        s_const_impedance_pu=np.zeros(n_bus, dtype=complex),
        slack_bus=np.array([0]),
        slack_v_pu=np.array([1.0 + 0j]),
    )
