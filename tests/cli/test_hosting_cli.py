"""`cimflow hosting-capacity` and `cimflow connect`: exit codes, pure machine output, schemas, files in --out."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from cimflow.cli.app import app
from tests.conftest import ROOT, SAMPLES, TEST_DATA

runner = CliRunner()
FEEDER = [str(p) for p in sorted((SAMPLES / "simbench-lv-urban6").glob("*.xml")) if not p.name.endswith("_SV.xml")]
OPEN_SWITCH = str(TEST_DATA / "cim" / "rules" / "cf305_open_switch.xml")
HOSTING_SCHEMA = json.loads((ROOT / "schemas" / "hosting-capacity.schema.json").read_text())
CONNECT_SCHEMA = json.loads((ROOT / "schemas" / "connection-assessment.schema.json").read_text())


@pytest.fixture(autouse=True)
def _no_config_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder, so that no cimflow.toml or pyproject.toml of the checkout applies."""
    monkeypatch.chdir(tmp_path)


def _hosting(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["hosting-capacity", *FEEDER, *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_is_pure_schema_valid_and_sorted_by_capacity() -> None:
    code, out, _err = _hosting("--kind", "pv", "--format", "json", "--workers", "1")
    assert code == 0
    doc = json.loads(out)
    jsonschema.validate(doc, HOSTING_SCHEMA)
    caps = [b["capacity_kw"] for b in doc["buses"]]
    assert len(caps) == 59
    assert caps == sorted(caps)
    first = doc["buses"][0]
    assert {"bus", "name", "capacity_kw", "binding", "element"} <= set(first)
    assert first["binding"] in doc["study"]["criteria"]
    assert first["margins"][first["binding"]]["margin"] >= 0
    assert doc["study"]["load_scale"] == 0.25
    assert doc["study"]["criteria"] == ["band", "rise", "lines", "transformers"]


def test_options_reach_the_study() -> None:
    code, out, _ = _hosting(
        "--kind",
        "ev",
        "--bus",
        "bus_17",
        "--bus",
        "bus_3",
        "--pf",
        "0.95",
        "--v-min",
        "0.95",
        "--criteria",
        "band,lines",
        "--max-kw",
        "500",
        "--tolerance-kw",
        "0.5",
        "-f",
        "json",
    )
    assert code == 0
    doc = json.loads(out)
    st = doc["study"]
    assert (st["kind"], st["pf"], st["v_min_pu"], st["criteria"], st["max_kw"]) == (
        "ev",
        0.95,
        0.95,
        ["band", "lines"],
        500,
    )
    assert {b["bus"] for b in doc["buses"]} == {"bus_17", "bus_3"}
    assert all(set(b["margins"]) == {"band", "lines"} for b in doc["buses"])


def test_text_table_and_csv() -> None:
    code, out, err = _hosting("--kind", "pv", "--bus", "bus_17")
    assert code == 0
    assert "Hosting capacity: PV" in out
    assert "bus_17" in out
    assert "rise" in out
    assert "power flows" in err  # the timing goes to stderr, never into the report
    code, out, _ = _hosting("--kind", "pv", "--format", "csv", "--workers", "1")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0
    assert len(rows) == 59
    assert float(rows[0]["capacity_kw"]) <= float(rows[-1]["capacity_kw"])
    assert rows[0]["binding"]
    assert rows[0]["margin_rise"]


def test_out_and_report_write_four_files(tmp_path: Path) -> None:
    out = tmp_path / "hc"
    code, stdout, _ = _hosting("--kind", "pv", "--out", str(out), "--report", "--format", "json", "--workers", "1")
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["hosting-capacity.csv", "hosting-capacity.html", "hosting-capacity.json", "hosting-capacity.md"]
    assert json.loads((out / "hosting-capacity.json").read_text()) == json.loads(stdout)
    html = (out / "hosting-capacity.html").read_text()
    assert html.count("<svg") == 2
    assert "Feeder as a tree" in html
    assert "Histogram" in html
    assert "| bus |" in (out / "hosting-capacity.md").read_text()
    code, _, err = _hosting("--kind", "pv", "--out", str(out))
    assert code == 2
    assert "--force" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "pv", "--bus", "nope"], "no such bus"),
        (["--kind", "pv", "--bus", "bus_17", "--all"], "either --bus or --all"),
        (["--kind", "pv", "--criteria", "band,volts"], "'volts'"),
        (["--kind", "pv", "--pf", "1.5"], "pf"),
        (["--kind", "pv", "--control", "magic"], "--control"),
    ],
)
def test_usage_errors_exit_two_with_one_line(args: list[str], message: str) -> None:
    code, out, err = _hosting(*args)
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


