"""The one check of a usage error that every CLI test shares."""

from __future__ import annotations

from pathlib import Path


def assert_refused(res, message: str, runs_dir: Path | None = None) -> None:
    """Exit 2, one `error:` line naming `message`, no traceback, and (given `runs_dir`) no run left behind."""
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], res.output
    assert "Traceback" not in res.output
    if runs_dir is not None:
        assert not any(Path(runs_dir).iterdir()), "a mistake left a run behind"
