"""Placeholder: not yet implemented."""


def gelu(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("gelu")

