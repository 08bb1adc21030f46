"""Placeholder: not yet implemented."""


def rms_norm(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("rms_norm")

