"""CF2xx: physically implausible or impossible electrical parameters."""

from __future__ import annotations

from cimflow.catalog._entry import entry
from cimflow.findings import Category, Severity, Stage

_C = Category.ELECTRICAL
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
_B = Stage.BUILD

NEGATIVE_IMPEDANCE = entry(
    "CF201", "negative-impedance", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} = {value} is negative",
    fix="Correct the sign; a series capacitor is modelled as SeriesCompensator, not as a line with x < 0.",
    what="That resistances and reactances of lines, per-length impedances and transformer ends are not negative.",
    why="A negative resistance generates power in the solver and hides losses.",
    example="`<cim:ACLineSegment.r>-0.12</cim:ACLineSegment.r>`.",
    references="IEC 61970-301 ACLineSegment.r (Resistance, >= 0).",
)
NON_POSITIVE_VOLTAGE = entry(
    "CF204", "non-positive-voltage", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} = {value} must be > 0",
    fix="Give the nominal or rated voltage in kV (CGMES) or V (CIM100 distribution).",
    what="That BaseVoltage.nominalVoltage and rated voltages are positive.",
    why="Per-unit bases are built from these voltages; zero makes every impedance infinite.",
    example="`<cim:BaseVoltage.nominalVoltage>0</cim:BaseVoltage.nominalVoltage>`.",
    references="IEC 61970-301 BaseVoltage.nominalVoltage.",
)
NON_POSITIVE_RATING = entry(
    "CF206", "non-positive-rating", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} = {value} must be > 0",
    fix="Give the rating from the nameplate; leave it out rather than writing 0.",
    what="That ratedS of transformer ends and machines and limit values are positive.",
    why="Loadings are computed against these ratings; zero or negative ratings make them meaningless.",
    example="`<cim:PowerTransformerEnd.ratedS>0</cim:PowerTransformerEnd.ratedS>`.",
    references="IEC 61970-301 PowerTransformerEnd.ratedS; CurrentLimit.value.",
)
NON_POSITIVE_LENGTH = entry(
    "CF203", "non-positive-length", _C, _W, _B,
    "{cim_class} {mrid}: length = {value} km is not positive",
    fix="Give the conductor length; leave it out if unknown.",
    what="That Conductor.length is positive where it is given.",
    why="Per-length impedances are multiplied by the length; zero makes the line a short circuit.",
    example="`<cim:Conductor.length>0</cim:Conductor.length>`.",
    references="IEC 61970-301 Conductor.length.",
)

