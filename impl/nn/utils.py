"""Placeholder: not yet implemented."""


def clip_grad_norm_(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("clip_grad_norm_")

