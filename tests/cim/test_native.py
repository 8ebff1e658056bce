"""The native reader (cimflow/cim/_rdfscan.c) reads exactly what the lxml path reads, or leaves the document to it.

Three kinds of evidence: every bundled and shared document read both ways gives equal descriptions;
hand-written documents exercise what XML says about text, lines and references; and seeded random
mutations of real documents show that the native reader never accepts a document that lxml refuses.
"""

from __future__ import annotations

import random
import shutil
import sysconfig
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cimflow import ids
from cimflow.cim import descriptions
from cimflow.cim.descriptions import read_document, read_native
from cimflow.cim.rdf import RawDocument, parse_tree
from cimflow.cim.source import Document, read_sources
from tests.conftest import shared_data_dir

_HERE = Path(__file__).resolve().parents[1] / "data"
_SAMPLES = Path(__file__).resolve().parents[2] / "samples"
_SHARED = shared_data_dir()
_DOCS: list[Document] = read_sources([_HERE, _SAMPLES, *([_SHARED] if _SHARED else [])])[0]

needs_native = pytest.mark.skipif(not descriptions.native_available(), reason="native reader not built")


def _can_compile() -> bool:
    include = sysconfig.get_paths().get("include")
    return bool((shutil.which("cc") or shutil.which("gcc")) and include and (Path(include) / "Python.h").exists())


def test_native_reader_is_built_where_a_compiler_is() -> None:
    """The extension is optional for users without a compiler; where one exists (CI), a failed build is a bug."""
    if not _can_compile():
        pytest.skip("no C compiler or Python headers: cimflow reads with lxml")
    import os

    if os.environ.get("CIMFLOW_NATIVE", "1") == "0":
        pytest.skip("turned off by CIMFLOW_NATIVE=0")
    assert descriptions.native_available()


def _state(doc: RawDocument) -> dict[str, object]:
    d = doc.descriptions
    assert d is not None
    head = doc.header
    return {
        "objects": [(o.mrid, o.cim_class, o.doc, o.line, o.props, o.rank, o.ident) for o in d.objects],
        "literal_refs": d.literal_refs,
        "header": None if head is None else (head.tag, head.id_attr, head.ident, head.mrid, head.line, head.props),
        "nsmap": doc.nsmap,
        "root_attrib": doc.root_attrib,
        "cim_namespace": doc.cim_namespace,
        "class_tags": doc.class_tags,
        "predicate_tags": doc.predicate_tags,
        "n_objects": doc.n_objects,
    }


def _both(data: bytes, name: str = "t.xml") -> tuple[RawDocument | None, RawDocument | None]:
    doc = Document(name, data)
    native = read_native(doc, 2)
    root, _ = parse_tree(doc, blank_text=False)
    return native, (read_document(doc, root, 2) if root is not None else None)


def _assert_same(data: bytes) -> RawDocument:
    native, lxml_read = _both(data)
    assert native is not None, "the native reader left this document to lxml"
    assert lxml_read is not None
    assert _state(native) == _state(lxml_read)
    return native


@needs_native
@pytest.mark.parametrize("doc", _DOCS, ids=[d.name.split("/data/")[-1] for d in _DOCS])
def test_native_reads_what_lxml_reads(doc: Document) -> None:
    native, lxml_read = _both(doc.data, doc.name)
    if lxml_read is None:
        assert native is None  # lxml refuses it: the native reader must not accept it
    elif native is not None:  # else: left to lxml (RDFS vocabularies with nested elements)
        assert _state(native) == _state(lxml_read)


@needs_native
def test_native_reads_every_cim_data_document() -> None:
    """Every bundled and shared document that lxml reads is read natively, except the RDFS vocabularies
    (nested elements and xml:lang values: not the shape of grid data)."""
    left = [
        d.name
        for d in _DOCS
        if "/RDFS/" not in d.name and read_native(d, 0) is None and parse_tree(d, blank_text=False)[0] is not None
    ]
    assert left == []


_HEAD = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    b'xmlns:cim="http://iec.ch/TC57/2013/CIM-schema-cim16#" xmlns:md="http://iec.ch/TC57/61970-552/ModelDescription/1#"'
)


