"""``cimflow hosting-capacity``: the largest PV, EV or load each bus takes, with the binding limit and where it is."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cimflow.apps.hosting import ControlSpec, HostingStudy, hosting_capacity, prepare_hosting
from cimflow.apps.hosting_criteria import Binding, Criterion, HostingConfig, HostingKind
from cimflow.apps.hosting_results import HostingResult
from cimflow.apps.volt_var import ControlConfig, ControlMode
from cimflow.cli.common import location_text, writing_into
from cimflow.cli.console import fail, stderr, stdout
from cimflow.config import Settings, load_settings
from cimflow.errors import ConfigError
from cimflow.findings import Finding, Severity
from cimflow.report.common import dumps
from cimflow.report.hosting import hosting_document, kw_text, render_hosting_csv, render_hosting_markdown
from cimflow.solve import solve


class HostingFormat(StrEnum):
    """Output formats of ``hosting-capacity``."""

    text = "text"
    json = "json"
    csv = "csv"


@dataclass(frozen=True, slots=True)
class Loaded:
    """What both commands need: the settings, the solved base case's findings and the study."""

    settings: Settings
    study: HostingStudy
    findings: tuple[Finding, ...]


def parse_criteria(text: str | None) -> frozenset[Criterion] | None:
    """``band,rise,lines`` → the set; ``None`` keeps the defaults. Raises ConfigError on an unknown name."""
    if text is None:
        return None
    names = [t.strip().lower() for t in text.split(",") if t.strip()]
    known = [c.value for c in Criterion]
    bad = [n for n in names if n not in known]
    if bad:
        raise ConfigError(f"--criteria: {bad[0]!r} is not one of {', '.join(known)}")
    return frozenset(Criterion(n) for n in names)


def control_spec(mode: str | None, config_file: Path | None) -> ControlSpec | None:
    """The Volt-VAR control of ``--control`` (and ``--control-config``); ConfigError on a bad value."""
    if mode is None:
        if config_file is not None:
            raise ConfigError("--control-config needs --control MODE")
        return None
    try:
        parsed = ControlMode(mode.strip().lower())
    except ValueError as err:
        raise ConfigError(f"--control: {mode!r} is not one of {', '.join(m.value for m in ControlMode)}") from err
    return ControlSpec(parsed, ControlConfig.from_toml(config_file) if config_file is not None else None)


def study_options(
    *,
    kind: HostingKind,
    pf: float,
    criteria: str | None,
    control: str | None,
    control_config: Path | None,
    v_min: float | None,
    v_max: float | None,
    rise_max: float,
    rise_max_mv: float,
    loading_max: float | None,
    load_scale: float | None,
    max_kw: float,
    **more: object,
) -> tuple[ControlSpec | None, dict[str, object]]:
    """The control and the study settings the hosting-capacity and connect options give (exit 2 if one is bad)."""
    try:
        spec = control_spec(control, control_config)
        chosen = parse_criteria(criteria)
    except ConfigError as err:
        fail(str(err))
        raise typer.Exit(2) from err
    make: dict[str, object] = {
        "kind": kind,
        "pf": pf,
        "criteria": chosen,
        "v_min_pu": v_min,
        "v_max_pu": v_max,
        "rise_max_pu": rise_max,
        "rise_max_mv_pu": rise_max_mv,
        "loading_max_pct": loading_max,
        "load_scale": load_scale,
        "max_kw": max_kw,
        **more,
    }
    return spec, make


