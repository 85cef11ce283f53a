"""`nnlab ae` and `nnlab cae`: dense and convolutional autoencoders, trained and reported alike."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import torch
import torch.nn.functional as F

from nnlab.core.data import Batches
from nnlab.core.models.autoencoders import DENSE_PRESETS, IMAGE_SHAPE, Autoencoder, DenseAutoencoder
from nnlab.core.models.conv_autoencoders import ConvVAE, FunnelCAE, GenerativeAE, PoolCAE, StridedCAE
from nnlab.core.models.summary import count_parameters, summarize
from nnlab.core.train import Objective, fit
from nnlab.experiments.autoencoders import report as ae_report
from nnlab.experiments.autoencoders.config import AEConfig, AutoencoderConfig
from nnlab.experiments.autoencoders.sketch import SKETCH_FILE, save_sketch, show_pairs
from nnlab.experiments.autoencoders.pca import report_pca
from nnlab.experiments.base import Setup, prepare
from nnlab.runs.recorder import Recorder


# ---- model, loss and optimizer ------------------------------------------------------------

def build_model(config: AutoencoderConfig) -> Autoencoder:
    """The untrained model `config` describes."""
    if isinstance(config, AEConfig):
        spec = DENSE_PRESETS[config.arch]
        return DenseAutoencoder(replace(spec, latent=config.latent, widths=config.widths or spec.widths))
    builders: dict[str, Callable[[], Autoencoder]] = {
        "pool": lambda: PoolCAE(config.latent, skip=config.skip),
        "strided": lambda: StridedCAE(config.latent),
        "funnel": lambda: FunnelCAE(config.latent),
        "generative": lambda: GenerativeAE(config.latent, encoder=config.encoder or "mirror"),
        "vae": lambda: ConvVAE(config.latent),
    }
    return builders[config.arch]()


RECONSTRUCTION = {"mse": F.mse_loss, "l1": F.l1_loss, "bce": F.binary_cross_entropy}


def make_objective(config: AutoencoderConfig, model: Autoencoder) -> Objective:
    """`objective(model, x, y) -> (loss, extras)` for this architecture; inputs get `noise`."""
    noise = config.noise

    def corrupt(x: torch.Tensor) -> torch.Tensor:
        return x + noise * torch.randn_like(x) if noise else x

    if isinstance(model, GenerativeAE):
        def generative(net, x, _y):
            out = net(x)  # (B, latent + 784): embedding and reconstruction error
            return F.mse_loss(out, torch.zeros_like(out)), {}
        return generative

    if isinstance(model, ConvVAE):
        def vae(net, x, _y):
            recon, mu, logvar = net(corrupt(x))
            # summed over pixels, averaged over images: the scale at which KL and reconstruction trade off
            rec = RECONSTRUCTION[config.loss](recon, x, reduction="sum") / len(x)
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(x)
            return rec + kl, {"recon": rec, "kl": kl}
        return vae

    loss_fn = RECONSTRUCTION[config.loss]

    def reconstruction(net, x, _y):
        return loss_fn(net(corrupt(x)), x), {}
    return reconstruction


def make_optimizer(config: AutoencoderConfig, model: Autoencoder) -> torch.optim.Optimizer:
    """Adam or plain SGD at the configured learning rate."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=config.lr)
    return torch.optim.Adam(model.parameters(), lr=config.lr)


def summary_rows(model: Autoencoder, device: torch.device | str = "cpu") -> tuple[list[list], int]:
    """Rows (layer, type, output shape, parameters) for the summary table, and the total."""
    rows = [[r.name, r.kind, "x".join(map(str, r.output)), r.params]
            for r in summarize(model, IMAGE_SHAPE, device)]
    return rows, count_parameters(model)


def show_summary(config: AutoencoderConfig, recorder: Recorder, model: Autoencoder | None = None,
                 device: torch.device | str = "cpu") -> int:
    """Show the model summary table; return the parameter count."""
    model = model if model is not None else build_model(config)
    rows, total = summary_rows(model, device)
    recorder.table(f"{type(model).__name__} ({config.arch}, latent {config.latent})",
                   ["layer", "type", "output", "params"], rows, footer=["", "", "total", f"{total:,}"],
                   caption="output shapes without the batch dimension, in the order the layers run")
    return total


def show_blocks(model: Autoencoder, recorder: Recorder) -> dict:
    """For a model whose stages pair up (the generative mirror encoder): encoder beside decoder
    with the pairs marked, and the block sketch PNG; the pairs and the PNG's path."""
    if not getattr(model, "pairs", None):
        return {}
    pairs = show_pairs(model, recorder)
    path = save_sketch(recorder.artifact(SKETCH_FILE), model)  # too wide to read in a terminal: a PNG only
    recorder.info(f"block sketch (encoder beside decoder, pairs bracketed): {path}")
    return {"pairs": pairs, "sketch": str(path)}


def summary(config: AutoencoderConfig, recorder: Recorder) -> dict:
    """`--summary`: show the model summary table instead of training; the layers as a dict.
    Models whose encoder mirrors the decoder also show the pairs and write the block sketch."""
    model = build_model(config)
    rows, total = summary_rows(model)
    show_summary(config, recorder, model)
    return {"layers": [dict(zip(("layer", "type", "output", "params"), row)) for row in rows], "parameters": total,
            **show_blocks(model, recorder)}


# ---- the run ------------------------------------------------------------------------------

def run(config: AutoencoderConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Train the autoencoder, save it, and report reconstructions, latent space and samples."""
    setup = prepare(config, recorder, setup)
    data, device, generator = setup.data, setup.device, setup.generator
    model = build_model(config).to(device)
    params = show_summary(config, recorder, model, device)
    show_blocks(model, recorder)

    train = Batches(data.train, config.batch_size, generator=generator)
    test = Batches(data.test, ae_report.EVAL_BATCH, shuffle=False)
    history = fit(model, make_optimizer(config, model), make_objective(config, model), train,
                  epochs=config.epochs, recorder=recorder, test=test, log_every=100)
    torch.save(model.state_dict(), recorder.artifact("model.pt"))

    result: dict[str, Any] = {"dataset": data.name, "arch": config.arch, "parameters": params}
    if history:
        last = history[-1]
        result |= {"train_loss": last.train["loss"], "test_loss": last.test["loss"],
                   "seconds_per_epoch": sum(h.seconds for h in history) / len(history),
                   "images_per_s": len(data.train) * len(history) / sum(h.seconds for h in history)}
    result |= ae_report.report(model, data, config, history, recorder)
    if isinstance(config, AEConfig) and config.arch == "linear" and config.widths is None:
        result |= report_pca(model, data, config.latent, recorder)  # P5.3: PCA is its optimum
    recorder.summary({k: v for k, v in result.items() if isinstance(v, (int, float, str))})
    return result
