"""Implementations with one planted bug each, and correct implementations written unlike torch.

Every ``bug_*`` module is an implementation under test laid out like torch (``nn``, ``nn.functional``, ``nn.init``,
``optim``): torch's components, except one that is subtly wrong. Its docstring says what is wrong; the constants
``COMPONENT`` (the spec entry that must notice) and ``CATCHES`` (the checks of which at least one must fail) say
how the suite must catch it. ``tests/test_planted_bugs.py`` holds the suite to that.

Every ``ddp_bug_*`` module is impl with a ``nn.parallel.DistributedDataParallel`` that is wrong in one way (built
with ``ddplike.ddp_like``); its ``CATCHES`` names the checks of ``conformance.distributed_checks`` of which one must
fail, as ``tests/test_harness_distributed.py`` asserts.

Every ``correct_*`` module or package computes its components differently from torch (other formulas, other names)
and must pass every check of the components it has (listed in ``COVERS``); the ones it lacks must be reported
missing. ``partial_linear`` covers little on purpose: unsupported settings and missing components.

Any of them can be run by hand from the repository root, as any implementation under test::

    python -m conformance tests.planted.bug_softmax_naive -k softmax
    python -m conformance tests.planted.correct_remapped --map tests/maps/correct_remapped.toml
"""
