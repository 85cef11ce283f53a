"""Export runs as TensorBoard event files, for users who move on to TensorBoard.

Per run, one sub-folder of the target named by the run id, holding: every metric as a scalar
`split/name` (per step when recorded, else per epoch), each PNG artifact as an image, the
config as hparams (with the summary's numbers as their metrics) and as a text block. Needs
the optional `tensorboard` package (`pip install 'nnlab[tensorboard]'`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

from nnlab.errors import NnlabError
from nnlab.report.content import MAX_IMAGES_PER_RUN, png_figure
from nnlab.report.plots import read_pixels
from nnlab.runs.query import flatten
from nnlab.runs.store import Run


def _writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise NnlabError("exporting to TensorBoard needs the tensorboard package: "
                         "pip install 'nnlab[tensorboard]'") from None
    return SummaryWriter


def scalar_tag(row: dict) -> str:
    """The TensorBoard tag of a metric record: `split/name`, or just the name without a split."""
    split = row.get("split")
    return f"{split}/{row['name']}" if isinstance(split, str) and split else str(row["name"])


def _hparam(value: Any) -> Any:
    # hparams take numbers, strings and booleans; anything else is shown as its JSON
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and math.isfinite(value):
        return value
    return json.dumps(value, default=str)


def export_run(run: Run, target: Path) -> dict[str, int]:
    """Write `run` as event files under `target / run.id`; returns the counts written."""
    SummaryWriter = _writer_class()
    folder = target / run.id
    counts = {"scalars": 0, "images": 0, "hparams": 0}
    with SummaryWriter(log_dir=str(folder)) as writer:
        for row in run.metrics():
            value, name = row.get("value"), row.get("name")
            if not isinstance(name, str) or not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            step = row.get("step") if isinstance(row.get("step"), int) else row.get("epoch")
            writer.add_scalar(scalar_tag(row), float(value), global_step=step if isinstance(step, int) else None)
            counts["scalars"] += 1
        images = [p for p in run.artifacts() if p.suffix.lower() == ".png"][:MAX_IMAGES_PER_RUN]
        for path in images:
            figure = png_figure(path, path.name, path.name)
            if figure is None:
                continue
            writer.add_image(f"artifacts/{path.stem}", read_pixels(figure.png), dataformats="HWC")
            counts["images"] += 1
        config = flatten(run.config) if isinstance(run.config, dict) else {}
        text = json.dumps({"command": run.command, "argv": run.info.get("argv"), "config": run.config},
                          indent=2, default=str)
        writer.add_text("config", "```\n" + text.replace("```", "'''") + "\n```")
        metrics = {f"summary/{k}": float(v) for k, v in flatten(run.summary()).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)}
        if config:
            writer.add_hparams({k: _hparam(v) for k, v in config.items()}, metrics, run_name=".")
            counts["hparams"] = len(config)
    return counts


def export_runs(runs: Sequence[Run], target: Path) -> dict[str, dict[str, int]]:
    """Export several runs under `target` (one sub-folder each); `tensorboard --logdir target` shows them."""
    for run in runs:
        if run.error:
            raise NnlabError(f"run {run.id} is unreadable: {run.error}")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NnlabError(f"cannot write TensorBoard files in {target}: {exc.strerror or exc}") from None
    return {run.id: export_run(run, target) for run in runs}
