"""Placeholder: not yet implemented."""


def scaled_dot_product_attention(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("scaled_dot_product_attention")

