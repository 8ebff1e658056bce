"""CF213-CF216: regulating controls and tap changer tables (set points, modes, missing controls, table gaps)."""

from __future__ import annotations

from collections.abc import Iterator

from cimflow.catalog import electrical as codes
from cimflow.findings import Finding, Severity
from cimflow.ids import MRID
from cimflow.model import equipment, injections
from cimflow.rules.base import BaseRule, CheckContext, implements

# modes each kind of regulating equipment can follow (IEC 61970-301 RegulatingControlModeKind)
_ALLOWED_MODES: dict[str, frozenset[str]] = {
    "RatioTapChanger": frozenset({"voltage", "reactivePower"}),
    "PhaseTapChanger": frozenset({"activePower", "currentFlow"}),
    "SynchronousMachine": frozenset({"voltage", "reactivePower", "powerFactor"}),
    "LinearShuntCompensator": frozenset({"voltage", "reactivePower", "admittance", "timeScheduled"}),
    "ExternalNetworkInjection": frozenset({"voltage", "reactivePower", "powerFactor"}),
    "PowerElectronicsConnection": frozenset({"voltage", "reactivePower", "powerFactor", "activePower"}),
}
# RatioTapChanger.tculControlMode literal -> the RegulatingControl mode it implies
_TCUL_MODE = {"volt": "voltage", "reactive": "reactivePower"}
_REGULATING = (
    injections.SynchronousMachine,
    injections.LinearShuntCompensator,
    injections.ExternalNetworkInjection,
    injections.PowerElectronicsConnection,
)


@implements(codes.INVALID_REGULATING_TARGET)
class InvalidRegulatingTarget(BaseRule):
    """Report negative deadbands and non-positive set points of enabled voltage controls."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield at most one finding per control and attribute."""
        for rc in ctx.network.of(injections.RegulatingControl).values():
            if rc.target_deadband is not None and rc.target_deadband < 0:
                yield self.finding(
                    rc.location("RegulatingControl.targetDeadband"),
                    ctx={"value": rc.target_deadband, "problem": "is negative"},
                )
            if (
                rc.mode == "voltage"
                and rc.enabled is not False
                and rc.target_value is not None
                and rc.target_value <= 0
            ):
                yield self.finding(
                    rc.location("RegulatingControl.targetValue"),
                    ctx={
                        "value": rc.target_value,
                        "problem": "kV is no voltage set point for an enabled voltage control",
                    },
                )


def _controls(ctx: CheckContext) -> Iterator[tuple[str, MRID, str, MRID]]:
    """(kind, equipment mRID, equipment class, control mRID) of every regulating equipment that names a control."""
    for tc in ctx.network.of(equipment.RatioTapChanger).values():
        if tc.control is not None:
            yield "RatioTapChanger", tc.mrid, tc.cim_class, tc.control
    for pc in ctx.network.of(equipment.PhaseTapChanger).values():
        if pc.control is not None:
            yield "PhaseTapChanger", pc.mrid, pc.cim_class, pc.control
    for model in _REGULATING:
        for obj in ctx.network.of(model).values():
            if obj.regulating_control is not None:
                yield model.__name__, obj.mrid, obj.cim_class, obj.regulating_control


@implements(codes.REGULATING_MODE_MISMATCH)
class RegulatingModeMismatch(BaseRule):
    """Report controls whose mode their equipment cannot follow, and tculControlMode disagreeing with the mode."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per control and regulating equipment that do not fit."""
        controls = ctx.network.of(injections.RegulatingControl)
        for kind, mrid, cls, control in sorted(_controls(ctx), key=lambda x: (x[3], x[1])):
            rc = controls.get(control)
            if rc is None or rc.mode is None:
                continue  # dangling (CF101) or no mode given
            allowed = _ALLOWED_MODES[kind]
            if rc.mode not in allowed:
                yield self.finding(
                    rc.location("RegulatingControl.mode"),
                    ctx={"mode": rc.mode, "controlled": f"{cls} {mrid} ({' or '.join(sorted(allowed))})"},
                    related=[mrid],
                )
                continue
            tc = ctx.network.get(mrid)
            if isinstance(tc, equipment.RatioTapChanger) and tc.tcul_control_mode in _TCUL_MODE:
                implied = _TCUL_MODE[tc.tcul_control_mode]
                if implied != rc.mode:
                    yield self.finding(
                        rc.location("RegulatingControl.mode"),
                        ctx={"mode": rc.mode, "controlled": f"{cls} {mrid} whose tculControlMode is {implied}"},
                        related=[mrid],
                    )


@implements(codes.CONTROL_WITHOUT_REGULATING_CONTROL)
class ControlEnabledWithoutControl(BaseRule):
    """Report regulating equipment whose control is enabled but that names no RegulatingControl."""

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per such equipment."""
        for obj in ctx.index.objects(*_REGULATING):
            assert isinstance(obj, injections.RegulatingCondEq)
            if obj.control_enabled is True and obj.regulating_control is None:
                yield self.finding(obj.location("RegulatingCondEq.RegulatingControl"))


def _ranges(steps: list[int]) -> str:
    """``1, 3-5`` for [1, 3, 4, 5]."""
    parts: list[str] = []
    start = prev = steps[0]
    for s in [*steps[1:], None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if s is not None:
            start = prev = s
    return ", ".join(parts)


@implements(codes.INCOMPLETE_TAP_TABLE)
class IncompleteTapTable(BaseRule):
    """Report tabular tap changers whose table lacks points for steps between lowStep and highStep.

    An error where the table is the only definition of the step (phase tap changers); a warning for a ratio
    tap changer with a stepVoltageIncrement, whose table only corrects r and x.
    """

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per tap changer with gaps in its table."""
        tables = ctx.index.tap_tables
        if not tables.table_of:
            return
        for tc in ctx.index.objects(equipment.RatioTapChanger, equipment.PhaseTapChanger):
            assert isinstance(tc, equipment.TapChangerBase)
            table = tables.table_of.get(tc.mrid)
            if table is None or tc.low_step is None or tc.high_step is None or tc.high_step - tc.low_step > 10_000:
                continue
            have = tables.steps_of.get(table, frozenset())
            missing = [s for s in range(tc.low_step, tc.high_step + 1) if s not in have]
            if missing:
                # a ratio tap changer still has its ratio from stepVoltageIncrement; its table only corrects r and x
                corrective = isinstance(tc, equipment.RatioTapChanger) and tc.step_voltage_increment_pct is not None
                yield self.finding(
                    tc.location("TapChanger.highStep"),
                    ctx={"missing": _ranges(missing), "low_step": tc.low_step, "high_step": tc.high_step},
                    related=[table],
                    severity=Severity.WARNING if corrective else None,
                )


RULES = (InvalidRegulatingTarget(), RegulatingModeMismatch(), ControlEnabledWithoutControl(), IncompleteTapTable())
