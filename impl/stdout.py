"""Standard output of the command lines, for a reader that may go away (``| head``) before the output ends."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

# the status of a filter that a closed pipe stops: 128 + SIGPIPE
CLOSED_STATUS = 141


def silence() -> None:
    """Point stdout at devnull: after its reader has gone, the interpreter's last flush at exit then cannot fail."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def write_line(line: str, write: Callable[[str], None] = print) -> bool:
    """Write ``line`` with ``write`` and flush stdout at once (so ``| tee`` shows it as it happens). False when the
    reader has gone; stdout is then silenced.

    Example::

        >>> write_line("iter 0: train loss 4.1814, val loss 4.1804")
        iter 0: train loss 4.1814, val loss 4.1804
        True
    """
    try:
        write(line)
        sys.stdout.flush()
    except BrokenPipeError:
        silence()
        return False
    return True
