"""Per-unit parameters of lines and transformers from the CIM model (CGMES semantics).

Every branch is expressed in the MATPOWER model of :mod:`cimflow.powerflow.arrays`: an ideal
transformer of ratio ``t`` at the from side, then the series admittance and the shunts, all in per unit
of the **to** bus's base (``Z_b = V_b_to² / S_base``).

Lines (ACLineSegment): whole-segment r, x, gch, bch; half of the shunt admittance at each end. When r
and x are missing, a CIM100 per-length impedance times the length is used (a 3-phase matrix reduced to
its positive sequence, Z1 = mean self − mean mutual). A line between buses of different base voltage
gets ``t = V_b_to / V_b_from`` so that the physical voltage is continuous.

Transformers follow IEC 61970-301's star model in per unit of the ends' rated voltages, with each end's
tap changers as an ideal (off-nominal, complex) transformer at that end's terminal (:mod:`.taps`):

    V1 ─ 1/n1 ─┬─ z1 + z2 (rated pu) ─┬─ n2 ─ V2        y1 at ┬, y2 at ┬ (rated pu)

where an end's ``r, x, g, b`` are referred to its ratedU (``z_i/(U_i²/S)``, so ``z = z1·(U2/U1)² + z2``
in ohm at end 2), and ``n_i`` is the end's complex ratio at its step (ratio, phase shift, table
corrections, a phase shifter's reactance curve). As a branch from end 1 to end 2 (to-side base):
``t = (U1·n1/V_b1)/(U2·n2/V_b2)``, series ``z·|n2|²`` ohm, magnetising ``y_i·U_i²/S / |U2·n2/V_b2|²``.
The impedance thus stays on the inside of
either end's tap: a tap on end 2 scales the whole series impedance seen from end 2 by ``|n2|²``, as one
on end 1 does seen from end 1 (PowSyBl's CGMES import keeps the ideal transformer at the tapped end the
same way). Table corrections (TapChangerTablePoint r, x, g, b in %) scale the whole series r, x and
the magnetising g, b.
Three-winding transformers are a star: each winding is a branch from its bus to an internal star bus
whose base is end 1's ratedU, with ``z_i·(U1/U_i)²`` and ``t_i = (U_i·n_i/V_b_i) / (U1/V_b_star)``.
The clock number (IEC 61970-301 PowerTransformerEnd.phaseAngleClock: end ``i`` lags end 1 by
``clock_i·30°``, so Dyn5 turns the low-voltage angles by -150°) is applied only with ``clock=True``: CGMES
lists it with the short-circuit data (r0, x0, g0), and PowSyBl and the SVs of NEPLAN and of the ENTSO-E
test models solve without it; PowerFactory and pandapower (its CIM import makes it ``shift_degree``) apply
it. In a balanced radial feeder it only rotates the angles downstream and changes no magnitude or flow.

SeriesCompensator and EquivalentBranch are series branches r + jx (ohm) without shunt admittance.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from cimflow.ids import MRID
from cimflow.model.equipment import (
    ACLineSegment,
    EquivalentBranch,
    PerLengthPhaseImpedance,
    PerLengthSequenceImpedance,
    PhaseImpedanceData,
    PowerTransformerEnd,
    RatioTapChanger,
    SeriesCompensator,
    WireInfo,
    WireSpacingInfo,
)
from cimflow.model.network import Network
from cimflow.powerflow.geometry import EARTH_RESISTIVITY_OHM_M, Wire, overhead_sequence
from cimflow.powerflow.taps import NO_TAP, EndTap, end_tap
from cimflow.records import constructor

Z_MIN_PU = 1e-6  # series impedance given to zero-impedance branches (a short, numerically safe)


@dataclass(frozen=True, slots=True)
class BranchParams:
    """One branch in per unit (to-side base), and what had to be assumed for it."""

    y_series: complex
    y_from: complex  # shunt at the internal from side (to-side base)
    y_to: complex
    tap: complex
    shunt_at_from_bus: complex  # admittance to add at the from bus (from-bus base): magnetising of end 1
    shunt_at_to_bus: complex
    assumptions: tuple[tuple[str, str, str], ...] = ()  # (attribute, value used, reason)


_new_params = constructor(BranchParams)  # positional, every field: see cimflow.records


def _series(z_pu: complex, assumptions: list[tuple[str, str, str]], what: str) -> complex:
    if abs(z_pu) < Z_MIN_PU:
        assumptions.append((what, f"{Z_MIN_PU:g} pu", "zero impedance: modelled as a near short circuit"))
        return 1.0 / complex(0.0, Z_MIN_PU)
    return 1.0 / z_pu


def _phase_positive_sequence(network: Network, pli: MRID) -> tuple[complex, complex] | None:
    """Positive-sequence (z ohm/km, y S/km) of a per-length phase impedance matrix."""
    entries = [e for e in network.of(PhaseImpedanceData).values() if e.phase_impedance == pli]
    if not entries:
        return None
    n = network.of(PerLengthPhaseImpedance)[pli].conductor_count or max(
        max(e.row or e.sequence_number or 1, e.column or 1) for e in entries
    )
    z = np.zeros((n, n), dtype=complex)
    y = np.zeros((n, n), dtype=complex)
    for e in entries:
        i, j = (e.row or 1) - 1, (e.column or 1) - 1
        if not (0 <= i < n and 0 <= j < n):
            continue
        z[i, j] = z[j, i] = complex(e.r_ohm_per_km or 0.0, e.x_ohm_per_km or 0.0)
        y[i, j] = y[j, i] = complex(0.0, e.b_s_per_km or 0.0)
    self_z, self_y = np.mean(np.diag(z)), np.mean(np.diag(y))
    if n == 1:
        return complex(self_z), complex(self_y)
    off = ~np.eye(n, dtype=bool)
    return complex(self_z - np.mean(z[off])), complex(self_y - np.mean(y[off]))


def _geometry_sequence(network: Network, line: ACLineSegment, frequency_hz: float) -> tuple[complex, complex] | None:
    """(z1 ohm/m, y1 S/m) of an overhead line described by a WireSpacingInfo and its phases' wires."""
    spacing = network.of(WireSpacingInfo).get(line.wire_spacing_info) if line.wire_spacing_info else None
    if spacing is None or spacing.is_cable:
        return None  # cable geometry (concentric neutrals, tape shields) is not evaluated
    positions = {p.sequence_number: p for p in network.wire_positions_of.get(spacing.mrid, ())}
    infos = network.of(WireInfo)
    wires: list[Wire] = []
    for ph in network.phases_of.get(line.mrid, ()):
        pos = positions.get(ph.sequence_number)
        info = infos.get(ph.wire_info) if ph.wire_info else None
        if pos is None or info is None or pos.x_m is None or pos.y_m is None:
            return None
        r = next((v for v in (info.r_ac50_ohm_per_m, info.r_ac25_ohm_per_m, info.r_ac75_ohm_per_m,
                              info.r_dc20_ohm_per_m) if v is not None), None)  # fmt: skip
        if r is None or info.gmr_m is None or info.radius_m is None:
            return None
        wires.append(Wire(pos.x_m, pos.y_m, r, info.gmr_m, info.radius_m, neutral=ph.phase in ("N", "n")))
    return overhead_sequence(wires, frequency_hz) if wires else None


