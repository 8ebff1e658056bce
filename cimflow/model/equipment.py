"""Branch equipment: lines, transformers (ends, ratio and phase tap changers, tables), series branches, switches."""

from __future__ import annotations

from typing import Annotated

from cimflow.ids import MRID
from cimflow.model.base import Attr, Check, CimObject, Read, attr, ref
from cimflow.model.core import CONTAINERS
from cimflow.units import Quantity as Q

WINDING_CONNECTIONS = ("D", "Y", "Z", "Yn", "Zn", "A", "I")
NN = Check.NON_NEGATIVE


class Equipment(CimObject):
    """Any conducting equipment: container, voltage level, location, service state."""

    container: Annotated[MRID | None, ref("Equipment.EquipmentContainer", targets=CONTAINERS)] = None
    base_voltage: Annotated[MRID | None, ref("ConductingEquipment.BaseVoltage", targets=("BaseVoltage",))] = None
    location_ref: Annotated[MRID | None, ref("PowerSystemResource.Location", targets=("Location",))] = None
    in_service: Annotated[bool | None, attr("Equipment.inService", read=Read.BOOL)] = None
    normally_in_service: Annotated[bool | None, attr("Equipment.normallyInService", read=Read.BOOL)] = None


class ACLineSegment(Equipment):
    """A line or cable section: pi model with whole-segment series impedance and shunt admittance."""

    r_ohm: Annotated[float | None, attr("ACLineSegment.r", q=Q.IMPEDANCE, check=NN)] = None
    x_ohm: Annotated[float | None, attr("ACLineSegment.x", q=Q.IMPEDANCE, check=NN)] = None
    bch_s: Annotated[float | None, attr("ACLineSegment.bch", q=Q.ADMITTANCE)] = None
    gch_s: Annotated[float | None, attr("ACLineSegment.gch", q=Q.ADMITTANCE)] = None
    r0_ohm: Annotated[float | None, attr("ACLineSegment.r0", q=Q.IMPEDANCE, check=NN)] = None
    x0_ohm: Annotated[float | None, attr("ACLineSegment.x0", q=Q.IMPEDANCE)] = None
    length_km: Annotated[float | None, attr("Conductor.length", q=Q.LENGTH, check=Check.POSITIVE_LENGTH)] = None
    per_length_impedance: Annotated[
        MRID | None,
        ref("ACLineSegment.PerLengthImpedance", targets=("PerLengthSequenceImpedance", "PerLengthPhaseImpedance")),
    ] = None
    wire_spacing_info: Annotated[MRID | None, ref("ACLineSegment.WireSpacingInfo", targets=("WireSpacingInfo",))] = None


WIRE_INFO_CLASSES = ("OverheadWireInfo", "ConcentricNeutralCableInfo", "TapeShieldCableInfo", "WireInfo")


class ACLineSegmentPhase(CimObject):
    """CIM100: one phase (or the neutral) of a line, with the wire it is made of."""

    line: Annotated[MRID | None, ref("ACLineSegmentPhase.ACLineSegment", targets=("ACLineSegment",))] = None
    phase: Annotated[str | None, attr("ACLineSegmentPhase.phase", read=Read.ENUM)] = None
    sequence_number: Annotated[int | None, attr("ACLineSegmentPhase.sequenceNumber", read=Read.INT)] = None
    wire_info: Annotated[MRID | None, ref("ACLineSegmentPhase.WireInfo", targets=WIRE_INFO_CLASSES)] = None


class WireSpacingInfo(CimObject):
    """CIM100: where the wires of a line hang (its WirePositions)."""

    is_cable: Annotated[bool | None, attr("WireSpacingInfo.isCable", read=Read.BOOL)] = None


class WirePosition(CimObject):
    """CIM100: one wire's position in a spacing, in metres (CIM Displacement; never scaled)."""

    spacing: Annotated[MRID | None, ref("WirePosition.WireSpacingInfo", targets=("WireSpacingInfo",))] = None
    sequence_number: Annotated[int | None, attr("WirePosition.sequenceNumber", read=Read.INT)] = None
    x_m: Annotated[float | None, attr("WirePosition.xCoord")] = None
    y_m: Annotated[float | None, attr("WirePosition.yCoord")] = None


