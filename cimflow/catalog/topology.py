"""CF3xx: how the grid is connected (islands, sources, radiality, loops, switches)."""

from __future__ import annotations

from cimflow.catalog._entry import entry
from cimflow.findings import Category, Severity, Stage

_C = Category.TOPOLOGY
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
_T = Stage.TOPOLOGY

ISLAND_WITHOUT_SOURCE = entry(
    "CF301", "island-without-source", _C, _W, _T,
    "Island {island} ({n_buses} bus(es), {n_equipment} equipment) has no source and is de-energised",
    fix="Connect the island to a source (close the switch that feeds it), or add its ExternalNetworkInjection or "
    "EnergySource; remove it if it is a leftover.",
    what="Every island (set of buses joined by closed switches and branches) contains at least one source: an "
    "ExternalNetworkInjection, an EnergySource or a voltage-regulating machine. The finding lists the equipment of "
    "the island.",
    why="A power flow cannot give a voltage to an island without a source: its loads are not supplied, and in a GIS "
    "export it usually means a missing connection.",
    example="A LV feeder whose only link to the substation is a fuse written as open, or a cable with a missing "
    "terminal.",
    references="IEC 61970-301 TopologicalIsland; IEC 61970-456 (topology processing).",
)
MULTIPLE_SOURCES = entry(
    "CF302", "multiple-sources", _C, _I, _T,
    "Island {island} has {n_sources} sources",
    fix="Nothing for a meshed grid with several infeeds; in a radial feeder keep one slack and model other infeeds "
    "as generation (or open the coupling switch).",
    what="The number of sources (slacks) per island: its ExternalNetworkInjections, else its EnergySources with "
    "a voltageMagnitude (or its first EnergySource), else its regulating machines. Info in a meshed island, "
    "warning where the island is expected to be radial.",
    why="A radial feeder normally has one infeed; a second source usually means two feeders joined through a "
    "switch that should be open.",
    example="Two ExternalNetworkInjections in one 0.4 kV island.",
    options="`radial_max_kv` (default 36) and `expect_radial` decide where a radial island is expected.",
    references="IEC 61970-301 ExternalNetworkInjection.referencePriority.",
)
MESHED_NETWORK = entry(
    "CF303", "meshed-network", _C, _W, _T,
    "Loop of {n_branches} branches through {n_buses} buses in island {island}: {members}",
    fix="Open the switch that should separate the feeders (normally-open point), or set `expect_radial = false` "
    "if the grid is meshed by design.",
    what="Loops (independent cycles) of each island, each with its member branches and buses. Warning where a "
    "radial grid is expected (distribution voltages, or `expect_radial = true`), info elsewhere.",
    why="Distribution feeders are operated radially; a loop means a normally-open point written as closed, or a "
    "connection drawn twice, and changes flows and protection.",
    example="Two LV feeders joined at a cable cabinet whose link is exported as closed.",
    options="`radial_max_kv` (default 36) and `expect_radial` (default: decide by voltage).",
    references="IEC 61970-301 Switch.normalOpen; CGMES SSH Switch.open.",
)
PARALLEL_BRANCHES = entry(
    "CF304", "parallel-branches", _C, _I, _T,
    "{n_branches} branches run in parallel between the same two buses",
    fix="Nothing if the circuits are really parallel; otherwise remove the duplicate branch.",
    what="Groups of branches (lines, transformers) that connect the same pair of buses.",
    why="Parallel circuits are legitimate, but in a GIS export they often are one cable drawn twice, which halves "
    "its impedance.",
    example="Two ACLineSegments with identical terminals' nodes.",
    references="IEC 61970-301 ACLineSegment.",
)
OPEN_SWITCH_ISOLATING_LOADS = entry(
    "CF305", "open-switch-isolating-loads", _C, _W, _T,
    "{cim_class} {mrid} is open and cuts {n_loads} load(s) off every source",
    fix="Close the switch if the loads are supplied through it, or check that they are supplied another way.",
    what="Open switches whose other side holds loads that no source reaches.",
    why="An open switch in front of consumers is either a mistake in the switching state or a planned outage; "
    "either way those loads are not in the power flow.",
    example="An open fuse at the head of an LV feeder with 30 households.",
    references="IEC 61970-301 Switch.open, Switch.normalOpen.",
)
UNREACHABLE_EQUIPMENT = entry(
    "CF306", "unreachable-equipment", _C, _W, _T,
    "{cim_class} {mrid} is connected to no bus of the grid",
    fix="Connect the equipment's terminals to nodes (and set ACDCTerminal.connected), or remove it.",
    what="Conducting equipment none of whose terminals is connected to a bus (terminals without node or "
    "disconnected).",
    why="Such equipment is drawn in the GIS but is not part of the electrical network; its load or generation is "
    "silently missing.",
    example="An EnergyConsumer whose Terminal has `connected = false` and no other connection.",
    references="IEC 61970-301 ACDCTerminal.connected, Terminal.ConnectivityNode.",
)

ALL = (
    ISLAND_WITHOUT_SOURCE,
    MULTIPLE_SOURCES,
    MESHED_NETWORK,
    PARALLEL_BRANCHES,
    OPEN_SWITCH_ISOLATING_LOADS,
    UNREACHABLE_EQUIPMENT,
)