def line_params(
    network: Network, line: ACLineSegment, vb_from: float, vb_to: float, s_base: float, frequency_hz: float = 50.0
) -> BranchParams:
    """Per-unit pi model of an ACLineSegment."""
    notes: list[tuple[str, str, str]] = []
    r, x, g, b = line.r_ohm, line.x_ohm, line.gch_s, line.bch_s
    if (r is None or x is None) and line.per_length_impedance is None and line.wire_spacing_info and line.length_km:
        zy = _geometry_sequence(network, line, frequency_hz)
        if zy is not None:
            length_m = line.length_km * 1e3
            r, x, g, b = zy[0].real * length_m, zy[0].imag * length_m, 0.0, zy[1].imag * length_m
            notes.append(
                (
                    "r_ohm",
                    f"{r:.6g}",
                    f"positive sequence of the wire geometry (Carson, earth {EARTH_RESISTIVITY_OHM_M:g} ohm·m, "
                    f"{frequency_hz:g} Hz)",
                )
            )
    if (r is None or x is None) and line.per_length_impedance is not None and line.length_km:
        seq = network.of(PerLengthSequenceImpedance).get(line.per_length_impedance)
        if seq is not None:
            r = (seq.r_ohm_per_km or 0.0) * line.length_km
            x = (seq.x_ohm_per_km or 0.0) * line.length_km
            g = (seq.gch_s_per_km or 0.0) * line.length_km
            b = (seq.bch_s_per_km or 0.0) * line.length_km
        else:
            zy = _phase_positive_sequence(network, line.per_length_impedance)
            if zy is not None:
                r, x = zy[0].real * line.length_km, zy[0].imag * line.length_km
                b = zy[1].imag * line.length_km
                notes.append(("r_ohm", f"{r:.6g}", "positive sequence of the per-length phase impedance matrix"))
    if r is None or x is None:
        notes.append(("r_ohm", "0", "r or x missing"))
    z_base = vb_to * vb_to / s_base
    z_pu = complex(r or 0.0, x or 0.0) / z_base
    y_sh = complex(g or 0.0, b or 0.0) * z_base / 2.0
    # y_series, y_from, y_to, tap, shunt_at_from_bus, shunt_at_to_bus, assumptions (all, positionally)
    return _new_params(_series(z_pu, notes, "r_ohm"), y_sh, y_sh, complex(vb_to / vb_from), 0j, 0j, tuple(notes))


