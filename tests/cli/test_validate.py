"""`cimflow validate` and `cimflow rules`: exit codes, pure machine output on stdout, options and configuration."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from cimflow.cli.app import app
from tests.conftest import ROOT, TEST_DATA

runner = CliRunner()
RULES = TEST_DATA / "cim" / "rules"
OK = str(RULES / "feeder_ok.xml")
BAD = str(RULES / "cf201_negative_r.xml")
SCHEMA = json.loads((ROOT / "schemas" / "validation-report.schema.json").read_text())


@pytest.fixture(autouse=True)
def _no_config_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder, so that no cimflow.toml or pyproject.toml of the checkout applies."""
    monkeypatch.chdir(tmp_path)


def _codes(stdout: str) -> set[str]:
    return {f["code"] for f in json.loads(stdout)["findings"]}


def test_clean_input_exits_zero() -> None:
    result = runner.invoke(app, ["validate", OK])
    assert result.exit_code == 0, result.output
    assert re.search(r"\d+ findings?: ", result.stdout)
    assert "radial" in result.stdout


def test_errors_exit_one_and_text_starts_with_file_line() -> None:
    result = runner.invoke(app, ["validate", BAD], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "cf201_negative_r.xml:" in result.stdout
    assert "CF201" in result.stdout
    assert "findings: 1 error, " in result.stdout.rstrip().splitlines()[-1]


def test_json_is_pure_schema_valid_and_stderr_is_empty() -> None:
    result = runner.invoke(app, ["validate", BAD, "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["summary"]["errors"] == 1
    assert result.stderr == ""


@pytest.mark.parametrize(("fail_on", "code"), [("never", 0), ("error", 0), ("warning", 0), ("info", 1)])
def test_fail_on_against_infos(fail_on: str, code: int) -> None:
    # the clean feeder has info findings only (names as mRIDs, CF113)
    result = runner.invoke(app, ["validate", OK, "--fail-on", fail_on])
    assert result.exit_code == code


def test_fail_on_never_with_errors() -> None:
    assert runner.invoke(app, ["validate", BAD, "--fail-on", "never"]).exit_code == 0


def test_select_and_ignore() -> None:
    result = runner.invoke(app, ["validate", BAD, "--format", "json", "--select", "CF1,CF2"])
    assert _codes(result.stdout) == {"CF113", "CF201"}
    result = runner.invoke(app, ["validate", BAD, "--format", "json", "--ignore", "negative-impedance"])
    assert result.exit_code == 0
    assert "CF201" not in _codes(result.stdout)
    result = runner.invoke(app, ["validate", BAD, "-f", "json", "--select", "CF2", "--ignore", "CF201"])
    assert _codes(result.stdout) == set()


@pytest.mark.parametrize("option", [["--select", "CF999"], ["--ignore", "no-such-rule"], ["--fail-on", "sometimes"]])
def test_usage_errors_exit_two(option: list[str]) -> None:
    result = runner.invoke(app, ["validate", OK, *option])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_unreadable_input_exits_two_with_one_line() -> None:
    result = runner.invoke(app, ["validate", str(RULES / "cf001_truncated.xml")])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "CF001" in lines[0]
    assert "cf001_truncated.xml:" in lines[0]
    assert result.stdout == ""


def test_missing_path_exits_two(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.xml")])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_partly_readable_input_exits_one() -> None:
    result = runner.invoke(app, ["validate", OK, str(RULES / "cf001_truncated.xml"), "-f", "json"])
    assert result.exit_code == 1
    assert "CF001" in _codes(result.stdout)


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["validate", BAD, "--format", "json", "--output", str(out)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert json.loads(out.read_text())["summary"]["errors"] == 1
    text = tmp_path / "report.txt"
    runner.invoke(app, ["validate", BAD, "--output", str(text)])
    assert "CF201" in text.read_text()
    assert "\x1b[" not in text.read_text()


def test_output_to_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", OK, "--output", str(tmp_path / "no" / "such" / "r.json")])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


@pytest.mark.parametrize("fmt", ["sarif", "junit", "markdown"])
def test_other_formats(fmt: str) -> None:
    result = runner.invoke(app, ["validate", BAD, "--format", fmt])
    assert result.exit_code == 1
    if fmt == "sarif":
        assert json.loads(result.stdout)["version"] == "2.1.0"
    elif fmt == "junit":
        assert ET.fromstring(result.stdout).tag == "testsuites"
    else:
        assert result.stdout.startswith("# cimflow validation report")


def test_cimflow_toml_in_current_directory(tmp_path: Path) -> None:
    (tmp_path / "cimflow.toml").write_text('ignore = ["CF201"]\n')
    assert runner.invoke(app, ["validate", BAD]).exit_code == 0


def test_pyproject_tool_table_and_severity_override(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.cimflow]\nseverity = { CF113 = "error" }\n')
    result = runner.invoke(app, ["validate", OK, "-f", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["errors"] > 0


def test_explicit_config_and_command_line_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "ci.toml"
    cfg.write_text('fail-on = "info"\n')
    assert runner.invoke(app, ["validate", OK, "--config", str(cfg)]).exit_code == 1
    assert runner.invoke(app, ["validate", OK, "--config", str(cfg), "--fail-on", "error"]).exit_code == 0


@pytest.mark.parametrize("text", ["fail_on = ", "colour = true", 'severity = { CF999 = "error" }'])
def test_bad_config_exits_two_with_one_line(tmp_path: Path, text: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    result = runner.invoke(app, ["validate", OK, "--config", str(cfg)])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_rules_lists_the_catalogue() -> None:
    result = runner.invoke(app, ["rules"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for code in ("CF001", "CF101", "CF201", "CF301"):
        assert code in result.stdout


def test_rules_shows_one_rule() -> None:
    result = runner.invoke(app, ["rules", "zero-impedance-line"])
    assert result.exit_code == 0
    assert result.stdout.startswith("CF202 zero-impedance-line")
    for section in ("## What it checks", "## Why it matters", "## Example", "## How to fix", "## References"):
        assert section in result.stdout


def test_rules_json_and_unknown() -> None:
    doc = json.loads(runner.invoke(app, ["rules", "--format", "json"]).stdout)
    assert [r["code"] for r in doc] == sorted(r["code"] for r in doc)
    one = json.loads(runner.invoke(app, ["rules", "CF303", "-f", "json"]).stdout)
    assert one["name"] == "meshed-network"
    result = runner.invoke(app, ["rules", "CF999"])
    assert result.exit_code == 2
    assert "unknown rule" in result.stderr


@pytest.fixture(scope="module")
def many_findings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,500-bus feeder whose every line has a negative resistance: far more output than a pipe holds."""
    from cimflow.samples import write_synthetic_feeder

    folder = tmp_path_factory.mktemp("many_findings")
    paths = write_synthetic_feeder(1500, folder)
    eq = next(p for p in paths if p.name.endswith("_EQ.xml"))
    eq.write_text(re.sub(r"<cim:ACLineSegment\.r>[0-9.eE+-]+<", "<cim:ACLineSegment.r>-1<", eq.read_text()))
    return folder


@pytest.mark.parametrize(
    "args",
    [["validate"], ["validate", "--format", "json"], ["validate", "--format", "sarif"], ["solve", "--format", "json"]],
    ids=["validate-table", "validate-json", "validate-sarif", "solve-json"],
)
def test_a_reader_that_stops_early_gets_no_traceback(args: list[str], many_findings: Path) -> None:
    """``cimflow validate big.xml | head``: the closed pipe ends the output quietly (rich and click turn it into
    exit 1, which these error findings give anyway), with no traceback on stderr."""
    import subprocess
    import sys

    code = "from cimflow.cli.app import console; console()"  # the cimflow executable
    command = [sys.executable, "-c", code, args[0], str(many_findings), *args[1:]]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = proc.stdout.read(16)
    proc.stdout.close()  # as head does after its lines
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 1
    assert first
    assert "Traceback" not in err
    assert "Exception ignored" not in err
    assert "BrokenPipe" not in err
