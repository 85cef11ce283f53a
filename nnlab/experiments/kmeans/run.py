"""`nnlab kmeans`: k-means clustering of MNIST by a network trained with SGD (question 1).

The network's centres are compared with Lloyd's k-means (scikit-learn's algorithm, in torch:
nnlab.core.lloyd) started from the same initial centres, so the user sees how close minibatch
SGD gets to the exact algorithm.
"""

from __future__ import annotations

import torch

from nnlab.core.data import Batches, Dataset, Split, to_float
from nnlab.core.lloyd import lloyd
from nnlab.core.metrics import contingency, hungarian_accuracy, nearest_centers, nmi
from nnlab.core.models.kmeans import KMeansNet
from nnlab.core.train import fit
from nnlab.experiments.base import Setup, prepare
from nnlab.experiments.clustering import Clustering, report_clustering
from nnlab.experiments.kmeans.config import KMeansConfig
from nnlab.experiments.kmeans.gradient import PlainSGD, batch_loss, set_gradient
from nnlab.experiments.kmeans.report import WHY_DEAD, compare, save_centers, show_step_sizes
from nnlab.experiments.kmeans.step import StepSizeMeter
from nnlab.runs.recorder import Recorder

DEAD_SHARE = 0.1  # a centre winning under 10% of an even share (N/k) is called dead
COINCIDE_RMS = 0.02  # centres closer than this per-pixel RMS distance count as one


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

def analyse(centers: torch.Tensor, data: Dataset, points: torch.Tensor | None = None) -> Clustering:
    """Assign every training image to its nearest centre and measure the partition.

    `points` are the training images as floats, when the caller has them already.
    """
    k = len(centers)
    points = (to_float(data.train.images) if points is None else points).reshape(len(data.train), -1)
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


# ---- the run -----------------------------------------------------------------------------

def run(config: KMeansConfig, recorder: Recorder, setup: Setup | None = None) -> dict:
    """Train the k-means network, analyse its clusters beside Lloyd's, record everything."""
    setup = prepare(config, recorder, setup)
    data, device, generator = setup.data, setup.device, setup.generator

    model = KMeansNet(config.k, data.train.images[0].numel(), config.temperature).to(device)
    start = initial_centers(config, data, generator)
    with torch.no_grad():
        model.centers.copy_(start)
    save_centers(recorder, start, "initial_centers.png", f"initial centres ({config.init})", show=False)

    meter = StepSizeMeter(config.k, config.reduction, config.lr)

    def objective(net, images, _labels):
        if not net.training:  # the test loop reports loss only
            return batch_loss(net(images), config.reduction), {}
        x0 = net.flatten(images)
        loss, weights = set_gradient(net, x0, config.reduction)  # autograd's gradient, without its graph
        meter.observe(net, x0, weights)
        return loss, {}

    optimizer = PlainSGD(model.parameters(), lr=config.lr)  # torch.optim.SGD's steps
    # the training images as floats once, for the batches, Lloyd and the analyses alike: slicing
    # them gives each batch to_float would (the same division), without converting it every step
    points = to_float(data.train.images)
    train = Batches(Split(points, data.train.labels), config.batch_size, generator=generator,
                    transform=lambda images: images)
    test = Batches(data.test, 1024, shuffle=False)
    history = fit(model, optimizer, objective, train, epochs=config.epochs, recorder=recorder,
                  test=test, log_every=100, callbacks=[meter])
    step_sizes = show_step_sizes(recorder, meter, model.centers.shape[1])

    centers = model.centers.detach()
    torch.save(model.state_dict(), recorder.artifact("model.pt"))
    save_centers(recorder, centers, "centers.png", "k-means network: centres after training", show=True)
    network = analyse(centers, data, points)
    report_clustering(recorder, "network", network, data.classes, WHY_DEAD[config.init])

    result = {"dataset": data.name, "network": network.to_dict(),
              "final_train_loss": history[-1].train["loss"] if history else None,
              "final_test_loss": history[-1].test["loss"] if history else None, **step_sizes}
    if config.lloyd:
        recorder.info("running Lloyd's k-means from the same initial centres…")
        # scikit-learn's algorithm, in torch on the resident tensor (nnlab.core.lloyd), on any device
        lloyd_centers = lloyd(points.reshape(len(points), -1), start).centers
        save_centers(recorder, lloyd_centers, "lloyd_centers.png", "Lloyd k-means: centres", show=False)
        reference = analyse(lloyd_centers, data, points)
        report_clustering(recorder, "lloyd", reference, data.classes, WHY_DEAD[config.init])
        result["lloyd"] = reference.to_dict()
        compare(recorder, network, reference)
    recorder.summary({f"{name}_{key}": value for name in ("network", "lloyd") if name in result
                      for key, value in result[name].items() if key in ("accuracy", "nmi", "inertia")}
                     | {"test_loss": result["final_test_loss"], "train_loss": result["final_train_loss"]})
    return result
