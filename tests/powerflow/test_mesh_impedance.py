"""CIM100 TransformerMeshImpedance: the same transformer given as a mesh or as star end impedances solves the
same; resistances repeated on the ends next to a mesh (as CIMHub writes them) are not counted twice."""

from __future__ import annotations

from pathlib import Path

import pytest

import cimflow

_TOPO = Path(__file__).resolve().parents[1] / "data" / "cim" / "topology"
_CIM = 'xmlns:cim="http://iec.ch/TC57/2013/CIM-schema-cim16#"'


def _end_rx(r: float | None, x: float | None) -> str:
    out = ""
    if r is not None:
        out += f"<cim:PowerTransformerEnd.r>{r!r}</cim:PowerTransformerEnd.r>"
    if x is not None:
        out += f"<cim:PowerTransformerEnd.x>{x!r}</cim:PowerTransformerEnd.x>"
    return out


def _mesh(key: str, from_end: str, to_end: str, r: float, x: float) -> str:
    return (
        f'<cim:TransformerMeshImpedance rdf:ID="_{key}">'
        f'<cim:TransformerMeshImpedance.FromTransformerEnd rdf:resource="#{from_end}"/>'
        f'<cim:TransformerMeshImpedance.ToTransformerEnd rdf:resource="#{to_end}"/>'
        f"<cim:TransformerMeshImpedance.r>{r!r}</cim:TransformerMeshImpedance.r>"
        f"<cim:TransformerMeshImpedance.x>{x!r}</cim:TransformerMeshImpedance.x>"
        "</cim:TransformerMeshImpedance>\n"
    )


def _write(tmp: Path, stem: str, ends: dict[str, str], extra: str, loads: dict[str, tuple[float, float]]) -> list[Path]:
    tmp.mkdir(parents=True, exist_ok=True)
    eq = (_TOPO / f"{stem}_EQ.xml").read_text(encoding="utf-8")
    for end, rx in ends.items():
        anchor = f'<cim:PowerTransformerEnd rdf:ID="{end}">'
        assert anchor in eq
        eq = eq.replace(anchor, anchor + rx)
    ssh = "".join(
        f'<cim:EnergyConsumer rdf:about="#{m}"><cim:EnergyConsumer.p>{p!r}</cim:EnergyConsumer.p>'
        f"<cim:EnergyConsumer.q>{q!r}</cim:EnergyConsumer.q></cim:EnergyConsumer>\n"
        for m, (p, q) in loads.items()
    )
    eq = eq.replace("</rdf:RDF>", extra + ssh + "</rdf:RDF>")
    assert _CIM in eq
    (tmp / f"{stem}_EQ.xml").write_text(eq, encoding="utf-8")
    (tmp / f"{stem}_TP.xml").write_text((_TOPO / f"{stem}_TP.xml").read_text(encoding="utf-8"), encoding="utf-8")
    return [tmp / f"{stem}_EQ.xml", tmp / f"{stem}_TP.xml"]


def _v(paths: list[Path]) -> dict[str, complex]:
    result = cimflow.solve(paths)
    assert result.solution is not None
    assert result.solution.converged
    return {b.id: complex(b.v_pu, b.angle_deg) for b in result.solution.buses}


_LOADS_2W = {"_load1": (0.05, 0.02), "_load2": (0.04, 0.01)}


def test_two_winding_mesh_equals_star(tmp_path: Path) -> None:
    r, x = 0.4, 2.0  # ohm at the 20 kV end
    ratio_sq = (0.42 / 20.0) ** 2
    star = _write(tmp_path / "star", "bus_branch", {"_tr_end1": _end_rx(r, x)}, "", _LOADS_2W)
    mesh_hv = _write(tmp_path / "hv", "bus_branch", {}, _mesh("m", "_tr_end1", "_tr_end2", r, x), _LOADS_2W)
    # seen from the 0.42 kV end, with each winding's half of r repeated on the ends as CIMHub writes it
    mesh_lv = _write(
        tmp_path / "lv",
        "bus_branch",
        {"_tr_end1": _end_rx(r / 2, None), "_tr_end2": _end_rx(r / 2 * ratio_sq, None)},
        _mesh("m", "_tr_end2", "_tr_end1", r * ratio_sq, x * ratio_sq),
        _LOADS_2W,
    )
    reference = _v(star)
    assert min(abs(v.real) for v in reference.values()) < 0.999  # the impedance matters in this case
    for variant in (mesh_hv, mesh_lv):
        got = _v(variant)
        assert got.keys() == reference.keys()
        for k in reference:
            assert got[k] == pytest.approx(reference[k], abs=1e-9), k


def test_three_winding_mesh_equals_star(tmp_path: Path) -> None:
    u = {"_t3w_end1": 110.0, "_t3w_end2": 20.0, "_t3w_end3": 10.0}
    z = {"_t3w_end1": complex(0.8, 12.0), "_t3w_end2": complex(0.5, 9.0), "_t3w_end3": complex(0.3, 6.0)}  # at 110 kV
    loads = {"_load20": (3.0, 1.0), "_load10": (2.0, 0.5)}
    star_ends = {e: _end_rx(zz.real * (u[e] / 110.0) ** 2, zz.imag * (u[e] / 110.0) ** 2) for e, zz in z.items()}
    star = _write(tmp_path / "star", "three_winding", star_ends, "", loads)
    meshes = ""
    for i, (a, b) in enumerate((("_t3w_end1", "_t3w_end2"), ("_t3w_end1", "_t3w_end3"), ("_t3w_end3", "_t3w_end2"))):
        zab = (z[a] + z[b]) * (u[a] / 110.0) ** 2  # seen from the from end a
        meshes += _mesh(f"m{i}", a, b, zab.real, zab.imag)
    mesh = _write(tmp_path / "mesh", "three_winding", {}, meshes, loads)
    reference = _v(star)
    assert min(abs(v.real) for v in reference.values()) < 0.999
    got = _v(mesh)
    for k in reference:
        assert got[k] == pytest.approx(reference[k], abs=1e-9), k