@needs_native
def test_text_lines_references_and_shapes() -> None:
    body = (
        _HEAD + b' xml:base="http://example.org/x">\r\n'
        b"<!-- a comment -->\n<?pi data?>\n"
        b'<md:FullModel rdf:about="urn:uuid:0B5D4F5A-2B4E-4C6B-9F0E-000000000001">\n'
        b"  <md:Model.profile>http://entsoe.eu/CIM/EquipmentCore/3/1</md:Model.profile>\n"
        b'  <md:Model.DependentOn rdf:resource="urn:uuid:x"/>\n'
        b"</md:FullModel>\n"
        b'<cim:ACLineSegment\n   rdf:ID="_L&#49;"\n   >\n'
        b"  <cim:IdentifiedObject.name\n  >a\r\nb\rc &amp; &#65;&#x42; &lt;&gt;&quot;&apos;"
        b"</cim:IdentifiedObject.name>\n"
        b"  <!-- inside an object --><?pi?>\n"
        b'  <cim:Equipment.EquipmentContainer rdf:resource="#_a\tb\r\nc&#10;d"\n  />\n'
        b"  <cim:IdentifiedObject.description>  </cim:IdentifiedObject.description>\n"
        b"  <cim:IdentifiedObject.aliasName/>\n"
        b"  <cim:IdentifiedObject.aliasName></cim:IdentifiedObject.aliasName>\n"
        b"  <cim:Terminal.ConductingEquipment>_lit</cim:Terminal.ConductingEquipment>\n"
        b'  <cim:Equipment.EquipmentContainer rdf:resource="#_second" >  </cim:Equipment.EquipmentContainer>\n'
        b"</cim:ACLineSegment>\n"
        b'<cim:Terminal rdf:about="#_T1"/>\n'
        b'<cim:Terminal rdf:about="urn:uuid:0B5D4F5A-2B4E-4C6B-9F0E-00000000000A"></cim:Terminal>\n'
        b'<cim:Terminal rdf:nodeID="n1"><cim:X.y><cim:Z rdf:ID="_in"/></cim:X.y></cim:Terminal>\n'
        b"<cim:Terminal><cim:X.y>blank node</cim:X.y></cim:Terminal>\n"
        b'<cim:Ext rdf:ID="_ext"/>\n'
        + '<cim:Name rdf:ID="_é"><cim:IdentifiedObject.name>Kraftwerk Süd'.encode()
        + b"</cim:IdentifiedObject.name></cim:Name>\n"
        + b"</rdf:RDF>\n<!-- after -->\n"
    )
    doc = _assert_same(body)
    objects = {o.mrid: o for o in doc.descriptions.objects}  # type: ignore[union-attr]
    line = objects["L1"]
    assert line.line == 11  # the line of the '>' that ends the start tag, as lxml says
    assert line.props["IdentifiedObject.name"][0] == "a\nb\nc & AB <>\"'"
    assert line.props["Equipment.EquipmentContainer"][0][0] == "#_a b c\nd"  # type: ignore[index]
    assert line.props["IdentifiedObject.description"][0] == "  "
    assert objects["0b5d4f5a-2b4e-4c6b-9f0e-00000000000a"].rank == 0
    assert doc.header is not None
    assert doc.header.mrid == "0b5d4f5a-2b4e-4c6b-9f0e-000000000001"
    assert doc.n_objects == 7


@needs_native
def test_default_namespace_and_no_objects() -> None:
    _assert_same(
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://iec.ch/TC57/CIM100#">'
        b'<Terminal rdf:ID="_1"><Terminal.sequenceNumber>1</Terminal.sequenceNumber></Terminal></rdf:RDF>'
    )
    empty = _assert_same(_HEAD + b"></rdf:RDF>")
    assert empty.cim_namespace == "http://iec.ch/TC57/2013/CIM-schema-cim16#"


@needs_native
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'<!DOCTYPE rdf:RDF [<!ENTITY a "b">]>' + _HEAD + b"></rdf:RDF>", id="doctype"),
        pytest.param(_HEAD.replace(b"utf-8", b"ISO-8859-1") + b"></rdf:RDF>", id="latin-1"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"><cim:A.b><cim:C/></cim:A.b></cim:A></rdf:RDF>', id="nested"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"><cim:A.b xml:lang="en">x</cim:A.b></cim:A></rdf:RDF>', id="lang"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"><cim:A.b><![CDATA[x]]></cim:A.b></cim:A></rdf:RDF>', id="cdata"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"><cim:A.b>x<!--c--></cim:A.b></cim:A></rdf:RDF>', id="comment"),
        pytest.param(_HEAD + b'><cim:A xmlns:z="urn:z" rdf:ID="_1"/></rdf:RDF>', id="namespace-below-root"),
    ],
)
def test_other_shapes_are_left_to_lxml(body: bytes) -> None:
    native, _ = _both(body)
    assert native is None


