"""Single-terminal equipment: loads, sources, machines, power-electronics units, shunts; and their controls.

Load sign convention: positive ``p_mw`` flows from the node into the equipment, so a generator
producing 40 kW has ``p_mw = -0.04``.
"""

from __future__ import annotations

from typing import Annotated

from cimflow.ids import MRID
from cimflow.model.base import Check, CimObject, Read, attr, ref
from cimflow.model.equipment import Equipment
from cimflow.units import Quantity as Q

POS = Check.POSITIVE_RATING
REGULATING_MODES = (
    "voltage", "activePower", "reactivePower", "currentFlow", "admittance", "timeScheduled",
    "temperature", "powerFactor",
)  # fmt: skip


class RegulatingControl(CimObject):
    """Set point of a regulating device (TapChangerControl is a RegulatingControl too)."""

    terminal: Annotated[MRID | None, ref("RegulatingControl.Terminal", targets=("Terminal",))] = None
    mode: Annotated[str | None, attr("RegulatingControl.mode", read=Read.ENUM, enum=REGULATING_MODES)] = None
    target_value: Annotated[float | None, attr("RegulatingControl.targetValue")] = None  # kV in voltage mode
    target_deadband: Annotated[float | None, attr("RegulatingControl.targetDeadband")] = None
    enabled: Annotated[bool | None, attr("RegulatingControl.enabled", read=Read.BOOL)] = None
    discrete: Annotated[bool | None, attr("RegulatingControl.discrete", read=Read.BOOL)] = None


class LoadResponseCharacteristic(CimObject):
    """ZIP or exponential voltage dependence of loads."""

    exponent_model: Annotated[bool | None, attr("LoadResponseCharacteristic.exponentModel", read=Read.BOOL)] = None
    p_constant_current: Annotated[float | None, attr("LoadResponseCharacteristic.pConstantCurrent")] = None
    p_constant_impedance: Annotated[float | None, attr("LoadResponseCharacteristic.pConstantImpedance")] = None
    p_constant_power: Annotated[float | None, attr("LoadResponseCharacteristic.pConstantPower")] = None
    q_constant_current: Annotated[float | None, attr("LoadResponseCharacteristic.qConstantCurrent")] = None
    q_constant_impedance: Annotated[float | None, attr("LoadResponseCharacteristic.qConstantImpedance")] = None
    q_constant_power: Annotated[float | None, attr("LoadResponseCharacteristic.qConstantPower")] = None
    p_voltage_exponent: Annotated[float | None, attr("LoadResponseCharacteristic.pVoltageExponent")] = None
    q_voltage_exponent: Annotated[float | None, attr("LoadResponseCharacteristic.qVoltageExponent")] = None


class EnergyConsumer(Equipment):
    """A load (also ConformLoad, NonConformLoad and vendor subclasses): p, q in MW, Mvar."""

    p_mw: Annotated[float | None, attr("EnergyConsumer.p", q=Q.POWER)] = None
    q_mvar: Annotated[float | None, attr("EnergyConsumer.q", q=Q.POWER)] = None
    p_fixed_mw: Annotated[float | None, attr("EnergyConsumer.pfixed", q=Q.POWER)] = None
    q_fixed_mvar: Annotated[float | None, attr("EnergyConsumer.qfixed", q=Q.POWER)] = None
    load_response: Annotated[
        MRID | None, ref("EnergyConsumer.LoadResponse", targets=("LoadResponseCharacteristic",))
    ] = None


class EnergySource(Equipment):
    """A source behind an impedance (CIM100 feeder heads, some GIS exports)."""

    nominal_voltage_kv: Annotated[
        float | None, attr("EnergySource.nominalVoltage", q=Q.VOLTAGE, check=Check.POSITIVE_VOLTAGE)
    ] = None
    voltage_magnitude_kv: Annotated[float | None, attr("EnergySource.voltageMagnitude", q=Q.VOLTAGE)] = None
    voltage_angle_rad: Annotated[float | None, attr("EnergySource.voltageAngle")] = None
    r_ohm: Annotated[float | None, attr("EnergySource.r", q=Q.IMPEDANCE, check=Check.NON_NEGATIVE)] = None
    x_ohm: Annotated[float | None, attr("EnergySource.x", q=Q.IMPEDANCE)] = None
    p_mw: Annotated[float | None, attr("EnergySource.activePower", q=Q.POWER)] = None
    q_mvar: Annotated[float | None, attr("EnergySource.reactivePower", q=Q.POWER)] = None


