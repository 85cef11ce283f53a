"""A fixed set of runs written as plain files: fixed ids, times and values, so screenshots never change.

A kmeans run (centres PNG, a 10x10 class-by-centre table as CSV and PNG, a console.log), a
failed autoencoder run, and an `mlp tune` study with five trials (one diverged, one
interrupted). Written in the run store's format, the way RunStore and RunWriter write it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image
from runfactory import grid_png

START = 1767607200.0  # 2026-01-05 10:00 UTC
KMEANS = "2026-01-05T10-00-00_kmeans_a1b2c3"
AE = "2026-01-05T11-00-00_ae_d4e5f6"
TUNE = "2026-01-05T12-00-00_mlp-tune_0a0b0c"
TRIALS = [f"2026-01-05T12-0{i}-00_mlp-tune-trial_0c0d0{i}" for i in range(1, 6)]
CLASSES = [str(i) for i in range(10)]


def write_run(root: Path, run_id: str, command: str, config: dict, *, start: float, seconds: float,
              status: str = "completed", summary: dict | None = None, metrics: list[dict] = (),
              parent: str | None = None, error: str | None = None) -> Path:
    """One run folder with run.json, metrics.jsonl, summary.json and an empty artifacts/."""
    path = root / run_id
    (path / "artifacts").mkdir(parents=True)
    info = {"id": run_id, "command": command, "argv": ["nnlab", *command.split()], "config": config, "seed": 0,
            "status": status, "start": "2026-01-05T10:00:00", "start_time": start, "end": None,
            "end_time": start + seconds, "versions": {"python": "3.11.7", "nnlab": "0.1.0"}, "device": "cpu",
            "host": "lab-server", "pid": 1, "git": None, "parent": parent}
    if error:
        info["error"] = error
    (path / "run.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    with open(path / "metrics.jsonl", "w", encoding="utf-8") as fh:
        for row in metrics:
            fh.write(json.dumps(row) + "\n")
    if summary is not None:
        (path / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return path


def epoch_metrics(epochs: int, base: float) -> list[dict]:
    """Per-epoch train/test loss and test accuracy, and per-step train loss, like the trainer records."""
    rows, step = [], 0
    for epoch in range(1, epochs + 1):
        for _ in range(4):
            step += 1
            rows.append({"step": step, "epoch": epoch, "split": "train", "name": "step_loss",
                         "value": round(base / step, 6), "time": float(step)})
        for split, factor in (("train", 1.0), ("test", 1.15)):
            rows.append({"step": step, "epoch": epoch, "split": split, "name": "loss",
                         "value": round(base * factor / epoch, 6), "time": float(step)})
        rows.append({"step": step, "epoch": epoch, "split": "test", "name": "accuracy",
                     "value": round(1 - 0.5 / epoch, 6), "time": float(step)})
    return rows


def class_table() -> np.ndarray:
    """A 10x10 class-by-centre count table: mostly diagonal, with some confusion."""
    rng = np.random.default_rng(3)
    table = rng.integers(0, 40, size=(10, 10))
    table[np.arange(10), rng.permutation(10)] += 5000
    return table


def heatmap_png(path: Path, table: np.ndarray) -> None:
    """The table as a grey heatmap PNG, 20 pixels a cell."""
    cells = (255 * (1 - table / table.max())).astype(np.uint8)
    Image.fromarray(np.kron(cells, np.ones((20, 20), np.uint8))).convert("RGB").save(path)


def build(root: Path) -> Path:
    """Write every fixture run under `root` (created); returns it."""
    root.mkdir(parents=True, exist_ok=True)
    kmeans = write_run(root, KMEANS, "kmeans", {"k": 10, "epochs": 5, "lr": 0.05, "init": "exemplar"},
                       start=START, seconds=95.0, metrics=epoch_metrics(5, 2.0),
                       summary={"test_loss": 0.4, "test_accuracy": 0.9, "dead_centres": 0})
    grid_png(kmeans / "artifacts" / "centers.png")
    table = class_table()
    with open(kmeans / "artifacts" / "network_table.csv", "w", encoding="utf-8") as fh:
        fh.write(",".join(["class", *(f"center_{j}" for j in range(10))]) + "\n")
        for i, row in enumerate(table):
            fh.write(",".join([CLASSES[i], *map(str, row)]) + "\n")
    heatmap_png(kmeans / "artifacts" / "network_table.png", table)
    (kmeans / "console.log").write_text(
        "k-means network: 10 centres, exemplar init, 5 epochs\n"
        + "".join(f"epoch {e}/5  loss {2.0 / e:.4f}  test accuracy {1 - 0.5 / e:.3f}\n" for e in range(1, 6))
        + "done in 1m35s\n", encoding="utf-8")
    write_run(root, AE, "ae", {"latent": 32, "epochs": 3, "lr": 0.001}, start=START + 3600, seconds=12.0,
              status="failed", error="out of memory", metrics=epoch_metrics(1, 1.0))
    space = {"layers": [1, 2, 3], "units": [64, 128], "lr": [0.01, 0.02]}
    write_run(root, TUNE, "mlp tune", {"trials": 5, "sampler": "tpe", **space}, start=START + 7200, seconds=300.0,
              summary={"best_trial": 2, "best_val_acc": 0.91, "completed_trials": 3},
              metrics=[{"step": i, "epoch": None, "split": "val", "name": "val_acc", "value": v, "time": 60.0 * i}
                       for i, v in enumerate((0.85, 0.88, 0.91))])
    trials = [({"layers": 1, "units": 64, "lr": 0.01}, 0.85, 0.41, "completed"),
              ({"layers": 2, "units": 128, "lr": 0.01}, 0.88, 0.35, "completed"),
              ({"layers": 3, "units": 128, "lr": 0.01}, 0.91, 0.30, "completed"),
              ({"layers": 3, "units": 64, "lr": 0.02}, 0.10, math.nan, "completed"),
              ({"layers": 2, "units": 64, "lr": 0.02}, None, None, "interrupted")]
    for i, (params, acc, loss, status) in enumerate(trials):
        summary = None if acc is None else {"val_acc": acc, "val_loss": loss, "trial": i}
        write_run(root, TRIALS[i], "mlp tune trial", {**params, "epochs": 2, "trial": i, "study": "mlp"},
                  start=START + 7200 + 60 * (i + 1), seconds=55.0, status=status, summary=summary, parent=TUNE,
                  metrics=epoch_metrics(2, 1.0 + i / 4))
    return root
