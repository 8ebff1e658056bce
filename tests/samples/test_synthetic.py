"""Tests of the synthetic CGMES feeder generator (cimflow.samples)."""

from __future__ import annotations

import math
import re
import uuid
import zipfile
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import networkx as nx
import pytest
import rdflib
from lxml import etree

from cimflow.errors import ConfigError
from cimflow.samples import synthetic_feeder, write_synthetic_feeder
from cimflow.samples._cgmes_syntax import NAMESPACE, IdFactory, object_uuid
from cimflow.samples.synthetic import build_layout

RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
CIM = {"2.4.15": "http://iec.ch/TC57/2013/CIM-schema-cim16#", "3.0": "http://iec.ch/TC57/CIM100#"}
EXT = {"2.4.15": "http://entsoe.eu/CIM/SchemaExtension/3/1#", "3.0": "http://iec.ch/TC57/CIM100-European#"}
MODES = [(v, nb) for v in ("2.4.15", "3.0") for nb in (False, True)]
MODE_IDS = [f"{v}-{'nb' if nb else 'bb'}" for v, nb in MODES]


@cache
def feeder(n: int, version: str = "2.4.15", node_breaker: bool = False, pv_share: float = 0.0) -> dict[str, bytes]:
    """Cache feeders: several tests read the same one and the documents are immutable bytes."""
    return synthetic_feeder(n, version=version, node_breaker=node_breaker, pv_share=pv_share)


@cache
def objects(n: int, version: str, node_breaker: bool, pv_share: float = 0.0) -> dict[str, dict[str, object]]:
    """Merge the three documents by id: {id: {"class": ..., "<Class.prop>": value or "#ref", ...}}."""
    merged: dict[str, dict[str, object]] = defaultdict(dict)
    for profile, data in feeder(n, version, node_breaker, pv_share).items():
        for element in etree.fromstring(data):
            if element.tag.endswith("FullModel"):
                continue
            defined = element.get(f"{RDF}ID")
            uid = defined or element.get(f"{RDF}about", "").removeprefix("#")
            obj = merged[uid]
            if defined:
                assert "class" not in obj, f"{uid} defined twice"
                obj["class"] = etree.QName(element).localname
                obj["profile"] = profile
            for prop in element:
                value = prop.get(f"{RDF}resource", prop.text)
                obj[etree.QName(prop).localname] = value
    return dict(merged)


def of_class(objs: dict[str, dict[str, object]], cls: str) -> dict[str, dict[str, object]]:
    return {uid: obj for uid, obj in objs.items() if obj.get("class") == cls}


@pytest.mark.parametrize(("version", "node_breaker"), MODES, ids=MODE_IDS)
def test_documents_parse_and_counts_match(version: str, node_breaker: bool) -> None:
    n = 150
    docs = feeder(n, version, node_breaker)
    assert set(docs) == {"EQ", "SSH", "TP"}
    for data in docs.values():
        root = etree.fromstring(data)
        assert root.tag == f"{RDF}RDF"
        assert root.nsmap["cim"] == CIM[version]
    tp = etree.fromstring(docs["TP"])
    assert len(tp.findall(f"{{{CIM[version]}}}TopologicalNode")) == n
    objs = objects(n, version, node_breaker)
    counts = Counter(obj.get("class") for obj in objs.values())
    assert counts["ACLineSegment"] + counts["PowerTransformer"] == n - 1
    assert counts["ExternalNetworkInjection"] == 1
    assert counts["PowerTransformer"] == counts["RatioTapChanger"] == 2
    assert counts["PowerTransformerEnd"] == 2 * counts["PowerTransformer"]
    assert counts["EnergyConsumer"] >= 0.9 * n
    assert counts["OperationalLimitSet"] == counts["CurrentLimit"] == 2 * counts["ACLineSegment"]
    if node_breaker:
        assert counts["Breaker"] > 0
        assert counts["ConnectivityNode"] == n + counts["Breaker"]
    else:
        assert counts["Breaker"] == counts["ConnectivityNode"] == 0
        assert b"<cim:ConnectivityNode " not in docs["EQ"] + docs["TP"]
        assert b"Terminal.ConnectivityNode" not in docs["EQ"]


