"""CF2xx electrical rules: implausible impedances, ratings, voltages and injections (units slips, wrong levels)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from cimflow.catalog import electrical as codes
from cimflow.findings import Finding
from cimflow.model import equipment, injections, limits
from cimflow.rules._index import kv_key, same_kv
from cimflow.rules.base import BaseRule, CheckContext, implements

_NEAR_ZERO_OHM = 1e-9


def _line_impedance(ctx: CheckContext, line: equipment.ACLineSegment) -> tuple[float | None, float | None]:
    """Whole-segment r and x of a line, directly or from a per-length sequence impedance times the length."""
    if line.r_ohm is not None or line.x_ohm is not None:
        return line.r_ohm, line.x_ohm
    pli = ctx.network.get(line.per_length_impedance)
    if isinstance(pli, equipment.PerLengthSequenceImpedance) and line.length_km is not None:
        r = pli.r_ohm_per_km * line.length_km if pli.r_ohm_per_km is not None else None
        x = pli.x_ohm_per_km * line.length_km if pli.x_ohm_per_km is not None else None
        return r, x
    return None, None


@implements(codes.ZERO_IMPEDANCE_LINE)
class ZeroImpedanceLine(BaseRule):
    """Report lines with r = 0 and x = 0: a connection that is really a switch."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per zero-impedance line."""
        for line in ctx.network.lines.values():
            r, x = _line_impedance(ctx, line)
            if r is not None and x is not None and abs(r) <= _NEAR_ZERO_OHM and abs(x) <= _NEAR_ZERO_OHM:
                yield self.finding(line.location("ACLineSegment.r"), ctx={"r_ohm": r, "x_ohm": x})


@implements(codes.RATED_VOLTAGE_MISMATCH)
class RatedVoltageMismatch(BaseRule):
    """Report transformer ends whose ratedU is far from the nominal voltage of their BaseVoltage."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per end outside the tolerance."""
        tol = ctx.settings.ratedu_tolerance_pct
        for end in ctx.network.transformer_ends.values():
            nominal = ctx.index.bv_kv(end.base_voltage)
            if nominal is None or end.rated_u_kv is None or end.rated_u_kv <= 0:
                continue
            deviation = abs(end.rated_u_kv - nominal) / nominal * 100.0
            if deviation > tol:
                yield self.finding(
                    end.location("PowerTransformerEnd.ratedU"),
                    ctx={
                        "rated_u_kv": end.rated_u_kv,
                        "nominal_kv": nominal,
                        "deviation_pct": round(deviation, 3),
                        "tolerance_pct": tol,
                    },
                    related=[end.base_voltage] if end.base_voltage else [],
                )


def short_circuit_voltage_pct(
    ends: tuple[equipment.PowerTransformerEnd, ...],
    mesh: equipment.TransformerMeshImpedance | None = None,
) -> float | None:
    """uk of a two-winding transformer in % of end 1's ratedU and the rating; ``None`` if data is missing.

    With a CIM100 TransformerMeshImpedance between the ends, z is the mesh impedance (referred to its
    from-end). Otherwise the ends' star values are referred to end 1 with the square of the ratio of
    rated voltages: z = z1 + z2 (U1/U2)^2. Then uk = |z| S / U1^2.
    """
    if len(ends) != 2:
        return None
    e1, e2 = ends
    s = e1.rated_s_mva if e1.rated_s_mva else e2.rated_s_mva
    if mesh is not None and (mesh.r_ohm is not None or mesh.x_ohm is not None):
        ref = e2 if mesh.from_end == e2.mrid else e1
        u = ref.rated_u_kv
        if not u or not s or u <= 0 or s <= 0:
            return None
        return math.hypot(mesh.r_ohm or 0.0, mesh.x_ohm or 0.0) * s / (u * u) * 100.0
    u1, u2 = e1.rated_u_kv, e2.rated_u_kv
    if not u1 or not u2 or not s or u1 <= 0 or u2 <= 0 or s <= 0:
        return None
    if all(v is None for v in (e1.r_ohm, e1.x_ohm, e2.r_ohm, e2.x_ohm)):
        return None
    ratio_sq = (u1 / u2) ** 2
    r = (e1.r_ohm or 0.0) + (e2.r_ohm or 0.0) * ratio_sq
    x = (e1.x_ohm or 0.0) + (e2.x_ohm or 0.0) * ratio_sq
    return math.hypot(r, x) * s / (u1 * u1) * 100.0


