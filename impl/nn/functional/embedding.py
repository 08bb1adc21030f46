"""Placeholder: not yet implemented."""


def embedding(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("embedding")

