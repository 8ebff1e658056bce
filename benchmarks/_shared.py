"""Helpers shared by the benchmarks: feeders written in a separate process, and the peak memory of a process.

The measuring process must not also have generated the feeder (writing 500 MB of XML has its own peak), and
a child's ``ru_maxrss`` on Linux includes its parent's peak from before ``exec``: peaks are read from
``/proc/self/status`` (VmHWM) inside the process measured.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

# runs the cimflow command and reports its own peak memory on stderr as "VmHWM: <kB> kB", also where the
# command ends its process with os._exit (no atexit handlers: see cimflow.cli.app.console)
CLI = (
    "import atexit, os, sys\n"
    "def _peak():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM'): sys.stderr.write(line); sys.stderr.flush()\n"
    "_exit = os._exit\n"
    "def _peak_exit(code):\n"
    "    _peak()\n"
    "    _exit(code)\n"
    "os._exit = _peak_exit\n"
    "atexit.register(_peak)\n"
    "from cimflow.cli.app import console\n"
    "console()\n"
)


def write_feeder_in_child(n: int, folder: Path, *, pv_share: float = 0.0) -> list[Path]:
    """Write the synthetic feeder of ``n`` buses into ``folder`` from a separate interpreter."""
    code = (
        "import sys; from pathlib import Path; from cimflow.samples import write_synthetic_feeder; "
        "write_synthetic_feeder(int(sys.argv[1]), Path(sys.argv[2]), pv_share=float(sys.argv[3]))"
    )
    subprocess.run([sys.executable, "-c", code, str(n), str(folder), str(pv_share)], check=True)
    return sorted(folder.glob("*.xml"))


def measure_in_child(script: str, n: int, *, pv_share: float = 0.0) -> dict[str, object]:
    """Write the feeder of ``n`` buses from one interpreter, run ``script --one n --dir FOLDER`` in another,
    and return the JSON row it prints last."""
    return measure_in_children(script, n, pv_share=pv_share, repeat=1)[0]


def measure_in_children(script: str, n: int, *, pv_share: float = 0.0, repeat: int = 1) -> list[dict[str, object]]:
    """:func:`measure_in_child` ``repeat`` times on one feeder (written once), each run in a new interpreter."""
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as folder:
        write_feeder_in_child(n, Path(folder), pv_share=pv_share)
        for _ in range(repeat):
            proc = subprocess.run(
                [sys.executable, script, "--one", str(n), "--dir", folder], capture_output=True, text=True, check=True
            )
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return rows


def peak_mb() -> float:
    """This process's peak resident memory in MB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cli_peak_mb(stderr: str) -> float | None:
    """The peak the CLI wrapper above reported."""
    for line in stderr.splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return None
