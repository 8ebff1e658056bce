"""Topology of real CGMES models in ../shared/data, against the README's table (skipped on a lone clone).

The README counts "CN" of a node-breaker model as the ConnectivityNodes in the graph with closed
switches as edges; cimflow merges them into buses, so its bus counts are smaller (DIGIN10 LV1: 52 CNs
joined by 29 closed switches are 23 buses, its 51 "branches" are 22 lines + 29 switches).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import cimflow
from cimflow.topology import BranchKind, MappingDifferenceKind, NodeModel, OpenReason, Topology

from .conftest import topology_of

ROOT = Path(__file__).resolve().parents[2]
MICROGRID = "entsoe-cgmes-2.4.15/MicroGrid/BaseCase/"
MINIGRID = "entsoe-cgmes-2.4.15/MiniGrid/NodeBreaker/"
DIGIN = "elbits-telemark-120/DIGIN10-30-v2.x-CGMES3/"


@pytest.fixture(scope="module")
def shared() -> Path:
    """``../shared/data`` beside the checkout (or $CIMFLOW_SHARED_DATA)."""
    env = os.environ.get("CIMFLOW_SHARED_DATA")
    for candidate in ([Path(env)] if env else []) + [ROOT.parent / "shared" / "data"]:
        if (candidate / "README.md").is_file():
            return candidate
    pytest.skip("../shared/data is not beside this checkout")


def load(shared: Path, *patterns: str) -> Topology:
    paths = sorted({p for pattern in patterns for p in shared.glob(pattern) if p.suffix in (".xml", ".zip")})
    assert paths, patterns
    result = cimflow.load(paths)
    assert result.network is not None
    return topology_of(result.network)


def test_microgrid_be_is_meshed_with_two_loops(shared: Path) -> None:
    topo = load(shared, MICROGRID + "*BC_BE_v2.zip", MICROGRID + "*BD_v2.zip")
    assert topo.node_model is NodeModel.BUS_BRANCH
    (island,) = topo.islands
    assert island.energised
    assert {s.cim_class for s in island.sources} == {"SynchronousMachine"}  # no external grid in an IGM
    assert len(island.loops) == 2
    assert topo.radial is False
    assert len([b for b in topo.branches if b.kind is BranchKind.TRANSFORMER_WINDING]) == 3  # one 3-winding star
    assert all(b.base_voltage_kv for b in topo.buses)


@pytest.mark.parametrize(
    ("pattern", "n_buses", "lengths"),
    [
        ("powsybl-export-simbench-lv-urban6/cgmes_2.4.15/*", 59, False),  # PowSyBl writes no Conductor.length
        ("powsybl-export-simbench-lv-urban6/cgmes_3.0/*", 59, False),
        ("cimpy-sogno/commit-0b0ed7d-cimpy_3/LV_SIMBENCH_2_4_15/*", 15, True),
        ("cimpy-sogno/master/CIGRE_MV/*", 15, True),
    ],
)
def test_radial_feeders(shared: Path, pattern: str, n_buses: int, lengths: bool) -> None:
    topo = load(shared, pattern)
    (island,) = topo.islands
    assert len(topo.buses) == n_buses
    assert len(topo.branches) == n_buses - 1
    assert island.radial
    assert topo.radial is True
    assert [s.cim_class for s in island.sources] == ["ExternalNetworkInjection"]
    (feeder,) = topo.feeders
    assert feeder.order.size == n_buses
    assert feeder.root == island.sources[0].bus
    assert feeder.lengths_complete is lengths
    assert bool(feeder.distance_km.max() > 0) is lengths


def test_minigrid_node_breaker_has_three_islands_and_five_loops(shared: Path) -> None:
    topo = load(shared, MINIGRID + "*")
    assert topo.node_model is NodeModel.NODE_BREAKER
    assert len(topo.islands) == 3
    assert topo.n_loops == 5
    main = max(topo.islands, key=lambda i: i.buses.size)
    assert main.energised
    assert len(main.sources) == 2  # two ExternalNetworkInjections
    assert len(topo.disconnected_terminals) == 3
    assert topo.mapping_differences == ()  # its TP agrees with the breaker states


def test_digin10_lv1_is_radial_with_two_open_points(shared: Path) -> None:
    topo = load(
        shared,
        DIGIN + "*-LV1_*",
        DIGIN + "*MV1-LV1_BM*",
        DIGIN + "*MV1-LV1_TP*",
        DIGIN + "*MV1-LV1_SV*",
        DIGIN + "*_RD*",
    )
    (island,) = topo.islands
    assert island.radial
    assert (len(topo.buses), len(topo.branches)) == (23, 22)
    assert len(topo.bus_of_closed_switch) == 29
    assert [s.reason for s in topo.open_switches] == [OpenReason.OPEN, OpenReason.OPEN]
    # LV1 alone has no source: it is fed from MV1 through the boundary (its EquivalentInjection is a load)
    assert not island.energised
    assert topo.radial is None
    # its TP was processed with another state near fuse Fu6: returned as data for the rules
    kinds = {d.kind for d in topo.mapping_differences}
    assert kinds == {MappingDifferenceKind.FILE_SPLITS_BUS, MappingDifferenceKind.FILE_JOINS_BUSES}
