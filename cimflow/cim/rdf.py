"""Parse one RDF/XML document with lxml into located raw objects; no CIM semantics here.

Every statement is kept: simple statements (a literal or an ``rdf:resource`` reference) as tuples, and
anything else RDF/XML can express (nested nodes, ``rdf:parseType``, ``xml:lang``, ``rdf:datatype``,
blank nodes, property attributes) as the verbatim XML of that element, which the writer puts back.
The parser resolves no entity, loads no DTD and touches no network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from lxml import etree

from cimflow.catalog import inputs as codes
from cimflow.cim import namespaces as ns
from cimflow.cim.source import Document
from cimflow.findings import Finding, Location, make_finding
from cimflow.ids import MRID, normalise_mrid


class Kind(IntEnum):
    """How a property value is written."""

    LITERAL = 0
    REF = 1
    XML = 2  # verbatim XML of the property element


# (predicate Clark tag, value, kind, line); for Kind.XML the value is the element's XML text
Prop = tuple[str, str, int, int]


@dataclass(slots=True)
class RawObject:
    """One top-level RDF node element: an object description (or a verbatim blank node)."""

    tag: str
    id_attr: str  # "ID", "about", or "" for a verbatim node
    ident: str  # the identifier exactly as written
    mrid: MRID
    line: int
    props: list[Prop]
    verbatim: str | None = None

    @property
    def local_class(self) -> str:
        """Class name without namespace (``ACLineSegment``)."""
        return ns.split_tag(self.tag)[1]


class RawDocument:
    """A parsed document: namespaces, header, objects in document order, and what profile it is.

    ``objects`` (every statement, for the lossless writer) is materialised on first use: the fast
    reading path (:func:`cimflow.cim.descriptions.read_document`) never builds it and keeps the
    document's bytes instead, so a network that is only validated or solved does not hold millions of
    raw statements next to its model. ``descriptions`` are that path's per-object statements, handed
    to the merge once and then dropped.
    """

    __slots__ = (
        "_objects",
        "_source",
        "cim_namespace",
        "class_tags",
        "descriptions",
        "header",
        "n_objects",
        "name",
        "nsmap",
        "predicate_tags",
        "root_attrib",
    )

    def __init__(
        self,
        name: str,
        nsmap: dict[str, str],
        root_attrib: dict[str, str],
        header: RawObject | None,
        objects: list[RawObject] | None,
        cim_namespace: str | None,
        class_tags: set[str] | None = None,
        predicate_tags: set[str] | None = None,
        *,
        n_objects: int | None = None,
        source: Document | None = None,
        descriptions: Any = None,
    ) -> None:
        if objects is None and source is None:
            raise ValueError("a RawDocument needs its objects or the source to read them from")
        self.name = name
        self.nsmap = nsmap
        self.root_attrib = root_attrib
        self.header = header
        self.cim_namespace = cim_namespace
        self.class_tags = class_tags if class_tags is not None else set()
        self.predicate_tags = predicate_tags if predicate_tags is not None else set()
        self.n_objects = n_objects if n_objects is not None else len(objects or ())
        self.descriptions = descriptions
        self._objects = objects
        self._source = source

    @property
    def objects(self) -> list[RawObject]:
        """Every top-level object except the header, in document order (read again from the bytes on first use)."""
        if self._objects is None:
            assert self._source is not None
            root, _ = parse_tree(self._source.with_data())
            assert root is not None, "the document parsed before"
            self._objects = _walk(self.name, root).objects
        return self._objects

    @property
    def declared_profiles(self) -> tuple[str, ...]:
        """The ``md:Model.profile`` URIs of the header, in file order."""
        if self.header is None:
            return ()
        return tuple(v for p, v, _k, _l in self.header.props if p.endswith("Model.profile"))


_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "collect_ids": False,
}
_ENTITY_RE = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE_RE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


def _declares_entities(data: bytes) -> bool:
    """Look for entity declarations in the prolog (also in UTF-16 encoded documents)."""
    head = data[: 1 << 16]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(head) > 1 and head[1:2] == b"\x00") or head[:1] == b"\x00":
        try:
            head = head.decode("utf-16").encode("utf-8", "replace")
        except UnicodeDecodeError:
            return False
    return bool(_DOCTYPE_RE.search(head) and _ENTITY_RE.search(head))


def _has_entity_declarations(root: etree._Element) -> bool:
    """Whether the parsed document's internal DTD subset declares entities (never expanded: refused)."""
    dtd = root.getroottree().docinfo.internalDTD
    return dtd is not None and any(True for _ in dtd.iterentities())


def _verbatim(el: etree._Element) -> str:
    return str(etree.tostring(el, encoding="unicode", with_tail=False))


_LITERAL, _REF, _XML = int(Kind.LITERAL), int(Kind.REF), int(Kind.XML)


