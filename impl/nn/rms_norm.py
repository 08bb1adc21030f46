"""Placeholder: not yet implemented."""


class RMSNorm:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("RMSNorm")

