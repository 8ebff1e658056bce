"""CF4xx rules: run after a solve on the :class:`~cimflow.powerflow.solution.Solution` in the context."""

from __future__ import annotations

from collections.abc import Iterator

from cimflow.catalog import solution as codes
from cimflow.findings import Finding, Location
from cimflow.ids import MRID
from cimflow.rules.base import BaseRule, CheckContext, implements

_REVERSE_TOLERANCE_MW = 1e-6


def _solution(ctx: CheckContext) -> object | None:
    return getattr(ctx, "solution", None)


def _converged(ctx: CheckContext) -> object | None:
    """The solution when the power flow converged; limit checks on a non-solution would mislead."""
    sol = _solution(ctx)
    return sol if sol is not None and sol.converged else None  # type: ignore[attr-defined]


def _equipment_location(ctx: CheckContext, mrid: str, attribute: str, cim_class: str) -> Location:
    obj = ctx.network.get(mrid)
    return obj.location(attribute) if obj is not None else Location(mrid=MRID(mrid), cim_class=cim_class)


def _fmt(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}g}"


@implements(codes.NOT_CONVERGED)
class PowerFlowNotConverged(BaseRule):
    """The power flow did not converge."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        sol = _solution(ctx)
        if sol is None or sol.converged:  # type: ignore[attr-defined]
            return
        first = next(iter(ctx.network.documents), None)
        yield self.finding(
            Location(file=getattr(first, "name", None)),
            ctx={
                "iterations": sol.iterations,  # type: ignore[attr-defined]
                "solver": sol.solver,  # type: ignore[attr-defined]
                "mismatch_mva": _fmt(sol.max_mismatch_mva),  # type: ignore[attr-defined]
            },
        )


@implements(codes.VOLTAGE_BAND)
class VoltageOutOfBand(BaseRule):
    """A bus voltage is outside the planning band."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        sol = _converged(ctx)
        if sol is None:
            return
        lo, hi = ctx.settings.v_min_pu, ctx.settings.v_max_pu
        for bus in sol.buses:  # type: ignore[attr-defined]
            if not bus.energised or lo <= bus.v_pu <= hi:
                continue
            node = ctx.network.get(
                bus.topological_node or (bus.connectivity_nodes[0] if bus.connectivity_nodes else None)
            )
            loc = node.location() if node is not None else Location(mrid=bus.id, cim_class="TopologicalNode")
            yield self.finding(
                Location(mrid=bus.id, cim_class=loc.cim_class, attribute="v_pu", file=loc.file, line=loc.line),
                ctx={"v_pu": _fmt(bus.v_pu, 5), "v_min_pu": lo, "v_max_pu": hi, "v_kv": _fmt(bus.v_kv, 6)},
            )


@implements(codes.LINE_OVERLOAD)
class LineOverload(BaseRule):
    """A line carries more current than its permanent limit."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        sol = _converged(ctx)
        if sol is None:
            return
        limit = ctx.settings.loading_max_pct
        for br in sol.branches:  # type: ignore[attr-defined]
            if br.kind != "line" or br.loading_pct is None or br.loading_pct <= limit:
                continue
            yield self.finding(
                _equipment_location(ctx, br.equipment, "i_a", br.cim_class),
                ctx={"i_a": _fmt(br.i_a), "i_max_a": _fmt(br.i_max_a or 0.0), "loading_pct": _fmt(br.loading_pct)},
            )


@implements(codes.TRANSFORMER_OVERLOAD)
class TransformerOverload(BaseRule):
    """A transformer carries more apparent power than its rating."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        sol = _converged(ctx)
        if sol is None:
            return
        limit = ctx.settings.loading_max_pct
        for br in sol.branches:  # type: ignore[attr-defined]
            if not br.kind.startswith("transformer") or br.loading_pct is None or br.loading_pct <= limit:
                continue
            loc = _equipment_location(ctx, br.equipment, "s_mva", "PowerTransformer")
            s = max(abs(complex(br.p_from_mw, br.q_from_mvar)), abs(complex(br.p_to_mw, br.q_to_mvar)))
            yield self.finding(
                loc,
                ctx={"s_mva": _fmt(s), "s_rated_mva": _fmt(br.s_rated_mva or 0.0), "loading_pct": _fmt(br.loading_pct)},
            )


@implements(codes.REVERSE_FLOW)
class ReversePowerFlow(BaseRule):
    """Active power flows back through a transformer into the upstream grid."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        sol = _converged(ctx)
        if sol is None:
            return
        for br in sol.branches:  # type: ignore[attr-defined]
            if br.kind != "transformer" or br.p_from_mw >= -_REVERSE_TOLERANCE_MW:
                continue
            loc = _equipment_location(ctx, br.equipment, "p_mw", "PowerTransformer")
            yield self.finding(loc, ctx={"p_mw": _fmt(-br.p_from_mw)})


SOLUTION_RULES = (
    PowerFlowNotConverged(),
    VoltageOutOfBand(),
    LineOverload(),
    TransformerOverload(),
    ReversePowerFlow(),
)
