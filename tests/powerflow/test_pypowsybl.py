"""cimflow against PowSyBl (CGMES import + OpenLoadFlow) on the same CGMES files.

PowSyBl reads the CGMES semantics cimflow reads (impedance and magnetising admittance of a
transformer on end 1 where the exporter puts them, tap ratio from the RatioTapChanger step), so the
two agree to round-off. Known, documented differences (where a file splits a transformer's impedance
over both ends, PowSyBl adds r1 + r2 without referring them to one voltage and moves end-2
magnetising to end 1; cimflow refers each to its end's ratedU, IEC 61970-301) are tested in
``test_transformer_taps.py``, with taps of every kind on either end.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from cimflow.ids import normalise_mrid
from cimflow.samples import synthetic_feeder
from tests.powerflow.cim_helpers import run_openloadflow, solve_files

pp = pytest.importorskip("pypowsybl")


def _olf(paths: list[Path], slack_equipment: str, tmp: Path) -> tuple[object, object]:
    archive = tmp / "grid.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in paths:
            zf.write(p, p.name)
    net = pp.network.load(str(archive))
    gens = net.get_generators(all_attributes=True)
    ids = [i for i in gens.index if normalise_mrid(i) == slack_equipment]
    assert ids, "the slack source is imported as a generator"
    run_openloadflow(pp, net, gens.loc[ids[0], "bus_id"], reactive_limits=False)
    return net, net.get_buses()


def _write(tmp: Path, docs: dict[str, bytes], tap_offset: int = 0) -> list[Path]:
    paths = []
    for profile, data in docs.items():
        if profile == "SSH" and tap_offset:
            text = data.decode()
            text = re.sub(
                r"<cim:TapChanger.step>(\d+)</cim:TapChanger.step>",
                lambda m: f"<cim:TapChanger.step>{int(m.group(1)) + tap_offset}</cim:TapChanger.step>",
                text,
            )
            data = text.encode()
        p = tmp / f"feeder_{profile}.xml"
        p.write_bytes(data)
        paths.append(p)
    return paths


@pytest.mark.parametrize(
    ("version", "node_breaker", "tap_offset"),
    [("2.4.15", False, 0), ("2.4.15", True, 2), ("3.0", False, 0), ("3.0", False, -1), ("3.0", True, 1)],
)
def test_agrees_with_openloadflow(tmp_path: Path, version: str, node_breaker: bool, tap_offset: int) -> None:
    # PowSyBl's CGMES 3.0 import leaves PowerElectronicsConnections out (pypowsybl 1.16): PV only in 2.4.15,
    # where it is a SynchronousMachine as PowSyBl and PowerFactory write it
    pv_share = 0.3 if version == "2.4.15" else 0.0
    docs = synthetic_feeder(60, seed=7, version=version, node_breaker=node_breaker, pv_share=pv_share)
    paths = _write(tmp_path, docs, tap_offset)
    solved = solve_files(paths, tolerance=1e-11)
    assert solved.result.converged
    source = solved.topology.islands[0].sources[0].mrid
    net, buses = _olf(paths, source, tmp_path)
    v_ref, a_ref = buses["v_mag"], buses["v_angle"]
    compared = 0
    for frame in (net.get_lines(), net.get_2_windings_transformers()):
        for equipment_id, row in frame.iterrows():
            branch = next((b for b in solved.topology.branches if b.mrid == normalise_mrid(equipment_id)), None)
            assert branch is not None, equipment_id
            for pbus, bus in ((row.bus1_id, branch.from_bus), (row.bus2_id, branch.to_bus)):
                assert solved.result.v_kv[bus] == pytest.approx(
                    v_ref[pbus], abs=1e-6 * solved.build.case.v_base_kv[bus]
                )
                assert np.degrees(solved.result.v_angle_rad[bus]) == pytest.approx(a_ref[pbus], abs=1e-5)
                compared += 1
    assert compared >= 2 * 59


def test_tap_position_moves_the_voltage(tmp_path: Path) -> None:
    """A +2 step on the HV winding (2.5 %/step) lowers the LV side by about 5 % in both tools."""
    docs = synthetic_feeder(20, seed=3)
    base = solve_files(_write(tmp_path, docs), tolerance=1e-11)
    (tmp_path / "t").mkdir()
    tapped = solve_files(_write(tmp_path / "t", docs, 2), tolerance=1e-11)
    lv = [b.index for b in base.topology.buses if (b.base_voltage_kv or 0) < 1]
    ratio = tapped.result.v_pu[lv].mean() / base.result.v_pu[lv].mean()
    assert ratio == pytest.approx(1 / 1.05, abs=5e-3)
