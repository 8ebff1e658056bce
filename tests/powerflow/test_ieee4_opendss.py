"""The IEEE 4-node transformer cases that CIMHub ships (CIM100, lines given by wire geometry, transformers
by mesh impedances, constant-impedance loads) against OpenDSS's results shipped with them.

The balanced cases are where a positive-sequence solution must agree with OpenDSS's three-phase one; the
unbalanced cases only approximately (their loads differ per phase).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

import cimflow
from cimflow.config import Settings
from cimflow.powerflow.geometry import Wire, overhead_sequence
from cimflow.powerflow.solution import Solution

_DATA = Path(__file__).resolve().parents[1] / "data" / "cimhub"
_ZIP = _DATA / "xfmr_examples.zip"
_REF = _DATA / "ieee4_onestep.inc.txt"


def _opendss() -> dict[str, tuple[str, str, float, float, float]]:
    """case -> (element, from bus, P kW, Q kvar, mean phase voltage V) of OpenDSS's base case."""
    out: dict[str, tuple[str, str, float, float, float]] = {}
    block: list[str] = []
    for line in _REF.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9]+)\s+Nbus=", line)
        if not m:
            block.append(line)
            continue
        for i, text in enumerate(block):
            if "OpenDSS branch flow" in text and "Base case" in text:
                element = text.split(" in ")[1].split(" from")[0]
                bus = text.split("from ")[1].split(",")[0]
                rows = block[i + 2 :]
                end = next(k for k, row in enumerate(rows) if "Total S" in row)
                volts = [float(row.split()[1]) for row in rows[:end]]
                total = re.search(r"Total S =\s*([-\d.]+) \+ j\s*([-\d.]+)", rows[end])
                assert total is not None
                out[m.group(1)] = (element, bus, float(total.group(1)), float(total.group(2)), sum(volts) / 3)
                break
        block = []
    return out


_CASES = _opendss()


def _flow(case: str, tmp: Path) -> tuple[float, float, float]:
    path = tmp / f"{case}.xml"
    path.write_bytes(zipfile.ZipFile(_ZIP).read(f"{case}.xml"))
    result = cimflow.solve([path], settings=Settings(frequency_hz=60.0))
    assert result.solution is not None
    assert result.solution.converged
    element, bus_name, *_ = _CASES[case]
    (branch,) = [b for b in result.solution.branches if (b.name or "").lower() == element.split(".")[1].lower()]
    buses = {b.id: b for b in result.solution.buses}
    at_from = (buses[branch.from_bus].name or "").lower() == bus_name.lower()
    bus = buses[branch.from_bus if at_from else branch.to_bus]
    p = (branch.p_from_mw if at_from else branch.p_to_mw) * 1e3
    q = (branch.q_from_mvar if at_from else branch.q_to_mvar) * 1e3
    return p, q, bus.v_kv * 1e3 / 3**0.5


@pytest.mark.parametrize("case", ["YYBal", "YDBal", "GYDBal", "DDBal", "DYBal"])
def test_balanced_cases_agree_with_opendss(case: str, tmp_path: Path) -> None:
    _, _, p_ref, q_ref, v_ref = _CASES[case]
    p, q, v = _flow(case, tmp_path)
    assert p == pytest.approx(p_ref, rel=2e-3)
    assert q == pytest.approx(q_ref, rel=2e-3)
    assert v == pytest.approx(v_ref, rel=2e-3)


@pytest.mark.parametrize("case", ["YYUnBal", "YDUnBal", "GYDUnBal", "DDUnBal", "DYUnBal"])
def test_unbalanced_cases_are_close_to_opendss(case: str, tmp_path: Path) -> None:
    _, _, p_ref, q_ref, v_ref = _CASES[case]
    p, q, v = _flow(case, tmp_path)
    assert p == pytest.approx(p_ref, rel=0.02)
    assert q == pytest.approx(q_ref, rel=0.02)
    assert v == pytest.approx(v_ref, rel=0.005)


def test_carson_matches_kersting_example_4_1() -> None:
    """Kersting, Distribution System Modeling and Analysis, example 4.1: z1 = 0.3061 + j0.6270 ohm/mile."""
    ft, mile = 0.3048, 1609.344
    phase = {"r_ohm_per_m": 0.306 / mile, "gmr_m": 0.0244 * ft, "radius_m": 0.721 / 24 * ft}
    wires = [
        Wire(0.0, 29 * ft, **phase),
        Wire(2.5 * ft, 29 * ft, **phase),
        Wire(7.0 * ft, 29 * ft, **phase),
        Wire(4.0 * ft, 25 * ft, 0.592 / mile, 0.00814 * ft, 0.563 / 24 * ft, neutral=True),
    ]
    zy = overhead_sequence(wires, 60.0)
    assert zy is not None
    assert zy[0] * mile == pytest.approx(complex(0.3061, 0.6270), abs=2e-4)


