"""Results written back as CIM: an SV profile (and a TP profile when the input had none), in the input's version.

SV content: SvVoltage per TopologicalNode (kV, degrees), SvPowerFlow per terminal in the load sign
convention (from the node into the equipment; a source supplying the grid has negative p),
SvTapStep per ratio and phase tap changer, SvStatus per piece of conducting equipment, TopologicalIsland per
energised island with its angle reference. The slack's power is written once, as the SvPowerFlow of
its terminal (as PowSyBl writes it); no SvInjection is added, because CGMES defines SvInjection as
injection *in addition to* the equipment terminals and importers (PowSyBl) turn it into an extra
fictitious load. Identifiers are UUIDv5 of the input models' identifiers, so a re-run gives the same
ids. Renderers are pure: this module returns bytes; the CLI writes them.

Numbers are written to 12 significant digits (``f"{x:.12g}"``, 0 where not finite). The bulk classes
(SvVoltage, SvPowerFlow, SvStatus) are written in the order the topology and the solution give them, which
is deterministic; their UUIDv5 come from ``hashlib`` per key, in one loop in C where the native reader
is built (``_uuid5_many``, tested equal to ``uuid.uuid5`` both ways), numbers and references a column at a
time, one template per class, and no escaping of numbers, new ids or plain identifiers (100k buses: ~650k objects).
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha1
from itertools import chain, islice
from xml.sax.saxutils import escape

import numpy as np

from cimflow.cim import namespaces as ns
from cimflow.cim.descriptions import native_builder
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
_NS_BYTES = _NS_UUID.bytes
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
    """The documents to write, in writing order: file name -> the document's bytes in consecutive parts.

    A writer writes the parts one after the other (``file.writelines``); :attr:`documents` joins them for
    callers that want each document whole (at 100k buses the SV is 150 MB: joined, it exists twice).
    """

    parts: tuple[tuple[str, tuple[bytes, ...]], ...]

    @property
    def documents(self) -> tuple[tuple[str, bytes], ...]:
        """File name -> the whole document."""
        return tuple((name, b"".join(chunks)) for name, chunks in self.parts)


_BATCH = 8192  # entries encoded at a time


class _Writer:
    """Collects objects of one output document as RDF/XML text (each entry one or more lines)."""

    def __init__(self, cim_ns: str, *, header: dict[str, object] | None) -> None:
        self.cim_ns = cim_ns
        self.lines: list[str] = []  # entries not yet encoded
        self._chunks: list[bytes] = []  # entries encoded, in order
        if header is not None:
            self.lines.append(f'  <md:FullModel rdf:about="urn:uuid:{header["id"]}">')
            for key in ("created", "scenarioTime", "description", "version", "modelingAuthoritySet"):
                if header.get(key) is not None:
                    self.lines.append(f"    <md:Model.{key}>{escape(str(header[key]))}</md:Model.{key}>")
            dependent = header.get("dependent_on")
            for dep in dependent if isinstance(dependent, (list, tuple)) else ():
                self.lines.append(f'    <md:Model.DependentOn rdf:resource="{escape(str(dep))}"/>')
            self.lines.append(f"    <md:Model.profile>{escape(str(header['profile']))}</md:Model.profile>")
            self.lines.append("  </md:FullModel>")

    def obj(self, cls: str, subject: str, props: Iterable[str]) -> None:
        """One object: ``subject`` is its rendered rdf:ID/rdf:about attribute, ``props`` its property lines."""
        self.lines.append(f"  <cim:{cls} {subject}>")
        self.lines.extend(props)
        self.lines.append(f"  </cim:{cls}>")

    def stream(self, entries: Iterable[str]) -> None:
        """Many entries: encoded a batch at a time, so their text never exists whole next to its bytes."""
        self._flush()
        it = iter(entries)
        while batch := list(islice(it, _BATCH)):
            self._chunks.append(("\n".join(batch) + "\n").encode("utf-8"))

    def rows(self, parts: tuple[str, ...], columns: tuple[list[str] | list[float], ...]) -> None:
        """Many entries of one template: entry ``i`` is ``parts[0] + text(columns[0][i]) + parts[1] + ...``.

        Each column holds str (written as they are) or floats (written ``f"{x:.12g}"``). Made in C where
        the native reader is built, else with one format string; encoded a batch at a time, like
        :meth:`stream`.
        """
        native = native_builder()
        if native is None:
            specs = ["{:.12g}" if col and isinstance(col[0], float) else "{}" for col in columns]
            braces = [p.replace("{", "{{").replace("}", "}}") for p in parts]
            template = braces[0] + "".join(spec + p for spec, p in zip(specs, braces[1:], strict=True))
            self.stream(map(template.format, *columns))
            return
        self._flush()
        n = len(columns[0]) if columns else 0
        for start in range(0, n, _BATCH):
            self._chunks.append(native.render_rows(parts, columns, start, min(n, start + _BATCH)))

    def _flush(self) -> None:
        if self.lines:
            self._chunks.append(("\n".join(self.lines) + "\n").encode("utf-8"))
            self.lines.clear()

    def render(self) -> tuple[bytes, ...]:
        """The document as consecutive parts (joined, they are the file)."""
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<rdf:RDF xmlns:rdf="{ns.RDF}" xmlns:cim="{self.cim_ns}" xmlns:md="{ns.MD}">\n'
        )
        self._flush()
        return (head.encode("utf-8"), *self._chunks, b"</rdf:RDF>\n")


def _lit(name: str, value: object) -> str:
    """A literal property line."""
    return f"    <cim:{name}>{_text(value)}</cim:{name}>"


def _res(name: str, resource: str) -> str:
    """A reference property line; ``resource`` is already escaped (from :class:`_Ids`)."""
    return f'    <cim:{name} rdf:resource="{resource}"/>'


def _esc(text: str) -> str:
    """``escape(text)``, skipped when there is nothing to escape (most identifiers)."""
    return escape(text) if "&" in text or "<" in text or ">" in text else text


def _text(value: object) -> str:
    """A literal's XML text: a float to 12 significant digits (0 if not finite), true/false, else escaped ``str``."""
    if isinstance(value, float):  # needs no escaping; float() turns numpy's np.float64(x) into x
        return f"{float(value):.12g}" if math.isfinite(value) else "0"
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _finite(values: np.ndarray) -> list[float]:
    """``values`` as Python floats, 0 where not finite: ``f"{x:.12g}"`` of each is then its ``_text``."""
    return np.where(np.isfinite(values), values, 0.0).tolist()  # type: ignore[no-any-return]


