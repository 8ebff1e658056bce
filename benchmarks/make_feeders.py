"""Write the synthetic CGMES feeders the benchmarks read: one EQ/SSH/TP set per size, existing sets skipped.

Usage::

    python benchmarks/make_feeders.py --sizes 1000 10000 100000 --out benchmarks/feeders
    python benchmarks/make_feeders.py --sizes 1000 --version 3.0 --node-breaker --pv-share 0.3

Each set is named ``synthetic_<n>`` plus a suffix for every option away from the default
(``_cgmes3``, ``_nb``, ``_pv30``, ``_seed1``), so sets made with different options sit side by side.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from cimflow.samples import synthetic_feeder

try:
    import resource
except ImportError:  # not on Windows
    resource = None  # type: ignore[assignment]

_PROFILES = ("EQ", "SSH", "TP")


def feeder_name(n_buses: int, *, version: str, node_breaker: bool, pv_share: float, seed: int) -> str:
    """Return the file-name prefix of one feeder set."""
    name = f"synthetic_{n_buses}"
    if version != "2.4.15":
        name += "_cgmes3"
    if node_breaker:
        name += "_nb"
    if pv_share:
        name += f"_pv{round(pv_share * 100)}"
    if seed:
        name += f"_seed{seed}"
    return name


def _peak_rss_mb() -> float | None:
    if resource is None:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0 if sys.platform != "darwin" else peak / 1024.0 / 1024.0


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, write the missing feeder sets and print one line per set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000], help="numbers of buses")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/feeders"), help="output folder")
    parser.add_argument("--version", choices=("2.4.15", "3.0"), default="2.4.15", help="CGMES version")
    parser.add_argument("--node-breaker", action="store_true", help="write ConnectivityNodes and feeder breakers")
    parser.add_argument("--pv-share", type=float, default=0.0, help="share of LV load buses with PV, 0..1")
    parser.add_argument("--branching", type=float, default=0.3, help="branching probability, 0..1")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--overwrite", action="store_true", help="replace existing sets instead of skipping them")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{'feeder':<34} {'buses':>8} {'EQ MB':>8} {'SSH MB':>8} {'TP MB':>8} {'gen s':>7} {'write s':>7}")
    for n_buses in args.sizes:
        name = feeder_name(
            n_buses, version=args.version, node_breaker=args.node_breaker, pv_share=args.pv_share, seed=args.seed
        )
        paths = {profile: args.out / f"{name}_{profile}.xml" for profile in _PROFILES}
        if not args.overwrite and all(path.exists() for path in paths.values()):
            sizes = "".join(f" {paths[p].stat().st_size / 1e6:>8.1f}" for p in _PROFILES)
            print(f"{name:<34} {n_buses:>8}{sizes}  (exists, skipped)")
            continue
        start = time.perf_counter()
        documents = synthetic_feeder(
            n_buses,
            seed=args.seed,
            version=args.version,
            node_breaker=args.node_breaker,
            pv_share=args.pv_share,
            branching=args.branching,
            name=name,
        )
        generated = time.perf_counter()
        for profile, path in paths.items():
            with path.open("wb" if args.overwrite else "xb") as stream:  # "xb": a partial earlier set is an error
                stream.write(documents[profile])
        written = time.perf_counter()
        sizes = "".join(f" {len(documents[p]) / 1e6:>8.1f}" for p in _PROFILES)
        print(f"{name:<34} {n_buses:>8}{sizes} {generated - start:>7.2f} {written - generated:>7.2f}", flush=True)
        del documents
    peak = _peak_rss_mb()
    if peak is not None:
        print(f"peak memory (max RSS): {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
