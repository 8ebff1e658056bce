"""Voltage dependence of loads (LoadResponseCharacteristic) as the ZIP shares the case carries.

A ZIP characteristic gives its shares (normalised to sum 1). An exponent model ``P = P0·|V|^e`` is exact
for e = 0, 1, 2 (constant power, current, impedance); any other exponent is the blend of the two nearest
ZIP terms with the same value and slope at 1 pu, ``(1 - f)·|V|^k + f·|V|^(k+1)`` with k = ⌊e⌋ clamped to
0..1 and f = e - k (outside [0, 2] one share is negative), reported as CF051 with its error at 0.9 and
1.1 pu (e = 1.5: 0.14 %). The solvers carry only ZIP loads.
"""

from __future__ import annotations

import numpy as np

from cimflow.catalog import inputs as icodes
from cimflow.findings import Finding, make_finding
from cimflow.ids import MRID
from cimflow.model.injections import EnergyConsumer, LoadResponseCharacteristic
from cimflow.model.network import Network


def _note(findings: list[Finding], obj: LoadResponseCharacteristic, attribute: str, value: str, reason: str) -> None:
    findings.append(make_finding(icodes.VALUE_ASSUMED, obj.location(attribute), ctx={"value": value, "reason": reason}))


Shares = tuple[tuple[float, float, float], tuple[float, float, float]]


def zip_shares(network: Network, load: EnergyConsumer, findings: list[Finding], memo: dict[MRID, Shares]) -> Shares:
    """(P, I, Z) shares of active and reactive power (each characteristic judged and reported once)."""
    lrc = network.of(LoadResponseCharacteristic).get(load.load_response) if load.load_response else None
    if lrc is None:
        return (1.0, 0.0, 0.0), (1.0, 0.0, 0.0)
    if lrc.mrid not in memo:
        memo[lrc.mrid] = _lrc_shares(lrc, findings)
    return memo[lrc.mrid]


def _lrc_shares(lrc: LoadResponseCharacteristic, findings: list[Finding]) -> Shares:
    if lrc.exponent_model:
        p_exp = _exponent_shares(lrc, lrc.p_voltage_exponent, "p_voltage_exponent", findings)
        q_exp = _exponent_shares(lrc, lrc.q_voltage_exponent, "q_voltage_exponent", findings)
        return p_exp, q_exp

    def norm(p: float | None, i: float | None, z: float | None) -> tuple[float, float, float]:
        vals = (p or 0.0, i or 0.0, z or 0.0)
        total = sum(vals)
        return (1.0, 0.0, 0.0) if total <= 0 else (vals[0] / total, vals[1] / total, vals[2] / total)

    return (
        norm(lrc.p_constant_power, lrc.p_constant_current, lrc.p_constant_impedance),
        norm(lrc.q_constant_power, lrc.q_constant_current, lrc.q_constant_impedance),
    )


def _exponent_shares(
    lrc: LoadResponseCharacteristic, exponent: float | None, attribute: str, findings: list[Finding]
) -> tuple[float, float, float]:
    """ZIP shares standing for ``P = P0·|V|^e``: exact for e = 0, 1, 2, else the blend of the two nearest
    terms with the same value and slope at 1 pu, ``(1 - f)·|V|^k + f·|V|^(k+1)``, k = ⌊e⌋ clamped to 0..1
    (outside [0, 2] one share is negative); reported with its error at 0.9 and 1.1 pu."""
    e = exponent or 0.0
    k = min(max(int(np.floor(e)), 0), 1)
    f = e - k
    shares = [0.0, 0.0, 0.0]
    shares[k] += 1.0 - f
    shares[k + 1] += f
    if abs(f) > 1e-12 and abs(f - 1.0) > 1e-12:
        error = max(abs((1 - f) * v**k + f * v ** (k + 1) - v**e) / v**e for v in (0.9, 1.1))
        _note(findings, lrc, attribute, f"{shares[0]:g}·P + {shares[1]:g}·I + {shares[2]:g}·Z",
              f"the solvers carry ZIP loads: exponent {e:g} taken as the ZIP blend with the same value and "
              f"slope at 1 pu ({100 * error:.2g} % off at 0.9 and 1.1 pu)")  # fmt: skip
    return shares[0], shares[1], shares[2]
