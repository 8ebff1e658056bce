"""Units and sign conventions: the single reference for every quantity cimflow handles.

Internal units (the CGMES engineering units, named in every field): kV phase-to-phase, MW, Mvar, MVA,
ohm, siemens, km, A, degrees in files and radians in code. CIM100 distribution files (CIMHub,
GridAPPS-D) use SI base units (V, W, var, VA, m, ohm/m); :class:`Dialect` tells the model builder which
factor turns a file's value into the internal unit. Conversion happens once, in ``cim/build.py``.

Sign convention: CGMES load convention everywhere. Positive ``p_mw`` flows from the node into the
equipment, so consumption is positive and generation negative. An API that needs generator sense
says so in its name (``p_inject_mw``).
"""

from __future__ import annotations

from enum import StrEnum


class Quantity(StrEnum):
    """Physical kinds of CIM attributes that need a unit conversion."""

    VOLTAGE = "voltage"  # internal kV
    POWER = "power"  # internal MW, Mvar, MVA
    IMPEDANCE = "impedance"  # ohm
    ADMITTANCE = "admittance"  # S
    LENGTH = "length"  # km
    IMPEDANCE_PER_LENGTH = "impedance_per_length"  # ohm/km
    ADMITTANCE_PER_LENGTH = "admittance_per_length"  # S/km
    CURRENT = "current"  # A
    ENERGY = "energy"  # MWh
    NONE = "none"  # dimensionless, percent, angle, count


class Dialect(StrEnum):
    """Unit system of a CIM document."""

    CGMES = "cgmes"  # kV, MW, km, ohm (CGMES 2.4.15 and 3.0, and most GIS exports)
    SI = "si"  # V, W, m, ohm/m (CIM100 distribution: CIMHub, GridAPPS-D)


# factor that turns a file value into the internal unit
_SI_FACTORS: dict[Quantity, float] = {
    Quantity.VOLTAGE: 1e-3,
    Quantity.POWER: 1e-6,
    Quantity.IMPEDANCE: 1.0,
    Quantity.ADMITTANCE: 1.0,
    Quantity.LENGTH: 1e-3,
    Quantity.IMPEDANCE_PER_LENGTH: 1e3,
    Quantity.ADMITTANCE_PER_LENGTH: 1e3,
    Quantity.CURRENT: 1.0,
    Quantity.ENERGY: 1e-6,
    Quantity.NONE: 1.0,
}

# CGMES per-length impedances are ohm/km already; everything else is in internal units
_CGMES_FACTORS: dict[Quantity, float] = dict.fromkeys(Quantity, 1.0)

# IEC 61970 UnitMultiplier symbols
MULTIPLIERS: dict[str, float] = {
    "p": 1e-12,
    "n": 1e-9,
    "micro": 1e-6,
    "m": 1e-3,
    "c": 1e-2,
    "d": 1e-1,
    "none": 1.0,
    "da": 1e1,
    "h": 1e2,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
}

# the multiplier that the internal unit of each quantity carries (kV -> k, MW -> M)
INTERNAL_MULTIPLIER: dict[Quantity, float] = {
    Quantity.VOLTAGE: 1e3,
    Quantity.POWER: 1e6,
    Quantity.ENERGY: 1e6,
    Quantity.LENGTH: 1e3,
}


def factor(dialect: Dialect, quantity: Quantity) -> float:
    """Return the factor that turns a value of ``quantity`` written in ``dialect`` into internal units."""
    return (_SI_FACTORS if dialect is Dialect.SI else _CGMES_FACTORS)[quantity]


def kv_to_v(v_kv: float) -> float:
    """Convert kV to V."""
    return v_kv * 1e3
