"""`nnlab ae` (dense autoencoders) and `nnlab ae cluster RUN` (k-means in latent space).

The training options here are shared with `nnlab cae`, which imports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from nnlab.cli.common import build, execute, fail, make_console, print_json, user_errors
from nnlab.cli.options import (EXPERIMENTS, DataDirOpt, DeviceOpt, FallbackOpt, JsonOpt, RunsDirOpt,
                               SeedOpt)

PRESET = "preset's value"  # shown as the default of options the --arch preset fills in

LatentOpt = Annotated[Optional[int], typer.Option("--latent", help=f"Size of the embedding z (λ). \\[default: {PRESET}]",
                                                   show_default=False)]
LossOpt = Annotated[Optional[str], typer.Option("--loss", help=f"mse, l1 or bce. \\[default: {PRESET}]", show_default=False)]
DatasetOpt = Annotated[Optional[str], typer.Option("--dataset", help=f"mnist, fashion-mnist or digits (embedded, offline). \\[default: {PRESET}]",
                                                   show_default=False)]
EpochsOpt = Annotated[Optional[int], typer.Option("--epochs", help=f"Passes over the training set. \\[default: {PRESET}]",
                                                  show_default=False)]
LrOpt = Annotated[Optional[float], typer.Option("--lr", help=f"Learning rate. \\[default: {PRESET}]", show_default=False)]
BatchOpt = Annotated[Optional[int], typer.Option("--batch-size", help=f"Mini-batch size. \\[default: {PRESET}]", show_default=False)]
OptimizerOpt = Annotated[Optional[str], typer.Option("--optimizer", help=f"adam or sgd. \\[default: {PRESET}]", show_default=False)]
NoiseOpt = Annotated[float, typer.Option("--noise", help="Denoising: train (and test) on x + N(0, noise²); 0.3 in the seed.")]
SummaryOpt = Annotated[bool, typer.Option("--summary", help="Print the model summary table and exit without training.")]


def train(command: str, config_type: Any, summary: bool, runs_dir: Path | None, json_output: bool,
          **values: Any) -> None:
    """Build the config, then print the model summary (`--summary`) or train as a recorded run."""
    from nnlab.experiments import autoencoders as experiment

    config = build(config_type, **values)
    if summary:
        from nnlab.view.console import ConsoleRecorder

        with user_errors():
            if json_output:
                rows, total = experiment.summary_rows(experiment.build_model(config))
                print_json({"layers": [dict(zip(("layer", "type", "output", "params"), row)) for row in rows],
                            "parameters": total})
            else:
                experiment.show_summary(config, ConsoleRecorder(console=make_console()))
        return
    execute(command, config, experiment.run, runs_dir=runs_dir, json_output=json_output)


ae_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)


@ae_app.callback()
def ae(
    ctx: typer.Context,
    arch: Annotated[str, typer.Option("--arch", help="mlp4 (4 Linear+ReLU to 2-D, linear embedding), shallow (784-128-64, Fashion-MNIST, 20 epochs), funnel (784-196-49-λ, ReLU everywhere, L1).")] = "mlp4",
    widths: Annotated[Optional[str], typer.Option("--widths", help="Custom encoder widths from the input, e.g. 784,256,64 (decoder mirrored; the preset's activations).",
                                                  show_default=False)] = None,
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
    """Train a dense autoencoder; show reconstructions, the latent space and the decoded mean code.

    Prints the model summary, per-epoch losses, test originals above their reconstructions,
    the 2-D latent scatter coloured by label (PCA when wider) and the decoded mean latent;
    saves those figures, the loss curve and the state dict in the run.
    """
    if ctx.invoked_subcommand is not None:
        return
    from nnlab.experiments.autoencoders import AEConfig

    train("ae", AEConfig, summary, runs_dir, json_output, arch=arch, widths=_widths(widths), latent=latent,
          loss=loss, dataset=dataset, epochs=epochs, lr=lr, batch_size=batch_size, optimizer=optimizer,
          noise=noise, seed=seed, device=device, data_dir=str(data_dir) if data_dir else None, fallback=fallback)


def _widths(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        fail(f"--widths must be comma-separated integers such as 784,256,64, got '{text}'")


def cluster(
    run: Annotated[str, typer.Argument(help="An ae or cae run: id, unique part of it, path, or `latest`.")],
    k: Annotated[int, typer.Option("--k", help="Number of k-means clusters.")] = 10,
    raw: Annotated[bool, typer.Option("--raw/--no-raw", help="Also run k-means on the raw pixels, for comparison.")] = True,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Dataset folder \\[default: the one the run trained from].",
                                                     rich_help_panel="Common options", show_default=False)] = None,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """k-means on a trained autoencoder's training embeddings, scored against the labels.

    Prints the class-by-cluster table with the Hungarian matching highlighted, and accuracy
    (as-is and Hungarian-mapped) and NMI beside k-means on the raw pixels.
    """
    from nnlab.experiments import ae_latent as experiment
    from nnlab.runs.store import RunStore

    with user_errors():
        target = experiment.resolve_run(RunStore(runs_dir), run)
    config = build(experiment.ClusterConfig, run=str(target.path.resolve()), k=k, raw=raw, seed=seed,
                   device=device, data_dir=str(data_dir) if data_dir else None)
    execute("ae cluster", config, experiment.run_cluster, runs_dir=runs_dir, json_output=json_output)


ae_app.command("cluster")(cluster)


def register(app: typer.Typer) -> None:
    """Join the ae group to the app."""
    app.add_typer(ae_app, name="ae", rich_help_panel=EXPERIMENTS,
                  help="Dense autoencoders (mlp4, shallow, funnel, custom); `ae cluster RUN` for k-means in latent space.")
