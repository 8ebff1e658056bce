"""``cimflow validate``: every problem of CIM inputs in one pass, located; a table, JSON, SARIF, JUnit or Markdown."""

from __future__ import annotations

import io
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cimflow.cli.common import hold, location_text
from cimflow.cli.console import fail, stderr, stdout
from cimflow.config import Settings, load_settings, make_settings
from cimflow.errors import ConfigError
from cimflow.findings import Severity
from cimflow.report.junit import render_junit
from cimflow.report.markdown import render_markdown
from cimflow.report.sarif import render_sarif
from cimflow.report.validation import ValidationReport, render_json
from cimflow.rules.registry import selection
from cimflow.validate import ValidationResult, validate

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_TITLE = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.INFO: "Infos"}


class Format(StrEnum):
    """Report formats of ``cimflow validate``."""

    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    markdown = "markdown"


class FailOn(StrEnum):
    """Lowest severity that makes the exit code 1."""

    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for raw in values or () for v in raw.split(",") if v.strip()]


def _settings(
    config: Path | None, select: list[str] | None, ignore: list[str] | None, fail_on: FailOn | None
) -> Settings:
    """Configuration file values, then the command line: --select replaces, --ignore adds, --fail-on replaces."""
    base = load_settings(config)
    values: dict[str, Any] = base.model_dump()
    if select:
        values["select"] = _split(select)
    if ignore:
        values["ignore"] = [*base.ignore, *_split(ignore)]
    if fail_on is not None:
        values["fail_on"] = fail_on.value
    settings = make_settings(values, source="command line")
    selection(settings)  # unknown codes, prefixes or names are a usage error
    return settings


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def summary_line(result: ValidationResult) -> str:
    """One line: counts per severity and what topology found."""
    s = result.summary
    counts = f"{_plural(s.errors, 'error')}, {_plural(s.warnings, 'warning')}, {_plural(s.infos, 'info')}"
    grid = "radial" if s.radial else ("meshed" if s.radial is False else "radiality unknown")
    topo = f"{_plural(s.buses, 'bus', 'buses')}, {_plural(s.islands, 'island')}, {grid}"
    return f"{_plural(len(result.findings), 'finding')}: {counts}; {topo}"


def render_text(report: ValidationReport, result: ValidationResult, console: Console) -> None:
    """Rich tables grouped by severity, ``file:line`` first (clickable in terminals), then the summary line.

    The rule's name and documentation are one ``cimflow rules CODE`` away; the table keeps to location, code
    and message so that it stays readable in an 80-column terminal.
    """
    for severity in (Severity.ERROR, Severity.WARNING, Severity.INFO):
        group = [f for f in report.findings if f.severity == severity]
        if not group:
            continue
        table = Table(title=f"{_TITLE[severity]} ({len(group)})", title_justify="left", title_style=_STYLE[severity])
        locations = [location_text(f.location.file, f.location.line) for f in group]
        longest = max(map(len, locations))
        if longest + 25 <= console.width:  # keep file:line on one line, so that terminals make it clickable
            table.add_column("location", no_wrap=True, min_width=longest)
        else:
            table.add_column("location", overflow="fold", ratio=1)
        table.add_column("code", no_wrap=True)
        table.add_column("message", overflow="fold", ratio=1)
        for where, f in zip(locations, group, strict=True):
            table.add_row(where, f.code, f.message)
        console.print(table)
    console.print(summary_line(result), highlight=False, markup=False)


def _render(fmt: Format, result: ValidationResult, report: ValidationReport, *, to_file: bool) -> str | None:
    """The report text for machine formats; ``None`` for text printed straight to the console."""
    if fmt is Format.json:
        return render_json(report)
    if fmt is Format.sarif:
        return render_sarif(report)
    if fmt is Format.junit:
        return render_junit(report)
    if fmt is Format.markdown:
        return render_markdown(report)
    if to_file:
        buffer = io.StringIO()
        render_text(report, result, Console(file=buffer, width=200, no_color=True, force_terminal=False))
        return buffer.getvalue()
    render_text(report, result, stdout)
    return None


def _report_unreadable(result: ValidationResult) -> None:
    errors = [f for f in result.findings if f.severity >= Severity.ERROR and f.code.startswith("CF0")]
    for f in (errors or list(result.findings))[:10]:
        where = location_text(f.location.file, f.location.line)
        fail(f"{where}: {f.code} {f.message}" if where else f"{f.code} {f.message}")
    if not result.findings:
        fail("no CIM document could be read from the inputs")


def validate_command(
    paths: Annotated[
        list[Path], typer.Argument(help="CIM files, folders or zip archives (mixed).", show_default=False)
    ],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Report format.")] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to FILE instead of stdout.")
    ] = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", help="Only these rules: codes, prefixes (CF2) or names; comma-separated or repeated."),
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Leave out these rules (added to the configured ignore list).")
    ] = None,
    fail_on: Annotated[
        FailOn | None, typer.Option("--fail-on", help="Exit 1 on findings at or above this severity [default: error].")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML configuration (else cimflow.toml or [tool.cimflow] here).")
    ] = None,
) -> None:
    """Validate CIM inputs: every problem, located (file, line, mRID, class, attribute) and explained.

    Exit code 0 when no finding reaches --fail-on, 1 when one does, 2 when the input cannot be read or
    an option or the configuration is wrong. stdout carries only the report.
    """
    try:
        settings = _settings(config, select, ignore, fail_on)
    except ConfigError as err:
        fail(str(err))
        raise typer.Exit(2) from err
    missing = [p for p in paths if not p.exists()]
    if missing:
        fail(f"{missing[0]}: no such file or folder")
        raise typer.Exit(2)
    result = validate(paths, settings=settings)
    hold(result)  # freed with the process (cimflow.cli.app.console)
    if not result.readable:
        _report_unreadable(result)
        raise typer.Exit(2)
    report = result.report()
    text = _render(fmt, result, report, to_file=output is not None)
    if output is not None:
        try:
            output.write_text(text or "", encoding="utf-8")
        except OSError as err:
            fail(f"{output}: cannot write the report: {err.strerror or err}")
            raise typer.Exit(2) from err
        stderr.print(f"wrote {output}", highlight=False)
    elif text is not None:
        stdout.out(text, end="", highlight=False)
    raise typer.Exit(1 if result.failed() else 0)


def register(app: typer.Typer) -> None:
    """Add the command to the application."""
    app.command(name="validate")(validate_command)
