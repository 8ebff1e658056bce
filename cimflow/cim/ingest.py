"""Read inputs into a :class:`Dataset`: parsed documents with what was recognised about each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cimflow.catalog import inputs as codes
from cimflow.cim.descriptions import read_document, read_native
from cimflow.cim.profiles import DocumentInfo, describe
from cimflow.cim.rdf import RawDocument, parse_document, parse_tree
from cimflow.cim.source import Document, SourceLimits, iter_sources
from cimflow.findings import Finding, Location, Outcome, make_finding
from cimflow.gcpause import gc_paused, release_freed_memory


@dataclass(frozen=True, slots=True)
class Dataset:
    """All documents read, in input order, each with its :class:`DocumentInfo`."""

    documents: tuple[RawDocument, ...]
    infos: tuple[DocumentInfo, ...]
    # identifiers as the input writes them ("#_x", "urn:uuid:X"), where that is not "#_<mRID>"; filled
    # by the model build for writers that refer to existing objects
    ref_forms: dict[str, str] = field(default_factory=dict)


def ingest(
    paths: Iterable[str | Path], *, limits: SourceLimits | None = None, statements: bool = False
) -> Outcome[Dataset]:
    """Open, parse and recognise every input; ``value`` is ``None`` when no document could be read.

    By default each document is read straight into the per-mRID descriptions the model is built from
    (the fast path); its raw statements are read again from its bytes only if something asks for
    them. ``statements=True`` reads the raw statements at once (for writers such as ``convert``).
    """
    with gc_paused():
        return _ingest(paths, limits, statements)


def _ingest(paths: Iterable[str | Path], limits: SourceLimits | None, statements: bool) -> Outcome[Dataset]:
    findings: list[Finding] = []
    documents: list[RawDocument] = []
    infos: list[DocumentInfo] = []
    for item in iter_sources(paths, limits=limits):
        if not isinstance(item, Document):
            findings.append(item)
            continue
        name = item.name
        parsed: RawDocument | None
        if statements:
            parsed, parse_findings = parse_document(item)
        elif (parsed := read_native(item, len(documents))) is not None:
            parse_findings = []
            del item
        else:
            root, parse_findings = parse_tree(item, blank_text=False)
            light = item.without_data()
            del item  # the bytes of a plain file are not needed once parsed (read again if a writer asks)
            parsed = read_document(light, root, len(documents)) if root is not None else None
            del root  # the tree is the biggest thing alive while reading: free it before the next document
            release_freed_memory()
        findings.extend(parse_findings)
        if parsed is None:
            continue
        info, info_findings = describe(parsed)
        findings.extend(info_findings)
        if parsed.cim_namespace is None and (parsed.n_objects or parsed.header is None):
            findings.append(make_finding(codes.NOT_CIM, Location(file=name)))
        documents.append(parsed)
        infos.append(info)
    if not documents:
        return Outcome(None, tuple(findings))
    return Outcome(Dataset(tuple(documents), tuple(infos)), tuple(findings))
