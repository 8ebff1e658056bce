"""What a rule is: the :class:`Rule` protocol, the read-only :class:`CheckContext` and the ``implements`` decorator.

A rule is a stateless class with a catalogue entry (:class:`~cimflow.findings.RuleMeta`) and a
``check(ctx)`` generator of findings. Its documentation is the catalogue's (What it checks / Why it
matters / Example / How to fix / Options / References), so ``cimflow rules CODE``, the SARIF help
text and ``help(rule)`` show the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

from cimflow.config import Settings
from cimflow.findings import Finding, Location, RuleMeta, Severity, Stage, make_finding
from cimflow.model.network import Network

if TYPE_CHECKING:
    from cimflow.rules._index import NetworkIndex
    from cimflow.rules.topology import TopologyView

__all__ = [
    "BaseRule",
    "CheckContext",
    "Finding",
    "Location",
    "Rule",
    "RuleMeta",
    "Severity",
    "Stage",
    "implements",
]


@dataclass(frozen=True)
class CheckContext:
    """Everything a rule may read: the network, the topology (``None`` before that stage) and the settings.

    Attributes:
        network: The built network.
        topology: The :class:`cimflow.topology.Topology`, or ``None`` at the build stage or when it
            could not be built.
        settings: Thresholds and selection.
        solution: The power-flow solution for the post-solve rules (CF4xx), else ``None``.
    """

    network: Network
    topology: object | None = None
    settings: Settings = field(default_factory=Settings)
    solution: object | None = None

    def with_topology(self, topology: object | None) -> CheckContext:
        """The same context with a topology, sharing the lookups already built."""
        new = CheckContext(self.network, topology, self.settings, self.solution)
        if "index" in self.__dict__:
            new.__dict__["index"] = self.__dict__["index"]  # cached_property storage
        return new

    @cached_property
    def topology_view(self) -> TopologyView | None:
        """Per-island facts shared by the CF3xx rules (``None`` without topology), built once."""
        from cimflow.rules.topology import TopologyView
        from cimflow.topology import Topology

        if not isinstance(self.topology, Topology):
            return None
        return TopologyView(self.topology, self.settings)

    @cached_property
    def index(self) -> NetworkIndex:
        """Lookups shared by several rules (nominal voltage of equipment and nodes), built once."""
        from cimflow.rules._index import NetworkIndex

        return NetworkIndex(self.network)


class Rule(Protocol):
    """A stateless check over a :class:`CheckContext`; never raises on bad data."""

    meta: ClassVar[RuleMeta]

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per problem and object."""
        ...


class BaseRule:
    """Convenience base of the rules in this package: ``meta`` and a ``finding`` helper."""

    meta: ClassVar[RuleMeta]

    def check(self, ctx: CheckContext) -> Iterator[Finding]:
        """Yield one finding per problem and object."""
        raise NotImplementedError

    def finding(
        self,
        location: Location,
        *,
        ctx: Mapping[str, float | int | str] | None = None,
        related: Iterable[str] = (),
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this rule (message from the catalogue template)."""
        return make_finding(self.meta, location, ctx=ctx, related=related, severity=severity)


R = TypeVar("R", bound=BaseRule)


def implements(meta: RuleMeta) -> Callable[[type[R]], type[R]]:
    """Attach a catalogue entry to a rule class and give it the catalogue's documentation as docstring."""

    def wrap(cls: type[R]) -> type[R]:
        cls.meta = meta
        summary = (cls.__doc__ or meta.name).strip().splitlines()[0]
        cls.__doc__ = f"{summary}\n\n{meta.code} {meta.name} ({meta.default_severity.label}).\n\n{meta.doc}"
        return cls

    return wrap
