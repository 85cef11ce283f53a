"""`nnlab cifar`: train the fast CIFAR-10 network, or run the subset study; torchrun-aware."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from nnlab.cli.common import build, execute, user_errors
from nnlab.cli.options import EXPERIMENTS, DataDirOpt, DeviceOpt, JsonOpt, RunsDirOpt, SeedOpt

RECIPE = "Recipe"


def cifar(
    epochs: Annotated[int, typer.Option("--epochs", help="Passes over the training set.")] = 10,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Global mini-batch size (split over torchrun ranks).")] = 1024,
    lr: Annotated[float, typer.Option("--lr", help="Peak Nesterov SGD learning rate per 1024 images.", rich_help_panel=RECIPE)] = 1.5,
    momentum: Annotated[float, typer.Option("--momentum", help="Nesterov momentum.", rich_help_panel=RECIPE)] = 0.85,
    weight_decay: Annotated[float, typer.Option("--weight-decay", help="Fraction of each weight removed per step at peak lr.", rich_help_panel=RECIPE)] = 2e-3,
    bias_lr_scale: Annotated[float, typer.Option("--bias-lr-scale", help="Batch-norm shifts learn this many times faster.", rich_help_panel=RECIPE)] = 64.0,
    warmup: Annotated[float, typer.Option("--warmup", help="Fraction of steps warming the lr up; then it decays linearly.", rich_help_panel=RECIPE)] = 0.23,
    label_smoothing: Annotated[float, typer.Option("--label-smoothing", help="Target mass spread over all classes.", rich_help_panel=RECIPE)] = 0.2,
    translate: Annotated[int, typer.Option("--translate", help="Random shift in pixels (crop with reflected border).", rich_help_panel=RECIPE)] = 2,
    flip: Annotated[bool, typer.Option("--flip/--no-flip", help="Random left-right flips while training.", rich_help_panel=RECIPE)] = True,
    tta: Annotated[bool, typer.Option("--tta/--no-tta", help="Test on the mean of image and mirror logits.", rich_help_panel=RECIPE)] = True,
    lookahead: Annotated[bool, typer.Option("--lookahead/--no-lookahead", help="Lookahead weight averaging.", rich_help_panel=RECIPE)] = True,
    widths: Annotated[str, typer.Option("--widths", help="Channels of the three conv blocks.", rich_help_panel=RECIPE)] = "64,256,256",
    precision: Annotated[str, typer.Option("--precision", help="auto (bf16/fp16 autocast on CUDA, fp32 elsewhere), fp32, fp16, bf16.")] = "auto",
    channels_last: Annotated[bool, typer.Option("--channels-last/--no-channels-last", help="NHWC memory layout on CUDA.")] = True,
    compile_: Annotated[bool, typer.Option("--compile/--no-compile", help="torch.compile the model (slow to start, faster on GPU).")] = False,
    subset_per_class: Annotated[str, typer.Option("--subset-per-class", help="Train on N images per class; several (1,10,100,1000,all) run the subset study.")] = "",
    max_minutes: Annotated[Optional[float], typer.Option("--max-minutes", help="Stop training cleanly after this many minutes.")] = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    data_dir: DataDirOpt = None,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Train a from-scratch CIFAR-10 network with the fast-trainer recipe (target: 94% on a GPU).

    Prints a time estimate (CPU), per-epoch train/test loss and accuracy, their curves,
    the test confusion matrix, per-class accuracy, wall time and images/s.
    Saves loss.png, accuracy.png, confusion.png/.csv, per_class.csv and model.pt in the run.
    Data parallel: `torchrun --nproc_per_node=N -m nnlab cifar ...` (rank 0 writes the run).
    """
    from nnlab.core.distributed import env_rank, env_world_size
    from nnlab.experiments import cifar as experiment

    config = build(experiment.CifarConfig, epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
                   weight_decay=weight_decay, bias_lr_scale=bias_lr_scale, warmup=warmup,
                   label_smoothing=label_smoothing, translate=translate, flip=flip, tta=tta, lookahead=lookahead,
                   widths=widths, precision=precision, channels_last=channels_last, compile=compile_,
                   subset_per_class=subset_per_class, max_minutes=max_minutes, world_size=env_world_size(),
                   seed=seed, device=device, data_dir=str(data_dir) if data_dir else None)
    if env_rank() > 0:  # the other ranks train in step with rank 0 and record nothing
        from nnlab.runs.recorder import Recorder

        with user_errors():
            experiment.run(config, Recorder())
        return
    execute("cifar", config, experiment.run, runs_dir=runs_dir, json_output=json_output)


def register(app: typer.Typer) -> None:
    """Add `cifar` to the app."""
    app.command("cifar", rich_help_panel=EXPERIMENTS)(cifar)
