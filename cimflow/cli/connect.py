"""``cimflow connect``: can this EV charger, PV system or load be connected at this bus? Yes or no, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cimflow.apps.hosting import assess_connection
from cimflow.apps.hosting_criteria import HostingKind
from cimflow.apps.hosting_results import ConnectionAssessment
from cimflow.cli.common import TextOrJson
from cimflow.cli.console import fail, stdout
from cimflow.cli.hosting import load_study, resolve_buses, study_options
from cimflow.errors import ConfigError
from cimflow.report.common import dumps
from cimflow.report.hosting import connection_document, kw_text


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.4f} {unit}" if unit == "pu" else f"{value:.4g} {unit}"


def _print(answer: ConnectionAssessment) -> None:
    bus = answer.bus
    where = f"{bus.name} ({bus.bus})" if bus.name else bus.bus
    verdict = "[bold green]YES[/]" if answer.accepted else "[bold red]NO[/]"
    stdout.print(f"{verdict}: {answer.p_kw:g} kW {answer.kind.upper()} at {where}", highlight=False)
    stdout.print(answer.reason, highlight=False, markup=False)
    if answer.states:
        table = Table(title="With the unit connected", title_justify="left")
        for col in ("criterion", "value", "limit", "margin", "where", "holds"):
            table.add_column(col, overflow="fold", justify="right" if col in ("value", "limit", "margin") else "left")
        for s in answer.states:
            table.add_row(
                s.criterion.value,
                _number(s.value, s.unit),
                _number(s.limit, s.unit),
                _number(s.margin, s.unit),
                s.element.label if s.element else "",
                "yes" if s.holds else "NO",
            )
        stdout.print(table)
    cap = answer.capacity
    lines = []
    if answer.v_bus_pu is not None:
        base = f" (base case {answer.v_bus_base_pu:.4f} pu)" if answer.v_bus_base_pu is not None else ""
        lines.append(f"voltage at the bus: {answer.v_bus_pu:.4f} pu{base}")
    lines.append(
        f"hosting capacity here: {kw_text(cap.capacity_kw)} kW, limited by {cap.binding.value}"
        + (f" at {cap.element.label}" if cap.element else "")
    )
    if answer.headroom_kw is not None:
        lines.append(f"margin: {answer.headroom_kw:+.1f} kW")
    for line in lines:
        stdout.print(line, highlight=False, markup=False)


def connect_command(
    paths: Annotated[list[Path], typer.Argument(help="CIM files, folders or zip archives (EQ, SSH, TP, ...).")],
    bus: Annotated[str, typer.Option("--bus", help="Bus id, ConnectivityNode or TopologicalNode mRID.")],
    ev: Annotated[float | None, typer.Option("--ev", help="EV charging power, kW.")] = None,
    pv: Annotated[float | None, typer.Option("--pv", help="PV power, kW.")] = None,
    load: Annotated[float | None, typer.Option("--load", help="Load power, kW.")] = None,
    pf: Annotated[float, typer.Option("--pf", help="Power factor; PV absorbs, EV and load draw Q.")] = 1.0,
    control: Annotated[str | None, typer.Option("--control", help="Judge with Volt-VAR control (qu, ...).")] = None,
    control_config: Annotated[Path | None, typer.Option("--control-config", help="TOML of the control curves.")] = None,
    criteria: Annotated[str | None, typer.Option("--criteria", help="band,rise,lines,transformers,reverse.")] = None,
    v_min: Annotated[float | None, typer.Option("--v-min", help="Band floor in pu (default 0.9).")] = None,
    v_max: Annotated[float | None, typer.Option("--v-max", help="Band ceiling in pu (default 1.1).")] = None,
    rise_max: Annotated[float, typer.Option("--rise-max", help="Largest rise at LV buses, pu.")] = 0.03,
    rise_max_mv: Annotated[float, typer.Option("--rise-max-mv", help="Largest rise at MV buses, pu.")] = 0.02,
    loading_max: Annotated[
        float | None, typer.Option("--loading-max", help="Loading limit in % (default 100).")
    ] = None,
    load_scale: Annotated[
        float | None, typer.Option("--load-scale", help="Base-case load factor (PV 0.25, else 1).")
    ] = None,
    max_kw: Annotated[float, typer.Option("--max-kw", help="End of the capacity search, kW.")] = 10_000.0,
    fmt: Annotated[TextOrJson, typer.Option("--format", "-f", help="stdout: text or the JSON document.")] = (
        TextOrJson.text
    ),
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings (limits, s_base_mva).")] = None,
) -> None:
    """Judge one unit at one bus: yes or no, the margin, and if no which limit breaks first, where and by how much.

    Exit code 0: yes; 1: no (a limit breaks, the bus is not energised or the flow has no solution);
    2: unreadable input, an unknown bus or a bad option.
    """
    given = [(k, v) for k, v in ((HostingKind.EV, ev), (HostingKind.PV, pv), (HostingKind.LOAD, load)) if v is not None]
    if len(given) != 1:
        fail("give exactly one of --ev KW, --pv KW, --load KW")
        raise typer.Exit(2)
    kind, p_kw = given[0]
    if not p_kw > 0:
        fail(f"--{kind.value} {p_kw:g}: the power must be > 0 kW")
        raise typer.Exit(2)
    spec, make = study_options(
        kind=kind, pf=pf, criteria=criteria, control=control, control_config=control_config, v_min=v_min,
        v_max=v_max, rise_max=rise_max, rise_max_mv=rise_max_mv, loading_max=loading_max, load_scale=load_scale,
        max_kw=max(max_kw, p_kw),
    )  # fmt: skip
    loaded = load_study(paths, config, make)
    index = resolve_buses(loaded.study, [bus])[0]
    try:
        answer = assess_connection(loaded.study, index, p_kw, control=spec)
    except ConfigError as err:
        fail(str(err))
        raise typer.Exit(2) from err
    if fmt is TextOrJson.json:
        doc = connection_document(answer, inputs=[str(p) for p in paths], findings=loaded.findings)
        stdout.out(dumps(doc), end="", highlight=False)
    else:
        _print(answer)
    raise typer.Exit(0 if answer.accepted else 1)


def register(app: typer.Typer) -> None:
    """Add the command to the application."""
    app.command(name="connect")(connect_command)
