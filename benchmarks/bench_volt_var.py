"""Benchmark Volt-VAR control: solve time of each control mode as a ratio to the uncontrolled solve.

Usage::

    python benchmarks/bench_volt_var.py [--buses 10000] [--pv-share 0.3] [--repeat 3] [--out FILE]

The feeder is ``cimflow.samples.synthetic_feeder(n, version="3.0", pv_share=...)`` (PV as
PowerElectronicsConnection + PhotoVoltaicUnit), read and built once with ``cimflow.solve`` (not timed).
Two scenarios are timed, each at the array level (``solve_case`` against ``solve_controlled`` on the
same case, best of ``--repeat``):

* ``file``: the snapshot as the files give it (loads and PV at 70 % of their rating);
* ``noon``: the loads removed and the source at 1.05 pu, so that the curves leave their dead bands
  and the outer loop has work to do.

When ``cimflow.solve.SolveOptions`` takes a ``control`` option, ``cimflow.solve`` runs once per mode
too, and its own stage timings give the ratio (solve + control) / solve. Results go to stdout as a
Markdown table and, with ``--out``, to a JSON file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cimflow.apps.volt_var import ControlMode, Inverter, inverters_of, solve_controlled
from cimflow.powerflow import PerUnitCase, solve_case
from cimflow.samples import write_synthetic_feeder
from cimflow.solve import SolveOptions, solve


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Best wall time of ``repeat`` calls, and the last call's value."""
    best, value = float("inf"), None
    for _ in range(repeat):
        clock = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - clock)
    return best, value


def noon_case(case: PerUnitCase, records: list[Any]) -> PerUnitCase:
    """The case without its loads, the source at 1.05 pu."""
    load = np.zeros(case.n_bus, dtype=complex)
    for rec in records:
        if rec.role == "load":
            load[rec.bus] += complex(rec.p_mw, rec.q_mvar) / case.s_base_mva
    return case.with_extra_power(-load).with_slack_voltage(np.full(case.slack_bus.size, 1.05 + 0j))


def bench_arrays(
    case: PerUnitCase, inverters: tuple[Inverter, ...], repeat: int, scenario: str
) -> list[dict[str, Any]]:
    """Time every mode on one case against the uncontrolled ``solve_case``."""
    base_s, base = best_of(repeat, lambda: solve_case(case))
    first = {"scenario": scenario, "level": "arrays", "mode": "uncontrolled solve_case", "seconds": base_s,
             "ratio": 1.0, "iterations": 0, "converged": base.converged,
             "v_max_pu": float(base.v_pu.max())}  # fmt: skip
    rows = [first]
    for mode in ControlMode:
        seconds, res = best_of(repeat, lambda m=mode: solve_controlled(case, inverters, m))
        rows.append(
            {"scenario": scenario, "level": "arrays", "mode": str(mode), "seconds": seconds, "ratio": seconds / base_s,
             "iterations": res.iterations, "converged": res.converged, "v_max_pu": float(res.result.v_pu.max())}
        )  # fmt: skip
    return rows


def bench_pipeline(paths: list[Path], repeat: int) -> list[dict[str, Any]]:
    """Time the solve and control stages of ``cimflow.solve`` per mode (only once the option exists).

    The ratio is (solve + control) / solve of the same run, so that reading and validating the files,
    which dominate the wall time and vary between runs, do not blur it.
    """
    if "control" not in {f.name for f in dataclasses.fields(SolveOptions)}:
        return []
    rows: list[dict[str, Any]] = []
    for mode in ControlMode:
        opts = SolveOptions(control=mode)  # type: ignore[call-arg]
        best: tuple[float, float, Any] | None = None
        for _ in range(repeat):
            res = solve(paths, options=opts)
            solve_s, control_s = res.timings_s["solve"], res.timings_s.get("control", 0.0)
            if best is None or solve_s + control_s < best[0] + best[1]:
                best = (solve_s, control_s, res)
        assert best is not None
        solve_s, control_s, res = best
        run = getattr(res, "control", None)
        rows.append(
            {"scenario": "file", "level": "pipeline", "mode": str(mode), "seconds": solve_s + control_s,
             "ratio": (solve_s + control_s) / solve_s, "iterations": run.controlled.iterations if run else 0,
             "converged": res.converged, "v_max_pu": float(res.result.v_pu.max())}
        )  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    """Write the feeder, time every mode, print a table and optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buses", type=int, default=10000)
    parser.add_argument("--pv-share", type=float, default=0.3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the results")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_synthetic_feeder(args.buses, Path(tmp), version="3.0", pv_share=args.pv_share)
        built = solve(paths)
        assert built.build is not None
        assert built.validation.network is not None
        inverters = inverters_of(built.validation.network, built.build).value or ()
        case = built.build.case
        records = list(built.build.index.injections.records)
        rows = bench_arrays(case, inverters, args.repeat, "file")
        rows += bench_arrays(noon_case(case, records), inverters, args.repeat, "noon")
        rows += bench_pipeline(paths, max(1, args.repeat - 1))
    print(f"{args.buses} buses, {len(inverters)} inverters (PV at {args.pv_share:.0%} of the LV load buses)\n")
    print("| scenario | level | mode | seconds | ratio | outer iterations | converged | max V (pu) |")
    print("| --- | --- | --- | ---: | ---: | ---: | --- | ---: |")
    for r in rows:
        v_max = "" if r["v_max_pu"] is None else f"{r['v_max_pu']:.4f}"
        print(f"| {r['scenario']} | {r['level']} | {r['mode']} | {r['seconds']:.4f} | {r['ratio']:.2f} | "
              f"{r['iterations']} | {r['converged']} | {v_max} |")  # fmt: skip
    if args.out is not None:
        meta = {"buses": args.buses, "inverters": len(inverters), "pv_share": args.pv_share,
                "python": platform.python_version(), "machine": platform.machine()}  # fmt: skip
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
