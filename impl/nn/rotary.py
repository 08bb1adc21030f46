"""Placeholder: not yet implemented."""


class RotaryEmbedding:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("RotaryEmbedding")

