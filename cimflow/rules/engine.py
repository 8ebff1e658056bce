"""Run the rules of one pipeline stage over a read-only context and collect their findings."""

from __future__ import annotations

from collections.abc import Iterable

from cimflow.findings import Finding, Stage
from cimflow.rules.base import CheckContext, Rule
from cimflow.rules.registry import ALL_RULES, Selection, rules_for


def run_stage(
    stage: Stage, ctx: CheckContext, *, selection: Selection | None = None, rules: Iterable[Rule] = ALL_RULES
) -> tuple[Finding, ...]:
    """Run every selected rule of ``stage``; return their findings (unfiltered by severity, de-duplicated).

    Rules of the topology stage are skipped when ``ctx.topology`` is ``None``.
    """
    if stage is Stage.TOPOLOGY and ctx.topology is None:
        return ()
    chosen = selection or Selection()
    stage_rules = [r for r in rules if r.meta.stage is stage]
    seen: set[tuple[str, str | None, str | None, str | None, int | None]] = set()
    out: list[Finding] = []
    for rule in rules_for(stage_rules, chosen):
        for f in rule.check(ctx):
            loc = f.location
            key = (f.code, loc.mrid, loc.attribute, loc.file, loc.line)
            if key in seen:
                continue
            seen.add(key)
            out.append(f)
    return tuple(out)