class WireInfo(CimObject):
    """CIM100 conductor data: geometric mean radius and radius in m, resistances in ohm/m (never scaled)."""

    gmr_m: Annotated[float | None, attr("WireInfo.gmr", check=NN)] = None
    radius_m: Annotated[float | None, attr("WireInfo.radius", check=NN)] = None
    r_ac25_ohm_per_m: Annotated[float | None, attr("WireInfo.rAC25", check=NN)] = None
    r_ac50_ohm_per_m: Annotated[float | None, attr("WireInfo.rAC50", check=NN)] = None
    r_ac75_ohm_per_m: Annotated[float | None, attr("WireInfo.rAC75", check=NN)] = None
    r_dc20_ohm_per_m: Annotated[float | None, attr("WireInfo.rDC20", check=NN)] = None


class PerLengthSequenceImpedance(CimObject):
    """Sequence impedance per length (CIM100), in ohm/km and S/km."""

    r_ohm_per_km: Annotated[float | None, attr("PerLengthSequenceImpedance.r", q=Q.IMPEDANCE_PER_LENGTH, check=NN)] = (
        None
    )
    x_ohm_per_km: Annotated[float | None, attr("PerLengthSequenceImpedance.x", q=Q.IMPEDANCE_PER_LENGTH, check=NN)] = (
        None
    )
    bch_s_per_km: Annotated[float | None, attr("PerLengthSequenceImpedance.bch", q=Q.ADMITTANCE_PER_LENGTH)] = None
    gch_s_per_km: Annotated[float | None, attr("PerLengthSequenceImpedance.gch", q=Q.ADMITTANCE_PER_LENGTH)] = None
    r0_ohm_per_km: Annotated[float | None, attr("PerLengthSequenceImpedance.r0", q=Q.IMPEDANCE_PER_LENGTH)] = None
    x0_ohm_per_km: Annotated[float | None, attr("PerLengthSequenceImpedance.x0", q=Q.IMPEDANCE_PER_LENGTH)] = None


class PerLengthPhaseImpedance(CimObject):
    """Phase impedance matrix per length (CIM100); entries are PhaseImpedanceData objects."""

    conductor_count: Annotated[int | None, attr("PerLengthPhaseImpedance.conductorCount", read=Read.INT)] = None


class PhaseImpedanceData(CimObject):
    """One entry (row, column) of a per-length phase impedance matrix, ohm/km and S/km."""

    phase_impedance: Annotated[
        MRID | None, ref("PhaseImpedanceData.PhaseImpedance", targets=("PerLengthPhaseImpedance",))
    ] = None
    row: Annotated[int | None, attr("PhaseImpedanceData.row", read=Read.INT)] = None
    column: Annotated[int | None, attr("PhaseImpedanceData.column", read=Read.INT)] = None
    sequence_number: Annotated[int | None, attr("PhaseImpedanceData.sequenceNumber", read=Read.INT)] = None
    r_ohm_per_km: Annotated[float | None, attr("PhaseImpedanceData.r", q=Q.IMPEDANCE_PER_LENGTH)] = None
    x_ohm_per_km: Annotated[float | None, attr("PhaseImpedanceData.x", q=Q.IMPEDANCE_PER_LENGTH)] = None
    b_s_per_km: Annotated[float | None, attr("PhaseImpedanceData.b", q=Q.ADMITTANCE_PER_LENGTH)] = None


class PowerTransformer(Equipment):
    """A transformer; its windings are PowerTransformerEnds (or TransformerTankEnds in CIM100)."""

    vector_group: Annotated[str | None, attr("PowerTransformer.vectorGroup", read=Read.STR)] = None


class TransformerEndBase(CimObject):
    """Attributes shared by PowerTransformerEnd and TransformerTankEnd."""

    terminal: Annotated[MRID | None, ref("TransformerEnd.Terminal", targets=("Terminal",))] = None
    end_number: Annotated[int | None, attr("TransformerEnd.endNumber", read=Read.INT)] = None
    base_voltage: Annotated[MRID | None, ref("TransformerEnd.BaseVoltage", targets=("BaseVoltage",))] = None
    grounded: Annotated[bool | None, attr("TransformerEnd.grounded", read=Read.BOOL)] = None


