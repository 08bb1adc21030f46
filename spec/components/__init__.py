"""One module per component: each defines ``ENTRIES``, a list of spec entries."""
