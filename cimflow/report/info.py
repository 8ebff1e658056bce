"""The ``cimflow info`` document: versions, profiles, headers, class counts and findings of a load."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cimflow.cim.profiles import DocumentInfo
from cimflow.findings import Finding
from cimflow.model.network import Network
from cimflow.report.common import finding_records, tool_block

INFO_SCHEMA_VERSION = "1.0"


def info_document(inputs: Sequence[str], network: Network | None, findings: Sequence[Finding]) -> dict[str, Any]:
    """Build the info JSON document (see ``schemas/info.schema.json``)."""
    infos: tuple[DocumentInfo, ...] = tuple(network.documents) if network else ()  # type: ignore[arg-type]
    versions = sorted({i.version.value for i in infos})
    profiles = sorted({p.value for i in infos for p in i.profiles})
    return {
        "schema_version": INFO_SCHEMA_VERSION,
        "tool": tool_block(),
        "inputs": list(inputs),
        "cim_versions": versions,
        "profiles": profiles,
        "documents": [
            {
                "name": i.name,
                "cim_version": i.version.value,
                "namespace": i.cim_namespace,
                "profiles": [p.value for p in i.profiles],
                "declared_profiles": list(i.declared_profiles),
                "units": i.dialect.value,
                "header": dict(sorted(i.header.items())),
                "model_id": i.header_mrid,
                "statements_objects": i.n_objects,
            }
            for i in infos
        ],
        "classes": dict(network.class_counts) if network else {},
        "objects": network.n_objects if network else 0,
        "modelled": len(network.by_mrid) if network else 0,
        "opaque": len(network.opaque) if network else 0,
        "findings": finding_records(findings),
    }
