"""Islands, loops and feeder trees on random graphs (checked against networkx) and on a 200,000-bus chain."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cimflow.topology import Topology

from .builders import NetworkBuilder, chain
from .conftest import topology_of
from .test_cases import assert_is_cycle

edges_strategy = st.integers(min_value=1, max_value=14).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=2 * n),
        st.sets(st.integers(0, n - 1), max_size=3),
    )
)


def random_topology(n: int, edges: list[tuple[int, int]], sources: set[int]) -> Topology:
    """Nodes 0..n-1 with a load each, a line per edge (self-loops and parallels allowed), sources at some nodes."""
    b = NetworkBuilder()
    for k in range(n):
        b.load(f"load{k}", f"n{k}")
    for k, (u, v) in enumerate(edges):
        b.line(f"line{k:02d}", f"n{u}", f"n{v}", length_km=float(k + 1))
    for k in sorted(sources):
        b.source(f"src{k}", f"n{k}")
    return topology_of(b.build())


def assert_feeder_is_a_tree(topo: Topology) -> None:
    for feeder in topo.feeders:
        position = {bus: k for k, bus in enumerate(feeder.order.tolist())}
        assert feeder.order[0] == feeder.root
        assert feeder.parent[0] == -1
        for k in range(1, feeder.order.size):
            p = int(feeder.parent_position[k])
            assert 0 <= p < k
            assert feeder.order[p] == feeder.parent[k]
            assert position[int(feeder.parent[k])] == p
            branch = topo.branches[int(feeder.parent_branch[k])]
            assert {branch.from_bus, branch.to_bus} == {int(feeder.order[k]), int(feeder.parent[k])}
            assert feeder.depth[k] == feeder.depth[p] + 1
            assert feeder.distance_km[k] == feeder.distance_km[p] + float(branch.mrid.removeprefix("line")) + 1


@settings(max_examples=150, deadline=None)
@given(edges_strategy)
def test_islands_and_loops_match_networkx(case: tuple[int, list[tuple[int, int]], set[int]]) -> None:
    n, edges, sources = case
    topo = random_topology(n, edges, sources)
    graph = nx.MultiGraph()
    graph.add_nodes_from(f"n{k}" for k in range(n))
    graph.add_edges_from((f"n{u}", f"n{v}") for u, v in edges)
    expected = sorted(sorted(c) for c in nx.connected_components(graph))
    assert sorted(sorted(topo.buses[b].mrid for b in i.buses) for i in topo.islands) == expected
    assert topo.n_loops == len(edges) - n + len(expected)
    for island in topo.islands:
        assert island.radial == (len(island.branches) == len(island.buses) - 1)
        assert island.radial == (not island.loops)
        assert island.energised == any(f"n{k}" in {topo.buses[b].mrid for b in island.buses} for k in sources)
        assert (island.feeder >= 0) == (island.radial and island.energised)
        for loop in island.loops:
            assert len(set(loop.branches)) == len(loop.branches)
            assert_is_cycle(topo, loop.branches, loop.buses)
            assert {int(topo.island_of_bus[b]) for b in loop.buses} == {island.index}
        pairs = [tuple(sorted((topo.branches[k].from_bus, topo.branches[k].to_bus))) for k in island.branches]
        multiple = {p for p in pairs if pairs.count(p) > 1 and p[0] != p[1]}
        assert {g.buses for g in island.parallel} == multiple
    assert_feeder_is_a_tree(topo)


def test_a_200000_bus_chain_needs_no_recursion() -> None:
    n = 200_000
    topo = topology_of(chain(n, loads=False, length_km=0.01))
    assert len(topo.buses) == n
    assert len(topo.branches) == n - 1
    assert topo.radial is True
    (feeder,) = topo.feeders
    assert feeder.root == topo.bus_of_node["n0"]
    assert int(feeder.depth.max()) == n - 1
    np.testing.assert_allclose(feeder.distance_km.max(), (n - 1) * 0.01)
    last = topo.bus_of_node[f"n{n - 1}"]
    assert feeder.order[-1] == last
    assert feeder.depth[-1] == n - 1
