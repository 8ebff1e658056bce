"""CF113's fast path: every mRID a UUID, decided in one pass over all of them, agrees with ``is_uuid``."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest

from cimflow.ids import is_uuid
from cimflow.rules.cim import _all_uuids

_GOOD = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(50)]


def _network(ids: list[str], opaque: list[str] = ()) -> SimpleNamespace:  # type: ignore[assignment]
    return SimpleNamespace(by_mrid=dict.fromkeys(ids), opaque=dict.fromkeys(opaque))


@pytest.mark.parametrize(
    "odd",
    [
        "BV04",  # a vendor name
        "0" * 36,  # right length, no dashes
        _GOOD[0].replace("-", "g", 1),  # a dash replaced
        _GOOD[0][:-1] + "g",  # a letter that is not hex
        _GOOD[0][:-1] + "\n",  # a newline inside would shift every later line
        _GOOD[0][:-1] + "é",  # non-ASCII: one character, two bytes
        _GOOD[0][:-1] + "\udcff",  # a lone surrogate (from a broken file) must not raise
        _GOOD[0] + "0",  # one character too many
        "",
    ],
)
def test_one_odd_identifier_fails_the_fast_path(odd: str) -> None:
    assert not is_uuid(odd)
    assert _all_uuids(_network([*_GOOD[:10], odd, *_GOOD[10:]])) is False
    assert _all_uuids(_network(_GOOD, [odd])) is False


def test_all_uuids_pass_in_either_case_and_in_opaque_objects() -> None:
    assert _all_uuids(_network(_GOOD)) is True
    assert _all_uuids(_network([g.upper() for g in _GOOD], _GOOD[:3])) is True
    assert _all_uuids(_network([])) is True
