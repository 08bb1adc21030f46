"""Placeholder: not yet implemented."""


class LayerNorm:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("LayerNorm")

