"""Which CIM class (local name) is modelled by which cimflow class, and the class families topology needs."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from cimflow.model import core, equipment, injections, limits, state
from cimflow.model.base import CimObject

_FAMILIES: dict[type[CimObject], tuple[str, ...]] = {
    core.BaseVoltage: ("BaseVoltage",),
    core.GeographicalRegion: ("GeographicalRegion",),
    core.SubGeographicalRegion: ("SubGeographicalRegion",),
    core.Substation: ("Substation",),
    core.VoltageLevel: ("VoltageLevel",),
    core.Bay: ("Bay",),
    core.Feeder: ("Feeder",),
    core.ConnectivityNode: ("ConnectivityNode",),
    core.TopologicalNode: ("TopologicalNode",),
    core.Terminal: ("Terminal",),
    core.Location: ("Location",),
    core.PositionPoint: ("PositionPoint",),
    core.CoordinateSystem: ("CoordinateSystem",),
    equipment.ACLineSegment: ("ACLineSegment",),
    equipment.ACLineSegmentPhase: ("ACLineSegmentPhase",),
    equipment.WireSpacingInfo: ("WireSpacingInfo",),
    equipment.WirePosition: ("WirePosition",),
    equipment.WireInfo: equipment.WIRE_INFO_CLASSES,
    equipment.PerLengthSequenceImpedance: ("PerLengthSequenceImpedance",),
    equipment.PerLengthPhaseImpedance: ("PerLengthPhaseImpedance",),
    equipment.PhaseImpedanceData: ("PhaseImpedanceData",),
    equipment.PowerTransformer: ("PowerTransformer",),
    equipment.PowerTransformerEnd: ("PowerTransformerEnd",),
    equipment.TransformerTank: ("TransformerTank",),
    equipment.TransformerTankEnd: ("TransformerTankEnd",),
    equipment.TransformerTankInfo: ("TransformerTankInfo",),
    equipment.TransformerEndInfo: ("TransformerEndInfo",),
    equipment.ShortCircuitTest: ("ShortCircuitTest",),
    equipment.NoLoadTest: ("NoLoadTest",),
    equipment.TransformerMeshImpedance: ("TransformerMeshImpedance",),
    equipment.TransformerCoreAdmittance: ("TransformerCoreAdmittance",),
    equipment.RatioTapChanger: ("RatioTapChanger",),
    equipment.PhaseTapChanger: (
        "PhaseTapChanger", "PhaseTapChangerLinear", "PhaseTapChangerSymmetrical", "PhaseTapChangerAsymmetrical",
        "PhaseTapChangerTabular", "PhaseTapChangerNonLinear",
    ),
    equipment.TapChangerTablePoint: ("RatioTapChangerTablePoint", "PhaseTapChangerTablePoint"),
    equipment.SeriesCompensator: ("SeriesCompensator",),
    equipment.EquivalentBranch: ("EquivalentBranch",),
    equipment.Switch: (
        "Switch", "Breaker", "Disconnector", "LoadBreakSwitch", "Fuse", "Recloser", "Jumper", "Sectionaliser",
        "GroundDisconnector", "ProtectedSwitch", "DisconnectingCircuitBreaker", "Cut",
    ),
    injections.RegulatingControl: ("RegulatingControl", "TapChangerControl"),
    injections.LoadResponseCharacteristic: ("LoadResponseCharacteristic",),
    injections.EnergyConsumer: ("EnergyConsumer", "ConformLoad", "NonConformLoad", "StationSupply"),
    injections.EnergySource: ("EnergySource",),
    injections.ExternalNetworkInjection: ("ExternalNetworkInjection",),
    injections.GeneratingUnit: (
        "GeneratingUnit", "SolarGeneratingUnit", "WindGeneratingUnit", "ThermalGeneratingUnit",
        "HydroGeneratingUnit", "NuclearGeneratingUnit",
    ),
    injections.SynchronousMachine: ("SynchronousMachine",),
    injections.PowerElectronicsConnection: ("PowerElectronicsConnection",),
    injections.PowerElectronicsUnit: ("PhotoVoltaicUnit", "BatteryUnit", "PowerElectronicsWindUnit"),
    injections.LinearShuntCompensator: ("LinearShuntCompensator",),
    injections.NonlinearShuntCompensator: ("NonlinearShuntCompensator",),
    injections.NonlinearShuntCompensatorPoint: ("NonlinearShuntCompensatorPoint",),
    injections.Curve: ("ReactiveCapabilityCurve",),
    injections.CurveData: ("CurveData",),
    injections.EquivalentInjection: ("EquivalentInjection",),
    injections.EquivalentShunt: ("EquivalentShunt",),
    injections.AsynchronousMachine: ("AsynchronousMachine",),
    injections.StaticVarCompensator: ("StaticVarCompensator",),
    injections.AcDcConverter: ("CsConverter", "VsConverter"),
    limits.OperationalLimitSet: ("OperationalLimitSet",),
    limits.OperationalLimitType: ("OperationalLimitType",),
    limits.CurrentLimit: ("CurrentLimit",),
    limits.VoltageLimit: ("VoltageLimit",),
    limits.ApparentPowerLimit: ("ApparentPowerLimit",),
    state.SvVoltage: ("SvVoltage",),
    state.SvPowerFlow: ("SvPowerFlow",),
    state.SvInjection: ("SvInjection",),
    state.SvTapStep: ("SvTapStep",),
    state.SvStatus: ("SvStatus",),
}  # fmt: skip

MODEL_OF_CLASS: Mapping[str, type[CimObject]] = MappingProxyType(
    {name: model for model, names in _FAMILIES.items() for name in names}
)

# ConductingEquipment classes, modelled or not (topology needs their terminals either way)
CONDUCTING_EQUIPMENT = frozenset(
    {
        *_FAMILIES[equipment.Switch], *_FAMILIES[injections.EnergyConsumer], "ACLineSegment", "PowerTransformer",
        "EnergySource", "ExternalNetworkInjection", "SynchronousMachine", "AsynchronousMachine",
        "PowerElectronicsConnection", "LinearShuntCompensator", "NonlinearShuntCompensator", "StaticVarCompensator",
        "SeriesCompensator", "EquivalentInjection", "EquivalentBranch", "EquivalentShunt", "BusbarSection", "Junction",
        "Ground", "Clamp", "Conductor", "ACLineSegmentPhase", "PetersenCoil", "GroundingImpedance",
        "EnergyConsumerPhase", "CsConverter", "VsConverter", "TransformerTank", "PowerElectronicsUnit",
        "PhotoVoltaicUnit", "BatteryUnit", "PowerElectronicsWindUnit", "FaultIndicator", "EnergyConnection",
    }
)  # fmt: skip

# classes whose objects are two-terminal branches
BRANCH_CLASSES = frozenset({"ACLineSegment", "SeriesCompensator", "EquivalentBranch", *_FAMILIES[equipment.Switch]})
SWITCH_CLASSES = frozenset(_FAMILIES[equipment.Switch])

# every modelled class that is not conducting equipment: a reference to "*equipment" must not land here
NON_EQUIPMENT = frozenset(MODEL_OF_CLASS) - CONDUCTING_EQUIPMENT

# abstract CIM classes a profile may use to describe an object whose concrete class is given elsewhere
ABSTRACT_CLASSES = frozenset(
    {
        "IdentifiedObject", "PowerSystemResource", "Equipment", "ConductingEquipment", "RegulatingCondEq",
        "RotatingMachine", "EnergyConnection", "ProtectedSwitch", "Conductor", "TapChanger", "ShuntCompensator",
        "TransformerEnd", "OperationalLimit", "ACDCTerminal", "ConnectivityNodeContainer", "EquipmentContainer",
        "PowerElectronicsUnit", "Description", "Curve", "EquivalentEquipment", "Measurement", "MeasurementValue",
        "ACDCConverter",
    }
)  # fmt: skip


def is_generalisation(general: str, specific: str) -> bool:
    """Tell whether ``general`` is an abstract or family-root class of ``specific`` (EnergyConsumer of ConformLoad)."""
    if general in ABSTRACT_CLASSES:
        return True
    model = MODEL_OF_CLASS.get(general)
    return model is not None and MODEL_OF_CLASS.get(specific) is model and _FAMILIES[model][0] == general
