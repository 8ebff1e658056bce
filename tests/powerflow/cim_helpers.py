"""Load CIM files and solve them through the same stages `cimflow solve` uses (for reference tests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import cimflow
from cimflow.model.network import Network
from cimflow.powerflow import PowerFlowResult, solve_case
from cimflow.powerflow.case import CaseBuild, build_case
from cimflow.topology import Topology, build_topology


@dataclass(frozen=True)
class Solved:
    network: Network
    topology: Topology
    build: CaseBuild
    result: PowerFlowResult

    def v_pu_of_tn(self) -> dict[str, float]:
        """Voltage magnitude (pu of the bus base) by TopologicalNode mRID."""
        return {b.topological_node: float(self.result.v_pu[b.index]) for b in self.topology.buses if b.topological_node}

    def angle_deg_of_tn(self) -> dict[str, float]:
        """Voltage angle in degrees by TopologicalNode mRID."""
        ang = np.degrees(self.result.v_angle_rad)
        return {b.topological_node: float(ang[b.index]) for b in self.topology.buses if b.topological_node}


def solve_files(
    paths: Sequence[Path | str], *, solver: str = "auto", tolerance: float = 1e-10, phase_angle_clock: bool = False
) -> Solved:
    """Read, build, topology, case, solve."""
    loaded = cimflow.load(list(paths))
    assert loaded.network is not None, loaded.findings
    topology = build_topology(loaded.network).value
    assert topology is not None
    build = build_case(loaded.network, topology, phase_angle_clock=phase_angle_clock).value
    assert build is not None
    result = solve_case(build.case, solver=solver, tolerance=tolerance)
    return Solved(loaded.network, topology, build, result)


def sv_reference(network: Network) -> dict[str, tuple[float, float]]:
    """(v_kv, angle_deg) of every SvVoltage in the inputs, by TopologicalNode."""
    return {
        v.topological_node: (v.v_kv, v.angle_deg)
        for v in network.sv_voltages.values()
        if v.topological_node and v.v_kv is not None and v.angle_deg is not None
    }


# the SSH header and the voltage mode of the small CGMES files the power-flow tests write
SSH_HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/2013/CIM-schema-cim16#" xmlns:md="http://iec.ch/TC57/61970-552/ModelDescription/1#">
  <md:FullModel rdf:about="urn:uuid:5b0c0000-0000-4000-8000-000000000013">
    <md:Model.created>2024-01-01T00:00:00Z</md:Model.created>
    <md:Model.profile>http://entsoe.eu/CIM/SteadyStateHypothesis/1/1</md:Model.profile>
  </md:FullModel>
"""
VOLTAGE_MODE = "http://iec.ch/TC57/2013/CIM-schema-cim16#RegulatingControlModeKind.voltage"


def run_openloadflow(
    pp: Any, net: Any, slack: str, *, reactive_limits: bool = True, init: Any = None, eps: str | None = "1e-12"
) -> None:
    """Run pypowsybl's OpenLoadFlow on ``net`` as the comparisons need it, and check that it converged.

    Only the slack balances (no distributed slack); no transformer, shunt or phase-shifter control; the
    slack at ``slack`` (a bus or voltage level id); start values ``init`` (default: uniform); Newton-Raphson
    tolerance ``eps`` per equation (``None``: OpenLoadFlow's own).
    """
    provider = {"slackBusSelectionMode": "NAME", "slackBusesIds": slack}
    if eps is not None:
        provider["newtonRaphsonConvEpsPerEq"] = eps
    params = pp.loadflow.Parameters(
        voltage_init_mode=init if init is not None else pp.loadflow.VoltageInitMode.UNIFORM_VALUES,
        use_reactive_limits=reactive_limits,
        distributed_slack=False,
        transformer_voltage_control_on=False,
        shunt_compensator_voltage_control_on=False,
        phase_shifter_regulation_on=False,
        provider_parameters=provider,
    )
    (result, *_rest) = pp.loadflow.run_ac(net, params)
    assert str(result.status).endswith("CONVERGED"), result.status_text
