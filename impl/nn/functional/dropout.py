"""Placeholder: not yet implemented."""


def dropout(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("dropout")

