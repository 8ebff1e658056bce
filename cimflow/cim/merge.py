"""Merge the descriptions of one mRID across documents into one object; report conflicts and literals."""

from __future__ import annotations

from dataclasses import dataclass

from cimflow.catalog import data as codes
from cimflow.cim import namespaces as ns
from cimflow.cim.descriptions import DocumentDescriptions, MergedObject, PropValue, descriptions_of, native_builder
from cimflow.cim.ingest import Dataset
from cimflow.cim.rdf import Kind
from cimflow.findings import Finding, Location, Severity, make_finding
from cimflow.ids import MRID
from cimflow.model.registry import is_generalisation

__all__ = ["Merged", "MergedObject", "PropValue", "merge"]

_DEFINING = (ns.Profile.EQ, ns.Profile.EQ_BD)
_XML = int(Kind.XML)


@dataclass(slots=True)
class Merged:
    """The merge result: objects by mRID, class counts of the input and findings."""

    objects: dict[MRID, MergedObject]
    class_counts: dict[str, int]
    findings: list[Finding]


def _duplicate(
    mrid: MRID, cls: str, local: str, pv: PropValue, first: PropValue, file: str, names: list[str]
) -> Finding:
    """CF103: an mRID described twice with different values of one attribute."""
    other = f"{names[first[2]]}:{first[3]}"
    return make_finding(
        codes.DUPLICATE_MRID,
        Location(mrid=mrid, cim_class=cls, attribute=local, file=file, line=pv[3]),
        ctx={"value_a": first[0], "value_b": pv[0], "other": other},
        related=(other,),
    )


def merge(dataset: Dataset) -> Merged:
    """Merge all documents; the class comes from EQ (then rdf:ID) and mismatches are reported.

    The first description of an mRID becomes the merged object and the later ones are folded into it,
    so the descriptions a document was read into are consumed (a second merge reads the statements
    again from the documents).
    """
    objects: dict[MRID, MergedObject] = {}
    # the classes an mRID was described with, once two differ (an mRID counts once per class it is given)
    mixed: dict[MRID, set[str]] = {}
    findings: list[Finding] = []
    names = [d.name for d in dataset.documents]
    native = native_builder()
    counts: dict[str, int] = {}  # distinct mRIDs per class as written
    for di, (doc, info) in enumerate(zip(dataset.documents, dataset.infos, strict=True)):
        eq_doc = any(p in _DEFINING for p in info.profiles)
        read: DocumentDescriptions | None = doc.descriptions
        doc.descriptions = None
        if read is None:
            read = descriptions_of(doc, di)
        for lr in read.literal_refs:
            findings.append(
                make_finding(
                    codes.LITERAL_INSTEAD_OF_REFERENCE,
                    Location(mrid=lr.mrid, cim_class=lr.cim_class, attribute=lr.attribute, file=doc.name, line=lr.line),
                    ctx={"value": lr.value},
                )
            )
        descs = read.objects
        i, n = 0, len(descs)
        while i < n:
            if native is not None:
                # the native merge folds every description up to the first class mismatch, which the
                # lines below handle; its conflicts are reported here, in the order they were found
                conflicts: list[tuple[MRID, str, str, PropValue, PropValue]] = []
                i = native.merge_into(objects, descs, i, di, eq_doc, counts, conflicts)
                for mrid, cls, local, pv, first in conflicts:
                    findings.append(_duplicate(mrid, cls, local, pv, first, doc.name, names))
                if i >= n:
                    break
            desc = descs[i]
            i += 1
            cls = desc.cim_class
            mrid = desc.mrid
            if eq_doc and desc.rank == 1:
                desc.rank = 2
            merged = objects.get(mrid)
            if merged is None:
                objects[mrid] = desc
                counts[cls] = counts.get(cls, 0) + 1
                continue
            rank = desc.rank
            if cls != merged.cim_class:
                classes = mixed.get(mrid)
                if classes is None:
                    classes = mixed[mrid] = {merged.cim_class}  # the class it was first given
                if cls not in classes:
                    classes.add(cls)
                    counts[cls] = counts.get(cls, 0) + 1
                win_new = rank > merged.rank
                win_cls, lose_cls = (cls, merged.cim_class) if win_new else (merged.cim_class, cls)
                win_doc, lose_doc = (doc.name, names[merged.doc]) if win_new else (names[merged.doc], doc.name)
                general = is_generalisation(lose_cls, win_cls) or is_generalisation(win_cls, lose_cls)
                findings.append(
                    make_finding(
                        codes.CLASS_MISMATCH,
                        Location(mrid=mrid, cim_class=win_cls, file=doc.name, line=desc.line),
                        ctx={"file_a": win_doc, "file_b": lose_doc, "other_class": lose_cls},
                        severity=Severity.INFO if general else None,
                    )
                )
                if win_new:
                    merged.cim_class = cls
            if rank > merged.rank:
                merged.doc, merged.line, merged.rank, merged.ident = di, desc.line, rank, desc.ident
            props = merged.props
            for local, stored in desc.props.items():
                cur = props.get(local)
                if cur is None:
                    props[local] = stored
                    continue
                held = cur[0] if isinstance(cur, list) else cur
                for given in stored if isinstance(stored, list) else (stored,):
                    if held[0] != given[0] and given[1] != _XML:
                        findings.append(_duplicate(mrid, cls, local, given, held, doc.name, names))
    return Merged(objects, dict(sorted(counts.items())), findings)