@needs_native
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"></cim:B></rdf:RDF>', id="mismatched-end"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1" rdf:ID="_2"/></rdf:RDF>', id="attribute-twice"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"><cim:A.b>&nbsp;</cim:A.b></cim:A></rdf:RDF>', id="entity"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"><cim:A.b>&#0;</cim:A.b></cim:A></rdf:RDF>', id="char-ref-0"),
        pytest.param(_HEAD + b'><x:A rdf:ID="_1"/></rdf:RDF>', id="undeclared-prefix"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"><cim:A.b>x]]>y</cim:A.b></cim:A></rdf:RDF>', id="cdata-end"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"><cim:A.b>\xff</cim:A.b></cim:A></rdf:RDF>', id="bad-utf8"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"><cim:A.b>\x01</cim:A.b></cim:A></rdf:RDF>', id="control-char"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"/>', id="truncated"),
        pytest.param(_HEAD + b'><cim:A rdf:ID="_1"/></rdf:RDF><x/>', id="two-roots"),
        pytest.param(_HEAD + b"><!-- a -- b --></rdf:RDF>", id="double-hyphen"),
        pytest.param(b" " + _HEAD + b"></rdf:RDF>", id="late-declaration"),
        pytest.param(_HEAD.replace(b"TC57/2013", b"TC57 2013") + b"></rdf:RDF>", id="uri-with-space"),
        pytest.param(_HEAD + b' xmlns:0="urn:z"></rdf:RDF>', id="prefix-starts-with-digit"),
        pytest.param(_HEAD + b' xmlns:-a="urn:z"></rdf:RDF>', id="prefix-starts-with-hyphen"),
    ],
)
def test_malformed_documents_are_left_to_lxml(body: bytes) -> None:
    native, lxml_read = _both(body)
    assert lxml_read is None, "the case must be one lxml refuses"
    assert native is None


@needs_native
@pytest.mark.parametrize(
    ("chars", "readable"),
    [
        pytest.param(b"\x01", False, id="control"),
        pytest.param(b"\x7f", True, id="delete"),
        pytest.param(b"\x80", False, id="lone-continuation"),
        pytest.param(b"\xc0\x80", False, id="overlong-nul"),
        pytest.param(b"\xed\xa0\x80", False, id="utf8-surrogate"),
        pytest.param(b"\xef\xbf\xbe", False, id="fffe"),
        pytest.param(b"\xf4\x90\x80\x80", False, id="beyond-10ffff"),
        pytest.param(b"\xc3", False, id="cut-sequence"),
        pytest.param("é".encode(), True, id="two-bytes"),
        pytest.param("€".encode(), True, id="three-bytes"),
        pytest.param("𝄞".encode(), True, id="four-bytes"),
        pytest.param(b"\t\r\n", True, id="white-space"),
        pytest.param(b"\r\n\t", True, id="white-space-2"),
        pytest.param(b"&amp;", True, id="reference"),
        pytest.param(b"&#233;&#x20AC;", True, id="character-references"),
        pytest.param(b"]]>", None, id="cdata-end"),  # refused in text, allowed in an attribute (left to lxml)
        pytest.param(b"]]", True, id="brackets"),
        pytest.param(b"&bad;", False, id="undefined-entity"),
    ],
)
def test_the_text_check_finds_a_character_wherever_it_lies(chars: bytes, readable: bool | None) -> None:
    """The reader checks the document's characters, and looks for the bytes a value needs work for, sixteen
    bytes at a time: a character refused (or accepted, or decoded) must be so at every offset from those
    blocks, in a value and in an identifier, in an ASCII document and in one that is not. ``None``: lxml
    may read it where the native reader leaves it to lxml."""
    for k in range(34):
        pad = b"x" * k
        for body in (
            _HEAD + b'><cim:A rdf:ID="_1"><cim:A.b>' + pad + chars + b"y</cim:A.b></cim:A></rdf:RDF>",
            _HEAD + b'><cim:A rdf:ID="_' + pad + chars + b'"/></rdf:RDF>',
            _HEAD + b'><cim:A rdf:ID="_1"><cim:A.b>\xc3\xa9' + pad + chars + b"y</cim:A.b></cim:A></rdf:RDF>",
        ):
            native, lxml_read = _both(body)
            if readable is False:
                assert lxml_read is None, body
            if lxml_read is None:
                assert native is None, body
                continue
            if readable:
                assert native is not None, body
            if native is not None:
                assert _state(native) == _state(lxml_read), body


@needs_native
def test_more_names_than_the_first_tag_table_holds() -> None:
    """The reader's table of tag and attribute names grows past 256 names while an object's properties are
    read; the object's own tag must stay valid through that (it once pointed into the old table: a crash)."""
    props = b"".join(b"<cim:A.p%d>%d</cim:A.p%d>" % (i, i, i) for i in range(400))
    body = (
        _HEAD
        + b'><cim:A rdf:ID="_1">'
        + props
        + b'</cim:A><cim:B rdf:ID="_2">'
        + props.replace(b"A.p", b"B.q")
        + b"</cim:B></rdf:RDF>"
    )
    read = _assert_same(body)
    assert read.descriptions is not None
    assert [(o.cim_class, len(o.props)) for o in read.descriptions.objects] == [("A", 400), ("B", 400)]


