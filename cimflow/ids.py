"""mRID normalisation: one identifier for every way a CIM file writes it.

``rdf:ID="_x"``, ``rdf:about="#_x"``, ``rdf:about="urn:uuid:x"``, ``rdf:resource="#x"`` and the
same with or without the leading underscore all name the object ``x``. UUIDs are lower-cased so that
CIMHub's upper-case ``urn:uuid:`` ids meet CGMES's lower-case ones.
"""

from __future__ import annotations

import re
from typing import NewType

MRID = NewType("MRID", str)

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


_CACHE: dict[str, MRID] = {}
_CACHE_MAX = 4_000_000


def normalise_mrid(raw: str) -> MRID:
    """Return the canonical mRID for an rdf:ID, rdf:about or rdf:resource value.

    Strips a base URI up to ``#``, a ``urn:uuid:`` prefix and one leading underscore; UUIDs are
    lower-cased, other identifiers (vendor names such as NEPLAN's ``N12``) keep their case.
    Results are memoised: the same reference is written many times in one model.
    """
    found = _CACHE.get(raw)
    if found is not None:
        return found
    mrid = _normalise(raw)
    if len(_CACHE) < _CACHE_MAX:
        _CACHE[raw] = mrid
    return mrid


def forget_normalised() -> None:
    """Empty the memo of :func:`normalise_mrid` (done after each model build: a long-running process that
    reads many feeders must not keep every identifier it ever saw)."""
    _CACHE.clear()


def _normalise(raw: str) -> MRID:
    s = raw.strip()
    hash_pos = s.rfind("#")
    if hash_pos >= 0:
        s = s[hash_pos + 1 :]
    elif s[:9].lower() == "urn:uuid:":
        s = s[9:]
    if s.startswith("_"):
        s = s[1:]
    if len(s) == 36 and s[8] == "-" and s[13] == "-" and _UUID_RE.match(s):
        s = s.lower()
    return MRID(s)


def is_uuid(mrid: str) -> bool:
    """Tell whether an mRID is an RFC 4122 UUID (as CGMES requires)."""
    return bool(_UUID_RE.match(mrid))
