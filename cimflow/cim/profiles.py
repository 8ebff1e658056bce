"""Recognise a document's profiles (from its header, else from its content), CIM version and unit dialect."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cimflow.catalog import inputs as codes
from cimflow.cim import namespaces as ns
from cimflow.cim.rdf import RawDocument
from cimflow.findings import Finding, Location, make_finding
from cimflow.units import Dialect

_SV_CLASSES = frozenset(
    {
        "SvVoltage",
        "SvPowerFlow",
        "SvInjection",
        "SvTapStep",
        "SvStatus",
        "SvShuntCompensatorSections",
        "TopologicalIsland",
    }
)
_DL_CLASSES = frozenset({"Diagram", "DiagramObject", "DiagramObjectPoint", "DiagramStyle", "TextDiagramObject"})
_GL_CLASSES = frozenset({"Location", "PositionPoint", "CoordinateSystem"})
_TP_PREDICATES = frozenset({"Terminal.TopologicalNode", "ConnectivityNode.TopologicalNode"})
_SSH_PREDICATES = frozenset(
    {
        "EnergyConsumer.p", "Switch.open", "ACDCTerminal.connected", "RegulatingControl.targetValue", "TapChanger.step",
        "RotatingMachine.p", "ExternalNetworkInjection.p", "PowerElectronicsConnection.p", "ShuntCompensator.sections",
        "RegulatingControl.enabled",
    }
)  # fmt: skip
_EQ_PREDICATES = frozenset(
    {
        "Terminal.ConductingEquipment", "ConductingEquipment.BaseVoltage", "Equipment.EquipmentContainer",
        "BaseVoltage.nominalVoltage", "ACLineSegment.r", "PowerTransformerEnd.PowerTransformer",
        "VoltageLevel.Substation",
    }
)  # fmt: skip
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What cimflow recognised about one document."""

    name: str
    version: ns.CimVersion
    cim_namespace: str | None
    profiles: tuple[ns.Profile, ...]
    declared_profiles: tuple[str, ...]
    dialect: Dialect
    header_mrid: str | None
    header: dict[str, str]
    n_objects: int


def _local_names(tags: set[str]) -> set[str]:
    return {ns.split_tag(t)[1] for t in tags}


def content_profiles(doc: RawDocument) -> tuple[ns.Profile, ...]:
    """Guess the profiles of a document from the classes and properties it holds."""
    classes = _local_names(doc.class_tags)
    preds = _local_names(doc.predicate_tags)
    found: list[ns.Profile] = []
    if preds & _EQ_PREDICATES:
        found.append(ns.Profile.EQ)
    if preds & _SSH_PREDICATES:
        found.append(ns.Profile.SSH)
    if preds & _TP_PREDICATES:
        found.append(ns.Profile.TP)
    if classes & _SV_CLASSES:
        found.append(ns.Profile.SV)
    if classes & _DL_CLASSES:
        found.append(ns.Profile.DL)
    if classes and classes <= (_GL_CLASSES | {"IdentifiedObject"}):
        found.append(ns.Profile.GL)
    return tuple(found) or (ns.Profile.OTHER,)


def _header_values(doc: RawDocument) -> dict[str, str]:
    values: dict[str, str] = {}
    if doc.header is None:
        return values
    for pred, value, _kind, _line in doc.header.props:
        key = ns.split_tag(pred)[1].removeprefix("Model.")
        values[key] = f"{values[key]} {value}" if key in values else value
    return values


def describe(doc: RawDocument) -> tuple[DocumentInfo, list[Finding]]:
    """Recognise version, profiles and unit dialect of a parsed document; say what was assumed."""
    findings: list[Finding] = []
    has_header = doc.header is not None
    version = (
        ns.version_from_namespace(doc.cim_namespace, has_header=has_header)
        if doc.cim_namespace
        else ns.CimVersion.UNKNOWN
    )
    declared = doc.declared_profiles
    detected = content_profiles(doc)
    if declared:
        profiles = tuple(dict.fromkeys(ns.profile_from_uri(u) for u in declared))
        if profiles and ns.Profile.OTHER not in detected and not set(detected) & set(profiles):
            # boundary profiles hold EQ/TP-like content under their own names
            boundary_ok = {ns.Profile.EQ_BD: ns.Profile.EQ, ns.Profile.TP_BD: ns.Profile.TP}
            if not any(boundary_ok.get(p) in detected for p in profiles):
                findings.append(
                    make_finding(
                        codes.PROFILE_MISMATCH,
                        Location(file=doc.name, line=doc.header.line if doc.header else None),
                        ctx={"declared": "/".join(profiles), "detected": "/".join(detected)},
                    )
                )
    else:
        profiles = detected
        if has_header:
            findings.append(
                make_finding(
                    codes.HEADER_WITHOUT_PROFILE,
                    Location(file=doc.name, line=doc.header.line if doc.header else None),
                    ctx={"profile": "/".join(detected)},
                )
            )
    if version is ns.CimVersion.CIM100:
        dialect = Dialect.SI
        findings.append(
            make_finding(
                codes.UNITS_ASSUMED,
                Location(file=doc.name),
                ctx={
                    "dialect": "SI (V, W, var, m)",
                    "reason": "CIM100 namespace without md:FullModel header (CIM100 distribution)",
                },
            )
        )
    else:
        dialect = Dialect.CGMES
        if not has_header and doc.cim_namespace:
            findings.append(
                make_finding(
                    codes.UNITS_ASSUMED,
                    Location(file=doc.name),
                    ctx={
                        "dialect": "CGMES (kV, MW, Mvar, km)",
                        "reason": "cim16 namespace without md:FullModel header",
                    },
                )
            )
    for namespace in sorted(
        {ns.split_tag(t)[0] for t in doc.class_tags | doc.predicate_tags} - ns.KNOWN_NAMESPACES - {""}
    ):
        findings.append(make_finding(codes.UNKNOWN_NAMESPACE, Location(file=doc.name), ctx={"namespace": namespace}))
    info = DocumentInfo(
        name=doc.name,
        version=version,
        cim_namespace=doc.cim_namespace,
        profiles=profiles,
        declared_profiles=declared,
        dialect=dialect,
        header_mrid=doc.header.mrid if doc.header else None,
        header=_header_values(doc),
        n_objects=doc.n_objects,
    )
    return info, findings


def is_datetime(text: str) -> bool:
    """Tell whether a header value is an xsd:dateTime."""
    return bool(_DATE_RE.match(text.strip()))
