"""``cimflow convert``: lossless re-serialisation of CIM documents (RDF/XML, Turtle, JSON-LD, N-Triples)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Annotated

import typer

from cimflow.cim.ingest import ingest
from cimflow.cim.write import RdfFormat, serialise
from cimflow.cli.common import exit_unreadable, writing_into
from cimflow.cli.console import fail, stderr
from cimflow.findings import Severity, sort_findings


def _out_name(doc_name: str, fmt: RdfFormat, taken: set[str]) -> str:
    base = PurePosixPath(doc_name.rsplit("!/", 1)[-1].replace("\\", "/")).name
    stem = base.rsplit(".", 1)[0] if "." in base else base
    name = stem + fmt.suffix
    n = 1
    while name in taken:
        n += 1
        name = f"{stem}_{n}{fmt.suffix}"
    taken.add(name)
    return name


def convert(
    paths: Annotated[list[Path], typer.Argument(help="Inputs (files, folders, zips) followed by the output folder.")],
    to: Annotated[RdfFormat, typer.Option("--to", help="Output serialisation.")] = RdfFormat.RDFXML,
    base: Annotated[str, typer.Option(help="Base URI that rdf:ID values resolve against in non-XML forms.")] = (
        "http://cimflow.invalid/model"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite files that already exist in the output folder.")] = (
        False
    ),
) -> None:
    """Re-serialise CIM documents losslessly, one output file per input document (per profile).

    RDF/XML keeps the CGMES style (md:FullModel header, rdf:ID/rdf:about as written). Existing files
    are never overwritten without --force. Exit 0 on success, 2 when an input cannot be read or the
    output cannot be written.
    """
    if len(paths) < 2:
        fail("convert needs at least one input and an output folder: cimflow convert IN... OUT")
        raise typer.Exit(2)
    *inputs, out = paths
    if out.exists() and not out.is_dir():
        fail(f"{out} exists and is not a folder")
        raise typer.Exit(2)
    ingested = ingest(inputs, statements=True)  # one read: every statement, for the writer
    dataset = ingested.value
    if dataset is None:
        exit_unreadable(sort_findings(ingested.findings))  # exit 2 with a clear line per error
    taken: set[str] = set()
    planned = [(doc, out / _out_name(doc.name, to, taken)) for doc in dataset.documents]
    clashes = [str(p) for _d, p in planned if p.exists()]
    if clashes and not force:
        fail(f"refusing to overwrite {len(clashes)} existing file(s), e.g. {clashes[0]} (use --force)")
        raise typer.Exit(2)
    with writing_into(out):
        out.mkdir(parents=True, exist_ok=True)
        for doc, target in planned:
            target.write_bytes(serialise(doc, to, base=base))
            stderr.print(f"wrote {target}", highlight=False)
    unread = [f for f in ingested.findings if f.severity >= Severity.ERROR and f.code.startswith("CF00")]
    for f in unread:
        fail(f"{f.location.file}: {f.code} {f.message} (not converted)")


def register(app: typer.Typer) -> None:
    """Add the command to the application."""
    app.command(name="convert")(convert)
