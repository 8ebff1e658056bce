"""Merge the descriptions of one mRID across documents into one object; report conflicts and literals."""

from __future__ import annotations

from dataclasses import dataclass, field

from cimflow.catalog import data as codes
from cimflow.cim import namespaces as ns
from cimflow.cim.ingest import Dataset
from cimflow.cim.rdf import Kind
from cimflow.findings import Finding, Location, Severity, make_finding
from cimflow.ids import MRID
from cimflow.model.registry import is_generalisation

# (value, kind, document index, line)
PropValue = tuple[str, int, int, int]
_DEFINING = (ns.Profile.EQ, ns.Profile.EQ_BD)


@dataclass(slots=True)
class MergedObject:
    """Every statement about one mRID, keyed by the property's local name (``ACLineSegment.r``)."""

    mrid: MRID
    cim_class: str
    doc: int
    line: int
    props: dict[str, PropValue | list[PropValue]] = field(default_factory=dict)
    rank: int = 0  # 2 = defined in an EQ document, 1 = rdf:ID elsewhere, 0 = rdf:about only

    def first(self, name: str) -> PropValue | None:
        """The first value of a property, or ``None``."""
        v = self.props.get(name)
        if v is None:
            return None
        return v[0] if type(v) is list else v  # type: ignore[return-value]

    def all(self, name: str) -> list[PropValue]:
        """Every value of a (possibly multi-valued) property."""
        v = self.props.get(name)
        if v is None:
            return []
        return v if type(v) is list else [v]  # type: ignore[list-item,return-value]


@dataclass(slots=True)
class Merged:
    """The merge result: objects by mRID, class counts of the input and findings."""

    objects: dict[MRID, MergedObject]
    class_counts: dict[str, int]
    findings: list[Finding]


def merge(dataset: Dataset) -> Merged:
    """Merge all documents; the class comes from EQ (then rdf:ID) and mismatches are reported."""
    objects: dict[MRID, MergedObject] = {}
    seen_pairs: set[tuple[str, MRID]] = set()
    findings: list[Finding] = []
    names = [d.name for d in dataset.documents]
    prop_cache: dict[str, tuple[str, bool]] = {}  # Clark tag -> (property name, is an association)
    class_cache: dict[str, str] = {}
    for di, (doc, info) in enumerate(zip(dataset.documents, dataset.infos, strict=True)):
        eq_doc = any(p in _DEFINING for p in info.profiles)
        for obj in doc.objects:
            if obj.verbatim is not None or not obj.mrid:
                continue
            cls = class_cache.get(obj.tag)
            if cls is None:
                cls = class_cache[obj.tag] = ns.split_tag(obj.tag)[1]
            mrid = obj.mrid
            seen_pairs.add((cls, mrid))
            rank = 2 if eq_doc and obj.id_attr == "ID" else (1 if obj.id_attr == "ID" else 0)
            merged = objects.get(mrid)
            if merged is None:
                merged = objects[mrid] = MergedObject(mrid, cls, di, obj.line, {}, rank)
                fresh = True
            else:
                fresh = False
                if cls != merged.cim_class:
                    win_new = rank > merged.rank
                    win_cls, lose_cls = (cls, merged.cim_class) if win_new else (merged.cim_class, cls)
                    win_doc, lose_doc = (doc.name, names[merged.doc]) if win_new else (names[merged.doc], doc.name)
                    general = is_generalisation(lose_cls, win_cls) or is_generalisation(win_cls, lose_cls)
                    findings.append(
                        make_finding(
                            codes.CLASS_MISMATCH,
                            Location(mrid=mrid, cim_class=win_cls, file=doc.name, line=obj.line),
                            ctx={"file_a": win_doc, "file_b": lose_doc, "other_class": lose_cls},
                            severity=Severity.INFO if general else None,
                        )
                    )
                    if win_new:
                        merged.cim_class, merged.doc, merged.line, merged.rank = cls, di, obj.line, rank
                elif rank > merged.rank:
                    merged.doc, merged.line, merged.rank = di, obj.line, rank
            props = merged.props
            own: set[str] | None = None if fresh else set()
            for ptag, value, kind, line in obj.props:
                known = prop_cache.get(ptag)
                if known is None:
                    local = ns.split_tag(ptag)[1]
                    dot = local.find(".")
                    known = prop_cache[ptag] = (local, dot > 0 and local[dot + 1 : dot + 2].isupper())
                local, association = known
                pv = (value, kind, di, line)
                cur = props.get(local)
                if cur is None:
                    props[local] = pv
                    if own is not None:
                        own.add(local)
                    if association and kind == Kind.LITERAL:
                        findings.append(
                            make_finding(
                                codes.LITERAL_INSTEAD_OF_REFERENCE,
                                Location(mrid=mrid, cim_class=cls, attribute=local, file=doc.name, line=line),
                                ctx={"value": value},
                            )
                        )
                elif own is None or local in own:
                    # a repeated property inside one description: multi-valued
                    if type(cur) is list:
                        cur.append(pv)
                    else:
                        props[local] = [cur, pv]  # type: ignore[list-item]
                else:
                    first = cur[0] if type(cur) is list else cur
                    if first[0] != value and kind != Kind.XML:  # type: ignore[index]
                        findings.append(
                            make_finding(
                                codes.DUPLICATE_MRID,
                                Location(mrid=mrid, cim_class=cls, attribute=local, file=doc.name, line=line),
                                ctx={
                                    "value_a": first[0],  # type: ignore[index]
                                    "value_b": value,
                                    "other": f"{names[first[2]]}:{first[3]}",  # type: ignore[index]
                                },
                                related=(f"{names[first[2]]}:{first[3]}",),  # type: ignore[index]
                            )
                        )
    counts: dict[str, int] = {}
    for cls, _m in seen_pairs:
        counts[cls] = counts.get(cls, 0) + 1
    return Merged(objects, dict(sorted(counts.items())), findings)
