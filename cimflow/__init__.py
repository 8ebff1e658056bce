"""cimflow: validate and solve distribution-grid CIM (IEC 61970/61968) files.

The library face, usable without the command line::

    import cimflow
    result = cimflow.load(["feeder_EQ.xml", "feeder_SSH.xml"])
    for finding in result.findings:
        print(finding.code, finding.message)
"""

from cimflow.findings import Finding, Location, Severity
from cimflow.model.network import Network
from cimflow.pipeline import LoadResult, load

__version__ = "0.1.0"

__all__ = ["Finding", "LoadResult", "Location", "Network", "Severity", "__version__", "load"]
