"""The conformance harness: checks any implementation of the torch.nn pieces of a GPT against PyTorch.

Use it as ``python -m conformance MODULE``, as a pytest plugin (``pytest --impl MODULE``), or from your own tests
with :func:`parametrize_with_checks` (``examples=True`` adds the spec pages' examples).
"""

from conformance.api import parametrize_with_checks
from conformance.examples import run_examples
from conformance.runner import Outcome, reproduce, run_check, run_suite

__all__ = ["Outcome", "parametrize_with_checks", "reproduce", "run_check", "run_examples", "run_suite"]
