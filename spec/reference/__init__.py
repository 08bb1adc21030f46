"""Plain reference implementations of the components torch lacks.

Each is written for reading, not speed: loops over positions and explicit matrices, computed in float64 and rounded
once, so that the code can be checked against the paper's formula by eye. Spec entries name them as their
``reference``.
"""