@needs_native
def test_names_that_begin_with_the_previous_name_are_read_as_written() -> None:
    """The reader first tries the name that came next last time (the element after the previous element,
    the last attribute): a name that the guess begins, or that begins the guess, is another name."""
    objects = b"".join(
        b'<cim:A rdf:ID="_%d"><cim:A.b>1</cim:A.b><cim:A.bc>2</cim:A.bc><cim:A.b>3</cim:A.b>'
        b'<cim:A.b rdf:resource="#_x"/><cim:A.bc rdf:resource="#_z"/></cim:A>'
        b'<cim:C rdf:ID="_c%d"/><cim:C rdf:IDx="_q"/><cim:AB rdf:about="#_%d"><cim:A.b>4</cim:A.b></cim:AB>' % (i, i, i)
        for i in range(3)
    )
    read = _assert_same(_HEAD + b">" + objects + b"</rdf:RDF>")
    assert read.descriptions is not None
    first = read.descriptions.objects[0]
    assert [o.cim_class for o in read.descriptions.objects] == ["A", "C", "AB"] * 3  # rdf:IDx is no rdf:ID
    assert [v[0] for v in first.props["A.b"]] == ["1", "3", "#_x"]
    assert [v[0] for v in first.props["A.bc"]] == ["2", "#_z"]


@needs_native
@pytest.mark.parametrize(
    "markup",
    [
        pytest.param(b"<!--" + b"x" * 10_000_001 + b"-->", id="comment"),
        pytest.param(b"<?pi " + b"x" * 10_000_001 + b"?>", id="processing-instruction"),
        pytest.param(b"<cim:A " + b" ".join(b'a%d="v"' % i for i in range(1_700_000)) + b"/>", id="start-tag"),
    ],
)
def test_markup_longer_than_libxml2_takes_is_left_to_lxml(markup: bytes) -> None:
    """Without huge_tree libxml2 refuses a comment, a processing instruction or one start tag of about
    10 MB (each value of that tag being small): so must the native reader, which leaves them to lxml."""
    native, lxml_read = _both(_HEAD + b">" + markup + b"</rdf:RDF>")
    assert lxml_read is None
    assert native is None


@needs_native
def test_an_empty_default_namespace_is_listed_as_lxml_lists_it() -> None:
    read = _assert_same(_HEAD + b' xmlns=""><cim:A rdf:ID="_1"/></rdf:RDF>')
    assert read.nsmap.get("") == ""


_ALPHABET = [
    b"<", b">", b"/", b"&", b"&amp;", b"&#10;", b"&#xD;", b'"', b"'", b"=", b" ", b"\n", b"\r", b"\t", b":", b"-",
    b"!--", b"]]>", b"<!--x-->", b"<?p x?>", "é".encode(), b"\xff", b"\x00", b"_", b"#", b'rdf:ID="_q"',
    b'xmlns:z="u"', b"<a>", b"</a>", b"<![CDATA[x]]>", b"&foo;", b"\r\n", b"rdf:resource=", b"md:",
]  # fmt: skip


@needs_native
@pytest.mark.parametrize("seed", range(4))
def test_mutated_documents_read_alike_or_are_left_to_lxml(seed: int) -> None:
    """Random edits of real documents: whatever lxml refuses the native reader refuses, and whatever
    both read they read alike."""
    rng = random.Random(seed)
    bases = [
        (_HERE / "cim" / "rules" / "cf101_dangling.xml").read_bytes(),
        (_HERE / "cim" / "rules" / "cf104_literal_reference.xml").read_bytes(),
        (_HERE / "cim" / "rules" / "cf050_cim100_feeder.xml").read_bytes(),
    ]
    read_alike = 0
    for _ in range(1500):
        data = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(len(data))
            op = rng.random()
            if op < 0.4:
                del data[pos : pos + rng.randint(1, 4)]
            elif op < 0.8:
                data[pos:pos] = rng.choice(_ALPHABET)
            else:
                data[pos : pos + 1] = rng.choice(_ALPHABET)
        native, lxml_read = _both(bytes(data))
        if lxml_read is None:
            assert native is None, bytes(data)
        elif native is not None:
            assert _state(native) == _state(lxml_read), bytes(data)
            read_alike += 1
    assert read_alike > 50  # the mutations leave enough documents readable to compare


