"""Tests of the power-flow kernel (cimflow.powerflow)."""