def test_one_wire_above_ground_has_the_textbook_capacitance() -> None:
    import math

    h, radius = 10.0, 0.01
    zy = overhead_sequence([Wire(0.0, h, 1e-4, 0.0078, radius)], 50.0)
    assert zy is not None
    c = 2 * math.pi * 8.8541878128e-12 / math.log(2 * h / radius)
    assert zy[1] == pytest.approx(1j * 2 * math.pi * 50.0 * c, rel=1e-12)


@pytest.mark.parametrize("case", ["YYDXn", "YYD1Tank", "YYD"])
def test_three_winding_cases_agree_with_opendss(case: str, tmp_path: Path) -> None:
    """The same Y-Y-delta transformer as star ends with mesh impedances (YYDXn), as one three-phase tank
    (YYD1Tank) and as a bank of three single-phase tanks (YYD), both described by catalogue data.

    OpenDSS prints this line's flow at bus B4 in its own sign; the magnitudes are compared.
    """
    _, _, p_ref, q_ref, v_ref = _CASES[case]
    p, q, v = _flow(case, tmp_path)
    assert abs(p) == pytest.approx(abs(p_ref), rel=2e-3)
    assert abs(q) == pytest.approx(abs(q_ref), rel=2e-3)
    assert v == pytest.approx(v_ref, rel=2e-3)


# IEEE 13 node test feeder, published results (Distribution System Analysis Subcommittee), per phase in pu
_IEEE13 = {
    "rg60": (1.0625, 1.0500, 1.0687),
    "632": (1.0210, 1.0420, 1.0174),
    "633": (1.0180, 1.0401, 1.0148),
    "634": (0.9940, 1.0218, 0.9960),
    "671": (0.9900, 1.0529, 0.9778),
    "675": (0.9835, 1.0553, 0.9758),
    "680": (0.9900, 1.0529, 0.9778),
    "692": (0.9900, 1.0529, 0.9777),
}


@pytest.mark.parametrize("name", ["IEEE13_Assets.xml", "IEEE13.xml"])
def test_ieee13_is_close_to_the_published_results(name: str) -> None:
    """CIMHub's IEEE 13: with lines by wire geometry and transformers by tank catalogue data (Assets), or by
    per-length phase impedances and mesh impedances; the regulator bank is three catalogue tanks in both.

    The feeder is unbalanced; the positive-sequence voltage is compared with the mean of the published
    phase voltages (the regulator's mean tap gives rg60 almost exactly).
    """
    result = cimflow.solve([_DATA / name], settings=Settings(frequency_hz=60.0))
    assert result.solution is not None
    assert result.solution.converged
    by_name = {b.name: b.v_pu for b in result.solution.buses}
    assert by_name["rg60"] == pytest.approx(sum(_IEEE13["rg60"]) / 3, rel=1e-3)
    compared = [bus for bus in _IEEE13 if bus in by_name]
    assert len(compared) >= 5
    for bus in compared:
        assert by_name[bus] == pytest.approx(sum(_IEEE13[bus]) / 3, rel=0.02), bus
    fallback = {
        result.validation.network.by_mrid[f.location.mrid].name  # type: ignore[union-attr]
        for f in result.findings
        if f.code == "CF051"
        and f.location.cim_class == "PowerTransformer"
        and f.location.mrid
        and f.location.attribute != "phase_angle_clock"  # the substation's clock number, not applied
    }
    assert fallback <= {"tpoletop"}  # only the centre-tapped single-phase transformer keeps the fallback


def test_a_tank_from_catalogue_data_equals_the_same_transformer_as_a_mesh() -> None:
    """xfm1 of CIMHub's IEEE 13 is written both ways: as a tank with TransformerEndInfo + ShortCircuitTest
    (IEEE13_Assets.xml) and as PowerTransformerEnds with a TransformerMeshImpedance (IEEE13.xml)."""
    from cimflow.model.equipment import PowerTransformer, TransformerMeshImpedance
    from cimflow.powerflow.tanks import tank_equivalents

    assets = cimflow.load([_DATA / "IEEE13_Assets.xml"]).network
    plain = cimflow.load([_DATA / "IEEE13.xml"]).network
    assert assets is not None
    assert plain is not None
    (pt,) = [m for m, t in assets.of(PowerTransformer).items() if t.name == "xfm1"]
    e1, e2 = tank_equivalents(assets).by_transformer[pt]
    (mesh,) = [m for m in plain.of(TransformerMeshImpedance).values() if m.name == "xfm1_Zsc_1"]
    assert (e1.rated_u_kv, e2.rated_u_kv, e1.rated_s_mva) == pytest.approx((4.16, 0.48, 0.5))
    z = complex(e1.r_ohm, e1.x_ohm) + complex(e2.r_ohm, e2.x_ohm) * (4.16 / 0.48) ** 2  # at 4.16 kV
    assert z == pytest.approx(complex(mesh.r_ohm, mesh.x_ohm), rel=1e-6)


