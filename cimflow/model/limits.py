"""Operational limits (CurrentLimit, VoltageLimit, ApparentPowerLimit) and the sets that hold them."""

from __future__ import annotations

from typing import Annotated

from cimflow.ids import MRID
from cimflow.model.base import Check, CimObject, Read, attr, ref
from cimflow.units import Quantity as Q

LIMIT_KINDS = ("patl", "tatl", "tc", "tct", "highVoltage", "lowVoltage", "patlt", "alarmVoltage", "warningVoltage")


class OperationalLimitSet(CimObject):
    """A set of limits attached to a terminal or a piece of equipment."""

    terminal: Annotated[
        MRID | None, ref("OperationalLimitSet.Terminal", targets=("Terminal", "DCTerminal", "ACDCConverterDCTerminal"))
    ] = None
    equipment: Annotated[MRID | None, ref("OperationalLimitSet.Equipment")] = None

    @property
    def owner(self) -> MRID | None:
        """What the limits apply to: the terminal, else the equipment."""
        return self.terminal or self.equipment


class OperationalLimitType(CimObject):
    """Kind of limit: PATL (permanent), TATL (temporary) with its acceptable duration."""

    limit_type: Annotated[
        str | None,
        attr("OperationalLimitType.limitType", "OperationalLimitType.kind", read=Read.ENUM, enum=LIMIT_KINDS),
    ] = None
    acceptable_duration_s: Annotated[float | None, attr("OperationalLimitType.acceptableDuration")] = None
    direction: Annotated[str | None, attr("OperationalLimitType.direction", read=Read.ENUM)] = None
    is_infinite_duration: Annotated[bool | None, attr("OperationalLimitType.isInfiniteDuration", read=Read.BOOL)] = None


class OperationalLimit(CimObject):
    """Base of limit values: the set and type it belongs to."""

    limit_set: Annotated[MRID | None, ref("OperationalLimit.OperationalLimitSet", targets=("OperationalLimitSet",))] = (
        None
    )
    limit_type_ref: Annotated[
        MRID | None, ref("OperationalLimit.OperationalLimitType", targets=("OperationalLimitType",))
    ] = None


class CurrentLimit(OperationalLimit):
    """Current limit in A (2.4.15: value; 3.0: normalValue in EQ, value in SSH)."""

    value_a: Annotated[float | None, attr("CurrentLimit.value", q=Q.CURRENT)] = None
    normal_value_a: Annotated[float | None, attr("CurrentLimit.normalValue", q=Q.CURRENT)] = None

    @property
    def limit_a(self) -> float | None:
        """The operative limit: the SSH value where given, else the normal value."""
        return self.value_a if self.value_a is not None else self.normal_value_a


class VoltageLimit(OperationalLimit):
    """Voltage limit in kV."""

    value_kv: Annotated[float | None, attr("VoltageLimit.value", q=Q.VOLTAGE)] = None
    normal_value_kv: Annotated[float | None, attr("VoltageLimit.normalValue", q=Q.VOLTAGE)] = None


class ApparentPowerLimit(OperationalLimit):
    """Apparent power limit in MVA."""

    value_mva: Annotated[float | None, attr("ApparentPowerLimit.value", q=Q.POWER, check=Check.NONE)] = None
    normal_value_mva: Annotated[float | None, attr("ApparentPowerLimit.normalValue", q=Q.POWER)] = None
