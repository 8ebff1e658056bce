"""Shared fixtures: paths to bundled test data and to the shared real-world data beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
SAMPLES = ROOT / "samples"


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the checkout (or $CIMFLOW_SHARED_DATA), if present."""
    env = os.environ.get("CIMFLOW_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data"]
    for c in candidates:
        if (c / "README.md").is_file():
            return c
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real-world CIM data; tests using it are skipped on a lone clone."""
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data is not beside this checkout")
    return path


@pytest.fixture(scope="session")
def test_data() -> Path:
    """Bundled test data (tests/data)."""
    return TEST_DATA


@pytest.fixture(scope="session")
def samples() -> Path:
    """Bundled samples (samples/)."""
    return SAMPLES
