"""`nnlab landscape`: the loss surface around the MLP's SGD path (problem 3)."""

from __future__ import annotations

from typing import Annotated

import typer

from nnlab.cli.common import build, execute
from nnlab.cli.options import EXPERIMENTS, DataDirOpt, DeviceOpt, JsonOpt, RunsDirOpt, SeedOpt


def landscape(
    directions: Annotated[str, typer.Option("--directions", help="pca (top principal components of the path) or random (filter-normalised, Li et al. 2018).")] = "pca",
    grid: Annotated[int, typer.Option("--grid", help="Grid points per side.")] = 31,
    subset: Annotated[int, typer.Option("--subset", help="Training examples used to train and to estimate the loss.")] = 2500,
    snapshots: Annotated[int, typer.Option("--snapshots", help="Parameter snapshots per epoch.")] = 4,
    margin: Annotated[float, typer.Option("--margin", help="Window margin each side, as a share of the path's extent.")] = 0.25,
    layers: Annotated[int, typer.Option("--layers", help="Hidden layers.")] = 3,
    units: Annotated[int, typer.Option("--units", help="Units per hidden layer.")] = 50,
    lr: Annotated[float, typer.Option("--lr", help="SGD learning rate.")] = 0.05,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Mini-batch size.")] = 64,
    epochs: Annotated[int, typer.Option("--epochs", help="Passes over the subset.")] = 20,
    l2: Annotated[float, typer.Option("--l2", help="L2 strength on weight matrices during training (the plotted loss has none).")] = 1e-4,
    momentum: Annotated[float, typer.Option("--momentum", help="SGD momentum.")] = 0.9,
    chunk: Annotated[int, typer.Option("--chunk", help="Grid points evaluated per batched (vmap) call.")] = 64,
    dataset: Annotated[str, typer.Option("--dataset", help="fashion-mnist, mnist or digits (embedded, offline).")] = "fashion-mnist",
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    data_dir: DataDirOpt = None,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Draw the cross-entropy surface around the MLP's SGD path, in the plane of its top two PCs.

    Prints the explained variance, the grid's evaluation speed and a heatmap with the path;
    saves surface.png (3-D, path drawn on it), contour.png, surface.csv and path.csv.
    """
    from nnlab.experiments import landscape as experiment

    config = build(experiment.LandscapeConfig, directions=directions, grid=grid, subset=subset, snapshots=snapshots,
                   margin=margin, layers=layers, units=units, lr=lr, batch_size=batch_size, epochs=epochs, l2=l2,
                   momentum=momentum, chunk=chunk, dataset=dataset, seed=seed, device=device,
                   data_dir=str(data_dir) if data_dir else None)
    execute("landscape", config, experiment.run, runs_dir=runs_dir, json_output=json_output)


def register(app: typer.Typer) -> None:
    """Add `landscape` to the app."""
    app.command("landscape", rich_help_panel=EXPERIMENTS)(landscape)
