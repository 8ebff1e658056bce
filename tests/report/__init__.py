"""Tests of the report renderers (cimflow.report)."""
