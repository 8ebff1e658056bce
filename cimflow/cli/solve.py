"""``cimflow solve``: power flow of CIM inputs; a summary on stdout, annotated CIM and reports in --out."""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer
from rich.table import Table

from cimflow.apps.volt_var import ControlConfig, ControlMode
from cimflow.cim import namespaces as ns
from cimflow.cim.rdf import parse_document
from cimflow.cim.source import Document
from cimflow.cim.write import write_rdfxml
from cimflow.cli.common import TextOrJson, hold, location_text, writing_into
from cimflow.cli.console import fail, stderr, stdout
from cimflow.config import load_settings
from cimflow.errors import ConfigError
from cimflow.findings import Severity
from cimflow.gcpause import gc_paused
from cimflow.powerflow import Solver
from cimflow.powerflow.solution import BusResult
from cimflow.report.cim_annotated import render_annotated_cim
from cimflow.report.common import dumps
from cimflow.solve import SolveOptions, SolveResult, solve

if TYPE_CHECKING:
    from cimflow.model.network import Network
    from cimflow.powerflow.case import CaseBuild
    from cimflow.powerflow.result import PowerFlowResult
    from cimflow.powerflow.solution import Solution
    from cimflow.topology.model import Topology

_INPUT_SUFFIXES = (".xml", ".rdf", ".zip")


def _input_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(c for c in p.rglob("*") if c.is_file() and c.suffix.lower() in _INPUT_SUFFIXES))
        elif p.is_file():
            files.append(p)
    return files


def _stem(paths: list[Path]) -> str:
    first = _input_files(paths)[:1]
    if not first:
        return "cimflow"
    stem = first[0].stem
    for suffix in ("_EQ", "_SSH", "_TP", "_SV"):
        if stem.upper().endswith(suffix):
            return stem[: -len(suffix)] or "cimflow"
    return stem


_Content = bytes | tuple[bytes, ...] | Path  # a file to write: its bytes, its bytes in parts, an input to copy


def _solved(result: SolveResult) -> tuple[Network, Topology, CaseBuild, PowerFlowResult, Solution] | None:
    """What the annotated CIM is written from, or ``None`` where the solve did not get that far."""
    v = result.validation
    network, topology, build, pf, solution = v.network, v.topology, result.build, result.result, result.solution
    if network is None or topology is None or build is None or pf is None or solution is None:
        return None
    return network, topology, build, pf, solution


def _input_copies(paths: list[Path]) -> dict[str, Path]:
    """The input files copied unchanged into the output folder, by name (the first of each name)."""
    copies: dict[str, Path] = {}
    for src in _input_files(paths):
        copies.setdefault(src.name, src)
    return copies


def _outputs(result: SolveResult, paths: list[Path], *, report: bool, merged: bool) -> dict[str, _Content]:
    """Every file to write into the output folder, by name: its bytes (whole or in consecutive parts), or the
    input file to copy unchanged.

    Pure: nothing is read or written here (input copies are made by the file system, not through memory).
    """
    files: dict[str, _Content] = {}
    stem = _stem(paths)
    solved = _solved(result)
    if solved is not None:
        annotated = render_annotated_cim(*solved, stem=f"{stem}_cimflow")
        if merged:
            files[f"{stem}_merged.xml"] = _merge(solved[0], annotated.documents)
        else:
            files.update(_input_copies(paths))
            files.update(dict(annotated.parts))
    if report:
        from cimflow.report.solve_html import render_solve_html
        from cimflow.report.solve_json import solve_document
        from cimflow.report.solve_markdown import render_solve_markdown

        doc = solve_document(result, inputs=[str(p) for p in paths])
        files["report.json"] = dumps(doc).encode("utf-8")
        files["report.md"] = render_solve_markdown(doc).encode("utf-8")
        files["report.html"] = render_solve_html(doc).encode("utf-8")
    return files


def _clashes(target: Path, data: _Content) -> bool:
    """Whether writing ``data`` to ``target`` would replace another file (an input copied onto itself does not)."""
    if not target.exists():
        return False
    return not (isinstance(data, Path) and target.samefile(data))


def _write(target: Path, data: _Content) -> None:
    """Write bytes or consecutive parts, or copy an input file (nothing to do when the target is that input)."""
    if isinstance(data, bytes):
        target.write_bytes(data)
    elif isinstance(data, tuple):
        with target.open("wb") as f:
            f.writelines(data)
    elif not (target.exists() and target.samefile(data)):
        shutil.copyfile(data, target)


