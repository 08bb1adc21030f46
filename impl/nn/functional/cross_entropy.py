"""Placeholder: not yet implemented."""


def cross_entropy(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("cross_entropy")