def _uuid5_many(prefix: str, keys: Iterable[str]) -> list[str]:
    """``str(uuid.uuid5(_NS_UUID, prefix + key))`` of each key.

    The same steps as :func:`uuid.uuid5` (the first 16 bytes of SHA-1 of the namespace bytes and the
    UTF-8 name, version nibble 5, the RFC 4122 variant bits); the namespace and prefix are hashed once
    and the state copied per key. The loop over the keys is in C where the native reader is built; else
    the bits and hex digits are set on all digests as one array.
    """
    base = sha1(_NS_BYTES + prefix.encode("utf-8"), usedforsecurity=False)
    names = keys if type(keys) is list else list(keys)
    native = getattr(native_builder(), "uuid5_many", None)  # None: not built, off, or built before it existed
    if native is not None:
        return native(base, names)  # type: ignore[no-any-return]
    copy = base.copy
    digests = []
    for key in names:
        h = copy()
        h.update(key.encode("utf-8"))
        digests.append(h.digest())
    n = len(digests)
    raw = np.frombuffer(b"".join(digests), np.uint8).reshape(n, 20)[:, :16].copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x50  # version 5
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # variant 10xx
    digits = np.frombuffer(raw.tobytes().hex().encode("ascii"), np.uint8).reshape(n, 32)
    chars = np.full((n, 36), ord("-"), np.uint8)  # 8-4-4-4-12 hex digits, dashes between
    for dashes, (start, stop) in enumerate(((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))):
        chars[:, start + dashes : stop + dashes] = digits[:, start:stop]
    text = chars.tobytes().decode("ascii")
    return [text[k : k + 36] for k in range(0, 36 * n, 36)]