@pytest.mark.parametrize("n", [2, 3, 64, 65, 66, 130, 131, 1000])
def test_exact_bus_count_for_edge_sizes(n: int) -> None:
    layout = build_layout(n, pv_share=0.5)
    assert len(layout.bus_name) == n
    assert len(layout.lines) + len(layout.transformers) == n - 1
    assert all(load.p_mw > 0 for load in layout.loads)
    assert layout.loads


def test_same_arguments_give_same_bytes_and_seed_or_name_change_them() -> None:
    first = synthetic_feeder(80, seed=7, pv_share=0.3, node_breaker=True)
    assert first == synthetic_feeder(80, seed=7, pv_share=0.3, node_breaker=True)
    other_seed = synthetic_feeder(80, seed=8, pv_share=0.3, node_breaker=True)
    other_name = synthetic_feeder(80, seed=7, pv_share=0.3, node_breaker=True, name="other")
    for profile in ("EQ", "SSH", "TP"):
        assert first[profile] != other_seed[profile]
        assert first[profile] != other_name[profile]


def test_identifiers_are_uuid5_of_name_and_seed() -> None:
    fast = IdFactory("feeder & co", 3)
    for kind, index in (("tn", 0), ("acl_t1", 12345), ("eni", 0)):
        assert fast(kind, index) == object_uuid("feeder & co", 3, kind, index)
        assert uuid.UUID(fast(kind, index)).version == 5
    eq = feeder(50, "2.4.15", False)["EQ"]
    ids = re.findall(rb'rdf:ID="_([^"]+)"', eq)
    assert ids
    assert all(uuid.UUID(i.decode()).version == 5 for i in ids)
    assert object_uuid("synthetic", 0, "eni").encode() in ids
    assert str(NAMESPACE) == str(uuid.uuid5(uuid.NAMESPACE_URL, "urn:cimflow:samples:synthetic"))


@pytest.mark.parametrize("version", ["2.4.15", "3.0"])
def test_rdflib_parses_all_three_documents(version: str) -> None:
    graph = rdflib.Graph()
    for data in feeder(30, version, True, 0.3).values():
        graph.parse(data=data, format="xml", publicID="http://example.org/base")
    cim = rdflib.Namespace(CIM[version])
    assert len(list(graph.subjects(rdflib.RDF.type, cim.TopologicalNode))) == 30
    assert len(list(graph.subjects(rdflib.RDF.type, cim.ExternalNetworkInjection))) == 1


@pytest.mark.parametrize(("version", "node_breaker"), MODES, ids=MODE_IDS)
def test_every_reference_resolves(version: str, node_breaker: bool) -> None:
    docs = feeder(70, version, node_breaker, 0.3)
    defined = {m for data in docs.values() for m in re.findall(rb'rdf:ID="([^"]+)"', data)}
    for data in docs.values():
        for target in re.findall(rb'rdf:(?:resource|about)="([^"]+)"', data):
            if target.startswith(b"#"):
                assert target[1:] in defined, target
            elif not target.startswith(b"urn:uuid:"):  # enumeration literals
                assert target.decode().startswith((CIM[version], EXT[version])), target
    fullmodel = {p: etree.fromstring(d).find("{*}FullModel").get(f"{RDF}about") for p, d in docs.items()}
    assert all(about.startswith("urn:uuid:") for about in fullmodel.values())
    for profile in ("SSH", "TP"):
        dependent = etree.fromstring(docs[profile]).find("{*}FullModel/{*}Model.DependentOn")
        assert dependent.get(f"{RDF}resource") == fullmodel["EQ"]


