"""What a CIFAR-10 run shows and saves: the four curves, the confusion matrix, per-class accuracy."""

from __future__ import annotations

import torch

from nnlab.core.data import Dataset
from nnlab.core.figures import save_heatmap, save_line_plot
from nnlab.core.metrics import contingency
from nnlab.core.train import EpochResult
from nnlab.runs.recorder import Recorder


def curves(recorder: Recorder, history: list[EpochResult], title: str = "") -> None:
    """Train/test loss and accuracy per epoch: in the terminal and as loss.png, accuracy.png."""
    epochs = [r.epoch for r in history]
    for name, ylabel in (("loss", "label-smoothed cross-entropy"), ("accuracy", "accuracy")):
        series = {f"{split} {name}": (epochs, [getattr(r, split)[name] for r in history])
                  for split in ("train", "test")}
        save_line_plot(recorder.artifact(f"{name}.png"), series, title=f"{title}{name} per epoch",
                       xlabel="epoch", ylabel=ylabel)
        recorder.plot(series, title=f"{title}{name} per epoch (train: augmented batches; test: whole test set)",
                      xlabel="epoch")


def confusion(recorder: Recorder, predictions: torch.Tensor, data: Dataset) -> list[float]:
    """Save and show the test confusion matrix and per-class accuracy; return the latter."""
    classes = data.classes
    table = contingency(data.test.labels.cpu().numpy(), predictions.numpy(), len(classes), len(classes))
    short = [c[:5] for c in classes]  # ten full names do not fit side by side
    save_heatmap(recorder.artifact("confusion.png"), table, row_labels=classes, col_labels=short,
                 title="test confusion matrix (rows: true class)", xlabel="predicted")
    recorder.save_csv("confusion.csv", ["true \\ predicted"] + classes,
                      [[c] + row.tolist() for c, row in zip(classes, table)])
    recorder.table("test confusion matrix (rows: true class, columns: predicted)", ["true"] + short,
                   [[c] + row.tolist() for c, row in zip(classes, table)],
                   highlight={(i, i + 1) for i in range(len(classes))})
    per_class = [float(table[i, i] / max(1, table[i].sum())) for i in range(len(classes))]
    rows = [[c, int(table[i, i]), int(table[i].sum()), per_class[i]] for i, c in enumerate(classes)]
    recorder.table("per-class test accuracy", ["class", "correct", "images", "accuracy"], rows)
    recorder.save_csv("per_class.csv", ["class", "correct", "images", "accuracy"], rows)
    return per_class


def report(recorder: Recorder, history: list[EpochResult], predictions: torch.Tensor, data: Dataset,
           result: dict) -> None:
    """Everything a run records at its end, summary.json included."""
    curves(recorder, history)
    per_class = confusion(recorder, predictions, data)
    rows = [["test accuracy (final" + (", flip TTA)" if result["tta"] else ")"), result["test_accuracy"]],
            ["train accuracy (final, no augmentation)", result["train_accuracy"]],
            ["training images", result["train_images"]],
            ["epochs / steps", f"{result['epochs_done']} / {result['steps']}"],
            ["wall time to final accuracy (s)", round(result["wall_s"], 2)],
            ["of which training steps (s)", round(result["train_s"], 2)],
            ["training images per second", round(result["images_per_s"], 1)],
            ["precision / ranks", f"{result['precision']} / {result['world_size']}"]]
    caption = "stopped early by --max-minutes: the lr schedule did not finish" if result["stopped_early"] else ""
    recorder.table("CIFAR-10 result", ["", "value"], rows, caption=caption)
    recorder.summary(result | {"per_class_accuracy": dict(zip(data.classes, per_class))})
