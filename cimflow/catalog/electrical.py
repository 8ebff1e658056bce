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

ALL = (NEGATIVE_IMPEDANCE, NON_POSITIVE_LENGTH, NON_POSITIVE_VOLTAGE, NON_POSITIVE_RATING)