class _Ids:
    """Reference forms of existing objects, and deterministic ids for new ones (all returned escaped)."""

    def __init__(self, dataset: Dataset, seed: str) -> None:
        self.seed = seed
        # identifiers as the input writes them, where that is not "#_<mRID>" (recorded by the model build)
        self.refs: dict[str, str] = dataset.ref_forms
        self.urn = any(v[:9].lower() == "urn:uuid:" for v in self.refs.values())

    def ref(self, mrid: MRID) -> str:
        """rdf:resource text of an existing object."""
        form = self.refs.get(mrid)
        return _esc(f"#_{mrid}" if form is None else form)

    def refs_of(self, mrids: Sequence[MRID]) -> list[str]:
        """``ref`` of each of ``mrids`` at once."""
        get = self.refs.get
        if self.refs:
            forms = [f"#_{m}" if (form := get(m)) is None else form for m in mrids]
        else:  # every object written as "#_<mRID>" (most files)
            forms = [f"#_{m}" for m in mrids]
        text = "".join(forms)  # one search instead of three per identifier
        return [_esc(f) for f in forms] if "&" in text or "<" in text or ">" in text else forms

    def new(self, kind: str, key: str) -> str:
        return self.new_many(kind, [key])[0]

    def subject(self, new_id: str) -> str:
        """rdf:about/rdf:ID attribute that defines a new object (a UUID needs no escaping)."""
        return f'rdf:about="urn:uuid:{new_id}"' if self.urn else f'rdf:ID="_{new_id}"'

    def new_many(self, kind: str, keys: Iterable[str]) -> list[str]:
        """``new(kind, key)`` of each key at once."""
        return _uuid5_many(f"{self.seed}/{kind}/", keys)

    @property
    def head(self) -> str:
        """What precedes a new id in ``subject``: ``f'{head}{new_id}"'`` is ``subject(new_id)``."""
        return 'rdf:about="urn:uuid:' if self.urn else 'rdf:ID="_'

    def ref_new(self, new_id: str) -> str:
        return f"urn:uuid:{new_id}" if self.urn else f"#_{new_id}"


def _now() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (
        datetime.fromtimestamp(int(epoch), tz=UTC)
        if epoch and epoch.isascii() and epoch.isdigit()
        else datetime.now(tz=UTC)
    )
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
    cim_ns = (cim_infos[0].cim_namespace if cim_infos else None) or ns.CIM16_2013
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
    out: list[tuple[str, tuple[bytes, ...]]] = []

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

    tn_of_bus: dict[int, str] = {}  # bus index -> rdf:resource of its TopologicalNode
    tp_id = ids.new("model", "TP")
    if not has_tp:
        eq_ids = [i.header_mrid for i in _pick(infos, ns.Profile.EQ) if i.header_mrid]
        tp = _Writer(cim_ns, header=header("TP", eq_ids))
        if tp.lines:
            tp.lines[0] = f'  <md:FullModel rdf:about="urn:uuid:{tp_id}">'
        bv_of_kv: dict[object, MRID] = {}  # the first BaseVoltage of each nominal voltage (NaN matches none)
        for m, b in network.base_voltages.items():
            if b.nominal_voltage_kv == b.nominal_voltage_kv:
                bv_of_kv.setdefault(b.nominal_voltage_kv, m)
        for bus in topology.buses:
            if bus.topological_node and bus.star_of is None:
                tn_of_bus[bus.index] = ids.ref(bus.topological_node)
                continue
            new = ids.new("TopologicalNode", bus.mrid)
            bv = bv_of_kv.get(bus.base_voltage_kv)
            props = [_lit("IdentifiedObject.name", bus.name or bus.mrid)]
            if version is ns.CimVersion.CGMES_3_0:
                props.append(_lit("IdentifiedObject.mRID", new))
            if bv:
                props.append(_res("TopologicalNode.BaseVoltage", ids.ref(bv)))
            tp.obj("TopologicalNode", ids.subject(new), props)
            tn = tn_of_bus[bus.index] = ids.ref_new(new)
            for cn in bus.connectivity_nodes:
                tp.lines.append(
                    f'  <cim:ConnectivityNode rdf:about="{ids.ref(cn)}">\n'
                    f'    <cim:ConnectivityNode.TopologicalNode rdf:resource="{tn}"/>\n'
                    "  </cim:ConnectivityNode>"
                )
        for term, bus_index in sorted(topology.bus_of_terminal.items()):
            tp.lines.append(
                f'  <cim:Terminal rdf:about="{ids.ref(term)}">\n'
                f'    <cim:Terminal.TopologicalNode rdf:resource="{tn_of_bus[bus_index]}"/>\n'
                "  </cim:Terminal>"
            )
        out.append((f"{stem}_TP.xml", tp.render()))
    else:
        unnamed = [bus for bus in topology.buses if not bus.topological_node]
        new_ids = ids.new_many("TopologicalNode", [b.mrid for b in unnamed])
        new_tn = {b.index: new for b, new in zip(unnamed, new_ids, strict=True)}
        for bus in topology.buses:
            node = bus.topological_node
            tn_of_bus[bus.index] = ids.ref(node) if node else ids.ref_new(new_tn[bus.index])

    deps = [i.header_mrid for i in _pick(infos, ns.Profile.SSH, ns.Profile.TP) if i.header_mrid]
    if not has_tp:
        deps.append(tp_id)
    sv = _Writer(
        cim_ns, header=header("SV", deps or [i.header_mrid for i in _pick(infos, ns.Profile.EQ) if i.header_mrid])
    )
    _write_sv(sv, ids, network, topology, build, result, solution, tn_of_bus, v_factor=v_factor, p_factor=p_factor)
    out.append((f"{stem}_SV.xml", sv.render()))
    return AnnotatedCim(tuple(out))


