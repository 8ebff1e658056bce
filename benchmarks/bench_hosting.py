"""Benchmark the hosting-capacity search: every bus of a synthetic feeder, PV, against a naive loop.

Usage::

    python benchmarks/bench_hosting.py [--buses 1000] [--workers 1 2] [--naive-buses 8]
                                       [--out benchmarks/results/hosting.json]

It reads ``benchmarks/feeders/synthetic_<n>_{EQ,SSH,TP}.xml`` (written first if missing, as
``benchmarks/make_feeders.py`` does), solves it once, prepares the study and times
:func:`cimflow.apps.hosting.hosting_capacity` over every bus with each ``--workers`` count (wall and
CPU seconds, power flows per second). Two references search a sample of buses one scenario at a
time with a plain bisection of ``[0, max_kw]`` to the same tolerance (after a test at ``max_kw``),
judged by the same criteria:

* ``naive``: per trial, rebuild the per-unit case from the model (``build_case``) and solve it
  (``solve_case``): what a script around a power-flow tool does;
* ``scalar``: per trial, a new case value on one reused FBS factorisation (the sweeps, unbatched).

Each is extrapolated to every bus twice: with its own number of trials per bus (``ratio``: what the
loop would take) and with the batched search's number of power flows (``ratio_same_trials``: the
gain of batching and reuse alone). The sample's capacities are checked against the batched ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cimflow.apps.hosting import HostingConfig, HostingStudy, hosting_capacity, prepare_hosting
from cimflow.apps.hosting_margins import evaluate
from cimflow.apps.hosting_problem import scaled_case
from cimflow.powerflow.case import build_case
from cimflow.powerflow.fbs import FbsSolver
from cimflow.powerflow.solve import solve_case
from cimflow.samples import write_synthetic_feeder
from cimflow.solve import solve

ROOT = Path(__file__).resolve().parent
Trial = Callable[[int, float], bool]


def _files(n_buses: int) -> list[Path]:
    folder = ROOT / "feeders"
    name = f"synthetic_{n_buses}"
    paths = [folder / f"{name}_{p}.xml" for p in ("EQ", "SSH", "TP")]
    if not all(p.exists() for p in paths):
        write_synthetic_feeder(n_buses, folder, name=name)
    return paths


def _judge(study: HostingStudy, bus: int, v_full: np.ndarray) -> bool:
    """Every criterion of the scenario, with the study's own criteria (same definitions as the search)."""
    isl = study.islands[int(study.island_of_bus[bus])]
    assert isl.problem is not None
    local = np.array([int(study.local_of_bus[bus])])
    m = evaluate(isl.problem.criteria, v_full[isl.bus_index][:, None], local)
    return bool((m.margin >= 0).all())


def _naive_trial(study: HostingStudy) -> Trial:
    unit = study.config.power_pu_per_kw(study.base_case.s_base_mva)

    def trial(bus: int, p_kw: float) -> bool:
        built = build_case(study.network, study.topology, s_base_mva=study.base_case.s_base_mva).value
        assert built is not None
        case = scaled_case(built, study.config.base_load_scale)  # the study's load level, as prepare_hosting
        delta = np.zeros(case.n_bus, dtype=complex)
        delta[bus] = unit * p_kw
        res = solve_case(case.with_extra_power(delta), tolerance=study.config.solver_tolerance_pu)
        return res.converged and _judge(study, bus, np.asarray(res.v_phasor_pu))

    return trial


def _scalar_trial(study: HostingStudy) -> Trial:
    unit = study.config.power_pu_per_kw(study.base_case.s_base_mva)
    fbs = FbsSolver(study.base_case)

    def trial(bus: int, p_kw: float) -> bool:
        delta = np.zeros(study.base_case.n_bus, dtype=complex)
        delta[bus] = unit * p_kw
        res = fbs.solve(study.base_case.with_extra_power(delta), tolerance=study.config.solver_tolerance_pu)
        return res.converged and _judge(study, bus, np.asarray(res.v_phasor_pu))

    return trial


def _search(study: HostingStudy, bus: int, trial: Trial) -> tuple[float, int]:
    """Plain bisection of [0, max_kw] for one bus, one scenario at a time: (capacity, trials)."""
    cfg = study.config
    if trial(bus, cfg.max_kw):
        return cfg.max_kw, 1
    lo, hi, n = 0.0, cfg.max_kw, 1
    while hi - lo > cfg.tolerance_kw:
        n += 1
        mid = 0.5 * (lo + hi)
        if trial(bus, mid):
            lo = mid
        else:
            hi = mid
    return lo, n