def _clock_rad(end: PowerTransformerEnd, clock: bool) -> float:
    return math.radians(30.0 * (end.phase_angle_clock or 0)) if clock else 0.0


def _end_z(end: PowerTransformerEnd, tap: EndTap = NO_TAP) -> complex:
    return complex(end.r_ohm or 0.0, (end.x_ohm or 0.0) + tap.x_add_ohm)


def _end_y(network: Network, end: PowerTransformerEnd) -> complex:
    """Magnetising admittance at an end (S): the end's g, b, else a CIM100 TransformerCoreAdmittance's."""
    if end.g_s is None and end.b_s is None:
        core = network.core_admittance_of.get(end.mrid)
        if core is not None:
            return complex(core.g_s or 0.0, core.b_s or 0.0)
    return complex(end.g_s or 0.0, end.b_s or 0.0)


def _mesh_z(network: Network, a: PowerTransformerEnd, b: PowerTransformerEnd, u_a: float, u_b: float) -> complex | None:
    """Series impedance of a CIM100 TransformerMeshImpedance between ends a and b, in ohm at a's side.

    The mesh r, x are seen from its FromTransformerEnd (IEC 61970-301); ``u_a``, ``u_b`` are the rated
    voltages used for the ends. ``None`` when the file gives no mesh impedance between the two ends.
    """
    mesh = network.mesh_impedances.get(frozenset((a.mrid, b.mrid)))
    if mesh is None or (mesh.r_ohm is None and mesh.x_ohm is None):
        return None
    z = complex(mesh.r_ohm or 0.0, mesh.x_ohm or 0.0)
    return z if mesh.from_end == a.mrid else z * (u_a / u_b) ** 2


def _rated_kv(end: PowerTransformerEnd, fallback: float) -> float:
    return end.rated_u_kv if end.rated_u_kv and end.rated_u_kv > 0 else fallback


def _star_from_mesh(
    network: Network, ends: tuple[PowerTransformerEnd, ...], vb: dict[MRID, float]
) -> dict[MRID, complex] | None:
    """Star impedances (ohm, each at end 1's rated voltage) of a three-winding transformer given as a mesh.

    With z_ij the mesh impedances referred to one voltage, z_i = (z_ij + z_ik - z_jk) / 2.
    """
    if len(ends) != 3:
        return None
    u = {e.mrid: _rated_kv(e, vb.get(e.mrid, 1.0)) for e in ends}
    e1, e2, e3 = ends
    u1 = u[e1.mrid]
    pairs = {}
    for a, b in ((e1, e2), (e1, e3), (e2, e3)):
        z = _mesh_z(network, a, b, u[a.mrid], u[b.mrid])
        if z is None:
            return None
        pairs[(a.mrid, b.mrid)] = z * (u1 / u[a.mrid]) ** 2  # at end 1's voltage
    z12, z13, z23 = pairs[(e1.mrid, e2.mrid)], pairs[(e1.mrid, e3.mrid)], pairs[(e2.mrid, e3.mrid)]
    return {e1.mrid: (z12 + z13 - z23) / 2, e2.mrid: (z12 + z23 - z13) / 2, e3.mrid: (z13 + z23 - z12) / 2}


