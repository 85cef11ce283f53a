"""What a k-means run shows and saves: step sizes, centre images, the network-vs-Lloyd table, why centres died."""

from __future__ import annotations

import torch

from nnlab.core.figures import image_grid, save_images
from nnlab.experiments.clustering import Clustering
from nnlab.experiments.kmeans.step import WHY_SMALLER, StepSizeMeter, predicted_alpha
from nnlab.runs.recorder import Recorder

_STARVED = ("Why: a centre that is nobody's nearest gets (almost) no softmax weight, so its gradient "
            "is ~0 and it never moves, while a few centres share all the data. ")
# why a centre starts out as nobody's nearest depends on where it started
WHY_DEAD = {
    "random": _STARVED + "Random pixels in [0,1] are far from every image (MNIST is mostly black), so the "
                         "centre with the smallest norm wins nearly everything from the start. Start from data "
                         "instead: --init samples or kmeans++.",
    "exemplar": _STARVED + "With --init exemplar every centre started as an image of its own digit, so this one "
                           "starved for another reason: it started from an atypical image (far from most of "
                           "its class), or its digit's cell was taken over by neighbouring centres (4, 7 and 9 "
                           "look alike). Another --seed picks other exemplars.",
    "samples": _STARVED + "With --init samples the centres started as random training images: two of one digit "
                          "compete for the same cell and one starves, while a digit with no image among them "
                          "is shared by its neighbours. --init kmeans++ starts the centres spread out.",
    "kmeans++": _STARVED + "With --init kmeans++ the starting centres are spread out, but a start on an outlier "
                           "image can stay nobody's nearest. Another --seed picks other starts.",
}


def save_centers(recorder: Recorder, centers: torch.Tensor, name: str, title: str, show: bool) -> None:
    """Save the centres as a PNG of images; with `show`, draw them in the terminal too."""
    side = int(round(centers.shape[1] ** 0.5))
    images = centers.detach().cpu().reshape(-1, side, side).clamp(0, 1).numpy()
    save_images(recorder.artifact(name), images, titles=[f"centre {j}" for j in range(len(images))],
                ncols=min(10, len(images)), suptitle=title)
    if show:  # 5 per row keeps 28-pixel centres legible in a 100-column terminal
        recorder.image(image_grid(images, ncols=min(5, len(images)), pad=2, fill=0.35),
                       title=f"{title} (row by row: centre 0, 1, 2, …)")


def compare(recorder: Recorder, network: Clustering, reference: Clustering) -> None:
    """The network's clustering beside Lloyd's, metric by metric."""
    rows = [[metric, getattr(network, metric), getattr(reference, metric)]
            for metric in ("accuracy", "nmi", "inertia")]
    rows.append(["dead or collapsed centres", len(network.dead), len(reference.dead)])
    recorder.table("k-means network vs Lloyd (same initial centres)", ["metric", "network", "Lloyd"], rows,
                   caption="accuracy: Hungarian-matched; inertia: mean squared distance to the nearest centre")


def show_step_sizes(recorder: Recorder, meter: StepSizeMeter, dim: int) -> dict:
    """Each centre's measured α (last epoch) beside the seed's η/5 and the prediction for the reduction used."""
    if not meter.alphas:
        return {"effective_alpha": []}
    alphas, shares = meter.alphas[-1], meter.shares[-1]
    seed_alpha = meter.lr / 5
    uniform = predicted_alpha(meter.lr, 1 / meter.k, meter.reduction, dim)  # each centre 1/k of the batch
    rows = [[i, round(share, 4), "—" if alpha is None else f"{alpha:.3g}",
             f"{predicted_alpha(meter.lr, share, meter.reduction, dim):.3g}", f"{seed_alpha:.3g}"]
            for i, (alpha, share) in enumerate(zip(alphas, shares))]
    recorder.table(f"step size α of each centre, last epoch (--reduction {meter.reduction})",
                   ["centre", "share of a batch", "measured α", "2η·share" + ("/784" if meter.reduction == "pixel"
                                                                            else ""), "seed's η/5"], rows,
                   caption="measured: ‖ΔC_i‖ / ‖m_i − C_i‖ per step, m_i the softmax-weighted batch mean, "
                           "averaged over the epoch; — : the centre held no images")
    recorder.info(WHY_SMALLER if meter.reduction == "pixel" else
                  "--reduction image is the seed's derivation: α = 2η·share, η/5 when each centre holds 1/10 of a batch.")
    measured = [a for a in alphas if a is not None]
    if measured:
        recorder.info(f"mean measured α {sum(measured) / len(measured):.3g}; predicted {uniform:.3g} "
                      f"(η = {meter.lr:g}, 1/{meter.k} of a batch each); the seed's η/5 = {seed_alpha:.3g}")
    for epoch, values in enumerate(meter.alphas, start=1):
        known = [a for a in values if a is not None]
        if known:
            recorder.metric("effective_alpha_mean", sum(known) / len(known), epoch=epoch, split="train")
    return {"effective_alpha": alphas, "effective_alpha_per_epoch": meter.alphas, "batch_share": shares,
            "alpha_seed": seed_alpha, "alpha_predicted": uniform, "reduction": meter.reduction}
