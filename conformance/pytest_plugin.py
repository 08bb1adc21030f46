"""pytest plugin: ``pytest --impl MODULE`` runs the conformance suite against an implementation.

A test function named ``test_<check>`` that takes the ``conformance_case`` argument is parametrized over every
spec entry that lists that check, for every implementation given with ``--impl`` (repeatable) or, by default, the
``conformance_impls`` ini option. Test ids name the implementation and the component, as in
``test_backward[impl-LayerNorm]``, so ``-k`` selects by either.

A test that takes ``conformance_impl`` instead is parametrized over the implementations themselves
(:class:`nnresolve.Implementation`, map overrides applied), as the spec pages' examples are.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance import devices
from conformance.api import build_cases
from conformance.runner import load_failure, load_implementation
from nnresolve import Implementation
from spec.entry import CHECKS


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "nnspec conformance suite")
    group.addoption(
        "--impl", action="append", default=None, metavar="MODULE", help="implementation under test (repeatable)"
    )
    group.addoption("--impl-map", default=None, metavar="FILE", help="TOML map of component overrides")
    group.addoption(
        "--conformance-strict", action="store_true", help="unsupported and missing components fail, not skip"
    )
    group.addoption(
        "--conformance-device",
        default=None,
        metavar="DEVICE",
        help="run the numerical checks on DEVICE, e.g. cuda (default: $NNSPEC_DEVICE, else cpu)",
    )
    parser.addini("conformance_impls", "implementations checked when --impl is not given", type="linelist")


_IMPLEMENTATIONS = pytest.StashKey[list[Implementation]]()


def pytest_configure(config: pytest.Config) -> None:
    # Loaded here, once, so that a bad --impl, --impl-map or device is a usage error ("ERROR: ..."), not a
    # collection error with pytest's traceback around it.
    try:
        devices.resolve(config.getoption("--conformance-device"))
    except ValueError as exc:
        raise pytest.UsageError(f"--conformance-device: {exc}") from None
    loaded = []
    for name in config.getoption("--impl") or config.getini("conformance_impls") or []:
        try:
            loaded.append(load_implementation(name, config.getoption("--impl-map")))
        except (Exception, SystemExit) as exc:
            raise pytest.UsageError(f"--impl {name!r}: cannot load the implementation: {load_failure(exc)}") from None
    config.stash[_IMPLEMENTATIONS] = loaded


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "conformance_impl" in metafunc.fixturenames:
        impls = metafunc.config.stash[_IMPLEMENTATIONS]
        metafunc.parametrize("conformance_impl", impls, ids=[impl.name for impl in impls])
    if "conformance_case" not in metafunc.fixturenames:
        return
    check = metafunc.function.__name__.removeprefix("test_")
    if check not in CHECKS:
        raise pytest.UsageError(f"{metafunc.function.__name__}: no check named {check!r}; known: {CHECKS}")
    config = metafunc.config
    params: list[Any] = []
    for impl in config.stash[_IMPLEMENTATIONS]:
        built = build_cases(
            impl,
            checks=[check],
            strict=config.getoption("--conformance-strict"),
            device=config.getoption("--conformance-device"),
        )
        for case in built:
            params.append(pytest.param(case, id=f"{case.impl.name}-{case.entry.name}"))
    metafunc.parametrize("conformance_case", params)
