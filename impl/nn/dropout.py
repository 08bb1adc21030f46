"""Placeholder: not yet implemented."""


class Dropout:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("Dropout")

