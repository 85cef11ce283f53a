"""`nnlab cnn`: the MNIST CNN of problem 4.2, its filters and its confusion matrix."""

from __future__ import annotations

from typing import Annotated

import typer

from nnlab.cli.common import build, execute
from nnlab.cli.options import EXPERIMENTS, DataDirOpt, DeviceOpt, FallbackOpt, JsonOpt, RunsDirOpt, SeedOpt


def cnn(
    epochs: Annotated[int, typer.Option("--epochs", help="Passes over the training set.")] = 5,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Mini-batch size.")] = 64,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate.")] = 1e-3,
    dataset: Annotated[str, typer.Option("--dataset", help="mnist, fashion-mnist or digits (embedded, offline).")] = "mnist",
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    data_dir: DataDirOpt = None,
    runs_dir: RunsDirOpt = None,
    fallback: FallbackOpt = True,
    json_output: JsonOpt = False,
) -> None:
    """Train a CNN (40 first-layer filters) on MNIST, then show its filters and test errors.

    Prints the 40 filters as an image, the confusion matrix with its largest off-diagonal
    cells highlighted, the most-confused pairs, per-class accuracy and misclassified images;
    saves filters.png, confusion.png/.csv, misclassified.png and model.pt in the run.
    """
    from nnlab.experiments import classifiers as experiment

    config = build(experiment.CNNConfig, epochs=epochs, batch_size=batch_size, lr=lr, dataset=dataset, seed=seed,
                   device=device, data_dir=str(data_dir) if data_dir else None, fallback=fallback)
    execute("cnn", config, experiment.run_cnn, runs_dir=runs_dir, json_output=json_output)


def register(app: typer.Typer) -> None:
    """Add `cnn` to the app."""
    app.command("cnn", rich_help_panel=EXPERIMENTS)(cnn)