def _flows(
    topology: Topology, build: CaseBuild, result: PowerFlowResult, solution: Solution
) -> dict[MRID, tuple[float, float]]:
    """(p_mw, q_mvar) per terminal, load sign convention: branch ends, slacks, loads, generation, shunts."""
    flows: dict[MRID, tuple[float, float]] = {}
    index = build.index
    # the solution's branch values (BranchResult k holds these columns' item k), read as whole columns
    p_from, q_from = result.p_from_mw.tolist(), result.q_from_mvar.tolist()
    p_to, q_to = result.p_to_mw.tolist(), result.q_to_mvar.tolist()
    top_branches = topology.branches
    internal: dict[MRID, int] = {}  # the first source-impedance branch of each slack
    for k, (kind, ti) in enumerate(zip(index.branch_kind, index.branch_topology_index.tolist(), strict=True)):
        if kind == "source-impedance":
            internal.setdefault(index.branch_mrid[k], k)
            continue
        top = top_branches[ti]
        flows[top.from_terminal] = (p_from[k], q_from[k])
        if top.to_terminal is not None:
            flows[top.to_terminal] = (p_to[k], q_to[k])
    v_abs = result.v_pu.tolist()
    energised = result.energised.tolist()
    slack_flow = {s.id: (s.p_mw, s.q_mvar) for s in solution.slacks}
    term_of = {inj.mrid: inj.terminal for inj in topology.injections}
    q_solved = {g.id: g.q_mvar for g in solution.generators}  # generators holding a PV bus
    for rec in index.injections.records:
        term = term_of.get(rec.mrid)
        if term is None:
            continue
        if rec.role == "slack":
            src = internal.get(rec.mrid)
            if src is None:
                flows[term] = slack_flow.get(rec.mrid, (0.0, 0.0))
            else:
                flows[term] = (float(result.p_to_mw[src]), float(result.q_to_mvar[src]))
        elif not energised[rec.bus]:
            if rec.role in ("load", "generation", "shunt"):
                flows[term] = (0.0, 0.0)
        elif rec.mrid in q_solved:
            flows[term] = (rec.p_mw, q_solved[rec.mrid])
        elif rec.role in ("load", "generation", "shunt"):
            flows[term] = rec.at_voltage(v_abs[rec.bus])
    return flows