@pytest.mark.parametrize(("version", "node_breaker"), MODES, ids=MODE_IDS)
def test_header_profiles_and_fixed_timestamp(version: str, node_breaker: bool) -> None:
    expected = {
        "2.4.15": {"EQ": "EquipmentCore/3/1", "SSH": "SteadyStateHypothesis/1/1", "TP": "Topology/4/1"},
        "3.0": {"EQ": "CoreEquipment-EU/3.0", "SSH": "SteadyStateHypothesis-EU/3.0", "TP": "Topology-EU/3.0"},
    }[version]
    for profile, data in feeder(20, version, node_breaker).items():
        header = etree.fromstring(data).find("{*}FullModel")
        uris = [e.text for e in header.findall("{*}Model.profile")]
        assert uris[0].endswith(expected[profile])
        operation = [u for u in uris if "Operation" in u]
        assert bool(operation) == (node_breaker and profile == "EQ")  # PowSyBl reads Operation as node-breaker
        assert header.findtext("{*}Model.created") == header.findtext("{*}Model.scenarioTime") == "2025-01-01T00:00:00Z"


@pytest.mark.parametrize(("version", "node_breaker"), MODES, ids=MODE_IDS)
def test_topology_is_a_tree_from_the_slack(version: str, node_breaker: bool) -> None:
    n = 300
    objs = objects(n, version, node_breaker)
    terminals = of_class(objs, "Terminal")
    by_equipment: dict[str, list[dict[str, object]]] = defaultdict(list)
    for term in terminals.values():
        by_equipment[str(term["Terminal.ConductingEquipment"]).removeprefix("#")].append(term)
    node_key = "Terminal.ConnectivityNode" if node_breaker else "Terminal.TopologicalNode"
    node_class = "ConnectivityNode" if node_breaker else "TopologicalNode"
    graph = nx.MultiGraph()
    graph.add_nodes_from(f"#{uid}" for uid in of_class(objs, node_class))
    for equipment, terms in by_equipment.items():
        if len(terms) == 2:
            graph.add_edge(terms[0][node_key], terms[1][node_key], key=equipment)
        assert all(term["ACDCTerminal.connected"] == "true" for term in terms)
        assert sorted(int(str(t["ACDCTerminal.sequenceNumber"])) for t in terms) == list(range(1, len(terms) + 1))
    assert len(of_class(objs, "TopologicalNode")) == n
    assert {obj["profile"] for obj in of_class(objs, "TopologicalNode").values()} == {"TP"}
    assert nx.is_tree(graph)
    slack_terminal = next(
        t
        for t in terminals.values()
        if objs[str(t["Terminal.ConductingEquipment"])[1:]].get("class") == "ExternalNetworkInjection"
    )
    assert slack_terminal[node_key] in graph
    if node_breaker:  # closed breakers join two ConnectivityNodes of one TopologicalNode
        for uid in of_class(objs, "Breaker"):
            tn = {
                objs[str(t["Terminal.ConnectivityNode"])[1:]]["ConnectivityNode.TopologicalNode"]
                for t in by_equipment[uid]
            }
            assert len(tn) == 1
            assert objs[uid]["Switch.normalOpen"] == objs[uid]["Switch.open"] == "false"


@pytest.mark.parametrize("version", ["2.4.15", "3.0"])
def test_pv_share_places_generating_pv(version: str) -> None:
    objs = objects(200, version, False, 0.25)
    n_loads = len(of_class(objs, "EnergyConsumer"))
    if version == "3.0":
        pvs, units = of_class(objs, "PowerElectronicsConnection"), of_class(objs, "PhotoVoltaicUnit")
        p_key, s_key = "PowerElectronicsConnection.p", "PowerElectronicsConnection.ratedS"
        assert {u["PowerElectronicsUnit.PowerElectronicsConnection"] for u in units.values()} == {f"#{i}" for i in pvs}
    else:
        pvs, units = of_class(objs, "SynchronousMachine"), of_class(objs, "SolarGeneratingUnit")
        p_key, s_key = "RotatingMachine.p", "RotatingMachine.ratedS"
        assert {pv["RotatingMachine.GeneratingUnit"] for pv in pvs.values()} == {f"#{i}" for i in units}
    assert len(pvs) == len(units) == round(0.25 * n_loads)
    for pv in pvs.values():
        assert -float(str(pv[s_key])) < float(str(pv[p_key])) < 0  # generation, load sign convention
    assert not of_class(objects(200, version, False), "SynchronousMachine")


