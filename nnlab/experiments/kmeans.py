"""`nnlab kmeans`: k-means clustering of MNIST by a network trained with SGD (question 1).

The network's centres are compared with scikit-learn's Lloyd k-means started from the same
initial centres, so the user sees how close minibatch SGD gets to the exact algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from nnlab.core.data import Batches, Dataset, load_dataset, to_float
from nnlab.core.device import resolve_device, seed_everything
from nnlab.core.figures import image_grid, save_images, save_heatmap
from nnlab.core.metrics import contingency, hungarian_accuracy, hungarian_match, nearest_centers, nmi
from nnlab.core.models.kmeans import KMeansNet
from nnlab.core.train import fit
from nnlab.errors import NnlabError
from nnlab.runs.recorder import Recorder

INITS = ("exemplar", "random", "samples", "kmeans++")
INIT_ALIASES = {"cheat": "exemplar"}
DATASETS = ("mnist", "fashion-mnist", "digits")
DEAD_SHARE = 0.1  # a centre winning under 10% of an even share (N/k) is called dead
COINCIDE_RMS = 0.02  # centres closer than this per-pixel RMS distance count as one
MODE_COLLAPSE = ("Why: a centre that is nobody's nearest gets (almost) no softmax weight, so its gradient "
                 "is ~0 and it never moves, while a few centres share all the data. Random pixels in [0,1] "
                 "are far from every image (MNIST is mostly black), so the centre with the smallest norm "
                 "wins nearly everything from the start. Start from data instead: --init samples or kmeans++.")


@dataclass(frozen=True)
class KMeansConfig:
    """Settings of one k-means run; defaults are the assignment's."""

    k: int = 10
    lr: float = 4.5  # η; with batch 64 it balances bias and variance (see `nnlab kmeans eta`)
    batch_size: int = 64
    epochs: int = 10
    temperature: float = 20.0  # softmax sharpness: 20·score makes the softmax nearly an argmax
    init: str = "exemplar"  # the assignment's "cheat": centre i starts as an image of digit i
    dataset: str = "mnist"
    lloyd: bool = True  # also run scikit-learn's Lloyd k-means from the same start
    seed: int = 0
    device: str = "auto"
    data_dir: str | None = None
    fallback: bool = True  # use the embedded digits when MNIST cannot be had

    def __post_init__(self):
        object.__setattr__(self, "init", INIT_ALIASES.get(self.init, self.init))
        if self.init not in INITS:
            raise NnlabError(f"unknown --init '{self.init}'; choose one of exemplar (alias cheat), random, samples, kmeans++")
        if self.dataset not in DATASETS:
            raise NnlabError(f"unknown --dataset '{self.dataset}'; choose one of {', '.join(DATASETS)}")
        if self.k < 1:
            raise NnlabError(f"--k must be at least 1, got {self.k}")
        if self.batch_size < 1:
            raise NnlabError(f"--batch-size must be at least 1, got {self.batch_size}")
        if not self.lr > 0:
            raise NnlabError(f"--lr must be positive, got {self.lr}")
        if self.epochs < 0:
            raise NnlabError(f"--epochs must be 0 or more, got {self.epochs}")
        if not self.temperature > 0:
            raise NnlabError(f"--temperature must be positive, got {self.temperature}")


@dataclass
class Clustering:
    """How one set of centres partitions the training set."""

    table: np.ndarray  # (classes, k) counts
    sizes: list[int]
    accuracy: float  # Hungarian-matched
    nmi: float
    inertia: float  # mean squared distance to the nearest centre
    dead: list[str]  # collapsed or dead centres, each with the reason

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"table": self.table.tolist(), "total": int(self.table.sum()), "sizes": self.sizes,
                "accuracy": self.accuracy, "nmi": self.nmi, "inertia": self.inertia, "dead_centers": self.dead}


# ---- initial centres ---------------------------------------------------------------------