@implements(codes.IMPLAUSIBLE_SHORT_CIRCUIT_VOLTAGE)
class ImplausibleShortCircuitVoltage(BaseRule):
    """Report two-winding transformers whose short-circuit voltage is outside a plausible range."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per implausible transformer."""
        low, high = ctx.settings.uk_min_pct, ctx.settings.uk_max_pct
        ends_of, meshes = ctx.network.ends_of, ctx.network.mesh_impedances
        for tr in ctx.network.transformers.values():
            ends = ends_of.get(tr.mrid, ())
            mesh = meshes.get(frozenset(e.mrid for e in ends)) if len(ends) == 2 else None
            uk = short_circuit_voltage_pct(ends, mesh)
            if uk is not None and not low <= uk <= high:
                yield self.finding(
                    tr.location(),
                    ctx={"uk_pct": round(uk, 4), "uk_min_pct": low, "uk_max_pct": high},
                    related=[e.mrid for e in ends],
                )


@implements(codes.LINE_VOLTAGE_MISMATCH)
class LineVoltageMismatch(BaseRule):
    """Report lines whose two ends are at different nominal voltages."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per line joining two voltage levels."""
        terminal_kv, terminals_of = ctx.index.terminal_kv, ctx.network.terminals_of.get
        rel = ctx.settings.level_tolerance_pct / 100.0
        for line in ctx.network.lines.values():
            ts = terminals_of(line.mrid)
            if ts is None or len(ts) != 2:
                continue
            v1, v2 = terminal_kv(ts[0]), terminal_kv(ts[1])
            if v1 is None or v2 is None or v1.kv == v2.kv or same_kv(v1.kv, v2.kv, rel=rel):
                continue
            yield self.finding(
                line.location(),
                ctx={"v_from_kv": v1.kv, "v_to_kv": v2.kv},
                related=[t.mrid for t in ts],
            )


_INJECTIONS = (
    injections.EnergyConsumer,
    injections.SynchronousMachine,
    injections.PowerElectronicsConnection,
    injections.EnergySource,
)


@implements(codes.IMPLAUSIBLE_INJECTION)
class ImplausibleInjection(BaseRule):
    """Report loads and generators far larger than the transformers that supply their voltage level."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per implausible load or generator (unit multiplier slips)."""
        ratio = ctx.settings.injection_max_ratio
        index = ctx.index
        ratings = index.rated_s_by_kv
        if not ratings:
            return
        for obj in index.objects(*_INJECTIONS):
            p = getattr(obj, "p_mw", None)
            q = getattr(obj, "q_mvar", None)
            if p is None and q is None:
                continue
            assert isinstance(obj, equipment.Equipment)
            v = index.equipment_kv(obj)
            rated = ratings.get(kv_key(v.kv)) if v is not None else None
            if not rated:
                continue
            s = math.hypot(p or 0.0, q or 0.0)
            if s > ratio * rated:
                yield self.finding(
                    obj.location("EnergyConsumer.p" if isinstance(obj, injections.EnergyConsumer) else None),
                    ctx={"s_mva": s, "max_ratio": ratio, "rated_s_mva": rated},
                )


@implements(codes.NEGATIVE_CURRENT_LIMIT)
class NegativeCurrentLimit(BaseRule):
    """Report CurrentLimits with a negative value."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per negative limit value."""
        for lim in ctx.network.of(limits.CurrentLimit).values():
            for attr, value in (("CurrentLimit.value", lim.value_a), ("CurrentLimit.normalValue", lim.normal_value_a)):
                if value is not None and value < 0:
                    yield self.finding(lim.location(attr), ctx={"i_a": value})
                    break


@implements(codes.NON_POSITIVE_RATING)
class ZeroCurrentLimit(BaseRule):
    """Report CurrentLimits of zero (a rating that makes every loading infinite)."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per zero limit value."""
        for lim in ctx.network.of(limits.CurrentLimit).values():
            for attr, value in (("CurrentLimit.value", lim.value_a), ("CurrentLimit.normalValue", lim.normal_value_a)):
                if value == 0:
                    yield self.finding(lim.location(attr), ctx={"value": "0"})
                    break


