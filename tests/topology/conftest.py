"""Fixtures of the topology tests: the hand-written CGMES cases and a loader for them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import cimflow
from cimflow.model.network import Network
from cimflow.topology import Topology, build_topology

CASES = Path(__file__).resolve().parents[1] / "data" / "cim" / "topology"


def load_case(*files: str) -> Network:
    """Load ``tests/data/cim/topology/<file>`` documents into a Network (no error findings allowed)."""
    result = cimflow.load([CASES / f for f in files])
    assert result.network is not None, result.findings
    errors = [f for f in result.findings if f.severity >= cimflow.Severity.ERROR]
    assert not errors, errors
    return result.network


def topology_of(network: Network) -> Topology:
    """The topology of a network, asserting the stage returned a value and no findings."""
    outcome = build_topology(network)
    assert outcome.value is not None
    assert outcome.findings == ()
    return outcome.value


@pytest.fixture
def case() -> Callable[..., Topology]:
    """Build the topology of a hand-written case from its file names."""
    return lambda *files: topology_of(load_case(*files))
