"""CGMES RDF/XML building blocks for the synthetic feeders: vocabularies, identifiers, number format, buffers."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "MD_NS",
    "NAMESPACE",
    "RDF_NS",
    "TIMESTAMP",
    "VOCABULARIES",
    "Doc",
    "IdFactory",
    "Vocabulary",
    "lit",
    "num",
    "object_uuid",
    "ref",
]

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:cimflow:samples:synthetic")
"""UUIDv5 namespace of every identifier the synthetic feeders use."""
TIMESTAMP = "2025-01-01T00:00:00Z"
"""Model.created and Model.scenarioTime of every synthetic document (fixed, so bytes are reproducible)."""

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MD_NS = "http://iec.ch/TC57/61970-552/ModelDescription/1#"
_FLUSH_PARTS = 50_000  # encode every so many parts: peak memory stays near the size of the output


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """What differs between the CGMES versions in the documents we write.

    ``profiles`` lists the Model.profile URIs per document; EQ's second one (EquipmentOperation,
    Operation-EU) is declared only for node-breaker models.
    """

    cim: str
    ext_prefix: str
    ext: str
    profiles: Mapping[str, tuple[str, ...]]
    v3: bool


VOCABULARIES: Mapping[str, Vocabulary] = MappingProxyType(
    {
        "2.4.15": Vocabulary(
            cim="http://iec.ch/TC57/2013/CIM-schema-cim16#",
            ext_prefix="entsoe",
            ext="http://entsoe.eu/CIM/SchemaExtension/3/1#",
            profiles=MappingProxyType(
                {
                    "EQ": ("http://entsoe.eu/CIM/EquipmentCore/3/1", "http://entsoe.eu/CIM/EquipmentOperation/3/1"),
                    "SSH": ("http://entsoe.eu/CIM/SteadyStateHypothesis/1/1",),
                    "TP": ("http://entsoe.eu/CIM/Topology/4/1",),
                }
            ),
            v3=False,
        ),
        "3.0": Vocabulary(
            cim="http://iec.ch/TC57/CIM100#",
            ext_prefix="eu",
            ext="http://iec.ch/TC57/CIM100-European#",
            profiles=MappingProxyType(
                {
                    "EQ": (
                        "http://iec.ch/TC57/ns/CIM/CoreEquipment-EU/3.0",
                        "http://iec.ch/TC57/ns/CIM/Operation-EU/3.0",
                    ),
                    "SSH": ("http://iec.ch/TC57/ns/CIM/SteadyStateHypothesis-EU/3.0",),
                    "TP": ("http://iec.ch/TC57/ns/CIM/Topology-EU/3.0",),
                }
            ),
            v3=True,
        ),
    }
)


def object_uuid(name: str, seed: int, kind: str, index: int = 0) -> str:
    """Return the mRID of object ``kind``/``index`` of feeder ``name``/``seed`` (UUIDv5 in :data:`NAMESPACE`)."""
    return str(uuid.uuid5(NAMESPACE, f"{name}/{seed}/{kind}/{index}"))


class IdFactory:
    """Fast :func:`object_uuid`: the SHA-1 state of the common prefix is hashed once and copied."""

    def __init__(self, name: str, seed: int) -> None:
        self._base = hashlib.sha1(NAMESPACE.bytes + f"{name}/{seed}/".encode(), usedforsecurity=False)

    def __call__(self, kind: str, index: int = 0) -> str:
        h = self._base.copy()
        h.update(f"{kind}/{index}".encode())
        x = h.hexdigest()
        # RFC 4122 version 5, variant 10xx: the same string uuid.uuid5 gives
        return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{'89ab89ab89ab89ab'[int(x[16], 16)]}{x[17:20]}-{x[20:32]}"


def num(value: float) -> str:
    """Format a float compactly (6 significant digits), without a negative zero."""
    return "0" if value == 0 else format(value, ".6g")


def lit(prop: str, value: str) -> str:
    """Return a literal property line, e.g. ``lit("ACLineSegment.r", "0.1")``; ``prop`` without prefix is cim."""
    tag = prop if ":" in prop else f"cim:{prop}"
    return f"\n    <{tag}>{value}</{tag}>"


def ref(prop: str, uid: str) -> str:
    """Return a property line that references object ``_<uid>`` of the same model."""
    return f'\n    <cim:{prop} rdf:resource="#_{uid}"/>'


class Doc:
    """One RDF/XML document under construction: text parts, encoded into a byte buffer in chunks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self._buffer = io.BytesIO()

    def flush(self) -> None:
        """Encode the parts collected so far once there are many (bounds the memory of small strings)."""
        if len(self.parts) >= _FLUSH_PARTS:
            self._buffer.write("".join(self.parts).encode())
            self.parts.clear()

    def getvalue(self) -> bytes:
        """Return the whole document, encoded as UTF-8 (the buffer is handed over, not copied, where CPython can)."""
        self._buffer.write("".join(self.parts).encode())
        self.parts.clear()
        return self._buffer.getvalue()
