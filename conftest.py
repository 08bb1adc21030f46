"""The namespace of the docstring examples, which pytest runs as doctests (``--doctest-modules``).

Each example runs in its module's globals, as a reader's session would after ``import torch``: torch is given
here, as PyTorch's own examples assume it; anything else an example uses, it imports.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def _doctest_torch(doctest_namespace: dict[str, Any]) -> None:
    doctest_namespace["torch"] = torch
