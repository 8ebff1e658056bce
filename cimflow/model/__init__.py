"""The typed, frozen grid model: CIM classes cimflow understands, indexed by mRID, in internal units."""

from cimflow.model.base import CimObject, SourceRef
from cimflow.model.network import Network

__all__ = ["CimObject", "Network", "SourceRef"]