def initial_centers(config: KMeansConfig, data: Dataset, generator: torch.Generator) -> torch.Tensor:
    """(k, 784) float starting centres on the data's device, chosen by `config.init`."""
    images, labels = data.train.images, data.train.labels
    n, dim = len(images), images[0].numel()
    if config.init == "random":
        return torch.rand(config.k, dim, generator=generator).to(images.device)  # each pixel U[0, 1]
    if config.init == "samples":
        pick = torch.randperm(n, generator=generator)[:config.k].to(images.device)
        return to_float(images[pick]).reshape(config.k, dim)
    if config.init == "exemplar":
        picks = []
        cpu_labels = labels.cpu()
        for i in range(config.k):
            members = torch.nonzero(cpu_labels == i % len(data.classes)).flatten()
            picks.append(members[torch.randint(len(members), (1,), generator=generator)].item())
        return to_float(images[torch.tensor(picks, device=images.device)]).reshape(config.k, dim)
    from sklearn.cluster import kmeans_plusplus

    flat = to_float(images).reshape(n, dim).cpu().numpy()
    seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
    centers, _ = kmeans_plusplus(flat, config.k, random_state=seed)
    return torch.from_numpy(centers).to(images.device)


# ---- analysis ----------------------------------------------------------------------------

def analyse(centers: torch.Tensor, data: Dataset) -> Clustering:
    """Assign every training image to its nearest centre and measure the partition."""
    k = len(centers)
    points = to_float(data.train.images).reshape(len(data.train), -1)
    assigned, sq_dist = nearest_centers(points, centers)
    labels = data.train.labels.cpu().numpy()
    assigned_np = assigned.cpu().numpy()
    table = contingency(labels, assigned_np, len(data.classes), k)
    sizes = table.sum(0).tolist()
    return Clustering(table, sizes, hungarian_accuracy(table), nmi(labels, assigned_np),
                      float(sq_dist.mean()), collapsed_centers(centers, sizes))


def collapsed_centers(centers: torch.Tensor, sizes: list[int]) -> list[str]:
    """Name centres that win no or almost no images, and centres that coincide."""
    total, k = sum(sizes), len(sizes)
    notes = []
    for j, size in enumerate(sizes):
        if size == 0:
            notes.append(f"centre {j} wins no image (dead)")
        elif size < DEAD_SHARE * total / k:
            notes.append(f"centre {j} wins only {size} images ({100 * size / total:.2f}%): nearly dead")
    dim = centers.shape[1]
    dist = torch.cdist(centers, centers) / dim ** 0.5  # per-pixel RMS distance
    for i in range(k):
        for j in range(i + 1, k):
            if dist[i, j] < COINCIDE_RMS:
                notes.append(f"centres {i} and {j} coincide (RMS distance {dist[i, j]:.4f}): mode collapse")
    return notes


def lloyd(initial: torch.Tensor, data: Dataset, seed: int) -> torch.Tensor:
    """scikit-learn's exact Lloyd k-means from the same initial centres."""
    from sklearn.cluster import KMeans

    flat = to_float(data.train.images).reshape(len(data.train), -1).cpu().numpy()
    model = KMeans(n_clusters=len(initial), init=initial.cpu().numpy(), n_init=1,
                   algorithm="lloyd", random_state=seed).fit(flat)
    return torch.from_numpy(model.cluster_centers_.astype(np.float32))


# ---- the run -----------------------------------------------------------------------------

