"""Lloyd's k-means in torch, step for step as scikit-learn's KMeans(algorithm="lloyd", n_init=1).

It works on the float32 tensor already resident on the device, so the comparison with the
network needs no copy to NumPy and no scikit-learn import. What it shares with scikit-learn:
- the data and the initial centres are first shifted by the data's mean (better float32 sums);
- a point goes to the nearest centre by ||c||^2 - 2 x.c, the lowest index winning ties;
- a centre left with no point is moved onto the point farthest from its own centre (the
  farthest for the first empty cluster, the next for the second, ...), and that point leaves
  its old cluster's sum; when all points sit on their centres nothing moves;
- it stops when no label changes, or when the summed squared centre shift is at most
  tol * mean(per-feature variance); if it stopped on the shift, labels are assigned once more.
Where several clusters empty at once, scikit-learn pairs them with the farthest points in
np.argpartition's order, which is unspecified; here the farthest point goes to the lowest index.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

CHUNK = 16384  # points per distance block: (CHUNK, k) floats at a time, not (N, k)
SAFETY = 1e-4  # relative and absolute margin a bound must clear before a point is not re-ranked


@dataclass(frozen=True)
class LloydResult:
    """Where Lloyd's k-means ended."""

    centers: torch.Tensor  # (k, D) float32, in the data's own coordinates
    labels: torch.Tensor  # (N,) int64, the nearest centre of each point
    inertia: float  # sum over points of the squared distance to their centre
    iterations: int  # as scikit-learn's n_iter_


def nearest(x: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Index of the nearest centre of each row of `x`, by ||c||^2 - 2 x.c as scikit-learn ranks them."""
    norms = (centers * centers).sum(1)  # (k,)
    labels = torch.empty(len(x), dtype=torch.long, device=x.device)
    for start in range(0, len(x), CHUNK):
        block = x[start:start + CHUNK]
        # ||c||^2 - 2 (B, D) @ (D, k) -> (B, k) in one fused call; argmin keeps the first of equal minima
        labels[start:start + CHUNK] = torch.argmin(torch.addmm(norms, block, centers.T, alpha=-2), dim=1)
    return labels


def _relocate_empty(x: torch.Tensor, old_centers: torch.Tensor, labels: torch.Tensor, sums: torch.Tensor,
                    counts: torch.Tensor) -> None:
    """Move each empty cluster onto one of the points farthest from their centres (in place)."""
    empty = torch.nonzero(counts == 0).flatten()
    if len(empty) == 0:
        return
    distances = ((x - old_centers[labels]) ** 2).sum(1)  # (N,)
    if distances.max() == 0:  # more clusters than distinct points: moving helps nothing
        return
    far = torch.topk(distances, len(empty)).indices
    for cluster, point in zip(empty.tolist(), far.tolist()):
        source = labels[point]
        sums[source] -= x[point]
        counts[source] -= 1
        sums[cluster] = x[point]
        counts[cluster] = 1


def _update(x: torch.Tensor, centers: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """New centres: the mean of each cluster's points, after re-homing empty clusters."""
    k = len(centers)
    sums = torch.zeros_like(centers).index_add_(0, labels, x)  # (k, D)
    counts = torch.bincount(labels, minlength=k).to(x.dtype)  # (k,)
    _relocate_empty(x, centers, labels, sums, counts)
    fresh = sums / counts.clamp(min=1).unsqueeze(1)
    # a cluster still empty (all points on their centres) sits on the biggest one, as in scikit-learn
    return torch.where((counts > 0).unsqueeze(1), fresh, fresh[torch.argmax(counts)])


def _assign(x: torch.Tensor, x_sq: torch.Tensor, centers: torch.Tensor):
    """Labels of the rows of `x` as `nearest` ranks them, with each row's distance to its centre
    (an upper bound) and to the next nearest (a lower bound for every other centre)."""
    norms = (centers * centers).sum(1)
    labels, upper, lower = [], [], []
    for start in range(0, len(x), CHUNK):
        scores = torch.addmm(norms, x[start:start + CHUNK], centers.T, alpha=-2)  # (B, k)
        mine = torch.argmin(scores, dim=1)
        dist = (scores + x_sq[start:start + CHUNK, None]).clamp_(min=0).sqrt_()
        labels.append(mine)
        upper.append(dist.gather(1, mine[:, None]).squeeze(1))
        lower.append(dist.scatter(1, mine[:, None], float("inf")).min(1).values if len(centers) > 1
                     else torch.full_like(mine, float("inf"), dtype=dist.dtype))
    return torch.cat(labels), torch.cat(upper), torch.cat(lower)


def _half_gaps(centers: torch.Tensor) -> torch.Tensor:
    """Half the distance from each centre to its nearest other centre: a point closer than that keeps it."""
    gaps = torch.cdist(centers, centers).fill_diagonal_(float("inf"))
    return 0.5 * gaps.min(1).values


def lloyd(x: torch.Tensor, init: torch.Tensor, *, max_iter: int = 300, tol: float = 1e-4) -> LloydResult:
    """Run Lloyd's k-means on the (N, D) points `x` from the (k, D) centres `init`, on x's device.

    Each iteration is Lloyd's, but a point is re-ranked only when its centre might have changed:
    Hamerly's bounds (an upper bound on the distance to its centre, a lower bound on the others,
    moved by how far the centres moved) prove the rest keep theirs. A point is trusted only
    when its margin is far above float32 rounding, so the labels are the ones a full pass gives.
    """
    if x.ndim != 2 or init.ndim != 2 or x.shape[1] != init.shape[1]:
        raise ValueError(f"points {tuple(x.shape)} and centres {tuple(init.shape)} must be (N, D) and (k, D)")
    x = x.to(torch.float32)
    mean = x.mean(0)
    x = x - mean  # a copy: the caller's tensor is left alone
    x_sq = (x * x).sum(1)
    slack = SAFETY * x_sq.mean().sqrt().item()  # absolute margin: well above rounding in the distances
    centers = init.to(x.device, torch.float32) - mean
    threshold = tol * x.var(0, unbiased=False).mean().item() if tol > 0 else 0.0
    labels_old = torch.full((len(x),), -1, dtype=torch.long, device=x.device)
    labels, upper, lower = _assign(x, x_sq, centers)
    strict = False
    for iteration in range(1, max_iter + 1):
        if iteration > 1:  # re-rank only the points whose bounds do not prove their centre
            unsure = torch.nonzero(upper * (1 + SAFETY) + slack >= torch.maximum(lower, _half_gaps(centers)[labels]))
            unsure = unsure.flatten()
            if len(unsure):
                labels = labels.clone()
                labels[unsure], upper[unsure], lower[unsure] = _assign(x[unsure], x_sq[unsure], centers)
        fresh = _update(x, centers, labels)
        moved = (fresh - centers).norm(dim=1)  # (k,)
        shift = (moved ** 2).sum().item()  # a device-host sync, once per iteration
        upper += moved[labels]  # triangle inequality: the bounds follow the centres
        lower -= moved.max()
        centers = fresh
        if torch.equal(labels, labels_old):
            strict = True
            break
        if shift <= threshold:
            break
        labels_old = labels
    if not strict:  # the labels of the final centres, as scikit-learn reports them
        labels = nearest(x, centers)
    inertia = ((x - centers[labels]) ** 2).sum(1, dtype=torch.float64).sum().item()
    return LloydResult(centers + mean, labels, inertia, iteration)