def _tap(
    network: Network, end: PowerTransformerEnd, rated_kv: float, taps: Mapping[MRID, RatioTapChanger] | None
) -> EndTap:
    ratio_taps = taps if taps is not None else network.tap_changers_of
    return end_tap(end.mrid, rated_kv, ratio_taps, network.phase_tap_changers_of, network.table_points_of)


def _scaled(z: complex, tap1: EndTap, tap2: EndTap) -> complex:
    return complex(z.real * tap1.r_factor * tap2.r_factor, z.imag * tap1.x_factor * tap2.x_factor)


def _magnetising(network: Network, end: PowerTransformerEnd, tap1: EndTap, tap2: EndTap) -> complex:
    y = _end_y(network, end)
    return complex(y.real * tap1.g_factor * tap2.g_factor, y.imag * tap1.b_factor * tap2.b_factor)


def _x_min_notes(network: Network, end: PowerTransformerEnd, x_ohm: float) -> list[tuple[str, str, str]]:
    """Say so where a phase shifter's xMin disagrees with the transformer's x (referred to the shifter's end)."""
    tap = network.phase_tap_changers_of.get(end.mrid)
    if tap is None or tap.x_min_ohm is None or tap.x_max_ohm is None or tap.x_max_ohm <= tap.x_min_ohm:
        return []
    if abs(tap.x_min_ohm - x_ohm) <= 1e-4 * max(abs(x_ohm), 1e-9):
        return []
    return [("xMin", f"x = {x_ohm:g} ohm at the neutral step",
             f"xMin = {tap.x_min_ohm:g} ohm disagrees with the ends' x, which IEC 61970-301 says to keep")]  # fmt: skip


def transformer_params(
    network: Network,
    end1: PowerTransformerEnd,
    end2: PowerTransformerEnd,
    vb_from: float,
    vb_to: float,
    s_base: float,
    taps: Mapping[MRID, RatioTapChanger] | None = None,
    *,
    clock: bool = False,
) -> BranchParams:
    """Per-unit model of a two-winding transformer, end 1 at the from side (``taps``: ratio taps by end, if not
    the network's; ``clock``: apply the ends' phaseAngleClock)."""
    notes: list[tuple[str, str, str]] = []
    u1 = end1.rated_u_kv if end1.rated_u_kv and end1.rated_u_kv > 0 else vb_from
    u2 = end2.rated_u_kv if end2.rated_u_kv and end2.rated_u_kv > 0 else vb_to
    if u1 is not end1.rated_u_kv:
        notes.append(("rated_u_kv", f"{u1:g} kV", "end 1 ratedU missing: the bus base voltage"))
    if u2 is not end2.rated_u_kv:
        notes.append(("rated_u_kv", f"{u2:g} kV", "end 2 ratedU missing: the bus base voltage"))
    tap1, tap2 = _tap(network, end1, u1, taps), _tap(network, end2, u2, taps)
    notes.extend(tap1.notes + tap2.notes)
    x_at_1 = (end1.x_ohm or 0.0) + (end2.x_ohm or 0.0) * (u1 / u2) ** 2
    notes.extend(_x_min_notes(network, end1, x_at_1) + _x_min_notes(network, end2, x_at_1 * (u2 / u1) ** 2))
    mesh = _mesh_z(network, end2, end1, u2, u1)
    # a CIM100 mesh impedance between the ends is the whole series impedance (files that give it, such as
    # CIMHub's, also repeat the winding resistances on the ends: counting both would double the resistance)
    z_mesh_or_star = mesh if mesh is not None else _end_z(end1, tap1) * (u2 / u1) ** 2 + _end_z(end2, tap2)
    z_ohm_at_2 = _scaled(z_mesh_or_star, tap1, tap2)
    k2 = u2 * tap2.n / vb_to  # end 2's inside (rated pu) over its bus voltage (to-side pu)
    scale = abs(k2) ** 2
    z_base = vb_to * vb_to / s_base
    tap = (u1 * tap1.n / vb_from) / k2 * cmath.rect(1.0, _clock_rad(end2, clock) - _clock_rad(end1, clock))
    return BranchParams(
        y_series=_series(z_ohm_at_2 * abs(tap2.n) ** 2 / z_base, notes, "r_ohm"),
        # magnetising admittances on the inside of each end's tap, in rated pu, seen in the to-side base
        y_from=_magnetising(network, end1, tap1, tap2) * u1 * u1 / s_base / scale,
        y_to=_magnetising(network, end2, tap1, tap2) * u2 * u2 / s_base / scale,
        tap=tap,
        shunt_at_from_bus=0j,
        shunt_at_to_bus=0j,
        assumptions=tuple(notes),
    )


