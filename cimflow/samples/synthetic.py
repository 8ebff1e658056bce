"""Synthetic radial distribution feeders of any size, written as CGMES 2.4.15 or 3.0 (EQ, SSH, TP).

The grid is a 20 kV busbar with the slack (an ExternalNetworkInjection), 20 kV cable feeders to
secondary substations, one 20/0.4 kV transformer per substation and radial 0.4 kV cable feeders with
household loads and, optionally, rooftop PV. Every secondary substation serves about
``_LV_BUSES_PER_SUBSTATION`` buses and every 20 kV feeder about ``_SUBSTATIONS_PER_MV_FEEDER``
substations, so the voltage profile does not depend on the size: a 100,000-bus feeder stays within
the EN 50160 band (±10 %) just as a 50-bus one does. Cable and transformer data are those of common
German types (NAYY 4x150 SE, NA2XS2Y 1x240 RM/25 12/20 kV, 250-1000 kVA Yyn0 units).

Generation is linear in the number of buses and deterministic: identifiers are UUIDv5 of
``name`` and ``seed`` (see :func:`cimflow.samples._cgmes_syntax.object_uuid`), values come from
``random.Random(seed)``, and the header carries a fixed timestamp, so identical arguments give
identical bytes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from cimflow.errors import ConfigError
from cimflow.samples._cgmes_writer import write_documents

__all__ = ["FeederLayout", "build_layout", "synthetic_feeder", "write_synthetic_feeder"]

_VERSIONS = ("2.4.15", "3.0")
_LV_BUSES_PER_SUBSTATION = 64  # LV busbar included
_LV_BUSES_PER_FEEDER = 16
_SUBSTATIONS_PER_MV_FEEDER = 12
_MV_KV = 20.0
_OMEGA = 2.0 * math.pi * 50.0

# (r_ohm_per_km, x_ohm_per_km, c_nf_per_km, i_max_a, length range in metres)
_CableSpec = tuple[float, float, float, float, tuple[int, int]]
_LV_CABLE: _CableSpec = (0.208, 0.080, 261.0, 270.0, (15, 45))  # NAYY 4x150 SE
_MV_CABLE: _CableSpec = (0.122, 0.112, 304.0, 421.0, (300, 1500))  # NA2XS2Y 1x240 RM/25 12/20 kV

# (rated_s_mva, uk_pct, ur_pct, p0_kw, i0_pct) of 20/0.4 kV distribution transformers
_TRANSFORMER_TYPES = (
    (0.25, 6.0, 1.44, 0.65, 0.32),
    (0.4, 6.0, 1.425, 0.93, 0.3375),
    (0.63, 6.0, 1.206, 1.30, 0.2619),
    (1.0, 6.0, 1.05, 1.70, 0.24),
)
_TRANSFORMER_HEADROOM_RATIO = 1.4  # rated_s >= 1.4 x the larger of load and PV infeed
_LOAD_P_KW = (1.5, 4.5)
_LOAD_TAN_PHI = math.tan(math.acos(0.95))
_PV_RATED_KVA = (3.0, 10.0)
_PV_OUTPUT_RATIO = 0.7  # output of the PV units in the snapshot, as a share of rated_s


@dataclass(frozen=True, slots=True)
class Line:
    """An ACLineSegment from a parent bus to a child bus, with whole-segment values."""

    from_bus: int
    to_bus: int
    length_km: float
    r_ohm: float
    x_ohm: float
    bch_s: float
    i_max_a: float
    head: int = -1  # index into FeederLayout.feeder_heads when the line leaves an LV busbar


@dataclass(frozen=True, slots=True)
class Transformer:
    """A two-winding 20/0.4 kV transformer; impedance and magnetising branch on the 20 kV end."""

    hv_bus: int
    lv_bus: int
    substation: int
    rated_s_mva: float
    r_ohm: float
    x_ohm: float
    g_s: float
    b_s: float


@dataclass(frozen=True, slots=True)
class Load:
    """A constant-power load in load sign convention (consumption positive)."""

    bus: int
    p_mw: float
    q_mvar: float


@dataclass(frozen=True, slots=True)
class PV:
    """A PV unit; ``p_mw`` is negative (generation, load sign convention)."""

    bus: int
    rated_s_mva: float
    p_mw: float


@dataclass(slots=True)
class FeederLayout:
    """The grid before serialisation: buses, branches and injections with their values.

    Bus 0 is the 20 kV busbar with the slack. Every other bus has exactly one parent branch (a line or
    a transformer) to a bus of lower index, so the grid is a tree by construction.
    """

    name: str
    seed: int
    n_substations: int = 0
    bus_name: list[str] = field(default_factory=list)
    bus_substation: list[int] = field(default_factory=list)
    bus_is_mv: list[bool] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    transformers: list[Transformer] = field(default_factory=list)
    loads: list[Load] = field(default_factory=list)
    pvs: list[PV] = field(default_factory=list)
    feeder_heads: list[int] = field(default_factory=list)  # LV busbar of each LV feeder
    source_kv: float = 20.4  # voltage set point of the slack
    tap_step: int = 3  # SSH step of every RatioTapChanger (neutral step 3, 2.5 % per step on the 20 kV end)

    def add_bus(self, name: str, substation: int, *, is_mv: bool) -> int:
        """Append a bus and return its index."""
        self.bus_name.append(name)
        self.bus_substation.append(substation)
        self.bus_is_mv.append(is_mv)
        return len(self.bus_name) - 1


def _check_arguments(n_buses: int, pv_share: float, branching: float) -> None:
    if isinstance(n_buses, bool) or not isinstance(n_buses, int) or n_buses < 2:
        raise ConfigError(f"n_buses={n_buses!r}: a feeder needs at least 2 buses (20 kV and 0.4 kV)")
    if not 0.0 <= pv_share <= 1.0:
        raise ConfigError(f"pv_share={pv_share!r}: must be within [0, 1]")
    if not 0.0 <= branching <= 1.0:
        raise ConfigError(f"branching={branching!r}: must be within [0, 1]")


def _cable(rng: random.Random, spec: _CableSpec, from_bus: int, to_bus: int, head: int = -1) -> Line:
    """Return a cable of random length (whole metres) with the per-km data of ``spec``."""
    r_per_km, x_per_km, c_nf_per_km, i_max_a, (lo_m, hi_m) = spec
    length_km = (lo_m + int(rng.random() * (hi_m - lo_m + 1))) / 1000.0
    bch_s = _OMEGA * c_nf_per_km * 1e-9 * length_km
    return Line(from_bus, to_bus, length_km, r_per_km * length_km, x_per_km * length_km, bch_s, i_max_a, head)


def _parent(rng: random.Random, members: list[int], branching: float) -> int:
    """Pick the parent of a new bus: the last one (a chain), or with probability ``branching`` any earlier one."""
    if branching > 0.0 and len(members) > 1 and rng.random() < branching:
        return members[int(rng.random() * len(members))]
    return members[-1]


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _transformer(hv_bus: int, lv_bus: int, substation: int, demand_mva: float) -> Transformer:
    """Size a transformer for ``demand_mva`` and refer its impedances to the 20 kV end."""
    spec = _TRANSFORMER_TYPES[-1]
    for candidate in _TRANSFORMER_TYPES:
        if candidate[0] >= _TRANSFORMER_HEADROOM_RATIO * demand_mva:
            spec = candidate
            break
    rated_s_mva, uk_pct, ur_pct, p0_kw, i0_pct = spec
    z_base_ohm = _MV_KV**2 / rated_s_mva
    r_ohm = ur_pct / 100.0 * z_base_ohm
    x_ohm = math.sqrt((uk_pct / 100.0 * z_base_ohm) ** 2 - r_ohm**2)
    g_s = p0_kw / 1000.0 / _MV_KV**2
    y_s = i0_pct / 100.0 / z_base_ohm
    b_s = -math.sqrt(max(y_s**2 - g_s**2, 0.0))  # inductive magnetising branch
    return Transformer(hv_bus, lv_bus, substation, rated_s_mva, r_ohm, x_ohm, g_s, b_s)


def _add_lv_network(
    layout: FeederLayout, rng: random.Random, substation: int, n_lv: int, branching: float
) -> tuple[int, list[int]]:
    """Add a secondary substation's LV busbar and LV feeders; return the busbar and the load buses."""
    prefix = f"{layout.name} S{substation}"
    busbar = layout.add_bus(f"{prefix} LV", substation, is_mv=False)
    n_feeder_buses = n_lv - 1
    load_buses: list[int] = []
    if n_feeder_buses == 0:
        load_buses.append(busbar)
    else:
        n_feeders = math.ceil(n_feeder_buses / _LV_BUSES_PER_FEEDER)
        for feeder, size in enumerate(_split(n_feeder_buses, n_feeders)):
            head = len(layout.feeder_heads)
            layout.feeder_heads.append(busbar)
            members: list[int] = []
            for k in range(size):
                parent = _parent(rng, members, branching) if members else busbar
                bus = layout.add_bus(f"{prefix} F{feeder} N{k}", substation, is_mv=False)
                layout.lines.append(_cable(rng, _LV_CABLE, parent, bus, -1 if members else head))
                members.append(bus)
            load_buses.extend(members)
    return busbar, load_buses


