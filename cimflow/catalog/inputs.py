"""CF0xx: the input could not be read, or cimflow had to assume something to read it."""

from __future__ import annotations

from cimflow.catalog._entry import entry
from cimflow.findings import Category, Severity, Stage

_C = Category.INPUT
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
_S = Stage.INGEST

XML_NOT_WELL_FORMED = entry(
    "CF001", "xml-not-well-formed", _C, _E, _S, "The file is not well-formed XML: {detail}",
    fix="Repair the XML at the reported line (often a mismatched end tag or a truncated file) and re-export.",
    what="That each document parses as XML 1.0.",
    why="A planning tool refuses the whole file; nothing in it can be checked or solved.",
    example="`<cim:Breaker rdf:about=\"#_81f3\">` closed by `</cim:Fuse>`.",
    references="W3C XML 1.0, section 2.1 (well-formed documents).",
)
NOT_RDF = entry(
    "CF002", "not-rdf", _C, _E, _S, "The document is XML but not RDF/XML: root element is {root}",
    fix="Export CIM as RDF/XML (root element rdf:RDF) as IEC 61970-552 requires.",
    what="That the root element of each document is `rdf:RDF`.",
    why="CIM exchange files are RDF/XML documents; another XML format cannot be mapped onto CIM classes.",
    example="A GML or CSV-in-XML export given instead of the CIM file.",
    references="IEC 61970-552 clause 4 (CIM XML model exchange format).",
)
NOT_CIM = entry(
    "CF003", "not-cim", _C, _E, _S, "The RDF document contains no CIM objects",
    fix="Give the CIM export itself, not a vocabulary or an empty document.",
    what="That an RDF document carries at least one object in a CIM namespace (cim16 or CIM100).",
    why="Without CIM objects there is no grid to validate or solve.",
    example="An RDFS vocabulary or a SHACL shapes file passed as a model.",
    references="IEC 61970-501, IEC 61970-552.",
)
DTD_REFUSED = entry(
    "CF004", "dtd-refused", _C, _E, _S, "The document declares a DOCTYPE with entities; refused for safety",
    fix="Remove the DOCTYPE declaration: CIM RDF/XML never needs one.",
    what="That no document declares entities in a DOCTYPE.",
    why="Entity declarations enable XML external entity (XXE) and entity-expansion ('billion laughs') attacks.",
    example="`<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>`.",
    references="OWASP XML External Entity Prevention Cheat Sheet.",
)
ZIP_UNREADABLE = entry(
    "CF005", "zip-unreadable", _C, _E, _S, "The zip archive cannot be read safely: {detail}",
    fix="Repack the archive with plain deflate, without nested archives deeper than three levels.",
    what="That zip archives open, are not corrupt, and inflate to a bounded size and nesting depth.",
    why="A corrupt archive hides the model; a zip bomb would exhaust memory.",
    example="A 40 kB zip whose member inflates to 10 GB.",
    options="`max_inflated_bytes` (default 2 GiB per archive member).",
    references="PKWARE APPNOTE; CVE classes 'zip bomb' and 'zip slip'.",
)
FILE_UNREADABLE = entry(
    "CF006", "file-unreadable", _C, _E, _S, "The input cannot be read: {detail}",
    fix="Check the path and its permissions.",
    what="That every path given exists and can be read.",
    why="A missing profile changes the model silently.",
    example="`cimflow validate feeder_EQ.xml feeder_SSH.xm` (typo).",
    references="None.",
)
UNKNOWN_NAMESPACE = entry(
    "CF007", "unknown-namespace", _C, _I, _S, "Objects in namespace {namespace} are kept but not interpreted",
    fix="Nothing, if the namespace is a vendor extension; otherwise export with a CIM namespace cimflow knows.",
    what="Namespaces of objects and properties against the known CIM, CGMES and extension namespaces.",
    why="Objects in an unknown namespace are kept for the round trip, but their meaning is not checked.",
    example="`xmlns:neplan=\"http://www.neplan.ch#\"` extension properties.",
    references="CGMES 2.4.15 / 3.0 namespace tables.",
)
HEADER_WITHOUT_PROFILE = entry(
    "CF008", "header-without-profile", _C, _W, _S,
    "The md:FullModel header names no profile; profile guessed as {profile}",
    fix="Add md:Model.profile to the header.",
    what="That each md:FullModel header lists at least one md:Model.profile URI.",
    why="Tools decide how to merge a file by its profile; without it they must guess.",
    example="A FullModel with created/scenarioTime but no Model.profile.",
    references="IEC 61970-552 clause 6 (model header); CGMES 3.0 Header specification.",
)
MISSING_EQ = entry(
    "CF009", "missing-equipment", _C, _E, _S, "No equipment (EQ) data among the inputs: {detail}",
    fix="Pass the EQ file (and the boundary set) together with SSH/TP/SV files.",
    what="That the set of inputs contains equipment data.",
    why="SSH, TP and SV profiles only add to the equipment described in EQ; alone they form no grid.",
    example="`cimflow validate grid_SSH.xml` alone.",
    references="CGMES 2.4.15 clause 5 (profile dependencies).",
)
PROFILE_MISMATCH = entry(
    "CF010", "profile-mismatch", _C, _W, _S, "The header declares {declared} but the content looks like {detected}",
    fix="Correct md:Model.profile in the header.",
    what="The profile URIs of a header against the classes the document actually contains.",
    why="A mislabelled profile is merged wrongly by tools that trust the header.",
    example="An SV document whose header says EquipmentCore.",
    references="IEC 61970-552 clause 6.",
)
NO_INPUT = entry(
    "CF011", "no-input", _C, _E, _S, "No CIM documents found in {detail}",
    fix="Point cimflow at .xml/.rdf files, folders holding them, or zip archives of them.",
    what="That the inputs contain at least one XML document.",
    why="An empty folder or a zip of PDFs yields no model.",
    example="`cimflow validate exports/` on an empty folder.",
    references="None.",
)
UNITS_ASSUMED = entry(
    "CF050", "units-assumed", _C, _I, _S, "Values read as {dialect} units: {reason}",
    fix="Nothing, if the assumption is right; otherwise add an md:FullModel header to CGMES files.",
    what="Which unit system cimflow assumed for each document (CGMES kV/MW/km or CIM100 SI V/W/m).",
    why="A wrong unit system scales every voltage and power by 1000.",
    example="A CIM100 file without header: voltages in V, powers in W, lengths in m.",
    references="CGMES 2.4.15 / 3.0 datatypes; CIMHub documentation.",
)