def _connect(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["connect", *FEEDER, *args])
    return result.exit_code, result.stdout, result.stderr


def test_connect_yes_exits_zero_and_no_exits_one() -> None:
    code, out, _ = _connect("--bus", "bus_17", "--pv", "20")
    assert code == 0
    assert out.startswith("YES")
    assert "margin: +" in out
    code, out, _ = _connect("--bus", "bus_17", "--pv", "400")
    assert code == 1
    assert out.startswith("NO")
    assert "breaks first at" in out
    code, out, _ = _connect("--bus", "bus_17", "--pv", "400", "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, CONNECT_SCHEMA)
    assert code == 1
    assert doc["accepted"] is False
    assert doc["headroom_kw"] < 0
    assert doc["first_broken"]["criterion"] == doc["capacity"]["binding"]
    assert doc["first_broken"]["margin"] < 0
    assert doc["request"] == {
        "bus": "bus_17",
        "name": "LV6.201 Bus 42",
        "kind": "pv",
        "p_kw": 400,
        "pf": 1.0,
        "control": None,
    }


def test_connect_with_control_and_an_ev() -> None:
    code, out, _ = _connect("--bus", "bus_17", "--ev", "30", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["accepted"]
    assert "rise" not in doc["criteria"]
    code, out, _ = _connect("--bus", "bus_17", "--pv", "160", "--control", "qu", "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, CONNECT_SCHEMA)
    assert code == 0
    assert doc["request"]["control"] == "qu"


def test_connect_behind_an_open_switch_is_no() -> None:
    result = runner.invoke(app, ["connect", OPEN_SWITCH, "--bus", "CN3", "--load", "5"])
    assert result.exit_code == 1
    assert "not energised" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--bus", "bus_17"],
        ["--bus", "bus_17", "--ev", "5", "--pv", "5"],
        ["--bus", "x", "--ev", "5"],
        ["--bus", "bus_17", "--ev", "-3"],
    ],
)
def test_connect_usage_errors_exit_two(args: list[str]) -> None:
    code, out, err = _connect(*args)
    assert code == 2
    assert out == ""
    assert err.strip()


def test_unreadable_input_exits_two(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("not xml")
    result = runner.invoke(app, ["hosting-capacity", str(bad), "--kind", "pv"])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_feeder_with_gl_coordinates_is_drawn_on_them(tmp_path: Path) -> None:
    ieee13 = str(TEST_DATA / "cimhub" / "IEEE13.xml")
    result = runner.invoke(app, ["hosting-capacity", ieee13, "--kind", "ev", "-f", "json", "--out", str(tmp_path),
                                 "--report", "--workers", "1"])  # fmt: skip
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, HOSTING_SCHEMA)
    assert doc["summary"]["layout"] == "coordinates"
    assert all(b["x"] is not None and b["y"] is not None for b in doc["buses"] if b["energised"])
    html = (tmp_path / "hosting-capacity.html").read_text()
    assert "Feeder on its coordinates" in html
    assert "rise" not in doc["study"]["criteria"]
    assert "rise" not in html.split("<h2>")[0]  # the study sentence names the active criteria only


def test_hosting_into_a_folder_that_cannot_be_made_exits_two(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _out, err = _hosting("--kind", "pv", "--workers", "1", "--out", str(blocker / "out"))
    assert code == 2
    assert "cannot write the output" in err
