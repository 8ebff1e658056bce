"""Margins of the hosting-capacity criteria for batches of solved scenarios, per element and at the worst element.

See :mod:`cimflow.apps.hosting_criteria` for the criteria. :func:`evaluate` judges scenarios;
:func:`linear_estimate` extrapolates every element's margin from the base case through one solved
scenario and returns the power at which the first element would reach its limit. Taking the
minimum per element, not of the worst margin, matters: the worst element changes as power is added
(an MV bus with its 2 % rise limit is the worst at first, the LV bus at the unit soon after).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cimflow.apps.hosting_criteria import REVERSE_TOLERANCE_MW, CriteriaArrays, Criterion

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ComplexArray = NDArray[np.complex128]


@dataclass(frozen=True, slots=True, eq=False)
class Margins:
    """Margins of a batch of ``k`` scenarios; rows follow ``CriteriaArrays.active``.

    Attributes:
        margin: ``(n_criteria, k)`` margin, positive while the criterion holds (``inf``: nothing to check).
        value: ``(n_criteria, k)`` the quantity at the worst element (pu, pu, %, %, MW).
        limit: ``(n_criteria, k)`` the limit it was compared with.
        element: ``(n_criteria, k)`` island bus (band, rise) or island branch index; ``-1`` for none.
    """

    margin: FloatArray
    value: FloatArray
    limit: FloatArray
    element: IntArray


@dataclass(frozen=True, slots=True, eq=False)
class ElementMargins:
    """One criterion's margins at each of its elements.

    Attributes:
        margin: ``(n_elements, k)`` margins (``inf`` where the element does not count for the scenario).
        value: ``(n_elements, k)`` the quantity judged.
        element: ``(n_elements,)`` island bus or branch of each row.
        limit: ``(n_elements,)`` each row's limit (``None`` for the band: the nearer end of it).
    """

    margin: FloatArray
    value: FloatArray
    element: IntArray
    limit: FloatArray | None


def element_margins(arrays: CriteriaArrays, v: ComplexArray, bus: IntArray) -> list[ElementMargins | None]:
    """Every active criterion's margins per element (``None`` where the criterion has no element).

    Args:
        arrays: The island's criteria arrays.
        v: ``(n_bus, k)`` island voltages, one column per scenario.
        bus: ``(k,)`` island bus each scenario adds power at (selects the supplying transformers).
    """
    k = v.shape[1]
    rows = arrays.bus_rows
    v_abs = np.abs(v[rows]) if rows.size else np.empty((0, k))
    c = arrays.coef
    v_f, v_t = v[arrays.br_from], v[arrays.br_to]  # (n_br, k); empty when no branch is checked
    i_from = c[0][:, None] * v_f + c[1][:, None] * v_t
    out: list[ElementMargins | None] = []
    for crit in arrays.active:
        if crit is Criterion.BAND and rows.size:
            m = np.minimum(v_abs - arrays.v_min_pu, arrays.v_max_pu - v_abs)
            out.append(ElementMargins(m, v_abs, rows, None))
        elif crit is Criterion.RISE and rows.size:
            rise = v_abs - arrays.v_base_abs_pu[rows][:, None]
            out.append(ElementMargins(arrays.rise_limit_pu[:, None] - rise, rise, rows, arrays.rise_limit_pu))
        elif crit is Criterion.LINES and arrays.line_sel.size:
            loading = np.abs(i_from[arrays.line_sel]) * arrays.line_factor[:, None]
            limit = np.full(arrays.line_sel.size, arrays.loading_max_pct)
            out.append(ElementMargins(arrays.loading_max_pct - loading, loading, arrays.br[arrays.line_sel], limit))
        elif crit is Criterion.TRANSFORMERS and arrays.trafo_sel.size:
            sel = arrays.trafo_sel
            a_from = np.abs(i_from[sel])
            i_to = c[2][sel][:, None] * v_f[sel] + c[3][sel][:, None] * v_t[sel]
            by_power = arrays.trafo_by_power[:, None]
            s = np.where(by_power, np.maximum(np.abs(v_f[sel]) * a_from, np.abs(v_t[sel]) * np.abs(i_to)), a_from)
            loading = s * arrays.trafo_factor[:, None]
            limit = np.full(sel.size, arrays.loading_max_pct)
            out.append(ElementMargins(arrays.loading_max_pct - loading, loading, arrays.br[sel], limit))
        elif crit is Criterion.REVERSE and arrays.rev_sel.size:
            sel = arrays.rev_sel
            p_mw = (v_f[sel] * i_from[sel].conj()).real * arrays.s_base_mva
            m = p_mw + REVERSE_TOLERANCE_MW
            if arrays.tin is not None and arrays.tout is not None:  # only the transformers supplying the bus
                t_bus = arrays.tin[bus][None, :]
                child = arrays.rev_child
                m = np.where((arrays.tin[child][:, None] <= t_bus) & (t_bus < arrays.tout[child][:, None]), m, np.inf)
            out.append(ElementMargins(m, p_mw, arrays.br[sel], np.full(sel.size, -REVERSE_TOLERANCE_MW)))
        else:
            out.append(None)
    return out


def evaluate(arrays: CriteriaArrays, v: ComplexArray, bus: IntArray) -> Margins:
    """Every active criterion's margin, value, limit and element at its worst element, for ``k`` scenarios."""
    return worst(arrays, element_margins(arrays, v, bus), v.shape[1])


