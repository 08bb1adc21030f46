"""Shared fixtures of the test suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import hypothesis
import pytest
import torch

from conformance import profiles

# The planted implementations are imported by name (``tests.planted.bug_...``), as any implementation under test
# is: pyproject's ``pythonpath = ["."]`` makes the repository root importable however pytest was started.
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def ci_settings() -> hypothesis.settings:
    """The derandomized ``ci`` hypothesis profile: the same examples on every run."""
    return profiles.get("ci")


@pytest.fixture(scope="session")
def ci_settings_unshrunk(ci_settings: hypothesis.settings) -> hypothesis.settings:
    """The ``ci`` profile without shrinking: the same examples, a failure reported as first found (fast)."""
    return hypothesis.settings(ci_settings, phases=[p for p in ci_settings.phases if p != hypothesis.Phase.shrink])


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root directory."""
    return ROOT


@pytest.fixture(scope="session")
def maps_dir() -> Path:
    """``tests/maps``: map files for the tests."""
    return ROOT / "tests" / "maps"


@pytest.fixture(scope="session")
def small_text(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 20,000 characters of the bundled Tiny Shakespeare, as a text file (tiny training runs)."""
    from impl.data import load_text

    path = tmp_path_factory.mktemp("data") / "small.txt"
    path.write_text(load_text()[:20_000], encoding="utf-8")
    return path


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny tensors: one thread is faster, and immune to waiting on a busy machine's thread pool."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def write_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Mapping[str, str]], None]:
    """Write throwaway packages under ``tmp_path`` and make them importable: ``{"pkg/nn/functional.py": source}``.
    Each package directory gets an empty ``__init__.py`` unless the mapping gives one."""

    def write(files: Mapping[str, str]) -> None:
        for name, source in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source)
            for package in Path(name).parents[:-1]:
                init = tmp_path / package / "__init__.py"
                if not init.exists():
                    init.write_text("")
        monkeypatch.syspath_prepend(str(tmp_path))  # after writing: it also clears the import system's caches

    return write
