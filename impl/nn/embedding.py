"""Placeholder: not yet implemented."""


class Embedding:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("Embedding")

