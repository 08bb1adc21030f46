"""``python -m conformance.distributed MODULE``: check a DistributedDataParallel (see ``distributed_checks``).

``MODULE`` is laid out like torch: its ``nn.parallel.DistributedDataParallel`` wraps a network built from its
``nn.Module`` and ``nn.Linear``, in ``--world-size`` CPU processes of a gloo group::

    python -m conformance.distributed mylib
    python -m conformance.distributed mylib --map mylib.toml --check gradient_mean --check no_sync

Exit status 0 when every check passed (unsupported ones count as failures with ``--strict``), 1 otherwise (and when
MODULE lacks one of the three components), 2 when MODULE or the map file cannot be loaded, 141 when the reader
closed the pipe (``| head``) before the results were printed.
"""

from __future__ import annotations

import argparse
import sys

from conformance.distributed_checks import DISTRIBUTED_CHECKS, check_distributed
from conformance.stdout import print_results
from nnresolve import MissingComponent, describe_exception, load_map_file


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.distributed", description=__doc__.split("\n")[0])
    parser.add_argument("module", help="importable module of the implementation under test, e.g. impl or torch")
    parser.add_argument("--map", dest="map_file", help="TOML map file: component = 'module:attr' overrides")
    parser.add_argument("--world-size", type=int, default=2, help="number of processes (default 2)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a rank may wait in a collective (30)")
    parser.add_argument("--check", action="append", choices=list(DISTRIBUTED_CHECKS), help="only these (repeatable)")
    parser.add_argument("--strict", action="store_true", help="an unsupported check fails the run")
    args = parser.parse_args(argv)
    try:
        overrides = load_map_file(args.map_file) if args.map_file else {}
        results = check_distributed(args.module, overrides, args.world_size, args.check, args.timeout)
    except MissingComponent as exc:
        print(f"missing: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # the package failed as it was imported: its own error, in a line
        print(f"error: importing {args.module} raised {describe_exception(exc)}", file=sys.stderr)
        return 2
    return print_results(results, args.strict)


if __name__ == "__main__":
    sys.exit(main())
