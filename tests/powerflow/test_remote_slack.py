"""The loop that lets a slack hold a remote bus: it settles where the remote bus follows the slack only
partly (a generator or a stiff grid near the regulated bus), not only where it follows one to one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np
import pytest

from cimflow.powerflow.remote_slack import MAX_ROUNDS, RemoteTarget, hold_remote


@dataclass(frozen=True)
class _Case:
    slack_v_pu: np.ndarray

    def with_slack_voltage(self, v: np.ndarray) -> _Case:
        return replace(self, slack_v_pu=v)


@dataclass(frozen=True)
class _Result:
    converged: bool
    v_phasor_pu: np.ndarray


def _grid(sensitivity: float, offset: float, calls: list[float]):  # type: ignore[no-untyped-def]
    """A grid whose bus 1 sits at offset + sensitivity·|V_slack| (a little non-linear), bus 0 is the slack."""

    def solve(case: _Case) -> _Result:
        v0 = complex(case.slack_v_pu[0])
        calls.append(abs(v0))
        v1 = offset + sensitivity * abs(v0) + 0.02 * (abs(v0) - 1.0) ** 2
        return _Result(True, np.array([v0, v1 * np.exp(-0.1j)]))

    return solve


@pytest.mark.parametrize("sensitivity", [1.0, 0.6, 0.15, 0.05])
def test_the_remote_bus_is_held_however_weakly_it_follows_the_slack(sensitivity: float) -> None:
    calls: list[float] = []
    case = _Case(np.array([1.05 * np.exp(0.2j)]))
    offset = 1.0 - sensitivity  # the remote bus is at 1.0 pu with the slack at 1.0 pu
    _, result, settled = hold_remote(
        case, [RemoteTarget(0, 1, 1.02)], _grid(sensitivity, offset, calls), tolerance=1e-10
    )  # type: ignore[arg-type]
    assert settled
    assert abs(result.v_phasor_pu[1]) == pytest.approx(1.02, abs=1e-10)
    assert np.angle(result.v_phasor_pu[0]) == pytest.approx(0.2)  # the slack's angle is kept
    assert len(calls) <= 12  # secant steps, not a creep of (1 - sensitivity) per round
    assert len(calls) < MAX_ROUNDS


def test_a_remote_bus_that_does_not_follow_is_reported_not_held() -> None:
    calls: list[float] = []

    def solve(case: _Case) -> _Result:
        calls.append(abs(complex(case.slack_v_pu[0])))
        return _Result(True, np.array([case.slack_v_pu[0], 0.97 + 0j]))  # held by something stiffer

    _, _, settled = hold_remote(_Case(np.array([1.0 + 0j])), [RemoteTarget(0, 1, 1.02)], solve, tolerance=1e-10)  # type: ignore[arg-type]
    assert not settled
    assert len(calls) == MAX_ROUNDS + 1


def test_microgrid_t4_holds_its_remote_busbar(shared_data) -> None:  # type: ignore[no-untyped-def]
    """ENTSO-E MicroGrid Type 4 BE (node-breaker): BE-G1, the slack, holds the 110 kV busbar behind its
    step-up transformer (and phase shifters elsewhere); scaling alone had not settled in 30 solves."""
    import cimflow
    from cimflow.powerflow.remote_slack import remote_targets

    root = shared_data / "entsoe-cgmes-2.4.15" / "MicroGrid"
    paths = [
        *sorted((root / "Type4_T4").glob("*T4_BE_NB_Complete_v2.zip")),
        *sorted((root / "BaseCase").glob("*BD_v2.zip")),
    ]
    if len(paths) != 2:
        pytest.skip("MicroGrid Type 4 not in the shared data")
    result = cimflow.solve(paths)
    assert result.converged
    assert not [f for f in result.findings if "did not settle" in f.message]
    assert result.build is not None
    assert result.result is not None
    network, topology = result.validation.network, result.validation.topology
    assert network is not None
    assert topology is not None
    (target,) = remote_targets(network, topology, result.build.case, result.build.index.slack_mrid)
    assert abs(result.result.v_phasor_pu[target.bus]) == pytest.approx(target.v_pu, abs=1e-8)


def test_a_flat_slope_moves_the_slack_by_at_most_a_tenth_of_a_pu_per_solve() -> None:
    calls: list[float] = []
    case = _Case(np.array([1.0 + 0j]))
    _, result, settled = hold_remote(case, [RemoteTarget(0, 1, 1.005)], _grid(0.03, 0.97, calls), tolerance=1e-10)  # type: ignore[arg-type]
    assert settled
    assert abs(result.v_phasor_pu[1]) == pytest.approx(1.005, abs=1e-10)
    assert max(abs(b - a) for a, b in pairwise(calls)) <= 0.1 + 1e-12


def test_a_step_the_solver_cannot_follow_leaves_the_last_converged_solve() -> None:
    calls: list[float] = []
    grid = _grid(0.5, 0.5, calls)

    def solve(case: _Case) -> _Result:
        result = grid(case)
        return result if abs(complex(case.slack_v_pu[0])) < 1.04 else _Result(False, result.v_phasor_pu * np.nan)

    got_case, result, settled = hold_remote(
        _Case(np.array([1.0 + 0j])), [RemoteTarget(0, 1, 1.03)], solve, tolerance=1e-10
    )  # type: ignore[arg-type]
    assert not settled
    assert result.converged
    assert abs(complex(got_case.slack_v_pu[0])) < 1.04


def test_the_last_round_failing_still_leaves_the_last_converged_solve() -> None:
    rounds: list[float] = []

    def solve(case: _Case) -> _Result:
        rounds.append(abs(complex(case.slack_v_pu[0])))
        v0 = complex(case.slack_v_pu[0])
        held = 0.9 + 0.0 * abs(v0)  # never follows: every round asks for more
        converged = len(rounds) <= MAX_ROUNDS  # the solve after the last round fails
        return _Result(converged, np.array([v0, held + 0j]))

    _, result, settled = hold_remote(_Case(np.array([1.0 + 0j])), [RemoteTarget(0, 1, 1.02)], solve, tolerance=1e-10)  # type: ignore[arg-type]
    assert not settled
    assert len(rounds) == MAX_ROUNDS + 1
    assert result.converged