def _built(paths: list[Path], native: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Load with the native reader, merge and build on or off; everything the model build decides."""
    from cimflow.cim.ingest import ingest

    with monkeypatch.context() as m:
        if not native:
            m.setattr(descriptions, "_NATIVE", None)
        read = ingest(paths)
        dataset = read.value
        if dataset is None:  # unreadable: the findings of reading are all there is
            return {"findings": [(f.code, str(f.location), f.message) for f in read.findings]}
        from cimflow.cim.build import build_network

        built = build_network(dataset)
    network = built.value
    assert network is not None
    return {
        "objects": [(m, type(o).__name__, o.model_dump(), o.model_fields_set) for m, o in network.by_mrid.items()],
        "by_class": {k.__name__: list(v) for k, v in network.objects.items()},
        "opaque": list(network.opaque.values()),
        "class_counts": dict(network.class_counts),
        "findings": [(f.code, str(f.location), f.message) for f in (*read.findings, *built.findings)],  # in order
        "ref_forms": dict(dataset.ref_forms),
    }


def _model_sets() -> list[list[Path]]:
    sets = [sorted((_HERE / f).rglob("*.xml")) for f in ("cigre-mv", "cimhub", "simbench-lv-urban6-cgmes3")]
    sets += [sorted(_SAMPLES.glob("simbench-lv-urban6/*.xml"))]
    sets += [[p] for p in sorted((_HERE / "cim" / "rules").glob("*.xml"))]  # one finding each
    if _SHARED:
        sets += [[p] for p in sorted(_SHARED.rglob("*.zip"))]
        sets += [sorted(p.glob("*.xml")) for p in sorted(_SHARED.rglob("*")) if p.is_dir() and any(p.glob("*.xml"))]
    return [s for s in sets if s]


_SETS = _model_sets()


@needs_native
@pytest.mark.parametrize("paths", _SETS, ids=[str(s[0].relative_to(s[0].parents[1])) for s in _SETS])
def test_native_merge_and_build_make_the_same_model(paths: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """The native merge and build give the same objects, fields, order, findings (in order) and identifier
    forms as the Python ones, on every bundled and shared model."""
    assert _built(paths, True, monkeypatch) == _built(paths, False, monkeypatch)


def test_records_of_another_type_are_refused_not_read_by_offset() -> None:
    """The merge reads its records' slots by offset; an object of another class that borrows their member
    descriptors (no such slots of its own) gets the generic protocol's TypeError, not a read out of bounds."""
    from cimflow.cim.descriptions import MergedObject, native_builder

    native = native_builder()
    if native is None:
        pytest.skip("the native module is not built here")
    borrowed = {name: MergedObject.__dict__[name] for name in ("cim_class", "mrid", "rank")}
    impostor = type("Impostor", (), {"__slots__": (), **borrowed})()
    with pytest.raises(TypeError):
        native.merge_into({}, [impostor], 0, 0, False, {}, [])


# UUID-shaped identifiers: 32 hex digits of either case with the dashes where a UUID has them, one digit
# possibly replaced by a byte next to the hex ranges ('/', ':', '@', 'G', '`', 'g') or a dash, which a
# wrong range test would let through; and free text of about that length


def _uuid_text(digits: list[str], at: int, other: str | None) -> str:
    if other is not None:
        digits = [*digits[:at], other, *digits[at + 1 :]]
    c = "".join(digits)
    return f"{c[:8]}-{c[8:12]}-{c[12:16]}-{c[16:20]}-{c[20:]}"


_uuid_like = st.one_of(
    st.builds(
        _uuid_text,
        st.lists(st.sampled_from("0123456789abcdefABCDEF"), min_size=32, max_size=32),
        st.integers(0, 31),
        st.sampled_from([None, None, "/", ":", "@", "G", "`", "g", "-", "_", "F", "f"]),
    ),
    st.text(alphabet="0123456789abcdefABCDEF-gG_", min_size=35, max_size=37),
)


@needs_native
@settings(max_examples=300, deadline=None)
@given(ident=_uuid_like, underscore=st.booleans())
def test_native_normalises_identifiers_as_python_does(ident: str, underscore: bool) -> None:
    """The C normalisation of object identifiers (by the reader) and of references (by the model build):
    lower-cased UUIDs, one leading underscore and the part before '#' dropped, as cimflow.ids does it."""
    from cimflow.cim.build import build_network
    from cimflow.cim.ingest import ingest

    raw = ("_" if underscore else "") + ident
    body = (
        f'><cim:ACLineSegment rdf:ID="{raw}"/><cim:Terminal rdf:ID="_t">'
        f'<cim:Terminal.ConductingEquipment rdf:resource="#{raw}"/></cim:Terminal>'
        f'<cim:Breaker rdf:about="urn:uuid:{ident}"/></rdf:RDF>'
    )
    data = _HEAD + body.encode()
    native = _assert_same(data)  # object identifiers: as the lxml path reads them
    assert native.descriptions is not None
    expected = [ids._normalise(raw), "t", ids._normalise(f"urn:uuid:{ident}")]
    assert [o.mrid for o in native.descriptions.objects] == expected
    with tempfile.TemporaryDirectory() as folder:  # one file per example (hypothesis runs hundreds)
        path = Path(folder) / "t.xml"
        path.write_bytes(data)
        network = build_network(ingest([path]).value).value
    assert network is not None
    assert network.terminals["t"].conducting_equipment == ids._normalise(f"#{raw}")  # the reference, resolved


@needs_native
def test_references_are_the_model_keys_themselves() -> None:
    """Every reference the build reads is the very string that keys its target in the model, not an equal
    copy: lookups by reference then find their key without comparing text."""
    from cimflow.cim.build import build_network
    from cimflow.cim.ingest import ingest

    paths = sorted(str(p) for p in (_SAMPLES / "simbench-lv-urban6").glob("*.xml"))
    network = build_network(ingest(paths).value).value
    assert network is not None
    keys = {m: m for m in network.by_mrid}
    refs = [
        r
        for t in network.terminals.values()
        for r in (t.conducting_equipment, t.connectivity_node, t.topological_node)
        if r is not None and r in keys
    ]
    assert len(refs) > 100
    assert all(keys[r] is r for r in refs)


@needs_native
def test_a_reference_without_a_utf8_form_goes_to_the_python_builder() -> None:
    """A reference the C build cannot read as UTF-8 (a lone surrogate, which only a caller's own dataset can
    hold) is left to the Python builder, which keeps it and reports it dangling: no exception from the
    native loop, also for the second object with it, after the Python builder has memoised its mRID."""
    from cimflow.cim.build import build_network
    from cimflow.cim.ingest import ingest

    dataset = ingest([_HERE / "cim" / "rules" / "cf101_dangling.xml"]).value
    assert dataset is not None
    read = dataset.documents[0].descriptions
    assert read is not None
    terminals = [o for o in read.objects if o.cim_class == "Terminal"]
    assert len(terminals) >= 2
    for terminal in terminals:
        stored = terminal.props["Terminal.ConductingEquipment"]
        assert len(stored) == 4  # (value, kind, document, line)
        assert stored[1] == 1  # a reference
        terminal.props["Terminal.ConductingEquipment"] = ("#_\udc80", *stored[1:])
    built = build_network(dataset)
    assert built.value is not None
    assert {t.conducting_equipment for t in built.value.terminals.values()} == {"\udc80"}
    dangling = {f.location.mrid for f in built.findings if f.code == "CF101"}
    assert {t.mrid for t in terminals} <= dangling


def test_a_native_module_built_from_older_sources_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """An in-place build not redone since the native functions' arguments changed (no INTERFACE, or
    another one) is left unused, so every document is read through lxml instead of calling it wrongly."""
    import types

    monkeypatch.setenv("CIMFLOW_NATIVE", "1")
    stale = types.ModuleType("cimflow.cim._rdfscan")
    real = descriptions.importlib.import_module
    monkeypatch.setattr(
        descriptions.importlib, "import_module", lambda name: stale if name == "cimflow.cim._rdfscan" else real(name)
    )
    assert descriptions._load_native() is None
    stale.INTERFACE = descriptions._INTERFACE  # type: ignore[attr-defined]
    assert descriptions._load_native() is stale


@needs_native
def test_a_native_value_reads_as_the_tuple_the_lxml_path_makes() -> None:
    """The native reader's property value (Prop) is the tuple (value, kind, document, line) to every reader:
    indexing, unpacking, slicing, comparing, hashing, printing, pickling; in a fraction of the memory."""
    import copy
    import pickle
    import sys

    prop_type = descriptions.native_builder().Prop  # type: ignore[union-attr]
    for value in ("#_5f0b9a86-2d1c-4f7e-8d3a-0c5e6b7a8f90", "Straße & Weg é", "", "0.125"):
        as_tuple = (value, 1, 2, 3_000_000_000)
        pv = prop_type(*as_tuple)
        assert (pv[0], pv[1], pv[2], pv[3]) == as_tuple
        assert (pv[-4], pv[-1], pv[1:3], pv[::-1], len(pv)) == (value, 3_000_000_000, (1, 2), as_tuple[::-1], 4)
        a, b, c, d = pv
        assert (a, b, c, d) == as_tuple
        assert pv == as_tuple
        assert as_tuple == pv
        assert (pv != as_tuple) is False
        assert pv != (value, 0, 2, 3_000_000_000)
        assert pv != prop_type(value + "x", 1, 2, 3_000_000_000)
        assert pv == prop_type(*as_tuple)
        assert hash(pv) == hash(as_tuple)
        assert {pv: 1}[as_tuple] == 1
        assert repr(pv) == repr(as_tuple)
        assert pickle.loads(pickle.dumps(pv)) == pv
        assert type(copy.deepcopy(pv)) is prop_type
        assert pv != value
        assert pv != [value, 1, 2, 3_000_000_000]
        with pytest.raises(IndexError):
            pv[4]
    ref = "#_5f0b9a86-2d1c-4f7e-8d3a-0c5e6b7a8f90"
    line = 1_234_567
    assert sys.getsizeof(prop_type(ref, 1, 0, line)) * 2 < sum(map(sys.getsizeof, ((ref, 1, 0, line), ref, line)))
    with pytest.raises(UnicodeEncodeError):
        prop_type("\udc80", 0, 0, 1)
    with pytest.raises(ValueError, match="kind"):
        prop_type("x", 256, 0, 1)


_SPELLINGS_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/2013/CIM-schema-cim16#"
 xmlns:md="http://iec.ch/TC57/61970-552/ModelDescription/1#">
  <md:FullModel rdf:about="urn:uuid:6a3f1f56-1b57-4bd4-9f4c-7c1b3e0c003{n}">
    <md:Model.profile>http://entsoe.eu/CIM/{profile}</md:Model.profile>
  </md:FullModel>
"""
_SPELLINGS_EQ = """
  <cim:BaseVoltage rdf:ID="_BV"><cim:BaseVoltage.nominalVoltage>0.4</cim:BaseVoltage.nominalVoltage></cim:BaseVoltage>
  <cim:VoltageLevel rdf:ID="_VL"><cim:VoltageLevel.BaseVoltage rdf:resource="#_BV"/></cim:VoltageLevel>
  <cim:ConnectivityNode rdf:ID="_CN">
    <cim:ConnectivityNode.ConnectivityNodeContainer rdf:resource="#_VL"/></cim:ConnectivityNode>
{lines}
  <cim:Breaker rdf:ID="_SW1"><cim:IdentifiedObject.name>St&#246;r &amp; Co&#x1F600;</cim:IdentifiedObject.name>
    <cim:Switch.normalOpen>true</cim:Switch.normalOpen></cim:Breaker>
  <cim:Breaker rdf:ID="_SW2"><cim:Switch.normalOpen> true</cim:Switch.normalOpen></cim:Breaker>
  <cim:Breaker rdf:ID="_SW3"><cim:Switch.normalOpen>True</cim:Switch.normalOpen></cim:Breaker>
  <cim:Terminal rdf:ID="_T1"><cim:ACDCTerminal.sequenceNumber>1</cim:ACDCTerminal.sequenceNumber>
    <cim:Terminal.ConductingEquipment rdf:resource="#_SW1"/>
    <cim:Terminal.ConnectivityNode rdf:resource="#_CN"/></cim:Terminal>
  <cim:Terminal rdf:ID="_T2"><cim:ACDCTerminal.sequenceNumber>+2</cim:ACDCTerminal.sequenceNumber>
    <cim:Terminal.ConductingEquipment rdf:resource="#_SW1"/>
    <cim:Terminal.ConnectivityNode rdf:resource="#_cn"/></cim:Terminal>
  <cim:Terminal rdf:ID="_T3"><cim:ACDCTerminal.sequenceNumber>\u0661</cim:ACDCTerminal.sequenceNumber>
    <cim:Terminal.ConductingEquipment rdf:resource="urn:uuid:_SW2"/></cim:Terminal>
</rdf:RDF>
"""
_SPELLINGS_SSH = """
  <cim:ACLineSegment rdf:about="#_L0"><cim:ACLineSegment.r>0.5</cim:ACLineSegment.r></cim:ACLineSegment>
  <cim:ACLineSegment rdf:about="#_L1"><cim:ACLineSegment.r>1e5</cim:ACLineSegment.r></cim:ACLineSegment>
  <cim:Breaker rdf:about="#_SW1"><cim:IdentifiedObject.name>Stör &amp; Co😀</cim:IdentifiedObject.name></cim:Breaker>
  <cim:Breaker rdf:about="#_SW2"><cim:Switch.normalOpen>false</cim:Switch.normalOpen></cim:Breaker>
</rdf:RDF>
"""
# float spellings: the C conversion for digits, signs, points and exponents; float() for the rest
_FLOATS = ("1e5", "+.5", "-0", "0.125", "1_0", " 1.0", "1.0\t", "inf", "nan", "-Infinity", "1e999",
           "\u0661\u0662", "0x10", ".", "-", "e5", "1e", "1.2.3", "", "1E-3", "00.5", "5.",
           "&#49;.5", "1&#x2E;5")  # fmt: skip


@needs_native
def test_native_and_python_builds_read_every_spelling_of_a_value_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Numbers, booleans, integers, references and text with character references and non-ASCII letters,
    in an EQ and an SSH that disagree on some: the native build gives the model and findings of the Python
    build (the native reader keeps values as UTF-8, converts plain numbers itself and leaves the rest)."""
    lines = "\n".join(
        f'  <cim:ACLineSegment rdf:ID="_L{i}"><cim:ACLineSegment.r>{text}</cim:ACLineSegment.r>'
        f"<cim:ACLineSegment.x>0.1</cim:ACLineSegment.x></cim:ACLineSegment>"
        for i, text in enumerate(_FLOATS)
    )
    eq, ssh = tmp_path / "s_EQ.xml", tmp_path / "s_SSH.xml"
    eq_head = _SPELLINGS_HEAD.format(n=1, profile="EquipmentCore/3/1")
    eq.write_text(eq_head + _SPELLINGS_EQ.replace("{lines}", lines), encoding="utf-8")
    ssh.write_text(_SPELLINGS_HEAD.format(n=2, profile="SteadyStateHypothesis/1/1") + _SPELLINGS_SSH, encoding="utf-8")
    assert read_native(Document(eq.name, eq.read_bytes()), 0) is not None  # read natively, not left to lxml
    native, python = _built([eq, ssh], True, monkeypatch), _built([eq, ssh], False, monkeypatch)
    assert native == python
    fields = {m: f for m, _cls, f, _set in native["objects"]}  # type: ignore[union-attr]
    r_ohm = {m: f.get("r_ohm") for m, f in fields.items() if m.startswith("L")}
    assert r_ohm == {
        "L0": 1e5, "L1": 0.5, "L2": -0.0, "L3": 0.125, "L4": 10.0, "L5": 1.0, "L6": 1.0, "L11": 12.0, "L19": 1e-3,
        "L20": 0.5, "L21": 5.0, "L22": 1.5, "L23": 1.5,
        **{f"L{i}": None for i in (7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18)},
    }  # fmt: skip
    assert fields["SW1"]["name"] == "Stör & Co\U0001f600"  # the same text in both files: no conflict
    assert (fields["T2"]["sequence_number"], fields["T3"]["sequence_number"]) == (2, 1)
    found = {(code, loc.split("mrid=")[1].split(",")[0].strip("'")) for code, loc, _msg in native["findings"]}  # type: ignore[union-attr]
    assert {m for code, m in found if code == "CF105"} == {f"L{i}" for i in (7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18)}
    assert {m for code, m in found if code == "CF103"} == {"L0", "L1", "SW2"}


@needs_native
def test_identifiers_written_in_the_plain_form_of_their_mrid_are_not_kept(tmp_path: Path) -> None:
    """A description keeps its identifier as written only where it is not ``rdf:ID="_<mRID>"`` or
    ``rdf:about="#_<mRID>"`` (None stands for those), in both readers, and the model's identifier forms
    for writers come out as before."""
    upper = "0B5D4F5A-2B4E-4C6B-9F0E-00000000000A"
    body = (
        _HEAD + b">\n"
        b'<cim:Terminal rdf:ID="_t1"/>\n<cim:Terminal rdf:about="#_t2"/>\n<cim:Terminal rdf:ID="t3"/>\n'
        b'<cim:Terminal rdf:about="urn:uuid:' + upper.encode() + b'"/>\n'
        b'<cim:Terminal rdf:ID="_'
        + upper.encode()
        + b'"/>\n<cim:Terminal rdf:about="_t6"/>\n'
        + '<cim:Terminal rdf:ID="_é"/>\n<cim:Terminal rdf:about="#_&#233;x"/>\n'.encode()
        + b"</rdf:RDF>\n"
    )
    doc = _assert_same(body)
    kept = [(o.mrid, o.ident) for o in doc.descriptions.objects]  # type: ignore[union-attr]
    low = upper.lower()
    assert kept == [("t1", None), ("t2", None), ("t3", "t3"), (low, "urn:uuid:" + upper), (low, "_" + upper),
                    ("t6", "_t6"), ("é", None), ("éx", None)]  # fmt: skip
    from cimflow.cim.build import build_network
    from cimflow.cim.ingest import ingest

    path = tmp_path / "t.xml"
    path.write_bytes(body)
    dataset = ingest([path]).value
    assert dataset is not None
    build_network(dataset)
    assert dataset.ref_forms == {"t3": "#t3", low: "#_" + upper, "t6": "_t6"}  # the rdf:ID one for the twice written
