"""Placeholder: not yet implemented."""


class Parameter:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("Parameter")

