"""`nnlab ae` and `nnlab cae`: dense and convolutional autoencoders, trained and reported alike.

Each architecture is a preset whose defaults are its seed's values (see PRESETS); any flag
left unset takes the preset's value, and the resolved values are what run.json records.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Callable, ClassVar

import torch
import torch.nn.functional as F

from nnlab.core.data import Batches, Dataset, load_dataset
from nnlab.core.device import resolve_device, seed_everything
from nnlab.core.models.autoencoders import DENSE_PRESETS, IMAGE_SHAPE, IMAGE_SIZE, Autoencoder, DenseAutoencoder
from nnlab.core.models.conv_autoencoders import ConvVAE, GenerativeAE, PoolCAE, StridedCAE
from nnlab.core.models.summary import count_parameters, summarize
from nnlab.core.train import Objective, fit
from nnlab.experiments import ae_report
from nnlab.errors import NnlabError
from nnlab.runs.recorder import Recorder

DATASETS = ("mnist", "fashion-mnist", "digits")
LOSSES = ("mse", "l1", "bce")
OPTIMIZERS = ("adam", "sgd")


@dataclass(frozen=True)
class Preset:
    """An architecture's defaults, from its seed (batch size where the seed gives none: 128)."""

    latent: int
    loss: str
    dataset: str
    epochs: int
    lr: float
    batch_size: int
    optimizer: str
    losses: tuple[str, ...] = LOSSES  # the losses this architecture accepts


AE_PRESETS = {
    "mlp4": Preset(2, "mse", "mnist", 10, 1e-3, 128, "adam"),
    "shallow": Preset(64, "mse", "fashion-mnist", 20, 1e-3, 128, "adam"),
    "funnel": Preset(2, "l1", "mnist", 10, 1e-3, 128, "adam", ("mse", "l1")),  # ReLU output: no BCE
}
CAE_PRESETS = {
    "pool": Preset(2, "mse", "mnist", 10, 1e-3, 128, "adam"),
    "strided": Preset(4, "mse", "mnist", 10, 1e-3, 128, "adam"),
    # MSE of concat(z, f − x) against zeros; batch 64, SGD at lr 0.1 (the seed's values)
    "generative": Preset(10, "mse", "mnist", 10, 0.1, 64, "sgd", ("mse",)),
    # the better generator: reconstruction (summed over pixels) + KL, per image
    "vae": Preset(10, "bce", "mnist", 10, 1e-3, 128, "adam", ("bce", "mse")),
}


