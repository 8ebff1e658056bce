"""RDF/XML serialisation of a synthetic feeder layout as CGMES 2.4.15 or 3.0 EQ, SSH and TP documents."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from cimflow.samples._cgmes_syntax import (
    MD_NS,
    NAMESPACE,
    RDF_NS,
    TIMESTAMP,
    VOCABULARIES,
    Doc,
    IdFactory,
    lit,
    num,
    ref,
)

if TYPE_CHECKING:
    from cimflow.samples._cgmes_syntax import Vocabulary
    from cimflow.samples.synthetic import FeederLayout

__all__ = ["write_documents"]

_AUTHORITY = "urn:cimflow:samples:synthetic"
_PROFILES = ("EQ", "SSH", "TP")


class _Writer:
    """Writes each object of a layout into every profile it belongs to, in one pass over the layout."""

    def __init__(self, layout: FeederLayout, voc: Vocabulary, *, node_breaker: bool) -> None:
        self.layout, self.voc, self.node_breaker = layout, voc, node_breaker
        self.ids = ids = IdFactory(layout.name, layout.seed)
        self.docs = {profile: Doc() for profile in _PROFILES}
        self.eq, self.ssh, self.tp = (self.docs[p] for p in _PROFILES)
        self.name = escape(layout.name)
        self.bus_names = [escape(n) for n in layout.bus_name]
        self.mrid = "\n    <cim:IdentifiedObject.mRID>{}</cim:IdentifiedObject.mRID>" if voc.v3 else ""
        self.in_service = lit("Equipment.inService", "true") if voc.v3 else ""
        n_sub = layout.n_substations
        self.vl_mv = [ids("vl_mv", s) for s in range(n_sub)]
        self.vl_lv = [ids("vl_lv", s) for s in range(n_sub)]
        self.tn = [ids("tn", b) for b in range(len(layout.bus_name))]
        self.cn = [ids("cn", b) for b in range(len(layout.bus_name))] if node_breaker else []
        self.bv_mv, self.bv_lv = ids("bv_mv"), ids("bv_lv")

    # --- syntax ----------------------------------------------------------------------------------
    def define(self, doc: Doc, cls: str, uid: str, name: str, body: str) -> None:
        """Append an object defined here (rdf:ID); CGMES 3.0 also states its mRID."""
        mrid = self.mrid.format(uid) if self.mrid else ""
        doc.parts.append(
            f'  <cim:{cls} rdf:ID="_{uid}">{mrid}\n    <cim:IdentifiedObject.name>{name}</cim:IdentifiedObject.name>'
            f"{body}\n  </cim:{cls}>\n"
        )

    def about(self, doc: Doc, cls: str, uid: str, body: str) -> None:
        """Append properties of an object defined in EQ (rdf:about)."""
        mrid = self.mrid.format(uid) if self.mrid else ""
        doc.parts.append(f'  <cim:{cls} rdf:about="#_{uid}">{mrid}{body}\n  </cim:{cls}>\n')

    def enum(self, prop: str, value: str) -> str:
        """Return a property whose value is a CIM enumeration literal such as ``WindingConnection.Y``."""
        return f'\n    <cim:{prop} rdf:resource="{self.voc.cim}{value}"/>'

    def flush(self) -> None:
        for doc in self.docs.values():
            doc.flush()

    def header(self, profile: str, model_key: str) -> None:
        """Write the XML declaration, rdf:RDF and md:FullModel of one document."""
        voc, layout = self.voc, self.layout
        prefix = f"{layout.name}/{layout.seed}/model"
        about = uuid.uuid5(NAMESPACE, f"{prefix}/{profile}/{model_key}")
        depends = ""
        if profile != "EQ":
            eq = uuid.uuid5(NAMESPACE, f"{prefix}/EQ/{model_key}")
            depends = f'\n    <md:Model.DependentOn rdf:resource="urn:uuid:{eq}"/>'
        # the Operation profile marks a node-breaker model (PowSyBl reads it that way): declare it only then
        uris = voc.profiles[profile] if self.node_breaker else voc.profiles[profile][:1]
        profiles = "".join(lit("md:Model.profile", uri) for uri in uris)
        description = f"cimflow synthetic radial feeder {self.name}: {len(layout.bus_name)} buses, seed {layout.seed}"
        self.docs[profile].parts.append(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<rdf:RDF xmlns:cim="{voc.cim}" xmlns:{voc.ext_prefix}="{voc.ext}" '
            f'xmlns:md="{MD_NS}" xmlns:rdf="{RDF_NS}">\n'
            f'  <md:FullModel rdf:about="urn:uuid:{about}">'
            f"{lit('md:Model.created', TIMESTAMP)}{lit('md:Model.scenarioTime', TIMESTAMP)}"
            f"{lit('md:Model.description', description)}{lit('md:Model.version', '1')}{depends}{profiles}"
            f"{lit('md:Model.modelingAuthoritySet', _AUTHORITY)}\n  </md:FullModel>\n"
        )

    def terminal(self, uid: str, name: str, equipment: str, seq: int, bus: int, cn: str | None = None) -> None:
        """Write a Terminal: EQ definition, SSH connected=true and TP Terminal.TopologicalNode."""
        if self.node_breaker:
            node = f'\n    <cim:Terminal.ConnectivityNode rdf:resource="#_{cn or self.cn[bus]}"/>'
        else:
            node = ""
        self.define(
            self.eq,
            "Terminal",
            uid,
            name,
            f'\n    <cim:Terminal.ConductingEquipment rdf:resource="#_{equipment}"/>'
            f"\n    <cim:ACDCTerminal.sequenceNumber>{seq}</cim:ACDCTerminal.sequenceNumber>{node}",
        )
        self.about(self.ssh, "Terminal", uid, "\n    <cim:ACDCTerminal.connected>true</cim:ACDCTerminal.connected>")
        self.about(self.tp, "Terminal", uid, f'\n    <cim:Terminal.TopologicalNode rdf:resource="#_{self.tn[bus]}"/>')

    def connectivity_node(self, cn: str, name: str, vl: str, tn: str) -> None:
        self.define(self.eq, "ConnectivityNode", cn, name, ref("ConnectivityNode.ConnectivityNodeContainer", vl))
        self.about(self.tp, "ConnectivityNode", cn, ref("ConnectivityNode.TopologicalNode", tn))

    # --- the grid --------------------------------------------------------------------------------
    def containers(self) -> None:
        """Write regions, base voltages, the PATL limit type, substations and voltage levels."""
        ids, eq, voc = self.ids, self.eq, self.voc
        region, subregion = ids("region"), ids("subregion")
        self.define(eq, "GeographicalRegion", region, self.name, "")
        self.define(eq, "SubGeographicalRegion", subregion, self.name, ref("SubGeographicalRegion.Region", region))
        self.define(eq, "BaseVoltage", self.bv_mv, "20 kV", lit("BaseVoltage.nominalVoltage", "20"))
        self.define(eq, "BaseVoltage", self.bv_lv, "0.4 kV", lit("BaseVoltage.nominalVoltage", "0.4"))
        body = self.enum("OperationalLimitType.direction", "OperationalLimitDirectionKind.absoluteValue")
        if voc.v3:
            body += f'\n    <eu:OperationalLimitType.kind rdf:resource="{voc.ext}LimitKind.patl"/>'
            body += lit("OperationalLimitType.isInfiniteDuration", "true")
        else:
            body += f'\n    <entsoe:OperationalLimitType.limitType rdf:resource="{voc.ext}LimitTypeKind.patl"/>'
        self.define(eq, "OperationalLimitType", ids("patl"), "PATL", body)
        for s in range(self.layout.n_substations):
            sub = ids("substation", s)
            self.define(eq, "Substation", sub, f"{self.name} S{s}", ref("Substation.Region", subregion))
            for vl, kv, bv, high, low in (
                (self.vl_mv[s], "20", self.bv_mv, "22", "18"),
                (self.vl_lv[s], "0.4", self.bv_lv, "0.44", "0.36"),
            ):
                body = (
                    ref("VoltageLevel.Substation", sub)
                    + ref("VoltageLevel.BaseVoltage", bv)
                    + lit("VoltageLevel.highVoltageLimit", high)
                    + lit("VoltageLevel.lowVoltageLimit", low)
                )
                self.define(eq, "VoltageLevel", vl, f"{self.name} S{s} {kv} kV", body)

    def buses(self) -> None:
        """Write a TopologicalNode per bus (TP) and, node-breaker, a ConnectivityNode (EQ) mapped to it."""
        layout = self.layout
        for b, name in enumerate(self.bus_names):
            mv, s = layout.bus_is_mv[b], layout.bus_substation[b]
            vl = self.vl_mv[s] if mv else self.vl_lv[s]
            body = (
                f'\n    <cim:TopologicalNode.ConnectivityNodeContainer rdf:resource="#_{vl}"/>'
                f'\n    <cim:TopologicalNode.BaseVoltage rdf:resource="#_{self.bv_mv if mv else self.bv_lv}"/>'
            )
            self.define(self.tp, "TopologicalNode", self.tn[b], name, body)
            if self.node_breaker:
                self.connectivity_node(self.cn[b], name, vl, self.tn[b])
            self.flush()

    def source(self) -> None:
        """Write the slack: ExternalNetworkInjection with a voltage RegulatingControl at bus 0."""
        ids, layout = self.ids, self.layout
        eni, rc, term, name = ids("eni"), ids("eni_rc"), ids("eni_t"), f"{self.name} grid infeed"
        body = ref("Equipment.EquipmentContainer", self.vl_mv[0]) + lit("ExternalNetworkInjection.governorSCD", "0")
        for prop, value in (("maxP", "999"), ("minP", "-999"), ("maxQ", "999"), ("minQ", "-999")):
            body += lit(f"ExternalNetworkInjection.{prop}", value)
        self.define(
            self.eq, "ExternalNetworkInjection", eni, name, body + ref("RegulatingCondEq.RegulatingControl", rc)
        )
        body = ref("RegulatingControl.Terminal", term) + self.enum(
            "RegulatingControl.mode", "RegulatingControlModeKind.voltage"
        )
        self.define(self.eq, "RegulatingControl", rc, f"{name} voltage control", body)
        self.terminal(term, f"{name} T1", eni, 1, 0)
        p_mw = sum(load.p_mw for load in layout.loads) + sum(pv.p_mw for pv in layout.pvs)
        q_mvar = sum(load.q_mvar for load in layout.loads)
        body = (
            self.in_service
            + lit("RegulatingCondEq.controlEnabled", "true")
            + lit("ExternalNetworkInjection.p", num(-p_mw))
            + lit("ExternalNetworkInjection.q", num(-q_mvar))
            + lit("ExternalNetworkInjection.referencePriority", "1")
        )
        self.about(self.ssh, "ExternalNetworkInjection", eni, body)
        body = (
            lit("RegulatingControl.discrete", "false")
            + lit("RegulatingControl.enabled", "true")
            + lit("RegulatingControl.targetDeadband", "0")
            + lit("RegulatingControl.targetValue", num(layout.source_kv))
            + self.enum("RegulatingControl.targetValueUnitMultiplier", "UnitMultiplier.k")
        )
        self.about(self.ssh, "RegulatingControl", rc, body)

    def transformers(self) -> None:
        """Write each PowerTransformer with two ends (impedance on end 1) and a RatioTapChanger on end 1."""
        ids, eq, ssh, v3 = self.ids, self.eq, self.ssh, self.voc.v3
        for i, tr in enumerate(self.layout.transformers):
            pt, name = ids("pt", i), f"{self.name} S{tr.substation} TR"
            self.define(
                eq, "PowerTransformer", pt, name, ref("Equipment.EquipmentContainer", ids("substation", tr.substation))
            )
            if v3:
                self.about(ssh, "PowerTransformer", pt, self.in_service)
            ends = (
                (tr.hv_bus, "20", self.bv_mv, (tr.r_ohm, tr.x_ohm, tr.g_s, tr.b_s), "Y"),
                (tr.lv_bus, "0.4", self.bv_lv, (0.0, 0.0, 0.0, 0.0), "Yn"),
            )
            for end, (bus, kv, bv, values, kind) in enumerate(ends, start=1):
                term = ids(f"pt_t{end}", i)
                self.terminal(term, f"{name} T{end}", pt, end, bus)
                body = lit("TransformerEnd.endNumber", str(end)) + ref("TransformerEnd.Terminal", term)
                body += ref("TransformerEnd.BaseVoltage", bv) + ref("PowerTransformerEnd.PowerTransformer", pt)
                for prop, value in zip("rxgb", values, strict=True):
                    body += lit(f"PowerTransformerEnd.{prop}", num(value))
                body += lit("PowerTransformerEnd.ratedS", num(tr.rated_s_mva)) + lit("PowerTransformerEnd.ratedU", kv)
                body += self.enum("PowerTransformerEnd.connectionKind", f"WindingConnection.{kind}")
                body += lit("PowerTransformerEnd.phaseAngleClock", "0")
                self.define(eq, "PowerTransformerEnd", ids(f"pt_e{end}", i), f"{name} end {end}", body)
            rtc, body = ids("rtc", i), ref("RatioTapChanger.TransformerEnd", ids("pt_e1", i))
            for prop, step in (("lowStep", "1"), ("highStep", "5"), ("neutralStep", "3"), ("normalStep", "3")):
                body += lit(f"TapChanger.{prop}", step)
            body += lit("TapChanger.neutralU", "20") + lit("TapChanger.ltcFlag", "false")
            body += lit("RatioTapChanger.stepVoltageIncrement", "2.5")
            if not v3:  # 2.4.15 only; CGMES 3.0 dropped the attribute
                body += self.enum("RatioTapChanger.tculControlMode", "TransformerControlMode.volt")
            self.define(eq, "RatioTapChanger", rtc, f"{name} tap changer", body)
            body = lit("TapChanger.controlEnabled", "false") + lit("TapChanger.step", str(self.layout.tap_step))
            self.about(ssh, "RatioTapChanger", rtc, body)

    def lines(self) -> None:
        """Write each ACLineSegment with a PATL CurrentLimit on each of its two terminals."""
        ids, eq, ssh, v3, layout = self.ids, self.eq, self.ssh, self.voc.v3, self.layout
        patl = ids("patl")
        limit = "normalValue" if v3 else "value"  # 3.0: normalValue in EQ, value in SSH
        for i, line in enumerate(layout.lines):
            acl, name = ids("acl", i), f"{self.bus_names[line.to_bus]} cable"
            bv = self.bv_mv if layout.bus_is_mv[line.to_bus] else self.bv_lv
            body = (
                f'\n    <cim:ConductingEquipment.BaseVoltage rdf:resource="#_{bv}"/>'
                f"\n    <cim:Conductor.length>{num(line.length_km)}</cim:Conductor.length>"
                f"\n    <cim:ACLineSegment.r>{num(line.r_ohm)}</cim:ACLineSegment.r>"
                f"\n    <cim:ACLineSegment.x>{num(line.x_ohm)}</cim:ACLineSegment.x>"
                f"\n    <cim:ACLineSegment.bch>{num(line.bch_s)}</cim:ACLineSegment.bch>"
                "\n    <cim:ACLineSegment.gch>0</cim:ACLineSegment.gch>"
            )
            self.define(eq, "ACLineSegment", acl, name, body)
            if v3:
                self.about(ssh, "ACLineSegment", acl, self.in_service)
            i_max = num(line.i_max_a)
            for end, bus in ((1, line.from_bus), (2, line.to_bus)):
                term, ols, cl = ids(f"acl_t{end}", i), ids(f"acl_ols{end}", i), ids(f"acl_cl{end}", i)
                head_cn = ids("head_cn", line.head) if self.node_breaker and end == 1 and line.head >= 0 else None
                self.terminal(term, f"{name} T{end}", acl, end, bus, head_cn)
                body = f'\n    <cim:OperationalLimitSet.Terminal rdf:resource="#_{term}"/>'
                self.define(eq, "OperationalLimitSet", ols, f"{name} T{end} ratings", body)
                body = (
                    f'\n    <cim:OperationalLimit.OperationalLimitSet rdf:resource="#_{ols}"/>'
                    f'\n    <cim:OperationalLimit.OperationalLimitType rdf:resource="#_{patl}"/>'
                    f"\n    <cim:CurrentLimit.{limit}>{i_max}</cim:CurrentLimit.{limit}>"
                )
                self.define(eq, "CurrentLimit", cl, "PATL", body)
                if v3:
                    self.about(
                        ssh, "CurrentLimit", cl, f"\n    <cim:CurrentLimit.value>{i_max}</cim:CurrentLimit.value>"
                    )
            self.flush()

    def breakers(self) -> None:
        """Write a closed Breaker between each LV busbar and the ConnectivityNode its feeder leaves from."""
        ids, layout = self.ids, self.layout
        locked = lit("Switch.locked", "false") if self.voc.v3 else ""
        for k, busbar in enumerate(layout.feeder_heads):
            brk, head_cn = ids("brk", k), ids("head_cn", k)
            name = f"{self.bus_names[busbar]} feeder {k} breaker"
            vl = self.vl_lv[layout.bus_substation[busbar]]
            self.connectivity_node(head_cn, f"{self.bus_names[busbar]} feeder {k} head", vl, self.tn[busbar])
            body = ref("Equipment.EquipmentContainer", vl) + lit("Switch.normalOpen", "false")
            self.define(self.eq, "Breaker", brk, name, body + lit("Switch.retained", "false"))
            self.about(self.ssh, "Breaker", brk, self.in_service + lit("Switch.open", "false") + locked)
            self.terminal(ids("brk_t1", k), f"{name} T1", brk, 1, busbar)
            self.terminal(ids("brk_t2", k), f"{name} T2", brk, 2, busbar, head_cn)
            self.flush()

    def loads(self) -> None:
        """Write each load as an EnergyConsumer with SSH p/q (consumption positive)."""
        ids, layout, in_service = self.ids, self.layout, self.in_service
        for i, load in enumerate(layout.loads):
            ec, name = ids("ec", i), f"{self.bus_names[load.bus]} load"
            vl = self.vl_lv[layout.bus_substation[load.bus]]
            self.define(
                self.eq, "EnergyConsumer", ec, name, f'\n    <cim:Equipment.EquipmentContainer rdf:resource="#_{vl}"/>'
            )
            body = (
                f"{in_service}\n    <cim:EnergyConsumer.p>{num(load.p_mw)}</cim:EnergyConsumer.p>"
                f"\n    <cim:EnergyConsumer.q>{num(load.q_mvar)}</cim:EnergyConsumer.q>"
            )
            self.about(self.ssh, "EnergyConsumer", ec, body)
            self.terminal(ids("ec_t", i), f"{name} T1", ec, 1, load.bus)
            self.flush()

    def pvs(self) -> None:
        """Write PV: PowerElectronicsConnection + PhotoVoltaicUnit (3.0), SynchronousMachine + SolarGeneratingUnit."""
        ids, eq, ssh, in_service = self.ids, self.eq, self.ssh, self.in_service
        for i, pv in enumerate(self.layout.pvs):
            gen, unit, name = ids("pv", i), ids("pv_unit", i), f"{self.bus_names[pv.bus]} PV"
            container = ref("Equipment.EquipmentContainer", self.vl_lv[self.layout.bus_substation[pv.bus]])
            s, p = num(pv.rated_s_mva), num(pv.p_mw)
            if self.voc.v3:
                body = container + lit("PowerElectronicsConnection.ratedS", s)
                body += lit("PowerElectronicsConnection.ratedU", "0.4")
                body += lit("PowerElectronicsConnection.maxQ", s) + lit("PowerElectronicsConnection.minQ", f"-{s}")
                self.define(eq, "PowerElectronicsConnection", gen, name, body)
                body = container + ref("PowerElectronicsUnit.PowerElectronicsConnection", gen)
                body += lit("PowerElectronicsUnit.maxP", s) + lit("PowerElectronicsUnit.minP", "0")
                self.define(eq, "PhotoVoltaicUnit", unit, f"{name} unit", body)
                self.about(ssh, "PhotoVoltaicUnit", unit, in_service)
                body = in_service + lit("RegulatingCondEq.controlEnabled", "false")
                body += lit("PowerElectronicsConnection.p", p) + lit("PowerElectronicsConnection.q", "0")
                self.about(ssh, "PowerElectronicsConnection", gen, body)
            else:  # CGMES 2.4.15 has no PowerElectronicsConnection; PowSyBl writes PV this way
                body = container + ref("RotatingMachine.GeneratingUnit", unit) + lit("RotatingMachine.ratedS", s)
                body += lit("RotatingMachine.ratedU", "0.4")
                body += lit("SynchronousMachine.maxQ", s) + lit("SynchronousMachine.minQ", f"-{s}")
                body += self.enum("SynchronousMachine.type", "SynchronousMachineKind.generator")
                self.define(eq, "SynchronousMachine", gen, name, body)
                body = container + lit("GeneratingUnit.initialP", num(-pv.p_mw))
                body += lit("GeneratingUnit.maxOperatingP", s) + lit("GeneratingUnit.minOperatingP", "0")
                self.define(eq, "SolarGeneratingUnit", unit, f"{name} unit", body)
                body = lit("RegulatingCondEq.controlEnabled", "false") + lit("RotatingMachine.p", p)
                body += lit("RotatingMachine.q", "0") + lit("SynchronousMachine.referencePriority", "0")
                body += self.enum("SynchronousMachine.operatingMode", "SynchronousMachineOperatingMode.generator")
                self.about(ssh, "SynchronousMachine", gen, body)
                self.about(ssh, "SolarGeneratingUnit", unit, lit("GeneratingUnit.normalPF", "0"))
            self.terminal(ids("pv_t", i), f"{name} T1", gen, 1, pv.bus)
            self.flush()


def write_documents(layout: FeederLayout, *, version: str, node_breaker: bool, model_key: str) -> dict[str, bytes]:
    """Serialise a layout as CGMES EQ, SSH and TP RDF/XML documents.

    Args:
        layout: The feeder, from :func:`cimflow.samples.synthetic.build_layout`.
        version: "2.4.15" or "3.0".
        node_breaker: Write ConnectivityNodes and feeder-head Breakers (else bus-branch).
        model_key: Text that makes the model identifiers (md:FullModel) unique to the arguments.

    Returns:
        {"EQ": ..., "SSH": ..., "TP": ...}, UTF-8 encoded.
    """
    writer = _Writer(layout, VOCABULARIES[version], node_breaker=node_breaker)
    for profile in _PROFILES:
        writer.header(profile, model_key)
    writer.containers()
    writer.buses()
    writer.source()
    writer.transformers()
    if node_breaker:
        writer.breakers()
    writer.lines()
    writer.loads()
    writer.pvs()
    documents: dict[str, bytes] = {}
    for profile, doc in writer.docs.items():
        doc.parts.append("</rdf:RDF>\n")
        documents[profile] = doc.getvalue()
    return documents
