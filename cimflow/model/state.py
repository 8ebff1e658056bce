"""State variables (SV profile) read from a file: a previous solution, used as a reference."""

from __future__ import annotations

from typing import Annotated

from cimflow.ids import MRID
from cimflow.model.base import CimObject, Read, attr, ref
from cimflow.units import Quantity as Q


class SvVoltage(CimObject):
    """Solved voltage of a TopologicalNode: kV phase to phase and degrees."""

    topological_node: Annotated[MRID | None, ref("SvVoltage.TopologicalNode", targets=("TopologicalNode",))] = None
    v_kv: Annotated[float | None, attr("SvVoltage.v", q=Q.VOLTAGE)] = None
    angle_deg: Annotated[float | None, attr("SvVoltage.angle")] = None


class SvPowerFlow(CimObject):
    """Solved flow at a terminal, load sign convention (node into equipment is positive)."""

    terminal: Annotated[MRID | None, ref("SvPowerFlow.Terminal", targets=("Terminal",))] = None
    p_mw: Annotated[float | None, attr("SvPowerFlow.p", q=Q.POWER)] = None
    q_mvar: Annotated[float | None, attr("SvPowerFlow.q", q=Q.POWER)] = None


class SvInjection(CimObject):
    """Solved injection at a node (positive = into the bus)."""

    topological_node: Annotated[MRID | None, ref("SvInjection.TopologicalNode", targets=("TopologicalNode",))] = None
    p_injection_mw: Annotated[float | None, attr("SvInjection.pInjection", q=Q.POWER)] = None
    q_injection_mvar: Annotated[float | None, attr("SvInjection.qInjection", q=Q.POWER)] = None


class SvTapStep(CimObject):
    """Solved tap position."""

    tap_changer: Annotated[MRID | None, ref("SvTapStep.TapChanger")] = None
    position: Annotated[float | None, attr("SvTapStep.position")] = None


class SvStatus(CimObject):
    """Solved in-service status of equipment."""

    conducting_equipment: Annotated[MRID | None, ref("SvStatus.ConductingEquipment")] = None
    in_service: Annotated[bool | None, attr("SvStatus.inService", read=Read.BOOL)] = None
