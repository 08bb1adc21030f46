"""A GPT-2 style language model built from swappable components (see :mod:`impl.gpt.components`)."""

from impl.gpt.components import COMPONENTS, Components
from impl.gpt.model import GPT, GPTConfig, GPTConfigError

__all__ = ["COMPONENTS", "GPT", "Components", "GPTConfig", "GPTConfigError"]