class RegulatingCondEq(Equipment):
    """Equipment that may regulate through a RegulatingControl."""

    regulating_control: Annotated[MRID | None, ref("RegulatingCondEq.RegulatingControl")] = None
    control_enabled: Annotated[bool | None, attr("RegulatingCondEq.controlEnabled", read=Read.BOOL)] = None


class ExternalNetworkInjection(RegulatingCondEq):
    """The upstream grid: the slack of a feeder."""

    p_mw: Annotated[float | None, attr("ExternalNetworkInjection.p", q=Q.POWER)] = None
    q_mvar: Annotated[float | None, attr("ExternalNetworkInjection.q", q=Q.POWER)] = None
    reference_priority: Annotated[int | None, attr("ExternalNetworkInjection.referencePriority", read=Read.INT)] = None
    max_p_mw: Annotated[float | None, attr("ExternalNetworkInjection.maxP", q=Q.POWER)] = None
    min_p_mw: Annotated[float | None, attr("ExternalNetworkInjection.minP", q=Q.POWER)] = None


class GeneratingUnit(CimObject):
    """Generating unit (and Solar/Wind/Thermal/Hydro/Nuclear subclasses)."""

    nominal_p_mw: Annotated[float | None, attr("GeneratingUnit.nominalP", q=Q.POWER)] = None
    max_p_mw: Annotated[float | None, attr("GeneratingUnit.maxOperatingP", q=Q.POWER)] = None
    min_p_mw: Annotated[float | None, attr("GeneratingUnit.minOperatingP", q=Q.POWER)] = None


class SynchronousMachine(RegulatingCondEq):
    """A rotating machine; a GIS or PowerFactory may write PV or small generation this way."""

    generating_unit: Annotated[MRID | None, ref("RotatingMachine.GeneratingUnit")] = None
    p_mw: Annotated[float | None, attr("RotatingMachine.p", q=Q.POWER)] = None
    q_mvar: Annotated[float | None, attr("RotatingMachine.q", q=Q.POWER)] = None
    rated_s_mva: Annotated[float | None, attr("RotatingMachine.ratedS", q=Q.POWER, check=POS)] = None
    rated_u_kv: Annotated[float | None, attr("RotatingMachine.ratedU", q=Q.VOLTAGE)] = None
    rated_power_factor: Annotated[float | None, attr("RotatingMachine.ratedPowerFactor")] = None
    min_q_mvar: Annotated[float | None, attr("SynchronousMachine.minQ", q=Q.POWER)] = None
    max_q_mvar: Annotated[float | None, attr("SynchronousMachine.maxQ", q=Q.POWER)] = None
    capability_curve: Annotated[
        MRID | None, ref("SynchronousMachine.InitialReactiveCapabilityCurve", targets=("ReactiveCapabilityCurve",))
    ] = None
    reference_priority: Annotated[int | None, attr("SynchronousMachine.referencePriority", read=Read.INT)] = None
    machine_type: Annotated[str | None, attr("SynchronousMachine.type", read=Read.ENUM)] = None
    operating_mode: Annotated[str | None, attr("SynchronousMachine.operatingMode", read=Read.ENUM)] = None


