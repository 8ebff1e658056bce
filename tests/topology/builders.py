"""A small builder of :class:`Network` objects for topology unit tests, without any XML."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from cimflow.ids import MRID
from cimflow.model import core, equipment, injections
from cimflow.model.base import CimObject, SourceRef
from cimflow.model.network import Network, OpaqueObject

_SOURCE = SourceRef("builder", 0)


def construct(model: type[CimObject], **values: Any) -> CimObject:
    """What ``model.model_construct(**values)`` makes, about six times faster (for 10^6 objects): the
    model builder's own constructor. ``test_builder_matches_model_construct`` checks that both give equal
    objects."""
    return model.from_checked(values)


class NetworkBuilder:
    """Add nodes and equipment by name, then :meth:`build` a frozen Network.

    A node name registered with :meth:`cn` is a ConnectivityNode, any other node name a
    TopologicalNode (created on first use). Terminals are named ``<equipment>.<sequence number>``.
    """

    def __init__(self) -> None:
        self.objects: dict[type[CimObject], dict[MRID, CimObject]] = defaultdict(dict)
        self.opaque: dict[MRID, OpaqueObject] = {}

    def add(self, model: type[CimObject], mrid: str, cim_class: str | None = None, **fields: Any) -> CimObject:
        """Add any modelled object (fields are the model's Python field names)."""
        obj = construct(model, mrid=MRID(mrid), cim_class=cim_class or model.__name__, source=_SOURCE, **fields)
        self.objects[model][MRID(mrid)] = obj
        return obj

    def base_voltage(self, mrid: str, kv: float) -> str:
        """A BaseVoltage of ``kv``."""
        self.add(core.BaseVoltage, mrid, nominal_voltage_kv=kv)
        return mrid

    def cn(self, mrid: str, *, tn: str | None = None, container: str | None = None, name: str | None = None) -> str:
        """A ConnectivityNode, optionally mapped to a TopologicalNode and in a container."""
        self.add(core.ConnectivityNode, mrid, topological_node=tn, container=container, name=name)
        if tn is not None:
            self.tn(tn)
        return mrid

    def tn(self, mrid: str, *, base_voltage: str | None = None, name: str | None = None) -> str:
        """A TopologicalNode (kept if it exists, unless a base voltage or name is given)."""
        if MRID(mrid) not in self.objects[core.TopologicalNode] or base_voltage or name:
            self.add(core.TopologicalNode, mrid, base_voltage=base_voltage, name=name)
        return mrid

    def terminals(self, eq: str, nodes: Sequence[str | None], connected: Sequence[bool | None] = ()) -> list[str]:
        """Terminals 1..n of ``eq`` at ``nodes`` (``None``: no node)."""
        names = []
        for k, node in enumerate(nodes, start=1):
            fields: dict[str, Any] = {"conducting_equipment": MRID(eq), "sequence_number": k}
            if node is not None and MRID(node) in self.objects[core.ConnectivityNode]:
                fields["connectivity_node"] = MRID(node)
            elif node is not None:
                fields["topological_node"] = MRID(self.tn(node))
            if k <= len(connected) and connected[k - 1] is not None:
                fields["connected"] = connected[k - 1]
            self.add(core.Terminal, f"{eq}.{k}", **fields)
            names.append(f"{eq}.{k}")
        return names

    def line(self, mrid: str, a: str | None, b: str | None, *, length_km: float | None = None, **kw: Any) -> str:
        """An ACLineSegment from ``a`` to ``b``."""
        connected = kw.pop("connected", ())
        self.add(equipment.ACLineSegment, mrid, length_km=length_km, **kw)
        self.terminals(mrid, [a, b], connected)
        return mrid

    def switch(self, mrid: str, a: str | None, b: str | None, *, cim_class: str = "Breaker", **kw: Any) -> str:
        """A member of the switch family (``open``, ``normal_open``, ``retained``, ``in_service``)."""
        connected = kw.pop("connected", ())
        self.add(equipment.Switch, mrid, cim_class, **kw)
        self.terminals(mrid, [a, b], connected)
        return mrid

    def load(self, mrid: str, node: str | None, *, connected: bool | None = None) -> str:
        """An EnergyConsumer."""
        self.add(injections.EnergyConsumer, mrid)
        self.terminals(mrid, [node], [connected])
        return mrid

    def source(self, mrid: str, node: str, *, cim_class: str = "ExternalNetworkInjection", **kw: Any) -> str:
        """An ExternalNetworkInjection (or EnergySource with ``cim_class``)."""
        model = injections.EnergySource if cim_class == "EnergySource" else injections.ExternalNetworkInjection
        self.add(model, mrid, cim_class, **kw)
        self.terminals(mrid, [node])
        return mrid

    def machine(self, mrid: str, node: str, *, regulating: bool = False, **kw: Any) -> str:
        """A SynchronousMachine, with a RegulatingControl when ``regulating``."""
        control = None
        if regulating:
            control = self.add(injections.RegulatingControl, f"{mrid}.rc", mode="voltage").mrid
        self.add(injections.SynchronousMachine, mrid, regulating_control=control, **kw)
        self.terminals(mrid, [node])
        return mrid

    def transformer(self, mrid: str, nodes: Sequence[str | None], *, rated_kv: Iterable[float] = ()) -> str:
        """A PowerTransformer with one PowerTransformerEnd per node (end numbers 1..n)."""
        self.add(equipment.PowerTransformer, mrid)
        terms = self.terminals(mrid, nodes)
        kv = list(rated_kv)
        for k, term in enumerate(terms, start=1):
            self.add(
                equipment.PowerTransformerEnd,
                f"{mrid}.end{k}",
                power_transformer=MRID(mrid),
                terminal=MRID(term),
                end_number=k,
                rated_u_kv=kv[k - 1] if k <= len(kv) else None,
            )
        return mrid

    def other(self, mrid: str, cim_class: str, nodes: Sequence[str | None]) -> str:
        """Equipment of a class cimflow does not model (kept opaque)."""
        self.opaque[MRID(mrid)] = OpaqueObject(MRID(mrid), cim_class, "builder", 0)
        self.terminals(mrid, nodes)
        return mrid

    def build(self) -> Network:
        """The frozen Network."""
        by_mrid = {m: o for objs in self.objects.values() for m, o in objs.items()}
        counts: dict[str, int] = defaultdict(int)
        for obj in by_mrid.values():
            counts[obj.cim_class] += 1
        return Network(
            objects=MappingProxyType({k: MappingProxyType(v) for k, v in self.objects.items()}),
            by_mrid=MappingProxyType(by_mrid),
            opaque=MappingProxyType(dict(self.opaque)),
            class_counts=MappingProxyType(dict(counts)),
        )


def chain(n_buses: int, *, loads: bool = True, length_km: float = 0.01) -> Network:
    """A radial bus-branch chain: a source at ``n0``, line ``l<k>`` from ``n<k-1>`` to ``n<k>``, loads at ``n1..``.

    Made without the builder's checks (a 200,000-bus chain is 10^6 objects); no TopologicalNode objects,
    only their mRIDs on the terminals.
    """
    with _gc_paused():
        return _chain(n_buses, loads=loads, length_km=length_km)


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()  # a million new objects would trigger full collections over all of them, again and again
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _chain(n_buses: int, *, loads: bool, length_km: float) -> Network:
    b = NetworkBuilder()
    terminals = b.objects[core.Terminal]

    def terminal(eq: str, k: int, node: str) -> None:
        mrid = MRID(f"{eq}.{k}")
        terminals[mrid] = construct(
            core.Terminal, mrid=mrid, cim_class="Terminal", source=_SOURCE, conducting_equipment=MRID(eq),
            sequence_number=k, topological_node=MRID(node),
        )  # fmt: skip

    b.add(injections.ExternalNetworkInjection, "grid")
    terminal("grid", 1, "n0")
    lines = b.objects[equipment.ACLineSegment]
    consumers = b.objects[injections.EnergyConsumer]
    for k in range(1, n_buses):
        mrid = MRID(f"l{k}")
        lines[mrid] = construct(
            equipment.ACLineSegment, mrid=mrid, cim_class="ACLineSegment", source=_SOURCE, length_km=length_km
        )
        terminal(mrid, 1, f"n{k - 1}")
        terminal(mrid, 2, f"n{k}")
        if loads:
            load = MRID(f"load{k}")
            consumers[load] = construct(
                injections.EnergyConsumer, mrid=load, cim_class="EnergyConsumer", source=_SOURCE
            )
            terminal(load, 1, f"n{k}")
    return b.build()
