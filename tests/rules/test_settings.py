"""Settings: defaults, TOML files (cimflow.toml, [tool.cimflow] in pyproject.toml, --config), bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from cimflow.config import Settings, find_config, load_settings, make_settings
from cimflow.errors import ConfigError


def test_defaults() -> None:
    s = Settings()
    assert s.fail_on == "error"
    assert s.ratedu_tolerance_pct == 10
    assert (s.v_min_pu, s.v_max_pu) == (0.9, 1.1)
    assert s.select == ()
    assert s.ignore == ()


def test_frozen_and_forbids_extra() -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.fail_on = "warning"  # type: ignore[misc]
    with pytest.raises(ConfigError, match="ratedu_tolerance"):
        make_settings({"ratedu_tolerance": 5})


def test_kebab_case_comma_lists_and_case() -> None:
    s = make_settings({"fail-on": "Warning", "select": "cf2, CF101", "severity": {"cf301": "ERROR"}})
    assert s.fail_on == "warning"
    assert s.select == ("CF2", "CF101")
    assert dict(s.severity) == {"CF301": "error"}


@pytest.mark.parametrize(
    "values",
    [
        {"fail_on": "sometimes"},
        {"severity": {"CF301": "fatal"}},
        {"v_min_pu": 1.2},
        {"uk_min_pct": 30},
        {"select": ["not a selector!"]},
        {"s_base_mva": 0},
    ],
)
def test_bad_values_raise_config_error(values: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        make_settings(values)


def test_cimflow_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.cimflow]\nfail-on = "info"\n')
    assert find_config(tmp_path) == tmp_path / "pyproject.toml"
    assert load_settings(directory=tmp_path).fail_on == "info"
    (tmp_path / "cimflow.toml").write_text('fail_on = "warning"\nratedu_tolerance_pct = 5\n')
    s = load_settings(directory=tmp_path)
    assert (s.fail_on, s.ratedu_tolerance_pct) == ("warning", 5)


def test_pyproject_without_table_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config(tmp_path) is None
    assert load_settings(directory=tmp_path) == Settings()


def test_explicit_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "ci.toml"
    cfg.write_text('[tool.cimflow]\nignore = ["CF113"]\nseverity = { CF301 = "error" }\n')
    s = load_settings(cfg, directory=tmp_path)
    assert s.ignore == ("CF113",)
    assert dict(s.severity) == {"CF301": "error"}


@pytest.mark.parametrize(
    ("text", "match"),
    [("fail_on = ", "not valid TOML"), ("unknown_key = 1", "unknown_key"), ("[tool]\ncimflow = 3", "must be a table")],
)
def test_bad_files(tmp_path: Path, text: str, match: str) -> None:
    cfg = tmp_path / "cimflow.toml"
    cfg.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_settings(cfg)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")
