"""End-to-end `cimflow solve` on synthetic CGMES feeders: read, validate, build the case, solve, write the SV.

Usage::

    python benchmarks/bench_solve.py [--sizes 1000 10000 100000] [--repeat N] [--out benchmarks/results/solve.json]

With ``--repeat N`` every size runs N times on the same feeder, each run in a new interpreter; the row
recorded is the run with the median ratio to the lxml parse, and ``repeats`` lists every run's figures
(on a VM whose memory speed drifts, one run says little about a ratio near a target).

Each size runs in its own interpreter (so the peak memory is per size), first through the library calls
(stage timings), then as the ``cimflow solve`` command in a child process (wall time and peak memory as a
user sees them). The reference is a raw
``lxml.etree.fromstring`` of the same bytes with the same safe parser options, timed three times: in this
process after cimflow (memory the process has used before, though less than the parse needs), as the first
thing a fresh interpreter does (memory as new as cimflow's; on a VM that maps guest memory lazily the
difference is seconds), and again in that interpreter once its first trees are freed (memory reused). Peer solvers
(pandapower bfsw/nr, power-grid-model) on feeders of the same sizes are in ``bench_powerflow.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import CLI, cli_peak_mb, measure_in_children, peak_mb

# a raw parse of the given files, timed without the reading, printed in seconds: first as the first thing a
# fresh interpreter does, then again in the same interpreter once the first trees are freed (memory reused)
_COLD_PARSE = (
    "import sys, time\n"
    "from lxml import etree\n"
    "from cimflow.cim.rdf import _PARSER_OPTIONS\n"
    "blobs = [open(p, 'rb').read() for p in sys.argv[1:]]\n"
    "for _ in range(2):\n"
    "    t0 = time.perf_counter()\n"
    "    trees = [etree.fromstring(b, etree.XMLParser(**_PARSER_OPTIONS)) for b in blobs]\n"
    "    print(time.perf_counter() - t0)\n"
    "    del trees\n"
)


def run_one(n: int, folder: Path) -> dict[str, object]:
    """Measure one size in this process."""
    from lxml import etree

    import cimflow
    from cimflow.cim.rdf import _PARSER_OPTIONS
    from cimflow.report.cim_annotated import render_annotated_cim

    gc.disable()  # as the cimflow command does (cimflow.cli.app.main): one run, no reference cycles
    with tempfile.TemporaryDirectory() as tmp:
        paths = sorted(folder.glob("*.xml"))  # written by another process (see main)
        # cimflow first, with nothing else in memory, so that the peak is its own
        t0 = time.perf_counter()
        result = cimflow.solve(paths)
        t_solve = time.perf_counter() - t0
        v = result.validation
        assert result.solution is not None
        assert v.network is not None
        assert v.topology is not None
        t0 = time.perf_counter()
        assert result.build is not None
        assert result.result is not None
        docs = render_annotated_cim(v.network, v.topology, result.build, result.result, result.solution, stem="x")
        for name, parts in docs.parts:  # as the command writes them
            with (Path(tmp) / name).open("wb") as f:
                f.writelines(parts)
        t_write = time.perf_counter() - t0
        timings = {k: round(s, 4) for k, s in result.timings_s.items()}
        peak_in_process = peak_mb()
        converged, solver, iterations = result.converged, result.solution.solver, result.solution.iterations
        del result, docs, v
        # the command as a user runs it: interpreter start, imports, outputs written (the input copies too)
        cmd = [sys.executable, "-c", CLI, "solve", *map(str, paths)]
        t0 = time.perf_counter()
        proc = subprocess.run([*cmd, "--out", str(Path(tmp) / "out")], capture_output=True, text=True, check=False)
        t_cli = time.perf_counter() - t0
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"cimflow solve exited {proc.returncode}: {proc.stderr[-500:]}")
        cli_peak = cli_peak_mb(proc.stderr) or float("nan")
        blobs = [p.read_bytes() for p in paths]
        t0 = time.perf_counter()
        for b in blobs:
            etree.fromstring(b, etree.XMLParser(**_PARSER_OPTIONS))  # type: ignore[arg-type]
        t_raw = time.perf_counter() - t0
        # the same parse as the first thing a fresh interpreter does: its memory is as new as cimflow's above
        cold = subprocess.run([sys.executable, "-c", _COLD_PARSE, *map(str, paths)], capture_output=True, text=True,
                              check=True)  # fmt: skip
        t_cold, t_warm = map(float, cold.stdout.strip().splitlines()[-2:])
    total = t_solve + t_write
    return {
        "n_buses": n,
        "bytes": sum(len(b) for b in blobs),
        "converged": converged,
        "solver": solver,
        "iterations": iterations,
        "lxml_parse_s": round(t_raw, 4),
        "lxml_parse_fresh_process_s": round(t_cold, 4),
        "ratio_to_lxml_fresh_process": round(total / t_cold, 2),
        "lxml_parse_warm_s": round(t_warm, 4),
        "ratio_to_lxml_warm": round(total / t_warm, 2),
        "stages_s": timings,
        "write_sv_s": round(t_write, 4),
        "end_to_end_s": round(total, 4),
        "ratio_to_lxml": round(total / t_raw, 2),
        "peak_rss_mb": round(peak_in_process, 1),
        "cli_s": round(t_cli, 3),
        "cli_ratio_to_lxml": round(t_cli / t_raw, 2),
        "cli_peak_rss_mb": round(cli_peak, 1),
    }


_REPEATED = ("end_to_end_s", "lxml_parse_s", "ratio_to_lxml", "cli_s", "cli_ratio_to_lxml", "peak_rss_mb")


def median_run(runs: list[dict[str, object]]) -> dict[str, object]:
    """The run with the median end-to-end ratio to the lxml parse (the lower middle one of an even number),
    with every run's figures under ``repeats`` when there are several."""
    ratios = [float(r["ratio_to_lxml"]) for r in runs]  # type: ignore[arg-type]
    order = sorted(range(len(runs)), key=ratios.__getitem__)
    row = dict(runs[order[(len(runs) - 1) // 2]])
    if len(runs) > 1:
        reps: dict[str, object] = {"n": len(runs), **{key: [r[key] for r in runs] for key in _REPEATED}}
        reps["median_ratio_to_lxml"] = round(statistics.median(ratios), 2)
        reps["median_cli_ratio_to_lxml"] = round(statistics.median(float(r["cli_ratio_to_lxml"]) for r in runs), 2)  # type: ignore[arg-type]
        row["repeats"] = reps
    return row


def main() -> None:
    """Run every size in a subprocess and write the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=1, help="runs per size, each in a new interpreter (default 1)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/solve.json"))
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.dir)))
        return
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    rows = []
    for n in args.sizes:
        runs = measure_in_children(__file__, n, pv_share=0.3, repeat=args.repeat)
        row = median_run(runs)
        rows.append(row)
        if len(runs) > 1:
            reps: dict[str, Any] = row["repeats"]  # type: ignore[assignment]
            print(f"{n:>7} buses, {len(runs)} runs: end to end / lxml {reps['ratio_to_lxml']} "
                  f"(median {reps['median_ratio_to_lxml']}); command / lxml {reps['cli_ratio_to_lxml']} "
                  f"(median {reps['median_cli_ratio_to_lxml']}); the median run:", flush=True)  # fmt: skip
        print(
            f"{n:>7} buses {row['bytes'] / 1e6:7.1f} MB  lxml {row['lxml_parse_s']:7.3f} s  "
            f"solve end to end {row['end_to_end_s']:8.3f} s (x{row['ratio_to_lxml']}; fresh-process parse "
            f"{row['lxml_parse_fresh_process_s']:.3f} s, x{row['ratio_to_lxml_fresh_process']}; again in that "
            f"process {row['lxml_parse_warm_s']:.3f} s, x{row['ratio_to_lxml_warm']})  "
            f"stages {row['stages_s']}  peak {row['peak_rss_mb']} MB  "
            f"command {row['cli_s']} s (x{row['cli_ratio_to_lxml']}, peak {row['cli_peak_rss_mb']} MB)",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "solve", "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
