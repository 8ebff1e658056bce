"""CF1xx: the data is inconsistent as RDF or as CIM (references, identifiers, literals, cardinalities)."""

from __future__ import annotations

from cimflow.catalog._entry import entry
from cimflow.findings import Category, Severity, Stage

_C = Category.DATA
_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
_B = Stage.BUILD

DANGLING_REFERENCE = entry(
    "CF101", "dangling-reference", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} refers to {target}, which is in none of the inputs",
    fix="Export the referenced object too, or add the missing profile or boundary set to the inputs.",
    what="That every rdf:resource reference points to an object defined in one of the inputs.",
    why="A dangling reference silently drops equipment from the grid: a terminal without node, a line without voltage.",
    example="`<cim:Terminal.ConnectivityNode rdf:resource=\"#_missing\"/>`.",
    references="IEC 61970-552 clause 5.4 (references); CGMES rule 'AssociationUsage'.",
)
WRONG_CLASS_REFERENCE = entry(
    "CF102", "wrong-class-reference", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} refers to {target}, a {target_class}, not a {expected}",
    fix="Point the reference at an object of the expected class.",
    what="That a reference points to an object of the class the CIM association requires.",
    why="Tools follow references by class; a Terminal whose node is a Substation cannot be connected.",
    example="`Terminal.ConnectivityNode` referring to a BaseVoltage.",
    references="IEC 61970-301 (association ends); CGMES SHACL 'class of the referenced object'.",
)
DUPLICATE_MRID = entry(
    "CF103", "duplicate-mrid", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} is given twice with different values ({value_a} and {value_b})",
    fix="Give every object a unique mRID, or make both descriptions agree.",
    what="That an mRID described in several places (files or elements) does not get conflicting values.",
    why="Two objects sharing one mRID merge into one; which value wins is arbitrary in other tools.",
    example="Two `cim:ACLineSegment rdf:ID=\"_L1\"` with different `ACLineSegment.r`.",
    references="IEC 61970-301 IdentifiedObject.mRID (globally unique).",
)
LITERAL_INSTEAD_OF_REFERENCE = entry(
    "CF104", "literal-instead-of-reference", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} is written as the text {value!r} instead of an rdf:resource reference",
    fix="Write associations as `<cim:X.Y rdf:resource=\"#_id\"/>`.",
    what="That associations (properties whose name starts with an upper-case role) are rdf:resource references.",
    why="A reference written as text is a string to every RDF tool: the association is lost.",
    example="`<cim:Terminal.ConnectivityNode>_cn1</cim:Terminal.ConnectivityNode>`.",
    references="IEC 61970-552 clause 5.4.",
)
INVALID_NUMBER = entry(
    "CF105", "invalid-literal", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} = {value!r} is not a valid {kind}",
    fix="Write numbers as xsd:float/xsd:integer (a dot as decimal separator, no units) and booleans as true/false.",
    what="That numeric, boolean and integer attributes parse, and numbers are finite (no NaN, no inf).",
    why="An unreadable value becomes missing data; NaN or inf poisons a power flow.",
    example="`<cim:ACLineSegment.r>0,12</cim:ACLineSegment.r>` or `NaN`.",
    references="XML Schema Part 2 datatypes; CGMES datatypes (Float, Integer, Boolean).",
)
MISSING_ATTRIBUTE = entry(
    "CF106", "missing-mandatory-attribute", _C, _E, _B,
    "{cim_class} {mrid}: mandatory {attribute} is missing",
    fix="Export the attribute; cimflow does not guess a value for it.",
    what="Attributes a power-flow model needs: BaseVoltage of conducting equipment or its container, "
    "CurrentLimit value, line r and x, transformer end ratedU.",
    why="Missing is not zero: a line without r would be treated as a short circuit.",
    example="A CurrentLimit without `CurrentLimit.value`.",
    references="CGMES 2.4.15 EQ profile cardinalities; CGMES 3.0 SHACL Simple shapes.",
)
TERMINAL_COUNT = entry(
    "CF107", "terminal-count", _C, _E, _B,
    "{cim_class} {mrid} has {n_terminals} terminal(s), expected {expected}",
    fix="Give the equipment the number of terminals its class requires.",
    what="Number of terminals per equipment: two for lines and switches, one per end for transformers, one for "
    "loads, sources and shunts.",
    why="A line with one terminal connects nothing and breaks the topology.",
    example="An ACLineSegment with only Terminal sequenceNumber 1.",
    references="IEC 61970-301 ConductingEquipment.Terminals; CGMES 'Terminal cardinality' constraints.",
)
TERMINAL_WITHOUT_NODE = entry(
    "CF108", "terminal-without-node", _C, _E, _B,
    "Terminal {mrid} of {equipment} is connected to no ConnectivityNode or TopologicalNode",
    fix="Connect the terminal to a node in EQ (node-breaker) or TP (bus-branch).",
    what="That every terminal refers to a ConnectivityNode or TopologicalNode.",
    why="Equipment on a floating terminal is not part of the grid.",
    example="A Terminal without Terminal.ConnectivityNode and no TP profile.",
    references="IEC 61970-301 Terminal.ConnectivityNode / Terminal.TopologicalNode.",
)
EQUIPMENT_WITHOUT_TERMINALS = entry(
    "CF109", "equipment-without-terminals", _C, _E, _B,
    "{cim_class} {mrid} has no terminals",
    fix="Export the terminals of the equipment.",
    what="That conducting equipment has at least one terminal.",
    why="Equipment without terminals is invisible to topology and power flow.",
    example="An EnergyConsumer with no Terminal referring to it.",
    references="IEC 61970-301 ConductingEquipment.Terminals.",
)
HEADER_DATATYPE = entry(
    "CF110", "header-datatype", _C, _W, _B,
    "Header {mrid}: {attribute} = {value!r} is not a valid {kind}",
    fix="Write header dates as xsd:dateTime (2024-01-31T12:00:00Z) and versions as integers or dotted numbers.",
    what="Datatypes of md:FullModel attributes (created, scenarioTime as dateTime; version).",
    why="Merging tools order and match models by these fields.",
    example="`<md:Model.created>this is not a date</md:Model.created>`.",
    references="IEC 61970-552 clause 6; CGMES FileHeader SHACL.",
)
UNKNOWN_ENUM = entry(
    "CF111", "unknown-enum-value", _C, _E, _B,
    "{cim_class} {mrid}: {attribute} = {value} is not a known value of {enum}",
    fix="Use one of the enumeration's literals.",
    what="Enumeration-valued attributes against the literals CIM defines.",
    why="An unknown control mode or winding connection cannot be interpreted.",
    example="`RegulatingControl.mode` = `RegulatingControlModeKind.badMode`.",
    references="IEC 61970-301 enumerations; CGMES RDFS.",
)
CLASS_MISMATCH = entry(
    "CF112", "class-mismatch", _C, _W, _B,
    "{mrid} is a {cim_class} in {file_a} but a {other_class} in {file_b}; the EQ class is used",
    fix="Describe one mRID with one class in every profile.",
    what="That every description of one mRID across profiles names the same class.",
    why="Tools that trust the other profile see different equipment (a breaker or a fuse).",
    example="`cim:Breaker` in EQ and `cim:Fuse` in SSH for the same rdf:about.",
    references="IEC 61970-552 clause 5.2.",
)
NON_UUID_MRID = entry(
    "CF113", "non-uuid-mrid", _C, _I, _B,
    "{cim_class} {mrid}: the identifier is not a UUID",
    fix="Use RFC 4122 UUIDs as mRIDs when exchanging with TSOs (CGMES requires them).",
    what="That identifiers are UUIDs, as CGMES requires.",
    why="Names as identifiers collide when models from several sources are merged.",
    example="NEPLAN's `rdf:ID=\"N12\"`.",
    options="None. More than 20 such objects in one document are one finding for the document (with the count).",
    references="CGMES 2.4.15 clause 5.3 (mRID as UUID).",
)

ALL = (
    DANGLING_REFERENCE,
    WRONG_CLASS_REFERENCE,
    DUPLICATE_MRID,
    LITERAL_INSTEAD_OF_REFERENCE,
    INVALID_NUMBER,
    MISSING_ATTRIBUTE,
    TERMINAL_COUNT,
    TERMINAL_WITHOUT_NODE,
    EQUIPMENT_WITHOUT_TERMINALS,
    HEADER_DATATYPE,
    UNKNOWN_ENUM,
    CLASS_MISMATCH,
    NON_UUID_MRID,
)