class PowerElectronicsConnection(RegulatingCondEq):
    """Inverter connecting PV, batteries or wind to the grid."""

    p_mw: Annotated[float | None, attr("PowerElectronicsConnection.p", q=Q.POWER)] = None
    q_mvar: Annotated[float | None, attr("PowerElectronicsConnection.q", q=Q.POWER)] = None
    rated_s_mva: Annotated[float | None, attr("PowerElectronicsConnection.ratedS", q=Q.POWER, check=POS)] = None
    rated_u_kv: Annotated[float | None, attr("PowerElectronicsConnection.ratedU", q=Q.VOLTAGE)] = None
    max_q_mvar: Annotated[float | None, attr("PowerElectronicsConnection.maxQ", q=Q.POWER)] = None
    min_q_mvar: Annotated[float | None, attr("PowerElectronicsConnection.minQ", q=Q.POWER)] = None


class PowerElectronicsUnit(Equipment):
    """PhotoVoltaicUnit, BatteryUnit or PowerElectronicsWindUnit behind a PowerElectronicsConnection."""

    connection: Annotated[
        MRID | None,
        ref("PowerElectronicsUnit.PowerElectronicsConnection", targets=("PowerElectronicsConnection",)),
    ] = None
    max_p_mw: Annotated[float | None, attr("PowerElectronicsUnit.maxP", q=Q.POWER)] = None
    min_p_mw: Annotated[float | None, attr("PowerElectronicsUnit.minP", q=Q.POWER)] = None
    rated_e_mwh: Annotated[float | None, attr("BatteryUnit.ratedE", q=Q.ENERGY)] = None
    stored_e_mwh: Annotated[float | None, attr("BatteryUnit.storedE", q=Q.ENERGY)] = None


class LinearShuntCompensator(RegulatingCondEq):
    """Capacitor or reactor bank: admittance per section times the sections in service."""

    b_per_section_s: Annotated[float | None, attr("LinearShuntCompensator.bPerSection", q=Q.ADMITTANCE)] = None
    g_per_section_s: Annotated[float | None, attr("LinearShuntCompensator.gPerSection", q=Q.ADMITTANCE)] = None
    maximum_sections: Annotated[int | None, attr("ShuntCompensator.maximumSections", read=Read.INT)] = None
    normal_sections: Annotated[int | None, attr("ShuntCompensator.normalSections", read=Read.INT)] = None
    sections: Annotated[float | None, attr("ShuntCompensator.sections", "ShuntCompensator.SVsections")] = None
    nom_u_kv: Annotated[float | None, attr("ShuntCompensator.nomU", q=Q.VOLTAGE)] = None


class EquivalentInjection(Equipment):
    """An equivalent of the grid behind a node (IGM boundaries, aggregated feeders): p, q or a voltage."""

    p_mw: Annotated[float | None, attr("EquivalentInjection.p", q=Q.POWER)] = None
    q_mvar: Annotated[float | None, attr("EquivalentInjection.q", q=Q.POWER)] = None
    regulation_capability: Annotated[bool | None, attr("EquivalentInjection.regulationCapability", read=Read.BOOL)] = (
        None
    )
    regulation_status: Annotated[bool | None, attr("EquivalentInjection.regulationStatus", read=Read.BOOL)] = None
    regulation_target_kv: Annotated[float | None, attr("EquivalentInjection.regulationTarget", q=Q.VOLTAGE)] = None
    min_q_mvar: Annotated[float | None, attr("EquivalentInjection.minQ", q=Q.POWER)] = None
    max_q_mvar: Annotated[float | None, attr("EquivalentInjection.maxQ", q=Q.POWER)] = None
    capability_curve: Annotated[
        MRID | None, ref("EquivalentInjection.ReactiveCapabilityCurve", targets=("ReactiveCapabilityCurve",))
    ] = None


class AsynchronousMachine(Equipment):
    """An induction motor or generator: a PQ injection at its RotatingMachine p, q."""

    p_mw: Annotated[float | None, attr("RotatingMachine.p", q=Q.POWER)] = None
    q_mvar: Annotated[float | None, attr("RotatingMachine.q", q=Q.POWER)] = None
    rated_s_mva: Annotated[float | None, attr("RotatingMachine.ratedS", q=Q.POWER, check=POS)] = None
    rated_u_kv: Annotated[float | None, attr("RotatingMachine.ratedU", q=Q.VOLTAGE)] = None


