"""`cimflow solve`: exit codes, annotated CIM that other tools read back, no overwrite, merged output."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cimflow
from cimflow.cli.app import app
from cimflow.samples import write_synthetic_feeder
from tests.conftest import SAMPLES

runner = CliRunner()
SAMPLE_DIR = SAMPLES / "simbench-lv-urban6"
SAMPLE = [SAMPLE_DIR / f"simbench_lv_urban6_{p}.xml" for p in ("EQ", "SSH", "TP")]


def test_solve_exit_zero_and_summary() -> None:
    result = runner.invoke(app, ["solve", *map(str, SAMPLE)])
    assert result.exit_code == 0, result.output
    assert "converged" in result.stdout
    assert "0.9814" in result.stdout  # lowest voltage of the sample


def test_unreadable_input_exits_two(tmp_path: Path) -> None:
    bad = tmp_path / "x.xml"
    bad.write_bytes(b"\x00\x01 not xml")
    result = runner.invoke(app, ["solve", str(bad)])
    assert result.exit_code == 2
    assert "CF001" in result.stderr
    assert "Traceback" not in result.output


def test_not_converged_exits_one(tmp_path: Path) -> None:
    ssh = SAMPLE[1].read_text()
    ssh = re.sub(
        r"<cim:EnergyConsumer.p>([0-9.]+)<", lambda m: f"<cim:EnergyConsumer.p>{float(m.group(1)) * 1000}<", ssh
    )
    (tmp_path / "s_SSH.xml").write_text(ssh)
    result = runner.invoke(
        app, ["solve", str(SAMPLE[0]), str(tmp_path / "s_SSH.xml"), str(SAMPLE[2]), "--max-iter", "20"]
    )
    assert result.exit_code == 1
    assert "CF401" in result.stdout


def test_bad_option_exits_two() -> None:
    assert runner.invoke(app, ["solve", str(SAMPLE[0]), "--solver", "magic"]).exit_code == 2
    assert runner.invoke(app, ["solve", str(SAMPLE[0]), "--tolerance", "-1"]).exit_code == 2


def test_out_writes_inputs_unchanged_and_sv_read_back(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", *map(str, SAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert "simbench_lv_urban6_cimflow_SV.xml" in names
    for src in SAMPLE:
        assert (out / src.name).read_bytes() == src.read_bytes()
    # the SV we wrote, read back by cimflow, holds the solved voltages of every node
    solved = cimflow.solve(SAMPLE)
    assert solved.solution is not None
    back = cimflow.load([*SAMPLE, out / "simbench_lv_urban6_cimflow_SV.xml"])
    assert back.network is not None
    sv = {v.topological_node: v.v_kv for v in back.network.sv_voltages.values()}
    assert len(sv) == 59
    for bus in solved.solution.buses:
        assert sv[bus.topological_node] == pytest.approx(bus.v_kv, rel=1e-9)
    # no error appears by adding our SV to the inputs
    assert not [f for f in back.findings if f.severity >= cimflow.Severity.ERROR]


def test_out_in_the_input_folder_keeps_the_inputs(tmp_path: Path) -> None:
    """--out the inputs' own folder with --force: the inputs are the copies, left as they are."""
    for src in SAMPLE:
        shutil.copy(src, tmp_path / src.name)
    copies = [tmp_path / src.name for src in SAMPLE]
    result = runner.invoke(app, ["solve", *map(str, copies), "--out", str(tmp_path), "--force"])
    assert result.exit_code == 0, result.output
    for src, copy in zip(SAMPLE, copies, strict=True):
        assert copy.read_bytes() == src.read_bytes()
    assert (tmp_path / "simbench_lv_urban6_cimflow_SV.xml").stat().st_size > 0


def test_never_overwrites_without_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    keep = out / "simbench_lv_urban6_EQ.xml"
    keep.write_text("user data")
    result = runner.invoke(app, ["solve", *map(str, SAMPLE), "--out", str(out)])
    assert result.exit_code == 2
    assert keep.read_text() == "user data"
    assert runner.invoke(app, ["solve", *map(str, SAMPLE), "--out", str(out), "--force"]).exit_code == 0


def test_node_breaker_input_gets_a_tp_profile(tmp_path: Path) -> None:
    paths = write_synthetic_feeder(30, tmp_path / "in", seed=5, node_breaker=True)
    no_tp = [p for p in paths if not p.name.endswith("_TP.xml")]
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", *map(str, no_tp), "--out", str(out)])
    assert result.exit_code == 0, result.output
    tp = out / "synthetic_cimflow_TP.xml"
    assert tp.is_file()
    back = cimflow.load([*no_tp, tp, out / "synthetic_cimflow_SV.xml"])
    assert back.network is not None
    assert len(back.network.topological_nodes) == 30
    assert len(back.network.sv_voltages) == 30
    assert all(t.topological_node for t in back.network.terminals.values())


