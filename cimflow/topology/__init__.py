"""Topology: a Network's buses, branches, islands, loops and feeder trees, built in O(N) without recursion.

Usage::

    import cimflow
    from cimflow.topology import build_topology

    topology = build_topology(cimflow.load("feeder.zip").network).value
    topology.radial, [len(i.loops) for i in topology.islands]
"""

from cimflow.topology.feeders import build_topology
from cimflow.topology.model import (
    Branch,
    BranchKind,
    Bus,
    DetachedEquipment,
    DetachReason,
    FeederTree,
    Injection,
    Island,
    Loop,
    MappingDifference,
    MappingDifferenceKind,
    NodeModel,
    OpenReason,
    OpenSwitch,
    ParallelGroup,
    Source,
    SourceRule,
    Topology,
    VoltageSource,
)

__all__ = [
    "Branch",
    "BranchKind",
    "Bus",
    "DetachReason",
    "DetachedEquipment",
    "FeederTree",
    "Injection",
    "Island",
    "Loop",
    "MappingDifference",
    "MappingDifferenceKind",
    "NodeModel",
    "OpenReason",
    "OpenSwitch",
    "ParallelGroup",
    "Source",
    "SourceRule",
    "Topology",
    "VoltageSource",
    "build_topology",
]
