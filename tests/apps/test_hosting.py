"""Hosting capacity against an independent judge: full power flows, the CIM solution and the CF4xx definitions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from cimflow.apps.hosting import ControlSpec, HostingStudy, assess_connection, hosting_capacity, prepare_hosting
from cimflow.apps.hosting_criteria import Binding, Criterion, HostingConfig, HostingKind
from cimflow.apps.hosting_results import HostingResult
from cimflow.powerflow.solution import Solution, make_solution
from cimflow.powerflow.solve import solve_case
from cimflow.samples import write_synthetic_feeder
from cimflow.solve import SolveResult, solve
from tests.conftest import SAMPLES, TEST_DATA

SIMBENCH = sorted(p for p in (SAMPLES / "simbench-lv-urban6").glob("*.xml") if not p.name.endswith("_SV.xml"))
OPEN_SWITCH = TEST_DATA / "cim" / "rules" / "cf305_open_switch.xml"
# what the independent judge forgives: solver noise far below one tolerance step of the search
EPS = {"pu": 1e-7, "%": 1e-5, "MW": 1e-9}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SolveResult:
    folder = tmp_path_factory.mktemp("feeder")
    return solve(write_synthetic_feeder(200, folder, seed=3))


@pytest.fixture(scope="module")
def simbench() -> SolveResult:
    return solve(SIMBENCH)


def _study(solved: SolveResult, **options: object) -> HostingStudy:
    v = solved.validation
    assert v.network is not None
    assert v.topology is not None
    assert solved.build is not None
    return prepare_hosting(v.network, v.topology, solved.build, HostingConfig(**options))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Judged:
    """Worst margin per criterion of one scenario as the judge sees it (``inf``: nothing to check)."""

    margins: dict[Criterion, float]
    converged: bool


def _solution(study: HostingStudy, bus: int, p_kw: float) -> tuple[Solution, bool]:
    delta = np.zeros(study.base_case.n_bus, dtype=complex)
    delta[bus] = study.config.power_pu_per_kw(study.base_case.s_base_mva) * p_kw
    result = solve_case(study.base_case.with_extra_power(delta), tolerance=1e-11, max_iter=500)
    return make_solution(study.network, study.topology, study.build, result), result.converged


def judge(study: HostingStudy, bus: int, p_kw: float, base: Solution) -> Judged:
    """Every active criterion of ``p_kw`` at ``bus``, from a full solve and the solution's own loadings (CF402-405)."""
    cfg = study.config
    sol, ok = _solution(study, bus, p_kw)
    island = study.topology.island_of_bus[bus]
    buses = [b for b in sol.buses if b.island == island]
    out: dict[Criterion, float] = {}
    for crit in cfg.active:
        worst = math.inf
        if crit is Criterion.BAND:
            worst = min(min(b.v_pu - cfg.v_min_pu, cfg.v_max_pu - b.v_pu) for b in buses)
        elif crit is Criterion.RISE:
            for b in buses:
                limit = cfg.rise_max_pu if b.v_base_kv <= cfg.lv_max_kv else cfg.rise_max_mv_pu
                worst = min(worst, limit - (b.v_pu - base.buses[b.index].v_pu))
        elif crit in (Criterion.LINES, Criterion.TRANSFORMERS):
            for br in sol.branches:
                is_line = br.kind == "line"
                if br.loading_pct is None or is_line != (crit is Criterion.LINES) or br.kind.startswith("other"):
                    continue
                if study.topology.island_of_bus[_bus_index(study, br.from_bus)] == island:
                    worst = min(worst, cfg.loading_max_pct - br.loading_pct)
        elif crit is Criterion.REVERSE:
            for br in sol.branches:
                if br.kind == "transformer" and study.topology.island_of_bus[_bus_index(study, br.from_bus)] == island:
                    worst = min(worst, br.p_from_mw + 1e-6)
        out[crit] = worst
    return Judged(out, ok)


def _bus_index(study: HostingStudy, bus_id: str) -> int:
    found = study.find_bus(bus_id)
    assert found is not None
    return found


def _base(study: HostingStudy) -> Solution:
    return make_solution(study.network, study.topology, study.build, solve_case(study.base_case, tolerance=1e-11))


