"""The solve benchmark's summary of repeated runs (benchmarks/bench_solve.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_solve.py"
    spec = importlib.util.spec_from_file_location("bench_solve", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(ratio: float, cli_ratio: float) -> dict[str, object]:
    return {
        "end_to_end_s": ratio * 2.0,
        "lxml_parse_s": 2.0,
        "ratio_to_lxml": ratio,
        "cli_s": cli_ratio * 2.0,
        "cli_ratio_to_lxml": cli_ratio,
        "peak_rss_mb": 100.0,
    }


def test_the_row_is_the_run_with_the_median_ratio_and_lists_every_run(bench: ModuleType) -> None:
    runs = [_run(3.4, 3.9), _run(2.7, 3.0), _run(2.9, 3.5)]
    row = bench.median_run(runs)
    assert row["ratio_to_lxml"] == 2.9  # a real run, not a mix of runs
    assert row["cli_ratio_to_lxml"] == 3.5
    reps = row["repeats"]
    assert reps["n"] == 3
    assert reps["ratio_to_lxml"] == [3.4, 2.7, 2.9]  # in the order run
    assert reps["median_ratio_to_lxml"] == 2.9
    assert reps["median_cli_ratio_to_lxml"] == 3.5


def test_an_even_number_of_runs_records_the_lower_middle_run_and_the_true_median(bench: ModuleType) -> None:
    row = bench.median_run([_run(3.0, 3.1), _run(2.0, 2.1), _run(4.0, 4.1), _run(2.5, 2.6)])
    assert row["ratio_to_lxml"] == 2.5
    assert row["repeats"]["median_ratio_to_lxml"] == 2.75


def test_one_run_is_recorded_as_it_was(bench: ModuleType) -> None:
    run = _run(2.8, 3.2)
    assert bench.median_run([run]) == run
