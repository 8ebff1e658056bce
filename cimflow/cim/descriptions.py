"""The fast reading path: one pass over a parsed document straight into per-mRID descriptions.

A description is everything one top-level element says about one mRID, keyed by the property's local
name (``ACLineSegment.r``) with its value, kind, document and line: exactly the form the merge and the
model builder work on. Reading into this form directly (instead of first into raw statements and then
copying them into the merged form) touches each statement once and keeps one small tuple per
statement; the raw statements the lossless writer needs are read again from the document's bytes
only when something asks for them (:attr:`cimflow.cim.rdf.RawDocument.objects`).
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from types import ModuleType

from lxml import etree

from cimflow.cim import namespaces as ns
from cimflow.cim.rdf import Kind, RawDocument, RawObject, cim_namespace_of, document_namespaces, parse_object
from cimflow.cim.source import Document
from cimflow.config import native_enabled
from cimflow.gcpause import release_freed_memory
from cimflow.ids import MRID, normalise_mrid

# the arguments this module passes the native functions (the module's INTERFACE; 1 before it had one)
_INTERFACE = 4  # 3: plan entries end with the field's place in the layout; 4: values read natively are Prop objects


def _load_native() -> ModuleType | None:
    """The native reader (``cimflow/cim/_rdfscan.c``), unless it was not built, was built from older
    sources (an in-place build not redone since its functions changed), or ``CIMFLOW_NATIVE=0``."""
    if not native_enabled():
        return None
    try:
        module = importlib.import_module("cimflow.cim._rdfscan")
    except ImportError:  # installed without a C compiler: lxml reads every document
        return None
    return module if getattr(module, "INTERFACE", 1) == _INTERFACE else None


_NATIVE = _load_native()

# (value, kind, document index, line); the native reader stores each as a Prop (cimflow.cim._rdfscan), which
# reads, compares, hashes and pickles as this tuple with the text kept as UTF-8 (80 bytes for a reference
# instead of 184 in a tuple, a str and an int)
PropValue = tuple[str, int, int, int]


def _written(ident: str, mrid: MRID, is_id: bool) -> str | None:
    """:attr:`MergedObject.ident` of an identifier as written: ``None`` for the plain form of the mRID."""
    return None if ident == ("_" if is_id else "#_") + mrid else ident


@dataclass(slots=True)
class MergedObject:
    """Every statement about one mRID, keyed by the property's local name (``ACLineSegment.r``).

    Read from one element it is a single description; the merge folds the descriptions of one mRID
    from every document into the first one.
    """

    mrid: MRID
    cim_class: str
    doc: int
    line: int
    props: dict[str, PropValue | list[PropValue]] = field(default_factory=dict)
    rank: int = 0  # 2 = defined in an EQ document, 1 = rdf:ID elsewhere, 0 = rdf:about only
    # the identifier as written in the defining description (rdf:ID value or rdf:about URI); None where that
    # is the plain form of the mRID (rdf:ID="_<mRID>", rdf:about="#_<mRID>"), as nearly everywhere
    ident: str | None = ""

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
        return v if isinstance(v, list) else [v]


@dataclass(frozen=True, slots=True)
class LiteralReference:
    """An association written as a literal (``<cim:Terminal.ConductingEquipment>x</...>``), for CF111."""

    mrid: MRID
    cim_class: str
    attribute: str
    line: int
    value: str


@dataclass(slots=True)
class DocumentDescriptions:
    """What the fast path read from one document, waiting for the merge."""

    objects: list[MergedObject]
    literal_refs: list[LiteralReference]


_PREDICATES: dict[str, tuple[str, bool]] = {}  # Clark tag -> (local name, is an association)
_CLASSES: dict[str, str] = {}  # Clark tag -> class local name
_LITERAL, _REF, _XML = int(Kind.LITERAL), int(Kind.REF), int(Kind.XML)


def _predicate(tag: str) -> tuple[str, bool]:
    known = _PREDICATES.get(tag)
    if known is None:
        local = ns.split_tag(tag)[1]
        dot = local.find(".")
        # CIM naming: an association's role name starts upper case (Terminal.ConductingEquipment)
        known = _PREDICATES[tag] = (local, dot > 0 and local[dot + 1 : dot + 2].isupper())
    return known


def _class(tag: str) -> str:
    return _CLASSES.get(tag) or _CLASSES.setdefault(tag, ns.split_tag(tag)[1])


def _verbatim(el: etree._Element) -> str:
    return str(etree.tostring(el, encoding="unicode", with_tail=False))


def read_document(source: Document, root: etree._Element, di: int) -> RawDocument:
    """Read a parsed document (index ``di`` of the dataset) into a :class:`RawDocument` with descriptions.

    Object elements that are not plain descriptions (blank nodes, ``rdf:nodeID``, property attributes)
    are counted and left to the raw path, as the merge ignores them. The descriptions (and the
    associations written as literals) wait in ``descriptions`` for the merge.
    """
    descriptions: list[MergedObject] = []
    literal_refs: list[LiteralReference] = []
    header: RawObject | None = None
    class_tags: dict[str, str] = {}  # this document's element tags -> local name
    preds: dict[str, tuple[str, bool]] = {}  # this document's predicate tags
    header_preds: set[str] = set()
    object_tags: set[str] = set()  # class tags of the objects (the header is not one)
    cim_namespace: str | None = None
    n_objects = 0
    rdf_id, rdf_about, resource = ns.RDF_ID, ns.RDF_ABOUT, ns.RDF_RESOURCE
    header_tags = ns.HEADER_TAGS
    lit, ref, xml = _LITERAL, _REF, _XML
    append = descriptions.append
    for el in root:
        tag = el.tag
        cls = class_tags.get(tag)
        if cls is None:
            if type(tag) is not str:  # comments and processing instructions are not RDF
                continue
            cls = class_tags[tag] = _class(tag)
            if cim_namespace is None and tag not in header_tags:
                tag_ns = ns.split_tag(tag)[0]
                if tag_ns in ns.CIM_NAMESPACES:
                    cim_namespace = tag_ns
        items = el.items()
        if len(items) != 1 or (key := items[0][0]) not in (rdf_id, rdf_about):
            n_objects += 1  # blank node, rdf:nodeID or property attributes: the raw path keeps it verbatim
            object_tags.add(tag)
            continue
        if header is None and tag in header_tags:
            header = parse_object(el, tag, header_preds)
            continue
        n_objects += 1
        object_tags.add(tag)
        ident = items[0][1]
        mrid = normalise_mrid(ident)  # memoised there
        props: dict[str, PropValue | list[PropValue]] = {}
        for p in el:
            ptag = p.tag
            known = preds.get(ptag)
            if known is None:
                if type(ptag) is not str:
                    continue
                known = preds[ptag] = _predicate(ptag)
            attrs = p.items()
            if not attrs:
                if len(p):
                    pv = (_verbatim(p), xml, di, p.sourceline)
                else:
                    pv = (p.text or "", lit, di, p.sourceline)
                    if known[1]:
                        literal_refs.append(LiteralReference(mrid, cls, known[0], pv[3], pv[0]))
            elif len(attrs) == 1 and attrs[0][0] == resource and not len(p):
                pv = (attrs[0][1], ref, di, p.sourceline)
            else:
                pv = (_verbatim(p), xml, di, p.sourceline)
            local = known[0]
            cur = props.setdefault(local, pv)
            if cur is not pv:  # a repeated property inside one description: multi-valued
                if type(cur) is list:
                    cur.append(pv)
                else:
                    props[local] = [cur, pv]  # type: ignore[list-item]
        is_id = key == rdf_id
        append(MergedObject(mrid, cls, di, el.sourceline or 0, props, 1 if is_id else 0, _written(ident, mrid, is_id)))
        # the tree is not needed behind the walk: free each element's children as soon as they are read, and
        # hand the freed memory back now and then, so the tree shrinks while the descriptions grow
        el.clear()
        if not n_objects & 0xFFFF:
            release_freed_memory()
    nsmap, cim_namespace = document_namespaces(root, cim_namespace, bool(n_objects))
    return RawDocument(
        name=source.name,
        nsmap=nsmap,
        root_attrib=dict(root.attrib),
        header=header,
        objects=None,
        cim_namespace=cim_namespace,
        class_tags=object_tags,
        predicate_tags=set(preds) | header_preds,
        n_objects=n_objects,
        source=source,  # read again if a writer asks for the raw statements (the caller may drop its bytes first)
        descriptions=DocumentDescriptions(descriptions, literal_refs),
    )


def descriptions_of(document: RawDocument, di: int) -> DocumentDescriptions:
    """Descriptions of a document read by the raw path (every statement kept), for the merge."""
    out: list[MergedObject] = []
    literal_refs: list[LiteralReference] = []
    for obj in document.objects:
        if obj.verbatim is not None or not obj.mrid:
            continue
        cls = _class(obj.tag)
        props: dict[str, PropValue | list[PropValue]] = {}
        for ptag, value, kind, line in obj.props:
            local, association = _predicate(ptag)
            pv = (value, kind, di, line)
            if association and kind == _LITERAL:
                literal_refs.append(LiteralReference(obj.mrid, cls, local, line, value))
            cur = props.setdefault(local, pv)
            if cur is not pv:
                if type(cur) is list:
                    cur.append(pv)
                else:
                    props[local] = [cur, pv]  # type: ignore[list-item]
        is_id = obj.id_attr == "ID"
        out.append(
            MergedObject(obj.mrid, cls, di, obj.line, props, 1 if is_id else 0, _written(obj.ident, obj.mrid, is_id))
        )
    return DocumentDescriptions(out, literal_refs)


@functools.lru_cache(maxsize=256)
def _namespace_name_ok(uri: str) -> bool:
    """Whether lxml accepts ``uri`` as a namespace name (the native reader checks only its characters)."""
    try:
        etree.fromstring(f'<r xmlns="{uri}"/>', _URI_PARSER)
    except etree.XMLSyntaxError:
        return False
    return True


_URI_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def native_builder() -> ModuleType | None:
    """The native module, for the merge (``merge_into``) and the model build (``build_objects``), or ``None``
    where it is not built or ``CIMFLOW_NATIVE=0`` turns it off."""
    return _NATIVE


def native_available() -> bool:
    """Whether the native reader is built and enabled."""
    return native_builder() is not None


def read_native(source: Document, di: int) -> RawDocument | None:
    """Read a document (index ``di`` of the dataset) with the native reader, into exactly what
    :func:`read_document` reads from an lxml tree; ``None`` when the native reader is not there or leaves
    the document to lxml (anything beyond the plain shape of CIM files, and every syntax error, which the
    lxml path then reports)."""
    if _NATIVE is None:
        return None
    got = _NATIVE.scan(source.data, di, MergedObject, normalise_mrid, ns.HEADER_TAGS, ns.CIM_NAMESPACES)
    if got is None:
        return None
    nsmap, root_attrib, head, objects, literals, object_tags, preds, header_preds, n_objects, cim_namespace = got
    if not all(map(_namespace_name_ok, nsmap.values())):
        return None  # lxml reports the namespace name it cannot parse as a URI
    header = None
    if head is not None:
        tag, id_attr, ident, line, props = head
        header = RawObject(tag, id_attr, ident, normalise_mrid(ident), line, props)
    return RawDocument(
        name=source.name,
        nsmap=nsmap,
        root_attrib=root_attrib,
        header=header,
        objects=None,
        cim_namespace=cim_namespace_of(nsmap, cim_namespace, bool(n_objects)),
        class_tags=object_tags,
        predicate_tags=preds | header_preds,
        n_objects=n_objects,
        source=source.without_data(),  # the bytes of a plain file are read again only if a writer asks
        descriptions=DocumentDescriptions(objects, [LiteralReference(*lr) for lr in literals]),
    )
