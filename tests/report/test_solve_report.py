"""``cimflow solve --report``: report.json against its schema, report.md, and report.html self-contained in Chromium."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import zlib
from pathlib import Path
from typing import Any

import jsonschema
import lxml.html
import pytest

from cimflow.config import Settings
from cimflow.report.common import dumps
from cimflow.report.solve_html import MAX_PLOT_POINTS, render_solve_html
from cimflow.report.solve_json import num, solve_document
from cimflow.report.solve_markdown import render_solve_markdown
from cimflow.report.svg import MISSING, fmt, minmax_bins, nice_ticks
from cimflow.solve import SolveResult, solve
from tests.conftest import ROOT, TEST_DATA

SAMPLE = ROOT / "samples" / "simbench-lv-urban6"
SCHEMA = json.loads((ROOT / "schemas" / "solve-report.schema.json").read_text())
SLACK_BUS = "bus_174"  # the MV bus of the ExternalNetworkInjection, set point 1.025 pu


def absent(needle: str, text: str) -> bool:
    """``needle not in text``, without pytest's quadratic diff of a long text when it fails."""
    return needle not in text


def sample_inputs(folder: Path = SAMPLE) -> list[str]:
    """EQ, SSH and TP of a SimBench folder; the SV there is a reference, not an input."""
    return [str(folder / f"simbench_lv_urban6_{p}.xml") for p in ("EQ", "SSH", "TP")]


def copy_sample(tmp_path: Path) -> Path:
    for p in sample_inputs():
        shutil.copy(p, tmp_path / Path(p).name)
    return tmp_path


@pytest.fixture(scope="module")
def result() -> SolveResult:
    return solve(sample_inputs(), settings=Settings(v_min_pu=0.99))


@pytest.fixture(scope="module")
def document(result: SolveResult) -> dict[str, Any]:
    return solve_document(result, inputs=sample_inputs())


def test_document_validates_and_holds_the_sample(document: dict[str, Any]) -> None:
    jsonschema.validate(document, SCHEMA)
    s = document["summary"]
    assert document["schema_version"] == "1.2"
    assert document["tool"]["name"] == "cimflow"
    assert s["converged"] is True
    assert s["buses"] == len(document["buses"]) == 59
    assert s["branches"] == len(document["branches"]) == 58
    assert (s["islands"], s["energised_islands"]) == (1, 1)
    assert s["losses_mw"] > 0
    assert s["losses_mw"] == document["summary"]["losses_mw"]
    buses = {b["id"]: b for b in document["buses"]}
    assert buses[SLACK_BUS]["v_pu"] == 1.025
    assert s["v_max_pu"] == 1.025
    assert s["v_max_bus"] == SLACK_BUS
    assert s["v_min_pu"] == min(b["v_pu"] for b in document["buses"])
    assert 0.97 < s["v_min_pu"] < 0.99
    (slack,) = document["slack"]
    assert slack["bus"] == SLACK_BUS
    assert slack["p_mw"] < 0
    assert slack["p_inject_mw"] == -slack["p_mw"]
    # Power balance: the source supplies the load net of generation, plus the losses.
    assert slack["p_inject_mw"] == pytest.approx(s["load_mw"] - s["generation_mw"] + s["losses_mw"], abs=1e-6)


def test_ids_are_mrids_without_underscore(document: dict[str, Any]) -> None:
    eq = Path(sample_inputs()[0]).read_text()
    ids = {b["id"] for b in document["branches"]}
    assert "0_11_0" in ids  # <cim:ACLineSegment rdf:ID="_0_11_0">
    for branch_id in ids:
        assert not branch_id.startswith("_")
        assert f'rdf:ID="_{branch_id}"' in eq
    assert all(b["topological_node"] == b["id"] for b in document["buses"])


def test_violations_are_the_cf4_subset(document: dict[str, Any]) -> None:
    assert document["violations"] == [f for f in document["findings"] if f["code"].startswith("CF4")]
    assert document["summary"]["violations"] == len(document["violations"])
    s = document["summary"]
    assert s["infos"] + s["warnings"] + s["errors"] == len(document["findings"])
    # v_min_pu = 0.99: every energised bus below it is a CF402, and nothing else is violated.
    low = sorted(b["id"] for b in document["buses"] if b["v_pu"] < 0.99)
    assert len(low) >= 10
    assert sorted(f["mrid"] for f in document["violations"]) == low
    assert {f["code"] for f in document["violations"]} == {"CF402"}


