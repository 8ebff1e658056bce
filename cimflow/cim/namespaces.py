"""CIM and CGMES namespaces, profile URIs and the :class:`Profile` and :class:`CimVersion` enums."""

from __future__ import annotations

from enum import StrEnum

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MD = "http://iec.ch/TC57/61970-552/ModelDescription/1#"
DM = "http://iec.ch/TC57/61970-552/DifferenceModel/1#"
XML = "http://www.w3.org/XML/1998/namespace"

CIM16_2013 = "http://iec.ch/TC57/2013/CIM-schema-cim16#"
CIM16_2012 = "http://iec.ch/TC57/2012/CIM-schema-cim16#"
CIM100 = "http://iec.ch/TC57/CIM100#"
EU = "http://iec.ch/TC57/CIM100-European#"
ENTSOE = "http://entsoe.eu/CIM/SchemaExtension/3/1#"

CIM_NAMESPACES = frozenset({CIM16_2013, CIM16_2012, CIM100})
# namespaces whose objects cimflow reads as CIM (extensions included)
KNOWN_NAMESPACES = frozenset({*CIM_NAMESPACES, EU, ENTSOE, MD, DM, RDF})

RDF_ID = f"{{{RDF}}}ID"
RDF_ABOUT = f"{{{RDF}}}about"
RDF_RESOURCE = f"{{{RDF}}}resource"
RDF_RDF = f"{{{RDF}}}RDF"
RDF_DESCRIPTION = f"{{{RDF}}}Description"
RDF_TYPE = f"{{{RDF}}}type"
RDF_PARSE_TYPE = f"{{{RDF}}}parseType"
RDF_DATATYPE = f"{{{RDF}}}datatype"
RDF_NODE_ID = f"{{{RDF}}}nodeID"
XML_LANG = f"{{{XML}}}lang"
XML_BASE = f"{{{XML}}}base"
MD_FULL_MODEL = f"{{{MD}}}FullModel"
HEADER_TAGS = frozenset({MD_FULL_MODEL, f"{{{DM}}}DifferenceModel"})


class CimVersion(StrEnum):
    """CIM version of a document, from its namespace (and header)."""

    CGMES_2_4_15 = "CGMES 2.4.15"
    CGMES_3_0 = "CGMES 3.0"
    CIM100 = "CIM100"  # distribution (CIMHub / GridAPPS-D), no header
    UNKNOWN = "unknown"


class Profile(StrEnum):
    """CGMES profile of a document."""

    EQ = "EQ"
    SSH = "SSH"
    TP = "TP"
    SV = "SV"
    DL = "DL"
    GL = "GL"
    DY = "DY"
    SC = "SC"
    OP = "OP"
    EQ_BD = "EQ_BD"
    TP_BD = "TP_BD"
    OTHER = "OTHER"


# keyword in a profile URI -> profile (checked in order; the first match wins)
_PROFILE_KEYWORDS: tuple[tuple[str, Profile], ...] = (
    ("EquipmentBoundary", Profile.EQ_BD),
    ("TopologyBoundary", Profile.TP_BD),
    ("EquipmentShortCircuit", Profile.SC),
    ("EquipmentOperation", Profile.OP),
    ("ShortCircuit", Profile.SC),
    ("Operation", Profile.OP),
    ("EquipmentCore", Profile.EQ),
    ("CoreEquipment", Profile.EQ),
    ("61970-452/Equipment", Profile.EQ),
    ("Equipment", Profile.EQ),
    ("SteadyStateHypothesis", Profile.SSH),
    ("StateVariables", Profile.SV),
    ("Topology", Profile.TP),
    ("DiagramLayout", Profile.DL),
    ("GeographicalLocation", Profile.GL),
    ("Geographical", Profile.GL),
    ("Dynamics", Profile.DY),
)


def profile_from_uri(uri: str) -> Profile:
    """Map an ``md:Model.profile`` URI (2.4.15, 3.0, IEC 61970-45x, NEPLAN) to a :class:`Profile`."""
    for keyword, profile in _PROFILE_KEYWORDS:
        if keyword in uri:
            return profile
    return Profile.OTHER


def version_from_namespace(namespace: str, *, has_header: bool) -> CimVersion:
    """Return the CIM version a ``cim`` namespace stands for (CIM100 with a header is CGMES 3.0)."""
    if namespace in (CIM16_2013, CIM16_2012):
        return CimVersion.CGMES_2_4_15
    if namespace == CIM100:
        return CimVersion.CGMES_3_0 if has_header else CimVersion.CIM100
    return CimVersion.UNKNOWN


def split_tag(tag: str) -> tuple[str, str]:
    """Split a Clark-notation tag ``{ns}local`` into ``(ns, local)``."""
    if tag[:1] == "{":
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag
