"""Placeholder: not yet implemented."""


class ModuleDict:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("ModuleDict")


class ModuleList:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("ModuleList")


class Sequential:
    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError("Sequential")

