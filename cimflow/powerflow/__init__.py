"""Power-flow kernel: per-unit arrays in, bus voltages and branch flows out (numpy/scipy only).

This package never imports ``cimflow.cim`` or ``cimflow.model``; ``case.py`` (built from the model)
produces the :class:`PerUnitCase` that :func:`solve_case` takes.
"""

from __future__ import annotations

from cimflow.powerflow.arrays import Islands, PerUnitCase, build_admittance, find_islands
from cimflow.powerflow.fbs import FbsSolver, solve_fbs
from cimflow.powerflow.nr import solve_nr
from cimflow.powerflow.result import Convergence, PowerFlowResult
from cimflow.powerflow.solve import CaseIsland, Solver, solve_case, split_islands

__all__ = [
    "CaseIsland",
    "Convergence",
    "FbsSolver",
    "Islands",
    "PerUnitCase",
    "PowerFlowResult",
    "Solver",
    "build_admittance",
    "find_islands",
    "solve_case",
    "solve_fbs",
    "solve_nr",
    "split_islands",
]