@dataclass(frozen=True)
class AutoencoderConfig:
    """Settings shared by `ae` and `cae`; None means "the architecture's preset value"."""

    PRESETS: ClassVar[dict[str, Preset]] = {}
    arch: str = ""
    latent: int | None = None  # size of the embedding z (λ in the adam-ae seed)
    loss: str | None = None
    dataset: str | None = None
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    noise: float = 0.0  # std of Gaussian noise added to every training and test input (denoising)
    seed: int = 0
    device: str = "auto"
    data_dir: str | None = None
    fallback: bool = True  # use the embedded digits when MNIST cannot be had

    def __post_init__(self):
        if self.arch not in self.PRESETS:
            raise NnlabError(f"unknown --arch '{self.arch}'; choose one of {', '.join(self.PRESETS)}")
        preset = self.PRESETS[self.arch]
        for name in ("latent", "loss", "dataset", "epochs", "lr", "batch_size", "optimizer"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, getattr(preset, name))
        checks = [
            (self.loss in preset.losses, f"--loss '{self.loss}' does not suit --arch {self.arch}; choose one of {', '.join(preset.losses)}"),
            (self.dataset in DATASETS, f"unknown --dataset '{self.dataset}'; choose one of {', '.join(DATASETS)}"),
            (self.optimizer in OPTIMIZERS, f"unknown --optimizer '{self.optimizer}'; choose adam or sgd"),
            (self.latent >= 1, f"--latent must be at least 1, got {self.latent}"),
            (self.epochs >= 0, f"--epochs must be 0 or more, got {self.epochs}"),
            (self.lr > 0, f"--lr must be positive, got {self.lr}"),
            (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
            (self.noise >= 0, f"--noise must be 0 or more, got {self.noise}"),
        ]
        for ok, message in checks:
            if not ok:
                raise NnlabError(message)


@dataclass(frozen=True)
class AEConfig(AutoencoderConfig):
    """`nnlab ae`: a dense autoencoder."""

    PRESETS: ClassVar[dict[str, Preset]] = AE_PRESETS
    arch: str = "mlp4"
    widths: tuple[int, ...] | None = None  # encoder widths from the input, e.g. (784, 256, 64)

    def __post_init__(self):
        super().__post_init__()
        if self.widths is not None:
            if not self.widths or self.widths[0] != IMAGE_SIZE or min(self.widths) < 1:
                raise NnlabError(f"--widths must start at {IMAGE_SIZE} (the pixels of a 28x28 image) "
                                 f"and list positive sizes, e.g. 784,256,64; got {','.join(map(str, self.widths))}")


@dataclass(frozen=True)
class CAEConfig(AutoencoderConfig):
    """`nnlab cae`: a convolutional autoencoder."""

    PRESETS: ClassVar[dict[str, Preset]] = CAE_PRESETS
    arch: str = "pool"
    skip: bool = False  # pool only: add each pooling output to its upsampling stage's input

    def __post_init__(self):
        super().__post_init__()
        if self.skip and self.arch != "pool":
            raise NnlabError(f"--skip applies to --arch pool only, not {self.arch}")
        if self.noise and self.arch == "generative":
            raise NnlabError("--noise does not apply to --arch generative: it already adds noise to z, "
                             "and its loss compares the output with the input it was given")


CONFIGS: dict[str, type[AutoencoderConfig]] = {"ae": AEConfig, "cae": CAEConfig}


def config_from_run(command: str, values: dict[str, Any]) -> AutoencoderConfig:
    """Rebuild the config a saved `ae`/`cae` run recorded in its run.json."""
    if command not in CONFIGS:
        raise NnlabError(f"that run is a `{command}` run; this needs an `ae` or `cae` run")
    cls = CONFIGS[command]
    known = {f.name for f in fields(cls)}
    values = {k: (tuple(v) if k == "widths" and v is not None else v) for k, v in values.items() if k in known}
    return cls(**values)


# ---- model, loss and optimizer ------------------------------------------------------------

def build_model(config: AutoencoderConfig) -> Autoencoder:
    """The untrained model `config` describes."""
    if isinstance(config, AEConfig):
        spec = DENSE_PRESETS[config.arch]
        return DenseAutoencoder(replace(spec, latent=config.latent, widths=config.widths or spec.widths))
    builders: dict[str, Callable[[], Autoencoder]] = {
        "pool": lambda: PoolCAE(config.latent, skip=config.skip),
        "strided": lambda: StridedCAE(config.latent),
        "generative": lambda: GenerativeAE(config.latent),
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


# ---- the run ------------------------------------------------------------------------------

def load_data(config: AutoencoderConfig, device: torch.device, recorder: Recorder) -> Dataset:
    """Load the configured dataset onto `device`, warning loudly about a fallback."""
    data = load_dataset(config.dataset, config.data_dir, device=device, fallback=config.fallback)
    if data.fallback_reason:
        recorder.warn(f"MNIST cannot be had: {data.fallback_reason}\n"
                      "Using the embedded 'digits' dataset (scikit-learn's 8x8 digits at 28x28) instead.")
    recorder.update_run(dataset=data.name, data_source=data.source, fallback_reason=data.fallback_reason)
    return data


def run(config: AutoencoderConfig, recorder: Recorder) -> dict:
    """Train the autoencoder, save it, and report reconstructions, latent space and samples."""
    device = resolve_device(config.device)
    generator = seed_everything(config.seed)
    data = load_data(config, device, recorder)
    recorder.info(f"{data.name}: {len(data.train):,} training and {len(data.test):,} test images on {device}")
    model = build_model(config).to(device)
    params = show_summary(config, recorder, model, device)

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
    recorder.summary({k: v for k, v in result.items() if isinstance(v, (int, float, str))})
    return result
