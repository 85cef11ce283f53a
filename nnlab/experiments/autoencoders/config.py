"""Settings of `nnlab ae`, `nnlab cae`, `ae cluster` and `cae generate`, each declared once (no torch here).

Each architecture is a preset whose defaults are its seed's values (see Preset); any flag
left unset takes the preset's value, and the resolved values are what run.json records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from nnlab import experiments
from nnlab.errors import NnlabError
from nnlab.experiments.base import (MAX_BATCH, MAX_EPOCHS, CommonConfig, OnDevice, Seeded, Shown,
                                    data_dir_option, dataset_option, option)

LOSSES = ("mse", "l1", "bce")
OPTIMIZERS = ("adam", "sgd")
IMAGE_SIZE = 28 * 28  # the pixels of the 28x28 images every preset reads
MAX_LATENT = 4096
MAX_WIDTH = 16_384  # a layer of 16k units on 784 inputs is 12.8M weights: large, not terabytes
PRESET = "preset's value"  # shown as the default of options the --arch preset fills in
GENERATIVE_ENCODERS = ("mirror", "strided")  # as nnlab.core.models.conv_autoencoders (no torch here)
MAPPINGS = ("both", "greedy", "hungarian")
SAMPLES = {"strided": 9}  # the denoising report's part (c) decodes 9 random z; generators show 20
DEFAULT_SAMPLES = 20


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
    noise: float = 0.0  # σ of the Gaussian noise on training and test inputs (denoising)


AE_PRESETS = {
    "mlp4": Preset(2, "mse", "mnist", 10, 1e-3, 128, "adam"),
    "shallow": Preset(64, "mse", "fashion-mnist", 20, 1e-3, 128, "adam"),
    "funnel": Preset(2, "l1", "mnist", 10, 1e-3, 128, "adam", ("mse", "l1")),  # ReLU output: no BCE
    # cnn-ae-cae P5.3: MSE, the loss PCA minimises; K = --latent, 8 unless given
    "linear": Preset(8, "mse", "mnist", 10, 1e-3, 128, "adam", ("mse",)),
}
CAE_PRESETS = {
    "pool": Preset(2, "mse", "mnist", 10, 1e-3, 128, "adam"),
    # the denoising report trains on noisy inputs but says only "arbitrary noise": σ = 0.3 is assumed,
    # the course's value (cnn-ae-cae 6.3)
    "strided": Preset(4, "mse", "mnist", 10, 1e-3, 128, "adam", noise=0.3),
    # adam-ae Q2.2: as the dense funnel (ReLU output: no BCE); its figure 3 is missing, see FunnelCAE
    "funnel": Preset(2, "l1", "mnist", 10, 1e-3, 128, "adam", ("mse", "l1")),
    # MSE of concat(z, f − x) against zeros; batch 64, SGD at lr 0.1 (the seed's values)
    "generative": Preset(10, "mse", "mnist", 10, 0.1, 64, "sgd", ("mse",)),
    # the better generator: reconstruction (summed over pixels) + KL, per image
    "vae": Preset(10, "bce", "mnist", 10, 1e-3, 128, "adam", ("bce", "mse")),
}


@dataclass(frozen=True, kw_only=True)
class AutoencoderConfig(CommonConfig):
    """Settings shared by `ae` and `cae`; None means "the architecture's preset value"."""

    PRESETS: ClassVar[dict[str, Preset]] = {}
    arch: str = ""
    latent: int | None = option(None, "Size of the embedding z (λ).", min=1, max=MAX_LATENT, default_text=PRESET)
    loss: str | None = option(None, "mse, l1 or bce.", choices=LOSSES, default_text=PRESET)
    dataset: str | None = dataset_option(None, default_text=PRESET)
    epochs: int | None = option(None, "Passes over the training set.", min=0, max=MAX_EPOCHS, default_text=PRESET)
    lr: float | None = option(None, "Learning rate.", min=0, min_open=True, max=100, default_text=PRESET)
    batch_size: int | None = option(None, "Mini-batch size.", min=1, max=MAX_BATCH, default_text=PRESET)
    optimizer: str | None = option(None, "adam or sgd.", choices=OPTIMIZERS, default_text=PRESET)
    # std of Gaussian noise added to every training and test input (denoising)
    noise: float | None = option(None, "Denoising: train (and test) on x + N(0, noise²); 0 turns it off. strided: "
                                 "0.3 (the denoising report trains on 'arbitrary noise'; σ = 0.3 is assumed, "
                                 "cnn-ae-cae 6.3's value), else 0.", min=0, max=10, default_text=PRESET)
    summary: bool = option(False, "Print the model summary table and exit without training.", action=True)

    def __post_init__(self) -> None:
        if self.arch not in self.PRESETS:
            raise NnlabError(f"unknown --arch '{self.arch}'; choose one of {', '.join(self.PRESETS)}")
        preset = self.PRESETS[self.arch]
        for name in ("latent", "loss", "dataset", "epochs", "lr", "batch_size", "optimizer", "noise"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, getattr(preset, name))
        super().__post_init__()

    def check(self) -> None:
        preset = self.PRESETS[self.arch]
        if self.loss not in preset.losses:
            raise NnlabError(f"--loss '{self.loss}' does not suit --arch {self.arch}; "
                             f"choose one of {', '.join(preset.losses)}")


@dataclass(frozen=True, kw_only=True)
class AEConfig(AutoencoderConfig):
    """Train a dense autoencoder; show reconstructions, the latent space and the decoded mean code.

    Prints the model summary, per-epoch losses, test originals above their reconstructions,
    the 2-D latent scatter coloured by label (PCA when wider) and the decoded mean latent;
    saves those figures, the loss curve and the state dict in the run.
    """

    PRESETS: ClassVar[dict[str, Preset]] = AE_PRESETS
    arch: str = option("mlp4", "mlp4 (4 Linear+ReLU to 2-D, linear embedding), shallow (784-128-64, Fashion-MNIST, "
                       "20 epochs), funnel (784-196-49-λ, ReLU everywhere, L1), linear (784-K-784, no "
                       "activation, MSE; beside PCA with K components: test MSE, principal angles).")
    # encoder widths from the input, e.g. (784, 256, 64); the decoder mirrors them
    widths: tuple[int, ...] | None = option(None, "Custom encoder widths from the input, e.g. 784,256,64 (decoder "
                                            "mirrored; the preset's activations).", min=1, max=MAX_WIDTH,
                                            max_items=16, example="784,256,64")

    def check(self) -> None:
        super().check()
        if self.widths is not None and (not self.widths or self.widths[0] != IMAGE_SIZE):
            raise NnlabError(f"--widths must start at {IMAGE_SIZE} (the pixels of a 28x28 image) "
                             f"and list positive sizes, e.g. 784,256,64; got {','.join(map(str, self.widths))}")
        if self.arch == "linear" and self.widths is None and self.latent > IMAGE_SIZE:
            raise NnlabError(f"--latent must be at most {IMAGE_SIZE} with --arch linear (PCA has one component "
                             f"per pixel of a 28x28 image), got {self.latent}")


@dataclass(frozen=True, kw_only=True)
class CAEConfig(AutoencoderConfig):
    """Train a convolutional autoencoder (with --skip, --noise 0.3 for denoising, or a generator).

    Prints and saves what `nnlab ae` does; with --noise the comparison has three rows
    (corrupted input, reconstruction, clean original); generative archs also show 20 samples.
    """

    PRESETS: ClassVar[dict[str, Preset]] = CAE_PRESETS
    arch: str = option("pool", "pool (2 conv+pool, 2-D z), strided (stride-2 convs, transposed-conv decoder), "
                       "funnel (the conv λ funnel of adam-ae Q2.2, whose figure is missing; assumed: conv 1→16→32 "
                       "k3 s2 (28→14→7: 196 and 49 pixels a map, the dense funnel's widths), "
                       "conv 32→λ k7 (7→1) "
                       "as the bottleneck, mirrored by transposed convs; ReLU everywhere, L1, Adam), "
                       "generative (noisy z, MSE vs zeros, SGD 0.1), vae (the better generator).")
    # pool only: add each pooling output to its upsampling stage's input
    skip: bool = option(False, "pool only: skip connections from each pooling stage to its upsampling stage.",
                        negatable=False)
    # generative only: the seed's "CNN from HW6 Q3" is not in the seeds, so its encoder is assumed
    encoder: str | None = option(None, "generative only: mirror (assumed, as the seed's HW6 Q3 CNN is missing: the "
                                 "decoder's exact mirror, conv 1→20 k4 (28→25), conv 20→20 k4 s2 p1 (25→12), "
                                 "max-pool 2 (→20x6x6 = 720), FC 720→360→10) or strided (the denoising "
                                 "report's).",
                                 choices=GENERATIVE_ENCODERS, default_text="mirror")

    def __post_init__(self) -> None:
        if self.arch == "generative" and self.encoder is None:
            object.__setattr__(self, "encoder", "mirror")  # recorded explicitly in run.json
        super().__post_init__()

    def check(self) -> None:
        super().check()
        if self.skip and self.arch != "pool":
            raise NnlabError(f"--skip applies to --arch pool only, not {self.arch}")
        if self.encoder is not None and self.arch != "generative":
            raise NnlabError(f"--encoder applies to --arch generative only, not {self.arch}")
        if self.noise and self.arch == "generative":
            raise NnlabError("--noise does not apply to --arch generative: it already adds noise to z, "
                             "and its loss compares the output with the input it was given")


CONFIGS: dict[str, type[AutoencoderConfig]] = {"ae": AEConfig, "cae": CAEConfig}


def sample_count(arch: str, asked: int | None = None) -> int:
    """How many samples to draw from a model of `arch`: what was asked, else the seed's count."""
    return asked or SAMPLES.get(arch, DEFAULT_SAMPLES)


