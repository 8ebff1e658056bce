"""The fast reading path (straight into descriptions) says exactly what the raw-statement path says."""

from __future__ import annotations

from pathlib import Path

import pytest

from cimflow.cim.build import build_network
from cimflow.cim.descriptions import descriptions_of, read_document
from cimflow.cim.ingest import ingest
from cimflow.cim.rdf import Kind, parse_document, parse_tree
from cimflow.cim.source import Document, read_sources
from tests.conftest import shared_data_dir

_HERE = Path(__file__).resolve().parents[1] / "data"
_SHARED = shared_data_dir()
_DOCS: list[Document] = read_sources([_HERE, *([_SHARED] if _SHARED else [])])[0]


def _key(d: Document) -> str:
    return d.name.split("/data/")[-1]


def _pv(pv: tuple[str, int, int, int]) -> tuple[object, ...]:
    # a nested (Kind.XML) value is verbatim XML: the fast path's compact tree drops the whitespace
    # between its inner elements; the model ignores such values and the writer uses the raw path
    return (None, *pv[1:]) if pv[1] == Kind.XML else pv


def _as_tuples(descs: object) -> list[tuple[object, ...]]:
    return [
        (
            o.mrid,
            o.cim_class,
            o.doc,
            o.line,
            {k: [_pv(x) for x in v] if type(v) is list else _pv(v) for k, v in o.props.items()},
            o.rank,
            o.ident,
        )
        for o in descs.objects  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize("doc", _DOCS, ids=[_key(d) for d in _DOCS])
def test_fast_descriptions_equal_raw_statements(doc: Document) -> None:
    raw, _ = parse_document(doc)
    root, _ = parse_tree(doc, blank_text=False)  # as the fast path reads
    if raw is None:
        assert root is None
        return
    assert root is not None
    fast = read_document(doc, root, 3)
    slow = descriptions_of(raw, 3)
    assert fast.descriptions is not None
    assert _as_tuples(fast.descriptions) == _as_tuples(slow)
    assert fast.descriptions.literal_refs == slow.literal_refs
    assert fast.n_objects == raw.n_objects == len(raw.objects)
    assert fast.class_tags == raw.class_tags
    assert fast.predicate_tags == raw.predicate_tags
    assert fast.cim_namespace == raw.cim_namespace
    assert fast.nsmap == raw.nsmap
    assert fast.root_attrib == raw.root_attrib
    assert (fast.header.props if fast.header else None) == (raw.header.props if raw.header else None)
    # the raw statements are read again from the bytes when asked for
    assert [(o.tag, o.ident, o.line, o.props, o.verbatim) for o in fast.objects] == [
        (o.tag, o.ident, o.line, o.props, o.verbatim) for o in raw.objects
    ]


def _model(paths: list[Path], statements: bool) -> tuple[dict[str, object], list[str], dict[str, str]]:
    dataset = ingest(paths, statements=statements).value
    assert dataset is not None
    built = build_network(dataset)
    assert built.value is not None
    objects = {m: o.model_dump() for m, o in built.value.by_mrid.items()}
    return objects, sorted(f"{f.code} {f.location} {f.message}" for f in built.findings), dict(dataset.ref_forms)


@pytest.mark.parametrize("folder", ["cigre-mv", "cimhub", "simbench-lv-urban6-cgmes3"], ids=lambda f: f)
def test_fast_and_statement_paths_build_the_same_network(folder: str) -> None:
    paths = sorted((_HERE / folder).rglob("*.xml"))
    assert paths
    fast = _model(paths, statements=False)
    slow = _model(paths, statements=True)
    assert fast[0]
    assert fast[0] == slow[0]
    assert fast[1] == slow[1]
    assert fast[2] == slow[2]


def test_a_second_build_of_one_dataset_reads_the_statements_again() -> None:
    paths = sorted((_HERE / "cigre-mv").rglob("*.xml"))
    dataset = ingest(paths).value
    assert dataset is not None
    first = build_network(dataset)
    second = build_network(dataset)  # the first merge consumed the descriptions
    assert first.value is not None
    assert second.value is not None
    assert {m: o.model_dump() for m, o in first.value.by_mrid.items()} == {
        m: o.model_dump() for m, o in second.value.by_mrid.items()
    }
    assert len(first.findings) == len(second.findings)


def test_a_plain_file_is_read_again_for_the_raw_statements_and_a_changed_file_is_refused(tmp_path: Path) -> None:
    import shutil

    from cimflow.errors import InputError

    src = _HERE / "cigre-mv" / "Rootnet_FULL_NE_24J13h_EQ.xml"
    copy = tmp_path / src.name
    shutil.copyfile(src, copy)
    dataset = ingest([copy]).value
    assert dataset is not None
    (doc,) = dataset.documents
    expected, _ = parse_document(Document(str(copy), copy.read_bytes()))
    assert expected is not None
    assert [(o.ident, o.props) for o in doc.objects] == [(o.ident, o.props) for o in expected.objects]

    again = ingest([copy]).value
    assert again is not None
    copy.write_bytes(copy.read_bytes() + b"\n<!-- edited -->\n")
    with pytest.raises(InputError, match="changed after cimflow read it"):
        _ = again.documents[0].objects
    copy.unlink()
    with pytest.raises(InputError, match="cannot read the file again"):
        _ = again.documents[0].objects


def test_whitespace_only_values_survive_the_compact_tree(tmp_path: Path) -> None:
    doc = tmp_path / "ws.xml"
    doc.write_text(
        '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns:cim="http://iec.ch/TC57/2013/CIM-schema-cim16#">\n'
        '  <cim:BaseVoltage rdf:ID="_bv">\n    <cim:IdentifiedObject.name>  </cim:IdentifiedObject.name>\n'
        "    <cim:IdentifiedObject.description> a b </cim:IdentifiedObject.description>\n"
        "    <cim:IdentifiedObject.shortName></cim:IdentifiedObject.shortName>\n"
        "  </cim:BaseVoltage>\n</rdf:RDF>\n",
        encoding="utf-8",
    )
    dataset = ingest([doc]).value
    assert dataset is not None
    (read,) = dataset.documents
    assert read.descriptions is not None
    (bv,) = read.descriptions.objects
    assert bv.props["IdentifiedObject.name"][0] == "  "  # type: ignore[index]
    assert bv.props["IdentifiedObject.description"][0] == " a b "  # type: ignore[index]
    assert bv.props["IdentifiedObject.shortName"][0] == ""  # type: ignore[index]