@pytest.mark.parametrize("version", ["2.4.15", "3.0"])
def test_values_are_those_of_cgmes(version: str) -> None:
    objs = objects(150, version, False)
    limit_key = "CurrentLimit.normalValue" if version == "3.0" else "CurrentLimit.value"
    for line in of_class(objs, "ACLineSegment").values():
        length_km, r_ohm = float(str(line["Conductor.length"])), float(str(line["ACLineSegment.r"]))
        assert 0.01 <= length_km <= 1.5
        assert math.isclose(r_ohm / length_km, 0.208, rel_tol=1e-4) or math.isclose(
            r_ohm / length_km, 0.122, rel_tol=1e-4
        )
        assert float(str(line["ACLineSegment.bch"])) > 0
    for limit in of_class(objs, "CurrentLimit").values():
        assert float(str(limit[limit_key])) in {270.0, 421.0}
        if version == "3.0":
            assert limit["CurrentLimit.value"] == limit[limit_key]
    ends = sorted(
        of_class(objs, "PowerTransformerEnd").values(),
        key=lambda e: (str(e["PowerTransformerEnd.PowerTransformer"]), str(e["TransformerEnd.endNumber"])),
    )
    for hv, lv in zip(ends[::2], ends[1::2], strict=True):
        assert (hv["PowerTransformerEnd.ratedU"], lv["PowerTransformerEnd.ratedU"]) == ("20", "0.4")
        assert float(str(hv["PowerTransformerEnd.x"])) > float(str(hv["PowerTransformerEnd.r"])) > 0
        assert [lv[f"PowerTransformerEnd.{p}"] for p in "rxgb"] == ["0", "0", "0", "0"]
    for rtc in of_class(objs, "RatioTapChanger").values():
        assert objs[str(rtc["RatioTapChanger.TransformerEnd"])[1:]]["TransformerEnd.endNumber"] == "1"
        assert (
            int(str(rtc["TapChanger.lowStep"]))
            <= int(str(rtc["TapChanger.step"]))
            <= int(str(rtc["TapChanger.highStep"]))
        )
    (rc,) = of_class(objs, "RegulatingControl").values()
    assert rc["RegulatingControl.targetValue"] == "20.4"
    (eni,) = of_class(objs, "ExternalNetworkInjection").values()
    assert eni["RegulatingCondEq.controlEnabled"] == "true"
    for load in of_class(objs, "EnergyConsumer").values():
        assert 0 < float(str(load["EnergyConsumer.q"])) < float(str(load["EnergyConsumer.p"])) <= 0.0045
    for data in feeder(150, version, False).values():  # CGMES 3.0 writes IdentifiedObject.mRID on every object
        for element in list(etree.fromstring(data))[1:]:
            uid = (element.get(f"{RDF}ID") or element.get(f"{RDF}about")).lstrip("#_")
            assert element.findtext("{*}IdentifiedObject.mRID") == (uid if version == "3.0" else None)


def test_names_are_escaped() -> None:
    docs = synthetic_feeder(5, name='a&b <"c">')
    root = etree.fromstring(docs["EQ"])
    names = {e.text for e in root.iter("{*}IdentifiedObject.name")}
    assert 'a&b <"c"> S0' in names


def test_write_synthetic_feeder_refuses_to_overwrite(tmp_path: Path) -> None:
    paths = write_synthetic_feeder(12, tmp_path / "out", name="f12", seed=1)
    assert [p.name for p in paths] == ["f12_EQ.xml", "f12_SSH.xml", "f12_TP.xml"]
    assert paths[0].read_bytes() == synthetic_feeder(12, name="f12", seed=1)["EQ"]
    paths[1].write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        write_synthetic_feeder(12, tmp_path / "out", name="f12", seed=2)
    assert paths[1].read_bytes() == b"keep me"
    assert paths[0].read_bytes() == synthetic_feeder(12, name="f12", seed=1)["EQ"]
    write_synthetic_feeder(12, tmp_path / "out", name="f12", seed=2, overwrite=True)
    assert paths[1].read_bytes() == synthetic_feeder(12, name="f12", seed=2)["SSH"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_buses": 1},
        {"n_buses": 10, "version": "2.4"},
        {"n_buses": 10, "pv_share": 1.5},
        {"n_buses": 10, "branching": -0.1},
    ],
)
def test_bad_arguments_raise_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        synthetic_feeder(**kwargs)  # type: ignore[arg-type]


