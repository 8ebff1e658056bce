"""``cimflow solve --control`` and ``--control-config``: exit codes, the summary row, the config key."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cimflow.cli.app import app
from tests.conftest import TEST_DATA

runner = CliRunner()
SIMBENCH = str(TEST_DATA / "simbench-lv-urban6-cgmes3")


def test_control_option_adds_the_summary_row() -> None:
    res = runner.invoke(app, ["solve", SIMBENCH, "--control", "ieee1547-b"])
    assert res.exit_code == 0, res.output
    assert "Volt-VAR control" in res.output and "ieee1547-b on 5 inverters" in res.output
    assert "CF411" in res.output  # the placeholder ratings SimBench writes


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
    if "control" in doc:  # the report keys (schema 1.1)
        assert doc["control"]["mode"] == "cosphi-p"
        assert len(doc["inverters"]) == 5
    res = runner.invoke(app, ["solve", SIMBENCH, "--config", str(cfg)])
    assert "cosphi-p on 5 inverters" in res.output
