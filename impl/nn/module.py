"""Placeholder: not yet implemented."""


class Module:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("Module")

