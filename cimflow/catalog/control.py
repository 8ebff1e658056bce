"""CF410–CF419: Volt-VAR control of inverters inside the solve (control loop, inverter ratings)."""

from __future__ import annotations

from cimflow.catalog._entry import entry
from cimflow.findings import Category, Severity, Stage

_C = Category.SOLUTION
_W, _I = Severity.WARNING, Severity.INFO
_S = Stage.SOLVE

CONTROL_NOT_CONVERGED = entry(
    "CF410", "control-not-converged", _C, _W, _S,
    "{cim_class} {mrid}: Volt-VAR control ({mode}) did not settle after {iterations} outer iterations: "
    "its Q is {residual_pct} % of its rating away from its curve at {v_pu} pu",
    fix="Lower `damping` or flatten the Q(U) curve (a steep slope on a weak feeder makes the inverters "
    "overreact); raise `max_iter` if the residual was still falling.",
    what="That the outer loop around the power flow reached the equilibrium where every inverter's reactive "
    "power lies on its control curve at its own solved voltage, within `tolerance_ratio` of its rating. "
    "The finding points at the inverter farthest from its curve and lists the others that had not settled.",
    why="Voltages reported for a state that is not the equilibrium are not what the grid does with the "
    "inverters' response; hosting capacity judged on them may be wrong either way.",
    example="A Q(U) curve going from 0 to −44 % of rated S within 0.01 pu on the far end of a long cable.",
    options="`damping`, `damping_min`, `tolerance_ratio`, `max_iter` in the control configuration "
    "(`--control-config`).",
    references="IEEE 1547-2018, clause 5.3.3 (voltage-reactive power mode); VDE-AR-N 4105:2018, clause 5.7.2.4.",
)
PLACEHOLDER_RATING = entry(
    "CF411", "placeholder-rating", _C, _I, _S,
    "{cim_class} {mrid}: ratedS {rated_s_mva} MVA is a placeholder; Volt-VAR control assumes {s_rated_mva} MVA "
    "({rule})",
    fix="Export the inverter's real rated apparent power (PowerElectronicsConnection.ratedS or "
    "RotatingMachine.ratedS).",
    what="Inverter ratings at or above `placeholder_rating_mva` (999 MVA), the values exporters write when "
    "they have none (9999 MVA on a rooftop unit).",
    why="The reactive power an inverter can give is bounded by its rating: with a placeholder it would "
    "seem unlimited, so cimflow assumes a rating and says which.",
    example="A SimBench rooftop PV written as a SynchronousMachine with ratedS = 9999 MVA.",
    options="`limits.placeholder_rating_mva`, `limits.rating_fallback_ratio` in the control configuration.",
    references="IEC 61970-301: PowerElectronicsConnection.ratedS, RotatingMachine.ratedS.",
)
RATING_ASSUMED = entry(
    "CF412", "inverter-rating-assumed", _C, _I, _S,
    "{cim_class} {mrid}: {reason}; Volt-VAR control assumes ratedS = {s_rated_mva} MVA ({rule})",
    fix="Give the inverter's rated apparent power in the file.",
    what="Inverters without a rated apparent power, or with one below their active power output.",
    why="Without a plausible rating the reactive power limit `sqrt(S² − P²)` and the plant class "
    "(cos φ 0.95 up to 4.6 kVA, else 0.90) cannot be known.",
    example="A PowerElectronicsConnection with p = −0.008 MW and no ratedS.",
    options="`limits.rating_fallback_ratio` in the control configuration.",
    references="VDE-AR-N 4105:2018, clause 5.7.2 (reactive power of generating plants).",
)

ALL = (CONTROL_NOT_CONVERGED, PLACEHOLDER_RATING, RATING_ASSUMED)
