"""Every model in ../shared/data (each folder of XML files, each zip) goes through `cimflow.solve` without
an exception: unusable data ends as findings, never as a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

import cimflow
from tests.conftest import shared_data_dir

_SHARED = shared_data_dir()


def _models() -> list[Path]:
    if _SHARED is None:
        return []
    zips = sorted(p for p in _SHARED.rglob("*") if p.suffix.lower() == ".zip")
    folders = sorted({p.parent for p in _SHARED.rglob("*.xml")})
    return [*zips, *folders]


_MODELS = _models()


@pytest.mark.skipif(_SHARED is None, reason="../shared/data is not beside this checkout")
@pytest.mark.parametrize("model", _MODELS, ids=[str(p.relative_to(_SHARED)) for p in _MODELS] if _SHARED else [])
def test_solve_never_raises(model: Path) -> None:
    result = cimflow.solve([model])
    if result.solution is None:
        assert result.findings, "no solution must come with the findings that say why"
    else:
        assert len(result.solution.buses) > 0
