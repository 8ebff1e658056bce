"""A two-bus transformer case written as CGMES 2.4.15 (EQ, SSH, TP), and its solution by hand.

The case: a source holds bus 1 (110 kV level) at ``v1_kv``; a transformer (end 1 at bus 1, end 2 at
bus 2, 20 kV level) feeds a constant-power load at bus 2. Each end may carry r, x, g, b, a
RatioTapChanger (with or without a RatioTapChangerTable) and a PhaseTapChanger of any kind.

``solve_by_hand`` solves the same circuit from its physical description, independently of cimflow's
branch code: each end's tap changers are an ideal transformer of complex ratio ``n`` at that end's
terminal; between the two ideal transformers, everything is in per unit of the ends' rated voltages
(IEC 61970-301 star model: ``z = z1/(U1²/S) + z2/(U2²/S)``, magnetising ``y_i·U_i²/S`` inside end i).
"""

from __future__ import annotations

import cmath
import math
from dataclasses import dataclass, field
from pathlib import Path

NS = (
    'xmlns:cim="http://iec.ch/TC57/2013/CIM-schema-cim16#" '
    'xmlns:entsoe="http://entsoe.eu/CIM/SchemaExtension/3/1#" '
    'xmlns:md="http://iec.ch/TC57/61970-552/ModelDescription/1#" '
    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
)
CIM = "http://iec.ch/TC57/2013/CIM-schema-cim16#"


@dataclass(frozen=True)
class Ratio:
    """A RatioTapChanger: step, neutral step, % per step; ``table`` maps step -> (ratio, r%, x%, g%, b%)."""

    step: int
    neutral: int = 0
    svi_pct: float = 1.25
    neutral_u_kv: float | None = None
    table: dict[int, tuple[float, float, float, float, float]] | None = None


@dataclass(frozen=True)
class Phase:
    """A PhaseTapChanger of class ``kind`` ("Linear", "Symmetrical", "Asymmetrical", "Tabular")."""

    kind: str
    step: int
    neutral: int = 0
    low: int = -10
    high: int = 10
    increment: float = 2.0  # degrees per step (Linear) or % per step (Symmetrical, Asymmetrical)
    winding_angle_deg: float = 90.0
    table: dict[int, tuple[float, float, float, float, float, float]] | None = None  # step -> ratio, angle, r, x, g, b
    normal: int | None = None  # EQ normalStep (default: the neutral step)
    x_range: tuple[float, float] = (0.0, 0.0)  # xMin, xMax (ohm): the reactance's "u" curve over the steps


@dataclass(frozen=True)
class End:
    """One transformer end: star values referred to its ratedU, and its tap changers."""

    rated_kv: float
    r_ohm: float = 0.0
    x_ohm: float = 0.0
    g_s: float = 0.0
    b_s: float = 0.0
    ratio: Ratio | None = None
    phase: Phase | None = None


@dataclass(frozen=True)
class TwoBus:
    """The case; bus 1 at ``v1_kv``, load ``p_mw + j q_mvar`` at bus 2."""

    end1: End = field(default_factory=lambda: End(115.0, r_ohm=2.0, x_ohm=40.0))
    end2: End = field(default_factory=lambda: End(21.0))
    v1_kv: float = 112.0
    p_mw: float = 30.0
    q_mvar: float = 10.0
    base_kv: tuple[float, ...] = (110.0, 20.0)
    series: tuple[str, float, float] | None = None  # (class, r ohm, x ohm): this branch instead of the transformer
    end3: End | None = None  # a third winding, to bus 3 (base_kv[2]) with the load ``load3`` (MW, Mvar)
    load3: tuple[float, float] = (12.0, 4.0)


def _phase_n(ph: Phase, step: int) -> complex:
    k = step - ph.neutral
    if ph.kind == "Linear":
        return cmath.rect(1, math.radians(k * ph.increment))
    if ph.kind == "Symmetrical":
        return cmath.rect(1, 2 * math.atan(k * ph.increment / 100 / 2))
    return 1 + k * ph.increment / 100 * cmath.rect(1, math.radians(ph.winding_angle_deg))