# ---- checked by cimflow.rules.electrical -----------------------------------------------------------------------
ZERO_IMPEDANCE_LINE = entry(
    "CF202", "zero-impedance-line", _C, _W, _B,
    "{cim_class} {mrid}: r = 0 and x = 0; a line without impedance is a switch",
    fix="Give the line its impedance, or model the connection as a Switch (Jumper, Disconnector) or merge the nodes.",
    what="That no ACLineSegment has zero series impedance (both r and x zero, directly or through its per-length "
    "impedance).",
    why="A zero-impedance branch makes the admittance matrix singular in Newton-Raphson and hides a connection "
    "that topology should treat as a switch.",
    example="`<cim:ACLineSegment.r>0</cim:ACLineSegment.r>` and `<cim:ACLineSegment.x>0</cim:ACLineSegment.x>`.",
    references="IEC 61970-301 ACLineSegment, Switch; CGMES 2.4.15 clause 5.2 (zero-impedance branches).",
)
RATED_VOLTAGE_MISMATCH = entry(
    "CF205", "rated-voltage-mismatch", _C, _W, _B,
    "{cim_class} {mrid}: ratedU = {rated_u_kv:g} kV is {deviation_pct:.0f}% away from its BaseVoltage "
    "{nominal_kv:g} kV",
    fix="Check the end's ratedU and its BaseVoltage: one of them is often a unit or level slip (kV/V, 20/0.4).",
    what="That a transformer end's ratedU lies within a tolerance (default 10 %) of the nominal voltage of its "
    "BaseVoltage.",
    why="The off-nominal ratio is ratedU over the base voltage; a wrong ratedU or BaseVoltage shifts every voltage "
    "behind the transformer.",
    example="A 20/0.4 kV transformer whose LV end says ratedU = 0.4 kV but whose BaseVoltage is 20 kV.",
    options="`ratedu_tolerance_pct` (default 10).",
    references="IEC 61970-301 PowerTransformerEnd.ratedU, TransformerEnd.BaseVoltage; IEC 60076-1 (rated voltage).",
)
IMPLAUSIBLE_SHORT_CIRCUIT_VOLTAGE = entry(
    "CF207", "implausible-short-circuit-voltage", _C, _W, _B,
    "{cim_class} {mrid}: short-circuit voltage uk = {uk_pct:.3g}% is outside {uk_min_pct:g}-{uk_max_pct:g}%",
    fix="Check r and x of the ends (ohm referred to the end's ratedU), ratedS (MVA) and ratedU (kV).",
    what="The short-circuit voltage of two-winding transformers, computed from the ends' r and x referred to "
    "end 1, against a plausible range (default 1 % to 25 %).",
    why="Distribution transformers have uk of 4-6 %, large units up to about 20 %; values outside the range are "
    "almost always impedances in the wrong unit or referred to the wrong side.",
    example="A 0.4 MVA 20/0.4 kV unit with x = 60 ohm on the LV end (uk far above 100 %).",
    options="`uk_min_pct` (default 1), `uk_max_pct` (default 25).",
    references="IEC 60076-5 (short-circuit impedance); IEC 61970-301 PowerTransformerEnd.r/x.",
)
LINE_VOLTAGE_MISMATCH = entry(
    "CF208", "line-voltage-mismatch", _C, _E, _B,
    "{cim_class} {mrid} joins nodes of different nominal voltages ({v_from_kv:g} kV and {v_to_kv:g} kV)",
    fix="Connect the line to nodes of one voltage level, or insert the transformer that is missing between them.",
    what="That both ends of a line or series element are at the same nominal voltage (from their nodes' "
    "VoltageLevel or TopologicalNode BaseVoltage).",
    why="Only transformers change voltage; a line between 20 kV and 0.4 kV is a wiring error in the GIS and makes "
    "the power flow meaningless.",
    example="An ACLineSegment whose Terminal 1 is on a 20 kV busbar and Terminal 2 on a 0.4 kV node.",
    references="IEC 61970-301 VoltageLevel.BaseVoltage, TopologicalNode.BaseVoltage.",
)
IMPLAUSIBLE_INJECTION = entry(
    "CF209", "implausible-injection", _C, _W, _B,
    "{cim_class} {mrid}: |S| = {s_mva:.4g} MVA is more than {max_ratio:g}x the supplying transformer rating "
    "({rated_s_mva:g} MVA)",
    fix="Check the unit of p and q (W vs MW, the unit multiplier) and that the equipment sits on the right feeder.",
    what="Loads and generation against the rating of the transformers that supply their voltage level (their "
    "island, when topology is known): more than a multiple (default 10x) is implausible.",
    why="A W/MW or kW/MW slip multiplies a household load by a thousand; the power flow then diverges or reports "
    "absurd voltage drops.",
    example="A house on a 0.4 MVA LV feeder with `EnergyConsumer.p` = 5 (MW) instead of 0.005.",
    options="`injection_max_ratio` (default 10).",
    references="IEC 61970-301 EnergyConsumer.p, PowerTransformerEnd.ratedS; DOMAIN.md units.",
)
NEGATIVE_CURRENT_LIMIT = entry(
    "CF210", "negative-current-limit", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} = {i_a:g} A is negative",
    fix="Give the current limit as a positive value in A.",
    what="That CurrentLimit values (value, normalValue) are not negative.",
    why="Loading is the current over the limit; a negative limit turns every loading check upside down.",
    example="`<cim:CurrentLimit.value>-400</cim:CurrentLimit.value>`.",
    references="IEC 61970-301 CurrentLimit.value (CurrentFlow); CGMES 3.0 CurrentLimit.normalValue.",
)
IMPLAUSIBLE_IMPEDANCE_PER_KM = entry(
    "CF211", "implausible-impedance-per-km", _C, _W, _B,
    "{cim_class} {mrid}: {attribute} = {value_ohm_per_km:.4g} ohm/km is outside the plausible "
    "{min_ohm_per_km:g}-{max_ohm_per_km:g} ohm/km",
    fix="Check the unit of r, x and length (ohm vs ohm/km, m vs km) against the conductor's data sheet.",
    what="Series resistance and reactance per km of lines and cables (r/length, x/length, or the per-length "
    "impedance) against the range of real conductors.",
    why="Real conductors have about 0.01-5 ohm/km resistance and 0.05-0.5 ohm/km reactance; values outside are "
    "usually a length in m taken as km, or a whole-segment value written as per-length.",
    example="An LV cable of 30 m with r = 6.2 ohm (206 ohm/km).",
    options="`r_ohm_per_km_min`/`r_ohm_per_km_max` (0.005/10), `x_ohm_per_km_min`/`x_ohm_per_km_max` (0.01/1).",
    references="IEC 60228 (conductor resistance); IEC 61970-301 ACLineSegment, PerLengthSequenceImpedance.",
)
TAP_STEP_OUT_OF_RANGE = entry(
    "CF212", "tap-step-out-of-range", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} = {step:g} is outside lowStep {low_step} .. highStep {high_step}",
    fix="Set the step (SSH), normalStep and neutralStep within lowStep..highStep, and lowStep <= highStep.",
    what="That the tap changer's step, normalStep and neutralStep lie within lowStep..highStep.",
    why="A step outside the range has no ratio on the nameplate; the solver would extrapolate a voltage the "
    "transformer cannot produce.",
    example="`TapChanger.step` = 25 with highStep = 17.",
    references="IEC 61970-301 TapChanger.lowStep/highStep/step; CGMES 3.0 SSH TapChanger.step.",
)