def _reference(study: HostingStudy, sample: list[int], trial: Trial, name: str) -> dict[str, float]:
    clock, cpu = time.perf_counter(), time.process_time()
    caps, n = {}, 0
    for bus in sample:
        caps[bus], k = _search(study, bus, trial)
        n += k
    wall, cpu_s = time.perf_counter() - clock, time.process_time() - cpu
    print(f"{name}: {n} trials on {len(sample)} buses in {wall:.2f} s ({n / wall:.0f}/s)", file=sys.stderr)
    return {
        "trials": n,
        "buses": len(sample),
        "seconds": wall,
        "cpu_seconds": cpu_s,
        "per_trial_s": wall / n,
        "capacities": caps,
    }  # type: ignore[dict-item]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buses", type=int, default=1000, help="size of the synthetic feeder")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time")
    parser.add_argument("--naive-buses", type=int, default=8, help="buses the references search")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "hosting.json")
    args = parser.parse_args(argv)

    clock = time.perf_counter()
    solved = solve(_files(args.buses))
    v = solved.validation
    assert v.network is not None
    assert v.topology is not None
    assert solved.build is not None
    load_s = time.perf_counter() - clock
    clock = time.perf_counter()
    study = prepare_hosting(v.network, v.topology, solved.build, HostingConfig(kind="pv"))
    prepare_s = time.perf_counter() - clock

    runs = []
    result = None
    for workers in args.workers:
        clock, before = time.perf_counter(), os.times()
        result = hosting_capacity(study, workers=workers)
        wall, after = time.perf_counter() - clock, os.times()
        cpu_s = (after.user + after.system) - (before.user + before.system)
        children_s = (after.children_user + after.children_system) - (before.children_user + before.children_system)
        runs.append(
            {
                "workers": workers,
                "seconds": wall,
                "cpu_seconds": cpu_s + children_s,
                "solves": result.n_solves,
                "solves_per_s": result.n_solves / wall,
            }
        )
        print(
            f"batched, {workers} worker(s): {result.n_solves} power flows, {wall:.2f} s "
            f"({result.n_solves / wall:,.0f}/s, {cpu_s + children_s:.2f} CPU s)",
            file=sys.stderr,
        )
    assert result is not None
    caps = {b.index: b.capacity_kw for b in result.buses}
    energised = [b.index for b in result.buses if b.capacity_kw is not None and b.binding.value != "max-kw"]
    sample = energised[:: max(1, len(energised) // args.naive_buses)][: args.naive_buses]
    refs = {name: _reference(study, sample, make(study), name) for name, make in
            (("naive", _naive_trial), ("scalar", _scalar_trial))}  # fmt: skip
    best = min(r["seconds"] for r in runs)
    n_buses = len(result.buses)
    for ref in refs.values():
        found = ref.pop("capacities")
        ref["max_capacity_difference_kw"] = max(abs(found[b] - caps[b]) for b in sample)  # type: ignore[index,operator]
        ref["extrapolated_s"] = ref["per_trial_s"] * ref["trials"] / ref["buses"] * n_buses
        ref["extrapolated_same_trials_s"] = ref["per_trial_s"] * result.n_solves
        ref["ratio"] = ref["extrapolated_s"] / best
        ref["ratio_same_trials"] = ref["extrapolated_same_trials_s"] / best
    summary = {
        "buses": n_buses,
        "solves": result.n_solves,
        "solves_per_bus": result.n_solves / n_buses,
        "best_seconds": best,
        "solves_per_s": result.n_solves / best,
        "ratio_naive": refs["naive"]["ratio"],
        "ratio_naive_same_trials": refs["naive"]["ratio_same_trials"],
        "ratio_scalar": refs["scalar"]["ratio"],
        "load_seconds": load_s,
        "prepare_seconds": prepare_s,
    }
    meta = {
        "cpu_count": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "feeder": f"synthetic_{args.buses}",
        "kind": "pv",
        "tolerance_kw": study.config.tolerance_kw,
        "max_kw": study.config.max_kw,
    }
    doc = {"meta": meta, "summary": summary, "batched": runs, "references": refs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(
        "| buses | power flows | best time | solves/s | x naive | x naive, same trials | x scalar |\n"
        "|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {n_buses} | {result.n_solves} | {best:.2f} s | {summary['solves_per_s']:,.0f} | "
        f"{summary['ratio_naive']:.0f} | {summary['ratio_naive_same_trials']:.0f} | {summary['ratio_scalar']:.1f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
