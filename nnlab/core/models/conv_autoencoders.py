"""Convolutional autoencoders from the seeds: pooling (with optional skips), strided, the
convolutional λ funnel, the noisy-latent generative one, and a VAE as its better-generating variant.

Every model keeps its encoder as one `nn.Sequential` named `encoder` whose leaves run in
order, so `nnlab receptive` can walk it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from nnlab.core.models.autoencoders import Autoencoder


# ---- cnn-ae-cae problem 6: pooling CAE, optionally with skip connections -----------------

class PoolCAE(Autoencoder):
    """conv 1→4, pool, conv 4→8, pool, Linear 392→20→latent; a mirrored decoder that upsamples.

    With `skip`, each pooling stage's output is added to the input of the upsampling stage
    that undoes it (8x7x7 before the first upsampling, 4x14x14 before the second).
    """

    def __init__(self, latent: int = 2, skip: bool = False):
        super().__init__()
        self.latent_dim = latent
        self.skip = skip
        self.encoder = nn.Sequential(
            nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2)),
            nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, 2)),
            nn.Sequential(nn.Flatten(), nn.Linear(8 * 7 * 7, 20), nn.ReLU(), nn.Linear(20, latent)),
        )
        self.decoder = nn.Sequential(
            nn.Sequential(nn.Linear(latent, 20), nn.ReLU(), nn.Linear(20, 8 * 7 * 7), nn.ReLU(),
                          nn.Unflatten(1, (8, 7, 7))),
            nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(8, 4, 3, padding=1), nn.ReLU()),
            nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(4, 1, 3, padding=1), nn.Sigmoid()),
        )

    def codes(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        pooled1 = self.encoder[0](x)  # (B, 1, 28, 28) -> (B, 4, 14, 14)
        pooled2 = self.encoder[1](pooled1)  # -> (B, 8, 7, 7)
        z = self.encoder[2](pooled2)  # (B, 392) -> (B, 20) -> (B, latent)
        return (z, pooled1, pooled2) if self.skip else (z,)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, z: torch.Tensor, *extra: torch.Tensor) -> torch.Tensor:
        """Without the skip maps (e.g. decoding a sampled z) the skips contribute nothing."""
        pooled1, pooled2 = extra if extra else (None, None)
        h = self.decoder[0](z)  # (B, latent) -> (B, 392) -> (B, 8, 7, 7)
        if pooled2 is not None:
            h = h + pooled2
        h = self.decoder[1](h)  # -> (B, 8, 14, 14) -> (B, 4, 14, 14)
        if pooled1 is not None:
            h = h + pooled1
        return self.decoder[2](h)  # -> (B, 4, 28, 28) -> (B, 1, 28, 28)


# ---- denoising-ae report: strided conv encoder, transposed-conv decoder ------------------

def strided_encoder(out: int) -> nn.Sequential:
    """conv 1→8→16→32 (k3, stride 2), flatten 288, Linear →128 →out (the report's encoder)."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),  # -> (B, 8, 14, 14)
        nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),  # -> (B, 16, 7, 7)
        nn.Conv2d(16, 32, 3, stride=2, padding=0), nn.ReLU(),  # -> (B, 32, 3, 3)
        nn.Flatten(), nn.Linear(32 * 3 * 3, 128), nn.ReLU(), nn.Linear(128, out),
    )


def strided_decoder(latent: int) -> nn.Sequential:
    """Linear latent→128→288, unflatten 32x3x3, three transposed convs (BN+ReLU between) to 28x28."""
    return nn.Sequential(
        nn.Linear(latent, 128), nn.ReLU(), nn.Linear(128, 32 * 3 * 3), nn.ReLU(),
        nn.Unflatten(1, (32, 3, 3)),
        nn.ConvTranspose2d(32, 16, 3, stride=2), nn.BatchNorm2d(16), nn.ReLU(),  # -> (B, 16, 7, 7)
        nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(8), nn.ReLU(),  # 14x14
        nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid(),  # -> (B, 1, 28, 28)
    )


class StridedCAE(Autoencoder):
    """The denoising report's autoencoder (its encoded space had 4 dimensions)."""

    can_sample = True  # the report's part (c) decodes random z, though nothing shapes z toward N(0, I)

    def __init__(self, latent: int = 4):
        super().__init__()
        self.latent_dim = latent
        self.encoder = strided_encoder(latent)
        self.decoder = strided_decoder(latent)

    def sample(self, n: int) -> torch.Tensor:
        """Decode z ~ N(0, I), as the report's part (c) does."""
        device = next(self.parameters()).device
        return self.decoder(torch.randn(n, self.latent_dim, device=device))


