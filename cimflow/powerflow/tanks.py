"""Star-model ends equivalent to transformers described by tanks and catalogue data (CIM100, CIMHub).

A PowerTransformer may be made of TransformerTanks whose TransformerTankEnds carry no impedance: the
data is in the tank type's catalogue, TransformerTankInfo → TransformerEndInfo (ratedU, ratedS, r, per
end number) and ShortCircuitTest (leakage impedance in ohm seen from the energised end, load loss in
kW). This module turns such a transformer into the PowerTransformerEnd equivalents the branch model
already handles, for the two shapes a balanced positive-sequence model can represent:

- one three-phase tank (its ends' ordered phases hold three phases): ratings as written;
- a bank of three single-phase tanks rated alike, one per phase: three times the tank's rating, and a
  phase-to-neutral winding's voltage times sqrt(3) (a phase-to-phase winding keeps its voltage); the
  impedance is the first tank's.

Per test, ``z = leakageImpedance·S_e/U_e²`` and ``r = loss/S_e`` in per unit of the energised end's
rating (``r`` from the ends' resistances when no loss is given), ``x = sqrt(z² − r²)``; three windings
become a star, ``z_i = (z_ij + z_ik − z_jk)/2``. A NoLoadTest gives the magnetising admittance at its
energised end, ``g = loss/S_e`` and ``|y| = excitingCurrent/100`` in per unit of that end's rating,
``b = -sqrt(|y|² - g²)`` (inductive, the sign of PowerTransformerEnd.b); without one, a
TransformerCoreAdmittance of the end is used where given.
Anything else (open banks, single-phase and centre-tapped transformers, autotransformer windings, a
missing short-circuit test) is left to the caller's reported fallback.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from cimflow.ids import MRID
from cimflow.model.equipment import (
    NoLoadTest,
    PowerTransformerEnd,
    RatioTapChanger,
    ShortCircuitTest,
    TransformerEndInfo,
    TransformerTank,
    TransformerTankEnd,
)
from cimflow.model.network import Network

_PHASES = frozenset("ABC")


def _phases(end: TransformerTankEnd) -> tuple[frozenset[str], bool]:
    """(the phases an end's ordered phases hold, whether it is wound phase to neutral)."""
    text = (end.phases or "").rsplit(".", 1)[-1]
    return frozenset(c for c in text if c in _PHASES), "N" in text or "n" in text


@dataclass(frozen=True, slots=True)
class TankEquivalents:
    """Equivalent ends of tank-described transformers, and the tap changers that go with them."""

    by_tank_end: dict[MRID, PowerTransformerEnd]  # the equivalent end of every tank end it covers
    by_transformer: dict[MRID, tuple[PowerTransformerEnd, ...]]  # by PowerTransformer, by end number
    taps: dict[MRID, RatioTapChanger]  # by equivalent end: neutralU scaled like the winding, mean step of a bank


def tank_equivalents(network: Network) -> TankEquivalents:
    """Equivalent star-model ends of every transformer described by tanks and catalogue data it can represent."""
    tanks_of: dict[MRID, list[TransformerTank]] = defaultdict(list)
    for tank in network.of(TransformerTank).values():
        if tank.power_transformer is not None:
            tanks_of[tank.power_transformer].append(tank)
    if not tanks_of:
        return TankEquivalents({}, {}, {})
    ends_of_tank: dict[MRID, list[TransformerTankEnd]] = defaultdict(list)
    for end in network.of(TransformerTankEnd).values():
        if end.transformer_tank is not None:
            ends_of_tank[end.transformer_tank].append(end)
    infos_of: dict[MRID, dict[int, TransformerEndInfo]] = defaultdict(dict)
    for info in network.of(TransformerEndInfo).values():
        if info.tank_info is not None and info.end_number is not None:
            infos_of[info.tank_info][info.end_number] = info
    tests = list(network.of(ShortCircuitTest).values())
    no_load = {t.energised_end: t for t in network.of(NoLoadTest).values() if t.energised_end is not None}
    result = TankEquivalents({}, {}, {})
    for pt, tanks in tanks_of.items():
        built = _equivalent(tanks, ends_of_tank, infos_of, (tests, no_load), network.tap_changers_of, result.taps)
        if built is None:
            continue
        ends, members = built
        result.by_transformer[pt] = ends
        for eq in ends:
            for member in members[eq.end_number or 0]:
                result.by_tank_end[member] = eq
    return result


def _equivalent(
    tanks: list[TransformerTank],
    ends_of_tank: Mapping[MRID, list[TransformerTankEnd]],
    infos_of: Mapping[MRID, Mapping[int, TransformerEndInfo]],
    catalogue_tests: tuple[list[ShortCircuitTest], Mapping[MRID, NoLoadTest]],
    taps: Mapping[MRID, RatioTapChanger],
    eq_taps: dict[MRID, RatioTapChanger],
) -> tuple[tuple[PowerTransformerEnd, ...], dict[int, list[MRID]]] | None:
    if any(t.tank_info is None for t in tanks):
        return None
    # the tanks' types may be separate catalogue entries (one per regulator leg); they must rate alike
    infos = infos_of.get(tanks[0].tank_info or MRID(""), {})
    numbers: list[int] = sorted(
        {e.end_number for t in tanks for e in ends_of_tank.get(t.mrid, ()) if e.end_number is not None}
    )
    if len(numbers) not in (2, 3) or any(n not in infos for n in numbers):
        return None
    for t in tanks[1:]:
        other = infos_of.get(t.tank_info or MRID(""), {})
        if any(
            n not in other or other[n].rated_u_kv != infos[n].rated_u_kv or other[n].rated_s_mva != infos[n].rated_s_mva
            for n in numbers
        ):
            return None
    if any(infos[n].connection_kind == "A" for n in numbers):
        return None  # autotransformer windings: their catalogue voltages are not a two-winding ratio
    # the shape: one three-phase tank, or three single-phase tanks on A, B and C
    first_ends = {e.end_number: e for e in ends_of_tank.get(tanks[0].mrid, ())}
    if len(tanks) == 1:
        if any(len(_phases(first_ends[n])[0]) != 3 for n in numbers if n in first_ends):
            return None
        scale_s = 1.0
        scale_u = dict.fromkeys(numbers, 1.0)
    elif len(tanks) == 3:
        covered: set[str] = set()
        for t in tanks:
            t_ends = {e.end_number: e for e in ends_of_tank.get(t.mrid, ())}
            if set(t_ends) != set(numbers):
                return None
            phases = {p for e in t_ends.values() for p in _phases(e)[0]}
            covered |= phases
        if covered != _PHASES:
            return None
        scale_s = 3.0
        scale_u = {n: math.sqrt(3.0) if _phases(first_ends[n])[1] else 1.0 for n in numbers}
    else:
        return None
    u: dict[int, float] = {}  # rated voltage (kV) and power (MVA) of each winding, all positive
    s: dict[int, float] = {}
    for n in numbers:
        u_n, s_n = infos[n].rated_u_kv, infos[n].rated_s_mva
        if not u_n or u_n <= 0 or not s_n or s_n <= 0:
            return None
        u[n], s[n] = u_n, s_n
    tests, no_load = catalogue_tests
    s_common = s[numbers[0]]  # per unit on end 1's rating (the same for every tank of a bank)
    info_number = {infos[n].mrid: n for n in numbers}
    pair_z: dict[frozenset[int], complex] = {}
    for test in tests:
        i = info_number.get(test.energised_end) if test.energised_end else None
        grounded = [info_number[g] for g in (test.grounded_ends or ()) if g in info_number]
        if i is None or len(grounded) != 1 or test.leakage_impedance_ohm is None:
            continue
        j = grounded[0]
        z_pu = test.leakage_impedance_ohm * s[i] / (u[i] * u[i])
        if test.loss_kw is not None and test.loss_kw > 0:
            r_pu = test.loss_kw * 1e-3 / s[i]
        else:
            r_pu = sum((infos[k].r_ohm or 0.0) * s[k] / (u[k] * u[k]) for k in (i, j))
        x_pu = math.sqrt(max(z_pu * z_pu - r_pu * r_pu, 0.0))
        pair_z[frozenset((i, j))] = complex(r_pu, x_pu) * s_common / s[i]
    if len(numbers) == 2:
        z12 = pair_z.get(frozenset(numbers))
        if z12 is None:
            return None
        star = {numbers[0]: z12, numbers[1]: 0j}
    else:
        a, b, c = numbers
        try:
            zab, zac, zbc = pair_z[frozenset((a, b))], pair_z[frozenset((a, c))], pair_z[frozenset((b, c))]
        except KeyError:
            return None
        star = {a: (zab + zac - zbc) / 2, b: (zab + zbc - zac) / 2, c: (zac + zbc - zab) / 2}
    members: dict[int, list[MRID]] = {
        n: sorted(e.mrid for t in tanks for e in ends_of_tank.get(t.mrid, ()) if e.end_number == n) for n in numbers
    }
    ends = []
    for n in numbers:
        # the tank end that speaks for the bank: one with a tap changer if any (its step moves the ratio)
        rep_id = next((m for m in members[n] if m in taps), members[n][0])
        rep = next(e for t in tanks for e in ends_of_tank.get(t.mrid, ()) if e.mrid == rep_id)
        u_eq = u[n] * scale_u[n]
        bank_taps = [taps[m] for m in members[n] if m in taps]
        if bank_taps:
            first = bank_taps[0]
            steps = [t.step for t in bank_taps]
            update: dict[str, object] = {"neutral_u_kv": (first.neutral_u_kv or u[n]) * scale_u[n]}
            if all(st is not None for st in steps):
                update["step"] = sum(steps) / len(steps)  # type: ignore[arg-type]  # the bank's mean ratio
            eq_taps[rep.mrid] = first.model_copy(update=update)
        s_eq = s_common * scale_s
        z_ohm = star[n] * u_eq * u_eq / s_eq
        no_load_test = no_load.get(infos[n].mrid)
        # g, b from the end's no-load test; without one None, so that a core admittance given instead is used
        y_s = _magnetising_pu(no_load_test, s[n]) * s[n] * scale_s / (u_eq * u_eq) if no_load_test is not None else None
        ends.append(
            PowerTransformerEnd.from_checked(
                {
                    "mrid": rep.mrid,
                    "cim_class": rep.cim_class,
                    "name": rep.name,
                    "source": rep.source,
                    "terminal": rep.terminal,
                    "end_number": n,
                    "base_voltage": rep.base_voltage,
                    "grounded": rep.grounded,
                    "power_transformer": tanks[0].power_transformer,
                    "rated_u_kv": u_eq,
                    "rated_s_mva": s[n] * scale_s,
                    "r_ohm": z_ohm.real,
                    "x_ohm": z_ohm.imag,
                    "g_s": y_s.real if y_s is not None else None,
                    "b_s": y_s.imag if y_s is not None else None,
                    "connection_kind": infos[n].connection_kind,
                    "phase_angle_clock": infos[n].phase_angle_clock,
                }
            )
        )
    return tuple(ends), members


def _magnetising_pu(test: NoLoadTest | None, s_mva: float) -> complex:
    """g + jb of a NoLoadTest in per unit of its energised end's rating (0 without a usable test)."""
    if test is None or not s_mva:
        return 0j
    g = (test.loss_kw or 0.0) * 1e-3 / s_mva
    y = (test.exciting_current_pct or 0.0) / 100.0
    if not (math.isfinite(g) and math.isfinite(y)) or g < 0 or y < 0:
        return 0j
    return complex(g, -math.sqrt(max(y * y - g * g, 0.0)))
