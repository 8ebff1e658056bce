"""Meta-tests of the catalogue and the registry: codes, names, docs, cases, selection and severity overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cimflow import catalog
from cimflow.config import Settings
from cimflow.errors import ConfigError
from cimflow.findings import Category, Location, Severity, Stage, make_finding
from cimflow.rules.registry import ALL_CODES, ALL_RULES, resolve, selection

CASES = Path(__file__).parent / "cases"
SECTIONS = ("## What it checks", "## Why it matters", "## Example", "## How to fix", "## Options", "## References")
_DIGIT = {
    Category.INPUT: "0",
    Category.DATA: "1",
    Category.ELECTRICAL: "2",
    Category.TOPOLOGY: "3",
    Category.SOLUTION: "4",
}


def test_codes_unique_sorted_and_well_formed() -> None:
    codes = [m.code for m in catalog.ALL_META]
    assert codes == sorted(codes)
    assert len(codes) == len(set(codes))
    for m in catalog.ALL_META:
        assert re.fullmatch(r"CF[0-9]{3}", m.code)
        assert m.code[2] == _DIGIT[m.category], m.code


def test_names_kebab_case_and_unique() -> None:
    names = [m.name for m in catalog.ALL_META]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name


@pytest.mark.parametrize("meta", catalog.ALL_META, ids=lambda m: m.code)
def test_every_code_is_documented_and_has_cases(meta) -> None:  # type: ignore[no-untyped-def]
    for section in SECTIONS:
        assert section in meta.doc, (meta.code, section)
    assert meta.fix
    assert meta.template
    if meta.stage is not Stage.SOLVE:  # post-solve rules (CF4xx) need a solve; they are tested with the solver
        assert (CASES / f"{meta.code}.toml").is_file(), f"no case file for {meta.code}"


def test_rule_objects_match_the_catalogue() -> None:
    codes = [r.meta.code for r in ALL_RULES]
    assert codes == sorted(codes)
    for rule in ALL_RULES:
        assert catalog.BY_CODE[rule.meta.code] is rule.meta
        assert rule.meta.stage in (Stage.BUILD, Stage.TOPOLOGY, Stage.SOLVE)
        doc = type(rule).__doc__ or ""
        for section in SECTIONS:
            assert section in doc, (rule.meta.code, section)


def test_issue_rule_set_is_present() -> None:
    wanted = {
        "dangling-reference", "wrong-class-reference", "duplicate-mrid", "literal-instead-of-reference",
        "missing-mandatory-attribute", "terminal-count", "terminal-without-node", "equipment-without-terminals",
        "header-datatype", "unknown-enum-value", "negative-impedance", "zero-impedance-line", "non-positive-length",
        "non-positive-voltage", "rated-voltage-mismatch", "non-positive-rating", "implausible-short-circuit-voltage",
        "line-voltage-mismatch", "implausible-injection", "negative-current-limit", "implausible-impedance-per-km",
        "tap-step-out-of-range", "island-without-source", "multiple-sources", "meshed-network", "parallel-branches",
        "open-switch-isolating-loads", "unreachable-equipment", "value-assumed",
    }  # fmt: skip
    assert wanted <= set(catalog.BY_NAME)


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("CF201", {"CF201"}),
        ("cf201", {"CF201"}),
        ("negative-impedance", {"CF201"}),
        ("CF3", {c for c in ALL_CODES if c.startswith("CF3")}),
        ("CF20", {c for c in ALL_CODES if c.startswith("CF20")}),
        ("CF", set(ALL_CODES)),
    ],
)
def test_resolve(selector: str, expected: set[str]) -> None:
    assert resolve(selector) == expected


@pytest.mark.parametrize("selector", ["CF999", "CF9", "no-such-rule", "CF2011"])
def test_resolve_unknown(selector: str) -> None:
    with pytest.raises(ConfigError, match="unknown rule"):
        resolve(selector)


def test_select_ignore_and_severity_overrides() -> None:
    chosen = selection(
        Settings(select=("CF2", "dangling-reference"), ignore=("CF211",), severity={"CF2": "info", "CF201": "error"})
    )
    assert "CF101" in chosen.codes
    assert "CF201" in chosen.codes
    assert "CF211" not in chosen.codes
    assert "CF301" not in chosen.codes
    assert chosen.severity["CF202"] is Severity.INFO  # the prefix
    assert chosen.severity["CF201"] is Severity.ERROR  # the code beats the prefix
    f = make_finding(catalog.BY_CODE["CF202"], Location(mrid="L1"))
    (out,) = chosen.apply([f])
    assert out.severity is Severity.INFO
    assert chosen.apply([make_finding(catalog.BY_CODE["CF301"], Location())]) == []
