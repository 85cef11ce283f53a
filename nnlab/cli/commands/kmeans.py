"""`nnlab kmeans` (train the k-means network) and `nnlab kmeans eta` (its learning-rate analysis)."""

from __future__ import annotations

from typing import Annotated

import typer

from nnlab.cli.common import build, execute
from nnlab.cli.options import (EXPERIMENTS, DataDirOpt, DeviceOpt, FallbackOpt, JsonOpt, RunsDirOpt,
                               SeedOpt)

kmeans_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)


@kmeans_app.callback()
def kmeans(
    ctx: typer.Context,
    k: Annotated[int, typer.Option("--k", help="Number of centres.")] = 10,
    init: Annotated[str, typer.Option("--init", help="exemplar (alias cheat: centre i = an image of digit i), random (pixels U[0,1]), samples, kmeans++.")] = "exemplar",
    lr: Annotated[float, typer.Option("--lr", help="SGD learning rate η.")] = 4.5,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Mini-batch size b.")] = 64,
    epochs: Annotated[int, typer.Option("--epochs", help="Passes over the training set.")] = 10,
    temperature: Annotated[float, typer.Option("--temperature", help="Softmax sharpness (scores are multiplied by it).")] = 20.0,
    dataset: Annotated[str, typer.Option("--dataset", help="mnist, fashion-mnist or digits (embedded, offline).")] = "mnist",
    lloyd: Annotated[bool, typer.Option("--lloyd/--no-lloyd", help="Also run scikit-learn's Lloyd k-means from the same start.")] = True,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    data_dir: DataDirOpt = None,
    runs_dir: RunsDirOpt = None,
    fallback: FallbackOpt = True,
    json_output: JsonOpt = False,
) -> None:
    """Cluster MNIST into k groups with a network trained by SGD, and compare with Lloyd's k-means.

    Prints the centres as an image, the class-by-centre table, dead or collapsed centres,
    Hungarian accuracy, NMI and inertia beside Lloyd's; saves them all in the run.
    """
    if ctx.invoked_subcommand is not None:
        return
    from nnlab.experiments import kmeans as experiment

    config = build(experiment.KMeansConfig, k=k, init=init, lr=lr, batch_size=batch_size, epochs=epochs,
                   temperature=temperature, dataset=dataset, lloyd=lloyd, seed=seed, device=device,
                   data_dir=str(data_dir) if data_dir else None, fallback=fallback)
    execute("kmeans", config, experiment.run, runs_dir=runs_dir, json_output=json_output)


@kmeans_app.command("eta")
def eta(
    batch_size: Annotated[int, typer.Option("--batch-size", help="Batch size whose bias² and variance curves are plotted.")] = 64,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """The balanced learning rate η* (bias² = variance) for each batch size, and its curves."""
    from nnlab.experiments import eta as experiment

    config = build(experiment.EtaConfig, batch_size=batch_size)
    execute("kmeans eta", config, experiment.run, runs_dir=runs_dir, json_output=json_output)


def register(app: typer.Typer) -> None:
    """Join the kmeans group to the app."""
    app.add_typer(kmeans_app, name="kmeans", rich_help_panel=EXPERIMENTS,
                  help="k-means as a network (question 1); `kmeans eta` for its learning rate.")
