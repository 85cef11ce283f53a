"""How the nnlab process meets the shell: SIGTERM and Ctrl-C end a run cleanly, a closed pipe is no error.

- SIGTERM is handled like Ctrl-C: it raises `Terminated` (a KeyboardInterrupt), so the run is
  marked interrupted with its metrics kept, and the process exits 143 (Ctrl-C: 130).
- A second signal while the first is still closing the run is ignored, so the run is never left
  half-written; a third (the run is stuck) ends the process at once.
- Once the process is on its way out after a signal (the run closed, the exit code chosen),
  further SIGINT/SIGTERM are ignored: Python's shutdown would otherwise put back the default
  action, and a second Ctrl-C landing then would kill the process by signal, not exit 130.
- When the reader of stdout or stderr goes away (`nnlab ops-check | head -1`), further output
  is dropped instead of raising BrokenPipeError: the run completes and the exit code is 0.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, TextIO

from nnlab.errors import EXIT_INTERRUPTED, EXIT_TERMINATED


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program was, so that it unwinds as for Ctrl-C."""

    exit_code = EXIT_TERMINATED


class _Signals:
    """The first SIGINT/SIGTERM interrupts, the second is ignored, the third exits at once."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def handle(self, signum: int, _frame: Any) -> None:
        self.received.append(signum)
        first = self.received[0]
        code = EXIT_TERMINATED if first == signal.SIGTERM else EXIT_INTERRUPTED
        if len(self.received) == 2:
            return  # the run is being closed: let it finish writing
        if len(self.received) > 2:
            os._exit(code)
        raise Terminated("terminated by SIGTERM") if signum == signal.SIGTERM else KeyboardInterrupt()


def exit_code_of(exc: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return getattr(exc, "exit_code", EXIT_INTERRUPTED)


class _PipeSafe:
    """A text stream that, once its reader has gone, sends everything else to /dev/null."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def _reader_gone(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())  # what is still buffered goes there too
        finally:
            os.close(devnull)

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._reader_gone()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_gone()
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_HANDLER = _Signals()


def install() -> None:
    """Handle SIGINT and SIGTERM as above, and make stdout and stderr safe to have closed."""
    handler = _HANDLER
    signal.signal(signal.SIGINT, handler.handle)
    signal.signal(signal.SIGTERM, handler.handle)
    sys.stdout = _PipeSafe(sys.stdout)  # type: ignore[assignment]
    sys.stderr = _PipeSafe(sys.stderr)  # type: ignore[assignment]


def leaving() -> None:
    """Call as the process exits: after a signal, ignore any more (see the module's docstring)."""
    if _HANDLER.received:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