def phase_x_ohm(end: End) -> float:
    """The end's reactance at its phase tap changer's step: the IEC 61970-301 "u" curve from xMin to xMax."""
    ph = end.phase
    if ph is None or ph.kind == "Tabular" or ph.x_range[1] <= ph.x_range[0]:
        return end.x_ohm
    a = cmath.phase(_phase_n(ph, ph.step))
    a_max = max(cmath.phase(_phase_n(ph, ph.low)), cmath.phase(_phase_n(ph, ph.high)))
    if ph.kind == "Asymmetrical":
        th = math.radians(ph.winding_angle_deg)
        f = math.tan(a) / math.tan(a_max) * (math.sin(th) - math.tan(a_max) * math.cos(th))
        f /= math.sin(th) - math.tan(a) * math.cos(th)
    else:
        f = math.sin(a / 2) / math.sin(a_max / 2)
    return end.x_ohm + (ph.x_range[1] - ph.x_range[0]) * f**2


def _ratio_n(end: End) -> tuple[complex, list[float]]:
    """Complex ratio of an end's tap changers and the factors on r, x, g, b (IEC 61970-301 formulas)."""
    n, f = 1 + 0j, [1.0, 1.0, 1.0, 1.0]
    rt = end.ratio
    if rt is not None:
        if rt.table is not None:
            ratio, *pct = rt.table[rt.step]
            n *= ratio
            f = [a * (1 + p / 100) for a, p in zip(f, pct, strict=True)]
        else:
            u0 = rt.neutral_u_kv or end.rated_kv
            n *= u0 / end.rated_kv * (1 + (rt.step - rt.neutral) * rt.svi_pct / 100)
    ph = end.phase
    if ph is not None:
        if ph.kind != "Tabular":
            n *= _phase_n(ph, ph.step)
        else:
            assert ph.table is not None
            ratio, angle, *pct = ph.table[ph.step]
            n *= cmath.rect(ratio, math.radians(angle))
            f = [a * (1 + p / 100) for a, p in zip(f, pct, strict=True)]
    return n, f


def solve_by_hand(case: TwoBus, *, s_mva: float = 100.0) -> complex:
    """Voltage phasor (kV) at bus 2, bus 1 at angle 0: Newton on the one unknown inside voltage."""
    if case.series is not None:  # a series branch r + jx between buses of one base voltage
        _cls, r, x = case.series
        kv = case.base_kv[0]
        case = TwoBus(End(kv, r, x), End(kv), case.v1_kv, case.p_mw, case.q_mvar, case.base_kv)
    e1, e2 = case.end1, case.end2
    n1, f1 = _ratio_n(e1)
    n2, f2 = _ratio_n(e2)
    fr, fx, fg, fb = (a * b for a, b in zip(f1, f2, strict=True))
    z1, z2 = complex(e1.r_ohm, phase_x_ohm(e1)), complex(e2.r_ohm, phase_x_ohm(e2))
    z = z1 / (e1.rated_kv**2 / s_mva) + z2 / (e2.rated_kv**2 / s_mva)
    z = complex(z.real * fr, z.imag * fx)
    y2 = complex(e2.g_s * fg, e2.b_s * fb) * e2.rated_kv**2 / s_mva
    a = case.v1_kv / (e1.rated_kv * n1)  # inside end 1, rated pu (end 1's magnetising only loads the source)
    s_load = complex(case.p_mw, case.q_mvar) / s_mva

    def mismatch(b: complex) -> complex:
        # power leaving the inside of end 2 towards the load (the ideal transformer n2 is lossless)
        i_b = (a - b) / z - y2 * b
        return b * i_b.conjugate() - s_load

    b = a
    for _ in range(50):
        h = 1e-7
        d_re = (mismatch(b + h) - mismatch(b)) / h
        d_im = (mismatch(b + 1j * h) - mismatch(b)) / h
        m = mismatch(b)
        det = d_re.real * d_im.imag - d_im.real * d_re.imag
        step_re = (m.real * d_im.imag - d_im.real * m.imag) / det
        step_im = (d_re.real * m.imag - m.real * d_re.imag) / det
        b -= complex(step_re, step_im)
        if abs(m) < 1e-13:
            break
    return b * e2.rated_kv * n2