def test_merged_writes_one_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["solve", *map(str, SAMPLE), "--out", str(out), "--merged"])
    assert result.exit_code == 0, result.output
    (merged,) = list(out.iterdir())
    back = cimflow.load(merged)
    assert back.network is not None
    assert back.network.class_counts["ACLineSegment"] == 57
    assert back.network.class_counts["SvVoltage"] == 59


def test_pandapower_reads_the_result(tmp_path: Path) -> None:
    from_cim = pytest.importorskip("pandapower.converter.cim.cim2pp.from_cim")
    out = tmp_path / "out"
    assert runner.invoke(app, ["solve", *map(str, SAMPLE), "--out", str(out)]).exit_code == 0
    files = [str(out / p.name) for p in SAMPLE] + [str(out / "simbench_lv_urban6_cimflow_SV.xml")]
    net = from_cim.from_cim(file_list=files)
    assert len(net.bus) == 59
    assert len(net.line) == 57


def test_powsybl_reads_the_result(tmp_path: Path) -> None:
    pp = pytest.importorskip("pypowsybl")
    out = tmp_path / "out"
    assert runner.invoke(app, ["solve", *map(str, SAMPLE), "--out", str(out)]).exit_code == 0
    archive = tmp_path / "solved.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in [*SAMPLE, out / "simbench_lv_urban6_cimflow_SV.xml"]:
            zf.write(p if p.parent == out else out / p.name, p.name)
    net = pp.network.load(str(archive))
    buses = net.get_buses()
    solved = cimflow.solve(SAMPLE)
    assert solved.solution is not None
    lowest = min(b.v_kv for b in solved.solution.buses)
    # PowSyBl imports the SV voltages as the initial state of its buses
    assert buses["v_mag"].min() == pytest.approx(lowest, rel=1e-6)


def test_the_sv_written_is_the_same_under_any_hash_seed(shared_data: Path, tmp_path: Path) -> None:
    """Objects are written in the topology's order, not a set's: ENTSO-E MiniGrid (CGMES 3.0) has equipment
    out of service, whose SvStatus came out in hash order for a while."""
    import os
    import subprocess
    import sys

    inputs = sorted((shared_data / "entsoe-cgmes-3.0" / "cgmes3-test-models" / "MiniGrid").glob("*.xml"))
    inputs = [p for p in inputs if "_SV" not in p.name]
    if not inputs:
        pytest.skip("MiniGrid 3.0 not in the shared data")
    written = []
    for seed in ("1", "2", "3"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed, "SOURCE_DATE_EPOCH": "1700000000"}
        code = "from cimflow.cli.app import main; main()"
        cmd = [sys.executable, "-c", code, "solve", *map(str, inputs), "--out", str(out)]
        subprocess.run(cmd, env=env, check=False, capture_output=True)
        (sv,) = out.glob("*_cimflow_SV.xml")
        written.append(sv.read_bytes())
    assert b"SvStatus.inService>false" in written[0]
    assert written[0] == written[1] == written[2]


@pytest.mark.parametrize("heavy", [False, True], ids=["converges", "1000x-load"])
@pytest.mark.parametrize("command", ["solve", "validate"])
def test_the_command_process_ends_with_its_exit_code_and_whole_output(
    tmp_path: Path, command: str, heavy: bool
) -> None:
    """The cimflow executable ends a run without freeing its model: the exit code, stdout and the files
    written must be those of a run that tears everything down (the in-process runner)."""
    import json
    import subprocess
    import sys

    ssh = SAMPLE[1]
    if heavy:  # does not converge: exit 1 from solve
        text = re.sub(
            r"<cim:EnergyConsumer.p>([0-9.]+)<",
            lambda m: f"<cim:EnergyConsumer.p>{float(m.group(1)) * 1000}<",
            SAMPLE[1].read_text(),
        )
        ssh = tmp_path / "s_SSH.xml"
        ssh.write_text(text)
    inputs = [str(SAMPLE[0]), str(ssh), str(SAMPLE[2])]
    args = [command, *inputs, "--format", "json"]
    if command == "solve":
        args += ["--max-iter", "20", "--out", str(tmp_path / "out")]
    expected = runner.invoke(app, args[:-2] if command == "solve" else args)  # no --out: files once only
    code = "from cimflow.cli.app import console; console()"  # the cimflow executable
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    assert proc.returncode == expected.exit_code == (1 if heavy and command == "solve" else 0)
    doc = json.loads(proc.stdout)  # flushed whole before the process ended
    reference = json.loads(expected.stdout)
    if command == "validate":
        assert doc == reference
    else:
        assert doc["summary"]["converged"] is (not heavy)
        assert doc["buses"] == reference["buses"]
        written = sorted(p.name for p in (tmp_path / "out").iterdir())
        assert any(n.endswith("_SV.xml") for n in written)
        assert all((tmp_path / "out" / n).stat().st_size > 0 for n in written)


