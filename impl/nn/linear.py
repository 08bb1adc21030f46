"""Placeholder: not yet implemented."""


class Linear:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("Linear")

