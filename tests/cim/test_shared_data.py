"""Every real CIM file in ../shared/data: loads without a traceback, counts match lxml, round trip is isomorphic."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import rdflib
from lxml import etree
from rdflib.compare import isomorphic

import cimflow
from cimflow.cim.build import build_network
from cimflow.cim.ingest import Dataset
from cimflow.cim.profiles import describe
from cimflow.cim.rdf import parse_document
from cimflow.cim.source import Document, read_sources
from cimflow.cim.write import write_rdfxml
from tests.conftest import shared_data_dir

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
BASE = "http://cimflow.test/base"
_SHARED = shared_data_dir()
_DOCS: list[Document] = read_sources([_SHARED])[0] if _SHARED else []
_MALFORMED = {"Telemark-120-LV1_SSH.xml"}


def _independent_counts(data: bytes) -> dict[str, int]:
    """Distinct identifiers per class local name, counted with plain lxml (not cimflow's reader)."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    ids: dict[str, set[str]] = defaultdict(set)
    for el in root:
        if not isinstance(el.tag, str) or el.tag.endswith("}FullModel") or el.tag.endswith("}DifferenceModel"):
            continue
        ident = el.get(f"{{{RDF}}}ID") or el.get(f"{{{RDF}}}about")
        if ident is None or len(el.attrib) != 1:
            continue
        ident = ident.split("#")[-1]
        if ident.lower().startswith("urn:uuid:"):
            ident = ident[9:]
        ident = ident.removeprefix("_")
        if len(ident) == 36 and ident.count("-") == 4:
            ident = ident.lower()
        ids[etree.QName(el).localname].add(ident)
    return {k: len(v) for k, v in ids.items()}


def _ids(docs: list[Document]) -> list[str]:
    return [d.name.split("shared/data/")[-1] for d in docs]


@pytest.mark.skipif(_SHARED is None, reason="../shared/data is not beside this checkout")
@pytest.mark.parametrize("doc", _DOCS, ids=_ids(_DOCS))
def test_document_counts_match_lxml(doc: Document) -> None:
    raw, findings = parse_document(doc)
    if Path(doc.name).name in _MALFORMED:
        assert raw is None
        assert findings[0].code == "CF001"
        assert findings[0].location.line == 129
        return
    assert raw is not None, findings
    info, _ = describe(raw)
    network = build_network(Dataset((raw,), (info,))).value
    assert network is not None
    assert dict(network.class_counts) == _independent_counts(doc.data)


@pytest.mark.skipif(_SHARED is None, reason="../shared/data is not beside this checkout")
@pytest.mark.parametrize("doc", _DOCS, ids=_ids(_DOCS))
def test_round_trip_is_isomorphic(doc: Document) -> None:
    raw, _ = parse_document(doc)
    if raw is None:
        pytest.skip("not well-formed; covered by the count test")
    written = write_rdfxml(raw)
    original = rdflib.Graph()
    try:
        original.parse(data=doc.data, format="xml", publicID=BASE)
    except Exception:  # rdflib itself refuses some real files (rdf:ID that is not an NCName)
        reparsed, _ = parse_document(Document("rewritten.xml", written))
        assert reparsed is not None
        assert _statements(reparsed) == _statements(raw)
        return
    again = rdflib.Graph()
    again.parse(data=written, format="xml", publicID=BASE)
    assert len(again) == len(original)
    assert isomorphic(original, again)


def _statements(raw: object) -> list[tuple[str, str, str, str, int]]:
    out = []
    for obj in raw.objects:  # type: ignore[attr-defined]
        for p, v, k, _line in obj.props:
            out.append((obj.tag, obj.ident, p, v, k))
    return sorted(out)


MODELS = [
    # (paths relative to shared/data, expected counts of some classes over the whole model)
    (
        ["entsoe-cgmes-2.4.15/MicroGrid/BaseCase/CGMES_v2.4.15_MicroGridTestConfiguration_BC_BE_v2.zip",
         "entsoe-cgmes-2.4.15/MicroGrid/BaseCase/CGMES_v2.4.15_MicroGridTestConfiguration_BD_v2.zip"],
        {"ACLineSegment": 7, "PowerTransformer": 4, "EnergyConsumer": 3, "SynchronousMachine": 2, "SvVoltage": 11},
    ),
    (["cimpy-sogno/master/CIGRE_MV"], {"ACLineSegment": 12, "PowerTransformer": 2, "EnergyConsumer": 18}),
    (
        ["cimhub-gridappsd/model_output_tests/IEEE13.xml"],
        {"ACLineSegment": 11, "PowerTransformer": 4, "EnergyConsumer": 16},
    ),
    (["elbits-telemark-120/DIGIN10-30-v2.x-CGMES3"], {"ACLineSegment": 35, "PowerTransformer": 4, "ConformLoad": 15}),
    (["entsoe-cgmes-3.0/cgmes3-test-models/SmallGrid_cgmes3_EQ_SSH_TP_SV_GL_EQBD.zip"],
     {"ACLineSegment": 176, "PowerTransformer": 10, "ConformLoad": 103, "SvVoltage": 118, "Disconnector": 738}),
]  # fmt: skip


@pytest.mark.parametrize(("paths", "expected"), MODELS, ids=[m[0][0].split("/")[-1] for m in MODELS])
def test_model_counts(shared_data: Path, paths: list[str], expected: dict[str, int]) -> None:
    result = cimflow.load([shared_data / p for p in paths])
    assert result.network is not None
    for cls, n in expected.items():
        assert result.network.class_counts.get(cls) == n, cls


def test_every_model_folder_loads(shared_data: Path) -> None:
    for folder in sorted(p for p in shared_data.rglob("*") if p.is_dir()):
        result = cimflow.load(folder)  # must not raise, whatever is inside
        assert result.readable or result.findings