def test_bad_file_name_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        write_synthetic_feeder(5, tmp_path, name="../x")


def test_generation_is_linear_enough_for_benchmarks() -> None:
    docs = synthetic_feeder(20_000, version="3.0", node_breaker=True, pv_share=0.2)
    assert docs["TP"].count(b"<cim:TopologicalNode ") == 20_000
    assert docs["EQ"].count(b"<cim:ACLineSegment ") + docs["EQ"].count(b"<cim:PowerTransformer ") == 19_999


def _zip(tmp_path: Path, docs: dict[str, bytes]) -> Path:
    path = tmp_path / "feeder.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for profile, data in docs.items():
            archive.writestr(f"feeder_{profile}.xml", data)
    return path


@pytest.mark.parametrize(
    ("n", "version", "node_breaker", "pv_share", "branching"),
    [
        (50, "2.4.15", False, 0.3, 0.3),
        (50, "3.0", True, 0.0, 0.3),
        (1500, "2.4.15", False, 0.0, 0.0),
        (1500, "2.4.15", False, 1.0, 0.0),
    ],
)
def test_pypowsybl_loads_and_converges_within_limits(
    tmp_path: Path, n: int, version: str, node_breaker: bool, pv_share: float, branching: float
) -> None:
    network = pytest.importorskip("pypowsybl.network")
    loadflow = pytest.importorskip("pypowsybl.loadflow")
    docs = synthetic_feeder(n, version=version, node_breaker=node_breaker, pv_share=pv_share, branching=branching)
    net = network.load(str(_zip(tmp_path, docs)))
    assert len(net.get_buses()) == n
    assert len(net.get_lines()) + len(net.get_2_windings_transformers()) == n - 1
    (eni_bus,) = net.get_generators().query("name == 'synthetic grid infeed'").bus_id
    # OpenLoadFlow's default slack bus is "most meshed" among buses up to the 95th percentile of nominal voltage,
    # i.e. an LV bus here, which then takes the leftover mismatch: make the infeed's bus the slack, as it is
    params = loadflow.Parameters(provider_parameters={"slackBusSelectionMode": "NAME", "slackBusesIds": eni_bus})
    results = loadflow.run_ac(net, params)
    assert results[0].status == loadflow.ComponentStatus.CONVERGED
    buses = net.get_buses()
    v_pu = buses.v_mag / buses.voltage_level_id.map(net.get_voltage_levels().nominal_v)
    assert 0.9 < v_pu.min() <= v_pu.max() < 1.1


_PANDAPOWER_3_0 = (
    "pandapower 3.5's CGMES 3.0 importer reads ACLineSegment inService from a table that never has it and raises "
    "AttributeError on any 3.0 file with lines, PowSyBl's own CGMES 3.0 export included"
)


@pytest.mark.parametrize(
    "version", ["2.4.15", pytest.param("3.0", marks=pytest.mark.xfail(raises=AttributeError, reason=_PANDAPOWER_3_0))]
)
def test_pandapower_from_cim_loads_and_solves(tmp_path: Path, version: str) -> None:
    pandapower = pytest.importorskip("pandapower")
    from_cim = pytest.importorskip("pandapower.converter.cim.cim2pp.from_cim")
    paths = write_synthetic_feeder(60, tmp_path, version=version, pv_share=0.3)
    net = from_cim.from_cim(file_list=[str(p) for p in paths], cgmes_version=version)
    assert len(net.bus) == 60
    assert len(net.line) + len(net.trafo) == 59
    assert len(net.ext_grid) == 1
    assert math.isclose(float(net.ext_grid.vm_pu.iloc[0]), 1.02)
    assert len(net.sgen) + len(net.gen) == round(0.3 * len(net.load))
    assert float(net.trafo.vk_percent.iloc[0]) == pytest.approx(6.0)
    pandapower.runpp(net, numba=False)
    assert 0.9 < net.res_bus.vm_pu.min() <= net.res_bus.vm_pu.max() < 1.1