def _write_sv(
    sv: _Writer,
    ids: _Ids,
    network: Network,
    topology: Topology,
    build: CaseBuild,
    result: PowerFlowResult,
    solution: Solution,
    tn_of_bus: dict[int, str],
    *,
    v_factor: float,
    p_factor: float,
) -> None:
    """The SV objects; the bulk classes as rows of one template each (the text :meth:`_Writer.obj` would give)."""
    ref = ids.refs_of
    buses = [(b, tn) for b in solution.buses if (tn := tn_of_bus.get(b.index)) is not None]
    on = np.array([b.energised for b, _ in buses], dtype=bool)
    angle = _finite(np.where(on, [b.angle_deg for b, _ in buses], 0.0))
    v = _finite(np.where(on, [b.v_kv for b, _ in buses], 0.0) * v_factor)
    head = ids.head
    subjects = ids.new_many("SvVoltage", [b.id for b, _ in buses])
    sv.rows(
        (
            f"  <cim:SvVoltage {head}",
            '">\n    <cim:SvVoltage.angle>',
            "</cim:SvVoltage.angle>\n    <cim:SvVoltage.v>",
            '</cim:SvVoltage.v>\n    <cim:SvVoltage.TopologicalNode rdf:resource="',
            '"/>\n  </cim:SvVoltage>',
        ),
        (subjects, angle, v, [tn for _, tn in buses]),
    )
    flows = _flows(topology, build, result, solution)
    terms = list(flows)  # in the order found (deterministic): sorting 300k ids would cost more than writing them
    p_mw, q_mvar = zip(*flows.values(), strict=True) if flows else ((), ())
    p, q = _finite(np.array(p_mw, dtype=float) * p_factor), _finite(np.array(q_mvar, dtype=float) * p_factor)
    subjects = ids.new_many("SvPowerFlow", terms)
    sv.rows(
        (
            f"  <cim:SvPowerFlow {head}",
            '">\n    <cim:SvPowerFlow.p>',
            "</cim:SvPowerFlow.p>\n    <cim:SvPowerFlow.q>",
            '</cim:SvPowerFlow.q>\n    <cim:SvPowerFlow.Terminal rdf:resource="',
            '"/>\n  </cim:SvPowerFlow>',
        ),
        (subjects, p, q, ref(terms)),
    )
    ratio_then_phase = [*sorted(network.tap_changers_of.items()), *sorted(network.phase_tap_changers_of.items())]
    for _end, tc in ratio_then_phase:
        step = tc.step if tc.step is not None else tc.normal_step
        if step is None:
            continue
        sv.obj(
            "SvTapStep",
            ids.subject(ids.new("SvTapStep", tc.mrid)),
            [_lit("SvTapStep.position", float(step)), _res("SvTapStep.TapChanger", ids.ref(tc.mrid))],
        )
    switched_off = [d.mrid for d in topology.detached if d.reason is DetachReason.OUT_OF_SERVICE]  # sorted by mRID
    out_of_service = set(switched_off)
    equipment = list(
        dict.fromkeys(
            chain(
                (b.mrid for b in topology.branches),
                (i.mrid for i in topology.injections),
                topology.bus_of_closed_switch,
                (s.mrid for s in topology.open_switches),
                switched_off,
            )
        )
    )
    subjects = ids.new_many("SvStatus", equipment)
    sv.rows(
        (
            f"  <cim:SvStatus {head}",
            '">\n    <cim:SvStatus.inService>',
            '</cim:SvStatus.inService>\n    <cim:SvStatus.ConductingEquipment rdf:resource="',
            '"/>\n  </cim:SvStatus>',
        ),
        (subjects, ["false" if m in out_of_service else "true" for m in equipment], ref(equipment)),
    )
    for island in topology.islands:
        if not island.energised:
            continue
        props = [
            _lit("IdentifiedObject.name", f"island {island.index}"),
            _res("TopologicalIsland.AngleRefTopologicalNode", tn_of_bus[island.root]),
        ]
        members = (tn_of_bus.get(k) for k in map(int, island.buses))
        props.extend(
            f'    <cim:TopologicalIsland.TopologicalNodes rdf:resource="{tn}"/>' for tn in members if tn is not None
        )
        sv.obj("TopologicalIsland", ids.subject(ids.new("TopologicalIsland", str(island.index))), props)
