"""The SV writer's fast paths give the same text as the slow ones: uuid5 (in C and in Python), skipped escaping,
number text."""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cimflow.report.cim_annotated import _NS_UUID, _esc, _finite, _text, _uuid5_many


def _paths() -> list[object]:
    """The native loop (where built) and the Python one, as ``native_builder`` results to patch in."""
    from cimflow.cim.descriptions import native_builder

    native = native_builder()
    return [None] if native is None else [native, None]


@given(prefix=st.text(max_size=200), key=st.text(max_size=80))
@example(prefix="", key="")
@example(prefix="a|b|c/SvStatus/", key="_0f46bbda-0f65-51df-9a2d-948ec66c6e00")
@example(prefix="Ünïcödé/€/", key="𝄞 & <tag>")
def test_uuid5_equals_stdlib(prefix: str, key: str) -> None:
    import cimflow.report.cim_annotated as annotated

    expected = [str(uuid.uuid5(_NS_UUID, prefix + key)), str(uuid.uuid5(_NS_UUID, prefix + key + "x"))]
    for native in _paths():
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(annotated, "native_builder", lambda native=native: native)
            assert _uuid5_many(prefix, [key, key + "x"]) == expected
            assert _uuid5_many(prefix, iter([key])) == expected[:1]


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_uuid5_reuses_prefix_state(native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hash state is copied per key, so a key does not leak into the next one; both loops."""
    import cimflow.report.cim_annotated as annotated

    if native and len(_paths()) == 1:
        pytest.skip("native reader not built")
    if not native:
        monkeypatch.setattr(annotated, "native_builder", lambda: None)
    keys = [f"bus-{i}" for i in range(50)]
    got = _uuid5_many("seed/SvVoltage/", keys)
    assert got == [str(uuid.uuid5(_NS_UUID, f"seed/SvVoltage/{k}")) for k in keys]
    assert _uuid5_many("seed/SvVoltage/", []) == []
    assert all(uuid.UUID(g).version == 5 and uuid.UUID(g).variant == uuid.RFC_4122 for g in got)


def test_native_uuid5_refuses_what_is_not_a_key() -> None:
    """A key that is not text is a TypeError, not a crash or a made-up id."""
    from cimflow.cim.descriptions import native_builder

    native = native_builder()
    if native is None:
        pytest.skip("native reader not built")
    from hashlib import sha1

    with pytest.raises(TypeError):
        native.uuid5_many(sha1(), ["a", 1])
    with pytest.raises(TypeError):
        native.uuid5_many(sha1(), ("a",))
    with pytest.raises(UnicodeEncodeError):  # as uuid.uuid5 does
        native.uuid5_many(sha1(), ["\ud800"])


def test_native_uuid5_survives_a_base_that_misbehaves() -> None:
    """The loop reads its own copy of the keys, and a digest that is no digest is an error, not a made-up id."""
    from hashlib import sha1

    from cimflow.cim.descriptions import native_builder

    native = native_builder()
    if native is None:
        pytest.skip("native reader not built")
    prefix = _NS_UUID.bytes + b"p/"

    class Clearing:  # empties and refills the caller's list on every copy
        def __init__(self, keys: list[str]) -> None:
            self.keys = keys

        def copy(self) -> object:
            self.keys.clear()
            self.keys.extend(["other"] * 3)
            return sha1(prefix)

    keys = [f"k{i}" for i in range(20)]
    assert native.uuid5_many(Clearing(keys), keys) == [str(uuid.uuid5(_NS_UUID, f"p/k{i}")) for i in range(20)]

    class Short:
        def copy(self) -> Short:
            return self

        def update(self, data: bytes) -> None:
            pass

        def digest(self) -> object:
            return "not bytes"

    with pytest.raises(ValueError, match="str"):
        native.uuid5_many(Short(), ["a"])


@given(st.text(max_size=60))
@example("a&b<c>d")
@example("&amp;")
def test_esc_equals_escape(text: str) -> None:
    assert _esc(text) == escape(text)


def _slow_text(value: object) -> str:
    """A literal's text written the plain way: 12 significant digits, 0 if not finite, then ``escape``."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = "%.12g" % float(value) if math.isfinite(value) else "0"  # noqa: UP031 (printf: another path)
    else:
        text = str(value)
    return escape(text)


@given(st.floats(allow_nan=True, allow_infinity=True))
@example(-0.0)
@example(1e300)
@example(-1.449570368387499)
def test_float_text_equals_slow_path(value: float) -> None:
    text = _text(value)
    assert text == _slow_text(value)
    assert [f"{x:.12g}" for x in _finite(np.array([value, value]))] == [text, text]
    if math.isfinite(value):  # read back within 12 significant digits
        assert float(text) == pytest.approx(value, rel=5e-12, abs=0.0)


@pytest.mark.parametrize(
    "value",
    [True, False, 0, 3, -7, "island 0", "a & b <c>", np.float64(0.5), np.float64(math.inf), np.int64(4), 2.5],
)
def test_other_text_equals_slow_path(value: object) -> None:
    assert _text(value) == _slow_text(value)


@pytest.mark.parametrize(
    ("value", "text"), [(np.float64(0.5), "0.5"), (np.float32(0.25), "0.25"), (np.float64(0.0), "0")]
)
def test_numpy_floats_are_written_as_plain_finite(value: object, text: str) -> None:
    assert _text(value) == text  # not "np.float64(0.5)": that is no xsd:float


def _rendered(paths: list[Path], *, native: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    import cimflow
    import cimflow.report.cim_annotated as annotated

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    if not native:
        monkeypatch.setattr(annotated, "native_builder", lambda: None)
    result = cimflow.solve(paths)
    v = result.validation
    assert v.network is not None
    assert v.topology is not None
    assert result.build is not None
    assert result.result is not None
    assert result.solution is not None
    docs = annotated.render_annotated_cim(v.network, v.topology, result.build, result.result, result.solution, stem="x")
    monkeypatch.undo()
    return dict(docs.documents)


@pytest.mark.parametrize("grid", ["simbench", "synthetic", "minigrid"])
def test_bulk_rows_in_c_are_the_python_text(grid: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SV's SvVoltage, SvPowerFlow and SvStatus rows made in C are byte for byte those of the f-strings."""
    from cimflow.cim.descriptions import native_builder
    from cimflow.samples import write_synthetic_feeder
    from tests.conftest import ROOT, SAMPLES

    if native_builder() is None:
        pytest.skip("native reader not built")
    if grid == "simbench":
        paths = [p for p in sorted((SAMPLES / "simbench-lv-urban6").glob("*.xml")) if "_SV" not in p.name]
    elif grid == "synthetic":
        paths = write_synthetic_feeder(300, tmp_path, pv_share=0.3)
    else:
        folder = ROOT.parent / "shared" / "data" / "entsoe-cgmes-3.0" / "cgmes3-test-models" / "MiniGrid"
        paths = [p for p in sorted(folder.glob("*.xml")) if "_SV" not in p.name]
        if not paths:
            pytest.skip("MiniGrid 3.0 not in the shared data")
    fast = _rendered(paths, native=True, monkeypatch=monkeypatch)
    slow = _rendered(paths, native=False, monkeypatch=monkeypatch)
    assert fast.keys() == slow.keys()
    for name in fast:
        assert fast[name] == slow[name], name
    assert any(b"<cim:SvPowerFlow " in doc for doc in fast.values())


@pytest.mark.parametrize("native", [True, False], ids=["native", "python"])
def test_bulk_rows_are_the_objects_writer_text(native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every SvVoltage, SvPowerFlow and SvStatus is the text ``_Writer.obj`` gives for its subject and
    properties, and each SvVoltage carries its bus's solved angle and voltage as ``_text`` writes them."""
    import re

    from cimflow.cim.descriptions import native_builder
    from cimflow.report.cim_annotated import _lit, _res, _Writer
    from tests.conftest import SAMPLES

    if native and native_builder() is None:
        pytest.skip("native reader not built")
    paths = [p for p in sorted((SAMPLES / "simbench-lv-urban6").glob("*.xml")) if "_SV" not in p.name]
    sv_text = next(d for n, d in _rendered(paths, native=native, monkeypatch=monkeypatch).items() if "_SV" in n)
    text = sv_text.decode("utf-8")
    block = re.compile(r"  <cim:(SvVoltage|SvPowerFlow|SvStatus) (rdf:[^>]*)>\n(.*?)\n  </cim:\1>", re.S)
    prop = re.compile(r'    <cim:([\w.]+)(?:>(.*?)</cim:\1>| rdf:resource="([^"]*)"/>)')
    seen: dict[str, int] = {}
    voltages: list[tuple[str, str]] = []
    for m in block.finditer(text):
        cls, subject, body = m.groups()
        props = [
            _lit(q.group(1), q.group(2)) if q.group(3) is None else _res(q.group(1), q.group(3))
            for q in prop.finditer(body)
        ]
        one = _Writer("ns", header=None)
        one.obj(cls, subject, props)
        assert m.group(0) + "\n" == "\n".join(one.lines) + "\n", cls
        seen[cls] = seen.get(cls, 0) + 1
        if cls == "SvVoltage":
            voltages.append((props[0], props[1]))
    assert seen.keys() == {"SvVoltage", "SvPowerFlow", "SvStatus"}
    import cimflow

    solution = cimflow.solve(paths).solution
    assert solution is not None
    expected = [(_lit("SvVoltage.angle", b.angle_deg), _lit("SvVoltage.v", b.v_kv)) for b in solution.buses]
    assert voltages == expected
