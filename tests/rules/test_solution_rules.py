"""CF4xx: the post-solve checks, each with a passing and a failing case on real and synthetic feeders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cimflow.config import Settings
from cimflow.samples import write_synthetic_feeder
from cimflow.solve import SolveOptions, solve
from tests.conftest import SAMPLES

SAMPLE = [SAMPLES / "simbench-lv-urban6" / f"simbench_lv_urban6_{p}.xml" for p in ("EQ", "SSH", "TP")]


def _codes(result: object, code: str) -> list[str]:
    return [f.location.mrid or "" for f in result.findings if f.code == code]  # type: ignore[attr-defined]


def test_clean_sample_has_no_violation() -> None:
    result = solve(SAMPLE)
    assert result.converged
    assert not [f for f in result.findings if f.code.startswith("CF4")]
    assert not result.failed


def test_voltage_band_flags_the_buses_below() -> None:
    result = solve(SAMPLE, settings=Settings(v_min_pu=0.99))
    flagged = set(_codes(result, "CF402"))
    assert result.solution is not None
    expected = {b.id for b in result.solution.buses if b.v_pu < 0.99}
    assert flagged == expected
    assert flagged  # the sample's far end is at 0.981 pu
    assert not result.failed  # a violation is a warning: the solve itself succeeded


def test_line_overload_against_current_limit() -> None:
    result = solve(SAMPLE, settings=Settings(loading_max_pct=20))
    assert result.solution is not None
    expected = {b.equipment for b in result.solution.branches if b.kind == "line" and (b.loading_pct or 0) > 20}
    assert expected
    assert set(_codes(result, "CF403")) == expected
    assert not _codes(solve(SAMPLE), "CF403")


def test_transformer_overload_against_rated_s() -> None:
    result = solve(SAMPLE, settings=Settings(loading_max_pct=50))
    assert _codes(result, "CF404") == ["174_0_57"]  # 69 % of 0.63 MVA
    assert not _codes(solve(SAMPLE), "CF404")


def test_reverse_flow_with_pv_on_every_bus(tmp_path: Path) -> None:
    paths = write_synthetic_feeder(40, tmp_path, seed=2, pv_share=1.0)
    result = solve(paths)
    assert result.solution is not None
    (trafo,) = [b for b in result.solution.branches if b.kind == "transformer"]
    assert trafo.p_from_mw < 0
    assert _codes(result, "CF405") == [trafo.equipment]
    assert not _codes(solve(SAMPLE), "CF405")


def test_non_convergence_is_an_error_finding(tmp_path: Path) -> None:
    ssh = SAMPLE[1].read_text()
    ssh = re.sub(
        r"<cim:EnergyConsumer.p>([0-9.]+)</cim:EnergyConsumer.p>",
        lambda m: f"<cim:EnergyConsumer.p>{float(m.group(1)) * 1000}</cim:EnergyConsumer.p>",
        ssh,
    )
    (tmp_path / "x_SSH.xml").write_text(ssh)
    result = solve([SAMPLE[0], tmp_path / "x_SSH.xml", SAMPLE[2]], options=SolveOptions(max_iter=30))
    assert not result.converged
    assert [f.code for f in result.findings if f.code == "CF401"] == ["CF401"]
    assert result.failed
    assert not _codes(result, "CF402")  # no limit checks on a state that is not a solution


@pytest.mark.parametrize("solver", ["fbs", "nr"])
def test_solver_choice_is_respected(solver: str) -> None:
    result = solve(SAMPLE, options=SolveOptions(solver=solver))  # type: ignore[arg-type]
    assert result.solution is not None
    assert result.solution.solver == solver
