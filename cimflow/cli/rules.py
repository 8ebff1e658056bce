"""``cimflow rules [CODE]``: the rule catalogue, or one rule's full documentation."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from cimflow import catalog
from cimflow.cli.common import TextOrJson
from cimflow.cli.console import fail, stdout
from cimflow.findings import RuleMeta


def _record(meta: RuleMeta) -> dict[str, Any]:
    return {
        "code": meta.code,
        "name": meta.name,
        "severity": meta.default_severity.label,
        "category": meta.category.value,
        "stage": meta.stage.value,
        "message": meta.template,
        "fix": meta.fix,
        "doc": meta.doc,
        "url": meta.url,
    }


def _what(meta: RuleMeta) -> str:
    return meta.doc.split("## What it checks\n", 1)[-1].split("\n\n", 1)[0].strip()


def rules_command(
    code: Annotated[
        str | None, typer.Argument(help="A rule code (CF201) or name (negative-impedance).", show_default=False)
    ] = None,
    fmt: Annotated[TextOrJson, typer.Option("--format", "-f", help="Output format.")] = TextOrJson.text,
) -> None:
    """List the rule catalogue, or show the documentation of one rule.

    Exit code 0, or 2 for an unknown rule.
    """
    if code is not None:
        meta = catalog.lookup(code)
        if meta is None:
            fail(f"unknown rule {code!r}; `cimflow rules` lists them")
            raise typer.Exit(2)
        if fmt is TextOrJson.json:
            stdout.out(json.dumps(_record(meta), indent=2, sort_keys=True) + "\n", end="", highlight=False)
            return
        head = (
            f"{meta.code} {meta.name}\n\nseverity: {meta.default_severity.label}   category: {meta.category.value}"
            f"   stage: {meta.stage.value}\nmessage: {meta.template}\n{meta.url}\n\n"
        )
        stdout.out(head + meta.doc, end="", highlight=False)
        return
    if fmt is TextOrJson.json:
        doc = [_record(m) for m in catalog.ALL_META]
        stdout.out(json.dumps(doc, indent=2, sort_keys=True) + "\n", end="", highlight=False)
        return
    table = Table(title=f"cimflow rules ({len(catalog.ALL_META)})", title_justify="left")
    for col in ("code", "name", "severity", "category", "what it checks"):
        table.add_column(col, overflow="fold")
    for m in catalog.ALL_META:
        table.add_row(m.code, m.name, m.default_severity.label, m.category.value, _what(m))
    stdout.print(table)


def register(app: typer.Typer) -> None:
    """Add the command to the application."""
    app.command(name="rules")(rules_command)
