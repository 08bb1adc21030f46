"""Placeholder: not yet implemented."""


class Optimizer:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("Optimizer")

