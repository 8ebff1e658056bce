"""Where each bus sits on its island's tree from the source: parent, depth and distance, for plots and reports."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order

from cimflow.topology.model import Topology


def tree_positions(topology: Topology) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Parent bus, depth and distance (km, NaN if unknown) of every bus on its island's tree from the source.

    Radial energised islands take their feeder tree; meshed energised islands the breadth-first
    spanning tree from their root (no distance). ``-1`` parent and depth where not energised. O(N).
    """
    n = len(topology.buses)
    parent = np.full(n, -1, dtype=np.int64)
    depth = np.full(n, -1, dtype=np.int64)
    distance = np.full(n, np.nan)
    for tree in topology.feeders:
        parent[tree.order] = tree.parent
        depth[tree.order] = tree.depth
        distance[tree.order] = tree.distance_km
    meshed = [i for i in topology.islands if i.energised and i.feeder < 0]
    if meshed and n:
        ones = np.ones(len(topology.branch_from), dtype=np.int8)
        graph = coo_matrix((ones, (topology.branch_from, topology.branch_to)), shape=(n, n)).tocsr()
        for island in meshed:
            order, pred = breadth_first_order(graph, island.root, directed=False, return_predecessors=True)
            parent[order] = np.where(pred[order] < 0, -1, pred[order])
            depth[island.root] = 0
            for k in order[1:].tolist():  # breadth-first: a bus's predecessor has its depth already
                depth[k] = depth[pred[k]] + 1
    return parent, depth, distance
