"""Imports flow one way (STYLE.md):
cli → solve/validate/pipeline → apps, report → rules, powerflow → topology → model ← cim.

An AST walk over the package: each top-level part of ``cimflow`` may import only the parts listed for
it (and the base layer every part may use). ``from cimflow import catalog`` counts as importing
``catalog``; ``__version__`` from the package root is allowed everywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "cimflow"
BASE = {"errors", "ids", "units", "config", "findings", "catalog", "gcpause", "records"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "ids": set(),
    "units": set(),
    "gcpause": set(),
    "records": {"_records", "config"},  # its optional C helper (cimflow/_records.c), the switch for it
    "config": {"errors"},
    "findings": {"ids"},
    "catalog": {"findings"},
    "model": BASE,
    "cim": BASE | {"model"},
    "topology": BASE | {"model"},
    "rules": BASE | {"model", "topology"},
    "powerflow": BASE | {"model", "topology"},
    "apps": BASE | {"model", "topology", "powerflow"},
    "samples": BASE,
    "pipeline": BASE | {"cim", "model"},
    "validate": BASE | {"cim", "model", "topology", "rules", "report"},
    "solve": BASE | {"cim", "model", "topology", "rules", "powerflow", "apps", "validate"},
    "report": BASE | {"cim", "model", "topology", "rules", "powerflow", "apps", "solve", "validate"},
}
# the powerflow kernel is pure numpy/scipy: only the case builder and the solution mapping read the model
KERNEL = {"arrays", "fbs", "nr", "result", "solve"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "cimflow":
            parts = node.module.split(".")
            if len(parts) > 1:
                found.add(parts[1])
            else:
                found.update(a.name for a in node.names if a.name != "__version__")
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("cimflow."))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_flow_one_way(path: Path) -> None:
    rel = path.relative_to(PACKAGE)
    part = rel.parts[0].removesuffix(".py")
    if part == "cli":
        return  # the top: may import anything
    allowed = ALLOWED[part] | {part}
    if part == "powerflow" and rel.stem in KERNEL:
        allowed = {"powerflow", "errors"}
    bad = _imports(path) - allowed
    assert not bad, f"{rel} imports {sorted(bad)}"