INVALID_REGULATING_TARGET = entry(
    "CF213", "invalid-regulating-target", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} = {value:g} {problem}",
    fix="Give an enabled voltage control its set point in kV (not 0) and a deadband >= 0.",
    what="Set points of regulating controls: an enabled voltage control needs a positive targetValue, and the "
    "targetDeadband cannot be negative.",
    why="A voltage set point of 0 kV drives a tap changer or generator to its limit; a negative deadband makes the "
    "control hunt forever.",
    example="`<cim:RegulatingControl.targetValue>0</cim:RegulatingControl.targetValue>` on an enabled voltage "
    "control.",
    references="IEC 61970-301 RegulatingControl.targetValue, targetDeadband; CGMES SSH RegulatingControl.",
)
REGULATING_MODE_MISMATCH = entry(
    "CF214", "regulating-mode-mismatch", _C, _W, _B,
    "{cim_class} {mrid}: mode {mode} does not fit {controlled}",
    fix="Use a mode the regulating equipment can follow (ratio tap changer: voltage or reactivePower; phase shifter: "
    "activePower or currentFlow; machine: voltage, reactivePower or powerFactor).",
    what="That a regulating control's mode is one its equipment can follow, and that a ratio tap changer's "
    "tculControlMode agrees with the mode of its control.",
    why="A ratio tap changer cannot regulate active power; tools either ignore such a control or regulate the wrong "
    "quantity.",
    example="A TapChangerControl with mode activePower used by a RatioTapChanger.",
    references="IEC 61970-301 RegulatingControlModeKind, RatioTapChanger.tculControlMode.",
)
CONTROL_WITHOUT_REGULATING_CONTROL = entry(
    "CF215", "control-enabled-without-control", _C, _W, _B,
    "{cim_class} {mrid}: controlEnabled is true but no RegulatingControl is given",
    fix="Link the equipment to its RegulatingControl (RegulatingCondEq.RegulatingControl), or set controlEnabled "
    "to false.",
    what="Regulating equipment (machines, shunts, inverters, external grids) whose control is enabled must name the "
    "RegulatingControl that holds the set point.",
    why="Without the control there is no set point: the solver must guess, and different tools guess differently.",
    example="A LinearShuntCompensator with `RegulatingCondEq.controlEnabled = true` and no RegulatingControl.",
    references="IEC 61970-301 RegulatingCondEq.RegulatingControl, RegulatingCondEq.controlEnabled.",
)
INCOMPLETE_TAP_TABLE = entry(
    "CF216", "incomplete-tap-table", _C, _E, _B,
    "{cim_class} {mrid}: its tap table has no point for step(s) {missing} of lowStep {low_step} .. highStep "
    "{high_step}",
    fix="Give the table one point per step from lowStep to highStep, or narrow lowStep/highStep to the table.",
    what="That a tabular tap changer's table (RatioTapChangerTable, PhaseTapChangerTable) has a point for every step "
    "between lowStep and highStep.",
    why="The ratio, angle and impedance at a step missing from the table are unknown; a solver stepping there "
    "extrapolates or fails. At such a step cimflow takes a ratio tap changer's stepVoltageIncrement, a phase "
    "tap changer's zero shift, and reports it (CF051).",
    example="A PhaseTapChangerTabular with highStep 5 whose table holds points for steps 1 and 4 only.",
    references="IEC 61970-301 TapChangerTablePoint.step; CGMES EQ RatioTapChangerTable, PhaseTapChangerTable.",
)
IMPLAUSIBLE_LINE_LENGTH = entry(
    "CF217", "implausible-line-length", _C, _W, _B,
    "{cim_class} {mrid}: length = {length_km:g} km is longer than {max_km:g} km, the most {level} line runs",
    fix="Check the unit of the length (km in CIM): an export that writes metres gives a thousand times the "
    "length, often with r and x written for that length too.",
    what="Line and cable lengths against what a line of their voltage runs: a low-voltage line (below 1 kV) up to "
    "a few km, any line up to a continent's width.",
    why="CF211 cannot see a length in m taken for km when r and x are scaled alike (the ohm per km stay "
    "plausible); the line then has a thousand times its impedance and the power flow finds absurd voltages or "
    "none.",
    example="A 132 kV line of 27 km written as `<cim:Conductor.length>27070</cim:Conductor.length>` with "
    "r = 1950 and x = 10530 (mohm taken for ohm).",
    options="`lv_line_length_km_max` (5 km, lines below 1 kV), `line_length_km_max` (1000 km, any line).",
    references="IEC 61970-301 Conductor.length (Length, km in CGMES).",
)

ALL = (
    NEGATIVE_IMPEDANCE,
    ZERO_IMPEDANCE_LINE,
    NON_POSITIVE_LENGTH,
    NON_POSITIVE_VOLTAGE,
    RATED_VOLTAGE_MISMATCH,
    NON_POSITIVE_RATING,
    IMPLAUSIBLE_SHORT_CIRCUIT_VOLTAGE,
    LINE_VOLTAGE_MISMATCH,
    IMPLAUSIBLE_INJECTION,
    NEGATIVE_CURRENT_LIMIT,
    IMPLAUSIBLE_IMPEDANCE_PER_KM,
    TAP_STEP_OUT_OF_RANGE,
    INVALID_REGULATING_TARGET,
    REGULATING_MODE_MISMATCH,
    CONTROL_WITHOUT_REGULATING_CONTROL,
    INCOMPLETE_TAP_TABLE,
    IMPLAUSIBLE_LINE_LENGTH,
)