class StaticVarCompensator(RegulatingCondEq):
    """A static var compensator: reactive power ``q`` (SSH, load sign) and its voltage control."""

    q_mvar: Annotated[float | None, attr("StaticVarCompensator.q", q=Q.POWER)] = None
    capacitive_rating_ohm: Annotated[float | None, attr("StaticVarCompensator.capacitiveRating", q=Q.IMPEDANCE)] = None
    inductive_rating_ohm: Annotated[float | None, attr("StaticVarCompensator.inductiveRating", q=Q.IMPEDANCE)] = None
    voltage_set_point_kv: Annotated[float | None, attr("StaticVarCompensator.voltageSetPoint", q=Q.VOLTAGE)] = None


class EquivalentShunt(Equipment):
    """A shunt admittance of an equivalent (S)."""

    g_s: Annotated[float | None, attr("EquivalentShunt.g", q=Q.ADMITTANCE)] = None
    b_s: Annotated[float | None, attr("EquivalentShunt.b", q=Q.ADMITTANCE)] = None


class AcDcConverter(Equipment):
    """The AC side of a CsConverter or VsConverter: p, q at its AC terminal (SSH, load sign)."""

    p_mw: Annotated[float | None, attr("ACDCConverter.p", q=Q.POWER)] = None
    q_mvar: Annotated[float | None, attr("ACDCConverter.q", q=Q.POWER)] = None


class NonlinearShuntCompensator(RegulatingCondEq):
    """Capacitor or reactor bank whose sections differ: see NonlinearShuntCompensatorPoint."""

    maximum_sections: Annotated[int | None, attr("ShuntCompensator.maximumSections", read=Read.INT)] = None
    normal_sections: Annotated[int | None, attr("ShuntCompensator.normalSections", read=Read.INT)] = None
    sections: Annotated[float | None, attr("ShuntCompensator.sections", "ShuntCompensator.SVsections")] = None
    nom_u_kv: Annotated[float | None, attr("ShuntCompensator.nomU", q=Q.VOLTAGE)] = None


class Curve(CimObject):
    """A ReactiveCapabilityCurve: its unit multipliers say what its CurveData values count (None: not given)."""

    x_multiplier: Annotated[str | None, attr("Curve.xMultiplier", read=Read.ENUM)] = None
    y1_multiplier: Annotated[str | None, attr("Curve.y1Multiplier", read=Read.ENUM)] = None
    y2_multiplier: Annotated[str | None, attr("Curve.y2Multiplier", read=Read.ENUM)] = None


class CurveData(CimObject):
    """One point of a Curve; of a ReactiveCapabilityCurve: active power ``x`` (MW, generator sense) and the
    reactive limits ``y1`` (minimum) and ``y2`` (maximum) there (Mvar, generator sense)."""

    curve: Annotated[MRID | None, ref("CurveData.Curve")] = None
    x: Annotated[float | None, attr("CurveData.xvalue", q=Q.POWER)] = None
    y1: Annotated[float | None, attr("CurveData.y1value", q=Q.POWER)] = None
    y2: Annotated[float | None, attr("CurveData.y2value", q=Q.POWER)] = None


class NonlinearShuntCompensatorPoint(CimObject):
    """The admittance section ``section_number`` adds to its NonlinearShuntCompensator (S)."""

    compensator: Annotated[
        MRID | None,
        ref("NonlinearShuntCompensatorPoint.NonlinearShuntCompensator", targets=("NonlinearShuntCompensator",)),
    ] = None
    section_number: Annotated[int | None, attr("NonlinearShuntCompensatorPoint.sectionNumber", read=Read.INT)] = None
    b_s: Annotated[float | None, attr("NonlinearShuntCompensatorPoint.b", q=Q.ADMITTANCE)] = None
    g_s: Annotated[float | None, attr("NonlinearShuntCompensatorPoint.g", q=Q.ADMITTANCE)] = None
