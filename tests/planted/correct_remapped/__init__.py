"""A correct implementation under other names: ``Dense`` for Linear, ``affine`` for linear.

It is not laid out like torch, so only a map file (``tests/maps/correct_remapped.toml``) tells the harness where its
components are; everything the map does not name is missing.
"""

#: The spec entries this implementation provides (through the map file).
COVERS = ("Linear", "linear")
