"""`nnlab ae corrupt-demo`: corrupt a 2-D curve, plot it, and train a denoising autoencoder to undo it."""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from nnlab.core.data import Batches, Split
from nnlab.core.device import one_thread
from nnlab.core.train import fit
from nnlab.experiments.base import Setup, prepare
from nnlab.experiments.corruption.config import CorruptConfig
from nnlab.experiments.corruption.corrupt import Corruption
from nnlab.experiments.corruption.figures import save_corrections, save_corruption
from nnlab.experiments.corruption.manifolds import DESCRIPTIONS, distance_to_curve, sample
from nnlab.runs.recorder import Recorder
from nnlab.tools.init_schemes import init_linear_

EVAL_POINTS = 500  # shown in the figures and measured; not trained on
_MEAN = ("trained with MSE, a denoiser returns E\\[x | x̃], the mean of the clean points that could have "
         "produced x̃; ")
AMBIGUOUS = {  # why these two need not land on the curve
    "masking": _MEAN + "a zeroed coordinate fits several points of the curve, so that mean lies between them, off it",
    "salt-pepper": _MEAN + "a coordinate pinned to its min or max fits several points of the curve, and an intact "
                   "point may be taken for a hit, so that mean lies between candidates, off the curve",
}


def denoiser(hidden: int) -> nn.Sequential:
    """2 → hidden → hidden → 2 with ReLU: a small MLP that maps x̃ back toward x."""
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def _as_is(points: torch.Tensor) -> torch.Tensor:
    return points  # the points are float already: no uint8 scaling


def train_denoiser(config: CorruptConfig, clean: torch.Tensor, corruption: Corruption, recorder: Recorder,
                   generator: torch.Generator) -> tuple[nn.Module, float]:
    """Fit the DAE to map fresh corruptions of the clean points back to them; returns it and the last loss."""
    model = denoiser(config.hidden)
    weights = torch.Generator().manual_seed(config.seed)
    for layer in model:
        if isinstance(layer, nn.Linear):
            init_linear_(layer, "default", generator=weights)  # PyTorch's own init, from a seeded stream
    noise = torch.Generator().manual_seed(config.seed + 1)  # its own stream: the data order stays the same
    mse = nn.MSELoss()

    def objective(net, x, _labels):
        return mse(net(corruption(x, noise)), x), {}  # (B, 2) -> (B, 2) against the clean points

    train = Batches(Split(clean, torch.zeros(len(clean), dtype=torch.long)), config.batch_size,
                    generator=generator, transform=_as_is)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    with one_thread():
        history = fit(model, optimizer, objective, train, epochs=config.epochs, recorder=recorder,
                      log_every=max(1, len(train) // 2))
    return model, history[-1].train["loss"]


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def run(config: CorruptConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """The assignment's plot, then (with --dae) the denoiser's corrections and how much closer they are."""
    setup = prepare(config, recorder, setup)
    generator = setup.generator
    clean_train = sample(config.data, config.points, generator)
    clean = sample(config.data, EVAL_POINTS, generator)
    lo, hi = clean_train.min(0).values, clean_train.max(0).values
    corruption = Corruption(config.corruption, config.sigma, lo, hi)
    noisy = corruption(clean, generator)
    changed = (noisy != clean).any(dim=1).numpy()
    recorder.info(f"data: {DESCRIPTIONS[config.data]}; {config.points:,} training points, {EVAL_POINTS} shown")
    recorder.info(f"corruption C(x̃|x): {corruption.formula()}")
    path, image = save_corruption(recorder.artifact("corruption.png"), config.data, clean.numpy(), noisy.numpy(),
                                  f"{config.corruption}, σ = {config.sigma:g}", corruption.formula())
    recorder.image(image, title="original (left) and corrupted (right)", path=path)
    d_noisy = distance_to_curve(noisy.numpy(), config.data)
    result = {"data": config.data, "corruption": config.corruption, "sigma": config.sigma,
              "formula": corruption.formula(), "eval_points": EVAL_POINTS,
              "changed_share": float(changed.mean()), "mean_distance_corrupted": float(d_noisy.mean())}
    if not config.dae:
        recorder.summary({"mean_distance_corrupted": result["mean_distance_corrupted"]})
        return result

    start = time.perf_counter()
    model, loss = train_denoiser(config, clean_train, corruption, recorder, generator)
    seconds = time.perf_counter() - start
    torch.save(model.state_dict(), recorder.artifact("dae.pt"))
    with torch.no_grad():
        reconstructed = model(noisy).numpy()
        through = model(clean).numpy()  # what the DAE does to points already on the curve
    d_recon = distance_to_curve(reconstructed, config.data)
    d_through = distance_to_curve(through, config.data)
    ratio = float(d_recon.mean() / d_noisy.mean()) if d_noisy.mean() > 0 else None
    rows = [["corrupted x̃", d_noisy.mean(), _mean(d_noisy[changed]), float(np.median(d_noisy))],
            ["reconstruction f(x̃)", d_recon.mean(), _mean(d_recon[changed]), float(np.median(d_recon))],
            ["clean x through the DAE, f(x)", d_through.mean(), _mean(d_through[changed]), float(np.median(d_through))]]
    recorder.table(f"distance to the clean curve ({EVAL_POINTS} held-out points)",
                   ["points", "mean", "mean, corrupted ones", "median"],
                   [[r[0]] + [_fmt(v) for v in r[1:]] for r in rows],
                   caption=f"{changed.mean():.0%} of the points were changed by the corruption")
    verdict = _verdict(ratio, float(d_noisy.mean()), float(d_recon.mean()))
    recorder.info(verdict)
    if config.corruption in AMBIGUOUS:
        recorder.info(AMBIGUOUS[config.corruption])
    title = f"denoising AE ({config.corruption}, σ = {config.sigma:g}): {verdict}"
    path, image = save_corrections(recorder.artifact("dae_corrections.png"), config.data, noisy.numpy(),
                                   reconstructed, changed, title, config.seed)
    recorder.image(image, title="arrows: corrupted point → its reconstruction", path=path)
    summary = {"distance_ratio": ratio, "mean_distance_corrupted": float(d_noisy.mean()),
               "mean_distance_reconstructed": float(d_recon.mean()), "train_loss": loss, "train_seconds": seconds}
    recorder.summary(summary)
    return result | summary | {"mean_distance_clean_through_dae": float(d_through.mean()),
                               "mean_distance_corrupted_changed": _mean(d_noisy[changed]),
                               "mean_distance_reconstructed_changed": _mean(d_recon[changed])}


def _verdict(ratio: float | None, before: float, after: float) -> str:
    """One line: how much closer (or farther) the reconstructions are than the corrupted points."""
    if ratio is None:
        return "no corrupted point left the curve"
    change = f"mean distance {before:.4f} → {after:.4f}"
    if ratio < 1:
        return f"the DAE brings points {1 / ratio:.2f}× closer to the curve ({change})"
    return f"the DAE leaves points {ratio:.2f}× farther from the curve on average ({change})"


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"
