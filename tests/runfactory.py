"""Fixture runs written with the real RunStore and RunWriter: fast, no training.

Used by tests/runs and tests/tui. Each run gets per-step train loss, per-epoch train and
test loss and accuracy, a summary, and (optionally) a centres-like PNG grid.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from nnlab.runs.store import RunStore
from nnlab.runs.writer import RunWriter


def grid_png(path: Path, tiles: int = 10, seed: int = 0) -> Path:
    """A white figure with `tiles` dark 28x28 tiles in a row, like the kmeans centres PNG."""
    rng = np.random.default_rng(seed)
    pad, size = 8, 28
    img = np.full((size + 2 * pad, tiles * (size + pad) + pad, 3), 255, np.uint8)
    for i in range(tiles):
        x = pad + i * (size + pad)
        img[pad:pad + size, x:x + size] = (rng.random((size, size, 1)) * 200).astype(np.uint8)
    Image.fromarray(img).save(path)
    return path


def make_run(root: Path, command: str = "kmeans", *, config: dict | None = None, status: str = "completed",
             epochs: int = 3, steps: int = 4, base: float = 1.0, summary: dict | None = None,
             image: bool = True, parent: str | None = None, start_time: float | None = None) -> RunWriter:
    """Write one run; status 'running' leaves the writer open (this process's pid: alive)."""
    store = RunStore(root)
    writer = store.create(command, config if config is not None else {"lr": 0.1, "k": 10},
                          seed=0, device="cpu", parent=parent)
    if start_time is not None:
        writer.update(start_time=start_time)
    step = 0
    for epoch in range(1, epochs + 1):
        for _ in range(steps):
            step += 1
            writer.log_metric("step_loss", base / step, step=step, epoch=epoch, split="train")
        writer.log_metric("loss", base / step * 1.1, step=step, epoch=epoch, split="train")
        writer.log_metric("loss", base / step * 1.2, step=step, epoch=epoch, split="test")
        writer.log_metric("accuracy", 1 - base / (step + 1), step=step, epoch=epoch, split="test")
    writer.set_summary(summary if summary is not None else {"test_loss": base / step * 1.2,
                                                            "test_accuracy": 1 - base / (step + 1)})
    if image:
        grid_png(writer.artifact_path("centers.png"))
        grid_png(writer.artifact_path("samples.png"), tiles=6, seed=1)
    if status != "running":
        writer.finish(status, "boom" if status == "failed" else None)
    return writer


def dead_pid() -> int:
    """The pid of a process that has exited (for stale runs)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def make_stale(writer: RunWriter) -> None:
    """Make a running run look crashed: its pid no longer exists."""
    writer.update(pid=dead_pid())


def make_corrupt(root: Path, name: str = "2026-01-01T00-00-00_kmeans_badbad", text: str = "{not json") -> Path:
    """A run folder whose run.json is garbage (text given) or missing (text=None)."""
    path = root / name
    (path / "artifacts").mkdir(parents=True)
    if text is not None:
        (path / "run.json").write_text(text, encoding="utf-8")
    return path