def parse_object(el: etree._Element, tag: str, seen_predicates: set[str]) -> RawObject:
    """One top-level element as a raw object with every statement (the header, or any object for the writer)."""
    items = el.items()
    line = el.sourceline or 0
    if len(items) != 1 or items[0][0] not in (ns.RDF_ID, ns.RDF_ABOUT):
        # blank node, rdf:nodeID or property attributes: keep the node as written
        ident = el.get(ns.RDF_ID) or el.get(ns.RDF_ABOUT)
        mrid = normalise_mrid(ident) if ident is not None else MRID("")
        return RawObject(tag, "", ident or "", mrid, line, [], verbatim=_verbatim(el))
    key, ident = items[0]
    id_attr = "ID" if key == ns.RDF_ID else "about"
    props: list[Prop] = []
    append = props.append
    seen = seen_predicates.add
    resource = ns.RDF_RESOURCE
    for p in el:
        ptag = p.tag
        if type(ptag) is not str:  # comments and processing instructions are not RDF
            continue
        seen(ptag)
        attrs = p.items()
        if not attrs:
            if len(p):
                append((ptag, _verbatim(p), _XML, p.sourceline))
            else:
                append((ptag, p.text or "", _LITERAL, p.sourceline))
        elif len(attrs) == 1 and attrs[0][0] == resource and not len(p):
            append((ptag, attrs[0][1], _REF, p.sourceline))
        else:
            append((ptag, _verbatim(p), _XML, p.sourceline))
    return RawObject(tag, id_attr, ident, normalise_mrid(ident), line, props)


def parse_tree(doc: Document, *, blank_text: bool = True) -> tuple[etree._Element | None, list[Finding]]:
    """Parse a document's bytes safely into an lxml tree rooted at ``rdf:RDF``; ``None`` with a CF0xx finding
    if it is not usable RDF/XML.

    ``blank_text=False`` drops the whitespace between elements (not a property's own text, even when
    that is only whitespace): a third smaller tree for readers that do not write the document back.
    Not in a document with a carriage return: libxml2 then also drops the blanks that begin a text
    before a CR (``" \r\ny"`` would read ``"\ny"``, not ``" \ny"``).
    """
    if _declares_entities(doc.data):
        return None, [make_finding(codes.DTD_REFUSED, Location(file=doc.name, line=1))]
    parser = etree.XMLParser(**_PARSER_OPTIONS, remove_blank_text=not blank_text and b"\r" not in doc.data)
    try:
        root = etree.fromstring(doc.data, parser)
    except etree.XMLSyntaxError as err:
        line = err.lineno if getattr(err, "lineno", None) else None
        msg = str(err.msg if hasattr(err, "msg") and err.msg else err).splitlines()[0]
        return None, [make_finding(codes.XML_NOT_WELL_FORMED, Location(file=doc.name, line=line), ctx={"detail": msg})]
    except ValueError as err:  # e.g. unsupported encoding declarations
        return None, [make_finding(codes.XML_NOT_WELL_FORMED, Location(file=doc.name), ctx={"detail": str(err)})]
    if root is not None and _has_entity_declarations(root):
        # the prolog scan above is a fast path; this catches a DOCTYPE behind a long comment
        return None, [make_finding(codes.DTD_REFUSED, Location(file=doc.name, line=1))]
    if root is None or root.tag != ns.RDF_RDF:
        root_tag = "none" if root is None else str(root.tag)
        line = None if root is None else root.sourceline
        return None, [make_finding(codes.NOT_RDF, Location(file=doc.name, line=line), ctx={"root": root_tag})]
    return root, []


def parse_document(doc: Document) -> tuple[RawDocument | None, list[Finding]]:
    """Parse a document into raw objects with every statement; ``None`` with a CF0xx finding if unusable."""
    root, findings = parse_tree(doc)
    if root is None:
        return None, findings
    return _walk(doc.name, root), []


def document_namespaces(
    root: etree._Element, cim_namespace: str | None, has_objects: bool
) -> tuple[dict[str, str], str | None]:
    """The root's namespace map, and the CIM namespace: that of the classes, else (a header-only
    document, an empty SV say) the CIM namespace the root declares."""
    nsmap = {k or "": v for k, v in root.nsmap.items()}
    return nsmap, cim_namespace_of(nsmap, cim_namespace, has_objects)


def cim_namespace_of(nsmap: dict[str, str], cim_namespace: str | None, has_objects: bool) -> str | None:
    """The CIM namespace of a document: that of its classes, else (a header-only document, an empty SV
    say) the CIM namespace its root declares."""
    if cim_namespace is None and not has_objects:
        cim_namespace = next((v for v in nsmap.values() if v in ns.CIM_NAMESPACES), None)
    return cim_namespace


def _walk(name: str, root: etree._Element) -> RawDocument:
    objects: list[RawObject] = []
    header: RawObject | None = None
    class_tags: set[str] = set()
    predicate_tags: set[str] = set()
    cim_namespace: str | None = None
    for el in root:
        tag = el.tag
        if type(tag) is not str:
            continue
        obj = parse_object(el, tag, predicate_tags)
        if tag in ns.HEADER_TAGS and header is None and obj.verbatim is None:
            header = obj
            continue
        objects.append(obj)
        if tag not in class_tags:
            class_tags.add(tag)
            tag_ns = ns.split_tag(tag)[0]
            if cim_namespace is None and tag_ns in ns.CIM_NAMESPACES:
                cim_namespace = tag_ns
    nsmap, cim_namespace = document_namespaces(root, cim_namespace, bool(objects))
    return RawDocument(
        name=name,
        nsmap=nsmap,
        root_attrib=dict(root.attrib),
        header=header,
        objects=objects,
        cim_namespace=cim_namespace,
        class_tags=class_tags,
        predicate_tags=predicate_tags,
    )
