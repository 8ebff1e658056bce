"""Hostile and broken inputs: exit 2 with one clear stderr line, fast, bounded memory, nothing read from disk or net.

Every input is created in tmp_path: XXE, billion laughs, zip bombs (one lying about its size), zip slip names,
truncated XML, random binary, other encodings, an empty file and a 5,000-level deep document.
"""

from __future__ import annotations

import io
import json
import random
import socket
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cimflow.cim.source import SourceLimits
from cimflow.cli.app import app
from cimflow.validate import validate

runner = CliRunner()
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
RDF = '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/2013/CIM-schema-cim16#">'
BV = (
    '<cim:BaseVoltage rdf:ID="_BV"><cim:BaseVoltage.nominalVoltage>0.4</cim:BaseVoltage.nominalVoltage>'
    "</cim:BaseVoltage>"
)
VALID = HEAD + RDF + BV + "</rdf:RDF>\n"
SECRET = "cimflow-secret-7d3f"


def _laughs() -> str:
    ents = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return f'<!DOCTYPE rdf:RDF [<!ENTITY l0 "lol">{ents}]>\n'


def _lying_zip(inflated: int, declared: int) -> bytes:
    """A deflated member of ``inflated`` zero bytes whose local and central headers claim ``declared`` bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("grid_EQ.xml", b"\0" * inflated)
    data = bytearray(buf.getvalue())
    struct.pack_into("<I", data, 22, declared)  # local file header: uncompressed size
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)  # central directory: uncompressed size
    return bytes(data)


def _cases(tmp: Path) -> dict[str, Path]:
    secret = tmp / "secret.txt"
    secret.write_text(SECRET)
    files: dict[str, bytes] = {
        "xxe.xml": (HEAD + f'<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "file://{secret}">]>\n' + RDF
                    + '<cim:BaseVoltage rdf:ID="_BV"><cim:IdentifiedObject.name>&x;</cim:IdentifiedObject.name>'
                    + "</cim:BaseVoltage></rdf:RDF>").encode(),
        "xxe_passwd.xml": (HEAD + '<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n' + RDF
                           + '<cim:BaseVoltage rdf:ID="_BV"><cim:IdentifiedObject.name>&x;'
                           + "</cim:IdentifiedObject.name></cim:BaseVoltage></rdf:RDF>").encode(),
        "external_dtd.xml": (HEAD + '<!DOCTYPE rdf:RDF SYSTEM "http://127.0.0.1:9/evil.dtd">\n' + RDF + BV
                             + "</rdf:RDF>").encode(),
        "laughs.xml": (HEAD + _laughs() + RDF + '<cim:BaseVoltage rdf:ID="_BV"><cim:IdentifiedObject.name>&l9;'
                       + "</cim:IdentifiedObject.name></cim:BaseVoltage></rdf:RDF>").encode(),
        "laughs_late.xml": (HEAD + "<!--" + "x" * 70_000 + "-->\n" + _laughs() + RDF
                            + '<cim:BaseVoltage rdf:ID="_BV"><cim:IdentifiedObject.name>&l9;'
                            + "</cim:IdentifiedObject.name></cim:BaseVoltage></rdf:RDF>").encode(),
        "truncated.xml": VALID[: len(VALID) // 2].encode(),
        "binary.xml": random.Random(7).randbytes(200_000),
        "empty.xml": b"",
        "latin1_declared_utf8.xml": (HEAD + RDF + '<cim:BaseVoltage rdf:ID="_BV"><cim:IdentifiedObject.name>Größe'
                                     + "</cim:IdentifiedObject.name></cim:BaseVoltage></rdf:RDF>").encode("latin-1"),
        "deep.xml": (HEAD + RDF + '<cim:BaseVoltage rdf:ID="_BV"><cim:IdentifiedObject.name>' + "<x>" * 5000
                     + "</x>" * 5000 + "</cim:IdentifiedObject.name></cim:BaseVoltage></rdf:RDF>").encode(),
        "bomb_lying.zip": _lying_zip(20 << 20, 1000),
        "not_a_zip.zip": b"PK\x03\x04" + random.Random(3).randbytes(5000),
    }  # fmt: skip
    out = {}
    for name, data in files.items():
        (tmp / name).write_bytes(data)
        out[name] = tmp / name
    return out


UNREADABLE = [
    "xxe.xml", "xxe_passwd.xml", "external_dtd.xml", "laughs.xml", "laughs_late.xml", "truncated.xml",
    "binary.xml", "empty.xml", "latin1_declared_utf8.xml", "deep.xml", "bomb_lying.zip", "not_a_zip.zip",
]  # fmt: skip


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything opens a socket from Python."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("name", UNREADABLE)
def test_unreadable_input_exits_two_with_one_line(tmp_path: Path, name: str) -> None:
    path = _cases(tmp_path)[name]
    start = time.perf_counter()
    result = runner.invoke(app, ["validate", str(path), "--format", "json"])
    elapsed = time.perf_counter() - start
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("cimflow: ")
    assert " CF0" in lines[0]
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert SECRET not in result.output
    assert "root:" not in result.output
    assert elapsed < 10


def test_entity_files_are_refused_before_parsing(tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    for name in ("xxe.xml", "xxe_passwd.xml", "laughs.xml"):
        (f,) = validate(cases[name]).findings
        assert f.code == "CF004", name


def test_zip_slip_names_stay_in_memory(tmp_path: Path) -> None:
    evil = tmp_path / "evil_EQ.xml"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(f"../../{'../' * 8}{evil.relative_to(evil.anchor)}", VALID)
        z.writestr("/absolute/grid_EQ.xml", VALID)
    archive = tmp_path / "inner" / "slip.zip"
    archive.parent.mkdir()
    archive.write_bytes(buf.getvalue())
    result = runner.invoke(app, ["validate", str(archive), "--format", "json"])
    assert result.exit_code in (0, 1)
    assert not evil.exists()
    files = {f["file"] for f in json.loads(result.stdout)["findings"]}
    assert all(f is None or f.startswith(str(archive) + "!/") for f in files)


def test_zip_bomb_is_capped(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("grid_EQ.xml", b"\0" * (8 << 20))
    bomb = tmp_path / "bomb.zip"
    bomb.write_bytes(buf.getvalue())
    result = validate(bomb, limits=SourceLimits(max_member_bytes=1 << 20))
    assert not result.readable
    assert [f.code for f in result.findings] == ["CF005"]


def test_nested_zips_deeper_than_the_limit(tmp_path: Path) -> None:
    data = VALID.encode()
    name = "grid_EQ.xml"
    for level in range(6):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(name, data)
        data, name = buf.getvalue(), f"level{level}.zip"
    nested = tmp_path / "nested.zip"
    nested.write_bytes(data)
    result = validate(nested)
    assert not result.readable
    assert {f.code for f in result.findings} == {"CF005"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le-bom", "iso-8859-1-declared"])
def test_other_encodings_are_read(tmp_path: Path, encoding: str) -> None:
    if encoding == "utf-16":
        data = VALID.replace("UTF-8", "UTF-16").encode("utf-16")
    elif encoding == "utf-16-le-bom":
        data = b"\xff\xfe" + VALID.replace("UTF-8", "UTF-16").encode("utf-16-le")
    else:
        data = VALID.replace("UTF-8", "ISO-8859-1").replace("_BV", "_BVä").encode("latin-1")
    path = tmp_path / "enc.xml"
    path.write_bytes(data)
    result = runner.invoke(app, ["validate", str(path), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.stdout)["findings"] is not None


def _peak_rss_mb(args: list[str]) -> tuple[int, float, str]:
    """Run the CLI in a fresh interpreter; exit code, peak resident memory (VmHWM, MB) and stderr."""
    code = (
        "import sys\n"
        "from cimflow.cli.app import main\n"
        f"sys.argv = {['cimflow', *args]!r}\n"
        "try:\n    main()\nexcept SystemExit as e:\n    rc = e.code\nelse:\n    rc = 0\n"
        "hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
        "print(rc, int(hwm.split()[1]) / 1024)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    rc, rss = proc.stdout.split()[-2:]
    return int(rc), float(rss), proc.stderr


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="peak memory is read from /proc (Linux)")
def test_bomb_and_huge_file_time_and_memory(tmp_path: Path) -> None:
    lying = tmp_path / "lying.zip"
    lying.write_bytes(_lying_zip(200 << 20, 1000))
    rc, rss, err = _peak_rss_mb(["validate", str(lying)])
    assert rc == 2
    assert "CF005" in err
    assert len(err.strip().splitlines()) == 1
    assert rss < 200, rss  # the interpreter with lxml, pydantic and rich is about 90 MB
    huge = tmp_path / "huge.xml"  # 60 MB of one text node: read, refused as not RDF
    with huge.open("wb") as fh:
        fh.write(b"<?xml version='1.0'?><blob>")
        for _ in range(60):
            fh.write(b"A" * (1 << 20))
        fh.write(b"</blob>")
    start = time.perf_counter()
    rc, rss, err = _peak_rss_mb(["validate", str(huge)])
    assert rc == 2
    assert len(err.strip().splitlines()) == 1
    assert time.perf_counter() - start < 60
    assert rss < 400, rss


def test_doctype_after_a_long_comment_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    late = tmp_path / "late.xml"
    late.write_text(
        HEAD + "<!--" + "x" * 70_000 + "-->\n" + f'<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        + RDF + '<cim:BaseVoltage rdf:ID="_BV"><cim:IdentifiedObject.name>&x;</cim:IdentifiedObject.name>'
        + "</cim:BaseVoltage></rdf:RDF>"
    )  # fmt: skip
    result = validate(late)
    assert SECRET not in json.dumps([f.message for f in result.findings])  # nothing is read either way
    assert [f.code for f in result.findings] == ["CF004"]


def test_a_superscript_digit_where_an_integer_belongs_is_a_finding(tmp_path: Path) -> None:
    """ "²" is a digit to str.isdigit but not to int(): a finding (CF105), not a traceback."""
    path = tmp_path / "grid_EQ.xml"
    path.write_text(
        HEAD + RDF + '<cim:Terminal rdf:ID="_T"><cim:ACDCTerminal.sequenceNumber>\u00b2'
        "</cim:ACDCTerminal.sequenceNumber></cim:Terminal></rdf:RDF>\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["validate", str(path), "--format", "json"])
    assert result.exit_code == 1, result.output
    found = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["attribute"], f["ctx"]["value"]) for f in found if f["code"] == "CF105"] == [
        ("CF105", "ACDCTerminal.sequenceNumber", "\u00b2")
    ]