def solve_three_by_hand(case: TwoBus, *, s_mva: float = 100.0) -> tuple[complex, complex]:
    """Voltage phasors (kV) at buses 2 and 3 of a three-winding case, bus 1 at angle 0.

    The star model in per unit of the rated voltages: leg i is ``z_i/(U_i²/S)`` from the star point to the inside
    of end i, whose ideal transformer ``n_i`` sits at bus i; the magnetising ``y_i·U_i²/S`` at the inside of end i.
    """
    import numpy as np

    assert case.end3 is not None
    ends = (case.end1, case.end2, case.end3)
    taps = [_ratio_n(e) for e in ends]
    z = [
        complex(e.r_ohm * t[1][0], phase_x_ohm(e) * t[1][1]) / (e.rated_kv**2 / s_mva)
        for e, t in zip(ends, taps, strict=True)
    ]
    y = [complex(e.g_s * t[1][2], e.b_s * t[1][3]) * e.rated_kv**2 / s_mva for e, t in zip(ends, taps, strict=True)]
    a = case.v1_kv / (ends[0].rated_kv * taps[0][0])
    loads = (complex(case.p_mw, case.q_mvar) / s_mva, complex(*case.load3) / s_mva)

    def equations(x: list[float]) -> list[float]:
        star, b2, b3 = complex(x[0], x[1]), complex(x[2], x[3]), complex(x[4], x[5])
        i1 = (a - star) / z[0]  # into the star point from end 1
        i2 = (star - b2) / z[1] - y[1] * b2  # from the inside of end 2 towards its load
        i3 = (star - b3) / z[2] - y[2] * b3
        kcl = i1 - (star - b2) / z[1] - (star - b3) / z[2]
        m2, m3 = b2 * i2.conjugate() - loads[0], b3 * i3.conjugate() - loads[1]
        return [kcl.real, kcl.imag, m2.real, m2.imag, m3.real, m3.imag]

    x = np.array([a.real, a.imag] * 3)
    for _ in range(30):  # Newton with a finite-difference Jacobian
        f = np.array(equations(list(x)))
        if np.abs(f).max() < 1e-13:
            break
        jac = np.empty((6, 6))
        for k in range(6):
            dx = x.copy()
            dx[k] += 1e-7
            jac[:, k] = (np.array(equations(list(dx))) - f) / 1e-7
        x = x - np.linalg.solve(jac, f)
    b2, b3 = complex(x[2], x[3]), complex(x[4], x[5])
    return b2 * ends[1].rated_kv * taps[1][0], b3 * ends[2].rated_kv * taps[2][0]


def _obj(cls: str, mrid: str, body: list[str], *, about: bool = False) -> str:
    ident = f'rdf:about="#_{mrid}"' if about else f'rdf:ID="_{mrid}"'
    return f"  <cim:{cls} {ident}>\n" + "".join(f"    {line}\n" for line in body) + f"  </cim:{cls}>\n"


def _lit(prop: str, value: object) -> str:
    return f"<cim:{prop}>{value}</cim:{prop}>"


def _ref(prop: str, mrid: str) -> str:
    return f'<cim:{prop} rdf:resource="#_{mrid}"/>'


def _doc(profile: str, body: str, mid: str) -> bytes:
    dep = "" if profile == "EquipmentCore/3/1" else '    <md:Model.DependentOn rdf:resource="urn:uuid:eq-model"/>\n'
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<rdf:RDF {NS}>\n'
        f'  <md:FullModel rdf:about="urn:uuid:{mid}">\n'
        "    <md:Model.scenarioTime>2025-01-01T00:00:00Z</md:Model.scenarioTime>\n"
        "    <md:Model.created>2025-01-01T00:00:00Z</md:Model.created>\n"
        "    <md:Model.version>1</md:Model.version>\n"
        f"{dep}"
        f"    <md:Model.profile>http://entsoe.eu/CIM/{profile}</md:Model.profile>\n"
        "    <md:Model.modelingAuthoritySet>urn:cimflow:tests</md:Model.modelingAuthoritySet>\n"
        "  </md:FullModel>\n"
    )
    return (head + body + "</rdf:RDF>\n").encode()