def winding_params(
    network: Network,
    end: PowerTransformerEnd,
    end1: PowerTransformerEnd,
    vb_winding: float,
    vb_star: float,
    s_base: float,
    taps: Mapping[MRID, RatioTapChanger] | None = None,
    *,
    clock: bool = False,
) -> BranchParams:
    """Per-unit model of one winding of a 3-winding transformer: its bus (from) to the star bus (to)
    (``clock``: apply the ends' phaseAngleClock)."""
    notes: list[tuple[str, str, str]] = []
    ui = end.rated_u_kv if end.rated_u_kv and end.rated_u_kv > 0 else vb_winding
    u1 = end1.rated_u_kv if end1.rated_u_kv and end1.rated_u_kv > 0 else vb_star
    tap_i = _tap(network, end, ui, taps)
    notes.extend(tap_i.notes)
    siblings = network.ends_of.get(end.power_transformer, ()) if end.power_transformer else ()
    star = _star_from_mesh(network, siblings, {end.mrid: vb_winding, end1.mrid: vb_star})
    z_star = star[end.mrid] if star is not None and end.mrid in star else _end_z(end, tap_i) * (u1 / ui) ** 2
    z_base = vb_star * vb_star / s_base
    k_star = u1 / vb_star
    tap = (ui * tap_i.n / vb_winding) / k_star * cmath.rect(1.0, _clock_rad(end1, clock) - _clock_rad(end, clock))
    return BranchParams(
        y_series=_series(_scaled(z_star, tap_i, NO_TAP) / z_base, notes, "r_ohm"),
        y_from=_magnetising(network, end, tap_i, NO_TAP) * ui * ui / s_base / k_star**2,
        y_to=0j,
        tap=tap,
        shunt_at_from_bus=0j,
        shunt_at_to_bus=0j,
        assumptions=tuple(notes),
    )


def series_params(
    equipment: SeriesCompensator | EquivalentBranch, vb_from: float, vb_to: float, s_base: float
) -> BranchParams:
    """Per-unit series branch r + jx without shunt: a SeriesCompensator or an EquivalentBranch.

    An EquivalentBranch whose r21, x21 (terminal 2 to 1) differ from r, x is not reciprocal; cimflow keeps
    r, x both ways and says so.
    """
    notes: list[tuple[str, str, str]] = []
    r, x = equipment.r_ohm, equipment.x_ohm
    if r is None or x is None:
        notes.append(("r_ohm", "0", "r or x missing"))
    if isinstance(equipment, EquivalentBranch) and (
        (equipment.r21_ohm is not None and equipment.r21_ohm != r)
        or (equipment.x21_ohm is not None and equipment.x21_ohm != x)
    ):
        notes.append(("r21_ohm", f"r = {r or 0:g}, x = {x or 0:g} ohm both ways",
                      "a non-reciprocal branch (r21, x21 differ) is modelled symmetric"))  # fmt: skip
    z_base = vb_to * vb_to / s_base
    return BranchParams(
        y_series=_series(complex(r or 0.0, x or 0.0) / z_base, notes, "r_ohm"),
        y_from=0j,
        y_to=0j,
        tap=complex(vb_to / vb_from),
        shunt_at_from_bus=0j,
        shunt_at_to_bus=0j,
        assumptions=tuple(notes),
    )