def config_from_run(command: str, values: dict[str, Any]) -> AutoencoderConfig:
    """Rebuild the config a saved `ae`/`cae` run recorded in its run.json (fields it no longer has are ignored)."""
    if command not in CONFIGS:
        raise NnlabError(f"that run is a `{command}` run; this needs an `ae` or `cae` run")
    if command == "cae" and values.get("arch") == "generative" and "encoder" not in values:
        values = {**values, "encoder": "strided"}  # recorded before --encoder existed: the strided one
    return experiments.config_from_run(command, values, strict=False)


@dataclass(frozen=True, kw_only=True)
class ClusterConfig(Seeded, OnDevice):
    """k-means on a trained autoencoder's training embeddings, scored against the labels.

    Prints the class-by-cluster table with the mapping highlighted, and accuracy (as-is, after
    the denoising report's greedy centroid mapping and after the Hungarian one) and NMI beside
    k-means on the raw pixels.
    """

    run: str = option(help="An ae or cae run: id, unique part of it, path, or `latest`.", argument=True)
    k: int = option(10, "Number of k-means clusters.", min=2, max=256)
    raw: bool = option(True, "Also run k-means on the raw pixels, for comparison.")
    mapping: str = option("both", "Clusters to classes: greedy (the denoising report's: each cluster to the nearest "
                          "class centroid, a clash settled by the nearest free centroid), hungarian (the optimal "
                          "one-to-one map) or both, on the same clustering.", choices=MAPPINGS)
    data_dir: str | None = data_dir_option("Dataset folder \\[default: the one the run trained from].")


@dataclass(frozen=True, kw_only=True)
class GenerateConfig(Seeded, OnDevice, Shown):
    """Sample saved generators side by side (generative: enc_mode=0 as the seed asks; vae and strided: z ~ N(0, I)).

    Shows each run's samples in the terminal and saves one PNG per run plus one with all of them.
    """

    runs: tuple[str, ...] = option(help="One or more generative or vae runs (id, unique part, path, `latest`).",
                                   argument=True)
    n: int | None = option(None, "Samples per run.", min=1, max=400,
                           default_text=f"{DEFAULT_SAMPLES}; 9 for strided, the denoising report's part (c)")

    def check(self) -> None:
        if not self.runs:
            raise NnlabError("name at least one run to sample from")
