"""The one exception type domain code raises; the CLI turns it into a message and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C
EXIT_TERMINATED = 143  # SIGTERM (128 + 15)


class NnlabError(Exception):
    """A problem the user can fix: `message` names it and the fix; `exit_code` is 2 by default.

    `details` are lines shown under the message (e.g. the input with a caret under the mistake).
    """

    def __init__(self, message: str, exit_code: int = EXIT_USAGE, details: tuple[str, ...] = ()):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.details = details


class DataUnavailable(NnlabError):
    """A dataset's files are absent and could not be downloaded."""
