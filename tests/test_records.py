"""cimflow.records: the fast constructors make exactly the instances the classes make."""

from __future__ import annotations

import dataclasses

import pytest

from cimflow import records
from cimflow.powerflow.branches import BranchParams
from cimflow.powerflow.injections import InjectionRecord
from cimflow.powerflow.solution import BranchResult, BusResult
from cimflow.topology.model import Branch, BranchKind, Bus, Injection, VoltageSource

needs_native = pytest.mark.skipif(records._NATIVE is None, reason="cimflow/_records.c not built")

SAMPLES: list[tuple[type, tuple[object, ...]]] = [
    (BusResult, (3, "bus", None, "tn", ("cn1", "cn2"), 0, True, 20.0, 19.8, 0.99, -1.5, None)),
    (BranchResult, (0, "l", "l", None, "ACLineSegment", "line", "b1", "b2", *[0.5] * 10, 0.001)),
    (Branch, (1, "line", "ACLineSegment", BranchKind.LINE, 0, 1, "t1", "t2", ())),
    (Injection, ("load", "EnergyConsumer", 4, "t9")),
    (Bus, (0, "b", "name", (), ("tn",), 0.4, VoltageSource.TOPOLOGICAL_NODE, None, None)),
    (InjectionRecord, ("x", "EnergyConsumer", 2, "load", 0.1, 0.02, (0.5, 0.5, 0.0), (1.0, 0.0, 0.0))),
    (BranchParams, (1 - 2j, 0.01j, 0.01j, 1 + 0j, 0j, 0j, (("r_ohm", "0", "missing"),))),
]


@needs_native
@pytest.mark.parametrize(("cls", "values"), SAMPLES, ids=lambda v: getattr(v, "__name__", ""))
def test_same_instance_as_the_class(cls: type, values: tuple[object, ...]) -> None:
    make = records.constructor(cls)
    assert make is not cls
    got, expected = make(*values), cls(*values)
    assert type(got) is cls
    assert got == expected
    assert hash(got) == hash(expected)
    assert dataclasses.astuple(got) == dataclasses.astuple(expected)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(got, dataclasses.fields(cls)[0].name, None)


@needs_native
def test_keywords_and_defaults_go_to_the_class() -> None:
    make = records.constructor(InjectionRecord)
    short = make("x", "SynchronousMachine", 1, "generation", -0.1, 0.0)  # the shares by default
    assert short == InjectionRecord("x", "SynchronousMachine", 1, "generation", -0.1, 0.0)
    keyed = make(mrid="x", cim_class="C", bus=1, role="load", p_mw=1.0, q_mvar=0.0)
    assert keyed.p_shares == (1.0, 0.0, 0.0)
    with pytest.raises(TypeError):
        make(*range(9))  # one too many: the class's own error


def test_classes_it_cannot_speed_up_are_returned_as_they_are() -> None:
    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class PostInit:
        a: int

        def __post_init__(self) -> None:
            object.__setattr__(self, "a", self.a + 1)

    @dataclasses.dataclass(frozen=True, slots=True)
    class OwnInit:
        a: int

        def __init__(self, a: int) -> None:
            object.__setattr__(self, "a", 2 * a)

    @dataclasses.dataclass(frozen=True, slots=True)
    class OwnNew:
        a: int

        def __new__(cls, a: int) -> OwnNew:  # noqa: ARG004 - the signature of __init__
            return super().__new__(cls)

    class Plain:
        __slots__ = ("a",)

    for cls in (NoSlots, PostInit, OwnInit, OwnNew, Plain):
        assert records.constructor(cls) is cls
    assert records.constructor(PostInit)(1).a == 2
    assert records.constructor(OwnInit)(1).a == 2


def test_without_native_code_the_class_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "_NATIVE", None)
    assert records.constructor(BusResult) is BusResult


@needs_native
def test_the_helper_refuses_what_is_not_a_writable_slot() -> None:
    native = records._NATIVE
    assert native is not None

    class NotSlots:
        a = 1

    with pytest.raises(TypeError):
        native.constructor(NotSlots, ("a",))
    with pytest.raises(AttributeError):
        native.constructor(BusResult, ("index", "no_such_field"))
    with pytest.raises(TypeError):
        native.constructor(BusResult, ("index", "__init__"))  # a method, not a slot
    make = native.constructor(BusResult, ("index", "id"))  # fewer fields than the class: calls go to the class
    with pytest.raises(TypeError):
        make(1, "x", "y")
