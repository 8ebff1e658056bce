"""The permanent current limit of a branch: the smallest permanent limit on its terminals and itself, else
the smallest of any kind; checked against the definition applied to ``Network.limits_of`` directly."""

from __future__ import annotations

import math

import pytest

import cimflow
from cimflow.model.base import SourceRef
from cimflow.model.limits import CurrentLimit, OperationalLimitSet, OperationalLimitType
from cimflow.model.network import Network
from cimflow.powerflow.case import _Limits
from tests.conftest import ROOT

DATA = ROOT / "tests" / "data"


def _by_definition(net: Network, *mrids: str | None) -> float:
    types = net.of(OperationalLimitType)

    def permanent(ref: str | None) -> bool:
        kind = types.get(ref) if ref else None
        return (
            kind is None
            or kind.limit_type in (None, "patl")
            or (kind.acceptable_duration_s is None and kind.limit_type not in ("tatl", "tc", "tct"))
        )

    values = [(lim.limit_a, permanent(lim.limit_type_ref)) for m in mrids if m for lim in net.limits_of.get(m, ())]
    values = [(v, p) for v, p in values if v is not None and v > 0]
    best = min((v for v, p in values if p), default=math.inf)
    value = best if math.isfinite(best) else min((v for v, _ in values), default=math.inf)
    return value if math.isfinite(value) else math.nan


@pytest.mark.parametrize(
    "files",
    [
        sorted(str(p.relative_to(DATA)) for p in (DATA / "cigre-mv").glob("*.xml")),
        sorted(str(p.relative_to(DATA)) for p in (DATA / "simbench-lv-urban6-cgmes3").glob("*.xml")),
    ],
    ids=["cigre-mv", "simbench-cgmes3"],
)
def test_branch_limits_follow_the_definition(files: list[str]) -> None:
    net = cimflow.load([DATA / f for f in files]).network
    assert net is not None
    assert net.limits_of, "the file has current limits"
    limits = _Limits(net)
    for mrid, ts in net.terminals_of.items():
        owners = (*(t.mrid for t in ts), mrid)
        expected = _by_definition(net, *owners)
        got = limits.current_a(*owners)
        assert (math.isnan(got) and math.isnan(expected)) or got == expected, mrid


def test_permanent_limit_wins_over_a_smaller_temporary_one() -> None:
    src = SourceRef("t.xml", 1)
    patl = OperationalLimitType(mrid="patl", cim_class="OperationalLimitType", source=src, limit_type="patl")
    tatl = OperationalLimitType(
        mrid="tatl", cim_class="OperationalLimitType", source=src, limit_type="tatl", acceptable_duration_s=60.0
    )
    sets = [
        OperationalLimitSet(mrid=f"s{k}", cim_class="OperationalLimitSet", source=src, terminal=f"t{k}") for k in "12"
    ]

    def limit(mrid: str, limit_set: str, kind: str | None, **value: float) -> CurrentLimit:
        return CurrentLimit(
            mrid=mrid, cim_class="CurrentLimit", source=src, limit_set=limit_set, limit_type_ref=kind, **value
        )

    lims = [
        limit("a", "s1", "patl", value_a=400.0),
        limit("b", "s1", "tatl", value_a=300.0),
        limit("c", "s2", "tatl", value_a=250.0),
        limit("d", "s2", None, normal_value_a=0.0),
    ]
    objects = {OperationalLimitType: {"patl": patl, "tatl": tatl}, OperationalLimitSet: {s.mrid: s for s in sets}}
    objects[CurrentLimit] = {x.mrid: x for x in lims}
    by_mrid = {o.mrid: o for group in objects.values() for o in group.values()}
    net = Network(objects=objects, by_mrid=by_mrid, opaque={}, class_counts={}, documents=(), dataset=None)
    limits = _Limits(net)
    assert limits.current_a("t1") == 400.0  # the permanent one, though a temporary one is smaller
    assert limits.current_a("t2") == 250.0  # no permanent limit (0 A is none): the smallest of any kind
    assert limits.current_a("t1", "t2") == 400.0
    assert math.isnan(limits.current_a("t3", None))
