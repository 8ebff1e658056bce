"""cimflow: validate and solve distribution-grid CIM (IEC 61970/61968) files.

The library face, usable without the command line::

    import cimflow
    result = cimflow.load(["feeder_EQ.xml", "feeder_SSH.xml"])
    for finding in result.findings:
        print(finding.code, finding.message)

    report = cimflow.validate(["feeder_EQ.xml", "feeder_SSH.xml"])
    report.summary.errors, report.summary.radial

    solved = cimflow.solve(["feeder_EQ.xml", "feeder_SSH.xml", "feeder_TP.xml"])
    solved.converged, [b.v_pu for b in solved.solution.buses]
"""

from cimflow.findings import Finding, Location, Severity
from cimflow.model.network import Network
from cimflow.pipeline import LoadResult, load
from cimflow.solve import SolveOptions, SolveResult, solve
from cimflow.validate import ValidationResult, validate

__version__ = "0.1.0"

__all__ = [
    "Finding",
    "LoadResult",
    "Location",
    "Network",
    "Severity",
    "SolveOptions",
    "SolveResult",
    "ValidationResult",
    "__version__",
    "load",
    "solve",
    "validate",
]
