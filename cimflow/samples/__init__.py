"""Sample grids generated on demand: synthetic radial feeders written as CGMES for tests and benchmarks."""

from cimflow.samples.synthetic import synthetic_feeder, write_synthetic_feeder

__all__ = ["synthetic_feeder", "write_synthetic_feeder"]