def load_study(paths: list[Path], config: Path | None, make: dict[str, object]) -> Loaded:
    """Read and solve the inputs, then prepare the study; exits 2 (unreadable, bad options) or 1 (no model).

    Args:
        paths: Input files, folders or zips.
        config: ``--config`` file.
        make: Keyword arguments of :class:`HostingConfig`; ``None`` values take the settings' limits.
    """
    try:
        settings = load_settings(config)
        values = {k: v for k, v in make.items() if v is not None}
        values.setdefault("v_min_pu", settings.v_min_pu)
        values.setdefault("v_max_pu", settings.v_max_pu)
        values.setdefault("loading_max_pct", settings.loading_max_pct)
        cfg = HostingConfig(**values)  # type: ignore[arg-type]
    except ConfigError as err:
        fail(str(err))
        raise typer.Exit(2) from err
    result = solve(paths, settings=settings)
    if not result.validation.readable:
        for f in [f for f in result.findings if f.severity >= Severity.ERROR][:10]:
            fail(f"{location_text(f.location.file, f.location.line)}: {f.code} {f.message}")
        raise typer.Exit(2)
    v = result.validation
    if v.network is None or v.topology is None or result.build is None:
        errors = [f for f in result.findings if f.severity >= Severity.ERROR]
        fail("the inputs could not be modelled: " + (errors[0].message if errors else "no buses"))
        raise typer.Exit(1)
    study = prepare_hosting(v.network, v.topology, result.build, cfg)
    return Loaded(settings, study, result.findings)


def resolve_buses(study: HostingStudy, ids: list[str]) -> list[int]:
    """Bus indices of the ids given; an unknown id is a usage error (exit 2, one line)."""
    out = []
    for text in (part for item in ids for part in item.split(",") if part.strip()):
        index = study.find_bus(text)
        if index is None:
            fail(f"--bus {text}: no such bus (use a bus id of the solve report, a ConnectivityNode or TopologicalNode)")
            raise typer.Exit(2)
        out.append(index)
    return out


PARALLEL_MIN_CELLS = 4_000_000  # buses searched x island size below which extra processes cost more than they save


