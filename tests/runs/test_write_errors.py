"""Real write failures on the runs dir: a file-size limit (RLIMIT_FSIZE), /dev/full, a
read-only or vanished folder. Each gives one NnlabError naming the path and the cause, the
run is marked failed when that can still be written, and no temp file is left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nnlab.errors import NnlabError
from nnlab.runs.files import ConsoleLog
from nnlab.runs.store import RunStore
from nnlab.runs.writer import RunWriter

FULL = Path("/dev/full")


def run_limited(root: Path, body: str, limit: int = 40_000) -> subprocess.CompletedProcess:
    """Run `body` in a fresh Python whose files may not grow past `limit` bytes (EFBIG after that)."""
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        from nnlab.errors import NnlabError
        from nnlab.runs.store import RunStore
        store = RunStore({str(root)!r})
        writer = store.create("kmeans", {{"k": 10}})
        print(writer.path)
        try:
            with writer:
    """) + textwrap.indent(textwrap.dedent(body), " " * 8) + textwrap.dedent("""
        except NnlabError as exc:
            print("ERROR", exc.message, exc.exit_code)
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)


def leftovers(path: Path) -> list[str]:
    return [p.name for p in path.iterdir() if p.name.endswith(".tmp")]


def test_metrics_past_the_file_size_limit_fail_the_run_in_one_line(tmp_runs):
    proc = run_limited(tmp_runs, """
        for step in range(100_000):
            writer.log_metric("loss", 1.0 / (step + 1), step=step, epoch=1, split="train")
    """)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    path = Path(proc.stdout.splitlines()[0])
    message = proc.stdout.splitlines()[1]
    assert message.startswith(f"ERROR cannot write {path / 'metrics.jsonl'}: File too large")
    assert message.endswith(" 1")  # a failed run, not a usage error
    info = json.loads((path / "run.json").read_text())
    assert info["status"] == "failed" and "File too large" in info["error"]
    assert leftovers(path) == []


def test_a_summary_too_big_to_write_leaves_no_temp_file(tmp_runs):
    proc = run_limited(tmp_runs, """
        writer.set_summary({"values": list(range(20_000))})
    """)
    path = Path(proc.stdout.splitlines()[0])
    assert f"ERROR cannot write {path / 'summary.json'}: File too large" in proc.stdout, proc.stdout + proc.stderr
    assert leftovers(path) == [] and not (path / "summary.json").exists()
    assert json.loads((path / "run.json").read_text())["status"] == "failed"


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full on this system")
def test_a_full_disk_under_metrics_marks_the_run_failed(tmp_runs):
    path = tmp_runs / "2026-01-01T00-00-00_kmeans_0a0a0a"
    path.mkdir()
    (path / "metrics.jsonl").symlink_to(FULL)  # every write to it fails with ENOSPC
    with pytest.raises(NnlabError, match="No space left on device") as info:
        with RunWriter(path, {"command": "kmeans", "status": "running", "config": {}}) as writer:
            writer.log_metric("loss", 1.0)
    assert str(path / "metrics.jsonl") in info.value.message and info.value.exit_code == 1
    run = RunStore(tmp_runs).get(path.name)
    assert run.status == "failed" and "No space left" in run.info["error"]
    assert leftovers(path) == []


@pytest.mark.skipif(not FULL.exists(), reason="no /dev/full on this system")
def test_console_log_on_a_full_disk_is_one_error_then_quiet():
    log = ConsoleLog(FULL)
    with pytest.raises(NnlabError, match="cannot write /dev/full: No space left on device"):
        log.write("hello\n")
    assert log.write("more\n") == 5  # not raised again on every line
    log.close()


def test_a_run_folder_removed_under_a_writer(tmp_runs):
    writer = RunStore(tmp_runs).create("kmeans", {})
    for child in writer.path.rglob("*"):
        if child.is_file():
            child.unlink()
    (writer.path / "artifacts").rmdir()
    writer.path.rmdir()
    with pytest.raises(NnlabError, match="cannot write .*run.json: No such file"):
        writer.update(dataset="mnist")
    with pytest.raises(NnlabError, match="is gone"):
        writer.artifact_path("centers.png")
    assert not writer.path.exists()  # nothing recreated it


def test_an_artifact_folder_that_is_a_file(tmp_runs):
    writer = RunStore(tmp_runs).create("kmeans", {})
    (writer.path / "artifacts" / "figures").write_text("a file where a folder should be")
    with pytest.raises(NnlabError, match="cannot write .*figures: File exists"):
        writer.artifact_path("figures/centres.png")
    writer.finish("completed")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_run_folder(tmp_runs):
    writer = RunStore(tmp_runs).create("kmeans", {})
    writer.path.chmod(0o555)
    try:
        with pytest.raises(NnlabError, match="Permission denied"):
            writer.update(dataset="mnist")
        assert leftovers(writer.path) == []
    finally:
        writer.path.chmod(0o755)


def test_an_unwritable_root_leaves_no_half_run(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(NnlabError, match="--runs-dir"):
        RunStore(blocker / "runs").create("kmeans", {})
    assert blocker.read_text() == ""
