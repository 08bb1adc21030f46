"""Hypothesis profiles: ``dev`` (fast, the default), ``ci`` (derandomized: CI cannot flake), ``thorough``."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Verbosity, settings

PROFILES = ("dev", "ci", "thorough")
# Every setting is explicit: hypothesis derives new profiles from its current default, which under CI=true is its
# own derandomized "ci" profile.
_COMMON = {
    "deadline": None,
    "database": None,
    "report_multiple_bugs": False,
    "print_blob": False,
    "verbosity": Verbosity.quiet,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}
settings.register_profile("nnspec-dev", max_examples=10, derandomize=False, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("nnspec-ci", max_examples=12, derandomize=True, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("nnspec-thorough", max_examples=200, derandomize=False, **_COMMON)  # type: ignore[arg-type]


def get(name: str | None = None) -> settings:
    """The settings of profile ``name`` (default: $NNSPEC_PROFILE, else dev)."""
    if name is None:
        name = os.environ.get("NNSPEC_PROFILE") or "dev"
        if name not in PROFILES:
            name = "dev"
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
    return settings.get_profile(f"nnspec-{name}")
