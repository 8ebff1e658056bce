"""The model does not depend on how the file is written: identifier forms, order, splitting, unit dialect."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cimflow
from cimflow.model.equipment import ACLineSegment
from cimflow.model.injections import EnergyConsumer
from tests.cim.tiny import UUIDS, Form, tiny_grid


def _load(tmp: Path, form: Form) -> cimflow.Network:
    tmp.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in tiny_grid(form).items():
        p = tmp / f"grid_{name}.xml"
        p.write_text(text, encoding="utf-8")
        paths.append(p)
    result = cimflow.load(paths)
    assert result.network is not None
    return result.network


def _essence(net: cimflow.Network) -> dict[str, object]:
    """What a solver needs from the tiny grid, in internal units."""
    line = net.lines[UUIDS["line"]]  # type: ignore[index]
    load = net.loads[UUIDS["load"]]  # type: ignore[index]
    t = net.terminals
    return {
        "bv_kv": net.base_voltages[UUIDS["bv"]].nominal_voltage_kv,  # type: ignore[index]
        "line": (line.r_ohm, line.x_ohm, line.bch_s, line.length_km, line.base_voltage),
        "load": (load.p_mw, load.q_mvar),
        "terminals": sorted((k, v.conducting_equipment, v.topological_node, v.sequence_number) for k, v in t.items()),
    }


def test_cgmes_values_in_internal_units(tmp_path: Path) -> None:
    net = _load(tmp_path, Form())
    assert isinstance(net.lines[UUIDS["line"]], ACLineSegment)  # type: ignore[index]
    e = _essence(net)
    assert e["bv_kv"] == pytest.approx(0.4)
    assert e["line"] == pytest.approx((0.05, 0.02, 0.0, 0.25, UUIDS["bv"]))  # type: ignore[arg-type]
    assert e["load"] == pytest.approx((0.03, 0.01))  # type: ignore[arg-type]


def test_same_grid_in_both_dialects_gives_same_model(tmp_path: Path) -> None:
    cgmes = _essence(_load(tmp_path / "a", Form()))
    si = _essence(_load(tmp_path / "b", Form(si_units=True, id_style="urn")))
    assert si["bv_kv"] == pytest.approx(cgmes["bv_kv"])
    assert si["line"][:4] == pytest.approx(cgmes["line"][:4])  # type: ignore[index]
    assert si["load"] == pytest.approx(cgmes["load"])  # type: ignore[arg-type]
    assert si["terminals"] == cgmes["terminals"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    id_style=st.sampled_from(["rdfid", "about-hash", "urn", "no-underscore"]),
    split=st.booleans(),
    shuffle_seed=st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_model_independent_of_writing(
    tmp_path_factory: pytest.TempPathFactory, id_style: str, split: bool, shuffle_seed: int | None
) -> None:
    reference = _essence(_load(tmp_path_factory.mktemp("ref"), Form()))
    other = _essence(
        _load(tmp_path_factory.mktemp("x"), Form(id_style=id_style, split=split, shuffle_seed=shuffle_seed))
    )
    assert other == reference


def test_loads_keep_source_location(tmp_path: Path) -> None:
    net = _load(tmp_path, Form(split=True))
    load = net.loads[UUIDS["load"]]  # type: ignore[index]
    assert isinstance(load, EnergyConsumer)
    assert load.source.file.endswith("grid_EQ.xml")
    assert load.source.line > 1
    assert load.location("p_mw").attribute == "p_mw"


def test_missing_is_none_not_zero(tmp_path: Path) -> None:
    net = _load(tmp_path, Form())
    line = net.lines[UUIDS["line"]]  # type: ignore[index]
    assert line.gch_s is None
    assert line.r0_ohm is None


def test_model_is_frozen(tmp_path: Path) -> None:
    net = _load(tmp_path, Form())
    line = net.lines[UUIDS["line"]]  # type: ignore[index]
    with pytest.raises(Exception):  # noqa: B017,PT011 - pydantic raises ValidationError for frozen models
        line.r_ohm = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        net.lines[UUIDS["line"]] = line  # type: ignore[index]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, 0, 1, 2, 3]), st.sampled_from("abcd")), min_size=1, max_size=4))
def test_terminal_groups_ordered_by_number_then_mrid(spec: list[tuple[int | None, str]]) -> None:
    from cimflow.model.base import SourceRef
    from cimflow.model.core import Terminal
    from cimflow.model.network import _ordered

    src = SourceRef("f.xml", 1)
    terms = [
        Terminal(mrid=f"{m}{i}", cim_class="Terminal", source=src, sequence_number=n) for i, (n, m) in enumerate(spec)
    ]
    got = _ordered({"eq": terms}, lambda t: t.sequence_number)["eq"]
    assert [t.mrid for t in got] == [t.mrid for t in sorted(terms, key=lambda t: (t.sequence_number or 0, t.mrid))]


def test_objects_keep_values_in_class_order(tmp_path: Path) -> None:
    """Every built object has all its fields, in the class's order, defaults included (native and Python)."""
    net = _load(tmp_path, Form())
    for obj in net.by_mrid.values():
        fields = list(type(obj).model_fields)
        assert list(obj.__dict__) == fields, obj.cim_class
        assert obj.model_fields_set <= set(fields)
        assert obj == obj.model_copy()
