"""Placeholder: not yet implemented."""


class GELU:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("GELU")

