"""Frozen pydantic base of every modelled CIM object, and the attribute mapping that drives the builder.

Each model field that comes from a CIM attribute carries an :class:`Attr` in its ``Annotated``
metadata: the CIM attribute names it is read from (first found wins, so 2.4.15 and 3.0 spellings can
both be listed), how to read the value, the physical quantity for the unit conversion and the
constraint checked when the model is built. The builder reads this metadata; model classes stay
declarative.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict

from cimflow.findings import Location
from cimflow.ids import MRID
from cimflow.units import Quantity


class Read(StrEnum):
    """How an attribute's value is read."""

    FLOAT = "float"
    INT = "int"
    BOOL = "bool"
    STR = "str"
    REF = "ref"  # rdf:resource -> mRID
    REFS = "refs"  # several rdf:resource -> tuple of mRIDs
    ENUM = "enum"  # rdf:resource to an enumeration URI (or its literal) -> literal name


class Check(StrEnum):
    """Constraint checked when the model is built; a violation becomes a located finding."""

    NONE = "none"
    NON_NEGATIVE = "non_negative"  # CF201
    POSITIVE_VOLTAGE = "positive_voltage"  # CF204
    POSITIVE_RATING = "positive_rating"  # CF206
    POSITIVE_LENGTH = "positive_length"  # CF203


@dataclass(frozen=True, slots=True)
class Attr:
    """Where a model field comes from in CIM."""

    names: tuple[str, ...]
    read: Read = Read.FLOAT
    quantity: Quantity = Quantity.NONE
    check: Check = Check.NONE
    targets: tuple[str, ...] = ()  # expected classes of a reference ("" = any)
    enum: tuple[str, ...] = ()  # known literals of an enumeration


def attr(
    *names: str,
    read: Read = Read.FLOAT,
    q: Quantity = Quantity.NONE,
    check: Check = Check.NONE,
    targets: tuple[str, ...] = (),
    enum: tuple[str, ...] = (),
) -> Attr:
    """Shorthand for :class:`Attr`."""
    return Attr(names, read, q, check, targets, enum)


def ref(*names: str, targets: tuple[str, ...] = ()) -> Attr:
    """An association read as an mRID."""
    return Attr(names, Read.REF, targets=targets)


@dataclass(frozen=True, slots=True)
class SourceRef:
    """File and line an object (or its defining description) came from."""

    file: str
    line: int


_REQUIRED: Any = object()  # in a layout: the field has no default
_LAYOUTS: dict[type[BaseModel], tuple[tuple[str, Any], ...]] = {}
_FIELDS_SET: dict[tuple[Any, ...], frozenset[str]] = {}
_setattr = object.__setattr__


def layout_of(cls: type[BaseModel]) -> tuple[tuple[str, Any], ...]:
    """Every field of a model class in declaration order, with its default (``_REQUIRED`` if it has none).

    Computed once per class (kept in ``_LAYOUTS``). Instances get their fields in this order, one by one:
    CPython then keeps their values in the object itself with the keys shared by the class (about 350 bytes
    less per object than a dict of their own, and faster attribute reads), for every object of a class.
    """
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = tuple(
            (name, _REQUIRED if f.is_required() else f.default) for name, f in cls.model_fields.items()
        )
    return layout


class CimObject(BaseModel):
    """Base of every modelled object: mRID, concrete CIM class, name and source location."""

    # defer_build: the validators of the seventy classes are built when one is first validated (a test or a
    # caller's own constructor); reading and solving make objects without validation (from_checked), so
    # every command starts 0.2-0.4 s sooner
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True, defer_build=True)

    mrid: MRID
    cim_class: str
    name: Annotated[str | None, attr("IdentifiedObject.name", read=Read.STR)] = None
    description: Annotated[str | None, attr("IdentifiedObject.description", read=Read.STR)] = None
    source: SourceRef

    @classmethod
    def from_checked(cls, values: dict[str, Any]) -> Self:
        """Build an instance from values the builder has already typed and checked (no re-validation).

        The model builder converts and checks every attribute itself and turns problems into
        findings; validating each of a million objects again would only cost time.
        """
        layout = _LAYOUTS.get(cls) or layout_of(cls)
        # one shared, immutable set of field names per class and key combination: a set per object
        # would weigh more than the object's own values (about 0.5-1.2 kB each, 10^6 objects at 100k buses)
        key = (cls, *values)
        fields_set = _FIELDS_SET.get(key)
        if fields_set is None:
            fields_set = _FIELDS_SET[key] = frozenset(values)
        obj = cls.__new__(cls)
        get = values.get
        for name, default in layout:
            value = get(name, default)
            if value is not _REQUIRED:
                _setattr(obj, name, value)
        _setattr(obj, "__pydantic_fields_set__", fields_set)
        _setattr(obj, "__pydantic_extra__", None)
        _setattr(obj, "__pydantic_private__", None)
        return obj

    def __copy__(self) -> Self:
        copied = super().__copy__()
        _setattr(copied, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))  # model_copy(update=) adds to it
        return copied

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        copied = super().__deepcopy__(memo)
        _setattr(copied, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))
        return copied

    def location(self, attribute: str | None = None) -> Location:
        """Location of this object (and optionally one attribute) for a finding."""
        return Location(
            mrid=self.mrid, cim_class=self.cim_class, attribute=attribute, file=self.source.file, line=self.source.line
        )

    @property
    def label(self) -> str:
        """Human label: the name if there is one, else the mRID."""
        return self.name or self.mrid