def test_same_bytes_twice(result: SolveResult) -> None:
    again = solve(sample_inputs(), settings=Settings(v_min_pu=0.99))
    first = solve_document(result, inputs=sample_inputs())
    second = solve_document(again, inputs=sample_inputs())
    assert dumps(first) == dumps(second)
    assert render_solve_markdown(first) == render_solve_markdown(second)
    assert render_solve_html(first) == render_solve_html(second)
    assert absent("timestamp", dumps(first))


def test_num_rounds_and_nulls() -> None:
    assert num(1.0249999999999999) == 1.025
    assert num(float("nan")) is None
    assert num(float("inf")) is None
    assert num(None) is None
    assert str(num(-0.0)) == "0.0"
    assert num(0.1234567890123456) == 0.123456789012


def test_document_rejects_unknown_record_keys(document: dict[str, Any]) -> None:
    bad = copy.deepcopy(document)
    bad["buses"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, SCHEMA)
    later = {**copy.deepcopy(document), "schema_version": "1.1", "inverters": [], "control": {}}
    jsonschema.validate(later, SCHEMA)  # a minor version adds top-level keys


def test_markdown_lists_violations_and_extremes(document: dict[str, Any]) -> None:
    md = render_solve_markdown(document)
    s = document["summary"]
    assert md.startswith("# cimflow power-flow report")
    assert "converged" in md
    assert f"**{s['v_min_pu']:.4g} pu**" in md
    assert s["v_min_bus"] in md
    assert f"## Violations ({s['violations']})" in md
    (worst,) = [f for f in document["violations"] if f["mrid"] == s["v_min_bus"]]
    assert worst["file"].endswith("_TP.xml")
    assert worst["line"] > 0
    assert f"| CF402 | warning | TopologicalNode `{worst['mrid']}`" in md
    assert f"`{worst['file']}:{worst['line']}`" in md
    assert worst["message"] in md
    assert "## Most loaded branches (top 10)" in md
    assert "MV2.101-LV6.201-Trafo 1" in md  # the most loaded branch
    assert "## Slack" in md
    assert "## Reverse power flow at transformers (0 of 1)" in md
    assert md.endswith("\n")


def test_html_is_well_formed_and_self_contained(document: dict[str, Any]) -> None:
    page = render_solve_html(document)
    tree = lxml.html.document_fromstring(page)
    assert tree.find(".//title").text == "cimflow power-flow report"
    assert len(tree.findall(".//svg")) == 2  # voltage profile, branch loading
    assert not tree.xpath("//script")
    for element in tree.iter():
        for attr in ("src", "href"):
            value = element.get(attr) or ""
            assert not value.startswith(("http://", "https://", "//")), (element.tag, value)
    assert absent("<link", page)
    assert absent("@import", page)
    assert absent("url(", page)
    text = tree.text_content()
    assert f"Violations ({document['summary']['violations']})" in text
    assert "CF402" in text
    assert "sections from the source (tree depth" in text  # the sample's lines have no length: the x axis says so
    assert "v_min 0.99 pu" in text
    assert "v_max 1.1 pu" in text