def default_workers(study: HostingStudy, buses: list[int] | None) -> int:
    """One process for small studies; for large ones, one per CPU this process may use."""
    n = len(study.topology.buses) if buses is None else len(buses)
    largest = max((int(i.bus_index.size) for i in study.islands), default=0)
    if n * largest < PARALLEL_MIN_CELLS:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _run(study: HostingStudy, buses: list[int] | None, workers: int, control: ControlSpec | None) -> HostingResult:
    """Run the study with a progress bar on stderr when it is a terminal."""
    with Progress(
        TextColumn("hosting capacity"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    ) as bar:
        task = bar.add_task("search", total=None)
        return hosting_capacity(
            study,
            buses,
            workers=workers,
            control=control,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def _print_table(result: HostingResult) -> None:
    control = result.control_mode is not None
    table = Table(
        title=f"Hosting capacity: {result.config.kind.value.upper()} ({len(result.buses)} buses)", title_justify="left"
    )
    for col in ("bus", "name", "kV", "capacity kW", "binding", "where", *(("with control kW",) if control else ())):
        table.add_column(col, overflow="fold", justify="right" if col.endswith(("kW", "kV")) else "left")
    for b in result.by_capacity():
        el = b.result.element
        row = [
            b.bus,
            b.name or "",
            f"{b.v_base_kv:g}" if b.v_base_kv else "",
            kw_text(b.capacity_kw),
            b.binding.value,
            el.label if el else (b.result.reason if b.binding is Binding.NOT_ENERGISED else ""),
        ]
        if control:
            row.append(kw_text(b.controlled.capacity_kw) if b.controlled else "")
        table.add_row(*row)
    stdout.print(table)


def hosting_command(
    paths: Annotated[list[Path], typer.Argument(help="CIM files, folders or zip archives (EQ, SSH, TP, ...).")],
    kind: Annotated[HostingKind, typer.Option("--kind", help="What is added: pv (generation), ev or load.")],
    bus: Annotated[
        list[str] | None, typer.Option("--bus", help="Bus id (repeatable, or comma-separated); default: every bus.")
    ] = None,
    all_buses: Annotated[bool, typer.Option("--all", help="Every bus (the default without --bus).")] = False,
    pf: Annotated[float, typer.Option("--pf", help="Power factor; PV absorbs, EV and load draw Q.")] = 1.0,
    criteria: Annotated[str | None, typer.Option("--criteria", help="band,rise,lines,transformers,reverse.")] = None,
    v_min: Annotated[float | None, typer.Option("--v-min", help="Band floor in pu (default 0.9).")] = None,
    v_max: Annotated[float | None, typer.Option("--v-max", help="Band ceiling in pu (default 1.1).")] = None,
    rise_max: Annotated[float, typer.Option("--rise-max", help="Largest rise at LV buses, pu (VDE-AR-N 4105).")] = 0.03,
    rise_max_mv: Annotated[float, typer.Option("--rise-max-mv", help="Largest rise at MV buses, pu.")] = 0.02,
    loading_max: Annotated[
        float | None, typer.Option("--loading-max", help="Loading limit in % (default 100).")
    ] = None,
    max_kw: Annotated[float, typer.Option("--max-kw", help="End of the search range, kW.")] = 10_000.0,
    tolerance_kw: Annotated[float, typer.Option("--tolerance-kw", help="Bisection tolerance, kW.")] = 0.1,
    load_scale: Annotated[
        float | None, typer.Option("--load-scale", help="Base-case load factor (PV 0.25, else 1).")
    ] = None,
    control: Annotated[
        str | None, typer.Option("--control", help="Also search with Volt-VAR control (qu, ...).")
    ] = None,
    control_config: Annotated[Path | None, typer.Option("--control-config", help="TOML of the control curves.")] = None,
    fmt: Annotated[HostingFormat, typer.Option("--format", "-f", help="stdout: text table, json or csv.")] = (
        HostingFormat.text
    ),
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder for hosting-capacity.json and .csv.")] = None,
    report: Annotated[bool, typer.Option("--report", help="Also write hosting-capacity.md and .html.")] = False,
    workers: Annotated[
        int, typer.Option("--workers", help="Processes (0: one per CPU for large studies, else 1).")
    ] = 0,
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings (limits, s_base_mva).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files in --out.")] = False,
) -> None:
    """Find the largest added PV, EV or load per bus such that every criterion still holds.

    Exit code 0: done; 1: the base case has no power-flow solution (nothing could be judged);
    2: unreadable input, an unknown bus or a bad option.
    """
    if bus and all_buses:
        fail("give either --bus or --all, not both")
        raise typer.Exit(2)
    spec, make = study_options(
        kind=kind, pf=pf, criteria=criteria, control=control, control_config=control_config, v_min=v_min,
        v_max=v_max, rise_max=rise_max, rise_max_mv=rise_max_mv, loading_max=loading_max, load_scale=load_scale,
        max_kw=max_kw, tolerance_kw=tolerance_kw,
    )  # fmt: skip
    loaded = load_study(paths, config, make)
    buses = resolve_buses(loaded.study, bus) if bus else None
    result = _run(loaded.study, buses, workers or default_workers(loaded.study, buses), spec)
    stderr.print(
        f"{result.n_solves} power flows in {result.elapsed_s:.2f} s ({result.solves_per_s:,.0f}/s)", highlight=False
    )
    doc = hosting_document(
        result,
        topology=loaded.study.topology,
        network=loaded.study.network,
        inputs=[str(p) for p in paths],
        findings=loaded.findings,
    )
    if report and out is None:
        out = Path("cimflow-out")
    if out is not None:
        _write(out, doc, report=report, force=force)
    if fmt is HostingFormat.json:
        stdout.out(dumps(doc), end="", highlight=False)
    elif fmt is HostingFormat.csv:
        stdout.out(render_hosting_csv(doc), end="", highlight=False)
    else:
        _print_table(result)
    failed = any(b.binding is Binding.BASE_CASE for b in result.buses)
    raise typer.Exit(1 if failed else 0)


def _write(out: Path, doc: dict[str, object], *, report: bool, force: bool) -> None:
    files = {"hosting-capacity.json": dumps(doc), "hosting-capacity.csv": render_hosting_csv(doc)}
    if report:
        from cimflow.report.hosting_html import render_hosting_html

        files["hosting-capacity.md"] = render_hosting_markdown(doc)
        files["hosting-capacity.html"] = render_hosting_html(doc)
    if out.exists() and not out.is_dir():
        fail(f"{out} exists and is not a folder")
        raise typer.Exit(2)
    clashes = [name for name in files if (out / name).exists()]
    if clashes and not force:
        fail(f"refusing to overwrite {out / clashes[0]} (use --force)")
        raise typer.Exit(2)
    with writing_into(out):
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
    stderr.print(f"wrote {len(files)} files to {out}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the command to the application."""
    app.command(name="hosting-capacity")(hosting_command)
