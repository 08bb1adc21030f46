"""Placeholder: not yet implemented."""


def layer_norm(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("layer_norm")

