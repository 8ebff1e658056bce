"""Write documents back as RDF/XML (CGMES style) or, through rdflib, as Turtle, JSON-LD or N-Triples.

Writing a document that was read without changes gives an RDF graph isomorphic to the input:
identifiers keep the form they were written in (``rdf:ID`` or ``rdf:about``), literals and references
are written as read, and what the reader kept verbatim is put back verbatim.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from xml.sax.saxutils import escape, quoteattr

from cimflow.cim import namespaces as ns
from cimflow.cim.rdf import Kind, RawDocument, RawObject

_TEXT_ENTITIES = {"\r": "&#13;"}
_ATTR_ENTITIES = {"\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}


class RdfFormat(StrEnum):
    """Serialisations ``cimflow convert`` writes."""

    RDFXML = "rdfxml"
    TURTLE = "turtle"
    JSONLD = "jsonld"
    NTRIPLES = "ntriples"

    @property
    def suffix(self) -> str:
        """File suffix of the format."""
        return {"rdfxml": ".xml", "turtle": ".ttl", "jsonld": ".jsonld", "ntriples": ".nt"}[self.value]


class _Prefixes:
    """Namespace prefixes of one output document: the input's, plus generated ones where needed."""

    def __init__(self, nsmap: dict[str, str]) -> None:
        self.by_ns: dict[str, str] = {}
        for prefix, uri in nsmap.items():
            if prefix and uri not in self.by_ns:
                self.by_ns[uri] = prefix
        self.declared = {k: v for k, v in nsmap.items() if k}
        self.by_ns.setdefault(ns.RDF, "rdf")
        self.declared.setdefault(self.by_ns[ns.RDF], ns.RDF)
        self._n = 0

    def qname(self, tag: str) -> str:
        uri, local = ns.split_tag(tag)
        prefix = self.by_ns.get(uri)
        if prefix is None:
            self._n += 1
            prefix = f"ns{self._n}"
            while prefix in self.declared:
                self._n += 1
                prefix = f"ns{self._n}"
            self.by_ns[uri] = prefix
            self.declared[prefix] = uri
        return f"{prefix}:{local}"


def _write_object(obj: RawObject, px: _Prefixes, out: list[str]) -> None:
    if obj.verbatim is not None:
        out.append(f"  {obj.verbatim}\n")
        return
    qn = px.qname(obj.tag)
    rdf = px.by_ns[ns.RDF]
    attr = "ID" if obj.id_attr == "ID" else "about"
    out.append(f"  <{qn} {rdf}:{attr}={quoteattr(obj.ident, _ATTR_ENTITIES)}>\n")
    for ptag, value, kind, _line in obj.props:
        pq = px.qname(ptag)
        if kind == Kind.REF:
            out.append(f"    <{pq} {rdf}:resource={quoteattr(value, _ATTR_ENTITIES)}/>\n")
        elif kind == Kind.LITERAL:
            out.append(f"    <{pq}>{escape(value, _TEXT_ENTITIES)}</{pq}>\n")
        else:
            out.append(f"    {value}\n")
    out.append(f"  </{qn}>\n")


def write_rdfxml(doc: RawDocument, *, extra: Iterable[RawObject] = ()) -> bytes:
    """Serialise a document as RDF/XML: header first, then every object (and ``extra`` ones) in order."""
    px = _Prefixes(doc.nsmap)
    body: list[str] = []
    if doc.header is not None:
        _write_object(doc.header, px, body)
    for obj in doc.objects:
        _write_object(obj, px, body)
    for obj in extra:
        _write_object(obj, px, body)
    decls = " ".join(f"xmlns:{p}={quoteattr(u)}" for p, u in sorted(px.declared.items()))
    attrs = "".join(f" {_root_attr(k, px)}={quoteattr(v, _ATTR_ENTITIES)}" for k, v in doc.root_attrib.items())
    rdf = px.by_ns[ns.RDF]
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<{rdf}:RDF {decls}{attrs}>\n'
    return (head + "".join(body) + f"</{rdf}:RDF>\n").encode("utf-8")


def _root_attr(key: str, px: _Prefixes) -> str:
    if key.startswith(f"{{{ns.XML}}}"):
        return "xml:" + key.split("}", 1)[1]
    return px.qname(key)


def to_graph(doc: RawDocument, *, base: str) -> object:
    """Parse the document's RDF/XML form into an rdflib Graph (for other serialisations and comparisons)."""
    import rdflib  # imported here: only conversion needs it

    graph = rdflib.Graph()
    graph.parse(data=write_rdfxml(doc), format="xml", publicID=base)
    return graph


def serialise(doc: RawDocument, fmt: RdfFormat, *, base: str) -> bytes:
    """Serialise a document in the given format; non-XML forms go through rdflib."""
    if fmt is RdfFormat.RDFXML:
        return write_rdfxml(doc)
    graph = to_graph(doc, base=base)
    rdflib_name = {"turtle": "turtle", "jsonld": "json-ld", "ntriples": "nt"}[fmt.value]
    text = graph.serialize(format=rdflib_name)  # type: ignore[attr-defined]
    return text.encode("utf-8") if isinstance(text, str) else bytes(text)
