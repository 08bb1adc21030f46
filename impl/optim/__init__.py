"""Optimizers, laid out like ``torch.optim``."""

from impl.optim import lr_scheduler
from impl.optim.adamw import AdamW
from impl.optim.optimizer import Optimizer

__all__ = ["AdamW", "Optimizer", "lr_scheduler"]
