"""A real file-size limit (RLIMIT_FSIZE, EFBIG) hit by a figure mid-run: one line naming the
cause, exit 1, the run marked failed, no traceback on screen."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import resource, sys
    import typer
    from rich.console import Console
    from nnlab.cli.common import finish_run
    from nnlab.runs.store import RunStore

    writer = RunStore(sys.argv[1]).create("kmeans", {})
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    def body():  # a figure written through a file object, as matplotlib and PIL do
        with open(writer.artifact_path("big.png"), "wb") as fh:
            fh.write(b"\\x89PNG" * 10_000)
        return {}

    try:
        finish_run(writer, Console(), body)
    except typer.Exit as exc:  # what the CLI turns into the exit status
        sys.exit(exc.exit_code)
""")


def test_a_figure_past_the_file_size_limit_is_one_line_and_a_failed_run(tmp_path):
    root = tmp_path / "runs"
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(root)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot write "), lines
    assert "File too large" in lines[0] and "marked failed" in lines[0] and "Traceback" not in result.stderr
    (run,) = root.iterdir()
    assert json.loads((run / "run.json").read_text())["status"] == "failed"
    assert not [p.name for p in Path(run).iterdir() if p.name.endswith(".tmp") or p.name == "error.log"]
