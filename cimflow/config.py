"""Settings: rule selection, severity overrides, thresholds; read from --config, cimflow.toml or pyproject.toml.

Configuration is a frozen value. The command line finds it in this order: ``--config FILE``, then
``cimflow.toml`` in the current directory, then ``[tool.cimflow]`` of ``pyproject.toml`` there. Keys
may be written in snake_case or kebab-case::

    [tool.cimflow]
    select = ["CF1", "CF2"]
    ignore = ["non-uuid-mrid"]
    fail-on = "warning"
    ratedu_tolerance_pct = 5
    severity = { CF301 = "error" }

Selectors (codes, prefixes such as ``CF2``, rule names) are checked against the catalogue by
:mod:`cimflow.rules.registry`; this module only knows their shape.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cimflow.errors import ConfigError


def native_enabled() -> bool:
    """Whether cimflow may use its optional C parts (reader, record constructors): not when the
    environment sets ``CIMFLOW_NATIVE`` to 0, false, no or off."""
    return os.environ.get("CIMFLOW_NATIVE", "1").strip().lower() not in ("0", "false", "no", "off")


SeverityLabel = Literal["error", "warning", "info"]
FailOn = Literal["error", "warning", "info", "never"]
# the values of cimflow.apps.volt_var.ControlMode (config sits below apps and cannot import it)
ControlLabel = Literal["none", "fixed-cosphi", "cosphi-p", "qu", "ieee1547-a", "ieee1547-b", "fuzzy"]

CONFIG_FILE = "cimflow.toml"
PYPROJECT_FILE = "pyproject.toml"
_SELECTOR_RE = re.compile(r"^(CF[0-9]{0,3}|[a-z0-9]+(-[a-z0-9]+)*)$")
_MAX_CONFIG_BYTES = 1 << 20


def _normalise_selector(text: str) -> str:
    s = text.strip()
    return s.upper() if (s[:2].upper() == "CF" and s[2:].isdigit()) or s.upper() == "CF" else s.lower()


class Settings(BaseModel):
    """Everything a user can configure about validation (and the solve that follows it).

    Attributes:
        select: Rule selectors to run (codes, prefixes like ``CF2``, names); empty means all.
        ignore: Rule selectors to drop; applied after ``select``.
        severity: Severity overrides, selector → ``error``/``warning``/``info``.
        fail_on: Lowest severity that makes ``cimflow validate`` exit 1 (``never``: always 0).
        ratedu_tolerance_pct: How far a transformer end's ratedU may be from its BaseVoltage (CF205).
        level_tolerance_pct: Nominal voltages closer than this are one level (380/400 kV) for CF208.
        uk_min_pct: Lowest plausible transformer short-circuit voltage (CF207).
        uk_max_pct: Highest plausible transformer short-circuit voltage (CF207).
        injection_max_ratio: Largest plausible load or generation as a multiple of the supplying
            transformer rating (CF209).
        r_ohm_per_km_min: Lowest plausible line resistance per km (CF211).
        r_ohm_per_km_max: Highest plausible line resistance per km (CF211).
        x_ohm_per_km_min: Lowest plausible line reactance per km (CF211).
        x_ohm_per_km_max: Highest plausible line reactance per km (CF211).
        lv_line_length_km_max: Longest plausible line below 1 kV (CF217).
        line_length_km_max: Longest plausible line of any voltage (CF217).
        radial_max_kv: Islands whose highest nominal voltage is at most this are expected radial
            (CF302, CF303); transmission grids above it are meshed by design.
        expect_radial: Force the radial expectation for every island (``None``: decide by voltage).
        v_min_pu: Lowest acceptable voltage after a solve (EN 50160: 0.9).
        v_max_pu: Highest acceptable voltage after a solve (EN 50160: 1.1).
        loading_max_pct: Highest acceptable branch loading after a solve.
        s_base_mva: Power base of the per-unit system.
        frequency_hz: System frequency, for line impedances computed from wire geometry (50; 60 in North America).
        phase_angle_clock: Apply the transformers' phaseAngleClock as a phase shift in the power flow (Dyn5:
            the low-voltage angles turn by -150°, as PowerFactory and pandapower solve). Off by default:
            CGMES lists it with the short-circuit data, and PowSyBl and the SVs of NEPLAN and of the ENTSO-E
            test models solve without it.
        control: Volt-VAR control of the inverters in ``cimflow solve`` (``none``, ``fixed-cosphi``,
            ``cosphi-p``, ``qu``, ``ieee1547-a``, ``ieee1547-b``, ``fuzzy``); ``--control`` overrides it.
        control_config: TOML file with the control curves, limits and loop settings
            (``--control-config`` overrides it; relative to the working directory).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, SeverityLabel] = Field(default_factory=dict)
    fail_on: FailOn = "error"
    ratedu_tolerance_pct: float = Field(default=10.0, gt=0, le=100)
    level_tolerance_pct: float = Field(default=10.0, ge=0, le=100)
    uk_min_pct: float = Field(default=1.0, ge=0)
    uk_max_pct: float = Field(default=25.0, gt=0)
    injection_max_ratio: float = Field(default=10.0, gt=0)
    r_ohm_per_km_min: float = Field(default=0.005, ge=0)
    r_ohm_per_km_max: float = Field(default=10.0, gt=0)
    x_ohm_per_km_min: float = Field(default=0.01, ge=0)
    x_ohm_per_km_max: float = Field(default=1.0, gt=0)
    lv_line_length_km_max: float = Field(default=5.0, gt=0)
    line_length_km_max: float = Field(default=1000.0, gt=0)
    radial_max_kv: float = Field(default=36.0, ge=0)
    expect_radial: bool | None = None
    v_min_pu: float = Field(default=0.9, gt=0)
    v_max_pu: float = Field(default=1.1, gt=0)
    loading_max_pct: float = Field(default=100.0, gt=0)
    s_base_mva: float = Field(default=1.0, gt=0)
    frequency_hz: float = Field(default=50.0, gt=0)
    phase_angle_clock: bool = False
    control: ControlLabel = "none"
    control_config: str | None = None

    @field_validator("select", "ignore", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        """Accept a comma-separated string as well as a list."""
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, (list, tuple)):
            items = [_normalise_selector(str(v)) for v in value if str(v).strip()]
            for item in items:
                if not _SELECTOR_RE.match(item):
                    raise ValueError(f"{item!r} is not a rule code, prefix or name")
            return tuple(items)
        return value

    @field_validator("severity", mode="before")
    @classmethod
    def _severity_keys(cls, value: Any) -> Any:
        """Normalise selector keys and severity labels (any case)."""
        if isinstance(value, Mapping):
            return {_normalise_selector(str(k)): str(v).strip().lower() for k, v in value.items()}
        return value

    @field_validator("fail_on", "control", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _ranges(self) -> Settings:
        """Lower bounds must lie below upper bounds."""
        for low, high in (
            ("uk_min_pct", "uk_max_pct"),
            ("r_ohm_per_km_min", "r_ohm_per_km_max"),
            ("x_ohm_per_km_min", "x_ohm_per_km_max"),
            ("v_min_pu", "v_max_pu"),
        ):
            if getattr(self, low) >= getattr(self, high):
                raise ValueError(f"{low}={getattr(self, low)} must be below {high}={getattr(self, high)}")
        return self


def _first_error(err: ValidationError) -> str:
    e = err.errors()[0]
    where = ".".join(str(p) for p in e["loc"]) or "settings"
    msg = str(e["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}"


def make_settings(values: Mapping[str, Any], *, source: str = "settings") -> Settings:
    """Build :class:`Settings` from a mapping (kebab-case keys allowed); raise :class:`ConfigError` if invalid."""
    clean = {str(k).replace("-", "_"): v for k, v in values.items()}
    try:
        return Settings(**clean)
    except ValidationError as err:
        raise ConfigError(f"{source}: {_first_error(err)}") from err


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: configuration file larger than {_MAX_CONFIG_BYTES} bytes")
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot be read: {getattr(err, 'strerror', None) or err}") from err


def _tool_table(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tool = data.get("tool")
    if isinstance(tool, Mapping):
        table = tool.get("cimflow")
        if table is not None:
            if not isinstance(table, Mapping):
                raise ConfigError("[tool.cimflow] must be a table")
            return table
    return None


def settings_from_file(path: Path) -> Settings:
    """Read settings from a TOML file: its ``[tool.cimflow]`` table if it has one, else its top level."""
    data = _read_toml(path)
    table = _tool_table(data)
    if table is None:
        if path.name == PYPROJECT_FILE:
            return Settings()
        table = data
    return make_settings(table, source=str(path))


def find_config(directory: Path) -> Path | None:
    """The configuration file that applies in ``directory``: ``cimflow.toml``, else a ``pyproject.toml``
    with a ``[tool.cimflow]`` table, else ``None``."""
    own = directory / CONFIG_FILE
    if own.is_file():
        return own
    pyproject = directory / PYPROJECT_FILE
    if pyproject.is_file() and _tool_table(_read_toml(pyproject)) is not None:
        return pyproject
    return None


def load_settings(config: Path | None = None, *, directory: Path | None = None) -> Settings:
    """Settings from ``config`` if given, else from the configuration found in ``directory`` (default: cwd).

    Raises:
        ConfigError: the file is missing, not TOML, or holds an unknown key or a bad value.
    """
    if config is not None:
        if not config.is_file():
            raise ConfigError(f"{config}: configuration file not found")
        return settings_from_file(config)
    found = find_config(directory if directory is not None else Path.cwd())
    return settings_from_file(found) if found is not None else Settings()