# ---- adam-ae question 2.2: the convolutional λ funnel --------------------------------------

class FunnelCAE(Autoencoder):
    """The convolutional counterpart of the dense funnel 784→196→49→λ (the seed's figure 3 is missing).

    Assumed: each stride-2 conv halves the side, so one channel's map holds 14·14 = 196 then
    7·7 = 49 pixels, the dense funnel's widths; a 7x7 conv with λ filters is the λ-wide
    bottleneck; the decoder mirrors every conv with a transposed conv. 16 and 32 channels;
    ReLU after every layer, the embedding and the output included, as in the dense funnel.
    """

    def __init__(self, latent: int = 2, channels: tuple[int, int] = (16, 32)):
        super().__init__()
        self.latent_dim = latent
        c1, c2 = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(),  # (B, 1, 28, 28) -> (B, c1, 14, 14)
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),  # -> (B, c2, 7, 7)
            nn.Conv2d(c2, latent, 7), nn.ReLU(),  # -> (B, λ, 1, 1)
            nn.Flatten(),  # -> (B, λ)
        )
        self.decoder = nn.Sequential(
            nn.Unflatten(1, (latent, 1, 1)),  # (B, λ) -> (B, λ, 1, 1)
            nn.ConvTranspose2d(latent, c2, 7), nn.ReLU(),  # -> (B, c2, 7, 7)
            nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # -> (B, c1, 14, 14)
            nn.ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # -> (B, 1, 28, 28)
        )


# ---- kmeans-and-generative-ae question 2: noise added to z before decoding ---------------

def _relu_bn_drop(features: int, p: float, conv: bool) -> list[nn.Module]:
    """ReLU, then batch norm and dropout: the seed puts both after every ReLU."""
    norm = nn.BatchNorm2d(features) if conv else nn.BatchNorm1d(features)
    return [nn.ReLU(), norm, nn.Dropout(p)]


@dataclass(frozen=True)
class Stage:
    """Consecutive leaves of an encoder or decoder `nn.Sequential` that the seed names as one stage."""

    label: str  # e.g. "conv 1→20 k4"
    leaves: int  # how many leaf modules it spans (a conv with its ReLU, batch norm and dropout: 4)


def mirror_encoder(latent: int, p: float) -> tuple[nn.Sequential, list[Stage]]:
    """The exact mirror of the seed's decoder (assumed: HW6 Q3's CNN is not in the seeds), and its stages.

    conv 1→20 k4 (28→25); conv 20→20 k4 s2 p1 (25→12); max-pool 2 (→ 20x6x6 = 720); FC 720→360→latent.
    """
    encoder = nn.Sequential(
        nn.Conv2d(1, 20, 4), *_relu_bn_drop(20, p, True),  # (B, 1, 28, 28) -> (B, 20, 25, 25)
        nn.Conv2d(20, 20, 4, stride=2, padding=1), *_relu_bn_drop(20, p, True),  # -> (B, 20, 12, 12)
        nn.MaxPool2d(2),  # -> (B, 20, 6, 6)
        nn.Flatten(),  # -> (B, 720)
        nn.Linear(720, 360), *_relu_bn_drop(360, p, False),  # -> (B, 360)
        nn.Linear(360, latent),  # -> (B, latent)
    )
    stages = [Stage("conv 1→20 k4", 4), Stage("conv 20→20 k4 s2 p1", 4), Stage("max-pool 2", 1),
              Stage("flatten", 1), Stage("FC 720→360", 4), Stage(f"FC 360→{latent}", 1)]
    return encoder, stages


