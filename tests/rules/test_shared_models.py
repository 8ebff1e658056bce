"""Every model of ../shared/data validates without a traceback; meshed and radial grids are told apart; the broken
cases of invalid-cases/ produce the findings their README describes."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from cimflow.report.validation import validation_document
from cimflow.validate import ValidationResult, validate
from tests.conftest import ROOT
from tests.rules.shared_models import DATA, MESHED, MODELS, RADIAL, model_paths

pytestmark = pytest.mark.skipif(DATA is None, reason="../shared/data is not beside this checkout")
SCHEMA = json.loads((ROOT / "schemas" / "validation-report.schema.json").read_text())
_CACHE: dict[str, ValidationResult] = {}


def _validate(model: str) -> ValidationResult:
    if model not in _CACHE:
        paths = model_paths(model)
        assert paths, f"no files for {model}"
        _CACHE[model] = validate(paths)
    return _CACHE[model]


@pytest.mark.parametrize("model", list(MODELS))
def test_model_validates(model: str) -> None:
    result = _validate(model)
    assert result.readable
    assert result.topology is not None
    jsonschema.validate(validation_document(result.report()), SCHEMA)
    for f in result.findings:
        assert f.message
        if f.location.line is not None:
            assert f.location.line >= 0


@pytest.mark.parametrize("model", MESHED)
def test_meshed_models_list_their_loops(model: str) -> None:
    result = _validate(model)
    assert result.summary.radial is False
    loops = [f for f in result.findings if f.code in ("CF303", "CF304")]
    assert loops
    assert all(len(f.related) >= 2 for f in loops if f.code == "CF304")
    assert all(f.related for f in loops)


@pytest.mark.parametrize("model", RADIAL)
def test_radial_feeders_are_radial(model: str) -> None:
    result = _validate(model)
    assert result.summary.radial is True
    assert not [f for f in result.findings if f.code == "CF303"]


def test_loop_counts_of_transmission_models() -> None:
    # ../shared/data/README.md: MicroGrid BE 2 loops, MiniGrid 5 loops in 3 islands
    be = Counter(f.code for f in _validate("microgrid-be").findings)
    assert be["CF303"] + be["CF304"] == 2
    mini = _validate("minigrid-nb")
    assert mini.summary.islands == 3
    assert sum(len(i.loops) for i in mini.topology.islands) == 5  # type: ignore[union-attr]


def test_lengths_written_in_metres_are_found() -> None:
    """ElBits' Telemark-120 (DIGIN) writes every line length in m where CIM means km: its LV lines of 40-60 m
    come as 40-60 km, and two 132 kV lines as 2,680 and 27,070 km with r and x scaled alike (in mohm), which
    the ohm-per-km check (CF211) cannot see. The ENTSO-E models, in km, give none."""
    found = [f for f in _validate("digin10-mv-lv").findings if f.code == "CF217"]
    assert len(found) == 26
    assert sum("132 kV" in f.message for f in found) == 2
    assert all(f.location.attribute == "Conductor.length" and f.location.line for f in found)
    for model in ("microgrid-be", "smallgrid-bb", "fullgrid-bb"):
        assert not [f for f in _validate(model).findings if f.code == "CF217"], model


# ---- invalid-cases/: base model with the case's files substituted ------------------------------------------------
_MG = "entsoe-cgmes-2.4.15/MicroGrid/BaseCase/CGMES_v2.4.15_MicroGridTestConfiguration_"
_CASES = "invalid-cases/powsybl-conformity-modified/MicroGrid/BaseCase/BC_BE_v2_"
EXPECTED: dict[str, dict[str, int]] = {
    "incorrect_date_and_version": {"CF110": 12},
    "invalid_regulating_control": {"CF213": 1, "CF214": 3},
    "invalid_sv_injection": {"CF101": 1},
    "missing_limit_value": {"CF106": 1},
    "missing_regulating_control": {"CF101": 3},
    "missing_shunt_regulating_control_id": {"CF215": 1},
    "rtc_ptc_faulty_tabular": {"CF216": 2},
    "target_deadband_negative": {"CF213": 2},
    "switch_at_boundary": {},
    "line_disconnected_at_boundary_node": {},
}
_CASE_CODES = {"CF101", "CF106", "CF110", "CF213", "CF214", "CF215", "CF216"}


def _substituted(base_zip: Path, case: Path, tmp: Path) -> Path:
    """The base model's members in a folder, with the case's same-named files put in their place."""
    with zipfile.ZipFile(base_zip) as z:
        for name in z.namelist():
            (tmp / Path(name).name).write_bytes(z.read(name))
    for f in case.glob("*.xml"):
        shutil.copy(f, tmp / f.name)
    return tmp


@pytest.mark.parametrize("case", list(EXPECTED))
def test_invalid_case(case: str, tmp_path: Path) -> None:
    assert DATA is not None
    folder = _substituted(DATA / f"{_MG}BC_BE_v2.zip", DATA / f"{_CASES}{case}", tmp_path)
    result = validate([folder, DATA / f"{_MG}BD_v2.zip"])
    baseline = Counter(f.code for f in _validate("microgrid-be").findings)
    got = Counter(f.code for f in result.findings)
    for code in _CASE_CODES:
        assert got[code] - baseline[code] == EXPECTED[case].get(code, 0), (case, code, got)
    if case == "invalid_sv_injection":
        dangling = next(f for f in result.findings if f.code == "CF101")
        assert dangling.location.mrid == "SvInjection"
        assert any(f.code == "CF113" and f.location.mrid == "SvInjection" for f in result.findings)


def test_missing_substation_region(tmp_path: Path) -> None:
    assert DATA is not None
    nb = "entsoe-cgmes-2.4.15/MiniGrid/NodeBreaker/CGMES_v2.4.15_MiniGridTestConfiguration_"
    case = DATA / "invalid-cases/powsybl-conformity-modified/MiniGrid/NodeBreaker"
    case = next(case.glob("*missing_substation_region"))
    folder = _substituted(DATA / f"{nb}BaseCase_Complete_v3.zip", case, tmp_path)
    result = validate([folder, DATA / f"{nb}Boundary_v3.zip"])
    dangling = [f for f in result.findings if f.code == "CF101"]
    assert [f.location.attribute for f in dangling] == ["Substation.Region"]


def test_invalid_svc_mode() -> None:
    assert DATA is not None
    case = DATA / "invalid-cases/powsybl-conformity-modified/MicroGrid/Type4_T4"
    eq = next(case.glob("*invalid_svc_mode/*.xml"))
    result = validate(eq)
    assert any(f.code == "CF111" and f.location.attribute == "RegulatingControl.mode" for f in result.findings)


def test_malformed_real_world_file_is_located() -> None:
    assert DATA is not None
    bad = DATA / "invalid-cases/real-world-malformed-xml/Telemark-120-LV1_SSH.xml"
    result = validate(bad)
    assert not result.readable
    (f,) = result.findings
    assert (f.code, f.location.line) == ("CF001", 129)


def test_turtle_is_not_xml() -> None:
    assert DATA is not None
    ttl = next((DATA / "invalid-cases/entsoe-shacl-turtle-syntax-error").glob("*.ttl"))
    result = validate(ttl)
    assert not result.readable
    assert {f.code for f in result.findings} <= {"CF001", "CF011"}
