"""`nnlab cifar --subset-per-class 1,10,100,1000,all`: accuracy against training-set size (question 5.2).

One child run per size under one study run. Every child keeps the whole test set; its
training images are a balanced, seeded subset. Small subsets get settings that suit them
(`recipe.subset_plan`). The study plots the generalisation gap (train − test accuracy) against the
number of training images on a log axis.
"""

from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np

from nnlab.core import distributed
from nnlab.core.data import Dataset
from nnlab.core.figures import save_line_plot
from nnlab.experiments.cifar.config import CifarConfig
from nnlab.experiments.cifar.train import train
from nnlab.runs.recorder import Recorder


def study(config: CifarConfig, data: Dataset, world: distributed.World, recorder: Recorder) -> dict:
    """Train one child run per subset size and plot the generalisation gap against size."""
    rows = []
    for per_class in config.subset_per_class:
        label = "all" if per_class is None else str(per_class)
        child_config = replace(config, subset_per_class=(per_class,))
        recorder.info(f"— subset: {label} per class —")
        with recorder.child("cifar", asdict(child_config), seed=config.seed) as child:
            result = train(child_config, data, world, child, per_class)
        rows.append(result)
    sizes = [r["train_images"] for r in rows]
    gaps = [r["gap"] for r in rows]
    if world.main:
        _plot(recorder, rows)
    return {"sizes": sizes, "gaps": gaps,
            "children": [{k: r[k] for k in ("per_class", "train_images", "train_accuracy", "test_accuracy",
                                            "gap", "epochs_done", "steps", "wall_s")} for r in rows]}


def _plot(recorder: Recorder, rows: list[dict]) -> None:
    sizes = [r["train_images"] for r in rows]
    series = {"train − test accuracy": (sizes, [r["gap"] for r in rows])}
    save_line_plot(recorder.artifact("generalisation_gap.png"), series, logx=True,
                   title="generalisation gap vs training-set size (whole test set each time)",
                   xlabel="training images (log scale)", ylabel="train accuracy − test accuracy")
    save_line_plot(recorder.artifact("accuracy_vs_size.png"),
                   {"train": (sizes, [r["train_accuracy"] for r in rows]),
                    "test": (sizes, [r["test_accuracy"] for r in rows])},
                   logx=True, title="accuracy vs training-set size", xlabel="training images (log scale)",
                   ylabel="accuracy")
    recorder.plot({"gap": (list(np.log10(sizes)), [r["gap"] for r in rows])},
                  title="train − test accuracy vs log10(training images)", xlabel="log10(training images)")
    table = [["all" if r["per_class"] is None else r["per_class"], r["train_images"], r["train_accuracy"],
              r["test_accuracy"], r["gap"], r["plan"]["batch_size"], r["plan"]["repeats"],
              r["plan"]["translate"], round(r["wall_s"], 1)] for r in rows]
    header = ["per class", "images", "train acc", "test acc", "gap", "batch", "tiling", "shift", "wall s"]
    recorder.table("subset study: one child run per size", header, table,
                   caption="train accuracy: the subset itself, no augmentation; test: all test images")
    recorder.save_csv("subset_study.csv", header, table)
    recorder.summary({"sizes": sizes, "gaps": [r["gap"] for r in rows],
                      "test_accuracies": [r["test_accuracy"] for r in rows]})
