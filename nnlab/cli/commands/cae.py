"""`nnlab cae` (convolutional autoencoders), `cae generate RUN...` and `cae cluster RUN`."""

from __future__ import annotations

from typing import Annotated

import typer

from nnlab.cli.commands.ae import (BatchOpt, DatasetOpt, EpochsOpt, LatentOpt, LossOpt, LrOpt, NoiseOpt,
                                   OptimizerOpt, SummaryOpt, cluster, train)
from nnlab.cli.common import build, execute, user_errors
from nnlab.cli.options import (EXPERIMENTS, DataDirOpt, DeviceOpt, FallbackOpt, JsonOpt, RunsDirOpt,
                               SeedOpt)

cae_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)


@cae_app.callback()
def cae(
    ctx: typer.Context,
    arch: Annotated[str, typer.Option("--arch", help="pool (2 conv+pool, 2-D z), strided (stride-2 convs, transposed-conv decoder), generative (noisy z, MSE vs zeros, SGD 0.1), vae (the better generator).")] = "pool",
    skip: Annotated[bool, typer.Option("--skip", help="pool only: skip connections from each pooling stage to its upsampling stage.")] = False,
    latent: LatentOpt = None,
    loss: LossOpt = None,
    dataset: DatasetOpt = None,
    epochs: EpochsOpt = None,
    lr: LrOpt = None,
    batch_size: BatchOpt = None,
    optimizer: OptimizerOpt = None,
    noise: NoiseOpt = 0.0,
    summary: SummaryOpt = False,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    data_dir: DataDirOpt = None,
    runs_dir: RunsDirOpt = None,
    fallback: FallbackOpt = True,
    json_output: JsonOpt = False,
) -> None:
    """Train a convolutional autoencoder (with --skip, --noise 0.3 for denoising, or a generator).

    Prints and saves what `nnlab ae` does; with --noise the comparison has three rows
    (corrupted input, reconstruction, clean original); generative archs also show 20 samples.
    """
    if ctx.invoked_subcommand is not None:
        return
    from nnlab.experiments.autoencoders import CAEConfig

    train("cae", CAEConfig, summary, runs_dir, json_output, arch=arch, skip=skip, latent=latent, loss=loss,
          dataset=dataset, epochs=epochs, lr=lr, batch_size=batch_size, optimizer=optimizer, noise=noise,
          seed=seed, device=device, data_dir=str(data_dir) if data_dir else None, fallback=fallback)


@cae_app.command("generate")
def generate(
    runs: Annotated[list[str], typer.Argument(help="One or more generative or vae runs (id, unique part, path, `latest`).")],
    n: Annotated[int, typer.Option("--n", help="Samples per run.")] = 20,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Sample saved generators side by side (generative: enc_mode=0 as the seed asks; vae: z ~ N(0, I)).

    Shows each run's samples in the terminal and saves one PNG per run plus one with all of them.
    """
    from nnlab.experiments import ae_latent as experiment
    from nnlab.runs.store import RunStore

    store = RunStore(runs_dir)
    with user_errors():
        paths = tuple(str(experiment.resolve_run(store, ref, need_sampler=True).path.resolve()) for ref in runs)
    config = build(experiment.GenerateConfig, runs=paths, n=n, seed=seed, device=device)
    execute("cae generate", config, experiment.run_generate, runs_dir=runs_dir, json_output=json_output)


cae_app.command("cluster")(cluster)


def register(app: typer.Typer) -> None:
    """Join the cae group to the app."""
    app.add_typer(cae_app, name="cae", rich_help_panel=EXPERIMENTS,
                  help="Convolutional autoencoders (pool, skip, denoising, strided, generative, vae); `cae generate RUN`.")