def _holds(j: Judged) -> bool:
    unit = {
        Criterion.BAND: "pu",
        Criterion.RISE: "pu",
        Criterion.LINES: "%",
        Criterion.TRANSFORMERS: "%",
        Criterion.REVERSE: "MW",
    }
    return j.converged and all(m >= -EPS[unit[c]] for c, m in j.margins.items())


def _check_against_judge(study: HostingStudy, result: HostingResult, every: int) -> int:
    base = _base(study)
    tol = study.config.tolerance_kw
    checked = 0
    for entry in result.buses[::every]:
        cap = entry.result
        if cap.binding in (Binding.MAX_KW, Binding.NOT_ENERGISED):
            continue
        at = judge(study, entry.index, cap.capacity_kw or 0.0, base)
        assert _holds(at), (entry.bus, cap.capacity_kw, at)
        above = judge(study, entry.index, (cap.capacity_kw or 0.0) + 2 * tol, base)
        crit = Criterion(cap.binding.value)
        assert above.margins[crit] < 0, (entry.bus, cap.binding, cap.capacity_kw, above)
        checked += 1
    return checked


@pytest.mark.parametrize("kind", [HostingKind.PV, HostingKind.EV])
def test_capacity_holds_and_the_binding_criterion_breaks_just_above(synthetic: SolveResult, kind: HostingKind) -> None:
    study = _study(synthetic, kind=kind)
    result = hosting_capacity(study)
    assert len(result.buses) == len(study.topology.buses)
    assert _check_against_judge(study, result, every=4) > 30


def test_capacity_with_reverse_flow_and_a_power_factor(synthetic: SolveResult) -> None:
    study = _study(synthetic, kind="pv", pf=0.9, criteria=frozenset(Criterion))
    result = hosting_capacity(study)
    assert _check_against_judge(study, result, every=7) > 10
    reverse = [b for b in result.buses if b.binding is Binding.REVERSE]
    assert reverse, "PV at LV buses far beyond the light load reverses the supplying transformer"
    assert all(b.result.element is not None and b.result.element.kind == "transformer" for b in reverse)


