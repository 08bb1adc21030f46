"""Spec (being built)."""