def _tap_objects(i: int, end: End, eq: list[str], ssh: list[str]) -> None:
    rt, ph = end.ratio, end.phase
    if rt is not None:
        body = [
            _lit("IdentifiedObject.name", f"RTC{i}"),
            _ref("RatioTapChanger.TransformerEnd", f"end{i}"),
            _lit("TapChanger.lowStep", -10),
            _lit("TapChanger.highStep", 10),
            _lit("TapChanger.neutralStep", rt.neutral),
            _lit("TapChanger.normalStep", rt.neutral),
            _lit("TapChanger.neutralU", rt.neutral_u_kv or end.rated_kv),
            _lit("TapChanger.ltcFlag", "false"),
            _lit("RatioTapChanger.stepVoltageIncrement", rt.svi_pct),
            f'<cim:RatioTapChanger.tculControlMode rdf:resource="{CIM}TransformerControlMode.volt"/>',
        ]
        if rt.table is not None:
            body.append(_ref("RatioTapChanger.RatioTapChangerTable", f"rtab{i}"))
            eq.append(_obj("RatioTapChangerTable", f"rtab{i}", [_lit("IdentifiedObject.name", f"RTAB{i}")]))
            for s, (ratio, r, x, g, b) in rt.table.items():
                eq.append(_obj("RatioTapChangerTablePoint", f"rtab{i}p{s + 100}", [
                    _ref("RatioTapChangerTablePoint.RatioTapChangerTable", f"rtab{i}"),
                    _lit("TapChangerTablePoint.step", s), _lit("TapChangerTablePoint.ratio", ratio),
                    _lit("TapChangerTablePoint.r", r), _lit("TapChangerTablePoint.x", x),
                    _lit("TapChangerTablePoint.g", g), _lit("TapChangerTablePoint.b", b),
                ]))  # fmt: skip
        eq.append(_obj("RatioTapChanger", f"rtc{i}", body))
        ssh.append(_obj("RatioTapChanger", f"rtc{i}", [_lit("TapChanger.controlEnabled", "false"),
                                                        _lit("TapChanger.step", rt.step)], about=True))  # fmt: skip
    if ph is not None:
        cls = f"PhaseTapChanger{ph.kind}"
        body = [
            _lit("IdentifiedObject.name", f"PTC{i}"),
            _ref("PhaseTapChanger.TransformerEnd", f"end{i}"),
            _lit("TapChanger.lowStep", ph.low),
            _lit("TapChanger.highStep", ph.high),
            _lit("TapChanger.neutralStep", ph.neutral),
            _lit("TapChanger.normalStep", ph.neutral if ph.normal is None else ph.normal),
            _lit("TapChanger.neutralU", end.rated_kv),
            _lit("TapChanger.ltcFlag", "false"),
        ]
        if ph.kind == "Linear":
            body += [_lit("PhaseTapChangerLinear.stepPhaseShiftIncrement", ph.increment),
                     _lit("PhaseTapChangerLinear.xMin", ph.x_range[0]),
                     _lit("PhaseTapChangerLinear.xMax", ph.x_range[1])]  # fmt: skip
        elif ph.kind in ("Symmetrical", "Asymmetrical"):
            body += [_lit("PhaseTapChangerNonLinear.voltageStepIncrement", ph.increment),
                     _lit("PhaseTapChangerNonLinear.xMin", ph.x_range[0]),
                     _lit("PhaseTapChangerNonLinear.xMax", ph.x_range[1])]  # fmt: skip
            if ph.kind == "Asymmetrical":
                body.append(_lit("PhaseTapChangerAsymmetrical.windingConnectionAngle", ph.winding_angle_deg))
        else:
            assert ph.table is not None
            body.append(_ref("PhaseTapChangerTabular.PhaseTapChangerTable", f"ptab{i}"))
            eq.append(_obj("PhaseTapChangerTable", f"ptab{i}", [_lit("IdentifiedObject.name", f"PTAB{i}")]))
            for s, (ratio, angle, r, x, g, b) in ph.table.items():
                eq.append(_obj("PhaseTapChangerTablePoint", f"ptab{i}p{s + 100}", [
                    _ref("PhaseTapChangerTablePoint.PhaseTapChangerTable", f"ptab{i}"),
                    _lit("TapChangerTablePoint.step", s), _lit("TapChangerTablePoint.ratio", ratio),
                    _lit("PhaseTapChangerTablePoint.angle", angle),
                    _lit("TapChangerTablePoint.r", r), _lit("TapChangerTablePoint.x", x),
                    _lit("TapChangerTablePoint.g", g), _lit("TapChangerTablePoint.b", b),
                ]))  # fmt: skip
        eq.append(_obj(cls, f"ptc{i}", body))
        ssh.append(_obj(cls, f"ptc{i}", [_lit("TapChanger.controlEnabled", "false"),
                                          _lit("TapChanger.step", ph.step)], about=True))  # fmt: skip


