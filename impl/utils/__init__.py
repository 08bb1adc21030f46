"""Utilities, laid out like ``torch.utils``: :mod:`impl.utils.data` stands in for ``torch.utils.data``."""

from impl.utils import data

__all__ = ["data"]
