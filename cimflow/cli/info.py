"""``cimflow info``: what the inputs are (CIM versions, profiles, headers, class counts) and the findings so far."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cimflow.cli.common import TextOrJson, load_or_exit, location_text
from cimflow.cli.console import stdout
from cimflow.report.common import dumps
from cimflow.report.info import info_document


def info(
    paths: Annotated[
        list[Path], typer.Argument(help="CIM files, folders or zip archives (mixed).", show_default=False)
    ],
    fmt: Annotated[TextOrJson, typer.Option("--format", "-f", help="Output format.")] = TextOrJson.text,
) -> None:
    """Describe CIM inputs: versions, profiles, headers, objects per class, findings so far.

    Exit code 0 whenever the input could be read (a lone SSH or SV file too), 2 when it could not.
    """
    result = load_or_exit(paths)
    doc = info_document([str(p) for p in paths], result.network, result.findings)
    if fmt is TextOrJson.json:
        stdout.out(dumps(doc), end="", highlight=False)
        return
    docs = Table(title="Documents", title_justify="left")
    for col in ("document", "CIM version", "profiles", "units", "objects"):
        docs.add_column(col)
    for d in doc["documents"]:
        docs.add_row(d["name"], d["cim_version"], " ".join(d["profiles"]), d["units"], str(d["statements_objects"]))
    stdout.print(docs)
    classes = Table(title="Objects per class", title_justify="left")
    classes.add_column("class")
    classes.add_column("objects", justify="right")
    for name, n in doc["classes"].items():
        classes.add_row(name, str(n))
    stdout.print(classes)
    stdout.print(
        f"{doc['objects']} objects: {doc['modelled']} modelled, {doc['opaque']} kept opaque; "
        f"CIM {', '.join(doc['cim_versions']) or '?'}; profiles {', '.join(doc['profiles']) or '?'}",
        highlight=False,
    )
    if doc["findings"]:
        table = Table(title=f"Findings ({len(doc['findings'])})", title_justify="left")
        for col in ("location", "severity", "code", "message"):
            table.add_column(col, overflow="fold")
        for f in doc["findings"]:
            table.add_row(location_text(f["file"], f["line"]), f["severity"], f["code"], f["message"])
        stdout.print(table)


def register(app: typer.Typer) -> None:
    """Add the command to the application."""
    app.command(name="info")(info)
