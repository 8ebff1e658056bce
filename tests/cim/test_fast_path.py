"""The fast reading path (straight into descriptions) says exactly what the raw-statement path says."""

from __future__ import annotations

from pathlib import Path

import pytest

from cimflow.cim.build import build_network
from cimflow.cim.descriptions import descriptions_of, read_document
from cimflow.cim.ingest import ingest
from cimflow.cim.rdf import parse_document, parse_tree
from cimflow.cim.source import Document, read_sources
from tests.conftest import shared_data_dir

_HERE = Path(__file__).resolve().parents[1] / "data"
_SHARED = shared_data_dir()
_DOCS: list[Document] = read_sources([_HERE, *([_SHARED] if _SHARED else [])])[0]


def _key(d: Document) -> str:
    return d.name.split("/data/")[-1]


def _as_tuples(descs: object) -> list[tuple[object, ...]]:
    return [(o.mrid, o.cim_class, o.doc, o.line, o.props, o.rank, o.ident) for o in descs.objects]  # type: ignore[attr-defined]


@pytest.mark.parametrize("doc", _DOCS, ids=[_key(d) for d in _DOCS])
def test_fast_descriptions_equal_raw_statements(doc: Document) -> None:
    raw, _ = parse_document(doc)
    root, _ = parse_tree(doc)
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
    assert fast.nsmap == raw.nsmap and fast.root_attrib == raw.root_attrib
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


@pytest.mark.parametrize(
    "folder", ["cigre-mv", "cimhub", "simbench-lv-urban6-cgmes3"], ids=lambda f: f
)
def test_fast_and_statement_paths_build_the_same_network(folder: str) -> None:
    paths = sorted((_HERE / folder).rglob("*.xml"))
    assert paths
    fast = _model(paths, statements=False)
    slow = _model(paths, statements=True)
    assert fast[0] and fast[0] == slow[0]
    assert fast[1] == slow[1]
    assert fast[2] == slow[2]


def test_a_second_build_of_one_dataset_reads_the_statements_again() -> None:
    paths = sorted((_HERE / "cigre-mv").rglob("*.xml"))
    dataset = ingest(paths).value
    assert dataset is not None
    first = build_network(dataset)
    second = build_network(dataset)  # the first merge consumed the descriptions
    assert first.value is not None and second.value is not None
    assert {m: o.model_dump() for m, o in first.value.by_mrid.items()} == {
        m: o.model_dump() for m, o in second.value.by_mrid.items()
    }
    assert len(first.findings) == len(second.findings)
