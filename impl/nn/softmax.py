"""Placeholder: not yet implemented."""


class Softmax:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("Softmax")

