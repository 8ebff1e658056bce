"""The catalogue of every rule code cimflow can emit, with its documentation.

Codes are ``CF`` + category digit + two digits and are never reused. The catalogue holds the
metadata; the checks live where the data is (ingest and build for CF0xx/CF1xx and the build-time
CF2xx constraints, ``cimflow.rules`` for the rest).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from cimflow.catalog import control, data, electrical, inputs, solution, topology
from cimflow.findings import RuleMeta

ALL_META: tuple[RuleMeta, ...] = tuple(
    sorted(
        (*inputs.ALL, *data.ALL, *electrical.ALL, *topology.ALL, *solution.ALL, *control.ALL), key=lambda m: m.code
    )
)

BY_CODE: Mapping[str, RuleMeta] = MappingProxyType({m.code: m for m in ALL_META})
BY_NAME: Mapping[str, RuleMeta] = MappingProxyType({m.name: m for m in ALL_META})


def lookup(code_or_name: str) -> RuleMeta | None:
    """Return the rule by code (``CF101``) or name (``dangling-reference``), or ``None``."""
    key = code_or_name.strip()
    return BY_CODE.get(key.upper()) or BY_NAME.get(key.lower())
