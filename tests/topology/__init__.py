"""Tests of the topology stage (cimflow.topology)."""
