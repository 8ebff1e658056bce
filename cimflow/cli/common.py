"""Helpers shared by the commands: loading with the exit-code policy, format enums."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import NoReturn

import typer

from cimflow.cli.console import fail
from cimflow.findings import Finding, Severity
from cimflow.pipeline import LoadResult, load


class TextOrJson(StrEnum):
    """Output format of commands with a table or a JSON document."""

    text = "text"
    json = "json"


_HELD: list[object] = []


def hold(value: object) -> None:
    """Keep a command's result (a network of millions of objects) alive until the process ends.

    Freeing it object by object takes about a second at 100k buses, after everything is written;
    :func:`cimflow.cli.app.console` ends such a process without that step. One result is held at a time,
    so commands run in one process (the tests) do not accumulate them.
    """
    _HELD[:] = [value]


def holding() -> bool:
    """Whether a command has handed its result to :func:`hold`."""
    return bool(_HELD)


@contextmanager
def writing_into(out: Path) -> Iterator[None]:
    """Creating and writing into the output folder ``out``: an OS error (no space left, not a folder, no
    permission) ends the command with a clear line and exit code 2, not a traceback."""
    try:
        yield
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        fail(f"{out}: cannot write the output: {err.strerror or err}{where}")
        raise typer.Exit(2) from err


def load_or_exit(paths: list[Path]) -> LoadResult:
    """Load the inputs; when nothing could be read, print one line per error on stderr and exit 2."""
    result = load(paths)
    if not result.readable:
        exit_unreadable(result.findings)
    return result


def exit_unreadable(findings: Sequence[Finding]) -> NoReturn:
    """Nothing could be read: one line per error (at most ten) on stderr, then exit 2."""
    errors = [f for f in findings if f.severity >= Severity.ERROR] or list(findings)
    for f in errors[:10]:
        where = f.location.file or ""
        if f.location.line:
            where += f":{f.location.line}"
        fail(f"{where}: {f.code} {f.message}" if where else f"{f.code} {f.message}")
    if not errors:
        fail("no CIM document could be read from the inputs")
    raise typer.Exit(2)


def location_text(file: str | None, line: int | None) -> str:
    """``file:line`` for terminals (clickable), or what is known of it."""
    if not file:
        return ""
    return f"{file}:{line}" if line else file