def test_agrees_with_a_brute_force_scan_on_a_real_feeder(simbench: SolveResult) -> None:
    study = _study(simbench, kind="pv")
    base = _base(study)
    result = hosting_capacity(study)
    step = 4.0
    for entry in result.by_capacity()[:: len(result.buses) // 3][:3]:
        p = 0.0
        while _holds(judge(study, entry.index, p + step, base)):
            p += step
        cap = entry.capacity_kw
        assert cap is not None
        assert p - study.config.tolerance_kw <= cap <= p + step, (entry.bus, cap, p)


def test_more_load_raises_and_a_stricter_band_lowers_pv_capacity(synthetic: SolveResult) -> None:
    # the voltage band (with the transformer rating keeping the power physical): the rise is measured against
    # each base case, and a line feeding a bus without load carries more current at the lower voltage of more load
    band = frozenset({Criterion.BAND, Criterion.TRANSFORMERS})
    light = hosting_capacity(_study(synthetic, kind="pv", criteria=band, load_scale=0.1))
    heavy = hosting_capacity(_study(synthetic, kind="pv", criteria=band, load_scale=0.8))
    strict = hosting_capacity(_study(synthetic, kind="pv", criteria=band, load_scale=0.1, v_max_pu=1.05))
    tol = 0.1
    pairs = list(zip(light.buses, heavy.buses, strict.buses, strict=True))
    assert all(h.capacity_kw >= lt.capacity_kw - tol for lt, h, _ in pairs)  # type: ignore[operator]
    assert all(s.capacity_kw <= lt.capacity_kw + tol for lt, _, s in pairs)  # type: ignore[operator]
    assert sum(h.capacity_kw > lt.capacity_kw + 1 for lt, h, _ in pairs) > len(pairs) // 2  # type: ignore[operator]
    assert sum(s.capacity_kw < lt.capacity_kw - 1 for lt, _, s in pairs) > len(pairs) // 4  # type: ignore[operator]


def test_bus_behind_an_open_switch_has_no_capacity_and_says_why() -> None:
    study = _study(solve([OPEN_SWITCH]), kind="ev")
    result = hosting_capacity(study)
    by_id = {b.bus: b for b in result.buses}
    dead = by_id["CN3"]
    assert dead.capacity_kw is None
    assert not dead.energised
    assert dead.binding is Binding.NOT_ENERGISED
    assert "not energised" in dead.result.reason
    assert by_id["CN1"].binding is Binding.MAX_KW  # the source bus takes anything up to max-kw
    answer = assess_connection(study, _bus_index(study, "CN3"), 10.0)
    assert not answer.accepted
    assert "not energised" in answer.reason


def test_parallel_workers_give_the_same_capacities(synthetic: SolveResult) -> None:
    study = _study(synthetic, kind="pv")
    one = hosting_capacity(study)
    two = hosting_capacity(study, workers=2)
    assert [b.bus for b in one.buses] == [b.bus for b in two.buses]
    np.testing.assert_allclose([b.capacity_kw for b in one.buses], [b.capacity_kw for b in two.buses], atol=0.1)
    assert [b.binding for b in one.buses] == [b.binding for b in two.buses]


def test_subset_of_buses_in_the_order_asked_and_the_study_is_untouched(synthetic: SolveResult) -> None:
    study = _study(synthetic, kind="pv")
    before = study.build.case.s_const_power_pu.copy()
    wanted = [17, 3, 17, 120]
    result = hosting_capacity(study, wanted)
    assert [b.index for b in result.buses] == [17, 3, 120]
    full = {b.index: b.capacity_kw for b in hosting_capacity(study).buses}
    assert all(abs(b.capacity_kw - full[b.index]) <= 0.1 for b in result.buses)  # type: ignore[operator]
    np.testing.assert_array_equal(study.build.case.s_const_power_pu, before)
    assert not study.base_case.s_const_power_pu.flags.writeable


def test_connection_yes_below_and_no_above_the_capacity(synthetic: SolveResult) -> None:
    study = _study(synthetic, kind="pv")
    entry = hosting_capacity(study).by_capacity()[0]
    cap = entry.capacity_kw
    assert cap is not None
    assert cap > 1
    yes = assess_connection(study, entry.index, cap * 0.5)
    assert yes.accepted
    assert yes.reason.startswith("yes")
    assert yes.headroom_kw == pytest.approx(cap * 0.5)
    assert yes.v_bus_pu is not None
    assert yes.v_bus_base_pu is not None
    assert yes.v_bus_pu > yes.v_bus_base_pu
    no = assess_connection(study, entry.index, cap * 1.5)
    assert not no.accepted
    assert no.headroom_kw is not None
    assert no.headroom_kw < 0
    assert no.first_broken is not None
    assert not no.first_broken.holds
    assert no.first_broken.criterion.value == entry.binding.value
    assert entry.binding.value in no.reason
    assert no.reason.startswith("no")


def test_volt_var_control_raises_capacity_where_the_rise_binds(simbench: SolveResult) -> None:
    study = _study(simbench, kind="pv")
    result = hosting_capacity(study, [int(i) for i in range(0, 59, 6)], control=ControlSpec("qu"))
    rise_bound = [b for b in result.buses if b.binding is Binding.RISE]
    assert rise_bound
    assert result.control_mode == "qu"
    raised = 0
    for b in rise_bound:
        assert b.controlled is not None
        assert b.controlled.capacity_kw is not None
        if b.controlled.capacity_kw > b.capacity_kw:  # type: ignore[operator]
            raised += 1
        else:  # the reactive power the inverter absorbs loads the cable: the loading binds instead
            assert b.controlled.binding in (Binding.LINES, Binding.TRANSFORMERS)
    assert raised >= len(rise_bound) // 2
    answer = assess_connection(
        study,
        rise_bound[0].index,
        rise_bound[0].controlled.capacity_kw * 0.98,  # type: ignore[union-attr]
        control=ControlSpec("qu"),
    )
    assert answer.accepted
    assert answer.control_mode == "qu"


def test_find_bus_by_any_node_id(synthetic: SolveResult) -> None:
    study = _study(synthetic)
    bus = study.topology.buses[5]
    assert study.find_bus(bus.mrid) == 5
    assert study.find_bus(f"_{bus.mrid}") == 5
    assert study.find_bus("no-such-bus") is None
