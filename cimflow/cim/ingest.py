"""Read inputs into a :class:`Dataset`: parsed documents with what was recognised about each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cimflow.catalog import inputs as codes
from cimflow.cim.profiles import DocumentInfo, describe
from cimflow.cim.rdf import RawDocument, parse_document
from cimflow.cim.source import SourceLimits, read_sources
from cimflow.findings import Location, Outcome, make_finding
from cimflow.gcpause import gc_paused


@dataclass(frozen=True, slots=True)
class Dataset:
    """All documents read, in input order, each with its :class:`DocumentInfo`."""

    documents: tuple[RawDocument, ...]
    infos: tuple[DocumentInfo, ...]


def ingest(paths: Iterable[str | Path], *, limits: SourceLimits | None = None) -> Outcome[Dataset]:
    """Open, parse and recognise every input; ``value`` is ``None`` when no document could be read."""
    with gc_paused():
        return _ingest(paths, limits)


def _ingest(paths: Iterable[str | Path], limits: SourceLimits | None) -> Outcome[Dataset]:
    sources, findings = read_sources(paths, limits=limits)
    documents: list[RawDocument] = []
    infos: list[DocumentInfo] = []
    for source in sources:
        parsed, parse_findings = parse_document(source)
        findings.extend(parse_findings)
        if parsed is None:
            continue
        info, info_findings = describe(parsed)
        findings.extend(info_findings)
        if parsed.cim_namespace is None and (parsed.objects or parsed.header is None):
            findings.append(make_finding(codes.NOT_CIM, Location(file=source.name)))
        documents.append(parsed)
        infos.append(info)
    if not documents:
        return Outcome(None, tuple(findings))
    return Outcome(Dataset(tuple(documents), tuple(infos)), tuple(findings))
