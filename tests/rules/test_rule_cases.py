"""Rule cases as data: each tests/rules/cases/CODE.toml names passing and failing inputs and the expected findings."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from cimflow import catalog
from cimflow.config import Settings
from cimflow.validate import validate
from tests.conftest import TEST_DATA

CASES = Path(__file__).parent / "cases"
FIXTURES = TEST_DATA / "cim" / "rules"


def _cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("CF*.toml")):
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
        for kind in ("pass", "fail"):
            for i, case in enumerate(spec.get(kind, [])):
                params.append(pytest.param(path.stem, kind, case, id=f"{path.stem}-{kind}-{i}"))
    return params


@pytest.mark.parametrize(("code", "kind", "case"), _cases())
def test_rule_case(code: str, kind: str, case: dict[str, Any]) -> None:
    settings = Settings(select=(code,), **case.get("settings", {}))
    result = validate([FIXTURES / f for f in case["files"]], settings=settings)
    got = {(f.code, f.location.mrid or "") for f in result.findings}
    expected = {tuple(e) for e in case.get("expect", [])} if kind == "fail" else set()
    assert got == expected, [f.message for f in result.findings]
    for f in result.findings:
        template = catalog.BY_CODE[f.code].template
        assert f.message
        assert f.message != template or "{" not in template, f"unfilled template: {f.message}"
        if f.location.mrid:
            assert f.location.file, f"{f.code} {f.location.mrid} has no file"


def test_fixtures_are_tiny() -> None:
    for path in FIXTURES.rglob("*.xml"):
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 100, path.name


def test_clean_feeder_has_no_finding_at_all() -> None:
    result = validate(FIXTURES / "feeder_ok.xml", settings=Settings(ignore=("non-uuid-mrid",)))
    assert result.findings == ()
    assert result.summary.radial is True
    assert (result.summary.islands, result.summary.buses) == (1, 4)
