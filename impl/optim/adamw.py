"""Placeholder: not yet implemented."""


class AdamW:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("AdamW")

