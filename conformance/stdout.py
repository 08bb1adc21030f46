"""Standard output for the command lines, which a reader that goes away (``| head``) does not turn into a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

# the status of a filter that a closed pipe stops: 128 + SIGPIPE
CLOSED_STATUS = 141


class Stdout:
    """``print`` to stdout until the reader closes the pipe; after that, print nothing and say so in ``closed``.

    A command line prints through one and, once ``closed``, stops the work that only fed the reader, returning
    :data:`CLOSED_STATUS`.

    Example::

        >>> out = Stdout()
        >>> out.print("passed      GELU-forward")
        passed      GELU-forward
        >>> out.closed
        False
    """

    def __init__(self) -> None:
        self.closed = False

    def print(self, *values: object) -> None:
        if self.closed:
            return
        try:
            print(*values, flush=True)
        except BrokenPipeError:
            self.closed = True
            # the interpreter flushes stdout again on exit; pointed at devnull, that flush cannot fail
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def print_results(results: Iterable[Any], strict: bool) -> int:
    """Print one line per check result and the verdict; the exit status: 0 passed, 1 failed, 141 pipe closed.

    Each result has a ``status``; ``"failed"`` fails the run, and so does ``"unsupported"`` when ``strict``.
    """
    out = Stdout()
    results = list(results)
    for result in results:
        out.print(result)
    bad = {"failed", "unsupported"} if strict else {"failed"}
    ok = not any(r.status in bad for r in results)
    out.print("PASSED" if ok else "FAILED")
    return CLOSED_STATUS if out.closed else 0 if ok else 1
