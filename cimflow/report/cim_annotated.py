"""Results written back as CIM: an SV profile (and a TP profile when the input had none), in the input's version.

SV content: SvVoltage per TopologicalNode (kV, degrees), SvPowerFlow per terminal in the load sign
convention (from the node into the equipment; a source supplying the grid has negative p),
SvTapStep per ratio tap changer, SvStatus per piece of conducting equipment, TopologicalIsland per
energised island with its angle reference. The slack's power is written once, as the SvPowerFlow of
its terminal (as PowSyBl writes it); no SvInjection is added, because CGMES defines SvInjection as
injection *in addition to* the equipment terminals and importers (PowSyBl) turn it into an extra
fictitious load. Identifiers are UUIDv5 of the input models' identifiers, so a re-run gives the same
ids. Renderers are pure: this module returns bytes; the CLI writes them.
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from cimflow.cim import namespaces as ns
from cimflow.cim.ingest import Dataset
from cimflow.cim.profiles import DocumentInfo
from cimflow.gcpause import gc_paused
from cimflow.ids import MRID
from cimflow.model.network import Network
from cimflow.powerflow.case import CaseBuild
from cimflow.powerflow.result import PowerFlowResult
from cimflow.powerflow.solution import Solution
from cimflow.topology.model import DetachReason, Topology
from cimflow.units import Dialect

_NS_UUID = uuid.UUID("6f0c8d2e-4a43-5d5e-9b55-6c696d666c6f")
_PROFILES = {
    ns.CimVersion.CGMES_2_4_15: {
        "SV": "http://entsoe.eu/CIM/StateVariables/4/1",
        "TP": "http://entsoe.eu/CIM/Topology/4/1",
    },
    ns.CimVersion.CGMES_3_0: {
        "SV": "http://iec.ch/TC57/ns/CIM/StateVariables-EU/3.0",
        "TP": "http://iec.ch/TC57/ns/CIM/Topology-EU/3.0",
    },
}


@dataclass(frozen=True, slots=True)
class AnnotatedCim:
    """The documents to write: file name -> bytes, in writing order."""

    documents: tuple[tuple[str, bytes], ...]


class _Writer:
    """Collects objects of one output document as RDF/XML text."""

    def __init__(self, cim_ns: str, *, header: dict[str, object] | None) -> None:
        self.cim_ns = cim_ns
        self.lines: list[str] = []
        if header is not None:
            self.lines.append(f'  <md:FullModel rdf:about="urn:uuid:{header["id"]}">')
            for key in ("created", "scenarioTime", "description", "version", "modelingAuthoritySet"):
                if header.get(key) is not None:
                    self.lines.append(f"    <md:Model.{key}>{escape(str(header[key]))}</md:Model.{key}>")
            for dep in header.get("dependent_on", ()):  # type: ignore[union-attr]
                self.lines.append(f'    <md:Model.DependentOn rdf:resource="{escape(str(dep))}"/>')
            self.lines.append(f"    <md:Model.profile>{escape(str(header['profile']))}</md:Model.profile>")
            self.lines.append("  </md:FullModel>")

    def obj(self, cls: str, ident: str, *, about: bool, props: Iterable[tuple[str, object]]) -> None:
        attr = f'rdf:about="{escape(ident)}"' if about else f'rdf:ID="{escape(ident)}"'
        self.lines.append(f"  <cim:{cls} {attr}>")
        for name, value in props:
            if value is None:
                continue
            if isinstance(value, _Ref):
                self.lines.append(f'    <cim:{name} rdf:resource="{escape(value.target)}"/>')
            else:
                text = ("true" if value else "false") if isinstance(value, bool) else _num(value)
                self.lines.append(f"    <cim:{name}>{escape(text)}</cim:{name}>")
        self.lines.append(f"  </cim:{cls}>")

    def render(self) -> bytes:
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<rdf:RDF xmlns:rdf="{ns.RDF}" xmlns:cim="{self.cim_ns}" xmlns:md="{ns.MD}">\n'
        )
        return (head + "\n".join(self.lines) + "\n</rdf:RDF>\n").encode("utf-8")


@dataclass(frozen=True, slots=True)
class _Ref:
    target: str


def _num(value: object) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return "0"
        return repr(round(value, 12))
    return str(value)


class _Ids:
    """Reference forms of existing objects, and deterministic ids for new ones."""

    def __init__(self, dataset: Dataset, seed: str) -> None:
        self.seed = seed
        # identifiers as the input writes them, where that is not "#_<mRID>" (recorded by the model build)
        self.refs: dict[str, str] = dataset.ref_forms
        self.urn = any(v[:9].lower() == "urn:uuid:" for v in self.refs.values())

    def ref(self, mrid: MRID) -> _Ref:
        return _Ref(self.refs.get(mrid, f"#_{mrid}"))

    def new(self, kind: str, key: str) -> str:
        return str(uuid.uuid5(_NS_UUID, f"{self.seed}/{kind}/{key}"))

    def define(self, new_id: str) -> tuple[str, bool]:
        """(identifier, about?) to define a new object."""
        return (f"urn:uuid:{new_id}", True) if self.urn else (f"_{new_id}", False)

    def ref_new(self, new_id: str) -> _Ref:
        return _Ref(f"urn:uuid:{new_id}" if self.urn else f"#_{new_id}")


def _now() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), tz=UTC) if epoch and epoch.isdigit() else datetime.now(tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _pick(infos: Sequence[DocumentInfo], *profiles: ns.Profile) -> list[DocumentInfo]:
    return [i for i in infos if any(p in i.profiles for p in profiles)]


def render_annotated_cim(
    network: Network, topology: Topology, build: CaseBuild, result: PowerFlowResult, solution: Solution, *, stem: str
) -> AnnotatedCim:
    """Render the SV (and, if the input had none, TP) documents of a solved network."""
    with gc_paused():  # a million small strings next to the whole model: collections would only cost time
        return _render(network, topology, build, result, solution, stem=stem)


def _render(
    network: Network, topology: Topology, build: CaseBuild, result: PowerFlowResult, solution: Solution, *, stem: str
) -> AnnotatedCim:
    dataset: Dataset = network.dataset  # type: ignore[assignment]
    infos: list[DocumentInfo] = list(network.documents)  # type: ignore[arg-type]
    cim_infos = [i for i in infos if i.cim_namespace]
    cim_ns = cim_infos[0].cim_namespace if cim_infos else ns.CIM16_2013
    version = cim_infos[0].version if cim_infos else ns.CimVersion.CGMES_2_4_15
    si = any(i.dialect is Dialect.SI for i in cim_infos)
    seed = "|".join(sorted(i.header_mrid or i.name for i in cim_infos))
    ids = _Ids(dataset, seed)
    v_factor = 1e3 if si else 1.0  # kV -> V for CIM100 distribution files
    p_factor = 1e6 if si else 1.0  # MW -> W
    scenario = next(
        (
            i.header.get("scenarioTime")
            for i in _pick(infos, ns.Profile.SSH, ns.Profile.EQ)
            if i.header.get("scenarioTime")
        ),
        None,
    )
    created = _now()
    has_tp = any(ns.Profile.TP in i.profiles for i in infos) and all(
        b.topological_node for b in topology.buses if b.star_of is None
    )
    out: list[tuple[str, bytes]] = []

    def header(kind: str, deps: list[str]) -> dict[str, object] | None:
        if si or version not in _PROFILES:
            return None
        return {
            "id": ids.new("model", kind),
            "created": created,
            "scenarioTime": scenario or created,
            "description": f"cimflow {kind} ({solution.solver}, converged={str(solution.converged).lower()})",
            "version": 1,
            "modelingAuthoritySet": "http://cimflow.invalid/solve",
            "dependent_on": [f"urn:uuid:{d}" if not d.startswith("urn:") else d for d in deps],
            "profile": _PROFILES[version][kind],
        }

    tn_of_bus: dict[int, _Ref] = {}
    tp_id = ids.new("model", "TP")
    if not has_tp:
        eq_ids = [i.header_mrid for i in _pick(infos, ns.Profile.EQ) if i.header_mrid]
        tp = _Writer(cim_ns, header=header("TP", eq_ids))
        if tp.lines:
            tp.lines[0] = f'  <md:FullModel rdf:about="urn:uuid:{tp_id}">'
        for bus in topology.buses:
            if bus.topological_node and bus.star_of is None:
                tn_of_bus[bus.index] = ids.ref(bus.topological_node)
                continue
            new = ids.new("TopologicalNode", bus.mrid)
            ident, about = ids.define(new)
            bv = next(
                (m for m, b in network.base_voltages.items() if b.nominal_voltage_kv == bus.base_voltage_kv), None
            )
            props: list[tuple[str, object]] = [("IdentifiedObject.name", bus.name or bus.mrid)]
            if version is ns.CimVersion.CGMES_3_0:
                props.append(("IdentifiedObject.mRID", new))
            props.append(("TopologicalNode.BaseVoltage", ids.ref(bv) if bv else None))
            tp.obj("TopologicalNode", ident, about=about, props=props)
            tn_of_bus[bus.index] = ids.ref_new(new)
            for cn in bus.connectivity_nodes:
                tp.obj(
                    "ConnectivityNode",
                    ids.ref(cn).target,
                    about=True,
                    props=[("ConnectivityNode.TopologicalNode", tn_of_bus[bus.index])],
                )
        for term, bus_index in sorted(topology.bus_of_terminal.items()):
            tp.obj(
                "Terminal", ids.ref(term).target, about=True, props=[("Terminal.TopologicalNode", tn_of_bus[bus_index])]
            )
        out.append((f"{stem}_TP.xml", tp.render()))
    else:
        for bus in topology.buses:
            tn_of_bus[bus.index] = (
                ids.ref(bus.topological_node)
                if bus.topological_node
                else ids.ref_new(ids.new("TopologicalNode", bus.mrid))
            )

    deps = [i.header_mrid for i in _pick(infos, ns.Profile.SSH, ns.Profile.TP) if i.header_mrid]
    if not has_tp:
        deps.append(tp_id)
    sv = _Writer(
        cim_ns, header=header("SV", deps or [i.header_mrid for i in _pick(infos, ns.Profile.EQ) if i.header_mrid])
    )
    for b in solution.buses:
        if b.index not in tn_of_bus:
            continue
        new = ids.new("SvVoltage", b.id)
        ident, about = ids.define(new)
        sv.obj("SvVoltage", ident, about=about, props=[
            ("SvVoltage.angle", b.angle_deg if b.energised else 0.0),
            ("SvVoltage.v", b.v_kv * v_factor if b.energised else 0.0),
            ("SvVoltage.TopologicalNode", tn_of_bus[b.index]),
        ])  # fmt: skip
    flows: dict[MRID, tuple[float, float]] = {}
    for br in solution.branches:
        top = (
            topology.branches[int(build.index.branch_topology_index[br.index])]
            if br.kind != "source-impedance"
            else None
        )
        if top is None:
            continue
        flows[top.from_terminal] = (br.p_from_mw, br.q_from_mvar)
        if top.to_terminal is not None:
            flows[top.to_terminal] = (br.p_to_mw, br.q_to_mvar)
    v_abs = result.v_pu
    slack_flow = {s.id: (s.p_mw, s.q_mvar) for s in solution.slacks}
    term_of = {inj.mrid: inj.terminal for inj in topology.injections}
    for rec in build.index.injections.records:
        term = term_of.get(rec.mrid)
        if term is None:
            continue
        if rec.role == "slack":
            flows[term] = slack_flow.get(rec.mrid, (0.0, 0.0))
            internal = [
                k
                for k, m in enumerate(build.index.branch_mrid)
                if m == rec.mrid and build.index.branch_kind[k] == "source-impedance"
            ]
            if internal:
                k = internal[0]
                flows[term] = (float(result.p_to_mw[k]), float(result.q_to_mvar[k]))
        elif rec.role in ("load", "generation", "shunt"):
            flows[term] = rec.at_voltage(float(v_abs[rec.bus])) if result.energised[rec.bus] else (0.0, 0.0)
    for term, (p, q) in sorted(flows.items()):
        new = ids.new("SvPowerFlow", term)
        ident, about = ids.define(new)
        sv.obj("SvPowerFlow", ident, about=about, props=[
            ("SvPowerFlow.p", p * p_factor), ("SvPowerFlow.q", q * p_factor), ("SvPowerFlow.Terminal", ids.ref(term)),
        ])  # fmt: skip
    for _end, tc in sorted(network.tap_changers_of.items()):
        step = tc.step if tc.step is not None else tc.normal_step
        if step is None:
            continue
        new = ids.new("SvTapStep", tc.mrid)
        ident, about = ids.define(new)
        sv.obj(
            "SvTapStep",
            ident,
            about=about,
            props=[("SvTapStep.position", float(step)), ("SvTapStep.TapChanger", ids.ref(tc.mrid))],
        )
    out_of_service = {d.mrid for d in topology.detached if d.reason is DetachReason.OUT_OF_SERVICE}
    equipment = sorted(
        {
            *(b.mrid for b in topology.branches),
            *(i.mrid for i in topology.injections),
            *topology.bus_of_closed_switch,
            *(s.mrid for s in topology.open_switches),
            *out_of_service,
        }
    )
    for mrid in equipment:
        new = ids.new("SvStatus", mrid)
        ident, about = ids.define(new)
        sv.obj(
            "SvStatus",
            ident,
            about=about,
            props=[("SvStatus.inService", mrid not in out_of_service), ("SvStatus.ConductingEquipment", ids.ref(mrid))],
        )
    for island in topology.islands:
        if not island.energised:
            continue
        new = ids.new("TopologicalIsland", str(island.index))
        ident, about = ids.define(new)
        props: list[tuple[str, object]] = [("IdentifiedObject.name", f"island {island.index}")]
        props.append(("TopologicalIsland.AngleRefTopologicalNode", tn_of_bus[island.root]))
        props.extend(
            ("TopologicalIsland.TopologicalNodes", tn_of_bus[int(k)]) for k in island.buses if int(k) in tn_of_bus
        )
        sv.obj("TopologicalIsland", ident, about=about, props=props)
    out.append((f"{stem}_SV.xml", sv.render()))
    return AnnotatedCim(tuple(out))