class PowerTransformerEnd(TransformerEndBase):
    """A winding: star-model r, x, g, b referred to this end's ratedU."""

    power_transformer: Annotated[
        MRID | None, ref("PowerTransformerEnd.PowerTransformer", targets=("PowerTransformer",))
    ] = None
    rated_u_kv: Annotated[
        float | None, attr("PowerTransformerEnd.ratedU", q=Q.VOLTAGE, check=Check.POSITIVE_VOLTAGE)
    ] = None
    rated_s_mva: Annotated[float | None, attr("PowerTransformerEnd.ratedS", q=Q.POWER, check=Check.POSITIVE_RATING)] = (
        None
    )
    r_ohm: Annotated[float | None, attr("PowerTransformerEnd.r", q=Q.IMPEDANCE, check=NN)] = None
    x_ohm: Annotated[float | None, attr("PowerTransformerEnd.x", q=Q.IMPEDANCE)] = None
    g_s: Annotated[float | None, attr("PowerTransformerEnd.g", q=Q.ADMITTANCE)] = None
    b_s: Annotated[float | None, attr("PowerTransformerEnd.b", q=Q.ADMITTANCE)] = None
    connection_kind: Annotated[
        str | None, attr("PowerTransformerEnd.connectionKind", read=Read.ENUM, enum=WINDING_CONNECTIONS)
    ] = None
    phase_angle_clock: Annotated[int | None, attr("PowerTransformerEnd.phaseAngleClock", read=Read.INT)] = None


class TransformerTank(Equipment):
    """CIM100: one tank of a (possibly unbalanced) transformer bank."""

    power_transformer: Annotated[
        MRID | None, ref("TransformerTank.PowerTransformer", targets=("PowerTransformer",))
    ] = None
    tank_info: Annotated[
        MRID | None,
        ref(
            "TransformerTank.TransformerTankInfo",
            "PowerSystemResource.AssetDatasheet",
            targets=("TransformerTankInfo",),
        ),
    ] = None


class TransformerTankInfo(CimObject):
    """CIM100 catalogue data of a transformer tank (its end infos and tests refer to it)."""


class TransformerEndInfo(CimObject):
    """CIM100 catalogue data of one winding of a tank type, matched to tank ends by end number."""

    tank_info: Annotated[
        MRID | None, ref("TransformerEndInfo.TransformerTankInfo", targets=("TransformerTankInfo",))
    ] = None
    end_number: Annotated[int | None, attr("TransformerEndInfo.endNumber", read=Read.INT)] = None
    rated_u_kv: Annotated[
        float | None, attr("TransformerEndInfo.ratedU", q=Q.VOLTAGE, check=Check.POSITIVE_VOLTAGE)
    ] = None
    rated_s_mva: Annotated[float | None, attr("TransformerEndInfo.ratedS", q=Q.POWER, check=Check.POSITIVE_RATING)] = (
        None
    )
    r_ohm: Annotated[float | None, attr("TransformerEndInfo.r", q=Q.IMPEDANCE, check=NN)] = None
    connection_kind: Annotated[
        str | None, attr("TransformerEndInfo.connectionKind", read=Read.ENUM, enum=WINDING_CONNECTIONS)
    ] = None
    phase_angle_clock: Annotated[int | None, attr("TransformerEndInfo.phaseAngleClock", read=Read.INT)] = None


class ShortCircuitTest(CimObject):
    """CIM100 short-circuit test between an energised end and grounded ends of a tank type.

    ``leakageImpedance`` is in ohm seen from the energised end; ``loss`` is in kW (KiloActivePower in every
    CIM version), so neither is scaled by the document's unit system beyond ohm.
    """

    energised_end: Annotated[MRID | None, ref("ShortCircuitTest.EnergisedEnd", targets=("TransformerEndInfo",))] = None
    grounded_ends: Annotated[
        tuple[MRID, ...] | None, Attr(("ShortCircuitTest.GroundedEnds",), Read.REFS, targets=("TransformerEndInfo",))
    ] = None
    leakage_impedance_ohm: Annotated[
        float | None, attr("ShortCircuitTest.leakageImpedance", q=Q.IMPEDANCE, check=NN)
    ] = None
    loss_kw: Annotated[float | None, attr("ShortCircuitTest.loss", check=NN)] = None