def test_names_from_files_are_escaped(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    eq = folder / "simbench_lv_urban6_EQ.xml"
    evil = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"q\" 'a' | x"
    text = eq.read_text()
    assert text.count("LV6.201 Line 17<") == 1
    assert text.count("MV2.101-LV6.201-Trafo 1<") == 1
    eq.write_text(text.replace("LV6.201 Line 17<", f"{evil}<").replace("MV2.101-LV6.201-Trafo 1<", f"T {evil}<"))
    doc = solve_document(solve(sorted(str(p) for p in folder.glob("*.xml"))), inputs=["<b>in</b>.xml"])
    assert any(b["name"] and "<script>" in b["name"] for b in doc["branches"])
    page = render_solve_html(doc)
    assert absent("<script", page)
    assert absent("<b>", page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    tree = lxml.html.document_fromstring(page)
    assert not tree.xpath("//script")
    assert not tree.xpath("//b")
    md = render_solve_markdown(doc)
    assert "\\| x" in md  # a pipe in a name does not break the table


def test_non_converged_solve_still_renders(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    ssh = folder / "simbench_lv_urban6_SSH.xml"
    old = "<cim:EnergyConsumer.p>0.011</cim:EnergyConsumer.p>"
    assert old in ssh.read_text()
    ssh.write_text(ssh.read_text().replace(old, "<cim:EnergyConsumer.p>50</cim:EnergyConsumer.p>", 1))
    res = solve(sorted(str(p) for p in folder.glob("*.xml")))
    assert not res.converged
    doc = solve_document(res, inputs=[])
    jsonschema.validate(doc, SCHEMA)
    assert doc["summary"]["converged"] is False
    assert "CF401" in {f["code"] for f in doc["violations"]}
    dumps(doc)  # no NaN reaches the JSON
    assert "did not converge" in render_solve_markdown(doc)
    page = render_solve_html(doc)
    lxml.html.document_fromstring(page)
    assert "did not converge" in page
    assert "not converged" in page
    assert absent("<svg", page)  # no plot of a state the grid is not in


def test_unreadable_input_renders_without_solution(tmp_path: Path) -> None:
    bad = tmp_path / "broken_EQ.xml"
    bad.write_text("<rdf:RDF")
    doc = solve_document(solve([str(bad)]), inputs=[str(bad)])
    jsonschema.validate(doc, SCHEMA)
    assert doc["summary"]["solver"] is None
    assert doc["buses"] == []
    assert doc["summary"]["errors"] >= 1
    assert "No power flow ran" in render_solve_markdown(doc)
    lxml.html.document_fromstring(render_solve_html(doc))


def test_node_breaker_bus_ids_are_connectivity_nodes() -> None:
    doc = solve_document(solve(sample_inputs(TEST_DATA / "simbench-lv-urban6-cgmes3")), inputs=[])
    jsonschema.validate(doc, SCHEMA)
    assert len(doc["buses"]) == 59
    assert all(b["connectivity_nodes"] and b["id"] == b["connectivity_nodes"][0] for b in doc["buses"])


def test_meshed_island_gets_depth_from_the_source(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    eq, tp = folder / "simbench_lv_urban6_EQ.xml", folder / "simbench_lv_urban6_TP.xml"
    terminals = "".join(
        f'<cim:Terminal rdf:ID="_mesh_T{k}"><cim:IdentifiedObject.name>mesh</cim:IdentifiedObject.name>'
        f'<cim:Terminal.ConductingEquipment rdf:resource="#_mesh"/>'
        f"<cim:ACDCTerminal.sequenceNumber>{k}</cim:ACDCTerminal.sequenceNumber></cim:Terminal>"
        for k in (1, 2)
    )
    line = (
        '<cim:ACLineSegment rdf:ID="_mesh"><cim:IdentifiedObject.name>mesh</cim:IdentifiedObject.name>'
        "<cim:ACLineSegment.r>0.01</cim:ACLineSegment.r><cim:ACLineSegment.x>0.005</cim:ACLineSegment.x>"
        '<cim:ConductingEquipment.BaseVoltage rdf:resource="#_0.4_BV"/></cim:ACLineSegment>'
    )
    eq.write_text(eq.read_text().replace("</rdf:RDF>", terminals + line + "</rdf:RDF>"))
    nodes = "".join(
        f'<cim:Terminal rdf:about="#_mesh_T{k}"><cim:Terminal.TopologicalNode rdf:resource="#_{bus}"/></cim:Terminal>'
        for k, bus in ((1, "bus_0"), (2, "bus_18"))
    )
    tp.write_text(tp.read_text().replace("</rdf:RDF>", nodes + "</rdf:RDF>"))
    doc = solve_document(solve(sorted(str(p) for p in folder.glob("*.xml"))), inputs=[])
    jsonschema.validate(doc, SCHEMA)
    assert doc["summary"]["radial"] is False
    assert doc["islands"][0]["lengths_complete"] is None
    buses = {b["id"]: b for b in doc["buses"]}
    assert buses[SLACK_BUS]["depth"] == 0
    assert buses[SLACK_BUS]["parent"] is None
    assert buses["bus_18"]["depth"] == 2
    assert buses["bus_18"]["parent"] == "bus_0"
    assert all(b["depth"] is not None and b["distance_km"] is None for b in doc["buses"])
    assert "sections from the source" in render_solve_html(doc)


def big_document(document: dict[str, Any], n_buses: int) -> dict[str, Any]:
    """The sample document with ``n_buses`` made-up buses along a 12 km feeder (some below the band)."""
    doc = copy.deepcopy(document)
    doc["islands"][0]["lengths_complete"] = True
    template = doc["buses"][0]
    buses = []
    for k in range(n_buses):
        x = 12.0 * k / n_buses
        buses.append(
            {
                **template,
                "id": f"b{k}",
                "name": f"bus {k}",
                "parent": f"b{k - 1}" if k else None,
                "depth": k,
                "distance_km": x,
                "v_pu": 1.03 - 0.012 * x + 0.004 * ((k * 7919) % 13) / 13,
            }
        )
    doc["buses"] = buses
    doc["summary"]["buses"] = n_buses
    return doc


def test_large_grid_is_downsampled(document: dict[str, Any]) -> None:
    n = 100_000
    assert n > MAX_PLOT_POINTS
    page = render_solve_html(big_document(document, n))
    assert len(page.encode()) < 3_000_000
    text = lxml.html.document_fromstring(page).text_content()
    assert "Downsampled: 100,000 energised buses" in text
    assert "distance from the source along the feeder (km)" in text
    small = render_solve_html(big_document(document, 500))
    assert absent("Downsampled", small)
    assert "500 energised buses" in small


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium on this machine (.ci/run installs it)")


def _run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run([binary, *flags, *args], capture_output=True, timeout=120, check=False)


def _png_pixels_vary(png: bytes) -> bool:
    """Whether a PNG is not one flat colour: Pillow's per-band variance if installed, else the raw data's spread."""
    try:
        from PIL import Image, ImageStat
    except ImportError:
        chunks, pos = [], 8
        while pos < len(png):
            length = int.from_bytes(png[pos : pos + 4], "big")
            if png[pos + 4 : pos + 8] == b"IDAT":
                chunks.append(png[pos + 8 : pos + 8 + length])
            pos += 12 + length
        return len(set(zlib.decompress(b"".join(chunks)))) > 32
    import io

    with Image.open(io.BytesIO(png)) as image:
        return max(ImageStat.Stat(image.convert("RGB")).var) > 100.0


def test_report_opens_in_headless_chromium(document: dict[str, Any], tmp_path: Path) -> None:
    binary = _chromium()
    report = tmp_path / "report.html"
    report.write_text(render_solve_html(document), encoding="utf-8")
    dom = _run_chromium(binary, tmp_path / "profile-dom", "--dump-dom", report.as_uri())
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    tree = lxml.html.document_fromstring(dom.stdout)
    text = tree.text_content()
    assert "cimflow power-flow report" in text
    assert "The power flow converged" in text
    assert "Lowest voltage" in text
    assert f"Violations ({document['summary']['violations']})" in text
    assert len(tree.xpath("//svg")) == 2
    assert tree.xpath("//svg//path")
    assert tree.xpath("//svg//rect")
    shot = tmp_path / "report.png"
    run = _run_chromium(
        binary,
        tmp_path / "profile-shot",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        "--hide-scrollbars",
        report.as_uri(),
    )
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1280, 2000)
    assert _png_pixels_vary(png)


def test_svg_helpers() -> None:
    assert nice_ticks(0.0, 1.0, 5) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0.93, 1.07, 7) == [0.94, 0.96, 0.98, 1.0, 1.02, 1.04, 1.06]
    assert nice_ticks(2.0, 2.0) == [2.0]
    assert minmax_bins([(0.0, 1.0), (0.1, 0.9), (9.9, 1.1), (10.0, 1.05)], 0.0, 10.0, 2) == [
        (2.5, 0.9, 1.0),
        (7.5, 1.05, 1.1),
    ]
    assert fmt(49677.43, 3) == "49700"
    assert fmt(0.0001903) == "0.0001903"
    assert fmt(float("nan")) == MISSING