class _Copies:
    """The input files copied into the output folder in a background thread while the SV is rendered.

    The copies go to hidden ``.NAME.cimflow-partial`` files and take their names only when the command
    writes its outputs (:meth:`finish`); on any other way out (a clash refused, an error) they are removed,
    and the folder too if this made it and it is still empty (:meth:`discard`). Copying is the file system's
    work outside the interpreter lock, so it overlaps the rendering.
    """

    def __init__(self, out: Path, sources: dict[str, Path]) -> None:
        self.out = out
        self.made_out = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        self.names = tuple(sources)
        self._partial = {name: out / f".{name}.cimflow-partial" for name in sources}
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._copy, args=(sources,), name="cimflow-copy", daemon=True)
        self._thread.start()

    def _copy(self, sources: dict[str, Path]) -> None:
        try:
            for name, src in sources.items():
                shutil.copyfile(src, self._partial[name])
        except OSError as err:
            self._error = err

    def finish(self, names: set[str]) -> None:
        """Wait for the copies and give those in ``names`` their names (re-raising an error of the copying)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        for name in self.names:
            if name in names:
                self._partial.pop(name).replace(self.out / name)

    def discard(self) -> None:
        """Wait for the copies and remove those not named (nothing when :meth:`finish` ran)."""
        self._thread.join()
        for partial in self._partial.values():
            partial.unlink(missing_ok=True)
        if self.made_out:
            with contextlib.suppress(OSError):
                self.out.rmdir()  # only if still empty


def _copies_ahead(result: SolveResult, paths: list[Path], out: Path, *, merged: bool) -> _Copies | None:
    """Start copying the inputs :func:`_outputs` will list, where none of their names exists in ``out``
    (a clash, or an input inside ``out``, takes the ordinary path after rendering)."""
    if merged or _solved(result) is None:
        return None
    sources = _input_copies(paths)
    try:
        if any((out / name).exists() for name in sources):
            return None
        return _Copies(out, sources)
    except OSError:  # the folder cannot be made: reported where the outputs are written
        return None


def _merge(network: object, annotated: tuple[tuple[str, bytes], ...]) -> bytes:
    """All input statements plus the new TP/SV objects, in one RDF/XML document (headers dropped)."""
    dataset = network.dataset  # type: ignore[attr-defined]
    docs = list(dataset.documents)
    for name, data in annotated:
        parsed, _ = parse_document(Document(name, data))
        if parsed is not None:
            docs.append(parsed)
    cim_docs = [d for d in docs if d.cim_namespace]
    base = cim_docs[0] if cim_docs else docs[0]
    nsmap: dict[str, str] = {}
    for d in docs:
        for k, uri in d.nsmap.items():
            nsmap.setdefault(k, uri)
    from cimflow.cim.rdf import RawDocument

    merged = RawDocument(
        name="merged",
        nsmap=nsmap,
        root_attrib={},
        header=None,
        objects=[o for d in docs for o in d.objects if o.tag not in ns.HEADER_TAGS],
        cim_namespace=base.cim_namespace,
    )
    return write_rdfxml(merged)


def _extremes(buses: Sequence[BusResult]) -> tuple[int, BusResult | None, BusResult | None]:
    """Number of energised buses and the first with the lowest and the highest voltage (None if none).

    Voltages and flags are gathered into arrays once: a second and third pass over 100k bus records
    would cost more than the table they feed.
    """
    on = np.fromiter((b.energised for b in buses), bool, len(buses))
    if not on.any():
        return 0, None, None
    v = np.fromiter((b.v_pu for b in buses), float, len(buses))
    at = np.flatnonzero(on)
    v, nan = v[at], np.isnan(v[at])  # a voltage that did not converge is neither extreme
    lo, hi = np.argmin(np.where(nan, np.inf, v)), np.argmax(np.where(nan, -np.inf, v))
    return int(at.size), buses[int(at[lo])], buses[int(at[hi])]


def _print_summary(result: SolveResult) -> None:
    sol = result.solution
    table = Table(title="Power flow", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    if sol is None:
        table.add_row("solved", "no: the inputs could not be modelled (see the findings)")
    else:
        n_energised, lo, hi = _extremes(sol.buses)
        table.add_row("converged", f"{'yes' if sol.converged else 'NO'} ({sol.solver}, {sol.iterations} iterations)")
        table.add_row("buses", f"{len(sol.buses)} ({n_energised} energised), {len(sol.branches)} branches")
        if lo is not None and hi is not None:
            table.add_row("lowest voltage", f"{lo.v_pu:.4f} pu ({lo.v_kv:.4g} kV) at {lo.name or lo.id}")
            table.add_row("highest voltage", f"{hi.v_pu:.4f} pu ({hi.v_kv:.4g} kV) at {hi.name or hi.id}")
        for s in sol.slacks:
            table.add_row("source", f"{s.name or s.id}: {s.p_inject_mw:.6g} MW, {s.q_inject_mvar:.6g} Mvar supplied")
        table.add_row("losses", f"{sol.losses_mw:.6g} MW, {sol.losses_mvar:.6g} Mvar")
        if result.control is not None:
            c, before = result.control.controlled, result.control.uncontrolled
            state = "settled" if c.converged else "NOT settled (CF410)"
            table.add_row(
                "Volt-VAR control",
                f"{c.mode} on {len(c.modes)} inverters, {state} after {c.iterations} iterations; highest voltage "
                f"{before.v_pu.max():.4f} pu without control",
            )
        loaded = [b for b in sol.branches if b.loading_pct is not None]
        if loaded:
            top = max(loaded, key=lambda b: b.loading_pct or 0.0)
            table.add_row("highest loading", f"{top.loading_pct:.1f} % on {top.name or top.id}")
    stdout.print(table)
    shown = [f for f in result.findings if f.code.startswith("CF4") or f.severity >= Severity.ERROR]
    if shown:
        ft = Table(title=f"Findings that concern the solve ({len(shown)})", title_justify="left")
        for col in ("location", "severity", "code", "message"):
            ft.add_column(col, overflow="fold")
        for f in shown[:30]:
            ft.add_row(location_text(f.location.file, f.location.line), f.severity.label, f.code, f.message)
        stdout.print(ft)
        if len(shown) > 30:
            stdout.print(f"... and {len(shown) - 30} more (see report.json or `cimflow validate`)", highlight=False)
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    stdout.print(
        f"{counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings, {counts[Severity.INFO]} infos",
        highlight=False,
    )


def solve_command(
    paths: Annotated[list[Path], typer.Argument(help="CIM files, folders or zip archives (EQ, SSH, TP, ...).")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Folder for the annotated CIM (inputs + TP + SV) and reports.")
    ] = None,
    report: Annotated[
        bool, typer.Option("--report", help="Also write report.json, report.md and report.html.")
    ] = False,
    fmt: Annotated[TextOrJson, typer.Option("--format", "-f", help="stdout: summary table or the JSON report.")] = (
        TextOrJson.text
    ),
    solver: Annotated[Solver, typer.Option("--solver", help="auto: FBS on radial islands, else Newton-Raphson.")] = (
        Solver.AUTO
    ),
    tolerance: Annotated[float, typer.Option("--tolerance", help="Convergence tolerance in pu.")] = 1e-8,
    max_iter: Annotated[int, typer.Option("--max-iter", help="Iteration cap.")] = 100,
    merged: Annotated[bool, typer.Option("--merged", help="Write one merged CIM file instead of inputs + TP + SV.")] = (
        False
    ),
    config: Annotated[Path | None, typer.Option("--config", help="TOML settings (limits, s_base_mva, ...).")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite files that exist in --out (inputs already in --out need no --force: they stay as is).",
        ),
    ] = False,
    control: Annotated[
        ControlMode | None,
        typer.Option(
            "--control", help="Volt-VAR control of the inverters (default: `control` in the config, else none)."
        ),
    ] = None,
    control_config: Annotated[
        Path | None,
        typer.Option("--control-config", help="TOML file with the control curves, limits and loop settings."),
    ] = None,
) -> None:
    """Solve the power flow (FBS on radial feeders, Newton-Raphson where meshed) and check the limits.

    Exit code 0: converged and no error finding; 1: not converged or error findings; 2: unreadable
    input, bad options, or output that would overwrite files without --force.
    """
    try:
        settings = load_settings(config)
        config_file = control_config or (Path(settings.control_config) if settings.control_config else None)
        options = SolveOptions(
            solver=solver, tolerance=tolerance, max_iter=max_iter, control=control,
            control_config=ControlConfig.from_toml(config_file) if config_file is not None else None,
        )  # fmt: skip
    except ConfigError as err:
        fail(str(err))
        raise typer.Exit(2) from err
    if report and out is None:
        out = Path("cimflow-out")
    if out is not None and out.exists() and not out.is_dir():
        fail(f"{out} exists and is not a folder")
        raise typer.Exit(2)
    result = solve(paths, settings=settings, options=options)
    hold(result)  # freed with the process (cimflow.cli.app.console)
    if not result.validation.readable:
        for f in [f for f in result.findings if f.severity >= Severity.ERROR][:10]:
            fail(f"{location_text(f.location.file, f.location.line)}: {f.code} {f.message}")
        raise typer.Exit(2)
    if out is not None:
        copies = _copies_ahead(result, paths, out, merged=merged)
        try:
            with gc_paused():
                files = _outputs(result, paths, report=report, merged=merged)
            clashes = [name for name, data in files.items() if _clashes(out / name, data)]
            if clashes and not force:
                fail(f"refusing to overwrite {len(clashes)} file(s) in {out}, e.g. {clashes[0]} (use --force)")
                raise typer.Exit(2)
            # inputs copied ahead that are still to be copied (an output of the same name replaces one)
            ahead = {n for n in copies.names if isinstance(files.get(n), Path)} if copies is not None else set()
            with writing_into(out):
                out.mkdir(parents=True, exist_ok=True)
                for name, data in files.items():
                    if name not in ahead:
                        _write(out / name, data)
                if copies is not None:
                    copies.finish(ahead)
        finally:
            if copies is not None:
                copies.discard()
        stderr.print(f"wrote {len(files)} files to {out}", highlight=False)
    if fmt is TextOrJson.json:
        from cimflow.report.solve_json import solve_document

        with gc_paused():
            text = dumps(solve_document(result, inputs=[str(p) for p in paths]))
        stdout.out(text, end="", highlight=False)
    else:
        _print_summary(result)
    raise typer.Exit(1 if result.failed else 0)


def register(app: typer.Typer) -> None:
    """Add the command to the application."""
    app.command(name="solve")(solve_command)