class NoLoadTest(CimObject):
    """CIM100 no-load test of a tank type: the magnetising admittance at its energised end (see powerflow.tanks)."""

    energised_end: Annotated[MRID | None, ref("NoLoadTest.EnergisedEnd", targets=("TransformerEndInfo",))] = None
    exciting_current_pct: Annotated[float | None, attr("NoLoadTest.excitingCurrent")] = None
    loss_kw: Annotated[float | None, attr("NoLoadTest.loss")] = None


class TransformerTankEnd(TransformerEndBase):
    """CIM100: a winding of a tank; electrical data lives in catalogue info or mesh impedances."""

    transformer_tank: Annotated[
        MRID | None, ref("TransformerTankEnd.TransformerTank", targets=("TransformerTank",))
    ] = None
    phases: Annotated[
        str | None, attr("TransformerTankEnd.orderedPhases", "TransformerTankEnd.phases", read=Read.ENUM)
    ] = None


class TransformerMeshImpedance(CimObject):
    """CIM100: series impedance between two transformer ends (ohm, referred to the from end)."""

    from_end: Annotated[MRID | None, ref("TransformerMeshImpedance.FromTransformerEnd")] = None
    to_end: Annotated[MRID | None, ref("TransformerMeshImpedance.ToTransformerEnd")] = None
    r_ohm: Annotated[float | None, attr("TransformerMeshImpedance.r", q=Q.IMPEDANCE, check=NN)] = None
    x_ohm: Annotated[float | None, attr("TransformerMeshImpedance.x", q=Q.IMPEDANCE)] = None


class TransformerCoreAdmittance(CimObject):
    """CIM100: magnetising admittance of a transformer end (S)."""

    transformer_end: Annotated[MRID | None, ref("TransformerCoreAdmittance.TransformerEnd")] = None
    g_s: Annotated[float | None, attr("TransformerCoreAdmittance.g", q=Q.ADMITTANCE)] = None
    b_s: Annotated[float | None, attr("TransformerCoreAdmittance.b", q=Q.ADMITTANCE)] = None


class TapChangerBase(CimObject):
    """Attributes shared by ratio and phase tap changers."""

    low_step: Annotated[int | None, attr("TapChanger.lowStep", read=Read.INT)] = None
    high_step: Annotated[int | None, attr("TapChanger.highStep", read=Read.INT)] = None
    neutral_step: Annotated[int | None, attr("TapChanger.neutralStep", read=Read.INT)] = None
    normal_step: Annotated[int | None, attr("TapChanger.normalStep", read=Read.INT)] = None
    step: Annotated[float | None, attr("TapChanger.step", "TapChanger.SVtapStep")] = None
    neutral_u_kv: Annotated[float | None, attr("TapChanger.neutralU", q=Q.VOLTAGE)] = None
    ltc_flag: Annotated[bool | None, attr("TapChanger.ltcFlag", read=Read.BOOL)] = None
    control_enabled: Annotated[bool | None, attr("TapChanger.controlEnabled", read=Read.BOOL)] = None
    control: Annotated[MRID | None, ref("TapChanger.TapChangerControl", targets=("TapChangerControl",))] = None


class RatioTapChanger(TapChangerBase):
    """Ratio tap changer on a transformer end; voltage per step in % of neutralU."""

    transformer_end: Annotated[
        MRID | None, ref("RatioTapChanger.TransformerEnd", targets=("PowerTransformerEnd", "TransformerTankEnd"))
    ] = None
    step_voltage_increment_pct: Annotated[float | None, attr("RatioTapChanger.stepVoltageIncrement")] = None
    tcul_control_mode: Annotated[str | None, attr("RatioTapChanger.tculControlMode", read=Read.ENUM)] = None
    table: Annotated[MRID | None, ref("RatioTapChanger.RatioTapChangerTable", targets=("RatioTapChangerTable",))] = None