def test_documents_written_in_parts_are_the_rendered_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command writes the SV a part at a time: the file is byte for byte the document rendered whole."""
    from cimflow.cli.solve import _outputs, _solved, _stem, _write
    from cimflow.report.cim_annotated import render_annotated_cim

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    result = cimflow.solve(SAMPLE)
    solved = _solved(result)
    assert solved is not None
    files = _outputs(result, SAMPLE, report=False, merged=False)
    rendered = render_annotated_cim(*solved, stem=f"{_stem(SAMPLE)}_cimflow")
    parts = dict(rendered.parts)
    assert any(len(p) > 2 for p in parts.values())  # really in several parts
    whole = dict(rendered.documents)
    assert set(whole) == set(parts)
    assert all(b"".join(parts[n]) == whole[n] for n in whole)
    for name in whole:
        assert isinstance(files[name], tuple)
        _write(tmp_path / name, files[name])
        assert (tmp_path / name).read_bytes() == whole[name]


def test_an_output_folder_that_cannot_be_made_exits_two_with_a_message(tmp_path: Path) -> None:
    """--out below a file: no traceback, one line naming the folder, exit 2, nothing written."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = runner.invoke(app, ["solve", *map(str, SAMPLE), "--out", str(blocker / "out")])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "cannot write the output" in result.stderr
    assert blocker.read_text() == "not a folder"


def _partials(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".cimflow-partial")]


def test_input_copies_are_whole_and_leave_nothing_behind(tmp_path: Path) -> None:
    """The inputs are copied while the SV is rendered: in the end each copy is the input, under its name."""
    out = tmp_path / "new" / "out"
    result = runner.invoke(app, ["solve", *map(str, SAMPLE), "--out", str(out)])
    assert result.exit_code == 0
    for src in SAMPLE:
        assert (out / src.name).read_bytes() == src.read_bytes()
    assert any(p.name.endswith("_SV.xml") for p in out.iterdir())
    assert _partials(out) == []


def test_a_refused_clash_leaves_no_input_copies(tmp_path: Path) -> None:
    """An SV of an earlier run is not overwritten without --force, and the copies begun meanwhile are gone."""
    out = tmp_path / "out"
    assert runner.invoke(app, ["solve", *map(str, SAMPLE), "--out", str(out)]).exit_code == 0
    (sv,) = out.glob("*_SV.xml")
    before = sv.read_bytes()
    for src in SAMPLE:
        (out / src.name).unlink()  # only the SV clashes now
    result = runner.invoke(app, ["solve", *map(str, SAMPLE), "--out", str(out)])
    assert result.exit_code == 2
    assert "refusing to overwrite" in result.stderr
    assert sv.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [sv.name]


def test_inputs_inside_the_output_folder_stay_as_they_are(tmp_path: Path) -> None:
    folder = tmp_path / "grid"
    folder.mkdir()
    inputs = [folder / p.name for p in SAMPLE]
    for src, dst in zip(SAMPLE, inputs, strict=True):
        shutil.copyfile(src, dst)
    result = runner.invoke(app, ["solve", *map(str, inputs), "--out", str(folder)])
    assert result.exit_code == 0
    for src, dst in zip(SAMPLE, inputs, strict=True):
        assert dst.read_bytes() == src.read_bytes()
    assert _partials(folder) == []


def test_an_input_named_like_an_output_gives_way_to_the_new_output(tmp_path: Path) -> None:
    """An earlier run's SV given as an input, with the name the new SV gets: the new SV is written."""
    first = tmp_path / "first"
    assert runner.invoke(app, ["solve", *map(str, SAMPLE), "--out", str(first)]).exit_code == 0
    (old_sv,) = first.glob("*_cimflow_SV.xml")
    given = tmp_path / "in" / old_sv.name
    given.parent.mkdir()
    given.write_bytes(old_sv.read_bytes() + b"<!-- the earlier run's -->\n")
    out = tmp_path / "second"
    result = runner.invoke(app, ["solve", *map(str, SAMPLE), str(given), "--out", str(out)])
    assert result.exit_code == 0
    written = (out / old_sv.name).read_bytes()
    assert b"the earlier run's" not in written
    assert b"SvVoltage" in written
    for src in SAMPLE:
        assert (out / src.name).read_bytes() == src.read_bytes()
    assert _partials(out) == []


def test_a_solve_builds_no_model_validator() -> None:
    """Reading and solving make model objects without validation, so no class's validator is built (they
    are deferred to a first validation: building all seventy costs every command a few tenths of a second).
    In a new interpreter, as the command runs."""
    code = (
        "import sys, cimflow\n"
        "from cimflow.model.base import CimObject\n"
        "result = cimflow.solve(sys.argv[1:])\n"
        "assert result.converged\n"
        "def subclasses(c):\n"
        "    for s in c.__subclasses__():\n"
        "        yield s\n"
        "        yield from subclasses(s)\n"
        "built = [c.__name__ for c in subclasses(CimObject) if c.__dict__.get('__pydantic_complete__')]\n"
        "print(len(list(subclasses(CimObject))), built)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *map(str, SAMPLE)], capture_output=True, text=True, check=True)
    n, built = proc.stdout.split(" ", 1)
    assert int(n) > 50
    assert built.strip() == "[]"