def strided_generative_encoder(latent: int, p: float) -> nn.Sequential:
    """The denoising report's strided encoder with ReLU, batch norm and dropout (`--encoder strided`)."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1), *_relu_bn_drop(8, p, True),  # -> (B, 8, 14, 14)
        nn.Conv2d(8, 16, 3, stride=2, padding=1), *_relu_bn_drop(16, p, True),  # -> (B, 16, 7, 7)
        nn.Conv2d(16, 32, 3, stride=2, padding=0), *_relu_bn_drop(32, p, True),  # -> (B, 32, 3, 3)
        nn.Flatten(), nn.Linear(32 * 3 * 3, 128), *_relu_bn_drop(128, p, False),
        nn.Linear(128, latent),  # -> (B, latent)
    )


GENERATIVE_ENCODERS = ("mirror", "strided")


class GenerativeAE(Autoencoder):
    """An encoder ending in z; decoder FC 10→360→720, 20x6x6, bicubic x2, two transposed convs.

    `encoder="mirror"` (default) is the decoder's exact mirror (see `mirror_encoder`), whose
    stages pair one to one with the decoder's: `pairs` lists (encoder stage, decoder stage that
    inverts it). `encoder="strided"` is the denoising report's encoder, nnlab's earlier choice.
    Paddings (the seed leaves them open): the first transposed conv pads 1, so 12 -> 25
    ((12−1)·2 − 2 + 4 + 1); the last pads 0, so 25 -> 28 ((25−1) + 4).
    `forward(x, enc_mode)` returns concat(z, flatten(f) − flatten(x)), trained by MSE
    against zeros: the mean square of embedding plus reconstruction error.
    """

    can_sample = True

    def __init__(self, latent: int = 10, dropout: float = 0.1, encoder: str = "mirror"):
        super().__init__()
        self.latent_dim = latent
        self.encoder_kind = encoder
        if encoder == "mirror":
            self.encoder, self.encoder_stages = mirror_encoder(latent, dropout)
        elif encoder == "strided":
            self.encoder, self.encoder_stages = strided_generative_encoder(latent, dropout), []
        else:
            raise ValueError(f"unknown generative encoder {encoder!r}; one of {GENERATIVE_ENCODERS}")
        self.decoder = nn.Sequential(
            nn.Linear(latent, 360), *_relu_bn_drop(360, dropout, False),
            nn.Linear(360, 720), *_relu_bn_drop(720, dropout, False),
            nn.Unflatten(1, (20, 6, 6)),  # (B, 720) -> (B, 20, 6, 6)
            nn.Upsample(scale_factor=2, mode="bicubic"),  # -> (B, 20, 12, 12)
            nn.ConvTranspose2d(20, 20, 4, stride=2, padding=1, output_padding=1),  # -> (B, 20, 25, 25)
            *_relu_bn_drop(20, dropout, True),
            nn.ConvTranspose2d(20, 1, 4, stride=1, padding=0), nn.Sigmoid(),  # -> (B, 1, 28, 28)
        )
        self.decoder_stages = [Stage(f"FC {latent}→360", 4), Stage("FC 360→720", 4), Stage("unflatten 20x6x6", 1),
                               Stage("bicubic upsample x2", 1), Stage("convT 20→20 k4 s2 p1 op1", 4),
                               Stage("convT 20→1 k4, sigmoid", 2)]

    @property
    def pairs(self) -> list[tuple[int, int]]:
        """(encoder stage, decoder stage that inverts it): nested, the last encoder stage with the first
        decoder stage; empty for the strided encoder, which mirrors nothing."""
        n = len(self.encoder_stages)
        return [(i, n - 1 - i) for i in range(n)]

    def forward(self, x: torch.Tensor, enc_mode: int = 1) -> torch.Tensor:
        z = self.encoder(x)  # (B, 1, 28, 28) -> (B, latent)
        # enc_mode 1: z plus unit noise; enc_mode 0: z replaced by noise (std 2, as the seed writes it)
        z2 = enc_mode * z + (2 - enc_mode) * torch.randn_like(z)
        f = self.decoder(z2)  # (B, latent) -> (B, 1, 28, 28)
        return torch.cat((z, f.flatten(1) - x.flatten(1)), dim=1)  # (B, latent + 784)

    def sample(self, n: int) -> torch.Tensor:
        """The seed's recipe: forward(enc_mode=0) on blank inputs, keep the entries after z."""
        device = next(self.parameters()).device
        blank = torch.zeros(n, 1, 28, 28, device=device)  # x = 0, so f − x is f itself
        out = self(blank, enc_mode=0)  # (n, latent + 784)
        return out[:, self.latent_dim:].reshape(n, 1, 28, 28)


# ---- the better generator: a variational autoencoder --------------------------------------

class ConvVAE(Autoencoder):
    """The strided encoder predicting a Gaussian q(z|x) (mean, log-variance), the strided decoder.

    Trained on reconstruction plus KL(q(z|x) ‖ N(0, I)), so z ~ N(0, I) decodes to digits.
    """

    can_sample = True

    def __init__(self, latent: int = 10):
        super().__init__()
        self.latent_dim = latent
        self.encoder = strided_encoder(2 * latent)
        self.decoder = strided_decoder(latent)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log-variance of q(z|x), each (B, latent)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)  # (B, 2·latent) -> 2 x (B, latent)
        return mu, logvar

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.posterior(x)[0]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.posterior(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()  # reparameterised sample of q(z|x)
        return self.decoder(z), mu, logvar  # (B, 1, 28, 28), (B, latent), (B, latent)

    def sample(self, n: int) -> torch.Tensor:
        """Decode z ~ N(0, I)."""
        device = next(self.parameters()).device
        z = torch.randn(n, self.latent_dim, device=device)
        return self.decoder(z)

