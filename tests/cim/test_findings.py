"""Bad input is data: every problem of ingest and build becomes a located finding, never an exception."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import cimflow
from cimflow.cim.source import SourceLimits

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns:cim="http://iec.ch/TC57/2013/CIM-schema-cim16#" xmlns:md="http://iec.ch/TC57/61970-552/ModelDescription/1#">\n'
)
EQ_HEADER = (
    '<md:FullModel rdf:about="urn:uuid:1"><md:Model.profile>http://entsoe.eu/CIM/EquipmentCore/3/1</md:Model.profile>'
    "</md:FullModel>\n"
)


def _write(tmp: Path, body: str, name: str = "f_EQ.xml", header: str = EQ_HEADER) -> Path:
    p = tmp / name
    p.write_text(HEAD + header + body + "</rdf:RDF>\n", encoding="utf-8")
    return p


def _codes(result: cimflow.LoadResult) -> list[str]:
    return [f.code for f in result.findings]


def test_not_well_formed_reports_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.xml"
    p.write_text(HEAD + "<cim:Breaker rdf:ID='_a'>\n</cim:Fuse>\n</rdf:RDF>", encoding="utf-8")
    result = cimflow.load(p)
    assert result.network is None
    (f,) = result.findings
    assert f.code == "CF001"
    assert f.location.file == str(p)
    assert f.location.line == 4


def test_not_rdf(tmp_path: Path) -> None:
    p = tmp_path / "x.xml"
    p.write_text("<root><a/></root>", encoding="utf-8")
    assert _codes(cimflow.load(p)) == ["CF002"]


def test_missing_file() -> None:
    result = cimflow.load("/nonexistent/feeder.xml")
    assert result.network is None
    assert _codes(result) == ["CF006"]


def test_doctype_with_entities_refused(tmp_path: Path) -> None:
    p = tmp_path / "xxe.xml"
    p.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        + HEAD.split("\n", 1)[1]
        + "<cim:BaseVoltage rdf:ID='_a'><cim:IdentifiedObject.name>&x;</cim:IdentifiedObject.name></cim:BaseVoltage>"
        "</rdf:RDF>",
        encoding="utf-8",
    )
    result = cimflow.load(p)
    assert _codes(result) == ["CF004"]
    assert result.network is None


def test_zip_bomb_is_capped(tmp_path: Path) -> None:
    p = tmp_path / "bomb.zip"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big_EQ.xml", b"<" + b" " * (8 << 20))
    result = cimflow.load(p, limits=SourceLimits(max_member_bytes=1 << 20))
    assert _codes(result) == ["CF005"]


def test_zip_slip_names_are_never_used_as_paths(tmp_path: Path) -> None:
    p = tmp_path / "slip.zip"
    body = (HEAD + EQ_HEADER + "<cim:BaseVoltage rdf:ID='_bv'><cim:BaseVoltage.nominalVoltage>20"
            "</cim:BaseVoltage.nominalVoltage></cim:BaseVoltage></rdf:RDF>")  # fmt: skip
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("../../evil_EQ.xml", body)
    before = set(tmp_path.parent.rglob("*"))
    result = cimflow.load(p)
    assert result.network is not None
    assert result.network.class_counts == {"BaseVoltage": 1}
    assert set(tmp_path.parent.rglob("*")) == before


def test_zip_of_zips(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("a_EQ.xml", HEAD + EQ_HEADER + "<cim:BaseVoltage rdf:ID='_bv'/></rdf:RDF>")
    p = tmp_path / "outer.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("inner.zip", inner.getvalue())
    result = cimflow.load(p)
    assert result.network is not None
    assert result.network.base_voltages["bv"].source.file == f"{p}!/inner.zip!/a_EQ.xml"  # type: ignore[index]


def test_corrupt_zip(tmp_path: Path) -> None:
    p = tmp_path / "c.zip"
    p.write_bytes(b"PK\x03\x04garbage")
    assert _codes(cimflow.load(p)) == ["CF005"]


def test_dangling_reference_with_referring_line(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "<cim:Terminal rdf:ID='_t1'>\n<cim:Terminal.ConductingEquipment rdf:resource='#_nothere'/>\n</cim:Terminal>\n",
    )
    result = cimflow.load(p)
    (f,) = [f for f in result.findings if f.code == "CF101"]
    assert f.location.mrid == "t1"
    assert f.location.attribute == "Terminal.ConductingEquipment"
    assert f.location.line == 5
    assert "#_nothere" in f.message


def test_enumeration_uris_are_not_dangling(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "<cim:PowerTransformerEnd rdf:ID='_e'><cim:PowerTransformerEnd.connectionKind "
        "rdf:resource='http://iec.ch/TC57/2013/CIM-schema-cim16#WindingConnection.D'/></cim:PowerTransformerEnd>\n",
    )
    result = cimflow.load(p)
    assert "CF101" not in _codes(result)
    assert result.network is not None
    assert result.network.transformer_ends["e"].connection_kind == "D"  # type: ignore[index]


def test_duplicate_mrid_with_conflicting_values_names_both_places(tmp_path: Path) -> None:
    a = _write(
        tmp_path,
        "<cim:ACLineSegment rdf:ID='_l'><cim:ACLineSegment.r>0.1</cim:ACLineSegment.r></cim:ACLineSegment>\n",
        "a_EQ.xml",
    )
    b = _write(
        tmp_path,
        "<cim:ACLineSegment rdf:ID='_l'><cim:ACLineSegment.r>0.2</cim:ACLineSegment.r></cim:ACLineSegment>\n",
        "b_EQ.xml",
    )
    result = cimflow.load([a, b])
    (f,) = [f for f in result.findings if f.code == "CF103"]
    assert f.location.file == str(b)
    assert f.related
    assert str(a) in f.related[0]


def test_literal_instead_of_reference(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "<cim:Terminal rdf:ID='_t'><cim:Terminal.ConnectivityNode>_cn</cim:Terminal.ConnectivityNode></cim:Terminal>\n",
    )
    result = cimflow.load(p)
    assert "CF104" in _codes(result)
    assert result.network is not None
    assert result.network.terminals["t"].connectivity_node is None  # type: ignore[index]


def test_not_a_number_nan_and_inf(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "<cim:ACLineSegment rdf:ID='_a'><cim:ACLineSegment.r>0,12</cim:ACLineSegment.r></cim:ACLineSegment>\n"
        "<cim:ACLineSegment rdf:ID='_b'><cim:ACLineSegment.r>NaN</cim:ACLineSegment.r></cim:ACLineSegment>\n"
        "<cim:ACLineSegment rdf:ID='_c'><cim:ACLineSegment.x>inf</cim:ACLineSegment.x></cim:ACLineSegment>\n",
    )
    result = cimflow.load(p)
    bad = sorted(f.location.mrid for f in result.findings if f.code == "CF105")
    assert bad == ["a", "b", "c"]
    assert result.network is not None
    assert result.network.lines["a"].r_ohm is None  # type: ignore[index]


def test_physical_constraints_become_findings(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "<cim:ACLineSegment rdf:ID='_a'><cim:ACLineSegment.r>-0.1</cim:ACLineSegment.r></cim:ACLineSegment>\n"
        "<cim:BaseVoltage rdf:ID='_bv'><cim:BaseVoltage.nominalVoltage>0</cim:BaseVoltage.nominalVoltage>"
        "</cim:BaseVoltage>\n",
    )
    codes = _codes(cimflow.load(p))
    assert "CF201" in codes
    assert "CF204" in codes


def test_unknown_namespace_and_header_without_profile(tmp_path: Path) -> None:
    p = tmp_path / "x_EQ.xml"
    p.write_text(
        HEAD.replace("<rdf:RDF ", '<rdf:RDF xmlns:v="http://vendor.example/ext#" ')
        + '<md:FullModel rdf:about="urn:uuid:2"><md:Model.created>2024-01-01T00:00:00Z</md:Model.created>'
        "</md:FullModel>\n"
        "<cim:BaseVoltage rdf:ID='_bv'><cim:BaseVoltage.nominalVoltage>20</cim:BaseVoltage.nominalVoltage>"
        "<v:BaseVoltage.colour>red</v:BaseVoltage.colour></cim:BaseVoltage></rdf:RDF>",
        encoding="utf-8",
    )
    codes = _codes(cimflow.load(p))
    assert "CF007" in codes
    assert "CF008" in codes


def test_lone_ssh_reports_missing_equipment(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "<cim:EnergyConsumer rdf:about='#_l'><cim:EnergyConsumer.p>1</cim:EnergyConsumer.p></cim:EnergyConsumer>\n",
        "x_SSH.xml",
        header='<md:FullModel rdf:about="urn:uuid:3"><md:Model.profile>http://entsoe.eu/CIM/SteadyStateHypothesis/1/1'
        "</md:Model.profile></md:FullModel>\n",
    )
    result = cimflow.load(p)
    assert result.readable
    assert "CF009" in _codes(result)


def test_header_datatypes(tmp_path: Path) -> None:
    p = _write(
        tmp_path,
        "",
        header='<md:FullModel rdf:about="urn:uuid:4">'
        "<md:Model.profile>http://entsoe.eu/CIM/EquipmentCore/3/1</md:Model.profile>"
        "<md:Model.created>this is not a date</md:Model.created>"
        "<md:Model.version>this is not a version</md:Model.version>"
        "</md:FullModel>\n",
    )
    found = sorted(f.location.attribute or "" for f in cimflow.load(p).findings if f.code == "CF110")
    assert found == ["Model.created", "Model.version"]


def test_class_mismatch_eq_wins(tmp_path: Path) -> None:
    eq = _write(
        tmp_path, "<cim:Breaker rdf:ID='_s'><cim:Switch.normalOpen>false</cim:Switch.normalOpen></cim:Breaker>\n"
    )
    ssh = _write(
        tmp_path,
        "<cim:Fuse rdf:about='#_s'><cim:Switch.open>true</cim:Switch.open></cim:Fuse>\n",
        "x_SSH.xml",
        header='<md:FullModel rdf:about="urn:uuid:5"><md:Model.profile>http://entsoe.eu/CIM/SteadyStateHypothesis/1/1'
        "</md:Model.profile></md:FullModel>\n",
    )
    result = cimflow.load([ssh, eq])
    (f,) = [f for f in result.findings if f.code == "CF112"]
    assert f.severity == cimflow.Severity.WARNING
    assert result.network is not None
    sw = result.network.switches["s"]  # type: ignore[index]
    assert sw.cim_class == "Breaker"
    assert sw.is_open is True
