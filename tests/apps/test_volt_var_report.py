"""The report sections of Volt-VAR control: the contract's keys, signs, the side-by-side comparison, the curves."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cimflow.apps.control_report import control_document
from cimflow.apps.volt_var import ControlConfig, ControlMode, solve_controlled
from tests.apps.test_volt_var import inverter, two_bus


def test_control_document_holds_the_contract() -> None:
    case = two_bus()
    invs = [inverter(), inverter(mrid="idle", p_mw=0.0)]
    cfg = ControlConfig(per_unit={"idle": ControlMode.COSPHI_P})
    controlled = solve_controlled(case, invs, ControlMode.IEEE1547_B, cfg)
    uncontrolled = solve_controlled(case, invs, ControlMode.NONE).result
    doc = control_document(controlled, invs, cfg, uncontrolled=uncontrolled, bus_ids=["b0", "b1"])
    json.dumps(doc, allow_nan=False)  # plain JSON values only
    control = doc["control"]
    assert {"mode", "iterations", "converged"} <= set(control)
    assert (control["mode"], control["converged"]) == ("ieee1547-b", True)
    assert control["iterations"] == controlled.iterations >= 1
    assert control["modes"] == {"cosphi-p": 1, "ieee1547-b": 1}
    assert control["with"]["v_max_pu"] < control["without"]["v_max_pu"]
    assert control["without"]["v_max_pu"] == pytest.approx(float(uncontrolled.v_pu.max()))
    assert [c["mode"] for c in control["curves"]] == ["cosphi-p", "ieee1547-b"]
    qu = control["curves"][1]
    assert qu["x_axis"] == "v_pu"
    assert qu["y_axis"] == "q_inject_pct"
    assert np.interp(1.08, qu["lines"][0]["x"], qu["lines"][0]["y"]) == pytest.approx(-44.0)
    cos_phi_p = control["curves"][0]
    assert [ln["y"][-1] for ln in cos_phi_p["lines"]] == [0.95, 0.9]  # one line per plant class
    pv = next(r for r in doc["inverters"] if r["id"] == "pv")
    assert {"id", "name", "bus", "mode", "p_mw", "q_mvar", "s_rated_mva", "v_pu", "cos_phi"} <= set(pv)
    assert pv["bus"] == "b1"
    assert pv["mode"] == "ieee1547-b"
    assert pv["p_mw"] < 0 < pv["q_mvar"]  # generating and absorbing, load sign convention
    assert pv["cos_phi"] == pytest.approx(abs(pv["p_mw"]) / math.hypot(pv["p_mw"], pv["q_mvar"]))
    assert pv["v_pu"] == pytest.approx(float(controlled.result.v_pu[1]))
    point = pv["curve_point"]
    assert point["x"] == pytest.approx(pv["v_pu"])
    assert point["y"] == pytest.approx(-100 * pv["q_mvar"] / pv["s_rated_mva"])
    assert point["curve_y"] == pytest.approx(point["y"], abs=0.02)  # on the curve, within the tolerance


def test_markdown_and_html_sections() -> None:
    from cimflow.report.solve_control import control_html, control_markdown

    case = two_bus()
    invs = [inverter(), inverter(mrid="idle<&>", p_mw=0.0)]
    cfg = ControlConfig(per_unit={"idle<&>": ControlMode.COSPHI_P})
    controlled = solve_controlled(case, invs, ControlMode.QU, cfg)
    uncontrolled = solve_controlled(case, invs, ControlMode.NONE).result
    doc = control_document(controlled, invs, cfg, uncontrolled=uncontrolled, bus_ids=["b0", "b1"])
    md = "\n".join(control_markdown(doc))
    assert "## Volt-VAR control" in md
    assert "`qu`" in md
    assert "reached its equilibrium" in md
    assert "| highest voltage (pu) |" in md
    html = control_html(doc)
    assert html.count("<svg") == 2  # one plot per mode in use (cosphi-p and qu)
    assert "idle&lt;&amp;&gt;" in html
    assert "idle<&>" not in html
    assert control_markdown({"control": {"mode": "none"}}) == []
    assert control_html({}) == ""
