"""Placeholder: not yet implemented."""


def linear(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("linear")

