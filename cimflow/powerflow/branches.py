"""Per-unit parameters of lines and transformers from the CIM model (CGMES semantics).

Every branch is expressed in the MATPOWER model of :mod:`cimflow.powerflow.arrays`: an ideal
transformer of ratio ``t`` at the from side, then the series admittance and the shunts, all in per unit
of the **to** bus's base (``Z_b = V_b_to² / S_base``).

Lines (ACLineSegment): whole-segment r, x, gch, bch; half of the shunt admittance at each end. When r
and x are missing, a CIM100 per-length impedance times the length is used (a 3-phase matrix reduced to
its positive sequence, Z1 = mean self − mean mutual). A line between buses of different base voltage
gets ``t = V_b_to / V_b_from`` so that the physical voltage is continuous.

Two-winding transformers (PowerTransformerEnd 1 = from, 2 = to): the ends' star impedances r + jx,
each referred to its end's ratedU, are summed on the end-2 side with the rated ratio,
``z = z1·(U2/U1)² + z2``. The ideal ratio is ``t = (U1'/V_b1) / (U2'/V_b2)`` where ``U'`` is the
end's ratedU moved by its RatioTapChanger: ``U' = neutralU·(1 + (step − neutralStep)·svi/100)``. The
magnetising admittance g + jb stays at the end where the file gives it (a shunt at that end's bus).
Three-winding transformers are a star: each winding is a branch from its bus to an internal star bus
whose base is end 1's ratedU, with ``z_i·(U1/U_i)²`` and ``t_i = (U_i'/V_b_i) / (U1/V_b_star)``.
The clock number is applied as a phase shift (IEC 61970-301 PowerTransformerEnd.phaseAngleClock:
end ``i`` lags end 1 by ``clock_i·30°``, so Dyn5 turns the low-voltage angles by −150°, as PowerFactory
and pandapower do); in a balanced radial feeder it rotates the angles downstream and changes no
magnitude or flow. PhaseTapChangers are kept in the model and reported, not applied.
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
    PerLengthPhaseImpedance,
    PerLengthSequenceImpedance,
    PhaseImpedanceData,
    PowerTransformerEnd,
    RatioTapChanger,
    WireInfo,
    WireSpacingInfo,
)
from cimflow.model.network import Network
from cimflow.powerflow.geometry import EARTH_RESISTIVITY_OHM_M, Wire, overhead_sequence

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
    return BranchParams(
        y_series=_series(z_pu, notes, "r_ohm"),
        y_from=y_sh,
        y_to=y_sh,
        tap=complex(vb_to / vb_from),
        shunt_at_from_bus=0j,
        shunt_at_to_bus=0j,
        assumptions=tuple(notes),
    )


def tap_voltage_kv(tap: RatioTapChanger | None, rated_kv: float) -> float:
    """The end's winding voltage at the present tap: ``neutralU·(1 + (step − neutralStep)·svi/100)``."""
    if tap is None or tap.step_voltage_increment_pct is None:
        return rated_kv
    neutral_step = tap.neutral_step if tap.neutral_step is not None else 0
    step = tap.step
    if step is None:
        step = float(tap.normal_step) if tap.normal_step is not None else float(neutral_step)
    neutral_u = tap.neutral_u_kv if tap.neutral_u_kv else rated_kv
    return neutral_u * (1.0 + (step - neutral_step) * tap.step_voltage_increment_pct / 100.0)


def _clock_rad(end: PowerTransformerEnd) -> float:
    return math.radians(30.0 * (end.phase_angle_clock or 0))


def _end_z(end: PowerTransformerEnd) -> complex:
    return complex(end.r_ohm or 0.0, end.x_ohm or 0.0)


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


def transformer_params(
    network: Network,
    end1: PowerTransformerEnd,
    end2: PowerTransformerEnd,
    vb_from: float,
    vb_to: float,
    s_base: float,
    taps: Mapping[MRID, RatioTapChanger] | None = None,
) -> BranchParams:
    """Per-unit model of a two-winding transformer, end 1 at the from side (``taps``: by end, if not the network's)."""
    notes: list[tuple[str, str, str]] = []
    u1 = end1.rated_u_kv if end1.rated_u_kv and end1.rated_u_kv > 0 else vb_from
    u2 = end2.rated_u_kv if end2.rated_u_kv and end2.rated_u_kv > 0 else vb_to
    if u1 is not end1.rated_u_kv:
        notes.append(("rated_u_kv", f"{u1:g} kV", "end 1 ratedU missing: the bus base voltage"))
    if u2 is not end2.rated_u_kv:
        notes.append(("rated_u_kv", f"{u2:g} kV", "end 2 ratedU missing: the bus base voltage"))
    taps = taps if taps is not None else network.tap_changers_of
    u1t = tap_voltage_kv(taps.get(end1.mrid), u1)
    u2t = tap_voltage_kv(taps.get(end2.mrid), u2)
    mesh = _mesh_z(network, end2, end1, u2, u1)
    # a CIM100 mesh impedance between the ends is the whole series impedance (files that give it, such as
    # CIMHub's, also repeat the winding resistances on the ends: counting both would double the resistance)
    z_ohm_at_2 = mesh if mesh is not None else _end_z(end1) * (u2 / u1) ** 2 + _end_z(end2)
    z_base = vb_to * vb_to / s_base
    tap = cmath.rect((u1t / vb_from) / (u2t / vb_to), _clock_rad(end2) - _clock_rad(end1))
    return BranchParams(
        y_series=_series(z_ohm_at_2 / z_base, notes, "r_ohm"),
        # end 1's magnetising admittance at its terminal, expressed on the internal side of the ratio
        y_from=_end_y(network, end1) * vb_from * vb_from / s_base * abs(tap) ** 2,
        y_to=_end_y(network, end2) * z_base,
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
) -> BranchParams:
    """Per-unit model of one winding of a 3-winding transformer: its bus (from) to the star bus (to)."""
    notes: list[tuple[str, str, str]] = []
    ui = end.rated_u_kv if end.rated_u_kv and end.rated_u_kv > 0 else vb_winding
    u1 = end1.rated_u_kv if end1.rated_u_kv and end1.rated_u_kv > 0 else vb_star
    uit = tap_voltage_kv((taps if taps is not None else network.tap_changers_of).get(end.mrid), ui)
    siblings = network.ends_of.get(end.power_transformer, ()) if end.power_transformer else ()
    star = _star_from_mesh(network, siblings, {end.mrid: vb_winding, end1.mrid: vb_star})
    z_star = star[end.mrid] if star is not None and end.mrid in star else _end_z(end) * (u1 / ui) ** 2
    z_base = vb_star * vb_star / s_base
    tap = cmath.rect((uit / vb_winding) / (u1 / vb_star), _clock_rad(end1) - _clock_rad(end))
    return BranchParams(
        y_series=_series(z_star / z_base, notes, "r_ohm"),
        y_from=_end_y(network, end) * vb_winding * vb_winding / s_base * abs(tap) ** 2,
        y_to=0j,
        tap=tap,
        shunt_at_from_bus=0j,
        shunt_at_to_bus=0j,
        assumptions=tuple(notes),
    )
