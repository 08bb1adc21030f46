"""Optimizers, laid out like ``torch.optim``."""

from impl.optim import lr_scheduler
from impl.optim.adam import Adam
from impl.optim.adamw import AdamW
from impl.optim.optimizer import Optimizer
from impl.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "lr_scheduler"]