def write_two_bus(case: TwoBus, folder: Path) -> list[Path]:
    """Write the case as EQ, SSH and TP files in ``folder``; return their paths."""
    eq: list[str] = [
        _obj("GeographicalRegion", "gr", [_lit("IdentifiedObject.name", "R")]),
        _obj("SubGeographicalRegion", "sgr", [_lit("IdentifiedObject.name", "S"),
                                              _ref("SubGeographicalRegion.Region", "gr")]),
        _obj("Substation", "sub", [_lit("IdentifiedObject.name", "SUB"), _ref("Substation.Region", "sgr")]),
    ]  # fmt: skip
    ssh: list[str] = []
    tp: list[str] = []
    for i, kv in enumerate(case.base_kv, start=1):
        eq.append(_obj("BaseVoltage", f"bv{i}", [_lit("IdentifiedObject.name", f"{kv:g} kV"),
                                                  _lit("BaseVoltage.nominalVoltage", kv)]))  # fmt: skip
        eq.append(_obj("VoltageLevel", f"vl{i}", [_lit("IdentifiedObject.name", f"VL{i}"),
                                                   _ref("VoltageLevel.Substation", "sub"),
                                                   _ref("VoltageLevel.BaseVoltage", f"bv{i}")]))  # fmt: skip
        tp.append(_obj("TopologicalNode", f"tn{i}", [_lit("IdentifiedObject.name", f"N{i}"),
                                                      _ref("TopologicalNode.ConnectivityNodeContainer", f"vl{i}"),
                                                      _ref("TopologicalNode.BaseVoltage", f"bv{i}")]))  # fmt: skip

    def terminal(tid: str, equipment: str, seq: int, node: int) -> None:
        eq.append(_obj("Terminal", tid, [_lit("IdentifiedObject.name", tid),
                                         _ref("Terminal.ConductingEquipment", equipment),
                                         _lit("ACDCTerminal.sequenceNumber", seq)]))  # fmt: skip
        ssh.append(_obj("Terminal", tid, [_lit("ACDCTerminal.connected", "true")], about=True))
        tp.append(_obj("Terminal", tid, [_ref("Terminal.TopologicalNode", f"tn{node}")], about=True))

    eq.append(_obj("ExternalNetworkInjection", "src", [
        _lit("IdentifiedObject.name", "grid"), _ref("Equipment.EquipmentContainer", "vl1"),
        _lit("ExternalNetworkInjection.governorSCD", 0), _lit("ExternalNetworkInjection.maxP", 9999),
        _lit("ExternalNetworkInjection.minP", -9999), _lit("ExternalNetworkInjection.maxQ", 9999),
        _lit("ExternalNetworkInjection.minQ", -9999), _ref("RegulatingCondEq.RegulatingControl", "rc"),
    ]))  # fmt: skip
    eq.append(_obj("RegulatingControl", "rc", [
        _lit("IdentifiedObject.name", "rc"), _ref("RegulatingControl.Terminal", "t_src"),
        f'<cim:RegulatingControl.mode rdf:resource="{CIM}RegulatingControlModeKind.voltage"/>',
    ]))  # fmt: skip
    terminal("t_src", "src", 1, 1)
    ssh.append(_obj("ExternalNetworkInjection", "src", [
        _lit("RegulatingCondEq.controlEnabled", "true"), _lit("ExternalNetworkInjection.p", -case.p_mw),
        _lit("ExternalNetworkInjection.q", -case.q_mvar), _lit("ExternalNetworkInjection.referencePriority", 1),
    ], about=True))  # fmt: skip
    ssh.append(_obj("RegulatingControl", "rc", [
        _lit("RegulatingControl.discrete", "false"), _lit("RegulatingControl.enabled", "true"),
        _lit("RegulatingControl.targetDeadband", 0), _lit("RegulatingControl.targetValue", case.v1_kv),
        f'<cim:RegulatingControl.targetValueUnitMultiplier rdf:resource="{CIM}UnitMultiplier.k"/>',
    ], about=True))  # fmt: skip
    if case.series is not None:
        cls, r, x = case.series
        eq.append(_obj(cls, "br", [_lit("IdentifiedObject.name", "BR"), _ref("Equipment.EquipmentContainer", "vl1"),
                                   _ref("ConductingEquipment.BaseVoltage", "bv1"),
                                   _lit(f"{cls}.r", r), _lit(f"{cls}.x", x)]))  # fmt: skip
        terminal("t_br1", "br", 1, 1)
        terminal("t_br2", "br", 2, 2)
    else:
        eq.append(
            _obj(
                "PowerTransformer",
                "tr",
                [_lit("IdentifiedObject.name", "TR"), _ref("Equipment.EquipmentContainer", "sub")],
            )
        )
    ends = (case.end1, case.end2) if case.end3 is None else (case.end1, case.end2, case.end3)
    for i, end in enumerate(ends if case.series is None else (), start=1):
        terminal(f"t_tr{i}", "tr", i, i)
        eq.append(_obj("PowerTransformerEnd", f"end{i}", [
            _lit("IdentifiedObject.name", f"E{i}"), _lit("TransformerEnd.endNumber", i),
            _ref("TransformerEnd.Terminal", f"t_tr{i}"), _ref("TransformerEnd.BaseVoltage", f"bv{i}"),
            _ref("PowerTransformerEnd.PowerTransformer", "tr"),
            _lit("PowerTransformerEnd.r", end.r_ohm), _lit("PowerTransformerEnd.x", end.x_ohm),
            _lit("PowerTransformerEnd.g", end.g_s), _lit("PowerTransformerEnd.b", end.b_s),
            _lit("PowerTransformerEnd.ratedS", 100), _lit("PowerTransformerEnd.ratedU", end.rated_kv),
            f'<cim:PowerTransformerEnd.connectionKind rdf:resource="{CIM}WindingConnection.Y"/>',
            _lit("PowerTransformerEnd.phaseAngleClock", 0),
        ]))  # fmt: skip
        _tap_objects(i, end, eq, ssh)
    eq.append(
        _obj(
            "EnergyConsumer", "load", [_lit("IdentifiedObject.name", "L"), _ref("Equipment.EquipmentContainer", "vl2")]
        )
    )
    terminal("t_load", "load", 1, 2)
    ssh.append(_obj("EnergyConsumer", "load", [_lit("EnergyConsumer.p", case.p_mw),
                                                _lit("EnergyConsumer.q", case.q_mvar)], about=True))  # fmt: skip
    if case.end3 is not None:
        eq.append(_obj("EnergyConsumer", "load3", [_lit("IdentifiedObject.name", "L3"),
                                                    _ref("Equipment.EquipmentContainer", "vl3")]))  # fmt: skip
        terminal("t_load3", "load3", 1, 3)
        ssh.append(_obj("EnergyConsumer", "load3", [_lit("EnergyConsumer.p", case.load3[0]),
                                                     _lit("EnergyConsumer.q", case.load3[1])], about=True))  # fmt: skip
    paths = []
    for name, profile, body in (
        ("EQ", "EquipmentCore/3/1", eq),
        ("SSH", "SteadyStateHypothesis/1/1", ssh),
        ("TP", "Topology/4/1", tp),
    ):
        path = folder / f"two_bus_{name}.xml"
        path.write_bytes(_doc(profile, "".join(body), "eq-model" if name == "EQ" else f"{name.lower()}-model"))
        paths.append(path)
    return paths
