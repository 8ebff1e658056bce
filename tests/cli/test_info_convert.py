"""`cimflow info` and `cimflow convert`: exit codes, pure JSON on stdout, lossless conversion, no overwrite."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import rdflib
from rdflib.compare import isomorphic
from typer.testing import CliRunner

from cimflow.cli.app import app
from tests.conftest import ROOT

runner = CliRunner()
SAMPLE = ROOT / "samples" / "simbench-lv-urban6"


def test_info_json_is_pure_and_matches_schema() -> None:
    result = runner.invoke(app, ["info", str(SAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    schema = json.loads((ROOT / "schemas" / "info.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["cim_versions"] == ["CGMES 2.4.15"]
    assert doc["profiles"] == ["EQ", "SSH", "SV", "TP"]
    assert doc["classes"]["ACLineSegment"] == 57
    assert doc["classes"]["TopologicalNode"] == 59
    assert doc["objects"] == doc["modelled"] + doc["opaque"]


def test_info_text_lists_classes() -> None:
    result = runner.invoke(app, ["info", str(SAMPLE)])
    assert result.exit_code == 0
    assert "ACLineSegment" in result.stdout
    assert "CGMES 2.4.15" in result.stdout


def test_info_lone_ssh_exits_zero_with_findings() -> None:
    result = runner.invoke(app, ["info", str(SAMPLE / "simbench_lv_urban6_SSH.xml"), "--format", "json"])
    assert result.exit_code == 0
    codes = [f["code"] for f in json.loads(result.stdout)["findings"]]
    assert "CF009" in codes


def test_info_unreadable_exits_two_with_one_line(test_data: Path) -> None:
    result = runner.invoke(app, ["info", str(test_data / "malformed" / "Telemark-120-LV1_SSH.xml")])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "CF001" in result.stderr
    assert ":129" in result.stderr
    assert "Traceback" not in result.stderr


def test_info_cim100_reports_si_units(test_data: Path) -> None:
    result = runner.invoke(app, ["info", str(test_data / "cimhub" / "IEEE13.xml"), "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["cim_versions"] == ["CIM100"]
    assert doc["documents"][0]["units"] == "si"
    assert any(f["code"] == "CF050" for f in doc["findings"])


@pytest.mark.parametrize(
    ("fmt", "rdflib_format"), [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld"), ("rdfxml", "xml")]
)
def test_convert_is_lossless(tmp_path: Path, fmt: str, rdflib_format: str) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["convert", str(SAMPLE / "simbench_lv_urban6_SSH.xml"), str(out), "--to", fmt])
    assert result.exit_code == 0, result.output
    (written,) = list(out.iterdir())
    base = "http://cimflow.invalid/model"
    original = rdflib.Graph().parse(SAMPLE / "simbench_lv_urban6_SSH.xml", format="xml", publicID=base)
    again = rdflib.Graph().parse(written, format=rdflib_format, publicID=base)
    assert isomorphic(original, again)


def test_convert_one_file_per_profile_and_no_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = runner.invoke(app, ["convert", str(SAMPLE), str(out)])
    assert first.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "simbench_lv_urban6_EQ.xml", "simbench_lv_urban6_SSH.xml",
        "simbench_lv_urban6_SV.xml", "simbench_lv_urban6_TP.xml",
    ]  # fmt: skip
    target = out / "simbench_lv_urban6_EQ.xml"
    target.write_text("user data")
    second = runner.invoke(app, ["convert", str(SAMPLE), str(out)])
    assert second.exit_code == 2
    assert target.read_text() == "user data"
    third = runner.invoke(app, ["convert", str(SAMPLE), str(out), "--force"])
    assert third.exit_code == 0
    assert target.read_text() != "user data"


def test_usage_error_exits_two() -> None:
    assert runner.invoke(app, ["info"]).exit_code == 2
    assert runner.invoke(app, ["info", "x.xml", "--format", "yaml"]).exit_code == 2


def test_convert_into_a_folder_that_cannot_be_made_exits_two(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = runner.invoke(app, ["convert", str(SAMPLE), str(blocker / "out")])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "cannot write the output" in result.stderr
