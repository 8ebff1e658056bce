"""Positive-sequence impedance of an overhead line from its wire geometry (CIM100 WireSpacingInfo).

Series impedance by Carson's equations with the usual two-term approximation of the earth return
(the "modified Carson" of Kersting, *Distribution System Modeling and Analysis*, ch. 4), for a uniform
earth of resistivity ``rho`` (default 100 ohm·m) at frequency ``f``::

    z_ii = r_i + w·mu0/8 + j·w·mu0/(2·pi)·ln(De / GMR_i)
    z_ij =       w·mu0/8 + j·w·mu0/(2·pi)·ln(De / D_ij),        De = 658.5·sqrt(rho / f)  [m]

Shunt admittance from Maxwell's potential coefficients with the earth as a mirror::

    P_ii = ln(2·h_i / radius_i) / (2·pi·eps0),   P_ij = ln(S_ij / D_ij) / (2·pi·eps0)

Neutral wires are eliminated by Kron reduction (of Z, and of P before inverting it); the positive
sequence of the reduced phase matrices is ``mean(diagonal) - mean(off-diagonal)``, the same reduction
cimflow applies to a per-length phase impedance matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MU0 = 4e-7 * math.pi
EPS0 = 8.8541878128e-12
EARTH_RESISTIVITY_OHM_M = 100.0


@dataclass(frozen=True, slots=True)
class Wire:
    """One conductor of a line: position (m, height above ground), resistance (ohm/m), GMR and radius (m)."""

    x_m: float
    y_m: float
    r_ohm_per_m: float
    gmr_m: float
    radius_m: float
    neutral: bool = False


def _kron(m: np.ndarray, phases: list[int], neutrals: list[int]) -> np.ndarray:
    if not neutrals:
        return m[np.ix_(phases, phases)]
    pp, pn = m[np.ix_(phases, phases)], m[np.ix_(phases, neutrals)]
    nn, np_ = m[np.ix_(neutrals, neutrals)], m[np.ix_(neutrals, phases)]
    reduced: np.ndarray = pp - pn @ np.linalg.solve(nn, np_)
    return reduced


def _positive_sequence(m: np.ndarray) -> complex:
    n = m.shape[0]
    if n == 1:
        return complex(m[0, 0])
    diag = np.trace(m) / n
    off = (m.sum() - np.trace(m)) / (n * (n - 1))
    return complex(diag - off)


def overhead_sequence(
    wires: list[Wire], frequency_hz: float, rho_ohm_m: float = EARTH_RESISTIVITY_OHM_M
) -> tuple[complex, complex] | None:
    """(z1 in ohm/m, y1 in S/m) of an overhead line; ``None`` if the geometry cannot be evaluated."""
    phases = [k for k, w in enumerate(wires) if not w.neutral]
    neutrals = [k for k, w in enumerate(wires) if w.neutral]
    if not phases or any(w.gmr_m <= 0 or w.radius_m <= 0 or w.y_m <= 0 for w in wires):
        return None
    n = len(wires)
    x = np.array([w.x_m for w in wires])
    y = np.array([w.y_m for w in wires])
    dx = x[:, None] - x[None, :]
    dist = np.hypot(dx, y[:, None] - y[None, :])
    image = np.hypot(dx, y[:, None] + y[None, :])
    if np.any(dist[~np.eye(n, dtype=bool)] <= 0):
        return None  # two wires in one place
    omega = 2.0 * math.pi * frequency_hz
    de = 658.5 * math.sqrt(rho_ohm_m / frequency_hz)
    d_self = dist.copy()
    np.fill_diagonal(d_self, [w.gmr_m for w in wires])
    z = omega * MU0 / 8.0 + 1j * omega * MU0 / (2.0 * math.pi) * np.log(de / d_self)
    z[np.diag_indices(n)] += [w.r_ohm_per_m for w in wires]
    r_self = dist.copy()
    np.fill_diagonal(r_self, [w.radius_m for w in wires])
    p = np.log(image / r_self) / (2.0 * math.pi * EPS0)
    z_abc = _kron(z, phases, neutrals)
    c_abc = np.linalg.inv(_kron(p, phases, neutrals))
    return _positive_sequence(z_abc), 1j * omega * _positive_sequence(c_abc).real
