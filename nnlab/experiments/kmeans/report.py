"""What a k-means run shows and saves: centre images, the network-vs-Lloyd table, and why centres died."""

from __future__ import annotations

import torch

from nnlab.core.figures import image_grid, save_images
from nnlab.experiments.clustering import Clustering
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
