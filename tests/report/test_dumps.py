"""The report JSON layout: any document reads back as itself; one record per line below the sections."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cimflow.report.common import dumps

_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=30)


@given(st.dictionaries(st.text(), _JSON))
def test_any_document_reads_back_as_itself(doc: dict[str, object]) -> None:
    text = dumps(doc)
    assert text.endswith("\n")
    assert json.loads(text) == doc
    assert dumps(json.loads(text)) == text  # byte-stable


def test_layout_one_record_per_line() -> None:
    doc = {"buses": [{"id": "b1", "v_pu": 1.0}, {"id": "b2", "v_pu": 0.98}], "summary": {"n": 2}, "version": "1"}
    assert dumps(doc).splitlines() == [
        "{",
        '  "buses": [',
        '    {"id": "b1", "v_pu": 1.0},',
        '    {"id": "b2", "v_pu": 0.98}',
        "  ],",
        '  "summary": {',
        '    "n": 2',
        "  },",
        '  "version": "1"',
        "}",
    ]


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps({"x": [{"v": math.nan}]})