VALUE_ASSUMED = entry(
    "CF051", "value-assumed", _C, _I, Stage.BUILD,
    "{cim_class} {mrid}: {attribute} not usable from the file; cimflow used {value} ({reason})",
    fix="Give the value in the file if the assumption is wrong.",
    what="Every value cimflow had to assume or take from elsewhere to build the power-flow model: a base "
    "voltage inferred from a neighbour, a slack voltage at nominal, a load taken from the SV profile, "
    "a minimum impedance for a zero-impedance branch; also a voltage-regulating generator left PQ (its "
    "regulated bus held by a slack or another generator, minQ = maxQ), a second set point on one PV bus, "
    "and `--solver fbs` solved by Newton-Raphson because PV buses need it; an EnergySource that is not its "
    "island's slack (a PQ injection at activePower/reactivePower), a TopologicalNode whose base voltage "
    "disagrees with the VoltageLevel of its ConnectivityNodes, a load exponent other than 0, 1, 2 (carried as "
    "a ZIP blend), a StaticVarCompensator whose enabled control gives no voltage to hold, a converter's DC "
    "side that is not modelled, transformer clock numbers left out of the power flow (phase_angle_clock), "
    "and equipment cimflow leaves out; and every simplification of a model: a tap table without a point at "
    "the present step, a phase tap changer whose angle or reactance curve (xMin, xMax) cannot be computed, a "
    "non-reciprocal EquivalentBranch (r21, x21) modelled symmetric.",
    why="Nothing is silent: a result that rests on an assumption says which one, with the value used.",
    example="An ExternalNetworkInjection without RegulatingControl: slack voltage 1.0 pu (nominal).",
    references="IEC 61970-301; CGMES 2.4.15 SSH profile.",
)

ALL = (
    XML_NOT_WELL_FORMED,
    NOT_RDF,
    NOT_CIM,
    DTD_REFUSED,
    ZIP_UNREADABLE,
    FILE_UNREADABLE,
    UNKNOWN_NAMESPACE,
    HEADER_WITHOUT_PROFILE,
    MISSING_EQ,
    PROFILE_MISMATCH,
    NO_INPUT,
    UNITS_ASSUMED,
    VALUE_ASSUMED,
)
