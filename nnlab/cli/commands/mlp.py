"""`nnlab mlp` (the Fashion-MNIST MLP of problem 2) and `nnlab mlp tune` (its Optuna search)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from nnlab.cli.common import build, execute
from nnlab.cli.options import EXPERIMENTS, DataDirOpt, DeviceOpt, JsonOpt, RunsDirOpt, SeedOpt

mlp_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)

DatasetOpt = Annotated[str, typer.Option("--dataset", help="fashion-mnist, mnist or digits (embedded, offline).")]
ValFractionOpt = Annotated[float, typer.Option("--val-fraction", help="Share of the training set held out for validation (seeded).")]
MomentumOpt = Annotated[float, typer.Option("--momentum", help="SGD momentum (0 for plain SGD).")]
VariantOpt = Annotated[str, typer.Option("--variant", help="base, batchnorm, dropout, leakyrelu, elu or prelu (the bonus).")]


@mlp_app.callback()
def mlp(
    ctx: typer.Context,
    layers: Annotated[int, typer.Option("--layers", help="Hidden layers.")] = 3,
    units: Annotated[int, typer.Option("--units", help="Units per hidden layer.")] = 50,
    lr: Annotated[float, typer.Option("--lr", help="SGD learning rate.")] = 0.01,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Mini-batch size.")] = 32,
    epochs: Annotated[int, typer.Option("--epochs", help="Passes over the training split.")] = 20,
    l2: Annotated[float, typer.Option("--l2", help="L2 strength on weight matrices only (loss += l2/2·Σ‖W‖²).")] = 1e-4,
    momentum: MomentumOpt = 0.9,
    variant: VariantOpt = "base",
    val_fraction: ValFractionOpt = 0.1,
    dataset: DatasetOpt = "fashion-mnist",
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    data_dir: DataDirOpt = None,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Train an MLP on Fashion-MNIST with SGD; print the last 20 iterations' loss and the test accuracy.

    A seeded validation split is carved from the training set; the test set is used once,
    at the end. Saves last_losses.csv and model.pt in the run. `nnlab mlp tune` searches
    the hyper-parameters.
    """
    if ctx.invoked_subcommand is not None:
        return
    from nnlab.experiments import classifiers as experiment

    config = build(experiment.MLPConfig, layers=layers, units=units, lr=lr, batch_size=batch_size, epochs=epochs,
                   l2=l2, momentum=momentum, variant=variant, val_fraction=val_fraction, dataset=dataset,
                   seed=seed, device=device, data_dir=str(data_dir) if data_dir else None)
    execute("mlp", config, experiment.run_mlp, runs_dir=runs_dir, json_output=json_output)


@mlp_app.command("tune")
def tune(
    trials: Annotated[int, typer.Option("--trials", help="Trials the study should hold in total, over all workers.")] = 12,
    sampler: Annotated[str, typer.Option("--sampler", help="grid, random or tpe (Optuna's samplers).")] = "tpe",
    layers: Annotated[str, typer.Option("--layers", help="Choices of hidden layers, comma-separated.")] = "3,4,5",
    units: Annotated[str, typer.Option("--units", help="Choices of units per layer.")] = "30,40,50",
    lr: Annotated[str, typer.Option("--lr", help="Choices of SGD learning rate (with momentum 0.9, 0.05 and up diverge).")] = "0.001,0.002,0.005,0.01,0.02",
    batch_size: Annotated[str, typer.Option("--batch-size", help="Choices of mini-batch size.")] = "16,32,64,128,256",
    epochs: Annotated[str, typer.Option("--epochs", help="Choices of epochs.")] = "10,20",
    l2: Annotated[str, typer.Option("--l2", help="Choices of L2 strength on weight matrices.")] = "0,1e-5,1e-4,1e-3",
    storage: Annotated[Optional[str], typer.Option("--storage", help="Optuna storage URL shared by workers, e.g. sqlite:///tune.db or postgresql://host/db \\[default: in memory].", show_default=False)] = None,
    study_name: Annotated[str, typer.Option("--study-name", help="Study name inside the storage; workers with the same name share trials.")] = "mlp-tune",
    retrain: Annotated[bool, typer.Option("--retrain/--no-retrain", help="Re-train the best setting and report its test accuracy.")] = True,
    momentum: MomentumOpt = 0.9,
    variant: VariantOpt = "base",
    val_fraction: ValFractionOpt = 0.1,
    dataset: DatasetOpt = "fashion-mnist",
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    data_dir: DataDirOpt = None,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Search layers, units, learning rate, batch size, epochs and L2 with Optuna, on validation accuracy.

    Shows a live table of the trials sorted by validation accuracy, then re-trains the best
    setting and reports its test accuracy. Each trial is a child run of this sweep's run.
    Start the same command in several shells with one --storage to share the trials.
    """
    from nnlab.experiments import tune as experiment

    config = build(experiment.TuneConfig, trials=trials, sampler=sampler, layers=layers, units=units, lr=lr,
                   batch_size=batch_size, epochs=epochs, l2=l2, storage=storage, study_name=study_name,
                   retrain=retrain, momentum=momentum, variant=variant, val_fraction=val_fraction,
                   dataset=dataset, seed=seed, device=device, data_dir=str(data_dir) if data_dir else None)
    execute("mlp tune", config, experiment.run, runs_dir=runs_dir, json_output=json_output)


def register(app: typer.Typer) -> None:
    """Join the mlp group to the app."""
    app.add_typer(mlp_app, name="mlp", rich_help_panel=EXPERIMENTS,
                  help="Fashion-MNIST MLP (problem 2); `mlp tune` searches its hyper-parameters.")
