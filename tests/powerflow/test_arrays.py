"""PerUnitCase validation, immutability, scenarios and island detection."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from cimflow.errors import ConfigError
from cimflow.powerflow import PerUnitCase, build_admittance, find_islands

from .cases import make_case


def _line3() -> PerUnitCase:
    return make_case(3, [(0, 1, 0.01 + 0.02j), (1, 2, 0.01 + 0.02j)], loads={2: 0.1})


def test_arrays_are_read_only_copies() -> None:
    load = np.array([0, 0, 0.1 + 0j])
    case = dataclasses.replace(_line3(), s_const_power_pu=load)
    load[2] = 99  # the caller's array stays writable, the case keeps its own copy
    assert case.s_const_power_pu[2] == 0.1
    for field in dataclasses.fields(PerUnitCase):
        value = getattr(case, field.name)
        if isinstance(value, np.ndarray):
            assert not value.flags.writeable, field.name
            if value.size:  # the PV arrays of a case without PV buses are empty
                with pytest.raises(ValueError, match="read-only"):
                    value[0] = value[0]


def test_dtypes_are_coerced() -> None:
    case = dataclasses.replace(_line3(), branch_from=[0, 1], slack_v_pu=[1.0])
    assert case.branch_from.dtype == np.int64
    assert case.slack_v_pu.dtype == np.complex128


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"v_base_kv": np.array([0.4, 0.4])}, "differ in length"),
        ({"y_series_pu": np.array([1.0, 2.0, 3.0])}, "differ in length"),
        ({"slack_v_pu": np.array([1.0, 1.0])}, "differ in length"),
        ({"s_const_power_pu": np.array([0, np.nan, 0])}, r"s_const_power_pu\[1\]=.*finite"),
        ({"y_series_pu": np.array([np.inf, 1.0])}, "finite"),
        ({"v_base_kv": np.array([0.4, 0.0, 0.4])}, r"v_base_kv\[1\]=0.0"),
        ({"branch_to": np.array([1, 3])}, r"branch_to\[1\]=3"),
        ({"branch_to": np.array([1, 1]), "branch_from": np.array([0, 1])}, "to itself"),
        ({"slack_bus": np.array([-1])}, "slack_bus"),
        ({"slack_bus": np.array([0, 0]), "slack_v_pu": np.array([1.0, 1.0])}, "repeats"),
        ({"tap_ratio": np.array([1.0, 0.0])}, "tap_ratio"),
        ({"s_base_mva": 0.0}, "s_base_mva"),
        ({"branch_from": np.array([0.0, 1.0])}, "integers"),
        ({"bus_shunt_pu": np.zeros((3, 1))}, "1-D"),
    ],
)
def test_invalid_cases_raise_config_error(change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(_line3(), **change)


def test_with_extra_power_shares_the_network() -> None:
    case = _line3()
    delta = np.array([0, -0.05 + 0.01j, 0])
    new = case.with_extra_power(delta)
    assert new.s_const_power_pu[1] == -0.05 + 0.01j
    assert new.s_const_power_pu[2] == 0.1
    assert case.s_const_power_pu[1] == 0  # the original is untouched
    for name in ("branch_from", "branch_to", "y_series_pu", "tap_ratio", "bus_shunt_pu", "s_const_impedance_pu"):
        assert getattr(new, name) is getattr(case, name), name
    assert new.same_network(case)
    with pytest.raises(ConfigError, match="shape"):
        case.with_extra_power(np.zeros(2))


def test_same_network_detects_changes() -> None:
    case = _line3()
    assert case.same_network(dataclasses.replace(case, y_series_pu=np.array(case.y_series_pu)))
    assert not case.same_network(dataclasses.replace(case, y_series_pu=case.y_series_pu * 2))
    assert not case.same_network(dataclasses.replace(case, s_const_impedance_pu=np.array([0, 0, 0.1])))
    assert case.same_network(case.with_slack_voltage(np.array([1.05])))


def test_admittance_matrix_of_a_tapped_branch() -> None:
    # MATPOWER: Yff = (ys + bf)/|t|^2, Yft = -ys/conj(t), Ytf = -ys/t, Ytt = ys + bt
    t = 1.05 * np.exp(0.2j)
    ys = 1 / (0.01 + 0.05j)
    case = make_case(
        2,
        [(0, 1, 1 / ys)],
        taps=[t],
        y_shunt_from=[0.001j],
        y_shunt_to=[0.002j],
        shunts={1: 0.5j},
        z_loads={1: 0.3 + 0.1j},
    )
    y = build_admittance(case).toarray()
    assert y[0, 0] == pytest.approx((ys + 0.001j) / abs(t) ** 2)
    assert y[0, 1] == pytest.approx(-ys / np.conj(t))
    assert y[1, 0] == pytest.approx(-ys / t)
    # bus shunt 0.5j and the Z load drawing 0.3+0.1j at 1 pu, i.e. admittance 0.3-0.1j
    assert y[1, 1] == pytest.approx(ys + 0.002j + 0.5j + 0.3 - 0.1j)


def test_islands_radial_with_parallel_branches() -> None:
    case = make_case(3, [(0, 1, 0.01j), (1, 0, 0.02j), (1, 2, 0.01j)])
    islands = find_islands(case)
    assert islands.radial
    assert islands.n_islands == 1
    assert islands.energised.all()


def test_islands_mesh_two_slacks_and_dead_island() -> None:
    ring = make_case(3, [(0, 1, 0.01j), (1, 2, 0.01j), (2, 0, 0.01j)])
    assert not find_islands(ring).radial
    two_slacks = make_case(3, [(0, 1, 0.01j), (1, 2, 0.01j)], slacks={0: 1.0, 2: 1.0})
    assert not find_islands(two_slacks).radial
    # buses 2-3 hang on a branch with zero series admittance: a separate, dead island
    dead = dataclasses.replace(
        make_case(4, [(0, 1, 0.01j), (1, 2, 0.01j), (2, 3, 0.01j)]), y_series_pu=np.array([100.0, 0, 100.0])
    )
    islands = find_islands(dead)
    assert islands.radial
    assert islands.n_islands == 2
    assert islands.energised.tolist() == [True, True, False, False]
    assert islands.n_slack_of_island.tolist() == [1, 0]
