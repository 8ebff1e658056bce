"""A tiny two-bus grid written in several CIM dialects and identifier forms, for reader tests."""

from __future__ import annotations

import random
from dataclasses import dataclass

CIM16 = "http://iec.ch/TC57/2013/CIM-schema-cim16#"
CIM100 = "http://iec.ch/TC57/CIM100#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MD = "http://iec.ch/TC57/61970-552/ModelDescription/1#"

UUIDS = {
    "bv": "0f5c4e4c-0000-4000-8000-000000000001",
    "tn1": "0f5c4e4c-0000-4000-8000-000000000002",
    "tn2": "0f5c4e4c-0000-4000-8000-000000000003",
    "line": "0f5c4e4c-0000-4000-8000-000000000004",
    "t1": "0f5c4e4c-0000-4000-8000-000000000005",
    "t2": "0f5c4e4c-0000-4000-8000-000000000006",
    "load": "0f5c4e4c-0000-4000-8000-000000000007",
    "t3": "0f5c4e4c-0000-4000-8000-000000000008",
}


@dataclass(frozen=True)
class Form:
    """How the tiny grid is written."""

    id_style: str = "rdfid"  # rdfid | about-hash | urn | no-underscore
    si_units: bool = False  # CIM100 distribution (V, W, m) instead of CGMES (kV, MW, km)
    split: bool = False  # EQ + SSH + TP documents instead of one
    shuffle_seed: int | None = None  # reorder properties within objects


def _ident(key: str, form: Form, *, define: bool) -> str:
    u = UUIDS[key]
    if form.id_style == "urn":
        return f'rdf:about="urn:uuid:{u.upper()}"'
    if form.id_style == "no-underscore":
        return f'rdf:ID="{u}"' if define else f'rdf:about="#{u}"'
    if form.id_style == "about-hash" or not define:
        return f'rdf:about="#_{u}"'
    return f'rdf:ID="_{u}"'


def _ref(key: str, form: Form) -> str:
    u = UUIDS[key]
    if form.id_style == "urn":
        return f"urn:uuid:{u.upper()}"
    if form.id_style == "no-underscore":
        return f"#{u}"
    return f"#_{u}"


def tiny_grid(form: Form) -> dict[str, str]:
    """Return {"EQ": xml, ...} (one "ALL" document unless ``form.split``)."""
    v = 400.0 if form.si_units else 0.4  # V or kV
    p = 30000.0 if form.si_units else 0.03  # W or MW
    q = 10000.0 if form.si_units else 0.01
    length = 250.0 if form.si_units else 0.25  # m or km
    eq: dict[str, list[tuple[str, str]]] = {
        "BaseVoltage:bv": [("BaseVoltage.nominalVoltage", str(v)), ("IdentifiedObject.name", "LV")],
        "ACLineSegment:line": [
            ("IdentifiedObject.name", "cable 1"),
            ("ACLineSegment.r", "0.05"),
            ("ACLineSegment.x", "0.02"),
            ("ACLineSegment.bch", "0.0"),
            ("Conductor.length", str(length)),
            ("ConductingEquipment.BaseVoltage", "@bv"),
        ],
        "Terminal:t1": [("Terminal.ConductingEquipment", "@line"), ("ACDCTerminal.sequenceNumber", "1")],
        "Terminal:t2": [("Terminal.ConductingEquipment", "@line"), ("ACDCTerminal.sequenceNumber", "2")],
        "EnergyConsumer:load": [("IdentifiedObject.name", "house"), ("ConductingEquipment.BaseVoltage", "@bv")],
        "Terminal:t3": [("Terminal.ConductingEquipment", "@load"), ("ACDCTerminal.sequenceNumber", "1")],
    }
    ssh: dict[str, list[tuple[str, str]]] = {
        "EnergyConsumer:load": [("EnergyConsumer.p", str(p)), ("EnergyConsumer.q", str(q))],
        "Terminal:t1": [("ACDCTerminal.connected", "true")],
    }
    tp: dict[str, list[tuple[str, str]]] = {
        "TopologicalNode:tn1": [("TopologicalNode.BaseVoltage", "@bv")],
        "TopologicalNode:tn2": [("TopologicalNode.BaseVoltage", "@bv")],
        "Terminal:t1": [("Terminal.TopologicalNode", "@tn1")],
        "Terminal:t2": [("Terminal.TopologicalNode", "@tn2")],
        "Terminal:t3": [("Terminal.TopologicalNode", "@tn2")],
    }
    rng = random.Random(form.shuffle_seed) if form.shuffle_seed is not None else None
    ns = CIM100 if form.si_units else CIM16

    def render(parts: dict[str, list[tuple[str, str]]], *, defining: bool, header: str | None) -> str:
        out = [f'<?xml version="1.0" encoding="UTF-8"?>\n<rdf:RDF xmlns:rdf="{RDF}" xmlns:cim="{ns}" xmlns:md="{MD}">']
        if header:
            out.append(
                '<md:FullModel rdf:about="urn:uuid:7c1a0000-0000-4000-8000-0000000000aa">'
                f"<md:Model.profile>{header}</md:Model.profile>"
                "<md:Model.created>2024-01-01T00:00:00Z</md:Model.created></md:FullModel>"
            )
        for key, props in parts.items():
            cls, k = key.split(":")
            items = list(props)
            if rng is not None:
                rng.shuffle(items)
            out.append(f"<cim:{cls} {_ident(k, form, define=defining)}>")
            for name, value in items:
                if value.startswith("@"):
                    out.append(f'  <cim:{name} rdf:resource="{_ref(value[1:], form)}"/>')
                else:
                    out.append(f"  <cim:{name}>{value}</cim:{name}>")
            out.append(f"</cim:{cls}>")
        out.append("</rdf:RDF>\n")
        return "\n".join(out)

    with_header = not form.si_units
    if form.split:
        return {
            "EQ": render(eq, defining=True, header="http://entsoe.eu/CIM/EquipmentCore/3/1" if with_header else None),
            "SSH": render(
                ssh, defining=False, header="http://entsoe.eu/CIM/SteadyStateHypothesis/1/1" if with_header else None
            ),
            "TP": render(tp, defining=False, header="http://entsoe.eu/CIM/Topology/4/1" if with_header else None),
        }
    merged: dict[str, list[tuple[str, str]]] = {}
    for part in (eq, ssh, tp):
        for key, props in part.items():
            merged.setdefault(key, []).extend(props)
    return {"ALL": render(merged, defining=True, header=None)}
