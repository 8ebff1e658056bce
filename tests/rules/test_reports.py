"""Validation reports: JSON against its schema and byte-stable, SARIF as GitHub takes it, JUnit, Markdown."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from cimflow.config import Settings
from cimflow.report.junit import render_junit
from cimflow.report.markdown import render_markdown
from cimflow.report.sarif import render_sarif, sarif_document
from cimflow.report.validation import ValidationReport, render_json, validation_document
from cimflow.validate import validate
from tests.conftest import ROOT, TEST_DATA

RULES = TEST_DATA / "cim" / "rules"
SCHEMA = json.loads((ROOT / "schemas" / "validation-report.schema.json").read_text())


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    files = [RULES / "cf201_negative_r.xml", RULES / "cf303_loop.xml", RULES / "cf101_dangling.xml"]
    return validate(files).report()


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["schema_version"] == {"const": "1.0"}


def test_json_document_matches_schema(report: ValidationReport) -> None:
    doc = json.loads(render_json(report))
    jsonschema.validate(doc, SCHEMA)
    assert set(doc) == {"schema_version", "tool", "inputs", "summary", "findings"}
    assert set(doc["summary"]) == {"errors", "warnings", "infos", "radial", "islands", "buses"}
    first = doc["findings"][0]
    for key in ("code", "name", "severity", "message", "file", "line", "mrid", "cim_class", "attribute", "related"):
        assert key in first
    severities = [f["severity"] for f in doc["findings"]]
    order = {"error": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.__getitem__)


def test_schema_rejects_a_broken_document(report: ValidationReport) -> None:
    doc = validation_document(report)
    doc["findings"][0]["severity"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_json_is_byte_stable() -> None:
    files = [RULES / "cf303_loop.xml", RULES / "cf201_negative_r.xml"]
    a = render_json(validate(files).report())
    b = render_json(validate(files).report())
    assert a == b
    assert "timestamp" not in a
    assert "created" not in json.loads(a)


def test_sarif_is_what_github_code_scanning_takes(report: ValidationReport) -> None:
    doc = json.loads(render_sarif(report))
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cimflow"
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids))
    for rule in driver["rules"]:
        assert rule["help"]["text"]
        assert rule["shortDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert rule["helpUri"].startswith("https://")
    assert len(run["results"]) == len(report.findings)
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note")
        assert result["message"]["text"]
        (loc,) = result["locations"]
        phys = loc["physicalLocation"]
        assert phys["artifactLocation"]["uri"]
        assert phys.get("region", {"startLine": 1})["startLine"] >= 1
        assert result["partialFingerprints"]["cimflowFinding/v1"]


def test_sarif_relative_paths_and_zip_members() -> None:
    from cimflow.report.sarif import _artifact

    assert _artifact("feeds/a b.xml") == ("feeds/a%20b.xml", None)
    assert _artifact("grid.zip!/grid_EQ.xml") == ("grid.zip", "grid_EQ.xml")
    assert _artifact("/abs/x.xml")[0] == "file:///abs/x.xml"


def test_sarif_rules_limited_to_the_selection() -> None:
    result = validate(RULES / "cf201_negative_r.xml", settings=Settings(select=("CF2",)))
    doc = sarif_document(result.report())
    assert {r["id"][:3] for r in doc["runs"][0]["tool"]["driver"]["rules"]} == {"CF2"}


def test_junit_one_testcase_per_rule(report: ValidationReport) -> None:
    root = ET.fromstring(render_junit(report))
    assert root.tag == "testsuites"
    (suite,) = root
    cases = suite.findall("testcase")
    assert len(cases) == len(report.rules)
    failing = {c.get("name", "").split()[0]: c.findall("failure") for c in cases if c.findall("failure")}
    errors = {f.code for f in report.findings if f.severity.label == "error"}
    assert set(failing) == errors
    assert "CF201" in errors
    assert sum(len(v) for v in failing.values()) == sum(1 for f in report.findings if f.code in errors)
    assert int(suite.get("failures", "0")) == len(failing)
    loop = next(c for c in cases if c.get("name", "").startswith("CF303"))
    assert "L2" in (loop.findtext("system-out") or "")


def test_junit_fail_on_warning_fails_the_loop() -> None:
    result = validate(RULES / "cf303_loop.xml", settings=Settings(fail_on="warning"))
    root = ET.fromstring(render_junit(result.report()))
    names = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert names == ["CF303 meshed-network"]


def test_markdown_groups_by_severity(report: ValidationReport) -> None:
    md = render_markdown(report)
    assert md.startswith("# cimflow validation report")
    assert md.index("## Errors") < md.index("## Warnings")
    assert "| errors | warnings | infos | radial | islands | buses |" in md
    assert "`" in md
    assert "CF201" in md
    assert render_markdown(report) == md


def test_markdown_escapes_pipes() -> None:
    from cimflow.report.markdown import _cell

    assert _cell("a|b\nc") == "a\\|b c"
