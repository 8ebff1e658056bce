"""``cimflow solve --control`` and ``--control-config``: exit codes, the summary row, the config key."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from typer.testing import CliRunner

from cimflow.cli.app import app
from tests.conftest import TEST_DATA

runner = CliRunner()
SIMBENCH = str(TEST_DATA / "simbench-lv-urban6-cgmes3")
SCHEMA = json.loads((TEST_DATA.parent.parent / "schemas" / "solve-report.schema.json").read_text(encoding="utf-8"))


def test_control_option_adds_the_summary_row() -> None:
    res = runner.invoke(app, ["solve", SIMBENCH, "--control", "ieee1547-b"])
    assert res.exit_code == 0, res.output
    assert "Volt-VAR control" in res.output
    assert "ieee1547-b on 5 inverters" in res.output
    assert "CF411" in res.output  # the placeholder ratings SimBench writes


def test_uncontrolled_report_has_empty_control_keys() -> None:
    res = runner.invoke(app, ["solve", SIMBENCH, "--format", "json"])
    doc = json.loads(res.stdout)
    assert doc["inverters"] == []
    assert doc["control"] == {"mode": "none", "iterations": 0, "converged": True}
    jsonschema.validate(doc, SCHEMA)


def test_bad_control_or_control_config_is_a_usage_error(tmp_path: Path) -> None:
    assert runner.invoke(app, ["solve", SIMBENCH, "--control", "volt-watt"]).exit_code == 2
    bad = tmp_path / "vv.toml"
    bad.write_text("dampin = 0.5\n", encoding="utf-8")
    res = runner.invoke(app, ["solve", SIMBENCH, "--control", "qu", "--control-config", str(bad)])
    assert res.exit_code == 2
    assert runner.invoke(app, ["solve", SIMBENCH, "--control-config", str(tmp_path / "missing.toml")]).exit_code == 2


def test_control_key_in_the_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "cimflow.toml"
    cfg.write_text('control = "cosphi-p"\n', encoding="utf-8")
    res = runner.invoke(app, ["solve", SIMBENCH, "--config", str(cfg), "--format", "json"])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["schema_version"] == "1.2"
    assert doc["control"]["mode"] == "cosphi-p"
    assert doc["control"]["converged"] is True
    assert len(doc["inverters"]) == 5
    jsonschema.validate(doc, SCHEMA)
    for inv in doc["inverters"]:
        assert inv["p_mw"] < 0
        assert inv["q_mvar"] >= 0
        assert inv["rating_source"] == "placeholder"
    res = runner.invoke(app, ["solve", SIMBENCH, "--config", str(cfg)])
    assert "cosphi-p on 5 inverters" in res.output


def test_report_files_carry_the_control_section(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(app, ["solve", SIMBENCH, "--control", "qu", "--report", "--out", str(out)])
    assert res.exit_code == 0, res.output
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "## Volt-VAR control" in md
    assert "| highest voltage (pu) |" in md
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="control"' in html
    assert "qu: curve and operating points" in html
    plain = tmp_path / "plain"
    runner.invoke(app, ["solve", SIMBENCH, "--report", "--out", str(plain)])
    assert "Volt-VAR" not in (plain / "report.md").read_text(encoding="utf-8")
    assert 'id="control"' not in (plain / "report.html").read_text(encoding="utf-8")