def test_a_no_load_test_gives_the_tank_its_magnetising_admittance(tmp_path: Path) -> None:
    """xfm1's NoLoadTest (500 kVA at 4.16 kV: 3 kW, exciting current 1.253 %) is a shunt at its energised
    end: g = 0.003/0.5 pu, |y| = 0.01253 pu, b = -sqrt(|y|² - g²); the feeder then draws about that
    much more power from its source than with the test zeroed."""
    from cimflow.model.equipment import PowerTransformer
    from cimflow.powerflow.tanks import tank_equivalents

    assets = cimflow.load([_DATA / "IEEE13_Assets.xml"]).network
    assert assets is not None
    (pt,) = [m for m, t in assets.of(PowerTransformer).items() if t.name == "xfm1"]
    e1, e2 = tank_equivalents(assets).by_transformer[pt]
    g_pu, y_pu = 0.003 / 0.5, 1.2529964 / 100
    to_siemens = 0.5 / 4.16**2
    assert e1.g_s == pytest.approx(g_pu * to_siemens, rel=1e-9)
    assert e1.b_s == pytest.approx(-((y_pu**2 - g_pu**2) ** 0.5) * to_siemens, rel=1e-9)
    assert (e2.g_s, e2.b_s) == (None, None)  # no test energises end 2

    text = (_DATA / "IEEE13_Assets.xml").read_text(encoding="utf-8")
    zeroed = re.sub(r"<cim:NoLoadTest.(excitingCurrent|loss)>[^<]*<", r"<cim:NoLoadTest.\1>0<", text)
    (tmp_path / "zeroed.xml").write_text(zeroed, encoding="utf-8")
    settings = Settings(frequency_hz=60.0)
    with_test = cimflow.solve([_DATA / "IEEE13_Assets.xml"], settings=settings).solution
    without = cimflow.solve([tmp_path / "zeroed.xml"], settings=settings).solution
    assert with_test is not None
    assert without is not None
    (hv,) = [b for b in with_test.buses if b.name == "633"]  # xfm1's energised end
    v2 = hv.v_pu**2

    def xfm1_loss(sol: Solution) -> complex:
        (br,) = [b for b in sol.branches if b.name == "xfm1"]
        return complex(br.p_from_mw + br.p_to_mw, br.q_from_mvar + br.q_to_mvar)

    # the shunt's own power at 633's voltage; the series losses barely change (a few W)
    extra = xfm1_loss(with_test) - xfm1_loss(without)
    assert extra.real == pytest.approx(g_pu * 0.5 * v2, rel=2e-3)
    assert extra.imag == pytest.approx((y_pu**2 - g_pu**2) ** 0.5 * 0.5 * v2, rel=2e-3)
    # and the source supplies it (with a little more lost on the way through lines and regulator)
    d_p = sum(s.p_mw for s in without.slacks) - sum(s.p_mw for s in with_test.slacks)
    assert d_p == pytest.approx(extra.real, rel=0.1)


def test_without_a_no_load_test_a_tank_keeps_a_core_admittance_given_instead(tmp_path: Path) -> None:
    """The equivalent end of a tank gets g, b only from a NoLoadTest; without one they stay unset, so that a
    TransformerCoreAdmittance on the tank end (valid CIM100) is still read."""
    from cimflow.model.equipment import PowerTransformer
    from cimflow.powerflow.branches import _end_y
    from cimflow.powerflow.tanks import tank_equivalents

    text = (_DATA / "IEEE13_Assets.xml").read_text(encoding="utf-8")
    no_tests = re.sub(r"<cim:NoLoadTest .*?</cim:NoLoadTest>", "", text, flags=re.S)
    assets = cimflow.load([_DATA / "IEEE13_Assets.xml"]).network
    assert assets is not None
    (pt,) = [m for m, t in assets.of(PowerTransformer).items() if t.name == "xfm1"]
    end1 = tank_equivalents(assets).by_transformer[pt][0]
    core = (
        '<cim:TransformerCoreAdmittance rdf:about="urn:uuid:5e0c0a11-0000-4000-8000-000000000001">'
        "<cim:TransformerCoreAdmittance.g>0.002</cim:TransformerCoreAdmittance.g>"
        "<cim:TransformerCoreAdmittance.b>-0.004</cim:TransformerCoreAdmittance.b>"
        f'<cim:TransformerCoreAdmittance.TransformerEnd rdf:resource="urn:uuid:{end1.mrid}"/>'
        "</cim:TransformerCoreAdmittance>\n</rdf:RDF>"
    )
    (tmp_path / "core.xml").write_text(no_tests.replace("</rdf:RDF>", core), encoding="utf-8")
    network = cimflow.load([tmp_path / "core.xml"]).network
    assert network is not None
    e1, e2 = tank_equivalents(network).by_transformer[pt]
    assert (e1.g_s, e1.b_s, e2.g_s, e2.b_s) == (None, None, None, None)
    assert _end_y(network, e1) == pytest.approx(complex(0.002, -0.004))