def worst(arrays: CriteriaArrays, per_element: list[ElementMargins | None], k: int) -> Margins:
    """Reduce per-element margins of ``k`` scenarios to each criterion's worst element."""
    n_c = len(arrays.active)
    margin = np.full((n_c, k), np.inf)
    value = np.full((n_c, k), np.nan)
    limit = np.full((n_c, k), np.nan)
    element = np.full((n_c, k), -1, dtype=np.int64)
    cols = np.arange(k)
    mid = 0.5 * (arrays.v_min_pu + arrays.v_max_pu)
    for r, em in enumerate(per_element):
        if em is None:
            continue
        pos = np.argmin(em.margin, axis=0)
        margin[r] = em.margin[pos, cols]
        hit = np.isfinite(margin[r])
        element[r] = np.where(hit, em.element[pos], -1)
        value[r] = np.where(hit, em.value[pos, cols], np.nan)
        if em.limit is None:  # the band: the end of it the voltage is nearer to
            limit[r] = np.where(value[r] >= mid, arrays.v_max_pu, arrays.v_min_pu)
        else:
            limit[r] = np.where(hit, em.limit[pos], np.nan)
    return Margins(margin=margin, value=value, limit=limit, element=element)


def columns(per_element: list[ElementMargins | None], cols: IntArray) -> list[ElementMargins | None]:
    """The per-element margins of some scenarios only."""
    return [None if m is None else ElementMargins(m.margin[:, cols], m.value[:, cols], m.element, m.limit)
            for m in per_element]  # fmt: skip


def linear_estimate(
    at_base: list[ElementMargins | None], at_p: list[ElementMargins | None], p_kw: FloatArray
) -> FloatArray:
    """Power at which the first element reaches its limit, each element's margin linear in the added power.

    Args:
        at_base: Per-element margins of the base case (no added power), one column per scenario.
        at_p: Per-element margins with ``p_kw`` added.
        p_kw: ``(k,)`` the added power of each scenario.

    Returns:
        ``(k,)`` estimates; ``nan`` where no element's margin falls.
    """
    best = np.full(p_kw.shape, np.inf)
    with np.errstate(all="ignore"):
        for m0, m1 in zip(at_base, at_p, strict=True):
            if m0 is None or m1 is None or not m0.margin.size:
                continue
            falling = (m1.margin < m0.margin) & np.isfinite(m0.margin)
            p = np.where(falling, p_kw[None, :] * m0.margin / (m0.margin - m1.margin), np.inf)
            best = np.minimum(best, p.min(axis=0))
    return np.where(np.isfinite(best) & (best > 0), best, np.nan)
