"""Open files, folders and zip archives (also zips of zips) into in-memory documents; the only input I/O.

Zip members are read into memory with a cap on the inflated bytes and the nesting depth; nothing is
ever extracted to disk, so member names (``../../etc/passwd``) cannot escape anywhere.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cimflow.catalog import inputs as codes
from cimflow.errors import InputError
from cimflow.findings import Finding, Location, make_finding

log = logging.getLogger(__name__)

DOC_SUFFIXES = (".xml", ".rdf")
ZIP_SUFFIX = ".zip"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class SourceLimits:
    """Safety limits for reading inputs."""

    max_member_bytes: int = 2 << 30  # 2 GiB inflated per zip member (a 100k-bus EQ is about 0.35 GiB)
    max_archive_bytes: int = 4 << 30  # 4 GiB inflated per top-level archive
    max_zip_depth: int = 3
    max_members: int = 100_000
    max_ratio: float = 200.0  # inflated / compressed bytes of a member; CIM XML compresses 10-30:1
    ratio_floor_bytes: int = 16 << 20  # members smaller than this inflated are never refused for their ratio


@dataclass(frozen=True, slots=True)
class Document:
    """One XML document's bytes and the name it is reported under (``a.zip!/b.xml`` for zip members).

    A document read from a plain file also knows that file and its size and modification time, so
    that its bytes can be dropped after reading and read again if a writer needs the raw statements.
    """

    name: str
    data: bytes
    path: str | None = None
    stamp: tuple[int, int] | None = None  # (size, mtime_ns) of the file when it was read

    def without_data(self) -> Document:
        """This document without its bytes if it can read them again from its file, else itself."""
        if self.path is None or self.stamp is None:
            return self
        return Document(self.name, b"", self.path, self.stamp)

    def with_data(self) -> Document:
        """This document with its bytes, read again from its file if they were dropped.

        Raises:
            InputError: the file is gone or changed since it was first read.
        """
        if self.data or self.path is None:
            return self
        try:
            st = Path(self.path).stat()
            if (st.st_size, st.st_mtime_ns) != self.stamp:
                raise InputError(f"{self.name}: the file changed after cimflow read it; run again")
            data = Path(self.path).read_bytes()
        except OSError as err:
            raise InputError(f"{self.name}: cannot read the file again: {err.strerror or err}") from err
        if len(data) != self.stamp[0]:
            raise InputError(f"{self.name}: the file changed after cimflow read it; run again")
        return Document(self.name, data, self.path, self.stamp)


class _ZipBudget:
    """Inflated bytes still allowed for one top-level archive."""

    def __init__(self, limit: int) -> None:
        self.left = limit


def _is_doc_name(name: str) -> bool:
    return name.lower().endswith(DOC_SUFFIXES)


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: SourceLimits, budget: _ZipBudget) -> bytes:
    """Inflate one member in chunks, enforcing the caps whatever its header claims."""
    cap = min(limits.max_member_bytes, budget.left)
    if info.file_size > cap:
        raise zipfile.BadZipFile(f"member {info.filename} declares {info.file_size} bytes, over the limit of {cap}")
    # the ratio limit holds whatever the header claims: checked against the bytes actually inflated
    ratio_cap = max(limits.ratio_floor_bytes, int(limits.max_ratio * max(info.compress_size, 1)))
    cap = min(cap, ratio_cap)
    out = io.BytesIO()
    with zf.open(info) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            out.write(chunk)
            if out.tell() > cap:
                raise zipfile.BadZipFile(
                    f"member {info.filename} inflates past {cap} bytes "
                    f"(limits: {limits.max_member_bytes} bytes, {limits.max_ratio:g}:1 compression)"
                )
    budget.left -= out.tell()
    return out.getvalue()


def _iter_zip(
    name: str, data: bytes, depth: int, limits: SourceLimits, budget: _ZipBudget
) -> Iterator[Document | Finding]:
    if depth > limits.max_zip_depth:
        yield make_finding(
            codes.ZIP_UNREADABLE, Location(file=name), ctx={"detail": f"zip nesting deeper than {limits.max_zip_depth}"}
        )
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > limits.max_members:
                raise zipfile.BadZipFile(f"{len(infos)} members, over the limit of {limits.max_members}")
            for info in sorted(infos, key=lambda i: i.filename):
                member = f"{name}!/{info.filename}"
                lower = info.filename.lower()
                if lower.endswith(ZIP_SUFFIX):
                    inner = _read_member(zf, info, limits, budget)
                    yield from _iter_zip(member, inner, depth + 1, limits, budget)
                elif _is_doc_name(lower):
                    yield Document(member, _read_member(zf, info, limits, budget))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as err:
        yield make_finding(codes.ZIP_UNREADABLE, Location(file=name), ctx={"detail": str(err)})
    except RuntimeError as err:  # encrypted members
        yield make_finding(codes.ZIP_UNREADABLE, Location(file=name), ctx={"detail": str(err)})


def _iter_path(path: Path, limits: SourceLimits, *, explicit: bool) -> Iterator[Document | Finding]:
    name = str(path)
    if path.is_dir():
        children = sorted(p for p in path.rglob("*") if p.is_file())
        found = False
        for child in children:
            if child.suffix.lower() in (*DOC_SUFFIXES, ZIP_SUFFIX):
                found = True
                yield from _iter_path(child, limits, explicit=False)
        if not found:
            yield make_finding(codes.NO_INPUT, Location(file=name), ctx={"detail": name})
        return
    try:
        st = path.stat()
        box = [path.read_bytes()]  # handed over with pop(): a suspended generator must not keep the bytes alive
    except OSError as err:
        yield make_finding(codes.FILE_UNREADABLE, Location(file=name), ctx={"detail": err.strerror or str(err)})
        return
    if path.suffix.lower() == ZIP_SUFFIX or (explicit and box[0][:4] == b"PK\x03\x04"):
        yield from _iter_zip(name, box.pop(), 1, limits, _ZipBudget(limits.max_archive_bytes))
    else:
        yield Document(name, box.pop(), name, (st.st_size, st.st_mtime_ns))


def iter_sources(paths: Iterable[str | Path], *, limits: SourceLimits | None = None) -> Iterator[Document | Finding]:
    """Every document of the paths (file, folder, zip), read one at a time, or the CF0xx finding saying why not.

    Reading lazily lets a caller parse each document and let go of its bytes before the next one is read.
    """
    lim = limits or SourceLimits()
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            yield make_finding(codes.FILE_UNREADABLE, Location(file=str(raw)), ctx={"detail": "no such file or folder"})
            continue
        yield from _iter_path(path, lim, explicit=True)


def read_sources(
    paths: Iterable[str | Path], *, limits: SourceLimits | None = None
) -> tuple[list[Document], list[Finding]]:
    """Read every path (file, folder, zip) into documents; what cannot be read becomes a CF0xx finding."""
    documents: list[Document] = []
    findings: list[Finding] = []
    for item in iter_sources(paths, limits=limits):
        (documents if isinstance(item, Document) else findings).append(item)  # type: ignore[arg-type]
    log.debug("read %d documents, %d findings", len(documents), len(findings))
    return documents, findings
