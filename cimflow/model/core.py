"""Voltages, containers, nodes and terminals: the skeleton every piece of equipment hangs on."""

from __future__ import annotations

from typing import Annotated

from cimflow.ids import MRID
from cimflow.model.base import Check, CimObject, Read, attr, ref
from cimflow.units import Quantity as Q

PHASE_CODES = (
    "ABCN", "ABC", "ABN", "ACN", "BCN", "AB", "AC", "BC", "AN", "BN", "CN", "A", "B", "C", "N",
    "s1N", "s2N", "s12N", "s1", "s2", "s12", "none", "X", "XY", "XN", "XYN",
)  # fmt: skip
CONTAINERS = ("Substation", "VoltageLevel", "Bay", "Line", "Feeder", "Plant", "EquipmentContainer", "Circuit", "")


class BaseVoltage(CimObject):
    """Nominal voltage level shared by equipment (kV, phase to phase)."""

    nominal_voltage_kv: Annotated[
        float | None, attr("BaseVoltage.nominalVoltage", q=Q.VOLTAGE, check=Check.POSITIVE_VOLTAGE)
    ] = None


class GeographicalRegion(CimObject):
    """Top-level geographical region."""


class SubGeographicalRegion(CimObject):
    """Sub-region of a GeographicalRegion."""

    region: Annotated[MRID | None, ref("SubGeographicalRegion.Region", targets=("GeographicalRegion",))] = None


class Substation(CimObject):
    """A substation (container of voltage levels)."""

    region: Annotated[MRID | None, ref("Substation.Region", targets=("SubGeographicalRegion",))] = None


class VoltageLevel(CimObject):
    """Equipment of one voltage inside a substation."""

    substation: Annotated[MRID | None, ref("VoltageLevel.Substation", targets=("Substation",))] = None
    base_voltage: Annotated[MRID | None, ref("VoltageLevel.BaseVoltage", targets=("BaseVoltage",))] = None
    high_voltage_limit_kv: Annotated[float | None, attr("VoltageLevel.highVoltageLimit", q=Q.VOLTAGE)] = None
    low_voltage_limit_kv: Annotated[float | None, attr("VoltageLevel.lowVoltageLimit", q=Q.VOLTAGE)] = None


class Bay(CimObject):
    """A bay inside a voltage level."""

    voltage_level: Annotated[MRID | None, ref("Bay.VoltageLevel", targets=("VoltageLevel",))] = None


class Feeder(CimObject):
    """A distribution feeder (CIM100 container)."""

    substation: Annotated[MRID | None, ref("Feeder.NormalEnergizingSubstation", targets=("Substation",))] = None


class ConnectivityNode(CimObject):
    """Node-breaker connection point; joined across closed switches into buses."""

    container: Annotated[MRID | None, ref("ConnectivityNode.ConnectivityNodeContainer", targets=CONTAINERS)] = None
    topological_node: Annotated[MRID | None, ref("ConnectivityNode.TopologicalNode", targets=("TopologicalNode",))] = (
        None
    )


class TopologicalNode(CimObject):
    """Bus of a bus-branch model (TP profile)."""

    base_voltage: Annotated[MRID | None, ref("TopologicalNode.BaseVoltage", targets=("BaseVoltage",))] = None
    container: Annotated[MRID | None, ref("TopologicalNode.ConnectivityNodeContainer", targets=CONTAINERS)] = None


class Terminal(CimObject):
    """Connection of a piece of conducting equipment to a node."""

    conducting_equipment: Annotated[MRID | None, ref("Terminal.ConductingEquipment", targets=("*equipment",))] = None
    connectivity_node: Annotated[MRID | None, ref("Terminal.ConnectivityNode", targets=("ConnectivityNode",))] = None
    topological_node: Annotated[MRID | None, ref("Terminal.TopologicalNode", targets=("TopologicalNode",))] = None
    sequence_number: Annotated[
        int | None, attr("ACDCTerminal.sequenceNumber", "Terminal.sequenceNumber", read=Read.INT)
    ] = None
    connected: Annotated[bool | None, attr("ACDCTerminal.connected", "Terminal.connected", read=Read.BOOL)] = None
    phases: Annotated[str | None, attr("Terminal.phases", read=Read.ENUM, enum=PHASE_CODES)] = None


class Location(CimObject):
    """Geographical location of a power system resource (GL profile)."""

    coordinate_system: Annotated[MRID | None, ref("Location.CoordinateSystem", targets=("CoordinateSystem",))] = None
    resource: Annotated[MRID | None, ref("Location.PowerSystemResources")] = None


class PositionPoint(CimObject):
    """One coordinate of a Location, ordered by sequence number."""

    location_ref: Annotated[MRID | None, ref("PositionPoint.Location", targets=("Location",))] = None
    sequence_number: Annotated[int | None, attr("PositionPoint.sequenceNumber", read=Read.INT)] = None
    x: Annotated[float | None, attr("PositionPoint.xPosition")] = None
    y: Annotated[float | None, attr("PositionPoint.yPosition")] = None


class CoordinateSystem(CimObject):
    """Coordinate reference system of locations."""

    crs_urn: Annotated[str | None, attr("CoordinateSystem.crsUrn", read=Read.STR)] = None
