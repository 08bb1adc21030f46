"""Placeholder: not yet implemented."""


def softmax(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("softmax")


def log_softmax(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("log_softmax")