def build_layout(
    n_buses: int, *, seed: int = 0, pv_share: float = 0.0, branching: float = 0.3, name: str = "synthetic"
) -> FeederLayout:
    """Lay out a radial feeder with exactly ``n_buses`` buses (TopologicalNodes).

    Args:
        n_buses: Number of buses, at least 2 (the 20 kV slack bus and one 0.4 kV bus).
        seed: Seed of the random lengths, loads and PV placement.
        pv_share: Share of the LV load buses that get a PV unit, in [0, 1].
        branching: Probability in [0, 1] that a new bus branches off an earlier bus of its feeder
            instead of extending it; 0 gives chains, 1 random trees.
        name: Prefix of every object name.

    Returns:
        The layout, ready for :func:`cimflow.samples._cgmes_writer.write_documents`.
    """
    _check_arguments(n_buses, pv_share, branching)
    rng = random.Random(seed)
    layout = FeederLayout(name=name, seed=seed)
    n_substations = max(1, n_buses // (_LV_BUSES_PER_SUBSTATION + 1))
    layout.n_substations = n_substations
    lv_sizes = _split(n_buses - n_substations, n_substations)
    layout.add_bus(f"{name} S0 MV", 0, is_mv=True)
    mv_members: list[int] = []
    per_substation: list[tuple[int, int, list[int]]] = []
    for substation, n_lv in enumerate(lv_sizes):
        if substation == 0:
            mv_bus = 0
        else:
            if (substation - 1) % _SUBSTATIONS_PER_MV_FEEDER == 0:
                mv_members = []
            parent = _parent(rng, mv_members, branching) if mv_members else 0
            mv_bus = layout.add_bus(f"{name} S{substation} MV", substation, is_mv=True)
            layout.lines.append(_cable(rng, _MV_CABLE, parent, mv_bus))
            mv_members.append(mv_bus)
        per_substation.append((mv_bus, *_add_lv_network(layout, rng, substation, n_lv, branching)))
    all_load_buses = [bus for _, _, buses in per_substation for bus in buses]
    for bus in all_load_buses:
        p_mw = round(_LOAD_P_KW[0] + rng.random() * (_LOAD_P_KW[1] - _LOAD_P_KW[0]), 2) / 1000.0
        layout.loads.append(Load(bus, p_mw, p_mw * _LOAD_TAN_PHI))
    n_pv = round(pv_share * len(all_load_buses))
    pv_buses = sorted(_sample(rng, all_load_buses, n_pv))
    for bus in pv_buses:
        rated_kva = round(_PV_RATED_KVA[0] + rng.random() * (_PV_RATED_KVA[1] - _PV_RATED_KVA[0]), 1)
        layout.pvs.append(PV(bus, rated_kva / 1000.0, -_PV_OUTPUT_RATIO * rated_kva / 1000.0))
    _add_transformers(layout, per_substation)
    return layout


def _sample(rng: random.Random, population: list[int], k: int) -> list[int]:
    """Draw ``k`` distinct items with a partial Fisher-Yates shuffle (stable across Python versions)."""
    pool = list(population)
    for i in range(k):
        j = i + int(rng.random() * (len(pool) - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


def _add_transformers(layout: FeederLayout, per_substation: list[tuple[int, int, list[int]]]) -> None:
    """Add one transformer per substation, sized for the larger of its load and its PV infeed."""
    load_mva: dict[int, float] = {}
    pv_mva: dict[int, float] = {}
    for load in layout.loads:
        substation = layout.bus_substation[load.bus]
        load_mva[substation] = load_mva.get(substation, 0.0) + math.hypot(load.p_mw, load.q_mvar)
    for pv in layout.pvs:
        substation = layout.bus_substation[pv.bus]
        pv_mva[substation] = pv_mva.get(substation, 0.0) - pv.p_mw
    for substation, (mv_bus, lv_busbar, _) in enumerate(per_substation):
        demand = max(load_mva.get(substation, 0.0), pv_mva.get(substation, 0.0))
        layout.transformers.append(_transformer(mv_bus, lv_busbar, substation, demand))


def synthetic_feeder(
    n_buses: int,
    *,
    seed: int = 0,
    version: str = "2.4.15",
    node_breaker: bool = False,
    pv_share: float = 0.0,
    branching: float = 0.3,
    name: str = "synthetic",
) -> dict[str, bytes]:
    """Return {"EQ": bytes, "SSH": bytes, "TP": bytes} CGMES documents of a radial feeder with n_buses buses.

    Args:
        n_buses: Number of buses (TopologicalNodes), at least 2.
        seed: Seed of lengths, loads and PV placement; also part of every identifier.
        version: CGMES version, "2.4.15" or "3.0".
        node_breaker: Write ConnectivityNodes in EQ and a closed Breaker at the head of each LV feeder;
            otherwise the model is bus-branch (Terminal.TopologicalNode in TP only).
        pv_share: Share of LV load buses with a PV unit, in [0, 1]. CGMES 3.0 writes
            PowerElectronicsConnection + PhotoVoltaicUnit, 2.4.15 SynchronousMachine + SolarGeneratingUnit.
        branching: Probability in [0, 1] that a new bus branches off an earlier bus of its feeder.
        name: Model name, prefix of every object name and part of every identifier.

    Returns:
        The three documents as UTF-8 encoded RDF/XML, keyed by profile.

    Raises:
        ConfigError: An argument is out of range.
    """
    if version not in _VERSIONS:
        raise ConfigError(f"version={version!r}: use one of {', '.join(_VERSIONS)}")
    layout = build_layout(n_buses, seed=seed, pv_share=pv_share, branching=branching, name=name)
    model_key = f"{n_buses}/{version}/{node_breaker}/{pv_share!r}/{branching!r}"
    return write_documents(layout, version=version, node_breaker=node_breaker, model_key=model_key)


def write_synthetic_feeder(
    n_buses: int,
    out_dir: Path,
    *,
    seed: int = 0,
    version: str = "2.4.15",
    node_breaker: bool = False,
    pv_share: float = 0.0,
    branching: float = 0.3,
    name: str = "synthetic",
    overwrite: bool = False,
) -> list[Path]:
    """Write <name>_EQ.xml, _SSH.xml, _TP.xml into out_dir (refusing to overwrite existing files unless overwrite=True).

    Args:
        n_buses: Number of buses, as for :func:`synthetic_feeder`.
        out_dir: Folder for the files; created if missing.
        seed: As for :func:`synthetic_feeder`.
        version: As for :func:`synthetic_feeder`.
        node_breaker: As for :func:`synthetic_feeder`.
        pv_share: As for :func:`synthetic_feeder`.
        branching: As for :func:`synthetic_feeder`.
        name: As for :func:`synthetic_feeder`; also the file name prefix.
        overwrite: Replace existing files instead of refusing.

    Returns:
        The paths written, in the order EQ, SSH, TP.

    Raises:
        ConfigError: An argument is out of range, or ``name`` is not usable as a file name.
        FileExistsError: One of the files exists and ``overwrite`` is false; nothing is written then.
    """
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\0" in name:
        raise ConfigError(f"name={name!r}: not usable as a file name prefix")
    out_dir = Path(out_dir)
    paths = [out_dir / f"{name}_{profile}.xml" for profile in ("EQ", "SSH", "TP")]
    if not overwrite:
        existing = [str(path) for path in paths if path.exists()]
        if existing:
            raise FileExistsError(f"refusing to overwrite {', '.join(existing)} (pass overwrite=True)")
    documents = synthetic_feeder(
        n_buses,
        seed=seed,
        version=version,
        node_breaker=node_breaker,
        pv_share=pv_share,
        branching=branching,
        name=name,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    mode = "wb" if overwrite else "xb"  # "xb" also refuses a file that appeared meanwhile
    for path, profile in zip(paths, ("EQ", "SSH", "TP"), strict=True):
        with path.open(mode) as stream:
            stream.write(documents[profile])
    return paths