@implements(codes.IMPLAUSIBLE_IMPEDANCE_PER_KM)
class ImplausibleImpedancePerKm(BaseRule):
    """Report lines and per-length impedances whose r or x per km lies outside the range of real conductors."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield at most one finding per line or per-length impedance (r first, then x)."""
        st = ctx.settings
        bounds = {"r": (st.r_ohm_per_km_min, st.r_ohm_per_km_max), "x": (st.x_ohm_per_km_min, st.x_ohm_per_km_max)}
        for line in ctx.network.lines.values():
            if line.r_ohm is None or line.x_ohm is None or not line.length_km or line.length_km <= 0:
                continue
            if line.r_ohm <= _NEAR_ZERO_OHM and line.x_ohm <= _NEAR_ZERO_OHM:
                continue  # CF202
            per_km = {"r": line.r_ohm / line.length_km, "x": line.x_ohm / line.length_km}
            yield from self._out_of_range(line, "ACLineSegment", per_km, bounds)
        plsi = ctx.network.of(equipment.PerLengthSequenceImpedance)
        for obj in plsi.values():
            if obj.r_ohm_per_km is None or obj.x_ohm_per_km is None:
                continue
            per_km = {"r": obj.r_ohm_per_km, "x": obj.x_ohm_per_km}
            yield from self._out_of_range(obj, "PerLengthSequenceImpedance", per_km, bounds)

    def _out_of_range(
        self,
        obj: equipment.ACLineSegment | equipment.PerLengthSequenceImpedance,
        prefix: str,
        per_km: dict[str, float],
        bounds: dict[str, tuple[float, float]],
    ) -> Iterator[Finding]:
        for key in ("r", "x"):
            low, high = bounds[key]
            value = per_km[key]
            if value <= 0:
                continue  # negative: CF201; exactly zero: a deliberate simplification (lossless line, DC model)
            if not low <= value <= high:
                yield self.finding(
                    obj.location(f"{prefix}.{key}"),
                    ctx={"value_ohm_per_km": value, "min_ohm_per_km": low, "max_ohm_per_km": high},
                )
                return


_TAP_CHANGERS = (equipment.RatioTapChanger, equipment.PhaseTapChanger)


@implements(codes.TAP_STEP_OUT_OF_RANGE)
class TapStepOutOfRange(BaseRule):
    """Report tap changers whose step, normalStep or neutralStep lies outside lowStep..highStep."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield at most one finding per tap changer."""
        for tc in ctx.index.objects(*_TAP_CHANGERS):
            assert isinstance(tc, equipment.TapChangerBase)
            low, high = tc.low_step, tc.high_step
            if low is None or high is None:
                continue
            ctx_base: dict[str, float | int | str] = {"low_step": low, "high_step": high}
            if low > high:
                yield self.finding(tc.location("TapChanger.lowStep"), ctx={**ctx_base, "step": low})
                continue
            for attr, value in (
                ("TapChanger.step", tc.step),
                ("TapChanger.normalStep", tc.normal_step),
                ("TapChanger.neutralStep", tc.neutral_step),
            ):
                if value is not None and not low <= value <= high:
                    yield self.finding(tc.location(attr), ctx={**ctx_base, "step": value})
                    break


@implements(codes.IMPLAUSIBLE_LINE_LENGTH)
class ImplausibleLineLength(BaseRule):
    """Report lines longer than a line of their voltage runs (a length in m taken for km)."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per line above the limit of its level (the general one when its voltage is unknown)."""
        st, index = ctx.settings, ctx.index
        for line in ctx.network.lines.values():
            length = line.length_km
            if length is None or not length > min(st.lv_line_length_km_max, st.line_length_km_max):
                continue
            v = index.equipment_kv(line)
            low_voltage = v is not None and v.kv < 1.0
            limit = st.lv_line_length_km_max if low_voltage else st.line_length_km_max
            if length > limit:
                level = f"a {v.kv:g} kV" if v is not None else "any"
                yield self.finding(
                    line.location("Conductor.length"), ctx={"length_km": length, "max_km": limit, "level": level}
                )


RULES = (
    ZeroImpedanceLine(),
    RatedVoltageMismatch(),
    ZeroCurrentLimit(),
    ImplausibleShortCircuitVoltage(),
    LineVoltageMismatch(),
    ImplausibleInjection(),
    NegativeCurrentLimit(),
    ImplausibleImpedancePerKm(),
    TapStepOutOfRange(),
    ImplausibleLineLength(),
)
