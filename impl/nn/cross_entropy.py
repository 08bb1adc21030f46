"""Placeholder: not yet implemented."""


class CrossEntropyLoss:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("CrossEntropyLoss")

