"""Conformance harness (being built)."""
