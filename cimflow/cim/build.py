"""Build the typed :class:`~cimflow.model.Network` from merged objects; the only place units are converted.

Each model field names its CIM attributes in :class:`~cimflow.model.base.Attr` metadata; the builder
reads them, converts the file's unit (per document dialect) to the internal unit, checks the declared
physical constraint and reference class, and turns every problem into a located finding.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any

from cimflow.catalog import data as dcodes
from cimflow.catalog import electrical as ecodes
from cimflow.catalog import inputs as icodes
from cimflow.cim import namespaces as ns
from cimflow.cim.descriptions import native_builder
from cimflow.cim.ingest import Dataset
from cimflow.cim.merge import Merged, MergedObject, PropValue, merge
from cimflow.cim.profiles import is_datetime
from cimflow.cim.rdf import Kind
from cimflow.findings import Finding, Location, Outcome, RuleMeta, make_finding
from cimflow.gcpause import gc_paused
from cimflow.ids import _CACHE as _MRID_CACHE
from cimflow.ids import MRID, forget_normalised, normalise_mrid
from cimflow.model.base import _FIELDS_SET, _LAYOUTS, _REQUIRED, Attr, Check, CimObject, Read, SourceRef, layout_of
from cimflow.model.network import Network, OpaqueObject
from cimflow.model.registry import MODEL_OF_CLASS, NON_EQUIPMENT
from cimflow.units import Dialect, Quantity, factor

log = logging.getLogger(__name__)

_CHECK_META: dict[Check, RuleMeta] = {
    Check.NON_NEGATIVE: ecodes.NEGATIVE_IMPEDANCE,
    Check.POSITIVE_VOLTAGE: ecodes.NON_POSITIVE_VOLTAGE,
    Check.POSITIVE_RATING: ecodes.NON_POSITIVE_RATING,
    Check.POSITIVE_LENGTH: ecodes.NON_POSITIVE_LENGTH,
}
_CHECK_FAILS: dict[Check, Callable[[float], bool]] = {
    Check.NON_NEGATIVE: lambda v: v < 0,
    Check.POSITIVE_VOLTAGE: lambda v: v <= 0,
    Check.POSITIVE_RATING: lambda v: v <= 0,
    Check.POSITIVE_LENGTH: lambda v: v <= 0,
}
_BOOL_TEXT = {"true": True, "false": False}
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
_VERSION_RE = re.compile(r"^\s*[0-9]+([.\-_][0-9A-Za-z]+)*\s*$")

# CIM attribute name -> (field name, how to read it, priority among the field's names)
Plan = dict[str, tuple[str, Attr, int]]
_PLANS: dict[type[CimObject], Plan] = {}


def _plan(model: type[CimObject]) -> Plan:
    """Fields of a model class that come from CIM attributes, by attribute name, computed once per class."""
    plan = _PLANS.get(model)
    if plan is None:
        plan = {}
        for fname, finfo in model.model_fields.items():
            for meta in finfo.metadata:
                if isinstance(meta, Attr):
                    for priority, name in enumerate(meta.names):
                        plan[name] = (fname, meta, priority)
        _PLANS[model] = plan
    return plan


# CIM attribute name -> (field, read code, has a quantity, check code, targets, enum literals, the field's
# other CIM names, the field's place in the class's layout): the plan in the form the native build takes
NativePlan = dict[
    str, tuple[str, int, bool, int, tuple[str, ...] | None, tuple[str, ...] | None, tuple[str, ...] | None, int]
]
_NATIVE_PLANS: dict[type[CimObject] | None, NativePlan] = {None: {}}
_READ_CODES = {Read.FLOAT: 0, Read.INT: 1, Read.BOOL: 2, Read.STR: 3, Read.REF: 4, Read.REFS: 5, Read.ENUM: 6}
_CHECK_CODES = {
    Check.NONE: 0,
    Check.NON_NEGATIVE: 1,  # fails below 0
    Check.POSITIVE_VOLTAGE: 2,  # fails at or below 0
    Check.POSITIVE_RATING: 2,
    Check.POSITIVE_LENGTH: 2,
}


def _native_plan(model: type[CimObject] | None) -> NativePlan:
    """The plan of a model class (``None``: not modelled) for the native reader, computed once per class."""
    plan = _NATIVE_PLANS.get(model)
    if plan is None:
        assert model is not None
        place = {fname: k for k, (fname, _default) in enumerate(layout_of(model))}
        plan = _NATIVE_PLANS[model] = {
            name: (
                fname,
                _READ_CODES[spec.read],
                spec.quantity is not Quantity.NONE,
                _CHECK_CODES[spec.check],
                spec.targets or None,
                spec.enum or None,
                tuple(n for n in spec.names if n != name) or None,
                place[fname],
            )
            for name, (fname, spec, _priority) in _plan(model).items()
        }
    return plan


_TARGET_OK: dict[tuple[tuple[str, ...], str], bool] = {}
# classes whose values post_process converts further (a voltage target in V in CIM100 distribution files)
_POST_PROCESSED = frozenset({"RegulatingControl", "TapChangerControl"})
_MODEL_OF_CLASS = dict(MODEL_OF_CLASS)


def _target_ok(targets: tuple[str, ...], cls: str) -> bool:
    """Whether an object of class ``cls`` may be referenced where ``targets`` are expected (memoised)."""
    key = (targets, cls)
    ok = _TARGET_OK.get(key)
    if ok is None:
        if "" in targets:
            ok = True
        elif targets == ("*equipment",):
            ok = cls not in NON_EQUIPMENT
        else:
            models = {MODEL_OF_CLASS.get(t) for t in targets} - {None}
            ok = cls in targets or MODEL_OF_CLASS.get(cls) in models
        _TARGET_OK[key] = ok
    return ok


def is_internal_reference(value: str) -> bool:
    """Tell whether an rdf:resource names an object of the model (not an enumeration or external URI)."""
    return value.startswith(("#", "urn:uuid:", "_")) or ":" not in value


class _Builder:
    def __init__(self, dataset: Dataset, merged: Merged) -> None:
        self.dataset = dataset
        self.merged = merged
        self.names = [d.name for d in dataset.documents]
        self.dialects = [i.dialect for i in dataset.infos]
        self.findings: list[Finding] = merged.findings

    def loc(self, obj: MergedObject, attribute: str | None, pv: PropValue | None) -> Location:
        doc, line = (pv[2], pv[3]) if pv is not None else (obj.doc, obj.line)
        return Location(mrid=obj.mrid, cim_class=obj.cim_class, attribute=attribute, file=self.names[doc], line=line)

    def bad(self, obj: MergedObject, name: str, pv: PropValue, kind: str) -> None:
        self.findings.append(
            make_finding(dcodes.INVALID_NUMBER, self.loc(obj, name, pv), ctx={"value": pv[0], "kind": kind})
        )

    def read_value(self, obj: MergedObject, spec: Attr, name: str, stored: Any) -> Any:
        if spec.read is Read.REFS:
            values = stored if type(stored) is list else [stored]
            return tuple(normalise_mrid(pv[0]) for pv in values if pv[1] == Kind.REF) or None
        pv = stored[0] if type(stored) is list else stored
        value, kind = pv[0], pv[1]
        read = spec.read
        if read is Read.REF:
            if kind != Kind.REF:
                return None  # reported as literal-instead-of-reference while merging
            target = normalise_mrid(value)
            if spec.targets and target in self.merged.objects:
                self.check_target(obj, name, pv, target, spec.targets)
            return target
        if read is Read.ENUM:
            literal = value.rsplit("#", 1)[-1].rsplit(".", 1)[-1].strip()
            if spec.enum and literal not in spec.enum:
                self.findings.append(
                    make_finding(
                        dcodes.UNKNOWN_ENUM,
                        self.loc(obj, name, pv),
                        ctx={"value": value.rsplit("#", 1)[-1], "enum": name},
                    )
                )
            return literal
        if kind != Kind.LITERAL:
            return None
        if read is Read.STR:
            return value
        text = value
        if read is Read.BOOL:
            low = text.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            self.bad(obj, name, pv, "boolean")
            return None
        if read is Read.INT:
            try:
                return int(text)
            except ValueError:
                try:
                    f = float(text)
                except ValueError:
                    f = math.nan
                if math.isfinite(f) and f.is_integer():
                    return int(f)
                self.bad(obj, name, pv, "integer")
                return None
        try:
            number = float(text)
        except ValueError:
            self.bad(obj, name, pv, "number")
            return None
        if not math.isfinite(number):
            self.bad(obj, name, pv, "finite number")
            return None
        if spec.quantity is not Quantity.NONE:
            number *= factor(self.dialects[pv[2]], spec.quantity)
        if spec.check is not Check.NONE and _CHECK_FAILS[spec.check](number):
            self.findings.append(
                make_finding(_CHECK_META[spec.check], self.loc(obj, name, pv), ctx={"value": f"{number:g}"})
            )
        return number

    def check_target(self, obj: MergedObject, name: str, pv: PropValue, target: MRID, targets: tuple[str, ...]) -> None:
        tcls = self.merged.objects[target].cim_class
        ok = _target_ok(targets, tcls)
        if not ok:
            self.findings.append(
                make_finding(
                    dcodes.WRONG_CLASS_REFERENCE,
                    self.loc(obj, name, pv),
                    ctx={"target": target, "target_class": tcls, "expected": " or ".join(targets).lstrip("*")},
                )
            )

    def check_reference(self, obj: MergedObject, name: str, pv: PropValue) -> None:
        """Report a reference to an object that is in none of the inputs (CF101)."""
        value = pv[0]
        target = normalise_mrid(value)
        if target in self.merged.objects or not is_internal_reference(value):
            return
        self.findings.append(make_finding(dcodes.DANGLING_REFERENCE, self.loc(obj, name, pv), ctx={"target": value}))

    def check_headers(self) -> None:
        for doc in self.dataset.documents:
            if doc.header is None:
                continue
            for pred, value, _kind, line in doc.header.props:
                local = ns.split_tag(pred)[1]
                if local in ("Model.created", "Model.scenarioTime") and not is_datetime(value):
                    kind = "xsd:dateTime"
                elif local == "Model.version" and not _VERSION_RE.match(value):
                    kind = "version number"
                else:
                    continue
                self.findings.append(
                    make_finding(
                        dcodes.HEADER_DATATYPE,
                        Location(
                            mrid=doc.header.mrid, cim_class="FullModel", attribute=local, file=doc.name, line=line
                        ),
                        ctx={"value": value, "kind": kind},
                    )
                )

    def build(self) -> Network:
        by_class: dict[type[CimObject], dict[MRID, CimObject]] = {}
        by_mrid: dict[MRID, CimObject] = {}
        opaque: dict[MRID, OpaqueObject] = {}
        names = self.names
        objects = self.merged.objects
        cache = _MRID_CACHE
        dialects = self.dialects
        ref_kind, literal_kind = int(Kind.REF), int(Kind.LITERAL)
        float_read, ref_read, no_check, no_quantity = Read.FLOAT, Read.REF, Check.NONE, Quantity.NONE
        str_read, bool_read, int_read = Read.STR, Read.BOOL, Read.INT
        cgmes = Dialect.CGMES
        findings = self.findings
        ref_forms = self.dataset.ref_forms
        released: dict[str, PropValue | list[PropValue]] = {}

        def finish(
            mrid: MRID,
            obj: MergedObject,
            model: type[CimObject] | None,
            values: dict[str, Any],
            props: Iterable[tuple[str, PropValue | list[PropValue]]],
        ) -> None:
            """Read ``props`` of one object into ``values``, then make and file the object."""
            plan = _plan(model) if model is not None else None
            priorities: dict[str, int] | None = None
            for name, stored in props:
                pv: PropValue
                if isinstance(stored, list):
                    multi = True
                    # references: every value must name an object of the inputs (dangling -> CF101)
                    for one in stored:
                        if one[1] == ref_kind:
                            self.check_reference(obj, name, one)
                    pv = stored[0]
                else:
                    multi = False
                    pv = stored
                kind = pv[1]
                target_obj: MergedObject | None = None
                if kind == ref_kind and not multi:
                    value = pv[0]
                    target = normalise_mrid(value)  # memoised there
                    target_obj = objects.get(target)
                    if target_obj is None and is_internal_reference(value):
                        self.check_reference(obj, name, pv)
                else:
                    target = None
                if plan is None:
                    continue
                entry = plan.get(name)
                if entry is None:
                    continue
                fname, spec, priority = entry
                if fname in values:
                    # a field several CIM names can fill: the first name of the field wins
                    priorities = priorities or {}
                    if priorities.get(fname, 0) <= priority:
                        continue
                read = spec.read
                v: Any
                if multi:
                    v = self.read_value(obj, spec, name, stored)
                elif read is float_read and kind == literal_kind:
                    # fast path: a plain number (most attributes)
                    try:
                        v = float(pv[0])
                    except ValueError:
                        v = self.read_value(obj, spec, name, stored)
                    else:
                        if v - v != 0.0:  # NaN or inf
                            v = self.read_value(obj, spec, name, stored)
                        else:
                            if spec.quantity is not no_quantity and dialects[pv[2]] is not cgmes:
                                v *= factor(dialects[pv[2]], spec.quantity)
                            check = spec.check
                            if check is not no_check and _CHECK_FAILS[check](v):
                                findings.append(
                                    make_finding(_CHECK_META[check], self.loc(obj, name, pv), ctx={"value": f"{v:g}"})
                                )
                elif read is ref_read and target is not None:
                    # the merged object's own mRID (the model's key) rather than the equal string made from the
                    # reference, as the native loop stores it: later lookups find the key by identity
                    v = target if target_obj is None else target_obj.mrid
                    if spec.targets and target_obj is not None and not _target_ok(spec.targets, target_obj.cim_class):
                        self.check_target(obj, name, pv, target, spec.targets)
                elif kind == literal_kind and read is str_read:
                    v = pv[0]
                elif kind == literal_kind and read is bool_read and pv[0] in _BOOL_TEXT:
                    v = _BOOL_TEXT[pv[0]]
                elif kind == literal_kind and read is int_read and pv[0].isascii() and pv[0].isdigit():
                    v = int(pv[0])  # not "²", which str.isdigit accepts and int refuses: read_value reports it
                else:
                    v = self.read_value(obj, spec, name, stored)
                if v is not None:
                    values[fname] = v
                    if priority:
                        priorities = priorities or {}
                        priorities[fname] = priority
            if model is None:
                opaque[mrid] = OpaqueObject(mrid, obj.cim_class, names[obj.doc], obj.line)
                obj.props = released
                return
            values["source"] = SourceRef(names[obj.doc], obj.line)
            instance = self.post_process(model, obj, values)
            # the statements are not needed once the object is built: freeing them here keeps the peak
            # near the model's size instead of statements + model (the merged view is not kept)
            obj.props = released
            by_class.setdefault(model, {})[mrid] = instance
            by_mrid[mrid] = instance

        native = native_builder()
        if native is not None:
            # the native loop reads the attributes that need no finding and no choice between spellings and
            # makes those objects itself; it hands every other object to finish() in its turn
            native.build_objects(
                objects,
                _MODEL_OF_CLASS,
                _NATIVE_PLANS,
                _native_plan,
                cache,
                _TARGET_OK,
                tuple(d is cgmes for d in dialects),
                names,
                ref_forms,
                by_class,
                by_mrid,
                opaque,
                OpaqueObject,
                SourceRef,
                _LAYOUTS,
                layout_of,
                _REQUIRED,
                _FIELDS_SET,
                _POST_PROCESSED,
                finish,
                released,
            )
        else:
            for mrid, obj in objects.items():
                ident = obj.ident
                if ident is not None:  # written otherwise than the plain form of the mRID (descriptions._written)
                    ref_forms[mrid] = "#" + ident if obj.rank else ident
                model = MODEL_OF_CLASS.get(obj.cim_class)
                finish(mrid, obj, model, {"mrid": mrid, "cim_class": obj.cim_class}, obj.props.items())
        self.check_headers()
        return Network(
            objects=MappingProxyType({k: MappingProxyType(v) for k, v in by_class.items()}),
            by_mrid=MappingProxyType(by_mrid),
            opaque=MappingProxyType(opaque),
            class_counts=MappingProxyType(self.merged.class_counts),
            documents=tuple(self.dataset.infos),
            dataset=self.dataset,
        )

    def post_process(self, model: type[CimObject], obj: MergedObject, values: dict[str, Any]) -> CimObject:
        """Conversions that depend on another attribute, then the frozen instance."""
        if obj.cim_class in _POST_PROCESSED and values.get("target_value") is not None:
            pv = obj.first("RegulatingControl.targetValue")
            if pv is not None and values.get("mode") == "voltage" and self.dialects[pv[2]] is Dialect.SI:
                values["target_value"] = values["target_value"] * 1e-3  # V -> kV
        # values are typed and checked above; construct without re-validating each field
        return model.from_checked(values)


def build_network(dataset: Dataset) -> Outcome[Network]:
    """Merge the dataset and build the typed network, with every finding of this stage."""
    with gc_paused():
        return _build_network(dataset)


def _build_network(dataset: Dataset) -> Outcome[Network]:
    merged = merge(dataset)
    builder = _Builder(dataset, merged)
    network = builder.build()
    forget_normalised()  # the identifiers of this input are in the model now
    findings = builder.findings
    if not any(ns.Profile.EQ in i.profiles for i in dataset.infos):
        present = ", ".join(sorted({p for i in dataset.infos for p in i.profiles})) or "nothing"
        findings.append(make_finding(icodes.MISSING_EQ, Location(), ctx={"detail": f"profiles given: {present}"}))
    log.debug("built %d modelled and %d opaque objects", len(network.by_mrid), len(network.opaque))
    return Outcome(network, tuple(findings))