class PhaseTapChanger(TapChangerBase):
    """A phase tap changer (Linear, Symmetrical, Asymmetrical, Tabular); its kind is ``cim_class``.

    Angles in degrees, the voltage step in % of the end's ratedU, xMin/xMax in ohm (IEC 61970-301).
    """

    transformer_end: Annotated[MRID | None, ref("PhaseTapChanger.TransformerEnd", targets=("PowerTransformerEnd",))] = (
        None
    )
    step_phase_shift_increment_deg: Annotated[float | None, attr("PhaseTapChangerLinear.stepPhaseShiftIncrement")] = (
        None
    )
    voltage_step_increment_pct: Annotated[float | None, attr("PhaseTapChangerNonLinear.voltageStepIncrement")] = None
    winding_connection_angle_deg: Annotated[
        float | None, attr("PhaseTapChangerAsymmetrical.windingConnectionAngle")
    ] = None
    x_min_ohm: Annotated[
        float | None, attr("PhaseTapChangerLinear.xMin", "PhaseTapChangerNonLinear.xMin", q=Q.IMPEDANCE)
    ] = None
    x_max_ohm: Annotated[
        float | None, attr("PhaseTapChangerLinear.xMax", "PhaseTapChangerNonLinear.xMax", q=Q.IMPEDANCE)
    ] = None
    table: Annotated[
        MRID | None, ref("PhaseTapChangerTabular.PhaseTapChangerTable", targets=("PhaseTapChangerTable",))
    ] = None


class TapChangerTablePoint(CimObject):
    """One step of a RatioTapChangerTable or PhaseTapChangerTable (IEC 61970-301 TapChangerTablePoint).

    ``ratio`` is the end's voltage at the step over its ratedU; ``angle_deg`` the phase shift (phase tables);
    r, x, g, b are deviations in % of the end's (or ends') nominal values: value·(1 + pct/100).
    """

    table: Annotated[
        MRID | None,
        ref(
            "RatioTapChangerTablePoint.RatioTapChangerTable",
            "PhaseTapChangerTablePoint.PhaseTapChangerTable",
            targets=("RatioTapChangerTable", "PhaseTapChangerTable"),
        ),
    ] = None
    step: Annotated[int | None, attr("TapChangerTablePoint.step", read=Read.INT)] = None
    ratio: Annotated[float | None, attr("TapChangerTablePoint.ratio")] = None
    angle_deg: Annotated[float | None, attr("PhaseTapChangerTablePoint.angle")] = None
    r_pct: Annotated[float | None, attr("TapChangerTablePoint.r")] = None
    x_pct: Annotated[float | None, attr("TapChangerTablePoint.x")] = None
    g_pct: Annotated[float | None, attr("TapChangerTablePoint.g")] = None
    b_pct: Annotated[float | None, attr("TapChangerTablePoint.b")] = None


class SeriesCompensator(Equipment):
    """A series capacitor or reactor (or a line without charging): positive-sequence r + jx in ohm, no shunt."""

    r_ohm: Annotated[float | None, attr("SeriesCompensator.r", q=Q.IMPEDANCE)] = None
    x_ohm: Annotated[float | None, attr("SeriesCompensator.x", q=Q.IMPEDANCE)] = None


class EquivalentBranch(Equipment):
    """A branch left by a network reduction: r + jx from terminal 1 to 2, and r21 + jx21 back (ohm)."""

    r_ohm: Annotated[float | None, attr("EquivalentBranch.r", q=Q.IMPEDANCE)] = None
    x_ohm: Annotated[float | None, attr("EquivalentBranch.x", q=Q.IMPEDANCE)] = None
    r21_ohm: Annotated[float | None, attr("EquivalentBranch.r21", q=Q.IMPEDANCE)] = None
    x21_ohm: Annotated[float | None, attr("EquivalentBranch.x21", q=Q.IMPEDANCE)] = None


class Switch(Equipment):
    """The switch family (Switch, Breaker, Disconnector, LoadBreakSwitch, Fuse, Recloser, Jumper, ...)."""

    normal_open: Annotated[bool | None, attr("Switch.normalOpen", read=Read.BOOL)] = None
    open: Annotated[bool | None, attr("Switch.open", read=Read.BOOL)] = None
    retained: Annotated[bool | None, attr("Switch.retained", read=Read.BOOL)] = None
    rated_current_a: Annotated[float | None, attr("Switch.ratedCurrent", q=Q.CURRENT, check=Check.POSITIVE_RATING)] = (
        None
    )

    @property
    def is_open(self) -> bool:
        """Operating state: SSH ``open`` overrides EQ ``normalOpen``; unknown means closed."""
        if self.open is not None:
            return self.open
        return bool(self.normal_open)