def run(config: KMeansConfig, recorder: Recorder) -> dict:
    """Train the k-means network, analyse its clusters beside Lloyd's, record everything."""
    device = resolve_device(config.device)
    generator = seed_everything(config.seed)
    data = load_dataset(config.dataset, config.data_dir, device=device, fallback=config.fallback)
    if data.fallback_reason:
        recorder.warn(f"MNIST cannot be had: {data.fallback_reason}\n"
                      "Using the embedded 'digits' dataset (scikit-learn's 8x8 digits at 28x28) instead.")
    recorder.update_run(dataset=data.name, data_source=data.source, fallback_reason=data.fallback_reason)
    recorder.info(f"{data.name}: {len(data.train):,} training and {len(data.test):,} test images on {device}")

    model = KMeansNet(config.k, data.train.images[0].numel(), config.temperature).to(device)
    start = initial_centers(config, data, generator)
    with torch.no_grad():
        model.centers.copy_(start)
    _save_centers(recorder, start, "initial_centers.png", f"initial centres ({config.init})", show=False)

    loss_fn = nn.MSELoss()

    def objective(net, images, _labels):
        error = net(images)
        return loss_fn(error, torch.zeros_like(error)), {}  # the test loop reports loss only

    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    train = Batches(data.train, config.batch_size, generator=generator)
    test = Batches(data.test, 1024, shuffle=False)
    history = fit(model, optimizer, objective, train, epochs=config.epochs, recorder=recorder,
                  test=test, log_every=100)

    centers = model.centers.detach()
    torch.save(model.state_dict(), recorder.artifact("model.pt"))
    _save_centers(recorder, centers, "centers.png", "k-means network: centres after training", show=True)
    network = analyse(centers, data)
    report_clustering(recorder, "network", network, data)

    result = {"dataset": data.name, "network": network.to_dict(),
              "final_train_loss": history[-1].train["loss"] if history else None,
              "final_test_loss": history[-1].test["loss"] if history else None}
    if config.lloyd:
        recorder.info("running scikit-learn's Lloyd k-means from the same initial centres…")
        lloyd_centers = lloyd(start, data, config.seed).to(device)
        _save_centers(recorder, lloyd_centers, "lloyd_centers.png", "Lloyd k-means: centres", show=False)
        reference = analyse(lloyd_centers, data)
        report_clustering(recorder, "lloyd", reference, data)
        result["lloyd"] = reference.to_dict()
        _compare(recorder, network, reference)
    recorder.summary({f"{name}_{key}": value for name in ("network", "lloyd") if name in result
                      for key, value in result[name].items() if key in ("accuracy", "nmi", "inertia")}
                     | {"test_loss": result["final_test_loss"], "train_loss": result["final_train_loss"]})
    return result


def _save_centers(recorder: Recorder, centers: torch.Tensor, name: str, title: str, show: bool) -> None:
    side = int(round(centers.shape[1] ** 0.5))
    images = centers.detach().cpu().reshape(-1, side, side).clamp(0, 1).numpy()
    save_images(recorder.artifact(name), images, titles=[f"centre {j}" for j in range(len(images))],
                ncols=min(10, len(images)), suptitle=title)
    if show:  # 5 per row keeps 28-pixel centres legible in a 100-column terminal
        recorder.image(image_grid(images, ncols=min(5, len(images)), pad=2, fill=0.35),
                       title=f"{title} (row by row: centre 0, 1, 2, …)")


def report_clustering(recorder: Recorder, name: str, result: Clustering, data: Dataset) -> None:
    """Show and save a clustering: the class-by-centre table (Rich, CSV, PNG) and dead centres."""
    table = result.table
    k = table.shape[1]
    match = hungarian_match(table)
    highlight = {(label, cluster) for cluster, label in match.items()}
    rows = [[data.classes[i]] + table[i].tolist() + [int(table[i].sum())] for i in range(len(table))]
    footer = ["total"] + result.sizes + [int(table.sum())]
    recorder.table(f"{name}: training images of class i (rows) assigned to centre j (columns)",
                   ["class"] + [f"c{j}" for j in range(k)] + ["total"], rows, footer=footer,
                   caption="highlighted: the Hungarian matching of centres to classes", highlight=highlight)
    recorder.save_csv(f"{name}_table.csv", ["class"] + [f"center_{j}" for j in range(k)],
                      [[data.classes[i]] + table[i].tolist() for i in range(len(table))])
    save_heatmap(recorder.artifact(f"{name}_table.png"), table, row_labels=data.classes,
                 col_labels=[str(j) for j in range(k)], title=f"{name}: class vs centre",
                 xlabel="centre", ylabel="class")
    if result.dead:
        recorder.warn(f"{name}: {len(result.dead)} dead or collapsed centre(s): mode collapse\n- "
                      + "\n- ".join(result.dead) + "\n" + MODE_COLLAPSE)


def _compare(recorder: Recorder, network: Clustering, reference: Clustering) -> None:
    rows = [[metric, getattr(network, metric), getattr(reference, metric)]
            for metric in ("accuracy", "nmi", "inertia")]
    rows.append(["dead or collapsed centres", len(network.dead), len(reference.dead)])
    recorder.table("k-means network vs Lloyd (same initial centres)", ["metric", "network", "Lloyd"], rows,
                   caption="accuracy: Hungarian-matched; inertia: mean squared distance to the nearest centre")

