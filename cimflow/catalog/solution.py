"""CF4xx: what the power flow shows: non-convergence and limit violations after a solve."""

from __future__ import annotations

from cimflow.catalog._entry import entry
from cimflow.findings import Category, Severity, Stage

_C = Category.SOLUTION
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
_S = Stage.SOLVE

NOT_CONVERGED = entry(
    "CF401", "power-flow-not-converged", _C, _E, _S,
    "The power flow did not converge after {iterations} iterations ({solver}, largest mismatch {mismatch_mva} MVA)",
    fix="Look for the data errors this report lists first (units, impedances, loads far too large); "
    "a feeder that cannot carry its load has no solution.",
    what="That the power flow of every energised island converged to the tolerance.",
    why="Results of a power flow that did not converge are not a state of the grid: cimflow writes no "
    "silent wrong answer.",
    example="A load written in W where MW was meant (a million times too large) on a LV feeder.",
    options="`--tolerance`, `--max-iter`, `--solver`.",
    references="Kersting, Distribution System Modeling and Analysis, ch. 10 (ladder iterative technique).",
)
VOLTAGE_BAND = entry(
    "CF402", "voltage-out-of-band", _C, _W, _S,
    "Bus {mrid}: voltage {v_pu} pu is outside the band [{v_min_pu}, {v_max_pu}] pu",
    fix="Check the source set point, tap positions and the load or generation at the feeder end.",
    what="Each energised bus voltage against the band (EN 50160: ±10 % of nominal by default).",
    why="Voltages outside the band violate the supply standard and trip equipment.",
    example="A long LV feeder with rooftop PV at noon reaching 1.12 pu at its end.",
    options="`v_min_pu` (0.9), `v_max_pu` (1.1) in `[tool.cimflow]`.",
    references="EN 50160:2010, clause 4.2.2 (supply voltage variations).",
)
LINE_OVERLOAD = entry(
    "CF403", "line-overload", _C, _W, _S,
    "{cim_class} {mrid}: current {i_a} A is {loading_pct} % of its limit {i_max_a} A",
    fix="Reinforce the line or move load; check the CurrentLimit if the rating looks wrong.",
    what="Line current against its permanent CurrentLimit (PATL) after the solve.",
    why="A cable loaded above its rating ages fast and may fail.",
    example="A 150 A cable carrying 180 A.",
    options="`loading_max_pct` (100).",
    references="IEC 60287 (current rating of cables); CGMES OperationalLimitSet / CurrentLimit.",
)
TRANSFORMER_OVERLOAD = entry(
    "CF404", "transformer-overload", _C, _W, _S,
    "PowerTransformer {mrid}: apparent power {s_mva} MVA is {loading_pct} % of ratedS {s_rated_mva} MVA",
    fix="Consider a larger transformer or moving load to a neighbouring substation.",
    what="Transformer apparent power (the larger of its two ends) against end 1's ratedS.",
    why="Overloaded transformers overheat; their insulation life drops quickly.",
    example="A 630 kVA transformer carrying 700 kVA.",
    options="`loading_max_pct` (100).",
    references="IEC 60076-7 (loading guide for oil-immersed power transformers).",
)
REVERSE_FLOW = entry(
    "CF405", "reverse-power-flow", _C, _I, _S,
    "PowerTransformer {mrid}: active power flows from end 2 to end 1 ({p_mw} MW back into the upstream grid)",
    fix="Nothing, if the protection and the tap controller allow reverse flow; otherwise curtail or store generation.",
    what="Active power through each transformer from its low-voltage end to its high-voltage end.",
    why="Reverse flow from distributed generation can confuse protection and voltage control that assume "
    "power flows downstream.",
    example="A LV feeder with more rooftop PV than load at noon.",
    references="VDE-AR-N 4105:2018, clause 5.7; CENELEC TS 50549-1.",
)

ALL = (NOT_CONVERGED, VOLTAGE_BAND, LINE_OVERLOAD, TRANSFORMER_OVERLOAD, REVERSE_FLOW)
