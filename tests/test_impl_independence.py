"""impl builds on tensors and autograd only: no line of its source reaches torch.nn, torch.nn.functional, torch.optim
or torch.utils.data.

torch imports those itself, so a look at ``sys.modules`` cannot tell; the source is read instead (its syntax tree,
so that docstrings and messages that name torch.nn are not mistaken for uses of it).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

IMPL = Path(__file__).resolve().parent.parent / "impl"
FORBIDDEN = ("torch.nn", "torch.optim", "torch.utils.data")


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def _dotted(node: ast.expr) -> str | None:
    """``torch.nn.functional`` for the expression ``torch.nn.functional``; None for anything not a dotted name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def uses_of_torch_nn(source: str, filename: str = "<source>") -> list[str]:
    """Each reach into torch.nn or torch.optim in ``source``, as ``"line N: what"``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # `from torch import nn` reaches torch.nn as surely as `import torch.nn`
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Attribute):
            names = [_dotted(node) or ""]
        elif isinstance(node, ast.Call) and _dotted(node.func) in ("importlib.import_module", "__import__"):
            names = [a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        else:
            continue
        found += [f"line {node.lineno}: {name}" for name in names if _forbidden(name)]
    return sorted(set(found), key=lambda s: int(s.split(":")[0].split()[1]))


def test_impl_never_reaches_torch_nn_or_torch_optim() -> None:
    files = sorted(IMPL.rglob("*.py"))
    assert len(files) > 20, f"impl's sources were not found under {IMPL}"
    offences = {}
    for path in files:
        if uses := uses_of_torch_nn(path.read_text(), str(path)):
            offences[str(path.relative_to(IMPL.parent))] = uses
    assert not offences, f"impl reaches torch.nn, torch.optim or torch.utils.data: {offences}"


@pytest.mark.parametrize(
    "source",
    [
        "import torch.nn",
        "import torch.nn.functional as F",
        "import torch.optim",
        "from torch import nn",
        "from torch import optim",
        "from torch.nn import functional",
        "from torch.nn.functional import gelu",
        "from torch.optim import AdamW",
        "import torch\ntorch.nn.functional.gelu(x)",
        "import torch\nopt = torch.optim.AdamW(params)",
        "import importlib\nF = importlib.import_module('torch.nn.functional')",
        "F = __import__('torch.nn')",
    ],
)
def test_the_scan_catches_each_way_of_reaching_torch_nn(source: str) -> None:
    assert uses_of_torch_nn(source)


@pytest.mark.parametrize(
    "source",
    [
        '"""Laid out like ``torch.nn``."""',
        "message = 'torch.nn.Parameter or None expected'",
        "import torch\nx = torch.randn(2).nan_to_num()",
        "from impl.nn import functional",
        "from . import nn",
        "import torch\nimport torch.autograd\ntorch.autograd.Function",
    ],
)
def test_the_scan_lets_tensors_autograd_and_words_through(source: str) -> None:
    assert uses_of_torch_nn(source) == []
