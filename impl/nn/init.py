"""Placeholder: not yet implemented."""


def uniform_(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("uniform_")


def normal_(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("normal_")


def zeros_(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("zeros_")


def ones_(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("ones_")


def constant_(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("constant_")


def xavier_uniform_(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("xavier_uniform_")


def xavier_normal_(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("xavier_normal_")


def kaiming_uniform_(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("kaiming_uniform_")


def kaiming_normal_(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("kaiming_normal_")


def trunc_normal_(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("trunc_normal_")


def calculate_gain(*args, **kwargs):  # type: ignore[no-untyped-def]
    raise NotImplementedError("calculate_gain")

